"""qPCA on the 8x8 digits (6 data qubits): eigenvalue error and component fidelity vs the
number of ancilla qubits, with the copies of rho hardware would consume.

    PYTHONPATH=src .venv/bin/python benchmarks/qpca_ancillas.py --max-ancillas 8

All 1,797 digits, amplitude-encoded; the reference is ``numpy.linalg.eigh`` of rho.
Writes ``benchmarks/results/qpca_ancillas.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from qimage.models.qpca import amplitude_states, density_matrix, qpca, qpe_copies

OUT = Path(__file__).parent / "results" / "qpca_ancillas.json"


def measure(X: np.ndarray, k: int, values: np.ndarray, top: np.ndarray) -> dict:
    start = time.perf_counter()
    result = qpca(X, n_ancillas=k)
    seconds = time.perf_counter() - start
    peak = result.peaks(1)[0]
    return {
        "ancillas": k,
        "lambda1": float(result.grid[peak]),
        "error": float(abs(result.grid[peak] - values[0])),
        "peak_mass": float(result.probabilities[peak]),
        "fidelity": float(top @ result.conditional[peak].real @ top),
        "second": float(result.eigenvalues(2)[1]),
        "copies_eps_0.01": qpe_copies(k, 2 * np.pi * (1 - 2.0**-k), 0.01),
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-ancillas", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    X = load_digits().data
    values, vectors = np.linalg.eigh(density_matrix(amplitude_states(X)))
    values, top = values[::-1], vectors[:, -1]
    rows = [measure(X, k, values, top) for k in range(3, args.max_ancillas + 1)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"eigh": values[:4].tolist(), "rows": rows}, indent=2))
    print(f"eigh: {np.round(values[:4], 4).tolist()}")
    print(
        "| k | grid step | lambda_1 read | error | peak mass | fidelity | 2nd peak | "
        "copies (eps 0.01) | s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['ancillas']} | {1 / (2 ** r['ancillas'] - 1):.4f} | {r['lambda1']:.4f} | "
            f"{r['error']:.4f} | {r['peak_mass']:.3f} | {r['fidelity']:.4f} | "
            f"{r['second']:.4f} | {r['copies_eps_0.01']:.1e} | {r['seconds']:.0f} |"
        )


if __name__ == "__main__":
    main()
