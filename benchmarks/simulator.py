"""Engine speed, side by side: qimage against PennyLane and TorchQuantum on this machine.

Usage::

    .venv/bin/python benchmarks/simulator.py            # everything, a few minutes
    .venv/bin/python benchmarks/simulator.py --quick    # fewer repeats, smaller scaling sweep

Measures forward and forward+backward samples/s of the reference workloads R1 and R2
(``_simulator_workloads.py``) for

* qimage, each diff method, complex64 (its default) and complex128;
* PennyLane ``default.qubit``: torch interface, backprop, parameter broadcasting, float64;
* PennyLane ``lightning.qubit`` with the adjoint method;
* TorchQuantum, run by ``_torchquantum_worker.py`` in its own venv (``--tq-python`` or
  ``QIMAGE_TQ_PYTHON``, default ``/work/tqvenv/bin/python``); skipped with a message when
  it is absent or fails.

Before timing, every contender's outputs and gradients are checked against qimage's
complex128 backprop; a disagreement fails the run. Also: R2 with parameter-shift gradients
against PennyLane's parameter-shift, the machine's complex64 matmul roof, and a scaling sweep
of the R1 pattern (``docs/img/scaling.png``).

Results: a table on stdout and ``benchmarks/results/simulator.json``.

``--variants`` instead times qimage's engine variants (unfused plan, batch-first only, ...)
on R1 and R2, for the record of what each engine change gave (``docs/performance.md``);
``--variants as-installed`` with ``PYTHONPATH`` pointing at another checkout's ``src`` times
that engine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simulator_workloads import R1, R2, Spec, make_data, pennylane_qnode, qimage_circuit, r1_like

from qimage.sim import GATES, amplitude_state, run

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "simulator.json"
PLOT = ROOT / "docs" / "img" / "scaling.png"
THREADS = 2
BATCH = 128
PS_BATCH_PENNYLANE = 8
LIGHTNING_BATCH = 16
TARGETS = {  # (workload, contender) -> required ratio qimage / contender
    ("R1", "pennylane"): 25,
    ("R1", "torchquantum"): 10,
    ("R2", "pennylane"): 10,
    ("R2", "torchquantum"): 5,
    ("R2-shift", "pennylane-shift"): 100,
}
DTYPES = {"c64": torch.complex64, "c128": torch.complex128}


MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(2**30)}


def tune_malloc() -> bool:
    """Keep freed memory in the process (glibc ``mallopt``), for every contender alike.

    By default glibc serves each state-sized tensor (1 MiB at R1) with a fresh ``mmap`` or
    returns trimmed heap to the OS, so every step page-faults its memory in again; with the
    thresholds raised, freed tensors are reused (as jemalloc or tcmalloc would do). Subprocesses
    (TorchQuantum, the scaling points) get the same settings through ``MALLOC_ENV``.
    """
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    ok = libc.mallopt(m_mmap_threshold, int(MALLOC_ENV["MALLOC_MMAP_THRESHOLD_"]))
    return bool(ok and libc.mallopt(m_trim_threshold, int(MALLOC_ENV["MALLOC_TRIM_THRESHOLD_"])))


def _env(args) -> dict:
    return os.environ | (MALLOC_ENV if args.tune_malloc else {})


def timed(fn, min_time: float, repeats: int = 3, warm_up: bool = True) -> float:
    """Median seconds per call, after one warm-up, over ``repeats`` calls and ``min_time``."""
    if warm_up:
        fn()
    times, start = [], time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --- contenders: each returns (outputs, weight gradient) and a step / forward closure ---------


def qimage_contender(spec: Spec, data, method: str, dtype):
    circuit = qimage_circuit(spec)
    real = dtype.to_real()
    feats = data["features"].to(real)
    weights = data["weights"].to(real).requires_grad_(True)

    def forward():
        state = amplitude_state(feats, spec.n_qubits, dtype=dtype) if spec.amplitude else None
        inputs = None if spec.amplitude else feats
        return run(circuit, inputs, weights, state=state, diff_method=method, dtype=dtype)

    return _closures(forward, weights, data["labels"])


def pennylane_contender(spec: Spec, data, device: str, diff_method: str):
    qnode = pennylane_qnode(spec, device, diff_method)
    weights = data["weights"].clone().requires_grad_(True)
    return _closures(lambda: qnode(data["features"], weights), weights, data["labels"])


def _closures(forward, weights, labels):
    def loss():
        return torch.nn.functional.cross_entropy(forward().to(torch.float64), labels)

    def check():
        out = forward()
        grad = torch.autograd.grad(torch.nn.functional.cross_entropy(out, labels), weights)[0]
        return out.detach().double(), grad.double()

    def step():
        weights.grad = None
        loss().backward()

    def infer():
        with torch.no_grad():
            forward()

    return check, step, infer


def agree(name: str, got, want, tol: float) -> float:
    """Max abs difference of outputs and gradients; raises past ``tol``."""
    err = max((g - w).abs().max().item() for g, w in zip(got, want, strict=True))
    if not err <= tol:
        raise SystemExit(f"CORRECTNESS FAILURE: {name} differs from the reference by {err:.2e}")
    return err


# --- TorchQuantum, in its own venv ---------------------------------------------------------


def torchquantum(python, jobs: list, min_time: float, n_rounds: int, env: dict) -> dict | None:
    if not python or not Path(python).exists():
        print(f"TorchQuantum: skipped (no interpreter at {python!r}; see --tq-python)")
        return None
    worker = Path(__file__).resolve().parent / "_torchquantum_worker.py"
    request = {
        "threads": THREADS,
        "jobs": [
            {
                "spec": vars(spec),
                "data": data,
                "min_time": min_time,
                "repeats": 2,
                "rounds": n_rounds,
            }
            for spec, data in jobs
        ],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "request.pt"
        torch.save(request, path)
        proc = subprocess.run(
            [python, str(worker), str(path)], capture_output=True, text=True, env=env
        )
        out = Path(str(path) + ".out")
        if proc.returncode or not out.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            print("TorchQuantum: skipped (worker failed: " + " | ".join(tail) + ")")
            return None
        return torch.load(out)


# --- workloads -------------------------------------------------------------------------------


def measure_workload(spec: Spec, args, tq_result) -> dict:
    """Check every contender, then time them round-robin (see :func:`rounds`)."""
    data = make_data(spec, BATCH)
    reference = qimage_contender(spec, data, "backprop", torch.complex128)[0]()
    contenders, rows = {}, {}
    for method in ("backprop", "adjoint", "parameter-shift"):
        for tag, dtype in DTYPES.items():
            if method == "parameter-shift" and (spec.amplitude or tag == "c128"):
                continue  # R1's state is differentiable only by backprop/adjoint; R2-shift below
            check, step, infer = qimage_contender(spec, data, method, dtype)
            tol = 1e-8 if tag == "c128" else 2e-4
            err = agree(f"qimage {method} {tag}", check(), reference, tol)
            contenders[f"qimage {method} {tag}"] = (step, infer, args.min_time, err)
    check, step, infer = pennylane_contender(spec, data, "default.qubit", "backprop")
    contenders["pennylane"] = (
        step,
        infer,
        args.slow_time,
        agree("pennylane", check(), reference, 1e-6),
    )
    # lightning.qubit does not broadcast: it runs one circuit per sample, so its samples/s
    # does not depend on the batch; a small batch keeps its minutes-long timings short.
    small = make_data(spec, LIGHTNING_BATCH, seed=2)
    small_ref = qimage_contender(spec, small, "backprop", torch.complex128)[0]()
    check, step, infer = pennylane_contender(spec, small, "lightning.qubit", "adjoint")
    err = agree("lightning", check(), small_ref, 1e-6)
    contenders["lightning"] = (step, infer, args.slow_time, err, LIGHTNING_BATCH)
    rows.update(rounds(contenders, args.rounds))
    if tq_result is not None:
        res = tq_result["workloads"][spec.name]
        err = agree("torchquantum", (res["outputs"], res["grad"]), reference, 2e-4)
        rows["torchquantum"] = {"train": res["train"], "forward": res["forward"], "max_err": err}
        print(f"  {'torchquantum':26s} train {res['train']:10.1f}  forward {res['forward']:10.1f}")
    return rows


def rounds(contenders: dict, n_rounds: int) -> dict:
    """Best of ``n_rounds`` round-robin timings per contender.

    The machine may be shared: a burst of foreign load then slows whatever runs during it.
    Interleaving the contenders and keeping each one's best round spreads every contender's
    samples over the whole run, so that a burst cannot bias one of them alone.
    """
    best: dict[str, dict] = {}
    for i in range(n_rounds):
        for name, (step, infer, min_time, err, *batch) in contenders.items():
            batch = batch[0] if batch else BATCH
            slow = min_time == 0  # one call per round for the slow contenders
            train = batch / timed(step, min_time / n_rounds, 1 if slow else 2, warm_up=i == 0)
            forward = batch / timed(infer, min_time / n_rounds, 1 if slow else 2, warm_up=i == 0)
            row = best.setdefault(name, {"train": 0.0, "forward": 0.0, "max_err": err})
            row["batch"] = batch
            row["train"], row["forward"] = max(row["train"], train), max(row["forward"], forward)
    for name, row in best.items():
        print(
            f"  {name:26s} train {row['train']:10.1f}  forward {row['forward']:10.1f}  "
            f"samples/s  (max err {row['max_err']:.1e})"
        )
    return best


def measure_shift(args) -> dict:
    """R2 with parameter-shift gradients: qimage at batch 128, PennyLane at batch 8."""
    data = make_data(R2, BATCH)
    reference = qimage_contender(R2, data, "backprop", torch.complex128)[0]()
    best = {}
    for _ in range(args.rounds):
        for tag, dtype in DTYPES.items():
            check, step, _ = qimage_contender(R2, data, "parameter-shift", dtype)
            tol = 1e-8 if tag == "c128" else 2e-4
            err = agree(f"qimage shift {tag}", check(), reference, tol)
            rate = BATCH / timed(step, args.min_time / args.rounds, repeats=2)
            row = best.setdefault(f"qimage parameter-shift {tag}", {"train": 0.0, "batch": BATCH})
            row.update(train=max(row["train"], rate), max_err=err)
    small = make_data(R2, PS_BATCH_PENNYLANE, seed=1)
    reference = qimage_contender(R2, small, "backprop", torch.complex128)[0]()
    check, step, _ = pennylane_contender(R2, small, "default.qubit", "parameter-shift")
    err = agree("pennylane parameter-shift", check(), reference, 1e-6)
    rate = max(PS_BATCH_PENNYLANE / timed(step, 0.0, repeats=1) for _ in range(args.rounds))
    best["pennylane-shift"] = {"train": rate, "max_err": err, "batch": PS_BATCH_PENNYLANE}
    for name, row in best.items():
        print(f"  {name:26s} train {row['train']:10.2f}  (batch {row['batch']})")
    return best


# --- roof, flops, scaling --------------------------------------------------------------------


def matmul_roof(size: int = 2048) -> float:
    """GFLOP/s of a large complex64 matmul (8 real flops per complex multiply-add)."""
    a = torch.randn(size, size, dtype=torch.complex64)
    b = torch.randn(size, size, dtype=torch.complex64)
    return 8 * size**3 / timed(lambda: a @ b, 1.0) / 1e9


def forward_flops(spec: Spec, batch: int) -> dict:
    """Real flops of one forward pass: as the fused plan executes it (dense blocks as GEMMs),
    and gate by gate as an unfused simulator would (every dense k-qubit gate a 2^k GEMV)."""
    from qimage.sim.fusion import compile_plan

    circuit = qimage_circuit(spec)
    plan = compile_plan(circuit)
    amps = batch * 2**spec.n_qubits
    executed = sum(8 * amps * 2 ** len(b.wires) for b in plan.blocks if b.kind == "dense")
    gates = sum(
        8 * amps * 2 ** len(op.wires) for op in circuit.ops if GATES[op.gate].kind == "dense"
    )
    return {"executed": executed, "gate_by_gate": gates}


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def scaling_point(n: int, method: str) -> dict:
    """One point of the sweep, in a fresh process: its peak memory is the peak resident set
    size of the training steps (``VmHWM``, reset after a batch-1 step has compiled the plan)
    above the resident size before them."""
    torch.set_num_threads(THREADS)
    spec = r1_like(n)
    batch = max(1, min(BATCH, 2 ** (21 - n)))
    data = make_data(spec, batch)
    _, step, _ = qimage_contender(spec, data, method, torch.complex64)
    # one step at batch 1 compiles the plan and caches constants outside the measured peak
    qimage_contender(spec, make_data(spec, 1), method, torch.complex64)[1]()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    base = _status_kib("VmRSS")
    seconds = timed(step, 0.5, repeats=2)
    peak = _status_kib("VmHWM")
    return {"n": n, "batch": batch, "train": batch / seconds, "peak_mib": (peak - base) / 1024}


def scaling(qubits, env: dict, methods=("backprop", "adjoint")) -> list[dict]:
    points = []
    for method in methods:
        for n in qubits:
            cmd = [sys.executable, __file__, "--scaling-point", str(n), method]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            point = json.loads(proc.stdout.strip().splitlines()[-1]) | {"method": method}
            print(
                f"    {method:9s} n={n:2d} batch={point['batch']:3d} "
                f"{point['train']:10.1f} samples/s  peak +{point['peak_mib']:.0f} MiB"
            )
            points.append(point)
    return points


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for method in sorted({p["method"] for p in points}):
        pts = [p for p in points if p["method"] == method]
        left.semilogy([p["n"] for p in pts], [p["train"] for p in pts], "o-", label=method)
        right.semilogy(
            [p["n"] for p in pts], [max(p["peak_mib"], 0.1) for p in pts], "o-", label=method
        )
    left.set(
        xlabel="qubits",
        ylabel="forward+backward samples/s",
        title="R1 pattern (6 layers), qimage complex64",
    )
    right.set(
        xlabel="qubits",
        ylabel="peak memory of a step (MiB)",
        title="batch 128 up to 14 qubits, then 2^(21-n)",
    )
    for ax in (left, right):
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


# --- report ----------------------------------------------------------------------------------


# --- engine variants (what each change gave) --------------------------------------------------


def _variant(name: str):
    """Patch qimage's engine into one variant; returns an undo function."""
    from qimage.sim import execute
    from qimage.sim.fusion import compile_plan as plan

    saved = execute.compile_plan, getattr(execute, "Executor", None)
    batch_last = getattr(saved[1], "batch_last", None)
    if name == "unfused":
        execute.compile_plan = lambda c: plan(c, fuse=False)
    elif name == "fused-groups-5":
        execute.compile_plan = lambda c: plan(c, max_group=5)
    if name in ("unfused", "fused-batch-first", "fused-groups-5"):
        saved[1].batch_last = lambda self, order, rows: False

    def undo():
        execute.compile_plan = saved[0]
        if batch_last is not None:
            saved[1].batch_last = batch_last

    return undo


VARIANTS = ("unfused", "fused-groups-5", "fused-batch-first", "default")


def variants(names, min_time: float) -> dict:
    """Train and forward samples/s of qimage (complex64, backprop) on R1 and R2 per variant."""
    out = {}
    for name in names:
        undo = _variant(name) if name != "as-installed" else (lambda: None)
        try:
            for spec in (R1, R2):
                _, step, infer = qimage_contender(
                    spec, make_data(spec, BATCH), "backprop", torch.complex64
                )
                row = {
                    "train": BATCH / timed(step, min_time),
                    "forward": BATCH / timed(infer, min_time),
                }
                out[f"{name} {spec.name}"] = row
                print(
                    f"  {name:18s} {spec.name}: train {row['train']:9.1f}  "
                    f"forward {row['forward']:9.1f} samples/s"
                )
        finally:
            undo()
    return out


def machine() -> dict:
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def table(results: dict) -> None:
    best = {}
    for workload in ("R1", "R2"):
        rows = results[workload]
        best[workload] = max(v["train"] for k, v in rows.items() if k.endswith("c64"))
        fwd = max(v["forward"] for k, v in rows.items() if k.endswith("c64"))
        print(f"\n{workload}: samples/s (batch {BATCH})   train = forward+backward")
        print(f"  {'contender':28s} {'train':>10s} {'forward':>10s} {'qimage/it':>10s} {'fwd':>8s}")
        for name, v in rows.items():
            ratio = best[workload] / v["train"]
            if v.get("batch", BATCH) != BATCH:
                name = f"{name} (batch {v['batch']})"
            print(
                f"  {name:28s} {v['train']:10.1f} {v['forward']:10.1f} {ratio:9.1f}x "
                f"{fwd / v['forward']:7.1f}x"
            )
    shift = results["R2-shift"]
    best_shift = shift["qimage parameter-shift c64"]["train"]
    print("\nR2 parameter-shift gradient: samples/s")
    for name, v in shift.items():
        print(
            f"  {name:28s} {v['train']:10.2f} (batch {v['batch']}) {best_shift / v['train']:9.1f}x"
        )
    print("\nTargets (best qimage complex64 / contender):")
    for (workload, contender), target in TARGETS.items():
        rows = results[workload]
        if contender not in rows:
            print(f"  {workload:8s} vs {contender:16s} target {target:4d}x: contender skipped")
            continue
        mine = best_shift if workload == "R2-shift" else best[workload]
        ratio = mine / rows[contender]["train"]
        verdict = "MET" if ratio >= target else "MISSED"
        print(f"  {workload:8s} vs {contender:16s} target {target:4d}x: {ratio:8.1f}x  {verdict}")
    roof = results["roof"]
    print(
        f"\n10-qubit forward: {roof['forward_gflops_executed']:.1f} GFLOP/s executed "
        f"({roof['fraction_executed']:.0%} of the {roof['matmul_gflops']:.0f} GFLOP/s roof), "
        f"{roof['forward_gflops_gate_by_gate']:.1f} GFLOP/s gate-by-gate equivalent "
        f"({roof['fraction_gate_by_gate']:.0%}); target >= 10%"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings and sweep")
    parser.add_argument(
        "--tq-python",
        default=os.environ.get("QIMAGE_TQ_PYTHON", "/work/tqvenv/bin/python"),
        help="python of a venv with torchquantum (skipped when missing)",
    )
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument(
        "--default-malloc",
        dest="tune_malloc",
        action="store_false",
        help="leave glibc's malloc thresholds alone (see tune_malloc)",
    )
    parser.add_argument(
        "--variants",
        nargs="*",
        metavar="NAME",
        help=f"time engine variants instead: {', '.join(VARIANTS)}, as-installed",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--scaling-point", nargs=2, metavar=("N", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scaling_point:
        print(json.dumps(scaling_point(int(args.scaling_point[0]), args.scaling_point[1])))
        return
    torch.set_num_threads(THREADS)
    if args.tune_malloc and not tune_malloc():
        print("note: could not tune glibc malloc; timings use the default allocator")
    args.min_time, args.slow_time = (0.6, 0.0) if args.quick else (3.0, 0.0)
    args.rounds = 2 if args.quick else 3
    if args.variants is not None:
        info = machine()
        print(json.dumps(info))
        result = {"machine": info, "variants": variants(args.variants or VARIANTS, args.min_time)}
        if args.out != RESULTS:
            args.out.write_text(json.dumps(result, indent=1) + "\n")
        return
    started = time.time()
    results = {"machine": machine(), "command": " ".join([Path(sys.executable).name, *sys.argv])}
    results["malloc_tuned"] = args.tune_malloc
    print(json.dumps(results["machine"]))
    jobs = [(spec, make_data(spec, BATCH)) for spec in (R1, R2)]
    tq = torchquantum(args.tq_python, jobs, args.min_time, args.rounds, _env(args))
    if tq is not None:
        results["torchquantum_version"] = tq["version"]
    for spec in (R1, R2):
        print(f"\n{spec.name}")
        results[spec.name] = measure_workload(spec, args, tq)
    print("\nR2 parameter-shift")
    results["R2-shift"] = measure_shift(args)
    roof = matmul_roof()
    fwd = results["R1"]["qimage backprop c64"]["forward"]
    flops = forward_flops(R1, BATCH)
    results["roof"] = {
        "matmul_gflops": roof,
        "forward_gflops_executed": flops["executed"] * fwd / BATCH / 1e9,
        "forward_gflops_gate_by_gate": flops["gate_by_gate"] * fwd / BATCH / 1e9,
    }
    for kind in ("executed", "gate_by_gate"):
        results["roof"][f"fraction_{kind}"] = results["roof"][f"forward_gflops_{kind}"] / roof
    if not args.no_scaling:
        print("\nScaling (R1 pattern)")
        qubits = range(4, 17 if args.quick else 21, 2)
        results["scaling"] = scaling(qubits, _env(args))
        plot(results["scaling"], PLOT)
    results["seconds"] = time.time() - started
    table(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(
        f"\nwrote {args.out} in {results['seconds']:.0f} s; plot {PLOT}"
        if not args.no_scaling
        else f"\nwrote {args.out}"
    )


if __name__ == "__main__":
    main()
