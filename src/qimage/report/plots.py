"""Plots of a training run (matplotlib is imported here, lazily, never by ``import qimage``)."""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "plot_bars",
    "plot_confusion",
    "plot_data_efficiency",
    "plot_history",
    "plot_scatter",
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display is needed or wanted
    import matplotlib.pyplot as plt

    return plt


def plot_history(rows: list[dict], path: str | Path, title: str = "") -> Path:
    """Loss and accuracy per epoch (train and validation) as a PNG."""
    plt = _pyplot()
    epochs = [r["epoch"] for r in rows]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.5))
    for key, label in (("train_loss", "train"), ("val_loss", "validation")):
        ax_loss.plot(epochs, [r[key] for r in rows], marker=".", label=label)
    for key, label in (("train_acc", "train"), ("val_acc", "validation")):
        ax_acc.plot(epochs, [r[key] for r in rows], marker=".", label=label)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_confusion(confusion: list[list[int]], class_names, path: str | Path, title="") -> Path:
    """A confusion matrix (rows true, columns predicted) with counts in the cells, as a PNG."""
    plt = _pyplot()
    n = len(class_names)
    fig, ax = plt.subplots(figsize=(0.5 * n + 2.5, 0.5 * n + 2))
    image = ax.imshow(confusion, cmap="Blues")
    top = max(max(row) for row in confusion) or 1
    for i, row in enumerate(confusion):
        for j, value in enumerate(row):
            color = "white" if value > top / 2 else "black"
            ax.text(j, i, str(value), ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(n), class_names)
    ax.set_yticks(range(n), class_names)
    ax.set(xlabel="predicted", ylabel="true", title=title or "confusion matrix")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_data_efficiency(curves: dict, path: str | Path, title: str = "") -> Path:
    """Accuracy vs training-set size: ``curves[model] = [(n, mean, ci), ...]``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for model, points in sorted(curves.items()):
        n, mean, ci = zip(*sorted(points), strict=True)
        ax.errorbar(n, mean, yerr=ci, marker="o", capsize=3, label=model)
    ax.set_xscale("log")
    ax.set(xlabel="training images", ylabel="test accuracy", title=title or "data efficiency")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_scatter(
    points: list[tuple[str, float, float, str]], xlabel: str, path, title="", log_x: bool = True
) -> Path:
    """Labelled points ``(label, x, accuracy, family)``, coloured by family."""
    plt = _pyplot()
    colours = {"quantum": "tab:purple", "classical": "tab:green"}
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for label, x, y, family in points:
        ax.scatter([x], [y], color=colours.get(family, "grey"))
        ax.annotate(label, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    if log_x:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel="test accuracy", title=title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_bars(bars: list[tuple[str, float, float]], path, title: str = "") -> Path:
    """Accuracy bars with 95% intervals: ``(label, mean, ci)``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(bars) + 1.5), 3.5))
    labels, means, cis = zip(*bars, strict=True)
    ax.bar(range(len(bars)), means, yerr=cis, capsize=4, color="tab:purple", alpha=0.8)
    ax.set_xticks(range(len(bars)), labels, rotation=20, ha="right", fontsize=8)
    ax.set(ylabel="test accuracy", title=title, ylim=(0, 1))
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
