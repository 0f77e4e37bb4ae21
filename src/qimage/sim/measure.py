"""Measurements: pure, batched reads of a ``(B, 2, ..., 2)`` state.

Nothing here changes the state it reads. Each measurement exists in two forms:

* *exact*: expectation values or probabilities computed from the amplitudes;
* *sampled*: the same quantity estimated from ``shots`` samples of the Born distribution,
  drawn with an explicit ``torch.Generator`` so that a seed fixes every sample.

The measurement objects (:class:`ExpvalZ`, :class:`Expval`, :class:`Probs`) bundle both forms
for :func:`qimage.sim.run`; the functions below are the same reads for direct use.

Example:
    >>> from qimage.sim import zero_state
    >>> expval_z(zero_state(1, 3))
    tensor([[1., 1., 1.]])
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch

from qimage.errors import CircuitError
from qimage.sim.gates import GATES
from qimage.sim.kernels import KERNELS
from qimage.sim.rng import check_generator
from qimage.sim.state import as_vector, n_qubits_of

__all__ = [
    "Expval",
    "ExpvalZ",
    "Probs",
    "expval_pauli",
    "expval_z",
    "probs",
    "sample_distribution",
    "sample_indices",
]


def _check_wires(wires, n_qubits: int) -> tuple[int, ...]:
    wires = tuple(range(n_qubits)) if wires is None else tuple(int(w) for w in wires)
    if len(set(wires)) != len(wires) or any(not 0 <= w < n_qubits for w in wires):
        raise CircuitError(f"measured wires {wires} must be distinct and in 0..{n_qubits - 1}")
    return wires


@functools.lru_cache(maxsize=64)
def _z_signs(n_qubits: int, wires: tuple[int, ...], dtype, device) -> torch.Tensor:
    """``(2^n, k')`` Z eigenvalues: ``[i, j]`` is +1 when wire ``wires[j]`` is 0 in ``|i>``.

    Cached (every training step would rebuild it), and padded with zero columns to a multiple
    of 16: a GEMM with 10 columns runs several times slower than one with 16 (MKL, CPU).
    """
    index = torch.arange(2**n_qubits, device=device)
    shifts = torch.tensor([n_qubits - 1 - w for w in wires], device=device)
    bits = (index[:, None] >> shifts) & 1
    signs = (1 - 2 * bits).to(dtype)
    return torch.nn.functional.pad(signs, (0, -len(wires) % 16))


class _Abs2(torch.autograd.Function):
    """``|psi|^2`` with a one-pass backward, ``2 g psi`` (autograd's route through ``.real``
    and ``.imag`` zero-fills and adds complex gradients)."""

    @staticmethod
    def forward(ctx, state):
        ctx.save_for_backward(state)
        return (state * state.conj()).real.contiguous()  # exact: the imaginary part cancels

    @staticmethod
    def backward(ctx, grad):
        (state,) = ctx.saved_tensors
        return 2 * grad * state


def _abs2(state: torch.Tensor) -> torch.Tensor:
    return _Abs2.apply(state)


def probs(state: torch.Tensor, wires=None) -> torch.Tensor:
    """Probabilities of the basis states of ``wires`` (all by default), in the order given.

    Returns:
        Real tensor of shape ``(B, 2^k)``; ``wires[0]`` is the most significant bit.
    """
    n = n_qubits_of(state)
    wires = _check_wires(wires, n)
    p = _abs2(state)
    others = [q + 1 for q in range(n) if q not in wires]
    if others:
        p = p.sum(dim=others)
    # The kept axes are in ascending wire order; put them in the requested order.
    order = sorted(wires)
    p = p.permute(0, *[order.index(w) + 1 for w in wires])
    return p.reshape(p.shape[0], -1)


def expval_z(state: torch.Tensor, wires=None) -> torch.Tensor:
    """``<Z_w>`` for each wire in ``wires`` (all by default), in one matrix product: ``(B, k)``."""
    n = n_qubits_of(state)
    wires = _check_wires(wires, n)
    p = _abs2(as_vector(state))  # flat first: elementwise kernels are slow on 2x2x...x2 shapes
    return (p @ _z_signs(n, wires, p.dtype, p.device))[:, : len(wires)]


def _parse_word(word: str, n_qubits: int) -> str:
    """A Pauli word: one of ``IXYZ`` per wire, e.g. ``"ZZI"``."""
    word = word.upper()
    if len(word) != n_qubits or set(word) - set("IXYZ"):
        raise CircuitError(
            f"Pauli word {word!r} must have one of I, X, Y, Z for each of the {n_qubits} wires"
        )
    return word


def _apply_fixed(state: torch.Tensor, name: str, wire: int, adjoint: bool = False) -> torch.Tensor:
    gate = GATES[name]
    kernel = KERNELS[gate.kind]
    tensor = gate.build(torch.zeros(1, 0, device=state.device), 1, state.dtype)
    apply = kernel.apply_adjoint if adjoint else kernel.apply
    return apply(state, tensor, (wire,))


def expval_pauli(state: torch.Tensor, word: str) -> torch.Tensor:
    """``<psi| P |psi>`` of a Pauli word such as ``"XZI"``, shape ``(B,)``."""
    word = _parse_word(word, n_qubits_of(state))
    applied = state
    for wire, letter in enumerate(word):
        if letter != "I":
            applied = _apply_fixed(applied, letter, wire)
    return (state.conj() * applied).real.reshape(state.shape[0], -1).sum(-1)


def _rotate_to_z(state: torch.Tensor, word: str) -> torch.Tensor:
    """Change basis so that measuring Z on the support of ``word`` measures ``word``."""
    for wire, letter in enumerate(word):
        if letter == "Y":  # H S^dagger maps the Y eigenbasis to the Z eigenbasis
            state = _apply_fixed(state, "S", wire, adjoint=True)
        if letter in "XY":
            state = _apply_fixed(state, "H", wire)
    return state


def sample_distribution(p: torch.Tensor, shots: int, generator=None) -> torch.Tensor:
    """Draw ``shots`` outcome indices per row of probabilities ``p`` ``(B, M)``: ``(B, shots)``.

    The one sampler of the engine (Born rule and noisy distributions alike): ``B x shots``
    uniform float64 draws on ``p``'s device, from ``generator`` (which must live there) or
    that device's default generator, so that a seed gives the same shots on every path.
    """
    check_generator(generator, p.device)
    p = p.detach().to(torch.float64)
    cdf = torch.cumsum(p, dim=1)
    u = torch.rand(p.shape[0], shots, generator=generator, dtype=torch.float64, device=p.device)
    u = u * cdf[:, -1:]  # normalise away rounding in the amplitudes
    return torch.searchsorted(cdf, u).clamp_(max=p.shape[1] - 1)


def sample_indices(state: torch.Tensor, shots: int, generator=None) -> torch.Tensor:
    """Draw ``shots`` basis-state indices per sample from the Born rule: ``(B, shots)`` long."""
    return sample_distribution(as_vector(state.real**2 + state.imag**2), shots, generator)


def _bits(indices: torch.Tensor, n_qubits: int, wires: tuple[int, ...]) -> torch.Tensor:
    shifts = torch.tensor([n_qubits - 1 - w for w in wires], device=indices.device)
    return (indices[..., None] >> shifts) & 1


@dataclass(frozen=True)
class ExpvalZ:
    """``<Z_w>`` on each wire of ``wires`` (all wires by default): ``K = len(wires)`` outputs."""

    wires: tuple[int, ...] | None = None

    def n_outputs(self, n_qubits: int) -> int:
        return len(_check_wires(self.wires, n_qubits))

    def exact(self, state: torch.Tensor) -> torch.Tensor:
        return expval_z(state, self.wires)

    def sample(self, state: torch.Tensor, shots: int, generator=None) -> torch.Tensor:
        n = n_qubits_of(state)
        bits = _bits(sample_indices(state, shots, generator), n, _check_wires(self.wires, n))
        return (1 - 2 * bits).to(state.real.dtype).mean(dim=1)


@dataclass(frozen=True)
class Expval:
    """Expectation values of Pauli words, one output per word, e.g. ``Expval(("ZZ", "XI"))``."""

    words: tuple[str, ...]

    def n_outputs(self, n_qubits: int) -> int:
        for word in self.words:
            _parse_word(word, n_qubits)
        return len(self.words)

    def exact(self, state: torch.Tensor) -> torch.Tensor:
        return torch.stack([expval_pauli(state, w) for w in self.words], dim=1)

    def sample(self, state: torch.Tensor, shots: int, generator=None) -> torch.Tensor:
        n = n_qubits_of(state)
        out = []
        for word in map(lambda w: _parse_word(w, n), self.words):
            support = tuple(q for q, letter in enumerate(word) if letter != "I")
            indices = sample_indices(_rotate_to_z(state, word), shots, generator)
            parity = _bits(indices, n, support).sum(-1) % 2
            out.append((1 - 2 * parity).to(state.real.dtype).mean(dim=1))
        return torch.stack(out, dim=1)


@dataclass(frozen=True)
class Probs:
    """Probabilities of the ``2^k`` basis states of ``wires`` (all by default)."""

    wires: tuple[int, ...] | None = None

    def n_outputs(self, n_qubits: int) -> int:
        return 2 ** len(_check_wires(self.wires, n_qubits))

    def exact(self, state: torch.Tensor) -> torch.Tensor:
        return probs(state, self.wires)

    def sample(self, state: torch.Tensor, shots: int, generator=None) -> torch.Tensor:
        n = n_qubits_of(state)
        wires = _check_wires(self.wires, n)
        bits = _bits(sample_indices(state, shots, generator), n, wires)
        local = (bits << torch.arange(len(wires) - 1, -1, -1, device=bits.device)).sum(-1)
        counts = torch.zeros(
            state.shape[0], 2 ** len(wires), dtype=state.real.dtype, device=state.device
        )
        counts.scatter_add_(1, local, torch.ones_like(local, dtype=counts.dtype))
        return counts / shots
