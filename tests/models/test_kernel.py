"""Quantum kernels: Gram matrices against per-pair overlaps of a dense reference, closed forms,
bandwidth, reduced states, and the statistics of the shot estimates."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch

from qimage.circuits import IQPEncoder, ReuploadingEncoder
from qimage.errors import CircuitError
from qimage.models import (
    FidelityKernel,
    ProjectedKernel,
    encoded_states,
    fidelity_gram,
    pauli_expectations,
    projected_gram,
    sample_fidelity,
)
from qimage.sim import Circuit, expval_pauli

C128 = torch.complex128


def _reference_states(X: np.ndarray, encoder, n: int) -> np.ndarray:
    """Dense, one-sample-at-a-time states of an encoder's circuit."""
    f = X.shape[1]
    circuit = Circuit(n, encoder.ops(n, f), n_inputs=encoder.n_inputs(f))
    inputs = encoder.prepare(torch.as_tensor(X)).numpy()
    return reference.final_states(circuit, inputs)


def _pairwise_fidelity(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    return np.array([[abs(np.vdot(a, b)) ** 2 for b in B] for a in A])


@pytest.fixture
def X(rng) -> torch.Tensor:
    return torch.as_tensor(rng.uniform(0, np.pi, size=(7, 4)))


class TestFidelityKernel:
    @pytest.mark.parametrize("pairs", ["all", "ring"])
    def test_iqp_gram_equals_pairwise_reference_overlaps(self, X, pairs):
        """The GEMM Gram equals |<psi_i|psi_j>|^2 of dense reference states, pair by pair."""
        encoder = IQPEncoder(reps=2, pairs=pairs)
        kernel = FidelityKernel(encoder, dtype=C128)
        states = _reference_states(X.numpy(), encoder, 4)
        expected = _pairwise_fidelity(states[:3], states)
        np.testing.assert_allclose(kernel(X[:3], X).numpy(), expected, atol=1e-12)

    def test_angle_kernel_closed_form(self, X):
        """RY encoding: K = prod_i cos^2((x_i - x'_i) / 2)."""
        K = FidelityKernel("angle", dtype=C128)(X)
        expected = torch.cos((X[:, None] - X[None]) / 2).square().prod(-1)
        torch.testing.assert_close(K, expected)

    def test_amplitude_kernel_closed_form(self, X):
        """Amplitude encoding: K = (x . x')^2 / (|x|^2 |x'|^2)."""
        K = FidelityKernel("amplitude", dtype=C128)(X)
        unit = X / X.norm(dim=1, keepdim=True)
        torch.testing.assert_close(K, (unit @ unit.T).square())

    def test_gram_is_a_kernel_matrix(self, X):
        """Symmetric, ones on the diagonal, positive semidefinite."""
        K = FidelityKernel("iqp", dtype=C128)(X)
        torch.testing.assert_close(K, K.T)
        torch.testing.assert_close(K.diagonal(), torch.ones(7, dtype=K.dtype))
        assert torch.linalg.eigvalsh(K).min() > -1e-10

    def test_bandwidth_scales_the_features(self, X):
        """A bandwidth b on x equals bandwidth 1 on b * x, and b -> 0 flattens K to 1."""
        k = FidelityKernel("iqp", bandwidth=0.3, dtype=C128)
        torch.testing.assert_close(k(X), FidelityKernel("iqp", dtype=C128)(0.3 * X))
        flat = FidelityKernel("iqp", bandwidth=1e-4, dtype=C128)(X)
        assert flat.min() > 0.999

    def test_many_rows_are_chunked_exactly(self, rng):
        """Over 2048 samples (several GEMM chunks) the Gram equals one dense product."""
        X = torch.as_tensor(rng.uniform(0, 1, size=(2100, 2)))
        S = encoded_states(X, "angle", dtype=C128)
        torch.testing.assert_close(fidelity_gram(S[:5], S), (S[:5].conj() @ S.T).abs().square())
        assert fidelity_gram(S).shape == (2100, 2100)

    def test_qubits_default_to_the_fewest(self):
        """IQP and angle take one feature per qubit, amplitude log2 of the features."""
        assert encoded_states(torch.rand(2, 5), "iqp").shape == (2, 32)
        assert encoded_states(torch.rand(2, 5) + 0.1, "amplitude").shape == (2, 8)

    def test_refuses_trainable_feature_maps(self):
        """A re-uploading encoder has weights, so it is no fixed kernel."""
        with pytest.raises(CircuitError, match="fixed feature map"):
            FidelityKernel(ReuploadingEncoder())


class TestProjectedKernel:
    def test_pauli_expectations_match_the_engine(self, X):
        """Batched <X_q>, <Y_q>, <Z_q> equal the simulator's Pauli-word expectations."""
        states = encoded_states(X, "iqp", dtype=C128)
        got = pauli_expectations(states)
        tensor = states.reshape(-1, 2, 2, 2, 2)
        for q in range(4):
            for k, letter in enumerate("XYZ"):
                word = "I" * q + letter + "I" * (3 - q)
                torch.testing.assert_close(got[:, q, k], expval_pauli(tensor, word))

    def test_equals_reduced_density_matrix_formula(self, X):
        """K = exp(-gamma sum_q ||rho_q - rho_q'||_F^2) with rho_q from explicit partial traces."""
        gamma = 0.7
        states = _reference_states(X.numpy(), IQPEncoder(), 4)
        rhos = []
        for psi in states.reshape(-1, 2, 2, 2, 2):
            rhos.append(
                [
                    np.tensordot(psi, psi.conj(), axes=([a for a in range(4) if a != q],) * 2)
                    for q in range(4)
                ]
            )
        rhos = np.array(rhos)  # (N, 4, 2, 2)
        diff = rhos[:, None] - rhos[None]
        expected = np.exp(-gamma * (np.abs(diff) ** 2).sum(axis=(2, 3, 4)))
        got = ProjectedKernel("iqp", gamma=gamma, dtype=C128)(X)
        np.testing.assert_allclose(got.numpy(), expected, atol=1e-12)

    def test_bad_gamma(self):
        """gamma must be positive."""
        with pytest.raises(CircuitError, match="gamma"):
            ProjectedKernel(gamma=0)

    def test_gram_from_stored_features(self, X):
        """Test-by-train Gram from stored features equals the direct computation."""
        k = ProjectedKernel("angle", gamma=2.0, dtype=C128)
        F = k.features(X)
        torch.testing.assert_close(k.gram(F[:2], F), projected_gram(F[:2], F, 2.0))
        torch.testing.assert_close(k.gram(F[:2], F), k(X[:2], X))


class TestShots:
    def test_fidelity_estimate_is_unbiased_with_binomial_variance(self):
        """Over many draws the estimate's mean is K and its variance K(1-K)/shots."""
        K = torch.tensor([[0.1, 0.5, 0.9]], dtype=torch.float64).expand(20000, 3)
        shots = 50
        est = sample_fidelity(K, shots, torch.Generator().manual_seed(0))
        p = K[0]
        var = p * (1 - p) / shots
        assert ((est.mean(0) - p).abs() < 5 * (var / 20000).sqrt()).all()
        torch.testing.assert_close(est.var(0), var, rtol=0.05, atol=0)

    def test_symmetric_gram_estimate(self, X):
        """A training Gram estimate is symmetric with an exact unit diagonal."""
        k = FidelityKernel("iqp")
        est = k(X, shots=100, generator=torch.Generator().manual_seed(1))
        torch.testing.assert_close(est, est.T)
        assert torch.equal(est.diagonal(), torch.ones(7, dtype=est.dtype))
        counts = est * 100
        torch.testing.assert_close(counts, counts.round())  # whole counts out of 100 shots

    def test_seeded_and_converging(self, X):
        """Same seed, same estimate; 10^6 shots land within 0.005 of the exact kernel."""
        k = FidelityKernel("iqp", dtype=C128)
        a, b = (k(X[:2], X, shots=64, generator=torch.Generator().manual_seed(3)) for _ in "ab")
        assert torch.equal(a, b)
        close = k(X[:2], X, shots=10**6, generator=torch.Generator().manual_seed(4))
        assert (close - k(X[:2], X)).abs().max() < 5e-3

    def test_projected_shot_estimate_converges(self, X):
        """Shot-estimated Pauli expectations give a projected Gram near the exact one."""
        k = ProjectedKernel("iqp", gamma=0.5, dtype=C128)
        est = k(X, shots=10**6, generator=torch.Generator().manual_seed(5))
        assert (est - k(X)).abs().max() < 1e-2
        assert torch.equal(est.diagonal(), torch.ones(7, dtype=est.dtype))

    def test_bad_shots(self):
        """Zero shots are refused."""
        with pytest.raises(CircuitError, match="shots"):
            sample_fidelity(torch.ones(2, 2), 0)
