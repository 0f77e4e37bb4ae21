"""TorchQuantum contender, run in its own virtualenv (TorchQuantum pins an old Qiskit).

Invoked by ``simulator.py`` as ``TQ_PYTHON _torchquantum_worker.py REQUEST.pt`` and kept
running for the whole benchmark, so that TorchQuantum is timed inside the same round-robin
as every other contender. The request holds the thread count and, per workload, the spec and
float64 data. The worker writes ``REQUEST.pt.out`` with TorchQuantum's version, outputs and
weight gradients on that data (for the correctness check), prints ``ready``, then answers
one JSON command per stdin line, ``{"workload": "R1", "kind": "train", "min_time": 0.5,
"repeats": 3, "warm_up": true}``, with ``{"seconds": median seconds per call}``; an empty
line ends it. It imports neither qimage nor PennyLane.

TorchQuantum imports torchvision for its datasets only; when torchvision is missing or does
not match the installed torch, a stub stands in for it (no dataset is used here).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import json
import sys
import warnings
from unittest import mock

from _timing import timed


class _StubTorchvision(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "torchvision" or name.startswith("torchvision."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)
        return None

    def create_module(self, spec):
        module = mock.MagicMock(__name__=spec.name)
        module.__path__, module.__spec__ = [], spec
        return module

    def exec_module(self, module):
        """Nothing to run: create_module already returned the finished stand-in."""


def _import_torchquantum():
    try:
        import torchvision  # noqa: F401
    except Exception:
        for name in [m for m in sys.modules if m.startswith("torchvision")]:
            del sys.modules[name]
        sys.meta_path.insert(0, _StubTorchvision())
    warnings.filterwarnings("ignore")
    import torchquantum as tq
    import torchquantum.functional as tqf

    return tq, tqf


def _forward(tq, tqf, spec: dict, feats, weights):
    n, layers = spec["n_qubits"], spec["n_layers"]
    w = weights.reshape(layers, n, 3)
    qdev = tq.QuantumDevice(n_wires=n, bsz=feats.shape[0], device=feats.device)
    if spec["amplitude"]:
        qdev.set_states(feats.to(torch.complex64))
    for layer in range(layers):
        if not spec["amplitude"]:
            for q in range(n):
                tqf.ry(qdev, wires=q, params=feats[:, q])
        for q in range(n):
            tqf.rot(qdev, wires=q, params=w[layer, q][None])
        for q in range(n):
            tqf.cnot(qdev, wires=[q, (q + 1) % n])
    return tq.measurement.expval(qdev, list(range(n)), [tq.PauliZ()] * n)


def _closures(tq, tqf, job: dict, device: str) -> tuple[dict, dict]:
    """The check result and the ``{"train": step, "forward": infer}`` closures of one workload
    (complex64 state, float32 weights, on ``device``)."""
    spec, data = job["spec"], job["data"]
    feats = data["features"].float().to(device)
    labels = data["labels"].to(device)
    weights = data["weights"].float().to(device).requires_grad_(True)
    out = _forward(tq, tqf, spec, feats, weights)
    grad = torch.autograd.grad(torch.nn.functional.cross_entropy(out, labels), weights)[0]

    def step():
        weights.grad = None
        loss = torch.nn.functional.cross_entropy(_forward(tq, tqf, spec, feats, weights), labels)
        loss.backward()

    def forward():
        with torch.no_grad():
            _forward(tq, tqf, spec, feats, weights)

    check = {"outputs": out.detach().double().cpu(), "grad": grad.double().cpu()}
    return check, {"train": step, "forward": forward}


def _synced(fn, device: str):
    """``fn`` followed by a wait for the device's queued work (CUDA runs asynchronously)."""
    if not str(device).startswith("cuda"):
        return fn

    def call():
        fn()
        torch.cuda.synchronize(device)

    return call


def main(path: str) -> None:
    request = torch.load(path)
    torch.set_num_threads(request["threads"])
    tq, tqf = _import_torchquantum()
    result = {"version": str(getattr(tq, "__version__", "?")), "torch": str(torch.__version__)}
    closures, result["workloads"] = {}, {}
    device = request.get("device", "cpu")
    for job in request["jobs"]:
        name = job["spec"]["name"]
        result["workloads"][name], closures[name] = _closures(tq, tqf, job, device)
    torch.save(result, path + ".out")
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            break
        cmd = json.loads(line)
        fn = closures[cmd["workload"]][cmd["kind"]]
        seconds = timed(_synced(fn, device), cmd["min_time"], cmd["repeats"], cmd["warm_up"])
        print(json.dumps({"seconds": seconds}), flush=True)


if __name__ == "__main__":
    import torch

    main(sys.argv[1])
