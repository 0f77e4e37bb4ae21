"""Bars and stripes: the textbook sanity set of generative models on bits.

An ``rows x cols`` image is *valid* when every row is constant (stripes: horizontal lines)
or every column is constant (bars: vertical lines). There are ``2^rows + 2^cols - 2``
distinct valid images: the blank and the full image are both bars and stripes.

Example:
    >>> bars_and_stripes(2, 2).shape
    (6, 2, 2)
    >>> is_bars_and_stripes(bars_and_stripes(3, 3)).all()
    np.True_
"""

from __future__ import annotations

import itertools

import numpy as np

from qimage.errors import DatasetError

__all__ = ["bars_and_stripes", "is_bars_and_stripes"]


def bars_and_stripes(rows: int, cols: int) -> np.ndarray:
    """Every distinct valid image, ``(2^rows + 2^cols - 2, rows, cols)`` uint8 0/1, sorted
    by their bit-string index (pixel ``(0, 0)`` the most significant bit)."""
    if rows < 1 or cols < 1 or rows * cols > 30:
        raise DatasetError(f"bars and stripes needs 1..30 pixels, got {rows}x{cols}")
    lines = np.array(list(itertools.product((0, 1), repeat=rows)))  # (2^rows, rows)
    stripes = np.repeat(lines[:, :, None], cols, axis=2)
    columns = np.array(list(itertools.product((0, 1), repeat=cols)))
    bars = np.repeat(columns[:, None, :], rows, axis=1)
    images = np.unique(np.concatenate([stripes, bars]).reshape(-1, rows * cols), axis=0)
    return images.reshape(-1, rows, cols).astype(np.uint8)


def is_bars_and_stripes(images: np.ndarray) -> np.ndarray:
    """``(N,)`` bool: whether each 0/1 image ``(N, rows, cols)`` is a bar or stripe pattern."""
    images = np.asarray(images)
    if images.ndim != 3:
        raise DatasetError(f"expected images (N, rows, cols), got shape {images.shape}")
    stripes = (images == images[:, :, :1]).all(axis=(1, 2))
    bars = (images == images[:, :1, :]).all(axis=(1, 2))
    return stripes | bars
