"""PCA vs quantum-kernel PCA as the reduction step: downstream accuracy of the same model.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/qkpca_vs_pca.py \
        --data-dir /work/shared/datasets --seeds 3 --tasks 35 10 --components 4 8 10

MNIST 3 vs 5 (``35``) and all 10 classes (``10``), a stratified training subsample of
``--n-train`` images (the seed draws it, the initial weights and the batch order), reduced
to 4, 8 or 10 components by ``reduce="pca"`` or ``reduce="qkpca"`` (kernel PCA on the
fidelity kernel of amplitude-encoded images, 10 qubits), then the same model: the QNN on as
many qubits as components (angle encoding, 2 layers, probs readout) and a logistic
regression. Test: all MNIST test images of the task's classes. Mean ± the 95% t-interval
over seeds. Writes ``benchmarks/results/qkpca_vs_pca.json`` (``--out``) and prints a
Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from qimage.models import ModelConfig
from qimage.report.stats import summarise
from qimage.train import default_run_config, run_experiment

OUT = Path(__file__).parent / "results" / "qkpca_vs_pca.json"
TASKS = {"35": [3, 5], "10": None}


def accuracy(task: str, model: str, d: int, reduce: str, seed: int, args) -> float:
    options = {"n_qubits": d, "n_layers": 2} if model == "qnn" else {}
    cfg = default_run_config(
        "mnist",
        ModelConfig(model, **options),
        classes=TASKS[task],
        n_train=args.n_train,
        pca=d,
        reduce=reduce,
        seed=seed,
    )
    cfg.train.epochs, cfg.train.seed, cfg.train.lr = args.epochs, seed, 0.05
    result = run_experiment(cfg, progress="off", data_dir=args.data_dir)
    return result.metrics["test"]["accuracy"]


def table(rows) -> str:
    lines = ["| task | model | components | PCA | qkPCA | qkPCA - PCA (paired) |"]
    lines.append("|---|---|---:|---:|---:|---:|")
    for pca, qk in zip(rows[::2], rows[1::2], strict=True):
        diff = summarise(list(np.subtract(qk["acc"], pca["acc"])))
        cells = [summarise(r["acc"]).text() for r in (pca, qk)]
        name = "MNIST 3 vs 5" if pca["task"] == "35" else "MNIST 10 classes"
        lines.append(
            f"| {name} | {pca['model']} | {pca['components']} | {cells[0]} | {cells[1]} "
            f"| {diff.text()} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="/work/shared/datasets")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--tasks", nargs="+", choices=list(TASKS), default=["35"])
    parser.add_argument("--components", nargs="+", type=int, default=[4, 8])
    parser.add_argument("--models", nargs="+", choices=["qnn", "logreg"], default=["qnn", "logreg"])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start, rows = time.time(), []
    for task in args.tasks:
        for model in args.models:
            for d in args.components:
                for reduce in ("pca", "qkpca"):
                    acc = [accuracy(task, model, d, reduce, s, args) for s in range(args.seeds)]
                    row = {"task": task, "model": model, "components": d, "reduce": reduce}
                    rows.append({**row, "acc": acc})
                    print(rows[-1], flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary = {"args": {**vars(args), "out": str(args.out)}, "rows": rows}
    args.out.write_text(json.dumps({**summary, "seconds": time.time() - start}))
    print(table(rows))
    print(f"{args.seeds} seeds, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
