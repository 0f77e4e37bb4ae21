"""benchmarks/gpu.py's CPU dry run: every part runs, checks its contenders, writes its JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import gpu


def test_quick_cpu_run_writes_every_part(tmp_path):
    threads = torch.get_num_threads()
    out = tmp_path / "gpu.json"
    try:
        gpu.main(["--device", "cpu", "--quick", "--out", str(out)])
    finally:
        torch.set_num_threads(threads)
    results = json.loads(out.read_text())
    assert results["machine"]["device"] == "cpu"
    for rows in results["workloads"].values():
        assert {"qimage auto c64", "pennylane default.qubit f64"} <= set(rows)
        # every row was checked against the complex128 reference before it was timed
        assert all(row["max_err"] < 2e-4 and row["train"] > 0 for row in rows.values())
        assert rows["qimage auto c64"]["config"].endswith("(backprop)")
    assert {p["contender"] for p in results["scaling"]} >= {"qimage auto c128"}
    assert all(p["train"] > 0 for p in results["scaling"])
    (epoch,) = results["epochs"]
    assert epoch["gradient"] == ["backprop"] and epoch["epoch_seconds"] > 0
