"""Training: one loop for every model, checkpoints with exact resume, and model files.

* :func:`fit` / :class:`TrainConfig` / :class:`History`: the training loop;
* :func:`evaluate`: accuracy, per-class precision and recall, confusion matrix;
* :func:`save_model` / :func:`load_model`: safe model files (safetensors + JSON config).
"""

from __future__ import annotations

from qimage.train.checkpoint import load_checkpoint, save_checkpoint
from qimage.train.config import OPTIMIZERS, SCHEDULES, TrainConfig
from qimage.train.dataprep import (
    DataSpec,
    PreparedData,
    prepare_data,
    select_data,
    spec_pipeline,
    test_split,
)
from qimage.train.experiment import (
    Result,
    RunConfig,
    default_run_config,
    load_run_config,
    run_experiment,
)
from qimage.train.loop import History, TrainingInterrupted, fit, predict_logits
from qimage.train.metrics import confusion_matrix, evaluate, format_report
from qimage.train.modelfile import ModelFile, load_model, save_model
from qimage.train.presets import PRESETS, preset_run_config

__all__ = [
    "OPTIMIZERS",
    "PRESETS",
    "SCHEDULES",
    "DataSpec",
    "History",
    "ModelFile",
    "PreparedData",
    "Result",
    "RunConfig",
    "TrainConfig",
    "TrainingInterrupted",
    "confusion_matrix",
    "default_run_config",
    "evaluate",
    "fit",
    "format_report",
    "load_checkpoint",
    "load_model",
    "load_run_config",
    "predict_logits",
    "prepare_data",
    "preset_run_config",
    "run_experiment",
    "save_checkpoint",
    "save_model",
    "select_data",
    "spec_pipeline",
    "test_split",
]
