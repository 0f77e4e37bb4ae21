"""Models: quantum layers and classifiers as ``torch.nn.Module`` s, in one name registry.

* :class:`QuantumLayer`: encoder + ansatz + measurement, usable inside any PyTorch model;
* :class:`QNN`: quantum-only classifier (the readout has one scale and bias per class);
* :class:`DressedQNN`: classical linear in-layer, the circuit, classical linear out-layer;
* :data:`REGISTRY` / :func:`build_model`: every model by name, from a :class:`ModelConfig`.
"""

from __future__ import annotations

from qimage.models.layer import QuantumLayer
from qimage.models.qnn import QNN, DressedQNN
from qimage.models.readout import READOUTS, ExpvalReadout, ProbsReadout
from qimage.models.registry import REGISTRY, ModelConfig, build_model, count_parameters, register

__all__ = [
    "QNN",
    "READOUTS",
    "REGISTRY",
    "DressedQNN",
    "ExpvalReadout",
    "ModelConfig",
    "ProbsReadout",
    "QuantumLayer",
    "build_model",
    "count_parameters",
    "register",
]
