"""The automatic diff method: backprop while its states fit the memory budget, else adjoint."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch
from reference import TOLERANCE

from qimage.sim import Execution, run
from qimage.sim import execute as engine
from qimage.sim.execute import compile_plan, gradient_method
from qimage.sim.memory import BACKPROP_SHARE, estimate_bytes


def _case(rng, dtype, n=4, batch=3):
    circuit = reference.random_circuit(rng, n, n_ops=14)
    real = dtype.to_real()
    x = torch.tensor(rng.uniform(-np.pi, np.pi, (batch, circuit.n_inputs)), dtype=real)
    w = torch.tensor(rng.uniform(-np.pi, np.pi, circuit.n_weights), dtype=real)
    return circuit, x, w.requires_grad_(True)


def _backprop_bytes(circuit, batch, dtype) -> int:
    blocks = len(compile_plan(circuit).blocks)
    return estimate_bytes(circuit.n_qubits, batch, blocks, "backprop", dtype)


def _reference_grad(circuit, x, w, eps=1e-6) -> np.ndarray:
    """d sum(<Z>) / dw by central differences of the dense reference simulator."""
    n, x, w = circuit.n_qubits, x.detach().double().numpy(), w.detach().double().numpy()

    def total(weights):
        return reference.expval_z(reference.final_states(circuit, x, weights), n).sum()

    return np.array([(total(w + eps * e) - total(w - eps * e)) / (2 * eps) for e in np.eye(w.size)])


class TestChoice:
    @pytest.mark.parametrize("fits", [True, False])
    def test_follows_the_memory_budget(self, rng, fits):
        """Backprop exactly while its estimate fits the budget's share of the limit."""
        circuit, x, _ = _case(rng, torch.complex64)
        need = _backprop_bytes(circuit, x.shape[0], torch.complex64)
        limit = int(need / BACKPROP_SHARE) + (1 if fits else -1)
        got = gradient_method(circuit, x.shape[0], "auto", torch.complex64, max_memory=limit)
        assert got == ("backprop" if fits else "adjoint")

    def test_larger_batches_and_precision_tip_it_to_adjoint(self, rng):
        circuit, _, _ = _case(rng, torch.complex64)
        limit = int(_backprop_bytes(circuit, 64, torch.complex64) / BACKPROP_SHARE)
        assert gradient_method(circuit, 64, "auto", torch.complex64, limit) == "backprop"
        assert gradient_method(circuit, 65, "auto", torch.complex64, limit) == "adjoint"
        assert gradient_method(circuit, 64, "auto", torch.complex128, limit) == "adjoint"

    def test_given_methods_are_kept(self, rng):
        circuit, _, _ = _case(rng, torch.complex64)
        assert gradient_method(circuit, 10**6, "backprop") == "backprop"

    def test_execution_defaults(self):
        assert Execution().gradient_method == "auto"
        assert Execution(shots=10).gradient_method == "parameter-shift"
        assert Execution(noise="depolarizing=0.01").gradient_method == "backprop"


class TestRun:
    @pytest.mark.parametrize("fits", [True, False])
    def test_runs_the_chosen_method_with_unchanged_gradients(self, rng, dtype, monkeypatch, fits):
        """run(diff_method="auto") calls adjoint only past the budget; gradients match the
        reference either way."""
        circuit, x, w = _case(rng, dtype)
        need = _backprop_bytes(circuit, x.shape[0], dtype)
        calls = []
        adjoint = engine._Adjoint.apply
        monkeypatch.setattr(engine._Adjoint, "apply", lambda *a: calls.append(1) or adjoint(*a))
        limit = int(need / BACKPROP_SHARE) + (1 if fits else -1)
        out = run(circuit, x, w, diff_method="auto", dtype=dtype, max_memory=limit)
        (grad,) = torch.autograd.grad(out.sum(), w)
        assert bool(calls) is not fits
        want = _reference_grad(circuit, x, w)
        np.testing.assert_allclose(
            grad.double().numpy(), want, atol=max(TOLERANCE[dtype], 1e-6) * 10
        )

    def test_layer_says_which(self, monkeypatch):
        from qimage.circuits import AngleEncoder, StronglyEntangling
        from qimage.models import QuantumLayer, gradient_methods

        layer = QuantumLayer(AngleEncoder(), StronglyEntangling(), n_qubits=4, n_layers=3)
        assert layer.gradient_method(32) == "backprop"
        assert layer.gradient_method(32, Execution(diff_method="adjoint")) == "adjoint"
        monkeypatch.setenv("QIMAGE_MAX_MEMORY", "1KiB")
        assert gradient_methods(torch.nn.Sequential(layer), 32) == ["adjoint"]
