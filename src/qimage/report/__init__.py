"""Reports: plots and summaries built from result files only."""

from __future__ import annotations

from qimage.report.plots import plot_confusion, plot_history

__all__ = ["plot_confusion", "plot_history"]
