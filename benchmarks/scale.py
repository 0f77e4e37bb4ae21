"""Scaling out: benchmark suites on Ray, data-parallel training (docs/performance.md).

Three parts, each a plain measurement with the public command line:

* ``bench``: wall time of ``qimage bench --suite quick`` with the local pool and with Ray,
  at 1 and 2 CPUs (one PyTorch thread per cell everywhere, so only the scheduling differs);
* ``train``: ``qimage train`` on 1 and 2 ranks with the same global batch: wall time of the
  command and training samples/s (from rank 0's history: global samples over its seconds);
* ``estimate``: the standard suite's makespan on P cores, from the per-cell times committed
  in ``docs/benchmark/results.jsonl`` (one thread per cell there too), with searches and
  cells each scheduled longest-first on P cores.

Usage::

    python benchmarks/scale.py                 # all parts, writes benchmarks/results/scale.json
    python benchmarks/scale.py --part estimate --cores 64
"""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qimage.bench import read_jsonl

ROOT = Path(__file__).resolve().parents[1]
BENCH_RUNS = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]


def _run(command: list[str]) -> float:
    """Seconds ``python -m qimage COMMAND`` takes (one thread per process)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qimage", *command], env=env, check=True)
    return time.perf_counter() - start


def measure_bench() -> list[dict]:
    rows = []
    for executor, cpus in BENCH_RUNS:
        with tempfile.TemporaryDirectory() as out:
            command = ["bench", "--suite", "quick", "--executor", executor]
            command += ["--workers", str(cpus), "--cpus-per-cell", "1", "--out", out, "--quiet"]
            seconds = _run(command)
            cells = read_jsonl(Path(out) / "results.jsonl")
        train = sum(c["train_seconds"] for c in cells)
        rows.append({"executor": executor, "cpus": cpus, "wall_s": seconds, "cells": len(cells)})
        rows[-1]["cell_train_s"] = train
        print(f"bench quick, {executor} at {cpus} CPU(s): {seconds:.0f} s for {len(cells)} cells")
    return rows


def measure_train(layers: list[int], epochs: int = 3, global_batch: int = 32) -> list[dict]:
    """The default QNN on 8x8 digits (500 training samples) at each depth in ``layers``."""
    rows = []
    for depth in layers:
        for nproc in (1, 2):
            with tempfile.TemporaryDirectory() as out:
                command = ["train", "--epochs", str(epochs), "--quiet", "--out", out]
                command += ["--n-train", "500", "--layers", str(depth)]
                command += ["--batch-size", str(global_batch // nproc), "--nproc", str(nproc)]
                seconds = _run(command)
                with open(Path(out) / "history.csv") as handle:
                    speeds = [float(r["samples_per_s"]) for r in csv.DictReader(handle)]
            rate = statistics.median(speeds)
            rows.append({"layers": depth, "nproc": nproc, "wall_s": seconds, "samples_per_s": rate})
            print(f"train, {depth} layers, {nproc} rank(s): {seconds:.0f} s, {rate:.0f} samples/s")
    return rows


def _makespan(durations: list[float], cores: int) -> float:
    """Longest-first list scheduling of ``durations`` on ``cores`` identical cores."""
    finish = [0.0] * cores
    for duration in sorted(durations, reverse=True):
        heapq.heapreplace(finish, finish[0] + duration)
    return max(finish)


def estimate_standard(cores: list[int]) -> dict:
    """Makespan of the standard suite on each core count, from its committed per-cell times.

    The committed run used 2 workers of one thread, so its cells kept 2 cores busy for the
    span between the first and last finish: what that span holds beyond the cells' training
    time (data, twin matching, evaluation, pauses) is spread evenly as a per-cell overhead.
    A search of (task, model) costs candidates x folds trainings on (folds-1)/folds of
    ``search_size`` samples, each priced as that model's smallest cell scaled by sample
    count, plus the overhead. Ray runs all searches, then all cells (the runner's phases).
    """
    from qimage.bench import SUITES

    suite = SUITES["standard"]
    cells = read_jsonl(ROOT / "docs/benchmark/results.jsonl")
    span = max(c["finished"] for c in cells) - min(c["finished"] for c in cells)
    overhead = (2 * span - sum(c["train_seconds"] for c in cells)) / len(cells)
    work = [c["train_seconds"] + overhead for c in cells]
    searches = []
    for task in suite.tasks:
        for model in suite.models[task.name]:
            own = [c for c in cells if c["task"] == task.name and c["model"] == model.name]
            if not own or not model.search:
                continue
            small = min(own, key=lambda c: c["n_train"])
            n = suite.search_size * (suite.cv_folds - 1) / suite.cv_folds
            one = small["train_seconds"] * min(1.0, n / small["n_train"]) + overhead
            searches.append(model.budget() * suite.cv_folds * one)
    out = {"cells": len(cells), "searches": len(searches), "overhead_per_cell_s": overhead}
    out.update(cell_core_s=sum(work), search_core_s=sum(searches))
    out["longest_cell_s"], out["longest_search_s"] = max(work), max(searches)
    for p in cores:
        out[f"makespan_{p}_s"] = _makespan(searches, p) + _makespan(work, p)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["bench", "train", "estimate", "all"], default="all")
    parser.add_argument("--cores", type=int, nargs="+", default=[2, 64])
    parser.add_argument("--layers", type=int, nargs="+", default=[8, 32], help="train part")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/scale.json")
    args = parser.parse_args()
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    if args.part in ("bench", "all"):
        results["bench"] = measure_bench()
    if args.part in ("train", "all"):
        results["train"] = measure_train(args.layers)
    if args.part in ("estimate", "all"):
        results["estimate"] = estimate_standard(args.cores)
        print(json.dumps(results["estimate"], indent=2))
    results["load_average"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
