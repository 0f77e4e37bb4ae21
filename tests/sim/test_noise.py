"""Noise: density matrices against PennyLane's default.mixed, trajectories, readout error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import reference
import torch

from qimage.errors import CircuitError
from qimage.sim import Circuit, Expval, ExpvalZ, Op, Param, Probs, zero_state
from qimage.sim.noise import CHANNELS, NoiseModel, kraus, noisy_run

C128 = torch.complex128


def _run(circuit, x, w, noise, measurement=None, **kw):
    state = zero_state(1, circuit.n_qubits, dtype=C128)
    return noisy_run(
        circuit,
        torch.tensor(x),
        torch.tensor(w),
        noise,
        measurement or ExpvalZ(),
        state,
        C128,
        **kw,
    )


def _data(rng, circuit, batch=2):
    return rng.uniform(-3, 3, (batch, circuit.n_inputs)), rng.uniform(-3, 3, circuit.n_weights)


class TestChannels:
    @pytest.mark.parametrize("channel", CHANNELS)
    def test_kraus_operators_are_complete(self, channel):
        """sum K^dagger K = I for every channel and rate."""
        for p in (0.0, 0.3, 1.0):
            total = sum(k.conj().T @ k for k in kraus(channel, p))
            torch.testing.assert_close(total, torch.eye(2, dtype=C128))

    def test_parse(self):
        """The command-line form sets default and per-gate rates, readout and method."""
        noise = NoiseModel.parse(
            "depolarizing=0.001,depolarizing.CNOT=0.01,readout=0.02:0.03,method=density"
        )
        assert (
            noise.rate("depolarizing", "RY") == 0.001 and noise.rate("depolarizing", "CNOT") == 0.01
        )
        assert noise.readout == (0.02, 0.03) and noise.method == "density"

    @pytest.mark.parametrize("text", ["depolarizing=2", "nonsense=0.1", "depolarizing=abc", "x"])
    def test_bad_settings(self, text):
        """Impossible or unknown settings are refused with a clear message."""
        with pytest.raises(CircuitError):
            NoiseModel.parse(text)


qml = pytest.importorskip("pennylane")
PL_CHANNELS = {
    "depolarizing": "DepolarizingChannel",
    "amplitude_damping": "AmplitudeDamping",
    "phase_damping": "PhaseDamping",
    "bit_flip": "BitFlip",
}


def _pennylane(circuit, x, w, noise: NoiseModel, kind="expval"):
    from test_pennylane import PL_OPS

    dev = qml.device("default.mixed", wires=circuit.n_qubits)

    @qml.qnode(dev)
    def qnode(xr):
        for op in circuit.ops:
            angles = [reference.angle(p, xr, w) for p in op.params]
            getattr(qml, PL_OPS[op.gate])(*angles, wires=list(op.wires))
            for channel, name in PL_CHANNELS.items():
                rate = noise.rate(channel, op.gate)
                for q in op.wires if rate else ():
                    getattr(qml, name)(rate, wires=q)
        for q in range(circuit.n_qubits) if noise.readout[0] else ():
            qml.BitFlip(noise.readout[0], wires=q)  # symmetric readout error = final bit flip
        if kind == "probs":
            return qml.probs(wires=range(circuit.n_qubits))
        return [qml.expval(qml.PauliZ(q)) for q in range(circuit.n_qubits)]

    return np.array([np.asarray(qnode(row), dtype=float).ravel() for row in x])


@pytest.mark.pennylane
class TestAgainstDefaultMixed:
    @pytest.mark.parametrize("n", [1, 2, 3, 4])
    def test_random_circuits_all_channels(self, n, rng):
        """<Z> and probabilities equal default.mixed's with every channel and per-gate rates."""
        noise = NoiseModel(
            depolarizing={"default": 0.02, "CNOT": 0.05},
            amplitude_damping=0.03,
            phase_damping=0.04,
            bit_flip=0.01,
            readout=(0.02, 0.02),
            method="density",
        )
        circuit = reference.random_circuit(rng, n, 10)
        x, w = _data(rng, circuit)
        np.testing.assert_allclose(
            _run(circuit, x, w, noise).numpy(), _pennylane(circuit, x, w, noise), atol=1e-10
        )
        np.testing.assert_allclose(
            _run(circuit, x, w, noise, Probs()).numpy(),
            _pennylane(circuit, x, w, noise, "probs"),
            atol=1e-10,
        )

    def test_noise_free_model_is_the_ideal_circuit(self, rng):
        """With every rate at zero, the density engine reproduces the statevector engine."""
        from qimage.sim import run

        circuit = reference.random_circuit(rng, 3, 12)
        x, w = _data(rng, circuit)
        got = _run(circuit, x, w, NoiseModel(method="density"), Expval(("XYZ", "ZZI")))
        want = run(
            circuit,
            torch.tensor(x),
            torch.tensor(w),
            dtype=C128,
            measurement=Expval(("XYZ", "ZZI")),
        )
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)


class TestReadoutAndShots:
    def test_readout_error_formula(self):
        """On |0> and |1>, readout error gives <Z> = 1 - 2 P(1|0) and -(1 - 2 P(0|1))."""
        circuit = Circuit(2, [Op("X", 1)])
        noise = NoiseModel(readout=(0.1, 0.25), method="density")
        got = _run(circuit, np.zeros((1, 0)), np.zeros(0), noise)[0]
        torch.testing.assert_close(got, torch.tensor([1 - 0.2, -(1 - 0.5)], dtype=torch.float64))

    def test_shots_under_noise(self, rng):
        """Shot estimates under noise are seeded and within 5 standard errors of exact."""
        circuit = reference.random_circuit(rng, 3, 10)
        x, w = _data(rng, circuit, batch=3)
        noise = NoiseModel(depolarizing=0.05, readout=(0.03, 0.03))
        exact = _run(circuit, x, w, noise)
        a = _run(circuit, x, w, noise, shots=20000, generator=torch.Generator().manual_seed(2))
        b = _run(circuit, x, w, noise, shots=20000, generator=torch.Generator().manual_seed(2))
        assert torch.equal(a, b)
        assert torch.all((a - exact).abs() <= 5 * torch.sqrt((1 - exact**2) / 20000) + 1e-9)


class TestTrajectories:
    def test_average_converges_to_density(self, rng):
        """The mean over many Pauli trajectories approaches the density-matrix result."""
        circuit = reference.random_circuit(rng, 3, 12)
        x, w = _data(rng, circuit, batch=1)
        noise = {"depolarizing": 0.05, "bit_flip": 0.03, "phase_damping": 0.1}
        exact = _run(circuit, x, w, NoiseModel(**noise, method="density"))
        many = np.repeat(x, 4000, axis=0)
        traj = _run(
            circuit,
            many,
            w,
            NoiseModel(**noise, method="trajectories"),
            generator=torch.Generator().manual_seed(0),
        )
        assert torch.all((traj.mean(0) - exact[0]).abs() < 0.05)
        assert traj.std(0).max() > 0  # trajectories really differ

    def test_amplitude_damping_needs_density(self, rng):
        """Trajectories refuse a non-Pauli channel with a clear message."""
        circuit = Circuit(1, [Op("RX", 0, (Param.weight(0),))])
        with pytest.raises(CircuitError, match="not a Pauli channel"):
            _run(
                circuit,
                np.zeros((1, 0)),
                np.ones(1),
                NoiseModel(amplitude_damping=0.1, method="trajectories"),
            )


class TestGradients:
    @pytest.mark.parametrize("method", ["density", "trajectories"])
    def test_gradients_finite_and_match_finite_differences(self, method, rng):
        """Backprop through noisy simulation is finite; density gradients match differences."""
        circuit = reference.random_circuit(rng, 3, 10)
        x, w0 = _data(rng, circuit, batch=2)
        noise = NoiseModel(depolarizing=0.05, bit_flip=0.02, readout=(0.01, 0.01), method=method)
        w = torch.tensor(w0, requires_grad=True)

        def loss(weights):
            out = noisy_run(
                circuit,
                torch.tensor(x),
                weights,
                noise,
                ExpvalZ(),
                zero_state(1, 3, dtype=C128),
                C128,
                generator=torch.Generator().manual_seed(0),
            )
            return (out * torch.arange(1, 4)).sum()

        (grad,) = torch.autograd.grad(loss(w), w)
        assert torch.isfinite(grad).all()
        if method == "density":
            eps = 1e-6
            fd = torch.stack(
                [
                    (loss(w.detach() + eps * e) - loss(w.detach() - eps * e)) / (2 * eps)
                    for e in torch.eye(len(w0), dtype=torch.float64)
                ]
            )
            torch.testing.assert_close(grad, fd, atol=1e-6, rtol=0)

    def test_full_damping_keeps_gradients_finite(self):
        """Even complete amplitude damping gives finite (zero) gradients, not NaN."""
        circuit = Circuit(1, [Op("RY", 0, (Param.weight(0),))])
        w = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
        out = noisy_run(
            circuit,
            None,
            w,
            NoiseModel(amplitude_damping=1.0),
            ExpvalZ(),
            zero_state(1, 1, dtype=C128),
            C128,
        )
        (grad,) = torch.autograd.grad(out.sum(), w)
        assert torch.isfinite(grad).all() and math.isclose(out.item(), 1.0)


class TestRunIntegration:
    """run(noise=...) and the black-box gradient methods (parameter shift, SPSA)."""

    def _setup(self, rng, n=3):
        circuit = reference.random_circuit(rng, n, 10)
        x, w = _data(rng, circuit, batch=2)
        return circuit, torch.tensor(x), torch.tensor(w, requires_grad=True)

    def test_run_with_noise_equals_noisy_run(self, rng):
        """run(noise=...) gives what the noise engine gives."""
        from qimage.sim import run

        circuit, x, w = self._setup(rng)
        noise = NoiseModel(depolarizing=0.03, readout=(0.02, 0.02))
        got = run(circuit, x, w, noise=noise, dtype=C128)
        want = noisy_run(circuit, x, w, noise, ExpvalZ(), zero_state(1, 3, dtype=C128), C128)
        torch.testing.assert_close(got, want)

    @pytest.mark.parametrize("method", ["density", "trajectories"])
    def test_parameter_shift_equals_backprop_under_noise(self, rng, method):
        """Shift-rule gradients of a noisy circuit equal autograd's (same trajectories)."""
        from qimage.sim import run

        circuit, x, w = self._setup(rng)
        noise = NoiseModel(depolarizing=0.05, phase_damping=0.02, method=method)
        grads = []
        for diff in ("backprop", "parameter-shift"):
            out = run(
                circuit,
                x,
                w,
                noise=noise,
                diff_method=diff,
                dtype=C128,
                generator=torch.Generator().manual_seed(0),
            )
            if method == "trajectories":
                out = out.mean(0, keepdim=True)
            grads.append(torch.autograd.grad(out.sum(), w)[0])
        if method == "density":
            torch.testing.assert_close(grads[0], grads[1], atol=1e-10, rtol=0)
        else:
            assert torch.isfinite(grads[1]).all()

    def test_adjoint_refuses_noise(self, rng):
        """The adjoint method says it needs a unitary circuit."""
        from qimage.sim import run

        circuit, x, w = self._setup(rng)
        with pytest.raises(CircuitError, match="adjoint method needs a unitary"):
            run(circuit, x, w, noise=NoiseModel(depolarizing=0.1), diff_method="adjoint")


class TestSPSA:
    def test_unbiased_on_average(self, rng):
        """The mean of many SPSA estimates approaches the exact gradient."""
        from qimage.sim import run

        circuit = Circuit(
            2,
            [
                Op("RY", 0, (Param.weight(0),)),
                Op("CRX", (0, 1), (Param.weight(1),)),
                Op("RZ", 1, (Param.weight(2),)),
                Op("RX", 1, (Param.weight(3),)),
            ],
        )
        w = torch.tensor([0.4, 1.1, -0.7, 0.3], dtype=torch.float64, requires_grad=True)
        exact = torch.autograd.grad(run(circuit, None, w, dtype=C128).sum(), w)[0]
        gen = torch.Generator().manual_seed(0)
        estimates = torch.stack(
            [
                torch.autograd.grad(
                    run(circuit, None, w, dtype=C128, diff_method="spsa", generator=gen).sum(), w
                )[0]
                for _ in range(3000)
            ]
        )
        # SPSA estimates a gradient smoothed over +-0.1 rad: bias O(0.1^2), noise O(1/sqrt(n))
        torch.testing.assert_close(estimates.mean(0), exact, atol=0.05, rtol=0)
        assert estimates.std(0).max() > 0.01  # it is an estimate, not the exact value

    def test_prepared_states_with_shared_angles(self, rng):
        """A batch of prepared states (amplitude encoding: no gate reads an input) runs
        under SPSA, each state its own row, as every other diff method does."""
        from qimage.sim import amplitude_state, run

        circuit = Circuit(2, [Op("RY", 0, (Param.weight(0),)), Op("CNOT", (0, 1))], n_weights=1)
        state = amplitude_state(torch.rand(3, 4, dtype=torch.float64), 2, dtype=C128)
        w = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
        gen = torch.Generator().manual_seed(0)
        out = run(circuit, None, w, state=state, diff_method="spsa", generator=gen, dtype=C128)
        torch.testing.assert_close(out, run(circuit, None, w.detach(), state=state, dtype=C128))
        (grad,) = torch.autograd.grad(out.sum(), w)
        assert grad.shape == (1,) and torch.isfinite(grad).all()

    def test_with_shots_and_noise(self, rng):
        """SPSA works under shots and noise, reproducibly for a seed."""
        from qimage.sim import run

        circuit = reference.random_circuit(rng, 2, 8)
        x, w0 = _data(rng, circuit, batch=3)
        w = torch.tensor(w0, requires_grad=True)

        def grad(seed):
            out = run(
                circuit,
                torch.tensor(x),
                w,
                shots=500,
                diff_method="spsa",
                noise=NoiseModel(depolarizing=0.02),
                generator=torch.Generator().manual_seed(seed),
                dtype=C128,
            )
            return torch.autograd.grad(out.sum(), w)[0]

        assert torch.equal(grad(1), grad(1)) and torch.isfinite(grad(2)).all()
