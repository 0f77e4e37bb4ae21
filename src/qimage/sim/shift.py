"""Parameter-shift gradients, evaluated as hardware would: shifted circuits, measured.

``d f / d t = sum_t c_t f(t + s_t)`` with the rule of the gate owning the angle (two terms
for Pauli rotations, four for controlled rotations). Every shifted circuit is really run and
measured, with shots when asked, but without redundant work:

* the circuits shifted in block ``j`` share the state before block ``j``: one forward walk
  keeps it, and only block ``j`` and its suffix are run again;
* all shifts of one block go through the suffix as one batch, ``(B * G, 2^n)`` with the
  ``G`` shifted circuits of a sample next to each other, so that shared suffix blocks stay
  one GEMM and per-sample blocks one grouped batched GEMM (chunks keep memory bounded);
* only block ``j``'s shifted tensors are rebuilt, ``G`` per sample row.
"""

from __future__ import annotations

import torch

from qimage.sim.apply import apply_block
from qimage.sim.memory import memory_limit, state_bytes

__all__ = ["ParameterShift", "shift_gradient"]


class ParameterShift(torch.autograd.Function):
    """Measured outputs whose backward pass evaluates shifted circuits."""

    @staticmethod
    def forward(ctx, executor, needs: tuple[bool, ...], angles, state):
        ctx.executor, ctx.needs = executor, needs
        ctx.save_for_backward(angles, state)
        return executor.evaluate(angles, state)

    @staticmethod
    def backward(ctx, grad):
        angles, state = ctx.saved_tensors
        out = shift_gradient(ctx.executor, ctx.needs, angles, state, grad)
        if angles.shape[0] == 1:
            out = out.sum(0, keepdim=True)
        return None, None, out, None


def shift_gradient(ex, needs, angles: torch.Tensor, state, grad: torch.Tensor) -> torch.Tensor:
    """``sum_k grad[b, k] d out[b, k] / d angle[b, s]`` for every slot ``s``: ``(B, P)``."""
    plan, n = ex.plan, ex.plan.n_qubits
    batch = grad.shape[0]
    tensors = ex.tensors(angles)
    x = ex.zero(angles.device) if state is None else state
    out = torch.zeros(batch, angles.shape[1], dtype=angles.dtype, device=angles.device)
    for j, block in enumerate(plan.blocks):
        slots = [s for i in block.ops for s in plan.ops[i].slots if needs[s]]
        if slots:
            out[:, slots] = _block_gradient(ex, j, slots, angles, x, tensors, grad)
        x = apply_block(x, tensors[j], block, n)
    return out


def _shift_table(ex, slots: list[int], angles: torch.Tensor):
    """Every (slot, term) pair: the slot's column in ``slots``, its shift and coefficient."""
    pairs = [(col, s, c, shift) for col, s in enumerate(slots) for c, shift in ex.plan.slot_rule[s]]
    kw = {"dtype": angles.dtype, "device": angles.device}
    columns = torch.tensor([p[0] for p in pairs], device=angles.device)
    target = torch.tensor([p[1] for p in pairs], device=angles.device)
    coeffs = torch.tensor([p[2] for p in pairs], **kw)
    shifts = torch.tensor([p[3] for p in pairs], **kw)
    return columns, target, coeffs, shifts


def _chunk(ex, batch: int, n_pairs: int) -> int:
    """Shifted circuits per sample that fit the memory limit (a few states per row)."""
    per_row = 4 * state_bytes(ex.plan.n_qubits, batch, ex.dtype)
    return max(1, min(n_pairs, int(memory_limit(ex.max_memory) // per_row)))


def _block_gradient(ex, j: int, slots, angles, x, tensors, grad) -> torch.Tensor:
    """Gradient columns of ``slots``, all in block ``j``, from shifted runs of ``j`` onwards."""
    batch = grad.shape[0]
    columns, target, coeffs, shifts = _shift_table(ex, slots, angles)
    derivative = torch.zeros(batch, len(slots), dtype=angles.dtype, device=angles.device)
    size = _chunk(ex, batch, len(columns))
    for start in range(0, len(columns), size):
        part = slice(start, start + size)
        values = _shifted_values(ex, j, angles, x, tensors, target[part], shifts[part], batch)
        weighted = torch.einsum("bk,bgk->bg", grad.to(values.dtype), values) * coeffs[part]
        derivative.index_add_(1, columns[part], weighted.to(derivative.dtype))
    return derivative


def _shifted_values(ex, j, angles, x, tensors, target, shifts, batch: int) -> torch.Tensor:
    """Measured outputs of the circuits shifted at ``(target[g], shifts[g])``: ``(B, G, K)``."""
    plan, n = ex.plan, ex.plan.n_qubits
    n_shift = len(target)
    rows = angles.shape[0]
    shifted = angles[:, None].repeat(1, n_shift, 1)  # (R, G, P), shift index fastest
    shifted[:, torch.arange(n_shift, device=angles.device), target] += shifts
    tensor = ex.tensors(shifted.reshape(rows * n_shift, -1), share=False, blocks=[j])[j]
    if tensor is not None and rows == 1 and batch > 1:  # one row per (sample, shift)
        tensor = tensor.repeat(batch, *[1] * (tensor.dim() - 1))
    state = x.expand(batch, -1).repeat_interleave(n_shift, dim=0)  # (B * G, 2^n)
    state = apply_block(state, tensor, plan.blocks[j], n)
    for b in range(j + 1, len(plan.blocks)):
        state = apply_block(state, tensors[b], plan.blocks[b], n)
    return ex.measure(state).reshape(batch, n_shift, -1)
