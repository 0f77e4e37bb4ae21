"""What a trained model is worth on a noisy quantum computer: accuracy vs shots and vs
depolarizing rate, for the model as trained on the ideal simulator and after a short
noise-aware fine-tune (with an ideal fine-tune of the same budget as the control).

    .venv/bin/python benchmarks/noise_study.py runs/mnist-qnn32-s0 \
        --data-dir /work/shared/datasets/mnist --threads 1

Noise is simulated by Monte Carlo trajectories (random Pauli errors after every gate, on
each wire it touches); each test image runs ``--trajectories`` times and the model reads
out the mean of the measured probabilities, which converges to the density-matrix result.
Shots and noise are a :class:`qimage.sim.Execution` passed to each call (seeded, so a rerun
draws the same samples); the loaded model is never changed.
Writes ``benchmarks/results/noise_study.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from qimage.models import QuantumLayer
from qimage.sim import Execution, NoiseModel
from qimage.train import DataSpec, TrainConfig, fit, load_model, test_split

SHOTS = (100, 1_000, 10_000)
RATES = (1e-4, 1e-3, 1e-2)
OUT = Path(__file__).parent / "results" / "noise_study.json"


def quantum_layers(model) -> list[QuantumLayer]:
    return [m for m in model.modules() if isinstance(m, QuantumLayer)]


@torch.no_grad()
def accuracy(model, X, y, execution: Execution, *, repeats: int = 1, batch: int = 64) -> float:
    """Accuracy under ``execution``, the quantum part's outputs averaged over ``repeats``
    runs per image.

    Only single-layer models (QNN) are averaged before the readout; that is what a device's
    counts over many shots give.
    """
    (layer,) = quantum_layers(model)
    model.eval()
    correct = 0
    for start in range(0, len(X), batch):
        x = X[start : start + batch]
        measured = layer(x.repeat_interleave(repeats, 0), execution=execution)
        mean = measured.view(len(x), repeats, -1).mean(1)
        correct += int((model.readout(mean).argmax(1) == y[start : start + batch]).sum())
    return correct / len(X)


def finetune(model, X, y, noise: NoiseModel | None, args):
    """One short pass at a small learning rate, under ``noise`` (None: the ideal control)."""
    out = copy.deepcopy(model)
    # Trajectories are ordinary gates, so autograd applies: backprop for both arms.
    execution = Execution(diff_method="backprop", noise=noise, seed=args.seed)
    config = TrainConfig(epochs=1, lr=args.lr, batch_size=32, val_fraction=0.0, seed=args.seed)
    fit(out, X, y, config, progress=False, execution=execution)
    return out


def load(args):
    saved = load_model(Path(args.model) / "model.safetensors")
    spec = DataSpec(**{**saved.info["data"], "data_dir": args.data_dir})
    images, labels, _ = test_split(spec)
    rng = np.random.default_rng(args.seed)
    pick = rng.choice(len(images), args.n_test, replace=False)
    X = torch.as_tensor(saved.pipeline.transform(images[pick]), dtype=torch.float32)
    return saved, X, torch.as_tensor(labels[pick]), spec


def train_subset(saved, spec, args):
    from qimage.data import load_dataset

    ds = load_dataset(spec.dataset, data_dir=spec.data_dir)
    rng = np.random.default_rng(args.seed + 1)
    pick = rng.choice(len(ds.X_train), args.finetune_samples, replace=False)
    X = torch.as_tensor(saved.pipeline.transform(ds.X_train[pick]), dtype=torch.float32)
    return X, torch.as_tensor(ds.y_train[pick])


def run(args) -> dict:
    saved, X, y, spec = load(args)
    model = saved.model
    rows = [{"setting": "exact", "ideal": accuracy(model, X, y, Execution())}]
    for shots in SHOTS:
        sampled = accuracy(model, X, y, Execution(shots=shots, seed=0))
        rows.append({"setting": f"{shots} shots", "ideal": sampled})
    X_ft, y_ft = train_subset(saved, spec, args)
    control = finetune(model, X_ft, y_ft, None, args)
    for rate in RATES:
        noise = NoiseModel.parse(f"depolarizing={rate},method=trajectories")
        aware = finetune(model, X_ft, y_ft, noise, args)
        row = {"setting": f"depolarizing {rate:g}"}
        for name, m in (("ideal", model), ("ideal_finetuned", control), ("noise_aware", aware)):
            noisy = Execution(noise=noise, seed=args.seed)  # the same trajectories' errors
            row[name] = accuracy(m, X, y, noisy, repeats=args.trajectories)
        rows.append(row)
    return {"rows": rows, "model": str(args.model), "n_test": args.n_test}


def table(result: dict) -> str:
    lines = [
        "| setting | trained ideal | ideal + ideal fine-tune | noise-aware fine-tune |",
        "|---|---:|---:|---:|",
    ]
    for row in result["rows"]:
        cells = [row.get(k) for k in ("ideal", "ideal_finetuned", "noise_aware")]
        text = [f"{100 * c:.2f}" if c is not None else "" for c in cells]
        lines.append(f"| {row['setting']} | " + " | ".join(text) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("model", help="run folder of a trained single-circuit model (qimage train)")
    p.add_argument("--data-dir")
    p.add_argument("--n-test", type=int, default=1000, help="test images (a seeded sample)")
    p.add_argument("--trajectories", type=int, default=16, help="noise trajectories per image")
    p.add_argument("--finetune-samples", type=int, default=5000)
    p.add_argument("--lr", type=float, default=0.002)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int)
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    start = time.perf_counter()
    result = run(args)
    result["seconds"] = time.perf_counter() - start
    result["machine"] = {"python": platform.python_version(), "torch": torch.__version__,
                         "threads": torch.get_num_threads()}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))


if __name__ == "__main__":
    main()
