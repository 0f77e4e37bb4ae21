"""Phase recognition on quantum data: a QCNN reading the ground states directly, against
classical models on measurement data, by number of measurements per state.

    PYTHONPATH=src .venv/bin/python benchmarks/qcnn_phases.py --spins 8 --seeds 3

Data: cluster-Ising ground states (:mod:`qimage.data.quantum`) on a grid of (h1, h2),
labelled SPT or not by the string order parameter; each seed draws a stratified 50/50 split.

* **QCNN**: the states are the circuit's initial state (no encoding: a
  :class:`qimage.models.QuantumLayer` with the amplitude encoder, which has no gates, and
  ``simulate(..., state=...)``); the :class:`qimage.circuits.QCNN` ansatz pools to one qubit,
  logit ``= a <Z_0> + b``; trained on exact expectations (adjoint gradients), tested with
  ``S`` shots per state (``Execution(shots=S)``): S copies of each test state.
* **shadows**: ``S`` classical-shadow snapshots per state (a random X, Y or Z basis per
  spin, one measured bitstring each) estimate every 1- and nearest-neighbour 2-spin Pauli
  expectation; a logistic regression learns from those, for training and test states alike.
* **exact local**: the same logistic regression on the exact expectations (S = infinity).

Writes ``benchmarks/results/qcnn_phases.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from qimage.circuits import QCNN, AmplitudeEncoder
from qimage.data import generate_cluster_ising
from qimage.estimators.observables import exact_expectations, local_paulis, shadow_estimates
from qimage.models import QuantumLayer
from qimage.sim import Execution

OUT = Path(__file__).parent / "results" / "qcnn_phases.json"
PLOT = Path(__file__).parents[1] / "docs" / "img" / "qcnn_phases.png"
BUDGETS = (10, 100, 1000)


class StateQCNN(torch.nn.Module):
    """QCNN on given states ``(B, 2^n)``: ``a <Z_out> + b`` as a binary logit."""

    def __init__(self, n_qubits: int, generator: torch.Generator):
        super().__init__()
        levels = int(np.log2(n_qubits))
        self.layer = QuantumLayer(
            AmplitudeEncoder(),
            QCNN(),
            n_qubits,
            levels,
            dtype=torch.complex128,
            generator=generator,
        )
        self.head = torch.nn.Linear(1, 1).double()

    def forward(self, states: torch.Tensor, execution: Execution | None = None):
        out = self.layer.simulate(self.layer.qc.circuit, None, states, execution)
        return self.head(out[:, :1]).squeeze(1)


def train_qcnn(states, labels, seed: int, epochs: int = 150) -> StateQCNN:
    model = StateQCNN(int(np.log2(states.shape[1])), torch.Generator().manual_seed(seed))
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    x, y = torch.as_tensor(states, dtype=torch.complex128), torch.as_tensor(labels).double()
    for _ in range(epochs):
        optimiser.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(x), y)
        loss.backward()
        optimiser.step()
    return model


@torch.no_grad()
def qcnn_accuracy(model, states, labels, shots: int | None, seed: int) -> float:
    execution = Execution(shots=shots, seed=seed) if shots else None
    logits = model(torch.as_tensor(states, dtype=torch.complex128), execution)
    return float(((logits > 0).numpy() == labels).mean())


def logistic(features_train, y_train, features_test, y_test) -> float:
    model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    return float(model.fit(features_train, y_train).score(features_test, y_test))


def run_seed(data, seed: int, budgets) -> dict:
    train, test = data.split(0.5, seed=seed)
    S, y = data.states, data.labels
    qcnn = train_qcnn(S[train], y[train], seed)
    paulis = local_paulis(data.n_spins)
    exact = exact_expectations(S, paulis)
    row = {"seed": seed, "qcnn": {"exact": qcnn_accuracy(qcnn, S[test], y[test], None, seed)}}
    row["exact_local"] = logistic(exact[train], y[train], exact[test], y[test])
    row["shadows"] = {}
    rng = np.random.default_rng(seed)
    for shots in budgets:
        row["qcnn"][str(shots)] = qcnn_accuracy(qcnn, S[test], y[test], shots, seed)
        F = shadow_estimates(S, paulis, shots, rng)
        row["shadows"][str(shots)] = logistic(F[train], y[train], F[test], y[test])
    return row


@torch.no_grad()
def _probabilities(model, states) -> np.ndarray:
    return torch.sigmoid(model(torch.as_tensor(states, dtype=torch.complex128))).numpy()


def plot_phase_diagram(data, grid: int, seed: int, path: Path) -> None:
    """String order (the labels) beside the QCNN's P(SPT) over the (h1, h2) grid."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train, _ = data.split(0.5, seed=seed)
    model = train_qcnn(data.states[train], data.labels[train], seed)
    extent = (data.h[:, 0].min(), data.h[:, 0].max(), data.h[:, 1].min(), data.h[:, 1].max())
    panels = [
        (data.string_order, "string order parameter (label: > 0.5)"),
        (_probabilities(model, data.states), "QCNN P(SPT), exact <Z>"),
    ]
    fig, axes = plt.subplots(1, 2, figsize=(9, 4), constrained_layout=True)
    for ax, (values, title) in zip(axes, panels, strict=True):
        image = ax.imshow(
            values.reshape(grid, grid),
            origin="lower",
            extent=extent,
            aspect="auto",
            vmin=0,
            vmax=1,
            cmap="viridis",
        )
        ax.contour(
            data.string_order.reshape(grid, grid),
            levels=[0.5],
            colors="white",
            extent=extent,
            origin="lower",
        )
        ax.set(title=title, xlabel="h1", ylabel="h2")
    axes[1].scatter(*data.h[train].T, s=4, c="red", label="training states")
    axes[1].legend(loc="upper right", fontsize=7)
    fig.colorbar(image, ax=axes, shrink=0.8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def table(rows, budgets) -> str:
    def cell(values):
        return f"{100 * np.mean(values):.1f} ± {100 * np.std(values):.1f}"

    lines = [
        "| S (measurements per state) | QCNN | shadows + logreg | exact local + logreg |",
        "|---|---:|---:|---:|",
    ]
    for shots in budgets:
        q = [r["qcnn"][str(shots)] for r in rows]
        s = [r["shadows"][str(shots)] for r in rows]
        lines.append(f"| {shots} | {cell(q)} | {cell(s)} | |")
    q, e = [r["qcnn"]["exact"] for r in rows], [r["exact_local"] for r in rows]
    lines.append(f"| exact (infinite) | {cell(q)} | | {cell(e)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spins", type=int, default=8)
    parser.add_argument("--grid", type=int, default=16, help="points per axis of (h1, h2)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--plot-only", action="store_true", help="only the phase-diagram PNG")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    start = time.time()
    h1, h2 = np.linspace(0, 1.6, args.grid), np.linspace(-1.6, 1.6, args.grid)
    data = generate_cluster_ising(args.spins, h1, h2)
    plot_phase_diagram(data, args.grid, 0, PLOT)
    if args.plot_only:
        return
    rows = [run_seed(data, seed, BUDGETS) for seed in range(args.seeds)]
    result = {
        "spins": args.spins,
        "grid": args.grid,
        "n_states": len(data.labels),
        "spt_fraction": float(data.labels.mean()),
        "budgets": BUDGETS,
        "rows": rows,
        "seconds": time.time() - start,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(table(rows, BUDGETS))
    print(
        f"{len(data.labels)} states, {100 * data.labels.mean():.0f}% SPT, "
        f"{args.seeds} seeds, {result['seconds']:.0f} s"
    )


if __name__ == "__main__":
    main()
