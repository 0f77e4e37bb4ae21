"""The Born machine family and its objective: distributions over bit strings, not classes.

A Born machine (:class:`qimage.models.born.BornMachine`) trains through
:func:`qimage.train.fit` like every model, with its own :class:`BornObjective`:

* inputs ``x``: condition rows, ``model.inputs(labels)`` (class one-hots, or ones);
* targets ``y``: ``label * 2^n + index`` of each training bit string
  (:func:`qimage.models.born.born_targets`);
* outputs: the model's probabilities ``(B, 2^n)``, exact or estimated from shots.

:meth:`BornFamily.prepare` makes ``x`` and ``y`` from binarised images and their classes, so
``qimage train --model born`` runs the ordinary trainer (the images pooled and thresholded by
the ``binarize`` step its :meth:`BornFamily.preprocessing` asks for).

The loss compares, class by class, the model's distribution with the batch's empirical one:
the squared maximum mean discrepancy under a Gaussian kernel on bit strings (a mixture over
bandwidths ``sigmas``; as the squared distance of two bit strings is their Hamming distance,
the kernel matrix is a tensor product of one 2x2 matrix a bit and is applied in
``O(n 2^n)``), or the exact KL divergence ``KL(data || model)``.

Example:
    >>> p = torch.tensor([[0.5, 0.5, 0.0, 0.0]])
    >>> round(total_variation(p, torch.tensor([[0.0, 1.0, 0.0, 0.0]])).item(), 3)
    0.5
    >>> family = BornFamily()
    >>> family.n_qubits(family.options(n_layers=2), n_features=9, n_classes=1)
    9
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch.nn.functional import one_hot

from qimage.circuits import ANSATZE
from qimage.errors import CircuitError
from qimage.models.born import BornMachine, born_targets
from qimage.models.family import Family
from qimage.models.objective import Objective

__all__ = [
    "BORN_KL",
    "BORN_MMD",
    "LOSSES",
    "BornConfig",
    "BornFamily",
    "BornObjective",
    "grouped",
    "image_shape",
    "kernel_apply",
    "kl_divergence",
    "mmd2",
    "total_variation",
]

SIGMAS = (0.25, 1.0, 4.0)
"""Default kernel bandwidths: ``k(x, y) = mean_s exp(-|x - y|^2 / (2 s))``."""

_EPS = 1e-12  # floor of model probabilities inside logarithms


def kernel_apply(v: torch.Tensor, sigmas=SIGMAS) -> torch.Tensor:
    """``K v`` for vectors ``v`` ``(B, 2^n)`` over bit strings, ``K`` the Gaussian kernel
    mixture: per bandwidth, one 2x2 matrix ``[[1, a], [a, 1]]`` on each bit's axis."""
    n = int(math.log2(v.shape[1]))
    out = torch.zeros_like(v)
    for sigma in sigmas:
        a, w = math.exp(-1.0 / (2 * sigma)), v.reshape(-1, *[2] * n)
        for axis in range(1, n + 1):
            w = w + a * w.flip(axis)
        out = out + w.reshape(v.shape)
    return out / len(sigmas)


def mmd2(p: torch.Tensor, q: torch.Tensor, sigmas=SIGMAS) -> torch.Tensor:
    """Squared MMD ``(p - q)^T K (p - q)`` of distributions ``(B, 2^n)``, per row ``(B,)``."""
    d = p - q
    return (d * kernel_apply(d, sigmas)).sum(1)


def kl_divergence(q: torch.Tensor, p: torch.Tensor) -> torch.Tensor:
    """``KL(q || p)`` per row ``(B,)``: data ``q`` against model ``p`` (floored at 1e-12)."""
    terms = q * (torch.log(q.clamp_min(_EPS)) - torch.log(p.clamp_min(_EPS)))
    return torch.where(q > 0, terms, torch.zeros_like(terms)).sum(1)


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """``max_A |p(A) - q(A)| = sum |p - q| / 2`` per row ``(B,)``."""
    return 0.5 * (p - q).abs().sum(1)


def grouped(outputs: torch.Tensor, targets: torch.Tensor):
    """Per class present in the batch: the model distribution ``(C, K)`` (the class's first
    row: a Born machine gives every row of one class the same distribution, so a batch costs
    ``O(C 2^n)``, not ``O(B 2^n)``), the targets' empirical distribution ``(C, K)``, and the
    class weights ``(C,)`` (share of the batch)."""
    k = outputs.shape[1]
    labels, index = targets.long().div(k, rounding_mode="floor"), targets.long() % k
    present, labels = torch.unique(labels, return_inverse=True)
    first = torch.full((len(present),), len(labels), device=labels.device)
    first = first.scatter_reduce(0, labels, torch.arange(len(labels), device=labels.device), "amin")
    counts = torch.bincount(labels, minlength=len(present)).to(outputs.dtype)
    q = torch.zeros(len(present), k, dtype=outputs.dtype, device=outputs.device)
    q = q.index_put((labels, index), torch.ones_like(counts[labels]), accumulate=True)
    return outputs[first], q / counts[:, None], counts / counts.sum()


# A Born loss by name: its label, ``per_class(p_model, q_data, sigmas) -> (C,)``, and
# whether it needs exact probabilities.
_LOSSES = {
    "mmd": ("squared MMD", mmd2, False),
    "kl": ("KL(data || model)", lambda p, q, sigmas: kl_divergence(q, p), True),
}
LOSSES = tuple(_LOSSES)
"""The losses a Born machine trains on (``qimage train --model born --loss NAME``)."""


def _check_loss(name: str) -> None:
    if name not in _LOSSES:
        choices = " or ".join(repr(k) for k in _LOSSES)
        raise CircuitError(f"a Born machine's loss is {choices}, got {name!r}")


@dataclass(frozen=True)
class BornObjective(Objective):
    """Born-machine outputs ``(B, 2^n)`` against targets ``label * 2^n + index`` ``(B,)``.

    ``loss="mmd"`` minimises the squared MMD, ``"kl"`` the exact KL divergence (which needs
    exact probabilities: a bit string a shot estimate misses has probability 0).
    """

    loss_name: str = "mmd"
    sigmas: tuple[float, ...] = SIGMAS
    name: str = "born"
    metrics: tuple[str, ...] = ("neg_mmd", "neg_kl")
    headline: tuple[tuple[str, str], ...] = (("kl", "KL"), ("tv", "TV"), ("mmd2", "MMD²"))
    classifies: bool = False

    def __post_init__(self) -> None:
        _check_loss(self.loss_name)

    @property
    def needs_exact(self) -> bool:
        return _LOSSES[self.loss_name][2]

    @property
    def score(self) -> str:
        return f"neg_{self.loss_name}"

    @property
    def loss_label(self) -> str:
        return _LOSSES[self.loss_name][0]

    @property
    def score_label(self) -> str:
        return f"- {self.loss_label}"

    def loss(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        p, q, w = grouped(outputs, targets)
        per_class = _LOSSES[self.loss_name][1](p, q, self.sigmas)
        return (w * per_class).sum()

    def batch_sums(self, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        p, q, w = grouped(outputs.detach(), targets)
        n = len(targets)
        return {
            "neg_mmd": -n * (w * mmd2(p, q, self.sigmas)).sum().item(),
            "neg_kl": -n * (w * kl_divergence(q, p)).sum().item(),
        }

    def proba(self, outputs: torch.Tensor) -> torch.Tensor:
        p = outputs.clamp_min(0)
        return p / p.sum(1, keepdim=True)

    def report(self, outputs: torch.Tensor, targets: torch.Tensor, n_classes: int) -> dict:
        """KL, TV and MMD of the model against the empirical distribution, weighted over
        classes, and per class."""
        p, q, w = grouped(outputs.detach().double().cpu(), targets.cpu())
        kl, tv, mmd = kl_divergence(q, p), total_variation(p, q), mmd2(p, q, self.sigmas)
        return {
            "n_samples": int(targets.numel()),
            "accuracy": None,  # not a classifier; run summaries read this key
            "kl": (w * kl).sum().item(),
            "tv": (w * tv).sum().item(),
            "mmd2": (w * mmd).sum().item(),
            "per_class": {"kl": kl.tolist(), "tv": tv.tolist(), "mmd2": mmd.tolist()},
        }

    def text_report(self, report: dict, class_names: list[str]) -> str:
        """The headline, then KL, TV and MMD² of each class (one row for an unconditioned
        model, which learns the classes' mixture)."""
        per_class = report["per_class"]
        names = class_names if len(per_class["kl"]) == len(class_names) else ["all"]
        width = max(5, *(len(c) for c in names))
        head = Objective.text_report(self, report, class_names)
        lines = [head, "", f"{'class':>{width}}      KL      TV    MMD²"]
        for i, name in enumerate(names):
            kl, tv, mmd = (per_class[k][i] for k in ("kl", "tv", "mmd2"))
            lines.append(f"{name:>{width}}  {kl:6.3f}  {tv:6.3f}  {mmd:6.4f}")
        return "\n".join(lines)


BORN_MMD = BornObjective()
BORN_KL = BornObjective(loss_name="kl")


@dataclass(frozen=True)
class BornConfig:
    """Options of the Born machine (``n_features`` of the model config = pixels = qubits)."""

    n_layers: int = 4
    ansatz: str = "hardware_efficient"  # qimage.circuits.ANSATZE
    conditional: bool = False  # one set of initial angles per class ("draw me a 3")
    rows: int | None = None  # image height for pictures (width = pixels / rows)
    loss: str = "mmd"  # LOSSES: "mmd", or "kl" (exact probabilities only)

    def __post_init__(self) -> None:
        _check_loss(self.loss)
        if self.n_layers < 1:
            raise CircuitError(f"n_layers must be >= 1, got {self.n_layers}")
        if self.ansatz not in ANSATZE:
            raise CircuitError(f"unknown ansatz {self.ansatz!r}; choose one of {list(ANSATZE)}")
        if self.rows is not None and self.rows < 1:
            raise CircuitError(f"rows must be >= 1, got {self.rows}")


class BornFamily(Family):
    """A quantum circuit Born machine: one qubit a pixel, trained by MMD (or KL)."""

    name = "born"
    summary = "quantum circuit Born machine: generates bit-string images (MMD or KL)"
    Config = BornConfig
    objective = BORN_MMD
    quantum = True

    def objective_for(self, options: BornConfig) -> BornObjective:
        return BornObjective(loss_name=options.loss)

    def preprocessing(self, options: BornConfig, n_classes: int) -> dict:
        """Images pooled to 4x4 (16 qubits; ``downsample`` changes it) and binarised at a
        level fitted on the training images."""
        return {"binarize": True, "downsample": 4}

    def prepare(self, options: BornConfig, X: torch.Tensor, y: torch.Tensor, n_classes: int):
        """Condition rows (class one-hots, or ones) and targets ``label * 2^n + index`` of
        the 0/1 pixel rows ``X`` (:func:`qimage.models.born.born_targets`)."""
        if options.conditional:
            return one_hot(y.long(), n_classes).to(X.dtype), born_targets(X, y)
        return torch.ones(len(X), 1, dtype=X.dtype), born_targets(X)

    def resolve(self, options: BornConfig, n_features: int, n_classes: int) -> BornConfig:
        """``rows`` defaults to the side of a square image (pooled images are square)."""
        side = math.isqrt(n_features)
        if options.rows is None and side * side == n_features:
            return replace(options, rows=side)
        return options

    def n_qubits(self, options: BornConfig, n_features: int, n_classes: int) -> int:
        return n_features

    def build(self, options: BornConfig, n_features: int, n_classes: int, generator):
        if options.rows is not None and n_features % options.rows:
            raise CircuitError(f"{n_features} pixels do not fill {options.rows} rows")
        conditions = n_classes if options.conditional else 1
        return BornMachine(
            n_features, options.n_layers, options.ansatz, conditions, generator=generator
        )

    def describe(self, options: BornConfig) -> str:
        given = ", class-conditioned" if options.conditional else ""
        loss = "" if options.loss == "mmd" else f", {options.loss} loss"
        return f"born ({options.ansatz} x{options.n_layers}{given}{loss})"


def image_shape(options: BornConfig, n_pixels: int) -> tuple[int, int]:
    """``(rows, cols)`` of the model's pictures (one row when ``rows`` is unset)."""
    rows = options.rows or 1
    return rows, n_pixels // rows
