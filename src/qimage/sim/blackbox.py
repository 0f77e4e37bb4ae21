"""Gradients of a circuit seen as a black box ``f(angles) -> measured outputs``.

What hardware offers: run the circuit at chosen angles and measure. Two estimators:

* **parameter shift** — exact: ``df/dt = sum_t c_t f(t + s_t)`` per angle, with the gate's
  rule, every shifted circuit evaluated as one batch by :func:`qimage.sim.shift.shift_batches`
  (the one implementation of the rule; the noiseless engine calls it block by block to
  reuse prefixes). Used for noisy circuits: the rule holds as long as the noise does not
  depend on the angles.
* **SPSA** (Spall 1992) — stochastic: two evaluations per step whatever the number of
  angles, ``g_s ~ (f(t + c D) - f(t - c D)) / (2c) * D_s`` with random signs ``D_s``. An
  unbiased estimate of a smoothed gradient, cheap under shots.

Both return the gradient to the ``(B|1, P)`` angle tensor; autograd carries it to inputs
and weights.
"""

from __future__ import annotations

import torch

from qimage.sim.shift import shift_batches

__all__ = ["SPSA_EPSILON", "BlackBoxGradient"]

SPSA_EPSILON = 0.1
"""SPSA's perturbation size in radians: large enough to rise above shot noise."""


class BlackBoxGradient(torch.autograd.Function):
    """``evaluate(angles)`` forward; parameter shift or SPSA backward.

    ``forward(ctx, evaluate, method, rules, needs, generator, angles)``: ``evaluate`` maps
    ``(R, P)`` angles to ``(R, K)`` outputs; in the backward pass ``R = B * G`` rows come
    sample-major (the ``G`` variants of sample ``b`` are rows ``b*G .. b*G+G-1``), so
    ``evaluate`` pairs row ``r`` with sample ``r // G``. ``rules[s]`` is the shift rule of
    slot ``s`` and ``needs[s]`` whether it needs a gradient.
    """

    @staticmethod
    def forward(ctx, evaluate, method, rules, needs, generator, angles):
        ctx.evaluate, ctx.method, ctx.rules, ctx.needs = evaluate, method, rules, needs
        ctx.generator = generator
        ctx.save_for_backward(angles)
        return evaluate(angles)

    @staticmethod
    def backward(ctx, grad):
        (angles,) = ctx.saved_tensors
        rows = angles.expand(grad.shape[0], -1) if angles.shape[0] == 1 else angles
        if ctx.method == "spsa":
            out = _spsa(ctx.evaluate, ctx.needs, ctx.generator, rows, grad)
        else:
            slots = [s for s, need in enumerate(ctx.needs) if need]
            out = shift_batches(ctx.evaluate, ctx.rules, slots, rows, grad, torch.zeros_like(rows))
        if angles.shape[0] == 1:
            out = out.sum(0, keepdim=True)
        return None, None, None, None, None, out


def _spsa(evaluate, needs, generator, rows: torch.Tensor, grad: torch.Tensor) -> torch.Tensor:
    """SPSA estimate ``(B, P)`` from two evaluations with random +-1 perturbations."""
    mask = torch.tensor(needs, dtype=rows.dtype, device=rows.device)
    signs = torch.randint(0, 2, rows.shape, generator=generator, device=rows.device)
    signs = signs.to(rows) * 2 - 1
    delta = signs * mask
    both = torch.stack([rows + SPSA_EPSILON * delta, rows - SPSA_EPSILON * delta], dim=1)
    values = evaluate(both.reshape(2 * rows.shape[0], -1)).reshape(rows.shape[0], 2, -1)
    plus, minus = values[:, 0], values[:, 1]
    slope = ((plus - minus) * grad.to(plus.dtype)).sum(-1) / (2 * SPSA_EPSILON)  # (B,)
    return slope[:, None].to(rows.dtype) * delta
