"""One training loop for every model: quantum, hybrid and classical alike.

``fit(model, X, y, config)`` trains with the family's objective (cross-entropy for
classifiers) and Adam or SGD on mini-batches, runs the model under an
:class:`qimage.sim.Execution` (shots, noise, gradient method, device) passed to every forward
call, holds out a validation split for model selection and early stopping, shows a progress bar,
stops on a NaN loss with a clear message, and (given a checkpoint path) saves a checkpoint
after every epoch. Ctrl-C saves a checkpoint at the current batch and raises
:class:`TrainingInterrupted`; ``fit(..., resume=True)`` then continues so exactly that the
final weights equal those of an uninterrupted run. Given ``ranks`` (see
:mod:`qimage.train.distributed`) it trains data-parallel: each global batch is shared out
between the ranks and their gradients averaged.

Example:
    >>> import torch
    >>> model = torch.nn.Linear(4, 3)
    >>> X, y = torch.randn(60, 4), torch.randint(0, 3, (60,))
    >>> history = fit(model, X, y, TrainConfig(epochs=2, progress=False))  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import math
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from qimage.errors import TrainingError
from qimage.models import CLASSIFICATION, Objective
from qimage.models.layer import device_of
from qimage.sim import Execution
from qimage.train.checkpoint import load_checkpoint, save_checkpoint
from qimage.train.config import TrainConfig
from qimage.train.distributed import Ranks
from qimage.train.progress import ProgressBar

__all__ = ["History", "TrainingInterrupted", "fit", "predict_logits"]


class TrainingInterrupted(TrainingError):
    """Training stopped at the user's request; the checkpoint named in the message resumes it."""

    def __init__(self, message: str, checkpoint: Path | None):
        super().__init__(message)
        self.checkpoint = checkpoint


@dataclass
class History:
    """Per-epoch metrics: ``rows[i]`` has epoch, losses, accuracies, lr, seconds, samples/s."""

    rows: list[dict] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False

    def last(self) -> dict:
        return self.rows[-1] if self.rows else {}


@dataclass
class _Run:
    """Mutable training state, all of it saved in checkpoints."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    order: torch.Generator  # batch order
    train_idx: torch.Tensor
    val_idx: torch.Tensor
    epoch: int = 0
    batch: int = 0
    perm: torch.Tensor | None = None
    execution: Execution | None = None
    objective: Objective = CLASSIFICATION
    sums: dict = field(default_factory=dict)  # loss, the objective's metrics, count, seconds
    history: History = field(default_factory=History)
    best_state: dict | None = None
    best_acc: float = -1.0
    since_best: int = 0
    ranks: Ranks | None = None  # data-parallel: this process's rank
    net: nn.Module | None = None  # what training calls: the model, or it wrapped in DDP


class _StopFlag:
    """SIGINT sets a flag the loop checks between batches; a second Ctrl-C aborts at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def _optimizer(model: nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay
        )
    return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _scheduler(optimizer, cfg: TrainConfig):
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)
    if cfg.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=max(1, 2 * cfg.epochs // 3))
    return None


def _split(n: int, cfg: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random validation split of ``val_fraction`` of the ``n`` training samples."""
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(cfg.seed + 1))
    n_val = round(cfg.val_fraction * n)
    if cfg.val_fraction and (n_val < 1 or n_val >= n):
        raise TrainingError(
            f"val_fraction={cfg.val_fraction} of {n} samples leaves an empty split; "
            "use more data or val_fraction=0"
        )
    return perm[n_val:].sort().values, perm[:n_val].sort().values


def _check_data(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> None:
    if X.dim() < 2 or y.dim() != 1 or X.shape[0] != y.shape[0]:
        raise TrainingError(
            f"expected X (n_samples, ...) and y (n_samples,), got {tuple(X.shape)} and "
            f"{tuple(y.shape)}"
        )
    if X.is_floating_point() and not torch.isfinite(X).all():
        raise TrainingError("the training features contain NaN or infinite values")


def _check_exact(objective: Objective, execution: Execution | None) -> None:
    if objective.needs_exact and execution is not None and execution.shots is not None:
        raise TrainingError(
            f"the {objective.loss_label} loss needs exact probabilities, not estimates from "
            f"{execution.shots} shots; train without shots or with another loss"
        )


def _new_run(model, X, y, cfg: TrainConfig, execution, objective) -> _Run:
    train_idx, val_idx = _split(X.shape[0], cfg)
    optimizer = _optimizer(model, cfg)
    order = torch.Generator().manual_seed(cfg.seed + 2)
    scheduler = _scheduler(optimizer, cfg)
    return _Run(
        model,
        optimizer,
        scheduler,
        order,
        train_idx,
        val_idx,
        execution=execution,
        objective=objective,
    )


def _forward(model: nn.Module, x: torch.Tensor, execution: Execution | None) -> torch.Tensor:
    """``model(x)`` under ``execution`` (plain PyTorch modules are called as they are)."""
    if execution is None:
        return model(x)
    return model(x.to(device_of(model, execution)), execution=execution)


def _rng_states(run: _Run) -> dict:
    """Every generator training draws from: CPU, each CUDA device, the execution's shots."""
    states = {"torch_rng": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda_rng"] = torch.stack(torch.cuda.get_rng_state_all())
    shots = _shots_rng(run)
    if shots is not None:
        states["shots_rng"] = shots.get_state()
    return states


def _shots_rng(run: _Run) -> torch.Generator | None:
    if run.execution is None:
        return None
    return run.execution.rng(device_of(run.model, run.execution))


def _set_rng_states(run: _Run, state: dict) -> None:
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(list(state["cuda_rng"]))
    shots = _shots_rng(run)
    if shots is not None and "shots_rng" in state:
        shots.set_state(state["shots_rng"])


def _state(run: _Run, cfg: TrainConfig) -> dict:
    return {
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict() if run.scheduler else {},
        "order_rng": run.order.get_state(),
        **_rng_states(run),
        "epoch": run.epoch,
        "batch": run.batch,
        "perm": run.perm if run.perm is not None else torch.zeros(0, dtype=torch.long),
        "sums": dict(run.sums),
        "history": run.history.rows,
        "best_epoch": -1 if run.history.best_epoch is None else run.history.best_epoch,
        "best_state": run.best_state or {},
        "best_acc": run.best_acc,
        "since_best": run.since_best,
        "train_config": cfg.to_dict(),
    }


def _restore(run: _Run, state: dict, cfg: TrainConfig) -> None:
    saved = {k: v for k, v in state["train_config"].items() if k != "epochs"}
    if saved != {k: v for k, v in cfg.to_dict().items() if k != "epochs"}:
        raise TrainingError("the checkpoint was made with a different training config")
    try:
        run.model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise TrainingError(f"the checkpoint does not fit this model: {err}") from None
    run.optimizer.load_state_dict(state["optimizer"])
    if run.scheduler:
        run.scheduler.load_state_dict(state["scheduler"])
    run.order.set_state(state["order_rng"])
    _set_rng_states(run, state)
    run.epoch, run.batch, run.sums = state["epoch"], state["batch"], dict(state["sums"])
    run.perm = state["perm"] if state["perm"].numel() else None
    run.history.rows = list(state["history"])
    run.history.best_epoch = None if state["best_epoch"] < 0 else state["best_epoch"]
    run.best_state = state["best_state"] or None
    run.best_acc, run.since_best = state["best_acc"], state["since_best"]


def _train_batch(run: _Run, X, y, idx: torch.Tensor, where: str) -> None:
    # Data-parallel: this rank's share, its loss weighted so that averaging the ranks'
    # gradients gives the gradient of the whole batch; sums (and NaN checks) over all ranks.
    idx, weight = run.ranks.shard(idx) if run.ranks else (idx, 1.0)
    run.optimizer.zero_grad(set_to_none=True)
    outputs = _forward(run.net or run.model, X[idx], run.execution)
    yb = y[idx].to(outputs.device)
    loss = run.objective.loss(outputs, yb)
    sums = {"loss": loss.item() * len(yb), **run.objective.batch_sums(outputs, yb)}
    sums["count"] = len(yb)
    if run.ranks:
        sums = run.ranks.reduce({k: v * (weight > 0) for k, v in sums.items()})
    if not math.isfinite(sums["loss"]):
        raise TrainingError(
            f"the loss became {sums['loss'] / sums['count']} at {where}; try a lower learning "
            "rate (--lr) or check the input scaling"
        )
    (loss * weight).backward()
    run.optimizer.step()
    for key, value in sums.items():
        run.sums[key] = run.sums.get(key, 0.0) + value


@torch.no_grad()
def predict_logits(
    model: nn.Module, X: torch.Tensor, batch_size: int = 256, execution: Execution | None = None
) -> torch.Tensor:
    """Outputs ``(N, C)`` in evaluation mode, in batches, on the model's device."""
    was_training = model.training
    model.eval()
    try:
        batches = (X[i : i + batch_size] for i in range(0, X.shape[0], batch_size))
        return torch.cat([_forward(model, xb, execution) for xb in batches])
    finally:
        model.train(was_training)


def _validate(run: _Run, X, y, batch_size: int) -> dict:
    """``val_loss`` and ``val_<metric>`` of the objective on the validation split."""
    if run.val_idx.numel() == 0:
        return {f"val_{k}": math.nan for k in ("loss", *run.objective.metrics)}
    outputs = predict_logits(run.model, X[run.val_idx], batch_size, run.execution)
    yv = y[run.val_idx].to(outputs.device)
    sums = {"loss": run.objective.loss(outputs, yv).item() * len(yv)}
    sums.update(run.objective.batch_sums(outputs, yv))
    return {f"val_{k}": v / len(yv) for k, v in sums.items()}


def _end_epoch(run: _Run, X, y, cfg: TrainConfig) -> None:
    val = _validate(run, X, y, max(cfg.batch_size, 256))
    sums = dict(run.sums)
    count, seconds = sums.pop("count"), sums.pop("seconds", 0.0)
    train = {f"train_{k}": v / count for k, v in sums.items()}
    run.history.rows.append(
        {
            "epoch": run.epoch + 1,
            **{k: train[k] for k in sorted(train, key=lambda k: k != "train_loss")},
            **val,
            "lr": run.optimizer.param_groups[0]["lr"],
            "seconds": seconds,
            "samples_per_s": count / seconds if seconds > 0 else math.nan,
        }
    )
    score = val[f"val_{run.objective.score}"]
    score = -train["train_loss"] if math.isnan(score) else score
    if score > run.best_acc:
        run.best_acc, run.since_best = score, 0
        run.best_state = copy.deepcopy(run.model.state_dict())
        run.history.best_epoch = run.epoch + 1
    else:
        run.since_best += 1
    if run.scheduler:
        run.scheduler.step()
    run.epoch, run.batch, run.perm, run.sums = run.epoch + 1, 0, None, {}


def fit(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    config: TrainConfig | None = None,
    *,
    checkpoint: str | Path | None = None,
    resume: bool = False,
    progress: bool | None = None,
    on_batch=None,
    on_start=None,
    execution: Execution | None = None,
    objective: Objective = CLASSIFICATION,
    ranks: Ranks | None = None,
) -> History:
    """Train ``model`` on features ``X`` ``(N, ...)`` and integer labels ``y`` ``(N,)``.

    Args:
        config: the :class:`TrainConfig` (defaults if ``None``).
        execution: how quantum layers run (``model(x, execution=...)``); ``None`` calls
            ``model(x)``. Its device, if set, is where the model trains.
        objective: loss, running metrics and the validation score that picks the best
            epoch (the model family's; classification by default).
        checkpoint: file to write after every epoch and on Ctrl-C (none if ``None``).
        resume: continue from ``checkpoint`` instead of starting afresh.
        progress: show a progress bar (default: when stderr is a terminal).
        on_batch: optional ``callback(epoch, batch) -> bool``; returning True requests a
            stop exactly as Ctrl-C does (used by tests to interrupt at a precise point).
        on_start: optional ``callback()`` called once before the first step, after a
            resumed checkpoint was accepted (so that a refused resume writes nothing).
        ranks: train data-parallel as this rank (:func:`qimage.train.distributed.join`);
            ``batch_size`` is per rank. Rank 0 alone shows progress and saves checkpoints;
            on resume it reads ``checkpoint`` and sends it to the others.

    Returns:
        The :class:`History`. With a validation split, the model ends with the weights of
        its best validation epoch (``history.best_epoch``).

    Raises:
        TrainingError: bad data or config, a NaN loss, or a checkpoint that does not fit.
        TrainingInterrupted: after Ctrl-C, once the checkpoint is saved.
    """
    cfg = (config or TrainConfig()).validate()
    _check_data(model, X, y)
    _check_exact(objective, execution)
    if execution is not None and execution.device is not None:
        model.to(execution.device)
    run = _new_run(model, X, y, cfg, execution, objective)
    run.ranks, run.net = ranks, ranks.wrap(model) if ranks else model
    if resume:
        _restore(run, _load(checkpoint, ranks), cfg)
    if on_start is not None:
        on_start()
    if ranks and not ranks.main:
        checkpoint, progress = None, False
    with _StopFlag() as stop, ProgressBar(enabled=progress) as bar:
        while run.epoch < cfg.epochs and not _early_stop(run, cfg):
            _run_epoch(run, X, y, cfg, bar, stop, checkpoint, on_batch)
            if checkpoint is not None:
                save_checkpoint(checkpoint, _state(run, cfg))
    run.history.stopped_early = run.epoch < cfg.epochs
    if run.best_state is not None and run.val_idx.numel():
        model.load_state_dict(run.best_state)
    return run.history


def _load(checkpoint, ranks: Ranks | None) -> dict:
    """The checkpoint's state: read by this process, or by rank 0 and sent to every rank."""
    state = None
    if ranks is None or ranks.main:
        if checkpoint is None:
            raise TrainingError("resume=True needs the checkpoint path")
        state = load_checkpoint(checkpoint)
    return ranks.broadcast(state) if ranks else state


def _early_stop(run: _Run, cfg: TrainConfig) -> bool:
    return cfg.patience is not None and run.since_best >= cfg.patience


def _run_epoch(run: _Run, X, y, cfg, bar, stop, checkpoint, on_batch) -> None:
    if run.perm is None:
        run.perm = run.train_idx[torch.randperm(len(run.train_idx), generator=run.order)]
    step = cfg.batch_size * (run.ranks.world if run.ranks else 1)  # the global batch
    n_batches = math.ceil(len(run.perm) / step)
    bar.start_epoch(run.epoch + 1, cfg.epochs, n_batches, done=run.batch)
    run.model.train()
    while run.batch < n_batches:
        idx = run.perm[run.batch * step : (run.batch + 1) * step]
        where = f"epoch {run.epoch + 1}, batch {run.batch + 1}"
        start = time.perf_counter()
        _train_batch(run, X, y, idx, where)
        run.sums["seconds"] = run.sums.get("seconds", 0.0) + time.perf_counter() - start
        run.batch += 1
        bar.update(run.sums)
        requested = stop.requested or (on_batch is not None and on_batch(run.epoch, run.batch))
        if run.ranks.any(requested) if run.ranks else requested:  # every rank stops here
            _interrupt(run, cfg, checkpoint, where)
    _end_epoch(run, X, y, cfg)
    bar.end_epoch(run.history.last())


def _interrupt(run: _Run, cfg: TrainConfig, checkpoint, where: str) -> None:
    if checkpoint is not None:
        save_checkpoint(checkpoint, _state(run, cfg))
        raise TrainingInterrupted(f"interrupted after {where}; checkpoint saved", Path(checkpoint))
    raise TrainingInterrupted(f"interrupted after {where} (no checkpoint path given)", None)
