"""A trained model's inference as a standalone PennyLane script (``qimage export --format
pennylane``).

The script needs only NumPy and PennyLane. It defines, for one quantum layer of the model:

* ``circuit(x, weights)``: a QNode of the layer's input ``x`` (for a QNN, the preprocessed
  feature vector; for a dressed QNN, the angles its classical in-layer computes) and the
  flat circuit weights, returning the model's own measurement (``<Z>`` of its wires, or the
  probabilities of its wires);
* ``logits(x)``: the model's class scores for one preprocessed feature vector: the readout's
  trained scale and bias (or the dressed QNN's classical layers) applied to ``circuit``;
  absent for models whose classical part is not written out (quanvolution);
* ``INPUT``, ``FEATURES`` and ``WEIGHTS``: the exported sample and the trained weights.

Gate names come from the gate table's ``pennylane`` column; the circuit's angles stay
formulas of ``x`` and ``weights`` (``scale * x[i] * weights[j]``), as in qimage.

Example:
    >>> from qimage.circuits import AngleEncoder, BasicEntangler
    >>> from qimage.models import QNN
    >>> import torch
    >>> model = QNN(AngleEncoder(), BasicEntangler(), 2, 1, 2, 2)
    >>> "def logits(x):" in pennylane_script(model, torch.rand(1, 2))
    True
"""

from __future__ import annotations

import torch
from torch import nn

from qimage.errors import CircuitError
from qimage.export.decompose import target_gates
from qimage.export.model import _record, describe_readout
from qimage.models import DressedQNN, ExpvalReadout, ProbsReadout, QuantumLayer
from qimage.models.readout import _EPS
from qimage.sim import ExpvalZ, Probs

__all__ = ["pennylane_script"]


def _ops_table(layer: QuantumLayer) -> str:
    """``OPS``: (PennyLane name, wires, ((scale, input, weight), ...)) for every gate."""
    names = target_gates("pennylane")
    rows = []
    for op in layer.qc.circuit.ops:
        if op.gate not in names:
            raise CircuitError(f"PennyLane has no gate {op.gate} to write into a script")
        params = tuple((p.scale, p.x, p.w) for p in op.params)
        rows.append(f"    ({names[op.gate]!r}, {list(op.wires)}, {params!r}),")
    return "\n".join(["OPS = [", *rows, "]"])


def _measurement(layer: QuantumLayer) -> str:
    wires = list(layer.measurement.wires or range(layer.qc.n_qubits))
    if isinstance(layer.measurement, Probs):
        return f"qml.probs(wires={wires})"
    if isinstance(layer.measurement, ExpvalZ):
        return f"[qml.expval(qml.Z(w)) for w in {wires}]"
    raise CircuitError(f"cannot write the measurement {layer.measurement!r} into a script")


def _encoding(layer: QuantumLayer) -> list[str]:
    """Body lines preparing the encoded state, or naming the circuit inputs ``a`` as the
    encoder's ``prepare`` computes them (features, then products over its pairs)."""
    qc = layer.qc
    if qc.encoder.prepares_state:
        wires = list(range(qc.n_qubits))
        return [f"    qml.AmplitudeEmbedding(x, wires={wires}, pad_with=0.0, normalize=True)"]
    return [
        f"    PAIRS = {qc.encoder.pairs_of(qc.n_features)!r}",
        "    a = np.concatenate([x, [(np.pi - x[i]) * (np.pi - x[j]) for i, j in PAIRS]])",
    ]


def _circuit(layer: QuantumLayer) -> list[str]:
    return [
        _ops_table(layer),
        "",
        "",
        "@qml.qnode(dev)",
        "def circuit(x, weights):",
        '    """The circuit on the layer input x and the flat weights, measured as the model."""',
        "    x = np.asarray(x, dtype=float)",
        *_encoding(layer),
        "    for gate, wires, params in OPS:",
        "        angles = [",
        "            s * (1.0 if i is None else a[i]) * (1.0 if j is None else weights[j])",
        "            for s, i, j in params",
        "        ]",
        "        getattr(qml, gate)(*angles, wires=wires)",
        f"    return {_measurement(layer)}",
    ]


def _linear_layers(module: nn.Module) -> str:
    """A Linear or Linear-ReLU-... stack as a list of (W, b) pairs, ``None`` for a ReLU."""
    parts = []
    for sub in module if isinstance(module, nn.Sequential) else [module]:
        if isinstance(sub, nn.Linear):
            parts.append(f"({sub.weight.double().tolist()!r}, {sub.bias.double().tolist()!r})")
        elif isinstance(sub, nn.ReLU):
            parts.append("None")
        else:
            raise CircuitError(f"cannot write the layer {sub!r} into a script")
    return f"[{', '.join(parts)}]"


_DENSE = [
    "def dense(x, layers):",
    "    for layer in layers:",
    "        x = np.maximum(x, 0.0) if layer is None else np.array(layer[0]) @ x + layer[1]",
    "    return x",
]


def _head(model: nn.Module) -> list[str]:
    """``logits(x)`` for the models whose classical part is a readout or linear layers."""
    readout = getattr(model, "readout", None)
    if isinstance(readout, ExpvalReadout | ProbsReadout):
        scale, bias = readout.scale.double().tolist(), readout.bias.double().tolist()
        lines = [f"SCALE = np.array({scale!r})", f"BIAS = np.array({bias!r})", "", ""]
        lines += ["def logits(x):", '    """Class scores of one preprocessed feature vector."""']
        if isinstance(readout, ExpvalReadout):
            return [*lines, "    return SCALE * np.array(circuit(x, WEIGHTS)) + BIAS"]
        return [
            *lines,
            "    probs = np.asarray(circuit(x, WEIGHTS))",
            "    outcome = np.arange(probs.shape[0]) % len(BIAS)  # outcome j votes for j mod C",
            "    p = np.bincount(outcome, weights=probs, minlength=len(BIAS))",
            f"    return SCALE * np.log(np.maximum(p, {_EPS!r})) + BIAS",
        ]
    if isinstance(model, DressedQNN):
        return [
            f"PRE = {_linear_layers(model.pre)}",
            f"POST = {_linear_layers(model.post)}",
            "",
            "",
            *_DENSE,
            "",
            "",
            "def logits(x):",
            '    """Class scores of one preprocessed feature vector."""',
            "    angles = np.pi / 2 * np.tanh(dense(np.asarray(x, dtype=float), PRE))",
            f"    registers = angles.reshape({model.registers}, -1)  # one circuit per register",
            "    outputs = [np.array(circuit(a, WEIGHTS)) for a in registers]",
            "    return dense(np.concatenate(outputs), POST)",
        ]
    return []


def _layer_input(model: nn.Module, layer: QuantumLayer, features: torch.Tensor, row: int):
    seen, hooks = _record([layer])
    try:
        with torch.no_grad():
            model(features)
    finally:
        for hook in hooks:
            hook.remove()
    flat = seen[0].reshape(-1, layer.n_features)
    if not 0 <= row < flat.shape[0]:
        raise CircuitError(f"row {row} out of range: the layer saw {flat.shape[0]} rows")
    return flat[row].double().tolist()


def pennylane_script(
    model: nn.Module, features: torch.Tensor, source: str = "", row: int = 0
) -> str:
    """Python source of the model's first quantum layer as a PennyLane script.

    Args:
        features: one preprocessed sample ``(1, F)``, written as ``FEATURES``.
        source: where the sample came from, for the header comment.
        row: which of the layer's inputs is ``INPUT`` (a patch index for quanvolution).
    """
    layer = next((m for m in model.modules() if isinstance(m, QuantumLayer)), None)
    if layer is None:
        raise CircuitError("the model has no quantum layer to export")
    head = _head(model)
    main = "logits(FEATURES)" if head else "circuit(INPUT, WEIGHTS)"
    lines = [
        f"# qimage export, input: {source}",
        f"# readout: {describe_readout(model, layer)}",
        "import numpy as np",
        "import pennylane as qml",
        "",
        f"FEATURES = {features.reshape(-1).double().tolist()!r}",
        f"INPUT = {_layer_input(model, layer, features, row)!r}",
        f"WEIGHTS = np.array({layer.weights.double().tolist()!r})",
        f'dev = qml.device("default.qubit", wires={layer.qc.n_qubits})',
        *_circuit(layer),
        "",
        "",
    ]
    if head:
        lines += [*head, "", ""]
    lines += ['if __name__ == "__main__":', f"    print({main})"]
    return "\n".join(lines) + "\n"
