"""Evaluation: accuracy, loss, per-class precision and recall, and the confusion matrix."""

from __future__ import annotations

import torch
from torch import nn

from qimage.models import CLASSIFICATION, Objective
from qimage.models.objective import confusion_matrix
from qimage.sim import Execution
from qimage.train.loop import predict_logits

__all__ = ["confusion_matrix", "evaluate", "format_report"]


def evaluate(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    n_classes: int,
    *,
    execution: Execution | None = None,
    objective: Objective = CLASSIFICATION,
) -> dict:
    """Test metrics of ``model`` on ``(X, y)`` under ``execution``, as the objective reports
    them (for classifiers: accuracy, loss, per-class precision and recall, confusion), as
    plain Python numbers and lists (JSON-ready)."""
    return objective.report(predict_logits(model, X, execution=execution), y, n_classes)


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
