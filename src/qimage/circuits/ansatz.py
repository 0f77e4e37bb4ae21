"""Variational ansatzes: the trainable layers of a QNN, as op lists.

Each ansatz is a frozen dataclass with

* ``weight_shape(n_layers, n_qubits)``: the shape of its weights (flattened row-major into
  the circuit's weight vector, starting at ``weight_offset``);
* ``layers(n_layers, n_qubits, weight_offset)``: one op list per layer (so that re-uploading
  can interleave encodings), and ``ops(...)``, all layers in one list;
* ``output_wires(n_layers, n_qubits)``: the wires worth measuring (all but for QCNN);
* ``init_weights(shape, generator)``: angles uniform in ``[0, 2 pi)``.

``check(n_layers, n_qubits)`` fails early with a message that states the limit.

Example:
    >>> StronglyEntangling().weight_shape(2, 4)
    (2, 4, 3)
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import torch

from qimage.errors import CircuitError
from qimage.sim import Op, Param

__all__ = [
    "QCNN",
    "BasicEntangler",
    "HardwareEfficient",
    "Separable",
    "StronglyEntangling",
]


class _Ansatz(ABC):
    name = "ansatz"

    @abstractmethod
    def weight_shape(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        """Shape of the weights of ``n_layers`` layers on ``n_qubits`` wires."""

    @abstractmethod
    def layers(self, n_layers: int, n_qubits: int, weight_offset: int = 0) -> list[list[Op]]:
        """One op list per layer."""

    def check(self, n_layers: int, n_qubits: int) -> None:
        if not isinstance(n_layers, int) or n_layers < 1:
            raise CircuitError(f"{self.name} needs n_layers >= 1, got {n_layers!r}")
        if not isinstance(n_qubits, int) or n_qubits < 1:
            raise CircuitError(f"{self.name} needs n_qubits >= 1, got {n_qubits!r}")

    def n_weights(self, n_layers: int, n_qubits: int) -> int:
        return math.prod(self.weight_shape(n_layers, n_qubits))

    def ops(self, n_layers: int, n_qubits: int, weight_offset: int = 0) -> list[Op]:
        return [op for layer in self.layers(n_layers, n_qubits, weight_offset) for op in layer]

    def output_wires(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        return tuple(range(n_qubits))

    def init_weights(self, shape: tuple[int, ...], generator=None) -> torch.Tensor:
        return 2 * math.pi * torch.rand(shape, generator=generator)


def _weights(offset: int, count: int) -> list[Param]:
    return [Param.weight(offset + k) for k in range(count)]


def _ring(n: int, distance: int) -> list[Op]:
    """CNOT(i, i + distance mod n) for every wire (none on one wire)."""
    if n == 1:
        return []
    return [Op("CNOT", (q, (q + distance) % n)) for q in range(n)]


@dataclass(frozen=True)
class StronglyEntangling(_Ansatz):
    """PennyLane's StronglyEntanglingLayers: ``Rot`` on every wire, then a CNOT ring whose
    range in layer ``l`` is ``ranges[l]`` (default ``l mod (n - 1) + 1``). Weights ``(L, n, 3)``.
    """

    ranges: tuple[int, ...] | None = None
    name = "strongly_entangling"

    def weight_shape(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        self.check(n_layers, n_qubits)
        return (n_layers, n_qubits, 3)

    def _range(self, layer: int, n: int) -> int:
        if self.ranges is None:
            return layer % max(n - 1, 1) + 1
        if len(self.ranges) <= layer:
            raise CircuitError(f"ranges has {len(self.ranges)} entries, need one per layer")
        return self.ranges[layer]

    def layers(self, n_layers: int, n_qubits: int, weight_offset: int = 0) -> list[list[Op]]:
        self.weight_shape(n_layers, n_qubits)
        out = []
        for layer in range(n_layers):
            base = weight_offset + 3 * n_qubits * layer
            ops = [Op("Rot", q, tuple(_weights(base + 3 * q, 3))) for q in range(n_qubits)]
            out.append(ops + _ring(n_qubits, self._range(layer, n_qubits)))
        return out


@dataclass(frozen=True)
class BasicEntangler(_Ansatz):
    """PennyLane's BasicEntanglerLayers: ``RX`` on every wire, then a CNOT ring (a single CNOT
    on two wires). Weights ``(L, n)``.
    """

    name = "basic"

    def weight_shape(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        self.check(n_layers, n_qubits)
        return (n_layers, n_qubits)

    def layers(self, n_layers: int, n_qubits: int, weight_offset: int = 0) -> list[list[Op]]:
        self.weight_shape(n_layers, n_qubits)
        ring = [Op("CNOT", (0, 1))] if n_qubits == 2 else _ring(n_qubits, 1)
        return [
            [
                Op("RX", q, (Param.weight(weight_offset + layer * n_qubits + q),))
                for q in range(n_qubits)
            ]
            + ring
            for layer in range(n_layers)
        ]


@dataclass(frozen=True)
class HardwareEfficient(_Ansatz):
    """``RY`` then ``RZ`` on every wire, then a CZ ladder ``(0,1), (1,2), ...``.
    Weights ``(L, n, 2)``.
    """

    name = "hardware_efficient"

    def weight_shape(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        self.check(n_layers, n_qubits)
        return (n_layers, n_qubits, 2)

    def layers(self, n_layers: int, n_qubits: int, weight_offset: int = 0) -> list[list[Op]]:
        self.weight_shape(n_layers, n_qubits)
        out = []
        for layer in range(n_layers):
            base = weight_offset + 2 * n_qubits * layer
            ops = []
            for q in range(n_qubits):
                ry, rz = _weights(base + 2 * q, 2)
                ops += [Op("RY", q, (ry,)), Op("RZ", q, (rz,))]
            out.append(ops + [Op("CZ", (q, q + 1)) for q in range(n_qubits - 1)])
        return out


# Parameters of one QCNN convolution block (U3 on each wire, then XX, YY, ZZ couplings) and
# of one pooling block (two controlled rotations from the dropped wire onto the kept one).
_CONV_PARAMS = 9
_POOL_PARAMS = 2


@dataclass(frozen=True)
class QCNN(_Ansatz):
    """A quantum convolutional network (Cong et al. 2019): each layer is a *level* that
    convolves neighbouring active wires in a brick pattern, then pools them in pairs,
    keeping half. After ``L`` levels ``ceil(n / 2^L)`` wires remain: :meth:`output_wires`.
    Weights are one flat vector.
    """

    name = "qcnn"

    def _levels(self, n_layers: int, n_qubits: int) -> list[tuple[int, ...]]:
        self.check(n_layers, n_qubits)
        active, levels = tuple(range(n_qubits)), []
        for _ in range(n_layers):
            if len(active) < 2:
                raise CircuitError(
                    f"QCNN on {n_qubits} qubits has at most {len(levels)} levels "
                    f"(n_layers), got {n_layers}"
                )
            levels.append(active)
            active = active[::2]
        return levels

    def weight_shape(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        total = 0
        for active in self._levels(n_layers, n_qubits):
            total += _CONV_PARAMS * (len(active) - 1) + _POOL_PARAMS * (len(active) // 2)
        return (total,)

    def output_wires(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        return self._levels(n_layers, n_qubits)[-1][::2]

    def layers(self, n_layers: int, n_qubits: int, weight_offset: int = 0) -> list[list[Op]]:
        out, offset = [], weight_offset
        for active in self._levels(n_layers, n_qubits):
            pairs = list(itertools.pairwise(active))
            ops = []
            for a, b in pairs[::2] + pairs[1::2]:  # brick wall: even bonds, then odd bonds
                ops += _conv_block(a, b, offset)
                offset += _CONV_PARAMS
            for kept, dropped in zip(active[::2], active[1::2], strict=False):
                ops += _pool_block(kept, dropped, offset)
                offset += _POOL_PARAMS
            out.append(ops)
        return out


def _conv_block(a: int, b: int, offset: int) -> list[Op]:
    w = _weights(offset, _CONV_PARAMS)
    return [
        Op("U3", a, tuple(w[0:3])),
        Op("U3", b, tuple(w[3:6])),
        Op("IsingXX", (a, b), (w[6],)),
        Op("IsingYY", (a, b), (w[7],)),
        Op("IsingZZ", (a, b), (w[8],)),
    ]


def _pool_block(kept: int, dropped: int, offset: int) -> list[Op]:
    w = _weights(offset, _POOL_PARAMS)
    return [
        Op("CRZ", (dropped, kept), (w[0],)),
        Op("X", dropped),
        Op("CRX", (dropped, kept), (w[1],)),
    ]


@dataclass(frozen=True)
class Separable(_Ansatz):
    """The control experiment: another ansatz with every multi-qubit gate removed.

    It keeps the weight shape of ``of`` (so parameter counts match); weights that fed the
    removed gates go unused. A product state in, a product state out: no entanglement.
    """

    of: _Ansatz = field(default_factory=StronglyEntangling)
    name = "separable"

    def weight_shape(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        return self.of.weight_shape(n_layers, n_qubits)

    def output_wires(self, n_layers: int, n_qubits: int) -> tuple[int, ...]:
        return self.of.output_wires(n_layers, n_qubits)

    def layers(self, n_layers: int, n_qubits: int, weight_offset: int = 0) -> list[list[Op]]:
        return [
            [op for op in layer if len(op.wires) == 1]
            for layer in self.of.layers(n_layers, n_qubits, weight_offset)
        ]
