"""``qimage train --model born`` through the ordinary trainer, and the commands on its run.

Data: the 8x8 digits 0 and 1 pooled to 2x2 and binarised (4 qubits), a few epochs. Oracles:
the threshold and the empirical test distribution are recomputed here with numpy from the raw
images, and KL / TV from the loaded model's probabilities.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from reference import TOLERANCE

from qimage.cli import main
from qimage.data import load_dataset
from qimage.models import FAMILIES, Family, ModelConfig, build_model
from qimage.preprocess import PreprocessError, make_pipeline
from qimage.train import DataSpec, load_model, select_data

ARGS = ["--model", "born", "--downsample", "2", "--classes", "0,1", "--layers", "2"]
FAST = ["--epochs", "3", "--batch-size", "64", "--quiet"]


def _train(tmp_path_factory, name: str, *extra: str):
    out = tmp_path_factory.mktemp(name) / "run"
    assert main(["train", *ARGS, *FAST, *extra, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return _train(tmp_path_factory, "born")


@pytest.fixture(scope="module")
def conditional_run(tmp_path_factory):
    return _train(tmp_path_factory, "cborn", "--conditional")


def _pooled(images: np.ndarray) -> np.ndarray:
    """8x8 images -> means of their four 4x4 blocks ``(N, 4)``, row-major."""
    return images.reshape(len(images), 2, 4, 2, 4).mean((2, 4)).reshape(len(images), -1)


def _test_bits(threshold: float):
    spec = DataSpec("digits", classes=[0, 1])
    ds = load_dataset("digits")
    X_tr, _, X_te, y_te, _ = select_data(spec, ds)
    return X_tr, (_pooled(X_te) > threshold).astype(np.int64), y_te


def _empirical(bits: np.ndarray) -> np.ndarray:
    index = bits @ (1 << np.arange(bits.shape[1] - 1, -1, -1))
    return np.bincount(index, minlength=2 ** bits.shape[1]) / len(bits)


class TestTrainCommand:
    def test_threshold_is_fitted_on_the_training_split_and_saved(self, run):
        loaded = load_model(run)
        threshold = loaded.pipeline.state_dict()["binarize.threshold_"].item()
        X_tr, _, _ = _test_bits(threshold)
        assert threshold == pytest.approx(_pooled(X_tr).mean(), rel=1e-12)
        assert loaded.config.n_features == 4 and loaded.model.n_qubits == 4

    def test_reports_the_objective_metrics_not_accuracy(self, run, capsys, tmp_path):
        out = tmp_path / "again"
        assert main(["train", *ARGS, *FAST, "--epochs", "1", "--out", str(out)]) == 0
        line = capsys.readouterr().out
        assert line.startswith("test KL: ") and "TV: " in line and "MMD²: " in line
        assert "accuracy" not in line
        assert (out / "training.png").is_file() and not (out / "confusion.png").exists()

    def test_test_metrics_match_an_independent_computation(self, run):
        loaded = load_model(run)
        threshold = loaded.pipeline.state_dict()["binarize.threshold_"].item()
        _, bits, _ = _test_bits(threshold)
        q = _empirical(bits)
        with torch.no_grad():
            p = loaded.model(torch.ones(1, 1))[0].double().numpy()
        on = q > 0
        kl = float((q[on] * np.log(q[on] / np.maximum(p[on], 1e-12))).sum())
        test = json.loads((run / "metrics.json").read_text())["test"]
        assert test["n_samples"] == len(bits) and test["accuracy"] is None
        tol = TOLERANCE[torch.complex64]
        assert test["kl"] == pytest.approx(kl, rel=tol)
        assert test["tv"] == pytest.approx(0.5 * np.abs(p - q).sum(), rel=tol)

    def test_training_lowers_the_loss(self, run):
        rows = (run / "history.csv").read_text().splitlines()
        losses = [float(r.split(",")[1]) for r in rows[1:]]
        assert losses[-1] < 0.7 * losses[0]


class TestCommandsOnTheRun:
    def test_evaluate_gives_the_training_run_metrics(self, run, capsys):
        assert main(["evaluate", str(run), "--json"]) == 0
        metrics = json.loads(capsys.readouterr().out)
        saved = json.loads((run / "metrics.json").read_text())["test"]
        assert metrics["kl"] == pytest.approx(saved["kl"], rel=1e-6)
        assert main(["evaluate", str(run)]) == 0
        text = capsys.readouterr().out
        assert text.startswith("KL: ") and "\n  all " in text and "precision" not in text

    def test_sample_and_info(self, run, capsys):
        assert main(["sample", str(run), "--n", "5"]) == 0
        lines = (run / "samples" / "samples.txt").read_text().split()
        assert len(lines) == 5 and all(len(s) == 4 and set(s) <= {"0", "1"} for s in lines)
        capsys.readouterr()
        assert main(["info", str(run), "--json"]) == 0
        info = json.loads(capsys.readouterr().out)
        assert info["model"].startswith("born") and info["circuits"][0]["n_qubits"] == 4
        assert info["training"]["test_summary"].startswith("KL: ")

    def test_predict_is_refused_in_one_line(self, run, tmp_path, capsys):
        """A Born machine's outputs are a distribution over images, not over classes."""
        from PIL import Image

        Image.fromarray(np.eye(8, dtype=np.uint8) * 255).save(tmp_path / "x.png")
        assert main(["predict", str(run), str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err
        assert "does not classify images" in err and "Traceback" not in err

    def test_conditional_run_draws_a_requested_class(self, conditional_run, capsys):
        """Samples of class 1 against the class-1 and class-0 test distributions: closer to
        their own, and evaluate reports one row per class."""
        loaded = load_model(conditional_run)
        threshold = loaded.pipeline.state_dict()["binarize.threshold_"].item()
        _, bits, y = _test_bits(threshold)
        out = conditional_run / "one"
        assert main(["sample", str(conditional_run), "--n", "400", "--label", "1"]) == 0
        drawn = conditional_run / "samples" / "samples.txt"
        samples = np.array([[int(c) for c in s] for s in drawn.read_text().split()])
        tv = [0.5 * np.abs(_empirical(samples) - _empirical(bits[y == c])).sum() for c in (0, 1)]
        assert tv[1] < tv[0]
        assert main(["evaluate", str(conditional_run)]) == 0
        text = capsys.readouterr().out
        assert "\n    0 " in text and "\n    1 " in text
        assert main(["sample", str(conditional_run), "--label", "7", "--out", str(out)]) == 2
        assert "not one the model was conditioned on" in capsys.readouterr().err


def test_too_many_pixels_for_memory_is_one_line(tmp_path, capsys):
    """64 pixels: the model's memory check speaks before the targets overflow int64."""
    args = ["train", "--model", "born", "--downsample", "8", "--out", str(tmp_path / "r")]
    assert main([*args, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "2^64 probabilities" in err and "Traceback" not in err


class TestHooks:
    def test_prepare_defaults_to_the_classification_identity(self):
        X, y = torch.rand(3, 2), torch.tensor([0, 1, 0])
        qnn = FAMILIES["qnn"]
        assert qnn.prepare(qnn.options(), X, y, 2) == (X, y)
        assert Family.prepare is type(qnn).prepare

    def test_born_targets_carry_the_class_only_when_conditioned(self):
        born, X = FAMILIES["born"], torch.tensor([[1.0, 0.0], [0.0, 1.0]])
        inputs, targets = born.prepare(born.options(), X, torch.tensor([1, 0]), 2)
        assert inputs.shape == (2, 1) and targets.tolist() == [2, 1]
        inputs, targets = born.prepare(born.options(conditional=True), X, torch.tensor([1, 0]), 2)
        assert inputs.tolist() == [[0, 1], [1, 0]] and targets.tolist() == [4 + 2, 1]

    def test_rows_default_to_a_square_side(self):
        assert ModelConfig("born", n_features=16, n_classes=1).resolved().options.rows == 4
        assert ModelConfig("born", n_features=6, n_classes=1).resolved().options.rows is None

    def test_binarize_takes_no_real_valued_steps(self):
        with pytest.raises(PreprocessError, match="binarize gives 0/1 pixels; pca"):
            make_pipeline((8, 8), binarize=True, pca=3)
        bits = make_pipeline((8, 8), downsample=2, binarize=True).fit_transform(
            np.arange(128.0).reshape(2, 8, 8)
        )
        assert bits.tolist() == [[0, 0, 0, 0], [1, 1, 1, 1]]


def _distribution(run, label: int) -> np.ndarray:
    model = load_model(run).model
    with torch.no_grad():
        return model(model.inputs(torch.tensor([label])))[0].double().numpy()


@pytest.mark.qiskit
def test_export_to_openqasm_draws_the_model_distribution(conditional_run, tmp_path):
    """The exported circuit of class 1, loaded and simulated by Qiskit, gives the model's
    class-1 probabilities (Qiskit's index order is the reverse of qimage's)."""
    pytest.importorskip("qiskit")
    from qiskit import qasm2
    from qiskit.quantum_info import Statevector

    out = tmp_path / "born.qasm"
    args = ["--format", "qasm2", "--label", "1", "--out", str(out)]
    assert main(["export", str(conditional_run), *args]) == 0
    text = out.read_text()
    assert "measure q -> c;" in text and "creg c[4];" in text
    circuit = qasm2.loads(text)
    circuit.remove_final_measurements()
    probs = Statevector(circuit).probabilities()
    reordered = probs.reshape([2] * 4).transpose(3, 2, 1, 0).reshape(-1)
    np.testing.assert_allclose(reordered, _distribution(conditional_run, 1), atol=1e-5)
    assert np.abs(reordered - _distribution(conditional_run, 0)).max() > 1e-2


@pytest.mark.pennylane
def test_export_to_a_pennylane_script_gives_the_model_distribution(run, tmp_path):
    pytest.importorskip("pennylane")
    out = tmp_path / "born.py"
    assert main(["export", str(run), "--format", "pennylane", "--out", str(out)]) == 0
    namespace: dict = {}
    exec(out.read_text(), namespace)
    probs = np.asarray(namespace["circuit"](namespace["INPUT"], namespace["WEIGHTS"]))
    np.testing.assert_allclose(probs, _distribution(run, 0), atol=1e-5)


class TestKLLoss:
    """``--loss kl``: one full-batch epoch, so the recorded training loss is the loss of the
    initial weights, recomputed here as KL(train data || model) with numpy."""

    def test_trains_on_kl_and_records_it(self, tmp_path, capsys):
        out = tmp_path / "kl"
        one_batch = ["--epochs", "1", "--batch-size", "4096", "--val-fraction", "0", "--quiet"]
        assert main(["train", *ARGS, *one_batch, "--loss", "kl", "--out", str(out)]) == 0
        saved = json.loads((out / "run.json").read_text())["model"]
        assert saved["loss"] == "kl"
        loaded = load_model(out)
        threshold = loaded.pipeline.state_dict()["binarize.threshold_"].item()
        X_tr, _, _ = _test_bits(threshold)
        q = _empirical((_pooled(X_tr) > threshold).astype(np.int64))
        seed = json.loads((out / "run.json").read_text())["train"]["seed"]
        initial = build_model(loaded.config, torch.Generator().manual_seed(seed))
        with torch.no_grad():
            p = initial(torch.ones(1, 1))[0].double().numpy()
        on = q > 0
        kl = float((q[on] * np.log(q[on] / p[on])).sum())
        rows = (out / "history.csv").read_text().splitlines()
        assert float(rows[1].split(",")[1]) == pytest.approx(kl, rel=TOLERANCE[torch.complex64])
        assert "kl loss" in loaded.config.describe()

    @pytest.mark.parametrize(
        ("extra", "message"),
        [
            (["--loss", "kl", "--shots", "100"], "needs exact probabilities, not estimates"),
            (["--loss", "hinge"], "a Born machine's loss is 'mmd' or 'kl', got 'hinge'"),
            (["--model", "qnn", "--loss", "kl"], "model 'qnn' has no option loss"),
        ],
    )
    def test_a_loss_the_model_cannot_train_on_is_one_line(self, extra, message, tmp_path, capsys):
        args = ["train", *ARGS, *FAST, *extra, "--out", str(tmp_path / "r")]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1

    def test_help_documents_the_losses(self, capsys):
        with pytest.raises(SystemExit):
            main(["train", "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "--loss NAME" in text and "kl, the KL divergence" in text
