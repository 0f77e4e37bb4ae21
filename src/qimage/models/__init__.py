"""Models: quantum layers and classifiers as ``torch.nn.Module`` s, in families by name.

* :class:`QuantumLayer`: encoder + ansatz + measurement, usable inside any PyTorch model;
  how it runs (shots, noise, gradient method, device) is a :class:`qimage.sim.Execution`
  passed to each call;
* :class:`QNN`: quantum-only classifier (the readout has one scale and bias per class);
* :class:`DressedQNN`: classical linear in-layer, the circuit, classical linear out-layer;
* :class:`Quanvolution` / :class:`QuanvNet` / :func:`quanv_features`: a circuit
  (:class:`PatchCircuit`) slid over image patches, frozen or trainable, with a classical
  head, and a cached feature map;
* :class:`FidelityKernel` / :class:`ProjectedKernel`: quantum kernels for kernel machines;
* classical twins: :class:`LogisticRegression`, :class:`ProjectedLogisticRegression`,
  :class:`MLP`, :class:`SmallCNN`, and
  :func:`match_params` (the twin with the closest parameter count);
* :class:`Family` / :data:`FAMILIES` / :func:`build_model`: every model kind describes itself
  (options, preprocessing, qubits, build, objective); a :class:`ModelConfig` names one
  (``qnn``, ``dressed``, ``quanv``, ``quanv_twin``, ``logreg``, ``projected_logreg``,
  ``mlp``, ``cnn``, ``dressed_classical``) with its options.
"""

from __future__ import annotations

from qimage.models.classical import (
    MLP,
    TWIN_FAMILIES,
    LogisticRegression,
    ProjectedLogisticRegression,
    SmallCNN,
    make_head,
    match_params,
)
from qimage.models.family import Family
from qimage.models.kernel import (
    FidelityKernel,
    ProjectedKernel,
    encoded_states,
    fidelity_gram,
    pauli_expectations,
    projected_gram,
    sample_fidelity,
)
from qimage.models.layer import QuantumLayer, gradient_methods
from qimage.models.objective import CLASSIFICATION, Classification, Objective
from qimage.models.qnn import QNN, DressedQNN
from qimage.models.quanv import (
    PatchCircuit,
    QuanvNet,
    Quanvolution,
    product_state,
    quanv_features,
)
from qimage.models.readout import READOUTS, ExpvalReadout, ProbsReadout
from qimage.models.registry import (
    FAMILIES,
    ModelConfig,
    build_model,
    count_parameters,
    get_family,
    register,
)

__all__ = [
    "CLASSIFICATION",
    "FAMILIES",
    "MLP",
    "QNN",
    "READOUTS",
    "TWIN_FAMILIES",
    "Classification",
    "DressedQNN",
    "ExpvalReadout",
    "Family",
    "FidelityKernel",
    "LogisticRegression",
    "ModelConfig",
    "Objective",
    "PatchCircuit",
    "ProbsReadout",
    "ProjectedKernel",
    "ProjectedLogisticRegression",
    "QuantumLayer",
    "QuanvNet",
    "Quanvolution",
    "SmallCNN",
    "build_model",
    "count_parameters",
    "encoded_states",
    "fidelity_gram",
    "get_family",
    "gradient_methods",
    "make_head",
    "match_params",
    "pauli_expectations",
    "product_state",
    "projected_gram",
    "quanv_features",
    "register",
    "sample_fidelity",
]
