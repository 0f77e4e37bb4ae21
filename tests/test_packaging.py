"""The release artefacts are complete: ``python -m build`` makes a wheel and an sdist, and
the wheel installed into a fresh virtual environment (no source tree on the path) runs
``qimage --version``, ``qimage --help`` and a tiny ``qimage train``.

This is the slowest test of the suite (about a minute: a venv and its dependencies); it
needs the package registry, as CI's own set-up does.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

import qimage

ROOT = Path(__file__).resolve().parents[1]


def run(*cmd, cwd=None, timeout=600) -> str:
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", out, ROOT)
    return out


def test_wheel_and_sdist_hold_the_package(dist):
    (wheel,) = dist.glob("qimage-*.whl")
    (sdist,) = dist.glob("qimage-*.tar.gz")
    assert qimage.__version__ in wheel.name
    names = zipfile.ZipFile(wheel).namelist()
    modules = {p.relative_to(ROOT / "src").as_posix() for p in (ROOT / "src").rglob("*.py")}
    assert modules <= set(names), sorted(modules - set(names))
    assert any(n.endswith("entry_points.txt") for n in names)
    with tarfile.open(sdist) as tar:
        members = {Path(m).name for m in tar.getnames()}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= members


def test_wheel_installs_and_trains_in_a_fresh_venv(dist, tmp_path):
    (wheel,) = dist.glob("qimage-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    bin_ = venv / "bin"
    run(
        bin_ / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "-c",
        ROOT / "constraints-cpu.txt",
        wheel,
    )
    assert run(bin_ / "qimage", "--version", cwd=tmp_path).strip().endswith(qimage.__version__)
    assert "train" in run(bin_ / "qimage", "--help", cwd=tmp_path)
    out = run(
        bin_ / "qimage",
        "--threads",
        "1",
        "train",
        "--layers",
        "2",
        "--epochs",
        "1",
        "--quiet",
        "--out",
        tmp_path / "run",
        cwd=tmp_path,
    )
    assert "test accuracy" in out
    assert (tmp_path / "run" / "model.safetensors").is_file()
