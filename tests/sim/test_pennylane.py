"""PennyLane's default.qubit as a second, independent oracle for values and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch
from reference import TOLERANCE

from qimage.sim import DIFF_METHODS, Expval, Probs, run

qml = pytest.importorskip("pennylane")
pytestmark = pytest.mark.pennylane

PL_OPS = {
    "X": "PauliX",
    "Y": "PauliY",
    "Z": "PauliZ",
    "H": "Hadamard",
    "S": "S",
    "T": "T",
    "SX": "SX",
    "RX": "RX",
    "RY": "RY",
    "RZ": "RZ",
    "PhaseShift": "PhaseShift",
    "Rot": "Rot",
    "U3": "U3",
    "CNOT": "CNOT",
    "CZ": "CZ",
    "SWAP": "SWAP",
    "CRX": "CRX",
    "CRY": "CRY",
    "CRZ": "CRZ",
    "IsingXX": "IsingXX",
    "IsingYY": "IsingYY",
    "IsingZZ": "IsingZZ",
    "MultiRZ": "MultiRZ",
}
PAULI = {"X": "PauliX", "Y": "PauliY", "Z": "PauliZ"}


def _angle(p, x, w):
    value = torch.tensor(p.scale, dtype=torch.float64)
    if p.x is not None:
        value = value * x[..., p.x]
    if p.w is not None:
        value = value * w[p.w]
    return value


def _pl_observable(word: str):
    terms = [getattr(qml, PAULI[c])(q) for q, c in enumerate(word) if c != "I"]
    return qml.prod(*terms) if len(terms) > 1 else terms[0]


def pennylane_qnode(circuit, kind="expval_z", words=(), diff_method="backprop"):
    """The same op list as a PennyLane QNode, parameters broadcast over the batch."""
    dev = qml.device("default.qubit", wires=circuit.n_qubits)

    @qml.qnode(dev, interface="torch", diff_method=diff_method)
    def qnode(x, w):
        for op in circuit.ops:
            getattr(qml, PL_OPS[op.gate])(
                *[_angle(p, x, w) for p in op.params], wires=list(op.wires)
            )
        if kind == "probs":
            return qml.probs(wires=range(circuit.n_qubits))
        if kind == "words":
            return [qml.expval(_pl_observable(word)) for word in words]
        return [qml.expval(qml.PauliZ(q)) for q in range(circuit.n_qubits)]

    return qnode


def _stack(out, batch):
    if isinstance(out, (list, tuple)):
        out = torch.stack([torch.as_tensor(o) for o in out], dim=-1)
    return out.reshape(batch, -1)


def _inputs(rng, circuit, batch, dtype, grad):
    real = dtype.to_real()
    x = torch.tensor(
        rng.uniform(-np.pi, np.pi, (batch, circuit.n_inputs)), dtype=real, requires_grad=grad
    )
    w = torch.tensor(rng.uniform(-np.pi, np.pi, circuit.n_weights), dtype=real, requires_grad=grad)
    return x, w


def _pl_inputs(x, w):
    return (
        x.detach().double().requires_grad_(x.requires_grad),
        w.detach().double().requires_grad_(w.requires_grad),
    )


@pytest.mark.parametrize("n", range(1, 9))
def test_values_match_pennylane(n, rng, dtype):
    """<Z_i> and probabilities equal default.qubit's on random circuits (1e-5 c64, 1e-10 c128)."""
    tol = TOLERANCE[dtype]
    for _ in range(2):
        circuit = reference.random_circuit(rng, n, n_ops=14)
        x, w = _inputs(rng, circuit, 5, dtype, grad=False)
        px, pw = _pl_inputs(x, w)
        want_z = _stack(pennylane_qnode(circuit)(px, pw), 5)
        want_p = _stack(pennylane_qnode(circuit, "probs")(px, pw), 5)
        got_z = run(circuit, x, w, dtype=dtype).double()
        got_p = run(circuit, x, w, dtype=dtype, measurement=Probs()).double()
        torch.testing.assert_close(got_z, want_z, atol=tol, rtol=0)
        torch.testing.assert_close(got_p, want_p, atol=tol, rtol=0)


def test_pauli_words_match_pennylane(rng):
    """Pauli-word expectations equal default.qubit's."""
    circuit = reference.random_circuit(rng, 4, n_ops=16)
    x, w = _inputs(rng, circuit, 3, torch.complex128, grad=False)
    words = ("XYZI", "ZZZZ", "IYIX")
    want = _stack(pennylane_qnode(circuit, "words", words)(*_pl_inputs(x, w)), 3)
    got = run(circuit, x, w, dtype=torch.complex128, measurement=Expval(words))
    torch.testing.assert_close(got, want, atol=1e-10, rtol=0)


@pytest.mark.parametrize("n", [1, 3, 5, 7])
def test_gradients_match_pennylane(n, rng, dtype):
    """Gradients of every qimage method equal PennyLane's backprop gradients, inputs and weights."""
    tol = 10 * TOLERANCE[dtype]  # gradients sum many terms: allow one more digit
    circuit = reference.random_circuit(rng, n, n_ops=12)
    x, w = _inputs(rng, circuit, 4, dtype, grad=True)
    cot = torch.tensor(rng.normal(size=(4, n)))
    px, pw = _pl_inputs(x, w)
    want = torch.autograd.grad((_stack(pennylane_qnode(circuit)(px, pw), 4) * cot).sum(), (px, pw))
    for method in DIFF_METHODS:
        out = run(circuit, x, w, dtype=dtype, diff_method=method)
        got = torch.autograd.grad((out * cot.to(out.dtype)).sum(), (x, w))
        for g, ref in zip(got, want, strict=True):
            torch.testing.assert_close(g.double(), ref, atol=tol, rtol=0, msg=method)


def test_parameter_shift_matches_pennylane_parameter_shift(rng):
    """Our parameter-shift gradient equals PennyLane's parameter-shift gradient."""
    circuit = reference.random_circuit(rng, 3, n_ops=10)
    x, w = _inputs(rng, circuit, 1, torch.complex128, grad=True)
    px, pw = _pl_inputs(x, w)
    pl = pennylane_qnode(circuit, diff_method="parameter-shift")
    want = torch.autograd.grad(_stack(pl(px[0], pw), 1).sum(), (px, pw))
    out = run(circuit, x, w, dtype=torch.complex128, diff_method="parameter-shift")
    got = torch.autograd.grad(out.sum(), (x, w))
    for g, ref in zip(got, want, strict=True):
        torch.testing.assert_close(g, ref, atol=1e-10, rtol=0)
