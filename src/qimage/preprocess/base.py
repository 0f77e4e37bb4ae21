"""Shared machinery of the preprocessing transformers: errors, validation, saved state.

Every transformer follows scikit-learn's contract: ``__init__`` only stores its
arguments, ``fit`` learns ``*_`` attributes from the training split and returns
``self``, and ``transform`` raises :class:`sklearn.exceptions.NotFittedError` before
``fit``. On top of that, :meth:`StatefulTransformer.state_dict` exports the fitted
arrays (``dict[str, numpy.ndarray]``, ready for safetensors) and
:meth:`StatefulTransformer.load_state` restores them, so a saved model reapplies
exactly the transform it was trained with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from qimage.errors import QimageError

__all__ = ["PreprocessError", "StatefulTransformer", "check_finite", "check_samples"]


class PreprocessError(QimageError, ValueError):
    """A preprocessing mistake: bad parameters, wrong shapes, NaN, unknown classes."""


def check_finite(X: np.ndarray, who: str) -> None:
    """Raise :class:`PreprocessError` when ``X`` holds NaN or infinity, naming rows."""
    if X.dtype.kind in "fc" and not np.isfinite(X).all():
        rows = np.flatnonzero(~np.isfinite(X.reshape(len(X), -1)).all(axis=1))
        shown = ", ".join(map(str, rows[:5])) + (", ..." if len(rows) > 5 else "")
        raise PreprocessError(f"{who}: input contains NaN or infinity (rows {shown})")


def check_samples(X: Any, who: str) -> np.ndarray:
    """Numeric, finite array (n, ...) of at least 2 dimensions; dtype kept if numeric."""
    try:
        X = check_array(X, allow_nd=True, dtype="numeric", ensure_all_finite=False)
    except ValueError as exc:
        raise PreprocessError(f"{who}: {exc}") from exc
    check_finite(X, who)
    return X


def feature_mismatch(who: str, got: int, expected: int, detail: str = "") -> PreprocessError:
    """The error for input of the wrong width, worded as scikit-learn words it."""
    return PreprocessError(
        f"X has {got} features, but {who} is expecting {expected} features as input{detail}"
    )


class StatefulTransformer(TransformerMixin, BaseEstimator):
    """Base of qimage's transformers: validation plus export and import of fitted state.

    Subclasses list their fitted array attributes in ``_state_attrs`` and may override
    :meth:`_restore_derived` to rebuild values computed from them.
    """

    _state_attrs: ClassVar[tuple[str, ...]] = ()

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def _validate(self, X: Any, *, reset: bool) -> np.ndarray:
        """2-D float array (float32 kept, anything else float64), finite, right width."""
        try:
            X = validate_data(
                self, X, reset=reset, dtype=[np.float64, np.float32], ensure_all_finite=False
            )
        except PreprocessError:
            raise
        except ValueError as exc:
            raise PreprocessError(f"{type(self).__name__}: {exc}") from exc
        check_finite(X, type(self).__name__)
        return X

    def state_dict(self) -> dict[str, np.ndarray]:
        """The fitted state as named arrays (no pickle needed to store them).

        Example::

            >>> from qimage.preprocess import Standardize
            >>> Standardize().fit([[0.0], [2.0]]).state_dict()["mean_"]
            array([1.])
        """
        check_is_fitted(self)
        state = {name: np.array(getattr(self, name)) for name in self._state_attrs}
        state["n_features_in_"] = np.array([self.n_features_in_], dtype=np.int64)
        return state

    def load_state(self, state: Mapping[str, np.ndarray]) -> StatefulTransformer:
        """Restore what :meth:`state_dict` exported; returns ``self``, now fitted."""
        missing = [n for n in (*self._state_attrs, "n_features_in_") if n not in state]
        if missing:
            raise PreprocessError(f"{type(self).__name__}: saved state lacks {', '.join(missing)}")
        for name in self._state_attrs:
            setattr(self, name, np.array(state[name]))
        self.n_features_in_ = int(np.asarray(state["n_features_in_"]).reshape(-1)[0])
        self._restore_derived()
        return self

    def _restore_derived(self) -> None:
        """Recompute non-saved fitted values after :meth:`load_state` (hook)."""
