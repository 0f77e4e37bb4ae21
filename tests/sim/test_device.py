"""Devices: every tensor the engine makes follows its inputs, and generators follow the state.

The placement test runs the engine on CPU inputs while PyTorch's default device is ``meta``:
a tensor made without an explicit device is then a meta tensor, which has no values, so
mixing it with the CPU inputs raises, and any meta tensor that slipped into a result could
not reproduce the values computed under the ordinary default. Every cache of the engine is
cleared on the way in, so that plans and recipes are built under the meta default too.
"""

from __future__ import annotations

import contextlib
import sys

import pytest
import torch

from qimage.sim import (
    GATES,
    Circuit,
    Expval,
    ExpvalZ,
    Op,
    Param,
    Probs,
    amplitude_state,
    evolve,
    run,
)
from qimage.sim.noise import NoiseModel

C128 = torch.complex128
N = 5
CPU = {"dtype": torch.float64, "device": "cpu"}  # test data: never on the default device


def _params(gate: str, k: int) -> tuple[Param, ...]:
    """Every kind of parameter source, in turn."""
    kinds = (
        lambda: Param.input(k % 2, scale=1.3),
        lambda: Param.weight(k % 4),
        lambda: Param.scaled_input(1, (k + 1) % 4),
        lambda: Param.const(0.7),
    )
    return tuple(kinds[(k + j) % 4]() for j in range(GATES[gate].n_params))


def _every_gate(n: int = N) -> Circuit:
    """Each gate of the table twice, on neighbouring wires in both orders, gates on scattered
    wires, and a CNOT ring."""
    ops = []
    for k, name in enumerate([*GATES, *GATES]):
        width = GATES[name].n_wires or 3
        step = 1 if k % 2 else -1
        ops.append(Op(name, tuple((k + j * step) % n for j in range(width)), _params(name, k)))
    ops += [Op("CRY", (0, n - 1), _params("CRY", 1)), Op("SWAP", (n - 1, 1))]
    ops += [Op("IsingXX", (0, 2), _params("IsingXX", 2)), Op("CZ", (3, 0))]
    ops += [Op("CNOT", (q, (q + 1) % n)) for q in range(n)]
    return Circuit(n, ops, n_inputs=2, n_weights=4)


def _small() -> Circuit:
    """A few gates of each kind and parameter source on 3 qubits (noise is costly)."""
    x0, x1, w = Param.input(0), Param.scaled_input(1, 2), Param.weight
    ops = [
        Op("RX", 0, (x0,)),
        Op("H", 1),
        Op("CRY", (1, 2), (w(0),)),
        Op("CNOT", (0, 2)),
        Op("Rot", 2, (w(1), x1, Param.const(0.4))),
        Op("IsingZZ", (0, 1), (w(3),)),
        Op("X", 1),
        Op("MultiRZ", (0, 1, 2), (w(2),)),
    ]
    return Circuit(3, ops, n_inputs=2, n_weights=4)


def _trainable(n: int = 3) -> Circuit:
    """Weights only: on a prepared batch of 32 it runs batch-last."""
    ops = [Op("RY", q, (Param.weight(q),)) for q in range(n)]
    ops += [Op("CRX", (0, 2), (Param.weight(n),)), Op("CNOT", (2, 0)), Op("SWAP", (0, 1))]
    return Circuit(n, ops, n_weights=n + 1)


def _inputs(batch: int = 3):
    x = torch.linspace(-2.0, 2.5, 2 * batch, **CPU).reshape(batch, 2)
    w = torch.tensor([0.3, -1.1, 0.8, 2.0], **CPU)
    return x.requires_grad_(True), w.requires_grad_(True)


def _grads(out: torch.Tensor, *leaves) -> list[torch.Tensor]:
    cot = torch.arange(out.numel(), dtype=out.dtype, device=out.device).reshape(out.shape)
    return [out, *torch.autograd.grad((out * cot).sum(), leaves)]


def _exact(method: str, measurement):
    def case():
        x, w = _inputs()
        gen = torch.Generator().manual_seed(2)  # SPSA's signs
        out = run(_every_gate(), x, w, measurement=measurement, diff_method=method, generator=gen)
        return _grads(out, x, w)

    return case


def _shots(method: str | None, measurement):
    def case():
        x, w = _inputs()
        x, w = (x, w) if method else (x.detach(), w.detach())  # inference only
        out = run(
            _every_gate(),
            x,
            w,
            measurement=measurement,
            diff_method=method or "backprop",
            shots=300,
            generator=torch.Generator().manual_seed(3),
            dtype=C128,
        )
        return [out] if method is None else _grads(out, x, w)

    return case


def _amplitude(method: str):
    def case():
        feats = torch.linspace(0.1, 1.0, 32 * 6, **CPU).reshape(32, 6)
        feats.requires_grad_(method != "parameter-shift")  # shift rules cannot reach it
        w = torch.tensor([0.2, -0.4, 1.3, 0.9], **CPU, requires_grad=True)
        state = amplitude_state(feats, 3, dtype=C128)
        out = run(_trainable(), None, w, state=state, diff_method=method, dtype=C128)
        return _grads(out, feats, w) if method != "parameter-shift" else _grads(out, w)

    return case


def _noisy(method: str, diff: str, measurement, shots=None):
    def case():
        x, w = _inputs(2)
        channels = {"depolarizing": 0.03, "bit_flip": 0.02, "phase_damping": 0.05}
        if method == "density":
            channels["amplitude_damping"] = 0.04
        readout = (0.0, 0.0) if isinstance(measurement, Expval) else (0.02, 0.05)
        out = run(
            _small(),
            x,
            w,
            measurement=measurement,
            diff_method=diff,
            noise=NoiseModel(**channels, readout=readout, method=method),
            shots=shots,
            generator=torch.Generator().manual_seed(4),
            dtype=C128,
        )
        return _grads(out, x, w)

    return case


def _evolve():
    x, w = _inputs()
    return _grads(evolve(_every_gate(), x, w).real, x, w)


WORDS = Expval(("XYZIZ", "ZZIYX"))
CASES = {
    **{
        f"{m}-{type(meas).__name__}": _exact(m, meas)
        for m in ("backprop", "adjoint", "parameter-shift", "spsa")
        for meas in (ExpvalZ(), Probs((0, 3)), WORDS)
    },
    **{
        f"shots-{m}-{type(meas).__name__}": _shots(m, meas)
        for m in (None, "parameter-shift", "spsa")
        for meas in (ExpvalZ((1, 2)), Probs((4, 0)), WORDS)
    },
    **{f"amplitude-{m}": _amplitude(m) for m in ("backprop", "adjoint", "parameter-shift")},
    **{
        f"noise-{method}-{diff}-{type(meas).__name__}": _noisy(method, diff, meas)
        for method in ("density", "trajectories")
        for diff in ("backprop", "parameter-shift", "spsa")
        for meas in (ExpvalZ(), Probs((1, 2)), Expval(("XYZ",)))
    },
    **{
        f"noise-{method}-shots-{diff}": _noisy(method, diff, Probs(), shots=200)
        for method in ("density", "trajectories")
        for diff in ("parameter-shift", "spsa")
    },
    "evolve": _evolve,
}


def _clear_caches() -> None:
    """Clear every ``functools`` cache of the engine's modules (plans, recipes, indices)."""
    for name, module in list(sys.modules.items()):
        if name.startswith("qimage.sim"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def _functions() -> list[type]:
    """The engine's ``torch.autograd.Function`` classes."""
    found = set()
    for name, module in list(sys.modules.items()):
        if name.startswith("qimage.sim"):
            for value in vars(module).values():
                if isinstance(value, type) and issubclass(value, torch.autograd.Function):
                    found.add(value)
    return sorted(found - {torch.autograd.Function}, key=lambda f: f.__qualname__)


def _meta_backward(backward):
    """``backward`` run under a meta default device: autograd runs backward passes outside
    the caller's default-device mode, so without this they would escape the check."""

    def wrapped(ctx, *grads):
        with torch.device("meta"):
            return backward(ctx, *grads)

    return staticmethod(wrapped)


@contextlib.contextmanager
def meta_default():
    """PyTorch's default device set to ``meta`` in forward and backward passes (restored
    afterwards), caches cleared."""
    previous = torch.get_default_device()
    saved = {f: f.__dict__["backward"] for f in _functions() if "backward" in f.__dict__}
    _clear_caches()
    for function, backward in saved.items():
        function.backward = _meta_backward(backward.__func__)
    torch.set_default_device("meta")
    try:
        yield
    finally:
        torch.set_default_device(None if previous == torch.device("cpu") else previous)
        for function, backward in saved.items():
            function.backward = backward
        _clear_caches()


def test_meta_default_catches_a_tensor_made_without_a_device():
    """The check itself works: a factory call without a device breaks a CPU computation."""
    x = torch.ones(3, **CPU)
    with meta_default(), pytest.raises((RuntimeError, NotImplementedError)):
        (x * torch.ones(3, dtype=torch.float64)).tolist()
    assert torch.ones(1).device == torch.device("cpu")


def test_meta_default_reaches_backward_passes():
    """Backward passes of the engine's autograd functions see the meta default too."""
    from qimage.sim.shift import ParameterShift

    seen = []
    original = ParameterShift.__dict__["backward"]

    def spy(ctx, grad):
        seen.append(torch.empty(0).device)
        return original.__func__(ctx, grad)

    ParameterShift.backward = staticmethod(spy)
    try:
        with meta_default():
            w = torch.tensor([0.4, 0.1, -0.3, 0.9], **CPU, requires_grad=True)
            out = run(_trainable(), None, w, diff_method="parameter-shift")
            torch.autograd.grad(out.sum(), w)
    finally:
        ParameterShift.backward = original
    assert seen == [torch.device("meta")] and len(_functions()) >= 5


@pytest.mark.parametrize("case", list(CASES))
def test_every_tensor_follows_the_inputs(case):
    """Each path of the engine gives, under a meta default device, exactly what it gives
    under the CPU default, on the CPU: no tensor was made on the default device."""
    want = CASES[case]()
    with meta_default():
        got = CASES[case]()
    for g, w in zip(got, want, strict=True):
        assert g.device == torch.device("cpu")
        torch.testing.assert_close(g, w, atol=1e-12, rtol=0)
