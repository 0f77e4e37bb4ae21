"""The benchmark's generative task kind: Born machines against classical generative models.

A tiny task (bars and stripes 2x2: 4 bits, 6 valid images) runs through the suite runner
and ``qimage report``, two seeds, a few training steps. Oracles: independent-pixel KL and TV
recomputed here with numpy, parameter counts recomputed from the models' definitions, and
the verdict logic on synthetic rows whose outcome is known by construction.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from reference import TOLERANCE

from qimage.bench import BenchModel, Suite, Task, read_jsonl, run_suite
from qimage.bench.cells import ESTIMATORS
from qimage.bench.suites import SUITES, generative_models
from qimage.cli import main
from qimage.data.bars import bars_and_stripes
from qimage.estimators import BornMachine
from qimage.estimators.generative import matched
from qimage.report import build_report
from qimage.report.generative import generative_headline, generative_verdicts

BAS2 = Task(
    "bas2x2", "bars-and-stripes", "bars and stripes 2x2", 2, kind="generative", candidates=1
)
BORN = {"n_layers": 2, "epochs": 20, "batch_size": 6, "lr": 0.1}
MODELS = (
    *generative_models(BORN, kl=True)[:3],
    BenchModel("rbm", "classical", {"match": "born", "n_iter": 20}, estimator="rbm"),
    BenchModel("made", "classical", {"match": "born", "steps": 30}, estimator="made"),
)


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    root = tmp_path_factory.mktemp("gbench")
    suite = Suite("tiny-generative", (BAS2,), {BAS2.name: MODELS}, seeds=(0, 1), candidates=8)
    run_suite(suite, root)
    assert main(["report", str(root)]) == 0
    return root


@pytest.fixture(scope="module")
def rows(out):
    return read_jsonl(out / "results.jsonl")


def test_every_model_runs_and_records_its_metrics(rows):
    assert sorted((r["model"], r["seed"]) for r in rows) == sorted(
        (m.name, s) for m in MODELS for s in (0, 1)
    )
    for r in rows:
        assert "error" not in r, r
        assert r["task_kind"] == "generative" and r["task_unit"] == "bit strings"
        assert r["n_train"] == 6 and r["candidates"] == 1 and r["image_shape"] == [2, 2]
        assert {"kl", "tv", "mmd2", "novelty", "validity"} <= set(r)
        assert len(r["samples"]) == 64 and all(
            len(s) == 4 and set(s) <= {"0", "1"} for s in r["samples"]
        )


def test_independent_pixels_match_a_numpy_computation(rows):
    """Laplace-smoothed pixel frequencies of the 6 images; the test distribution is uniform
    over them (train = test), so KL = -log 6 - mean log p(image)."""
    bas = bars_and_stripes(2, 2).reshape(-1, 4)
    theta = (bas.sum(0) + 1) / (len(bas) + 2)
    strings = ((np.arange(16)[:, None] >> np.arange(3, -1, -1)) & 1).astype(bool)
    p = np.where(strings, theta, 1 - theta).prod(1)
    on = np.zeros(16, bool)
    on[bas @ (1 << np.arange(3, -1, -1))] = True
    kl = -np.log(6) - np.log(p[on]).mean()
    tv = 0.5 * (np.abs(p[on] - 1 / 6).sum() + p[~on].sum())
    for r in (r for r in rows if r["model"] == "bernoulli"):
        assert r["kl"] == pytest.approx(kl, rel=TOLERANCE[torch.complex128])
        assert r["tv"] == pytest.approx(tv, rel=TOLERANCE[torch.complex128])
        assert r["n_parameters"] == 4


def test_baselines_are_matched_to_the_born_machine(rows):
    """RBM: ``n h + n + h``; MADE: its unmasked weights and biases; both within 2x."""
    counts = {r["model"]: r["n_parameters"] for r in rows}
    born = counts["born"]
    assert born == BornMachine(n_layers=2).parameter_count(4) == counts["born-kl"]
    h = next(r for r in rows if r["model"] == "rbm")["estimator_params"]["n_components"]
    assert counts["rbm"] == 4 * h + 4 + h
    assert max(counts["rbm"], counts["made"]) <= 2 * born <= 4 * min(counts["rbm"], counts["made"])


def test_the_report_has_the_verdict_plots_and_a_summary_row(out):
    md = (out / "report.md").read_text()
    assert "the best quantum model (born" in md and "KL(test ‖ model)" in md
    assert "The best classical model within 2x of its parameters (" in md
    assert "| [bars and stripes 2x2](#task-bas2x2) | full | born" in md
    assert "train bit strings" in md and "training images" not in md and "train images" not in md
    for name in ("bas2x2-samples.png", "bas2x2-kl-params.png"):
        assert (out / "img" / name).stat().st_size > 1000


def _rows(kls: dict, params: dict) -> tuple[dict, list[dict]]:
    groups = {
        ("t", m, None): {s: {"kl": kl, "n_parameters": params[m]} for s, kl in enumerate(v)}
        for m, v in kls.items()
    }
    meta = [
        {"model": m, "family": "quantum" if m.startswith("born") else "classical", "ablation": None}
        for m in kls
    ]
    return groups, meta


@pytest.mark.parametrize(
    ("kls", "params", "verdict", "baseline"),
    [
        # Born lower on every seed than the only baseline of its size: it wins.
        (
            {"born": [0.2, 0.3, 0.25], "rbm": [0.5, 0.62, 0.55], "big": [0.01] * 3},
            {"born": 100, "rbm": 150, "big": 1000},
            ("quantum ahead", "quantum"),
            "rbm",
        ),
        # The best of two matched baselines (made) is lower on every seed: Born loses.
        (
            {"born": [0.5, 0.6, 0.55], "rbm": [0.9] * 3, "made": [0.1, 0.15, 0.12]},
            {"born": 100, "rbm": 60, "made": 190},
            ("classical ahead", "classical"),
            "made",
        ),
        # Classical models 3x smaller and 3x larger only: no verdict.
        (
            {"born": [0.5, 0.6, 0.55], "bernoulli": [0.9] * 3, "big": [0.1] * 3},
            {"born": 100, "bernoulli": 33, "big": 300},
            ("not drawn", "even"),
            None,
        ),
        # Differences that change sign over seeds: no significant difference.
        (
            {"born": [0.5, 0.2, 0.4], "rbm": [0.3, 0.4, 0.35]},
            {"born": 100, "rbm": 100},
            ("no significant difference", "even"),
            "rbm",
        ),
    ],
)
def test_the_verdict_compares_the_born_machine_with_its_matched_baselines(
    kls, params, verdict, baseline
):
    groups, meta = _rows(kls, params)
    h = generative_headline(groups, "t", None, meta)
    assert (h.quantum, h.baseline, h.verdict) == ("born", baseline, verdict)
    text = " ".join(generative_verdicts(groups, "t", "T", None, meta, "bit strings"))
    if baseline is None:
        assert "no verdict is drawn" in text
    else:
        diff = np.mean(kls["born"]) - np.mean(kls[baseline])
        assert f"KL is {abs(diff):.3f} {'lower' if diff < 0 else 'higher'}" in text
        assert f"): {verdict[0]}." in text


def test_states_are_not_called_training_images(tmp_path):
    """The summary table's size column takes the unit the bench wrote (here: states)."""
    row = {"suite": "s", "task": "q", "task_label": "Q", "task_unit": "states", "size": 32,
           "twin": None, "ablation_of": None, "ablation": None, "n_train": 32,
           "train_seconds": 1.0, "confusion": [[3, 1], [1, 3]]}  # fmt: skip
    lines = [
        {**row, "model": m, "family": f, "seed": s, "accuracy": a + s / 100, "n_parameters": 10}
        for m, f, a in (("qcnn", "quantum", 0.8), ("logreg", "classical", 0.7))
        for s in range(3)
    ]
    (tmp_path / "results.jsonl").write_text("\n".join(map(json.dumps, lines)))
    md = build_report(tmp_path)["markdown"].read_text()
    assert "| 32 states |" in md and "train states" in md and "images" not in md


def test_the_standard_suite_has_both_generative_tasks_with_matched_baselines():
    suite = SUITES["standard"]
    for name, n in (("bas3x3", 9), ("digits4x4", 16)):
        task = next(t for t in suite.tasks if t.name == name)
        assert task.kind == "generative" and task.n_features() == n
        models = {m.name: m for m in suite.models[name]}
        assert all(m.estimator in ESTIMATORS and m.budget() == 1 for m in models.values())
        born = BornMachine(**models["born"].model).parameter_count(n)
        for other in ("rbm", "made"):
            params = {k: v for k, v in models[other].model.items() if k != "match"}
            estimator = ESTIMATORS[other][1](0, **params)
            k = matched(estimator, n, born).parameter_count(n)
            assert math.isclose(k, born, rel_tol=0.5), (name, other, k, born)


def test_classification_keys_do_not_change_with_the_new_task_fields():
    """Results written before tasks had a kind keep their keys (a rerun skips them): the
    fields are left out of a key at their defaults, and in it otherwise."""
    from qimage.bench.runner import _spec

    classification = Task("digits", "digits", "8x8 digits", 8)
    assert not {"kind", "candidates"} & set(_spec(classification))
    assert _spec(BAS2)["kind"] == "generative" and _spec(BAS2)["candidates"] == 1
