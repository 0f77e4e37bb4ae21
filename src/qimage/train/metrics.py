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
    """A classifier's plain-text report: accuracy, a per-class table and the confusion
    matrix (:meth:`qimage.models.Objective.text_report` of classification)."""
    return CLASSIFICATION.text_report(metrics, class_names)
