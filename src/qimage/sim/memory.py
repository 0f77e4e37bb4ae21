"""The memory guard: estimate a simulation's bytes before allocating, refuse past a limit.

The limit is, in order: the ``max_memory`` argument of :func:`qimage.sim.run`, the
``QIMAGE_MAX_MEMORY`` environment variable (bytes, or a number with a unit such as ``8GiB``
or ``500MB``), or :data:`DEFAULT_LIMIT`.
"""

from __future__ import annotations

import os
import re

import torch

from qimage.errors import CircuitError, MemoryLimitError

__all__ = [
    "BACKPROP_SHARE",
    "DEFAULT_LIMIT",
    "check_memory",
    "choose_method",
    "estimate_bytes",
    "memory_limit",
    "parse_bytes",
]

DEFAULT_LIMIT = 8 * 2**30
"""8 GiB: enough for 20 qubits at batch 64 with the adjoint method."""

BACKPROP_SHARE = 0.5
"""The automatic diff method picks backprop while its estimate stays under this share of the
limit (the rest is left to the model, the optimiser and the data), adjoint beyond."""

_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
}


def parse_bytes(text: str | int) -> int:
    """``"8GiB"`` -> 8589934592; plain integers are bytes."""
    if isinstance(text, int):
        return text
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", str(text))
    if not match or match.group(2).upper() not in _UNITS:
        raise CircuitError(f"cannot read a memory size from {text!r} (try 8GiB or 500MB)")
    return int(float(match.group(1)) * _UNITS[match.group(2).upper()])


def memory_limit(max_memory: int | str | None = None) -> int:
    """The limit in bytes: the argument, else ``QIMAGE_MAX_MEMORY``, else the default."""
    if max_memory is not None:
        return parse_bytes(max_memory)
    env = os.environ.get("QIMAGE_MAX_MEMORY")
    return parse_bytes(env) if env else DEFAULT_LIMIT


def state_bytes(n_qubits: int, batch: int, dtype: torch.dtype) -> int:
    """Bytes of one ``(batch, 2, ..., 2)`` state."""
    return batch * 2**n_qubits * dtype.itemsize


def sample_bytes(n_qubits: int, batch: int, shots: int | None) -> int:
    """Bytes of drawing ``shots`` outcomes per row: a float64 draw and an int64 outcome per
    shot, and a few int64 copies of each wire's bit while they are averaged."""
    return 0 if shots is None else batch * shots * 8 * (2 + 3 * n_qubits)


def estimate_bytes(
    n_qubits: int, batch: int, n_ops: int, diff_method: str, dtype, shots: int | None = None
) -> int:
    """Rough peak bytes of one run: backprop keeps a state per step, the others a few states;
    with ``shots``, the samples drawn to measure it are added.

    :func:`qimage.sim.run` passes the number of fused blocks of the circuit's plan as
    ``n_ops`` (a block is one step, whatever its number of gates); parameter shift bounds
    its batches of shifted circuits by the limit itself.
    """
    copies = n_ops + 4 if diff_method == "backprop" else 6
    return copies * state_bytes(n_qubits, batch, dtype) + sample_bytes(n_qubits, batch, shots)


def check_memory(n_qubits, batch, n_ops, diff_method, dtype, max_memory=None, shots=None) -> None:
    """Raise :class:`MemoryLimitError` if the estimate exceeds the limit."""
    need, limit = (
        estimate_bytes(n_qubits, batch, n_ops, diff_method, dtype, shots),
        memory_limit(max_memory),
    )
    if need > limit:
        with_shots = "" if shots is None else f" and {shots} shots"
        raise MemoryLimitError(
            f"{n_qubits} qubits at batch size {batch}{with_shots} ({diff_method}) needs about "
            f"{need / 2**30:.3g} GiB, over the {limit / 2**30:.1f} GiB limit: lower the batch "
            "size, qubit count or shots, use diff_method='adjoint', or raise max_memory "
            "(or QIMAGE_MAX_MEMORY)"
        )


def choose_method(n_qubits, batch, n_ops, dtype, max_memory=None) -> str:
    """The automatic exact gradient: ``"backprop"`` where its stored states fit
    :data:`BACKPROP_SHARE` of the limit, else ``"adjoint"`` (a few states, whatever the depth).

    Backprop trains faster at every size measured (``docs/performance.md``: 1.4x at 6
    layers, 1.9x at 32 on 10 qubits); adjoint is the fallback where its memory would not fit.

    Example:
        >>> choose_method(10, 64, 100, torch.complex64)  # 100 states of 0.5 MiB
        'backprop'
        >>> choose_method(20, 64, 100, torch.complex64)  # 100 states of 512 MiB
        'adjoint'
    """
    need = estimate_bytes(n_qubits, batch, n_ops, "backprop", dtype)
    return "backprop" if need <= BACKPROP_SHARE * memory_limit(max_memory) else "adjoint"
