"""Statistics of benchmark results: means with confidence intervals, and paired tests.

Seeds pair up: a cell with seed ``s`` of model A and one of model B on the same task and
size saw the same training subsample and the same validation split, so A - B differences
over seeds are tested with a paired t-test. With five seeds such a test has little power:
"not significant" means "no evidence of a difference", not "no difference".
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

__all__ = ["Summary", "group", "paired_test", "summarise"]


@dataclass(frozen=True)
class Summary:
    """Accuracy over seeds of one (task, model, size)."""

    n: int
    mean: float
    ci: float  # half-width of the 95% t-interval (0 with a single seed)
    std: float

    def text(self, scale: float = 100) -> str:
        return f"{scale * self.mean:.1f} ± {scale * self.ci:.1f}"


def _t_quantile(df: int) -> float:
    from scipy.stats import t

    return float(t.ppf(0.975, df))


def summarise(values: list[float]) -> Summary:
    """Mean, 95% confidence half-width and standard deviation."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return Summary(n, mean, 0.0, 0.0)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    return Summary(n, mean, _t_quantile(n - 1) * std / math.sqrt(n), std)


def paired_test(a: dict[int, float], b: dict[int, float]) -> tuple[float, float, int]:
    """Mean difference ``a - b`` over shared seeds, two-sided p-value, number of pairs."""
    seeds = sorted(set(a) & set(b))
    diffs = [a[s] - b[s] for s in seeds]
    n = len(diffs)
    if n == 0:
        return math.nan, math.nan, 0
    mean = sum(diffs) / n
    if n < 2:
        return mean, math.nan, n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1)
    if var == 0:
        return mean, (1.0 if mean == 0 else 0.0), n
    from scipy.stats import t

    stat = mean / math.sqrt(var / n)
    return mean, float(2 * t.sf(abs(stat), n - 1)), n


def group(rows: list[dict]) -> dict:
    """``{(task, model, size): {seed: row}}`` of the successful rows (last one wins)."""
    out: dict = defaultdict(dict)
    for row in rows:
        if "error" not in row:
            out[(row["task"], row["model"], row["size"])][row["seed"]] = row
    return dict(out)
