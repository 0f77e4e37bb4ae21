"""Quantum principal component analysis (Lloyd, Mohseni, Rebentrost 2014), simulated small.

The algorithm, and how each step is simulated here:

1. **rho from data**: drawing a training sample at random and amplitude-encoding it prepares
   ``rho = (1/N) sum_i |x_i><x_i|`` (``(D, D)``, ``D = 2^n``, trace 1, eigenvalues in [0, 1]).
   Simulated as the batch of the N pure states: every later step is linear in rho, so the
   ancilla distribution of rho is the average of those of the ``|x_i>``.
2. **Phase estimation of U = e^{-i rho t}** with ``k`` ancilla qubits (wires ``0..k-1``, wire 0
   the most significant; the data register is wires ``k..k+n-1``): Hadamards on the ancillas,
   controlled ``U^(2^j)``, inverse quantum Fourier transform. On hardware the controlled
   ``U^(2^j)`` come from *density-matrix exponentiation*, which consumes copies of rho (see
   :func:`qpe_copies`). **Here U is computed exactly from the eigendecomposition of rho** (the
   engine's gate table has no arbitrary-unitary gate, and that is what the copies would
   approximate); the state after the controlled powers, ``(1/sqrt(2^k)) sum_a |a> U^a |x>``, is
   written directly and the inverse QFT runs on qimage's engine as H / CRZ / PhaseShift / SWAP.
3. **Read-out**: an eigenvalue ``lam`` gives the ancilla outcome ``m`` near
   ``2^k * (-lam t / 2 pi mod 1)``; the distribution is a sum of peaks of weight ``lam_j``, one
   at each eigenvalue. With the default ``t = 2 pi (1 - 2^-k)`` bin ``m`` reads
   ``lam = ((-m) mod 2^k) / (2^k - 1)``: a grid of step ``1 / (2^k - 1)`` over [0, 1].
4. **Principal components**: conditioned on an ancilla outcome at a peak, the data register is
   left in (mostly) that eigenvector: the *state* ``sigma_m`` (``(D, D)``), not its
   coordinates; reading those out would take tomography.

Example:
    >>> from sklearn.datasets import load_digits
    >>> result = qpca(load_digits().data[:200], n_ancillas=5)
    >>> result.probabilities.shape, result.eigenvalues(1).round(2).tolist()
    ((32,), [0.71])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from qimage.errors import CircuitError
from qimage.preprocess import AmplitudeEncoder
from qimage.sim import Circuit, Op, Param, evolve

__all__ = [
    "QPCAResult",
    "amplitude_states",
    "default_time",
    "density_matrix",
    "eigenvalue_grid",
    "inverse_qft",
    "lmr_copies",
    "qpca",
    "qpe_copies",
]

_CHUNK = 128  # samples per engine call: (128, 2^k * 2^n) complex128 is 128 MB at k=10, n=6


def amplitude_states(X: np.ndarray) -> np.ndarray:
    """Rows ``(N, F)`` (or images ``(N, H, W)``) -> unit vectors ``(N, 2^n)`` float64, padded."""
    X = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    return AmplitudeEncoder().fit_transform(X)


def density_matrix(states: np.ndarray) -> np.ndarray:
    """``rho = (1/N) sum_i |x_i><x_i|`` of unit rows ``(N, D)``: ``(D, D)``, trace 1."""
    return states.T @ states.conj() / len(states)


def default_time(n_ancillas: int) -> float:
    """``t = 2 pi (1 - 2^-k)``: eigenvalues 0..1 land on the ancilla bins' grid exactly."""
    return 2 * math.pi * (1 - 2.0**-n_ancillas)


def eigenvalue_grid(n_ancillas: int, t: float) -> np.ndarray:
    """The eigenvalue each ancilla outcome ``m = 0..2^k-1`` reads (``(2^k,)``):
    ``2 pi ((-m) mod 2^k) / (2^k t)``."""
    size = 2**n_ancillas
    return 2 * math.pi * ((-np.arange(size)) % size) / (size * t)


def inverse_qft(n_ancillas: int) -> list[Op]:
    """The inverse QFT on wires ``0..k-1`` (wire 0 most significant) as engine ops.

    A controlled phase ``CP(a) = PhaseShift(a/2)`` on the control times ``CRZ(a)``.
    """
    ops = [Op("SWAP", (j, n_ancillas - 1 - j)) for j in range(n_ancillas // 2)]
    for j in reversed(range(n_ancillas)):
        for m in reversed(range(j + 1, n_ancillas)):
            angle = -2 * math.pi / 2 ** (m - j + 1)
            ops += [Op("PhaseShift", (m,), (Param.const(angle / 2),))]
            ops += [Op("CRZ", (m, j), (Param.const(angle),))]
        ops.append(Op("H", (j,)))
    return ops


def _powers(states: np.ndarray, rho: np.ndarray, n_ancillas: int, t: float) -> torch.Tensor:
    """``(1/sqrt(2^k)) sum_a |a> U^a |x>`` for each row: ``(N, 2^k * D)`` complex128."""
    values, vectors = (torch.from_numpy(v).to(torch.complex128) for v in np.linalg.eigh(rho))
    a = torch.arange(2**n_ancillas, dtype=torch.float64)
    phases = torch.exp(-1j * t * torch.outer(a, values.real))  # (2^k, D): U^a in the eigenbasis
    coefficients = torch.from_numpy(states).to(torch.complex128) @ vectors.conj()  # <u_j|x_i>
    out = (phases[None] * coefficients[:, None, :]) @ vectors.T / math.sqrt(len(a))
    return out.reshape(len(states), -1)


@dataclass
class QPCAResult:
    """What qPCA leaves: the ancilla distribution and the data register given each outcome.

    Attributes:
        probabilities: ``(2^k,)`` ancilla outcome probabilities.
        grid: ``(2^k,)`` the eigenvalue each outcome reads (:func:`eigenvalue_grid`).
        conditional: ``(2^k, D, D)`` the data register's state given each outcome
            (zero where the outcome has probability 0).
        rho: ``(D, D)`` the density matrix of the data.
    """

    probabilities: np.ndarray
    grid: np.ndarray
    conditional: np.ndarray
    rho: np.ndarray

    def peaks(self, n: int) -> np.ndarray:
        """Outcomes of the ``n`` most probable local maxima (neighbours taken circularly)."""
        p = self.probabilities
        local = (p >= np.roll(p, 1)) & (p > np.roll(p, -1))
        order = np.flatnonzero(local)[np.argsort(-p[local], kind="stable")]
        return order[:n]

    def eigenvalues(self, n: int) -> np.ndarray:
        """The ``n`` largest-weight eigenvalues read from the peaks, in peak order ``(n,)``."""
        return self.grid[self.peaks(n)]

    def components(self, n: int) -> np.ndarray:
        """The data register's state ``(n, D, D)`` at each of the ``n`` main peaks."""
        return self.conditional[self.peaks(n)]


def qpca(
    X: np.ndarray, n_ancillas: int = 6, t: float | None = None, chunk: int = _CHUNK
) -> QPCAResult:
    """Simulate qPCA on amplitude-encoded rows of ``X`` ``(N, F)`` with ``n_ancillas`` ancillas.

    Cost: ``N`` pure states of ``k + n`` qubits (memory ``chunk * 2^(k+n) * 16`` bytes per
    engine call) and a ``(2^k, D, D)`` accumulation; the exact U needs one ``D x D``
    eigendecomposition. See the module docstring for what is exact and what is simulated.
    """
    if not isinstance(n_ancillas, int) or not 1 <= n_ancillas <= 12:
        raise CircuitError(f"n_ancillas must be an integer from 1 to 12, got {n_ancillas!r}")
    states = amplitude_states(X)
    rho, dim, size = density_matrix(states), states.shape[1], 2**n_ancillas
    t = default_time(n_ancillas) if t is None else float(t)
    n = int(math.log2(dim))
    circuit = Circuit(n_ancillas + n, inverse_qft(n_ancillas))
    unnormalised = torch.zeros((size, dim, dim), dtype=torch.complex128)
    for start in range(0, len(states), chunk):
        prepared = _powers(states[start : start + chunk], rho, n_ancillas, t)
        final = evolve(circuit, state=prepared, dtype=torch.complex128)
        v = final.reshape(len(prepared), size, dim).transpose(0, 1)  # (outcome, batch, data)
        unnormalised += v.transpose(1, 2) @ v.conj()
    unnormalised = unnormalised.numpy() / len(states)
    probabilities = np.einsum("mdd->m", unnormalised).real
    safe = np.where(probabilities > 0, probabilities, 1.0)
    conditional = unnormalised / safe[:, None, None]
    return QPCAResult(probabilities, eigenvalue_grid(n_ancillas, t), conditional, rho)


def lmr_copies(t: float, epsilon: float) -> int:
    """Copies of rho to apply ``e^{-i rho t}`` to error ``epsilon`` by density-matrix
    exponentiation (Lloyd, Mohseni, Rebentrost): ``ceil(t^2 / epsilon)``.

    Each step swaps in one fresh copy for a time ``t / m`` with error ``O((t/m)^2)``, so m
    steps err by ``O(t^2 / m)``; the constant is taken as 1 (an order of magnitude).
    """
    if not t > 0 or not epsilon > 0:
        raise CircuitError(f"t and epsilon must be positive, got t={t}, epsilon={epsilon}")
    return math.ceil(t * t / epsilon)


def qpe_copies(n_ancillas: int, t: float, epsilon: float) -> int:
    """Copies of rho one run of phase estimation consumes: every controlled ``U^(2^j)``
    (evolution time ``2^j t``) to error ``epsilon / k``, so the total error is ``epsilon``.

    About ``k 4^k t^2 / (3 epsilon)``; the read-out then needs this many per shot.
    """
    return sum(lmr_copies(2**j * t, epsilon / n_ancillas) for j in range(n_ancillas))
