"""Feature transformers on 2-D arrays (n_samples, n_features), fitted on train only.

* :class:`Standardize` -- zero mean, unit variance per feature.
* :class:`PCA` -- projection onto the first d principal components.
* :class:`AngleScaler` -- each feature to an angle range, e.g. [0, pi], for angle
  encoding; min and max come from the training split and test values are clipped.
* :class:`AmplitudeEncoder` -- zero-pad to 2**n features and L2-normalise each row,
  for amplitude encoding.

Inputs of dtype float32 stay float32; anything else becomes float64. Statistics are
always computed in float64.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from qimage.preprocess.base import PreprocessError, StatefulTransformer

__all__ = ["PCA", "AmplitudeEncoder", "AngleScaler", "Standardize"]

# Features whose spread is below this are treated as constant (not divided by ~0).
_TINY = 1e-12


class Standardize(StatefulTransformer):
    """Subtract the training mean and divide by the training standard deviation.

    Constant features (standard deviation 0) are centred but not scaled.

    Shapes: (n, f) -> (n, f). Fitted: ``mean_``, ``scale_`` (both (f,) float64).

    Example::

        >>> Standardize().fit([[0.0], [2.0]]).transform([[4.0]])
        array([[3.]])
    """

    _state_attrs = ("mean_", "scale_")

    def fit(self, X: Any, y: Any = None) -> Standardize:
        """Learn the per-feature mean and standard deviation of ``X``; returns self."""
        X = self._validate(X, reset=True)
        self.mean_ = X.mean(axis=0, dtype=np.float64)
        scale = X.std(axis=0, dtype=np.float64)
        self.scale_ = np.where(scale < _TINY, 1.0, scale)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_``, shape (n, f)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return ((X - self.mean_) / self.scale_).astype(X.dtype, copy=False)


class PCA(StatefulTransformer):
    """Project onto the ``n_components`` directions of largest training variance.

    Components come from the eigendecomposition of the training covariance. Each
    component's sign is fixed so that its largest-magnitude entry is positive, which
    makes the result deterministic.

    Shapes: (n, f) -> (n, n_components). Fitted: ``mean_`` (f,),
    ``components_`` (n_components, f), ``explained_variance_`` (n_components,).

    Example::

        >>> X = np.random.default_rng(0).normal(size=(100, 5))
        >>> PCA(2).fit(X).transform(X).shape
        (100, 2)
    """

    _state_attrs = ("mean_", "components_", "explained_variance_")

    def __init__(self, n_components: int = 2) -> None:
        self.n_components = n_components

    def fit(self, X: Any, y: Any = None) -> PCA:
        """Learn the mean and principal directions of ``X``; returns self."""
        X = self._validate(X, reset=True)
        n_samples, n_features = X.shape
        d = self.n_components
        if not isinstance(d, (int, np.integer)) or not 1 <= d <= min(n_samples, n_features):
            raise PreprocessError(
                f"PCA: n_components={d!r} must be an integer from 1 to "
                f"min(n_samples={n_samples}, n_features={n_features})"
            )
        self.mean_ = X.mean(axis=0, dtype=np.float64)
        centred = np.asarray(X, dtype=np.float64) - self.mean_
        covariance = centred.T @ centred / max(n_samples - 1, 1)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        top = np.argsort(eigenvalues)[::-1][:d]
        components = eigenvectors[:, top].T
        peaks = np.abs(components).argmax(axis=1)
        signs = np.sign(components[np.arange(d), peaks])
        self.components_ = components * np.where(signs == 0, 1.0, signs)[:, None]
        self.explained_variance_ = np.clip(eigenvalues[top], 0.0, None)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Coordinates along the components, shape (n, n_components)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return ((X - self.mean_) @ self.components_.T).astype(X.dtype, copy=False)


class AngleScaler(StatefulTransformer):
    """Map each feature linearly from its training [min, max] to [low, high].

    Test values outside the training range are clipped to [low, high], so the output
    is always a valid angle. A feature that is constant on the training split is
    treated as having range 1 (its training value maps to ``low``).

    Shapes: (n, f) -> (n, f). Fitted: ``data_min_``, ``data_max_`` (both (f,)).

    Example::

        >>> AngleScaler(0.0, 1.0).fit([[0.0], [4.0]]).transform([[1.0], [9.0]])
        array([[0.25],
               [1.  ]])
    """

    _state_attrs = ("data_min_", "data_max_")

    def __init__(self, low: float = 0.0, high: float = math.pi) -> None:
        self.low = low
        self.high = high

    def fit(self, X: Any, y: Any = None) -> AngleScaler:
        """Learn the per-feature training minimum and maximum; returns self."""
        if not float(self.low) < float(self.high):
            raise PreprocessError(f"AngleScaler: low={self.low} must be below high={self.high}")
        X = self._validate(X, reset=True)
        self.data_min_ = X.min(axis=0).astype(np.float64)
        self.data_max_ = X.max(axis=0).astype(np.float64)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Scaled and clipped features in [low, high], shape (n, f)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        span = self.data_max_ - self.data_min_
        unit = np.clip((X - self.data_min_) / np.where(span < _TINY, 1.0, span), 0.0, 1.0)
        return (self.low + unit * (self.high - self.low)).astype(X.dtype, copy=False)


class AmplitudeEncoder(StatefulTransformer):
    """Zero-pad rows to 2**n_qubits entries and scale each to unit L2 norm.

    ``n_qubits=None`` picks the smallest n (at least 1) with 2**n >= n_features. A row
    that is all zero has no direction and raises :class:`PreprocessError` (it would
    otherwise become NaN).

    Shapes: (n, f) -> (n, 2**n_qubits_). Fitted: ``n_qubits_``.

    Example::

        >>> AmplitudeEncoder().fit_transform([[3.0, 0.0, 4.0]])
        array([[0.6, 0. , 0.8, 0. ]])
    """

    def __init__(self, n_qubits: int | None = None) -> None:
        self.n_qubits = n_qubits

    def fit(self, X: Any, y: Any = None) -> AmplitudeEncoder:
        """Fix the number of qubits for ``X``'s width; returns self."""
        self._validate(X, reset=True)
        self._restore_derived()
        return self

    def _restore_derived(self) -> None:
        needed = max(1, math.ceil(math.log2(max(self.n_features_in_, 1))))
        n = needed if self.n_qubits is None else self.n_qubits
        if not isinstance(n, (int, np.integer)) or n < needed:
            raise PreprocessError(
                f"AmplitudeEncoder: {self.n_features_in_} features need at least {needed} "
                f"qubits (2**{needed} >= {self.n_features_in_}); got n_qubits={self.n_qubits!r}"
            )
        self.n_qubits_ = int(n)

    def transform(self, X: Any) -> np.ndarray:
        """Padded, unit-norm rows, shape (n, 2**n_qubits_)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        padded = np.zeros((len(X), 2**self.n_qubits_), dtype=np.float64)
        padded[:, : X.shape[1]] = X
        norms = np.linalg.norm(padded, axis=1, keepdims=True)
        zero = np.flatnonzero(norms[:, 0] == 0)
        if zero.size:
            shown = ", ".join(map(str, zero[:5])) + (", ..." if zero.size > 5 else "")
            raise PreprocessError(
                f"AmplitudeEncoder: rows {shown} are all zero and cannot be normalised"
            )
        return (padded / norms).astype(X.dtype, copy=False)
