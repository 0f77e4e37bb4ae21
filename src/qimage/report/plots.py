"""The report's plots (matplotlib is imported here, lazily, never by ``import qimage``).

Every plot draws families with :mod:`qimage.report.style` (the report's one legend) and
prints axis ticks as plain numbers (:func:`qimage.report.fmt.plain`).
"""

from __future__ import annotations

import math
from pathlib import Path

from qimage.report.fmt import plain
from qimage.report.labels import place_labels
from qimage.report.style import FAMILIES, style

__all__ = [
    "DPI",
    "plot_bars",
    "plot_confusion",
    "plot_data_efficiency",
    "plot_history",
    "plot_legend",
    "plot_samples",
    "plot_scatter",
    "scatter_figure",
]

DPI = 110
_AREA = {True: 40, False: 18}  # scatter marker areas (points^2): named, other


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display is needed or wanted
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    fig.savefig(path, dpi=DPI)
    _pyplot().close(fig)
    return Path(path)


def _log_axis(axis, low: float, high: float) -> None:
    """A log axis with a few plain-number ticks: 1-2-5 steps, or every digit within a decade."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = math.log10(high / low) if low > 0 and high > low else 0
    subs = (1.0,) if decades > 3 else (1.0, 2.0, 5.0) if decades > 1 else tuple(range(1, 10))
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _: plain(v)))
    axis.set_minor_formatter(NullFormatter())


def plot_history(
    rows: list[dict],
    path: str | Path,
    title: str = "",
    *,
    metric: str = "acc",
    labels: tuple[str, str] = ("cross-entropy", "accuracy"),
) -> Path:
    """Loss and the score ``metric`` per epoch (train and validation) as a PNG; ``labels``
    name the loss and the metric (the objective's ``loss_label`` and ``score_label``)."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        ax_loss.plot(epochs, [r[key] for r in rows], marker=".", label=label)
    for key, label in ((f"train_{metric}", "train"), (f"val_{metric}", "validation")):
        ax_acc.plot(epochs, [r[key] for r in rows], marker=".", label=label)
    ax_loss.set(xlabel="epoch", ylabel=labels[0], title="loss")
    ax_acc.set(xlabel="epoch", ylabel=labels[1], title=labels[1])
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_confusion(confusion: list[list[int]], class_names, path: str | Path, title="") -> Path:
    """A confusion matrix (rows true, columns predicted) with counts in the cells, as a PNG.

    Long class names (``"Ankle boot"``) are slanted on the predicted axis.
    """
    plt = _pyplot()
    n, longest = len(class_names), max(len(c) for c in class_names)
    margin = 0.07 * longest
    fig, ax = plt.subplots(figsize=(0.5 * n + 2.5 + margin, 0.5 * n + 2 + margin))
    image = ax.imshow(confusion, cmap="Blues")
    top = max(max(row) for row in confusion) or 1
    for i, row in enumerate(confusion):
        for j, value in enumerate(row):
            color = "white" if value > top / 2 else "black"
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=color)
    slant = {"rotation": 40, "ha": "right"} if longest > 2 else {}
    ax.set_xticks(range(n), class_names, **slant)
    ax.set_yticks(range(n), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    return _save(fig, path)


def _family_lines(families: dict[str, str]) -> dict[str, tuple[str, str, str]]:
    """``model -> (colour, line style, marker)``: the family's style, a shade per model."""
    out, seen = {}, {}
    for model in sorted(families, key=lambda m: (families[m] != "quantum", m)):
        s = style(families[model])
        k = seen[families[model]] = seen.get(families[model], -1) + 1
        out[model] = (s.member(k)[0], s.line, s.member(k)[1])
    return out


def plot_data_efficiency(
    curves: dict, families: dict[str, str], path: str | Path, title: str = ""
) -> Path:
    """Accuracy vs training-set size: ``curves[model] = [(n, mean, ci), ...]``.

    Quantum models are solid purple lines with circles, classical ones dashed green lines
    with squares; the legend lists quantum models first.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4))
    sizes = sorted({n for points in curves.values() for n, _, _ in points})
    for model, (colour, line, marker) in _family_lines(families).items():
        if model in curves:
            n, mean, ci = zip(*sorted(curves[model]), strict=True)
            ax.errorbar(n, mean, yerr=ci, color=colour, linestyle=line, marker=marker,
                        capsize=3, markersize=5, label=model)  # fmt: skip
    ax.set_xscale("log")
    _sizes_axis(ax.xaxis, sizes)
    ax.set(xlabel="training images", ylabel="test accuracy", title=title or "data efficiency")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    fig.tight_layout()
    return _save(fig, path)


def _sizes_axis(axis, sizes: list[float]) -> None:
    """Ticks exactly at the measured training sizes, as plain numbers."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    axis.set_major_locator(FixedLocator(sizes))
    axis.set_major_formatter(FuncFormatter(lambda v, _: plain(v)))
    axis.set_minor_locator(NullLocator())


def scatter_figure(
    points: list[tuple],
    xlabel: str,
    title: str = "",
    log_x: bool = True,
    ylabel: str = "test accuracy",
):
    """The figure of :func:`plot_scatter` and its label artists (for checks before saving)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4), dpi=DPI)
    for _, x, y, family, named in points:
        s = style(family)
        ax.scatter([x], [y], color=s.colour, marker=s.marker, s=_AREA[named],
                   alpha=0.8 if named else 0.4, zorder=4 if family == "quantum" else 3)  # fmt: skip
    xs = [p[1] for p in points]
    if log_x:
        ax.set_xscale("log")
        ax.margins(x=0.15)
        _log_axis(ax.xaxis, min(xs), max(xs))
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, _annotate(fig, ax, [p for p in points if p[4]], points)


def _annotate(fig, ax, named: list[tuple], points: list[tuple]) -> list:
    """Labels for the named points, placed clear of each other and of every marker."""
    renderer = fig.canvas.get_renderer()
    anchors = [tuple(ax.transData.transform((p[1], p[2]))) for p in named]
    sizes = []
    for label, *_ in named:
        probe = ax.text(0, 0, label, fontsize=8)
        box = probe.get_window_extent(renderer)
        sizes.append((box.width, box.height))
        probe.remove()
    obstacles = []
    for p in points:
        x, y = ax.transData.transform((p[1], p[2]))
        r = math.sqrt(_AREA[p[4]]) / 2 * DPI / 72 + 1  # marker area is in points squared
        obstacles.append((x - r, y - r, x + r, y + r))
    boxes = place_labels(anchors, sizes, tuple(ax.bbox.extents), obstacles)
    leader = {"arrowstyle": "-", "lw": 0.5, "color": "grey"}
    out = []
    for (label, *_), (x, y), box in zip(named, anchors, boxes, strict=True):
        far = math.dist((x, y), ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)) > 40
        text = ax.annotate(label, (x, y), xycoords="figure pixels", xytext=(box[0], box[1]),
                           textcoords="figure pixels", fontsize=8, ha="left", va="bottom",
                           arrowprops=leader if far else None)  # fmt: skip
        out.append(text)
    return out


def plot_scatter(
    points: list[tuple], xlabel: str, path, title="", log_x: bool = True, ylabel="test accuracy"
) -> Path:
    """Points ``(label, x, y, family, named)`` in their family's style (``y`` the test
    accuracy, or what ``ylabel`` says); only the named ones (those the verdicts speak of) are
    labelled, the others are faint."""
    fig, _ = scatter_figure(points, xlabel, title, log_x, ylabel)
    return _save(fig, path)


def _tile(strings: list[str], shape: tuple[int, int], per_row: int):
    """Bit strings as one picture: ``per_row`` images a row, a grey line between them."""
    import numpy as np

    rows, cols = shape
    n_rows = -(-len(strings) // per_row)
    out = np.full((n_rows * (rows + 1) - 1, per_row * (cols + 1) - 1), 0.35)
    for k, bits in enumerate(strings):
        r, c = divmod(k, per_row)
        image = np.array([int(b) for b in bits], dtype=float).reshape(rows, cols)
        out[r * (rows + 1) : r * (rows + 1) + rows, c * (cols + 1) : c * (cols + 1) + cols] = image
    return out


def plot_samples(
    panels: list[tuple[str, str, list[str]]], shape: tuple[int, int], path, title: str = ""
) -> Path:
    """One grid of drawn images per model, side by side: ``panels`` holds ``(label, family,
    bit strings)`` (``"0110..."``, row-major ``shape``); the label is in the family's colour."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(panels), figsize=(2.3 * len(panels), 2.7), squeeze=False)
    for ax, (label, family, strings) in zip(axes[0], panels, strict=True):
        per_row = max(1, math.isqrt(len(strings)))
        ax.imshow(_tile(strings, shape, per_row), cmap="gray_r", vmin=0, vmax=1)
        ax.set_title(label, color=style(family).colour, fontsize=9)
        ax.set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_bars(bars: list[tuple[str, float, float, str]], path, title: str = "") -> Path:
    """Accuracy bars with 95% intervals, coloured by family: ``(label, mean, ci, family)``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(bars) + 1.5), 3.5))
    labels, means, cis, families = zip(*bars, strict=True)
    colours = [style(f).colour for f in families]
    ax.bar(range(len(bars)), means, yerr=cis, capsize=4, color=colours, alpha=0.85)
    ax.set_xticks(range(len(bars)), labels, rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="test accuracy", title=title, ylim=(0, 1))
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return _save(fig, path)


def plot_legend(path) -> Path:
    """The report's legend: how quantum and classical models are drawn in every plot."""
    from matplotlib.lines import Line2D

    plt = _pyplot()
    fig = plt.figure(figsize=(4.2, 0.45))
    handles = [
        Line2D([], [], color=s.colour, linestyle=s.line, marker=s.marker, label=f"{name} models")
        for name, s in FAMILIES.items()
    ]
    fig.legend(handles=handles, loc="center", ncol=len(handles), frameon=False, fontsize=10)
    return _save(fig, path)
