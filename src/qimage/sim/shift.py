"""Parameter-shift gradients, evaluated as hardware would: shifted circuits, measured.

``d f / d t = sum_t c_t f(t + s_t)`` with the rule of the gate owning the angle (two terms
for Pauli rotations, four for controlled rotations, from the gate table). Every shifted
circuit is really run and measured, with shots when asked.

:func:`shift_batches` is the one implementation of the rule: it builds the shifted angle
batches and recombines the measured outputs into the gradient, whatever evaluates them. Two
callers:

* the noiseless engine (:class:`ParameterShift`, :func:`shift_gradient`) avoids redundant
  work: the circuits shifted in block ``j`` share the state before block ``j``, so one
  forward walk keeps it and only block ``j`` and its suffix run again, all shifts of the
  block as one batch ``(B * G, 2^n)`` (shared suffix blocks stay one GEMM), in chunks that
  keep memory bounded; only block ``j``'s shifted tensors are rebuilt;
* black-box gradients (:mod:`qimage.sim.blackbox`, noisy circuits) evaluate the whole
  circuit at the shifted angles.
"""

from __future__ import annotations

import functools

import torch

from qimage.sim.apply import apply_block
from qimage.sim.memory import memory_limit, state_bytes

__all__ = ["ParameterShift", "shift_batches", "shift_gradient"]


def _terms(rules, slots: list[int], angles: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Every (slot, term) pair, slot by slot: its slot ``(G,)``, shift and coefficient."""
    pairs = [(s, shift, c) for s in slots for c, shift in rules[s]]
    kw = {"dtype": angles.dtype, "device": angles.device}
    target = torch.tensor([p[0] for p in pairs], device=angles.device)
    shifts = torch.tensor([p[1] for p in pairs], **kw)
    return target, shifts, torch.tensor([p[2] for p in pairs], **kw)


def shift_batches(evaluate, rules, slots, angles, grad, out, chunk=None) -> torch.Tensor:
    """Add the parameter-shift gradient of ``slots`` to ``out`` and return it.

    Args:
        evaluate: ``(R * G, P)`` shifted angles -> ``(B * G, K)`` measured outputs, the
            ``G`` shifted circuits of each sample next to each other (sample-major).
        rules: per angle slot, its gate's shift rule ``((c, s), ...)``.
        slots: the angle slots to differentiate.
        angles: ``(R, P)`` angles, ``R`` = 1 (shared) or ``B``.
        grad: ``(B, K)`` gradient of the loss with respect to the outputs.
        out: ``(B, P)``: receives ``sum_k grad[b, k] d f[b, k] / d angle[b, s]`` at slot ``s``.
        chunk: at most this many shifted circuits per sample in one call (all by default).
    """
    if not slots:
        return out
    target, shifts, coeffs = _terms(rules, slots, angles)
    size = chunk or len(target)
    for start in range(0, len(target), size):
        part = slice(start, start + size)
        g = len(target[part])
        shifted = angles[:, None].repeat(1, g, 1)  # (R, G, P), shift index fastest
        shifted[:, torch.arange(g, device=angles.device), target[part]] += shifts[part]
        values = evaluate(shifted.reshape(-1, angles.shape[1])).reshape(grad.shape[0], g, -1)
        weighted = torch.einsum("bk,bgk->bg", grad.to(values.dtype), values)
        out.index_add_(1, target[part], (weighted * coeffs[part].to(values.dtype)).to(out.dtype))
    return out


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
    """``sum_k grad[b, k] d out[b, k] / d angle[b, s]`` for every slot ``s``: ``(B, P)``,
    block by block from the states before each block."""
    plan, n, batch = ex.plan, ex.plan.n_qubits, grad.shape[0]
    tensors = ex.tensors(angles)
    x = ex.zero(angles.device) if state is None else state
    out = torch.zeros(batch, angles.shape[1], dtype=angles.dtype, device=angles.device)
    chunk = _chunk(ex, batch)
    for j, block in enumerate(plan.blocks):
        slots = [s for i in block.ops for s in plan.ops[i].slots if needs[s]]
        suffix = functools.partial(_suffix_values, ex, j, x, tensors, angles.shape[0], batch)
        shift_batches(suffix, plan.slot_rule, slots, angles, grad, out, chunk)
        x = apply_block(x, tensors[j], block, n)
    return out


def _chunk(ex, batch: int) -> int:
    """Shifted circuits per sample that fit the memory limit (a few states per row)."""
    per_row = 4 * state_bytes(ex.plan.n_qubits, batch, ex.dtype)
    return max(1, int(memory_limit(ex.max_memory) // per_row))


def _suffix_values(ex, j: int, x, tensors, rows: int, batch: int, shifted) -> torch.Tensor:
    """Outputs ``(B * G, K)`` of blocks ``j, j + 1, ...`` run from ``x``, the state before
    block ``j``, with block ``j`` built from each of the ``rows * G`` shifted angle rows."""
    plan, n = ex.plan, ex.plan.n_qubits
    n_shift = shifted.shape[0] // rows
    tensor = ex.tensors(shifted, share=False, blocks=[j])[j]
    if tensor is not None and rows == 1 and batch > 1:  # one row per (sample, shift)
        tensor = tensor.repeat(batch, *[1] * (tensor.dim() - 1))
    state = x.expand(batch, -1).repeat_interleave(n_shift, dim=0)  # (B * G, 2^n)
    state = apply_block(state, tensor, plan.blocks[j], n)
    for b in range(j + 1, len(plan.blocks)):
        state = apply_block(state, tensors[b], plan.blocks[b], n)
    return ex.measure(state)
