"""The page and the bundled model ship in the wheel: pyproject's package-data covers them."""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

import pytest

import qimage.serve

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="tomllib is Python 3.11+")
def test_every_static_file_and_the_model_are_package_data():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["qimage.serve"]
    package = Path(qimage.serve.__file__).parent
    files = [p for d in ("static", "pretrained") for p in (package / d).iterdir() if p.is_file()]
    assert {"index.html", "app.js", "style.css", "digits-qnn.safetensors"} <= {
        p.name for p in files
    }
    for path in files:
        name = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(name, g) for g in globs), f"{name} would not be in the wheel"


def test_importing_qimage_and_the_cli_stays_light():
    """fastapi and uvicorn are imported by ``qimage serve`` only."""
    import subprocess

    code = (
        "import sys, qimage, qimage.cli, qimage.serve; "
        "print('fastapi' in sys.modules, 'uvicorn' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
