"""Every model family by name, and the config that rebuilds a model from a file.

:data:`FAMILIES` maps a name to its :class:`~qimage.models.family.Family`; a
:class:`ModelConfig` is a family name, the data's sizes and that family's own options.
``build_model(config)`` is the only way the command line, the trainer, model files, the
estimators and the benchmark create models, so a name means the same model everywhere.

Example:
    >>> cfg = ModelConfig(name="qnn", n_features=64, n_classes=10, n_qubits=6, n_layers=2)
    >>> type(build_model(cfg)).__name__
    'QNN'
    >>> ModelConfig(name="mlp", encoder="angle")
    Traceback (most recent call last):
    ...
    qimage.errors.CircuitError: model 'mlp' has no option encoder (its options: hidden)
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from qimage.errors import CircuitError
from qimage.models.families.born import BornFamily
from qimage.models.families.classical import (
    CNNFamily,
    LogRegFamily,
    MLPFamily,
    ProjectedLogRegFamily,
)
from qimage.models.families.dressed import DressedClassicalFamily, DressedFamily
from qimage.models.families.qcnn import QCNNFamily
from qimage.models.families.qnn import QNNFamily
from qimage.models.families.quanv import QuanvFamily, QuanvTwinFamily
from qimage.models.family import Family
from qimage.models.objective import Objective

__all__ = ["FAMILIES", "ModelConfig", "build_model", "count_parameters", "get_family", "register"]

FAMILIES: dict[str, Family] = {}
"""Model families by name."""


def register(family: Family) -> Family:
    """Add ``family`` to :data:`FAMILIES` (its name must be new)."""
    if family.name in FAMILIES:
        raise CircuitError(f"a model family named {family.name!r} is already registered")
    FAMILIES[family.name] = family
    return family


for _family in (
    QNNFamily(),
    DressedFamily(),
    QuanvFamily(),
    QuanvTwinFamily(),
    LogRegFamily(),
    MLPFamily(),
    CNNFamily(),
    DressedClassicalFamily(),
    BornFamily(),
    ProjectedLogRegFamily(),
    QCNNFamily(),
):
    register(_family)


def get_family(name: str) -> Family:
    """The family called ``name``; an unknown name is one clear error."""
    if name not in FAMILIES:
        raise CircuitError(f"unknown model {name!r}; choose one of {', '.join(FAMILIES)}")
    return FAMILIES[name]


# Keys of the flat config of model files before families (version 1): run options now in
# qimage.sim.Execution, and options of other families that every file carried.
_RUN_KEYS = ("diff_method", "shots", "precision", "noise")
_LEGACY_UNSET = {"hidden": 0}  # version 1 stored "the family's default width" as 0


class ModelConfig:
    """A family name, the data's sizes, and the family's own options (``config.options``).

    Options are read as attributes (``config.n_layers``); an option the family does not
    have is an error, never silently ignored. Saved as JSON inside model files.
    """

    def __init__(self, name: str = "qnn", n_features: int = 64, n_classes: int = 10, **options):
        self.name, self.n_features, self.n_classes = name, n_features, n_classes
        self.options = get_family(name).options(**options)

    @property
    def family(self) -> Family:
        return get_family(self.name)

    @property
    def objective(self) -> Objective:
        """What this model's outputs mean and how it trains (its family's, for its options)."""
        return self.family.objective_for(self.options)

    def __getattr__(self, key: str):
        if key == "options" or key.startswith("__"):
            raise AttributeError(key)
        try:
            return getattr(self.options, key)
        except AttributeError:
            raise AttributeError(f"model {self.name!r} has no option {key!r}") from None

    def replace(self, **changes) -> ModelConfig:
        """A copy with ``changes`` to the name, sizes or options."""
        data = {**self.to_dict(), **changes}
        if "name" in changes and changes["name"] != self.name:
            data = {k: v for k, v in data.items() if k in changes or k in _SIZES}
        return ModelConfig(**data)

    def resolved(self) -> ModelConfig:
        """This config with the family's automatic choices made for its sizes."""
        options = self.family.resolve(self.options, self.n_features, self.n_classes)
        return ModelConfig(self.name, self.n_features, self.n_classes, **_fields(options))

    def validate(self) -> ModelConfig:
        """Options are checked when the config is made; sizes here."""
        if self.n_features < 1 or self.n_classes < 1:
            raise CircuitError(
                f"a model needs n_features >= 1 and n_classes >= 1, got {self.n_features} "
                f"and {self.n_classes}"
            )
        return self

    def describe(self) -> str:
        return self.family.describe(self.options)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "n_features": self.n_features,
            "n_classes": self.n_classes,
            **_fields(self.options),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ModelConfig:
        if not isinstance(data, dict) or not isinstance(data.get("name", "qnn"), str):
            raise CircuitError(f"a model config must be a JSON object with a name, got {data!r}")
        return cls(**data)

    @classmethod
    def from_legacy(cls, data: dict) -> tuple[ModelConfig, dict]:
        """A version-1 flat config (every family's keys in one record) and its run options
        (``diff_method``, ``shots``, ``precision``, ``noise``), for files written before
        families."""
        if not isinstance(data, dict):
            raise CircuitError(f"a model config must be a JSON object, got {data!r}")
        family = get_family(data.get("name", "qnn"))
        own = {f.name for f in dataclasses.fields(family.Config)} | set(_SIZES)
        run = {k: data[k] for k in _RUN_KEYS if k in data}
        kept = {k: v for k, v in data.items() if k in own and _LEGACY_UNSET.get(k, ...) != v}
        return cls(**kept), run

    def __eq__(self, other) -> bool:
        return isinstance(other, ModelConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        options = ", ".join(f"{k}={v!r}" for k, v in _fields(self.options).items())
        sizes = f"n_features={self.n_features}, n_classes={self.n_classes}"
        return f"ModelConfig({self.name!r}, {sizes}{', ' if options else ''}{options})"


_SIZES = ("name", "n_features", "n_classes")


def _fields(options) -> dict:
    return {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}


def build_model(config: ModelConfig, generator: torch.Generator | None = None) -> nn.Module:
    """The model ``config`` describes, its weights drawn from ``generator``."""
    config.validate()
    return config.family.build(config.options, config.n_features, config.n_classes, generator)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
