"""The QCNN family: a quantum convolutional network reading its input as the state itself.

The input row is the circuit's initial state (the amplitude "encoding", which has no gates:
for quantum data such as :mod:`qimage.data.cluster_ising` the ground state enters as it
is), the :class:`qimage.circuits.QCNN` ansatz convolves and pools down to one qubit (by
default), and the class logits are ``scale_c * log p_c + bias_c`` of that qubit's outcome
distribution (Cong, Choi and Lukin 2019 read ``<Z>`` of it: the same information). With
more than two classes it pools only down to the ``ceil(log2 C)`` qubits that name them.

Example:
    >>> from qimage.models import FAMILIES
    >>> qcnn = FAMILIES["qcnn"]
    >>> qcnn.resolve(qcnn.options(), n_features=256, n_classes=2)
    QCNNConfig(n_qubits=8, n_layers=3)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from qimage.circuits import QCNN, AmplitudeEncoder, fewest_qubits
from qimage.errors import CircuitError
from qimage.models.family import Family
from qimage.models.qnn import QNN
from qimage.sim import MAX_QUBITS

__all__ = ["QCNNConfig", "QCNNFamily", "pooling_levels"]


@dataclass(frozen=True)
class QCNNConfig:
    """Options of the QCNN (``None``: the fewest qubits that hold the input, at least twice
    the ``ceil(log2 C)`` that name the classes, and as many levels as pool them to those)."""

    n_qubits: int | None = None
    n_layers: int | None = None

    def __post_init__(self) -> None:
        if self.n_qubits is not None and not 2 <= self.n_qubits <= MAX_QUBITS:
            raise CircuitError(f"the qcnn needs 2..{MAX_QUBITS} qubits, got {self.n_qubits}")
        if self.n_layers is not None and self.n_layers < 1:
            raise CircuitError(f"n_layers (QCNN levels) must be >= 1, got {self.n_layers}")


def _class_qubits(n_classes: int) -> int:
    return max(1, math.ceil(math.log2(n_classes)))


def pooling_levels(n_qubits: int, n_classes: int) -> int:
    """Levels that halve ``n_qubits`` to the fewest qubits whose outcomes name every class."""
    need = _class_qubits(n_classes)
    kept, levels = n_qubits, 0
    while kept >= 2 and math.ceil(kept / 2) >= need:
        kept, levels = math.ceil(kept / 2), levels + 1
    if levels == 0:
        raise CircuitError(
            f"the qcnn names {n_classes} classes with {need} measured qubits, but pooling "
            f"{n_qubits} qubits once leaves {math.ceil(n_qubits / 2)}; use more qubits"
        )
    return levels


class QCNNFamily(Family):
    """Quantum only: the input state, convolution and pooling levels, one measured qubit."""

    name = "qcnn"
    summary = "quantum convolutional network on the input as a state, pooled to one qubit"
    Config = QCNNConfig
    quantum = True

    def n_qubits(self, options: QCNNConfig, n_features: int, n_classes: int) -> int:
        if options.n_qubits is not None:
            return options.n_qubits
        # at least one level must pool to the qubits that name the classes
        return max(fewest_qubits(AmplitudeEncoder(), n_features), 2 * _class_qubits(n_classes))

    def resolve(self, options: QCNNConfig, n_features: int, n_classes: int) -> QCNNConfig:
        n_qubits = self.n_qubits(options, n_features, n_classes)
        levels = options.n_layers or pooling_levels(n_qubits, n_classes)
        return replace(options, n_qubits=n_qubits, n_layers=levels)

    def preprocessing(self, options: QCNNConfig, n_classes: int) -> dict:
        return {"scale": "amplitude", "n_qubits": options.n_qubits}

    def build(self, options: QCNNConfig, n_features: int, n_classes: int, generator) -> QNN:
        resolved = self.resolve(options, n_features, n_classes)
        return QNN(
            AmplitudeEncoder(),
            QCNN(),
            resolved.n_qubits,
            resolved.n_layers,
            n_features,
            n_classes,
            readout="probs",
            generator=generator,
        )

    def describe(self, options: QCNNConfig) -> str:
        qubits = "auto" if options.n_qubits is None else options.n_qubits
        levels = "to one qubit" if options.n_layers is None else f"x{options.n_layers} levels"
        return f"qcnn (input as the state, {qubits} qubits, pooled {levels}, probs readout)"
