"""Cells of generative tasks: a model learns the distribution of bit images, and is scored
against the test strings.

Data (:func:`task_bits`): ``bars-and-stripes`` (every valid ``side x side`` image, train =
test, the textbook set) or a dataset's images pooled to ``side x side`` and binarised at the
training split's mean pooled pixel. Models come from :data:`GENERATORS` (the Born machine
and its classical baselines, all with ``fit`` / ``distribution`` / ``sample``); a model with
``{"match": NAME}`` is sized to the parameter count of the suite's model ``NAME``.

A row records (:func:`bit_metrics`) the exact KL divergence ``KL(test || model)`` and total
variation over all ``2^n`` strings, the squared MMD of :data:`N_SAMPLES` samples' histogram
against the test distribution (the Born loss's kernel), novelty (share of samples not in
the training set), validity where the data defines it (bars and stripes), the parameter
count, and the first :data:`SHOWN` samples as ``"0101..."`` strings for the report's grids.

Example:
    >>> import numpy as np
    >>> train = np.array([[0, 0], [1, 1]])
    >>> m = bit_metrics(np.array([0.5, 0, 0, 0.5]), train, train, train, None)
    >>> m["kl"], m["tv"], m["novelty"]
    (0.0, 0.0, 0.0)
"""

from __future__ import annotations

import time

import numpy as np
import torch

from qimage.bench.spec import BenchModel, Task
from qimage.data.bars import bars_and_stripes, is_bars_and_stripes
from qimage.estimators import MADE, BitRBM, BornMachine, IndependentBits
from qimage.estimators.generative import matched
from qimage.models.families.born import kl_divergence, mmd2, total_variation
from qimage.preprocess.bits import bits_to_index, load_bits

__all__ = ["GENERATORS", "N_SAMPLES", "SHOWN", "bit_metrics", "generative_cell", "task_bits"]

N_SAMPLES = 1000
"""Samples drawn per model and seed (MMD, novelty, validity)."""
SHOWN = 64
"""Samples a row keeps, for the report's sample grid."""

GENERATORS = {
    "born": BornMachine,
    "bernoulli": IndependentBits,
    "rbm": BitRBM,
    "made": MADE,
}
"""Generative estimators by ``BenchModel.estimator``: ``factory(random_state=seed, **params)``."""


def _bars(task: Task, data_dir):
    bits = bars_and_stripes(task.image_side, task.image_side).reshape(-1, task.n_features())
    return bits, bits, is_bars_and_stripes


def _pooled(task: Task, data_dir):
    data = load_bits(task.dataset, task.image_side, list(task.classes or []), data_dir)
    return data.train, data.test, None


_SOURCES = {"bars-and-stripes": _bars}  # any other name: a dataset, pooled and binarised


def task_bits(task: Task, data_dir=None):
    """``(train, test, valid)``: bit rows ``(N, side^2)`` uint8 of both splits, and the
    validity test of images ``(N, side, side)`` (None where the data defines none)."""
    return _SOURCES.get(task.dataset, _pooled)(task, data_dir)


def _distribution(bits: np.ndarray, n: int) -> torch.Tensor:
    counts = np.bincount(bits_to_index(bits), minlength=2**n)
    return torch.as_tensor(counts / counts.sum()).double()[None]


def bit_metrics(p: np.ndarray, samples, train, test, valid) -> dict:
    """KL, TV, MMD² (of the samples), novelty and validity of a model with probabilities
    ``p`` ``(2^n,)`` and ``samples`` ``(S, n)``, against ``test`` rows; ``valid`` takes images
    ``(S, side, side)`` (None: no validity)."""
    n = train.shape[1]
    q, p = _distribution(test, n), torch.as_tensor(p).double()[None]
    p = p.clamp_min(0) / p.clamp_min(0).sum()
    seen = np.isin(bits_to_index(samples), bits_to_index(train))
    out = {
        "kl": kl_divergence(q, p).item(),
        "tv": total_variation(p, q).item(),
        "mmd2": mmd2(_distribution(samples, n), q).item(),
        "novelty": float(1 - seen.mean()),
    }
    if valid is not None:
        side = round(n**0.5)
        out["validity"] = float(valid(samples.reshape(-1, side, side)).mean())
    return out


def _estimator(bench: BenchModel, suite_models, n: int, seed: int, params: dict):
    """The estimator of ``bench``, sized to its ``match`` model's parameter count."""
    own = {k: v for k, v in {**bench.model, **params}.items() if k != "match"}
    estimator = GENERATORS[bench.estimator](random_state=seed, **own)
    if "match" not in bench.model:
        return estimator
    other = next(m for m in suite_models if m.name == bench.model["match"])
    target = _estimator(other, suite_models, n, seed, {}).parameter_count(n)
    return matched(estimator, n, target)


def _subsample(bits: np.ndarray, size, seed: int) -> np.ndarray:
    if size is None or size >= len(bits):
        return bits
    keep = np.random.default_rng(seed).choice(len(bits), size, replace=False)
    return bits[np.sort(keep)]


def generative_cell(task, bench, suite_models, size, seed, params, data_dir=None, device=None):
    """Fit one generative model on the task's training strings and score it."""
    train, test, valid = task_bits(task, data_dir)
    train = _subsample(train, size, seed)
    estimator = _estimator(bench, suite_models, train.shape[1], seed, params)
    start = time.perf_counter()
    estimator.fit(train)
    seconds = time.perf_counter() - start
    samples = estimator.sample(N_SAMPLES, random_state=seed)
    metrics = bit_metrics(estimator.distribution(), samples, train, test, valid)
    return {
        **metrics,
        "accuracy": None,  # not a classifier
        "summary": f"KL {metrics['kl']:.4f}",
        "n_parameters": int(estimator.n_parameters_),
        "train_seconds": seconds,
        "n_train": len(train),
        "image_shape": [task.image_side, task.image_side],
        "samples": ["".join(map(str, row)) for row in samples[:SHOWN].tolist()],
        "estimator_params": {k: _plain(v) for k, v in estimator.get_params().items()},
    }


def _plain(value):
    return value if isinstance(value, (int, float, str, bool, type(None))) else repr(value)
