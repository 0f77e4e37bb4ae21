"""Gate fusion: a circuit compiled once into a plan of a few large *blocks*.

Applying ops one at a time costs one pass over the state and several PyTorch calls per gate;
for the small circuits of QML that overhead, not arithmetic, is the run time. The plan
therefore groups ops into blocks, each applied in one pass:

* the wires are cut into contiguous *groups* of at most :data:`MAX_GROUP` qubits; the ops
  that stay inside one group accumulate, in order, into that group's open block;
* an op that spans groups closes the blocks of the groups it touches and forms a block of
  its own (open blocks of other groups act on other wires, so they commute with it);
* blocks whose ops are all permutations (CNOT, SWAP, X) become one gather over the basis
  index, all-diagonal blocks one elementwise product, and the rest one dense
  ``2^k x 2^k`` matrix applied as a (batched) GEMM on a reshaped view of the state;
* neighbouring permutation blocks (a CNOT ring cut by the group boundaries) merge into one
  gather, neighbouring diagonal blocks into one product.

A dense block's matrix is a product of *segments*: runs of one-qubit gates (a Kronecker
product of per-wire 2x2 products), constant permutations, and single multi-qubit gates. Its
leading size is 1 when no op depends on the sample (trainable layers: built once per step,
shared by the batch) and ``B`` otherwise.

When a run starts from ``|0...0>``, the first block on each group of wires acts on a product
state: its result is the block's first column. Those blocks are *folded*: the initial state is
the Kronecker product of their columns (:attr:`Plan.folded`).

Example:
    >>> from qimage.sim import Circuit, Op, Param
    >>> c = Circuit(2, [Op("RY", 0, (Param.weight(0),)), Op("CNOT", (0, 1))])
    >>> [(b.kind, b.wires) for b in compile_plan(c).blocks]
    [('dense', (0, 1))]
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import torch

from qimage.sim.circuit import Circuit
from qimage.sim.gates import GATES, Gate
from qimage.sim.placement import HOST, placed

__all__ = ["MAX_GROUP", "Block", "OpInfo", "Plan", "Segment", "compile_plan", "wire_groups"]

MAX_GROUP = 5
"""Largest wire group: a dense block is at most 32x32 (cost grows as 2^k per amplitude)."""

MAX_GROUP_PER_SAMPLE = 3
"""Largest wire group when per-sample gates follow others (data re-uploading): a per-sample
block is built ``B`` times, so ``B * 4^k`` must stay well below the state's ``B * 2^n``."""

MAX_MERGED = 20
"""Largest wire set of a merged permutation or diagonal block (its index is ``2^k`` long)."""


@dataclass(frozen=True)
class OpInfo:
    """One op of the circuit: its gate row, wires, angle slots, and whether it is per-sample."""

    gate: Gate
    wires: tuple[int, ...]
    slots: tuple[int, ...]
    per_sample: bool


@dataclass(frozen=True, eq=False)
class Segment:
    """One factor of a dense block's matrix, in application order.

    ``kind`` is ``"local"`` (one-qubit gates: ``chains[j]`` lists, in order, the ops on the
    block's ``j``-th wire), ``"permutation"`` (constant local gather ``index``, ``(2^k,)``),
    or ``"op"`` (one multi-qubit gate ``ops[0]``, dense or diagonal).
    """

    kind: str
    ops: tuple[int, ...]
    chains: tuple[tuple[int, ...], ...] = ()
    index: torch.Tensor | None = None
    copies: dict = field(default_factory=dict, init=False, repr=False)

    def gather(self, device) -> torch.Tensor:
        """A permutation segment's ``index`` on ``device`` (copied there once)."""
        return placed(self.copies, self.index, device)


@dataclass(frozen=True, eq=False)
class Block:
    """A fused group of ops applied in one pass over the state.

    Attributes:
        kind: ``"dense"``, ``"diagonal"`` or ``"permutation"``.
        wires: sorted wires the block acts on (a contiguous range when possible).
        ops: indices into :attr:`Plan.ops`, in application order.
        per_sample: whether any op reads an input (the tensor then has leading size ``B``).
        segments: dense blocks only: the factors of the matrix.
        index: permutation blocks only: ``(2^k,)`` gather over the basis of ``wires`` (CPU).
        inverse: permutation blocks only: the inverse gather (CPU).
        copies: their copies on other devices (see :meth:`gather`).
    """

    kind: str
    wires: tuple[int, ...]
    ops: tuple[int, ...]
    per_sample: bool
    segments: tuple[Segment, ...] = ()
    index: torch.Tensor | None = None
    inverse: torch.Tensor | None = None
    copies: dict = field(default_factory=dict, init=False, repr=False)

    def gather(self, device, inverse: bool = False) -> torch.Tensor:
        """A permutation block's ``index`` (or ``inverse``) on ``device``, copied there once."""
        return placed(self.copies, self.inverse if inverse else self.index, device)

    @property
    def contiguous(self) -> bool:
        return self.wires == tuple(range(self.wires[0], self.wires[-1] + 1))


@dataclass(frozen=True, eq=False)
class Plan:
    """A circuit compiled for execution.

    Attributes:
        n_qubits: register size.
        ops: every op of the circuit, in order.
        blocks: the fused blocks, in application order.
        folded: indices of the blocks that start from ``|0>`` on their wires (see module doc).
        x_index, w_index, scale: per angle slot, the feature index (``n_inputs``: none), the
            weight index (``n_weights``: none) and the constant factor, float64, on the CPU
            (:meth:`slot_sources` gives them on a device).
        slot_rule: per angle slot, the parameter-shift rule of its gate.
        copies: the constants' copies on other devices (see :mod:`qimage.sim.placement`).
    """

    n_qubits: int
    ops: tuple[OpInfo, ...]
    blocks: tuple[Block, ...]
    folded: tuple[int, ...]
    x_index: torch.Tensor
    w_index: torch.Tensor
    scale: torch.Tensor
    slot_rule: tuple
    copies: dict = field(default_factory=dict, init=False, repr=False)

    def slot_sources(self, device, real: torch.dtype) -> tuple[torch.Tensor, ...]:
        """``(x_index, w_index, scale)`` on ``device``, the scale in ``real``; copied once."""
        return (
            placed(self.copies, self.x_index, device),
            placed(self.copies, self.w_index, device),
            placed(self.copies, self.scale, device, real),
        )


def wire_groups(n_qubits: int, max_group: int = MAX_GROUP) -> list[range]:
    """Contiguous wire groups of balanced sizes, each at most ``max_group`` wires."""
    count = math.ceil(n_qubits / max_group)
    base, extra = divmod(n_qubits, count)
    sizes = [base + (i < extra) for i in range(count)]
    starts = [sum(sizes[:i]) for i in range(count)]
    return [range(s, s + size) for s, size in zip(starts, sizes, strict=True)]


def _op_infos(circuit: Circuit) -> tuple[OpInfo, ...]:
    infos, slot = [], 0
    for op in circuit.ops:
        slots = tuple(range(slot, slot + len(op.params)))
        slot += len(op.params)
        per_sample = any(p.x is not None for p in op.params)
        infos.append(OpInfo(GATES[op.gate], op.wires, slots, per_sample))
    return tuple(infos)


def _group_ops(ops: tuple[OpInfo, ...], n_qubits: int, max_group: int) -> list[list[int]]:
    """Partition op indices into runs, in a valid application order (see module doc)."""
    group_of = {w: g for g, wires in enumerate(wire_groups(n_qubits, max_group)) for w in wires}
    open_runs: dict[int, list[int]] = {}
    runs: list[list[int]] = []

    def close(group: int) -> None:
        run = open_runs.pop(group, None)
        if run:
            runs.append(run)

    for i, op in enumerate(ops):
        groups = sorted({group_of[w] for w in op.wires})
        if len(groups) == 1:
            open_runs.setdefault(groups[0], []).append(i)
            continue
        for group in groups:
            close(group)
        runs.append([i])
    for group in sorted(open_runs):
        close(group)
    return runs


def _run_kind(ops: tuple[OpInfo, ...], run: list[int]) -> str:
    kinds = {ops[i].gate.kind for i in run}
    return kinds.pop() if len(kinds) == 1 and kinds != {"dense"} else "dense"


def _wires_of(ops: tuple[OpInfo, ...], run: list[int]) -> set[int]:
    return {w for i in run for w in ops[i].wires}


def _merge_runs(ops: tuple[OpInfo, ...], runs: list[list[int]]) -> list[tuple[str, list[int]]]:
    """All-permutation (or all-diagonal) runs merge into an earlier run of the same kind when
    every run between acts on other wires (so they commute), up to :data:`MAX_MERGED` wires.
    A CNOT ring cut by the group boundaries thus becomes one gather."""
    merged: list[tuple[str, list[int]]] = []
    for run in runs:
        kind, wires = _run_kind(ops, run), _wires_of(ops, run)
        target = _merge_target(ops, merged, kind, wires) if kind != "dense" else None
        if target is None:
            merged.append((kind, list(run)))
        else:
            merged[target][1].extend(run)
    return merged


def _merge_target(ops, merged, kind: str, wires: set[int]) -> int | None:
    for i in reversed(range(len(merged))):
        other_kind, other = merged[i]
        other_wires = _wires_of(ops, other)
        if other_kind == kind:
            return i if len(wires | other_wires) <= MAX_MERGED else None
        if not wires.isdisjoint(other_wires):
            return None
    return None


def _block_wires(ops, run: list[int], kind: str, widen: int, n: int) -> tuple[int, ...]:
    """The run's wires, widened to their contiguous hull when cheap: a view of the state then
    replaces two transposing copies. A dense block may grow by one qubit (its cost doubles),
    a gather or a diagonal up to :data:`MAX_MERGED` wires (its cost does not change)."""
    wires = sorted(_wires_of(ops, run))
    hull = tuple(range(wires[0], wires[-1] + 1))
    if widen and kind == "dense" and len(hull) <= min(len(wires) + 1, widen):
        return hull
    if widen and kind == "permutation" and len(wires) < n - wires[0] <= MAX_MERGED:
        return tuple(range(wires[0], n))  # through the last wire: a flat gather (faster)
    if widen and kind != "dense" and len(hull) <= MAX_MERGED:
        return hull
    return tuple(wires)


def _local_index(wires: tuple[int, ...], within: tuple[int, ...]) -> torch.Tensor:
    """For each basis index of ``within`` (sorted wires), the index of its ``wires`` bits."""
    k = len(within)
    index = torch.arange(2**k, device=HOST)
    out = torch.zeros(2**k, dtype=torch.long, device=HOST)
    for w in wires:
        out = out * 2 + ((index >> (k - 1 - within.index(w))) & 1)
    return out


def _permutation_index(ops: tuple[OpInfo, ...], run: list[int], within: tuple[int, ...]):
    """Compose a run of permutation gates into one gather ``out[i] = in[index[i]]``."""
    k = len(within)
    total = torch.arange(2**k, device=HOST)
    for i in run:
        op = ops[i]
        local = op.gate.build(torch.zeros(0, device=HOST), len(op.wires), torch.complex64)
        sub = _local_index(op.wires, within)
        new_sub = local[sub]
        moved = torch.arange(2**k, device=HOST)
        for j, w in enumerate(op.wires):  # replace the op's bits by those of new_sub
            shift = k - 1 - within.index(w)
            bit = (new_sub >> (len(op.wires) - 1 - j)) & 1
            moved = (moved & ~(1 << shift)) | (bit << shift)
        total = total[moved]
    return total


def _segments(ops: tuple[OpInfo, ...], run: list[int], wires: tuple[int, ...]):
    """Split a dense block's ops into segments (see :class:`Segment`)."""
    segments: list[Segment] = []
    chains: dict[int, list[int]] | None = None
    perm_run: list[int] = []

    def flush_perm() -> None:
        if perm_run:
            index = _permutation_index(ops, perm_run, wires)
            segments.append(Segment("permutation", tuple(perm_run), index=index))
            perm_run.clear()

    for i in run:
        op = ops[i]
        if len(op.wires) == 1:
            flush_perm()
            if chains is None:
                chains = {w: [] for w in wires}
                segments.append(None)  # placeholder, filled when the run of 1-qubit ops ends
            chains[op.wires[0]].append(i)
            continue
        if chains is not None:
            segments[-1] = _local_segment(chains, wires)
            chains = None
        if op.gate.kind == "permutation":
            perm_run.append(i)
        else:
            flush_perm()
            segments.append(Segment("op", (i,)))
    if chains is not None:
        segments[-1] = _local_segment(chains, wires)
    flush_perm()
    return tuple(segments)


def _local_segment(chains: dict[int, list[int]], wires: tuple[int, ...]) -> Segment:
    ordered = tuple(tuple(chains[w]) for w in wires)
    return Segment("local", tuple(i for c in ordered for i in c), chains=ordered)


def _make_block(ops: tuple[OpInfo, ...], kind: str, run: list[int], widen: int, n: int) -> Block:
    per_sample = any(ops[i].per_sample for i in run)
    wires = _block_wires(ops, run, kind, widen, n)
    if kind == "permutation":
        index = _permutation_index(ops, run, wires)
        return Block(kind, wires, tuple(run), False, index=index, inverse=torch.argsort(index))
    segments = _segments(ops, run, wires) if kind == "dense" else ()
    return Block(kind, wires, tuple(run), per_sample, segments)


def _folded(blocks: list[Block]) -> tuple[int, ...]:
    """Blocks that are the first on each of their wires, dense or diagonal on a contiguous
    range: from ``|0...0>`` their action is their first column, and they commute to the front."""
    touched: set[int] = set()
    folded = []
    for i, block in enumerate(blocks):
        if block.kind != "permutation" and block.contiguous and touched.isdisjoint(block.wires):
            folded.append(i)
        touched.update(block.wires)
    return tuple(folded)


def _auto_group(ops: tuple[OpInfo, ...], n: int) -> int:
    """:data:`MAX_GROUP`, or smaller when per-sample gates act after others (their blocks are
    per-sample) and the register is small: a per-sample ``2^k`` block costs ``B 4^k``."""
    seen: set[int] = set()
    for op in ops:
        if op.per_sample and not seen.isdisjoint(op.wires):
            return max(1, min(MAX_GROUP, MAX_GROUP_PER_SAMPLE, (n - 2) // 2))
        seen.update(op.wires)
    return MAX_GROUP


def _host(values: list, dtype: torch.dtype) -> torch.Tensor:
    return torch.tensor(values, dtype=dtype, device=HOST)


@functools.lru_cache(maxsize=128)
def compile_plan(circuit: Circuit, max_group: int | None = None, fuse: bool = True) -> Plan:
    """Compile a circuit once; repeated runs of the same circuit reuse the plan.

    ``fuse=False`` gives one block per op on its own wires (the unfused engine, for tests and
    profiles); ``max_group`` sets the wire groups (:func:`wire_groups`; chosen by
    :func:`_auto_group` by default).
    """
    ops = _op_infos(circuit)
    n = circuit.n_qubits
    max_group = _auto_group(ops, n) if max_group is None else max_group
    if fuse:
        runs = _merge_runs(ops, _group_ops(ops, n, max_group))
    else:
        runs = [(_run_kind(ops, [i]), [i]) for i in range(len(ops))]
    widen = max_group if fuse else 0
    blocks = [_make_block(ops, kind, run, widen, n) for kind, run in runs]
    params = circuit.params
    return Plan(
        n_qubits=n,
        ops=ops,
        blocks=tuple(blocks),
        folded=_folded(blocks),
        x_index=_host([circuit.n_inputs if p.x is None else p.x for p in params], torch.long),
        w_index=_host([circuit.n_weights if p.w is None else p.w for p in params], torch.long),
        scale=_host([p.scale for p in params], torch.float64),
        slot_rule=tuple(op.gate.shift_rule for op in ops for _ in op.slots),
    )
