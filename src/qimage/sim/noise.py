"""Noise: a batched density-matrix engine, Pauli-channel trajectories, and readout error.

A :class:`NoiseModel` says which channels follow every gate, on each wire the gate touches,
with rates that may depend on the gate type, plus a readout error. Two ways to simulate it:

* **density matrices** (``method="density"``): ``rho`` is a ``(B, 2, ..., 2)`` tensor with
  ``2n`` axes (rows then columns), evolved as ``U rho U^dagger`` by applying the same
  kernels as the statevector engine to the row wires and their conjugate to the column wires.
  Exact, any channel; memory ``B 4^n``, so up to about 10-12 qubits.
* **trajectories** (``method="trajectories"``): statevectors with random Pauli errors drawn
  per sample after every gate; the average over samples (or repeated runs) is the noisy
  expectation. Only for Pauli channels (depolarizing, bit flip, and phase damping, which
  equals a phase flip of probability ``(1 - sqrt(1 - gamma)) / 2``); memory ``B 2^n``.

Channels use PennyLane's conventions (``DepolarizingChannel``, ``AmplitudeDamping``,
``PhaseDamping``, ``BitFlip``); readout error flips each measured bit with probability
``P(1|0)`` or ``P(0|1)``. Everything is differentiable by autograd (``backprop``).

Example:
    >>> noise = NoiseModel(depolarizing=0.01, readout=(0.02, 0.02))
    >>> noise.rate("depolarizing", "CNOT")
    0.01
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

import torch

from qimage.errors import CircuitError
from qimage.sim.circuit import Circuit
from qimage.sim.gates import GATES
from qimage.sim.kernels import KERNELS, Dense
from qimage.sim.measure import (
    Expval,
    ExpvalZ,
    Probs,
    _check_wires,
    _parse_word,
    sample_distribution,
)
from qimage.sim.placement import HOST
from qimage.sim.rng import check_generator

__all__ = ["CHANNELS", "NoiseModel", "kraus", "noisy_evaluate", "noisy_run", "slot_angles"]

CHANNELS = ("depolarizing", "amplitude_damping", "phase_damping", "bit_flip")
PAULI_CHANNELS = ("depolarizing", "bit_flip", "phase_damping")
_DENSITY_QUBIT_LIMIT = 12


def kraus(channel: str, p: float, device=HOST) -> list[torch.Tensor]:
    """Kraus operators ``(2, 2)`` complex128 of a one-qubit channel with rate ``p``."""
    kw = {"dtype": torch.complex128, "device": device}
    i2 = torch.eye(2, **kw)
    x = torch.tensor([[0, 1], [1, 0]], **kw)
    y = torch.tensor([[0, -1j], [1j, 0]], **kw)
    z = torch.tensor([[1, 0], [0, -1]], **kw)
    if channel == "depolarizing":
        return [math.sqrt(1 - p) * i2, *(math.sqrt(p / 3) * s for s in (x, y, z))]
    if channel == "bit_flip":
        return [math.sqrt(1 - p) * i2, math.sqrt(p) * x]
    if channel == "amplitude_damping":
        return [
            torch.tensor([[1, 0], [0, math.sqrt(1 - p)]], **kw),
            torch.tensor([[0, math.sqrt(p)], [0, 0]], **kw),
        ]
    if channel == "phase_damping":
        return [
            torch.tensor([[1, 0], [0, math.sqrt(1 - p)]], **kw),
            torch.tensor([[0, 0], [0, math.sqrt(p)]], **kw),
        ]
    raise CircuitError(f"unknown channel {channel!r}; choose one of {CHANNELS}")


def _pauli_mixture(channel: str, p: float) -> list[tuple[float, str]]:
    """A Pauli channel as ``[(probability, Pauli letter), ...]``."""
    if channel == "depolarizing":
        return [(1 - p, "I"), (p / 3, "X"), (p / 3, "Y"), (p / 3, "Z")]
    if channel == "bit_flip":
        return [(1 - p, "I"), (p, "X")]
    flip = (1 - math.sqrt(1 - p)) / 2  # phase damping = phase flip with this probability
    return [(1 - flip, "I"), (flip, "Z")]


@dataclass(frozen=True)
class NoiseModel:
    """Channels after every gate (on each wire it touches) and a readout error.

    Each rate is a number, or a dict from gate name to rate with an optional ``"default"``
    (e.g. ``{"CNOT": 1e-2, "default": 1e-3}``). ``readout`` is ``(P(1|0), P(0|1))``.
    ``method`` is ``"density"``, ``"trajectories"`` or ``"auto"`` (density up to 10 qubits).
    """

    depolarizing: float | dict = 0.0
    amplitude_damping: float | dict = 0.0
    phase_damping: float | dict = 0.0
    bit_flip: float | dict = 0.0
    readout: tuple[float, float] = (0.0, 0.0)
    method: str = "auto"
    _rates: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for channel in CHANNELS:
            rates = getattr(self, channel)
            values = rates.values() if isinstance(rates, dict) else [rates]
            if any(not 0 <= float(v) <= 1 for v in values):
                raise CircuitError(f"{channel} rates must lie in [0, 1], got {rates!r}")
        if len(self.readout) != 2 or any(not 0 <= float(v) <= 1 for v in self.readout):
            raise CircuitError(f"readout must be (P(1|0), P(0|1)) in [0, 1], got {self.readout!r}")
        if self.method not in ("auto", "density", "trajectories"):
            raise CircuitError("noise method must be 'auto', 'density' or 'trajectories'")

    def rate(self, channel: str, gate: str) -> float:
        rates = getattr(self, channel)
        if isinstance(rates, dict):
            return float(rates.get(gate, rates.get("default", 0.0)))
        return float(rates)

    @property
    def is_ideal(self) -> bool:
        gates = [*GATES, "default"]
        no_channels = all(self.rate(c, g) == 0 for c in CHANNELS for g in gates)
        return no_channels and not any(self.readout)

    def resolve_method(self, n_qubits: int) -> str:
        if self.method != "auto":
            return self.method
        return "density" if n_qubits <= 10 else "trajectories"

    @classmethod
    def parse(cls, text: str) -> NoiseModel:
        """From the command line: ``"depolarizing=0.01,readout=0.02,method=density"``.

        ``readout=p`` is symmetric; ``readout=p01:p10`` sets both; ``CHANNEL.GATE=p`` sets
        one gate type's rate (``depolarizing.CNOT=0.01``).
        """
        fields: dict = {}
        for item in filter(None, (s.strip() for s in text.split(","))):
            match = re.fullmatch(r"([a-z_]+)(?:\.(\w+))?=([\w.:+-]+)", item)
            if not match:
                raise CircuitError(f"cannot read noise setting {item!r} (try depolarizing=0.01)")
            name, gate, value = match.groups()
            _set(fields, name, gate, value)
        return cls(**fields)


def _set(fields: dict, name: str, gate: str | None, value: str) -> None:
    if name not in (*CHANNELS, "readout", "method"):
        raise CircuitError(
            f"unknown noise setting {name!r}; use {', '.join(CHANNELS)}, readout or method"
        )
    if name == "method":
        fields["method"] = value
        return
    try:
        numbers = [float(v) for v in value.split(":")]
    except ValueError:
        raise CircuitError(f"noise setting {name}={value!r} is not a number") from None
    if name == "readout":
        fields["readout"] = (numbers[0], numbers[-1])
        return
    current = fields.get(name, {} if gate else 0.0)
    if gate is None:
        fields[name] = (
            {**current, "default": numbers[0]} if isinstance(current, dict) else numbers[0]
        )
    else:
        current = current if isinstance(current, dict) else {"default": current}
        fields[name] = {**current, gate: numbers[0]}


# --- evolution -------------------------------------------------------------------------------


def op_angles(circuit: Circuit, slots: torch.Tensor) -> list[torch.Tensor]:
    """Split slot angles ``(R, P)`` (one column per gate parameter, in op order) per op."""
    out, start = [], 0
    for op in circuit.ops:
        out.append(slots[:, start : start + len(op.params)])
        start += len(op.params)
    return out


def slot_angles(circuit: Circuit, x, w, real) -> torch.Tensor:
    """``scale * x[:, i] * w[j]`` for every gate parameter: ``(B|1, P)`` (differentiable)."""
    if w is None:
        w = torch.zeros(0, dtype=real, device=HOST if x is None else x.device)
    columns = []
    for p in circuit.params:
        value = torch.full((1,), p.scale, dtype=real, device=w.device)
        if p.x is not None:
            value = value * x[:, p.x]
        if p.w is not None:
            value = value * w[p.w]
        columns.append(value)
    if not columns:
        return torch.zeros(1, 0, dtype=real, device=w.device)
    return torch.stack(torch.broadcast_tensors(*columns), -1)


@functools.lru_cache(maxsize=256)
def _kraus_on(channel: str, p: float, dtype, device) -> tuple[torch.Tensor, ...]:
    """:func:`kraus` in ``dtype`` on ``device``, cached: every noisy gate of every step uses it."""
    with torch.inference_mode(False):
        return tuple(k.to(dtype) for k in kraus(channel, p, device))


def _channels_after(noise: NoiseModel, gate: str, wires, dtype, device):
    for channel in CHANNELS:
        p = noise.rate(channel, gate)
        if p > 0:
            ops = _kraus_on(channel, p, dtype, device)
            for wire in wires:
                yield channel, p, ops, wire


def _apply_unitary_density(rho, kernel, tensor, wires, n):
    rho = kernel.apply(rho, tensor, wires)
    conj = tensor if kernel is KERNELS["permutation"] else tensor.conj()
    return kernel.apply(rho, conj, tuple(w + n for w in wires))


def _apply_channel_density(rho, ops, wire, n):
    out = 0
    for k in ops:
        k = k[None]
        out = out + Dense.apply(Dense.apply(rho, k, (wire,)), k.conj(), (wire + n,))
    return out


def evolve_density(circuit, angles, noise, state, dtype) -> torch.Tensor:
    """Density matrices ``(B, 2, ..., 2)`` (``2n`` axes) after the noisy circuit.

    ``angles`` are slot angles ``(R, P)``; ``state`` is ``(R|1, 2^n)`` or ``(R|1, 2, ..., 2)``.
    """
    n = circuit.n_qubits
    psi = state.reshape(state.shape[0], -1)
    rho = (psi[:, :, None] * psi.conj()[:, None, :]).reshape(state.shape[0], *[2] * (2 * n))
    for op, theta in zip(circuit.ops, op_angles(circuit, angles), strict=True):
        gate = GATES[op.gate]
        tensor = gate.build(theta, len(op.wires), dtype)
        rho = _apply_unitary_density(rho, KERNELS[gate.kind], tensor, op.wires, n)
        for _, _, ops, wire in _channels_after(noise, op.gate, op.wires, dtype, rho.device):
            rho = _apply_channel_density(rho, ops, wire, n)
    return rho


def _pauli_tensor(letters: torch.Tensor, dtype) -> torch.Tensor:
    """Per-sample Pauli matrices ``(B, 2, 2)`` from letter indices 0..3 (I, X, Y, Z)."""
    table = torch.tensor(
        [[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]],
        dtype=dtype,
        device=letters.device,
    )
    return table[letters]


def evolve_trajectories(circuit, angles, noise, state, dtype, generator) -> torch.Tensor:
    """Statevectors ``(B, 2, ..., 2)``, each with its own random Pauli errors."""
    batch = max(state.shape[0], angles.shape[0])
    state = state.reshape(state.shape[0], *[2] * circuit.n_qubits).expand(
        batch, *[2] * circuit.n_qubits
    )
    index = {"I": 0, "X": 1, "Y": 2, "Z": 3}
    for op, theta in zip(circuit.ops, op_angles(circuit, angles), strict=True):
        gate = GATES[op.gate]
        state = KERNELS[gate.kind].apply(state, gate.build(theta, len(op.wires), dtype), op.wires)
        for channel, p, _, wire in _channels_after(noise, op.gate, op.wires, dtype, state.device):
            if channel not in PAULI_CHANNELS:
                raise CircuitError(
                    f"{channel} is not a Pauli channel: trajectories cannot "
                    "simulate it; use method='density'"
                )
            mixture = _pauli_mixture(channel, p)
            kw = {"device": state.device}
            probs = torch.tensor([m[0] for m in mixture], dtype=torch.float64, **kw)
            draws = torch.multinomial(probs, batch, replacement=True, generator=generator)
            letters = torch.tensor([index[m[1]] for m in mixture], **kw)[draws]
            state = Dense.apply(state, _pauli_tensor(letters, dtype), (wire,))
    return state


# --- measurement -----------------------------------------------------------------------------


def _readout_matrix(noise: NoiseModel, dtype, device) -> torch.Tensor:
    p01, p10 = noise.readout
    return torch.tensor([[1 - p01, p10], [p01, 1 - p10]], dtype=dtype, device=device)


def _noisy_probs(p: torch.Tensor, noise: NoiseModel) -> torch.Tensor:
    """Apply the readout error to probabilities ``(B, 2, ..., 2)`` (one axis per wire)."""
    if not any(noise.readout):
        return p
    m = _readout_matrix(noise, p.dtype, p.device)  # [measured, true]
    for axis in range(1, p.dim()):
        p = torch.movedim(torch.tensordot(p, m, dims=([axis], [1])), -1, axis)
    return p


def _diagonal_probs(rho: torch.Tensor, n: int) -> torch.Tensor:
    flat = rho.reshape(rho.shape[0], 2**n, 2**n)
    return torch.diagonal(flat, dim1=1, dim2=2).real.reshape(rho.shape[0], *[2] * n)


def _measure_probs(p: torch.Tensor, measurement) -> torch.Tensor:
    n = p.dim() - 1
    wires = _check_wires(measurement.wires, n)
    others = [q + 1 for q in range(n) if q not in wires]
    marg = p.sum(dim=others) if others else p
    order = sorted(wires)
    marg = marg.permute(0, *[order.index(q) + 1 for q in wires]).reshape(p.shape[0], -1)
    if isinstance(measurement, Probs):
        return marg
    index = torch.arange(2 ** len(wires), device=p.device)
    signs = 1 - 2 * ((index[:, None] >> torch.arange(len(wires) - 1, -1, -1, device=p.device)) & 1)
    return marg @ signs.to(marg.dtype)


def _measure_density(rho, measurement, noise, n):
    words = [_parse_word(w, n) for w in measurement.words]
    return torch.stack([_pauli_trace(rho, word, n) for word in words], 1)


def _pauli_trace(rho, word: str, n: int) -> torch.Tensor:
    out = rho
    for wire, letter in enumerate(word):
        if letter != "I":
            gate = GATES[letter]
            tensor = gate.build(torch.zeros(1, 0, device=rho.device), 1, rho.dtype)
            out = KERNELS[gate.kind].apply(out, tensor, (wire,))
    flat = out.reshape(rho.shape[0], 2**n, 2**n)
    return torch.diagonal(flat, dim1=1, dim2=2).sum(-1).real


def _sampled(p: torch.Tensor, measurement, shots: int, generator) -> torch.Tensor:
    """Estimates from ``shots`` samples of the (noisy) outcome distribution ``p``."""
    flat = p.reshape(p.shape[0], -1).detach()
    idx = sample_distribution(flat, shots, generator)
    counts = torch.zeros_like(flat).scatter_add_(1, idx, torch.ones_like(idx, dtype=flat.dtype))
    return _measure_probs((counts / shots).reshape(p.shape), measurement)


def _outcome_probs(circuit, angles, noise, state, dtype, generator) -> torch.Tensor:
    """Noisy Z-basis outcome probabilities ``(B, 2, ..., 2)``, readout error included."""
    n = circuit.n_qubits
    if noise.resolve_method(n) == "density":
        p = _diagonal_probs(evolve_density(circuit, angles, noise, state, dtype), n)
    else:
        final = evolve_trajectories(circuit, angles, noise, state, dtype, generator)
        p = final.real**2 + final.imag**2
    return _noisy_probs(p, noise)


def noisy_run(
    circuit,
    x,
    w,
    noise: NoiseModel,
    measurement,
    state,
    dtype,
    generator=None,
    shots: int | None = None,
):
    """Measured outputs ``(B, K)`` of the circuit under ``noise`` (autograd-differentiable).

    With ``shots``, Z-basis outputs are estimated from samples of the noisy distribution.
    """
    angles = slot_angles(circuit, x, w, dtype.to_real())
    check_generator(generator, state.device)
    return noisy_evaluate(circuit, angles, noise, measurement, state, dtype, generator, shots)


def noisy_evaluate(
    circuit,
    angles,
    noise: NoiseModel,
    measurement,
    state,
    dtype,
    generator=None,
    shots: int | None = None,
) -> torch.Tensor:
    """:func:`noisy_run` from slot angles ``(R, P)``; row ``r`` uses state row ``r // G``
    where ``G = R / len(state)`` (a state of one row is shared by all)."""
    n = circuit.n_qubits
    if not isinstance(measurement, (ExpvalZ, Expval, Probs)):
        raise CircuitError(f"noise supports ExpvalZ, Expval and Probs, not {measurement!r}")
    if noise.resolve_method(n) == "density" and n > _DENSITY_QUBIT_LIMIT:
        raise CircuitError(
            f"density matrices of {n} qubits need 4^{n} entries per sample; "
            "use method='trajectories'"
        )
    state = state.reshape(state.shape[0], -1)
    if 1 < state.shape[0] < angles.shape[0]:
        state = state.repeat_interleave(angles.shape[0] // state.shape[0], dim=0)
    if isinstance(measurement, Expval):
        if shots is not None or any(noise.readout):
            raise CircuitError(
                "under noise, Pauli-word measurements are exact and error-free "
                "only; use ExpvalZ or Probs for shots and readout error"
            )
        if noise.resolve_method(n) == "density":
            rho = evolve_density(circuit, angles, noise, state, dtype)
            return _measure_density(rho, measurement, noise, n)
        final = evolve_trajectories(circuit, angles, noise, state, dtype, generator)
        return measurement.exact(final)
    p = _outcome_probs(circuit, angles, noise, state, dtype, generator)
    if shots is not None:
        return _sampled(p, measurement, shots, generator)
    return _measure_probs(p, measurement)
