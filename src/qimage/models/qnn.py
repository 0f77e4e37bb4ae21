"""Quantum classifiers: the quantum-only ``QNN`` and the hybrid ``DressedQNN``.

Both take preprocessed features ``(B, F)`` (see :mod:`qimage.preprocess`) and return class
logits ``(B, C)`` for ``torch.nn.functional.cross_entropy``.

Example:
    >>> import torch
    >>> from qimage.circuits import AmplitudeEncoder, StronglyEntangling
    >>> model = QNN(AmplitudeEncoder(), StronglyEntangling(), n_qubits=6, n_layers=2,
    ...             n_features=64, n_classes=10, readout="probs")
    >>> model(torch.rand(8, 64)).shape
    torch.Size([8, 10])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from qimage.circuits import AngleEncoder
from qimage.errors import CircuitError
from qimage.models.layer import QuantumLayer
from qimage.models.readout import READOUTS
from qimage.sim import Execution

__all__ = ["QNN", "DressedClassical", "DressedQNN", "seeded_linear"]


def seeded_linear(n_in: int, n_out: int, generator: torch.Generator | None = None) -> nn.Linear:
    """``nn.Linear`` with PyTorch's default init, U(-1/sqrt(n_in), 1/sqrt(n_in)), drawn from
    ``generator`` rather than the global random state.
    """
    layer = nn.Linear(n_in, n_out)
    bound = 1 / math.sqrt(n_in)
    with torch.no_grad():
        for p in (layer.weight, layer.bias):
            p.uniform_(-bound, bound, generator=generator)
    return layer


def _readout(name: str, n_classes: int, output_wires, n_wires: int | None):
    if name == "probs":
        return READOUTS[name](n_classes, output_wires, n_wires)
    if name == "expval":
        return READOUTS[name](n_classes, output_wires)
    raise CircuitError(f"unknown readout {name!r}; choose one of {', '.join(READOUTS)}")


class QNN(nn.Module):
    """Quantum-only classifier: encoder -> ansatz -> measurement -> scale-and-bias readout.

    The only classical parameters are one scale and one bias per class.
    """

    def __init__(
        self,
        encoder,
        ansatz,
        n_qubits: int,
        n_layers: int,
        n_features: int,
        n_classes: int,
        *,
        readout: str = "expval",
        readout_wires: int | None = None,
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        wires = ansatz.output_wires(n_layers, n_qubits)
        self.readout = _readout(readout, n_classes, wires, readout_wires)
        self.quantum = QuantumLayer(
            encoder,
            ansatz,
            n_qubits,
            n_layers,
            n_features,
            measurement=self.readout.measurement,
            dtype=dtype,
            generator=generator,
        )

    def forward(self, x: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        return self.readout(self.quantum(x, execution))


def _in_layer(n_in: int, n_out: int, hidden: int, generator) -> nn.Module:
    if hidden <= 0:
        return seeded_linear(n_in, n_out, generator)
    return nn.Sequential(
        seeded_linear(n_in, hidden, generator), nn.ReLU(), seeded_linear(hidden, n_out, generator)
    )


class DressedQNN(nn.Module):
    """Hybrid "dressed" QNN (Mari et al. 2020): ``Linear(F, n) -> pi/2 tanh`` as angles of an
    angle encoding (``RY`` by default; any encoder taking one angle per qubit), the
    variational circuit, ``<Z>`` of every output wire, ``Linear(n', C)``.

    With ``hidden > 0`` the in-layer is a small network, ``Linear(F, h) -> ReLU -> Linear(h,
    n)`` (Mari et al. used a pretrained ResNet there): a stronger classical part, whose share
    of the accuracy the classical-part ablation measures.

    With ``registers = R > 1`` the in-layer picks ``R * n`` angles and the circuit (one set of
    weights, like a convolution's filter) runs on each of the ``R`` groups side by side,
    folded into the batch axis, so the hybrid is ``R * n`` wide without a ``2^(R n)`` state.

    Example:
        >>> import torch
        >>> from qimage.circuits import StronglyEntangling
        >>> model = DressedQNN(StronglyEntangling(), 3, 2, n_features=16, n_classes=4, registers=5)
        >>> model.quantum.n_outputs * model.registers, model(torch.rand(8, 16)).shape
        (15, torch.Size([8, 4]))
    """

    def __init__(
        self,
        ansatz,
        n_qubits: int,
        n_layers: int,
        n_features: int,
        n_classes: int,
        *,
        encoder=None,
        dtype: torch.dtype = torch.complex64,
        generator: torch.Generator | None = None,
        hidden: int = 0,
        registers: int = 1,
    ):
        super().__init__()
        if registers < 1:
            raise CircuitError(f"registers must be >= 1, got {registers}")
        self.registers = registers
        self.pre = _in_layer(n_features, registers * n_qubits, hidden, generator)
        encoder = AngleEncoder("Y") if encoder is None else encoder
        if encoder.n_features(n_qubits) < n_qubits or getattr(encoder, "reuploads", False):
            raise CircuitError(
                f"the dressed QNN feeds one angle per qubit; the {encoder.name} encoder cannot "
                "take them (use angle or iqp)"
            )
        self.quantum = QuantumLayer(
            encoder, ansatz, n_qubits, n_layers, n_qubits, dtype=dtype, generator=generator
        )
        self.post = seeded_linear(registers * self.quantum.n_outputs, n_classes, generator)

    def forward(self, x: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        angles = (math.pi / 2) * torch.tanh(self.pre(x))
        n_qubits = self.quantum.qc.n_qubits
        outputs = self.quantum(angles.reshape(-1, n_qubits), execution)
        return self.post(outputs.reshape(x.shape[0], -1))


class DressedClassical(nn.Module):
    """The classical part of :class:`DressedQNN` alone, the ablation without the circuit:
    ``Linear(F, n) -> pi/2 tanh -> Linear(n, C)``, with ``n = registers * n_qubits``.
    """

    def __init__(
        self,
        n_qubits: int,
        n_features: int,
        n_classes: int,
        generator=None,
        hidden: int = 0,
        registers: int = 1,
    ):
        super().__init__()
        width = registers * n_qubits
        self.pre = _in_layer(n_features, width, hidden, generator)
        self.post = seeded_linear(width, n_classes, generator)

    def forward(self, x: torch.Tensor, execution: Execution | None = None) -> torch.Tensor:
        return self.post((math.pi / 2) * torch.tanh(self.pre(x)))
