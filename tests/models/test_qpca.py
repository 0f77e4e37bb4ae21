"""qPCA simulated: the engine's inverse QFT, the ancilla distribution, eigenvalues and the
recovered components, against numpy (``eigh`` of rho, the DFT matrix, the Fejer kernel)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from qimage.errors import CircuitError
from qimage.models.qpca import (
    amplitude_states,
    default_time,
    density_matrix,
    inverse_qft,
    lmr_copies,
    qpca,
    qpe_copies,
)
from qimage.sim import Circuit, evolve


def test_inverse_qft_is_the_inverse_dft():
    """The engine circuit equals F^dagger, F[m, a] = exp(2 pi i a m / 2^k) / sqrt(2^k)."""
    k = 3
    basis = torch.eye(2**k, dtype=torch.complex128)
    columns = evolve(Circuit(k, inverse_qft(k)), state=basis, dtype=torch.complex128)
    ours = columns.reshape(2**k, 2**k).T.numpy()
    a = np.arange(2**k)
    expected = np.exp(-2j * np.pi * np.outer(a, a) / 2**k) / math.sqrt(2**k)
    np.testing.assert_allclose(ours, expected, atol=1e-12)


@pytest.fixture(scope="module")
def on_grid():
    """Rows whose rho has eigenvalues 9/15, 4/15, 2/15, 0 (on the k=4 grid, step 1/15) in a
    random basis."""
    rotation, _ = np.linalg.qr(np.random.default_rng(0).normal(size=(4, 4)))
    rows = rotation[:, [0] * 9 + [1] * 4 + [2] * 2].T  # 15 unit rows
    return rows, qpca(rows, n_ancillas=4)


def test_eigenvalues_on_the_grid_are_exact(on_grid):
    """Eigenvalues on the grid give delta peaks of weight lambda at lambda: eigh's values."""
    rows, result = on_grid
    expected = np.sort(np.linalg.eigvalsh(density_matrix(rows)))[::-1][:3]
    np.testing.assert_allclose(result.eigenvalues(3), expected, atol=1e-12)
    np.testing.assert_allclose(result.probabilities[result.peaks(3)], expected, atol=1e-12)


def test_components_are_the_eigenvectors(on_grid):
    """The data register at each peak is the projector on eigh's eigenvector."""
    rows, result = on_grid
    values, vectors = np.linalg.eigh(density_matrix(rows))
    for state, j in zip(result.components(3), np.argsort(values)[::-1][:3], strict=True):
        np.testing.assert_allclose(state, np.outer(vectors[:, j], vectors[:, j]), atol=1e-12)


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data[:150]
    return X, qpca(X, n_ancillas=5)


def test_ancilla_distribution_is_the_fejer_sum(digits):
    """P(m) = sum_j lam_j |(1/2^k) sum_a exp(2 pi i a (phi_j - m/2^k))|^2, phi_j = -lam_j t/2pi."""
    X, result = digits
    k, t = 5, default_time(5)
    values = np.linalg.eigvalsh(density_matrix(amplitude_states(X)))
    a, m = np.arange(2**k), np.arange(2**k)
    phi = -values * t / (2 * np.pi)
    amplitude = np.exp(
        2j * np.pi * a[None, None, :] * (phi[:, None, None] - m[None, :, None] / 2**k)
    )
    expected = values @ np.abs(amplitude.mean(-1)) ** 2
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-12)


def test_top_eigenvalue_and_component_of_digits(digits):
    """The main peak reads eigh's top eigenvalue to within half a grid step (1/(2(2^k-1)));
    the state it leaves has fidelity above 0.99 with eigh's top eigenvector."""
    X, result = digits
    values, vectors = np.linalg.eigh(density_matrix(amplitude_states(X)))
    assert abs(result.eigenvalues(1)[0] - values[-1]) <= 0.5 / (2**5 - 1) + 1e-12
    top = vectors[:, -1]
    assert top @ result.components(1)[0] @ top > 0.99


def test_copies():
    """LMR: ceil(t^2/eps); phase estimation sums the controlled powers at eps/k each."""
    assert lmr_copies(2.0, 0.01) == 400
    assert qpe_copies(1, 2.0, 0.01) == 400
    assert qpe_copies(3, 1.0, 0.3) == sum(math.ceil((2**j) ** 2 * 3 / 0.3) for j in range(3))
    with pytest.raises(CircuitError, match="positive"):
        lmr_copies(1.0, 0.0)


def test_bad_ancillas():
    with pytest.raises(CircuitError, match="n_ancillas"):
        qpca(np.eye(4), n_ancillas=0)
