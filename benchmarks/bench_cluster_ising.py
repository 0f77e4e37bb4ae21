"""The cluster-Ising task of the standard benchmark suite alone, reduced to fit a shared
2-core machine: the full training split only, the QCNN at lr 0.05 (not searched) and no
frozen ablation; the classical models search C as in the suite.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/bench_cluster_ising.py \
        --seeds 3 --out benchmarks/results/bench-cluster-ising

Writes ``results.jsonl`` and the report (``report.md``, ``report.html``, ``img/``) there.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from qimage.bench import Suite, run_suite
from qimage.bench.executors import LocalExecutor
from qimage.bench.suites import CLUSTER, SUITES
from qimage.report import build_report


def suite(seeds: int) -> Suite:
    task = dataclasses.replace(CLUSTER, sizes=(None,))
    models = [m for m in SUITES["standard"].models[CLUSTER.name] if m.ablation is None]
    models = [
        dataclasses.replace(m, search={}, train={**m.train, "lr": 0.05}) if m.name == "qcnn" else m
        for m in models
    ]
    return Suite("cluster-ising", (task,), {task.name: tuple(models)}, seeds=tuple(range(seeds)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/bench-cluster-ising"))
    args = parser.parse_args()
    run_suite(suite(args.seeds), args.out, executor=LocalExecutor(1, 1), progress=print)
    command = f"python benchmarks/bench_cluster_ising.py --seeds {args.seeds} --out {args.out}"
    build_report(args.out, command=command)


if __name__ == "__main__":
    main()
