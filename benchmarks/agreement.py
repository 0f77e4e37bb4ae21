"""How closely qimage agrees with PennyLane's default.qubit: the largest differences seen.

Random circuits over the whole gate set (1-8 qubits, per-sample, shared and scaled
parameters), both dtypes: values (<Z>, probabilities) and gradients of every diff method
against PennyLane's backprop. Prints a table and writes benchmarks/results/agreement.json.

    .venv/bin/python benchmarks/agreement.py [--circuits 20]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import reference  # noqa: E402
from sim.test_pennylane import _stack, pennylane_qnode  # noqa: E402

from qimage.sim import DIFF_METHODS, Probs, run  # noqa: E402


def _grad(loss, inputs):
    """Gradients, zero for inputs the circuit does not use (a random circuit may have none)."""
    grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    return [torch.zeros_like(t) if g is None else g for g, t in zip(grads, inputs, strict=True)]


def _one(rng, n, dtype):
    circuit = reference.random_circuit(rng, n, n_ops=16)
    real = dtype.to_real()
    x = torch.tensor(
        rng.uniform(-np.pi, np.pi, (4, circuit.n_inputs)), dtype=real, requires_grad=True
    )
    w = torch.tensor(rng.uniform(-np.pi, np.pi, circuit.n_weights), dtype=real, requires_grad=True)
    px = x.detach().double().requires_grad_()
    pw = w.detach().double().requires_grad_()
    cot = torch.tensor(rng.normal(size=(4, n)))
    want_z = _stack(pennylane_qnode(circuit)(px, pw), 4)
    want_g = _grad((want_z * cot).sum(), (px, pw))
    want_p = _stack(pennylane_qnode(circuit, "probs")(px.detach(), pw.detach()), 4)
    diffs = {"values": 0.0}
    with torch.no_grad():
        got_p = run(circuit, x, w, dtype=dtype, measurement=Probs()).double()
    for method in DIFF_METHODS:
        out = run(circuit, x, w, dtype=dtype, diff_method=method)
        grads = _grad((out * cot.to(out.dtype)).sum(), (x, w))
        values = max(
            (out.double() - want_z).abs().max().item(), (got_p - want_p).abs().max().item()
        )
        diffs["values"] = max(diffs["values"], values)
        diffs[method] = max(
            (g.double() - r).abs().max().item() for g, r in zip(grads, want_g, strict=True)
        )
    return diffs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--circuits", type=int, default=20, help="random circuits per size")
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    table = {}
    for dtype in (torch.complex64, torch.complex128):
        worst: dict[str, float] = {}
        for n in range(1, 9):
            for _ in range(args.circuits):
                for key, value in _one(rng, n, dtype).items():
                    worst[key] = max(worst.get(key, 0.0), value)
        table[str(dtype).removeprefix("torch.")] = worst
    print(f"largest |qimage - PennyLane| over {8 * args.circuits} random circuits per dtype")
    print(f"{'dtype':<11}" + "".join(f"{k:>17}" for k in table["complex64"]))
    for name, worst in table.items():
        print(f"{name:<11}" + "".join(f"{v:>17.2e}" for v in worst.values()))
    out = ROOT / "benchmarks" / "results" / "agreement.json"
    out.write_text(
        json.dumps({"circuits_per_size": args.circuits, "max_abs_diff": table}, indent=2)
    )


if __name__ == "__main__":
    main()
