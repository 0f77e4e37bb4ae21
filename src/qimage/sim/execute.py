"""Running a circuit: angles, fused block tensors, evolution, measurement and the gradients.

:func:`run` is the engine's entry point. It

1. compiles the circuit once into a plan of fused blocks (:mod:`qimage.sim.fusion`);
2. gathers every gate angle into one ``(B|1, P)`` tensor (``P`` = number of parameter slots)
   from the inputs ``x`` and the weights ``w``, so that the chain rule to ``x`` and ``w`` is
   ordinary autograd;
3. builds every block's tensor (:mod:`qimage.sim.build`): shared (leading size 1) when none
   of its ops depends on the sample, so a trainable layer is built once per step;
4. evolves the initial state block by block (:mod:`qimage.sim.apply`) and measures it.
   From ``|0...0>`` the first block on each wire group is folded into a product state.

Gradients, chosen per call with ``diff_method``:

* ``"backprop"``: autograd through every block (memory grows with the number of blocks);
* ``"adjoint"``: an :class:`torch.autograd.Function` that keeps only the final state and, in
  the backward pass, un-computes the circuit block by block while pulling the gradient back
  (Jones and Gacon 2020, arXiv:2009.02823). Memory O(B * 2^n). It yields the gradient of
  every block tensor (for a shared block one GEMM over the batch), and autograd carries it
  through the fusion to angles, inputs and weights;
* ``"auto"``: backprop where its stored states fit the memory budget, else adjoint
  (:func:`qimage.sim.memory.choose_method`; :func:`gradient_method` says which);
* ``"parameter-shift"``: exact shift rules from the gate table (:mod:`qimage.sim.shift`),
  all shifted circuits evaluated as batches. This is what hardware can do; it works with
  shots.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from qimage.sim import apply, columns
from qimage.sim.blackbox import BlackBoxGradient
from qimage.sim.build import block_tensors, folded_state
from qimage.sim.circuit import Circuit
from qimage.sim.fusion import Plan, compile_plan
from qimage.sim.measure import ExpvalZ
from qimage.sim.memory import check_memory, choose_method, memory_limit, state_bytes
from qimage.sim.rng import check_generator
from qimage.sim.shift import ParameterShift
from qimage.sim.validate import (
    AUTO,
    DIFF_METHODS,
    GRADIENT_METHODS,
    check_gradient,
    check_method,
    prepare,
)

__all__ = [
    "DIFF_METHODS",
    "GRADIENT_METHODS",
    "Executor",
    "compile_plan",
    "evolve",
    "gradient_method",
    "run",
]


BATCH_LAST_MIN = 32
"""Smallest batch run in the batch-last layout: its GEMMs have the batch as columns."""


def _angles(plan: Plan, x: torch.Tensor | None, w: torch.Tensor, real) -> torch.Tensor:
    """All gate angles, ``scale * x[:, i] * w[j]``: shape ``(B, P)``, or ``(1, P)`` without x."""
    device = w.device
    x_index, w_index, scale = plan.slot_sources(device, real)
    ones = torch.ones(1, dtype=real, device=device)
    angles = scale * torch.cat([w, ones])[w_index]  # (P,)
    if x is None:
        return angles[None]
    return angles * torch.cat([x, ones.expand(x.shape[0], 1)], dim=1)[:, x_index]


@dataclass(frozen=True)
class Executor:
    """Everything needed to evaluate a plan, bundled for the autograd functions."""

    plan: Plan
    measurement: object
    dtype: torch.dtype
    shots: int | None = None
    generator: torch.Generator | None = None
    max_memory: int | None = None

    def tensors(self, angles: torch.Tensor, share=True, blocks=None, fold=False) -> list:
        """Block tensors (``None`` for permutations), see :func:`block_tensors`."""
        return block_tensors(self.plan, angles, self.dtype, share, blocks, fold)

    def zero(self, device) -> torch.Tensor:
        """``|0...0>`` as a flat shared state ``(1, 2^n)``."""
        state = torch.zeros(1, 2**self.plan.n_qubits, dtype=self.dtype, device=device)
        state[:, 0] = 1
        return state

    def start(self, state: torch.Tensor | None, tensors: list, device) -> tuple:
        """Initial flat state and the blocks still to apply (folding from ``|0...0>``)."""
        blocks = range(len(self.plan.blocks))
        if state is not None:
            return state, list(blocks)
        if not self.plan.folded:
            return self.zero(device), list(blocks)
        folded = set(self.plan.folded)
        initial = folded_state(self.plan, tensors, self.dtype, device)
        return initial, [b for b in blocks if b not in folded]

    def batch_last(self, order, rows: int) -> bool:
        """Whether to run ``order`` on ``rows`` samples in the batch-last layout
        (:mod:`qimage.sim.columns`): when no block in it depends on the sample, and the batch
        is long enough to make the GEMMs' columns (else batch-first is faster)."""
        return rows >= BATCH_LAST_MIN and not any(self.plan.blocks[b].per_sample for b in order)

    def evolve(self, state: torch.Tensor, tensors: list, order, last=False) -> torch.Tensor:
        n, kernels = self.plan.n_qubits, columns if last else apply
        for b in order:
            state = kernels.apply_block(state, tensors[b], self.plan.blocks[b], n)
        return state

    def final(self, angles: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        """The final flat state ``(B|1, 2^n)`` (possibly a transposed view)."""
        tensors = self.tensors(angles, fold=state is None)
        initial, order = self.start(state, tensors, angles.device)
        if self.batch_last(order, initial.shape[0]):
            return self.evolve(initial.T.contiguous(), tensors, order, last=True).T
        return self.evolve(initial, tensors, order)

    def measure(self, state: torch.Tensor) -> torch.Tensor:
        """Measure a flat state ``(B, 2^n)``."""
        # contiguous first: a batch-last result is a transposed view, and elementwise kernels
        # on a strided (B, 2, ..., 2) view are slow
        state = state.contiguous().reshape(state.shape[0], *[2] * self.plan.n_qubits)
        if self.shots is None:
            return self.measurement.exact(state)
        return self.measurement.sample(state, self.shots, self.generator)

    def evaluate(self, angles: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        return self.measure(self.final(angles, state))

    def evaluate_rows(self, angles: torch.Tensor, state: torch.Tensor | None) -> torch.Tensor:
        """Measured outputs of ``R`` circuits whose angles all differ (nothing shared);
        ``state`` has 1 or ``R`` rows."""
        state = self.zero(angles.device) if state is None else state
        tensors = self.tensors(angles, share=False)
        initial, order = self.start(state, tensors, angles.device)
        return self.measure(self.evolve(initial, tensors, order))


class _Adjoint(torch.autograd.Function):
    """Evolution whose backward pass un-computes the circuit instead of storing it."""

    @staticmethod
    def forward(ctx, ex: Executor, order: list[int], last: bool, state, *tensors):
        blocks, n = [ex.plan.blocks[b] for b in order], ex.plan.n_qubits
        kernels = columns if last else apply
        for block, tensor in zip(blocks, tensors, strict=True):
            state = kernels.apply_block(state, tensor, block, n)
        ctx.blocks, ctx.n, ctx.kernels, ctx.last = blocks, n, kernels, last
        state = state.clone() if not blocks else state  # a Function must not return its input
        ctx.save_for_backward(state, *tensors)
        return state

    @staticmethod
    def backward(ctx, grad):
        state, *tensors = ctx.saved_tensors
        grads = [None] * len(tensors)
        kernels, n = ctx.kernels, ctx.n
        for i in reversed(range(len(tensors))):
            block, tensor = ctx.blocks[i], tensors[i]
            state = kernels.apply_block(state, tensor, block, n, adjoint=True)  # block i's input
            if ctx.needs_input_grad[4 + i]:
                grads[i] = kernels.cotangent(grad, state, tensor, block, n)
            grad = kernels.apply_block(grad, tensor, block, n, adjoint=True)
        batch_axis = 1 if ctx.last else 0
        if ctx.needs_input_grad[3] and state.shape[batch_axis] == 1:
            grad = grad.sum(batch_axis, keepdim=True)
        return None, None, None, grad if ctx.needs_input_grad[3] else None, *grads


def evolve(circuit: Circuit, inputs=None, weights=None, *, state=None, dtype=torch.complex64):
    """The final state of ``circuit``: ``(B, 2, ..., 2)``, differentiable by autograd.

    Arguments are those of :func:`run`.
    """
    x, w, state, batch = prepare(circuit, inputs, weights, state, dtype)
    plan = compile_plan(circuit)
    ex = Executor(plan, None, dtype)
    final = ex.final(_angles(plan, x, w, dtype.to_real()), state)
    final = final.contiguous().reshape(final.shape[0], *[2] * circuit.n_qubits)
    return final.expand(batch, *final.shape[1:]) if final.shape[0] != batch else final


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
    noise=None,
) -> torch.Tensor:
    """Simulate ``circuit`` on a batch and measure it.

    Args:
        circuit: the op list.
        inputs: real features ``(B, circuit.n_inputs)``; per-sample angles read them.
        weights: real trainable weights ``(circuit.n_weights,)``, shared by the batch.
        measurement: :class:`ExpvalZ` (default: ``<Z>`` of every wire), :class:`Expval` or
            :class:`Probs`.
        diff_method: ``"backprop"``, ``"adjoint"``, ``"parameter-shift"``, ``"spsa"``
            (a stochastic two-evaluation estimate, see :mod:`qimage.sim.blackbox`) or
            ``"auto"`` (backprop or adjoint by memory, see :func:`gradient_method`).
        shots: ``None`` for exact values, or the number of samples per estimate. Gradients
            under shots need ``"parameter-shift"`` or ``"spsa"``; the others refuse rather
            than ignore shots.
        generator: ``torch.Generator`` on the inputs' device that draws every random number
            (shots, noise trajectories, SPSA); seed it for reproducibility
            (:func:`qimage.sim.rng.device_generator`). Without one, that device's default
            generator draws.
        state: initial state ``(B|1, 2^n)`` or ``(B|1, 2, ..., 2)``; ``|0...0>`` by default
            (see :func:`qimage.sim.amplitude_state` for amplitude encoding).
        dtype: ``torch.complex64`` (default) or ``torch.complex128``.
        max_memory: refuse runs estimated above this many bytes (see :mod:`qimage.sim.memory`).
        noise: a :class:`qimage.sim.noise.NoiseModel` (density matrices or trajectories);
            its gradients come from backprop, parameter shift or SPSA (adjoint refuses).

    Returns:
        Real tensor ``(B, K)`` of the measurement's outputs, ``B`` being the batch of
        ``inputs`` or ``state`` (1 if neither is given).

    Example:
        >>> from qimage.sim import Circuit, Op, Param
        >>> c = Circuit(1, [Op("RX", 0, (Param.weight(0),))])
        >>> run(c, weights=torch.tensor([torch.pi]))
        tensor([[-1.]])
    """
    x, w, state, batch = prepare(circuit, inputs, weights, state, dtype)
    check_method(diff_method, shots)
    check_generator(generator, w.device)
    measurement = ExpvalZ() if measurement is None else measurement
    measurement.n_outputs(circuit.n_qubits)
    noisy = noise is not None and not noise.is_ideal
    n_mem = (
        2 * circuit.n_qubits
        if noisy and noise.resolve_method(circuit.n_qubits) == "density"
        else circuit.n_qubits
    )
    # The state alone first: refuse an impossible run before spending time on its plan.
    check_memory(n_mem, batch, 0, diff_method, dtype, max_memory, shots)
    plan = compile_plan(circuit)
    steps = len(circuit.ops) if noisy else len(plan.blocks)
    if diff_method == AUTO:
        diff_method = choose_method(n_mem, batch, steps, dtype, max_memory)
    check_memory(n_mem, batch, steps, diff_method, dtype, max_memory, shots)
    ex = Executor(plan, measurement, dtype, shots, generator, max_memory)
    angles = _angles(plan, x, w, dtype.to_real())
    needs_grad = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in (x, w, state)
    )
    check_gradient(diff_method, shots, noisy, needs_grad, state)
    needs = _slot_needs(plan, x, w) if needs_grad else ()
    if noisy:
        evaluate = _noisy_rows(circuit, noise, ex, state, angles.device)
        out = _black_box(evaluate, diff_method, plan, needs, generator, angles, needs_grad)
    elif needs_grad and diff_method == "spsa":
        out = BlackBoxGradient.apply(
            lambda a: ex.evaluate_rows(*_aligned(a, state)),
            "spsa",
            plan.slot_rule,
            needs,
            generator,
            angles,
        )
    elif needs_grad and diff_method == "parameter-shift":
        out = ParameterShift.apply(ex, needs, angles, state)
    elif needs_grad and diff_method == "adjoint":
        tensors = ex.tensors(angles, fold=state is None)
        initial, order = ex.start(state, tensors, angles.device)
        last = ex.batch_last(order, initial.shape[0])
        initial = initial.T.contiguous() if last else initial
        final = _Adjoint.apply(ex, order, last, initial, *[tensors[b] for b in order])
        out = ex.measure(final.T if last else final)
    else:
        out = ex.evaluate(angles, state)
    return out.expand(batch, -1) if out.shape[0] != batch else out


def gradient_method(
    circuit: Circuit,
    batch: int,
    diff_method: str = AUTO,
    dtype: torch.dtype = torch.complex64,
    max_memory: int | str | None = None,
) -> str:
    """The diff method :func:`run` uses for ``circuit`` at ``batch`` (resolves ``"auto"``).

    Example:
        >>> from qimage.sim import Circuit, Op, Param
        >>> c = Circuit(2, [Op("RX", 0, (Param.weight(0),)), Op("CNOT", (0, 1))], n_weights=1)
        >>> gradient_method(c, batch=128)
        'backprop'
    """
    if diff_method != AUTO:
        return diff_method
    n_blocks = len(compile_plan(circuit).blocks)
    return choose_method(circuit.n_qubits, batch, n_blocks, dtype, max_memory)


def _aligned(angles: torch.Tensor, state: torch.Tensor | None) -> tuple:
    """Angle rows and the state for them: shared angles run once per prepared state."""
    if state is not None and angles.shape[0] == 1 < state.shape[0]:
        angles = angles.expand(state.shape[0], -1)
    return angles, _rows(state, angles.shape[0])


def _rows(state: torch.Tensor | None, rows: int) -> torch.Tensor | None:
    """The state for ``rows`` sample-major circuit rows (shared states stay shared)."""
    if state is None or state.shape[0] in (1, rows):
        return state
    return state.repeat_interleave(rows // state.shape[0], dim=0)


def _noisy_rows(circuit, noise, ex: Executor, state, device):
    """``angles (R, P) -> outputs (R, K)`` under noise, in memory-bounded chunks of rows."""
    from qimage.sim.noise import noisy_evaluate

    n = circuit.n_qubits
    flat = ex.zero(device) if state is None else state.reshape(state.shape[0], -1)
    per_row = 8 * state_bytes(2 * n if noise.resolve_method(n) == "density" else n, 1, ex.dtype)
    chunk = max(1, memory_limit(ex.max_memory) // per_row)

    def evaluate(angles: torch.Tensor) -> torch.Tensor:
        if angles.shape[0] == 1 < flat.shape[0]:  # shared angles, one state per sample
            angles = angles.expand(flat.shape[0], -1)
        rows = _rows(flat, angles.shape[0])
        outs = []
        for i in range(0, angles.shape[0], chunk):
            part = rows if rows.shape[0] == 1 else rows[i : i + chunk]
            outs.append(
                noisy_evaluate(
                    circuit,
                    angles[i : i + chunk],
                    noise,
                    ex.measurement,
                    part,
                    ex.dtype,
                    ex.generator,
                    ex.shots,
                )
            )
        return torch.cat(outs)

    return evaluate


def _black_box(evaluate, diff_method, plan, needs, generator, angles, needs_grad):
    if needs_grad and diff_method in ("parameter-shift", "spsa"):
        return BlackBoxGradient.apply(
            evaluate, diff_method, plan.slot_rule, needs, generator, angles
        )
    return evaluate(angles)  # backprop: autograd through the noisy simulation
