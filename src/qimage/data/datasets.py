"""Loading the datasets: the bundled 8x8 digits, MNIST and Fashion-MNIST (images), and the
cluster-Ising ground states (quantum data, :mod:`qimage.data.cluster_ising`).

``load_dataset()`` with no arguments needs no network: it returns scikit-learn's
bundled 8x8 digits. MNIST and Fashion-MNIST are looked up locally and downloaded only
when no local copy exists (see :mod:`qimage.data.sources` for the order).

Pixel values:

* ``dtype="uint8"`` (default): 0 = background, 255 = full ink. The digits' 0..16
  levels become ``round(v * 255 / 16)``.
* ``dtype="float32"``: values in [0, 1]: ``v / 255`` for MNIST and Fashion-MNIST,
  ``v / 16`` for the digits (exact, no rounding through uint8).

Digits split: 80/20, stratified per class with ``numpy.random.default_rng(0)``: in each
class ``round(0.2 * count)`` images go to test. That gives 1438 training and 359 test
images (test per class 0..9: 36 36 35 37 36 36 36 36 35 36); both splits keep the
original order. MNIST and Fashion-MNIST use their official 60000/10000 split.

Quantum data: ``X`` holds float64 states ``(N, 2^n)`` whatever ``dtype`` says, and
``image_shape`` is None: the image-only parts of qimage (drawings, image files) refuse it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from qimage.data.cluster_ising import CLASS_NAMES, QUANTUM_DATASETS, load_cluster_ising
from qimage.data.download import DEFAULT_TIMEOUT, Opener, download_file
from qimage.data.idx import read_idx
from qimage.data.sources import (
    IDX_DATASETS,
    IdxDatasetSpec,
    cache_dir,
    find_file,
    find_files,
    local_candidates,
)
from qimage.errors import DatasetError

__all__ = ["DATASET_NAMES", "DIGITS_SPLIT_SEED", "DIGITS_TEST_FRACTION", "Dataset", "load_dataset"]

#: Every name ``load_dataset`` accepts; the first is the default.
DATASET_NAMES = ("digits", "mnist", "fashion-mnist", *QUANTUM_DATASETS)
DIGITS_SPLIT_SEED = 0
DIGITS_TEST_FRACTION = 0.2
_DTYPES = ("uint8", "float32")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A labelled dataset with its official train/test split.

    Attributes:
        X_train: images, shape (n_train, H, W), dtype uint8 (0..255) or float32 ([0, 1]);
            quantum data: states (n_train, 2^n) float64.
        y_train: labels, shape (n_train,), int64 in 0..n_classes-1.
        X_test: images, shape (n_test, H, W), same dtype as ``X_train``.
        y_test: labels, shape (n_test,), int64.
        name: the name given to :func:`load_dataset`, e.g. ``"mnist"``.
        class_names: one readable name per label, e.g. ``("0", ..., "9")``.
        image_shape: ``(H, W)``, or None for samples that are not images (quantum states).
        source: where the data came from (a folder, or ``"scikit-learn (bundled)"``).

    Example::

        >>> ds = load_dataset()                      # doctest: +SKIP
        >>> ds.X_train.shape, ds.n_classes           # doctest: +SKIP
        ((1438, 8, 8), 10)
    """

    X_train: np.ndarray = field(repr=False)
    y_train: np.ndarray = field(repr=False)
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    name: str
    class_names: tuple[str, ...]
    image_shape: tuple[int, int] | None
    source: str = ""

    @property
    def sample_shape(self) -> tuple[int, ...]:
        """Shape of one sample: ``image_shape``, or ``(F,)`` for rows of features."""
        return self.image_shape or tuple(self.X_train.shape[1:])

    @property
    def n_classes(self) -> int:
        """Number of classes, ``len(class_names)``."""
        return len(self.class_names)

    def summary(self) -> str:
        """A few lines: shapes, dtypes, value range, class counts and source."""
        shape = "x".join(map(str, self.sample_shape))
        what = f"images {shape}" if self.image_shape else f"states of {shape} amplitudes"
        lines = [f"Dataset {self.name!r}: {self.n_classes} classes, {what}"]
        for split, X, y in (
            ("train", self.X_train, self.y_train),
            ("test", self.X_test, self.y_test),
        ):
            lines.append(f"  {split + ':':6} X {X.shape} {X.dtype}, y {y.shape} {y.dtype}")
        lines.append(f"  values: {_value_range(self.X_train, self.X_test)}")
        for split, y in (("train", self.y_train), ("test", self.y_test)):
            counts = np.bincount(y, minlength=self.n_classes)
            pairs = " ".join(f"{n}:{c}" for n, c in zip(self.class_names, counts, strict=True))
            lines.append(f"  {split} per class: {pairs}")
        lines.append(f"  source: {self.source}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()


def _value_range(*arrays: np.ndarray) -> str:
    filled = [a for a in arrays if a.size]
    if not filled:
        return "(no images)"
    lo = min(float(a.min()) for a in filled)
    hi = max(float(a.max()) for a in filled)
    return f"{lo:g} .. {hi:g}"


def load_dataset(
    name: str = "digits",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    dtype: str = "uint8",
    download: bool = True,
    progress: bool | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    mirrors: Sequence[str] | None = None,
    opener: Opener | None = None,
) -> Dataset:
    """Load a dataset with its official train/test split.

    Args:
        name: ``"digits"`` (default, bundled, no download), ``"mnist"``,
            ``"fashion-mnist"``, or a quantum dataset ``"cluster-ising[-N]"`` (generated).
        data_dir: a folder holding the four IDX files (gzip or raw), or a folder with a
            subfolder named ``name`` holding them; tried before every other source. It
            must exist; when it lacks the files, the other sources are tried. Quantum
            data is generated into it when no file is found.
        dtype: ``"uint8"`` (0..255) or ``"float32"`` ([0, 1]).
        download: fetch missing files into the user cache; False to stay offline.
        progress: show a download progress bar; by default when stderr is a TTY.
        timeout: seconds for each network connection and read.
        mirrors: base URLs to download from instead of the canonical mirrors.
        opener: ``opener(url, timeout)`` returning a response (tests, proxies).

    Returns:
        A :class:`Dataset` with images (N, H, W) and int64 labels.

    Raises:
        DatasetError: unknown name, no usable source, or a bad file.

    Example::

        >>> ds = load_dataset("mnist", data_dir="../shared/datasets/mnist")  # doctest: +SKIP
        >>> ds.X_train.shape, ds.X_train.dtype                               # doctest: +SKIP
        ((60000, 28, 28), dtype('uint8'))
    """
    if name not in DATASET_NAMES:
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(DATASET_NAMES)}")
    if dtype not in _DTYPES:
        raise DatasetError(f"unknown dtype {dtype!r}; use {' or '.join(map(repr, _DTYPES))}")
    if name == "digits":
        return _load_digits(dtype)
    if data_dir is not None and not Path(data_dir).expanduser().is_dir():
        raise DatasetError(f"data_dir {data_dir} is not a folder")
    if name in QUANTUM_DATASETS:
        return _load_quantum(name, data_dir)
    spec = IDX_DATASETS[name]
    paths, source = _locate(spec, data_dir)
    if paths is None:
        if not download:
            raise DatasetError(_offline_message(spec, data_dir, "downloading is switched off"))
        paths, source = _download(spec, data_dir, mirrors, opener, timeout, progress)
    return _load_idx(spec, paths, source, dtype)


def _load_digits(dtype: str) -> Dataset:
    # scikit-learn is imported here so that ``import qimage.data`` stays light.
    from sklearn.datasets import load_digits

    bunch = load_digits()
    levels = bunch.images
    if dtype == "uint8":
        images = np.rint(levels * (255 / 16)).astype(np.uint8)
    else:
        images = (levels / 16).astype(np.float32)
    labels = bunch.target.astype(np.int64)
    train, test = _stratified_split(labels, DIGITS_TEST_FRACTION, DIGITS_SPLIT_SEED)
    return Dataset(
        images[train],
        labels[train],
        images[test],
        labels[test],
        name="digits",
        class_names=tuple(str(d) for d in range(10)),
        image_shape=(8, 8),
        source="scikit-learn (bundled 8x8 digits, 0..16 scaled)",
    )


def _load_quantum(name: str, data_dir) -> Dataset:
    *arrays, source = load_cluster_ising(QUANTUM_DATASETS[name], data_dir)
    return Dataset(*arrays, name=name, class_names=CLASS_NAMES, image_shape=None, source=source)


def _stratified_split(
    labels: np.ndarray, test_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test), each ascending; ``round(fraction * count)`` per class."""
    rng = np.random.default_rng(seed)
    test = []
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        test.append(members[: round(test_fraction * len(members))])
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[np.concatenate(test)] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _locate(
    spec: IdxDatasetSpec, data_dir: str | os.PathLike[str] | None
) -> tuple[dict[str, Path] | None, str]:
    for label, folder in local_candidates(spec.name, data_dir):
        paths = find_files(folder, spec)
        if paths is not None:
            return paths, f"{folder.resolve()} ({label})"
    return None, ""


def _download(
    spec: IdxDatasetSpec,
    data_dir: str | os.PathLike[str] | None,
    mirrors: Sequence[str] | None,
    opener: Opener | None,
    timeout: float,
    progress: bool | None,
) -> tuple[dict[str, Path], str]:
    target = cache_dir() / spec.name
    paths = {}
    try:
        for role, remote in spec.files.items():
            paths[role] = find_file(target, remote) or download_file(
                mirrors or spec.mirrors,
                remote.name,
                target,
                sha256=remote.sha256,
                opener=opener,
                timeout=timeout,
                progress=progress,
            )
    except DatasetError as exc:
        raise DatasetError(_offline_message(spec, data_dir, str(exc))) from exc
    return paths, f"{target} (downloaded)"


def _offline_message(
    spec: IdxDatasetSpec, data_dir: str | os.PathLike[str] | None, reason: str
) -> str:
    looked = "\n".join(
        f"  {folder} ({label})" for label, folder in local_candidates(spec.name, data_dir)
    )
    names = "\n".join(f"  {remote.name}" for remote in spec.files.values())
    return (
        f"{spec.title} is not available: {reason}\n"
        f"Looked for the files in:\n{looked}\n"
        f"To work offline, put these four files (gzip or uncompressed) in one folder:\n"
        f"{names}\n"
        f"and pass data_dir=<that folder>, or place them in {cache_dir() / spec.name} "
        f"or $QIMAGE_DATA/{spec.name}."
    )


def _load_idx(spec: IdxDatasetSpec, paths: dict[str, Path], source: str, dtype: str) -> Dataset:
    arrays = {role: read_idx(path) for role, path in paths.items()}
    for split, count in (("train", spec.n_train), ("test", spec.n_test)):
        _check_images(arrays[f"{split}_images"], paths[f"{split}_images"], count, spec)
        _check_labels(arrays[f"{split}_labels"], paths[f"{split}_labels"], count, spec)
    _check_identity(arrays["train_labels"], paths["train_labels"], spec)
    images = {r: a for r, a in arrays.items() if r.endswith("images")}
    if dtype == "float32":
        images = {r: a.astype(np.float32) / np.float32(255) for r, a in images.items()}
    return Dataset(
        images["train_images"],
        arrays["train_labels"].astype(np.int64),
        images["test_images"],
        arrays["test_labels"].astype(np.int64),
        name=spec.name,
        class_names=spec.class_names,
        image_shape=spec.image_shape,
        source=source,
    )


def _check_images(array: np.ndarray, path: Path, count: int, spec: IdxDatasetSpec) -> None:
    expected = (count, *spec.image_shape)
    if array.dtype != np.uint8 or array.shape != expected:
        raise DatasetError(
            f"{path}: expected {spec.title} images uint8 {expected}, "
            f"found {array.dtype} {array.shape}"
        )


def _check_identity(labels: np.ndarray, path: Path, spec: IdxDatasetSpec) -> None:
    """Refuse another dataset's files under this one's names (MNIST in a Fashion folder)."""
    expected = spec.train_labels_sha256
    if expected and hashlib.sha256(labels.tobytes()).hexdigest() != expected:
        others = [s.title for s in IDX_DATASETS.values() if s.name != spec.name]
        raise DatasetError(
            f"{path}: these are not the {spec.title} training labels (their content differs; "
            f"{' and '.join(others)} files have the same names): check the folder"
        )


def _check_labels(array: np.ndarray, path: Path, count: int, spec: IdxDatasetSpec) -> None:
    if array.dtype != np.uint8 or array.shape != (count,):
        raise DatasetError(
            f"{path}: expected {spec.title} labels uint8 ({count},), "
            f"found {array.dtype} {array.shape}"
        )
    if array.size and array.max() >= len(spec.class_names):
        raise DatasetError(
            f"{path}: label {int(array.max())} out of range 0..{len(spec.class_names) - 1}"
        )
