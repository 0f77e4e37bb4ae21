"""Local Pauli observables of states: exact, and classical-shadow estimates of them.

Oracles: the dense Pauli operators of tests/reference.py (exact), and the shadow
estimator's variance bound ``3^k / S`` for a ``k``-spin Pauli from ``S`` snapshots.
"""

from __future__ import annotations

import numpy as np
import pytest
from reference import expval_words

from qimage.errors import DatasetError
from qimage.estimators import LocalPauliFeatures, local_observable_classifier
from qimage.estimators.observables import local_paulis


def _words(n: int) -> list[str]:
    out = []
    for sites, letters in local_paulis(n):
        word = ["I"] * n
        for site, letter in zip(sites, letters, strict=True):
            word[site] = "XYZ"[letter]
        out.append("".join(word))
    return out


def _states(rng, m: int, n: int) -> np.ndarray:
    psi = rng.normal(size=(m, 2**n)) + 1j * rng.normal(size=(m, 2**n))
    return psi / np.linalg.norm(psi, axis=1, keepdims=True)


def test_every_local_pauli_once():
    """3n one-spin and 9n nearest-neighbour two-spin Paulis on a ring, all distinct."""
    words = _words(4)
    assert len(words) == len(set(words)) == 12 * 4
    assert "ZIIX" in words and "XIZI" not in words  # the ring closes; no next-nearest


def test_exact_features_are_the_expectations(rng):
    states = _states(rng, 3, 3)
    got = LocalPauliFeatures().fit_transform(states)
    np.testing.assert_allclose(got, expval_words(states, _words(3)), atol=1e-12)


def test_shadow_estimates_are_unbiased_within_their_variance(rng):
    states = _states(rng, 1, 3)
    shots = 20000
    estimate = LocalPauliFeatures(shots=shots, random_state=1).fit_transform(states)[0]
    exact = expval_words(states, _words(3))[0]
    k = np.array([sum(c != "I" for c in w) for w in _words(3)])
    assert np.all(np.abs(estimate - exact) < 5 * np.sqrt(3.0**k / shots))
    again = LocalPauliFeatures(shots=shots, random_state=1).fit_transform(states)[0]
    np.testing.assert_array_equal(again, estimate)  # seeded


def test_a_classifier_learns_the_sign_of_a_local_observable(rng):
    """Labels given by <Z_0> are learned from exact local observables."""
    states = _states(rng, 300, 3)
    labels = (expval_words(states, ["ZII"])[:, 0] > 0).astype(int)
    model = local_observable_classifier().fit(states[:200], labels[:200])
    assert model.score(states[200:], labels[200:]) >= 0.9


@pytest.mark.parametrize(("X", "shots"), [(np.ones((2, 6)), None), (np.ones((2, 4)), 0)])
def test_bad_input_is_one_clear_error(X, shots):
    with pytest.raises(DatasetError):
        LocalPauliFeatures(shots=shots).fit(X)
