"""Quanvolution (Henderson et al. 2019, arXiv:1904.04767): a circuit slid over image patches.

Each ``k x k`` patch (stride ``s``) is angle-encoded, one pixel per qubit (``RY(pixel)``,
pixels already scaled to ``[0, pi]``), transformed by a variational ansatz (frozen random
weights, or trainable), and read out as ``<Z>`` of every qubit: ``k * k`` output channels.

Speed: the patches of every image in a batch are folded into **one** engine call, with no
Python loop over patches. The encoding needs no gates: ``RY`` rotations of ``|0>`` give the
real product state ``(cos(a/2), sin(a/2))`` per qubit, built directly as the initial state,
so the engine only simulates the ansatz (whose gates are shared by the whole batch).

* :class:`PatchCircuit`: the circuit as a :class:`QuantumLayer` on rows of pixel angles;
* :class:`Quanvolution`: images ``(B, H, W)`` -> channel maps ``(B, k*k, H', W')``;
* :class:`QuanvNet`: quanvolution + classical head, on flat features ``(B, S*S)``;
* :func:`quanv_features`: frozen quanvolution of a whole dataset, in chunks, cached on disk.

Example:
    >>> import torch
    >>> quanv = Quanvolution(patch=2, stride=2, generator=torch.Generator().manual_seed(0))
    >>> quanv(torch.rand(3, 28, 28) * torch.pi).shape
    torch.Size([3, 4, 14, 14])
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from qimage.circuits import AngleEncoder, StronglyEntangling
from qimage.errors import CircuitError
from qimage.models.classical import conv_out_side, image_side, make_head
from qimage.models.layer import QuantumLayer, device_of
from qimage.sim import Circuit, Execution

__all__ = ["PatchCircuit", "QuanvNet", "Quanvolution", "product_state", "quanv_features"]

_CACHE_FORMAT = "qimage-quanv-features/1"  # bump when the feature definition changes


def product_state(angles: torch.Tensor, dtype: torch.dtype = torch.complex64) -> torch.Tensor:
    """``RY(a_q)|0>`` on every qubit, as one state: ``(N, n)`` angles -> ``(N, 2, ..., 2)``.

    Qubit 0 is the most significant bit, as everywhere in :mod:`qimage.sim`. Differentiable.

    Example:
        >>> product_state(torch.tensor([[0.0, torch.pi]])).reshape(-1).real.round() + 0.0
        tensor([0., 1., 0., 0.])
    """
    half = angles.to(dtype.to_real()) / 2
    amps = torch.stack([torch.cos(half), torch.sin(half)], dim=-1)  # (N, n, 2)
    state = amps[:, 0]
    for q in range(1, angles.shape[1]):
        state = (state[:, :, None] * amps[:, q, None, :]).reshape(angles.shape[0], -1)
    return state.to(dtype).reshape(angles.shape[0], *([2] * angles.shape[1]))


class PatchCircuit(QuantumLayer):
    """The quanvolution circuit: pixel angles ``(N, n)`` -> ``<Z>`` of every qubit ``(N, n)``.

    The circuit is ``RY(pixel)`` on each qubit, then ``ansatz``: exactly a
    :class:`QuantumLayer` with an ``AngleEncoder("Y")``, which it is (drawing, export and the
    weights are the parent's). Only :meth:`forward` differs: it prepares the encoding as a
    product state and simulates the ansatz alone, with the same outputs and gradients.
    :meth:`gate_by_gate` runs the parent's forward (every gate simulated), as a reference.

    Example:
        >>> from qimage.circuits import StronglyEntangling
        >>> layer = PatchCircuit(StronglyEntangling(), n_qubits=4, n_layers=1)
        >>> layer(torch.rand(10, 4)).shape
        torch.Size([10, 4])
    """

    def __init__(self, ansatz, n_qubits: int, n_layers: int, **kwargs):
        super().__init__(AngleEncoder("Y"), ansatz, n_qubits, n_layers, n_qubits, **kwargs)
        # The circuit without its RY encoding; compose() puts the ansatz weights first.
        ops = ansatz.ops(n_layers, n_qubits)
        self.ansatz_circuit = Circuit(n_qubits, ops, n_weights=self.qc.n_weights)

    def forward(self, angles: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        if angles.dim() != 2 or angles.shape[1] != self.n_features:
            raise CircuitError(
                f"PatchCircuit expects pixel angles (N, {self.n_features}), "
                f"got {tuple(angles.shape)}"
            )
        dtype = (execution or Execution()).state_dtype(self.weights.dtype)
        state = product_state(angles.to(device_of(self, execution)), dtype)
        return self.simulate(self.ansatz_circuit, None, state, execution)

    def gate_by_gate(self, angles: torch.Tensor, execution: Execution | None = None):
        """The same outputs with the ``RY`` encoding simulated as gates (slower)."""
        return super().forward(angles, execution)


class Quanvolution(nn.Module):
    """A ``patch x patch`` circuit slid with ``stride`` over images: ``(B, H, W)`` ->
    ``(B, patch**2, H', W')``, ``H' = (H - patch) // stride + 1``.

    Args:
        patch, stride: window size (``patch**2`` qubits) and step.
        n_layers, ansatz: the variational part (default: one strongly entangling layer).
        trainable: train the circuit weights; otherwise they are frozen (``requires_grad``
            False, not counted as trainable) but still saved with the model.
        dtype: the state precision, as for :class:`qimage.models.QuantumLayer`.
        generator: seeds the (random) circuit weights.

    ``self.layer`` is the circuit as a :class:`PatchCircuit` (a :class:`QuantumLayer`): it
    holds the weights, draws the circuit, and receives every patch as one row.
    """

    def __init__(
        self,
        patch: int = 2,
        stride: int = 2,
        n_layers: int = 1,
        ansatz=None,
        *,
        trainable: bool = False,
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        if patch < 1 or stride < 1:
            raise CircuitError(f"patch and stride must be >= 1, got {patch} and {stride}")
        self.patch, self.stride, self.trainable = patch, stride, trainable
        self.layer = PatchCircuit(
            StronglyEntangling() if ansatz is None else ansatz,
            patch * patch,
            n_layers,
            dtype=dtype,
            generator=generator,
        )
        self.layer.weights.requires_grad_(trainable)

    @property
    def n_qubits(self) -> int:
        return self.patch * self.patch

    def out_side(self, side: int) -> int:
        """Output side for ``side x side`` images."""
        return conv_out_side(side, self.patch, self.stride)

    def patches(self, images: torch.Tensor) -> torch.Tensor:
        """All windows of all images: ``(B, H, W)`` -> ``(B * L, patch**2)``, row-major pixels."""
        cols = nn.functional.unfold(images[:, None], self.patch, stride=self.stride)  # (B, k*k, L)
        return cols.transpose(1, 2).reshape(-1, self.n_qubits)

    def forward(self, images: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        if images.dim() != 3:
            raise CircuitError(f"Quanvolution takes images (B, H, W), got {tuple(images.shape)}")
        batch, height, width = images.shape
        rows, cols = (conv_out_side(s, self.patch, self.stride) for s in (height, width))
        patches = self.patches(images.to(self.layer.weights.dtype))
        out = self.layer(patches, execution)  # one engine call
        return out.reshape(batch, rows * cols, -1).transpose(1, 2).reshape(batch, -1, rows, cols)

    def extra_repr(self) -> str:
        kind = "trainable" if self.trainable else "frozen"
        return f"patch={self.patch}, stride={self.stride}, {kind}"


class QuanvNet(nn.Module):
    """Quanvolution + classical head: flat images ``(B, S*S)`` -> logits ``(B, C)``.

    Features are pixel angles in ``[0, pi]`` (the ``"angle"`` preprocessing). The head is
    :func:`qimage.models.classical.make_head` (linear, or one hidden layer of ``hidden``);
    the same head on the raw features is this model's classical twin (``quanv_twin``).
    """

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        *,
        patch: int = 2,
        stride: int = 2,
        n_layers: int = 1,
        ansatz=None,
        trainable: bool = False,
        hidden: int = 0,
        image_size: int | None = None,
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        self.side = image_side(n_features, image_size)
        self.quanv = Quanvolution(
            patch,
            stride,
            n_layers,
            ansatz,
            trainable=trainable,
            dtype=dtype,
            generator=generator,
        )
        out = self.quanv.out_side(self.side)
        self.head = make_head(self.quanv.n_qubits * out * out, n_classes, hidden, generator)

    def features(self, x: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        """The flattened channel maps the head reads: ``(B, S*S)`` -> ``(B, k*k * S'*S')``."""
        return self.quanv(x.reshape(-1, self.side, self.side), execution).flatten(1)

    def forward(self, x: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        return self.head(self.features(x, execution).to(next(self.head.parameters()).dtype))


def _cache_key(images: torch.Tensor, quanv: Quanvolution) -> str:
    """sha256 of everything the features depend on: circuit, weights, windows and data."""
    digest = hashlib.sha256(_CACHE_FORMAT.encode())
    layer = quanv.layer
    circuit = f"{layer.qc.circuit!r}|{quanv.patch}|{quanv.stride}|{layer.weights.dtype}"
    digest.update(circuit.encode())
    digest.update(layer.weights.detach().cpu().double().numpy().tobytes())
    data = images.detach().cpu().contiguous()
    digest.update(f"{tuple(data.shape)}|{data.dtype}".encode())
    digest.update(data.numpy().tobytes())
    return digest.hexdigest()[:32]


def _save_atomic(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.save(handle, array, allow_pickle=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@torch.no_grad()
def quanv_features(
    images: torch.Tensor,
    quanv: Quanvolution,
    *,
    cache_dir: str | Path | None = None,
    chunk_size: int = 4096,
    execution: Execution | None = None,
) -> torch.Tensor:
    """The (frozen) quanvolution of a whole dataset: ``(N, H, W)`` -> ``(N, k*k, H', W')``.

    Images go through in chunks of ``chunk_size`` (all patches of a chunk in one engine
    call), which bounds memory. With ``cache_dir``, the result is stored as ``.npy`` under a
    key hashing the circuit, its weights, the windows and the images, and read back on the
    next call with the same inputs. ``execution`` runs the circuit (exact and ideal by
    default); features under shots or noise are random, so they are never cached.

    Example:
        >>> feats = quanv_features(angles, Quanvolution(), cache_dir="cache")  # doctest: +SKIP
    """
    if quanv.trainable:
        raise CircuitError("quanv_features caches a frozen quanvolution; this one is trainable")
    random = execution is not None and (execution.shots is not None or execution.is_noisy)
    if cache_dir is not None and random:
        raise CircuitError("shot or noise features are not cached; use cache_dir=None with them")
    path = None
    if cache_dir is not None:
        path = Path(cache_dir) / f"quanv-{_cache_key(images, quanv)}.npy"
        if path.is_file():
            return torch.from_numpy(np.load(path, allow_pickle=False))
    chunks = (images[i : i + chunk_size] for i in range(0, len(images), chunk_size))
    out = torch.cat([quanv(chunk, execution).cpu() for chunk in chunks])
    if path is not None:
        _save_atomic(path, out.numpy())
    return out
