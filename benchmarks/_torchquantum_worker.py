"""TorchQuantum contender, run in its own virtualenv (TorchQuantum pins an old Qiskit).

Invoked by ``simulator.py`` as ``TQ_PYTHON _torchquantum_worker.py REQUEST.pt``. The request
holds, per workload, the spec, float64 data and timing settings; the worker writes
``REQUEST.pt.out`` with TorchQuantum's outputs and weight gradients on that data (for the
correctness check) and its forward and forward+backward samples/s. It imports neither qimage
nor PennyLane.

TorchQuantum imports torchvision for its datasets only; when torchvision is missing or does
not match the installed torch, a stub stands in for it (no dataset is used here).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import statistics
import sys
import time
import warnings
from unittest import mock


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
    qdev = tq.QuantumDevice(n_wires=n, bsz=feats.shape[0], device="cpu")
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


def _timed(fn, min_time: float, repeats: int) -> float:
    """Median seconds per call over at least ``repeats`` calls and ``min_time`` seconds."""
    fn()
    times, start = [], time.perf_counter()
    while len(times) < repeats or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _workload(tq, tqf, job: dict) -> dict:
    spec, data = job["spec"], job["data"]
    feats = data["features"].float()
    labels = data["labels"]
    weights = data["weights"].float().requires_grad_(True)
    out = _forward(tq, tqf, spec, feats, weights)
    grad = torch.autograd.grad(torch.nn.functional.cross_entropy(out, labels), weights)[0]

    def step():
        loss = torch.nn.functional.cross_entropy(_forward(tq, tqf, spec, feats, weights), labels)
        loss.backward()

    def forward():
        with torch.no_grad():
            _forward(tq, tqf, spec, feats, weights)

    batch, n_rounds = feats.shape[0], job["rounds"]
    train = forward_rate = 0.0
    for _ in range(n_rounds):  # best round, as simulator.rounds does for the others
        train = max(train, batch / _timed(step, job["min_time"] / n_rounds, job["repeats"]))
        rate = batch / _timed(forward, job["min_time"] / n_rounds, job["repeats"])
        forward_rate = max(forward_rate, rate)
    return {
        "outputs": out.detach().double(),
        "grad": grad.double(),
        "train": train,
        "forward": forward_rate,
    }


def main(path: str) -> None:
    request = torch.load(path)
    torch.set_num_threads(request["threads"])
    tq, tqf = _import_torchquantum()
    result = {"version": str(getattr(tq, "__version__", "?")), "torch": str(torch.__version__)}
    result["workloads"] = {job["spec"]["name"]: _workload(tq, tqf, job) for job in request["jobs"]}
    torch.save(result, path + ".out")


if __name__ == "__main__":
    import torch

    main(sys.argv[1])
