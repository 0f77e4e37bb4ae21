"""The quantum-kernel support vector machine as a scikit-learn estimator."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import SVC
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from qimage.estimators.neural import _PRECISION, _seed, _targets, _tensor
from qimage.models import FidelityKernel, ProjectedKernel

__all__ = ["QuantumKernelSVC"]


class QuantumKernelSVC(ClassifierMixin, BaseEstimator):
    """scikit-learn's ``SVC(kernel="precomputed")`` on a quantum kernel.

    ``fit`` simulates the N training states once and passes the N x N Gram to the SVC;
    ``predict`` simulates only the test states and uses the test-by-train Gram.

    Args:
        kernel: ``"fidelity"`` (``|<psi(x)|psi(x')>|^2``) or ``"projected"`` (Gaussian of
            width ``gamma`` on one-qubit reduced states); see :mod:`qimage.models.kernel`.
        encoder: ``"iqp"``, ``"angle"`` or ``"amplitude"``; ``reps`` applies to IQP.
        n_qubits: register size (default: the fewest that hold the features).
        bandwidth: features are multiplied by it before encoding.
        C: the SVC's regularisation.
        probability: fit ``CalibratedClassifierCV(SVC(...), ensemble=False)`` (Platt
            scaling; it replaces ``SVC(probability=True)``, deprecated in scikit-learn 1.9):
            :meth:`predict_proba` exists and :meth:`predict` is its argmax, so the two always
            agree; :meth:`decision_function` is then not offered.
        shots: ``None`` for exact kernels, else the shot estimate of every kernel entry,
            drawn with a generator seeded from ``random_state`` (the same at each predict).

    Attributes:
        classes_, n_features_in_, kernel_ (the kernel object), train_features_ (training
        states or Pauli expectations), svc_ (the fitted SVC, or its calibration with
        ``probability``), seed_.
    """

    def __init__(
        self,
        *,
        kernel: str = "fidelity",
        encoder: str = "iqp",
        reps: int = 2,
        n_qubits: int | None = None,
        bandwidth: float = 1.0,
        gamma: float = 1.0,
        C: float = 1.0,
        shots: int | None = None,
        probability: bool = False,
        random_state=None,
    ):
        self.kernel = kernel
        self.encoder = encoder
        self.reps = reps
        self.n_qubits = n_qubits
        self.bandwidth = bandwidth
        self.gamma = gamma
        self.C = C
        self.shots = shots
        self.probability = probability
        self.random_state = random_state

    def _make_kernel(self) -> FidelityKernel:
        options = {"reps": self.reps} if self.encoder == "iqp" else {}
        common = {
            "bandwidth": self.bandwidth,
            "encoder_options": options,
            "dtype": getattr(torch, _PRECISION),
        }
        if self.kernel == "fidelity":
            return FidelityKernel(self.encoder, self.n_qubits, **common)
        if self.kernel == "projected":
            return ProjectedKernel(self.encoder, self.n_qubits, gamma=self.gamma, **common)
        raise ValueError(f"kernel must be 'fidelity' or 'projected', got {self.kernel!r}")

    def _generator(self, offset: int) -> torch.Generator:
        return torch.Generator().manual_seed(self.seed_ + offset)

    def fit(self, X, y):
        """Simulate the training states, build their Gram and fit the SVC."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        _targets(self, y)
        self.seed_ = _seed(self.random_state)
        self.kernel_ = self._make_kernel()
        self.train_features_ = self.kernel_.features(_tensor(X))
        gram = self.kernel_.gram(
            self.train_features_, shots=self.shots, generator=self._generator(0)
        )
        svc = SVC(kernel="precomputed", C=self.C)
        if self.probability:
            # Platt scaling on out-of-fold decision values; the folds slice the Gram both
            # ways because SVC(kernel="precomputed") is tagged pairwise.
            svc = CalibratedClassifierCV(svc, ensemble=False)
        self.svc_ = svc.fit(gram.numpy(), y)
        return self

    def _gram(self, X) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        features = self.kernel_.features(_tensor(X))
        gram = self.kernel_.gram(
            features, self.train_features_, shots=self.shots, generator=self._generator(1)
        )
        return gram.numpy()

    def _has_probability(self) -> bool:
        return self.probability

    def _has_decision(self) -> bool:
        return not self.probability

    @available_if(_has_decision)
    def decision_function(self, X) -> np.ndarray:
        """The SVC's decision values on the test-by-train Gram (without ``probability``)."""
        gram = self._gram(X)  # checks fitting first
        return self.svc_.decision_function(gram)

    def predict(self, X) -> np.ndarray:
        """Predicted classes (with ``probability``, the most probable class)."""
        gram = self._gram(X)
        return self.svc_.predict(gram)

    @available_if(_has_probability)
    def predict_proba(self, X) -> np.ndarray:
        """Platt-scaled probabilities (needs ``probability=True``), columns as ``classes_``."""
        gram = self._gram(X)
        return self.svc_.predict_proba(gram)
