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
        headline: ``(key, label)`` of the test metrics a one-line summary shows (by
            default the accuracy, which every report has had to give).
        loss_label, score_label: names of the loss and the score on plots.
        classifies: whether :meth:`proba` gives class probabilities (``False`` for a
            generative model, whose outputs are a distribution over images).
        needs_exact: whether the loss needs exact outputs (a KL divergence is infinite for
            a bit string that a shot estimate gives probability 0), so training with shots
            is refused.
    """

    name: str
    metrics: tuple[str, ...]
    score: str
    headline: tuple[tuple[str, str], ...] = (("accuracy", "accuracy"),)
    loss_label: str = "loss"
    score_label: str = "score"
    classifies: bool = True
    needs_exact: bool = False

    def summary(self, report: dict) -> str:
        """The headline test metrics of a :meth:`report`, e.g. ``"accuracy: 0.9123"``."""
        return ", ".join(f"{label}: {report[key]:.4f}" for key, label in self.headline)

    def text_report(self, report: dict, class_names: list[str]) -> str:
        """A :meth:`report` as plain text for ``qimage evaluate`` (default: the summary)."""
        return f"{self.summary(report)} on {report['n_samples']} samples"

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
    headline: tuple[tuple[str, str], ...] = (("accuracy", "accuracy"),)
    loss_label: str = "cross-entropy"
    score_label: str = "accuracy"

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

    def text_report(self, report: dict, class_names: list[str]) -> str:
        """Accuracy, a per-class precision and recall table and the confusion matrix."""
        width = max(5, *(len(c) for c in class_names))
        lines = [
            f"accuracy {report['accuracy']:.4f} on {report['n_samples']} samples "
            f"(loss {report['loss']:.4f})",
            "",
            f"{'class':>{width}}  precision  recall",
        ]
        rows = zip(class_names, report["precision"], report["recall"], strict=True)
        lines += [f"{name:>{width}}  {p:9.3f}  {r:6.3f}" for name, p, r in rows]
        lines += ["", "confusion matrix (rows: true, columns: predicted)"]
        cells = max(len(str(v)) for row in report["confusion"] for v in row)
        cells = max(cells, *(len(c) for c in class_names))
        lines.append(" " * (width + 1) + " ".join(f"{c:>{cells}}" for c in class_names))
        for name, row in zip(class_names, report["confusion"], strict=True):
            lines.append(f"{name:>{width}} " + " ".join(f"{v:>{cells}}" for v in row))
        return "\n".join(lines)


CLASSIFICATION = Classification()
