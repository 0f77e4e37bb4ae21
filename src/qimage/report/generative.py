"""Verdicts of generative tasks: the Born machine against classical models of its size.

A generative task's rows carry ``kl`` (``KL(test || model)``, lower is better) and
``n_parameters`` per seed. The headline compares the best quantum model (lowest mean KL)
with the best classical model within :data:`~qimage.report.verdict.TWIN_RATIO` of its
parameter count, paired over seeds; when no classical model is that close in size, no
verdict is drawn ("not drawn"), since a bigger model may simply have more capacity.

Example:
    >>> rows = {("bas", m, None): {s: {"kl": kl + s / 100, "n_parameters": k}
    ...         for s in range(3)} for m, kl, k in (("born", 0.2, 100), ("rbm", 0.5, 120))}
    >>> meta = [{"model": "born", "family": "quantum", "ablation": None},
    ...         {"model": "rbm", "family": "classical", "ablation": None}]
    >>> generative_headline(rows, "bas", None, meta).verdict
    ('quantum ahead', 'quantum')
"""

from __future__ import annotations

from dataclasses import dataclass

from qimage.report.stats import Summary, paired_test, summarise
from qimage.report.verdict import TWIN_RATIO, significance, verdict_of

__all__ = ["GenerativeHeadline", "generative_headline", "generative_verdicts", "kl_text"]


def _kl(cells: dict) -> dict[int, float]:
    return {seed: row["kl"] for seed, row in cells.items()}


def _summary(groups, task, size, model: str) -> Summary:
    return summarise(list(_kl(groups[(task, model, size)]).values()))


def kl_text(summary: Summary) -> str:
    """``"0.123 ± 0.010"``: a mean KL and its 95% interval, three decimals."""
    return f"{summary.mean:.3f} ± {summary.ci:.3f}"


def _params(groups, task, size, model: str) -> float | None:
    counts = [r["n_parameters"] for r in groups[(task, model, size)].values()]
    counts = [c for c in counts if c is not None]
    return sum(counts) / len(counts) if counts else None


def _within(a: float | None, b: float | None) -> bool:
    return bool(a and b) and max(a, b) <= TWIN_RATIO * min(a, b)


def _lowest(groups, task, size, names) -> str | None:
    scored = [(_summary(groups, task, size, m).mean, m) for m in names]
    return min(scored)[1] if scored else None


@dataclass(frozen=True)
class GenerativeHeadline:
    """The best quantum model, the best classical one within 2x of its parameters
    (``baseline``; None: none that close), their paired test ``(quantum - baseline KL, p,
    n)``, and the best classical model of any size."""

    size: int | None
    quantum: str | None = None
    baseline: str | None = None
    test: tuple | None = None
    classical: str | None = None

    @property
    def verdict(self) -> tuple[str, str]:
        """``(words, winner)``: lower KL wins; "not drawn" without a baseline (no test)."""
        return verdict_of(self.test, higher_wins=False, missing="not drawn")


def generative_headline(groups: dict, task: str, size, models: list[dict]) -> GenerativeHeadline:
    """The headline of a generative ``task`` at ``size`` (``models``: metadata rows)."""
    present = [m for m in models if (task, m["model"], size) in groups and not m["ablation"]]
    quantum = _lowest(groups, task, size, [m["model"] for m in present if m["family"] == "quantum"])
    classical = [m["model"] for m in present if m["family"] == "classical"]
    best = _lowest(groups, task, size, classical)
    if quantum is None:
        return GenerativeHeadline(size, classical=best)
    k = _params(groups, task, size, quantum)
    close = [m for m in classical if _within(k, _params(groups, task, size, m))]
    baseline = _lowest(groups, task, size, close)
    test = baseline and paired_test(
        _kl(groups[(task, quantum, size)]), _kl(groups[(task, baseline, size)])
    )
    return GenerativeHeadline(size, quantum, baseline, test, best)


def _named(groups, task, size, model: str) -> str:
    k = _params(groups, task, size, model)
    count = "" if k is None else f", {k:.0f} parameters"
    return f"{model}{count}"


def generative_verdicts(
    groups: dict, task: str, label: str, size, models: list[dict], unit: str
) -> list[str]:
    """The verdict sentences of a generative task at ``size`` (None: the full set)."""
    h = generative_headline(groups, task, size, models)
    where = "the full training set" if size is None else f"{size} training {unit}"
    out = []
    if h.quantum is not None:
        q, name = _summary(groups, task, size, h.quantum), _named(groups, task, size, h.quantum)
        out.append(
            f"On {label} with {where}, the best quantum model ({name}) reaches"
            f" KL(test ‖ model) {kl_text(q)} (lower is better)."
        )
    if h.quantum is not None and h.baseline is None:
        out.append(
            f"No classical model is within {TWIN_RATIO:g}x of its parameter count: "
            "no verdict is drawn."
        )
    if h.baseline is not None:
        diff, p, n = h.test
        b = _summary(groups, task, size, h.baseline)
        direction = "lower" if diff < 0 else "higher"
        out.append(
            f"The best classical model within {TWIN_RATIO:g}x of its parameters "
            f"({_named(groups, task, size, h.baseline)}) reaches {kl_text(b)}; the quantum "
            f"model's KL is {abs(diff):.3f} {direction} ({significance(p, n)}): "
            f"{h.verdict[0]}."
        )
    if h.classical is not None and h.classical != h.baseline:
        c = _summary(groups, task, size, h.classical)
        out.append(
            f"The best classical model of any size ({_named(groups, task, size, h.classical)}) "
            f"reaches {kl_text(c)}."
        )
    return out
