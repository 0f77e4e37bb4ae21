"""Model-family figures: quanvolution and quantum-kernel speed, and accuracy beside twins.

Usage::

    .venv/bin/python benchmarks/models.py speed-quanv  --data-dir DIR   # 70,000 MNIST images
    .venv/bin/python benchmarks/models.py speed-kernel                  # Gram N=2000, 10 qubits
    .venv/bin/python benchmarks/models.py acc-quanv    --data-dir DIR   # QuanvNet vs twins
    .venv/bin/python benchmarks/models.py acc-kernel   --data-dir DIR   # qSVM vs RBF SVC, 3 v 5
    .venv/bin/python benchmarks/models.py acc-digits                    # presets + QNN twin

Every command runs on ``--threads`` threads (2 by default, the target machine), prints a
table, and writes its figures with the machine load and the exact command to
``benchmarks/results/models-<command>.json``.

* ``speed-quanv``: frozen 2x2 quanvolution, stride 2, 4 qubits (one strongly entangling
  layer), of all 70,000 MNIST images via :func:`qimage.models.quanv_features` (no cache,
  all patches of a chunk in one engine call); best and median of ``--repeats`` runs, the
  cached reload, and the gate-by-gate circuit (RY encoding gates simulated) on 5,000 images.
* ``speed-kernel``: IQP (ZZ, all pairs, 2 reps) fidelity Gram of N=2000 samples on 10 qubits:
  N state simulations plus one chunked GEMM; also the projected kernel and complex128.
* ``acc-quanv``: MNIST 10 classes, all 60,000 training images, the 10,000 test images.
  Frozen quanvolution features are computed once per seed (cached), then each head trains by
  :func:`qimage.train.fit` with one budget: QuanvNet (linear head) against its twin (the same
  linear head on the raw pixel angles) and a CNN with 4 trainable 2x2/2 filters; the same
  with an MLP head of ``--hidden`` units.
* ``acc-kernel``: MNIST 3 versus 5, ``--n-train`` stratified training images, PCA to
  ``--pca`` features (fitted on the training images), standardised; ``QuantumKernelSVC``
  (IQP fidelity and projected) against ``SVC(kernel="rbf")`` on the same inputs, each tuned by
  3-fold ``GridSearchCV`` on the training images only, tested on all 3/5 test images.
* ``acc-digits``: each new model from its digits preset (as ``qimage train --model X``), and
  the digits QNN preset against the MLP whose parameter count ``match_params`` matches.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from qimage.data import load_dataset
from qimage.models import (
    FidelityKernel,
    ProjectedKernel,
    Quanvolution,
    SmallCNN,
    count_parameters,
    make_head,
    match_params,
    quanv_features,
)
from qimage.preprocess import stratified_subsample
from qimage.train import (
    TrainConfig,
    evaluate,
    fit,
    prepare_data,
    preset_run_config,
    run_experiment,
)

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
N_MNIST = 70_000


def _log(message: str) -> None:
    print(message, flush=True)


def _context(args) -> dict:
    return {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "threads": torch.get_num_threads(),
        "load_before": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "torch": torch.__version__,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def _save(name: str, data: dict) -> None:
    data["load_after"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"models-{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    _log(f"wrote {path}")


def _mean_std(values: list[float]) -> str:
    if len(values) < 2:
        return f"{100 * values[0]:.2f}"
    return f"{100 * statistics.mean(values):.2f} ± {100 * statistics.stdev(values):.2f}"


def _mnist(data_dir: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    ds = load_dataset("mnist", data_dir=data_dir)
    return ds.X_train, ds.y_train, ds.X_test, ds.y_test


def _angles(images: np.ndarray) -> torch.Tensor:
    """uint8 pixels -> angles in [0, pi], one linear map for every pixel."""
    return torch.from_numpy(images).float() * (np.pi / 255)


# --- speed ----------------------------------------------------------------------------------


def _timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def speed_quanv(args) -> None:
    X_tr, _, X_te, _ = _mnist(args.data_dir)
    angles = _angles(np.concatenate([X_tr, X_te]))
    assert len(angles) == N_MNIST
    quanv = Quanvolution(2, 2, n_layers=1, generator=torch.Generator().manual_seed(0))
    result = _context(args)
    times = _timed(lambda: quanv_features(angles, quanv), args.repeats)
    result["quanv_70000_seconds"] = times
    _log(
        f"quanvolution of 70,000 MNIST images: best {min(times):.2f} s, "
        f"median {statistics.median(times):.2f} s (target <= 60 s)"
    )
    with tempfile.TemporaryDirectory() as cache:
        quanv_features(angles, quanv, cache_dir=cache)
        reload = _timed(lambda: quanv_features(angles, quanv, cache_dir=cache), 1)[0]
    result["cached_reload_seconds"] = reload
    _log(f"cached reload (hash of the images + read): {reload:.2f} s")
    gates = _gate_by_gate(quanv, angles[:5000])
    result["gate_by_gate_5000_seconds"] = gates
    _log(
        f"gate-by-gate circuit (RY gates simulated), 5,000 images: {gates:.2f} s "
        f"(x14 = {14 * gates:.0f} s for 70,000)"
    )
    _save("speed-quanv", result)


@torch.no_grad()
def _gate_by_gate(quanv: Quanvolution, images: torch.Tensor) -> float:
    """The full circuit, encoding gates simulated too, on the same patches (4,096 images a call)."""
    start = time.perf_counter()
    for i in range(0, len(images), 4096):
        quanv.layer.gate_by_gate(quanv.patches(images[i : i + 4096]))
    return time.perf_counter() - start


def speed_kernel(args) -> None:
    X = torch.rand(2000, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    X = X * np.pi
    result = _context(args)
    for name, kernel in [
        ("fidelity c64", FidelityKernel("iqp", encoder_options={"reps": 2})),
        ("fidelity c128", FidelityKernel("iqp", dtype=torch.complex128)),
        ("projected c64", ProjectedKernel("iqp", gamma=0.5)),
    ]:
        parts = {"states": [], "gram": [], "total": []}
        for _ in range(args.repeats):
            start = time.perf_counter()
            features = kernel.features(X)
            mid = time.perf_counter()
            gram = kernel.gram(features)
            end = time.perf_counter()
            parts["states"].append(mid - start)
            parts["gram"].append(end - mid)
            parts["total"].append(end - start)
        assert gram.shape == (2000, 2000)
        result[name] = parts
        _log(
            f"{name}: Gram N=2000, 10 qubits: best {min(parts['total']):.2f} s "
            f"(states {min(parts['states']):.2f} s + Gram {min(parts['gram']):.2f} s), "
            f"median {statistics.median(parts['total']):.2f} s (target <= 10 s)"
        )
    _save("speed-kernel", result)


# --- accuracy: QuanvNet against its twins on MNIST ------------------------------------------


def _train_head(model, X, y, Xt, yt, args, seed: int) -> tuple[float, float]:
    cfg = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, val_fraction=0.0, seed=seed
    )
    torch.manual_seed(seed)
    start = time.perf_counter()
    fit(model, X, y, cfg, progress=False)
    return evaluate(model, Xt, yt, 10)["accuracy"], time.perf_counter() - start


def acc_quanv(args) -> None:
    X_tr, y_tr, X_te, y_te = _mnist(args.data_dir)
    A_tr, A_te = _angles(X_tr), _angles(X_te)
    y_tr, y_te = torch.from_numpy(y_tr), torch.from_numpy(y_te)
    result, rows = _context(args), {}
    for seed in args.seeds:
        quanv = Quanvolution(2, 2, n_layers=1, generator=torch.Generator().manual_seed(seed))
        start = time.perf_counter()
        F_tr = quanv_features(A_tr, quanv, cache_dir=args.cache_dir).flatten(1)
        F_te = quanv_features(A_te, quanv, cache_dir=args.cache_dir).flatten(1)
        _log(f"seed {seed}: quanv features in {time.perf_counter() - start:.1f} s")
        for hidden in (0, args.hidden):
            gen = torch.Generator().manual_seed(seed)
            cnn = SmallCNN(784, 10, channels=4, hidden=hidden, generator=gen)
            runs = {
                "quanv": (
                    make_head(784, 10, hidden, torch.Generator().manual_seed(seed)),
                    F_tr,
                    F_te,
                ),
                "twin": (
                    make_head(784, 10, hidden, torch.Generator().manual_seed(seed)),
                    A_tr.flatten(1),
                    A_te.flatten(1),
                ),
                "cnn": (cnn, A_tr.flatten(1), A_te.flatten(1)),
            }
            for name, (model, X, Xt) in runs.items():
                acc, secs = _train_head(model, X, y_tr, Xt, y_te, args, seed)
                key = f"{name} hidden={hidden}"
                rows.setdefault(key, []).append(acc)
                result.setdefault(key, []).append(
                    {
                        "seed": seed,
                        "accuracy": acc,
                        "seconds": secs,
                        "params": count_parameters(model),
                    }
                )
                _log(f"  {key}: {100 * acc:.2f}% ({count_parameters(model)} params, {secs:.0f} s)")
    _log("\nMNIST 10-class test accuracy (%), mean ± std over seeds " + str(args.seeds))
    for key, accs in rows.items():
        _log(f"  {key:<16} {_mean_std(accs)}")
    _save("acc-quanv", result)


# --- accuracy: quantum-kernel SVM against an RBF SVM on MNIST 3 v 5 -------------------------


def _three_vs_five(args, seed: int):
    from sklearn.decomposition import PCA
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X_tr, y_tr, X_te, y_te = _mnist(args.data_dir)
    keep_tr, keep_te = np.isin(y_tr, [3, 5]), np.isin(y_te, [3, 5])
    X, y = stratified_subsample(X_tr[keep_tr], y_tr[keep_tr], args.n_train // 2, seed=seed)
    Xt, yt = X_te[keep_te], y_te[keep_te]
    prep = make_pipeline(PCA(args.pca, random_state=0), StandardScaler())
    Z = prep.fit_transform(X.reshape(len(X), -1) / 255.0)  # fitted on the training images only
    Zt = prep.transform(Xt.reshape(len(Xt), -1) / 255.0)
    return Z, y, Zt, yt


def _kernel_contenders():
    from sklearn.svm import SVC

    from qimage.estimators import QuantumKernelSVC

    C = [0.3, 1.0, 3.0, 10.0]
    return {
        "qSVM IQP fidelity": (
            QuantumKernelSVC(encoder="iqp", reps=2, random_state=0),
            {"bandwidth": [0.01, 0.02, 0.05, 0.1, 0.2], "C": C},
        ),
        "qSVM IQP projected": (
            QuantumKernelSVC(kernel="projected", encoder="iqp", random_state=0),
            {"bandwidth": [0.05, 0.1, 0.2, 0.4], "gamma": [0.3, 1.0, 3.0], "C": C},
        ),
        "SVC RBF": (SVC(kernel="rbf"), {"gamma": [0.003, 0.01, 0.03, 0.1, 0.3], "C": C}),
    }


def acc_kernel(args) -> None:
    from sklearn.model_selection import GridSearchCV

    result, rows = _context(args), {}
    for seed in args.seeds:
        X, y, Xt, yt = _three_vs_five(args, seed)
        _log(f"seed {seed}: {len(X)} training, {len(Xt)} test images, {X.shape[1]} features")
        for name, (estimator, grid) in _kernel_contenders().items():
            start = time.perf_counter()
            search = GridSearchCV(estimator, grid, cv=3).fit(X, y)
            acc = search.score(Xt, yt)
            secs = time.perf_counter() - start
            rows.setdefault(name, []).append(acc)
            entry = {"seed": seed, "accuracy": acc, "best": search.best_params_, "seconds": secs}
            result.setdefault(name, []).append(entry)
            _log(f"  {name}: {100 * acc:.2f}% with {search.best_params_} ({secs:.0f} s)")
    _log(f"\nMNIST 3 v 5, PCA-{args.pca}, {args.n_train} training images: test accuracy (%)")
    for name, accs in rows.items():
        _log(f"  {name:<20} {_mean_std(accs)}")
    _save("acc-kernel", result)


# --- accuracy: digits presets and the QNN's parameter-matched twin --------------------------


def acc_digits(args) -> None:
    result, rows = _context(args), {}
    for seed in args.seeds:
        for name in ("quanv", "quanv_twin", "cnn", "logreg", "mlp", "qnn"):
            cfg = preset_run_config("digits", name)
            cfg.train.seed = seed
            out = run_experiment(cfg, progress=False)
            acc, params = out.metrics["test"]["accuracy"], out.metrics["n_parameters"]
            rows.setdefault(name, []).append(acc)
            result.setdefault(name, []).append({"seed": seed, "accuracy": acc, "params": params})
            _log(f"seed {seed} {name}: {100 * acc:.2f}% ({params} params)")
            if name == "qnn":
                _qnn_twin(cfg, out, seed, rows, result)
    _log("\ndigits test accuracy (%), mean ± std over seeds " + str(args.seeds))
    for name, accs in rows.items():
        _log(f"  {name:<12} {_mean_std(accs)}")
    _save("acc-digits", result)


def _qnn_twin(cfg, qnn_result, seed: int, rows: dict, result: dict) -> None:
    """The MLP with the QNN's parameter count, on standardised pixels, same budget and seed."""
    data = prepare_data(preset_run_config("digits", "mlp").data)  # standardised digits
    twin = match_params(
        qnn_result.model,
        data.n_features,
        data.n_classes,
        "mlp",
        generator=torch.Generator().manual_seed(seed),
    )
    fit(twin, data.X_train, data.y_train, cfg.train, progress=False)
    acc = evaluate(twin, data.X_test, data.y_test, data.n_classes)["accuracy"]
    key = f"mlp matched to qnn (hidden {twin.hidden[0]})"
    rows.setdefault(key, []).append(acc)
    result.setdefault(key, []).append(
        {"seed": seed, "accuracy": acc, "params": count_parameters(twin)}
    )
    _log(f"seed {seed} {key}: {100 * acc:.2f}% ({count_parameters(twin)} params)")


COMMANDS = {
    "speed-quanv": speed_quanv,
    "speed-kernel": speed_kernel,
    "acc-quanv": acc_quanv,
    "acc-kernel": acc_kernel,
    "acc-digits": acc_digits,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=list(COMMANDS))
    parser.add_argument("--data-dir", default="/work/shared/datasets/mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument(  # outside the repository: 220 MB of features per seed
        "--cache-dir", default=str(Path(tempfile.gettempdir()) / "qimage-quanv-cache")
    )
    parser.add_argument("--n-train", type=int, default=1000)
    parser.add_argument("--pca", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    COMMANDS[args.command](args)


if __name__ == "__main__":
    main()
