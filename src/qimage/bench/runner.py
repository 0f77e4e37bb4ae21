"""Running a suite: resumable, one JSON line per finished cell, on a process pool or Ray.

Results go to ``OUT/results.jsonl``; the hyperparameters chosen by cross-validation go to
``OUT/search.jsonl``. Each line carries a key hashed from everything that defines it (task,
model spec, size, seed, protocol version), so a rerun skips what is done and an interrupted
benchmark resumes where it stopped. Jobs run on an executor (:mod:`qimage.bench.executors`);
lines are appended by the driver only, once per key, whatever the executor retried.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import time
from pathlib import Path

from qimage import __version__
from qimage.bench.cells import check_task_data, run_cell, search_hyperparameters
from qimage.bench.executors import LocalExecutor
from qimage.bench.spec import Suite
from qimage.report.results import read_jsonl

__all__ = ["PROTOCOL", "read_jsonl", "run_suite"]

PROTOCOL = 2  # bump when results stop being comparable with earlier ones
# 2: twins see their model's features and may be projected logistic regressions; rows
#    record each model's search budget ("candidates")


def _key(*parts) -> str:
    text = json.dumps([PROTOCOL, *parts], sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _append(path: Path, row: dict) -> None:
    # A crash mid-write leaves a torn last line; start on a fresh line so it stays alone.
    torn = path.is_file() and path.stat().st_size and path.read_bytes()[-1:] != b"\n"
    with open(path, "a") as handle:
        handle.write(("\n" if torn else "") + json.dumps(row) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


# Task fields added after results of this protocol were written, with their defaults: left
# out of the keys there, so that those results keep their keys (a rerun skips them).
_LATER_FIELDS = {"kind": "classification", "candidates": None}


def _spec(obj) -> dict:
    spec = dataclasses.asdict(obj)
    return {k: v for k, v in spec.items() if _LATER_FIELDS.get(k, ...) != v}


class _Searcher:
    """Hyperparameters per (task, model), searched once, when first needed, and remembered
    in ``search.jsonl`` (so a rerun or a resumed run does not search again).
    """

    def __init__(self, suite: Suite, out: Path, data_dir, progress, device=None):
        self.suite, self.path, self.data_dir, self.say = (
            suite,
            out / "search.jsonl",
            data_dir,
            progress,
        )
        self.device = device
        self.done = {row["key"]: row["params"] for row in read_jsonl(self.path)}

    def key(self, task, model) -> str:
        suite = self.suite
        return _key("search", _spec(task), _spec(model), suite.cv_folds, suite.search_size)

    def prefetch(self, pairs, executor) -> None:
        """Search every ``(task, model)`` pair not searched yet on ``executor``."""
        missing = list(
            {self.key(t, m): (t, m) for t, m in pairs if self.key(t, m) not in self.done}.values()
        )
        jobs = [
            (self.suite, t, m, self.data_dir, executor.threads, self.device) for t, m in missing
        ]
        if jobs:
            self.say(f"searching the hyperparameters of {len(jobs)} (task, model) pairs")
        count = Progress(len(jobs), self.say)
        with contextlib.closing(executor.map(_search_job, jobs)) as results:
            for index, params, _ in results:
                self._store(*missing[index], params, count)

    def __call__(self, task, model) -> dict:
        key = self.key(task, model)
        if key not in self.done:
            job = (self.suite, task, model, self.data_dir, None, self.device)
            self._store(task, model, _search_job(job))
        return self.done[key]

    def _store(self, task, model, params: dict, count=None) -> None:
        key = self.key(task, model)
        if key in self.done:  # a duplicated job: the first answer stands
            return
        _append(self.path, {"key": key, "task": task.name, "model": model.name, "params": params})
        self.done[key] = params
        score = params.get("cv_accuracy")
        chosen = {k: v for k, v in params.items() if k != "cv_accuracy"}
        cv = "" if score is None else f" (cv accuracy {score:.3f})"
        message = f"searched {model.name} on {task.name}: {chosen}{cv}"
        (count or self.say)(message)


def _search_job(args) -> dict:
    suite, task, model, data_dir, threads, device = args
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    return search_hyperparameters(
        task,
        model,
        suite.models[task.name],
        folds=suite.cv_folds,
        size=suite.search_size,
        data_dir=data_dir,
        device=device,
    )


def _job(args):
    task, model, models, size, seed, params, data_dir, threads, device = args
    import torch

    torch.set_num_threads(threads)
    return run_cell(task, model, models, size, seed, params, data_dir, device=device)


def _row(suite, task, model, size, seed, result, tries) -> dict:
    return {
        "suite": suite.name, "task": task.name, "task_label": task.label,
        "task_unit": task.unit(), "task_kind": task.kind,
        "model": model.name, "family": model.family, "twin": model.twin,
        "ablation_of": model.ablation_of, "ablation": model.ablation,
        "size": size, "seed": seed, "qimage": __version__, "finished": time.time(),
        "tries": tries, "candidates": model.budget(), **result,
    }  # fmt: skip


class Progress:
    """Prefixes each of ``total`` messages with ``[k/total, ETA ...]`` (elapsed time per
    finished job times the jobs left) and passes it to ``say``."""

    def __init__(self, total: int, say, clock=time.monotonic):
        self.total, self.say, self.clock = total, say, clock
        self.done, self.start = 0, clock()

    def __call__(self, message: str) -> None:
        self.done += 1
        left = (self.clock() - self.start) / self.done * (self.total - self.done)
        self.say(f"[{self.done}/{self.total}, ETA {_duration(left)}] {message}")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def run_suite(
    suite: Suite,
    out: str | Path,
    *,
    workers: int = 1,
    executor=None,
    data_dir=None,
    max_cells: int | None = None,
    progress=None,
    device: str | None = None,
) -> dict:
    """Run every unfinished cell of ``suite`` into ``out``; returns counts done/skipped/failed.

    ``executor`` runs the jobs (default: a :class:`LocalExecutor` of ``workers`` processes);
    ``max_cells`` stops after that many new cells (hyperparameters are searched only for
    the models those cells need); ``device`` is where the torch models train (cpu, cuda).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda message: None)
    executor = executor or LocalExecutor(workers)
    for task in suite.tasks:
        check_task_data(task, data_dir)  # a missing dataset fails now, not an hour in
    search = _Searcher(suite, out, data_dir, say, device)
    if max_cells is None:  # otherwise search lazily, only for the cells that will run
        search.prefetch([(t, m) for t, m, _, _ in suite.cells()], executor)
    todo, skipped = _pending(suite, out, search, max_cells)
    counts = {"done": 0, "skipped": skipped, "failed": 0, "todo": len(todo)}
    jobs = [
        (t, m, suite.models[t.name], size, seed, params, data_dir, executor.threads, device)
        for _, t, m, size, seed, params in todo
    ]
    count, written = Progress(len(jobs), say), set()
    with contextlib.closing(executor.map(_job, jobs)) as results:
        for index, result, tries in results:
            key, task, model, size, seed, _ = todo[index]
            if key in written:  # a duplicated job: the first row stands
                continue
            row = _row(suite, task, model, size, seed, result, tries)
            _append(out / "results.jsonl", {"key": key, **row})
            written.add(key)
            counts["failed" if "error" in result else "done"] += 1
            outcome = result.get("error") or result.get("summary")
            outcome = outcome or f"accuracy {result['accuracy']:.4f}"
            retried = f" ({tries} tries)" if tries > 1 else ""
            count(f"{task.name} {model.name} n={size or 'full'} seed={seed}: {outcome}{retried}")
    return counts


def _pending(suite: Suite, out: Path, search: _Searcher, max_cells) -> tuple[list, int]:
    """The cells still to run (with their hyperparameters) and how many are already done."""
    done = {row["key"] for row in read_jsonl(out / "results.jsonl")}
    todo, skipped = [], 0
    for task, model, size, seed in suite.cells():
        if max_cells is not None and len(todo) >= max_cells:
            break
        params = search(task, model)
        key = _key("cell", _spec(task), _spec(model), size, seed, params)
        if key in done:
            skipped += 1
        else:
            done.add(key)  # a cell listed twice runs once
            todo.append((key, task, model, size, seed, params))
    return todo, skipped
