"""Circuit diagrams: as text, one line per wire (:func:`draw`), or as a PNG (:func:`plot_circuit`).

matplotlib is imported by :func:`plot_circuit` only, so ``import qimage.circuits`` stays light.

Example:
    >>> from qimage.sim import Circuit, Op, Param
    >>> print(draw(Circuit(2, [Op("RY", 0, (Param.input(0),)), Op("CNOT", (0, 1))])))
    q0: ─RY(x0)─●─
    q1: ────────⊕─
"""

from __future__ import annotations

from pathlib import Path

from qimage.sim import Circuit, Op

__all__ = ["columns", "draw", "labels", "plot_circuit"]

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


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display is needed or wanted
    import matplotlib.pyplot as plt

    return plt


def plot_circuit(
    circuit: Circuit, path: str | Path, title: str = "", max_columns: int = 40
) -> Path:
    """A circuit diagram as a PNG: wires, gate boxes, controls; long circuits are cut."""
    plt = _pyplot()
    cols = columns(circuit)[:max_columns]
    n = circuit.n_qubits
    fig, ax = plt.subplots(figsize=(1.15 * len(cols) + 1.2, 0.55 * n + 0.8))
    for q in range(n):
        ax.plot([-0.5, len(cols) - 0.5], [-q, -q], color="black", lw=0.8, zorder=0)
        ax.text(-0.7, -q, f"q{q}", ha="right", va="center", fontsize=9)
    for x, column in enumerate(cols):
        for op in column:
            _draw_op(ax, x, op, labels(op))
    if len(cols) < len(columns(circuit)):
        ax.text(len(cols) - 0.3, -(n - 1) / 2, "…", fontsize=16, va="center")
    ax.set_xlim(-1.2, len(cols) + 0.2)
    ax.set_ylim(-n + 0.4, 0.6)
    ax.axis("off")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
    return Path(path)


def _draw_op(ax, x: int, op, marks: dict[int, str]) -> None:
    if len(op.wires) > 1:
        ax.plot([x, x], [-min(op.wires), -max(op.wires)], color="black", lw=0.9, zorder=1)
    for wire, mark in marks.items():
        if mark in ("●", "⊕", "×"):
            size = {"●": 7, "⊕": 13, "×": 9}[mark]
            symbol = {"●": "o", "⊕": "$\\oplus$", "×": "x"}[mark]
            ax.plot(
                [x],
                [-wire],
                marker=symbol,
                markersize=size,
                color="black",
                zorder=3,
                markerfacecolor="black" if mark == "●" else "white",
            )
        else:
            ax.text(
                x,
                -wire,
                mark.replace(", ", ",\n") if len(mark) > 12 else mark,
                ha="center",
                va="center",
                fontsize=6.5,
                zorder=3,
                bbox={"boxstyle": "round,pad=0.25", "fc": "#e8e0f5", "ec": "#6a4c93"},
            )
