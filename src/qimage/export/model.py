"""Export a trained model's circuit for one input image.

The model runs once on the (preprocessed) image with a forward hook on every
:class:`qimage.models.QuantumLayer`, which records exactly what the layer received: for a
dressed QNN that is the angles its classical in-layer computed; for a quanvolution it is one
row per patch. Each recorded row is bound with the layer's trained weights into a
:class:`BoundCircuit`, amplitude vectors included.
"""

from __future__ import annotations

import numpy as np
import torch

from qimage.errors import CircuitError
from qimage.export.bound import BoundCircuit, bind
from qimage.models import ExpvalReadout, ProbsReadout, QuantumLayer
from qimage.sim import Probs

__all__ = ["bind_layer", "capture_circuits", "describe_readout"]


def describe_readout(model: torch.nn.Module, layer: QuantumLayer) -> str:
    """One line: how the model turns this layer's measurements into class scores."""
    readout = getattr(model, "readout", None)
    wires = list(getattr(layer.measurement, "wires", None) or range(layer.qc.n_qubits))
    if isinstance(readout, ProbsReadout):
        n = readout.bias.numel()
        return (
            f"probabilities of wires {wires}; outcome j votes for class j mod {n}; "
            "logit_c = scale_c * log p_c + bias_c"
        )
    if isinstance(readout, ExpvalReadout):
        return f"<Z> of wires {wires} -> logit_c = scale_c * <Z_c> + bias_c"
    if readout is None and isinstance(layer.measurement, Probs):  # generative: no classes
        return f"the model's output: probabilities of bit strings of wires {wires}, wire 0 first"
    return f"<Z> of wires {wires}, then the model's classical layers"


def _record(layers):
    seen: dict[int, torch.Tensor] = {}
    hooks = [
        layer.register_forward_pre_hook(lambda mod, args, i=i: seen.setdefault(i, args[0]))
        for i, layer in enumerate(layers)
    ]
    return seen, hooks


@torch.no_grad()
def capture_circuits(model: torch.nn.Module, features: torch.Tensor, row: int = 0):
    """The bound circuits of every quantum layer for one preprocessed sample ``(1, F)``.

    Args:
        row: which of the layer's recorded rows to bind (a patch index for quanvolution).

    Returns:
        One :class:`BoundCircuit` per quantum layer.
    """
    layers = [m for m in model.modules() if isinstance(m, QuantumLayer)]
    if not layers:
        raise CircuitError("the model has no quantum layer to export")
    seen, hooks = _record(layers)
    try:
        model.eval()
        model(features)
    finally:
        for hook in hooks:
            hook.remove()
    return [bind_layer(model, layer, seen[i], row) for i, layer in enumerate(layers)]


def bind_layer(model, layer: QuantumLayer, recorded: torch.Tensor, row: int) -> BoundCircuit:
    """Bind row ``row`` of what ``layer`` received, ``(..., F)``, with its trained weights."""
    # export reads numbers on the host, wherever the model ran
    flat = recorded.detach().cpu().reshape(-1, layer.n_features).to(layer.weights.dtype)
    if not 0 <= row < flat.shape[0]:
        raise CircuitError(f"row {row} out of range: the layer saw {flat.shape[0]} rows")
    x = flat[row : row + 1]
    qc = layer.qc
    inputs = qc.prepare(x)[0].detach().double().numpy() if qc.circuit.n_inputs else None
    state = qc.initial_state(x, torch.complex128)
    vector = None if state is None else state.detach().reshape(-1).numpy().astype(np.complex128)
    wires = getattr(layer.measurement, "wires", None)
    return bind(
        qc.circuit,
        inputs,
        layer.weights.detach().cpu().double().numpy(),
        state=vector,
        measured=wires,
        readout=describe_readout(model, layer),
    )
