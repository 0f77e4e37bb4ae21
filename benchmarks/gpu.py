"""Engine speed on a GPU: qimage against PennyLane (and TorchQuantum) with torch CUDA tensors.

Usage::

    .venv/bin/python benchmarks/gpu.py                        # on a CUDA machine, < 8 minutes
    .venv/bin/python benchmarks/gpu.py --device cpu --quick   # dry run, seconds (in the tests)

Measures, on one device, with the harness of ``simulator.py`` (every contender checked
against qimage's complex128 backprop first, then timed round-robin, best round kept):

1. R1 and R2 at batch 128, forward and forward+backward samples/s: qimage complex64 and
   complex128 (automatic diff method, and adjoint), PennyLane ``default.qubit`` with torch
   tensors on the device (backprop, broadcasting, float64 and float32), TorchQuantum when its
   venv is given (``--tq-python``);
2. the R1 pattern at 16, 20, 24 and 26 qubits (batch ``min(128, 2^(26-n))``), forward+backward
   samples/s of the same contenders, a failure (out of memory) recorded as such;
3. one full-MNIST epoch of the quantum-only 10-qubit QNN (the ``mnist``/``qnn`` preset) at 32
   and 64 layers, with the default execution on the device (``--data-dir`` holds MNIST).

Results: ``benchmarks/results/gpu.json`` (``--out``). ``--quick`` shrinks every part (4- and
6-qubit circuits, batch 8, 8x8 digits for the epoch) so that it only checks the script runs.
On CUDA the memory guard's limit is raised to 80% of the device's memory, unless
``QIMAGE_MAX_MEMORY`` is set.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import simulator as sim
from _simulator_workloads import R1, R2, Spec, make_data, qimage_circuit, r1_like

from qimage.errors import MemoryLimitError
from qimage.sim.execute import gradient_method

RESULTS = sim.ROOT / "benchmarks" / "results" / "gpu.json"
FULL = {"batch": 128, "qubits": (16, 20, 24, 26), "layers": (32, 64), "rounds": 3}
QUICK = {"batch": 4, "qubits": (4,), "layers": (1,), "rounds": 1}
PENNYLANE = {k: v for k, v in sim.PENNYLANE.items() if v[0] == "default.qubit"}


def synced(calls: dict, device: torch.device) -> dict:
    """The closures followed by a wait for the device (CUDA queues work asynchronously)."""
    if device.type != "cuda":
        return calls

    def wrap(fn):
        def call():
            fn()
            torch.cuda.synchronize(device)

        return call

    return {kind: wrap(fn) for kind, fn in calls.items()}


def on(data: dict, device: torch.device) -> dict:
    return {k: v.to(device) for k, v in data.items()}


def contenders(spec: Spec, data: dict, device, methods=("auto", "adjoint")) -> tuple:
    """Timers and check errors of qimage and PennyLane (default.qubit) on ``spec``, and the
    reference (outputs and weight gradient of qimage's complex128 backprop)."""
    reference = sim.qimage_contender(spec, data, "backprop", torch.complex128)[0]()
    timers, errors = {}, {}
    for method in methods:
        for tag, dtype in sim.DTYPES.items():
            name = f"qimage {method} {tag}"
            check, calls = sim.qimage_contender(spec, data, method, dtype)
            errors[name] = sim.agree(name, check(), reference, 1e-8 if tag == "c128" else 2e-4)
            config = f"diff_method={method!r} ({_chosen(spec, data, method, dtype)})"
            timers[name] = sim.Timer(synced(calls, device), data["labels"].shape[0], config)
    for name, (dev, method, real, config) in PENNYLANE.items():
        check, calls = sim.pennylane_contender(spec, data, dev, method, real)
        errors[name] = sim.agree(name, check(), reference, 1e-6 if real == torch.float64 else 2e-4)
        timers[name] = sim.Timer(synced(calls, device), data["labels"].shape[0], config)
    return timers, errors, reference


def _chosen(spec: Spec, data: dict, method: str, dtype) -> str:
    return gradient_method(qimage_circuit(spec), data["labels"].shape[0], method, dtype)


def workloads(args, size: dict, device) -> dict:
    specs = (R1, R2) if not args.quick else (r1_like(4), Spec("R2-4", 4, 2, False))
    data = {s.name: on(make_data(s, size["batch"]), device) for s in specs}
    jobs = [(s, make_data(s, size["batch"])) for s in specs]
    tq = sim.start_torchquantum(args.tq_python, jobs, sim._env(args), str(device))
    out = {}
    try:
        for spec in specs:
            print(f"\n{spec.name}")
            timers, errors, reference = contenders(spec, data[spec.name], device)
            if tq is not None:
                res = tq.result["workloads"][spec.name]
                got, want = (res["outputs"], res["grad"]), [t.cpu() for t in reference]
                errors["torchquantum"] = sim.agree("torchquantum", got, want, 2e-4)
                timers["torchquantum"] = sim.RemoteTimer(tq, spec.name, size["batch"])
            out[spec.name] = sim.rounds(timers, errors, args, ("train", "forward"))
    finally:
        if tq is not None:
            tq.close()
    return out


def scaling(args, size: dict, device) -> list[dict]:
    """Forward+backward samples/s of the R1 pattern per register size; failures recorded."""
    points = []
    for n in size["qubits"]:
        spec, batch = r1_like(n), max(1, min(size["batch"], 2 ** (26 - n)))
        data = on(make_data(spec, batch), device)
        for name, factory in _scaling_contenders(spec, data).items():
            point = {"n": n, "batch": batch, "contender": name}
            try:
                _, calls = factory()
                seconds = sim.timed(synced(calls, device)["train"], args.min_time, 2)
                point["train"] = batch / seconds
            except (RuntimeError, MemoryError, MemoryLimitError) as err:
                point["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:160]}"
            _release(device)
            print(
                f"  n={n:2d} batch={batch:3d} {name:30s} {point.get('train', point.get('error'))}"
            )
            points.append(point)
    return points


def _scaling_contenders(spec: Spec, data: dict) -> dict:
    """Name -> a factory of the contender's closures (built inside the try: they allocate)."""
    out = {}
    for tag, dtype in sim.DTYPES.items():
        out[f"qimage auto {tag}"] = lambda d=dtype: sim.qimage_contender(spec, data, "auto", d)
    for name, (dev, method, real, _) in PENNYLANE.items():
        out[name] = lambda a=(dev, method, real): sim.pennylane_contender(spec, data, *a)
    return out


def _release(device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()


def epochs(args, size: dict, device) -> list[dict]:
    """One training epoch of the quantum-only QNN per depth, default execution on ``device``."""
    from qimage.models import gradient_methods
    from qimage.sim import Execution
    from qimage.train.experiment import run_experiment
    from qimage.train.presets import preset_run_config

    dataset, extra = ("digits", {"n_train": 40}) if args.quick else ("mnist", {})
    rows = []
    for layers in size["layers"]:
        cfg = preset_run_config(dataset, "qnn", data_dir=args.data_dir, **extra)
        cfg.model = cfg.model.replace(n_layers=layers)
        cfg.train = dataclasses.replace(cfg.train, epochs=1)
        cfg.execution = Execution(device=device)
        result = run_experiment(cfg, None, data_dir=args.data_dir)
        row = result.history.rows[0]
        rows.append(
            {
                "dataset": dataset,
                "model": cfg.model.describe(),
                "n_layers": layers,
                "batch_size": cfg.train.batch_size,
                "gradient": gradient_methods(result.model, cfg.train.batch_size, cfg.execution),
                "epoch_seconds": row["seconds"],
                "samples_per_s": row["samples_per_s"],
                "test_accuracy": result.metrics["test"]["accuracy"],
            }
        )
        print(f"  {dataset} qnn x{layers}: one epoch {row['seconds']:.1f} s {rows[-1]['gradient']}")
    return rows


def machine(device) -> dict:
    info = {"device": str(device), "torch": torch.__version__, "python": platform.python_version()}
    info["load_average"] = os.getloadavg()
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        info |= {"gpu": props.name, "gpu_memory_gib": props.total_memory / 2**30}
    return info


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the script runs")
    parser.add_argument("--data-dir", default=None, help="where MNIST is (or is downloaded to)")
    parser.add_argument("--tq-python", default=os.environ.get("QIMAGE_TQ_PYTHON"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    args.tune_malloc = True
    device = torch.device(args.device)
    size = QUICK if args.quick else FULL
    args.rounds, args.repeats = size["rounds"], 1 if args.quick else 3
    args.min_time = 0.0 if args.quick else 1.5
    torch.set_num_threads(sim.THREADS)
    if device.type == "cuda" and "QIMAGE_MAX_MEMORY" not in os.environ:
        total = torch.cuda.get_device_properties(device).total_memory
        os.environ["QIMAGE_MAX_MEMORY"] = str(int(0.8 * total))
    started = time.time()
    results = {"machine": machine(device), "command": " ".join(sys.argv), "quick": args.quick}
    results["workloads"] = workloads(args, size, device)
    print("\nScaling (R1 pattern)")
    results["scaling"] = scaling(args, size, device)
    print("\nOne epoch")
    results["epochs"] = epochs(args, size, device)
    results["seconds"] = time.time() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"\nwrote {args.out} in {results['seconds']:.0f} s")
    return results


if __name__ == "__main__":
    main()
