"""The cluster-Ising datasets by name, as :func:`qimage.data.load_dataset` serves them.

``cluster-ising-N`` (N = 8 to 12 spins; plain ``cluster-ising`` is 8) holds the ground
states of :mod:`qimage.data.quantum` on a 16 x 16 grid of ``(h1, h2)`` in
``[0, 1.6] x [-1.6, 1.6]``, labelled SPT (1) or not (0) by the string order parameter.
The states are real unit vectors, so they are float64 rows ``(M, 2^N)``, not images.

Nothing is downloaded: the first load generates the file by exact diagonalisation (about
4 s at 8 spins, 15 s at 12 on one core) and caches it as ``cluster-ising-N.npz`` in
``data_dir`` when given, else in ``$QIMAGE_DATA/cluster-ising``, else in the user cache.
A file already in one of the folders :func:`~qimage.data.sources.local_candidates` lists
is used as it is (one of another grid too, written by :meth:`QuantumDataset.save`), if
it has N spins.

The split is fixed: stratified 50/50, ``QuantumDataset.split(0.5, seed=0)``.

Example:
    >>> X_train, y_train, X_test, y_test, source = load_cluster_ising(8)  # doctest: +SKIP
    >>> X_train.shape, X_train.dtype  # doctest: +SKIP
    ((128, 256), dtype('float64'))
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from qimage.data.quantum import QuantumDataset, generate_cluster_ising, load_quantum_dataset
from qimage.data.sources import local_candidates
from qimage.errors import DatasetError

__all__ = ["CLASS_NAMES", "GRID", "QUANTUM_DATASETS", "load_cluster_ising"]

#: Spins of each quantum dataset name.
QUANTUM_DATASETS = {"cluster-ising": 8, **{f"cluster-ising-{n}": n for n in range(8, 13)}}
#: The ``(h1 values, h2 values)`` of a generated file.
GRID = (np.linspace(0.0, 1.6, 16), np.linspace(-1.6, 1.6, 16))
CLASS_NAMES = ("non-SPT", "SPT")
SPLIT_SEED = 0
TEST_FRACTION = 0.5
_FOLDER = "cluster-ising"


def _file_name(n_spins: int) -> str:
    return f"cluster-ising-{n_spins}.npz"


def _cached(n_spins: int, data_dir) -> tuple[Path, QuantumDataset] | None:
    """The first readable file of ``n_spins`` in the local folders, else None."""
    for _, folder in local_candidates(_FOLDER, data_dir):
        path = folder / _file_name(n_spins)
        if path.is_file():
            data = load_quantum_dataset(path)
            if data.n_spins != n_spins:
                raise DatasetError(f"{path} holds {data.n_spins} spins, not {n_spins}")
            return path, data
    return None


def _generate(n_spins: int, data_dir) -> tuple[Path, QuantumDataset]:
    """Generate on :data:`GRID` and write the file atomically (ranks may race)."""
    folder = local_candidates(_FOLDER, data_dir)[0][1]
    data = generate_cluster_ising(n_spins, *GRID)
    path = folder / _file_name(n_spins)
    partial = data.save(folder / f".{path.name}.{os.getpid()}.partial")
    os.replace(partial, path)
    return path, data


def load_cluster_ising(n_spins: int, data_dir=None) -> tuple:
    """``(X_train, y_train, X_test, y_test, source)``: float64 states ``(M, 2^N)`` and
    int64 labels of the fixed split, generated and cached on first use."""
    found = _cached(n_spins, data_dir)
    path, data = found if found is not None else _generate(n_spins, data_dir)
    train, test = data.split(TEST_FRACTION, seed=SPLIT_SEED)
    X, y = data.states.astype(np.float64), data.labels.astype(np.int64)
    source = f"{path} (cluster-Ising ground states, exact diagonalisation)"
    return X[train], y[train], X[test], y[test], source
