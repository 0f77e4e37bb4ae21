"""The fused engine against the unfused engine and the dense reference, for every diff method.

Every fast path (fused dense blocks on contiguous or scattered wires, shared, per-sample and
grouped batches, merged gathers and diagonals, folding from |0...0>, batched parameter shift)
is checked against ``tests/reference.py``, as PennyLane tests each apply implementation
against the generic one.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch
from reference import TOLERANCE

from qimage.sim import (
    DIFF_METHODS,
    Circuit,
    Op,
    Param,
    Probs,
    amplitude_state,
    as_vector,
    estimate_bytes,
    fusion,
    run,
)
from qimage.sim import execute as execute_module
from qimage.sim.execute import Executor, _angles
from qimage.sim.fusion import MAX_MERGED, compile_plan, wire_groups

# (max_group, fuse): the default plan, small groups (middle blocks, many cross-group ops),
# and the unfused engine (one block per op, scattered wires).
PLANS = [(5, True), (2, True), (3, True), (5, False)]
PLAN_IDS = ["fused5", "fused2", "fused3", "unfused"]


def _data(rng, circuit, batch, dtype, grad=False):
    real = dtype.to_real()
    x = torch.tensor(rng.uniform(-np.pi, np.pi, (batch, circuit.n_inputs)), dtype=real)
    w = torch.tensor(rng.uniform(-np.pi, np.pi, circuit.n_weights), dtype=real)
    return x.requires_grad_(grad), w.requires_grad_(grad)


@pytest.fixture(params=PLANS, ids=PLAN_IDS)
def plan_options(request, monkeypatch):
    """Run the engine with one plan variant."""
    max_group, fuse = request.param
    monkeypatch.setattr(
        execute_module, "compile_plan", lambda c: compile_plan(c, max_group=max_group, fuse=fuse)
    )
    return request.param


def _final_state(circuit, x, w, dtype, state=None):
    plan = execute_module.compile_plan(circuit)
    ex = Executor(plan, None, dtype)
    flat = None if state is None else as_vector(state)
    return ex.final(_angles(plan, x, w, dtype.to_real()), flat)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 6, 8])
def test_random_circuits_match_reference(n, rng, dtype, plan_options):
    """Final states of every plan variant equal the reference, from |0> and from a state."""
    tol = TOLERANCE[dtype]
    for _ in range(2):
        circuit = reference.random_circuit(rng, n, n_ops=16)
        x, w = _data(rng, circuit, 3, dtype)
        got = _final_state(circuit, x, w, dtype).expand(3, -1).numpy()
        np.testing.assert_allclose(got, reference.final_states(circuit, x, w), atol=tol)
        feats = torch.tensor(rng.normal(size=(3, 2**n)))
        state = amplitude_state(feats, n, dtype=dtype)
        want = reference.final_states(circuit, x, w, as_vector(state).numpy())
        got = _final_state(circuit, x, w, dtype, state).numpy()
        np.testing.assert_allclose(got, want, atol=tol)


@pytest.mark.parametrize("method", DIFF_METHODS)
@pytest.mark.parametrize("n", [2, 4, 6])
def test_gradients_match_unfused_backprop(method, n, rng, dtype, plan_options):
    """Each diff method on each plan variant gives the gradients of unfused backprop."""
    circuit = reference.random_circuit(rng, n, n_ops=14)
    x, w = _data(rng, circuit, 3, dtype, grad=True)
    cot = torch.tensor(rng.normal(size=(3, n)), dtype=dtype.to_real())
    out = run(circuit, x, w, diff_method=method, dtype=dtype)
    got = torch.autograd.grad((out * cot).sum(), (x, w))
    want = _unfused_grads(circuit, x, w, cot, dtype)
    for g, ref in zip(got, want, strict=True):
        torch.testing.assert_close(g, ref, atol=20 * TOLERANCE[dtype], rtol=0)


def _unfused_grads(circuit, x, w, cot, dtype, state=None):
    plan = compile_plan(circuit, fuse=False)
    ex = Executor(plan, None, dtype)
    x2, w2 = x.detach().requires_grad_(), w.detach().requires_grad_()
    final = ex.final(_angles(plan, x2, w2, dtype.to_real()), state)
    n = circuit.n_qubits
    bits = (torch.arange(2**n)[:, None] >> torch.arange(n - 1, -1, -1)) & 1
    z = 1.0 - 2.0 * bits  # (2^n, n): <Z_q> of each basis state
    probs = final.abs() ** 2
    return torch.autograd.grad((probs @ z.to(probs.dtype) * cot).sum(), (x2, w2))


@pytest.mark.parametrize("method", ["backprop", "adjoint"])
def test_state_gradients_match_reference_fd(method, rng, plan_options):
    """Gradients through an amplitude-encoded state agree with central differences."""
    circuit = reference.random_circuit(rng, 3, n_ops=12)
    x, w = _data(rng, circuit, 2, torch.complex128, grad=True)
    feats = torch.tensor(rng.normal(size=(2, 8)), requires_grad=True)

    def f(ff):
        state = amplitude_state(ff, 3, dtype=torch.complex128)
        return run(circuit, x, w, state=state, diff_method=method, dtype=torch.complex128).sum()

    got = torch.autograd.grad(f(feats), feats)[0]
    fd = torch.zeros_like(feats)
    for idx in np.ndindex(*feats.shape):
        plus, minus = feats.detach().clone(), feats.detach().clone()
        plus[idx] += 1e-6
        minus[idx] -= 1e-6
        fd[idx] = (f(plus) - f(minus)) / 2e-6
    torch.testing.assert_close(got, fd, atol=1e-6, rtol=0)


def _shared_only(circuit: Circuit) -> Circuit:
    """The circuit with every input-fed angle replaced by a weight: no per-sample block, so
    runs on a batch of states use the batch-last kernels (:mod:`qimage.sim.columns`)."""

    def fix(p: Param) -> Param:
        return Param.weight(p.x % circuit.n_weights, p.scale) if p.x is not None else p

    ops = [Op(op.gate, op.wires, tuple(fix(p) for p in op.params)) for op in circuit.ops]
    return Circuit(circuit.n_qubits, ops, n_weights=circuit.n_weights)


@pytest.mark.parametrize("n", [2, 4, 7])
def test_shared_circuits_on_states(n, rng, dtype, plan_options, monkeypatch):
    """Shared circuits on a batch of amplitude states (batch-last layout): final states and
    every method's gradients, to the weights and to the features, match unfused backprop."""
    circuit = _shared_only(reference.random_circuit(rng, n, n_ops=16))
    monkeypatch.setattr(execute_module, "BATCH_LAST_MIN", 1)
    w = torch.tensor(rng.uniform(-np.pi, np.pi, circuit.n_weights), dtype=dtype.to_real())
    feats = torch.tensor(rng.normal(size=(3, 2**n)), dtype=dtype.to_real())
    state = amplitude_state(feats, n, dtype=dtype)
    want = reference.final_states(circuit, None, w.numpy(), as_vector(state).numpy())
    got = _final_state(circuit, None, w, dtype, state).numpy()
    np.testing.assert_allclose(got, want, atol=TOLERANCE[dtype])
    cot = torch.tensor(rng.normal(size=(3, n)), dtype=dtype.to_real())
    expected = None
    for method in ("backprop", "adjoint"):
        f, ww = feats.clone().requires_grad_(), w.clone().requires_grad_()
        out = run(
            circuit,
            None,
            ww,
            state=amplitude_state(f, n, dtype=dtype),
            diff_method=method,
            dtype=dtype,
        )
        grads = torch.autograd.grad((out * cot).sum(), (f, ww))
        expected = expected or grads
        for g, ref in zip(grads, expected, strict=True):
            torch.testing.assert_close(g, ref, atol=20 * TOLERANCE[dtype], rtol=0)
    ww = w.clone().requires_grad_()
    out = run(circuit, None, ww, state=state, diff_method="parameter-shift", dtype=dtype)
    shift = torch.autograd.grad((out * cot).sum(), ww)[0]
    torch.testing.assert_close(shift, expected[1], atol=20 * TOLERANCE[dtype], rtol=0)


def test_folding_matches_explicit_zero_state(rng):
    """From the default |0...0>, folded blocks give the same outputs and gradients as an
    explicit |0...0> state (which disables folding)."""
    n = 6
    ops = [Op("RY", q, (Param.input(q),)) for q in range(n)]
    ops += [Op("Rot", q, tuple(Param.weight(3 * q + i) for i in range(3))) for q in range(n)]
    ops += [Op("CNOT", (q, (q + 1) % n)) for q in range(n)]
    circuit = Circuit(n, ops * 2)
    assert compile_plan(circuit).folded  # the first blocks are folded
    x, w = _data(rng, circuit, 4, torch.complex128, grad=True)
    zero = torch.zeros(1, 2**n, dtype=torch.complex128)
    zero[0, 0] = 1
    for method in DIFF_METHODS:
        a = run(circuit, x, w, diff_method=method, dtype=torch.complex128)
        b = run(circuit, x, w, state=zero, diff_method=method, dtype=torch.complex128)
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
        ga = torch.autograd.grad(a.sum(), (x, w))
        gb = torch.autograd.grad(b.sum(), (x, w))
        for u, v in zip(ga, gb, strict=True):
            torch.testing.assert_close(u, v, atol=1e-12, rtol=0)


def test_parameter_shift_chunks_agree(rng):
    """A memory limit that fits one shifted circuit per sample at a time: same gradient."""
    circuit = reference.random_circuit(rng, 4, n_ops=14)
    x, w = _data(rng, circuit, 3, torch.complex128, grad=True)
    tight = estimate_bytes(
        4, 3, len(compile_plan(circuit).blocks), "parameter-shift", torch.complex128
    )
    grads = []
    for limit in (None, tight):
        out = run(
            circuit,
            x,
            w,
            diff_method="parameter-shift",
            dtype=torch.complex128,
            measurement=Probs((0, 3)),
            max_memory=limit,
        )
        grads.append(torch.autograd.grad(out.sum(), (x, w)))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


class TestPlanShape:
    def test_strongly_entangling_layer(self):
        """A 10-qubit Rot layer and CNOT ring: two 32x32 blocks and one gather per layer."""
        n = 10
        ops = [Op("Rot", q, tuple(Param.weight(3 * q + i) for i in range(3))) for q in range(n)]
        ops += [Op("CNOT", (q, (q + 1) % n)) for q in range(n)]
        plan = compile_plan(Circuit(n, ops * 3))
        kinds = [(b.kind, b.wires) for b in plan.blocks]
        assert kinds[:3] == [
            ("dense", tuple(range(5))),
            ("dense", tuple(range(5, 10))),
            ("permutation", tuple(range(10))),
        ]
        assert len(plan.blocks) == 9
        assert not any(b.per_sample for b in plan.blocks)

    def test_wire_groups_are_balanced(self):
        """Groups are contiguous, at most five wires, sizes differing by at most one."""
        for n in range(1, 31):
            groups = wire_groups(n)
            sizes = [len(g) for g in groups]
            assert [w for g in groups for w in g] == list(range(n))
            assert max(sizes) <= 5 and max(sizes) - min(sizes) <= 1

    def test_large_register_gathers_stay_small(self, monkeypatch):
        """A CNOT ring on more wires than a merged gather may span (20; 6 here, to stay
        fast) is split into several gathers, and still right."""
        monkeypatch.setattr(fusion, "MAX_MERGED", 6)
        n = 10
        ring = Circuit(n, [Op("CNOT", (q, (q + 1) % n)) for q in range(n)])
        plan = compile_plan(ring)
        assert len(plan.blocks) > 1 and all(len(b.wires) <= 6 for b in plan.blocks)
        state = torch.tensor(np.random.default_rng(0).normal(size=(2, 2**n)))
        want = reference.final_states(ring, None, None, state.numpy())
        ex = Executor(plan, None, torch.complex128)
        got = ex.final(torch.zeros(1, 0, dtype=torch.float64), state.to(torch.complex128))
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)
        assert MAX_MERGED == 20

    def test_diagonals_merge(self):
        """A CZ ladder across groups is one diagonal block."""
        n = 8
        plan = compile_plan(Circuit(n, [Op("CZ", (q, q + 1)) for q in range(n - 1)]))
        assert [b.kind for b in plan.blocks] == ["diagonal"]
