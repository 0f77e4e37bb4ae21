"""The benchmark runner: cells, resumable JSON lines, cross-validated search, twins."""

from __future__ import annotations

import functools
import json

import numpy as np
import pytest

from qimage.bench import SUITES, BenchModel, Suite, Task, read_jsonl, run_suite
from qimage.bench.cells import bench_spec, matched_twin, model_config
from qimage.errors import DatasetError, QimageError

TASK = Task("digits", "digits", "8x8 digits", 8, classes=(0, 1, 2), sizes=(60, None))
TINY_QNN = {"name": "qnn", "encoder": "amplitude", "n_qubits": 6, "n_layers": 1, "readout": "probs"}
TRAIN = {"epochs": 1, "batch_size": 32}
MODELS = (
    BenchModel(
        "qnn", "quantum", TINY_QNN, train=TRAIN, search={"lr": [0.05, 0.1]}, twin="qnn:twin"
    ),
    BenchModel(
        "qnn:twin",
        "classical",
        {"name": "mlp", "match": "qnn"},
        train=TRAIN,
        search={"lr": [0.01, 0.03]},
    ),
    BenchModel(
        "qnn:frozen",
        "quantum",
        {**TINY_QNN, "frozen": True},
        train=TRAIN,
        ablation_of="qnn",
        ablation="frozen",
        sizes=(None,),
    ),
    BenchModel(
        "rbf-svc", "classical", {"gamma": "scale"}, estimator="svc", search={"C": [0.5, 2.0]}
    ),
)
SUITE = Suite("tiny", (TASK,), {"digits": MODELS}, seeds=(0, 1), cv_folds=2, search_size=60)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The tiny suite, run once."""
    out = tmp_path_factory.mktemp("bench")
    counts = run_suite(SUITE, out)
    return out, counts


class TestRunner:
    def test_every_cell_once(self, results):
        """One JSON line per (task, model, size, seed), none failed."""
        out, counts = results
        rows = read_jsonl(out / "results.jsonl")
        expected = sum(1 for _ in SUITE.cells())
        assert counts == {"done": expected, "skipped": 0, "failed": 0, "todo": expected}
        assert len(rows) == expected == len({r["key"] for r in rows})
        assert all(0 <= r["accuracy"] <= 1 for r in rows)

    def test_rerun_skips_finished_cells(self, results):
        """A second run does nothing: every cell is already there."""
        out, _ = results
        before = (out / "results.jsonl").read_text()
        counts = run_suite(SUITE, out)
        assert counts["done"] == 0 and counts["skipped"] == sum(1 for _ in SUITE.cells())
        assert (out / "results.jsonl").read_text() == before

    def test_interrupted_run_resumes(self, results, tmp_path):
        """Two cells, a torn line from a crash, then the rest: every cell exactly once."""
        out, _ = results
        (tmp_path / "search.jsonl").write_text((out / "search.jsonl").read_text())
        first = run_suite(SUITE, tmp_path, max_cells=2)
        with open(tmp_path / "results.jsonl", "a") as handle:
            handle.write('{"key": "torn')  # a crash mid-write
        rest = run_suite(SUITE, tmp_path)
        keys = [r["key"] for r in read_jsonl(tmp_path / "results.jsonl")]
        assert first["done"] == 2 and rest["skipped"] == 2
        assert len(keys) == len(set(keys)) == sum(1 for _ in SUITE.cells())

    def test_search_is_recorded(self, results):
        """Hyperparameters are chosen from the candidates by CV and written once per model."""
        out, _ = results
        rows = read_jsonl(out / "search.jsonl")
        by_model = {r["model"]: r["params"] for r in rows}
        assert by_model["qnn"]["lr"] in (0.05, 0.1) and by_model["rbf-svc"]["C"] in (0.5, 2.0)
        assert 0 <= by_model["qnn"]["cv_accuracy"] <= 1
        assert len(rows) == len(MODELS)

    def test_frozen_trains_only_the_readout(self, results):
        """The frozen ablation has only the readout's scale and bias trainable."""
        out, _ = results
        frozen = [r for r in read_jsonl(out / "results.jsonl") if r["model"] == "qnn:frozen"]
        assert frozen and all(r["n_parameters"] == 2 * 3 for r in frozen)

    def test_twin_matches_parameter_count(self):
        """The matched twin's parameter count is the closest an MLP can get to the QNN's."""
        from qimage.models import build_model, count_parameters

        def count(bench):
            config = model_config(TASK, bench, MODELS)
            config.n_features, config.n_classes = 64, 3
            return count_parameters(build_model(config))

        n_qnn, n_twin = count(MODELS[0]), count(MODELS[1])
        assert n_qnn == 6 * 1 * 3 + 2 * 3  # Rot weights + one scale and bias per class
        sizes = [64 * h + h + h * 3 + 3 for h in range(1, 10)]  # MLP 64 -> h -> 3
        assert abs(n_twin - n_qnn) == min(abs(n - n_qnn) for n in sizes)

    def test_rows_carry_what_the_report_needs(self, results):
        """Rows record family, twin, ablation, size, seed, timing and the confusion matrix."""
        out, _ = results
        row = read_jsonl(out / "results.jsonl")[0]
        for key in (
            "family",
            "twin",
            "ablation_of",
            "size",
            "seed",
            "train_seconds",
            "confusion",
            "hyperparameters",
            "n_train",
            "candidates",
        ):
            assert key in row
        assert json.dumps(row)


def test_suites_are_well_formed():
    """Every suite's twins and ablations name models of the same task."""
    for suite in SUITES.values():
        for task in suite.tasks:
            names = {m.name for m in suite.models[task.name]}
            for m in suite.models[task.name]:
                assert m.twin is None or m.twin in names, (suite.name, m.name)
                assert m.ablation_of is None or m.ablation_of in names
                if "match" in m.model:
                    assert m.model["match"] in names
                # an ablation is only comparable at a size its model also runs at
                assert set(m.sizes or task.sizes) <= set(task.sizes), (suite.name, m.name)


def test_suites_search_equal_budgets():
    """Quantum and classical models of every suite search the same number (>= 8) of
    candidates, counted from their grids; generative tasks search none (1 each)."""
    for suite in SUITES.values():
        for task in suite.tasks:
            budget = 1 if task.kind == "generative" else suite.candidates
            assert task.candidates in (None, budget)
            for m in suite.models[task.name]:
                count = int(np.prod([len(values) for values in m.search.values()]))
                assert count == budget and (budget >= 8 or task.kind == "generative"), (
                    suite.name,
                    task.name,
                    m.name,
                    count,
                )


def test_unequal_budgets_are_refused():
    """A suite that promises a budget refuses a model searching fewer candidates."""
    with pytest.raises(QimageError, match=r"every model searches 2 candidates, not rbf \(1\)"):
        Suite("s", (TASK,), {"digits": (MODELS[0], BenchModel("rbf", "classical"))}, candidates=2)


@functools.lru_cache(maxsize=4)
def _fake_dataset(name: str, data_dir=None):
    """Random images of the dataset's shape: twins are sized and specified without data."""
    from qimage.data.datasets import Dataset

    side = 8 if name == "digits" else 28
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (200, side, side), dtype=np.uint8)
    labels = np.arange(200) % 10
    names = tuple(map(str, range(10)))
    return Dataset(images, labels, images[:50], labels[:50], name, names, (side, side))


def _standardized_width(spec, data_dir=None) -> int:
    """Features of ``spec`` once its family scaling is replaced by plain standardising."""
    import dataclasses

    from qimage.train import spec_pipeline

    plain = dataclasses.replace(spec, standardize=True, scale=None, n_qubits=None)
    images = _fake_dataset(spec.dataset).X_train
    return spec_pipeline(plain, images.shape[1:]).fit(images).transform(images[:1]).shape[1]


def test_twins_see_their_models_features_within_2x(monkeypatch):
    """The twin of every quantum model in the suites gets the same preprocessing (classes,
    subsample, PCA, reduction; only the scaling is its own), the same number of features,
    and a trainable-parameter count within 2x of its model's."""
    import dataclasses

    from qimage.bench import cells
    from qimage.models import build_model, count_parameters

    monkeypatch.setattr(cells, "_dataset", _fake_dataset)
    scaling = {"standardize", "scale", "n_qubits"}
    checked, chosen = set(), {}
    for suite in SUITES.values():
        for task in suite.tasks:
            models = suite.models[task.name]
            for m in (m for m in models if m.twin and (task.name, m.name) not in checked):
                checked.add((task.name, m.name))
                twin = next(t for t in models if t.name == m.twin)
                a, b = (bench_spec(task, x, models, task.sizes[0], 1) for x in (m, twin))
                same = [f.name for f in dataclasses.fields(a) if f.name not in scaling]
                assert [getattr(a, k) for k in same] == [getattr(b, k) for k in same]
                assert _standardized_width(a) == _standardized_width(b), (task.name, m.name)
                config, n_twin, n_model = matched_twin(task, twin, models)
                assert count_parameters(build_model(config)) == n_twin
                assert max(n_twin, n_model) <= 2 * min(n_twin, n_model), (task.name, m.name)
                chosen[task.name, m.name] = config.name
    assert chosen["mnist10", "qnn"] == "projected_logreg"  # the smallest MLP has 805
    assert chosen["mnist35-pca4", "reupload"] == "mlp"


def test_twin_prefers_the_first_family_within_2x(monkeypatch):
    """On PCA-4 the MLP is within 2x and taken; a twin allowed only the MLP on 784 pixels
    stays the closest MLP, however far (the report then refuses the comparison)."""
    from qimage.bench import cells
    from qimage.bench.suites import STANDARD

    monkeypatch.setattr(cells, "_dataset", _fake_dataset)
    task = STANDARD.tasks[3]
    models = STANDARD.models[task.name]
    mlp_only = BenchModel("qnn:twin", "classical", {"name": "mlp", "match": "qnn"})
    config, n_twin, n_model = matched_twin(task, mlp_only, models)
    assert (config.name, config.hidden, n_twin, n_model) == ("mlp", 1, 805, 260)


def _mnist_folder(folder, n_train: int = 80, n_test: int = 40):
    """MNIST-named IDX files of random 28x28 images (labels 3 and 5 only)."""
    from qimage.data import write_idx

    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.resize(np.array([3, 5], np.uint8), n_train),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.resize(np.array([3, 5], np.uint8), n_test),
    }
    folder.mkdir()
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return folder


REUPLOAD = {"name": "qnn", "encoder": "reupload", "n_layers": 1}


class TestDataDir:
    """``data_dir`` reaches every step that reads images, matching twins included."""

    TASK = Task("m35", "mnist", "MNIST 3 vs 5", 28, classes=(3, 5), pca=4, sizes=(40,))
    MODELS = (
        BenchModel("q", "quantum", REUPLOAD, train=TRAIN, search={"lr": [0.05]}, twin="q:twin"),
        BenchModel("q:twin", "classical", {"name": "mlp", "match": "q"}, train=TRAIN),
    )

    @pytest.fixture(autouse=True)
    def isolated(self, tmp_path, monkeypatch):
        """No cache, no network, and MNIST shrunk to the size of the generated files."""
        import dataclasses
        import urllib.request

        from qimage.data.sources import IDX_DATASETS

        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        monkeypatch.delenv("QIMAGE_DATA", raising=False)
        small = dataclasses.replace(
            IDX_DATASETS["mnist"], n_train=80, n_test=40, train_labels_sha256=None
        )
        monkeypatch.setitem(IDX_DATASETS, "mnist", small)

        def offline(*args, **kwargs):
            raise OSError("no network in tests")

        monkeypatch.setattr(urllib.request, "urlopen", offline)

    def test_idx_task_with_a_matched_twin(self, tmp_path):
        suite = Suite(
            "m", (self.TASK,), {"m35": self.MODELS}, seeds=(0,), cv_folds=2, search_size=40
        )
        counts = run_suite(suite, tmp_path / "out", data_dir=_mnist_folder(tmp_path / "mnist"))
        rows = read_jsonl(tmp_path / "out" / "results.jsonl")
        assert counts["failed"] == 0 and len(rows) == 2
        assert all("error" not in row for row in rows)

    def test_missing_dataset_fails_before_any_work(self, tmp_path):
        suite = Suite(
            "m", (self.TASK,), {"m35": self.MODELS}, seeds=(0,), cv_folds=2, search_size=40
        )
        with pytest.raises(DatasetError, match="nowhere is not a folder"):
            run_suite(suite, tmp_path / "out", data_dir=tmp_path / "nowhere")
        assert not (tmp_path / "out" / "search.jsonl").exists()


def test_leaving_early_stops_the_workers():
    """Closing the result stream (Ctrl-C, SIGTERM, an error) terminates the worker pool."""
    import multiprocessing
    import time

    from qimage.bench.executors import LocalExecutor

    start = time.monotonic()
    results = LocalExecutor(workers=2).map(time.sleep, [0.0, 60.0, 60.0])
    assert next(results) == (0, None, 1)
    results.close()
    assert not multiprocessing.active_children()
    assert time.monotonic() - start < 50, "closing waited for the running jobs to finish"


def test_only_reruns_the_named_tasks():
    """``Suite.only`` keeps the named tasks (and all their models); unknown names are refused."""
    from qimage.bench.suites import STANDARD

    pca4 = STANDARD.only(["mnist35-pca4"])
    cells = list(pca4.cells())
    assert {task.name for task, *_ in cells} == {"mnist35-pca4"}
    assert len(cells) == sum(1 for c in STANDARD.cells() if c[0].name == "mnist35-pca4")
    with pytest.raises(QimageError, match="suite standard has no task nope"):
        STANDARD.only(["nope"])


def test_rerun_commands_are_all_recorded(tmp_path):
    """A --task re-run adds its command to command.txt and the report names both."""
    from qimage.cli.bench import _record_command

    path = tmp_path / "command.txt"
    for command in (
        "qimage bench --suite s",
        "qimage bench --suite s --task t",
        "qimage bench --suite s",
    ):
        _record_command(path, command)
    assert path.read_text().splitlines() == [
        "qimage bench --suite s",
        "qimage bench --suite s --task t",
    ]
