"""How the report prints numbers: every figure rounded to what its uncertainty supports.

Example:
    >>> percent(0.29000000000000004), p_value(0.000774), plain(0.30000000000000004)
    ('29.0', 'p < 0.001', '0.3')
"""

from __future__ import annotations

import math

__all__ = ["count", "p_value", "percent", "plain", "points", "seconds"]


def percent(fraction: float) -> str:
    """An accuracy fraction as a percentage with one decimal: ``0.8832 -> "88.3"``."""
    return f"{100 * fraction:.1f}"


def points(diff: float) -> str:
    """An accuracy difference in percentage points: ``-0.071 -> "7.1 points below"``."""
    return f"{abs(100 * diff):.1f} points {'above' if diff > 0 else 'below'}"


def p_value(p: float) -> str:
    """Three significant digits, and no spurious precision under 0.001."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


def count(value: float | None) -> str:
    """A whole count (parameters, images); ``—`` when unknown."""
    return "—" if value is None else f"{value:.0f}"


def seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def plain(value: float) -> str:
    """An axis tick as a plain number: ``2000 -> "2,000"``, ``0.3 -> "0.3"`` (no ``3x10^-1``)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if abs(value) >= 1:
        return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 * abs(value) else f"{value:,.1f}"
    return f"{value:.2g}"
