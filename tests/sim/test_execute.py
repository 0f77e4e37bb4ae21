"""Running circuits: random circuits against the dense reference, gradient agreement, errors."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch
from reference import TOLERANCE

from qimage.errors import CircuitError, MemoryLimitError
from qimage.sim import (
    DIFF_METHODS,
    Circuit,
    Expval,
    ExpvalZ,
    Op,
    Param,
    Probs,
    amplitude_state,
    as_vector,
    evolve,
    run,
)


def _data(rng, circuit, batch, dtype, grad=False):
    real = dtype.to_real()
    x = torch.tensor(rng.uniform(-np.pi, np.pi, (batch, circuit.n_inputs)), dtype=real)
    w = torch.tensor(rng.uniform(-np.pi, np.pi, circuit.n_weights), dtype=real)
    return x.requires_grad_(grad), w.requires_grad_(grad)


class TestAgainstReference:
    @pytest.mark.parametrize("n", range(1, 9))
    def test_random_circuits(self, n, rng, dtype):
        """Final states, <Z> and probabilities equal the dense reference's on random circuits."""
        for _ in range(3):
            circuit = reference.random_circuit(rng, n, n_ops=12)
            x, w = _data(rng, circuit, 4, dtype)
            want = reference.final_states(circuit, x.numpy(), w.numpy())
            tol = TOLERANCE[dtype]
            got = as_vector(evolve(circuit, x, w, dtype=dtype)).numpy()
            np.testing.assert_allclose(got, want, atol=tol)
            np.testing.assert_allclose(
                run(circuit, x, w, dtype=dtype).numpy(), reference.expval_z(want, n), atol=tol
            )
            np.testing.assert_allclose(
                run(circuit, x, w, dtype=dtype, measurement=Probs()).numpy(),
                reference.probs(want, n),
                atol=tol,
            )

    def test_norm_preserved(self, rng):
        """A deep random circuit keeps every state normalised."""
        circuit = reference.random_circuit(rng, 6, n_ops=200)
        x, w = _data(rng, circuit, 5, torch.complex64)
        norms = as_vector(evolve(circuit, x, w)).abs().pow(2).sum(1)
        torch.testing.assert_close(norms, torch.ones(5), atol=1e-5, rtol=0)

    def test_initial_amplitude_state(self, rng):
        """A prepared amplitude state evolves like the reference from the same vector."""
        circuit = reference.random_circuit(rng, 3, n_ops=10)
        x, w = _data(rng, circuit, 2, torch.complex128)
        feats = torch.tensor(rng.normal(size=(2, 6)))
        state = amplitude_state(feats, 3, dtype=torch.complex128)
        want = reference.final_states(circuit, x.numpy(), w.numpy(), as_vector(state).numpy())
        got = run(circuit, x, w, state=state, dtype=torch.complex128)
        np.testing.assert_allclose(got.numpy(), reference.expval_z(want, 3), atol=1e-12)

    def test_pauli_word_measurement(self, rng):
        """Expval of Pauli words after a circuit matches the reference."""
        circuit = reference.random_circuit(rng, 3, n_ops=10)
        x, w = _data(rng, circuit, 3, torch.complex128)
        words = ("XYZ", "ZIX")
        want = reference.expval_words(reference.final_states(circuit, x.numpy(), w.numpy()), words)
        got = run(circuit, x, w, measurement=Expval(words), dtype=torch.complex128)
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


def _grads(circuit, x, w, method, measurement=None, state=None, cotangent=None):
    out = run(
        circuit,
        x,
        w,
        diff_method=method,
        measurement=measurement,
        state=state,
        dtype=torch.complex128,
    )
    cot = torch.ones_like(out) if cotangent is None else cotangent
    leaves = [t for t in (x, w, state) if t is not None and t.requires_grad]
    return out, torch.autograd.grad((out * cot).sum(), leaves)


class TestGradients:
    @pytest.mark.parametrize("n", [1, 2, 4, 6])
    def test_methods_agree_with_each_other_and_finite_differences(self, n, rng):
        """backprop, adjoint and parameter-shift give the same gradients as central differences."""
        circuit = reference.random_circuit(rng, n, n_ops=15)
        x, w = _data(rng, circuit, 3, torch.complex128, grad=True)
        cot = torch.tensor(rng.normal(size=(3, n)))
        results = {m: _grads(circuit, x, w, m, cotangent=cot)[1] for m in DIFF_METHODS}
        fd = _finite_difference(circuit, x.detach(), w.detach(), cot)
        for method, (gx, gw) in results.items():
            torch.testing.assert_close(gx, fd[0], atol=1e-6, rtol=0, msg=method)
            torch.testing.assert_close(gw, fd[1], atol=1e-6, rtol=0, msg=method)
            torch.testing.assert_close(gx, results["backprop"][0], atol=1e-10, rtol=0)
            torch.testing.assert_close(gw, results["backprop"][1], atol=1e-10, rtol=0)

    @pytest.mark.parametrize("measurement", [Probs((0, 2)), Expval(("XZY", "YYI"))])
    def test_other_measurements(self, measurement, rng):
        """All methods agree for probabilities and Pauli words too."""
        circuit = reference.random_circuit(rng, 3, n_ops=12)
        x, w = _data(rng, circuit, 2, torch.complex128, grad=True)
        grads = [_grads(circuit, x, w, m, measurement)[1] for m in DIFF_METHODS]
        for g in grads[1:]:
            torch.testing.assert_close(g, grads[0], atol=1e-10, rtol=0)

    def test_adjoint_differentiates_the_initial_state(self, rng):
        """Adjoint and backprop agree on gradients through an amplitude-encoded state."""
        circuit = reference.random_circuit(rng, 3, n_ops=10)
        x, w = _data(rng, circuit, 2, torch.complex128, grad=True)
        feats = torch.tensor(rng.normal(size=(2, 8)), requires_grad=True)
        outs = []
        for method in ("backprop", "adjoint"):
            state = amplitude_state(feats, 3, dtype=torch.complex128)
            out = run(circuit, x, w, state=state, diff_method=method, dtype=torch.complex128)
            outs.append(torch.autograd.grad(out.sum(), (feats, x, w)))
        for a, b in zip(*outs, strict=True):
            torch.testing.assert_close(a, b, atol=1e-10, rtol=0)

    def test_shared_only_circuit_broadcasts(self, rng):
        """A circuit without inputs runs once and broadcasts over the batch of a given state."""
        c = Circuit(2, [Op("RY", 0, (Param.weight(0),)), Op("CNOT", (0, 1))])
        w = torch.tensor([0.4], dtype=torch.float64, requires_grad=True)
        grads = [
            torch.autograd.grad(run(c, None, w, diff_method=m).sum(), w)[0] for m in DIFF_METHODS
        ]
        for g in grads:
            torch.testing.assert_close(g, torch.tensor([-2 * np.sin(0.4)], dtype=torch.float64))

    def test_parameter_shift_with_shots_is_seeded_and_unbiased(self, rng):
        """Shot-based shift gradients are reproducible and near the exact gradient."""
        c = Circuit(2, [Op("RX", 0, (Param.weight(0),)), Op("CRY", (0, 1), (Param.weight(1),))])
        w = torch.tensor([0.9, 1.3], dtype=torch.float64, requires_grad=True)
        exact = torch.autograd.grad(run(c, None, w, dtype=torch.complex128).sum(), w)[0]

        def shot_grad(seed):
            gen = torch.Generator().manual_seed(seed)
            out = run(
                c,
                None,
                w,
                diff_method="parameter-shift",
                shots=50000,
                generator=gen,
                dtype=torch.complex128,
            )
            return torch.autograd.grad(out.sum(), w)[0]

        assert torch.equal(shot_grad(5), shot_grad(5))
        torch.testing.assert_close(shot_grad(6), exact, atol=0.03, rtol=0)


def _finite_difference(circuit, x, w, cot, eps=1e-6):
    def f(xx, ww):
        return (run(circuit, xx, ww, dtype=torch.complex128) * cot).sum()

    grads = []
    for t, other_first in ((x, True), (w, False)):
        g = torch.zeros_like(t)
        for idx in np.ndindex(*t.shape):
            plus, minus = t.clone(), t.clone()
            plus[idx] += eps
            minus[idx] -= eps
            args = ((plus, w), (minus, w)) if other_first else ((x, plus), (x, minus))
            g[idx] = (f(*args[0]) - f(*args[1])) / (2 * eps)
        grads.append(g)
    return grads


class TestInputs:
    circuit = Circuit(2, [Op("RX", 0, (Param.input(0),)), Op("RY", 1, (Param.weight(0),))])

    def test_unknown_gate(self):
        """An unknown gate name lists the known gates."""
        with pytest.raises(CircuitError, match=r"unknown gate 'RXX'.*CNOT"):
            Op("RXX", (0, 1), (Param.weight(0),))

    def test_bad_wire(self):
        """A wire outside the register names the valid range."""
        with pytest.raises(CircuitError, match=r"wire 2 is out of range.*0\.\.1"):
            Circuit(2, [Op("H", 2)])

    def test_repeated_wire(self):
        """A two-qubit gate on one wire twice is refused."""
        with pytest.raises(CircuitError, match="distinct wires"):
            Op("CNOT", (1, 1))

    def test_wrong_param_count(self):
        """Rot takes three parameters."""
        with pytest.raises(CircuitError, match="takes 3 parameter"):
            Op("Rot", 0, (Param.weight(0),))

    def test_wrong_wire_count(self):
        """CNOT acts on two wires."""
        with pytest.raises(CircuitError, match="acts on 2 wire"):
            Op("CNOT", (0,))

    def test_wrong_input_shape(self):
        """Inputs of the wrong width state the expected shape."""
        with pytest.raises(CircuitError, match=r"inputs must have shape \(batch, 1\)"):
            run(self.circuit, torch.zeros(3, 2), torch.zeros(1))

    def test_missing_inputs(self):
        """A circuit with input angles needs inputs."""
        with pytest.raises(CircuitError, match="takes 1 input"):
            run(self.circuit, None, torch.zeros(1))

    def test_wrong_weight_shape(self):
        """Weights of the wrong length state the expected shape."""
        with pytest.raises(CircuitError, match=r"weights must have shape \(1,\)"):
            run(self.circuit, torch.zeros(3, 1), torch.zeros(2))

    def test_wrong_state_shape(self):
        """An initial state of the wrong size is refused."""
        with pytest.raises(CircuitError, match="state must have shape"):
            run(self.circuit, torch.zeros(3, 1), torch.zeros(1), state=torch.ones(3, 8))

    def test_batch_mismatch(self):
        """Inputs and state must agree on the batch size."""
        state = amplitude_state(torch.ones(4, 4), 2)
        with pytest.raises(CircuitError, match="batch size"):
            run(self.circuit, torch.zeros(3, 1), torch.zeros(1), state=state)

    def test_unknown_diff_method(self):
        """Only the three diff methods exist."""
        with pytest.raises(CircuitError, match="unknown diff_method"):
            run(self.circuit, torch.zeros(3, 1), torch.zeros(1), diff_method="finite")

    @pytest.mark.parametrize("shots", [0, -5, 2.5])
    def test_bad_shots(self, shots):
        """Shots must be a positive integer."""
        with pytest.raises(CircuitError, match="shots"):
            run(self.circuit, torch.zeros(3, 1), torch.zeros(1), shots=shots)

    @pytest.mark.parametrize("method", ["backprop", "adjoint"])
    def test_shots_refused_for_non_shift_gradients(self, method):
        """Backprop and adjoint refuse shots rather than silently ignoring them."""
        w = torch.zeros(1, requires_grad=True)
        with pytest.raises(CircuitError, match="cannot differentiate shot-based"):
            run(self.circuit, torch.zeros(3, 1), w, shots=100, diff_method=method)

    def test_shots_allowed_without_gradients(self):
        """Inference under shots works with any diff method."""
        with torch.no_grad():
            out = run(
                self.circuit, torch.zeros(3, 1), torch.zeros(1), shots=10, diff_method="adjoint"
            )
        assert out.shape == (3, 2)

    def test_parameter_shift_refuses_state_gradients(self):
        """Parameter shift says plainly that it cannot differentiate a prepared state."""
        feats = torch.ones(2, 4, requires_grad=True)
        with pytest.raises(CircuitError, match="prepared input state"):
            run(
                self.circuit,
                torch.zeros(2, 1),
                torch.zeros(1),
                state=amplitude_state(feats, 2),
                diff_method="parameter-shift",
            )

    def test_memory_guard(self):
        """A run over the memory limit names the qubit count and the batch size."""
        c = Circuit(20, [Op("RY", q, (Param.input(0),)) for q in range(20)])
        with pytest.raises(MemoryLimitError, match="20 qubits at batch size 4096"):
            run(c, torch.zeros(4096, 1), max_memory="1GiB")

    def test_memory_guard_counts_shots(self):
        """The samples drawn are part of the estimate: 10^4 shots of 2 qubits fit in 1 MB
        (8 bytes x (2 + 3 x 2) per shot = 640 kB), 10^5 do not, and 10^30 are refused before
        anything is allocated."""
        c = Circuit(2, [Op("RY", 0, (Param.weight(0),))])
        w = torch.zeros(1)
        assert run(c, weights=w, shots=10**4, max_memory="1MB").shape == (1, 2)
        with pytest.raises(MemoryLimitError, match="and 100000 shots"):
            run(c, weights=w, shots=10**5, max_memory="1MB")
        with pytest.raises(MemoryLimitError, match=f"and {10**30} shots"):
            run(c, weights=w, shots=10**30)

    def test_complex_inputs_refused(self):
        """Angles must be real."""
        with pytest.raises(CircuitError, match="must be real"):
            run(self.circuit, torch.zeros(3, 1, dtype=torch.complex64), torch.zeros(1))

    def test_measurement_wire_check(self):
        """A measured wire beyond the register is refused before simulating."""
        with pytest.raises(CircuitError, match="measured wires"):
            run(self.circuit, torch.zeros(1, 1), torch.zeros(1), measurement=ExpvalZ((5,)))


def test_circuit_without_parameters():
    """A circuit with no parametrised gate runs (a Bell pair), with and without a batch."""
    bell = Circuit(2, [Op("H", 0), Op("CNOT", (0, 1))])
    torch.testing.assert_close(run(bell, measurement=Probs()), torch.tensor([[0.5, 0, 0, 0.5]]))
    state = amplitude_state(torch.tensor([[1.0, 0, 0, 0], [0, 0, 0, 1.0]]), 2)
    out = as_vector(evolve(bell, state=state))
    assert out.shape == (2, 4) and torch.allclose(out.abs().pow(2).sum(1), torch.ones(2))
