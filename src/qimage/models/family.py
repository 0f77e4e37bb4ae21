"""``Family``: a model kind that describes itself.

A family owns everything the layers above need to know about one kind of model: its small
config dataclass (:attr:`Family.Config`), the preprocessing its inputs need, how many qubits
it takes for a feature count, how to build it, how to describe it, and its
:class:`~qimage.models.objective.Objective`. The trainer, model files, the benchmark, the
report, the command line and the estimators read these and never branch on a model's name.

Adding a model kind is one module defining a ``Family`` subclass and one line in
:mod:`qimage.models.registry`.

Example:
    >>> from qimage.models import FAMILIES
    >>> qnn = FAMILIES["qnn"]
    >>> options = qnn.options(encoder="amplitude", n_layers=2)
    >>> qnn.n_qubits(options, n_features=64, n_classes=10)
    6
    >>> qnn.preprocessing(qnn.resolve(options, 64, 10), n_classes=10)
    {'scale': 'amplitude', 'n_qubits': 6}
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import torch
from torch import nn

from qimage.errors import CircuitError
from qimage.models.classical import closest_size
from qimage.models.objective import CLASSIFICATION, Objective

__all__ = ["Family"]


class Family:
    """One model kind. Subclasses set the class attributes and override what differs.

    Attributes:
        name: the registry key (``qimage train --model NAME``).
        summary: one line for ``--help`` and ``qimage info``.
        Config: a frozen dataclass of the family's options; checks them in
            ``__post_init__`` and raises :class:`qimage.errors.CircuitError`.
        objective: what the outputs mean (classification by default); a model's own is
            :meth:`objective_for` its options.
        quantum: whether the model simulates circuits (the benchmark's colour and verdicts).
        size_option: the option that sets a classical twin's size (``hidden``,
            ``channels``), for :meth:`matched`; ``None`` when the size is fixed.
    """

    name: ClassVar[str]
    summary: ClassVar[str]
    Config: ClassVar[type]
    objective: ClassVar[Objective] = CLASSIFICATION
    quantum: ClassVar[bool] = False
    size_option: ClassVar[str | None] = None

    def options(self, **values) -> Any:
        """The family's config from keyword values; unknown names are one clear error."""
        known = [f.name for f in dataclasses.fields(self.Config)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise CircuitError(
                f"model {self.name!r} has no option {', '.join(unknown)} (its options: {allowed})"
            )
        return self.Config(**values)

    def objective_for(self, options) -> Objective:
        """The objective a model with these ``options`` trains on (default: :attr:`objective`;
        a family with a loss option picks it here)."""
        return self.objective

    def preprocessing(self, options, n_classes: int) -> dict:
        """:class:`qimage.train.DataSpec` fields for this model's inputs (standardised)."""
        return {"standardize": True}

    def prepare(self, options, X: torch.Tensor, y: torch.Tensor, n_classes: int):
        """``(inputs, targets)`` the model trains and is scored on, from preprocessed
        features ``X`` ``(N, F)`` and class labels ``y`` ``(N,)`` (default: as they are).

        A generative family turns pixels into targets here; the trainer never asks which
        family it trains."""
        return X, y

    def n_qubits(self, options, n_features: int, n_classes: int) -> int | None:
        """Qubits the model simulates for ``n_features`` inputs (``None``: classical)."""
        return None

    def resolve(self, options, n_features: int, n_classes: int):
        """``options`` with every automatic choice made for this data (default: as given)."""
        return options

    def build(self, options, n_features: int, n_classes: int, generator) -> nn.Module:
        """The model, its weights drawn from ``generator``; it maps ``(B, F)`` to outputs
        and takes ``execution=`` in ``forward``."""
        raise NotImplementedError

    def describe(self, options) -> str:
        """One line for the user: what this model is, with its sizes."""
        return self.name

    def matched(self, options, n_features: int, n_classes: int, target: int):
        """``options`` with :attr:`size_option` set so that the model's trainable-parameter
        count is closest to ``target`` (a twin matched to a quantum model's size)."""
        if self.size_option is None:
            return options

        def build(size: int) -> nn.Module:
            resized = dataclasses.replace(options, **{self.size_option: size})
            return self.build(resized, n_features, n_classes, None)

        return dataclasses.replace(options, **{self.size_option: closest_size(build, target)})

    def freeze_quantum(self, model: nn.Module) -> nn.Module:
        """Stop training the circuit weights (the "frozen" ablation); classical: no-op."""
        from qimage.models.layer import QuantumLayer

        for layer in model.modules():
            if isinstance(layer, QuantumLayer):
                layer.weights.requires_grad_(False)
        return model

    def __repr__(self) -> str:
        return f"<family {self.name}: {self.summary}>"
