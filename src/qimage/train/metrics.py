"""Evaluation: accuracy, loss, per-class precision and recall, and the confusion matrix."""

from __future__ import annotations

import torch
from torch import nn

from qimage.train.loop import predict_logits

__all__ = ["confusion_matrix", "evaluate", "format_report"]


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``(C, C)`` counts: row = true class, column = predicted class."""
    flat = y_true.long() * n_classes + y_pred.long()
    return torch.bincount(flat, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def evaluate(model: nn.Module, X: torch.Tensor, y: torch.Tensor, n_classes: int) -> dict:
    """Metrics of ``model`` on ``(X, y)`` as plain Python numbers and lists (JSON-ready)."""
    logits = predict_logits(model, X)
    pred = logits.argmax(1)
    cm = confusion_matrix(y, pred, n_classes)
    predicted, actual = cm.sum(0), cm.sum(1)
    diag = cm.diag().double()
    return {
        "n_samples": int(y.numel()),
        "accuracy": (pred == y).double().mean().item(),
        "loss": nn.functional.cross_entropy(logits, y).item(),
        "precision": (diag / predicted.clamp_min(1)).tolist(),
        "recall": (diag / actual.clamp_min(1)).tolist(),
        "confusion": cm.tolist(),
    }


def format_report(metrics: dict, class_names: list[str]) -> str:
    """A plain-text report: accuracy, a per-class table and the confusion matrix."""
    width = max(5, *(len(c) for c in class_names))
    lines = [
        f"accuracy {metrics['accuracy']:.4f} on {metrics['n_samples']} samples "
        f"(loss {metrics['loss']:.4f})",
        "",
        f"{'class':>{width}}  precision  recall",
    ]
    for name, p, r in zip(class_names, metrics["precision"], metrics["recall"], strict=True):
        lines.append(f"{name:>{width}}  {p:9.3f}  {r:6.3f}")
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    cells = max(len(str(v)) for row in metrics["confusion"] for v in row)
    cells = max(cells, *(len(c) for c in class_names))
    lines.append(" " * (width + 1) + " ".join(f"{c:>{cells}}" for c in class_names))
    for name, row in zip(class_names, metrics["confusion"], strict=True):
        lines.append(f"{name:>{width}} " + " ".join(f"{v:>{cells}}" for v in row))
    return "\n".join(lines)
