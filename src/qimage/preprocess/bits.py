"""Images as bit strings: pool, threshold at a level fitted on the training split, index.

Generative models on bits (:mod:`qimage.models.born`) see an image as a string of ``n`` 0/1
pixels, row-major, pixel 0 the most significant bit of its index ``sum(b_j 2^(n-1-j))``: the
same order as a circuit's ``Probs`` outcome for "pixel ``j`` is qubit ``j``".

Example:
    >>> import numpy as np
    >>> images = np.array([[[0, 10], [20, 30]], [[30, 20], [10, 0]]], dtype=float)
    >>> Binarize(size=2).fit(images).transform(images)
    array([[0, 0, 1, 1],
           [1, 1, 0, 0]], dtype=uint8)
    >>> bits_to_index(np.array([[0, 0, 1, 1]]))
    array([3])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from qimage.preprocess.base import PreprocessError, StatefulTransformer
from qimage.preprocess.images import Downsample
from qimage.preprocess.selection import ClassSubset

__all__ = ["Binarize", "BitData", "bits_to_index", "check_bits", "index_to_bits", "load_bits"]


def check_bits(bits: Any, who: str = "bits") -> np.ndarray:
    """``bits`` as an ``(N, n)`` uint8 array, or one clear error if any value is not 0 or 1."""
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise PreprocessError(f"{who}: expected bit strings (N, n_pixels), got shape {bits.shape}")
    bad = ~np.isin(bits, (0, 1))
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise PreprocessError(
            f"{who}: pixels must be 0 or 1 after preprocessing, got {bits[row, col].item()!r} "
            f"at sample {row}, pixel {col} (binarise the images first)"
        )
    return bits.astype(np.uint8)


def bits_to_index(bits: Any) -> np.ndarray:
    """``(N, n)`` 0/1 pixels -> ``(N,)`` int64 indices, pixel 0 the most significant bit."""
    bits = check_bits(bits).astype(np.int64)
    return bits @ (1 << np.arange(bits.shape[1] - 1, -1, -1, dtype=np.int64))


def index_to_bits(index: Any, n_bits: int) -> np.ndarray:
    """``(N,)`` indices -> ``(N, n_bits)`` uint8 pixels (inverse of :func:`bits_to_index`)."""
    shifts = np.arange(n_bits - 1, -1, -1, dtype=np.int64)
    return ((np.asarray(index, dtype=np.int64)[:, None] >> shifts) & 1).astype(np.uint8)


class Binarize(StatefulTransformer):
    """Area-pool images ``(N, H, W)`` to ``size x size``, then 1 where a pooled pixel exceeds
    the threshold: rows ``(N, size*size)`` of uint8 0/1.

    ``threshold=None`` fits it as the mean pooled pixel of the training images (so that
    about as many training pixels are on as the ink covers); a number fixes it.

    Fitted: ``input_shape_`` (H, W), ``threshold_`` (a 0-d array).
    """

    _state_attrs = ("input_shape_", "threshold_")

    def __init__(self, size: int = 4, threshold: float | None = None) -> None:
        self.size = size
        self.threshold = threshold

    def fit(self, X: Any, y: Any = None) -> Binarize:
        """Learn the input shape and (unless given) the threshold from training images."""
        pool = Downsample(self.size).fit(X)
        pooled = pool.transform(X)
        level = pooled.mean() if self.threshold is None else self.threshold
        self.input_shape_ = pool.input_shape_
        self.threshold_ = np.array(float(level))
        self.n_features_in_ = pool.n_features_in_
        self._restore_derived()
        return self

    def _restore_derived(self) -> None:
        self.pool_ = Downsample(self.size).fit(np.zeros((1, *map(int, self.input_shape_))))

    def transform(self, X: Any) -> np.ndarray:
        """Bit rows ``(N, size*size)`` uint8."""
        check_is_fitted(self, "threshold_")
        pooled = self.pool_.transform(np.asarray(X, dtype=np.float64))
        return (pooled.reshape(len(pooled), -1) > self.threshold_).astype(np.uint8)


@dataclass(frozen=True)
class BitData:
    """Binarised images of one dataset: bit rows ``(N, n)`` uint8 and labels, both splits."""

    train: np.ndarray
    y_train: np.ndarray
    test: np.ndarray
    y_test: np.ndarray
    shape: tuple[int, int]
    class_names: tuple[str, ...]


def load_bits(
    dataset: str = "digits",
    size: int = 4,
    classes: list[int] | None = None,
    data_dir: str | None = None,
) -> BitData:
    """A dataset pooled to ``size x size`` and binarised at a level fitted on its training
    split; ``classes`` keeps those classes, relabelled ``0..k-1``."""
    from qimage.data import load_dataset

    ds = load_dataset(dataset, data_dir=data_dir)
    X_tr, y_tr, X_te, y_te, names = ds.X_train, ds.y_train, ds.X_test, ds.y_test, ds.class_names
    if classes:
        subset = ClassSubset(classes)
        (X_tr, y_tr), (X_te, y_te) = subset.apply(X_tr, y_tr), subset.apply(X_te, y_te)
        names = subset.select_names(names)
    binarize = Binarize(size).fit(X_tr)
    return BitData(
        binarize.transform(X_tr),
        np.asarray(y_tr),
        binarize.transform(X_te),
        np.asarray(y_te),
        (size, size),
        tuple(names),
    )
