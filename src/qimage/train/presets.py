"""Sensible starting points per (dataset, model): small diffs over the config defaults.

Each preset says why it differs. The command line starts from the preset and applies the
flags the user gave; :func:`preset_run_config` does the same in Python.
"""

from __future__ import annotations

import dataclasses

from qimage.data import QUANTUM_DATASETS
from qimage.models import ModelConfig
from qimage.train.config import TrainConfig
from qimage.train.experiment import RunConfig, default_run_config

__all__ = ["PRESETS", "preset_run_config"]

PRESETS: dict[tuple[str, str], dict] = {
    # The quick-start model: 8x8 digits amplitude-encoded in 6 qubits (64 amplitudes, no
    # padding), measured on every qubit. Depth matters: 8 layers reach ~0.91, 32 ~0.94, 64
    # ~0.96 test accuracy (docs/results.md). Trains in about a minute on 2 cores.
    ("digits", "qnn"): {
        "model": {"n_qubits": 6, "n_layers": 64, "encoder": "amplitude", "readout": "probs"},
        "train": {"epochs": 30, "lr": 0.03, "batch_size": 32},
    },
    # 28x28 MNIST: 784 pixels amplitude-encoded in 10 qubits (of 1024 amplitudes). 32 layers
    # and 8 epochs reach 91.3% test accuracy; 64 layers and 22 epochs 94.7%, in 52 minutes on
    # 2 cores (docs/results.md).
    ("mnist", "qnn"): {
        "model": {"n_qubits": 10, "n_layers": 32, "encoder": "amplitude", "readout": "probs"},
        "train": {"epochs": 8, "lr": 0.01, "batch_size": 64},
    },
    ("fashion-mnist", "qnn"): {
        "model": {"n_qubits": 10, "n_layers": 8, "encoder": "amplitude", "readout": "probs"},
        "train": {"epochs": 10, "lr": 0.02, "batch_size": 64},
    },
    # Dressed: a linear layer picks 8 angles, the circuit mixes them, a linear layer reads out.
    ("digits", "dressed"): {
        "model": {"n_qubits": 8, "n_layers": 4, "encoder": "angle"},
        "train": {"epochs": 30, "lr": 0.01},
    },
    ("mnist", "dressed"): {
        "model": {"n_qubits": 10, "n_layers": 4, "encoder": "angle"},
        "train": {"epochs": 10, "lr": 0.005, "batch_size": 64},
    },
    # Quanvolution and its classical twins share one training budget per dataset, so that
    # a comparison differs in the model only. On 8x8 digits, 2x2 windows with stride 2 keep
    # too little (16 windows, ~0.81 test accuracy); stride 1 (49 windows) and two circuit
    # layers reach ~0.95.
    ("digits", "quanv"): {
        "model": {"n_layers": 2, "patch": 2, "stride": 1},
        "train": {"epochs": 30, "lr": 0.01},
    },
    ("digits", "quanv_twin"): {"train": {"epochs": 30, "lr": 0.01}},
    ("digits", "cnn"): {"model": {"patch": 2, "stride": 1}, "train": {"epochs": 30, "lr": 0.01}},
    ("digits", "logreg"): {"train": {"epochs": 30, "lr": 0.01}},
    ("digits", "mlp"): {"model": {"hidden": 32}, "train": {"epochs": 30, "lr": 0.01}},
    # 28x28 MNIST: Henderson et al.'s setting, 2x2 windows with stride 2 on 4 frozen qubits
    # (4 x 14 x 14 = 784 features, as many as the twin's raw pixels).
    ("mnist", "quanv"): {
        "model": {"n_layers": 1, "patch": 2, "stride": 2},
        "train": {"epochs": 10, "lr": 0.01, "batch_size": 64},
    },
    ("mnist", "quanv_twin"): {"train": {"epochs": 10, "lr": 0.01, "batch_size": 64}},
    ("mnist", "cnn"): {
        "model": {"patch": 2, "stride": 2},
        "train": {"epochs": 10, "lr": 0.01, "batch_size": 64},
    },
    ("mnist", "logreg"): {"train": {"epochs": 10, "lr": 0.01, "batch_size": 64}},
    ("mnist", "mlp"): {
        "model": {"hidden": 64},
        "train": {"epochs": 10, "lr": 0.01, "batch_size": 64},
    },
    # Born machines: images pooled to 4x4 (16 qubits) and trained as the benchmark measured
    # them (benchmarks/born.py, docs/results.md): batches of 64 (each estimates the data
    # distribution the MMD compares with), a constant step. MNIST: one epoch is ~940 steps.
    ("digits", "born"): {
        "model": {"n_layers": 4},
        "train": {"epochs": 10, "lr": 0.05, "batch_size": 64, "schedule": "none"},
    },
    ("mnist", "born"): {
        "model": {"n_layers": 4},
        "train": {"epochs": 1, "lr": 0.05, "batch_size": 64, "schedule": "none"},
    },
    # Quantum data: the ground states enter the QCNN as they are (8 spins: 8 qubits, 3
    # levels, 117 parameters). Its loss is flat at the start: larger steps (0.05) reach ~0.94
    # test accuracy in 30 epochs, 0.02 only ~0.85 in 10.
    **{(name, "qcnn"): {"train": {"epochs": 30, "lr": 0.05}} for name in QUANTUM_DATASETS},
}


def preset_run_config(dataset: str, model: str, **data) -> RunConfig:
    """The preset for ``(dataset, model)`` (plain defaults if there is none)."""
    diff = PRESETS.get((dataset, model), {})
    model_cfg = ModelConfig(name=model, **diff.get("model", {}))
    cfg = default_run_config(dataset, model_cfg, **data)
    cfg.train = dataclasses.replace(TrainConfig(), **diff.get("train", {}))
    return cfg
