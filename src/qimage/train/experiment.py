"""One experiment end to end: data, model, training, evaluation, and the files of a run.

:class:`RunConfig` bundles the data, model and training configs; :func:`run_experiment`
trains and evaluates it and, given an output folder, writes

* ``run.json``: the data, model, training and execution configs (what ``--resume`` and
  ``qimage info`` read);
* ``checkpoint.pt``: after every epoch and on Ctrl-C (exact resume);
* ``model.safetensors``: weights + preprocessing + configs (see :mod:`.modelfile`);
* ``metrics.json`` and ``history.csv``: test metrics and per-epoch history.

:func:`default_run_config` takes the preprocessing the model's family asks for (amplitude
encoding: padded, normalised pixels; angle-type encodings: features scaled to ``[0, pi]``;
hybrid and classical models: standardised features).
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from qimage.errors import QimageError, TrainingError
from qimage.models import (
    ModelConfig,
    build_model,
    count_parameters,
    get_family,
    gradient_methods,
)
from qimage.sim import Execution
from qimage.train.checkpoint import atomic_write
from qimage.train.config import TrainConfig
from qimage.train.dataprep import DataSpec, PreparedData, prepare_data
from qimage.train.loop import History, fit
from qimage.train.metrics import evaluate
from qimage.train.modelfile import save_model
from qimage.train.records import check_record, matches, record_types

__all__ = [
    "RUN_VERSION",
    "Result",
    "RunConfig",
    "default_run_config",
    "load_run_config",
    "place",
    "run_experiment",
]


RUN_VERSION = 2
"""Version of ``run.json``; version 1 (no ``version`` key) kept run options in the model."""


@dataclass
class RunConfig:
    """Data, model, training and execution configuration of one run."""

    data: DataSpec = field(default_factory=DataSpec)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    execution: Execution = field(default_factory=Execution)

    def to_dict(self) -> dict:
        return {
            "version": RUN_VERSION,
            "data": self.data.to_dict(),
            "model": self.model.to_dict(),
            "train": self.train.to_dict(),
            "execution": self.execution.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Read a run config (either version); any malformed part is a :class:`TrainingError`:
        a missing section or key (version 2), a value of the wrong type, an unknown key."""
        try:
            return _from_dict(data)
        except QimageError as err:
            raise TrainingError(f"not a valid qimage run config: {err}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            message = f"not a valid qimage run config ({type(err).__name__}: {err})"
            raise TrainingError(message) from None


# The top-level keys of run.json by version: version 1 had neither a version key nor an
# execution section (its run options lived in the model config).
_SECTIONS = {
    1: ("data", "model", "train"),
    RUN_VERSION: ("version", "data", "model", "train", "execution"),
}


def _from_dict(data: dict) -> RunConfig:
    version = data.get("version", 1)
    if not matches(version, int) or version not in _SECTIONS:
        raise TrainingError(f"run.json version {version!r}; this qimage reads 1 and {RUN_VERSION}")
    check_record("run.json", data, {}, _SECTIONS[version])
    unknown = sorted(set(data) - set(_SECTIONS[version]))
    if unknown:
        hint = "" if "version" in data else f" (a version {RUN_VERSION} file without its version?)"
        raise TrainingError(f"a version {version} run.json has no {', '.join(unknown)}{hint}")
    _check_sections(data, complete=version == RUN_VERSION)
    if version == 1:
        model, run = ModelConfig.from_legacy(data["model"])
        execution = _legacy_execution(run)
    else:
        model = ModelConfig.from_dict(data["model"])
        execution = Execution.from_dict(data["execution"])
    return RunConfig(
        DataSpec(**data["data"]), model, TrainConfig.from_dict(data["train"]), execution
    )


def _check_sections(data: dict, complete: bool) -> None:
    """Every section's values of their fields' types and, when ``complete``, every key that
    this qimage writes present (a missing one is not silently defaulted)."""
    for name, cls in (("data", DataSpec), ("train", TrainConfig), ("execution", Execution)):
        if name in data:
            check_record(name, data[name], record_types(cls), cls().to_dict() if complete else ())
    if complete:  # version 1 model configs are flat records of every family's options
        model = data["model"]
        check_record("model", model, {"name": str}, ["name"])
        family = get_family(model["name"])
        types_ = {"n_features": int, "n_classes": int, **record_types(family.Config)}
        check_record("model", model, types_, ModelConfig(model["name"]).to_dict())


def _legacy_execution(run: dict) -> Execution:
    """The execution of a version-1 model config (its ``precision`` becomes the dtype)."""
    run = dict(run)
    dtype = run.pop("precision", None)
    return Execution(**run, dtype=None if dtype == "complex64" else dtype)


@dataclass
class Result:
    """What a run produced."""

    model: nn.Module
    history: History
    metrics: dict
    data: PreparedData
    out_dir: Path | None


def default_run_config(
    dataset: str = "digits", model: ModelConfig | None = None, **data
) -> RunConfig:
    """A run of ``model`` on ``dataset`` with the preprocessing its family asks for.

    ``data`` overrides :class:`DataSpec` fields (``classes``, ``n_train``, ``pca``, ...).
    """
    model = (model or ModelConfig()).validate()
    n_classes = len(data["classes"]) if data.get("classes") else model.n_classes
    spec = {"dataset": dataset, **model.family.preprocessing(model.options, n_classes), **data}
    return RunConfig(DataSpec(**spec), model, TrainConfig())


def load_run_config(out_dir: str | Path) -> RunConfig:
    """The configs of the run in ``out_dir`` (its ``run.json``)."""
    path = Path(out_dir) / "run.json"
    if not path.is_file():
        raise TrainingError(f"{out_dir} holds no qimage run (no run.json)")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise TrainingError(f"{path} is not readable JSON ({err})") from None
    if not isinstance(data, dict):
        raise TrainingError(f"{path} does not hold a run config (a JSON object)")
    try:
        return RunConfig.from_dict(data)
    except TrainingError as err:
        raise TrainingError(f"{path}: {err}") from None


def place(model: nn.Module, execution: Execution) -> nn.Module:
    """``model`` on the execution's device, with weights of its precision (float64 for
    complex128), as PyTorch's ``.to`` would put them."""
    if execution.dtype is not None:
        model = model.to(execution.dtype.to_real())
    return model.to(execution.device) if execution.device is not None else model


def _write_json(path: Path, data: dict) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(data, indent=2) + "\n"))


def _write_history(path: Path, history: History) -> None:
    def write(tmp):
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(history.rows[0]))
            writer.writeheader()
            writer.writerows(history.rows)

    if history.rows:
        atomic_write(path, write)


def _start_run(out: Path, cfg: RunConfig) -> None:
    """Write ``run.json`` once training is about to start: a run refused earlier (a
    checkpoint that does not fit) leaves its folder as it was."""
    out.mkdir(parents=True, exist_ok=True)
    _write_json(out / "run.json", cfg.to_dict())


def _shape_info(data: PreparedData) -> dict:
    """What a model file says of its raw samples: images ``(H, W)``, or rows of features
    with no image shape (quantum states), which the image-only commands refuse."""
    if data.image_shape is not None:
        return {"image_shape": list(data.image_shape)}
    return {"image_shape": None, "sample_shape": list(data.sample_shape)}


def run_experiment(
    cfg: RunConfig,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    progress=None,
    data_dir: str | None = None,
    ranks=None,
) -> Result:
    """Prepare the data, build and train the model, evaluate it on the test split.

    Args:
        cfg: the run's configs; ``n_features``/``n_classes`` of the model are set from the data.
        out_dir: where to write the run's files (nothing is written if ``None``).
        resume: continue the run in ``out_dir`` from its checkpoint.
        progress: passed to :func:`fit`.
        data_dir: where the dataset files are (not saved in the run).
        ranks: train data-parallel as this rank (:mod:`qimage.train.distributed`); give
            ``out_dir`` on rank 0 only, the others write nothing.
    """
    cfg.model.validate()
    cfg.train.validate()
    cfg.data.data_dir = data_dir or cfg.data.data_dir
    data = prepare_data(cfg.data)
    cfg.model = cfg.model.replace(n_features=data.n_features, n_classes=data.n_classes).resolved()
    if cfg.execution.seed is None:  # shots and noise draws follow the run's seed
        cfg.execution = cfg.execution.replace(seed=cfg.train.seed)
    execution, family = cfg.execution, cfg.model.family
    objective, options, n_classes = cfg.model.objective, cfg.model.options, data.n_classes
    model = place(build_model(cfg.model, torch.Generator().manual_seed(cfg.train.seed)), execution)
    X_train, y_train = family.prepare(options, data.X_train, data.y_train, n_classes)
    X_test, y_test = family.prepare(options, data.X_test, data.y_test, n_classes)
    out = Path(out_dir) if out_dir is not None else None
    start = time.perf_counter()
    history = fit(
        model,
        X_train,
        y_train,
        cfg.train,
        checkpoint=out / "checkpoint.pt" if out else None,
        resume=resume,
        progress=progress,
        on_start=None if out is None else lambda: _start_run(out, cfg),
        execution=execution,
        objective=objective,
        ranks=ranks,
    )
    test = evaluate(model, X_test, y_test, n_classes, execution=execution, objective=objective)
    metrics = {
        "test": test,
        "n_parameters": count_parameters(model),
        "train_seconds": time.perf_counter() - start,
        "best_epoch": history.best_epoch,
        "epochs_run": len(history.rows),
        "class_names": list(data.class_names),
        "config": cfg.to_dict(),
    }
    if out is not None:
        info = {
            "dataset": cfg.data.dataset,
            "class_names": list(data.class_names),
            **_shape_info(data),
            "data": cfg.data.to_dict(),
            "train": cfg.train.to_dict(),
            "execution": cfg.execution.to_dict(),
            "gradient": gradient_methods(model, cfg.train.batch_size, execution),
            "test_accuracy": test["accuracy"],
            "test_summary": objective.summary(test),
        }
        save_model(out / "model.safetensors", model, cfg.model, data.pipeline, info)
        _write_json(out / "metrics.json", metrics)
        _write_history(out / "history.csv", history)
    return Result(model, history, metrics, data, out)
