"""Classical generative models on bit strings, the Born machine's baselines.

Each is a scikit-learn-style estimator on 0/1 rows ``X`` ``(N, n)`` with the Born machine's
interface (:class:`qimage.estimators.BornMachine`): ``fit(X)``, ``distribution()`` (the
probability of every one of the ``2^n`` strings, in :func:`qimage.preprocess.bits_to_index`
order), ``sample(n_samples, random_state)``, ``score(X)`` (mean log-likelihood) and
``n_parameters_``. ``parameter_count(n)`` gives the count before fitting and
``size_param`` names the option that sets it, so :func:`matched` sizes a baseline to
another model's parameter count.

* :class:`IndependentBits`: every pixel an independent Bernoulli variable (``n`` parameters);
* :class:`BitRBM`: scikit-learn's ``BernoulliRBM``; exact probabilities by enumerating its
  free energy, samples from Gibbs chains started at random strings;
* :class:`MADE`: a one-hidden-layer masked autoregressive network trained by likelihood
  (counted parameters: the unmasked weights and the biases).

Example:
    >>> import numpy as np
    >>> X = np.array([[0, 1], [0, 1], [1, 1]])
    >>> model = IndependentBits().fit(X)
    >>> model.distribution().round(3).tolist()
    [0.12, 0.48, 0.08, 0.32]
    >>> matched(MADE(), n_features=9, target=100).hidden
    9
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.neural_network import BernoulliRBM
from sklearn.utils.validation import check_is_fitted
from torch import nn

from qimage.preprocess.bits import bits_to_index, check_bits, index_to_bits

__all__ = ["MADE", "BitRBM", "IndependentBits", "all_strings", "matched"]

_FLOOR = 1e-300  # log of a probability that underflowed
_MAX_SIZE = 4096  # the largest hidden width matched() tries


def all_strings(n: int) -> np.ndarray:
    """Every bit string ``(2^n, n)`` uint8, in index order (pixel 0 the top bit)."""
    return index_to_bits(np.arange(2**n), n)


def _seed(random_state) -> int:
    return 0 if random_state is None else int(random_state)


class _BitModel(BaseEstimator):
    """What the baselines share: checks, likelihood, and the size for :func:`matched`."""

    size_param: str | None = None

    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each row ``(N,)``."""
        check_is_fitted(self, "n_parameters_")
        p = self.distribution()[bits_to_index(check_bits(X, type(self).__name__))]
        return np.log(np.maximum(p, _FLOOR))

    def score(self, X, y=None) -> float:
        """Mean log-likelihood of the rows (higher is better)."""
        return float(self.score_samples(X).mean())


class IndependentBits(_BitModel):
    """Independent pixels; ``alpha`` is the Laplace smoothing of their frequencies."""

    def __init__(self, alpha: float = 1.0, random_state=None):
        self.alpha, self.random_state = alpha, random_state

    def parameter_count(self, n_features: int) -> int:
        return n_features

    def fit(self, X, y=None) -> IndependentBits:
        bits = check_bits(X, "IndependentBits")
        self.theta_ = (bits.sum(0) + self.alpha) / (len(bits) + 2 * self.alpha)
        self.n_parameters_ = self.parameter_count(bits.shape[1])
        return self

    def distribution(self) -> np.ndarray:
        x = all_strings(len(self.theta_))
        return np.where(x == 1, self.theta_, 1 - self.theta_).prod(1)

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        g = torch.Generator().manual_seed(_seed(random_state))
        theta = torch.as_tensor(self.theta_).double().expand(n_samples, len(self.theta_))
        return torch.bernoulli(theta, generator=g).to(torch.uint8).numpy()


class BitRBM(_BitModel):
    """A restricted Boltzmann machine with ``n_components`` hidden units (scikit-learn's
    ``BernoulliRBM``, persistent contrastive divergence); samples after ``gibbs_steps``."""

    size_param = "n_components"

    def __init__(
        self,
        n_components: int = 8,
        learning_rate: float = 0.05,
        batch_size: int = 16,
        n_iter: int = 200,
        gibbs_steps: int = 200,
        random_state=None,
    ):
        self.n_components, self.learning_rate = n_components, learning_rate
        self.batch_size, self.n_iter = batch_size, n_iter
        self.gibbs_steps, self.random_state = gibbs_steps, random_state

    def parameter_count(self, n_features: int) -> int:
        return n_features * self.n_components + n_features + self.n_components

    def fit(self, X, y=None) -> BitRBM:
        bits = check_bits(X, "BitRBM")
        self.rbm_ = BernoulliRBM(
            self.n_components,
            learning_rate=self.learning_rate,
            batch_size=self.batch_size,
            n_iter=self.n_iter,
            random_state=self.random_state,
        ).fit(bits.astype(np.float64))
        self.n_parameters_ = self.parameter_count(bits.shape[1])
        return self

    def distribution(self) -> np.ndarray:
        """Exact: ``p(v) ∝ exp(-F(v))`` over all strings (free energy ``F``)."""
        rbm = self.rbm_
        x = all_strings(rbm.components_.shape[1]).astype(np.float64)
        log_w = x @ rbm.intercept_visible_ + np.logaddexp(
            0, x @ rbm.components_.T + rbm.intercept_hidden_
        ).sum(1)
        return np.exp(log_w - np.logaddexp.reduce(log_w))

    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        n = self.rbm_.components_.shape[1]
        rng = np.random.default_rng(_seed(random_state))
        chains = rng.integers(0, 2, (n_samples, n)).astype(np.float64)
        for _ in range(self.gibbs_steps):
            chains = self.rbm_.gibbs(chains).astype(np.float64)
        return chains.astype(np.uint8)


class _MaskedNet(nn.Module):
    """One hidden layer whose masks let output ``j`` (the logit of ``p(x_j = 1 | x_<j)``)
    see only pixels ``< j``: hidden unit ``k`` has degree ``k mod (n-1) + 1`` and sees the
    pixels before it."""

    def __init__(self, n: int, hidden: int, generator: torch.Generator):
        super().__init__()
        degrees = torch.arange(hidden) % max(n - 1, 1) + 1
        self.register_buffer("m_in", (degrees[:, None] >= torch.arange(1, n + 1)).double())
        self.register_buffer("m_out", (torch.arange(n)[:, None] >= degrees[None]).double())
        self.w_in = nn.Parameter(torch.randn(hidden, n, generator=generator).double() / n**0.5)
        self.b_in = nn.Parameter(torch.zeros(hidden, dtype=torch.float64))
        w_out = torch.randn(n, hidden, generator=generator).double() / hidden**0.5
        self.w_out = nn.Parameter(w_out)
        self.b_out = nn.Parameter(torch.zeros(n, dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(x @ (self.w_in * self.m_in).T + self.b_in)
        return h @ (self.w_out * self.m_out).T + self.b_out

    def counted(self) -> int:
        return int(self.m_in.sum() + self.m_out.sum()) + len(self.b_in) + len(self.b_out)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return -nn.functional.binary_cross_entropy_with_logits(self(x), x, reduction="none").sum(1)


class MADE(_BitModel):
    """A masked autoregressive network with ``hidden`` units, full-batch Adam for ``steps``."""

    size_param = "hidden"

    def __init__(self, hidden: int = 8, steps: int = 500, lr: float = 0.02, random_state=None):
        self.hidden, self.steps, self.lr, self.random_state = hidden, steps, lr, random_state

    def parameter_count(self, n_features: int) -> int:
        return _MaskedNet(n_features, self.hidden, torch.Generator()).counted()

    def fit(self, X, y=None) -> MADE:
        bits = check_bits(X, "MADE")
        self.generator_ = torch.Generator().manual_seed(_seed(self.random_state))
        self.net_ = _MaskedNet(bits.shape[1], self.hidden, self.generator_)
        x = torch.as_tensor(bits).double()
        optimizer = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        for _ in range(self.steps):
            optimizer.zero_grad()
            (-self.net_.log_prob(x).mean()).backward()
            optimizer.step()
        self.n_parameters_ = self.net_.counted()
        return self

    @torch.no_grad()
    def distribution(self) -> np.ndarray:
        x = torch.as_tensor(all_strings(len(self.net_.b_out))).double()
        return self.net_.log_prob(x).exp().numpy()

    @torch.no_grad()
    def sample(self, n_samples: int = 1, random_state=None) -> np.ndarray:
        """Pixel by pixel; without ``random_state`` the draws continue the fit's generator."""
        g = self.generator_
        if random_state is not None:
            g = torch.Generator().manual_seed(int(random_state))
        x = torch.zeros(n_samples, len(self.net_.b_out), dtype=torch.float64)
        for j in range(x.shape[1]):
            x[:, j] = torch.bernoulli(torch.sigmoid(self.net_(x)[:, j]), generator=g)
        return x.to(torch.uint8).numpy()


def matched(estimator, n_features: int, target: int):
    """A clone of ``estimator`` whose :attr:`size_param` gives the parameter count closest
    to ``target`` on ``n_features`` bits (the smaller size on a tie); the estimator itself
    when its size is fixed."""
    name = getattr(estimator, "size_param", None)
    if name is None:
        return estimator

    def count(size: int) -> int:
        return clone(estimator).set_params(**{name: size}).parameter_count(n_features)

    size = 1
    while size < _MAX_SIZE and count(size) < target:
        size += 1
    if size > 1 and abs(count(size - 1) - target) <= abs(count(size) - target):
        size -= 1
    return clone(estimator).set_params(**{name: size})
