"""Image datasets: the bundled 8x8 digits, MNIST and Fashion-MNIST, and the IDX format;
quantum data: cluster-Ising ground states (:mod:`qimage.data.quantum`), served by name
(``load_dataset("cluster-ising-10")``) by :mod:`qimage.data.cluster_ising`.

This is the lowest layer of qimage: it depends on NumPy and :mod:`qimage.errors` only
(scikit-learn is imported when the digits are loaded, rich when a progress bar is shown).

Example::

    >>> from qimage.data import load_dataset
    >>> ds = load_dataset()            # the 8x8 digits, no download   # doctest: +SKIP
    >>> ds.X_train.shape               # doctest: +SKIP
    (1438, 8, 8)
"""

from __future__ import annotations

from qimage.data.cluster_ising import QUANTUM_DATASETS
from qimage.data.datasets import DATASET_NAMES, Dataset, load_dataset
from qimage.data.download import download_file
from qimage.data.idx import read_idx, write_idx
from qimage.data.quantum import QuantumDataset, generate_cluster_ising, load_quantum_dataset
from qimage.data.sources import IDX_DATASETS, cache_dir

__all__ = [
    "DATASET_NAMES",
    "IDX_DATASETS",
    "QUANTUM_DATASETS",
    "Dataset",
    "QuantumDataset",
    "cache_dir",
    "download_file",
    "generate_cluster_ising",
    "load_dataset",
    "load_quantum_dataset",
    "read_idx",
    "write_idx",
]
