"""Running a circuit: angles, gate tensors, evolution, measurement and the three gradients.

:func:`run` is the engine's entry point. It

1. gathers every gate angle of the circuit into one ``(B|1, P)`` tensor (``P`` = number of
   parameter slots) from the inputs ``x`` and the weights ``w``, so that the chain rule to
   ``x`` and ``w`` is ordinary autograd;
2. builds each op's gate tensor from the gate table, shared (leading size 1) when the op's
   angles do not depend on the sample;
3. evolves the initial state through the kernels and measures it.

Gradients, chosen per call with ``diff_method``:

* ``"backprop"``: autograd through every step (memory grows with circuit depth);
* ``"adjoint"``: an :class:`torch.autograd.Function` that keeps only the final state and, in
  the backward pass, un-computes the circuit gate by gate while pulling the gradient back
  (Jones and Gacon 2020, arXiv:2009.02823). Memory O(B * 2^n). It yields gradients of every
  gate tensor, so the gradient to angles, inputs and weights follows by autograd;
* ``"parameter-shift"``: exact shift rules from the gate table (two terms for Pauli
  rotations, four for controlled rotations). All shifted circuits of a batch go through one
  batched evaluation (in memory-bounded chunks). This is what hardware can do, and it works
  with shots.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from qimage.errors import CircuitError
from qimage.sim.circuit import Circuit
from qimage.sim.gates import GATES, Gate
from qimage.sim.kernels import KERNELS
from qimage.sim.measure import ExpvalZ
from qimage.sim.memory import check_memory, memory_limit, state_bytes
from qimage.sim.state import check_complex_dtype, zero_state

__all__ = ["DIFF_METHODS", "evolve", "run"]

DIFF_METHODS = ("backprop", "adjoint", "parameter-shift")


@dataclass(frozen=True)
class Step:
    """One op, compiled: its gate row, kernel, wires and parameter slots."""

    gate: Gate
    kernel: type
    wires: tuple[int, ...]
    slots: tuple[int, ...]
    per_sample: bool  # do the angles depend on the sample (an input source)?


@dataclass(frozen=True)
class Plan:
    """A circuit compiled for execution: steps plus the gather indices of all angles."""

    n_qubits: int
    steps: tuple[Step, ...]
    x_index: torch.Tensor  # (P,) feature index per slot, n_inputs meaning "no input"
    w_index: torch.Tensor  # (P,) weight index per slot, n_weights meaning "no weight"
    scale: torch.Tensor  # (P,) float64 constant factor per slot
    slot_rule: tuple  # (P,) parameter-shift rule of the gate owning each slot


@functools.lru_cache(maxsize=128)
def compile_plan(circuit: Circuit) -> Plan:
    """Compile a circuit once; repeated runs of the same circuit reuse the plan."""
    steps, rules, slot = [], [], 0
    for op in circuit.ops:
        gate = GATES[op.gate]
        slots = tuple(range(slot, slot + len(op.params)))
        slot += len(op.params)
        per_sample = any(p.x is not None for p in op.params)
        steps.append(Step(gate, KERNELS[gate.kind], op.wires, slots, per_sample))
        rules += [gate.shift_rule] * len(op.params)
    params = circuit.params
    x_index = [circuit.n_inputs if p.x is None else p.x for p in params]
    w_index = [circuit.n_weights if p.w is None else p.w for p in params]
    return Plan(
        circuit.n_qubits,
        tuple(steps),
        torch.tensor(x_index, dtype=torch.long),
        torch.tensor(w_index, dtype=torch.long),
        torch.tensor([p.scale for p in params], dtype=torch.float64),
        tuple(rules),
    )


def _angles(plan: Plan, x: torch.Tensor | None, w: torch.Tensor, real) -> torch.Tensor:
    """All gate angles, ``scale * x[:, i] * w[j]``: shape ``(B, P)``, or ``(1, P)`` without x."""
    device = w.device
    ones = torch.ones(1, dtype=real, device=device)
    w_pad = torch.cat([w, ones])[plan.w_index.to(device)]  # (P,)
    angles = plan.scale.to(device=device, dtype=real) * w_pad
    if x is None:
        return angles[None]
    x_pad = torch.cat([x, ones.expand(x.shape[0], 1)], dim=1)[:, plan.x_index.to(device)]
    return angles * x_pad


@dataclass(frozen=True)
class Executor:
    """Everything needed to evaluate a plan, bundled for the autograd functions."""

    plan: Plan
    measurement: object
    dtype: torch.dtype
    shots: int | None = None
    generator: torch.Generator | None = None
    max_memory: int | None = None

    def tensors(self, angles: torch.Tensor, share: bool = True) -> list[torch.Tensor]:
        """Gate tensors; with ``share``, ops whose angles ignore the sample use row 0 only."""
        out = []
        for step in self.plan.steps:
            rows = angles if (step.per_sample or not share) and step.slots else angles[:1]
            out.append(step.gate.build(rows[:, list(step.slots)], len(step.wires), self.dtype))
        return out

    def evolve(self, state: torch.Tensor, tensors: list[torch.Tensor]) -> torch.Tensor:
        for step, tensor in zip(self.plan.steps, tensors, strict=True):
            state = step.kernel.apply(state, tensor, step.wires)
        return state

    def measure(self, state: torch.Tensor) -> torch.Tensor:
        if self.shots is None:
            return self.measurement.exact(state)
        return self.measurement.sample(state, self.shots, self.generator)

    def evaluate(self, angles: torch.Tensor, state: torch.Tensor, share=True) -> torch.Tensor:
        return self.measure(self.evolve(state, self.tensors(angles, share)))


class _Adjoint(torch.autograd.Function):
    """Evolution whose backward pass un-computes the circuit instead of storing it."""

    @staticmethod
    def forward(ctx, steps, state, *tensors):
        for step, tensor in zip(steps, tensors, strict=True):
            state = step.kernel.apply(state, tensor, step.wires)
        ctx.steps = steps
        state = state.clone() if not steps else state  # a Function must not return its input
        ctx.save_for_backward(state, *tensors)
        return state

    @staticmethod
    def backward(ctx, grad):
        state, *tensors = ctx.saved_tensors
        grads = [None] * len(tensors)
        for i in reversed(range(len(tensors))):
            step, tensor = ctx.steps[i], tensors[i]
            state = step.kernel.apply_adjoint(state, tensor, step.wires)  # input of gate i
            if ctx.needs_input_grad[2 + i]:
                grads[i] = step.kernel.cotangent(grad, state, tensor, step.wires)
            grad = step.kernel.apply_adjoint(grad, tensor, step.wires)
        if ctx.needs_input_grad[1] and state.shape[0] == 1:
            grad = grad.sum(0, keepdim=True)
        return None, grad if ctx.needs_input_grad[1] else None, *grads


class _ParameterShift(torch.autograd.Function):
    """Measured outputs whose backward pass evaluates shifted circuits, as hardware would."""

    @staticmethod
    def forward(ctx, executor: Executor, needs: tuple[bool, ...], angles, state):
        ctx.executor, ctx.needs = executor, needs
        ctx.save_for_backward(angles, state)
        return executor.evaluate(angles, state)

    @staticmethod
    def backward(ctx, grad):
        angles, state = ctx.saved_tensors
        out = torch.zeros(grad.shape[0], angles.shape[1], dtype=angles.dtype, device=angles.device)
        by_rule: dict[tuple, list[int]] = {}
        for slot, (rule, need) in enumerate(
            zip(ctx.executor.plan.slot_rule, ctx.needs, strict=True)
        ):
            if need:
                by_rule.setdefault(rule, []).append(slot)
        for rule, slots in by_rule.items():
            out[:, slots] = _shift_gradient(ctx.executor, angles, state, grad, slots, rule)
        if angles.shape[0] == 1:
            out = out.sum(0, keepdim=True)
        return None, None, out, None


def _shift_gradient(ex: Executor, angles, state, grad, slots: list[int], rule) -> torch.Tensor:
    """``sum_k grad[b, k] d out[b, k] / d angle[b, s]`` for each slot ``s``: ``(B, S)``."""
    batch, n_params = grad.shape[0], angles.shape[1]
    coeffs = torch.tensor([c for c, _ in rule], dtype=angles.dtype, device=angles.device)
    shifts = torch.tensor([s for _, s in rule], dtype=angles.dtype, device=angles.device)
    n_slots, n_terms = len(slots), len(rule)
    # (S, T, B, P): every sample's angles, once per (slot, term), with that slot shifted.
    big = angles.expand(batch, n_params).repeat(n_slots, n_terms, 1, 1)
    s_idx = torch.arange(n_slots, device=angles.device)[:, None]
    t_idx = torch.arange(n_terms, device=angles.device)[None, :]
    big[s_idx, t_idx, :, torch.tensor(slots, device=angles.device)[:, None]] += shifts[
        None, :, None
    ]
    values = _evaluate_chunked(ex, big.reshape(-1, n_params), state, batch)
    values = values.reshape(n_slots, n_terms, batch, -1)  # (S, T, B, K)
    derivative = torch.einsum("t,stbk->sbk", coeffs, values)
    return torch.einsum("bk,sbk->bs", grad.to(derivative.dtype), derivative)


def _evaluate_chunked(ex: Executor, angles: torch.Tensor, state: torch.Tensor, batch: int):
    """Evaluate rows of angles (row ``r`` uses sample ``r % batch``) within the memory limit."""
    n_rows = angles.shape[0]
    per_row = 4 * state_bytes(ex.plan.n_qubits, 1, ex.dtype)
    chunk = max(batch, int(memory_limit(ex.max_memory) // per_row) // batch * batch)
    outs = []
    for start in range(0, n_rows, chunk):
        rows = angles[start : start + chunk]
        chunk_state = (
            state
            if state.shape[0] == 1
            else state.repeat(rows.shape[0] // batch, *[1] * (state.dim() - 1))
        )
        outs.append(ex.evaluate(rows, chunk_state, share=False))
    return torch.cat(outs)


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


def _check_state(circuit: Circuit, state, dtype, device) -> torch.Tensor:
    n = circuit.n_qubits
    if state is None:
        return zero_state(1, n, dtype=dtype, device=device)
    state = torch.as_tensor(state, device=device)
    if state.dim() == 2 and state.shape[1] == 2**n:
        state = state.reshape(state.shape[0], *([2] * n))
    if state.shape[1:] != (2,) * n:
        raise CircuitError(
            f"state must have shape (batch, {2**n}) or (batch, {', '.join(['2'] * n)}) "
            f"for {n} qubits, got {tuple(state.shape)}"
        )
    return state.to(dtype)


def _batch_size(x, state) -> int:
    sizes = {t.shape[0] for t in (x, state) if t is not None and t.shape[0] != 1}
    if len(sizes) > 1:
        raise CircuitError(f"inputs and state disagree on the batch size: {sorted(sizes)}")
    return sizes.pop() if sizes else (x.shape[0] if x is not None else state.shape[0])


def _device(*values) -> torch.device:
    for value in values:
        if isinstance(value, torch.Tensor):
            return value.device
    return torch.device("cpu")


def _prepare(circuit, inputs, weights, state, dtype):
    if not isinstance(circuit, Circuit):
        raise CircuitError(f"expected a qimage.sim.Circuit, got {type(circuit).__name__}")
    dtype = check_complex_dtype(dtype)
    device = _device(weights, inputs, state)
    x = _check_inputs(circuit, inputs, dtype.to_real(), device)
    w = _check_weights(circuit, weights, dtype.to_real(), device)
    state = _check_state(circuit, state, dtype, device)
    return x, w, state, _batch_size(x, state)


def evolve(circuit: Circuit, inputs=None, weights=None, *, state=None, dtype=torch.complex64):
    """The final state of ``circuit``: ``(B, 2, ..., 2)``, differentiable by autograd.

    Arguments are those of :func:`run`.
    """
    x, w, state, batch = _prepare(circuit, inputs, weights, state, dtype)
    plan = compile_plan(circuit)
    ex = Executor(plan, None, dtype)
    final = ex.evolve(state, ex.tensors(_angles(plan, x, w, dtype.to_real())))
    return final.expand(batch, *final.shape[1:]) if final.shape[0] != batch else final


def _check_method(diff_method: str, shots) -> None:
    if diff_method not in DIFF_METHODS:
        raise CircuitError(f"unknown diff_method {diff_method!r}; choose one of {DIFF_METHODS}")
    if shots is not None and (not isinstance(shots, int) or isinstance(shots, bool) or shots < 1):
        raise CircuitError(f"shots must be a positive integer or None, got {shots!r}")


def _slot_needs(plan: Plan, x, w) -> tuple[bool, ...]:
    """Which angle slots need a gradient: those fed by an input or weight that requires one."""
    x_grad = x is not None and x.requires_grad
    has_x = (plan.x_index < (0 if x is None else x.shape[1])).tolist()
    has_w = (plan.w_index < w.shape[0]).tolist()
    pairs = zip(has_x, has_w, strict=True)
    return tuple((hx and x_grad) or (hw and w.requires_grad) for hx, hw in pairs)


def run(
    circuit: Circuit,
    inputs=None,
    weights=None,
    *,
    measurement=None,
    diff_method: str = "backprop",
    shots: int | None = None,
    generator: torch.Generator | None = None,
    state=None,
    dtype: torch.dtype = torch.complex64,
    max_memory: int | str | None = None,
) -> torch.Tensor:
    """Simulate ``circuit`` on a batch and measure it.

    Args:
        circuit: the op list.
        inputs: real features ``(B, circuit.n_inputs)``; per-sample angles read them.
        weights: real trainable weights ``(circuit.n_weights,)``, shared by the batch.
        measurement: :class:`ExpvalZ` (default: ``<Z>`` of every wire), :class:`Expval` or
            :class:`Probs`.
        diff_method: ``"backprop"``, ``"adjoint"`` or ``"parameter-shift"``.
        shots: ``None`` for exact values, or the number of samples per estimate. Gradients
            under shots need ``"parameter-shift"``; the others refuse rather than ignore shots.
        generator: ``torch.Generator`` that draws the shots (seed it for reproducibility).
        state: initial state ``(B|1, 2^n)`` or ``(B|1, 2, ..., 2)``; ``|0...0>`` by default
            (see :func:`qimage.sim.amplitude_state` for amplitude encoding).
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.
        max_memory: refuse runs estimated above this many bytes (see :mod:`qimage.sim.memory`).

    Returns:
        Real tensor ``(B, K)`` of the measurement's outputs, ``B`` being the batch of
        ``inputs`` or ``state`` (1 if neither is given).

    Example:
        >>> from qimage.sim import Circuit, Op, Param
        >>> c = Circuit(1, [Op("RX", 0, (Param.weight(0),))])
        >>> run(c, weights=torch.tensor([torch.pi]))
        tensor([[-1.]])
    """
    x, w, state, batch = _prepare(circuit, inputs, weights, state, dtype)
    _check_method(diff_method, shots)
    measurement = ExpvalZ() if measurement is None else measurement
    measurement.n_outputs(circuit.n_qubits)
    check_memory(circuit.n_qubits, batch, len(circuit.ops), diff_method, dtype, max_memory)
    plan = compile_plan(circuit)
    ex = Executor(plan, measurement, dtype, shots, generator, max_memory)
    angles = _angles(plan, x, w, dtype.to_real())
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, w, state)
    )
    if needs_grad and shots is not None and diff_method != "parameter-shift":
        raise CircuitError(
            f"diff_method={diff_method!r} cannot differentiate shot-based estimates; use "
            "diff_method='parameter-shift' with shots, or shots=None for exact values"
        )
    if needs_grad and diff_method == "parameter-shift":
        if state.requires_grad:
            raise CircuitError(
                "parameter-shift cannot differentiate a prepared input state (amplitude "
                "encoding): use diff_method='adjoint' or 'backprop', or detach the state"
            )
        out = _ParameterShift.apply(ex, _slot_needs(plan, x, w), angles, state)
    elif needs_grad and diff_method == "adjoint":
        out = ex.measure(_Adjoint.apply(plan.steps, state, *ex.tensors(angles)))
    else:
        out = ex.evaluate(angles, state)
    return out.expand(batch, -1) if out.shape[0] != batch else out
