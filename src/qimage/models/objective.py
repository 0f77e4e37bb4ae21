"""Objectives: what a family's outputs mean, how they are scored and turned into answers.

The training loop, evaluation, model files and the benchmark ask the model's family for its
:class:`Objective` instead of assuming classification: the loss to minimise, the running
metrics per batch, the validation score that picks the best epoch, the test metrics and the
probabilities a prediction shows.

Example:
    >>> import torch
    >>> logits, labels = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])
    >>> CLASSIFICATION.batch_sums(logits, labels)
    {'acc': 1.0}
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["CLASSIFICATION", "Classification", "Objective", "confusion_matrix"]


class Objective:
    """The contract every objective fulfils (see :class:`Classification`).

    Attributes:
        name: shown in ``qimage info`` and saved in results.
        metrics: the names :meth:`batch_sums` returns (shown as ``train_<m>``/``val_<m>``).
        score: the metric whose validation value picks the best epoch; higher is better.
    """

    name: str
    metrics: tuple[str, ...]
    score: str

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """The scalar to minimise for a batch."""
        raise NotImplementedError

    def batch_sums(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """Per-batch sums of the running metrics (divided by the sample count later)."""
        raise NotImplementedError

    def proba(self, outputs: torch.Tensor) -> torch.Tensor:
        """What a prediction shows: ``(B, C)`` probabilities."""
        raise NotImplementedError

    def report(self, outputs: torch.Tensor, targets: torch.Tensor, n_classes: int) -> dict:
        """Test metrics as plain numbers and lists (JSON-ready)."""
        raise NotImplementedError


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``(C, C)`` counts: row = true class, column = predicted class."""
    flat = y_true.long() * n_classes + y_pred.long()
    return torch.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


@dataclass(frozen=True)
class Classification(Objective):
    """Logits ``(B, C)`` against integer labels ``(B,)``: cross-entropy, accuracy, softmax."""

    name: str = "classification"
    metrics: tuple[str, ...] = ("acc",)
    score: str = "acc"

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(outputs, targets)

    def batch_sums(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        return {"acc": float((outputs.argmax(1) == targets).sum())}

    def proba(self, outputs: torch.Tensor) -> torch.Tensor:
        return torch.softmax(outputs, dim=1)

    def report(self, outputs: torch.Tensor, targets: torch.Tensor, n_classes: int) -> dict:
        """Accuracy, loss, per-class precision and recall, and the confusion matrix."""
        outputs, targets = outputs.cpu(), targets.cpu()
        pred = outputs.argmax(1)
        cm = confusion_matrix(targets, pred, n_classes)
        diag = cm.diag().double()
        return {
            "n_samples": int(targets.numel()),
            "accuracy": (pred == targets).double().mean().item(),
            "loss": self.loss(outputs, targets).item(),
            "precision": (diag / cm.sum(0).clamp_min(1)).tolist(),
            "recall": (diag / cm.sum(1).clamp_min(1)).tolist(),
            "confusion": cm.tolist(),
        }


CLASSIFICATION = Classification()
