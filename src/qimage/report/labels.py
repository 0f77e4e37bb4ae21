"""Placing point labels so that no two overlap, each other or the points (pure geometry).

Boxes are ``(x0, y0, x1, y1)`` in display pixels, y upwards (matplotlib's convention).
"""

from __future__ import annotations

__all__ = ["overlaps", "place_labels"]

# Directions tried around a point, nearest first: right, left, above, below and diagonals.
_DIRECTIONS = ((1, 0), (-1, 0), (1, 1), (-1, 1), (1, -1), (-1, -1), (0, 1), (0, -1))
_RADII = (4, 10, 18, 30, 45, 65, 90, 120)


def overlaps(a: tuple, b: tuple) -> bool:
    """Whether two boxes share any area (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _box(anchor, size, direction, radius) -> tuple:
    (x, y), (w, h), (dx, dy) = anchor, size, direction
    x0 = x + radius if dx > 0 else x - radius - w if dx < 0 else x - w / 2
    y0 = y + radius if dy > 0 else y - radius - h if dy < 0 else y - h / 2
    return (x0, y0, x0 + w, y0 + h)


def _inside(box, bounds) -> bool:
    return bounds is None or (
        box[0] >= bounds[0] and box[1] >= bounds[1] and box[2] <= bounds[2] and box[3] <= bounds[3]
    )


def place_labels(
    anchors: list[tuple[float, float]],
    sizes: list[tuple[float, float]],
    bounds: tuple | None = None,
    obstacles: list[tuple] = (),
) -> list[tuple]:
    """One box per label, near its anchor, overlapping no other label and no obstacle.

    Args:
        anchors: ``(x, y)`` of each labelled point, in pixels.
        sizes: ``(width, height)`` of each label, in pixels.
        bounds: a box the labels must stay inside (the axes), or None.
        obstacles: boxes to keep clear of (the plotted markers).

    Returns:
        The label boxes, in input order. Candidates are tried nearest first; a label that fits
        nowhere inside ``bounds`` is placed at the nearest spot clear of the others outside it.

    Example:
        >>> place_labels([(0, 0), (1, 0)], [(20, 8), (20, 8)])
        [(4, -4.0, 24, 4.0), (-23, -4.0, -3, 4.0)]
    """
    placed: list[tuple] = []
    for anchor, size in zip(anchors, sizes, strict=True):
        candidates = [_box(anchor, size, d, r) for r in _RADII for d in _DIRECTIONS]
        clear = [c for c in candidates if not any(overlaps(c, o) for o in [*placed, *obstacles])]
        fitting = [c for c in clear if _inside(c, bounds)]
        placed.append((fitting or clear or candidates)[0])
    return placed
