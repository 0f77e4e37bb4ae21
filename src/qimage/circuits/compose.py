"""Putting an encoder and an ansatz together into one circuit with a flat weight vector.

Weights are laid out as: the ansatz's weights (row-major in its ``weight_shape``), then the
encoder's, one block per upload for re-uploading encoders. A re-uploading encoder is
repeated before every ansatz layer; any other encoder runs once, before all layers.

Example:
    >>> from qimage.circuits import AngleEncoder, StronglyEntangling
    >>> qc = compose(AngleEncoder(), StronglyEntangling(), n_qubits=4, n_layers=2, n_features=4)
    >>> qc.circuit.n_inputs, qc.circuit.n_weights
    (4, 24)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from qimage.sim import Circuit

__all__ = ["QNNCircuit", "compose"]


@dataclass(frozen=True)
class QNNCircuit:
    """An encoder and an ansatz compiled into one :class:`qimage.sim.Circuit`.

    Attributes:
        circuit: the op list; ``circuit.n_inputs`` inputs come from ``prepare(x)``.
        blocks: ``(owner, offset, shape)`` of each weight block in the flat weight vector.
        output_wires: the wires a readout should measure.
    """

    encoder: object
    ansatz: object
    n_qubits: int
    n_layers: int
    n_features: int
    circuit: Circuit
    blocks: tuple[tuple[str, int, tuple[int, ...]], ...]
    output_wires: tuple[int, ...]

    @property
    def n_weights(self) -> int:
        return self.circuit.n_weights

    def init_weights(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A fresh flat weight vector ``(n_weights,)``, each block initialised by its owner."""
        parts = []
        for owner, _, shape in self.blocks:
            template = self.ansatz if owner == "ansatz" else self.encoder
            parts.append(template.init_weights(shape, generator).reshape(-1))
        return torch.cat(parts) if parts else torch.zeros(0)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Features ``(B, n_features)`` -> circuit inputs ``(B, circuit.n_inputs)``."""
        return self.encoder.prepare(x)

    def initial_state(self, x: torch.Tensor, dtype) -> torch.Tensor | None:
        """The prepared state for amplitude encoding, else ``None`` (``|0...0>``)."""
        return self.encoder.initial_state(x, self.n_qubits, dtype)


def compose(encoder, ansatz, n_qubits: int, n_layers: int, n_features: int) -> QNNCircuit:
    """Build the circuit of ``encoder`` followed by (or interleaved with) ``ansatz``."""
    encoder.check(n_features, n_qubits)
    a_shape = ansatz.weight_shape(n_layers, n_qubits)
    a_count = math.prod(a_shape)
    blocks = [("ansatz", 0, a_shape)] if a_count else []
    layers = ansatz.layers(n_layers, n_qubits, 0)
    e_shape = encoder.weight_shape(n_qubits, n_features)
    e_count = math.prod(e_shape)
    uploads = len(layers) if encoder.reuploads else 1
    ops, offset = [], a_count
    for index, layer in enumerate(layers):
        if index < uploads:
            ops += encoder.ops(n_qubits, n_features, weight_offset=offset)
            if e_count:
                blocks.append(("encoder", offset, e_shape))
                offset += e_count
        ops += layer
    circuit = Circuit(n_qubits, ops, n_inputs=encoder.n_inputs(n_features), n_weights=offset)
    wires = ansatz.output_wires(n_layers, n_qubits)
    return QNNCircuit(
        encoder, ansatz, n_qubits, n_layers, n_features, circuit, tuple(blocks), wires
    )
