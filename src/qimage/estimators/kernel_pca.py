"""Kernel PCA on a quantum kernel as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from qimage.estimators.kernel_svc import QuantumKernelSVC
from qimage.estimators.neural import _seed, _tensor
from qimage.preprocess.kernel_pca import centre_cross_gram, centre_gram, kernel_eigen, project

__all__ = ["QuantumKernelPCA"]


class QuantumKernelPCA(TransformerMixin, BaseEstimator):
    """Kernel PCA (Schoelkopf et al. 1998) on the fidelity or projected quantum kernel.

    ``fit`` simulates the N training states once, centres their N x N Gram (the kernel of
    features minus their training mean) and keeps its top eigenvectors; ``transform``
    simulates only the new states, centres their new-by-training Gram with the training
    means and projects. Same coordinates as ``sklearn.decomposition.KernelPCA(kernel=
    "precomputed")`` on the same Gram, signs fixed so each eigenvector's largest entry is
    positive.

    Args:
        n_components: number of kernel principal components kept (at most n_samples).
        kernel, encoder, reps, n_qubits, bandwidth, gamma, shots, random_state: the
            quantum kernel, as in :class:`qimage.estimators.QuantumKernelSVC`.

    Attributes:
        n_features_in_, kernel_, train_features_, gram_ (uncentred training Gram),
        eigenvalues_ (n_components,), eigenvectors_ (n_samples, n_components), seed_.

    Example:
        >>> import numpy as np
        >>> X = np.random.default_rng(0).uniform(size=(20, 3))
        >>> QuantumKernelPCA(n_components=2, random_state=0).fit_transform(X).shape
        (20, 2)
    """

    def __init__(
        self,
        n_components: int = 2,
        *,
        kernel: str = "fidelity",
        encoder: str = "iqp",
        reps: int = 2,
        n_qubits: int | None = None,
        bandwidth: float = 1.0,
        gamma: float = 1.0,
        shots: int | None = None,
        random_state=None,
    ):
        self.n_components = n_components
        self.kernel = kernel
        self.encoder = encoder
        self.reps = reps
        self.n_qubits = n_qubits
        self.bandwidth = bandwidth
        self.gamma = gamma
        self.shots = shots
        self.random_state = random_state

    def _make_kernel(self):
        fields = ("kernel", "encoder", "reps", "n_qubits", "bandwidth", "gamma")
        return QuantumKernelSVC(**{f: getattr(self, f) for f in fields})._make_kernel()

    def _gram(self, F1, F2=None, offset: int = 0) -> np.ndarray:
        generator = torch.Generator().manual_seed(self.seed_ + offset)
        return self.kernel_.gram(F1, F2, shots=self.shots, generator=generator).numpy()

    def fit(self, X, y=None):
        """Simulate the training states, centre their Gram and keep its top eigenvectors."""
        X = validate_data(self, X, dtype=np.float64)
        d = self.n_components
        if not isinstance(d, (int, np.integer)) or not 1 <= d <= len(X):
            raise ValueError(
                f"n_components={d!r} must be an integer from 1 to n_samples={len(X)}; "
                "one sample has no principal component"
            )
        self.seed_ = _seed(self.random_state)
        self.kernel_ = self._make_kernel()
        self.train_features_ = self.kernel_.features(_tensor(X))
        self.gram_ = self._gram(self.train_features_)
        self.eigenvalues_, self.eigenvectors_ = kernel_eigen(centre_gram(self.gram_), d)
        return self

    def transform(self, X) -> np.ndarray:
        """Coordinates ``(n, n_components)`` along the kernel principal components."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        cross = self._gram(self.kernel_.features(_tensor(X)), self.train_features_, offset=1)
        return project(centre_cross_gram(cross, self.gram_), self.eigenvalues_, self.eigenvectors_)
