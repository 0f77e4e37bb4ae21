"""Reports: plots and summaries built from result files only."""

from __future__ import annotations

from qimage.report.build import build_report
from qimage.report.plots import plot_confusion, plot_history

__all__ = ["build_report", "plot_confusion", "plot_history"]
