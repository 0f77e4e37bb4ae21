"""Models: shapes, gradient flow through every model and diff method, readouts, registry."""

from __future__ import annotations

import math

import pytest
import torch

from qimage.circuits import (
    QCNN,
    AmplitudeEncoder,
    AngleEncoder,
    IQPEncoder,
    ReuploadingEncoder,
    StronglyEntangling,
)
from qimage.errors import CircuitError
from qimage.models import (
    CLASSIFICATION,
    FAMILIES,
    QNN,
    DressedQNN,
    ModelConfig,
    ProbsReadout,
    QuantumLayer,
    build_model,
    count_parameters,
)
from qimage.sim import DIFF_METHODS, Execution


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


class TestQuantumLayer:
    def test_extra_batch_axes_are_folded(self):
        """(B, P, F) inputs run as one batch and come back as (B, P, K)."""
        layer = QuantumLayer(AngleEncoder(), StronglyEntangling(), 3, 2, generator=_gen())
        x = torch.rand(4, 5, 3)
        out = layer(x)
        assert out.shape == (4, 5, 3)
        torch.testing.assert_close(out[2, 3], layer(x[2, 3][None])[0])

    def test_inside_a_torch_model(self):
        """The layer trains inside nn.Sequential like any other layer."""
        model = torch.nn.Sequential(
            torch.nn.Linear(6, 3), QuantumLayer(AngleEncoder(), StronglyEntangling(), 3, 1)
        )
        model(torch.rand(2, 6)).sum().backward()
        assert all(p.grad is not None for p in model.parameters())

    def test_wrong_feature_count(self):
        """A wrong input width is a clear error naming the expected count."""
        layer = QuantumLayer(AngleEncoder(), StronglyEntangling(), 3, 1)
        with pytest.raises(CircuitError, match="expects 3 features"):
            layer(torch.rand(2, 4))

    def test_seeded_init(self):
        """The same generator seed gives the same weights."""
        a = QuantumLayer(AngleEncoder(), StronglyEntangling(), 3, 1, generator=_gen(5))
        b = QuantumLayer(AngleEncoder(), StronglyEntangling(), 3, 1, generator=_gen(5))
        assert torch.equal(a.weights, b.weights)


ENCODERS = [
    (AmplitudeEncoder(), 16),
    (AngleEncoder("XY"), 8),
    (IQPEncoder(reps=1), 4),
    (ReuploadingEncoder(), 4),
]


class TestGradientFlow:
    @pytest.mark.parametrize(
        ("encoder", "n_features"), ENCODERS, ids=lambda e: getattr(e, "name", e)
    )
    @pytest.mark.parametrize("method", DIFF_METHODS)
    def test_every_parameter_gets_a_gradient(self, encoder, n_features, method):
        """Every trainable parameter of a QNN receives a finite, non-zero gradient."""
        model = QNN(
            encoder,
            StronglyEntangling(),
            4,
            2,
            n_features,
            3,
            readout="expval",
            generator=_gen(),
        )
        x = torch.rand(5, n_features) + 0.1
        logits = model(x, execution=Execution(diff_method=method))
        torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1, 2, 0, 1])).backward()
        for name, p in model.named_parameters():
            assert p.grad is not None and torch.isfinite(p.grad).all(), name
            assert p.grad.abs().sum() > 0, name

    @pytest.mark.parametrize("registers", [1, 2])
    @pytest.mark.parametrize("method", DIFF_METHODS)
    def test_dressed_gradients_agree_across_methods(self, method, registers):
        """The dressed QNN's gradients equal backprop's whatever the diff method, one
        register or several side by side."""
        x, y = torch.rand(4, 10), torch.tensor([0, 1, 1, 0])
        grads = {}
        for m in ("backprop", method):
            model = DressedQNN(
                StronglyEntangling(), 3, 2, 10, 2, generator=_gen(1), registers=registers
            )
            logits = model(x, execution=Execution(diff_method=m))
            torch.nn.functional.cross_entropy(logits, y).backward()
            grads[m] = [p.grad.clone() for p in model.parameters()]
        for a, b in zip(grads["backprop"], grads[method], strict=True):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)

    def test_registers_run_one_circuit_per_group_of_angles(self):
        """registers=3 equals the circuit run on each third of the angles, outputs joined."""
        model = DressedQNN(StronglyEntangling(), 2, 2, 5, 3, registers=3, generator=_gen(2))
        x = torch.rand(4, 5, generator=_gen(3))
        angles = (math.pi / 2) * torch.tanh(model.pre(x))
        outputs = [model.quantum(angles[:, 2 * r : 2 * r + 2]) for r in range(3)]
        torch.testing.assert_close(model(x), model.post(torch.cat(outputs, dim=1)))
        assert model.pre.out_features == 6 and model.post.in_features == 6

    def test_registers_must_be_positive(self):
        with pytest.raises(CircuitError, match="registers"):
            DressedQNN(StronglyEntangling(), 2, 2, 5, 3, registers=0)


class TestReadouts:
    def test_probs_readout_groups_outcomes(self):
        """Outcome j votes for class j mod C; scale 1, bias 0 gives log-probabilities."""
        readout = ProbsReadout(3, (0, 1), n_wires=2)
        p = torch.tensor([[0.1, 0.2, 0.3, 0.4]])
        expected = torch.log(torch.tensor([[0.1 + 0.4, 0.2, 0.3]]))
        torch.testing.assert_close(readout(p), expected)

    def test_ten_classes_with_few_qubits(self):
        """10 classes fit a 4-qubit probs readout but not a 4-qubit expval readout."""
        model = QNN(AmplitudeEncoder(), StronglyEntangling(), 4, 1, 16, 10, readout="probs")
        assert model(torch.rand(2, 16)).shape == (2, 10)
        with pytest.raises(CircuitError, match="one output qubit per class"):
            QNN(AmplitudeEncoder(), StronglyEntangling(), 4, 1, 16, 10, readout="expval")

    def test_ten_readout_qubits(self):
        """10 classes on 10 qubits with one <Z> per class."""
        model = QNN(AngleEncoder(), StronglyEntangling(), 10, 1, 10, 10, readout="expval")
        assert model(torch.rand(2, 10)).shape == (2, 10)

    def test_qcnn_reads_its_output_wires(self):
        """A QCNN readout measures only the wires left after pooling."""
        model = QNN(AngleEncoder(), QCNN(), 8, 2, 8, 2, readout="probs")
        assert model.readout.measurement.wires == (0, 4)

    def test_quantum_only_has_few_classical_parameters(self):
        """The QNN's only classical parameters are one scale and one bias per class."""
        model = QNN(AmplitudeEncoder(), StronglyEntangling(), 6, 2, 64, 10, readout="probs")
        classical = count_parameters(model) - model.quantum.weights.numel()
        assert classical == 20


class TestRegistry:
    def test_build_every_registered_model(self):
        """Each family builds with its default options; classifiers map features to logits."""
        for name, family in FAMILIES.items():
            cfg = ModelConfig(name=name, n_features=9, n_classes=3).resolved()
            out = build_model(cfg, _gen())(torch.rand(2, 9))
            expected = (2, 3) if family.objective is CLASSIFICATION else (2, out.shape[1])
            assert out.shape == expected and torch.isfinite(out).all(), name

    def test_config_round_trip(self):
        """A config survives to_dict/from_dict; unknown keys are refused."""
        cfg = ModelConfig(name="dressed", n_qubits=3, ansatz_options={"ranges": None})
        assert ModelConfig.from_dict(cfg.to_dict()) == cfg
        with pytest.raises(CircuitError, match="model 'qnn' has no option bogus"):
            ModelConfig.from_dict({"bogus": 1})

    def test_unknown_model(self):
        """An unknown model name lists the registered ones."""
        with pytest.raises(CircuitError, match="choose one of"):
            build_model(ModelConfig(name="nope"))
