"""Quantum data: ground states of the cluster-Ising chain across its phase diagram.

The Hamiltonian of Cong, Choi and Lukin (2019, arXiv:1810.03787) on ``N`` spins in a ring
(periodic boundaries, so that the cluster point has a unique ground state)::

    H = -sum_i Z_{i-1} X_i Z_{i+1} - h1 sum_i X_i - h2 sum_i X_i X_{i+1}

Its ground states are found by exact diagonalisation (``scipy.sparse.linalg.eigsh``), as
real unit vectors ``(2^N,)`` with spin 0 the most significant bit (qimage's wire order).

**Labels.** The symmetry-protected topological (SPT) phase is the one of the cluster state
(``h1 = h2 = 0``). It is detected by the *string order parameter* ``S = <Z_a X_{a+1} X_{a+3}
... X_{b-1} Z_b>``, the product of the cluster stabilisers ``Z X Z`` between ``a`` and ``b``:
``S = 1`` at the cluster point and ``S -> 0`` outside the phase in the thermodynamic limit.
On 8 to 12 spins it falls smoothly across the boundary, so a state is labelled SPT (1) when
``S`` over half the ring exceeds ``threshold`` (0.5 by default); on the line ``h2 = 0`` this
puts the boundary near the exact ``h1 = 1`` (the model is self-dual there). The labels are
thus those of a finite chain, not the paper's infinite-chain (iDMRG) phase diagram.

File format: one ``.npz`` (NumPy arrays, no pickle) with ``states`` ``(M, 2^N)`` float64,
``h`` ``(M, 2)`` (h1, h2), ``labels`` ``(M,)`` int64, ``string_order`` ``(M,)``,
``energies`` ``(M,)``, ``n_spins``, ``threshold`` and ``format``.

Example:
    >>> data = generate_cluster_ising(8, [0.2, 1.5], [0.0])
    >>> data.states.shape, data.labels.tolist()
    ((2, 256), [1, 0])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qimage.errors import QimageError

__all__ = [
    "FORMAT",
    "QuantumDataset",
    "cluster_ising_hamiltonian",
    "generate_cluster_ising",
    "ground_state",
    "load_quantum_dataset",
    "pauli_string_expectation",
    "string_order",
]

FORMAT = "qimage.quantum/1"


def _bit(n_spins: int, site: int) -> int:
    return 1 << (n_spins - 1 - site % n_spins)


def _signs(n_spins: int, z_sites) -> np.ndarray:
    """Diagonal of the product of Z on ``z_sites``: ``(2^N,)`` of +-1."""
    index = np.arange(2**n_spins)
    parity = np.zeros(2**n_spins, dtype=np.int64)
    for site in z_sites:
        parity ^= (index & _bit(n_spins, site)) != 0
    return 1.0 - 2.0 * parity


def _pauli_term(n_spins: int, x_sites, z_sites):
    """The sparse ``(2^N, 2^N)`` matrix of prod X(x_sites) prod Z(z_sites) (Z applied first)."""
    from scipy.sparse import csr_matrix

    mask = sum(_bit(n_spins, s) for s in set(x_sites))
    index = np.arange(2**n_spins)
    return csr_matrix((_signs(n_spins, z_sites), (index ^ mask, index)), shape=(2**n_spins,) * 2)


def cluster_ising_hamiltonian(n_spins: int, h1: float, h2: float):
    """The cluster-Ising Hamiltonian on a ring of ``n_spins``: sparse ``(2^N, 2^N)`` real."""
    if not isinstance(n_spins, int) or not 3 <= n_spins <= 20:
        raise QimageError(f"n_spins must be an integer from 3 to 20, got {n_spins!r}")
    terms = [_pauli_term(n_spins, [i], [i - 1, i + 1]) for i in range(n_spins)]
    total = -sum(terms)
    total = total - h1 * sum(_pauli_term(n_spins, [i], []) for i in range(n_spins))
    return total - h2 * sum(_pauli_term(n_spins, [i, i + 1], []) for i in range(n_spins))


def ground_state(n_spins: int, h1: float, h2: float) -> tuple[float, np.ndarray]:
    """``(energy, state (2^N,) float64)`` of the lowest eigenvector, sign fixed (largest > 0)."""
    from scipy.sparse.linalg import eigsh

    H = cluster_ising_hamiltonian(n_spins, h1, h2)
    start = np.ones(2**n_spins) / 2 ** (n_spins / 2)  # a fixed start: reproducible results
    values, vectors = eigsh(H, k=1, which="SA", v0=start, tol=1e-12)
    state = vectors[:, 0]
    return float(values[0]), state * np.sign(state[np.abs(state).argmax()])


def pauli_string_expectation(states: np.ndarray, x_sites, z_sites) -> np.ndarray:
    """``<psi| prod X(x_sites) prod Z(z_sites) |psi>`` for real states ``(M, 2^N)``: ``(M,)``."""
    n_spins = states.shape[1].bit_length() - 1
    mask = sum(_bit(n_spins, s) for s in set(x_sites))
    index = np.arange(2**n_spins)
    flipped = states[:, index ^ mask]
    return np.einsum("md,md->m", flipped, states * _signs(n_spins, z_sites))


def string_order(states: np.ndarray, start: int = 0, length: int | None = None) -> np.ndarray:
    """``<Z_a X_{a+1} X_{a+3} ... X_{b-1} Z_b>`` over ``length`` sites (even, default: the
    largest even length up to half the ring): ``(M,)``."""
    n_spins = states.shape[1].bit_length() - 1
    length = 2 * (n_spins // 4) if length is None else length
    xs = [start + j for j in range(1, length, 2)]
    return pauli_string_expectation(states, xs, [start, start + length])


@dataclass
class QuantumDataset:
    """Ground states with their Hamiltonian parameters and phase labels.

    Attributes: ``states`` (M, 2^N) float64, ``h`` (M, 2), ``labels`` (M,) int64 (1: SPT),
    ``string_order`` (M,), ``energies`` (M,), ``n_spins``, ``threshold``.
    """

    states: np.ndarray
    h: np.ndarray
    labels: np.ndarray
    string_order: np.ndarray
    energies: np.ndarray
    n_spins: int
    threshold: float

    def save(self, path: str | Path) -> Path:
        """Write the ``.npz`` file (see the module docstring); returns its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {k: v for k, v in vars(self).items() if isinstance(v, np.ndarray)}
        scalars = {"n_spins": self.n_spins, "threshold": self.threshold, "format": FORMAT}
        with path.open("wb") as handle:
            np.savez_compressed(handle, **arrays, **{k: np.array(v) for k, v in scalars.items()})
        return path

    def split(self, test_fraction: float = 0.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Indices ``(train, test)`` of a random split, stratified by label."""
        rng = np.random.default_rng(seed)
        train, test = [], []
        for label in np.unique(self.labels):
            members = rng.permutation(np.flatnonzero(self.labels == label))
            cut = round(len(members) * (1 - test_fraction))
            train.append(members[:cut])
            test.append(members[cut:])
        return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def generate_cluster_ising(
    n_spins: int, h1_values, h2_values, threshold: float = 0.5
) -> QuantumDataset:
    """Ground states on the grid ``h1_values x h2_values`` (h1 varies fastest), labelled."""
    grid = np.array([(h1, h2) for h2 in h2_values for h1 in h1_values], dtype=np.float64)
    found = [ground_state(n_spins, h1, h2) for h1, h2 in grid]
    states = np.stack([s for _, s in found])
    order = string_order(states)
    labels = (order > threshold).astype(np.int64)
    energies = np.array([e for e, _ in found])
    return QuantumDataset(states, grid, labels, order, energies, n_spins, float(threshold))


def load_quantum_dataset(path: str | Path) -> QuantumDataset:
    """Read a file written by :meth:`QuantumDataset.save`."""
    path = Path(path)
    if not path.is_file():
        raise QimageError(f"no quantum dataset at {path}; make one with generate_cluster_ising")
    with np.load(path, allow_pickle=False) as f:
        if str(f.get("format", "")) != FORMAT:
            raise QimageError(f"{path}: not a {FORMAT} file")
        return QuantumDataset(
            f["states"],
            f["h"],
            f["labels"],
            f["string_order"],
            f["energies"],
            int(f["n_spins"]),
            float(f["threshold"]),
        )
