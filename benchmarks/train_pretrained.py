"""Train the small digits QNN that ``qimage serve`` shows when no model is given.

It is the quick-start QNN (8x8 digits amplitude-encoded in 6 qubits, all measured, outcome
j voting for class j mod 10) made shallow enough to be shipped (a few KB) and retrained by
the tests in well under a minute: ``tests/serve/test_pretrained.py`` reruns this script and
checks that the shipped file is what it makes, bit for bit, on whatever x86 CPU runs it: the
script re-executes itself with ATen's portable kernels and MKL's reproducible code path
(``REPRODUCIBLE``), since the vector paths a CPU picks for itself (AVX2 on one machine,
AVX-512 on another) sum floats in different orders and training amplifies the difference.

Usage: python benchmarks/train_pretrained.py [OUT] (default: the packaged file).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
import tempfile
from pathlib import Path

import torch

from qimage.train import preset_run_config, run_experiment

ROOT = Path(__file__).resolve().parents[1]
PACKAGED = ROOT / "src/qimage/serve/pretrained/digits-qnn.safetensors"
LAYERS, EPOCHS, SEED = 10, 15, 0
REPRODUCIBLE = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE"}


def config():
    """The preset digits QNN, shallower and shorter, single-threaded for reproducibility."""
    cfg = preset_run_config("digits", "qnn")
    cfg.model = cfg.model.replace(n_layers=LAYERS)
    cfg.train = dataclasses.replace(cfg.train, epochs=EPOCHS, seed=SEED)
    return cfg


def train(out: Path) -> float:
    """Write the model file to ``out``; returns its test accuracy."""
    torch.set_num_threads(1)  # one thread: the same float sums, so the same weights
    with tempfile.TemporaryDirectory() as tmp:
        result = run_experiment(config(), tmp)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(tmp) / "model.safetensors", out)
    return result.metrics["test"]["accuracy"]


if __name__ == "__main__":
    if any(os.environ.get(key) != value for key, value in REPRODUCIBLE.items()):
        # both are read when the libraries first dispatch, so they must be set before start-up
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **REPRODUCIBLE})
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PACKAGED
    accuracy = train(target)
    print(f"{target}: test accuracy {accuracy:.4f}, {target.stat().st_size} bytes")
