"""Export targets: OpenQASM 2 and 3 text, Qiskit ``QuantumCircuit`` and PennyLane QNodes.

Each target first lowers the bound circuit to the gates it knows (see
:mod:`qimage.export.decompose`) and turns an amplitude vector into gates
(:mod:`qimage.export.stateprep`). Wire ``i`` of qimage is qubit ``q[i]`` everywhere; note
that Qiskit orders statevector indices the other way round (qubit 0 least significant),
which changes probabilities' index order but not any ``<Z_i>``.

Qiskit and PennyLane are imported only when their target is used.
"""

from __future__ import annotations

from qimage.export.bound import BoundCircuit
from qimage.export.decompose import QASM2_GATES, QASM3_GATES, lower
from qimage.export.stateprep import prepare_state

__all__ = [
    "PENNYLANE_GATES",
    "QISKIT_GATES",
    "pennylane_ops",
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
    names = QASM3_GATES if version == 3 else QASM2_GATES
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


QISKIT_GATES = {
    "X": "XGate", "Y": "YGate", "Z": "ZGate", "H": "HGate", "S": "SGate", "T": "TGate",
    "SX": "SXGate", "RX": "RXGate", "RY": "RYGate", "RZ": "RZGate", "PhaseShift": "PhaseGate",
    "U3": "U3Gate", "CNOT": "CXGate", "CZ": "CZGate", "SWAP": "SwapGate", "CRX": "CRXGate",
    "CRY": "CRYGate", "CRZ": "CRZGate", "IsingXX": "RXXGate", "IsingYY": "RYYGate",
    "IsingZZ": "RZZGate",
}  # fmt: skip


def to_qiskit(circuit: BoundCircuit, measure: bool = False):
    """A ``qiskit.QuantumCircuit`` (gates Qiskit knows kept whole; the rest decomposed)."""
    from qiskit import QuantumCircuit
    from qiskit.circuit import library

    flat = lower(with_state_prep(circuit), QISKIT_GATES)
    qc = QuantumCircuit(flat.n_qubits, flat.n_qubits if measure else 0)
    for op in flat.ops:
        qc.append(getattr(library, QISKIT_GATES[op.gate])(*op.angles), list(op.wires))
    if measure:
        qc.measure(range(flat.n_qubits), range(flat.n_qubits))
    return qc


PENNYLANE_GATES = {
    "X": "PauliX", "Y": "PauliY", "Z": "PauliZ", "H": "Hadamard", "S": "S", "T": "T",
    "SX": "SX", "RX": "RX", "RY": "RY", "RZ": "RZ", "PhaseShift": "PhaseShift", "Rot": "Rot",
    "U3": "U3", "CNOT": "CNOT", "CZ": "CZ", "SWAP": "SWAP", "CRX": "CRX", "CRY": "CRY",
    "CRZ": "CRZ", "IsingXX": "IsingXX", "IsingYY": "IsingYY", "IsingZZ": "IsingZZ",
    "MultiRZ": "MultiRZ",
}  # fmt: skip


def pennylane_ops(circuit: BoundCircuit) -> list:
    """The circuit as PennyLane operations (the amplitude vector as preparation gates).

    Inside a QNode they are queued as they are made; outside one they are plain objects for
    a ``qml.tape.QuantumScript``.
    """
    import pennylane as qml

    flat = with_state_prep(circuit)
    return [
        getattr(qml, PENNYLANE_GATES[op.gate])(*op.angles, wires=list(op.wires)) for op in flat.ops
    ]


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
