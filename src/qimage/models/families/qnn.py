"""The quantum-only QNN family: encoder -> ansatz -> readout with one scale and bias a class."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from qimage.circuits import ANSATZE, ENCODERS, fewest_qubits, make_ansatz, make_encoder
from qimage.errors import CircuitError
from qimage.models.family import Family
from qimage.models.qnn import QNN
from qimage.models.readout import READOUTS
from qimage.sim import MAX_QUBITS

__all__ = ["QNNConfig", "QNNFamily", "check_circuit"]


def check_circuit(n_qubits: int | None, n_layers: int, ansatz: str, encoder: str = "angle"):
    """One-line errors for circuit sizes and names shared by the quantum families."""
    if encoder not in ENCODERS:
        raise CircuitError(f"unknown encoder {encoder!r}; choose one of {list(ENCODERS)}")
    if n_qubits is not None and not 1 <= n_qubits <= MAX_QUBITS:
        raise CircuitError(f"n_qubits must be 1..{MAX_QUBITS}, got {n_qubits}")
    if n_layers < 1:
        raise CircuitError(f"n_layers must be >= 1, got {n_layers}")
    if ansatz not in ANSATZE:
        raise CircuitError(f"unknown ansatz {ansatz!r}; choose one of {list(ANSATZE)}")


@dataclass(frozen=True)
class QNNConfig:
    """Options of the quantum-only QNN (``n_qubits=None``: the fewest that hold the data)."""

    n_qubits: int | None = None
    n_layers: int = 4
    encoder: str = "amplitude"  # qimage.circuits.ENCODERS
    ansatz: str = "strongly_entangling"  # qimage.circuits.ANSATZE
    readout: str = "probs"  # "probs" or "expval"
    readout_wires: int | None = None  # qubits the probs readout measures (default: all)
    encoder_options: dict = field(default_factory=dict)
    ansatz_options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_circuit(self.n_qubits, self.n_layers, self.ansatz, self.encoder)
        if self.readout not in READOUTS:
            raise CircuitError(f"unknown readout {self.readout!r}; choose one of {list(READOUTS)}")


class QNNFamily(Family):
    """Quantum only: the circuit computes everything; the readout only scales and shifts."""

    name = "qnn"
    summary = "quantum-only QNN: encoder, variational layers, scale-and-bias readout"
    Config = QNNConfig
    quantum = True

    def _encoder(self, options: QNNConfig):
        return make_encoder(options.encoder, **options.encoder_options)

    def n_qubits(self, options: QNNConfig, n_features: int, n_classes: int) -> int:
        if options.n_qubits is not None:
            return options.n_qubits
        least = fewest_qubits(self._encoder(options), n_features)
        if options.readout == "expval":
            return max(least, n_classes)
        return max(least, math.ceil(math.log2(max(n_classes, 2))))

    def resolve(self, options: QNNConfig, n_features: int, n_classes: int) -> QNNConfig:
        from dataclasses import replace

        return replace(options, n_qubits=self.n_qubits(options, n_features, n_classes))

    def preprocessing(self, options: QNNConfig, n_classes: int) -> dict:
        encoder = self._encoder(options)
        if options.encoder == "amplitude":
            return {"scale": "amplitude", "n_qubits": options.n_qubits}
        if options.n_qubits is None:  # as many angles as the data has, up to the register
            return {"scale": "angle"}
        return {"scale": "angle", "max_features": encoder.n_features(options.n_qubits)}

    def build(self, options: QNNConfig, n_features: int, n_classes: int, generator) -> QNN:
        return QNN(
            self._encoder(options),
            make_ansatz(options.ansatz, **options.ansatz_options),
            self.n_qubits(options, n_features, n_classes),
            options.n_layers,
            n_features,
            n_classes,
            readout=options.readout,
            readout_wires=options.readout_wires,
            generator=generator,
        )

    def describe(self, options: QNNConfig) -> str:
        qubits = "auto" if options.n_qubits is None else options.n_qubits
        return (
            f"qnn ({options.encoder} encoding, {options.ansatz} x{options.n_layers}, "
            f"{qubits} qubits, {options.readout} readout)"
        )
