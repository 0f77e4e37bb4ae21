"""What a classical learner can measure of quantum data: local Pauli observables.

:class:`LocalPauliFeatures` maps real or complex states ``(M, 2^n)`` to the expectations of
every one-spin Pauli (X, Y, Z on each spin) and every nearest-neighbour two-spin Pauli on a
ring: ``(M, 3n + 9n)`` features. With ``shots=None`` they are exact (infinitely many
measurements); with ``shots=S`` they are classical-shadow estimates (Huang, Kueng and
Preskill 2020) from ``S`` snapshots per state: each snapshot measures every spin in a
uniformly random X, Y or Z basis once, and a Pauli on ``k`` spins is estimated by
``3^k`` times the product of the outcomes when the bases match it, else 0.

:func:`local_observable_classifier` is that transformer, standardisation and a logistic
regression: the classical baseline of phase recognition on :mod:`qimage.data.cluster_ising`.

Example:
    >>> import numpy as np
    >>> plus = np.full((1, 4), 0.5)  # |++> on 2 spins: <X> = 1, <Z> = 0
    >>> LocalPauliFeatures().fit_transform(plus)[0, :3].round(6).tolist()
    [1.0, 0.0, 0.0]
"""

from __future__ import annotations

import itertools

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from qimage.errors import DatasetError

__all__ = [
    "LocalPauliFeatures",
    "exact_expectations",
    "local_observable_classifier",
    "local_paulis",
    "shadow_estimates",
]

_SIGMA = np.stack([np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1, -1])])
_H = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
# Rotations that turn a measurement of X, Y, Z into one of Z (rows: the letter).
_TO_Z = np.stack([_H, _H @ np.diag([1, -1j]), np.eye(2)])


def local_paulis(n: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """``(sites, letters)`` (letters 0 = X, 1 = Y, 2 = Z) of every one-spin Pauli and every
    nearest-neighbour two-spin Pauli on a ring of ``n`` spins: ``3n + 9n`` of them."""
    one = [((i,), (p,)) for i in range(n) for p in range(3)]
    pairs = list(itertools.product(range(3), repeat=2))
    return one + [((i, (i + 1) % n), pq) for i in range(n) for pq in pairs]


def _spins(states: np.ndarray) -> int:
    n = states.shape[1].bit_length() - 1
    if states.ndim != 2 or states.shape[1] != 2**n or n < 2:
        raise DatasetError(f"expected states (M, 2^n) with n >= 2, got shape {states.shape}")
    return n


def exact_expectations(states: np.ndarray, paulis) -> np.ndarray:
    """``<psi|P|psi>`` for each state ``(M, 2^n)`` and Pauli: ``(M, len(paulis))``."""
    n = _spins(states)
    psi = states.reshape(-1, *[2] * n).astype(np.complex128)
    out = []
    for sites, letters in paulis:
        phi = psi
        for site, letter in zip(sites, letters, strict=True):
            phi = np.moveaxis(
                np.tensordot(_SIGMA[letter], phi, axes=([1], [site + 1])), 0, site + 1
            )
        out.append((psi.conj() * phi).reshape(len(psi), -1).sum(1).real)
    return np.stack(out, axis=1)


def _snapshots(state: np.ndarray, shots: int, rng: np.random.Generator):
    """``(bases (S, n), signs (S, n))``: random bases and the +-1 outcomes measured."""
    n = state.shape[0].bit_length() - 1
    bases = rng.integers(0, 3, size=(shots, n))
    phi = np.broadcast_to(state.astype(np.complex128), (shots, 2**n)).reshape(shots, *[2] * n)
    for q in range(n):  # rotate each spin into its snapshot's basis
        rotated = np.einsum("sij,sj...->si...", _TO_Z[bases[:, q]], np.moveaxis(phi, q + 1, 1))
        phi = np.moveaxis(rotated, 1, q + 1)
    cdf = np.cumsum(np.abs(phi.reshape(shots, -1)) ** 2, axis=1)
    outcome = (cdf < rng.random((shots, 1)) * cdf[:, -1:]).sum(1)
    bits = (outcome[:, None] >> np.arange(n - 1, -1, -1)) & 1
    return bases, 1 - 2 * bits


def shadow_estimates(states, paulis, shots: int, rng: np.random.Generator) -> np.ndarray:
    """Classical-shadow estimates ``(M, len(paulis))`` from ``shots`` snapshots per state."""
    _spins(states)
    out = np.empty((len(states), len(paulis)))
    for m, state in enumerate(states):
        bases, signs = _snapshots(state, shots, rng)
        for j, (sites, letters) in enumerate(paulis):
            match = np.all(bases[:, sites] == np.array(letters), axis=1)
            out[m, j] = np.mean(match * np.prod(3 * signs[:, sites], axis=1))
    return out


class LocalPauliFeatures(TransformerMixin, BaseEstimator):
    """Local Pauli expectations of states, exact or from ``shots`` shadow snapshots each.

    Args:
        shots: snapshots per state (``None``: exact expectations).
        random_state: seed of the snapshots' bases and outcomes.
    """

    def __init__(self, shots: int | None = None, random_state: int | None = 0):
        self.shots = shots
        self.random_state = random_state

    def fit(self, X, y=None) -> LocalPauliFeatures:
        """Record the number of spins; returns self."""
        if self.shots is not None and self.shots < 1:
            raise DatasetError(f"shots must be >= 1 (or None: exact), got {self.shots}")
        self.n_spins_ = _spins(np.asarray(X))
        self.n_features_in_ = 2**self.n_spins_
        self._rng = np.random.default_rng(self.random_state)
        return self

    def transform(self, X) -> np.ndarray:
        """``(M, 12 n)`` features; each call with shots draws fresh snapshots."""
        check_is_fitted(self)
        X = np.asarray(X)
        if _spins(X) != self.n_spins_:
            raise DatasetError(f"fitted on {self.n_spins_} spins, got states of {_spins(X)}")
        paulis = local_paulis(self.n_spins_)
        if self.shots is None:
            return exact_expectations(X, paulis)
        return shadow_estimates(X, paulis, self.shots, self._rng)


def local_observable_classifier(shots: int | None = None, C: float = 1.0, random_state=0):
    """A scikit-learn pipeline: :class:`LocalPauliFeatures`, standardisation, logistic
    regression (``C``: its inverse regularisation)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        LocalPauliFeatures(shots, random_state),
        StandardScaler(),
        LogisticRegression(C=C, max_iter=2000),
    )
