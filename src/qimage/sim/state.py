"""Batched statevectors: the one layout every part of the engine uses.

A state of ``n`` qubits for a batch of ``B`` samples is a complex tensor of shape
``(B, 2, ..., 2)`` with ``n`` axes of size 2. Qubit 0 is axis 1 and the **most significant
bit** of the basis index: amplitude ``state[b, i0, i1, ..., i_{n-1}]`` belongs to basis state
``|i0 i1 ... i_{n-1}>``, index ``i0 * 2^(n-1) + ... + i_{n-1}``. This is PennyLane's
convention; Qiskit's is the reverse (qubit 0 least significant), which export handles.

States are complex64 by default and complex128 on request; the device is an argument.

Example:
    >>> import torch
    >>> s = amplitude_state(torch.tensor([[3.0, 4.0]]), n_qubits=2)
    >>> as_vector(s)
    tensor([[0.6000+0.j, 0.8000+0.j, 0.0000+0.j, 0.0000+0.j]])
"""

from __future__ import annotations

import torch

from qimage.errors import CircuitError

__all__ = [
    "MAX_QUBITS",
    "amplitude_state",
    "as_tensor",
    "as_vector",
    "basis_state",
    "check_complex_dtype",
    "check_n_qubits",
    "n_qubits_of",
    "zero_state",
]

MAX_QUBITS = 30
"""The engine's hard limit: a 30-qubit complex64 state already needs 8 GiB."""


def check_n_qubits(n_qubits: int) -> int:
    """Validate a qubit count and return it as an ``int``."""
    if not isinstance(n_qubits, int) or isinstance(n_qubits, bool) or n_qubits < 1:
        raise CircuitError(f"n_qubits must be a positive integer, got {n_qubits!r}")
    if n_qubits > MAX_QUBITS:
        raise CircuitError(
            f"{n_qubits} qubits is too many for a statevector simulator "
            f"(the limit is {MAX_QUBITS}: 2^{n_qubits} amplitudes per sample)"
        )
    return n_qubits


def check_complex_dtype(dtype: torch.dtype) -> torch.dtype:
    """Accept complex64 or complex128 only."""
    if dtype not in (torch.complex64, torch.complex128):
        raise CircuitError(f"state dtype must be torch.complex64 or torch.complex128, got {dtype}")
    return dtype


def zero_state(batch: int, n_qubits: int, *, dtype=torch.complex64, device=None) -> torch.Tensor:
    """``|0...0>`` for each of ``batch`` samples: shape ``(batch, 2, ..., 2)``."""
    check_n_qubits(n_qubits)
    state = torch.zeros(batch, 2**n_qubits, dtype=check_complex_dtype(dtype), device=device)
    state[:, 0] = 1
    return as_tensor(state)


def basis_state(indices, n_qubits: int, *, dtype=torch.complex64, device=None) -> torch.Tensor:
    """Computational basis states ``|indices[b]>``: shape ``(B, 2, ..., 2)``.

    Args:
        indices: integers of shape ``(B,)`` in ``[0, 2^n)``, qubit 0 most significant.
    """
    check_n_qubits(n_qubits)
    idx = torch.as_tensor(indices, dtype=torch.long, device=device).reshape(-1)
    if idx.numel() and (idx.min() < 0 or idx.max() >= 2**n_qubits):
        raise CircuitError(f"basis indices must lie in [0, {2**n_qubits}) for {n_qubits} qubits")
    state = torch.zeros(idx.shape[0], 2**n_qubits, dtype=check_complex_dtype(dtype), device=device)
    state[torch.arange(idx.shape[0], device=device), idx] = 1
    return as_tensor(state)


def amplitude_state(x: torch.Tensor, n_qubits: int, *, dtype=torch.complex64) -> torch.Tensor:
    """Amplitude encoding: each row of ``x``, zero-padded to ``2^n`` and L2-normalised.

    Differentiable with respect to ``x``.

    Args:
        x: real or complex features of shape ``(B, L)`` with ``L <= 2^n_qubits``.

    Returns:
        State of shape ``(B, 2, ..., 2)`` and the given complex dtype.

    Raises:
        CircuitError: if ``L > 2^n``, or a row is all zeros (it has no direction to encode).
    """
    check_n_qubits(n_qubits)
    if x.dim() != 2:
        raise CircuitError(
            f"amplitude features must have shape (batch, length), got {tuple(x.shape)}"
        )
    size = 2**n_qubits
    if x.shape[1] > size:
        raise CircuitError(
            f"{x.shape[1]} features do not fit in the {size} amplitudes of {n_qubits} qubits"
        )
    x = x.to(check_complex_dtype(dtype)) if x.is_complex() else x.to(dtype.to_real())
    norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    if (norm == 0).any():
        rows = torch.nonzero(norm[:, 0] == 0)[:, 0].tolist()[:5]
        raise CircuitError(f"cannot amplitude-encode an all-zero feature vector (rows {rows})")
    padded = torch.nn.functional.pad(x / norm, (0, size - x.shape[1]))
    return as_tensor(padded.to(dtype))


def as_vector(state: torch.Tensor) -> torch.Tensor:
    """``(B, 2, ..., 2)`` -> ``(B, 2^n)``."""
    return state.reshape(state.shape[0], -1)


def as_tensor(vector: torch.Tensor) -> torch.Tensor:
    """``(B, 2^n)`` -> ``(B, 2, ..., 2)``; the length must be a power of two."""
    size = vector.shape[-1]
    n = size.bit_length() - 1
    if vector.dim() != 2 or size != 2**n or n < 1:
        raise CircuitError(
            f"a state vector must have shape (batch, 2^n), got {tuple(vector.shape)}"
        )
    return vector.reshape(vector.shape[0], *([2] * n))


def n_qubits_of(state: torch.Tensor) -> int:
    """Number of qubits of a ``(B, 2, ..., 2)`` state."""
    return state.dim() - 1
