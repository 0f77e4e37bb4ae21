"""Amplitude-encoding state preparation as gates (Möttönen et al. 2004, quant-ph/0407010).

:func:`prepare_state` returns RY, RZ and CNOT gates that take ``|0...0>`` to a given
normalised vector, up to a global phase. Qubit 0 is the most significant bit, as everywhere
in qimage. Magnitudes come from a binary tree of uniformly controlled RY rotations (qubit
``k`` controlled by qubits ``0..k-1``); for real vectors the last level takes the signs as
well, so no RZ is needed; complex vectors get a tree of uniformly controlled RZ rotations.

A uniformly controlled rotation on ``k`` controls costs ``2^k`` rotations and ``2^k`` CNOTs
(Gray-code decomposition), so an ``n``-qubit state costs about ``2^n`` CNOTs.
"""

from __future__ import annotations

import numpy as np

from qimage.errors import CircuitError
from qimage.export.bound import BoundOp

__all__ = ["prepare_state", "uniformly_controlled"]

_TOL = 1e-12


def _gray(i: int) -> int:
    return i ^ (i >> 1)


def uniformly_controlled(gate: str, alphas, controls: tuple[int, ...], target: int):
    """Gates equal to ``R(alphas[j])`` on ``target`` when the controls read ``j``.

    ``controls[0]`` is the most significant bit of ``j``. ``gate`` is "RY" or "RZ".
    """
    alphas = np.asarray(alphas, dtype=float)
    if np.all(np.abs(alphas) <= _TOL):
        return []
    alphas, controls = _drop_idle_controls(alphas, tuple(controls))
    k = len(controls)
    if k == 0:
        return [BoundOp(gate, (target,), (float(alphas[0]),))]
    n = 2**k
    # theta = M^-1 alpha with M[i, j] = (-1)^(bits(j) . gray(i)) (Möttönen eq. 3).
    signs = np.array([[(-1) ** bin(j & _gray(i)).count("1") for j in range(n)] for i in range(n)])
    thetas = signs @ alphas / n
    ops = []
    for i in range(n):
        ops.append(BoundOp(gate, (target,), (float(thetas[i]),)))
        changed = _gray(i) ^ _gray((i + 1) % n)
        bit = changed.bit_length() - 1  # bit 0 of j is the last control
        ops.append(BoundOp("CNOT", (controls[k - 1 - bit], target)))
    return ops


def _drop_idle_controls(alphas: np.ndarray, controls: tuple[int, ...]):
    """Remove controls whose value never changes the angle (common for padded images)."""
    k = len(controls)
    for position in range(k):
        table = alphas.reshape([2] * k)
        low, high = np.take(table, 0, axis=position), np.take(table, 1, axis=position)
        if np.allclose(low, high, atol=_TOL, rtol=0):
            rest = controls[:position] + controls[position + 1 :]
            return _drop_idle_controls(low.reshape(-1), rest)
    return alphas, controls


def _magnitude_angles(vector: np.ndarray, level: int, real: bool) -> np.ndarray:
    """RY angles of qubit ``level``, one per value of the qubits before it."""
    blocks = vector.reshape(2**level, 2, -1)
    if real and blocks.shape[2] == 1:  # last qubit of a real vector: take signs too
        return 2 * np.arctan2(blocks[:, 1, 0], blocks[:, 0, 0])
    norms = np.linalg.norm(blocks, axis=2)
    return 2 * np.arctan2(norms[:, 1], norms[:, 0])


def prepare_state(vector, n_qubits: int) -> list[BoundOp]:
    """Gates preparing ``vector`` (length ``2^n``, unit norm) from ``|0...0>``."""
    vector = np.asarray(vector).reshape(-1)
    if vector.shape[0] != 2**n_qubits:
        raise CircuitError(f"a {n_qubits}-qubit state has {2**n_qubits} amplitudes")
    if abs(np.linalg.norm(vector) - 1) > 1e-6:
        raise CircuitError("the state to prepare must have unit norm")
    real = bool(np.all(np.abs(np.imag(vector)) < _TOL))
    values = np.real(vector) if real else np.abs(vector)
    ops = []
    for level in range(n_qubits):
        angles = _magnitude_angles(values, level, real)
        ops += uniformly_controlled("RY", angles, tuple(range(level)), level)
    if not real:
        ops += _phase_ops(np.angle(vector), n_qubits)
    return _drop_identities(ops)


def _phase_ops(phases: np.ndarray, n_qubits: int) -> list[BoundOp]:
    # Each level fixes the phase difference between the two halves of every block; the
    # remaining mean phase is global and unobservable.
    ops = []
    for level in range(n_qubits - 1, -1, -1):
        diffs = phases.reshape(2**level, 2, -1)
        angles = diffs[:, 1, 0] - diffs[:, 0, 0]
        ops += uniformly_controlled("RZ", angles, tuple(range(level)), level)
        phases = (diffs[:, 0, :] + diffs[:, 1, :]).reshape(-1) / 2
    return ops


def _drop_identities(ops: list[BoundOp]) -> list[BoundOp]:
    """Remove zero-angle rotations (common for padded images), then CNOT pairs they separated."""
    out: list[BoundOp] = []
    for op in ops:
        if op.gate != "CNOT" and abs(op.angles[0]) <= _TOL:
            continue
        if op.gate == "CNOT" and out and out[-1] == op:
            out.pop()  # CNOT . CNOT = I
            continue
        out.append(op)
    return out
