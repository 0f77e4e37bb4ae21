"""``qimage serve`` refuses bad start-up arguments with one line, before binding anything."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/model.safetensors"], "no model file"),
        (["--port", "70000"], "--port must be 1..65535"),
    ],
)
def test_bad_arguments_are_one_line_errors(args, message):
    pytest.importorskip("uvicorn")
    cmd = [sys.executable, "-m", "qimage", "serve", *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("qimage: error:")
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
