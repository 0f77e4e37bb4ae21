"""Quanvolution: batched patches against a per-patch dense reference, freezing, the feature
cache, QuanvNet and its twin through the registry, training and model files."""

from __future__ import annotations

import numpy as np
import pytest
import reference
import torch

import qimage.models.layer as layer_module
from qimage.circuits import AngleEncoder, BasicEntangler, StronglyEntangling
from qimage.errors import CircuitError
from qimage.models import (
    ModelConfig,
    PatchCircuit,
    QuanvNet,
    Quanvolution,
    build_model,
    count_parameters,
    product_state,
    quanv_features,
)
from qimage.sim import Circuit, Execution, evolve
from qimage.train import DataSpec, TrainConfig, evaluate, fit, load_model, prepare_data, save_model


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Run this module on one thread (tiny tensors: thread hand-offs cost more than they save)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _reference_quanv(quanv: Quanvolution, images: np.ndarray) -> np.ndarray:
    """Slide the full circuit (RY encoding gates + ansatz) over every patch, one at a time."""
    k, s, n = quanv.patch, quanv.stride, quanv.n_qubits
    circuit, w = quanv.layer.qc.circuit, quanv.layer.weights.detach().double().numpy()
    batch, height, width = images.shape
    rows, cols = (height - k) // s + 1, (width - k) // s + 1
    out = np.zeros((batch, n, rows, cols))
    for b in range(batch):
        for i in range(rows):
            for j in range(cols):
                patch = images[b, i * s : i * s + k, j * s : j * s + k].reshape(1, -1)
                state = reference.final_states(circuit, patch, w)
                out[b, :, i, j] = reference.expval_z(state, n)[0]
    return out


class TestProductState:
    def test_equals_ry_encoding_circuit(self):
        """The directly built product state equals the engine's RY encoding gates."""
        angles = torch.rand(6, 4, dtype=torch.float64) * torch.pi
        circuit = Circuit(4, AngleEncoder("Y").ops(4, 4), n_inputs=4)
        expected = evolve(circuit, angles, dtype=torch.complex128)
        torch.testing.assert_close(product_state(angles, torch.complex128), expected)

    def test_gradient_reaches_angles(self):
        """The state is differentiable with respect to the pixel angles."""
        angles = torch.rand(2, 3, dtype=torch.float64, requires_grad=True)
        product_state(angles, torch.complex128).abs().square()[:, 0, 0, 0].sum().backward()
        assert angles.grad is not None and angles.grad.abs().sum() > 0


class TestPatchCircuit:
    def test_fast_path_equals_gate_by_gate(self):
        """Outputs and weight gradients equal the parent QuantumLayer's gate-by-gate run."""
        layer = PatchCircuit(StronglyEntangling(), 4, 2, dtype=torch.complex128, generator=_gen())
        angles = torch.rand(9, 4, dtype=torch.float64) * torch.pi
        fast, slow = layer(angles), layer.gate_by_gate(angles)
        torch.testing.assert_close(fast, slow)
        (g_fast,) = torch.autograd.grad(fast.sum(), layer.weights)
        (g_slow,) = torch.autograd.grad(slow.sum(), layer.weights)
        torch.testing.assert_close(g_fast, g_slow)

    def test_hooks_see_every_patch_as_a_row(self):
        """A forward hook on the quantum layer (what export and info use) sees all patches."""
        quanv = Quanvolution(2, 2, generator=_gen())
        seen = []
        quanv.layer.register_forward_pre_hook(lambda mod, args: seen.append(args[0]))
        images = torch.rand(3, 6, 6)
        quanv(images)
        assert seen[0].shape == (3 * 9, 4)
        torch.testing.assert_close(seen[0][9 + 4], images[1, 2:4, 2:4].reshape(-1))


class TestQuanvolution:
    @pytest.mark.parametrize(("patch", "stride"), [(2, 2), (2, 1), (3, 2)])
    def test_batched_equals_per_patch_reference(self, patch, stride):
        """All patches in one engine call equal a dense per-patch loop over the full circuit."""
        quanv = Quanvolution(patch, stride, n_layers=2, dtype=torch.complex128, generator=_gen())
        images = torch.rand(2, 5, 6, dtype=torch.float64) * torch.pi
        expected = _reference_quanv(quanv, images.numpy())
        np.testing.assert_allclose(quanv(images).numpy(), expected, atol=1e-10)

    def test_one_engine_call_per_forward(self, monkeypatch):
        """A batch of images runs through the simulator in a single call, whatever its size."""
        calls = []
        real_run = layer_module.run
        monkeypatch.setattr(
            layer_module, "run", lambda *a, **k: calls.append(1) or real_run(*a, **k)
        )
        Quanvolution(2, 2, generator=_gen())(torch.rand(7, 28, 28))
        assert len(calls) == 1

    def test_output_shapes(self):
        """2x2 stride 2 halves 28x28 into 4 channels; 3x3 stride 1 gives 9 channels of 26x26."""
        images = torch.rand(2, 28, 28)
        assert Quanvolution(2, 2)(images).shape == (2, 4, 14, 14)
        assert Quanvolution(3, 1)(images).shape == (2, 9, 26, 26)

    def test_frozen_weights_are_not_trainable(self):
        """A frozen circuit's weights need no gradient and are not counted as parameters."""
        quanv = Quanvolution(2, 2, generator=_gen())
        assert not quanv.layer.weights.requires_grad and count_parameters(quanv) == 0

    @pytest.mark.parametrize("method", ["adjoint", "parameter-shift"])
    def test_trainable_gradients_match_backprop(self, method):
        """A trainable circuit's weight gradients agree across diff methods."""
        images = torch.rand(2, 4, 4, dtype=torch.float64) * torch.pi
        grads = []
        for m in ("backprop", method):
            quanv = Quanvolution(2, 2, trainable=True, dtype=torch.complex128, generator=_gen(3))
            maps = quanv(images, Execution(diff_method=m))
            (maps * torch.arange(4.0, dtype=torch.float64)[:, None, None]).sum().backward()
            grads.append(quanv.layer.weights.grad)
        assert grads[0].abs().sum() > 0
        torch.testing.assert_close(grads[0], grads[1])

    def test_other_ansatz(self):
        """Any ansatz of the circuit library can be slid over the patches."""
        quanv = Quanvolution(2, 1, ansatz=BasicEntangler(), dtype=torch.complex128)
        images = torch.rand(1, 3, 3, dtype=torch.float64)
        np.testing.assert_allclose(
            quanv(images).numpy(), _reference_quanv(quanv, images.numpy()), atol=1e-10
        )

    def test_window_larger_than_image(self):
        """A window that does not fit the image is a clear error."""
        with pytest.raises(CircuitError, match="does not fit"):
            Quanvolution(3, 1)(torch.rand(1, 2, 2))


class TestQuanvFeatures:
    def test_chunks_equal_one_pass(self):
        """Chunked dataset features equal the module applied to the whole stack."""
        quanv = Quanvolution(2, 2, generator=_gen())
        images = torch.rand(10, 8, 8) * torch.pi
        torch.testing.assert_close(quanv_features(images, quanv, chunk_size=3), quanv(images))

    def test_cache_hit_skips_simulation(self, tmp_path, monkeypatch):
        """The second call with the same circuit and data reads the cache, not the engine."""
        quanv = Quanvolution(2, 2, generator=_gen())
        images = torch.rand(5, 6, 6) * torch.pi
        first = quanv_features(images, quanv, cache_dir=tmp_path)
        assert len(list(tmp_path.glob("quanv-*.npy"))) == 1
        monkeypatch.setattr(layer_module, "run", lambda *a, **k: pytest.fail("simulated again"))
        torch.testing.assert_close(quanv_features(images, quanv, cache_dir=tmp_path), first)

    def test_cache_key_depends_on_weights_and_data(self, tmp_path):
        """Other weights or other images get their own cache file."""
        images = torch.rand(3, 4, 4)
        quanv_features(images, Quanvolution(generator=_gen(0)), cache_dir=tmp_path)
        quanv_features(images, Quanvolution(generator=_gen(1)), cache_dir=tmp_path)
        quanv_features(images + 0.1, Quanvolution(generator=_gen(0)), cache_dir=tmp_path)
        assert len(list(tmp_path.glob("quanv-*.npy"))) == 3

    def test_shots_estimate_the_exact_features(self):
        """With shots the features are sampled <Z> near the exact ones, and never cached."""
        quanv = Quanvolution(2, 2, dtype=torch.complex128, generator=_gen(2))
        shots = Execution(shots=20000, seed=0)
        images = torch.rand(2, 4, 4, dtype=torch.float64) * torch.pi
        diff = quanv(images, shots) - quanv(images)
        assert 0 < diff.abs().max() < 0.05
        with pytest.raises(CircuitError, match="not cached"):
            quanv_features(images, quanv, cache_dir="unused", execution=shots)

    def test_refuses_trainable(self):
        """Caching a trainable circuit would freeze it silently: refused."""
        with pytest.raises(CircuitError, match="trainable"):
            quanv_features(torch.rand(1, 4, 4), Quanvolution(trainable=True))


@pytest.fixture(scope="module")
def digits():
    """Digits 0, 1, 2 as pixel angles in [0, pi] (the quanv preprocessing)."""
    return prepare_data(DataSpec("digits", classes=[0, 1, 2], n_train=150, scale="angle"))


class TestQuanvNet:
    def test_registry_builds_quanvnet_from_config(self):
        """'quanv' builds a QuanvNet with the config's windows, layers and head."""
        cfg = ModelConfig(name="quanv", n_features=64, n_classes=3, n_layers=1, patch=3, stride=1)
        model = build_model(cfg, _gen())
        assert isinstance(model, QuanvNet) and model.quanv.n_qubits == 9
        assert model(torch.rand(2, 64)).shape == (2, 3)
        assert count_parameters(model) == 9 * 6 * 6 * 3 + 3  # frozen circuit: the head only

    def test_twin_is_the_same_head_on_raw_pixels(self):
        """With 2x2 stride 2, quanv and its twin have identical heads and parameter counts."""
        for hidden in (0, 16):
            sizes = {"n_features": 64, "n_classes": 10, "hidden": hidden}
            quanv = build_model(ModelConfig("quanv", n_layers=1, **sizes), _gen())
            twin = build_model(ModelConfig("quanv_twin", **sizes), _gen())
            assert count_parameters(quanv) == count_parameters(twin) == count_parameters(quanv.head)
            assert type(quanv.head) is type(twin)

    def test_trainable_counts_circuit_weights(self):
        """A trainable quanvolution adds its circuit weights to the trainable count."""
        cfg = ModelConfig(name="quanv", n_features=16, n_classes=2, n_layers=2, trainable=True)
        assert count_parameters(build_model(cfg, _gen())) == 2 * 4 * 3 + 16 * 2 + 2

    def test_non_square_features(self):
        """Features that are not a square image are refused with the count."""
        with pytest.raises(CircuitError, match="15 features are not S x S"):
            QuanvNet(15, 2)

    def test_learns_digits(self, digits):
        """A frozen QuanvNet trained by the common loop beats chance clearly on 3 digits."""
        cfg = ModelConfig(name="quanv", n_features=64, n_classes=3, n_layers=1)
        model = build_model(cfg, _gen())
        fit(model, digits.X_train, digits.y_train, TrainConfig(epochs=5, lr=0.05), progress=False)
        assert evaluate(model, digits.X_test, digits.y_test, 3)["accuracy"] > 0.8

    def test_model_file_keeps_the_frozen_circuit(self, digits, tmp_path):
        """Saving and loading restores the random circuit weights, so logits are identical."""
        cfg = ModelConfig(name="quanv", n_features=64, n_classes=3, n_layers=1)
        model = build_model(cfg, _gen(7))
        loaded = load_model(save_model(tmp_path / "m.safetensors", model, cfg)).model
        torch.testing.assert_close(loaded(digits.X_test[:5]), model(digits.X_test[:5]))
        assert torch.equal(loaded.quanv.layer.weights, model.quanv.layer.weights)

    def test_other_ansatz_through_config(self):
        """The config's ansatz name reaches the circuit."""
        cfg = ModelConfig(name="quanv", n_features=16, n_classes=2, ansatz="basic", n_layers=1)
        model = build_model(cfg, _gen())
        assert {op.gate for op in model.quanv.layer.ansatz_circuit.ops} == {"RX", "CNOT"}
        assert model.quanv.layer.weights.numel() == BasicEntangler().n_weights(1, 4)
