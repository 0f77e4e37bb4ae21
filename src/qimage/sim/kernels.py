"""Kernels: the three ways a gate tensor acts on a batched state.

A state is a complex tensor of shape ``(B, 2, ..., 2)``; wire ``w`` is axis ``w + 1``.
Every kernel is a pure function object with three methods, used by simulation, the adjoint
method and the noise engine alike:

* ``apply(state, tensor, wires)``: the gate applied to ``state``;
* ``apply_adjoint(state, tensor, wires)``: the inverse gate applied to ``state``;
* ``cotangent(grad_out, state_in, tensor, wires)``: the gradient with respect to ``tensor``
  of a real loss, given its gradient ``grad_out`` with respect to the gate's output and the
  gate's input ``state_in`` (PyTorch's convention for complex gradients).

Gate tensors carry a leading batch axis of size ``B`` (one gate per sample, as data encoding
produces) or ``1`` (one gate shared by the batch, as trainable layers are); cotangents come
back with the same leading size, summed over the batch for shared gates.
"""

from __future__ import annotations

import torch

__all__ = ["KERNELS", "Dense", "Diagonal", "Permutation"]


def _front(state: torch.Tensor, wires: tuple[int, ...]) -> torch.Tensor:
    """Move the axes of ``wires`` right after the batch axis: ``(B, 2^k, rest)``."""
    k = len(wires)
    moved = state.movedim([w + 1 for w in wires], list(range(1, k + 1)))
    return moved.reshape(state.shape[0], 2**k, -1)


def _back(flat: torch.Tensor, like: torch.Tensor, wires: tuple[int, ...]) -> torch.Tensor:
    """Inverse of :func:`_front`: restore the ``(B, 2, ..., 2)`` layout of ``like``."""
    k = len(wires)
    n = like.dim() - 1
    rest = [like.shape[1 + q] for q in range(n) if q not in wires]
    moved = flat.reshape(flat.shape[0], *([2] * k), *rest)
    return moved.movedim(list(range(1, k + 1)), [w + 1 for w in wires])


def _reduce_batch(grad: torch.Tensor, batch: int) -> torch.Tensor:
    """Sum a per-sample gradient over the batch when the tensor was shared (batch 1)."""
    return grad.sum(0, keepdim=True) if batch == 1 and grad.shape[0] != 1 else grad


class Dense:
    """A ``(B|1, 2^k, 2^k)`` unitary applied by batched matrix multiplication."""

    @staticmethod
    def apply(state: torch.Tensor, tensor: torch.Tensor, wires: tuple[int, ...]) -> torch.Tensor:
        return _back(tensor @ _front(state, wires), state, wires)

    @staticmethod
    def apply_adjoint(state: torch.Tensor, tensor: torch.Tensor, wires) -> torch.Tensor:
        return Dense.apply(state, tensor.mH, wires)

    @staticmethod
    def cotangent(grad_out, state_in, tensor, wires) -> torch.Tensor:
        # d(U psi): grad_U = grad_out psi^H, summed over the untouched amplitudes.
        grad = _front(grad_out, wires) @ _front(state_in, wires).mH  # (B, 2^k, 2^k)
        return _reduce_batch(grad, tensor.shape[0])


def _diag_view(diag: torch.Tensor, wires: tuple[int, ...], n: int) -> torch.Tensor:
    """Reshape ``(B|1, 2^k)`` so that it broadcasts against a ``(B, 2, ..., 2)`` state."""
    k = len(wires)
    order = sorted(range(k), key=lambda i: wires[i])
    d = diag.reshape(diag.shape[0], *([2] * k)).permute(0, *[i + 1 for i in order])
    return d.reshape(diag.shape[0], *[2 if q in wires else 1 for q in range(n)])


class Diagonal:
    """A diagonal ``(B|1, 2^k)`` unitary applied by elementwise multiplication."""

    @staticmethod
    def apply(state: torch.Tensor, tensor: torch.Tensor, wires: tuple[int, ...]) -> torch.Tensor:
        return state * _diag_view(tensor, wires, state.dim() - 1)

    @staticmethod
    def apply_adjoint(state: torch.Tensor, tensor: torch.Tensor, wires) -> torch.Tensor:
        return Diagonal.apply(state, tensor.conj(), wires)

    @staticmethod
    def cotangent(grad_out, state_in, tensor, wires) -> torch.Tensor:
        grad = (_front(grad_out, wires) * _front(state_in, wires).conj()).sum(-1)  # (B, 2^k)
        return _reduce_batch(grad, tensor.shape[0])


class Permutation:
    """A permutation of basis states, ``out[i] = in[perm[i]]``; it has no parameters."""

    @staticmethod
    def apply(state: torch.Tensor, tensor: torch.Tensor, wires: tuple[int, ...]) -> torch.Tensor:
        return _back(_front(state, wires)[:, tensor], state, wires)

    @staticmethod
    def apply_adjoint(state: torch.Tensor, tensor: torch.Tensor, wires) -> torch.Tensor:
        return Permutation.apply(state, torch.argsort(tensor), wires)

    @staticmethod
    def cotangent(grad_out, state_in, tensor, wires) -> None:
        return None


KERNELS = {"dense": Dense, "diagonal": Diagonal, "permutation": Permutation}
"""Kernel of each gate ``kind`` in :data:`qimage.sim.gates.GATES`."""
