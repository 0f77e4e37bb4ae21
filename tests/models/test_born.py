"""The Born machine: its distances against hand computations and dense oracles, gradients
against finite differences and the reference simulator, sampling, learning, bad input."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

from qimage.data.bars import bars_and_stripes
from qimage.errors import CircuitError, MemoryLimitError
from qimage.models import ModelConfig, build_model
from qimage.models.born import BornMachine, born_sample, born_targets, index_bits
from qimage.models.families.born import (
    BORN_KL,
    BORN_MMD,
    SIGMAS,
    kernel_apply,
    kl_divergence,
    mmd2,
    total_variation,
)
from qimage.sim import Execution
from qimage.train import TrainConfig, fit
from tests import reference


def _dense_kernel(n: int) -> torch.Tensor:
    """``K[i, j] = mean_s exp(-hamming(i, j) / (2 s))`` by brute force."""
    bits = list(itertools.product((0, 1), repeat=n))
    return torch.tensor(
        [
            [
                np.mean(
                    [
                        math.exp(-sum(x != y for x, y in zip(a, b, strict=True)) / (2 * s))
                        for s in SIGMAS
                    ]
                )
                for b in bits
            ]
            for a in bits
        ],
        dtype=torch.float64,
    )


def _model(n=3, layers=2, conditions=1, seed=0, ansatz="hardware_efficient") -> BornMachine:
    g = torch.Generator().manual_seed(seed)
    return BornMachine(n, layers, ansatz, conditions, generator=g).double()


class TestDistances:
    def test_kernel_matches_the_dense_matrix(self):
        v = torch.randn(2, 8, dtype=torch.float64)
        torch.testing.assert_close(kernel_apply(v), v @ _dense_kernel(3).T)

    def test_mmd_of_two_point_masses_by_hand(self):
        """``MMD^2(d_a, d_b) = k(a,a) + k(b,b) - 2 k(a,b) = 2 - 2 mean_s exp(-h/2s)``."""
        p, q = torch.zeros(1, 16, dtype=torch.float64), torch.zeros(1, 16, dtype=torch.float64)
        p[0, 0b0000], q[0, 0b0111] = 1, 1  # Hamming distance 3
        expected = 2 - 2 * np.mean([math.exp(-3 / (2 * s)) for s in SIGMAS])
        assert mmd2(p, q).item() == pytest.approx(expected)

    def test_kl_and_tv_by_hand(self):
        q = torch.tensor([[0.5, 0.5, 0.0, 0.0]], dtype=torch.float64)
        p = torch.tensor([[0.25, 0.25, 0.25, 0.25]], dtype=torch.float64)
        assert kl_divergence(q, p).item() == pytest.approx(math.log(2))
        assert total_variation(p, q).item() == pytest.approx(0.5)

    def test_loss_compares_each_class_with_its_own_data(self):
        """Conditional targets ``label * 2^n + index``: the loss is the class-weighted sum."""
        p0 = torch.tensor([0.7, 0.1, 0.1, 0.1], dtype=torch.float64)
        p1 = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)
        outputs = torch.stack([p0, p0, p0, p1])
        targets = torch.tensor([0, 0, 3, 4 + 2])  # class 0: 00, 00, 11; class 1: 10
        q0 = torch.tensor([[2 / 3, 0, 0, 1 / 3]], dtype=torch.float64)
        q1 = torch.tensor([[0, 0, 1, 0]], dtype=torch.float64)
        mmd = 0.75 * mmd2(p0[None], q0) + 0.25 * mmd2(p1[None], q1)
        kl = 0.75 * kl_divergence(q0, p0[None]) + 0.25 * kl_divergence(q1, p1[None])
        assert BORN_MMD.loss(outputs, targets).item() == pytest.approx(mmd.item())
        assert BORN_KL.loss(outputs, targets).item() == pytest.approx(kl.item())
        report = BORN_MMD.report(outputs, targets, 2)
        assert report["kl"] == pytest.approx(kl.item())
        assert report["per_class"]["tv"] == pytest.approx(
            [(0.1 / 3 + 0.1 + 0.1 + 0.7 / 3) / 2, 0.7]
        )


class TestCircuit:
    def test_probabilities_match_the_reference_simulator(self):
        model = _model(3, 2, ansatz="strongly_entangling")
        x = model.inputs(n=2)
        angles = (x[:1] @ model.embedding).detach().numpy()
        circuit, weights = model.circuit.qc.circuit, model.circuit.weights.detach().numpy()
        states = reference.final_states(circuit, angles, weights)
        expected = reference.probs(states, 3)
        with torch.no_grad():
            got = model(x)
        np.testing.assert_allclose(got.numpy(), np.repeat(expected, 2, axis=0), atol=1e-10)

    @pytest.mark.parametrize("method", ["backprop", "adjoint", "parameter-shift"])
    def test_loss_gradient_matches_finite_differences(self, method):
        model = _model(3, 2, conditions=2)
        labels = torch.tensor([0, 1, 1, 0])
        targets = born_targets(torch.tensor([[0, 0, 1], [1, 1, 0], [1, 1, 1], [0, 0, 1]]), labels)
        x = model.inputs(labels)
        execution = Execution(diff_method=method)
        for objective in (BORN_MMD, BORN_KL):
            model.zero_grad()
            objective.loss(model(x, execution=execution), targets).backward()
            for param in model.parameters():
                numeric = torch.zeros_like(param)
                for i in range(param.numel()):
                    flat = param.data.view(-1)
                    values = []
                    for step in (1e-6, -2e-6):
                        flat[i] += step
                        with torch.no_grad():
                            values.append(objective.loss(model(x), targets).item())
                    flat[i] += 1e-6
                    numeric.view(-1)[i] = (values[0] - values[1]) / 2e-6
                torch.testing.assert_close(param.grad, numeric, atol=1e-6, rtol=1e-5)

    def test_shot_gradient_estimates_the_exact_one(self):
        """Parameter shift on shot frequencies (what hardware runs) is near the exact
        gradient with many shots, and differs from it with few."""
        model = _model(2, 1)
        targets = born_targets(torch.tensor([[0, 0], [1, 1]]))
        x = model.inputs(n=2)

        def grad(execution):
            model.zero_grad()
            BORN_MMD.loss(model(x, execution=execution), targets).backward()
            return torch.cat([p.grad.reshape(-1) for p in model.parameters()])

        exact = grad(Execution())
        many = grad(Execution(shots=200_000, seed=0, diff_method="parameter-shift"))
        few = grad(Execution(shots=20, seed=0, diff_method="parameter-shift"))
        assert (many - exact).abs().max() < 0.01
        assert (few - exact).abs().max() > (many - exact).abs().max()


class TestSampling:
    def test_exact_sample_frequencies_converge_to_the_distribution(self):
        model = _model(3, 2)
        with torch.no_grad():
            p = model(model.inputs(n=1))[0]
        bits = born_sample(model, 40_000, generator=torch.Generator().manual_seed(0))
        index = (bits.long() << torch.arange(2, -1, -1)).sum(1)
        freq = torch.bincount(index, minlength=8).double() / len(index)
        assert total_variation(freq[None], p[None]).item() < 0.01

    def test_shot_samples_converge_and_repeat_with_the_seed(self):
        model = _model(3, 2)
        with torch.no_grad():
            p = model(model.inputs(n=1))[0]
        a, b = (born_sample(model, 40_000, execution=Execution(seed=1, shots=1)) for _ in "ab")
        torch.testing.assert_close(a, b)
        freq = torch.bincount((a.long() << torch.arange(2, -1, -1)).sum(1), minlength=8)
        assert total_variation(freq[None].double() / len(a), p[None]).item() < 0.01

    def test_index_bits_round_trip(self):
        bits = index_bits(torch.arange(16), 4)
        assert bits[5].tolist() == [0, 1, 0, 1]
        assert born_targets(bits).tolist() == list(range(16))


class TestLearning:
    def test_bars_and_stripes_2x2_is_learned_to_low_kl(self):
        bits = torch.as_tensor(bars_and_stripes(2, 2).reshape(-1, 4))
        model = build_model(
            ModelConfig("born", n_features=4, n_classes=1, n_layers=3),
            torch.Generator().manual_seed(0),
        ).double()
        targets = born_targets(bits)
        x = model.inputs(n=len(targets))
        with torch.no_grad():
            before = BORN_KL.loss(model(x), targets).item()
        config = TrainConfig(epochs=120, batch_size=6, lr=0.2, schedule="none", val_fraction=0)
        fit(model, x, targets, config, execution=Execution(), objective=BORN_KL, progress=False)
        with torch.no_grad():
            after = BORN_KL.report(model(x), targets, 1)
        assert before > 1.0
        assert after["kl"] < 0.1 and after["tv"] < 0.15


class TestBadInput:
    def test_pixels_that_are_not_bits(self):
        with pytest.raises(CircuitError, match="0/1 pixels"):
            born_targets(torch.tensor([[0, 2, 1]]))

    def test_a_label_the_model_was_not_conditioned_on(self):
        model = _model(2, 1, conditions=3)
        with pytest.raises(CircuitError, match="label 3 is not one the model was conditioned"):
            born_sample(model, 4, label=3)
        with pytest.raises(CircuitError, match="give a label"):
            born_sample(model, 4)
        with pytest.raises(CircuitError, match="not conditioned on classes"):
            born_sample(_model(2, 1), 4, label=0)

    def test_too_many_qubits_for_memory(self, monkeypatch):
        monkeypatch.setenv("QIMAGE_MAX_MEMORY", "1MiB")
        with pytest.raises(MemoryLimitError, match="a Born machine on 16 pixels"):
            BornMachine(16, 1)

    def test_config_is_checked(self):
        with pytest.raises(CircuitError, match="unknown ansatz"):
            ModelConfig("born", ansatz="nope")
        with pytest.raises(CircuitError, match="do not fill 3 rows"):
            build_model(ModelConfig("born", n_features=4, n_classes=1, rows=3))
