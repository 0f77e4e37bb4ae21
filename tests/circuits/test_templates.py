"""Encoders and ansatzes: declared shapes, limits, op lists, and agreement with PennyLane."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference
import torch

from qimage.circuits import (
    ANSATZE,
    QCNN,
    AmplitudeEncoder,
    AngleEncoder,
    BasicEntangler,
    HardwareEfficient,
    IQPEncoder,
    ReuploadingEncoder,
    Separable,
    StronglyEntangling,
    compose,
    draw,
    make_ansatz,
    make_encoder,
)
from qimage.errors import CircuitError
from qimage.sim import Circuit, as_vector, evolve


class TestEncoderShapes:
    @pytest.mark.parametrize(
        ("encoder", "n", "limit"),
        [
            (AngleEncoder(), 4, 4),
            (AngleEncoder("YZ"), 4, 8),
            (AmplitudeEncoder(), 6, 64),
            (IQPEncoder(), 5, 5),
            (ReuploadingEncoder("XY"), 3, 6),
        ],
    )
    def test_n_features(self, encoder, n, limit):
        """Each encoder declares its feature limit and refuses one more feature."""
        assert encoder.n_features(n) == limit
        encoder.check(limit, n)
        with pytest.raises(CircuitError, match=f"takes 1 to {limit} features on {n} qubits"):
            encoder.check(limit + 1, n)

    def test_angle_ops(self):
        """Dense angle encoding puts the second block of features on RZ."""
        ops = AngleEncoder("YZ").ops(2, 4)
        assert [(op.gate, op.wires, op.params[0].x) for op in ops] == [
            ("RY", (0,), 0),
            ("RY", (1,), 1),
            ("RZ", (0,), 2),
            ("RZ", (1,), 3),
        ]

    def test_bad_rotation_letters(self):
        """Only X, Y and Z rotations exist."""
        with pytest.raises(CircuitError, match="rotations"):
            AngleEncoder("Q").n_features(2)

    def test_iqp_prepare_pairs(self):
        """IQP inputs are the features then (pi - x_i)(pi - x_j) for every pair."""
        x = torch.tensor([[0.1, 0.2, 0.3]])
        out = IQPEncoder().prepare(x)
        pairs = [(0, 1), (0, 2), (1, 2)]
        want = [0.1, 0.2, 0.3] + [(math.pi - x[0, i]) * (math.pi - x[0, j]) for i, j in pairs]
        torch.testing.assert_close(out, torch.tensor([want]))
        assert IQPEncoder().n_inputs(3) == 6
        assert IQPEncoder(pairs="ring").n_inputs(4) == 8

    def test_amplitude_state(self):
        """Amplitude encoding prepares the normalised, padded feature vector."""
        state = AmplitudeEncoder().initial_state(
            torch.tensor([[1.0, 1.0, 1.0]]), 2, torch.complex64
        )
        torch.testing.assert_close(
            as_vector(state).real, torch.tensor([[1, 1, 1, 0]]) / math.sqrt(3)
        )


class TestAnsatzShapes:
    @pytest.mark.parametrize(
        ("ansatz", "shape"),
        [
            (StronglyEntangling(), (3, 5, 3)),
            (BasicEntangler(), (3, 5)),
            (HardwareEfficient(), (3, 5, 2)),
            (Separable(), (3, 5, 3)),
        ],
    )
    def test_weight_shape_matches_ops(self, ansatz, shape):
        """weight_shape agrees with the number of distinct weights the ops read."""
        assert ansatz.weight_shape(3, 5) == shape
        used = {p.w for op in ansatz.ops(3, 5) for p in op.params}
        n_used = math.prod(shape) if not isinstance(ansatz, Separable) else 45
        assert used == set(range(n_used))

    def test_qcnn_levels(self):
        """QCNN halves the active wires per level and refuses too many levels."""
        assert QCNN().output_wires(1, 8) == (0, 2, 4, 6)
        assert QCNN().output_wires(3, 8) == (0,)
        used = {p.w for op in QCNN().ops(2, 8) for p in op.params}
        assert used == set(range(QCNN().weight_shape(2, 8)[0]))
        with pytest.raises(CircuitError, match="at most 3 levels"):
            QCNN().weight_shape(4, 8)

    @pytest.mark.parametrize("name", list(ANSATZE))
    def test_bad_layers(self, name):
        """Zero layers is refused with the template's name."""
        with pytest.raises(CircuitError, match="n_layers"):
            make_ansatz(name).weight_shape(0, 4)

    def test_separable_has_no_entanglers(self):
        """The separable control keeps only single-qubit gates."""
        for of in ("strongly_entangling", "basic", "hardware_efficient", "qcnn"):
            ops = make_ansatz("separable", of=of).ops(2, 4)
            assert ops and all(len(op.wires) == 1 for op in ops)

    def test_unknown_names(self):
        """Unknown template names list the known ones."""
        with pytest.raises(CircuitError, match="choose one of angle"):
            make_encoder("nope")
        with pytest.raises(CircuitError, match="choose one of strongly_entangling"):
            make_ansatz("nope")


class TestCompose:
    def test_reuploading_interleaves(self):
        """Re-uploading repeats the encoding before each layer, with its own scaling weights."""
        qc = compose(ReuploadingEncoder(), StronglyEntangling(), 3, 2, 3)
        gates = [op.gate for op in qc.circuit.ops]
        assert gates[:3] == ["RY"] * 3 and gates[9:12] == ["RY"] * 3
        assert qc.n_weights == 18 + 6
        w = qc.init_weights(torch.Generator().manual_seed(0))
        torch.testing.assert_close(w[18:], torch.ones(6))
        assert torch.all((w[:18] >= 0) & (w[:18] < 2 * math.pi))

    def test_init_is_seeded(self):
        """The same generator seed gives the same initial weights."""
        qc = compose(AngleEncoder(), HardwareEfficient(), 4, 2, 4)
        a = qc.init_weights(torch.Generator().manual_seed(3))
        b = qc.init_weights(torch.Generator().manual_seed(3))
        assert torch.equal(a, b) and a.shape == (16,)

    def test_draw(self):
        """The diagram has one line per wire and shows gates and controls."""
        text = draw(compose(AngleEncoder(), BasicEntangler(), 3, 1, 3).circuit)
        lines = text.splitlines()
        assert len(lines) == 3 and lines[0].startswith("q0: ─RY(x0)")
        assert "●" in text and "⊕" in text

    def test_plot_circuit(self, tmp_path):
        """plot_circuit draws a PNG of a circuit, cut with an ellipsis when long."""
        from PIL import Image

        from qimage.circuits.draw import plot_circuit

        circuit = compose(AngleEncoder(), StronglyEntangling(), 3, 6, 3).circuit
        short = plot_circuit(circuit, tmp_path / "short.png", max_columns=4)
        full = plot_circuit(circuit, tmp_path / "full.png", max_columns=100)
        with Image.open(short) as a, Image.open(full) as b:
            assert a.format == "PNG" and a.width < b.width


qml = pytest.importorskip("pennylane")


def _pl_state(n, template, weights):
    dev = qml.device("default.qubit", wires=n)

    @qml.qnode(dev)
    def circuit():
        template(weights, wires=range(n))
        return qml.state()

    return np.asarray(circuit())


@pytest.mark.pennylane
@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_strongly_entangling_matches_pennylane(n, rng):
    """Our StronglyEntangling is PennyLane's StronglyEntanglingLayers, default ranges."""
    w = rng.uniform(0, 2 * np.pi, (3, n, 3))
    ours = evolve(
        Circuit(n, StronglyEntangling().ops(3, n)),
        None,
        torch.tensor(w.ravel()),
        dtype=torch.complex128,
    )
    want = _pl_state(n, qml.StronglyEntanglingLayers, w)
    np.testing.assert_allclose(as_vector(ours)[0].numpy(), want, atol=1e-10)


@pytest.mark.pennylane
@pytest.mark.parametrize("n", [1, 2, 4])
def test_basic_entangler_matches_pennylane(n, rng):
    """Our BasicEntangler is PennyLane's BasicEntanglerLayers."""
    w = rng.uniform(0, 2 * np.pi, (2, n))
    ours = evolve(
        Circuit(n, BasicEntangler().ops(2, n)),
        None,
        torch.tensor(w.ravel()),
        dtype=torch.complex128,
    )
    want = _pl_state(n, qml.BasicEntanglerLayers, w)
    np.testing.assert_allclose(as_vector(ours)[0].numpy(), want, atol=1e-10)


def test_composed_circuits_match_reference(rng):
    """Every encoder x ansatz composition simulates as the dense reference says."""
    for enc in (AngleEncoder("XY"), IQPEncoder(reps=1), ReuploadingEncoder()):
        for ans in (StronglyEntangling(), HardwareEfficient(), QCNN(), BasicEntangler()):
            qc = compose(enc, ans, 4, 1, 4)
            x = torch.tensor(rng.uniform(0, np.pi, (2, 4)))
            inputs = qc.prepare(x)
            w = qc.init_weights(torch.Generator().manual_seed(1)).double()
            got = as_vector(evolve(qc.circuit, inputs, w, dtype=torch.complex128)).numpy()
            want = reference.final_states(qc.circuit, inputs.numpy(), w.numpy())
            np.testing.assert_allclose(got, want, atol=1e-10)
