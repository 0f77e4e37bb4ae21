"""The release artefacts are complete: ``python -m build`` makes a wheel and an sdist, and
the wheel installed into a fresh virtual environment (no source tree on the path) runs
``qimage --version``, ``qimage --help`` and a tiny ``qimage train``.

The fresh venv installs the wheel alone (``--no-deps``) and sees its dependencies through a
``.pth`` line naming this environment's site-packages: CI's own set-up has already shown that
they install from the registry, and ``pip check`` here shows the wheel's requirements are met.
A ``.pth`` path line does not run the ``.pth`` files it names, so this environment's editable
install of qimage stays invisible: the wheel's copy is the one imported (checked).
"""

from __future__ import annotations

import site
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


def _fresh_venv(tmp_path: Path) -> Path:
    """A venv whose own site-packages come first, then this environment's (dependencies)."""
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    here = next(Path(p) for p in site.getsitepackages() if Path(p).is_dir())
    (there,) = venv.glob("lib/python*/site-packages")
    (there / "dependencies.pth").write_text(f"{here}\n")
    return venv / "bin"


def test_wheel_installs_and_trains_in_a_fresh_venv(dist, tmp_path):
    (wheel,) = dist.glob("qimage-*.whl")
    bin_ = _fresh_venv(tmp_path)
    pip = [bin_ / "python", "-m", "pip"]
    run(*pip, "install", "--quiet", "--no-deps", "--no-index", wheel)
    run(*pip, "check")
    where = run(bin_ / "python", "-c", "import qimage; print(qimage.__file__)", cwd=tmp_path)
    assert Path(where.strip()).is_relative_to(tmp_path / "venv"), where
    assert run(bin_ / "qimage", "--version", cwd=tmp_path).strip().endswith(qimage.__version__)
    assert "train" in run(bin_ / "qimage", "--help", cwd=tmp_path)
    flags = ["--threads", "1", "train", "--layers", "2", "--epochs", "1", "--quiet"]
    out = run(bin_ / "qimage", *flags, "--out", tmp_path / "run", cwd=tmp_path)
    assert "test accuracy" in out
    assert (tmp_path / "run" / "model.safetensors").is_file()
