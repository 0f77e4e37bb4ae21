"""Export: decompositions, state preparation, and round trips through Qiskit, Cirq and
PennyLane."""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import reference
import torch

import qimage.export
from qimage.circuits import (
    QCNN,
    AmplitudeEncoder,
    AngleEncoder,
    BasicEntangler,
    HardwareEfficient,
    IQPEncoder,
    ReuploadingEncoder,
    StronglyEntangling,
)
from qimage.export import (
    DECOMPOSITIONS,
    TARGETS,
    BoundCircuit,
    BoundOp,
    bind,
    capture_circuits,
    lower,
    pennylane_script,
    prepare_state,
    target_gates,
    to_qasm,
    uniformly_controlled,
    with_state_prep,
)
from qimage.models import QNN, DressedQNN
from qimage.sim import evolve, expval_z
from qimage.sim.gates import GATES


def _unitary(ops, n):
    u = np.eye(2**n, dtype=complex)
    for op in ops:
        u = reference.expand(reference.matrix(op.gate, op.angles, len(op.wires)), op.wires, n) @ u
    return u


def _state(ops, n):
    psi = np.zeros(2**n, dtype=complex)
    psi[0] = 1
    return _unitary(ops, n) @ psi


def _equal_up_to_phase(a, b, atol=1e-10):
    phase = np.vdot(a.ravel(), b.ravel())
    phase /= abs(phase)
    np.testing.assert_allclose(a * phase, b, atol=atol)


N_WIRES = {"Rot": 1, "U3": 1, "PhaseShift": 1, "SX": 1, "MultiRZ": 3}
N_ANGLES = {"Rot": 3, "U3": 3, "SX": 0, "SWAP": 0}


class TestDecompositions:
    @pytest.mark.parametrize("name", list(DECOMPOSITIONS))
    def test_decomposition_equals_gate(self, name, rng):
        """Each decomposition equals its gate up to a global phase (dense reference)."""
        k, n_angles = N_WIRES.get(name, 2), N_ANGLES.get(name, 1)
        angles = rng.uniform(-math.pi, math.pi, n_angles)
        wires = tuple(range(k))
        want = reference.expand(reference.matrix(name, angles, k), wires, k)
        _equal_up_to_phase(_unitary(DECOMPOSITIONS[name](wires, *angles), k), want)

    @pytest.mark.parametrize("target", TARGETS)
    def test_lowering_reaches_the_target_set(self, target, rng):
        """A random circuit lowers to the target's gates only, with the same unitary."""
        known = target_gates(target)
        circuit = reference.random_circuit(rng, 3, 40)
        x, w = rng.uniform(-3, 3, circuit.n_inputs), rng.uniform(-3, 3, circuit.n_weights)
        bound = bind(circuit, x, w)
        low = lower(bound, known)
        assert {op.gate for op in low.ops} <= set(known)
        _equal_up_to_phase(_unitary(low.ops, 3), _unitary(bound.ops, 3))


class TestStatePreparation:
    @pytest.mark.parametrize("n", [1, 2, 3, 4, 6])
    def test_real_vectors_exactly(self, n, rng):
        """Real vectors (with signs) are prepared exactly, global phase included."""
        v = rng.normal(size=2**n)
        v /= np.linalg.norm(v)
        np.testing.assert_allclose(_state(prepare_state(v, n), n), v, atol=1e-12)

    @pytest.mark.parametrize("n", [1, 3, 5])
    def test_complex_vectors_up_to_phase(self, n, rng):
        """Complex vectors are prepared up to a global phase."""
        v = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
        v /= np.linalg.norm(v)
        _equal_up_to_phase(_state(prepare_state(v, n), n), v)

    def test_uniformly_controlled_rotation(self, rng):
        """The Gray-code circuit is block-diagonal RY(alpha_j) in the control basis."""
        alphas = rng.uniform(-3, 3, 4)
        u = _unitary(uniformly_controlled("RY", alphas, (0, 1), 2), 3)
        for j, a in enumerate(alphas):
            block = u[2 * j : 2 * j + 2, 2 * j : 2 * j + 2]
            np.testing.assert_allclose(block, reference.matrix("RY", [a]), atol=1e-12)

    def test_product_state_needs_no_cnot(self, rng):
        """Controls that never change an angle are dropped: a positive product state has no CNOT."""
        singles = [rng.uniform(0.1, 1, size=2) for _ in range(4)]
        v = singles[0]
        for single in singles[1:]:
            v = np.kron(v, single)
        v /= np.linalg.norm(v)
        ops = prepare_state(v, 4)
        assert all(op.gate == "RY" for op in ops) and len(ops) == 4
        np.testing.assert_allclose(_state(ops, 4), v, atol=1e-12)

    def test_state_prep_replaces_the_vector(self):
        """with_state_prep turns an amplitude vector into gates and drops the vector."""
        v = np.array([0.6, 0.0, 0.0, 0.8])
        circuit = with_state_prep(BoundCircuit(2, (BoundOp("H", (0,)),), v, (0, 1)))
        assert circuit.state is None and circuit.ops[-1] == BoundOp("H", (0,))
        _equal_up_to_phase(_state(circuit.ops[:-1], 2), v)


def _models():
    def make():
        kw = {"generator": torch.Generator().manual_seed(3), "dtype": torch.complex128}
        sel, probs, expval = StronglyEntangling(), {"readout": "probs"}, {"readout": "expval"}
        return {
            "amplitude": (QNN(AmplitudeEncoder(), sel, 4, 2, 16, 10, **probs, **kw), 16),
            "angle": (QNN(AngleEncoder("XY"), HardwareEfficient(), 3, 2, 6, 3, **expval, **kw), 6),
            "iqp": (QNN(IQPEncoder(), BasicEntangler(), 3, 2, 3, 2, **expval, **kw), 3),
            "reupload": (QNN(ReuploadingEncoder(), sel, 3, 2, 3, 3, **expval, **kw), 3),
            "qcnn": (QNN(AngleEncoder(), QCNN(), 4, 1, 4, 2, **probs, **kw), 4),
            "dressed": (DressedQNN(sel, 3, 2, 7, 4, **kw), 7),
            "dressed-registers": (DressedQNN(sel, 3, 2, 7, 4, registers=2, **kw), 7),
        }

    return make


@pytest.fixture(
    params=["amplitude", "angle", "iqp", "reupload", "qcnn", "dressed", "dressed-registers"]
)
def model_and_input(request):
    """A randomly initialised model of each kind, with one random input."""
    model, n_features = _models()()[request.param]
    x = torch.rand(1, n_features, generator=torch.Generator().manual_seed(1)) * math.pi + 0.05
    return model, x


def _qimage_expvals(model, features):
    """<Z> of the measured wires by qimage's own simulator, complex128, from the layer input."""
    layer = model.quantum
    seen = {}
    handle = layer.register_forward_pre_hook(lambda m, a: seen.setdefault("x", a[0]))
    with torch.no_grad():
        model(features)
    handle.remove()
    x, qc = seen["x"].double(), layer.qc
    inputs = qc.prepare(x) if qc.circuit.n_inputs else None
    with torch.no_grad():
        state = evolve(
            qc.circuit,
            inputs,
            layer.weights.double(),
            state=qc.initial_state(x, torch.complex128),
            dtype=torch.complex128,
        )
    wires = layer.measurement.wires or tuple(range(qc.n_qubits))
    return expval_z(state, wires)[0].numpy()


def _z_from_statevector(sv, wires):
    return np.array([sv.probabilities([w])[0] - sv.probabilities([w])[1] for w in wires])


@pytest.mark.qiskit
class TestQiskitRoundTrip:
    def test_quantum_circuit(self, model_and_input):
        """to_qiskit run on Qiskit's Statevector gives qimage's <Z> to 1e-6."""
        pytest.importorskip("qiskit")
        from qiskit.quantum_info import Statevector

        from qimage.export import to_qiskit

        model, x = model_and_input
        (bound,) = capture_circuits(model, x)
        sv = Statevector(to_qiskit(bound))
        np.testing.assert_allclose(
            _z_from_statevector(sv, bound.measured), _qimage_expvals(model, x), atol=1e-6
        )

    @pytest.mark.parametrize("version", [2, 3])
    def test_openqasm_text(self, model_and_input, version):
        """OpenQASM 2 and 3 text loads in Qiskit and gives qimage's <Z> to 1e-6."""
        qiskit = pytest.importorskip("qiskit")
        from qiskit.quantum_info import Statevector

        if version == 3:
            pytest.importorskip("qiskit_qasm3_import")
            import qiskit.qasm3 as loader
        else:
            import qiskit.qasm2 as loader
        assert qiskit
        model, x = model_and_input
        (bound,) = capture_circuits(model, x)
        qc = loader.loads(to_qasm(bound, version))
        qc.remove_final_measurements()
        np.testing.assert_allclose(
            _z_from_statevector(Statevector(qc), bound.measured),
            _qimage_expvals(model, x),
            atol=1e-6,
        )


@pytest.mark.pennylane
def test_pennylane_round_trip(model_and_input):
    """to_pennylane on default.qubit gives qimage's <Z> to 1e-6."""
    pytest.importorskip("pennylane")
    from qimage.export import to_pennylane

    model, x = model_and_input
    (bound,) = capture_circuits(model, x)
    got = np.array([float(v) for v in to_pennylane(bound)()])
    np.testing.assert_allclose(got, _qimage_expvals(model, x), atol=1e-6)


class TestGateTable:
    def test_export_keeps_no_gate_name_table(self):
        """No module of qimage.export maps gate names to names: the Gate rows hold them."""
        gate_names = set(GATES)
        for path in Path(qimage.export.__file__).parent.glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Dict) and len(node.keys) >= 3:
                    keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                    strings = all(isinstance(v, ast.Constant) for v in node.values)
                    assert not (keys <= gate_names and strings), f"gate-name map in {path.name}"

    def test_every_gate_has_a_name_or_a_decomposition(self):
        """Each target can export every gate: natively or through DECOMPOSITIONS."""
        for target in TARGETS:
            missing = set(GATES) - set(target_gates(target)) - set(DECOMPOSITIONS)
            assert not missing, f"{target} can export neither natively nor decomposed: {missing}"

    def test_renamed_gate_row_renames_the_qasm_output(self, monkeypatch):
        """to_qasm writes the name found in the gate's row, read at export time."""
        monkeypatch.setitem(GATES, "H", dataclasses.replace(GATES["H"], qasm="hadamard"))
        text = to_qasm(BoundCircuit(1, (BoundOp("H", (0,)),)))
        assert "hadamard q[0];" in text and "\nh q[0];" not in text

    @pytest.mark.parametrize("target", ["qasm2", "qiskit", "pennylane", "cirq"])
    def test_unnamed_gate_is_decomposed(self, target, monkeypatch):
        """A gate whose row has no name for a target reaches it decomposed into CNOTs."""
        monkeypatch.setitem(GATES, "SWAP", dataclasses.replace(GATES["SWAP"], **{target: None}))
        circuit = BoundCircuit(2, (BoundOp("SWAP", (0, 1)),))
        assert _exported_gate_count(target, circuit) == 3


def _exported_gate_count(target, circuit):
    """How many gates ``target`` receives for ``circuit``."""
    if target == "qasm2":
        return sum(line.startswith("cx ") for line in to_qasm(circuit, 2).splitlines())
    if target == "qiskit":
        pytest.importorskip("qiskit")
        return len(qimage.export.to_qiskit(circuit).data)
    if target == "pennylane":
        pytest.importorskip("pennylane")
        return len(qimage.export.pennylane_ops(circuit))
    pytest.importorskip("cirq")
    return len(list(qimage.export.to_cirq(circuit).all_operations()))


@pytest.mark.parametrize("seed", range(4))
def test_cirq_round_trip_over_the_gate_set(seed):
    """to_cirq of random circuits over every gate (and amplitude states) gives qimage's state."""
    cirq = pytest.importorskip("cirq")
    from qimage.export import to_cirq

    rng = np.random.default_rng(seed)
    circuit = reference.random_circuit(rng, 3, 40)
    x, w = rng.uniform(-3, 3, circuit.n_inputs), rng.uniform(-3, 3, circuit.n_weights)
    start = rng.normal(size=8) + 1j * rng.normal(size=8)
    start /= np.linalg.norm(start)
    bound = bind(circuit, x, w, state=start)
    got = cirq.final_state_vector(to_cirq(bound), dtype=np.complex128)
    want = evolve(
        circuit,
        torch.from_numpy(x)[None],
        torch.from_numpy(w),
        state=torch.from_numpy(start).reshape(1, 2, 2, 2),
        dtype=torch.complex128,
    )
    _equal_up_to_phase(got, want.reshape(-1).numpy(), atol=1e-8)


def test_cirq_round_trip_of_models(model_and_input):
    """to_cirq of each model kind gives qimage's <Z> to 1e-6 (Cirq's own expectation)."""
    cirq = pytest.importorskip("cirq")
    from qimage.export import to_cirq

    model, x = model_and_input
    (bound,) = capture_circuits(model, x)
    qc = to_cirq(bound)
    qubits = cirq.LineQubit.range(bound.n_qubits)
    state = cirq.final_state_vector(qc, qubit_order=qubits, dtype=np.complex128)
    index = {q: i for i, q in enumerate(qubits)}
    z = [cirq.Z(qubits[w]).expectation_from_state_vector(state, index) for w in bound.measured]
    np.testing.assert_allclose(np.real(z), _qimage_expvals(model, x), atol=1e-6)


def _exec_script(model, x):
    namespace: dict = {}
    exec(pennylane_script(model, x, "test"), namespace)
    return namespace


@pytest.mark.pennylane
class TestPennyLaneScript:
    def test_logits_equal_the_model(self, model_and_input):
        """The script's logits(x) equal the model's on random inputs (complex128: 1e-8)."""
        pytest.importorskip("pennylane")
        model, x = model_and_input
        model.double()  # float64 classical parts too, so that only the simulators differ
        with torch.no_grad():
            for p in getattr(model, "readout", torch.nn.Module()).parameters():
                p.normal_(generator=torch.Generator().manual_seed(7))
        script = _exec_script(model, x.double())
        inputs = torch.rand(3, x.shape[1], generator=torch.Generator().manual_seed(2)) * 3
        for row in inputs + 0.05:
            with torch.no_grad():
                want = model(row[None].double())[0].numpy()
            np.testing.assert_allclose(script["logits"](row.double().numpy()), want, atol=1e-8)

    def test_circuit_is_the_layer(self, model_and_input):
        """circuit(x, weights) returns the layer's own measurement of its input x."""
        pytest.importorskip("pennylane")
        model, x = model_and_input
        layer = model.quantum
        script = _exec_script(model, x)
        inputs = torch.rand(2, layer.n_features, generator=torch.Generator().manual_seed(4))
        weights = torch.randn(layer.weights.shape, generator=torch.Generator().manual_seed(5))
        with torch.no_grad():
            layer.weights.copy_(weights)
            want = layer(inputs.double()).numpy()
        for row, expected in zip(inputs, want, strict=True):
            got = np.asarray(script["circuit"](row.double().numpy(), weights.double().numpy()))
            np.testing.assert_allclose(got.reshape(-1), expected, atol=1e-8)

    def test_float32_model(self):
        """A complex64 model agrees with the float64 script to 1e-4."""
        pytest.importorskip("pennylane")
        gen = torch.Generator().manual_seed(0)
        model = QNN(AngleEncoder(), StronglyEntangling(), 3, 2, 3, 3, generator=gen)
        x = torch.rand(4, 3, generator=gen) * math.pi
        script = _exec_script(model, x[:1])
        with torch.no_grad():
            want = model(x).numpy()
        got = np.stack([script["logits"](row.double().numpy()) for row in x])
        np.testing.assert_allclose(got, want, atol=1e-4)

    def test_quanvolution_patch_circuit(self):
        """A quanvolution script has one patch's circuit, equal to the layer, and no logits."""
        pytest.importorskip("pennylane")
        from qimage.models import QuantumLayer, QuanvNet

        gen = torch.Generator().manual_seed(0)
        model = QuanvNet(16, 3, generator=gen, dtype=torch.complex128)
        x = torch.rand(1, 16, generator=gen)
        script = _exec_script(model, x)
        layer = next(m for m in model.modules() if isinstance(m, QuantumLayer))
        patch = torch.tensor([script["INPUT"]], dtype=torch.float64)
        with torch.no_grad():
            want = layer(patch)[0].numpy()
        got = np.asarray(script["circuit"](script["INPUT"], script["WEIGHTS"]))
        assert "logits" not in script
        np.testing.assert_allclose(got.reshape(-1), want, atol=1e-8)
