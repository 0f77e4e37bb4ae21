"""A scikit-learn-style generative estimator: the quantum circuit Born machine on bit images.

``fit(X[, y])`` learns the distribution of 0/1 pixel rows ``X`` ``(N, n)`` (per class when
``conditional=True``), ``sample(n_samples[, label])`` draws new rows, ``score(X[, y])`` is the
mean log-likelihood of rows under the model (exact probabilities, floored at 1e-12), and
``save(path)`` writes a model file that ``qimage sample`` reads.

Example:
    >>> import numpy as np
    >>> from qimage.data.bars import bars_and_stripes
    >>> X = bars_and_stripes(2, 2).reshape(-1, 4)
    >>> born = BornMachine(n_layers=2, epochs=5, random_state=0).fit(X)
    >>> born.sample(3, random_state=0).shape
    (3, 4)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from qimage.models import ModelConfig, build_model, count_parameters
from qimage.models.born import born_sample, born_targets
from qimage.preprocess.bits import bits_to_index, check_bits
from qimage.sim import Execution
from qimage.train import TrainConfig, fit, save_model

__all__ = ["BornMachine"]

_FLOOR = 1e-12


def _seed(random_state) -> int:
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class BornMachine(BaseEstimator):
    """The quantum circuit Born machine as an estimator (one qubit a pixel).

    Args:
        n_layers, ansatz: the circuit (see :class:`qimage.models.families.born.BornConfig`).
        conditional: learn one distribution per class of ``y`` ("draw me a 3").
        loss: ``"mmd"`` (Gaussian-kernel MMD) or ``"kl"`` (exact KL divergence).
        epochs, batch_size, lr: training by :func:`qimage.train.fit` (Adam, no schedule).
        shots: train on shot estimates with parameter-shift gradients (``None``: exact).
        rows: image height, saved for pictures (``qimage sample``).
        random_state: fixes initial weights, batch order and shots.

    Fitted: ``model_``, ``config_``, ``classes_``, ``n_features_in_``, ``n_parameters_``.
    """

    def __init__(
        self,
        n_layers: int = 4,
        ansatz: str = "hardware_efficient",
        conditional: bool = False,
        loss: str = "mmd",
        epochs: int = 100,
        batch_size: int = 64,
        lr: float = 0.05,
        shots: int | None = None,
        rows: int | None = None,
        random_state=None,
    ):
        self.n_layers, self.ansatz, self.conditional = n_layers, ansatz, conditional
        self.loss, self.epochs, self.batch_size, self.lr = loss, epochs, batch_size, lr
        self.shots, self.rows, self.random_state = shots, rows, random_state

    size_param = None  # the baselines are matched to it (qimage.estimators.generative)

    def _config(self, n_features: int, n_classes: int) -> ModelConfig:
        return ModelConfig(
            "born",
            n_features=n_features,
            n_classes=n_classes,
            n_layers=self.n_layers,
            ansatz=self.ansatz,
            conditional=self.conditional,
            rows=self.rows,
            loss=self.loss,
        )

    def parameter_count(self, n_features: int, n_classes: int = 1) -> int:
        """Trainable parameters of the circuit on ``n_features`` pixels, before fitting."""
        return count_parameters(build_model(self._config(n_features, n_classes)))

    def _labels(self, y, n: int) -> torch.Tensor | None:
        """Class codes ``0..C-1`` of ``y`` (through ``classes_``), or ``None`` unconditioned."""
        if not self.conditional:
            return None
        if y is None or len(y) != n:
            raise ValueError("a conditional BornMachine needs one label per row of X")
        codes = np.searchsorted(self.classes_, y)
        if (codes >= len(self.classes_)).any() or (self.classes_[codes] != y).any():
            raise ValueError(f"labels must be among the fitted classes {self.classes_.tolist()}")
        return torch.as_tensor(codes)

    def fit(self, X, y=None) -> BornMachine:
        bits = check_bits(X, "BornMachine")
        self.n_features_in_ = bits.shape[1]
        self.classes_ = np.unique(y) if self.conditional and y is not None else np.array([0])
        labels = self._labels(y, len(bits))
        seed = _seed(self.random_state)
        self.config_ = self._config(bits.shape[1], len(self.classes_))
        self.model_ = build_model(self.config_, torch.Generator().manual_seed(seed)).double()
        self.n_parameters_ = count_parameters(self.model_)
        x = self.model_.inputs(labels, n=len(bits))
        train = TrainConfig(
            self.epochs, self.batch_size, self.lr, schedule="none", val_fraction=0.0, seed=seed
        )
        execution = Execution(shots=self.shots, seed=seed)
        targets = born_targets(torch.as_tensor(bits), labels)
        objective = self.config_.objective
        fit(
            self.model_, x, targets, train, progress=False, execution=execution, objective=objective
        )
        return self

    def _label_code(self, label) -> int | None:
        if label is None:
            return None
        if not self.conditional:
            raise ValueError("this BornMachine was not conditioned on classes; drop the label")
        return int(self._labels(np.array([label]), 1)[0])

    @torch.no_grad()
    def distribution(self, label=None) -> np.ndarray:
        """The model's probabilities ``(2^n,)`` of every bit string (of class ``label``)."""
        check_is_fitted(self, "model_")
        code = self._label_code(label)
        x = self.model_.inputs(None if code is None else torch.tensor([code]))
        return self.model_(x)[0].numpy()

    def sample(self, n_samples: int = 1, label=None, random_state=None) -> np.ndarray:
        """``(n_samples, n_features)`` uint8 rows drawn from the model (of class ``label``)."""
        check_is_fitted(self, "model_")
        generator = torch.Generator().manual_seed(_seed(random_state))
        code = self._label_code(label)
        return born_sample(self.model_, n_samples, code, generator=generator).numpy()

    def score_samples(self, X, y=None) -> np.ndarray:
        """Log-likelihood of each row ``(N,)`` (of its class ``y`` when conditional)."""
        check_is_fitted(self, "model_")
        bits = check_bits(X, "BornMachine")
        if bits.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {bits.shape[1]} pixels; the model has {self.n_features_in_}")
        labels = self._labels(y, len(bits))
        with torch.no_grad():
            p = self.model_(self.model_.inputs(labels, n=len(bits))).numpy()
        return np.log(np.maximum(p[np.arange(len(bits)), bits_to_index(bits)], _FLOOR))

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of the rows (higher is better)."""
        return float(self.score_samples(X, y).mean())

    def save(self, path: str | Path) -> Path:
        """A model file (or ``path/model.safetensors`` for a folder) for ``qimage sample``."""
        check_is_fitted(self, "model_")
        path = Path(path)
        if path.suffix != ".safetensors":
            path.mkdir(parents=True, exist_ok=True)
            path = path / "model.safetensors"
        info = {"class_names": [str(c) for c in self.classes_], "generative": True}
        return save_model(path, self.model_, self.config_, None, info)
