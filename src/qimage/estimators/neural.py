"""The neural-network estimators: QNN, dressed QNN, quanvolution, any registry model."""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from qimage.models import ModelConfig, build_model, quanv_features
from qimage.sim import Execution
from qimage.train import TrainConfig, fit, predict_logits

__all__ = ["DressedQNNClassifier", "ModelClassifier", "QNNClassifier", "QuanvClassifier"]

_PRECISION = "complex128"  # per-sample results independent of the batch they are computed in


def _seed(random_state) -> int:
    """A 31-bit seed drawn from ``random_state`` (None: fresh entropy)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def _targets(estimator, y: np.ndarray) -> np.ndarray:
    """Set ``classes_``; return labels as indices ``0..C-1``. Refuses a single class."""
    check_classification_targets(y)
    estimator.classes_, codes = np.unique(y, return_inverse=True)
    if len(estimator.classes_) < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes; got 1 class"
        )
    return codes


def _tensor(X: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(X, dtype=np.float64))  # a copy: X may be read-only


class _TorchClassifier(ClassifierMixin, BaseEstimator):
    """Shared fit/predict of the neural estimators; subclasses say which model to build."""

    def _config(self, n_features: int, n_classes: int) -> ModelConfig:
        """The registry config of the model to fit; every subclass defines it."""
        raise NotImplementedError

    def _inputs(self, X: np.ndarray) -> torch.Tensor:
        """Validated ``X`` -> model features (identity here; scaling for image rows)."""
        return _tensor(X)

    def _train_config(self, seed: int) -> TrainConfig:
        return TrainConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            val_fraction=0.0,
            seed=seed,
        )

    def _execution(self) -> Execution:
        """How the circuits run: the estimator's diff method (if it has one; ``None``: the
        engine's choice, backprop where it fits in memory, else adjoint), complex128."""
        return Execution(diff_method=getattr(self, "diff_method", None), dtype=_PRECISION)

    def _train(self, features: torch.Tensor, codes: torch.Tensor, seed: int) -> None:
        self.history_ = fit(
            self.model_,
            features,
            codes,
            self._train_config(seed),
            progress=False,
            execution=self._execution(),
            objective=self.config_.objective,
        )

    def fit(self, X, y):
        """Train a fresh model on ``X`` ``(n_samples, n_features)`` and labels ``y``."""
        X, y = validate_data(self, X, y, dtype=np.float64)
        codes = torch.from_numpy(_targets(self, y).astype(np.int64))
        seed = _seed(self.random_state)
        features = self._fit_inputs(X)
        self.config_ = self._config(features.shape[1], len(self.classes_)).resolved()
        generator = torch.Generator().manual_seed(seed)
        self.model_ = build_model(self.config_.validate(), generator).double()
        self._train(features, codes, seed)
        return self

    def _fit_inputs(self, X: np.ndarray) -> torch.Tensor:
        return self._inputs(X)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``(n_samples, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        logits = predict_logits(self.model_, self._inputs(X), execution=self._execution())
        return self.config_.objective.proba(logits).cpu().numpy()

    def predict(self, X) -> np.ndarray:
        """The most probable class of each sample."""
        proba = self.predict_proba(X)  # checks fitting first
        return self.classes_[proba.argmax(axis=1)]


class QNNClassifier(_TorchClassifier):
    """The quantum-only :class:`qimage.models.QNN` as a scikit-learn classifier.

    Features are used as the encoder expects them (angles for ``"angle"``/``"iqp"``,
    amplitudes for ``"amplitude"``); scale them first, e.g. ``MinMaxScaler((0, np.pi))`` in a
    ``Pipeline``. ``n_qubits=None`` takes the fewest qubits that hold the features and the
    readout.

    Attributes:
        classes_, n_features_in_, config_ (the :class:`ModelConfig`), model_, history_.
    """

    def __init__(
        self,
        *,
        n_qubits: int | None = None,
        n_layers: int = 2,
        encoder: str = "angle",
        ansatz: str = "strongly_entangling",
        readout: str = "probs",
        diff_method: str | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        lr: float = 0.05,
        random_state=None,
    ):
        self.n_qubits = n_qubits
        self.n_layers = n_layers
        self.encoder = encoder
        self.ansatz = ansatz
        self.readout = readout
        self.diff_method = diff_method
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def _config(self, n_features: int, n_classes: int) -> ModelConfig:
        return ModelConfig(
            name="qnn",
            n_features=n_features,
            n_classes=n_classes,
            n_qubits=self.n_qubits,
            n_layers=self.n_layers,
            encoder=self.encoder,
            ansatz=self.ansatz,
            readout=self.readout,
        )


class DressedQNNClassifier(_TorchClassifier):
    """The hybrid :class:`qimage.models.DressedQNN` as a scikit-learn classifier.

    Attributes:
        classes_, n_features_in_, config_, model_, history_.
    """

    def __init__(
        self,
        *,
        n_qubits: int = 4,
        n_layers: int = 2,
        ansatz: str = "strongly_entangling",
        diff_method: str | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        lr: float = 0.02,
        random_state=None,
    ):
        self.n_qubits = n_qubits
        self.n_layers = n_layers
        self.ansatz = ansatz
        self.diff_method = diff_method
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def _config(self, n_features: int, n_classes: int) -> ModelConfig:
        return ModelConfig(
            name="dressed",
            n_features=n_features,
            n_classes=n_classes,
            n_qubits=self.n_qubits,
            n_layers=self.n_layers,
            ansatz=self.ansatz,
        )


class ModelClassifier(_TorchClassifier):
    """Any registry model (``"logreg"``, ``"mlp"``, ``"cnn"``, ``"qnn"``, ...) by name.

    ``options`` sets further :class:`qimage.models.ModelConfig` fields, e.g.
    ``ModelClassifier(model="mlp", options={"hidden": 16})``; features go in as given.

    Attributes:
        classes_, n_features_in_, config_, model_, history_.
    """

    def __init__(
        self,
        *,
        model: str = "mlp",
        options: dict | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        lr: float = 0.01,
        random_state=None,
    ):
        self.model = model
        self.options = options
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def _config(self, n_features: int, n_classes: int) -> ModelConfig:
        options = self.options or {}
        return ModelConfig(name=self.model, n_features=n_features, n_classes=n_classes, **options)


class QuanvClassifier(_TorchClassifier):
    """Quanvolution + classical head (:class:`qimage.models.QuanvNet`) on image rows.

    Each row of ``X`` holds the pixels of one square image, row-major; rows that are not a
    perfect square (or smaller than one window) are zero-padded to the smallest square
    image that fits. Pixels are mapped to angles by one linear map fitted on the training
    data, ``[min(X), max(X)] -> [0, pi]`` (``data_min_``, ``data_max_``), clipped.

    A frozen circuit (``trainable=False``) is simulated once per ``fit``: its features are
    computed with :func:`qimage.models.quanv_features` (cached in ``cache_dir`` if given)
    and only the head is trained. A trainable circuit trains end to end. A frozen one is a
    random feature map, so it carries scikit-learn's ``poor_score`` tag: it is not promised
    to fit every data set well.

    Attributes:
        classes_, n_features_in_, data_min_, data_max_, image_size_, config_, model_, history_.
    """

    def __init__(
        self,
        *,
        patch: int = 2,
        stride: int = 2,
        n_layers: int = 1,
        ansatz: str = "strongly_entangling",
        trainable: bool = False,
        hidden: int = 0,
        cache_dir: str | None = None,
        epochs: int = 20,
        batch_size: int = 32,
        lr: float = 0.01,
        random_state=None,
    ):
        self.patch = patch
        self.stride = stride
        self.n_layers = n_layers
        self.ansatz = ansatz
        self.trainable = trainable
        self.hidden = hidden
        self.cache_dir = cache_dir
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # A frozen random circuit is a fixed random feature map: on scikit-learn's 2-feature
        # blobs (one 2x2 patch) it may keep too little for the head to reach 83%.
        tags.classifier_tags.poor_score = not self.trainable
        return tags

    def _fit_inputs(self, X: np.ndarray) -> torch.Tensor:
        self.data_min_, self.data_max_ = float(X.min()), float(X.max())
        self.image_size_ = max(self.patch, math.ceil(math.sqrt(X.shape[1])))
        return self._inputs(X)

    def _inputs(self, X: np.ndarray) -> torch.Tensor:
        span = self.data_max_ - self.data_min_
        unit = np.clip((X - self.data_min_) / (span if span > 0 else 1.0), 0.0, 1.0)
        padded = np.zeros((len(X), self.image_size_**2))
        padded[:, : X.shape[1]] = unit * math.pi
        return torch.from_numpy(padded)

    def _config(self, n_features: int, n_classes: int) -> ModelConfig:
        return ModelConfig(
            name="quanv",
            n_features=n_features,
            n_classes=n_classes,
            n_layers=self.n_layers,
            ansatz=self.ansatz,
            patch=self.patch,
            stride=self.stride,
            trainable=self.trainable,
            hidden=self.hidden,
            image_size=self.image_size_,
        )

    def _train(self, features: torch.Tensor, codes: torch.Tensor, seed: int) -> None:
        if self.trainable:
            return super()._train(features, codes, seed)
        net = self.model_
        images = features.reshape(-1, net.side, net.side)
        execution = self._execution()
        maps = quanv_features(images, net.quanv, cache_dir=self.cache_dir, execution=execution)
        maps = maps.flatten(1)
        self.history_ = fit(net.head, maps, codes, self._train_config(seed), progress=False)
