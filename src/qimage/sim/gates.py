"""The gate table: one row per gate, and pure builders of batched gate tensors.

Every gate is a :class:`Gate` row in :data:`GATES`. A row says how many wires and parameters
the gate takes, which *kernel* applies it (a dense matrix, a diagonal, or a permutation of
basis states), how to build its tensor from angles, its parameter-shift rule and its
name in every export target (OpenQASM 3 and 2, Qiskit, PennyLane, Cirq). Simulation, the
adjoint method, parameter shift and export all read this one table; nothing else in qimage
branches on gate names.

Conventions (identical to PennyLane's):

* ``RX(t) = exp(-i t X / 2)`` and likewise RY, RZ, IsingXX/YY/ZZ (``exp(-i t P⊗P / 2)``)
  and MultiRZ (``exp(-i t Z⊗...⊗Z / 2)``).
* ``PhaseShift(p) = diag(1, e^{ip})``.
* ``Rot(a, b, c) = RZ(c) RY(b) RZ(a)``.
* ``U3(t, p, l) = [[cos(t/2), -e^{il} sin(t/2)], [e^{ip} sin(t/2), e^{i(p+l)} cos(t/2)]]``.
* Controlled gates take the control first: ``CRX`` on wires ``(c, t)``.

Builders take real angles of shape ``(..., n_params)`` and return complex tensors of shape
``(..., 2**k, 2**k)`` (dense), ``(..., 2**k)`` (diagonal), or, for permutation gates, a
constant ``(2**k,)`` index tensor ``perm`` with ``out[i] = in[perm[i]]``.

Example:
    >>> import torch
    >>> from qimage.sim.gates import GATES
    >>> GATES["RY"].build(torch.tensor([[torch.pi]]), 1, torch.complex64).real.round() + 0.0
    tensor([[[ 0., -1.],
             [ 1.,  0.]]])
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from qimage.errors import CircuitError
from qimage.sim.placement import HOST, placed

__all__ = ["GATES", "Gate", "ShiftRule", "gate_matrix", "get_gate"]

ShiftRule = tuple[tuple[float, float], ...]
"""Parameter-shift recipe: ``df/dt = sum(c * f(t + s) for c, s in rule)``."""

# Two-term rule of any gate exp(-i t G) whose generator G has eigenvalues +-1/2.
TWO_TERM: ShiftRule = ((0.5, math.pi / 2), (-0.5, -math.pi / 2))
# Four-term rule of controlled rotations, whose generator has eigenvalues {0, +-1/2}
# (Anselmetti et al. 2021, arXiv:2107.12390, eq. 43).
_C1 = (math.sqrt(2) + 1) / (4 * math.sqrt(2))
_C2 = (math.sqrt(2) - 1) / (4 * math.sqrt(2))
FOUR_TERM: ShiftRule = (
    (_C1, math.pi / 2),
    (-_C1, -math.pi / 2),
    (-_C2, 3 * math.pi / 2),
    (_C2, -3 * math.pi / 2),
)

# Constants live on the CPU; builders copy them to a device once (qimage.sim.placement).
_C128 = {"dtype": torch.complex128, "device": HOST}
_I2 = torch.eye(2, **_C128)
_X = torch.tensor([[0, 1], [1, 0]], **_C128)
_Y = torch.tensor([[0, -1j], [1j, 0]], **_C128)
_Z = torch.tensor([[1, 0], [0, -1]], **_C128)


@dataclass(frozen=True)
class Gate:
    """One row of the gate table.

    Attributes:
        name: canonical name, as used in :class:`qimage.sim.Op`.
        n_wires: number of wires, or ``None`` for any number >= 1 (MultiRZ).
        n_params: number of real parameters.
        kind: ``"dense"``, ``"diagonal"`` or ``"permutation"``: which kernel applies it.
        build: ``build(angles, n_wires, dtype)`` -> tensor, see the module docstring.
        shift_rule: parameter-shift recipe shared by all of the gate's parameters.
        qasm: OpenQASM 3 ``stdgates.inc`` name.
        qasm2: OpenQASM 2 ``qelib1.inc`` name.
        qiskit: name of the ``qiskit.circuit.library`` gate class.
        pennylane: name of the ``pennylane`` operation.
        cirq: name in the ``cirq`` namespace of the gate, or of the function taking its
            angle in radians (``cirq.rx``).

    An export name of ``None`` means the target has no such gate: export rewrites it with
    :data:`qimage.export.DECOMPOSITIONS`.
    """

    name: str
    n_wires: int | None
    n_params: int
    kind: str
    build: Callable[[torch.Tensor, int, torch.dtype], torch.Tensor]
    shift_rule: ShiftRule = ()
    qasm: str | None = None
    qasm2: str | None = None
    qiskit: str | None = None
    pennylane: str | None = None
    cirq: str | None = None


def _fixed(matrix: torch.Tensor) -> Callable:
    """Builder of a parameter-free dense gate."""
    copies: dict = {}

    def build(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
        on = placed(copies, matrix, angles.device, dtype)
        return on.expand(*angles.shape[:-1], -1, -1)

    return build


def _fixed_diag(diag: torch.Tensor) -> Callable:
    """Builder of a parameter-free diagonal gate."""
    copies: dict = {}

    def build(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
        return placed(copies, diag, angles.device, dtype).expand(*angles.shape[:-1], -1)

    return build


def _perm(perm: list[int]) -> Callable:
    """Builder of a permutation gate: the index tensor ``out[i] = in[perm[i]]``."""
    index = torch.tensor(perm, dtype=torch.long, device=HOST)
    copies: dict = {}

    def build(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
        return placed(copies, index, angles.device)

    return build


def _pauli_rotation(pauli: torch.Tensor) -> Callable:
    """Builder of ``exp(-i t P / 2) = cos(t/2) I - i sin(t/2) P`` for a Pauli word ``P``."""
    copies: dict = {}

    def build(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
        p = placed(copies, pauli, angles.device, dtype)
        half = angles[..., 0, None, None].to(p.real.dtype) / 2
        eye = torch.eye(p.shape[-1], dtype=p.real.dtype, device=angles.device)
        # Real and imaginary parts are built separately: this keeps autograd on real angles.
        re = torch.cos(half) * eye + torch.sin(half) * p.imag
        im = -torch.sin(half) * p.real
        return torch.complex(re, im)

    return build


def _phase_diag(phases: Callable[[int], torch.Tensor]) -> Callable:
    """Builder of ``diag(exp(i t v))`` for a fixed real vector ``v = phases(n_wires)`` (the
    same tensor for the same ``n_wires``)."""
    copies: dict = {}

    def build(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
        real = dtype.to_real()
        v = placed(copies, phases(n_wires), angles.device, real)
        arg = angles[..., 0, None].to(real) * v
        return torch.complex(torch.cos(arg), torch.sin(arg))

    return build


def _const(values: list[float]) -> Callable[[int], torch.Tensor]:
    """A phase vector that does not depend on the number of wires."""
    vector = torch.tensor(values, dtype=torch.float64, device=HOST)
    return lambda n_wires: vector


@functools.cache  # one tensor per width, kept: builders cache its device copies by identity
def _zz_phases(n_wires: int) -> torch.Tensor:
    """``-1/2`` times the eigenvalues (+1/-1) of Z⊗...⊗Z on ``n_wires`` wires, in basis order."""
    index = torch.arange(2**n_wires, device=HOST)
    bits = (index[:, None] >> torch.arange(n_wires, device=HOST)) & 1
    return -0.5 * (1 - 2 * (bits.sum(-1) % 2)).to(torch.float64)


def _controlled(base: Callable) -> Callable:
    """Builder of the 4x4 controlled version of a one-qubit dense builder."""

    def build(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
        u = base(angles, 1, dtype)  # (..., 2, 2)
        out = torch.zeros(*u.shape[:-2], 4, 4, dtype=u.dtype, device=u.device)
        out[..., 0, 0] = 1
        out[..., 1, 1] = 1
        out[..., 2:, 2:] = u
        return out

    return build


def _rot(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
    """``Rot(a, b, c) = RZ(c) RY(b) RZ(a)``, written out in closed form."""
    real = dtype.to_real()
    a, b, c = (angles[..., i].to(real) for i in range(3))
    cb, sb = torch.cos(b / 2), torch.sin(b / 2)
    plus, minus = (a + c) / 2, (a - c) / 2
    re = torch.stack(
        [cb * torch.cos(plus), -sb * torch.cos(minus), sb * torch.cos(minus), cb * torch.cos(plus)],
        -1,
    )
    im = torch.stack(
        [
            -cb * torch.sin(plus),
            -sb * torch.sin(minus),
            -sb * torch.sin(minus),
            cb * torch.sin(plus),
        ],
        -1,
    )
    return torch.complex(re, im).reshape(*angles.shape[:-1], 2, 2)


def _u3(angles: torch.Tensor, n_wires: int, dtype: torch.dtype) -> torch.Tensor:
    """``U3(t, p, l)`` as in OpenQASM and PennyLane."""
    real = dtype.to_real()
    t, p, lam = (angles[..., i].to(real) for i in range(3))
    c, s = torch.cos(t / 2), torch.sin(t / 2)
    re = torch.stack([c, -s * torch.cos(lam), s * torch.cos(p), c * torch.cos(p + lam)], -1)
    im = torch.stack(
        [torch.zeros_like(c), -s * torch.sin(lam), s * torch.sin(p), c * torch.sin(p + lam)], -1
    )
    return torch.complex(re, im).reshape(*angles.shape[:-1], 2, 2)


def _table() -> dict[str, Gate]:
    s2 = 1 / math.sqrt(2)
    h = torch.tensor([[s2, s2], [s2, -s2]], **_C128)
    sx = torch.tensor([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], **_C128) / 2
    gates = [
        Gate(
            "X", 1, 0, "permutation", _perm([1, 0]),
            qasm="x", qasm2="x", qiskit="XGate", pennylane="PauliX", cirq="X",
        ),
        Gate(
            "Y", 1, 0, "dense", _fixed(_Y),
            qasm="y", qasm2="y", qiskit="YGate", pennylane="PauliY", cirq="Y",
        ),
        Gate(
            "Z", 1, 0, "diagonal", _fixed_diag(torch.tensor([1, -1], **_C128)),
            qasm="z", qasm2="z", qiskit="ZGate", pennylane="PauliZ", cirq="Z",
        ),
        Gate(
            "H", 1, 0, "dense", _fixed(h),
            qasm="h", qasm2="h", qiskit="HGate", pennylane="Hadamard", cirq="H",
        ),
        Gate(
            "S", 1, 0, "diagonal", _fixed_diag(torch.tensor([1, 1j], **_C128)),
            qasm="s", qasm2="s", qiskit="SGate", pennylane="S", cirq="S",
        ),
        Gate(
            "T", 1, 0, "diagonal",
            _fixed_diag(torch.tensor([1, (1 + 1j) * s2], **_C128)),
            qasm="t", qasm2="t", qiskit="TGate", pennylane="T", cirq="T",
        ),
        Gate(
            "SX", 1, 0, "dense", _fixed(sx),
            qasm="sx", qiskit="SXGate", pennylane="SX",
        ),
        Gate(
            "RX", 1, 1, "dense", _pauli_rotation(_X), TWO_TERM,
            qasm="rx", qasm2="rx", qiskit="RXGate", pennylane="RX", cirq="rx",
        ),
        Gate(
            "RY", 1, 1, "dense", _pauli_rotation(_Y), TWO_TERM,
            qasm="ry", qasm2="ry", qiskit="RYGate", pennylane="RY", cirq="ry",
        ),
        Gate(
            "RZ", 1, 1, "diagonal", _phase_diag(_const([-0.5, 0.5])), TWO_TERM,
            qasm="rz", qasm2="rz", qiskit="RZGate", pennylane="RZ", cirq="rz",
        ),
        Gate(
            "PhaseShift", 1, 1, "diagonal", _phase_diag(_const([0.0, 1.0])), TWO_TERM,
            qasm="p", qasm2="u1", qiskit="PhaseGate", pennylane="PhaseShift",
        ),
        Gate("Rot", 1, 3, "dense", _rot, TWO_TERM, pennylane="Rot"),
        Gate(
            "U3", 1, 3, "dense", _u3, TWO_TERM,
            qasm="u3", qasm2="u3", qiskit="U3Gate", pennylane="U3",
        ),
        Gate(
            "CNOT", 2, 0, "permutation", _perm([0, 1, 3, 2]),
            qasm="cx", qasm2="cx", qiskit="CXGate", pennylane="CNOT", cirq="CNOT",
        ),
        Gate(
            "CZ", 2, 0, "diagonal",
            _fixed_diag(torch.tensor([1, 1, 1, -1], **_C128)),
            qasm="cz", qasm2="cz", qiskit="CZGate", pennylane="CZ", cirq="CZ",
        ),
        Gate(
            "SWAP", 2, 0, "permutation", _perm([0, 2, 1, 3]),
            qasm="swap", qiskit="SwapGate", pennylane="SWAP", cirq="SWAP",
        ),
        Gate(
            "CRX", 2, 1, "dense", _controlled(_pauli_rotation(_X)), FOUR_TERM,
            qasm="crx", qiskit="CRXGate", pennylane="CRX",
        ),
        Gate(
            "CRY", 2, 1, "dense", _controlled(_pauli_rotation(_Y)), FOUR_TERM,
            qasm="cry", qiskit="CRYGate", pennylane="CRY",
        ),
        Gate(
            "CRZ", 2, 1, "diagonal", _phase_diag(_const([0, 0, -0.5, 0.5])), FOUR_TERM,
            qasm="crz", qasm2="crz", qiskit="CRZGate", pennylane="CRZ",
        ),
        Gate(
            "IsingXX", 2, 1, "dense", _pauli_rotation(torch.kron(_X, _X)), TWO_TERM,
            qiskit="RXXGate", pennylane="IsingXX",
        ),
        Gate(
            "IsingYY", 2, 1, "dense", _pauli_rotation(torch.kron(_Y, _Y)), TWO_TERM,
            qiskit="RYYGate", pennylane="IsingYY",
        ),
        Gate(
            "IsingZZ", 2, 1, "diagonal", _phase_diag(lambda n: _zz_phases(2)), TWO_TERM,
            qiskit="RZZGate", pennylane="IsingZZ",
        ),
        Gate(
            "MultiRZ", None, 1, "diagonal", _phase_diag(_zz_phases), TWO_TERM,
            pennylane="MultiRZ",
        ),
    ]  # fmt: skip
    return {g.name: g for g in gates}


GATES: dict[str, Gate] = _table()
"""The gate table, keyed by gate name."""


def get_gate(name: str) -> Gate:
    """Look up a gate row by name, with an error that lists the known gates."""
    try:
        return GATES[name]
    except KeyError:
        known = ", ".join(GATES)
        raise CircuitError(f"unknown gate {name!r}; known gates: {known}") from None


def gate_matrix(
    name: str, params=(), n_wires: int | None = None, dtype=torch.complex128
) -> torch.Tensor:
    """The full ``(2**k, 2**k)`` matrix of one gate, whatever its kernel (for tests and export).

    Example:
        >>> gate_matrix("CNOT").real
        tensor([[1., 0., 0., 0.],
                [0., 1., 0., 0.],
                [0., 0., 0., 1.],
                [0., 0., 1., 0.]], dtype=torch.float64)
    """
    gate = get_gate(name)
    k = gate.n_wires or n_wires or 1
    device = params.device if isinstance(params, torch.Tensor) else HOST
    angles = torch.as_tensor(params, dtype=dtype.to_real(), device=device).reshape(gate.n_params)
    tensor = gate.build(angles, k, dtype)
    if gate.kind == "dense":
        return tensor.clone()
    if gate.kind == "diagonal":
        return torch.diag(tensor)
    return torch.eye(2**k, dtype=dtype, device=device)[tensor]
