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
import itertools
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _simulator_workloads import R1, R2, Spec, make_data, pennylane_qnode, qimage_circuit, r1_like
from _timing import timed

from qimage.sim import GATES, amplitude_state, run
from qimage.sim.execute import gradient_method

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "simulator.json"
PLOT = ROOT / "docs" / "img" / "scaling.png"
GROWTH = ROOT / "benchmarks" / "results" / "growth.json"
GROWTH_PLOT = ROOT / "docs" / "img" / "growth.png"
THREADS = 2
BATCH = 128
TARGETS = {  # (workload, contender) -> required ratio qimage / contender's fastest row
    ("R1", "pennylane"): 25,
    ("R1", "torchquantum"): 10,
    ("R2", "pennylane"): 10,
    ("R2", "torchquantum"): 5,
    ("R2-shift", "pennylane"): 100,
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


# --- contenders --------------------------------------------------------------------------
#
# A contender is a ``Timer``: ``seconds(kind, min_time, repeats, warm_up)`` gives the median
# seconds of one ``"train"`` (forward+backward) or ``"forward"`` call at its batch. Local
# contenders wrap closures; TorchQuantum's timer asks its worker process to do the timing.


class Timer:
    """Times a contender's closures in this process."""

    def __init__(self, calls: dict, batch: int, config: str):
        self.calls, self.batch, self.config = calls, batch, config

    def seconds(self, kind: str, min_time: float, repeats: int, warm_up: bool) -> float:
        return timed(self.calls[kind], min_time, repeats, warm_up)


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


def pennylane_contender(spec: Spec, data, device: str, diff_method: str, real=torch.float64):
    """A QNode on ``device``; ``real`` is the dtype of the features and weights handed to it."""
    qnode = pennylane_qnode(spec, device, diff_method)
    feats = data["features"].to(real)
    weights = data["weights"].to(real).requires_grad_(True)
    return _closures(lambda: qnode(feats, weights), weights, data["labels"])


def _closures(forward, weights, labels):
    def loss():
        return torch.nn.functional.cross_entropy(forward().to(torch.float64), labels)

    def check():
        out = forward().double()
        grad = torch.autograd.grad(torch.nn.functional.cross_entropy(out, labels), weights)[0]
        return out.detach(), grad.double()

    def step():
        weights.grad = None
        loss().backward()

    def infer():
        with torch.no_grad():
            forward()

    return check, {"train": step, "forward": infer}


def agree(name: str, got, want, tol: float) -> float:
    """Max abs difference of outputs and gradients; raises past ``tol``."""
    err = max((g - w).abs().max().item() for g, w in zip(got, want, strict=True))
    if not err <= tol:
        raise SystemExit(f"CORRECTNESS FAILURE: {name} differs from the reference by {err:.2e}")
    return err


# Every PennyLane configuration its users would reach for; the fastest one sets the verdict.
PENNYLANE = {  # name -> (device, diff method, real dtype of features and weights, config)
    "pennylane default.qubit f64": (
        "default.qubit",
        "backprop",
        torch.float64,
        "torch interface, backprop, broadcasting, float64 (PennyLane's default)",
    ),
    "pennylane default.qubit f32": (
        "default.qubit",
        "backprop",
        torch.float32,
        "torch interface, backprop, broadcasting, float32 features and weights",
    ),
    "pennylane lightning adjoint": (
        "lightning.qubit",
        "adjoint",
        torch.float64,
        "lightning.qubit, adjoint, float64 (no broadcasting: one circuit per sample)",
    ),
}


# --- TorchQuantum, in its own venv ---------------------------------------------------------


class TorchQuantumWorker:
    """``_torchquantum_worker.py`` kept running; one :class:`RemoteTimer` per workload."""

    def __init__(self, python: str, jobs: list, env: dict, device: str = "cpu"):
        worker = Path(__file__).resolve().parent / "_torchquantum_worker.py"
        self.tmp = tempfile.TemporaryDirectory()
        path = Path(self.tmp.name) / "request.pt"
        jobs = [{"spec": vars(spec), "data": data} for spec, data in jobs]
        torch.save({"threads": THREADS, "device": device, "jobs": jobs}, path)
        # stderr to a file: a pipe nobody reads would block the worker once its buffer fills
        self.log = (Path(self.tmp.name) / "stderr.txt").open("w+")
        self.proc = subprocess.Popen(
            [python, str(worker), str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env=env,
        )
        if self.proc.stdout.readline().strip() != "ready":
            self.proc.kill()
            self.log.seek(0)
            tail = self.log.read().strip().splitlines()[-3:]
            raise RuntimeError("worker failed: " + " | ".join(tail))
        self.result = torch.load(Path(str(path) + ".out"))

    def ask(self, command: dict) -> float:
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())["seconds"]

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.proc.stdin.write("\n")
            self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.log.close()
        self.tmp.cleanup()


class RemoteTimer:
    """Times one workload of TorchQuantum in its worker."""

    def __init__(self, worker: TorchQuantumWorker, workload: str, batch: int):
        self.worker, self.workload, self.batch = worker, workload, batch
        self.config = "functional API, complex64, eager, in its own venv"

    def seconds(self, kind: str, min_time: float, repeats: int, warm_up: bool) -> float:
        command = {"min_time": min_time, "repeats": repeats, "warm_up": warm_up}
        return self.worker.ask(command | {"workload": self.workload, "kind": kind})


def start_torchquantum(python, jobs: list, env: dict, device: str = "cpu"):
    """The running worker, or ``None`` (with the reason printed) when it is not available."""
    if not python or not Path(python).exists():
        print(f"TorchQuantum: skipped (no interpreter at {python!r}; see --tq-python)")
        return None
    try:
        return TorchQuantumWorker(python, jobs, env, device)
    except RuntimeError as err:
        print(f"TorchQuantum: skipped ({err})")
        return None


# --- workloads -------------------------------------------------------------------------------


def measure_workload(spec: Spec, data, args, tq) -> dict:
    """Check every contender against qimage's complex128 backprop, then time them all in one
    round-robin (see :func:`rounds`)."""
    reference = qimage_contender(spec, data, "backprop", torch.complex128)[0]()
    contenders, errors = {}, {}
    for method in ("backprop", "adjoint"):
        for tag, dtype in DTYPES.items():
            name = f"qimage {method} {tag}"
            check, calls = qimage_contender(spec, data, method, dtype)
            errors[name] = agree(name, check(), reference, 1e-8 if tag == "c128" else 2e-4)
            contenders[name] = Timer(calls, BATCH, f"sim.run, diff_method={method!r}")
    for name, (device, method, real, config) in PENNYLANE.items():
        if name in args.skip:
            continue
        check, calls = pennylane_contender(spec, data, device, method, real)
        errors[name] = agree(name, check(), reference, 1e-6 if real == torch.float64 else 2e-4)
        contenders[name] = Timer(calls, BATCH, config)
    if tq is not None:
        res = tq.result["workloads"][spec.name]
        errors["torchquantum"] = agree(
            "torchquantum", (res["outputs"], res["grad"]), reference, 2e-4
        )
        contenders["torchquantum"] = RemoteTimer(tq, spec.name, BATCH)
    return rounds(contenders, errors, args, ("train", "forward"))


def rounds(contenders: dict, errors: dict, args, kinds) -> dict:
    """Best of ``args.rounds`` round-robin timings per contender.

    The machine may be shared: a burst of foreign load slows whatever runs during it. Every
    contender is timed in every round, with at least ``args.repeats`` calls per round, and
    each round starts with the next contender, so that a burst cannot bias one of them
    alone; each keeps its best round.
    """
    names, best = list(contenders), {}
    for i in range(args.rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            timer = contenders[name]
            row = best.setdefault(name, {"batch": timer.batch, "config": timer.config})
            row["max_err"] = errors[name]
            for kind in kinds:
                seconds = timer.seconds(kind, args.min_time / args.rounds, args.repeats, i == 0)
                row[kind] = max(row.get(kind, 0.0), timer.batch / seconds)
    for name, row in best.items():
        rates = "  ".join(f"{kind} {row[kind]:10.1f}" for kind in kinds)
        print(f"  {name:30s} {rates}  samples/s  (max err {row['max_err']:.1e})")
    return best


def measure_shift(data, args) -> dict:
    """R2 with parameter-shift gradients, qimage and PennyLane at the same batch."""
    reference = qimage_contender(R2, data, "backprop", torch.complex128)[0]()
    contenders, errors = {}, {}
    for tag, dtype in DTYPES.items():
        name = f"qimage parameter-shift {tag}"
        check, calls = qimage_contender(R2, data, "parameter-shift", dtype)
        errors[name] = agree(name, check(), reference, 1e-8 if tag == "c128" else 2e-4)
        contenders[name] = Timer(calls, BATCH, "sim.run, diff_method='parameter-shift'")
    if "pennylane-shift" in args.skip:
        return rounds(contenders, errors, args, ("train",))
    check, calls = pennylane_contender(R2, data, "default.qubit", "parameter-shift")
    errors["pennylane-shift"] = agree("pennylane parameter-shift", check(), reference, 1e-6)
    contenders["pennylane-shift"] = Timer(
        calls, BATCH, "default.qubit, parameter-shift, broadcasting, float64"
    )
    return rounds(contenders, errors, args, ("train",))


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
    step = qimage_contender(spec, data, method, torch.complex64)[1]["train"]
    # one step at batch 1 compiles the plan and caches constants outside the measured peak
    qimage_contender(spec, make_data(spec, 1), method, torch.complex64)[1]["train"]()
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    base = _status_kib("VmRSS")
    seconds = timed(step, 0.5, repeats=2)
    peak = _status_kib("VmHWM")
    chosen = gradient_method(qimage_circuit(spec), batch, method, torch.complex64)
    point = {"n": n, "batch": batch, "train": batch / seconds, "peak_mib": (peak - base) / 1024}
    return point | {"chosen": chosen}


def scaling(qubits, env: dict, methods=("backprop", "adjoint")) -> list[dict]:
    points = []
    for method in methods:
        for n in qubits:
            cmd = [sys.executable, __file__, "--scaling-point", str(n), method]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
            point = json.loads(proc.stdout.strip().splitlines()[-1]) | {"method": method}
            print(
                f"    {method:9s} n={n:2d} batch={point['batch']:3d} "
                f"{point['train']:10.1f} samples/s  peak +{point['peak_mib']:.0f} MiB "
                f"({point['chosen']})"
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
    elif name.startswith("groups-"):  # the default engine with wire groups of at most K
        execute.compile_plan = lambda c: plan(c, max_group=int(name.removeprefix("groups-")))
    if name in ("unfused", "fused-batch-first", "fused-groups-5"):
        saved[1].batch_last = lambda self, order, rows: False

    def undo():
        execute.compile_plan = saved[0]
        if batch_last is not None:
            saved[1].batch_last = batch_last

    return undo


VARIANTS = ("unfused", "fused-groups-5", "fused-batch-first", "default")
"""Also ``groups-K``: the default engine with wire groups of at most K qubits (the measured
cost per block size)."""


def variants(names, min_time: float) -> dict:
    """Train and forward samples/s of qimage (complex64, backprop) on R1 and R2 per variant."""
    out = {}
    for name in names:
        undo = _variant(name) if name != "as-installed" else (lambda: None)
        try:
            for spec in (R1, R2):
                _, calls = qimage_contender(
                    spec, make_data(spec, BATCH), "backprop", torch.complex64
                )
                step, infer = calls["train"], calls["forward"]
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


def fastest(rows: dict, prefix: str, kind: str = "train") -> tuple[str, float] | None:
    """The fastest row whose name starts with ``prefix``: ``(name, samples/s)``."""
    hits = [(name, row[kind]) for name, row in rows.items() if name.startswith(prefix)]
    return max(hits, key=lambda hit: hit[1]) if hits else None


def verdicts(results: dict) -> list[dict]:
    """Each target, against the fastest configuration of its contender."""
    out = []
    for (workload, contender), target in TARGETS.items():
        rows = results[workload]
        mine, theirs = fastest(rows, "qimage"), fastest(rows, contender)
        row = {"workload": workload, "contender": contender, "target": target}
        if theirs is not None:
            ratio = mine[1] / theirs[1]
            row |= {"qimage": mine, "against": theirs, "ratio": ratio, "met": ratio >= target}
        out.append(row)
    return out


def table(results: dict) -> None:
    for workload in ("R1", "R2", "R2-shift"):
        rows = results[workload]
        kinds = [k for k in ("train", "forward") if k in next(iter(rows.values()))]
        best = {kind: fastest(rows, "qimage", kind)[1] for kind in kinds}
        print(f"\n{workload}: samples/s at batch {BATCH}; ratio = fastest qimage / row")
        for name, row in rows.items():
            cells = "".join(f" {row[k]:10.1f} {best[k] / row[k]:7.1f}x" for k in kinds)
            print(f"  {name:30s}{cells}  [{row['config']}]")
    print("\nTargets (fastest qimage row / fastest row of the contender, same batch):")
    for v in results["verdicts"]:
        head = f"  {v['workload']:8s} vs {v['contender']:12s} target {v['target']:4d}x:"
        if "ratio" not in v:
            print(f"{head} contender skipped")
            continue
        verdict = "MET" if v["met"] else "MISSED"
        print(f"{head} {v['ratio']:7.1f}x {verdict}  ({v['qimage'][0]} / {v['against'][0]})")
    roof = results["roof"]
    print(
        f"\n10-qubit forward: {roof['forward_gflops_executed']:.1f} GFLOP/s executed "
        f"({roof['fraction_executed']:.0%} of the {roof['matmul_gflops']:.0f} GFLOP/s roof), "
        f"{roof['forward_gflops_gate_by_gate']:.1f} GFLOP/s gate-by-gate equivalent "
        f"({roof['fraction_gate_by_gate']:.0%}); target >= 10%"
    )


def preset_epoch(args) -> None:
    """The preset MNIST QNN (10 qubits, 32 layers, batch 64): training steps with the old
    default (adjoint) and the automatic method, timed round-robin; an epoch projected from
    the step time (54,000 training samples: 60,000 less the 10% validation split)."""
    from qimage.models import ModelConfig, build_model, gradient_methods
    from qimage.sim import Execution
    from qimage.train.presets import PRESETS

    preset = PRESETS[("mnist", "qnn")]
    batch, samples = preset["train"]["batch_size"], 54_000
    config = ModelConfig(name="qnn", n_features=784, n_classes=10, **preset["model"])
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(batch, 784, generator=gen), torch.randint(0, 10, (batch,), generator=gen)
    timers, errors = {}, {}
    for name, execution in (("adjoint", Execution(diff_method="adjoint")), ("auto", Execution())):
        model = build_model(config, torch.Generator().manual_seed(0))

        def step(model=model, execution=execution):
            model.zero_grad()
            torch.nn.functional.cross_entropy(model(x, execution=execution), y).backward()

        chosen = gradient_methods(model, batch, execution)[0]
        timers[name], errors[name] = Timer({"train": step}, batch, chosen), 0.0
    rows = rounds(timers, errors, args, ("train",))
    out = {"machine": machine(), "command": " ".join([Path(sys.executable).name, *sys.argv])}
    for name, row in rows.items():
        row["epoch_seconds"] = samples / row["train"]
        print(f"  {name:8s} ({row['config']}): one epoch ~{row['epoch_seconds']:.0f} s projected")
    out["rows"] = rows
    (args.out or ROOT / "benchmarks" / "results" / "preset_epoch.json").write_text(
        json.dumps(out, indent=1, default=float) + "\n"
    )


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings and sweep")
    parser.add_argument(
        "--tq-python",
        default=os.environ.get("QIMAGE_TQ_PYTHON", "/work/tqvenv/bin/python"),
        help="python of a venv with torchquantum (skipped when missing)",
    )
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        metavar="NAME",
        help="leave these PennyLane rows out (e.g. 'pennylane lightning adjoint', "
        "pennylane-shift); the results record it",
    )
    parser.add_argument(
        "--growth",
        action="store_true",
        help="only the scaling sweep, 4..24 qubits, default (automatic) diff method, with "
        "the cost per added qubit (benchmarks/results/growth.json, docs/img/growth.png)",
    )
    parser.add_argument(
        "--preset-epoch",
        action="store_true",
        help="only the preset MNIST QNN's training step, adjoint vs the automatic method "
        "(benchmarks/results/preset_epoch.json)",
    )
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
        help=f"time engine variants instead: {', '.join(VARIANTS)}, groups-K, as-installed",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--scaling-point", nargs=2, metavar=("N", "METHOD"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.min_time = 0.6 if args.quick else 3.0
    args.rounds, args.repeats = (2, 2) if args.quick else (3, 3)
    return args


def per_qubit(points: list[dict]) -> list[dict]:
    """Cost per added qubit between successive sweep points: the growth of seconds per sample,
    as a factor per qubit (2.0 means the cost doubles with each qubit, as the state does)."""
    out = []
    for method in sorted({p["method"] for p in points}):
        pts = [p for p in points if p["method"] == method]
        for lo, hi in itertools.pairwise(pts):
            factor = (lo["train"] / hi["train"]) ** (1 / (hi["n"] - lo["n"]))
            out.append({"method": method, "from": lo["n"], "to": hi["n"], "factor": factor})
    return out


def growth(args) -> None:
    """The sweep alone, 4..24 qubits, and the cost per added qubit."""
    started = time.time()
    results = {"machine": machine(), "command": " ".join([Path(sys.executable).name, *sys.argv])}
    print(json.dumps(results["machine"]))
    results["scaling"] = scaling(range(4, 25, 2), _env(args), methods=("auto",))
    results["per_qubit"] = per_qubit(results["scaling"])
    for row in results["per_qubit"]:
        span = f"{row['from']:2d} -> {row['to']:2d}"
        print(f"  {row['method']:9s} {span}: x{row['factor']:.2f} per qubit")
    results["seconds"] = time.time() - started
    plot(results["scaling"], GROWTH_PLOT)
    out = args.out or GROWTH
    out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"wrote {out} and {GROWTH_PLOT} in {results['seconds']:.0f} s")


def roof(results: dict) -> dict:
    """The R1 forward's GFLOP/s against a large complex64 matmul's."""
    peak = matmul_roof()
    fwd = results["R1"]["qimage backprop c64"]["forward"]
    flops = forward_flops(R1, BATCH)
    out = {"matmul_gflops": peak}
    for kind in ("executed", "gate_by_gate"):
        out[f"forward_gflops_{kind}"] = flops[kind] * fwd / BATCH / 1e9
        out[f"fraction_{kind}"] = out[f"forward_gflops_{kind}"] / peak
    return out


def benchmark(args) -> None:
    started = time.time()
    results = {"machine": machine(), "command": " ".join([Path(sys.executable).name, *sys.argv])}
    results["malloc_tuned"] = args.tune_malloc
    results["skipped"] = args.skip
    print(json.dumps(results["machine"]))
    data = {spec.name: make_data(spec, BATCH) for spec in (R1, R2)}
    jobs = [(spec, data[spec.name]) for spec in (R1, R2)]
    tq = start_torchquantum(args.tq_python, jobs, _env(args))
    try:
        if tq is not None:
            results["torchquantum_version"] = tq.result["version"]
        for spec in (R1, R2):
            print(f"\n{spec.name}")
            results[spec.name] = measure_workload(spec, data[spec.name], args, tq)
    finally:
        if tq is not None:
            tq.close()
    print("\nR2 parameter-shift")
    results["R2-shift"] = measure_shift(data["R2"], args)
    results["verdicts"] = verdicts(results)
    results["roof"] = roof(results)
    if not args.no_scaling:
        print("\nScaling (R1 pattern)")
        results["scaling"] = scaling(range(4, 17 if args.quick else 21, 2), _env(args))
        plot(results["scaling"], PLOT)
    results["seconds"] = time.time() - started
    results["load_average_end"] = os.getloadavg()
    table(results)
    out = args.out or RESULTS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, default=float) + "\n")
    print(f"\nwrote {out} in {results['seconds']:.0f} s")


def main() -> None:
    args = parse_args()
    if args.scaling_point:
        print(json.dumps(scaling_point(int(args.scaling_point[0]), args.scaling_point[1])))
        return
    torch.set_num_threads(THREADS)
    if args.tune_malloc and not tune_malloc():
        print("note: could not tune glibc malloc; timings use the default allocator")
    if args.variants is not None:
        info = machine()
        print(json.dumps(info))
        result = {"machine": info, "variants": variants(args.variants or VARIANTS, args.min_time)}
        if args.out is not None:
            args.out.write_text(json.dumps(result, indent=1) + "\n")
    elif args.growth:
        growth(args)
    elif args.preset_epoch:
        preset_epoch(args)
    else:
        benchmark(args)


if __name__ == "__main__":
    main()
