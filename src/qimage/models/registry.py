"""One name registry for every model, and the config that rebuilds a model from a file.

``build_model(ModelConfig(...))`` is the only way the command line, the trainer, model files
and the benchmark create models, so a name means the same model everywhere.

Example:
    >>> cfg = ModelConfig(name="qnn", n_features=64, n_classes=10, n_qubits=6, n_layers=2)
    >>> type(build_model(cfg)).__name__
    'QNN'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from qimage.circuits import make_ansatz, make_encoder
from qimage.errors import CircuitError
from qimage.models.classical import DEFAULT_HIDDEN, MLP, LogisticRegression, SmallCNN, make_head
from qimage.models.qnn import QNN, DressedClassical, DressedQNN
from qimage.models.quanv import QuanvNet

__all__ = [
    "REGISTRY",
    "ModelConfig",
    "build_model",
    "count_parameters",
    "register",
    "set_noise",
]

_PRECISIONS = {"complex64": torch.complex64, "complex128": torch.complex128}


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model; saved as JSON inside model files."""

    name: str = "qnn"  # a key of REGISTRY
    n_features: int = 64  # features per sample after preprocessing
    n_classes: int = 10
    n_qubits: int = 6
    n_layers: int = 4
    encoder: str = "amplitude"  # qimage.circuits.ENCODERS (quantum models)
    ansatz: str = "strongly_entangling"  # qimage.circuits.ANSATZE
    readout: str = "probs"  # "probs" or "expval" (QNN)
    readout_wires: int | None = None  # qubits the probs readout measures (default: all)
    diff_method: str = "adjoint"
    shots: int | None = None
    precision: str = "complex64"
    encoder_options: dict = field(default_factory=dict)
    ansatz_options: dict = field(default_factory=dict)
    hidden: int = 0  # width of hidden layers (classical models and heads; 0: linear head)
    image_size: int | None = None  # image side of image models (default: sqrt(n_features))
    patch: int = 2  # quanv / cnn window side (quanv uses patch**2 qubits, not n_qubits)
    stride: int = 2  # quanv / cnn window step
    trainable: bool = False  # quanv: train the circuit (default: frozen random circuit)
    channels: int = 0  # cnn feature maps (0: patch**2, as many as quanv has qubits)
    noise: str | None = None  # a qimage.sim.NoiseModel in its text form, e.g. "depolarizing=0.01"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise CircuitError(f"unknown model config keys: {', '.join(unknown)}")
        return cls(**data)

    def validate(self) -> ModelConfig:
        """Check names and sizes before any data is loaded; raise :class:`CircuitError`."""
        from qimage.circuits import ANSATZE, ENCODERS
        from qimage.sim import GRADIENT_METHODS, MAX_QUBITS

        checks = [
            (self.name in REGISTRY, f"unknown model {self.name!r}; choose one of {list(REGISTRY)}"),
            (
                1 <= self.n_qubits <= MAX_QUBITS,
                f"n_qubits must be 1..{MAX_QUBITS}, got {self.n_qubits}",
            ),
            (self.n_layers >= 1, f"n_layers must be >= 1, got {self.n_layers}"),
            (
                self.encoder in ENCODERS,
                f"unknown encoder {self.encoder!r}; choose one of {list(ENCODERS)}",
            ),
            (
                self.ansatz in ANSATZE,
                f"unknown ansatz {self.ansatz!r}; choose one of {list(ANSATZE)}",
            ),
            (
                self.diff_method in GRADIENT_METHODS,
                f"diff_method must be one of {GRADIENT_METHODS}",
            ),
            (self.shots is None or self.shots >= 1, f"shots must be >= 1, got {self.shots}"),
            (self.precision in _PRECISIONS, f"precision must be one of {list(_PRECISIONS)}"),
            (self.hidden >= 0, f"hidden must be >= 0, got {self.hidden}"),
            (self.patch >= 1 and self.stride >= 1, "patch and stride must be >= 1"),
            (self.channels >= 0, f"channels must be >= 0, got {self.channels}"),
        ]
        for ok, message in checks:
            if not ok:
                raise CircuitError(message)
        if self.noise:
            from qimage.sim import NoiseModel

            NoiseModel.parse(self.noise)  # raises on a bad specification
        return self

    @property
    def dtype(self) -> torch.dtype:
        if self.precision not in _PRECISIONS:
            raise CircuitError(f"precision must be one of {', '.join(_PRECISIONS)}")
        return _PRECISIONS[self.precision]


Builder = Callable[[ModelConfig, torch.Generator | None], nn.Module]
REGISTRY: dict[str, Builder] = {}
"""Model builders by name: ``builder(config, generator) -> nn.Module``."""


def register(name: str) -> Callable[[Builder], Builder]:
    """Decorator adding a builder to :data:`REGISTRY`."""

    def add(builder: Builder) -> Builder:
        REGISTRY[name] = builder
        return builder

    return add


def build_model(config: ModelConfig, generator: torch.Generator | None = None) -> nn.Module:
    """The model a config describes, initialised from ``generator``."""
    if config.name not in REGISTRY:
        raise CircuitError(f"unknown model {config.name!r}; choose one of {', '.join(REGISTRY)}")
    model = REGISTRY[config.name](config, generator)
    if config.noise:
        set_noise(model, config.noise)
    return model


def set_noise(model: nn.Module, noise) -> nn.Module:
    """Simulate every quantum layer of ``model`` under ``noise`` (a NoiseModel, its text
    form, or ``None`` for an ideal device)."""
    from qimage.models.layer import QuantumLayer
    from qimage.sim import NoiseModel

    model_noise = NoiseModel.parse(noise) if isinstance(noise, str) else noise
    for layer in model.modules():
        if isinstance(layer, QuantumLayer):
            layer.noise = model_noise
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


@register("qnn")
def _qnn(cfg: ModelConfig, generator) -> nn.Module:
    return QNN(
        make_encoder(cfg.encoder, **cfg.encoder_options),
        make_ansatz(cfg.ansatz, **cfg.ansatz_options),
        cfg.n_qubits,
        cfg.n_layers,
        cfg.n_features,
        cfg.n_classes,
        readout=cfg.readout,
        readout_wires=cfg.readout_wires,
        diff_method=cfg.diff_method,
        shots=cfg.shots,
        dtype=cfg.dtype,
        generator=generator,
    )


@register("dressed")
def _dressed(cfg: ModelConfig, generator) -> nn.Module:
    return DressedQNN(
        make_ansatz(cfg.ansatz, **cfg.ansatz_options),
        cfg.n_qubits,
        cfg.n_layers,
        cfg.n_features,
        cfg.n_classes,
        diff_method=cfg.diff_method,
        shots=cfg.shots,
        dtype=cfg.dtype,
        generator=generator,
        hidden=cfg.hidden,
    )


@register("quanv")
def _quanv(cfg: ModelConfig, generator) -> nn.Module:
    return QuanvNet(
        cfg.n_features,
        cfg.n_classes,
        patch=cfg.patch,
        stride=cfg.stride,
        n_layers=cfg.n_layers,
        ansatz=make_ansatz(cfg.ansatz, **cfg.ansatz_options),
        trainable=cfg.trainable,
        hidden=cfg.hidden,
        image_size=cfg.image_size,
        diff_method=cfg.diff_method,
        shots=cfg.shots,
        dtype=cfg.dtype,
        generator=generator,
    )


@register("quanv_twin")
def _quanv_twin(cfg: ModelConfig, generator) -> nn.Module:
    # QuanvNet's head on the raw features: linear, or one hidden layer of cfg.hidden.
    return make_head(cfg.n_features, cfg.n_classes, cfg.hidden, generator)


@register("logreg")
def _logreg(cfg: ModelConfig, generator) -> nn.Module:
    return LogisticRegression(cfg.n_features, cfg.n_classes, generator)


@register("mlp")
def _mlp(cfg: ModelConfig, generator) -> nn.Module:
    return MLP(cfg.n_features, cfg.n_classes, cfg.hidden or DEFAULT_HIDDEN, generator)


@register("cnn")
def _cnn(cfg: ModelConfig, generator) -> nn.Module:
    return SmallCNN(
        cfg.n_features,
        cfg.n_classes,
        channels=cfg.channels or cfg.patch**2,
        patch=cfg.patch,
        stride=cfg.stride,
        hidden=cfg.hidden,
        image_size=cfg.image_size,
        generator=generator,
    )


@register("dressed_classical")
def _dressed_classical(cfg: ModelConfig, generator) -> nn.Module:
    # The dressed QNN without its circuit: the ablation "classical part only".
    return DressedClassical(cfg.n_qubits, cfg.n_features, cfg.n_classes, generator, cfg.hidden)
