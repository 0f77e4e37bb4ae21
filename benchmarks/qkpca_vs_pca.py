"""PCA vs quantum-kernel PCA as the reduction step: downstream accuracy of the same model.

    PYTHONPATH=src .venv/bin/python benchmarks/qkpca_vs_pca.py \
        --data-dir /work/shared/datasets --seeds 3

MNIST 3 vs 5, a stratified training subsample of ``--n-train`` images (the seed draws it, the
initial weights and the batch order), reduced to 4 or 8 components by ``reduce="pca"`` or
``reduce="qkpca"`` (kernel PCA on the fidelity kernel of amplitude-encoded images, 10 qubits),
then the same model: the QNN on as many qubits as components (angle encoding, 2 layers)
and a logistic regression. Test: all MNIST test images of 3 and 5.
Writes ``benchmarks/results/qkpca_vs_pca.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from qimage.models import ModelConfig
from qimage.train import default_run_config, run_experiment

OUT = Path(__file__).parent / "results" / "qkpca_vs_pca.json"


def accuracy(model: str, d: int, reduce: str, seed: int, args) -> float:
    options = {"n_qubits": d, "n_layers": 2} if model == "qnn" else {}
    cfg = default_run_config(
        "mnist",
        ModelConfig(model, **options),
        classes=[3, 5],
        n_train=args.n_train,
        pca=d,
        reduce=reduce,
        seed=seed,
    )
    cfg.train.epochs, cfg.train.seed, cfg.train.lr = args.epochs, seed, 0.05
    result = run_experiment(cfg, progress="off", data_dir=args.data_dir)
    return result.metrics["test"]["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default="/work/shared/datasets")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--epochs", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start, rows = time.time(), []
    for model in ("qnn", "logreg"):
        for d in (4, 8):
            for reduce in ("pca", "qkpca"):
                scores = [accuracy(model, d, reduce, s, args) for s in range(args.seeds)]
                rows.append({"model": model, "components": d, "reduce": reduce, "acc": scores})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"args": vars(args), "rows": rows, "seconds": time.time() - start}))
    print("| model | components | PCA | qkPCA |\n|---|---:|---:|---:|")
    for pca, qk in zip(rows[::2], rows[1::2], strict=True):
        cells = [f"{100 * np.mean(r['acc']):.1f} ± {100 * np.std(r['acc']):.1f}" for r in (pca, qk)]
        print(f"| {pca['model']} | {pca['components']} | {cells[0]} | {cells[1]} |")
    print(f"{args.seeds} seeds, {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
