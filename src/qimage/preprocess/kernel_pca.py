"""Kernel PCA: principal components of the data's images in a kernel's feature space.

With the training Gram ``K`` (N x N), kernel PCA diagonalises the *centred* Gram
``Kc = K - 1K - K1 + 1K1`` (``1`` the N x N matrix of entries 1/N: the features minus their
training mean). With ``Kc = V diag(lam) V^T``, the training coordinates are ``V sqrt(lam)``;
a new point with cross-Gram row ``k`` (against the training points) is centred the same way,
``kc = k - mean(K, axis=0) - mean(k) + mean(K)``, and projected as ``kc V / sqrt(lam)``.

The step :class:`KernelPCA` names its kernel: ``"linear"`` and ``"rbf"`` are built in; upper
layers add theirs with :func:`register_kernel` (the training layer registers qimage's quantum
kernels, which this layer cannot import). A kernel factory takes the step's ``kernel_params``
and returns a callable ``kernel(X1, X2) -> (N1, N2)`` array-like.

Example::

    >>> X = np.random.default_rng(0).normal(size=(30, 4))
    >>> KernelPCA(2, kernel="rbf", kernel_params={"gamma": 0.5}).fit_transform(X).shape
    (30, 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from qimage.preprocess.base import PreprocessError, StatefulTransformer

__all__ = [
    "KERNELS",
    "KernelPCA",
    "centre_cross_gram",
    "centre_gram",
    "kernel_eigen",
    "project",
    "register_kernel",
]

#: Kernel factories by name: ``factory(**kernel_params) -> kernel(X1, X2) -> Gram``.
KERNELS: dict[str, Callable[..., Callable]] = {}


def register_kernel(name: str, factory: Callable[..., Callable]) -> None:
    """Make ``KernelPCA(kernel=name)`` use ``factory(**kernel_params)`` as its kernel."""
    KERNELS[name] = factory


def _linear() -> Callable:
    return lambda A, B: np.asarray(A, dtype=np.float64) @ np.asarray(B, dtype=np.float64).T


def _rbf(gamma: float = 1.0) -> Callable:
    def kernel(A, B):
        A, B = np.asarray(A, dtype=np.float64), np.asarray(B, dtype=np.float64)
        sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2 * A @ B.T
        return np.exp(-gamma * np.clip(sq, 0.0, None))

    return kernel


register_kernel("linear", _linear)
register_kernel("rbf", _rbf)


def centre_gram(K: np.ndarray) -> np.ndarray:
    """The training Gram ``(N, N)`` of features minus their mean: ``K - 1K - K1 + 1K1``."""
    column = K.mean(axis=0)
    return K - column[None, :] - column[:, None] + K.mean()


def centre_cross_gram(K_cross: np.ndarray, K_fit: np.ndarray) -> np.ndarray:
    """Centre a new-by-training Gram ``(M, N)`` with the training mean of the features."""
    return K_cross - K_fit.mean(axis=0)[None, :] - K_cross.mean(axis=1)[:, None] + K_fit.mean()


def kernel_eigen(K_centred: np.ndarray, n_components: int) -> tuple[np.ndarray, np.ndarray]:
    """Top ``n_components`` eigenpairs of a centred Gram: ``(eigenvalues (d,), vectors (N, d))``.

    Eigenvalues are clipped at 0 (rounding makes tiny negative ones); each vector's
    largest-magnitude entry is made positive, so the result is deterministic.
    """
    values, vectors = np.linalg.eigh(K_centred)
    top = np.argsort(values)[::-1][:n_components]
    values, vectors = np.clip(values[top], 0.0, None), vectors[:, top]
    signs = np.sign(vectors[np.abs(vectors).argmax(axis=0), np.arange(len(top))])
    return values, vectors * np.where(signs == 0, 1.0, signs)[None, :]


def project(K_cross_centred: np.ndarray, values: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Coordinates ``kc V / sqrt(lam)`` ``(M, d)``; components of eigenvalue 0 give 0."""
    scale = np.zeros_like(values)
    nonzero = values > 0
    scale[nonzero] = 1.0 / np.sqrt(values[nonzero])
    return K_cross_centred @ (vectors * scale[None, :])


class KernelPCA(StatefulTransformer):
    """Kernel PCA with a named kernel (see :data:`KERNELS`), as a pipeline step.

    The training inputs are kept (``X_fit_``) because a new point's coordinates need its
    kernel against every training point. Cost: the N x N training Gram (memory ``8 N^2``
    bytes and one ``O(N^3)`` eigendecomposition), and an M x N Gram per transform.

    Shapes: (n, f) -> (n, n_components). Fitted: ``X_fit_`` (N, f), ``gram_`` (N, N, the
    uncentred training Gram), ``eigenvalues_`` (d,), ``eigenvectors_`` (N, d).
    """

    _state_attrs = ("X_fit_", "gram_", "eigenvalues_", "eigenvectors_")

    def __init__(
        self, n_components: int = 2, kernel: str = "rbf", kernel_params: dict | None = None
    ) -> None:
        self.n_components = n_components
        self.kernel = kernel
        self.kernel_params = kernel_params

    def _kernel(self) -> Callable:
        if self.kernel not in KERNELS:
            raise PreprocessError(
                f"KernelPCA: unknown kernel {self.kernel!r}; known: {', '.join(KERNELS)} "
                "(qimage.train registers the quantum kernels 'fidelity' and 'projected')"
            )
        return KERNELS[self.kernel](**(self.kernel_params or {}))

    def _gram(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        return np.asarray(self._kernel()(A, B), dtype=np.float64)

    def fit(self, X: Any, y: Any = None) -> KernelPCA:
        """Compute the training Gram and its top eigenpairs; returns self."""
        X = self._validate(X, reset=True)
        d = self.n_components
        if not isinstance(d, (int, np.integer)) or not 1 <= d <= len(X):
            raise PreprocessError(
                f"KernelPCA: n_components={d!r} must be an integer from 1 to n_samples={len(X)}"
            )
        self.X_fit_ = np.array(X, dtype=np.float64)
        self.gram_ = self._gram(self.X_fit_, self.X_fit_)
        self.eigenvalues_, self.eigenvectors_ = kernel_eigen(centre_gram(self.gram_), d)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Coordinates along the kernel principal components, shape (n, n_components)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        cross = centre_cross_gram(self._gram(X, self.X_fit_), self.gram_)
        out = project(cross, self.eigenvalues_, self.eigenvectors_)
        return out.astype(X.dtype, copy=False)
