"""Block tensors from angles: every gate built once per step, by type, then fused.

Per step, the engine

1. builds the tensors of all ops of one gate type in one vectorised call of the gate table's
   builder (shared ops from the first angle row, per-sample ops from all rows);
2. stacks all one-qubit ops into a *pool* of 2x2 matrices, multiplies the per-wire chains of
   every local segment together (one batched 2x2 matmul per chain position) and forms their
   Kronecker products (one broadcasted product per wire), for all blocks at once;
3. composes each dense block from its segments: permutations gather rows, multi-qubit gates
   are embedded into the block's index space by a constant gather;
4. builds diagonal blocks as products of embedded diagonals.

Autograd runs through all of it, so gradients reach the angles whatever the diff method.
Tensors have a leading size ``R``: 1 for shared blocks, the number of angle rows otherwise
(with ``share=False`` every op reads every row, as parameter shift needs).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch

from qimage.sim.fusion import Block, Plan, Segment, _local_index
from qimage.sim.gates import Gate
from qimage.sim.placement import HOST, placed

__all__ = ["Recipe", "block_tensors", "folded_state", "recipe"]


@dataclass(frozen=True, eq=False)
class _TypeGroup:
    """All ops of one gate type, width and sharing: built in one call."""

    gate: Gate
    ops: tuple[int, ...]
    slots: torch.Tensor  # (m, n_params), CPU
    n_wires: int
    per_sample: bool
    copies: dict = field(default_factory=dict, init=False, repr=False)  # slots on devices


@dataclass(frozen=True, eq=False)
class _LocalGroup:
    """Local segments of one width and sharing, whose Kronecker products are built together."""

    targets: tuple[tuple[int, int], ...]  # (block, segment) per local segment
    chains: torch.Tensor  # (S, k, L) indices into the pool, the last pool entry is identity
    per_sample: bool
    column: bool  # only the first column is needed (first segment of a folded block)
    copies: dict = field(default_factory=dict, init=False, repr=False)  # chains on devices


@dataclass(frozen=True, eq=False)
class Recipe:
    """Everything :func:`block_tensors` needs, precomputed once per plan."""

    blocks: tuple[int, ...]  # the blocks it builds
    types: tuple[_TypeGroup, ...]
    where: dict  # op index -> (type group, position in the group)
    pool_shared: tuple[int, ...]  # type groups of shared one-qubit ops, in pool order
    pool_per_sample: tuple[int, ...]  # type groups of per-sample one-qubit ops, after those
    locals: tuple[_LocalGroup, ...]
    fold: bool  # folded blocks as columns ``(R, 2^k, 1)``


def _type_groups(plan: Plan, ops_used: list[int]) -> tuple[_TypeGroup, ...]:
    keys: dict[tuple, list[int]] = {}
    for i in ops_used:
        op = plan.ops[i]
        keys.setdefault((op.gate.name, len(op.wires), op.per_sample), []).append(i)
    groups = []
    for (_, k, per_sample), ops in keys.items():
        n_params = len(plan.ops[ops[0]].slots)
        slots = torch.tensor([plan.ops[i].slots for i in ops], dtype=torch.long, device=HOST)
        gate = plan.ops[ops[0]].gate
        groups.append(
            _TypeGroup(gate, tuple(ops), slots.reshape(len(ops), n_params), k, per_sample)
        )
    return tuple(groups)


def _local_groups(plan: Plan, blocks, shared: list[int], every: list[int], fold: bool):
    """Chain index tensors into the shared pool or the full pool (see :class:`_LocalGroup`)."""
    found: dict[tuple[int, bool, bool], list] = {}
    for b in blocks:
        block = plan.blocks[b]
        for s, seg in enumerate(block.segments):
            if seg.kind == "local":
                per_sample = any(plan.ops[i].per_sample for i in seg.ops)
                column = fold and s == 0 and b in plan.folded
                found.setdefault((len(block.wires), per_sample, column), []).append((b, s, seg))
    groups = []
    for (_, per_sample, column), items in found.items():
        order = every if per_sample else shared
        position = {op: j for j, op in enumerate(order)}
        length = max(len(c) for _, _, seg in items for c in seg.chains)
        rows = [
            [[position[i] for i in c] + [len(order)] * (length - len(c)) for c in seg.chains]
            for _, _, seg in items
        ]
        targets = tuple((b, s) for b, s, _ in items)
        chains = torch.tensor(rows, dtype=torch.long, device=HOST)
        groups.append(_LocalGroup(targets, chains, per_sample, column))
    return tuple(groups)


@functools.lru_cache(maxsize=1024)
def recipe(plan: Plan, blocks: tuple[int, ...] | None = None, fold: bool = False) -> Recipe:
    """The precomputed build recipe of a plan's blocks (all by default); cached, as plans are.
    With ``fold``, folded blocks are built as their first column only."""
    blocks = tuple(range(len(plan.blocks))) if blocks is None else blocks
    types = _type_groups(plan, sorted(i for b in blocks for i in plan.blocks[b].ops))
    where = {op: (g, j) for g, group in enumerate(types) for j, op in enumerate(group.ops)}
    one = [g for g, group in enumerate(types) if group.n_wires == 1]
    shared = tuple(g for g in one if not types[g].per_sample)
    per_sample = tuple(g for g in one if types[g].per_sample)
    shared_ops = [i for g in shared for i in types[g].ops]
    every = shared_ops + [i for g in per_sample for i in types[g].ops]
    locals_ = _local_groups(plan, blocks, shared_ops, every, fold)
    return Recipe(blocks, types, where, shared, per_sample, locals_, fold)


def _group_tensors(rec: Recipe, angles, dtype, share: bool) -> list[torch.Tensor | None]:
    """Each type group's tensor ``(R, m, ...)``, one builder call per group (none for
    permutations, whose index is constant)."""
    out = []
    for group in rec.types:
        if group.gate.kind == "permutation":
            out.append(None)
            continue
        rows = angles if group.per_sample or not share else angles[:1]
        slots = placed(group.copies, group.slots, rows.device)
        out.append(group.gate.build(rows[:, slots], group.n_wires, dtype))
    return out


def _as_2x2(group: _TypeGroup, tensor, dtype, device) -> torch.Tensor:
    """A group of one-qubit ops as dense 2x2 matrices ``(R, m, 2, 2)``."""
    if group.gate.kind == "permutation":  # X, the only one-qubit permutation
        x = torch.eye(2, dtype=dtype, device=device).flip(0)  # rows swapped: [[0, 1], [1, 0]]
        return x.expand(1, len(group.ops), 2, 2)
    return torch.diag_embed(tensor) if group.gate.kind == "diagonal" else tensor


def _pool(rec: Recipe, groups: tuple[int, ...], tensors, dtype, device) -> torch.Tensor:
    """``(R, N + 1, 2, 2)``: the 2x2 matrices of the groups' ops, then the identity."""
    mats = [_as_2x2(rec.types[g], tensors[g], dtype, device) for g in groups]
    mats.append(torch.eye(2, dtype=dtype, device=device).expand(1, 1, 2, 2))
    rows = max(m.shape[0] for m in mats)
    return torch.cat([m.expand(rows, *m.shape[1:]) for m in mats], dim=1)


def _kron_chain(factors: torch.Tensor) -> torch.Tensor:
    """``(R, S, k, 2, 2)`` -> ``(R, S, 2^k, 2^k)``: Kronecker product over the wire axis."""
    out = factors[:, :, 0]
    for j in range(1, factors.shape[2]):
        f = factors[:, :, j]
        d = out.shape[-1] * 2
        out = (out[..., :, None, :, None] * f[..., None, :, None, :]).reshape(*out.shape[:2], d, d)
    return out


def _kron_columns(factors: torch.Tensor) -> torch.Tensor:
    """``(R, S, k, 2, 2)`` -> ``(R, S, 2^k, 1)``: first column of the Kronecker product."""
    out = factors[:, :, 0, :, 0]
    for j in range(1, factors.shape[2]):
        out = (out[..., :, None] * factors[:, :, j, None, :, 0]).flatten(-2)
    return out[..., None]


def _local_tensors(rec: Recipe, tensors, dtype, device) -> dict[tuple[int, int], object]:
    """The Kronecker matrix of every local segment, keyed by (block, segment)."""
    shared = _pool(rec, rec.pool_shared, tensors, dtype, device)
    full = None
    out = {}
    for group in rec.locals:
        if group.per_sample and full is None:
            full = _pool(rec, rec.pool_shared + rec.pool_per_sample, tensors, dtype, device)
        pool = full if group.per_sample else shared
        chains = placed(group.copies, group.chains, device)
        product = pool[:, chains[..., 0]]
        for t in range(1, chains.shape[-1]):
            product = pool[:, chains[..., t]] @ product
        # unbind, not one select per segment: select's backward would zero-fill the whole
        # stack once per segment
        built = _kron_columns(product) if group.column else _kron_chain(product)
        for target, tensor in zip(group.targets, built.unbind(1), strict=True):
            out[target] = tensor
    return out


@functools.lru_cache(maxsize=1024)
def _embedding(op_wires: tuple[int, ...], block_wires: tuple[int, ...], device: torch.device):
    """Gather index and mask that embed an op's ``2^m x 2^m`` matrix into a block's, on
    ``device`` (cached per device: a step copies nothing to it)."""
    with torch.inference_mode(False):
        sub = _local_index(op_wires, block_wires)
        rest_wires = tuple(w for w in block_wires if w not in op_wires)
        rest = _local_index(rest_wires, block_wires) if rest_wires else torch.zeros_like(sub)
        flat = sub[:, None] * (2 ** len(op_wires)) + sub[None, :]
        return tuple(t.to(device) for t in (sub, flat, rest[:, None] == rest[None, :]))


def _apply_segment(m, seg: Segment, block: Block, plan: Plan, op_tensor, local) -> torch.Tensor:
    """``segment @ m`` (``m`` None meaning the identity)."""
    if seg.kind == "local":
        return local if m is None else local @ m
    if seg.kind == "permutation":
        index = seg.gather(local.device if m is None else m.device)
        if m is None:
            size = index.shape[0]
            eye = torch.eye(size, dtype=local.dtype, device=index.device)
            return eye[index][None]
        return m[:, index]
    op = plan.ops[seg.ops[0]]
    tensor = op_tensor(seg.ops[0])
    sub, flat, mask = _embedding(op.wires, block.wires, tensor.device)
    if op.gate.kind == "diagonal":
        diag = tensor[:, sub]
        return torch.diag_embed(diag) if m is None else diag[..., None] * m
    embedded = tensor.reshape(tensor.shape[0], -1)[:, flat]
    embedded = embedded.reshape(-1, *mask.shape) * mask
    return embedded if m is None else embedded @ m


def _dense(plan: Plan, b: int, op_tensor, locals_, like: torch.Tensor, column: bool):
    """A dense block ``(R, 2^k, 2^k)``, or with ``column`` its first column ``(R, 2^k, 1)``."""
    block = plan.blocks[b]
    m = None
    if column:
        m = torch.zeros(1, 2 ** len(block.wires), 1, dtype=like.dtype, device=like.device)
        m[0, 0] = 1
    for s, seg in enumerate(block.segments):
        if column and s == 0 and seg.kind == "local":
            m = locals_[(b, s)]  # built as the column already
            continue
        m = _apply_segment(m, seg, block, plan, op_tensor, locals_.get((b, s), like))
    return m


def _diagonal(plan: Plan, block: Block, op_tensor) -> torch.Tensor:
    out = None
    for i in block.ops:
        tensor = op_tensor(i)
        sub = _embedding(plan.ops[i].wires, block.wires, tensor.device)[0]
        diag = tensor[:, sub]
        out = diag if out is None else out * diag
    return out


def block_tensors(
    plan: Plan,
    angles: torch.Tensor,
    dtype: torch.dtype,
    share: bool = True,
    blocks=None,
    fold: bool = False,
) -> list[torch.Tensor | None]:
    """The tensor of each block (``None`` for permutations, whose index is constant).

    Args:
        angles: ``(R, P)`` gate angles (``R`` = 1 when nothing depends on the sample).
        share: build ops that ignore the sample from the first row only.
        blocks: indices of the blocks to build (all by default); the others get ``None``.
        fold: build folded dense blocks as their first column ``(R, 2^k, 1)`` only (all that
            :func:`folded_state` needs).

    Returns:
        Dense blocks ``(R|1, 2^k, 2^k)``, diagonal blocks ``(R|1, 2^k)``.
    """
    rec = recipe(plan, None if blocks is None else tuple(blocks), fold)
    tensors = _group_tensors(rec, angles, dtype, share)

    def op_tensor(i: int) -> torch.Tensor:
        group, j = rec.where[i]
        return tensors[group][:, j]

    like = torch.ones(1, 1, 1, dtype=dtype, device=angles.device)
    local = _local_tensors(rec, tensors, dtype, angles.device) if rec.locals else {}
    out: list[torch.Tensor | None] = [None] * len(plan.blocks)
    for b in rec.blocks:
        block = plan.blocks[b]
        if block.kind == "dense":
            out[b] = _dense(plan, b, op_tensor, local, like, fold and b in plan.folded)
        elif block.kind == "diagonal":
            out[b] = _diagonal(plan, block, op_tensor)
    return out


def folded_state(plan: Plan, tensors: list, dtype, device) -> torch.Tensor:
    """The state after the folded blocks, from ``|0...0>``: ``(R, 2^n)``.

    Each folded block contributes its first column on its wire range; untouched wires are
    ``|0>``. The Kronecker product runs in wire order (wire 0 most significant).
    """
    starts = {plan.blocks[b].wires[0]: b for b in plan.folded}
    zero = _unit(2, dtype, device)[None]  # |0>: (1, 2)
    state, wire = None, 0
    while wire < plan.n_qubits:
        if wire in starts:
            block = plan.blocks[starts[wire]]
            t = tensors[starts[wire]]
            unit = _unit(t.shape[-1], t.dtype, t.device)
            column = t[..., 0] if block.kind == "dense" else t * unit
            wire += len(block.wires)
        else:
            column, wire = zero, wire + 1
        state = column if state is None else _outer(state, column)
    return state


def _unit(size: int, dtype, device) -> torch.Tensor:
    unit = torch.zeros(size, dtype=dtype, device=device)
    unit[0] = 1
    return unit


def _outer(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Row-wise Kronecker product of ``(Ra, m)`` and ``(Rb, n)``: ``(R, m n)``."""
    return (a[:, :, None] * b[:, None, :]).reshape(max(a.shape[0], b.shape[0]), -1)
