"""Where the IDX datasets come from: file names, checksums, mirrors and local folders.

Sources are tried in this order (see :func:`local_candidates`):

1. the ``data_dir`` argument -- the folder itself, or its subfolder named after the
   dataset (``data_dir/mnist``);
2. ``$QIMAGE_DATA/<name>`` (for example ``$QIMAGE_DATA/fashion-mnist``);
3. the user cache, ``$XDG_CACHE_HOME/qimage/<name>`` or ``~/.cache/qimage/<name>``;
4. system folders from distribution packages: Debian's ``dataset-fashion-mnist``
   installs ``/usr/share/datasets/fashion-mnist``;
5. a download into the user cache.

Local folders are trusted: they are checked structurally (IDX format, counts, image
size, label range) but not checksummed, so re-compressed or rebuilt copies (such as
Debian's, or an offline reconstruction) load. Downloads are verified against the
SHA-256 of the canonical gzip files, listed below.

Checksums: MNIST and Fashion-MNIST SHA-256 values are those of the canonical
``*.gz`` files as published on the mirrors; the MD5 values are the ones torchvision
pins for the same files and are kept for cross-reference only (verification uses
SHA-256).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "IDX_DATASETS",
    "SYSTEM_DIRS",
    "IdxDatasetSpec",
    "RemoteFile",
    "cache_dir",
    "find_file",
    "find_files",
    "local_candidates",
]

ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class RemoteFile:
    """One canonical file: its name on the mirrors, checksums and size in bytes."""

    name: str
    sha256: str
    md5: str
    size: int

    def local_names(self) -> tuple[str, ...]:
        """File names accepted in a local folder: gzip or raw, ``-idx`` or ``.idx``."""
        raw = self.name.removesuffix(".gz")
        dotted = raw.replace("-idx", ".idx")
        return (self.name, raw, dotted + ".gz", dotted)


@dataclass(frozen=True)
class IdxDatasetSpec:
    """An MNIST-like dataset of four IDX files, with its expected sizes."""

    name: str
    title: str
    files: dict[str, RemoteFile]
    mirrors: tuple[str, ...]
    n_train: int
    n_test: int
    image_shape: tuple[int, int]
    class_names: tuple[str, ...]
    # SHA-256 of the decoded training labels: it tells MNIST from Fashion-MNIST (their files
    # share names and shapes) whatever the compression of a local copy.
    train_labels_sha256: str | None = None


MNIST = IdxDatasetSpec(
    name="mnist",
    title="MNIST",
    files={
        "train_images": RemoteFile(
            "train-images-idx3-ubyte.gz",
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            9912422,
        ),
        "train_labels": RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "d53e105ee54ea40749a09fcbcd1e9432",
            28881,
        ),
        "test_images": RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "9fb629c4189551a2d022fa330f9573f3",
            1648877,
        ),
        "test_labels": RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            "ec29112dd5afa0611ce80d1b7f02629c",
            4542,
        ),
    },
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    n_train=60000,
    n_test=10000,
    image_shape=(28, 28),
    class_names=tuple(str(d) for d in range(10)),
    train_labels_sha256="1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
)

FASHION_MNIST = IdxDatasetSpec(
    name="fashion-mnist",
    title="Fashion-MNIST",
    files={
        "train_images": RemoteFile(
            "train-images-idx3-ubyte.gz",
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            26421880,
        ),
        "train_labels": RemoteFile(
            "train-labels-idx1-ubyte.gz",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "25c81989df183df01b3e8a0aad5dffbe",
            29515,
        ),
        "test_images": RemoteFile(
            "t10k-images-idx3-ubyte.gz",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "bef4ecab320f06d8554ea6380940ec79",
            4422102,
        ),
        "test_labels": RemoteFile(
            "t10k-labels-idx1-ubyte.gz",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
            "bb300cfdad3c16e7a12a480ee83cd310",
            5148,
        ),
    },
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    n_train=60000,
    n_test=10000,
    image_shape=(28, 28),
    class_names=(
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ),
    train_labels_sha256="657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
)

#: The downloadable datasets, by the name ``load_dataset`` takes.
IDX_DATASETS: dict[str, IdxDatasetSpec] = {spec.name: spec for spec in (MNIST, FASHION_MNIST)}

#: Folders that distribution packages install datasets into, by dataset name.
SYSTEM_DIRS: dict[str, tuple[Path, ...]] = {
    "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),),
}


def cache_dir() -> Path:
    """The user cache folder: ``$XDG_CACHE_HOME/qimage``, else ``~/.cache/qimage``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qimage"


def local_candidates(name: str, data_dir: str | os.PathLike[str] | None) -> list[tuple[str, Path]]:
    """Local folders to look in for dataset ``name``, in order, each with a label.

    Example::

        >>> local_candidates("mnist", "/data")[:2]    # doctest: +SKIP
        [('data_dir argument', PosixPath('/data')), ('data_dir argument', ...'/data/mnist')]
    """
    found: list[tuple[str, Path]] = []
    if data_dir is not None:
        folder = Path(data_dir).expanduser()
        found += [("data_dir argument", folder), ("data_dir argument", folder / name)]
    env = os.environ.get("QIMAGE_DATA")
    if env:
        found.append(("QIMAGE_DATA", Path(env).expanduser() / name))
    found.append(("user cache", cache_dir() / name))
    found += [("system package", folder) for folder in SYSTEM_DIRS.get(name, ())]
    return found


def find_files(folder: Path, spec: IdxDatasetSpec) -> dict[str, Path] | None:
    """The four files of ``spec`` in ``folder`` by role, or None unless all are there."""
    paths = {role: find_file(folder, remote) for role, remote in spec.files.items()}
    return None if None in paths.values() else paths  # type: ignore[return-value]


def find_file(folder: Path, remote: RemoteFile) -> Path | None:
    """The first of ``remote.local_names()`` present in ``folder``, or None."""
    return next((folder / n for n in remote.local_names() if (folder / n).is_file()), None)
