"""benchmarks/full_mnist.py: the study's design, its --quick dry run, and its train commands."""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path

import pytest

from qimage.bench import read_jsonl
from qimage.bench.cells import model_config

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "full_mnist.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("full_mnist_study", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_design(study):
    """12 quantum-only grid points and two hybrid widths, each with its classical part, all
    on the full MNIST training set over the same 3 seeds."""
    suite = study.study()
    (task,) = suite.tasks
    models = suite.models[task.name]
    grid = [m for m in models if m.model["name"] == "qnn"]
    assert (task.dataset, task.sizes, suite.seeds) == ("mnist", (None,), (0, 1, 2))
    assert len(grid) == 12 and {m.model["n_qubits"] for m in grid} == {10}
    assert {m.model["encoder"] for m in grid} == {"amplitude"}
    hybrids = [m for m in models if m.model["name"] == "dressed"]
    for hybrid in hybrids:
        (part,) = [m for m in models if m.ablation_of == hybrid.name]
        assert part.ablation == "classical-part" and part.train == hybrid.train
        for option in ("n_qubits", "registers", "hidden"):
            assert part.model[option] == hybrid.model[option]
    widths = [h.model["n_qubits"] * h.model["registers"] for h in hybrids]
    assert 10 in widths and max(widths) > 10  # wider than the 10-wide bottleneck


def test_parts(study):
    """--part picks a half of the study; together the halves are the whole."""
    halves = [study.study(parts=(part,)).models["mnist10"] for part in study.PARTS]
    assert {m.model["name"] for m in halves[0]} == {"qnn"}
    assert {m.model["name"] for m in halves[1]} == {"dressed", "dressed_classical"}
    assert halves[0] + halves[1] == study.study().models["mnist10"]


def test_quick_dry_run(study, tmp_path):
    """--quick runs the same design on digits: one row per cell, none failed."""
    counts = study.main(["--quick", "--out", str(tmp_path)])
    rows = read_jsonl(tmp_path / "results.jsonl")
    cells = list(study.study(quick=True).cells())
    assert counts["failed"] == 0 and len(rows) == len(cells) == counts["done"]
    assert {r["model"] for r in rows} == {m.name for _, m, _, _ in cells}
    assert all(0 <= r["val_accuracy"] <= 1 for r in rows)


def test_train_commands_rebuild_each_cell(study):
    """Each printed qimage train line parses to the cell's model and training settings."""
    from qimage.cli import parse_args
    from qimage.cli.train import _build_config

    suite = study.study()
    (task,) = suite.tasks
    lines = study.train_commands(suite, nproc=4, data_dir="/data")
    cells = list(suite.cells())
    assert len(lines) == len(cells)
    for line, (_, model, _, seed) in zip(lines, cells, strict=True):
        cfg = _build_config(parse_args(shlex.split(line)[1:]))
        want = model_config(task, model, suite.models[task.name])
        got = {k: v for k, v in cfg.model.to_dict().items() if k != "n_features"}
        assert got == {k: v for k, v in want.to_dict().items() if k != "n_features"}, line
        train = (cfg.train.epochs, cfg.train.lr, cfg.train.batch_size, cfg.train.seed)
        assert train == (model.train["epochs"], model.train["lr"], 64, seed)
        assert "--nproc 4" in line and cfg.data.dataset == "mnist"
