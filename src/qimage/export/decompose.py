"""Gate sets of export targets, and decompositions into them, written in qimage's own gates.

Every decomposition maps one qimage gate to a list of qimage gates, so the test suite can
check each one with qimage's simulator (equal up to a global phase). A target declares the
gates it knows by name; :func:`lower` rewrites a circuit until only those remain.
"""

from __future__ import annotations

import itertools
import math

from qimage.errors import CircuitError
from qimage.export.bound import BoundCircuit, BoundOp

__all__ = ["DECOMPOSITIONS", "QASM2_GATES", "QASM3_GATES", "lower"]

# OpenQASM 3 stdgates.inc names of the gates it takes directly.
QASM3_GATES = {
    "X": "x", "Y": "y", "Z": "z", "H": "h", "S": "s", "T": "t", "SX": "sx",
    "RX": "rx", "RY": "ry", "RZ": "rz", "PhaseShift": "p", "U3": "u3",
    "CNOT": "cx", "CZ": "cz", "SWAP": "swap", "CRX": "crx", "CRY": "cry", "CRZ": "crz",
}  # fmt: skip
# The original OpenQASM 2 qelib1.inc (Cross et al. 2017), which every OpenQASM 2 reader has.
QASM2_GATES = {
    "X": "x", "Y": "y", "Z": "z", "H": "h", "S": "s", "T": "t",
    "RX": "rx", "RY": "ry", "RZ": "rz", "PhaseShift": "u1", "U3": "u3",
    "CNOT": "cx", "CZ": "cz", "CRZ": "crz",
}  # fmt: skip


def _op(gate, wires, *angles) -> BoundOp:
    return BoundOp(gate, tuple(wires), tuple(float(a) for a in angles))


def _rot(w, a, b, c):
    return [_op("RZ", w, a), _op("RY", w, b), _op("RZ", w, c)]


def _sx(w):
    return [_op("RX", w, math.pi / 2)]  # SX = e^{i pi/4} RX(pi/2)


def _swap(w):
    a, b = w
    return [_op("CNOT", (a, b)), _op("CNOT", (b, a)), _op("CNOT", (a, b))]


def _crx(w, t):
    return [_op("H", w[1:]), _op("CRZ", w, t), _op("H", w[1:])]


def _cry(w, t):
    c, target = w
    return [
        _op("RY", (target,), t / 2),
        _op("CNOT", (c, target)),
        _op("RY", (target,), -t / 2),
        _op("CNOT", (c, target)),
    ]


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
    "SX": lambda w: _sx(w),
    "SWAP": lambda w: _swap(w),
    "CRX": lambda w, t: _crx(w, t),
    "CRY": lambda w, t: _cry(w, t),
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
