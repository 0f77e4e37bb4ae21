"""The training configuration: one dataclass with commented defaults."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from qimage.errors import TrainingError

__all__ = ["OPTIMIZERS", "SCHEDULES", "TrainConfig"]

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("none", "cosine", "step")


@dataclass
class TrainConfig:
    """How to train: optimiser, budget, validation and seed. Saved in checkpoints."""

    epochs: int = 20
    batch_size: int = 32
    lr: float = 0.02  # circuits like larger steps than deep nets: angles live on a circle
    optimizer: str = "adam"  # "adam" or "sgd" (with momentum)
    momentum: float = 0.9  # sgd only
    weight_decay: float = 0.0
    schedule: str = "cosine"  # "none", "cosine" (to 0 over all epochs) or "step" (x0.1 at 2/3)
    val_fraction: float = 0.1  # held out of the training split for model selection
    patience: int | None = None  # stop after this many epochs without a better val accuracy
    seed: int = 0  # fixes initial weights, the validation split and the batch order

    def validate(self) -> TrainConfig:
        """Raise :class:`TrainingError` with a clear message for an impossible setting."""
        checks = [
            (self.epochs >= 1, f"epochs must be >= 1, got {self.epochs}"),
            (self.batch_size >= 1, f"batch_size must be >= 1, got {self.batch_size}"),
            (0 < self.lr < math.inf, f"lr must be a finite number > 0, got {self.lr}"),
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {OPTIMIZERS}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {SCHEDULES}"),
            (
                0 <= self.val_fraction < 1,
                f"val_fraction must be in [0, 1), got {self.val_fraction}",
            ),
            (self.patience is None or self.patience >= 1, "patience must be >= 1 or None"),
        ]
        for ok, message in checks:
            if not ok:
                raise TrainingError(message)
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrainingError(f"unknown training config keys: {', '.join(unknown)}")
        return cls(**data)
