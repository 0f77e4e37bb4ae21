"""Block kernels: how a fused block acts on a flat batched state ``(Bx, 2^n)``.

The engine keeps states flat and contiguous, qubit 0 the most significant bit. A block on a
contiguous wire range ``[q, q + k)`` then sees the state as a ``(Bx * 2^q, 2^k, 2^(n-q-k))``
*view*: a dense block is a GEMM on that view (no transposing copy), a diagonal block a
broadcast product, a permutation a gather along its middle axis. Blocks on scattered wires
move their axes to the front first (two copies).

Batch sharing: a block tensor has leading size ``Bm`` and the state ``Bx``. Either they are
equal, or ``Bm == 1`` (a shared block), or ``Bx == 1`` (a shared state, broadcast), or
``Bx = Bm * c`` with consecutive groups of ``c`` rows sharing one tensor row (parameter shift
runs each sample's shifted circuits as such a group).

Three functions per block, as the adjoint method needs: :func:`apply_block` (optionally the
inverse), and :func:`cotangent`, the gradient of a real loss with respect to the block
tensor given the gradient at the block's output and the block's input (PyTorch's convention
for complex gradients: ``grad_U = grad_out psi^H``).
"""

from __future__ import annotations

import torch

from qimage.sim.fusion import Block
from qimage.sim.kernels import _back, _front

__all__ = ["apply_block", "cotangent"]


def _grouped(x: torch.Tensor, bm: int) -> tuple[torch.Tensor, int]:
    """Broadcast a shared state to ``bm`` rows if needed; return it and the group size ``c``."""
    if x.shape[0] == 1 and bm > 1:
        x = x.expand(bm, -1)
    if x.shape[0] % bm:
        raise ValueError(f"state batch {x.shape[0]} is not a multiple of block batch {bm}")
    return x, x.shape[0] // bm


def _geometry(block: Block, n: int) -> tuple[int, int, int]:
    """``(2^q, 2^k, 2^(n-q-k))`` for a contiguous block on ``[q, q + k)``."""
    q, k = block.wires[0], len(block.wires)
    return 2**q, 2**k, 2 ** (n - q - k)


def _matmul(m: torch.Tensor, x3: torch.Tensor) -> torch.Tensor:
    """``m[g] @ x3[g, p]`` for ``m`` ``(Bm, d, d)`` and ``x3`` ``(Bm, P, d, r)``.

    The fastest PyTorch call depends on the view's shape (measured on CPU): the block's wires
    last (``r == 1``) is one GEMM with a long M; first (``P == 1``) a batched GEMM; in the
    middle, a batched GEMM while ``r`` is long, else einsum's single transposed GEMM.
    ``torch.matmul`` of a matrix by a stack transposes the stack: avoided.
    """
    bm, p, d, r = x3.shape
    if r == 1:
        return torch.matmul(x3.reshape(bm, p, d), m.mT)
    if p == 1:
        return torch.bmm(m, x3[:, 0])
    if bm == 1 and r >= 32:
        return torch.bmm(m.expand(p, d, d), x3[0])
    return torch.einsum("bij,bpjr->bpir", m, x3)


def _dense(x: torch.Tensor, m: torch.Tensor, block: Block, n: int) -> torch.Tensor:
    x, c = _grouped(x, m.shape[0])
    rows = x.shape[0]
    if block.contiguous:
        lead, d, r = _geometry(block, n)
        return _matmul(m, x.reshape(m.shape[0], c * lead, d, r)).reshape(rows, -1)
    t = x.reshape(rows, *[2] * n)
    front = _front(t, block.wires)  # (rows, d, rest)
    out = _matmul(m, front.reshape(m.shape[0], c, *front.shape[1:]))
    return _back(out.reshape(front.shape), t, block.wires).reshape(rows, -1)


def _diagonal(x: torch.Tensor, diag: torch.Tensor, block: Block, n: int) -> torch.Tensor:
    bm = diag.shape[0]
    rows = max(x.shape[0], bm)
    c = 1 if x.shape[0] == 1 else _grouped(x, bm)[1]  # a shared state broadcasts by itself
    if block.contiguous:
        lead, d, r = _geometry(block, n)
        out = x.reshape(-1, c * lead, d, r) * diag.reshape(bm, 1, d, 1)
    else:
        shape = [2 if q in block.wires else 1 for q in range(n)]
        out = x.reshape(-1, c, *[2] * n) * diag.reshape(bm, 1, *shape)
    return out.reshape(rows, -1)


def _gather(x: torch.Tensor, block: Block, n: int, inverse: bool) -> torch.Tensor:
    """The block's gather (or its inverse) applied to ``x``."""
    rows, index = x.shape[0], block.gather(x.device, inverse)
    if block.contiguous:
        lead, d, r = _geometry(block, n)
        x3 = x.reshape(rows * lead, d, r)
        out = x3[:, index] if r > 1 else _take(x3[..., 0], index)
        return out.reshape(rows, -1)
    t = x.reshape(rows, *[2] * n)
    front = _front(t, block.wires)
    return _back(front[:, index], t, block.wires).reshape(rows, -1)


def _take(x2: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x2[:, index]`` for a 2-D complex tensor, as a gather of 8-byte reals (several times
    faster than complex indexing)."""
    rows = x2.shape[0]
    if x2.dtype == torch.complex64:  # one complex64 is one float64's worth of bytes
        real = x2.contiguous().view(torch.float64)
        return torch.gather(real, 1, index.expand(rows, -1)).view(torch.complex64)
    pairs = torch.stack([2 * index, 2 * index + 1], dim=1).reshape(-1)
    real = torch.view_as_real(x2.contiguous()).reshape(rows, -1)
    out = torch.gather(real, 1, pairs.expand(rows, -1))
    return torch.view_as_complex(out.reshape(rows, -1, 2))


class _Permute(torch.autograd.Function):
    """A constant basis permutation whose backward pass is the inverse gather (no scatter)."""

    @staticmethod
    def forward(ctx, x, block, n, inverse):
        ctx.block, ctx.n, ctx.inverse = block, n, inverse
        return _gather(x, block, n, inverse)

    @staticmethod
    def backward(ctx, grad):
        return _gather(grad, ctx.block, ctx.n, not ctx.inverse), None, None, None


def apply_block(
    x: torch.Tensor, tensor: torch.Tensor | None, block: Block, n: int, adjoint: bool = False
) -> torch.Tensor:
    """The block (or its inverse, with ``adjoint``) applied to a flat state ``(Bx, 2^n)``."""
    if block.kind == "permutation":
        return _Permute.apply(x, block, n, adjoint)
    if block.kind == "diagonal":
        return _diagonal(x, tensor.conj() if adjoint else tensor, block, n)
    return _dense(x, tensor.mH if adjoint else tensor, block, n)


def _pair(grad: torch.Tensor, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    rows = max(grad.shape[0], x.shape[0])
    return grad.expand(rows, -1), x.expand(rows, -1)


def cotangent(grad, x, tensor: torch.Tensor | None, block: Block, n: int):
    """Gradient with respect to the block tensor: ``(Bm, 2^k, 2^k)`` or ``(Bm, 2^k)``."""
    if block.kind == "permutation":
        return None
    grad, x = _pair(grad, x)
    bm = tensor.shape[0]
    c = grad.shape[0] // bm
    if block.kind == "diagonal":
        product = (grad * x.conj()).reshape(bm, c, *[2] * n)
        others = [q + 2 for q in range(n) if q not in block.wires]
        return product.sum(dim=[1, *others]).reshape(bm, -1)
    if block.contiguous:
        lead, d, r = _geometry(block, n)
        g3, x3 = (t.reshape(bm, c * lead, d, r) for t in (grad, x))
    else:
        fronts = [_front(t.reshape(t.shape[0], *[2] * n), block.wires) for t in (grad, x)]
        g3, x3 = (f.reshape(bm, c, *f.shape[1:]) for f in fronts)
    return torch.einsum("bpir,bpjr->bij", g3, x3.conj())
