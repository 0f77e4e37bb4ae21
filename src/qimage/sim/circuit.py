"""Circuits as data: frozen ops that say which gate acts where, and where its angles come from.

A :class:`Circuit` is a tuple of :class:`Op` s. Each op names a gate of
:data:`qimage.sim.gates.GATES`, its wires, and one :class:`Param` per gate parameter. A param
says where the angle comes from:

* ``Param.input(i)``: feature ``i`` of each sample, ``x[:, i]`` (data encoding);
* ``Param.weight(j)``: trainable weight ``w[j]``, shared by the batch;
* ``Param.scaled_input(i, j)``: ``w[j] * x[:, i]`` (trainable input scaling);
* ``Param.const(v)``: a fixed angle.

Every source also carries a constant ``scale`` factor. The same op list drives simulation,
every gradient method, drawing and export.

Example:
    >>> c = Circuit(2, [Op("RY", (0,), (Param.input(0),)), Op("CNOT", (0, 1)),
    ...                 Op("RX", (1,), (Param.weight(0),))])
    >>> c.n_inputs, c.n_weights
    (1, 1)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from qimage.errors import CircuitError
from qimage.sim.gates import get_gate
from qimage.sim.state import check_n_qubits

__all__ = ["Circuit", "Op", "Param"]


@dataclass(frozen=True)
class Param:
    """Where one gate angle comes from: ``scale * x[:, x] * w[w]``, absent factors being 1.

    Build it with the named constructors: ``Param.input(i)``, ``Param.weight(j)``,
    ``Param.scaled_input(i, j)`` or ``Param.const(v)``.
    """

    x: int | None = None
    w: int | None = None
    scale: float = 1.0

    @classmethod
    def input(cls, i: int, scale: float = 1.0) -> Param:
        """Feature ``i`` of each sample, times ``scale``."""
        return cls(x=int(i), scale=float(scale))

    @classmethod
    def weight(cls, j: int, scale: float = 1.0) -> Param:
        """Trainable weight ``j``, times ``scale``."""
        return cls(w=int(j), scale=float(scale))

    @classmethod
    def scaled_input(cls, i: int, j: int, scale: float = 1.0) -> Param:
        """Feature ``i`` times trainable weight ``j`` (trainable input scaling)."""
        return cls(x=int(i), w=int(j), scale=float(scale))

    @classmethod
    def const(cls, value: float) -> Param:
        """A fixed angle."""
        return cls(scale=float(value))

    @property
    def is_const(self) -> bool:
        return self.x is None and self.w is None

    def __str__(self) -> str:
        parts = [f"x{self.x}"] if self.x is not None else []
        parts += [f"w{self.w}"] if self.w is not None else []
        if self.scale != 1.0 or not parts:
            parts.insert(0, f"{self.scale:.4g}")
        return "*".join(parts)


@dataclass(frozen=True)
class Op:
    """One gate application: ``Op("CRX", (0, 1), (Param.weight(3),))``."""

    gate: str
    wires: tuple[int, ...]
    params: tuple[Param, ...] = field(default=())

    def __post_init__(self) -> None:
        wires = (self.wires,) if isinstance(self.wires, int) else tuple(self.wires)
        object.__setattr__(self, "wires", tuple(int(w) for w in wires))
        object.__setattr__(self, "params", tuple(self.params))
        gate = get_gate(self.gate)
        if gate.n_wires is not None and len(self.wires) != gate.n_wires:
            raise CircuitError(
                f"{self.gate} acts on {gate.n_wires} wire(s), got wires {self.wires}"
            )
        if not self.wires or len(set(self.wires)) != len(self.wires):
            raise CircuitError(f"{self.gate} needs distinct wires, got {self.wires}")
        if len(self.params) != gate.n_params:
            raise CircuitError(
                f"{self.gate} takes {gate.n_params} parameter(s), got {len(self.params)}"
            )
        if not all(isinstance(p, Param) for p in self.params):
            raise CircuitError(f"{self.gate}: parameters must be Param objects, got {self.params}")

    def __str__(self) -> str:
        args = f"({', '.join(map(str, self.params))})" if self.params else ""
        return f"{self.gate}{args} @ {list(self.wires)}"


@dataclass(frozen=True)
class Circuit:
    """An ``n_qubits`` circuit: an immutable tuple of ops plus its input and weight counts.

    ``n_inputs`` and ``n_weights`` default to one more than the largest index the ops use;
    pass larger values to declare unused features or weights.
    """

    n_qubits: int
    ops: tuple[Op, ...] = ()
    n_inputs: int | None = None
    n_weights: int | None = None

    def __post_init__(self) -> None:
        check_n_qubits(self.n_qubits)
        object.__setattr__(self, "ops", tuple(self.ops))
        for op in self.ops:
            if not isinstance(op, Op):
                raise CircuitError(f"circuit ops must be Op objects, got {op!r}")
            bad = [w for w in op.wires if not 0 <= w < self.n_qubits]
            if bad:
                raise CircuitError(
                    f"{op}: wire {bad[0]} is out of range for a {self.n_qubits}-qubit circuit "
                    f"(wires are 0..{self.n_qubits - 1})"
                )
        self._set_count("n_inputs", [p.x for p in self.params])
        self._set_count("n_weights", [p.w for p in self.params])

    def _set_count(self, name: str, used: Iterable[int | None]) -> None:
        indices = [i for i in used if i is not None]
        if any(i < 0 for i in indices):
            raise CircuitError(f"{name}: parameter indices must be >= 0")
        needed = max(indices, default=-1) + 1
        given = getattr(self, name)
        if given is None:
            object.__setattr__(self, name, needed)
        elif given < needed:
            raise CircuitError(f"the ops use {needed} {name[2:]}, but {name}={given}")

    @property
    def params(self) -> tuple[Param, ...]:
        """All gate parameters in op order (one *slot* each)."""
        return tuple(p for op in self.ops for p in op.params)

    def __add__(self, other: Circuit) -> Circuit:
        """Concatenate two circuits on the same qubits (inputs and weights indices are shared)."""
        if not isinstance(other, Circuit) or other.n_qubits != self.n_qubits:
            raise CircuitError("only circuits with the same number of qubits can be concatenated")
        return Circuit(
            self.n_qubits,
            self.ops + other.ops,
            max(self.n_inputs, other.n_inputs),
            max(self.n_weights, other.n_weights),
        )

    def __len__(self) -> int:
        return len(self.ops)

    def __str__(self) -> str:
        head = f"Circuit({self.n_qubits} qubits, {len(self.ops)} ops, "
        head += f"{self.n_inputs} inputs, {self.n_weights} weights)"
        return "\n".join([head, *(f"  {op}" for op in self.ops)])
