"""Image-shaped transformers: area-average downsampling and flattening.

Both accept a stack of images (n, H, W), and also flat rows (n, H*W) when the image
shape is known, so they work at the head of a pipeline either way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from qimage.preprocess.base import (
    PreprocessError,
    StatefulTransformer,
    check_samples,
    feature_mismatch,
)

__all__ = ["Downsample", "Flatten", "area_weights"]


def area_weights(n_in: int, n_out: int) -> np.ndarray:
    """Matrix (n_out, n_in) whose rows average input pixels by exact overlap.

    Output cell ``i`` covers the interval ``[i * n_in / n_out, (i + 1) * n_in / n_out)``
    of the input axis; each input pixel ``j`` covers ``[j, j + 1)`` and is weighted by
    the length of the overlap, divided by the cell length. So 28 -> 8 gives cells 3.5
    pixels wide: cell 0 is pixels 0, 1, 2 in full and half of pixel 3. Rows sum to 1.

    Example::

        >>> area_weights(3, 2)
        array([[0.66666667, 0.33333333, 0.        ],
               [0.        , 0.33333333, 0.66666667]])
    """
    edges = np.arange(n_out + 1) * (n_in / n_out)
    left = np.maximum(edges[:-1, None], np.arange(n_in)[None, :])
    right = np.minimum(edges[1:, None], np.arange(1, n_in + 1)[None, :])
    return np.clip(right - left, 0.0, None) / (n_in / n_out)


def _as_images(X: Any, image_shape: tuple[int, ...] | None, who: str) -> tuple[np.ndarray, bool]:
    """(n, H, W) array of ``X`` and whether ``X`` came flat as (n, H*W)."""
    X = check_samples(X, who)
    if X.ndim == 3:
        return X, False
    if X.ndim != 2:
        raise PreprocessError(f"{who}: expected images (n, H, W) or rows (n, H*W), got {X.shape}")
    if image_shape is None:
        side = math.isqrt(X.shape[1])
        if side * side != X.shape[1]:
            raise PreprocessError(
                f"{who}: {X.shape[1]} features are not a square image; pass image_shape"
            )
        image_shape = (side, side)
    if math.prod(image_shape) != X.shape[1]:
        raise PreprocessError(f"{who}: {X.shape[1]} features do not match image {image_shape}")
    return X.reshape(len(X), *image_shape), True


class Downsample(StatefulTransformer):
    """Area-average images (n, H, W) down to (n, size, size).

    When H or W is not a multiple of ``size``, pixels on a cell boundary are split
    between cells in proportion to their overlap (see :func:`area_weights`), so every
    output pixel is the exact mean of the input over its square. Flat input (n, H*W)
    gives flat output (n, size*size); ``image_shape`` says (H, W) for it (a square
    image is assumed otherwise).

    Fitted: ``input_shape_`` (H, W). Output dtype float32 for float32 input, else float64.

    Example::

        >>> Downsample(8).fit_transform(np.ones((5, 28, 28))).shape
        (5, 8, 8)
    """

    _state_attrs = ("input_shape_",)

    def __init__(self, size: int = 8, image_shape: tuple[int, int] | None = None) -> None:
        self.size = size
        self.image_shape = image_shape

    def fit(self, X: Any, y: Any = None) -> Downsample:
        """Record the input image shape (H, W); returns self."""
        images, _ = _as_images(X, self._shape_arg(), "Downsample")
        self.input_shape_ = np.array(images.shape[1:], dtype=np.int64)
        self.n_features_in_ = int(np.prod(self.input_shape_))
        self._restore_derived()
        return self

    def _shape_arg(self) -> tuple[int, ...] | None:
        return None if self.image_shape is None else tuple(self.image_shape)

    def _restore_derived(self) -> None:
        height, width = (int(n) for n in self.input_shape_)
        k = self.size
        if not isinstance(k, (int, np.integer)) or not 1 <= k <= min(height, width):
            raise PreprocessError(
                f"Downsample: size={k!r} must be an integer from 1 to {min(height, width)} "
                f"for images {height}x{width}"
            )
        self.weights_rows_ = area_weights(height, k)
        self.weights_cols_ = area_weights(width, k)

    def transform(self, X: Any) -> np.ndarray:
        """Downsampled images (n, size, size), or rows (n, size*size) for flat input."""
        check_is_fitted(self)
        images, flat = _as_images(X, tuple(self.input_shape_), "Downsample")
        if images.shape[1:] != tuple(self.input_shape_):
            got = images.shape[1] * images.shape[2]
            detail = f" (images {tuple(self.input_shape_)}, got {images.shape[1:]})"
            raise feature_mismatch("Downsample", got, self.n_features_in_, detail)
        dtype = np.float32 if images.dtype == np.float32 else np.float64
        out = self.weights_rows_ @ images.astype(np.float64) @ self.weights_cols_.T
        out = out.astype(dtype, copy=False)
        return out.reshape(len(out), -1) if flat else out


class Flatten(StatefulTransformer):
    """Flatten images (n, H, W) to rows (n, H*W); rows (n, f) pass unchanged.

    Fitted: ``input_shape_``, the per-sample shape seen in ``fit``.

    Example::

        >>> Flatten().fit_transform(np.zeros((2, 3, 4))).shape
        (2, 12)
    """

    _state_attrs = ("input_shape_",)

    def fit(self, X: Any, y: Any = None) -> Flatten:
        """Record the per-sample shape of ``X``; returns self."""
        X = check_samples(X, "Flatten")
        self.input_shape_ = np.array(X.shape[1:], dtype=np.int64)
        self.n_features_in_ = int(np.prod(self.input_shape_))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Rows (n, H*W); accepts the fitted shape or rows already flat."""
        check_is_fitted(self)
        X = check_samples(X, "Flatten")
        if X.shape[1:] not in (tuple(self.input_shape_), (self.n_features_in_,)):
            detail = f" (samples of shape {tuple(self.input_shape_)}, got {X.shape[1:]})"
            raise feature_mismatch("Flatten", math.prod(X.shape[1:]), self.n_features_in_, detail)
        return X.reshape(len(X), -1)
