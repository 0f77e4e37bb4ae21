"""Plainly worded verdicts, generated from the numbers (never written by hand).

For each task, at its largest training size: where the best quantum-only model stands
against its matched classical twin and against the best classical model; what removing
entanglement and freezing the circuit change; and, at the smallest size, whether quantum
models are ahead of their twins (data efficiency). Every comparison states its paired test.
"""

from __future__ import annotations

import math

from qimage.report.stats import paired_test, summarise

__all__ = ["ALPHA", "task_verdicts"]

ALPHA = 0.05  # significance level of the paired tests


def _acc(cells: dict) -> dict[int, float]:
    return {seed: row["accuracy"] for seed, row in cells.items()}


def _significance(p: float, n: int) -> str:
    if math.isnan(p):
        return f"untested ({n} seed{'s' if n != 1 else ''})"
    word = "significant" if p < ALPHA else "not significant"
    return f"{word}, paired t-test over {n} seeds, p = {p:.3g}"


def _points(diff: float) -> str:
    return f"{abs(100 * diff):.1f} points {'above' if diff > 0 else 'below'}"


def _compare(groups, task, size, a: str, b: str) -> tuple[float, float, int] | None:
    ca, cb = groups.get((task, a, size)), groups.get((task, b, size))
    if not ca or not cb:
        return None
    return paired_test(_acc(ca), _acc(cb))


def _params(groups, task, size, name: str) -> int | None:
    counts = {row.get("n_parameters") for row in groups.get((task, name, size), {}).values()}
    return counts.pop() if len(counts) == 1 else None


def _size_note(groups, task, size, model: str, twin: str) -> str:
    """A warning when a "matched" twin is far from the model's size (e.g. the smallest MLP
    on 784 pixels has 805 parameters), so a verdict against it is read with that in mind."""
    a, b = _params(groups, task, size, model), _params(groups, task, size, twin)
    if not a or not b or max(a, b) <= 1.5 * min(a, b):
        return ""
    return f"; beware, {a} trainable parameters against the twin's {b}"


def _best(groups, task, size, models, predicate) -> str | None:
    scored = [
        (summarise(list(_acc(groups[(task, m["model"], size)]).values())).mean, m["model"])
        for m in models
        if predicate(m) and (task, m["model"], size) in groups
    ]
    return max(scored)[1] if scored else None


def _size_text(size) -> str:
    return "the full training set" if size is None else f"{size} training images"


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
            f"{100 * diff:+.1f} points ({_significance(p, n)})."
        )
    return out


def _efficiency(groups, task, sizes, models) -> str | None:
    small = min((s for s in sizes if s is not None), default=None)
    if small is None:
        return None
    parts = []
    for m in models:
        if m["family"] != "quantum" or m["ablation"] or not m["twin"]:
            continue
        cmp = _compare(groups, task, small, m["model"], m["twin"])
        if cmp is not None:
            diff, p, n = cmp
            note = _size_note(groups, task, small, m["model"], m["twin"])
            parts.append(f"{m['model']} is {_points(diff)} its twin ({_significance(p, n)}{note})")
    if not parts:
        return None
    ahead = any("above" in p and "not significant" not in p and "untested" not in p for p in parts)
    answer = (
        "a quantum model is significantly ahead of its twin"
        if ahead
        else "no quantum model is significantly ahead of its twin"
    )
    return f"Data efficiency: with {small} training images, {'; '.join(parts)}. So {answer} there."


def task_verdicts(
    groups: dict, task: str, label: str, sizes: list, models: list[dict]
) -> list[str]:
    """The verdict sentences of one task. ``models`` holds each model's metadata row."""
    size = None if None in sizes else max(sizes)
    out = []
    main = _best(
        groups, task, size, models, lambda m: m["family"] == "quantum" and not m["ablation"]
    )
    classical = _best(groups, task, size, models, lambda m: m["family"] == "classical")
    if main is not None:
        meta = next(m for m in models if m["model"] == main)
        acc = summarise(list(_acc(groups[(task, main, size)]).values()))
        sentence = (
            f"On {label} with {_size_text(size)}, the best quantum model ({main}) "
            f"reaches {acc.text()}%"
        )
        cmp = meta["twin"] and _compare(groups, task, size, main, meta["twin"])
        if cmp:
            diff, p, n = cmp
            note = _size_note(groups, task, size, main, meta["twin"])
            sentence += (
                f", {_points(diff)} its matched classical twin ({meta['twin']}; "
                f"{_significance(p, n)}{note})"
            )
        out.append(sentence + ".")
        out += _ablation_sentences(groups, task, size, main, models)
    if classical is not None and main is not None:
        diff, p, n = _compare(groups, task, size, main, classical)
        best = summarise(list(_acc(groups[(task, classical, size)]).values()))
        out.append(
            f"The best classical model ({classical}) reaches {best.text()}%; the best "
            f"quantum model is {_points(diff)} it ({_significance(p, n)})."
        )
    efficiency = _efficiency(groups, task, sizes, models)
    if efficiency:
        out.append(efficiency)
    return out
