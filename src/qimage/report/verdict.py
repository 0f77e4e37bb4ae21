"""Plainly worded verdicts, generated from the numbers (never written by hand).

For each task, at its largest training size: where the best quantum-only model stands
against its matched classical twin and against the best classical model; what removing
entanglement and freezing the circuit change; and, at the smallest size, whether quantum
models are ahead of their twins (data efficiency). Every comparison states its paired test.

A twin more than :data:`TWIN_RATIO` times larger or smaller in trainable parameters than its
model is no fair match (the smallest MLP on 784 pixels has 805 parameters): no verdict is
drawn against it, and the report says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qimage.report.fmt import p_value, points
from qimage.report.stats import Summary, paired_test, summarise

__all__ = [
    "ALPHA",
    "TWIN_RATIO",
    "Headline",
    "headline",
    "significance",
    "task_verdicts",
    "twin_mismatch",
    "verdict_of",
]

ALPHA = 0.05  # significance level of the paired tests
TWIN_RATIO = 2.0  # a twin further than this factor from its model's size is not compared


def _acc(cells: dict) -> dict[int, float]:
    return {seed: row["accuracy"] for seed, row in cells.items()}


def _summary(groups, task, size, model: str) -> Summary:
    return summarise(list(_acc(groups[(task, model, size)]).values()))


def significance(p: float, n: int) -> str:
    """``"significant, paired t-test over 5 seeds, p = 0.01"`` (or "untested")."""
    if math.isnan(p):
        return f"untested ({n} seed{'s' if n != 1 else ''})"
    word = "significant" if p < ALPHA else "not significant"
    return f"{word}, paired t-test over {n} seeds, {p_value(p)}"


def _compare(groups, task, size, a: str, b: str) -> tuple[float, float, int] | None:
    ca, cb = groups.get((task, a, size)), groups.get((task, b, size))
    if not ca or not cb:
        return None
    return paired_test(_acc(ca), _acc(cb))


def _params(groups, task, size, name: str) -> int | None:
    counts = {row.get("n_parameters") for row in groups.get((task, name, size), {}).values()}
    return counts.pop() if len(counts) == 1 else None


def _budgets(groups, task, size, a: str, b: str) -> str:
    """``"; 8 vs 8 hyperparameter candidates"`` when the rows of both record their search
    budget (protocol 2 on), else nothing."""
    counts = [
        {row.get("candidates") for row in groups.get((task, name, size), {}).values()}
        for name in (a, b)
    ]
    if any(len(c) != 1 or None in c for c in counts):
        return ""
    return f"; {counts[0].pop()} vs {counts[1].pop()} hyperparameter candidates"


def twin_mismatch(groups, task, size, model: str, twin: str) -> str | None:
    """Why no verdict is drawn against ``twin``, or None when it is a fair match.

    Models without a parameter count (kernel machines) are matched by construction.
    """
    a, b = _params(groups, task, size, model), _params(groups, task, size, twin)
    if not a or not b or max(a, b) <= TWIN_RATIO * min(a, b):
        return None
    return f"not compared: twin has {b} parameters against {a}"


def _best(groups, task, size, models, predicate) -> str | None:
    scored = [
        (_summary(groups, task, size, m["model"]).mean, m["model"])
        for m in models
        if predicate(m) and (task, m["model"], size) in groups
    ]
    return max(scored)[1] if scored else None


@dataclass(frozen=True)
class Headline:
    """A task's headline at one size: best quantum model, its twin, best classical model.

    ``twin_test`` and ``classical_test`` are ``(quantum - other, p, n)``; ``twin_note`` says
    why the twin is not compared (then ``twin_test`` is None).
    """

    size: int | None
    quantum: str | None = None
    twin: str | None = None
    twin_note: str | None = None
    twin_test: tuple | None = None
    classical: str | None = None
    classical_test: tuple | None = None

    @property
    def verdict(self) -> tuple[str, str]:
        """``(words, winner)``: the best quantum vs the best classical model."""
        return verdict_of(self.classical_test)


def verdict_of(test, higher_wins: bool = True, missing: str = "no comparison"):
    """``(words, winner)`` of a paired test ``(quantum - other, p, n)`` at the 5% level;
    winner is ``"quantum"``, ``"classical"`` or ``"even"``. ``higher_wins``: whether the
    larger score is the better (accuracy) or the smaller (a divergence); ``missing``: the
    words when there is no test."""
    if test is None:
        return (missing, "even")
    diff, p, _ = test
    if math.isnan(p) or p >= ALPHA:
        return ("no significant difference", "even")
    ahead = diff > 0 if higher_wins else diff < 0
    return ("quantum ahead", "quantum") if ahead else ("classical ahead", "classical")


def headline(groups: dict, task: str, size, models: list[dict]) -> Headline:
    """The best quantum model, its twin and the best classical model of ``task`` at ``size``."""
    quantum = _best(
        groups, task, size, models, lambda m: m["family"] == "quantum" and not m["ablation"]
    )
    classical = _best(groups, task, size, models, lambda m: m["family"] == "classical")
    if quantum is None:
        return Headline(size, classical=classical)
    twin = next(m for m in models if m["model"] == quantum)["twin"]
    twin = twin if twin and (task, twin, size) in groups else None
    note = twin and twin_mismatch(groups, task, size, quantum, twin)
    return Headline(
        size,
        quantum,
        twin,
        note,
        None if note or not twin else _compare(groups, task, size, quantum, twin),
        classical,
        classical and _compare(groups, task, size, quantum, classical),
    )


def _size_text(size, unit: str) -> str:
    return "the full training set" if size is None else f"{size} training {unit}"


def _ablation_sentences(groups, task, size, main: str, models) -> list[str]:
    out = []
    words = {
        "separable": "Removing entanglement",
        "frozen": "Freezing the circuit at random (training only the readout)",
        "classical-part": "Keeping only the classical part",
    }
    for m in models:
        if m["ablation_of"] != main or m["ablation"] not in words:
            continue
        cmp = _compare(groups, task, size, m["model"], main)
        if cmp is None:
            continue
        diff, p, n = cmp
        out.append(
            f"{words[m['ablation']]} ({m['model']}) changes accuracy by "
            f"{100 * diff:+.1f} points ({significance(p, n)})."
        )
    return out


def _efficiency(groups, task, sizes, models, unit: str) -> str | None:
    small = min((s for s in sizes if s is not None), default=None)
    if small is None:
        return None
    parts, ahead = [], False
    for m in models:
        if m["family"] != "quantum" or m["ablation"] or not m["twin"]:
            continue
        note = twin_mismatch(groups, task, small, m["model"], m["twin"])
        cmp = _compare(groups, task, small, m["model"], m["twin"])
        if note and cmp is not None:
            parts.append(f"{m['model']} against its twin: {note}")
        elif cmp is not None:
            diff, p, n = cmp
            ahead |= diff > 0 and p < ALPHA
            parts.append(f"{m['model']} is {points(diff)} its twin ({significance(p, n)})")
    if not parts:
        return None
    answer = "a quantum model is" if ahead else "no quantum model is"
    return (
        f"Data efficiency: with {small} training {unit}, {'; '.join(parts)}. "
        f"So {answer} significantly ahead of a fairly matched twin there."
    )


def _twin_clause(groups, task, h: Headline) -> str:
    if h.twin is None:
        return ""
    if h.twin_note:
        return f"; against its classical twin ({h.twin}): {h.twin_note}"
    if h.twin_test is None:
        return ""
    diff, p, n = h.twin_test
    tests = significance(p, n) + _budgets(groups, task, h.size, h.quantum, h.twin)
    return f", {points(diff)} its matched classical twin ({h.twin}; {tests})"


def _quantum_sentence(groups, task, label, size, h: Headline, unit: str) -> str | None:
    if h.quantum is None:
        return None
    acc = _summary(groups, task, size, h.quantum)
    return (
        f"On {label} with {_size_text(size, unit)}, the best quantum model ({h.quantum}) "
        f"reaches {acc.text()}%{_twin_clause(groups, task, h)}."
    )


def _classical_sentence(groups, task, size, h: Headline) -> str | None:
    if h.classical_test is None:
        return None
    diff, p, n = h.classical_test
    best = _summary(groups, task, size, h.classical)
    return (
        f"The best classical model ({h.classical}) reaches {best.text()}%; the best "
        f"quantum model is {points(diff)} it ({significance(p, n)}"
        f"{_budgets(groups, task, size, h.quantum, h.classical)})."
    )


def headline_verdicts(
    groups: dict, task: str, label: str, sizes: list, models: list[dict], unit: str = "images"
) -> list[str]:
    """The two sentences a summary quotes: the best quantum model against its twin, and
    against the best classical model (see :func:`task_verdicts`)."""
    size = None if None in sizes else max(sizes)
    h = headline(groups, task, size, models)
    sentences = (
        _quantum_sentence(groups, task, label, size, h, unit),
        _classical_sentence(groups, task, size, h),
    )
    return [s for s in sentences if s]


def task_verdicts(
    groups: dict, task: str, label: str, sizes: list, models: list[dict], unit: str = "images"
) -> list[str]:
    """The verdict sentences of one task. ``models`` holds each model's metadata row;
    ``unit`` is what its samples are (``"images"``, ``"states"``)."""
    size = None if None in sizes else max(sizes)
    h = headline(groups, task, size, models)
    out = [_quantum_sentence(groups, task, label, size, h, unit)]
    if h.quantum is not None:
        out += _ablation_sentences(groups, task, size, h.quantum, models)
    out += [
        _classical_sentence(groups, task, size, h),
        _efficiency(groups, task, sizes, models, unit),
    ]
    return [s for s in out if s]
