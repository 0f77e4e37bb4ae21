"""Encoders: how classical features enter the circuit.

An encoder is a small frozen dataclass with

* ``n_features(n_qubits)``: the most features it can encode on ``n_qubits`` wires;
* ``n_inputs(n_features)``: how many circuit inputs its ops read (after :meth:`prepare`);
* ``weight_shape(n_qubits, n_features)``: its own trainable weights (only re-uploading has any);
* ``prepare(x)``: features ``(B, F)`` -> circuit inputs ``(B, n_inputs)`` (torch, differentiable);
* ``ops(n_qubits, n_features, weight_offset)``: the op list reading those inputs;
* ``initial_state(x, n_qubits, dtype)``: a prepared state, or ``None`` for ``|0...0>``.

``check(n_features, n_qubits)`` fails early with a message that states the limit.

Example:
    >>> enc = AngleEncoder("Y")
    >>> enc.n_features(4)
    4
    >>> [str(op) for op in enc.ops(2, 2)]
    ['RY(x0) @ [0]', 'RY(x1) @ [1]']
"""

from __future__ import annotations

import itertools
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from qimage.errors import CircuitError
from qimage.sim import Op, Param, amplitude_state

__all__ = [
    "AmplitudeEncoder",
    "AngleEncoder",
    "IQPEncoder",
    "ReuploadingEncoder",
    "fewest_qubits",
]


class _Encoder(ABC):
    """Shared behaviour: the limit check and the defaults of encoders without extras."""

    name = "encoder"
    reuploads = False
    prepares_state = False  # True: the input is the initial state itself, no encoding gates

    @abstractmethod
    def n_features(self, n_qubits: int) -> int:
        """The most features this encoder can take on ``n_qubits`` wires."""

    @abstractmethod
    def ops(self, n_qubits: int, n_features: int, weight_offset: int = 0) -> list[Op]:
        """The encoding ops, reading circuit inputs ``0..n_inputs-1``."""

    def check(self, n_features: int, n_qubits: int) -> None:
        limit = self.n_features(n_qubits)
        if not 1 <= n_features <= limit:
            raise CircuitError(
                f"{self.name} encoding takes 1 to {limit} features on {n_qubits} qubits, "
                f"got {n_features}"
            )

    def pairs_of(self, n_features: int) -> list[tuple[int, int]]:
        """Feature pairs ``(i, j)`` whose products ``(pi - x_i)(pi - x_j)`` follow the
        features among the circuit inputs (none by default)."""
        return []

    def n_inputs(self, n_features: int) -> int:
        return n_features + len(self.pairs_of(n_features))

    def weight_shape(self, n_qubits: int, n_features: int) -> tuple[int, ...]:
        return (0,)

    def init_weights(self, shape: tuple[int, ...], generator=None) -> torch.Tensor:
        return torch.zeros(shape)

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Circuit inputs ``(B, n_inputs)`` from features ``(B, F)``: the features, then the
        products of :meth:`pairs_of` (export scripts write the same formula)."""
        pairs = self.pairs_of(x.shape[1])
        if not pairs:
            return x
        i, j = (torch.tensor(idx, device=x.device) for idx in zip(*pairs, strict=True))
        return torch.cat([x, (math.pi - x[:, i]) * (math.pi - x[:, j])], dim=1)

    def initial_state(self, x: torch.Tensor, n_qubits: int, dtype) -> torch.Tensor | None:
        return None


def _check_letters(rotations: str) -> str:
    if not rotations or set(rotations) - set("XYZ"):
        raise CircuitError(f"rotations must be letters among X, Y, Z, got {rotations!r}")
    return rotations


@dataclass(frozen=True)
class AngleEncoder(_Encoder):
    """One rotation per feature: feature ``i`` is angle ``R(x_i)`` on wire ``i % n``.

    ``rotations="YZ"`` applies RY to the first ``n`` features and RZ to the next ``n``, so
    ``n_features(n) = len(rotations) * n``. Scale features to an angle range (for example
    ``[0, pi]``) beforehand.
    """

    rotations: str = "Y"
    name = "angle"

    def n_features(self, n_qubits: int) -> int:
        return len(_check_letters(self.rotations)) * n_qubits

    def ops(self, n_qubits: int, n_features: int, weight_offset: int = 0) -> list[Op]:
        self.check(n_features, n_qubits)
        return [
            Op(f"R{self.rotations[i // n_qubits]}", i % n_qubits, (Param.input(i),))
            for i in range(n_features)
        ]


@dataclass(frozen=True)
class AmplitudeEncoder(_Encoder):
    """Features as the amplitudes of the state: up to ``2^n`` features, zero-padded and
    L2-normalised (an all-zero sample is an error). No gates: the state is prepared directly;
    export decomposes the preparation into gates.
    """

    name = "amplitude"
    prepares_state = True

    def n_features(self, n_qubits: int) -> int:
        return 2**n_qubits

    def n_inputs(self, n_features: int) -> int:
        return 0

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :0]

    def ops(self, n_qubits: int, n_features: int, weight_offset: int = 0) -> list[Op]:
        self.check(n_features, n_qubits)
        return []

    def initial_state(self, x: torch.Tensor, n_qubits: int, dtype) -> torch.Tensor:
        return amplitude_state(x, n_qubits, dtype=dtype)


@dataclass(frozen=True)
class IQPEncoder(_Encoder):
    """The IQP / ZZ feature map (Havlicek et al. 2019): ``reps`` times H on every wire,
    ``RZ(x_i)``, then ``IsingZZ((pi - x_i)(pi - x_j))`` on pairs.

    ``pairs="all"`` entangles every pair, ``"ring"`` only neighbours. One feature per qubit.
    """

    reps: int = 2
    pairs: str = "all"
    name = "iqp"

    def n_features(self, n_qubits: int) -> int:
        return n_qubits

    def pairs_of(self, n: int) -> list[tuple[int, int]]:
        if self.pairs == "all":
            return list(itertools.combinations(range(n), 2))
        if self.pairs == "ring":
            return sorted({tuple(sorted((q, (q + 1) % n))) for q in range(n) if n > 1})
        raise CircuitError(f"IQP pairs must be 'all' or 'ring', got {self.pairs!r}")

    def ops(self, n_qubits: int, n_features: int, weight_offset: int = 0) -> list[Op]:
        self.check(n_features, n_qubits)
        if self.reps < 1:
            raise CircuitError(f"IQP reps must be >= 1, got {self.reps}")
        layer = [Op("H", q) for q in range(n_features)]
        layer += [Op("RZ", q, (Param.input(q),)) for q in range(n_features)]
        layer += [
            Op("IsingZZ", pair, (Param.input(n_features + k),))
            for k, pair in enumerate(self.pairs_of(n_features))
        ]
        return layer * self.reps


@dataclass(frozen=True)
class ReuploadingEncoder(_Encoder):
    """Data re-uploading (Perez-Salinas et al. 2020): the angle encoding is repeated before
    every ansatz layer, each time with trainable per-feature input scaling ``w * x_i``.

    A model built with it interleaves encoding and ansatz layers; this object encodes one
    layer's worth, and its weights are the scalings of that layer (initialised to 1).
    """

    rotations: str = "Y"
    name = "reupload"
    reuploads = True

    def n_features(self, n_qubits: int) -> int:
        return len(_check_letters(self.rotations)) * n_qubits

    def weight_shape(self, n_qubits: int, n_features: int) -> tuple[int, ...]:
        return (n_features,)

    def init_weights(self, shape: tuple[int, ...], generator=None) -> torch.Tensor:
        return torch.ones(shape)

    def ops(self, n_qubits: int, n_features: int, weight_offset: int = 0) -> list[Op]:
        self.check(n_features, n_qubits)
        return [
            Op(
                f"R{self.rotations[i // n_qubits]}",
                i % n_qubits,
                (Param.scaled_input(i, weight_offset + i),),
            )
            for i in range(n_features)
        ]


def fewest_qubits(encoder, n_features: int) -> int:
    """The fewest qubits on which ``encoder`` takes ``n_features`` features.

    Example:
        >>> fewest_qubits(AmplitudeEncoder(), 64)
        6
    """
    n = 1
    while encoder.n_features(n) < n_features:
        n += 1
    return n
