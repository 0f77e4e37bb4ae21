"""benchmarks/engine_tries.py: each try computes what the engine computes (uncompiled here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import engine_tries

SPEC = engine_tries.Spec("R1-2", 10, 2, True)


@pytest.mark.parametrize("name", sorted(engine_tries.TRIES))
def test_each_try_agrees_with_the_engine(name):
    data = engine_tries.make_data(SPEC, 8)
    w = data["weights"].float().requires_grad_(True)
    forward, _ = engine_tries.TRIES[name]
    error = engine_tries._check(forward, data["features"].float(), w, data["labels"], SPEC)
    assert error < 2e-5


def test_a_wrong_try_is_refused():
    """The check can fail: a try with its outputs in the wrong order is stopped."""
    data = engine_tries.make_data(SPEC, 8)
    w = data["weights"].float().requires_grad_(True)

    def broken(feats, weights, spec):
        return engine_tries.real_rot(feats, weights, spec).flip(-1)

    with pytest.raises(SystemExit, match="disagrees"):
        engine_tries._check(broken, data["features"].float(), w, data["labels"], SPEC)


def test_the_ring_is_a_permutation_of_cnots():
    ring = engine_tries._ring(3)  # CNOT(0,1) CNOT(1,2) CNOT(2,0) on |100> gives |111> -> |011>
    out = torch.zeros(8)
    out[ring.argsort()] = torch.arange(8.0)  # where each input basis state lands
    assert int(out[0b011]) == 0b100
