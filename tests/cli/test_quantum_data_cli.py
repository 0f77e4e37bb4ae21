"""``qimage train --dataset cluster-ising --model qcnn`` and ``qimage evaluate`` on quantum
data, in-process on a 6 x 6 grid of states (36, half for training).

Oracles: the dense reference simulator run on each test state as the initial state (the
model adds no encoding), the run's own metrics (evaluate redoes the same split and
preprocessing), the majority class (training learns), and the one-line error contract for
the image-only commands.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from reference import final_states, probs

from qimage.cli import main
from qimage.data import cluster_ising, load_dataset
from qimage.errors import DatasetError
from qimage.train import load_model

GRID = (np.linspace(0.0, 1.6, 6), np.linspace(-1.6, 1.6, 6))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """``(run folder, data folder)`` of a QCNN trained for 10 epochs through the CLI."""
    root = tmp_path_factory.mktemp("quantum")
    (root / "data").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cluster_ising, "GRID", GRID)
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.delenv("QIMAGE_DATA", raising=False)
        argv = ["train", "--dataset", "cluster-ising", "--model", "qcnn", "--epochs", "10"]
        assert main([*argv, "--data-dir", str(root / "data"), "--out", str(root / "run")]) == 0
        yield root / "run", root / "data"


def _run(argv, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


def test_the_run_is_a_qcnn_on_the_states_pooled_to_one_qubit(trained):
    run, _ = trained
    config = json.loads((run / "run.json").read_text())
    assert config["data"]["dataset"] == "cluster-ising"
    assert {k: config["model"][k] for k in ("n_features", "n_qubits", "n_layers")} == {
        "n_features": 256,
        "n_qubits": 8,
        "n_layers": 3,
    }
    metrics = json.loads((run / "metrics.json").read_text())
    labels = load_dataset("cluster-ising", data_dir=trained[1]).y_test
    majority = max(np.mean(labels), 1 - np.mean(labels))
    assert metrics["test"]["accuracy"] > majority


def test_the_state_is_the_circuits_input(trained):
    """P(class) is the reference simulation of the circuit started in the test state."""
    run, data = trained
    loaded = load_model(run)
    states = load_dataset("cluster-ising", data_dir=data).X_test[:4]
    layer, readout = loaded.model.quantum, loaded.model.readout
    psi = final_states(layer.qc.circuit, w=layer.weights.detach().double().numpy(), state=states)
    p = probs(psi, 8, wires=[0])
    logits = readout.scale.detach().double().numpy() * np.log(p) + readout.bias.detach().numpy()
    expected = torch.softmax(torch.as_tensor(logits), dim=1).numpy()
    np.testing.assert_allclose(loaded.predict_proba(states), expected, atol=1e-4)


def test_evaluate_repeats_the_runs_test_and_takes_shots(trained, capsys):
    run, data = trained
    code, out, _ = _run(["evaluate", run, "--data-dir", data, "--json"], capsys)
    exact = json.loads(out)
    saved = json.loads((run / "metrics.json").read_text())["test"]
    assert code == 0 and exact["accuracy"] == saved["accuracy"]
    assert exact["n_samples"] == 18
    code, out, _ = _run(["evaluate", run, "--data-dir", data, "--json", "--shots", "20"], capsys)
    assert code == 0 and json.loads(out)["loss"] != pytest.approx(exact["loss"], abs=1e-6)


@pytest.mark.parametrize("command", ["predict", "export"])
def test_image_commands_refuse_quantum_models_in_one_line(trained, command, tmp_path, capsys):
    from PIL import Image

    image = tmp_path / "digit.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(image)
    argv = [command, trained[0], image] if command == "predict" else [command, trained[0]]
    argv += ["--input", image] if command == "export" else []
    code, _, err = _run(argv, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "cluster-ising samples, not images" in err


def test_export_takes_a_test_state(trained, capsys):
    code, out, _ = _run(["export", trained[0], "--data-dir", trained[1], "--index", "1"], capsys)
    assert code == 0 and "OPENQASM 3.0" in out and "qubit[8]" in out


def test_the_explainer_of_serve_refuses_quantum_models(trained):
    pytest.importorskip("fastapi")
    from qimage.serve.explain import Explainer

    with pytest.raises(DatasetError, match="not images"):
        Explainer(load_model(trained[0]))
