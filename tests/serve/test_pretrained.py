"""The bundled digits QNN is what ``benchmarks/train_pretrained.py`` makes: rerun, compared."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from qimage.serve import PRETRAINED

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_pretrained.py"


def _read(path: Path) -> tuple[dict, dict]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        return {k: handle.get_tensor(k) for k in handle.keys()}, handle.metadata()  # noqa: SIM118


def test_the_shipped_model_is_what_the_script_makes(tmp_path):
    out = tmp_path / "digits-qnn.safetensors"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (fresh, fresh_meta), (shipped, shipped_meta) = _read(out), _read(PRETRAINED)
    assert fresh_meta == shipped_meta  # same config, preprocessing and test accuracy
    assert fresh.keys() == shipped.keys()
    for key, value in shipped.items():
        assert torch.equal(fresh[key], value), key  # bit-identical weights
    assert PRETRAINED.stat().st_size < 8192
