"""``--backend pennylane:<device>`` and ``--limit`` through the command line, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.pennylane
pytest.importorskip("pennylane")


def qimage(*args, check=True):
    """Run ``python -m qimage ARGS``; returns the completed process."""
    proc = subprocess.run(
        [sys.executable, "-m", "qimage", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny trained digits QNN (6 qubits, amplitude encoding, one layer)."""
    out = tmp_path_factory.mktemp("run") / "digits"
    qimage("train", "--n-train", "60", "--layers", "1", "--epochs", "1", "--quiet", "--out", out)
    return out


def test_evaluate_on_lightning_equals_qimage(run_dir):
    """evaluate --backend pennylane:lightning.qubit --limit 12 gives qimage's own metrics."""
    ours = json.loads(qimage("evaluate", run_dir, "--limit", "12", "--json").stdout)
    theirs = qimage(
        "evaluate", run_dir, "--limit", "12", "--backend", "pennylane:lightning.qubit", "--json"
    )
    theirs = json.loads(theirs.stdout)
    assert theirs["n_samples"] == ours["n_samples"] == 12
    assert theirs["accuracy"] == ours["accuracy"]
    assert theirs["loss"] == pytest.approx(ours["loss"], abs=1e-5)


def test_predict_with_shots_is_seeded(run_dir, tmp_path):
    """predict --backend ... --shots N --seed S prints one line per image, the same twice."""
    from qimage.data import load_dataset, write_idx

    write_idx(tmp_path / "two.idx", load_dataset("digits").X_test[:2])
    args = ("predict", run_dir, tmp_path / "two.idx", "--backend", "pennylane:default.qubit")
    first = qimage(*args, "--shots", "200", "--seed", "4").stdout
    assert first == qimage(*args, "--shots", "200", "--seed", "4").stdout
    assert len(first.strip().splitlines()) == 2 and ": class " in first


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--backend", "qiskit:aer"], "unknown backend 'qiskit:aer'"),
        (["--backend", "pennylane:nope.qubit"], "unknown PennyLane device 'nope.qubit'"),
        (["--limit", "0"], "--limit must be >= 1"),
        (["--backend", "pennylane:default.qubit", "--noise", "depolarizing=0.01"], "--noise"),
    ],
)
def test_one_line_and_exit_2(run_dir, args, message):
    """A bad --backend or --limit is one 'qimage: error:' line and exit code 2."""
    proc = qimage("evaluate", run_dir, *args, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("qimage: error:") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr


def test_missing_plugin_names_the_package(run_dir):
    """Without pennylane-qiskit, pennylane:qiskit.aer says what to pip install."""
    import pennylane as qml

    if "qiskit.aer" in qml.plugin_devices:
        pytest.skip("pennylane-qiskit is installed")
    proc = qimage("evaluate", run_dir, "--backend", "pennylane:qiskit.aer", check=False)
    assert proc.returncode == 2 and "pip install pennylane-qiskit" in proc.stderr
