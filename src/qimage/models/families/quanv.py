"""The quanvolution family (Henderson et al. 2019) and its twin, the same head on pixels."""

from __future__ import annotations

from dataclasses import dataclass, field

from qimage.circuits import make_ansatz
from qimage.errors import CircuitError
from qimage.models.classical import make_head
from qimage.models.families.qnn import check_circuit
from qimage.models.family import Family
from qimage.models.quanv import QuanvNet

__all__ = ["PIXEL_ANGLES", "QuanvConfig", "QuanvFamily", "QuanvTwinConfig", "QuanvTwinFamily"]

PIXEL_ANGLES = {"scale": "angle"}
"""Image models keep the pixel grid, each pixel an angle in [0, pi] (RY for quanvolution);
their classical twins see exactly the same inputs."""


@dataclass(frozen=True)
class QuanvConfig:
    """Options of a quanvolution network: ``patch x patch`` windows, one qubit per pixel."""

    patch: int = 2
    stride: int = 2
    n_layers: int = 1
    ansatz: str = "strongly_entangling"
    trainable: bool = False  # train the circuit (default: frozen random circuit)
    hidden: int = 0  # head: 0 linear, else one hidden layer of this width
    image_size: int | None = None  # image side (default: sqrt of the feature count)
    ansatz_options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.patch < 1 or self.stride < 1:
            raise CircuitError(f"patch and stride must be >= 1, got {self.patch}, {self.stride}")
        check_circuit(self.patch**2, self.n_layers, self.ansatz)
        if self.hidden < 0:
            raise CircuitError(f"hidden must be >= 0, got {self.hidden}")


class QuanvFamily(Family):
    """A circuit slid over image patches, then a classical head."""

    name = "quanv"
    summary = "quanvolution: a circuit slid over image patches, then a classical head"
    Config = QuanvConfig
    quantum = True

    def preprocessing(self, options, n_classes: int) -> dict:
        return dict(PIXEL_ANGLES)

    def n_qubits(self, options: QuanvConfig, n_features: int, n_classes: int) -> int:
        return options.patch**2

    def build(self, options: QuanvConfig, n_features: int, n_classes: int, generator):
        return QuanvNet(
            n_features,
            n_classes,
            patch=options.patch,
            stride=options.stride,
            n_layers=options.n_layers,
            ansatz=make_ansatz(options.ansatz, **options.ansatz_options),
            trainable=options.trainable,
            hidden=options.hidden,
            image_size=options.image_size,
            generator=generator,
        )

    def describe(self, options: QuanvConfig) -> str:
        kind = "trainable" if options.trainable else "frozen"
        return (
            f"quanv ({options.patch}x{options.patch} windows, stride {options.stride}, "
            f"{kind} {options.ansatz} x{options.n_layers} on {options.patch**2} qubits)"
        )


@dataclass(frozen=True)
class QuanvTwinConfig:
    """The quanvolution head alone, on the raw pixel angles."""

    hidden: int = 0

    def __post_init__(self) -> None:
        if self.hidden < 0:
            raise CircuitError(f"hidden must be >= 0, got {self.hidden}")


class QuanvTwinFamily(Family):
    """QuanvNet's head on the raw features: linear, or one hidden layer."""

    name = "quanv_twin"
    summary = "the quanvolution network's head on raw pixels (its classical twin)"
    Config = QuanvTwinConfig

    def preprocessing(self, options, n_classes: int) -> dict:
        return dict(PIXEL_ANGLES)

    def build(self, options, n_features: int, n_classes: int, generator):
        return make_head(n_features, n_classes, options.hidden, generator)

    def describe(self, options) -> str:
        return f"quanv_twin (head with hidden {options.hidden} on pixels)"
