"""One experiment end to end: data, model, training, evaluation, and the files of a run.

:class:`RunConfig` bundles the data, model and training configs; :func:`run_experiment`
trains and evaluates it and, given an output folder, writes

* ``run.json``: the three configs (what ``--resume`` and ``qimage info`` read);
* ``checkpoint.pt``: after every epoch and on Ctrl-C (exact resume);
* ``model.safetensors``: weights + preprocessing + configs (see :mod:`.modelfile`);
* ``metrics.json`` and ``history.csv``: test metrics and per-epoch history.

:func:`default_run_config` picks preprocessing to suit the model: amplitude encoding gets
padded, normalised pixels; angle-type encodings get PCA features scaled to ``[0, pi]``;
hybrid and classical models get standardised features.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from qimage.circuits import make_encoder
from qimage.errors import TrainingError
from qimage.models import ModelConfig, build_model, count_parameters
from qimage.train.checkpoint import atomic_write
from qimage.train.config import TrainConfig
from qimage.train.dataprep import DataSpec, PreparedData, prepare_data
from qimage.train.loop import History, fit
from qimage.train.metrics import evaluate
from qimage.train.modelfile import save_model

__all__ = ["Result", "RunConfig", "default_run_config", "load_run_config", "run_experiment"]


@dataclass
class RunConfig:
    """Data, model and training configuration of one run."""

    data: DataSpec = field(default_factory=DataSpec)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict:
        return {
            "data": self.data.to_dict(),
            "model": self.model.to_dict(),
            "train": self.train.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        return cls(
            DataSpec(**data["data"]),
            ModelConfig.from_dict(data["model"]),
            TrainConfig.from_dict(data["train"]),
        )


@dataclass
class Result:
    """What a run produced."""

    model: nn.Module
    history: History
    metrics: dict
    data: PreparedData
    out_dir: Path | None


def _preprocessing_for(model: ModelConfig) -> dict:
    if model.name in ("qnn",):
        encoder = make_encoder(model.encoder, **model.encoder_options)
        if model.encoder == "amplitude":
            return {"scale": "amplitude", "n_qubits": model.n_qubits}
        return {"scale": "angle", "max_features": encoder.n_features(model.n_qubits)}
    if model.name in ("quanv", "quanv_twin", "cnn"):
        # Image models keep the pixel grid; each pixel becomes an angle in [0, pi] (RY for
        # quanvolution), and the twins see exactly the same inputs.
        return {"scale": "angle"}
    return {"standardize": True}


def default_run_config(
    dataset: str = "digits", model: ModelConfig | None = None, **data
) -> RunConfig:
    """A run of ``model`` on ``dataset`` with preprocessing suited to the model's encoder.

    ``data`` overrides :class:`DataSpec` fields (``classes``, ``n_train``, ``pca``, ...).
    """
    model = (model or ModelConfig()).validate()
    spec = {"dataset": dataset, **_preprocessing_for(model), **data}
    return RunConfig(DataSpec(**spec), model, TrainConfig())


def load_run_config(out_dir: str | Path) -> RunConfig:
    """The configs of the run in ``out_dir`` (its ``run.json``)."""
    path = Path(out_dir) / "run.json"
    if not path.is_file():
        raise TrainingError(f"{out_dir} holds no qimage run (no run.json)")
    return RunConfig.from_dict(json.loads(path.read_text()))


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


def run_experiment(
    cfg: RunConfig,
    out_dir: str | Path | None = None,
    *,
    resume: bool = False,
    progress=None,
    data_dir: str | None = None,
) -> Result:
    """Prepare the data, build and train the model, evaluate it on the test split.

    Args:
        cfg: the run's configs; ``n_features``/``n_classes`` of the model are set from the data.
        out_dir: where to write the run's files (nothing is written if ``None``).
        resume: continue the run in ``out_dir`` from its checkpoint.
        progress: passed to :func:`fit`.
        data_dir: where the dataset files are (not saved in the run).
    """
    cfg.model.validate()
    cfg.train.validate()
    cfg.data.data_dir = data_dir or cfg.data.data_dir
    data = prepare_data(cfg.data)
    cfg.model.n_features, cfg.model.n_classes = data.n_features, data.n_classes
    model = build_model(cfg.model, torch.Generator().manual_seed(cfg.train.seed))
    out = Path(out_dir) if out_dir is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        _write_json(out / "run.json", cfg.to_dict())
    start = time.perf_counter()
    history = fit(
        model,
        data.X_train,
        data.y_train,
        cfg.train,
        checkpoint=out / "checkpoint.pt" if out else None,
        resume=resume,
        progress=progress,
    )
    metrics = {
        "test": evaluate(model, data.X_test, data.y_test, data.n_classes),
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
            "image_shape": list(data.image_shape),
            "data": cfg.data.to_dict(),
            "train": cfg.train.to_dict(),
            "test_accuracy": metrics["test"]["accuracy"],
        }
        save_model(out / "model.safetensors", model, cfg.model, data.pipeline, info)
        _write_json(out / "metrics.json", metrics)
        _write_history(out / "history.csv", history)
    return Result(model, history, metrics, data, out)
