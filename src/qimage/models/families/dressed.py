"""The dressed QNN family (Mari et al. 2020) and its classical part alone (the ablation)."""

from __future__ import annotations

from dataclasses import dataclass, field

from qimage.circuits import make_ansatz, make_encoder
from qimage.errors import CircuitError
from qimage.models.families.qnn import check_circuit
from qimage.models.family import Family
from qimage.models.qnn import DressedClassical, DressedQNN

__all__ = ["DressedClassicalConfig", "DressedClassicalFamily", "DressedConfig", "DressedFamily"]


@dataclass(frozen=True)
class DressedConfig:
    """Options of the dressed QNN: a classical in-layer picks one angle per qubit."""

    n_qubits: int = 6
    n_layers: int = 4
    encoder: str = "angle"  # how the in-layer's angles enter: angle (RY) or iqp
    ansatz: str = "strongly_entangling"
    hidden: int = 0  # width of the in-layer's hidden layer (0: linear)
    registers: int = 1  # copies of the circuit side by side: the hybrid is registers x n wide
    encoder_options: dict = field(default_factory=dict)
    ansatz_options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_circuit(self.n_qubits, self.n_layers, self.ansatz, self.encoder)
        if self.hidden < 0 or self.registers < 1:
            raise CircuitError(
                f"dressed needs hidden >= 0 and registers >= 1, got {self.hidden}, {self.registers}"
            )


class DressedFamily(Family):
    """Hybrid: ``Linear -> pi/2 tanh`` angles, the circuit, ``<Z>`` of each wire, ``Linear``."""

    name = "dressed"
    summary = "dressed QNN: classical in-layer, variational circuit, classical out-layer"
    Config = DressedConfig
    quantum = True

    def n_qubits(self, options: DressedConfig, n_features: int, n_classes: int) -> int:
        return options.n_qubits

    def build(self, options: DressedConfig, n_features: int, n_classes: int, generator):
        return DressedQNN(
            make_ansatz(options.ansatz, **options.ansatz_options),
            options.n_qubits,
            options.n_layers,
            n_features,
            n_classes,
            encoder=make_encoder(options.encoder, **options.encoder_options),
            generator=generator,
            hidden=options.hidden,
            registers=options.registers,
        )

    def describe(self, options: DressedConfig) -> str:
        return (
            f"dressed ({options.encoder} encoding, {options.ansatz} x{options.n_layers}, "
            f"{_register_text(options)}, in-layer hidden {options.hidden})"
        )


def _register_text(options) -> str:
    if options.registers == 1:
        return f"{options.n_qubits} qubits"
    return f"{options.registers} registers of {options.n_qubits} qubits"


@dataclass(frozen=True)
class DressedClassicalConfig:
    """The dressed QNN's in- and out-layers with nothing between them."""

    n_qubits: int = 6  # width of the tanh bottleneck, as the dressed QNN's register
    hidden: int = 0
    registers: int = 1  # the bottleneck is registers x n_qubits wide

    def __post_init__(self) -> None:
        if self.n_qubits < 1 or self.hidden < 0 or self.registers < 1:
            raise CircuitError(
                "dressed_classical needs n_qubits >= 1, hidden >= 0 and registers >= 1"
            )


class DressedClassicalFamily(Family):
    """The ablation "classical part only" of the dressed QNN."""

    name = "dressed_classical"
    summary = "the dressed QNN without its circuit (Linear -> tanh -> Linear)"
    Config = DressedClassicalConfig

    def build(self, options, n_features: int, n_classes: int, generator):
        return DressedClassical(
            options.n_qubits, n_features, n_classes, generator, options.hidden, options.registers
        )

    def describe(self, options) -> str:
        width = options.registers * options.n_qubits
        return f"dressed_classical ({width}-wide tanh bottleneck)"
