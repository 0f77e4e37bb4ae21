"""A text diagram of a circuit, one line per wire.

Example:
    >>> from qimage.sim import Circuit, Op, Param
    >>> print(draw(Circuit(2, [Op("RY", 0, (Param.input(0),)), Op("CNOT", (0, 1))])))
    q0: ─RY(x0)─●─
    q1: ────────⊕─
"""

from __future__ import annotations

from qimage.sim import Circuit, Op

__all__ = ["columns", "draw", "labels"]

# Symbols of the controlled and symmetric two-qubit gates; other gates print their name.
_SYMBOLS = {"CNOT": ("●", "⊕"), "CZ": ("●", "●"), "SWAP": ("×", "×")}
_CONTROLLED = {"CRX": "RX", "CRY": "RY", "CRZ": "RZ"}


def labels(op: Op) -> dict[int, str]:
    """What to draw on each wire of ``op``: a gate name with arguments, or a symbol."""
    args = f"({', '.join(map(str, op.params))})" if op.params else ""
    if op.gate in _SYMBOLS:
        return dict(zip(op.wires, _SYMBOLS[op.gate], strict=True))
    if op.gate in _CONTROLLED:
        return {op.wires[0]: "●", op.wires[1]: _CONTROLLED[op.gate] + args}
    return dict.fromkeys(op.wires, op.gate + args)


def columns(circuit: Circuit) -> list[list[Op]]:
    """Pack ops into columns: each op goes right after the last op touching its wire span."""
    free = [0] * circuit.n_qubits
    columns: list[list[Op]] = []
    for op in circuit.ops:
        span = range(min(op.wires), max(op.wires) + 1)
        col = max(free[q] for q in span)
        if col == len(columns):
            columns.append([])
        columns[col].append(op)
        for q in span:
            free[q] = col + 1
    return columns


def draw(circuit: Circuit, max_width: int | None = None) -> str:
    """The diagram as a string; ``max_width`` truncates long circuits with an ellipsis."""
    rows = [f"q{q}: " for q in range(circuit.n_qubits)]
    rows = [r.rjust(max(map(len, rows))) for r in rows]
    for column in columns(circuit):
        cells = ["─"] * circuit.n_qubits
        for op in column:
            for q in range(min(op.wires), max(op.wires) + 1):
                cells[q] = "┼"  # a wire the gate's vertical line crosses
            cells_of_op = labels(op)
            for q, label in cells_of_op.items():
                cells[q] = label
        width = max(map(len, cells))
        for q, cell in enumerate(cells):
            rows[q] += "─" + cell.center(width, "─")
    out = [row + "─" for row in rows]
    if max_width and len(out[0]) > max_width:
        out = [row[: max_width - 1] + "…" for row in out]
    return "\n".join(out)
