"""Checking :func:`qimage.sim.run`'s arguments, so that a user mistake is one clear error.

Inputs, weights and states are checked for shape and dtype; the diff method for what it can
honour (shots, noise, a prepared state), before anything is simulated.
"""

from __future__ import annotations

import torch

from qimage.errors import CircuitError
from qimage.sim.circuit import Circuit
from qimage.sim.state import check_complex_dtype

__all__ = ["AUTO", "check_gradient", "check_method", "prepare"]

DIFF_METHODS = ("backprop", "adjoint", "parameter-shift")
"""The exact gradient methods (they agree to numerical precision)."""
GRADIENT_METHODS = (*DIFF_METHODS, "spsa")
"""All gradient methods: the exact ones and SPSA, a stochastic estimate for shots."""
AUTO = "auto"
"""``run``'s automatic exact method: backprop or adjoint by memory (``memory.choose_method``)."""


def _as_real(value, name: str, real: torch.dtype, device) -> torch.Tensor:
    tensor = torch.as_tensor(value, device=device)
    if tensor.is_complex():
        raise CircuitError(f"{name} must be real, got dtype {tensor.dtype}")
    return tensor.to(real)


def _check_inputs(circuit: Circuit, inputs, real, device) -> torch.Tensor | None:
    if inputs is None:
        if circuit.n_inputs:
            raise CircuitError(f"the circuit takes {circuit.n_inputs} input features; got none")
        return None
    x = _as_real(inputs, "inputs", real, device)
    if x.dim() != 2 or x.shape[1] != circuit.n_inputs:
        raise CircuitError(
            f"inputs must have shape (batch, {circuit.n_inputs}) for this circuit, "
            f"got {tuple(x.shape)}"
        )
    return x


def _check_weights(circuit: Circuit, weights, real, device) -> torch.Tensor:
    if weights is None:
        if circuit.n_weights:
            raise CircuitError(f"the circuit takes {circuit.n_weights} weights; got none")
        return torch.zeros(0, dtype=real, device=device)
    w = _as_real(weights, "weights", real, device)
    if w.shape != (circuit.n_weights,):
        raise CircuitError(
            f"weights must have shape ({circuit.n_weights},) for this circuit, got {tuple(w.shape)}"
        )
    return w


def _check_state(circuit: Circuit, state, dtype, device) -> torch.Tensor | None:
    """The initial state, flat ``(B|1, 2^n)``; ``None`` for ``|0...0>`` (folded, see plan)."""
    n = circuit.n_qubits
    if state is None:
        return None
    state = torch.as_tensor(state, device=device)
    if state.dim() == 2 and state.shape[1] == 2**n:
        state = state.reshape(state.shape[0], *([2] * n))
    if state.shape[1:] != (2,) * n:
        raise CircuitError(
            f"state must have shape (batch, {2**n}) or (batch, {', '.join(['2'] * n)}) "
            f"for {n} qubits, got {tuple(state.shape)}"
        )
    return state.to(dtype).reshape(state.shape[0], -1)


def _batch_size(x, state) -> int:
    sizes = {t.shape[0] for t in (x, state) if t is not None and t.shape[0] != 1}
    if len(sizes) > 1:
        raise CircuitError(f"inputs and state disagree on the batch size: {sorted(sizes)}")
    if sizes:
        return sizes.pop()
    return x.shape[0] if x is not None else (state.shape[0] if state is not None else 1)


def _device(*values) -> torch.device:
    for value in values:
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")


def prepare(circuit, inputs, weights, state, dtype):
    if not isinstance(circuit, Circuit):
        raise CircuitError(f"expected a qimage.sim.Circuit, got {type(circuit).__name__}")
    dtype = check_complex_dtype(dtype)
    device = _device(weights, inputs, state)
    x = _check_inputs(circuit, inputs, dtype.to_real(), device)
    w = _check_weights(circuit, weights, dtype.to_real(), device)
    state = _check_state(circuit, state, dtype, device)
    return x, w, state, _batch_size(x, state)


def check_method(diff_method: str, shots) -> None:
    if diff_method not in (*GRADIENT_METHODS, AUTO):
        choices = (*GRADIENT_METHODS, AUTO)
        raise CircuitError(f"unknown diff_method {diff_method!r}; choose one of {choices}")
    if shots is not None and (not isinstance(shots, int) or isinstance(shots, bool) or shots < 1):
        raise CircuitError(f"shots must be a positive integer or None, got {shots!r}")


def check_gradient(diff_method, shots, noisy, needs_grad, state) -> None:
    """Refuse gradient requests a method cannot honour, rather than silently ignore them."""
    if not needs_grad:
        return
    if shots is not None and diff_method not in ("parameter-shift", "spsa"):
        raise CircuitError(
            f"diff_method={diff_method!r} cannot differentiate shot-based estimates; use "
            "diff_method='parameter-shift' or 'spsa' with shots, or shots=None for exact values"
        )
    if noisy and diff_method == "adjoint":
        raise CircuitError(
            "the adjoint method needs a unitary circuit; under noise use diff_method="
            "'backprop', 'parameter-shift' or 'spsa'"
        )
    if diff_method in ("parameter-shift", "spsa") and state is not None and state.requires_grad:
        raise CircuitError(
            f"{diff_method} cannot differentiate a prepared input state (amplitude "
            "encoding): use diff_method='adjoint' or 'backprop', or detach the state"
        )
