"""Export: a trained model's circuit for one input, as OpenQASM 2/3, Qiskit, Cirq or PennyLane.

* :func:`capture_circuits`: run a model on one sample and bind its circuits' angles;
* :func:`to_qasm`, :func:`to_qiskit`, :func:`to_cirq`, :func:`to_pennylane`: the targets,
  whose gate names come from the gate table (:func:`target_gates`);
* :func:`pennylane_script`: a standalone PennyLane script of a model's inference;
* :func:`prepare_state`: amplitude encoding as RY/RZ/CNOT gates (Möttönen et al.);
* :class:`PennyLaneModel`, :func:`run_on_pennylane`: a trained model's inference with its
  circuits run on any installed PennyLane device (``--backend pennylane:<device>``).
"""

from __future__ import annotations

from qimage.export.backend import PennyLaneModel, parse_backend, run_on_pennylane
from qimage.export.bound import BoundCircuit, BoundOp, bind
from qimage.export.decompose import DECOMPOSITIONS, TARGETS, lower, target_gates
from qimage.export.model import bind_layer, capture_circuits, describe_readout
from qimage.export.script import pennylane_script
from qimage.export.stateprep import prepare_state, uniformly_controlled
from qimage.export.targets import (
    pennylane_ops,
    to_cirq,
    to_pennylane,
    to_qasm,
    to_qiskit,
    with_state_prep,
)

__all__ = [
    "DECOMPOSITIONS",
    "TARGETS",
    "BoundCircuit",
    "BoundOp",
    "PennyLaneModel",
    "bind",
    "bind_layer",
    "capture_circuits",
    "describe_readout",
    "lower",
    "parse_backend",
    "pennylane_ops",
    "pennylane_script",
    "prepare_state",
    "run_on_pennylane",
    "target_gates",
    "to_cirq",
    "to_pennylane",
    "to_qasm",
    "to_qiskit",
    "uniformly_controlled",
    "with_state_prep",
]
