"""Batch-last block kernels: the state as ``(2^n, C)``, one column per sample.

When every block of a run is shared by the batch (a trainable circuit on prepared states, as
in amplitude encoding), the engine transposes the state once and keeps the batch as the
fastest axis. A block on wires ``[q, q + k)`` then sees a ``(2^q, 2^k, 2^(n-q-k) C)`` view,
and every kernel is a long, copy-free GEMM or row operation:

* a dense block on the first wires is one ``(2^k x 2^k) @ (2^k x N)`` GEMM, elsewhere a
  batched GEMM whose columns are at least the batch;
* its gradient (a shared block's cotangent) is one GEMM over all columns;
* a permutation moves whole contiguous rows (a memory copy, not a gather);
* a diagonal is a broadcast product.

In the batch-first layout (:mod:`qimage.sim.apply`) the same blocks need batched GEMMs with
short dimensions, element gathers, or transposing copies. Same three functions, same
conventions; block tensors have leading size 1 here.
"""

from __future__ import annotations

import torch

from qimage.sim.fusion import Block

__all__ = ["apply_block", "cotangent"]


def _view(x: torch.Tensor, block: Block, n: int) -> torch.Tensor:
    """``(2^q, 2^k, rest)`` view for a contiguous block."""
    q, k = block.wires[0], len(block.wires)
    return x.reshape(2**q, 2**k, -1)


def _front(x: torch.Tensor, block: Block, n: int) -> torch.Tensor:
    """Scattered wires moved to the front: ``(2^k, rest)`` (a copy)."""
    k = len(block.wires)
    t = x.reshape(*[2] * n, -1).movedim(list(block.wires), list(range(k)))
    return t.reshape(2**k, -1)


def _back(flat: torch.Tensor, like: torch.Tensor, block: Block, n: int) -> torch.Tensor:
    k = len(block.wires)
    rest = [2 for q in range(n) if q not in block.wires]
    t = flat.reshape(*[2] * k, *rest, like.shape[-1]).movedim(list(range(k)), list(block.wires))
    return t.reshape(like.shape)


def _dense(x: torch.Tensor, m: torch.Tensor, block: Block, n: int) -> torch.Tensor:
    if not block.contiguous:
        return _back(m @ _front(x, block, n), x, block, n)
    x3 = _view(x, block, n)
    if x3.shape[0] == 1:  # reshape, not x3[0]: a select's backward zero-fills a whole state
        return (m @ x.reshape(x3.shape[1], -1)).reshape(x.shape)
    return _Stacked.apply(m, x3).reshape(x.shape)


class _Stacked(torch.autograd.Function):
    """``m @ x3[p]`` for every ``p``: one batched GEMM. Its backward pass is two batched
    GEMMs; autograd's own (through ``expand``) also materialises ``x3``'s conjugate and
    costs twice as much."""

    @staticmethod
    def forward(ctx, m, x3):
        ctx.save_for_backward(m, x3)
        return torch.bmm(m.expand(x3.shape[0], -1, -1), x3)

    @staticmethod
    def backward(ctx, grad):
        m, x3 = ctx.saved_tensors
        grad_m = grad_x = None
        if ctx.needs_input_grad[0]:
            grad_m = torch.bmm(grad, x3.mH).sum(0)
        if ctx.needs_input_grad[1]:
            grad_x = torch.bmm(m.mH.contiguous().expand(x3.shape[0], -1, -1), grad)
        return grad_m, grad_x


def _diagonal(x: torch.Tensor, diag: torch.Tensor, block: Block, n: int) -> torch.Tensor:
    if block.contiguous:
        return (_view(x, block, n) * diag.reshape(1, -1, 1)).reshape(x.shape)
    shape = [2 if q in block.wires else 1 for q in range(n)]
    return (x.reshape(*[2] * n, -1) * diag.reshape(*shape, 1)).reshape(x.shape)


def _rows(x: torch.Tensor, block: Block, n: int, inverse: bool) -> torch.Tensor:
    """The block's row permutation (or its inverse) applied to ``x``."""
    index = block.gather(x.device, inverse)
    if block.contiguous:
        x3 = _view(x, block, n)
        rows = x.reshape(x3.shape[1], -1)
        out = rows.index_select(0, index) if x3.shape[0] == 1 else x3[:, index]
        return out.reshape(x.shape)
    return _back(_front(x, block, n).index_select(0, index), x, block, n)


class _Permute(torch.autograd.Function):
    """A constant row permutation whose backward pass is the inverse permutation."""

    @staticmethod
    def forward(ctx, x, block, n, inverse):
        ctx.block, ctx.n, ctx.inverse = block, n, inverse
        return _rows(x, block, n, inverse)

    @staticmethod
    def backward(ctx, grad):
        return _rows(grad, ctx.block, ctx.n, not ctx.inverse), None, None, None


def apply_block(x, tensor, block: Block, n: int, adjoint: bool = False) -> torch.Tensor:
    """The block (or its inverse) applied to a batch-last state ``(2^n, C)``."""
    if block.kind == "permutation":
        return _Permute.apply(x, block, n, adjoint)
    if block.kind == "diagonal":
        return _diagonal(x, tensor.conj() if adjoint else tensor, block, n)
    m = tensor.reshape(tensor.shape[-2:])  # (1, d, d) -> (d, d) without a select
    # resolve the conjugate on the small matrix: expanded for a batched GEMM, a lazy one
    # would be materialised once per batch entry
    return _dense(x, m.mH.contiguous() if adjoint else m, block, n)


def cotangent(grad, x, tensor, block: Block, n: int):
    """Gradient with respect to a shared block tensor: ``(1, 2^k, 2^k)`` or ``(1, 2^k)``."""
    if block.kind == "permutation":
        return None
    columns = max(grad.shape[-1], x.shape[-1])
    grad, x = grad.expand(-1, columns), x.expand(-1, columns)
    if block.kind == "diagonal":
        product = grad * x.conj()
        if block.contiguous:
            return _view(product, block, n).sum(dim=(0, 2))[None]
        others = [q for q in range(n) if q not in block.wires]
        return product.reshape(*[2] * n, -1).sum(dim=[*others, n]).reshape(1, -1)
    if not block.contiguous:
        return (_front(grad, block, n) @ _front(x, block, n).mH)[None]
    g3, x3 = _view(grad, block, n), _view(x, block, n)
    if g3.shape[0] == 1:
        d = g3.shape[1]
        return (grad.reshape(d, -1) @ x.reshape(d, -1).mH)[None]
    return torch.einsum("pir,pjr->ij", g3, x3.conj())[None]
