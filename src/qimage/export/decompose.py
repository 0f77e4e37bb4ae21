"""Gate sets of export targets, and decompositions into them, written in qimage's own gates.

A target's gate set is read from the gate table: :func:`target_gates` lists the gates whose
:class:`qimage.sim.gates.Gate` row names them for that target. Every decomposition maps one
qimage gate to a list of qimage gates, so the test suite can check each one with qimage's
simulator (equal up to a global phase); :func:`lower` rewrites a circuit until only the
target's gates remain.

Example:
    >>> target_gates("qasm2")["PhaseShift"]
    'u1'
"""

from __future__ import annotations

import itertools
import math

from qimage.errors import CircuitError
from qimage.export.bound import BoundCircuit, BoundOp
from qimage.sim.gates import GATES

__all__ = ["DECOMPOSITIONS", "TARGETS", "lower", "target_gates"]

TARGETS = ("qasm", "qasm2", "qiskit", "pennylane", "cirq")
"""Export targets: each is a field of :class:`qimage.sim.gates.Gate` holding the gate's name."""


def target_gates(target: str) -> dict[str, str]:
    """qimage gate name -> the target's name, for every gate the target takes directly."""
    if target not in TARGETS:
        raise CircuitError(f"unknown export target {target!r}; choose one of {TARGETS}")
    names = {name: getattr(gate, target) for name, gate in GATES.items()}
    return {name: value for name, value in names.items() if value is not None}


def _op(gate, wires, *angles) -> BoundOp:
    return BoundOp(gate, tuple(wires), tuple(float(a) for a in angles))


def _rot(w, a, b, c):
    return [_op("RZ", w, a), _op("RY", w, b), _op("RZ", w, c)]


def _sx(w):
    return [_op("RX", w, math.pi / 2)]  # SX = e^{i pi/4} RX(pi/2)


def _swap(w):
    a, b = w
    return [_op("CNOT", (a, b)), _op("CNOT", (b, a)), _op("CNOT", (a, b))]


def _controlled_rotation(gate):
    """CR(t) on (c, target) as R(t/2), CNOT, R(-t/2), CNOT (for R = RY or RZ)."""

    def decompose(w, t):
        c, target = w
        return [
            _op(gate, (target,), t / 2),
            _op("CNOT", (c, target)),
            _op(gate, (target,), -t / 2),
            _op("CNOT", (c, target)),
        ]

    return decompose


def _crx(w, t):
    return [_op("H", w[1:]), _op("CRZ", w, t), _op("H", w[1:])]


def _zz_chain(w, t):
    """exp(-i t Z..Z / 2): parity onto the last wire, RZ, undo."""
    chain = [_op("CNOT", pair) for pair in itertools.pairwise(w)]
    return [*chain, _op("RZ", w[-1:], t), *reversed(chain)]


def _basis_change(w, t, into, out_of):
    """exp(-i t P P / 2) with P = V^dagger Z V: change basis, ZZ rotation, change back."""
    return [*into(w), *_zz_chain(w, t), *out_of(w)]


def _hh(w):
    return [_op("H", (q,)) for q in w]


def _rx_all(angle):
    return lambda w: [_op("RX", (q,), angle) for q in w]


DECOMPOSITIONS = {
    "Rot": lambda w, a, b, c: _rot(w, a, b, c),
    "U3": lambda w, t, p, lam: _rot(w, lam, t, p),  # U3 = e^{i(p+l)/2} RZ(p) RY(t) RZ(l)
    "PhaseShift": lambda w, p: [_op("RZ", w, p)],  # PhaseShift(p) = e^{ip/2} RZ(p)
    "SX": lambda w: _sx(w),
    "SWAP": lambda w: _swap(w),
    "CRX": lambda w, t: _crx(w, t),
    "CRY": _controlled_rotation("RY"),
    "CRZ": _controlled_rotation("RZ"),
    "IsingXX": lambda w, t: _basis_change(w, t, _hh, _hh),
    "IsingYY": lambda w, t: _basis_change(w, t, _rx_all(math.pi / 2), _rx_all(-math.pi / 2)),
    "IsingZZ": lambda w, t: _zz_chain(w, t),
    "MultiRZ": lambda w, t: _zz_chain(w, t),
}
"""qimage gate name -> ``f(wires, *angles)`` returning equivalent qimage gates."""


def _lower_op(op: BoundOp, known) -> list[BoundOp]:
    if op.gate in known:
        return [op]
    if op.gate not in DECOMPOSITIONS:
        raise CircuitError(f"no decomposition of {op.gate} for this export target")
    return [
        o for part in DECOMPOSITIONS[op.gate](op.wires, *op.angles) for o in _lower_op(part, known)
    ]


def lower(circuit: BoundCircuit, known) -> BoundCircuit:
    """Rewrite ``circuit`` until every gate's name is in ``known``."""
    return circuit.with_ops(o for op in circuit.ops for o in _lower_op(op, known))
