"""``qimage report``: a Markdown and a self-contained HTML report from result files only.

The report opens with a summary table (per task: the best quantum model, its twin, the best
classical model and the verdict as a coloured badge), the legend every plot follows and a
table of contents. Then, per task: the generated verdicts, a table (mean ± 95% confidence
interval over seeds at the largest training size) and plots — data-efficiency curves,
accuracy vs trainable parameters, accuracy vs training time, ablation bars, and the
confusion matrices of the best quantum and the best classical model. A generative task
(rows with ``task_kind`` "generative") has its own summary row, verdicts
(:mod:`qimage.report.generative`), table of KL, TV, MMD², validity and novelty, KL vs
parameters and a grid of the samples each model drew.

``summary.md`` beside the report holds what a front page quotes: the summary table (linking
into ``report.md``) and each task's headline verdicts, word for word as in the report.
"""

from __future__ import annotations

import dataclasses
import platform
import re
import time
from dataclasses import dataclass
from pathlib import Path

from qimage.errors import QimageError
from qimage.report import plots
from qimage.report.fmt import count, seconds
from qimage.report.generative import generative_headline, generative_verdicts, kl_text
from qimage.report.render import Badge, Link, html_page, markdown
from qimage.report.results import read_jsonl
from qimage.report.stats import group, summarise
from qimage.report.verdict import (
    ALPHA,
    TWIN_RATIO,
    Headline,
    headline,
    headline_verdicts,
    task_verdicts,
)

__all__ = ["build_report"]


@dataclass(frozen=True)
class _Task:
    """What the report needs to know about one task."""

    name: str
    label: str
    sizes: list
    size: int | None  # the headline size: the full training set, else the largest
    models: list[dict]
    unit: str = "images"  # what the samples are
    kind: str = "classification"  # or "generative" (the bench's task kind)

    @property
    def anchor(self) -> str:
        return "task-" + re.sub(r"[^a-z0-9-]+", "-", self.name.lower())


def _order(rows: list[dict], key: str) -> list:
    return list(dict.fromkeys(row[key] for row in rows))


def _tasks(rows: list[dict]) -> list[_Task]:
    out = []
    for task in _order(rows, "task"):
        mine = [r for r in rows if r["task"] == task]
        sizes = sorted({r["size"] for r in mine}, key=lambda s: float("inf") if s is None else s)
        meta = {}
        for row in mine:
            keys = ("model", "family", "twin", "ablation_of", "ablation")
            meta.setdefault(row["model"], {k: row.get(k) for k in keys})
        label = mine[0].get("task_label", task)
        size = None if None in sizes else max(sizes)
        unit, kind = mine[0].get("task_unit", "images"), mine[0].get("task_kind")
        out.append(_Task(task, label, sizes, size, list(meta.values()), unit, kind or KIND))
    return out


def _mean(cells: dict, key: str):
    values = [row[key] for row in cells.values() if row.get(key) is not None]
    return sum(values) / len(values) if values else None


def _acc(cells: dict):
    return summarise([row["accuracy"] for row in cells.values()])


def _table(groups, t: _Task) -> tuple[list[str], list[list[str]]]:
    header = ["model", "family", "ablation of", "parameters", f"train {t.unit}",
              "accuracy (%)", "seeds", "train time (s)"]  # fmt: skip
    rows = []
    for m in t.models:
        cells = groups.get((t.name, m["model"], t.size))
        if cells:
            acc = _acc(cells)
            rows.append((acc.mean, [
                m["model"], m["family"], m["ablation_of"] or "",
                count(_mean(cells, "n_parameters")), count(_mean(cells, "n_train")),
                acc.text(), str(acc.n), seconds(_mean(cells, "train_seconds")),
            ]))  # fmt: skip
    return header, [r for _, r in sorted(rows, key=lambda r: -r[0])]


def _named(groups, t: _Task, model: str | None) -> str:
    if model is None:
        return "—"
    return f"{model} {_acc(groups[(t.name, model, t.size)]).text()}%"


def _size_cell(t: _Task) -> str:
    return "full" if t.size is None else f"{t.size} {t.unit}"


def _summary_row(groups, t: _Task) -> list:
    h = headline(groups, t.name, t.size, t.models)
    twin = (h.twin_note or _named(groups, t, h.twin)) if h.twin else "— (no twin)"
    if h.twin_test is not None:
        diff, p, _ = h.twin_test
        word = "significant" if p < ALPHA else "not significant"
        twin += f" (quantum {100 * diff:+.1f} points, {word})"
    words, winner = h.verdict
    return [Link(t.label, t.anchor), _size_cell(t), _named(groups, t, h.quantum), twin,
            _named(groups, t, h.classical), Badge(words, winner)]  # fmt: skip


def _kl_named(groups, t: _Task, model: str | None) -> str:
    if model is None:
        return "—"
    kl = summarise([r["kl"] for r in groups[(t.name, model, t.size)].values()])
    return f"{model} KL {kl_text(kl)}"


def _generative_row(groups, t: _Task) -> list:
    h = generative_headline(groups, t.name, t.size, t.models)
    near = f"— (none within {TWIN_RATIO:g}x)"
    baseline = _kl_named(groups, t, h.baseline) if h.baseline else near
    words, winner = h.verdict
    return [Link(t.label, t.anchor), _size_cell(t), _kl_named(groups, t, h.quantum), baseline,
            _kl_named(groups, t, h.classical), Badge(words, winner)]  # fmt: skip


_SUMMARY_HEADER = ["task", "training set", "best quantum", "its classical twin",
                   "best classical", "verdict: best quantum vs best classical"]  # fmt: skip


def _summary(tasks: list[_Task], rows: list[list], img: Path) -> list[tuple]:
    header = _SUMMARY_HEADER
    notes = "".join(KINDS[kind].note for kind in dict.fromkeys(t.kind for t in tasks))
    return [
        ("h2", "Summary", "summary"),
        ("table", header, rows, "summary"),
        ("p", "Accuracy: mean ± 95% confidence interval over seeds. Verdicts: paired t-test "
              f"over seeds at the 5% level.{notes} Every plot draws quantum and classical "
              "models so:"),
        ("legend", plots.plot_legend(img / "legend.png")),
        ("h2", "Contents", "contents"),
        ("contents", [(f"{t.label} ({t.name})", t.anchor) for t in tasks]),
    ]  # fmt: skip


def _efficiency(groups, t: _Task, img: Path) -> list[tuple]:
    curves = {}
    for m in (m for m in t.models if not m["ablation"]):
        points = []
        for s in t.sizes:
            cells = groups.get((t.name, m["model"], s))
            if cells:
                acc = _acc(cells)
                points.append((_mean(cells, "n_train"), acc.mean, acc.ci))
        if len(points) > 1:
            curves[m["model"]] = points
    if not curves:
        return []
    families = {m["model"]: m["family"] for m in t.models if m["model"] in curves}
    path = img / f"{t.name}-efficiency.png"
    title = f"{t.name}: accuracy vs training size"
    return [("img", "data efficiency", plots.plot_data_efficiency(curves, families, path, title))]


def _scatters(groups, t: _Task, h: Headline, img: Path) -> list[tuple]:
    named = {h.quantum, h.twin, h.classical} - {None}
    out = []
    for key, label, name in (
        ("n_parameters", "trainable parameters", "params"),
        ("train_seconds", "training time (s)", "time"),
    ):
        points = []
        for m in t.models:
            cells = groups.get((t.name, m["model"], t.size))
            x = cells and _mean(cells, key)
            if x:
                points.append((m["model"], x, _acc(cells).mean, m["family"], m["model"] in named))
        if points:
            title = f"{t.name}: accuracy vs {label}"
            path = plots.plot_scatter(points, label, img / f"{t.name}-{name}.png", title=title)
            caption = f"accuracy vs {label} (labelled: the models the verdicts name)"
            out.append(("img", caption, path))
    return out


def _ablations(groups, t: _Task, img: Path) -> list[tuple]:
    out = []
    for main in (m for m in t.models if m["family"] == "quantum" and not m["ablation"]):
        members = [main] + [m for m in t.models if m["ablation_of"] == main["model"]]
        bars = []
        for m in members:
            cells = groups.get((t.name, m["model"], t.size))
            if cells:
                acc = _acc(cells)
                bars.append((m["model"], acc.mean, acc.ci, m["family"]))
        if len(bars) > 1:
            path = img / f"{t.name}-{main['model']}-ablations.png"
            title = f"{t.name}: ablations of {main['model']}"
            out.append(("img", f"ablations of {main['model']}", plots.plot_bars(bars, path, title)))
    return out


def _class_names(cells: dict, n: int) -> list[str]:
    """The class names the rows carry (bench stores them), else the label numbers."""
    names = next((r["class_names"] for r in cells.values() if r.get("class_names")), None)
    return list(names) if names and len(names) == n else [str(i) for i in range(n)]


def _confusions(groups, t: _Task, img: Path) -> list[tuple]:
    out = []
    for family in ("quantum", "classical"):
        best = _best_of(groups, t, family)
        if best is None:
            continue
        cells = groups[(t.name, best, t.size)]
        matrices = [r["confusion"] for r in cells.values() if r.get("confusion")]
        total = [
            [sum(col) for col in zip(*rows, strict=True)] for rows in zip(*matrices, strict=True)
        ]
        names = _class_names(cells, len(total))
        path = img / f"{t.name}-{family}-confusion.png"
        plots.plot_confusion(total, names, path, title=f"{best} (all seeds)")
        out.append(("img", f"confusion matrix of the best {family} model ({best})", path))
    return out


def _best_of(groups, t: _Task, family: str) -> str | None:
    scored = [
        (_acc(groups[(t.name, m["model"], t.size)]).mean, m["model"])
        for m in t.models
        if m["family"] == family and not m["ablation"] and (t.name, m["model"], t.size) in groups
    ]
    return max(scored)[1] if scored else None


def _section(groups, t: _Task, img: Path) -> list[tuple]:
    h = headline(groups, t.name, t.size, t.models)
    where = "the full training set" if t.size is None else f"{t.size} training {t.unit}"
    return [
        ("h2", f"{t.label} ({t.name})", t.anchor),
        *(("p", s) for s in task_verdicts(groups, t.name, t.label, t.sizes, t.models, t.unit)),
        ("p", f"Accuracy with {where} (mean ± 95% confidence interval over seeds):"),
        ("table", *_table(groups, t), None),
        *_efficiency(groups, t, img),
        *_scatters(groups, t, h, img),
        *_ablations(groups, t, img),
        *_confusions(groups, t, img),
    ]


def _stat(cells: dict, key: str, digits: int, scale: float = 1) -> str:
    values = [scale * r[key] for r in cells.values() if r.get(key) is not None]
    if not values:
        return "—"
    s = summarise(values)
    return f"{s.mean:.{digits}f} ± {s.ci:.{digits}f}"


def _generative_table(groups, t: _Task) -> tuple[list[str], list[list[str]]]:
    header = ["model", "family", "parameters", f"train {t.unit}", "KL(test ‖ model)", "TV",
              "MMD² (samples)", "valid (%)", "novel (%)", "seeds", "train time (s)"]  # fmt: skip
    rows = []
    for m in t.models:
        cells = groups.get((t.name, m["model"], t.size))
        if cells:
            kl = summarise([r["kl"] for r in cells.values()]).mean
            rows.append((kl, [
                m["model"], m["family"], count(_mean(cells, "n_parameters")),
                count(_mean(cells, "n_train")), _stat(cells, "kl", 3), _stat(cells, "tv", 3),
                _stat(cells, "mmd2", 4), _stat(cells, "validity", 1, 100),
                _stat(cells, "novelty", 1, 100), str(len(cells)),
                seconds(_mean(cells, "train_seconds")),
            ]))  # fmt: skip
    return header, [r for _, r in sorted(rows, key=lambda r: r[0])]


def _kl_scatter(groups, t: _Task, named: set, img: Path) -> list[tuple]:
    points = []
    for m in t.models:
        cells = groups.get((t.name, m["model"], t.size))
        x = cells and _mean(cells, "n_parameters")
        if x:
            kl = _mean(cells, "kl")
            points.append((m["model"], x, kl, m["family"], m["model"] in named))
    if not points:
        return []
    title, path = f"{t.name}: KL vs trainable parameters", img / f"{t.name}-kl-params.png"
    plot = plots.plot_scatter(
        points, "trainable parameters", path, title, ylabel="KL(test ‖ model)"
    )
    return [("img", "KL vs trainable parameters (labelled: the models the verdict names)", plot)]


def _sample_grids(groups, t: _Task, img: Path) -> list[tuple]:
    panels, shape = [], None
    for m in t.models:
        cells = groups.get((t.name, m["model"], t.size))
        first = cells and cells[min(cells)]
        if first and first.get("samples"):
            panels.append((m["model"], m["family"], first["samples"]))
            shape = tuple(first["image_shape"])
    if not panels:
        return []
    path = img / f"{t.name}-samples.png"
    plots.plot_samples(panels, shape, path, title=f"{t.name}: samples (first seed)")
    return [("img", "images drawn by each model (first seed)", path)]


def _generative_section(groups, t: _Task, img: Path) -> list[tuple]:
    h = generative_headline(groups, t.name, t.size, t.models)
    where = "the full training set" if t.size is None else f"{t.size} training {t.unit}"
    verdicts = generative_verdicts(groups, t.name, t.label, t.size, t.models, t.unit)
    return [
        ("h2", f"{t.label} ({t.name})", t.anchor),
        *(("p", s) for s in verdicts),
        ("p", f"With {where} (mean ± 95% confidence interval over seeds; KL and TV exact over "
              "every bit string, MMD², validity and novelty from the drawn samples):"),
        ("table", *_generative_table(groups, t), None),
        *_kl_scatter(groups, t, {h.quantum, h.baseline, h.classical} - {None}, img),
        *_sample_grids(groups, t, img),
    ]  # fmt: skip


@dataclass(frozen=True)
class _Kind:
    """How the report shows one task kind: its summary row, section and headline verdicts."""

    row: object
    section: object
    headlines: object
    note: str = ""  # what the summary adds about the kind's columns, when it has a task


def _generative_headlines(groups, t: _Task) -> list[str]:
    return generative_verdicts(groups, t.name, t.label, t.size, t.models, t.unit)


def _classification_headlines(groups, t: _Task) -> list[str]:
    return headline_verdicts(groups, t.name, t.label, t.sizes, t.models, t.unit)


KIND = "classification"
KINDS = {
    KIND: _Kind(_summary_row, _section, _classification_headlines),
    "generative": _Kind(
        _generative_row,
        _generative_section,
        _generative_headlines,
        " Generative tasks: KL(test ‖ model), lower is better, against the best classical "
        f"model within {TWIN_RATIO:g}x of the best quantum model's parameters (the twin "
        "column).",
    ),
}
"""Per task kind: its summary-table row, section and headline verdicts."""


def _front_page(groups, tasks: list[_Task], rows: list[list]) -> list[tuple]:
    """``summary.md``: the summary ``rows``, linking into ``report.md``, and per task the
    verdicts its summary row stands for."""
    rows = [[dataclasses.replace(row[0], page="report.md"), *row[1:]] for row in rows]
    verdicts = [f"- **{t.label}.** " + " ".join(KINDS[t.kind].headlines(groups, t))
                for t in tasks]  # fmt: skip
    return [("table", _SUMMARY_HEADER, rows, "summary"), ("p", "\n".join(verdicts))]


def _intro(rows: list[dict], command: str | None) -> list[tuple]:
    latest = {(r["task"], r["model"], r["size"], r["seed"]): r for r in rows}
    failed = sum("error" in r for r in latest.values())
    replaced = len(rows) - len(latest)
    text = (
        f"Suite {', '.join(_order(rows, 'suite'))}: {len(latest) - failed} finished cells"
        + (f", {failed} failed" if failed else "")
        + (f" ({replaced} earlier results replaced by re-runs)" if replaced else "")
        + f". Generated {time.strftime('%Y-%m-%d')} on {platform.machine()} "
        f"({platform.python_implementation()} {platform.python_version()})."
    )
    blocks = [("h1", "qimage benchmark: quantum vs classical"), ("p", text)]
    return blocks + ([("p", f"Reproduce with: {command}")] if command else [])


def build_report(
    results_dir: str | Path, out_dir: str | Path | None = None, command: str | None = None
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html``, ``summary.md`` and ``img/*.png``; returns their
    paths."""
    results_dir = Path(results_dir)
    rows = read_jsonl(results_dir / "results.jsonl")
    if not rows:
        raise QimageError(f"no benchmark results in {results_dir} (results.jsonl)")
    out = Path(out_dir) if out_dir else results_dir
    img = out / "img"
    img.mkdir(parents=True, exist_ok=True)
    groups, tasks = group(rows), _tasks([r for r in rows if "error" not in r] or rows)
    summary = [KINDS[t.kind].row(groups, t) for t in tasks]
    blocks = _intro(rows, command) + _summary(tasks, summary, img)
    for t in tasks:
        blocks += KINDS[t.kind].section(groups, t, img)
    md, page, front = out / "report.md", out / "report.html", out / "summary.md"
    md.write_text(markdown(blocks, out))
    page.write_text(html_page(blocks))
    front.write_text(markdown(_front_page(groups, tasks, summary), out))
    return {"markdown": md, "html": page, "summary": front}
