"""Export targets: OpenQASM 2 and 3 text, Qiskit and Cirq circuits, and PennyLane QNodes.

Each target first lowers the bound circuit to the gates whose :class:`qimage.sim.gates.Gate`
row gives it a name (see :mod:`qimage.export.decompose`) and turns an amplitude vector into
gates (:mod:`qimage.export.stateprep`). Wire ``i`` of qimage is qubit ``q[i]`` everywhere; note
that Qiskit orders statevector indices the other way round (qubit 0 least significant),
which changes probabilities' index order but not any ``<Z_i>``.

Cirq orders state vectors as qimage does (``LineQubit(0)`` most significant).
Qiskit, PennyLane and Cirq are imported only when their target is used.
"""

from __future__ import annotations

from qimage.export.bound import BoundCircuit
from qimage.export.decompose import lower, target_gates
from qimage.export.stateprep import prepare_state

__all__ = [
    "pennylane_ops",
    "to_cirq",
    "to_pennylane",
    "to_qasm",
    "to_qiskit",
    "with_state_prep",
]


def with_state_prep(circuit: BoundCircuit) -> BoundCircuit:
    """The circuit with its amplitude vector replaced by preparation gates."""
    if circuit.state is None:
        return circuit
    ops = [*prepare_state(circuit.state, circuit.n_qubits), *circuit.ops]
    return BoundCircuit(circuit.n_qubits, tuple(ops), None, circuit.measured, circuit.readout)


def _fmt(angle: float) -> str:
    return repr(float(angle))


def to_qasm(circuit: BoundCircuit, version: int = 3) -> str:
    """OpenQASM 3 (``stdgates.inc``) or 2 (``qelib1.inc``) text, measuring every wire."""
    names = target_gates("qasm" if version == 3 else "qasm2")
    flat = lower(with_state_prep(circuit), names)
    n = flat.n_qubits
    lines = [f"// qimage export: {circuit.readout}"] if circuit.readout else []
    lines.append(f"// measured wires: {list(circuit.measured)}")
    if version == 3:
        lines += ["OPENQASM 3.0;", 'include "stdgates.inc";', f"qubit[{n}] q;", f"bit[{n}] c;"]
    else:
        lines += ["OPENQASM 2.0;", 'include "qelib1.inc";', f"qreg q[{n}];", f"creg c[{n}];"]
    for op in flat.ops:
        args = f"({', '.join(map(_fmt, op.angles))})" if op.angles else ""
        lines.append(f"{names[op.gate]}{args} {', '.join(f'q[{w}]' for w in op.wires)};")
    lines.append("c = measure q;" if version == 3 else "measure q -> c;")
    return "\n".join(lines) + "\n"


def to_qiskit(circuit: BoundCircuit, measure: bool = False):
    """A ``qiskit.QuantumCircuit`` (gates Qiskit knows kept whole; the rest decomposed)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import library

    names = target_gates("qiskit")
    flat = lower(with_state_prep(circuit), names)
    qc = QuantumCircuit(flat.n_qubits, flat.n_qubits if measure else 0)
    for op in flat.ops:
        qc.append(getattr(library, names[op.gate])(*op.angles), list(op.wires))
    if measure:
        qc.measure(range(flat.n_qubits), range(flat.n_qubits))
    return qc


def pennylane_ops(circuit: BoundCircuit) -> list:
    """The circuit as PennyLane operations (the amplitude vector as preparation gates).

    Inside a QNode they are queued as they are made; outside one they are plain objects for
    a ``qml.tape.QuantumScript``.
    """
    import pennylane as qml

    names = target_gates("pennylane")
    flat = lower(with_state_prep(circuit), names)
    return [getattr(qml, names[op.gate])(*op.angles, wires=list(op.wires)) for op in flat.ops]


def to_pennylane(circuit: BoundCircuit, device: str = "default.qubit", measurement="expval"):
    """A PennyLane QNode on ``device`` returning ``<Z>`` of the measured wires (or probs)."""
    import pennylane as qml

    flat = with_state_prep(circuit)
    dev = qml.device(device, wires=flat.n_qubits)

    @qml.qnode(dev)
    def qnode():
        pennylane_ops(flat)
        if measurement == "probs":
            return qml.probs(wires=list(flat.measured))
        return [qml.expval(qml.PauliZ(w)) for w in flat.measured]

    return qnode


def to_cirq(circuit: BoundCircuit, measure: bool = False):
    """A ``cirq.Circuit`` on ``cirq.LineQubit(i)`` for wire ``i`` (gates Cirq lacks decomposed).

    With ``measure=True`` every qubit is measured under the key ``"c"``.
    """
    import cirq

    names = target_gates("cirq")
    flat = lower(with_state_prep(circuit), names)
    qubits = cirq.LineQubit.range(flat.n_qubits)
    ops = [
        _cirq_gate(cirq, names[op.gate], op.angles).on(*(qubits[w] for w in op.wires))
        for op in flat.ops
    ]
    if measure:
        ops.append(cirq.measure(*qubits, key="c"))
    return cirq.Circuit(ops)


def _cirq_gate(cirq, name: str, angles: tuple[float, ...]):
    """``cirq.X`` is a gate; ``cirq.rx`` makes one from its angle in radians."""
    gate = getattr(cirq, name)
    return gate(*angles) if angles else gate
