"""Measurements: exact reads against the dense reference, shot estimates against statistics."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch

from qimage.errors import CircuitError
from qimage.sim import Expval, ExpvalZ, Probs, as_tensor, expval_pauli, expval_z, probs


def _random_states(rng, batch, n):
    psi = rng.normal(size=(batch, 2**n)) + 1j * rng.normal(size=(batch, 2**n))
    return psi / np.linalg.norm(psi, axis=1, keepdims=True)


class TestExact:
    @pytest.mark.parametrize("n", [1, 3, 5])
    def test_expval_z_all_wires(self, n, rng):
        """<Z_i> of every wire equals the dense Pauli operator's expectation."""
        psi = _random_states(rng, 4, n)
        got = expval_z(as_tensor(torch.tensor(psi))).numpy()
        np.testing.assert_allclose(got, reference.expval_z(psi, n), atol=1e-12)

    def test_expval_z_subset_order(self, rng):
        """A subset of wires comes back in the order asked for."""
        psi = _random_states(rng, 2, 4)
        full = reference.expval_z(psi, 4)
        got = expval_z(as_tensor(torch.tensor(psi)), wires=(3, 1)).numpy()
        np.testing.assert_allclose(got, full[:, [3, 1]], atol=1e-12)

    @pytest.mark.parametrize("wires", [None, (0,), (2, 0), (1, 3, 2)])
    def test_probs(self, wires, rng):
        """Marginal probabilities match the reference for any wire order."""
        psi = _random_states(rng, 3, 4)
        got = probs(as_tensor(torch.tensor(psi)), wires).numpy()
        np.testing.assert_allclose(got, reference.probs(psi, 4, wires), atol=1e-12)

    @pytest.mark.parametrize("word", ["XYZ", "IIX", "YYI", "ZIZ", "III"])
    def test_pauli_words(self, word, rng):
        """<P> for Pauli words equals the dense operator's expectation."""
        psi = _random_states(rng, 3, 3)
        got = expval_pauli(as_tensor(torch.tensor(psi)), word).numpy()
        np.testing.assert_allclose(got, reference.expval_words(psi, [word])[:, 0], atol=1e-12)

    def test_measuring_does_not_change_the_state(self, rng):
        """Every read leaves the state untouched."""
        state = as_tensor(torch.tensor(_random_states(rng, 2, 3)))
        before = state.clone()
        for m in (ExpvalZ(), Expval(("XYZ",)), Probs((1,))):
            m.exact(state)
            m.sample(state, 10, torch.Generator().manual_seed(0))
        assert torch.equal(state, before)


class TestShots:
    @pytest.mark.parametrize("measurement", [ExpvalZ(), Expval(("XYZ", "ZZI")), Probs((2, 0))])
    def test_estimates_within_statistical_bounds(self, measurement, rng):
        """Shot estimates lie within 5 standard errors of the exact values."""
        state = as_tensor(torch.tensor(_random_states(rng, 4, 3)))
        shots = 20000
        exact = measurement.exact(state)
        est = measurement.sample(state, shots, torch.Generator().manual_seed(7))
        # A +-1 estimator has variance 1 - m^2; a probability p has p(1 - p).
        var = (1 - exact**2) if not isinstance(measurement, Probs) else exact * (1 - exact)
        bound = 5 * torch.sqrt(var / shots) + 1e-9
        assert torch.all((est - exact).abs() <= bound), (est - exact).abs().max()

    def test_estimates_are_not_exact(self, rng):
        """Few shots give visibly noisy estimates (the sampler really samples)."""
        state = as_tensor(torch.tensor(_random_states(rng, 8, 3)))
        est = ExpvalZ().sample(state, 10, torch.Generator().manual_seed(1))
        assert not torch.allclose(est, ExpvalZ().exact(state), atol=1e-3)

    def test_same_seed_same_samples(self, rng):
        """The same seed gives the same estimates; another seed gives others."""
        state = as_tensor(torch.tensor(_random_states(rng, 4, 3)))
        a = ExpvalZ().sample(state, 100, torch.Generator().manual_seed(3))
        b = ExpvalZ().sample(state, 100, torch.Generator().manual_seed(3))
        c = ExpvalZ().sample(state, 100, torch.Generator().manual_seed(4))
        assert torch.equal(a, b) and not torch.equal(a, c)

    def test_basis_state_samples_are_certain(self):
        """A basis state always yields the same outcome."""
        state = torch.zeros(1, 8, dtype=torch.complex64)
        state[0, 5] = 1  # |101>
        est = ExpvalZ().sample(as_tensor(state), 50, torch.Generator().manual_seed(0))
        assert torch.equal(est, torch.tensor([[-1.0, 1.0, -1.0]]))


class TestInputs:
    def test_bad_wire(self):
        """A measured wire out of range names the valid range."""
        with pytest.raises(CircuitError, match=r"0\.\.2"):
            expval_z(as_tensor(torch.ones(1, 8, dtype=torch.complex64)), wires=(3,))

    def test_bad_word(self):
        """A Pauli word of the wrong length or letters is refused."""
        with pytest.raises(CircuitError, match="Pauli word"):
            Expval(("XQ",)).n_outputs(2)
