"""Selecting samples: a subset of classes, and a stratified subsample per class.

These act on ``(X, y)`` together, so they are not scikit-learn transformers: each has
``apply(X, y) -> (X, y)``. ``X`` may have any shape (n, ...); ``y`` is (n,) integers.
Samples keep their original order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qimage.preprocess.base import PreprocessError

__all__ = ["ClassSubset", "StratifiedSubsample", "stratified_subsample"]


def _check_xy(X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X), np.asarray(y)
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise PreprocessError(f"{who}: labels must be 1-D integers, got {y.dtype} {y.shape}")
    if X.ndim == 0 or len(X) != len(y):
        raise PreprocessError(f"{who}: {X.shape} samples do not match {len(y)} labels")
    return X, y


class ClassSubset:
    """Keep only the given classes and relabel them 0..k-1 in the order given.

    ``ClassSubset([3, 5])`` keeps digits 3 and 5 and maps 3 -> 0, 5 -> 1.

    Example::

        >>> X, y = np.arange(4), np.array([3, 1, 5, 3])
        >>> ClassSubset([3, 5]).apply(X, y)
        (array([0, 2, 3]), array([0, 1, 0]))
    """

    def __init__(self, classes: Sequence[int]) -> None:
        self.classes = [int(c) for c in classes]
        if not self.classes or len(set(self.classes)) != len(self.classes):
            raise PreprocessError(f"ClassSubset: classes must be distinct, got {classes!r}")

    def __repr__(self) -> str:
        return f"ClassSubset({self.classes})"

    def apply(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Rows of ``X`` whose label is selected, and their new labels (int64)."""
        X, y = _check_xy(X, y, "ClassSubset")
        present = np.unique(y)
        absent = [c for c in self.classes if c not in present]
        if absent:
            raise PreprocessError(
                f"ClassSubset: class {', '.join(map(str, absent))} does not occur in the "
                f"labels (present: {', '.join(map(str, present))})"
            )
        keep = np.isin(y, self.classes)
        lookup = {c: i for i, c in enumerate(self.classes)}
        relabelled = np.array([lookup[c] for c in y[keep].tolist()], dtype=np.int64)
        return X[keep], relabelled

    def select_names(self, class_names: Sequence[str]) -> tuple[str, ...]:
        """Names of the kept classes, indexed by the new labels."""
        return tuple(class_names[c] for c in self.classes)

    def original_labels(self, labels: Any) -> np.ndarray:
        """Map new labels 0..k-1 back to the original class numbers."""
        return np.asarray(self.classes, dtype=np.int64)[np.asarray(labels)]


def stratified_subsample(
    X: Any, y: Any, n_per_class: int, *, seed: int | np.random.Generator = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_per_class`` samples of every class present, without replacement.

    Args:
        X: samples, shape (n, ...).
        y: integer labels, shape (n,).
        n_per_class: samples to keep per class; every class must have that many.
        seed: an int or a :class:`numpy.random.Generator`; never the global RNG.

    Returns:
        ``(X_sub, y_sub)`` with ``n_per_class * n_classes`` rows, in original order.

    Example::

        >>> X, y = np.arange(6), np.array([0, 0, 0, 1, 1, 1])
        >>> stratified_subsample(X, y, 2, seed=0)[1]
        array([0, 0, 1, 1])
    """
    X, y = _check_xy(X, y, "stratified_subsample")
    if not isinstance(n_per_class, (int, np.integer)) or n_per_class < 1:
        raise PreprocessError(f"stratified_subsample: n_per_class={n_per_class!r} must be >= 1")
    rng = np.random.default_rng(seed)
    chosen = []
    for cls in np.unique(y):
        members = np.flatnonzero(y == cls)
        if len(members) < n_per_class:
            raise PreprocessError(
                f"stratified_subsample: class {cls} has {len(members)} samples, "
                f"fewer than n_per_class={n_per_class}"
            )
        chosen.append(rng.choice(members, size=n_per_class, replace=False))
    keep = np.sort(np.concatenate(chosen))
    return X[keep], y[keep]


class StratifiedSubsample:
    """:func:`stratified_subsample` as an object with ``apply(X, y)``.

    Example::

        >>> StratifiedSubsample(100, seed=1).apply(X_train, y_train)   # doctest: +SKIP
    """

    def __init__(self, n_per_class: int, seed: int | np.random.Generator = 0) -> None:
        self.n_per_class = n_per_class
        self.seed = seed

    def __repr__(self) -> str:
        return f"StratifiedSubsample(n_per_class={self.n_per_class}, seed={self.seed!r})"

    def apply(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """The subsample ``(X_sub, y_sub)``; see :func:`stratified_subsample`."""
        return stratified_subsample(X, y, self.n_per_class, seed=self.seed)
