"""Bound circuits: an op list with every angle a number, ready to leave qimage.

A :class:`BoundCircuit` is what export hands to OpenQASM, Qiskit or PennyLane: the gates of
one circuit for one input, with the input's angles and the trained weights filled in, an
optional amplitude vector to prepare first, and the wires the model measures.

Example:
    >>> from qimage.sim import Circuit, Op, Param
    >>> c = Circuit(1, [Op("RY", 0, (Param.scaled_input(0, 0),))])
    >>> bind(c, [0.5], [2.0]).ops
    (BoundOp(gate='RY', wires=(0,), angles=(1.0,)),)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qimage.errors import CircuitError
from qimage.sim import Circuit

__all__ = ["BoundCircuit", "BoundOp", "bind"]


@dataclass(frozen=True)
class BoundOp:
    """A gate with concrete angles: ``BoundOp("CRX", (0, 1), (0.25,))``."""

    gate: str
    wires: tuple[int, ...]
    angles: tuple[float, ...] = ()


@dataclass(frozen=True)
class BoundCircuit:
    """One circuit for one input.

    Attributes:
        n_qubits: register size.
        ops: the gates, in order.
        state: amplitudes ``(2^n,)`` to prepare before ``ops`` (amplitude encoding) or None.
        measured: wires whose measurement the model reads.
        readout: one line saying how the model turns measurements into classes.
    """

    n_qubits: int
    ops: tuple[BoundOp, ...]
    state: np.ndarray | None = None
    measured: tuple[int, ...] = ()
    readout: str = ""

    def with_ops(self, ops) -> BoundCircuit:
        return BoundCircuit(self.n_qubits, tuple(ops), self.state, self.measured, self.readout)


def _angle(param, x, w) -> float:
    value = param.scale
    if param.x is not None:
        value *= float(x[param.x])
    if param.w is not None:
        value *= float(w[param.w])
    return value


def bind(circuit: Circuit, inputs=None, weights=None, *, state=None, measured=None, readout=""):
    """Fill in the angles of ``circuit`` for one sample.

    Args:
        inputs: the sample's circuit inputs ``(n_inputs,)``.
        weights: the weights ``(n_weights,)``.
        state: amplitudes to prepare first (length ``2^n``), or None for ``|0...0>``.
    """
    x = np.zeros(0) if inputs is None else np.asarray(inputs, dtype=float).reshape(-1)
    w = np.zeros(0) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    if x.shape[0] != circuit.n_inputs or w.shape[0] != circuit.n_weights:
        raise CircuitError(
            f"binding needs {circuit.n_inputs} inputs and {circuit.n_weights} weights, "
            f"got {x.shape[0]} and {w.shape[0]}"
        )
    ops = tuple(
        BoundOp(op.gate, op.wires, tuple(_angle(p, x, w) for p in op.params)) for op in circuit.ops
    )
    if state is not None:
        state = np.asarray(state).reshape(-1)
        if state.shape[0] != 2**circuit.n_qubits:
            raise CircuitError(f"the state must have {2**circuit.n_qubits} amplitudes")
    wires = tuple(range(circuit.n_qubits)) if measured is None else tuple(measured)
    return BoundCircuit(circuit.n_qubits, ops, state, wires, readout)
