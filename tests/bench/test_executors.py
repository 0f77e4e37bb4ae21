"""Executors: a suite on Ray gives the rows of the local pool, survives a killed worker,
stops cleanly and resumes; without Ray, ``--executor ray`` is a one-line error.

The Ray tests start one local 2-CPU Ray on the loopback interface for the whole module.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from qimage.bench import BenchModel, Suite, Task, read_jsonl, run_suite
from qimage.bench.executors import RAY_MISSING, LocalExecutor
from qimage.bench.runner import Progress
from qimage.cli import main
from qimage.errors import QimageError

TASK = Task("digits", "digits", "8x8 digits", 8, classes=(0, 1, 2), sizes=(60,))
QNN = {"name": "qnn", "encoder": "amplitude", "n_qubits": 6, "n_layers": 2, "readout": "probs"}
MODELS = (
    # Long enough (a few seconds) for a worker to be killed while it runs.
    BenchModel("qnn", "quantum", QNN, train={"epochs": 6, "batch_size": 8}),
    BenchModel("logreg", "classical", {"name": "logreg"}, train={"epochs": 1}),
)
SUITE = Suite("tiny", (TASK,), {"digits": MODELS}, seeds=(0, 1), cv_folds=2, search_size=60)
N_CELLS = sum(1 for _ in SUITE.cells())
SAME = ("key", "task", "model", "size", "seed", "accuracy", "confusion", "n_parameters")


def _rows(out: Path) -> dict:
    rows = read_jsonl(out / "results.jsonl")
    assert len(rows) == len({r["key"] for r in rows}), "a cell was written twice"
    return {r["key"]: {k: r[k] for k in SAME} for r in rows}


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    """The tiny suite on the local executor, one thread per cell (as each Ray task has)."""
    out = tmp_path_factory.mktemp("local")
    counts = run_suite(SUITE, out, executor=LocalExecutor(1, cpus_per_cell=1))
    assert counts["done"] == N_CELLS
    return out


@pytest.fixture(scope="module")
def ray_executor():
    pytest.importorskip("ray")
    from qimage.bench.executors import RayExecutor

    with RayExecutor(cpus=2, cpus_per_cell=1, max_retries=2) as executor:
        yield executor


def _busy_workers() -> list[int]:
    """PIDs of this process's Ray workers now running a job (their title is ``ray::_attempt``)."""
    parents, titles = {}, {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                titles[int(entry.name)] = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def mine(pid: int) -> bool:
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
        return False

    busy = [pid for pid, title in titles.items() if title.startswith(b"ray::_attempt")]
    return [pid for pid in busy if mine(pid)]


def _kill_one_worker(stop: threading.Event, killed: list) -> None:
    while not stop.is_set() and not killed:
        busy = _busy_workers()
        if busy:
            time.sleep(0.5)  # let the job register its try before it dies
            if busy[0] in _busy_workers():
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="finds workers in /proc")
class TestRay:
    def test_same_rows_as_local(self, local, ray_executor, tmp_path):
        """Every cell, once, with the local pool's accuracies, seeds and confusion matrices."""
        counts = run_suite(SUITE, tmp_path, executor=ray_executor)
        assert counts == {"done": N_CELLS, "skipped": 0, "failed": 0, "todo": N_CELLS}
        assert _rows(tmp_path) == _rows(local)
        assert {r["tries"] for r in read_jsonl(tmp_path / "results.jsonl")} == {1}

    def test_killed_worker_is_retried(self, local, ray_executor, tmp_path):
        """SIGKILL a worker mid-cell: Ray retries it, the row says 2 tries, none lost or doubled."""
        (tmp_path / "search.jsonl").write_text((local / "search.jsonl").read_text())
        stop, killed = threading.Event(), []
        killer = threading.Thread(target=_kill_one_worker, args=(stop, killed))
        killer.start()
        try:
            counts = run_suite(SUITE, tmp_path, executor=ray_executor)
        finally:
            stop.set()
            killer.join()
        assert killed, "no worker was seen running a cell"
        assert counts["done"] == N_CELLS and counts["failed"] == 0
        assert _rows(tmp_path) == _rows(local)
        tries = [r["tries"] for r in read_jsonl(tmp_path / "results.jsonl")]
        assert sorted(tries) == [1] * (N_CELLS - 1) + [2]

    def test_interrupt_keeps_rows_and_resumes(self, local, ray_executor, tmp_path):
        """Ctrl-C after the first row: that row stays, the rest are cancelled; a rerun finishes."""
        (tmp_path / "search.jsonl").write_text((local / "search.jsonl").read_text())

        def interrupt(message):
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            run_suite(SUITE, tmp_path, executor=ray_executor, progress=interrupt)
        assert len(_rows(tmp_path)) == 1
        deadline = time.monotonic() + 20
        while _busy_workers() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _busy_workers(), "cancelled cells are still running"
        counts = run_suite(SUITE, tmp_path, executor=ray_executor)
        assert counts["skipped"] == 1 and counts["done"] == N_CELLS - 1
        assert _rows(tmp_path) == _rows(local)


def test_rows_record_one_try_locally(local):
    assert {r["tries"] for r in read_jsonl(local / "results.jsonl")} == {1}


def test_without_ray_the_error_names_the_extra(monkeypatch, capsys, tmp_path):
    """``--executor ray`` with Ray missing: exit code 2 and one line naming ``qimage[ray]``."""
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    assert main(["bench", "--executor", "ray", "--quiet", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"qimage: error: {RAY_MISSING}" and "pip install 'qimage[ray]'" in err


def test_address_needs_ray(capsys, tmp_path):
    assert main(["bench", "--address", "auto", "--quiet", "--out", str(tmp_path)]) == 2
    assert "--executor ray" in capsys.readouterr().err


class TestProgress:
    def test_count_and_eta(self):
        """k/N and the remaining time extrapolated from the time per finished job."""
        said, now = [], iter([0.0, 10.0, 30.0])
        count = Progress(4, said.append, clock=lambda: next(now))
        count("a")
        count("b")
        assert said == ["[1/4, ETA 0m30s] a", "[2/4, ETA 0m30s] b"]

    def test_hours(self):
        said, now = [], iter([0.0, 3600.0])
        Progress(3, said.append, clock=lambda: next(now))("x")
        assert said == ["[1/3, ETA 2h00m] x"]


def test_progress_reaches_the_driver_for_local(local, tmp_path):
    """The local executor reports k/N per cell too."""
    (tmp_path / "search.jsonl").write_text((local / "search.jsonl").read_text())
    said = []
    run_suite(SUITE, tmp_path, executor=LocalExecutor(1, 1), progress=said.append, max_cells=2)
    assert len(said) == 2 and said[0].startswith("[1/2, ETA ")
    assert said[1].startswith("[2/2, ETA 0m00s] digits")


def test_unknown_executor():
    from qimage.bench.executors import make_executor

    with pytest.raises(QimageError, match="unknown executor"):
        make_executor("slurm")
