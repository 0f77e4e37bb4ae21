"""Random generators follow the state: one sampler, one rule, the same shots on every path."""

from __future__ import annotations

import pytest
import torch

from qimage.errors import CircuitError
from qimage.sim import Circuit, ExpvalZ, Op, Param, Probs, run
from qimage.sim.fusion import compile_plan
from qimage.sim.noise import NoiseModel
from qimage.sim.rng import check_generator, device_generator

CIRCUIT = Circuit(
    3,
    [
        Op("RY", 0, (Param.input(0),)),
        Op("CRX", (0, 1), (Param.weight(0),)),
        Op("H", 2),
        Op("CNOT", (1, 2)),
        Op("RZ", 2, (Param.weight(1),)),
        Op("RX", 1, (Param.scaled_input(1, 1),)),
    ],
)
X = torch.tensor([[0.3, 1.2], [2.0, -0.7]], dtype=torch.float64)
W = torch.tensor([0.8, -1.4], dtype=torch.float64)
# Noise on a gate the circuit lacks: the noisy engine runs, with the ideal distribution.
ABSENT = {"depolarizing": {"CZ": 0.3}}


def _shots(seed, measurement, noise=None, method="backprop", grad=False, generator=True):
    w = W.clone().requires_grad_(grad)
    gen = device_generator(seed, "cpu") if generator else None
    kw = {"noise": noise, "diff_method": method, "generator": gen, "dtype": torch.complex128}
    return run(CIRCUIT, X, w, measurement=measurement, shots=400, **kw).detach()


@pytest.mark.parametrize("measurement", [Probs(), ExpvalZ()])
@pytest.mark.parametrize("method", ["density", "trajectories"])
def test_same_seed_same_shots_through_measure_and_noise(measurement, method):
    """The noiseless sampler and the noise engine's sampler draw the same shots for a seed."""
    plain = _shots(5, measurement)
    noisy = _shots(5, measurement, NoiseModel(**ABSENT, method=method))
    torch.testing.assert_close(noisy, plain, atol=1e-12, rtol=0)
    assert not torch.equal(_shots(6, measurement), plain)  # the seed matters


@pytest.mark.parametrize("method", ["spsa", "parameter-shift"])
@pytest.mark.parametrize("noise", [None, NoiseModel(**ABSENT, method="density")])
def test_same_seed_same_shots_through_black_box_gradients(method, noise):
    """Differentiable runs (SPSA, parameter shift, noisy or not) measure the same shots."""
    plain = _shots(5, Probs())
    got = _shots(5, Probs(), noise, method=method, grad=True)
    torch.testing.assert_close(got, plain, atol=1e-12, rtol=0)


@pytest.mark.parametrize("noise", [None, NoiseModel(bit_flip=0.2, method="trajectories")])
def test_default_generator_of_the_state_device(noise):
    """Without a generator the draws come from the device's default generator."""
    seeded = _shots(9, Probs(), noise)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(9)
        default = _shots(None, Probs(), noise, generator=False)
    torch.testing.assert_close(default, seeded, atol=0, rtol=0)


def test_device_generator():
    """A seeded generator on the asked device, which draws like any generator so seeded."""
    gen = device_generator(3, torch.device("cpu"))
    assert gen.device == torch.device("cpu")
    want = torch.rand(5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.rand(5, generator=gen), want)


@pytest.mark.parametrize("state", ["cuda", "cuda:1", "meta"])
def test_mismatched_generator_refused(state):
    """A generator on another device than the state's is refused, naming both devices."""
    with pytest.raises(CircuitError, match=rf"generator is on cpu but the state is on {state}"):
        check_generator(device_generator(0), torch.device(state))
    assert check_generator(None, torch.device(state)) is None


def test_run_refuses_a_generator_on_another_device():
    """run checks the generator against its inputs' device before simulating."""
    x, w = X.to("meta"), W.to("meta")
    with pytest.raises(CircuitError, match="generator is on cpu but the state is on meta"):
        run(CIRCUIT, x, w, shots=10, generator=device_generator(0))


def test_plan_constants_are_copied_to_a_device_once():
    """A plan's slot indices and gathers are copied to a device on first use only."""
    plan = compile_plan(Circuit(10, [Op("RY", 0, (Param.weight(0),)), Op("CNOT", (0, 9))]))
    meta = torch.device("meta")
    first = plan.slot_sources(meta, torch.float32)
    assert all(t.device == meta for t in first)
    assert all(a is b for a, b in zip(first, plan.slot_sources(meta, torch.float32), strict=True))
    block = next(b for b in plan.blocks if b.kind == "permutation")
    assert block.gather(meta) is block.gather(meta) and block.gather(meta).device == meta
    assert plan.slot_sources(torch.device("cpu"), torch.float64)[0] is plan.x_index
