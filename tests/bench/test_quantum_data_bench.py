"""The quantum-data task of the benchmark: the QCNN against classical models on what can
be measured of the states, through the runner, with its own verdict lines.

On a 4 x 3 grid of cluster-Ising states (12, half for training), one seed, two epochs.
Oracles: the suite's own spec (every model of the task builds), the runner's row contract
and the verdict text generated from the rows.
"""

from __future__ import annotations

import numpy as np
import pytest

from qimage.bench import SUITES, BenchModel, Suite, read_jsonl, run_suite
from qimage.bench.cells import ESTIMATORS, model_config
from qimage.bench.suites import CLUSTER
from qimage.data import cluster_ising
from qimage.models import build_model
from qimage.report.stats import group
from qimage.report.verdict import task_verdicts

GRID = (np.array([0.1, 0.6, 1.2, 1.6]), np.array([-1.0, 0.0, 1.0]))
TRAIN = {"epochs": 2, "batch_size": 8}
MODELS = (
    BenchModel("qcnn", "quantum", {"name": "qcnn"}, train=TRAIN),
    BenchModel(
        "local-observables", "classical", {}, estimator="observables", search={"C": [0.5, 2.0]}
    ),
    BenchModel("shadows-20", "classical", {"shots": 20}, estimator="observables"),
)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    root = tmp_path_factory.mktemp("qbench")
    task = CLUSTER.__class__(**{**vars(CLUSTER), "sizes": (None,)})
    suite = Suite("tiny-quantum", (task,), {task.name: MODELS}, seeds=(0,), cv_folds=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cluster_ising, "GRID", GRID)
        patch.setenv("XDG_CACHE_HOME", str(root / "cache"))
        patch.delenv("QIMAGE_DATA", raising=False)
        run_suite(suite, root / "out", data_dir=str(root))
    return read_jsonl(root / "out" / "results.jsonl")


def test_every_model_of_the_task_runs(rows):
    assert sorted(r["model"] for r in rows) == sorted(m.name for m in MODELS)
    assert all("error" not in r and r["n_train"] == 6 for r in rows), rows
    assert all(r["class_names"] == ["non-SPT", "SPT"] for r in rows)
    qcnn = next(r for r in rows if r["model"] == "qcnn")
    assert qcnn["model_config"]["n_qubits"] == 8 and qcnn["model_config"]["n_layers"] == 3


def test_the_task_has_its_own_verdicts(rows):
    meta = [
        {"model": m.name, "family": m.family, "twin": None, "ablation_of": None, "ablation": None}
        for m in MODELS
    ]
    unit = rows[0]["task_unit"]
    verdicts = task_verdicts(group(rows), "cluster-ising", CLUSTER.label, [None], meta, unit)
    text = " ".join(verdicts)
    assert f"On {CLUSTER.label} with the full training set, the best quantum model (qcnn)" in text
    best = ("local-observables", "shadows-20")
    assert any(f"The best classical model ({m}) reaches" in text for m in best)
    assert unit == "states" and "images" not in text


@pytest.mark.parametrize("suite", ["standard", "full"])
def test_the_suites_quantum_data_models_build(suite):
    models = SUITES[suite].models["cluster-ising"]
    for bench in models:
        if bench.estimator:
            assert bench.estimator in ESTIMATORS
            continue
        config = model_config(CLUSTER, bench, models).replace(n_features=CLUSTER.n_features())
        build_model(config.resolved())
    assert {m.family for m in models} == {"quantum", "classical"}
