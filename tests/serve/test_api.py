"""The JSON API of ``qimage serve``, through FastAPI's test client, against independent
computations: the model's own forward pass, another measurement, finite differences."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from qimage.preprocess.drawing import prepare_drawing
from qimage.sim import Execution, ExpvalZ


def _explain(client, drawing, **options) -> dict:
    response = client.post("/api/explain", json={"pixels": drawing.tolist(), **options})
    assert response.status_code == 200, response.text
    return response.json()


def test_page_and_model_description(client):
    assert "<canvas" in client.get("/").text
    assert client.get("/static/app.js").status_code == 200
    model = client.get("/api/model").json()
    assert model["qnn"] and model["n_qubits"] == 6 and model["image_shape"] == [8, 8]


def test_classes_match_the_models_own_forward_pass(client, loaded, drawing):
    """The bars are ModelFile.predict_proba of the prepared image; the readout holds."""
    data = _explain(client, drawing)
    prepared = prepare_drawing(drawing, (8, 8)).pixels
    np.testing.assert_allclose(data["prepared"], prepared / 255.0, atol=1e-4)
    expected = loaded.predict_proba(prepared[None])[0]
    np.testing.assert_allclose(data["classes"]["mean"], expected, atol=1e-5)
    assert data["classes"]["top"] == int(expected.argmax()) == 0
    assert sum(data["classes"]["mean"]) == pytest.approx(1, abs=1e-6)


def test_per_wire_readout_matches_an_expval_measurement(client, loaded, drawing):
    """<Z_i> derived from the full-register probabilities equals ExpvalZ of every wire."""
    import copy

    data = _explain(client, drawing)
    x = torch.as_tensor(np.asarray(data["encoding"]["values"]), dtype=torch.float32)[None]
    layer = copy.copy(loaded.model.quantum)
    layer.measurement = ExpvalZ(tuple(range(6)))
    z = layer.simulate(layer.qc.circuit, None, x.to(torch.complex64), Execution())
    np.testing.assert_allclose(data["readout"]["z"]["mean"], z[0].detach().numpy(), atol=1e-5)
    assert all(-1 <= v <= 1 for v in data["readout"]["z"]["mean"])
    assert len(data["readout"]["measured"]["mean"]) == 64


def test_parameter_shift_gradient_agrees_with_autograd_and_finite_differences(
    client, loaded, drawing
):
    data = _explain(client, drawing, label=3)
    grad = data["gradient"]
    assert grad["label"] == 3 and grad["max_diff"] < 1e-5
    assert [row["name"] for row in grad["layers"]] == [f"layer {i}" for i in range(1, 11)]
    shift = np.concatenate([row["shift"] for row in grad["layers"]])
    model = __import__("copy").deepcopy(loaded.model).double()
    x = torch.as_tensor(np.asarray(data["encoding"]["values"]))[None]

    def loss(w):
        with torch.no_grad():
            model.quantum.weights.copy_(w)
            return float(torch.nn.functional.cross_entropy(model(x), torch.tensor([3])))

    w0, eps = model.quantum.weights.detach().clone(), 1e-6
    for j in (0, 17, 100, 179):
        step = torch.zeros_like(w0)
        step[j] = eps
        fd = (loss(w0 + step) - loss(w0 - step)) / (2 * eps)
        assert shift[j] == pytest.approx(fd, abs=1e-6)


def test_shots_give_error_bars_around_the_exact_answer(client, drawing):
    exact = np.array(_explain(client, drawing)["classes"]["mean"])
    data = _explain(client, drawing, shots=1000, seed=3)
    mean, std = np.array(data["classes"]["mean"]), np.array(data["classes"]["std"])
    assert data["execution"]["repeats"] == 16 and (std > 0).any()
    assert np.all(np.abs(mean - exact) <= 5 * std / 4 + 1e-3)  # 16 runs: the mean's std is std/4
    again = _explain(client, drawing, shots=1000, seed=3)
    assert again["classes"] == data["classes"]  # seeded


def test_noise_changes_the_answer_but_not_the_served_model(client, loaded, drawing):
    before = [p.detach().clone() for p in loaded.model.parameters()]
    exact = _explain(client, drawing)["classes"]["mean"]
    noisy = _explain(client, drawing, noise=0.05)["classes"]["mean"]
    assert np.abs(np.subtract(noisy, exact)).max() > 1e-3
    assert np.std(noisy) < np.std(exact)  # depolarizing pulls toward uniform
    assert _explain(client, drawing)["classes"]["mean"] == exact
    for p, q in zip(loaded.model.parameters(), before, strict=True):
        assert torch.equal(p, q)


def test_the_circuit_strip_carries_actual_values(client, loaded, drawing):
    data = _explain(client, drawing)
    circuit = data["circuit"]
    assert circuit["state_prep"] == "amplitude" and circuit["n_qubits"] == 6
    first = circuit["columns"][0][0]
    w = loaded.model.quantum.weights.detach().double()
    assert first["marks"]["0"] == f"Rot({w[0]:.4g}, {w[1]:.4g}, {w[2]:.4g})"
    assert np.linalg.norm(data["encoding"]["values"]) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"pixels": [[0] * 8] * 8}, "no ink"),
        ({"pixels": [[1, 2], [3]]}, "same length"),
        ({"pixels": []}, "pixels"),
        ({"pixels": [[0] * 513]}, "pixels"),
        ({"pixels": [[-1]]}, "greater than or equal"),
        ({"pixels": [[300]]}, "less than or equal"),
        ({"pixels": [["a"]]}, "pixels"),
        ({"pixels": [[0, 255]], "shots": 5}, "shots"),
        ({"pixels": [[0, 255]], "shots": 20000}, "shots"),
        ({"pixels": [[0, 255]], "noise": 0.5}, "noise"),
        ({"pixels": [[0, 255]], "label": 10}, "label must be 0..9"),
        ({"pixels": [[0, 255]], "model": "/etc/passwd"}, "Extra inputs"),
        ({}, "Field required"),
    ],
)
def test_bad_requests_get_422_with_a_message(client, body, message):
    response = client.post("/api/explain", content=json.dumps(body))
    assert response.status_code == 422 and message in response.json()["detail"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("raw", [b'{"pixels": [[NaN]]}', b'{"pixels": [[Infinity]]}', b"{nope"])
def test_non_finite_or_broken_json_gets_422(client, raw):
    response = client.post("/api/explain", content=raw)
    assert response.status_code == 422 and response.json()["detail"]


def test_a_huge_body_gets_413(client):
    response = client.post("/api/explain", content=b" " * (5 * 2**20))
    assert response.status_code == 413 and "bytes" in response.json()["detail"]


def test_a_classical_model_gets_the_prepared_image_and_bars(tmp_path, drawing):
    """A model without a circuit is served too: no circuit, readout or gradient panels."""
    import dataclasses
    import warnings

    from qimage.serve.app import create_app
    from qimage.train import load_model, preset_run_config, run_experiment

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # starlette: httpx -> httpx2
        from fastapi.testclient import TestClient

    cfg = preset_run_config("digits", "logreg")
    cfg.train = dataclasses.replace(cfg.train, epochs=2)
    run_experiment(cfg, tmp_path)
    loaded = load_model(tmp_path)
    client = TestClient(create_app(loaded))
    assert client.get("/api/model").json()["qnn"] is False
    data = _explain(client, drawing)
    assert sorted(data) == ["classes", "notes", "prepared"]
    expected = loaded.predict_proba(prepare_drawing(drawing, (8, 8)).pixels[None])[0]
    np.testing.assert_allclose(data["classes"]["mean"], expected, atol=1e-6)
