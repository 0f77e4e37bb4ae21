"""The Born machine against classical generative models on the same bits, over seeds.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/born.py --seeds 3

Data: bars and stripes 3x3 (all 14 valid images; train = test, the textbook set) and the 8x8
digits pooled to 4x4 and binarised at the training split's mean pooled pixel (16 bits,
1438 train / 359 test images, all classes, unconditional). Models, all with a parameter count
matched to the Born machine where they have a size:

* ``born-mmd`` / ``born-kl``: the quantum circuit Born machine (hardware-efficient ansatz),
  trained by :func:`qimage.train.fit` with exact probabilities (adjoint gradients), full
  batch on bars and stripes, batches of 64 on the digits (230 steps);
* ``bernoulli``: independent pixels (Laplace-smoothed frequencies; ``n`` parameters);
* ``rbm``: scikit-learn's ``BernoulliRBM``; exact probabilities by enumerating its free
  energy, samples from Gibbs chains;
* ``made``: a one-hidden-layer MADE (masked autoregressive network), trained by likelihood.

Metrics: exact KL(test || model) and total variation over all ``2^n`` strings, squared MMD
of 1,000 samples' histogram against the test distribution (same kernel as the Born loss),
validity (bars and stripes), novelty (share of samples not in the training set). Writes
``benchmarks/results/born.json`` and prints a Markdown table (mean ± 95% CI over seeds).

The baselines are :mod:`qimage.estimators.generative` and the metrics
:func:`qimage.bench.generative.bit_metrics`, which the benchmark suite's generative tasks
use too (``qimage bench --suite standard --task bas3x3 --task digits4x4``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from qimage.bench.generative import bit_metrics
from qimage.data.bars import bars_and_stripes, is_bars_and_stripes
from qimage.estimators import MADE, BitRBM, IndependentBits
from qimage.estimators.generative import matched
from qimage.models import ModelConfig, build_model, count_parameters
from qimage.models.born import BornMachine, born_sample, born_targets
from qimage.models.families.born import BORN_KL, BORN_MMD, kl_divergence, total_variation
from qimage.preprocess.bits import bits_to_index, load_bits
from qimage.report.stats import summarise
from qimage.sim import Execution
from qimage.train import TrainConfig, fit

N_SAMPLES = 1000
CONFIDENT = 0.9  # a drawn digit counts as recognised at this classifier probability


def histogram(bits: np.ndarray, n: int) -> torch.Tensor:
    counts = np.bincount(bits_to_index(bits), minlength=2**n)
    return torch.as_tensor(counts / counts.sum()).double()[None]


def train_born(train: np.ndarray, born: dict, loss: str, seed: int):
    n = train.shape[1]
    g = torch.Generator().manual_seed(seed)
    model = BornMachine(n, born["layers"], generator=g).double()
    y = born_targets(torch.as_tensor(train))
    config = TrainConfig(
        epochs=born["epochs"],
        batch_size=born["batch"],
        lr=born["lr"],
        schedule="none",
        val_fraction=0,
        seed=seed,
    )
    objective = BORN_MMD if loss == "mmd" else BORN_KL
    fit(model, model.inputs(n=len(y)), y, config, execution=Execution(), objective=objective)
    with torch.no_grad():
        p = model(model.inputs(n=1))
    samples = born_sample(model, N_SAMPLES, generator=torch.Generator().manual_seed(seed))
    return p, samples.numpy(), count_parameters(model)


def _fitted(model, samples: np.ndarray):
    return torch.as_tensor(model.distribution())[None], samples, model.n_parameters_


def train_bernoulli(train: np.ndarray, seed: int):
    model = IndependentBits().fit(train)
    return _fitted(model, model.sample(N_SAMPLES, random_state=seed))


def rbm_size(n: int, target: int) -> int:
    return matched(BitRBM(), n, target).n_components


def train_rbm(train: np.ndarray, hidden: int, seed: int):
    model = BitRBM(hidden, random_state=seed).fit(train)
    return _fitted(model, model.sample(N_SAMPLES, random_state=seed))


def made_size(n: int, target: int) -> int:
    return matched(MADE(), n, target).hidden


def train_made(train: np.ndarray, hidden: int, seed: int):
    model = MADE(hidden, random_state=seed).fit(train)
    return _fitted(model, model.sample(N_SAMPLES))  # draws continue the fit's generator


def metrics(p, samples, train, test, shape) -> dict:
    valid = is_bars_and_stripes if shape is not None else None
    out = bit_metrics(p.double().numpy().ravel(), samples, train, test, valid)
    out["mmd2_samples"] = out.pop("mmd2")
    return out


def subsample(bits, n: int | None, seed: int = 0):
    """``n`` training rows drawn once (the same for every model and seed), or all."""
    if n is None or n >= len(bits.train):
        return bits.train, bits.y_train
    keep = np.sort(np.random.default_rng(seed).choice(len(bits.train), n, replace=False))
    return bits.train[keep], bits.y_train[keep]


def datasets(names, mnist_dir: str, mnist_train: int) -> dict:
    """The requested data sets, loaded lazily (MNIST only when asked for)."""
    born = {"layers": 4, "epochs": 10, "batch": 64, "lr": 0.05}
    out = {}
    if "bas3x3" in names:
        bas = bars_and_stripes(3, 3).reshape(-1, 9)
        out["bas3x3"] = (bas, bas, (3, 3), {"layers": 6, "epochs": 300, "batch": 14, "lr": 0.1})
    if "digits4x4" in names:
        digits = load_bits("digits", size=4)
        out["digits4x4"] = (digits.train, digits.test, None, born)
    if "mnist4x4" in names:
        mnist = load_bits("mnist", size=4, data_dir=mnist_dir)
        out["mnist4x4"] = (subsample(mnist, mnist_train)[0], mnist.test, None, born)
    return out


def run_seed(name, train, test, shape, born, seed, models) -> list[dict]:
    rows, target = [], None
    for model in models:
        start = time.perf_counter()
        if model.startswith("born"):
            p, s, k = train_born(train, born, model[5:], seed)
            target = k
        elif model == "bernoulli":
            p, s, k = train_bernoulli(train, seed)
        elif model == "rbm":
            p, s, k = train_rbm(train, rbm_size(train.shape[1], target), seed)
        else:
            p, s, k = train_made(train, made_size(train.shape[1], target), seed)
        row = {"data": name, "model": model, "seed": seed, "n_parameters": k}
        row.update(metrics(p, s, train, test, shape))
        row["seconds"] = time.perf_counter() - start
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _cells(own: list[dict], keys) -> str:
    """Table cells "mean ± CI" over the seeds' rows ``own``, "–" for a metric they lack."""
    cells = []
    for key in keys:
        if key not in own[0]:
            cells.append("–")
            continue
        s = summarise([r[key] for r in own])
        digits = 4 if key == "mmd2_samples" else 3
        cells.append(f"{s.mean:.{digits}f} ± {s.ci:.{digits}f}")
    return " | ".join(cells)


def table(rows: list[dict]) -> str:
    keys = ("kl", "tv", "mmd2_samples", "validity", "novelty")
    lines = [
        "| data | model | params | KL(test‖model) | TV | MMD² (samples) | valid | novel |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for data in dict.fromkeys(r["data"] for r in rows):
        for model in dict.fromkeys(r["model"] for r in rows if r["data"] == data):
            own = [r for r in rows if r["data"] == data and r["model"] == model]
            params = own[0]["n_parameters"]
            lines.append(f"| {data} | {model} | {params} | " + _cells(own, keys) + " |")
    return "\n".join(lines)


def shots_study(seeds: int) -> list[dict]:
    """Bars and stripes 2x2 trained by MMD on exact probabilities and on shot frequencies with
    parameter-shift gradients (what hardware would run): exact KL after the same 150 steps."""
    bas = torch.as_tensor(bars_and_stripes(2, 2).reshape(-1, 4))
    y = born_targets(bas)
    rows = []
    for shots, seed in itertools.product((None, 1000, 100), range(seeds)):
        model = BornMachine(4, 3, generator=torch.Generator().manual_seed(seed)).double()
        config = TrainConfig(150, 6, 0.1, schedule="none", val_fraction=0, seed=seed)
        execution = Execution(shots=shots, seed=seed)
        start = time.perf_counter()
        fit(model, model.inputs(n=6), y, config, execution=execution, objective=BORN_MMD)
        with torch.no_grad():
            report = BORN_MMD.report(model(model.inputs(n=6)), y, 1)
        row = {"shots": shots, "seed": seed, "kl": report["kl"], "tv": report["tv"]}
        rows.append({**row, "seconds": time.perf_counter() - start})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def train_classifier(bits, seed: int):
    """A qimage MLP (64 hidden units, 100 epochs) on the binarised training images: the
    judge of whether a drawn image shows the requested digit."""
    config = ModelConfig("mlp", n_features=bits.train.shape[1], n_classes=10, hidden=64)
    model = build_model(config, torch.Generator().manual_seed(seed)).double()
    x, y = torch.as_tensor(bits.train).double(), torch.as_tensor(bits.y_train)
    train = TrainConfig(100, 64, 0.01, schedule="none", val_fraction=0, seed=seed)
    fit(model, x, y, train, progress=False)
    return model


@torch.no_grad()
def recognised(classifier, samples: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Shares of images the classifier calls their requested class: with probability >= 0.9,
    and at all (arg max)."""
    proba = torch.softmax(classifier(torch.as_tensor(samples).double()), 1).numpy()
    own = proba[np.arange(len(labels)), labels]
    return float((own >= CONFIDENT).mean()), float((proba.argmax(1) == labels).mean())


def train_born_conditional(bits, born: dict, seed: int):
    """The class-conditioned Born machine: its distribution per class ``(C, 2^n)`` and
    ``N_SAMPLES / C`` samples of every class."""
    n, classes = bits.train.shape[1], 10
    model = BornMachine(n, born["layers"], n_conditions=classes, generator=_gen(seed)).double()
    labels = torch.as_tensor(bits.y_train)
    y = born_targets(torch.as_tensor(bits.train), labels)
    config = TrainConfig(
        born["epochs"], born["batch"], born["lr"], schedule="none", val_fraction=0, seed=seed
    )
    fit(model, model.inputs(labels), y, config, execution=Execution(), objective=BORN_MMD)
    with torch.no_grad():
        p = model(model.inputs(torch.arange(classes)))
    draws = [
        born_sample(model, N_SAMPLES // classes, c, generator=_gen(seed + 100 * c)).numpy()
        for c in range(classes)
    ]
    return p, np.concatenate(draws), count_parameters(model)


def train_per_class(bits, train_one, seed: int):
    """A classical model per class (``train_one(rows, seed)`` -> p, samples, params)."""
    parts = [train_one(bits.train[bits.y_train == c], seed) for c in range(10)]
    p = torch.cat([part[0] for part in parts])
    samples = np.concatenate([part[1][: N_SAMPLES // 10] for part in parts])
    return p, samples, sum(part[2] for part in parts)


def conditional_metrics(p, samples, bits, classifier) -> dict:
    n, per = bits.train.shape[1], N_SAMPLES // 10
    labels = np.repeat(np.arange(10), per)
    q = torch.cat([histogram(bits.test[bits.y_test == c], n) for c in range(10)])
    w = torch.as_tensor(np.bincount(bits.y_test, minlength=10) / len(bits.y_test))
    p = p.double() / p.sum(1, keepdim=True)
    sure, top = recognised(classifier, samples, labels)
    seen = set(bits_to_index(bits.train).tolist())
    return {
        "kl": float((w * kl_divergence(q, p)).sum()),
        "tv": float((w * total_variation(p, q)).sum()),
        "recognised": sure,
        "recognised_argmax": top,
        "novelty": float(np.mean([i not in seen for i in bits_to_index(samples)])),
    }


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def conditional_study(seeds: range, born: dict) -> list[dict]:
    """Digits 4x4, one distribution per class: the class-conditioned Born machine against
    per-class independent pixels and per-class MADEs (total parameters matched), judged by
    a qimage MLP trained on the same binarised images; ``data`` is the test images
    themselves (the ceiling of the "recognised" metric)."""
    bits, rows = load_bits("digits", size=4), []
    for seed in seeds:
        judge = train_classifier(bits, seed)
        test_acc = recognised(judge, bits.test, bits.y_test)
        rows.append({"model": "data", "seed": seed, "n_parameters": 0, "recognised": test_acc[0]})
        rows[-1]["recognised_argmax"] = test_acc[1]
        start = time.perf_counter()
        p, samples, k = train_born_conditional(bits, born, seed)
        runs = {"born-cond": (p, samples, k, time.perf_counter() - start)}
        hidden = made_size(bits.train.shape[1], k // 10)
        for name, one in (
            ("bernoulli-cond", train_bernoulli),
            ("made-cond", lambda part, s, h=hidden: train_made(part, h, s)),
        ):
            start = time.perf_counter()
            runs[name] = (*train_per_class(bits, one, seed), time.perf_counter() - start)
        for name, (p, samples, k, seconds) in runs.items():
            row = {"model": name, "seed": seed, "n_parameters": k, "seconds": seconds}
            rows.append({**row, **conditional_metrics(p, samples, bits, judge)})
        for row in rows[-4:]:
            print(json.dumps(row), flush=True)
    return rows


def conditional_table(rows: list[dict]) -> str:
    keys = ("kl", "tv", "recognised", "recognised_argmax", "novelty")
    lines = [
        "| model | params | KL(test‖model), per class | TV | recognised (p ≥ 0.9) "
        "| recognised (arg max) | novel |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for model in dict.fromkeys(r["model"] for r in rows):
        own = [r for r in rows if r["model"] == model]
        lines.append(f"| {model} | {own[0]['n_parameters']} | " + _cells(own, keys) + " |")
    return "\n".join(lines)


def _write(path: str, result: dict) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument(
        "--first-seed", type=int, default=0, help="start there (--conditional: to split seeds)"
    )
    parser.add_argument("--data", nargs="*", default=["bas3x3", "digits4x4"])
    parser.add_argument(
        "--models", nargs="*", default=["born-mmd", "born-kl", "bernoulli", "rbm", "made"]
    )
    parser.add_argument("--out", default="benchmarks/results/born.json")
    parser.add_argument("--shots-study", action="store_true", help="exact vs shot training")
    parser.add_argument(
        "--conditional", action="store_true", help="class-conditioned models on digits 4x4"
    )
    parser.add_argument("--mnist-dir", default="../shared/datasets/mnist")
    parser.add_argument("--mnist-train", type=int, default=2000, help="MNIST training rows")
    parser.add_argument("--epochs", type=int, help="Born epochs (default: per data set)")
    args = parser.parse_args()
    machine = {"machine": platform.platform(), "torch": torch.__version__}
    if args.shots_study:
        return _write(args.out, {"rows": shots_study(args.seeds)})
    if args.conditional:
        born = {"layers": 4, "epochs": args.epochs or 10, "batch": 256, "lr": 0.05}
        rows = conditional_study(range(args.first_seed, args.first_seed + args.seeds), born)
        _write(args.out, {"rows": rows, "born": born, **machine})
        return print(conditional_table(rows))
    rows = []
    for name, (train, test, shape, born) in datasets(
        args.data, args.mnist_dir, args.mnist_train
    ).items():
        born = {**born, "epochs": args.epochs or born["epochs"]}
        for seed in range(args.seeds):
            rows += run_seed(name, train, test, shape, born, seed, args.models)
    _write(args.out, {"rows": rows, **machine})
    print(table(rows))


if __name__ == "__main__":
    main()
