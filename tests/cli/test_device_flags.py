"""``--device`` on every command that runs a model: a missing or unknown device is one line."""

from __future__ import annotations

import pytest
import torch

from qimage.cli import main

COMMANDS = [
    ["train", "--quiet", "--out", "{tmp}/r"],
    ["evaluate", "{tmp}/none"],
    ["predict", "{tmp}/none", "{tmp}/x.png"],
    ["bench", "--suite", "quick", "--out", "{tmp}/b"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("device", ["tpu", "cuda:0"])
def test_unavailable_device_is_one_line(command, device, tmp_path, capsys):
    if device.startswith("cuda") and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    args = [a.format(tmp=tmp_path) for a in command]
    assert main([*args, "--device", device]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and ("device" in err or "CUDA" in err), err
    assert not (tmp_path / "r").exists() and not (tmp_path / "b").exists()
