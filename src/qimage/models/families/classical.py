"""The classical baselines: logistic regression, an MLP and a small CNN."""

from __future__ import annotations

from dataclasses import dataclass

from qimage.errors import CircuitError
from qimage.models.classical import (
    DEFAULT_HIDDEN,
    MLP,
    LogisticRegression,
    ProjectedLogisticRegression,
    SmallCNN,
)
from qimage.models.families.quanv import PIXEL_ANGLES
from qimage.models.family import Family

__all__ = [
    "CNNConfig",
    "CNNFamily",
    "LogRegFamily",
    "MLPConfig",
    "MLPFamily",
    "NoOptions",
    "ProjectedLogRegConfig",
    "ProjectedLogRegFamily",
]


@dataclass(frozen=True)
class NoOptions:
    """A family without options."""


class LogRegFamily(Family):
    name = "logreg"
    summary = "multinomial logistic regression on standardised features"
    Config = NoOptions

    def build(self, options, n_features: int, n_classes: int, generator):
        return LogisticRegression(n_features, n_classes, generator)


@dataclass(frozen=True)
class ProjectedLogRegConfig:
    k: int = 16  # features after the fixed random projection
    projection_seed: int = 0  # draws the projection; not the training seed

    def __post_init__(self) -> None:
        if self.k < 1:
            raise CircuitError(f"the projected logreg needs k >= 1, got {self.k}")


class ProjectedLogRegFamily(Family):
    """Logistic regression on a fixed, seeded random projection: a classical twin that can
    be as small as a quantum model on many features (``k * C + C`` parameters)."""

    name = "projected_logreg"
    summary = "logistic regression on a fixed random projection of the features to k"
    Config = ProjectedLogRegConfig
    size_option = "k"

    def build(self, options: ProjectedLogRegConfig, n_features: int, n_classes: int, generator):
        return ProjectedLogisticRegression(
            n_features, n_classes, options.k, options.projection_seed, generator
        )

    def describe(self, options: ProjectedLogRegConfig) -> str:
        k = options.k
        return (
            f"projected_logreg (fixed random projection to {k} features, seed "
            f"{options.projection_seed}; {k} x classes + classes trainable parameters)"
        )


@dataclass(frozen=True)
class MLPConfig:
    hidden: int = DEFAULT_HIDDEN  # width of the one hidden layer

    def __post_init__(self) -> None:
        if self.hidden < 1:
            raise CircuitError(f"the mlp needs hidden >= 1, got {self.hidden}")


class MLPFamily(Family):
    name = "mlp"
    summary = "multilayer perceptron with one hidden ReLU layer"
    Config = MLPConfig
    size_option = "hidden"

    def build(self, options: MLPConfig, n_features: int, n_classes: int, generator):
        return MLP(n_features, n_classes, options.hidden, generator)

    def describe(self, options: MLPConfig) -> str:
        return f"mlp (hidden {options.hidden})"


@dataclass(frozen=True)
class CNNConfig:
    """One convolution and a head: the classical counterpart of a quanvolution network."""

    patch: int = 2
    stride: int = 2
    channels: int = 0  # feature maps (0: patch**2, as many as quanvolution has qubits)
    hidden: int = 0
    image_size: int | None = None

    def __post_init__(self) -> None:
        if self.patch < 1 or self.stride < 1:
            raise CircuitError(f"patch and stride must be >= 1, got {self.patch}, {self.stride}")
        if self.channels < 0 or self.hidden < 0:
            raise CircuitError(
                f"channels and hidden must be >= 0, got {self.channels}, {self.hidden}"
            )


class CNNFamily(Family):
    name = "cnn"
    summary = "small CNN: one convolution (quanvolution's windows), ReLU, a head"
    Config = CNNConfig
    size_option = "channels"

    def preprocessing(self, options, n_classes: int) -> dict:
        return dict(PIXEL_ANGLES)

    def build(self, options: CNNConfig, n_features: int, n_classes: int, generator):
        return SmallCNN(
            n_features,
            n_classes,
            channels=options.channels or options.patch**2,
            patch=options.patch,
            stride=options.stride,
            hidden=options.hidden,
            image_size=options.image_size,
            generator=generator,
        )

    def describe(self, options: CNNConfig) -> str:
        channels = options.channels or options.patch**2
        return f"cnn ({channels} maps of {options.patch}x{options.patch}, stride {options.stride})"
