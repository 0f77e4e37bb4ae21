"""Running a model's circuits on PennyLane devices: the oracle is qimage's own forward."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qimage.circuits import (
    AmplitudeEncoder,
    AngleEncoder,
    BasicEntangler,
    HardwareEfficient,
    StronglyEntangling,
)
from qimage.errors import CircuitError
from qimage.export import PennyLaneModel, parse_backend, run_on_pennylane
from qimage.models import QNN, DressedQNN, LogisticRegression, QuantumLayer, QuanvNet
from qimage.sim import Expval, Probs

pytestmark = pytest.mark.pennylane
qml = pytest.importorskip("pennylane")

KW = {"dtype": torch.complex128}


def _gen():
    return torch.Generator().manual_seed(5)


MODELS = {
    "amplitude-probs": lambda: (
        QNN(AmplitudeEncoder(), StronglyEntangling(), 4, 2, 16, 10, readout="probs", **KW),
        16,
    ),
    "angle-expval": lambda: (
        QNN(AngleEncoder("XY"), HardwareEfficient(), 3, 2, 6, 3, generator=_gen(), **KW),
        6,
    ),
    "dressed": lambda: (DressedQNN(StronglyEntangling(), 3, 2, 7, 4, generator=_gen(), **KW), 7),
    "quanv": lambda: (QuanvNet(16, 3, generator=_gen(), **KW), 16),
    "pauli-words": lambda: (
        QuantumLayer(
            AngleEncoder(), BasicEntangler(), 3, 1, measurement=Expval(("ZZI", "XIY")), **KW
        ),
        3,
    ),
}


def _inputs(n_features: int, batch: int = 4) -> torch.Tensor:
    """Float32 features, as the command line feeds them."""
    x = torch.rand(batch, n_features, generator=torch.Generator().manual_seed(1))
    return x * math.pi + 0.05


@pytest.mark.parametrize("device", ["default.qubit", "lightning.qubit"])
@pytest.mark.parametrize("name", list(MODELS))
def test_exact_outputs_equal_qimage(name, device):
    """Every model kind gives qimage's own outputs, same shape, to 1e-5."""
    model, n_features = MODELS[name]()
    x = _inputs(n_features)
    want = model(x).detach()
    got = run_on_pennylane(model, x, device)
    assert got.shape == want.shape and got.dtype == want.dtype
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_an_opened_device_is_used_as_is():
    """A device object (say qiskit.remote on an IBM backend) may be passed instead of a name."""
    model, n_features = MODELS["angle-expval"]()
    x = _inputs(n_features, 2)
    got = PennyLaneModel(model, qml.device("default.qubit", wires=5))(x)
    torch.testing.assert_close(got, model(x).detach(), atol=1e-5, rtol=0)


class TestShots:
    def _layer(self):
        return QuantumLayer(AngleEncoder(), HardwareEfficient(), 4, 2, generator=_gen(), **KW)

    @pytest.mark.parametrize("device", ["default.qubit", "lightning.qubit"])
    def test_expvals_within_the_standard_error(self, device):
        """<Z> from 2000 shots lies within 5 standard errors (1/sqrt(shots)) of the exact value."""
        layer, shots = self._layer(), 2000
        x = _inputs(4, 8)
        got = run_on_pennylane(layer, x, device, shots=shots, seed=3)
        exact = layer(x).detach()
        assert (got - exact).abs().max() < 5 / math.sqrt(shots)
        assert not torch.equal(got, exact)  # really sampled

    def test_probabilities_are_frequencies(self):
        """Probs from shots are multiples of 1/shots, sum to 1, and are close to the exact ones."""
        layer = QuantumLayer(AngleEncoder(), BasicEntangler(), 3, 1, measurement=Probs((0, 2)))
        shots = 1000
        x = _inputs(3, 5)
        got = run_on_pennylane(layer, x, shots=shots, seed=0)
        np.testing.assert_allclose((got * shots).numpy(), np.round((got * shots).numpy()))
        np.testing.assert_allclose(got.sum(1).numpy(), 1, atol=1e-12)
        # The standard error of a frequency is sqrt(p (1 - p) / shots) <= 0.5 / sqrt(shots).
        assert (got - layer(x).detach()).abs().max() < 5 * 0.5 / math.sqrt(shots)

    def test_seeded(self):
        """The same seed gives the same samples; another seed gives others."""
        layer, x = self._layer(), _inputs(4, 3)
        a, b, c = (run_on_pennylane(layer, x, shots=100, seed=s) for s in (1, 1, 2))
        assert torch.equal(a, b) and not torch.equal(a, c)

    def test_one_stream_across_batches(self):
        """One PennyLaneModel keeps drawing: two batches of the same input get new samples."""
        backend, x = PennyLaneModel(self._layer(), shots=50, seed=0), _inputs(4, 2)
        assert not torch.equal(backend(x), backend(x))


class TestErrors:
    @pytest.mark.parametrize("spec", ["qiskit:aer", "pennylane:", "default.qubit", "pennylane"])
    def test_bad_spec(self, spec):
        with pytest.raises(CircuitError, match="unknown backend"):
            parse_backend(spec)

    @pytest.mark.parametrize(
        ("spec", "device"), [(None, None), ("qimage", None), ("pennylane:qiskit.aer", "qiskit.aer")]
    )
    def test_good_spec(self, spec, device):
        assert parse_backend(spec) == device

    def test_unknown_device_lists_the_installed_ones(self):
        model, _ = MODELS["angle-expval"]()
        message = r"unknown PennyLane device 'nope\.qubit'; installed devices: .*default\.qubit"
        with pytest.raises(CircuitError, match=message):
            PennyLaneModel(model, "nope.qubit")

    def test_missing_plugin_says_what_to_install(self):
        if "qiskit.aer" in qml.plugin_devices:
            pytest.skip("pennylane-qiskit is installed")
        model, _ = MODELS["angle-expval"]()
        with pytest.raises(CircuitError, match="pip install pennylane-qiskit"):
            PennyLaneModel(model, "qiskit.aer")

    def test_classical_model(self):
        with pytest.raises(CircuitError, match="no quantum layer"):
            PennyLaneModel(LogisticRegression(4, 2))

    def test_bad_shots(self):
        with pytest.raises(CircuitError, match="shots must be >= 1"):
            PennyLaneModel(MODELS["angle-expval"]()[0], shots=0)


def test_qiskit_aer():
    """qiskit.aer (pennylane-qiskit), when installed, gives qimage's outputs too."""
    pytest.importorskip("pennylane_qiskit")
    model, n_features = MODELS["amplitude-probs"]()
    x = _inputs(n_features, 2)
    got = run_on_pennylane(model, x, "qiskit.aer")
    torch.testing.assert_close(got, model(x).detach(), atol=1e-5, rtol=0)
