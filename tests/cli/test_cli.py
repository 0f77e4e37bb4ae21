"""The command line, run as a user runs it: through a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

TINY = ["--n-train", "60", "--layers", "1", "--epochs", "2", "--quiet"]


def qimage(*args, check=True, timeout=300):
    """Run ``python -m qimage ARGS``; returns the completed process."""
    proc = subprocess.run(
        [sys.executable, "-m", "qimage", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A tiny trained digits QNN run folder."""
    out = tmp_path_factory.mktemp("run") / "digits"
    proc = qimage("train", *TINY, "--out", out)
    assert "test accuracy:" in proc.stdout
    return out


class TestHelp:
    def test_help_lists_commands(self):
        """qimage --help lists every command."""
        out = qimage("--help").stdout
        for command in ("train", "evaluate", "predict", "info", "export", "bench", "report"):
            assert command in out

    @pytest.mark.parametrize(
        "command", ["train", "evaluate", "predict", "info", "export", "bench", "report"]
    )
    def test_command_help(self, command):
        """Every command has --help."""
        assert "usage: qimage " + command in qimage(command, "--help").stdout

    def test_version(self):
        """--version prints the package version."""
        from qimage import __version__

        assert qimage("--version").stdout.strip() == f"qimage {__version__}"


class TestTrainAndUse:
    def test_train_writes_the_run(self, run_dir):
        """A run folder holds the model, checkpoint, metrics, history and plots."""
        for name in (
            "model.safetensors",
            "checkpoint.pt",
            "metrics.json",
            "history.csv",
            "run.json",
            "training.png",
            "confusion.png",
        ):
            assert (run_dir / name).is_file(), name
        metrics = json.loads((run_dir / "metrics.json").read_text())
        assert 0 <= metrics["test"]["accuracy"] <= 1 and metrics["epochs_run"] == 2
        assert len((run_dir / "history.csv").read_text().splitlines()) == 3

    def test_evaluate(self, run_dir):
        """evaluate reproduces the accuracy recorded at training time."""
        metrics = json.loads((run_dir / "metrics.json").read_text())
        out = json.loads(qimage("evaluate", run_dir, "--json").stdout)
        assert out["accuracy"] == pytest.approx(metrics["test"]["accuracy"], abs=1e-6)
        assert "confusion matrix" in qimage("evaluate", run_dir / "model.safetensors").stdout

    def test_predict_png_and_idx(self, run_dir, tmp_path):
        """predict reads a PNG of any size (dark-on-light too) and a raw IDX stack."""
        from PIL import Image

        from qimage.data import load_dataset, write_idx

        ds = load_dataset("digits")
        big = Image.fromarray(255 - ds.X_test[0]).resize((40, 40))
        big.save(tmp_path / "digit.png")
        write_idx(tmp_path / "few.idx", ds.X_test[:3])
        out = qimage("predict", run_dir, tmp_path / "digit.png", tmp_path / "few.idx").stdout
        lines = out.strip().splitlines()
        assert len(lines) == 4 and all(": class " in line for line in lines)
        probs = [float(p.split(":")[1]) for p in lines[0].split("  ")[1:]]
        assert sum(probs) == pytest.approx(1, abs=0.01)

    def test_info(self, run_dir):
        """info prints the circuit diagram and the parameter count."""
        out = qimage("info", run_dir, "--png", run_dir / "circuit.png").stdout
        assert "trainable parameters" in out and "q0: " in out and "Rot(" in out
        assert (run_dir / "circuit.png").stat().st_size > 1000


class TestUserErrors:
    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["train", "--qubits", "0", "--quiet"], "n_qubits"),
            (["train", "--epochs", "0", "--quiet"], "epochs must be >= 1"),
            (["train", "--classes", "3,11", "--quiet"], "class 11 does not occur"),
            (
                ["train", "--dataset", "mnist", "--data-dir", "/nonexistent", "--quiet"],
                "nonexistent",
            ),
            (["train", "--encoding", "angle", "--qubits", "30", "--quiet"], ""),
            (["evaluate", "/no/such/model.safetensors"], "no model file"),
            (["train", "--noise", "bogus=1", "--quiet"], "unknown noise setting 'bogus'"),
            (["train", "--noise", "depolarizing=7", "--quiet"], "rates must lie in [0, 1]"),
            (["info", "/no/such/model.safetensors"], "no model file"),
        ],
    )
    def test_one_line_and_exit_2(self, args, message):
        """A user mistake prints one 'qimage: error:' line and exits 2, no traceback."""
        proc = qimage(*args, check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("qimage: error:") and "Traceback" not in proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr

    def test_bad_image(self, run_dir, tmp_path):
        """A file Pillow cannot read is a clear error."""
        bad = tmp_path / "x.png"
        bad.write_text("not an image")
        proc = qimage("predict", run_dir, bad, check=False)
        assert proc.returncode == 2 and "not an image" in proc.stderr

    def test_argparse_errors_exit_2(self):
        """An unknown choice is reported by argparse with exit code 2."""
        proc = qimage("train", "--model", "nope", check=False)
        assert proc.returncode == 2 and "invalid choice" in proc.stderr

    def test_resume_refuses_new_settings(self, run_dir):
        """--resume only accepts --epochs as a change."""
        proc = qimage("train", "--resume", run_dir, "--lr", "1", check=False)
        assert proc.returncode == 2 and "only --epochs" in proc.stderr


@pytest.mark.skipif(os.name != "posix", reason="needs POSIX signals")
def test_ctrl_c_saves_and_resume_finishes(tmp_path):
    """SIGINT mid-training saves a checkpoint and exits 130; --resume then completes the run."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qimage",
            "train",
            "--n-train",
            "300",
            "--layers",
            "2",
            "--epochs",
            "40",
            "--out",
            str(out),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while not (out / "checkpoint.pt").exists() and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "checkpoint saved" in stderr and f"--resume {out}" in stderr
    stopped_in = int(re.search(r"interrupted after epoch (\d+), batch \d+", stderr).group(1))
    done = qimage("train", "--resume", out, "--epochs", stopped_in + 1, "--quiet")
    assert "test accuracy:" in done.stdout
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 1 + stopped_in + 1  # header, then every epoch exactly once


def test_no_module_state_leaks():
    """Importing qimage does not import PennyLane, Qiskit or matplotlib."""
    code = (
        "import sys, qimage, qimage.sim, qimage.models, qimage.train, qimage.cli;"
        "print(sorted(m for m in ('pennylane', 'qiskit', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "[]"
    assert np  # numpy is fine to import


class TestExport:
    def test_qasm3_to_stdout_loads_in_qiskit(self, run_dir):
        """qimage export prints OpenQASM 3 that Qiskit parses, with the state preparation."""
        qasm3 = pytest.importorskip("qiskit.qasm3")
        pytest.importorskip("qiskit_qasm3_import")
        text = qimage("export", run_dir, "--index", "3").stdout
        assert text.count("OPENQASM 3.0;") == 1 and "measure" in text
        circuit = qasm3.loads(text)
        assert circuit.num_qubits == 6 and circuit.size() > 50

    def test_qasm2_file(self, run_dir, tmp_path):
        """--format qasm2 --out writes a file Qiskit's OpenQASM 2 reader accepts."""
        qasm2 = pytest.importorskip("qiskit.qasm2")
        out = tmp_path / "c.qasm"
        qimage("export", run_dir, "--format", "qasm2", "--out", out)
        assert qasm2.load(str(out)).num_qubits == 6

    def test_pennylane_script_runs(self, run_dir, tmp_path):
        """--format pennylane writes circuit(x, weights) with the model's own probs readout
        and logits(x) with its scale and bias."""
        pytest.importorskip("pennylane")
        out = tmp_path / "circuit.py"
        qimage("export", run_dir, "--format", "pennylane", "--out", out)
        namespace: dict = {}
        exec(out.read_text(), namespace)
        probs = np.asarray(namespace["circuit"](namespace["INPUT"], namespace["WEIGHTS"]))
        assert probs.shape == (64,) and abs(probs.sum() - 1) < 1e-6  # float32 weights
        assert np.asarray(namespace["logits"](namespace["FEATURES"])).shape == (10,)

    def test_qiskit_qpy(self, run_dir, tmp_path):
        """--format qiskit writes a QPY file that qiskit.qpy loads; without --out it refuses."""
        qpy = pytest.importorskip("qiskit.qpy")
        out = tmp_path / "c.qpy"
        qimage("export", run_dir, "--format", "qiskit", "--out", out)
        with open(out, "rb") as handle:
            (circuit,) = qpy.load(handle)
        assert circuit.num_qubits == 6
        proc = qimage("export", run_dir, "--format", "qiskit", check=False)
        assert proc.returncode == 2 and "--out" in proc.stderr

    def test_bad_index(self, run_dir):
        """An index beyond the test split is a clear error."""
        proc = qimage("export", run_dir, "--index", "100000", check=False)
        assert proc.returncode == 2 and "--index must be in" in proc.stderr


def test_bench_quick_slice_and_report(tmp_path):
    """qimage bench --suite quick on a tiny slice, then qimage report on its results."""
    out = tmp_path / "bench"
    proc = qimage("bench", "--suite", "quick", "--max-cells", "2", "--out", out, "--quiet")
    assert "2 cells run, 0 failed" in proc.stdout
    assert len((out / "results.jsonl").read_text().splitlines()) == 2
    again = qimage("bench", "--suite", "quick", "--max-cells", "1", "--out", out, "--quiet")
    assert "1 cells run" in again.stdout and "2 already done" in again.stdout  # resumes
    assert len((out / "results.jsonl").read_text().splitlines()) == 3
    qimage("report", out)
    assert "quantum" in (out / "report.md").read_text()
    assert "data:image/png;base64," in (out / "report.html").read_text()


def test_noise_and_shots_end_to_end(tmp_path):
    """Train noise-aware, then evaluate under shots and stronger noise; bad --threads exits 2."""
    out = tmp_path / "noisy"
    qimage(
        "--threads",
        "1",
        "train",
        "--classes",
        "0,1",
        "--n-train",
        "40",
        "--layers",
        "1",
        "--epochs",
        "1",
        "--noise",
        "depolarizing=0.01,readout=0.02",
        "--out",
        out,
        "--quiet",
    )
    config = json.loads((out / "run.json").read_text())["model"]
    assert config["noise"] == "depolarizing=0.01,readout=0.02"
    assert config["diff_method"] == "backprop"  # chosen for noise, as --help says
    report = json.loads(
        qimage("evaluate", out, "--shots", "100", "--noise", "depolarizing=0.05", "--json").stdout
    )
    assert 0 <= report["accuracy"] <= 1
    proc = qimage("--threads", "0", "info", out, check=False)
    assert proc.returncode == 2 and "--threads must be >= 1" in proc.stderr
