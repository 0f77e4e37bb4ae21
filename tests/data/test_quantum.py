"""The cluster-Ising dataset: Hamiltonian, ground states, labels, file format.

Oracles: a dense Kronecker-product Hamiltonian and ``numpy.linalg.eigh``; the exactly known
limits (cluster state at h1 = h2 = 0, the |+...+> state for large h1).
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import pytest

from qimage.data import generate_cluster_ising, load_quantum_dataset
from qimage.data.quantum import (
    cluster_ising_hamiltonian,
    ground_state,
    pauli_string_expectation,
    string_order,
)
from qimage.errors import QimageError

X = np.array([[0.0, 1.0], [1.0, 0.0]])
Z = np.diag([1.0, -1.0])


def dense(n: int, h1: float, h2: float) -> np.ndarray:
    """H by Kronecker products, spin 0 the leftmost factor, on a ring."""

    def term(ops: dict[int, np.ndarray]) -> np.ndarray:
        return reduce(np.kron, [ops.get(i, np.eye(2)) for i in range(n)])

    H = -sum(term({(i - 1) % n: Z, i: X, (i + 1) % n: Z}) for i in range(n))
    H = H - h1 * sum(term({i: X}) for i in range(n))
    return H - h2 * sum(term({i: X, (i + 1) % n: X}) for i in range(n))


@pytest.mark.parametrize(("h1", "h2"), [(0.0, 0.0), (0.7, -0.4), (1.3, 0.9)])
def test_hamiltonian_and_ground_state_match_dense(h1, h2):
    """The sparse H equals the Kronecker one; eigsh's ground state equals eigh's."""
    H = dense(6, h1, h2)
    np.testing.assert_allclose(cluster_ising_hamiltonian(6, h1, h2).toarray(), H, atol=1e-12)
    values, vectors = np.linalg.eigh(H)
    energy, state = ground_state(6, h1, h2)
    assert energy == pytest.approx(values[0], abs=1e-10)
    assert abs(state @ vectors[:, 0]) == pytest.approx(1.0, abs=1e-8)


def test_cluster_point():
    """h1 = h2 = 0: every stabiliser Z X Z is 1, E = -N, the string order is 1, label SPT."""
    energy, state = ground_state(8, 0.0, 0.0)
    stabilisers = [pauli_string_expectation(state[None], [i], [i - 1, i + 1]) for i in range(8)]
    np.testing.assert_allclose(np.concatenate(stabilisers), 1.0, atol=1e-10)
    assert energy == pytest.approx(-8.0)
    assert string_order(state[None])[0] == pytest.approx(1.0)


def test_paramagnet_limit():
    """Large h1: the ground state tends to |+...+> (<X_i> -> 1), string order 0, label 0."""
    data = generate_cluster_ising(8, [50.0], [0.0])
    x = [pauli_string_expectation(data.states, [i], [])[0] for i in range(8)]
    np.testing.assert_allclose(x, 1.0, atol=1e-3)
    assert abs(data.string_order[0]) < 1e-3 and data.labels[0] == 0


def test_labels_along_the_self_dual_line():
    """On h2 = 0 the label changes once, near the exact transition h1 = 1."""
    h1 = np.linspace(0.0, 2.0, 11)
    labels = generate_cluster_ising(10, h1, [0.0]).labels
    assert labels[0] == 1 and labels[-1] == 0 and np.count_nonzero(np.diff(labels)) == 1
    assert 0.8 <= h1[np.argmin(labels)] <= 1.4


def test_save_load_and_split(tmp_path):
    data = generate_cluster_ising(8, [0.0, 0.5, 1.5, 2.0], [0.0, 0.5])
    back = load_quantum_dataset(data.save(tmp_path / "ci.npz"))
    for name in ("states", "h", "labels", "string_order", "energies"):
        np.testing.assert_array_equal(getattr(back, name), getattr(data, name))
    assert (back.n_spins, back.threshold) == (8, 0.5)
    train, test = data.split(0.5, seed=0)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(8))
    assert set(data.labels[train]) == set(data.labels[test]) == {0, 1}


def test_bad_file(tmp_path):
    np.savez(tmp_path / "x.npz", states=np.zeros(2))
    with pytest.raises(QimageError, match=r"not a qimage\.quantum"):
        load_quantum_dataset(tmp_path / "x.npz")
