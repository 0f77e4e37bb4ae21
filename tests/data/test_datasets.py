"""load_dataset: the bundled digits, the source order, validation, download and offline."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from qimage.data import DATASET_NAMES, Dataset, load_dataset, write_idx
from qimage.data.sources import IDX_DATASETS, SYSTEM_DIRS
from qimage.errors import DatasetError

SHARED_MNIST = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "mnist"
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
N_TRAIN, N_TEST = 30, 20
STEMS = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def tiny_arrays(seed: int = 0, n_train: int = N_TRAIN, side: int = 28) -> dict[str, np.ndarray]:
    """Small MNIST-shaped arrays: random images, labels cycling through 0..9."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, side, side), dtype=np.uint8),
        "train_labels": (np.arange(n_train) % 10).astype(np.uint8),
        "test_images": rng.integers(0, 256, (N_TEST, side, side), dtype=np.uint8),
        "test_labels": (np.arange(N_TEST)[::-1] % 10).astype(np.uint8),
    }


def write_folder(folder: Path, arrays: dict[str, np.ndarray], suffix: str = ".gz") -> Path:
    """Write the four files under their canonical names (``suffix`` "" for raw)."""
    folder.mkdir(parents=True, exist_ok=True)
    for role, array in arrays.items():
        write_idx(folder / (STEMS[role] + suffix), array)
    return folder


def gz_bytes(array: np.ndarray) -> bytes:
    """The gzip IDX file for ``array``, as the fake mirror serves it."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as out:
        out.write(bytes([0, 0, 8, array.ndim]))
        out.write(np.array(array.shape, dtype=">u4").tobytes())
        out.write(array.tobytes())
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    """No QIMAGE_DATA, a private cache, no system folders, and no real network."""
    monkeypatch.delenv("QIMAGE_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setitem(SYSTEM_DIRS, "fashion-mnist", (tmp_path / "system",))

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to reach the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)


@pytest.fixture
def served(monkeypatch):
    """Shrink MNIST and Fashion-MNIST to 30/20 images; return the mirror's content."""
    arrays = tiny_arrays(seed=1)
    content = {role: gz_bytes(a) for role, a in arrays.items()}
    for name in ("mnist", "fashion-mnist"):
        spec = IDX_DATASETS[name]
        files = {
            role: dataclasses.replace(remote, sha256=hashlib.sha256(content[role]).hexdigest())
            for role, remote in spec.files.items()
        }
        small = dataclasses.replace(
            spec, files=files, n_train=N_TRAIN, n_test=N_TEST, train_labels_sha256=None
        )
        monkeypatch.setitem(IDX_DATASETS, name, small)
    return arrays, {STEMS[role] + ".gz": data for role, data in content.items()}


class FakeMirror:
    """An opener serving files from memory; records every URL asked for."""

    def __init__(self, files: dict[str, bytes], fail: Exception | None = None) -> None:
        self.files, self.fail, self.urls = files, fail, []

    def __call__(self, url: str, timeout: float) -> io.BytesIO:
        self.urls.append(url)
        if self.fail is not None:
            raise self.fail
        name = url.rsplit("/", 1)[-1]
        if name not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)  # type: ignore[arg-type]
        return io.BytesIO(self.files[name])


def refuse(url: str, timeout: float) -> io.BytesIO:
    """An opener for tests that must not download."""
    raise AssertionError(f"unexpected download of {url}")


class TestDigits:
    """The default dataset: scikit-learn's 8x8 digits, no download."""

    def test_default_needs_no_network(self):
        """load_dataset() with no arguments returns the digits (urlopen is disabled here)."""
        ds = load_dataset()
        assert isinstance(ds, Dataset)
        assert ds.name == "digits"
        assert ds.image_shape == (8, 8)
        assert ds.class_names == tuple("0123456789")

    def test_split_sizes_and_stratification(self):
        """1438/359 images; each class puts round(20%) of its images in test."""
        from sklearn.datasets import load_digits

        ds = load_dataset("digits")
        assert ds.X_train.shape == (1438, 8, 8) and ds.X_test.shape == (359, 8, 8)
        assert ds.y_train.dtype == np.int64 and ds.y_test.dtype == np.int64
        per_class = np.bincount(load_digits().target)
        expected_test = np.array([round(0.2 * n) for n in per_class])
        np.testing.assert_array_equal(np.bincount(ds.y_test, minlength=10), expected_test)
        np.testing.assert_array_equal(np.bincount(ds.y_train), per_class - expected_test)

    @pytest.mark.parametrize(("dtype", "scale"), [("uint8", None), ("float32", 1 / 16)])
    def test_values_are_the_digits(self, dtype, scale):
        """Train+test together hold every digit image once, scaled as documented."""
        from sklearn.datasets import load_digits

        bunch = load_digits()
        ds = load_dataset("digits", dtype=dtype)
        assert ds.X_train.dtype == np.dtype(dtype)
        if scale is None:
            expected = np.rint(bunch.images * 255 / 16).astype(np.uint8)
        else:
            expected = (bunch.images * scale).astype(np.float32)
        got = np.concatenate([ds.X_train, ds.X_test]).reshape(1797, 64)
        labels = np.concatenate([ds.y_train, ds.y_test])

        def rows(images, y):
            return sorted(zip(y.tolist(), map(bytes, images.reshape(len(y), -1)), strict=True))

        assert rows(got, labels) == rows(expected, bunch.target)
        assert got.max() == (255 if scale is None else 1.0)

    def test_split_is_fixed(self):
        """The split is reproducible across calls and pinned (a change would show here)."""
        first, second = load_dataset(), load_dataset()
        np.testing.assert_array_equal(first.X_test, second.X_test)
        digest = hashlib.sha256(first.y_test.tobytes()).hexdigest()
        assert digest == "bfc50f70029db07375ea5336e1c45ed2c06dfa90c6aabe1b5f13cbb20d29ee3b"

    def test_summary(self):
        """repr shows name, shapes, dtypes, value range, class counts and source."""
        text = repr(load_dataset())
        assert "Dataset 'digits': 10 classes, images 8x8" in text
        assert "X (1438, 8, 8) uint8, y (1438,) int64" in text
        assert "values: 0 .. 255" in text
        assert "test per class: 0:36 1:36 2:35 3:37" in text
        assert "scikit-learn" in text


class TestArguments:
    """Mistakes in the arguments give clear errors."""

    def test_unknown_name_lists_known(self):
        """An unknown name lists every known one."""
        with pytest.raises(DatasetError, match="unknown dataset 'cifar'") as info:
            load_dataset("cifar")
        for name in DATASET_NAMES:
            assert name in str(info.value)

    def test_missing_data_dir(self, tmp_path):
        """A data_dir that does not exist is an error, not a silent download."""
        with pytest.raises(DatasetError, match=r"data_dir .*nowhere is not a folder"):
            load_dataset("mnist", data_dir=tmp_path / "nowhere", opener=refuse)

    def test_unknown_dtype(self):
        """Only uint8 and float32 are offered."""
        with pytest.raises(DatasetError, match="float64"):
            load_dataset("digits", dtype="float64")


class TestSources:
    """Local folders are tried in the documented order."""

    def test_data_dir_holding_the_files(self, served, tmp_path):
        """data_dir with the four files loads them, and the source says so."""
        arrays, _ = served
        folder = write_folder(tmp_path / "d", arrays)
        ds = load_dataset("mnist", data_dir=folder, opener=refuse)
        assert ds.source == f"{folder} (data_dir argument)"
        np.testing.assert_array_equal(ds.X_train, arrays["train_images"])
        np.testing.assert_array_equal(ds.y_test, arrays["test_labels"])
        assert ds.y_train.dtype == np.int64

    def test_data_dir_with_dataset_subfolder(self, served, tmp_path):
        """data_dir/<name> is also looked in."""
        write_folder(tmp_path / "d" / "fashion-mnist", served[0])
        ds = load_dataset("fashion-mnist", data_dir=tmp_path / "d", opener=refuse)
        assert ds.source.startswith(str(tmp_path / "d" / "fashion-mnist"))
        assert ds.class_names[0] == "T-shirt/top"

    def test_data_dir_before_environment(self, served, tmp_path, monkeypatch):
        """The argument wins over QIMAGE_DATA."""
        write_folder(tmp_path / "env" / "mnist", served[0])
        write_folder(tmp_path / "arg", served[0])
        monkeypatch.setenv("QIMAGE_DATA", str(tmp_path / "env"))
        ds = load_dataset("mnist", data_dir=tmp_path / "arg", opener=refuse)
        assert ds.source.endswith("(data_dir argument)")

    def test_environment_before_cache(self, served, tmp_path, monkeypatch):
        """QIMAGE_DATA/<name> wins over the user cache."""
        write_folder(tmp_path / "env" / "mnist", served[0])
        write_folder(tmp_path / "xdg" / "qimage" / "mnist", served[0])
        monkeypatch.setenv("QIMAGE_DATA", str(tmp_path / "env"))
        ds = load_dataset("mnist", opener=refuse)
        assert ds.source == f"{tmp_path / 'env' / 'mnist'} (QIMAGE_DATA)"

    def test_cache_before_system_folder(self, served, tmp_path):
        """The user cache wins over the Debian folder."""
        write_folder(tmp_path / "system", served[0])
        write_folder(tmp_path / "xdg" / "qimage" / "fashion-mnist", served[0])
        ds = load_dataset("fashion-mnist", opener=refuse)
        assert ds.source.endswith("(user cache)")

    def test_system_folder_for_fashion(self, served, tmp_path):
        """With nothing else, Fashion-MNIST comes from the system package folder."""
        write_folder(tmp_path / "system", served[0])
        ds = load_dataset("fashion-mnist", opener=refuse)
        assert ds.source == f"{tmp_path / 'system'} (system package)"

    def test_home_cache_without_xdg(self, served, tmp_path, monkeypatch):
        """Without XDG_CACHE_HOME the cache is ~/.cache/qimage."""
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", str(tmp_path / "home"))
        write_folder(tmp_path / "home" / ".cache" / "qimage" / "mnist", served[0])
        assert load_dataset("mnist", opener=refuse).source.endswith("(user cache)")

    @pytest.mark.parametrize("names", ["raw", "dotted", "dotted-gz"])
    def test_file_name_variants(self, served, tmp_path, names):
        """Uncompressed and 'train-images.idx3-ubyte' style names are accepted."""
        folder = tmp_path / "d"
        write_folder(folder, served[0], suffix="" if names == "raw" else ".gz")
        if names.startswith("dotted"):
            for path in list(folder.iterdir()):
                new = path.name.replace("-idx", ".idx")
                path.rename(folder / (new if names == "dotted-gz" else new.removesuffix(".gz")))
        ds = load_dataset("mnist", data_dir=folder, opener=refuse)
        np.testing.assert_array_equal(ds.X_test, served[0]["test_images"])

    def test_incomplete_folder_is_skipped(self, served, tmp_path):
        """A folder missing one of the four files is passed over for the next source."""
        write_folder(tmp_path / "d", served[0])
        (tmp_path / "d" / "t10k-labels-idx1-ubyte.gz").unlink()
        write_folder(tmp_path / "xdg" / "qimage" / "mnist", served[0])
        ds = load_dataset("mnist", data_dir=tmp_path / "d", opener=refuse)
        assert ds.source.endswith("(user cache)")

    def test_float32(self, served, tmp_path):
        """dtype='float32' gives uint8 / 255 exactly."""
        folder = write_folder(tmp_path / "d", served[0])
        ds = load_dataset("mnist", data_dir=folder, dtype="float32", opener=refuse)
        assert ds.X_train.dtype == np.float32
        np.testing.assert_array_equal(
            ds.X_train, served[0]["train_images"].astype(np.float32) / np.float32(255)
        )


class TestValidation:
    """Local files are checked structurally; a bad one stops the load with its name."""

    def test_counts_of_the_real_dataset(self, tmp_path):
        """Real MNIST needs 60000 training images; a 30-image file is refused by name."""
        folder = write_folder(tmp_path / "d", tiny_arrays())
        with pytest.raises(DatasetError, match="60000") as info:
            load_dataset("mnist", data_dir=folder, opener=refuse)
        assert "train-images-idx3-ubyte.gz" in str(info.value)

    def test_label_out_of_range(self, served, tmp_path):
        """A label of 10 in a 10-class dataset is refused, naming the labels file."""
        arrays = dict(served[0])
        arrays["test_labels"] = arrays["test_labels"].copy()
        arrays["test_labels"][3] = 10
        folder = write_folder(tmp_path / "d", arrays)
        with pytest.raises(DatasetError, match=r"t10k-labels.*label 10 out of range"):
            load_dataset("mnist", data_dir=folder, opener=refuse)

    def test_wrong_image_size(self, served, tmp_path):
        """27x27 images are not MNIST."""
        arrays = tiny_arrays(side=27)
        folder = write_folder(tmp_path / "d", arrays)
        with pytest.raises(DatasetError, match=r"\(30, 28, 28\).*\(30, 27, 27\)"):
            load_dataset("mnist", data_dir=folder, opener=refuse)

    def test_labels_count_must_match(self, served, tmp_path):
        """19 test labels for 20 test images is an error."""
        arrays = dict(served[0])
        arrays["test_labels"] = arrays["test_labels"][:-1]
        folder = write_folder(tmp_path / "d", arrays)
        with pytest.raises(DatasetError, match=r"labels uint8 \(20,\)"):
            load_dataset("mnist", data_dir=folder, opener=refuse)

    def test_corrupt_file_is_not_skipped(self, served, tmp_path):
        """A truncated local file raises instead of silently downloading a replacement."""
        folder = write_folder(tmp_path / "d", served[0])
        path = folder / "train-images-idx3-ubyte.gz"
        path.write_bytes(path.read_bytes()[:100])
        with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte\.gz"):
            load_dataset("mnist", data_dir=folder, opener=refuse)


class TestDownload:
    """Download into the user cache when nothing local exists."""

    def test_download_then_cache(self, served):
        """Files are fetched once into the cache; the next load needs no network."""
        arrays, files = served
        mirror = FakeMirror(files)
        ds = load_dataset("mnist", opener=mirror, progress=False)
        assert len(mirror.urls) == 4
        assert mirror.urls[0].startswith(IDX_DATASETS["mnist"].mirrors[0])
        np.testing.assert_array_equal(ds.X_test, arrays["test_images"])
        assert ds.source.endswith("(downloaded)")
        again = load_dataset("mnist", opener=refuse)
        assert again.source.endswith("(user cache)")

    def test_custom_mirrors(self, served, tmp_path):
        """The mirrors argument replaces the canonical list."""
        mirror = FakeMirror(served[1])
        load_dataset("fashion-mnist", mirrors=["https://mine.example/fm"], opener=mirror)
        assert all(url.startswith("https://mine.example/fm/") for url in mirror.urls)
        cached = sorted(p.name for p in (tmp_path / "xdg" / "qimage" / "fashion-mnist").iterdir())
        assert cached == sorted(served[1])

    def test_partial_cache_downloads_only_missing(self, served, tmp_path):
        """Files already in the cache are not fetched again."""
        write_folder(tmp_path / "xdg" / "qimage" / "mnist", served[0])
        (tmp_path / "xdg" / "qimage" / "mnist" / "t10k-images-idx3-ubyte.gz").unlink()
        mirror = FakeMirror(served[1])
        load_dataset("mnist", opener=mirror)
        assert [u.rsplit("/", 1)[-1] for u in mirror.urls] == ["t10k-images-idx3-ubyte.gz"]

    def test_checksum_mismatch_caches_nothing(self, served, tmp_path):
        """A mirror serving other bytes leaves the cache empty."""
        files = dict(served[1])
        files["train-labels-idx1-ubyte.gz"] = b"\x1f\x8b not the file"
        with pytest.raises(DatasetError, match="checksum mismatch"):
            load_dataset("mnist", opener=FakeMirror(files))
        cached = {p.name for p in (tmp_path / "xdg" / "qimage" / "mnist").iterdir()}
        assert cached == {"train-images-idx3-ubyte.gz"}

    def test_offline_says_where_to_put_files(self, served, tmp_path):
        """With no network, the error names the four files and the folders to use."""
        mirror = FakeMirror({}, fail=urllib.error.URLError("Network is unreachable"))
        with pytest.raises(DatasetError) as info:
            load_dataset("mnist", opener=mirror)
        message = str(info.value)
        assert "Network is unreachable" in message
        for stem in STEMS.values():
            assert f"{stem}.gz" in message
        assert "data_dir" in message and "QIMAGE_DATA" in message
        assert str(tmp_path / "xdg" / "qimage" / "mnist") in message
        assert len(mirror.urls) == len(IDX_DATASETS["mnist"].mirrors)
        assert list((tmp_path / "xdg" / "qimage" / "mnist").iterdir()) == []

    def test_download_switched_off(self, served):
        """download=False never opens a URL and says why it failed."""
        with pytest.raises(DatasetError, match="downloading is switched off"):
            load_dataset("fashion-mnist", download=False, opener=refuse)


class TestRealData:
    """The real files, when this machine has them (skipped otherwise)."""

    @pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"no offline MNIST at {SHARED_MNIST}")
    def test_offline_mnist(self):
        """The offline MNIST copy loads with the official split and label counts."""
        ds = load_dataset("mnist", data_dir=SHARED_MNIST, opener=refuse)
        assert ds.X_train.shape == (60000, 28, 28) and ds.X_test.shape == (10000, 28, 28)
        assert np.bincount(ds.y_test).tolist() == [
            980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009
        ]  # fmt: skip
        assert abs(ds.X_train.mean() / 255 - 0.1307) < 1e-3
        assert "train per class: 0:5923 1:6742" in repr(ds)

    @pytest.mark.skipif(not DEBIAN_FASHION.is_dir(), reason="dataset-fashion-mnist not installed")
    def test_debian_fashion_mnist(self, monkeypatch):
        """Debian's dataset-fashion-mnist package is found with no configuration."""
        monkeypatch.setitem(SYSTEM_DIRS, "fashion-mnist", (DEBIAN_FASHION,))
        ds = load_dataset("fashion-mnist", opener=refuse)
        assert ds.source == f"{DEBIAN_FASHION} (system package)"
        assert np.bincount(ds.y_train).tolist() == [6000] * 10

    @pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"no offline MNIST at {SHARED_MNIST}")
    def test_mnist_files_are_not_fashion_mnist(self):
        """MNIST's files under Fashion-MNIST's names are refused, not loaded as clothes."""
        with pytest.raises(DatasetError, match="not the Fashion-MNIST training labels"):
            load_dataset("fashion-mnist", data_dir=SHARED_MNIST, opener=refuse)


def test_another_datasets_labels_are_refused(tmp_path, monkeypatch):
    """The training labels' digest identifies the dataset, whatever the compression."""
    arrays = tiny_arrays()
    digest = hashlib.sha256(arrays["train_labels"].tobytes()).hexdigest()
    spec = dataclasses.replace(
        IDX_DATASETS["mnist"], n_train=N_TRAIN, n_test=N_TEST, train_labels_sha256=digest
    )
    monkeypatch.setitem(IDX_DATASETS, "mnist", spec)
    assert load_dataset("mnist", data_dir=write_folder(tmp_path / "raw", arrays, "")).X_train.size
    arrays["train_labels"] = arrays["train_labels"][::-1].copy()
    with pytest.raises(DatasetError, match="not the MNIST training labels"):
        load_dataset("mnist", data_dir=write_folder(tmp_path / "other", arrays))
