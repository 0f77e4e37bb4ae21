"""qimage's batched statevector engine, in PyTorch.

State layout (see :mod:`qimage.sim.state`): a complex tensor ``(B, 2, ..., 2)``, qubit 0 the
most significant bit. Circuits are data (:class:`Circuit` of :class:`Op` with :class:`Param`
sources); one gate table (:data:`GATES`) drives simulation, gradients and export.

Example:
    >>> import torch
    >>> from qimage.sim import Circuit, Op, Param, run
    >>> c = Circuit(2, [Op("RY", 0, (Param.input(0),)), Op("CNOT", (0, 1))])
    >>> run(c, torch.tensor([[0.0], [torch.pi]])).round()
    tensor([[ 1.,  1.],
            [-1., -1.]])
"""

from __future__ import annotations

from qimage.sim.circuit import Circuit, Op, Param
from qimage.sim.execute import DIFF_METHODS, GRADIENT_METHODS, evolve, run
from qimage.sim.execution import DTYPES, Execution
from qimage.sim.gates import GATES, Gate, gate_matrix
from qimage.sim.measure import (
    Expval,
    ExpvalZ,
    Probs,
    expval_pauli,
    expval_z,
    probs,
    sample_indices,
)
from qimage.sim.memory import estimate_bytes, memory_limit
from qimage.sim.noise import NoiseModel
from qimage.sim.rng import device_generator
from qimage.sim.state import (
    MAX_QUBITS,
    amplitude_state,
    as_tensor,
    as_vector,
    basis_state,
    zero_state,
)

__all__ = [
    "DIFF_METHODS",
    "DTYPES",
    "GATES",
    "GRADIENT_METHODS",
    "MAX_QUBITS",
    "Circuit",
    "Execution",
    "Expval",
    "ExpvalZ",
    "Gate",
    "NoiseModel",
    "Op",
    "Param",
    "Probs",
    "amplitude_state",
    "as_tensor",
    "as_vector",
    "basis_state",
    "device_generator",
    "estimate_bytes",
    "evolve",
    "expval_pauli",
    "expval_z",
    "gate_matrix",
    "memory_limit",
    "probs",
    "run",
    "sample_indices",
    "zero_state",
]
