"""``qimage report``: a Markdown and a self-contained HTML report from result files only.

The report has, per task: a summary table (mean ± 95% confidence interval over seeds at the
largest training size), the generated verdict, and plots — data-efficiency curves, accuracy
vs trainable parameters, accuracy vs training time, ablation bars, and the confusion
matrices of the best quantum and the best classical model.
"""

from __future__ import annotations

import base64
import html
import platform
import time
from pathlib import Path

from qimage.errors import QimageError
from qimage.report import plots
from qimage.report.results import read_jsonl
from qimage.report.stats import group, summarise
from qimage.report.verdict import task_verdicts

__all__ = ["build_report"]


def _order(rows: list[dict], key: str) -> list:
    seen: dict = {}
    for row in rows:
        seen.setdefault(row[key], row)
    return list(seen)


def _models(rows: list[dict], task: str) -> list[dict]:
    meta = {}
    for row in rows:
        if row["task"] == task:
            meta.setdefault(
                row["model"],
                {k: row.get(k) for k in ("model", "family", "twin", "ablation_of", "ablation")},
            )
    return list(meta.values())


def _mean(cells: dict, key: str):
    values = [row[key] for row in cells.values() if row.get(key) is not None]
    return sum(values) / len(values) if values else None


def _table(groups, task, size, models) -> tuple[list[str], list[list[str]]]:
    header = [
        "model",
        "family",
        "ablation of",
        "parameters",
        "train images",
        "accuracy (%)",
        "seeds",
        "train time (s)",
    ]
    rows = []
    for m in models:
        cells = groups.get((task, m["model"], size))
        if not cells:
            continue
        acc = summarise([row["accuracy"] for row in cells.values()])
        params, n, seconds = (_mean(cells, k) for k in ("n_parameters", "n_train", "train_seconds"))
        rows.append(
            [
                m["model"],
                m["family"],
                m["ablation_of"] or "",
                "—" if params is None else f"{params:.0f}",
                f"{n:.0f}",
                acc.text(),
                str(acc.n),
                f"{seconds:.1f}",
            ]
        )
    rows.sort(key=lambda r: -float(r[5].split()[0]))
    return header, rows


def _task_plots(groups, task, sizes, models, img: Path, size) -> list[tuple[str, Path]]:
    out = []
    mains = [m for m in models if not m["ablation"]]
    curves = {}
    for m in mains:
        points = []
        for s in sizes:
            cells = groups.get((task, m["model"], s))
            if cells:
                acc = summarise([r["accuracy"] for r in cells.values()])
                points.append((_mean(cells, "n_train"), acc.mean, acc.ci))
        if len(points) > 1:
            curves[m["model"]] = points
    if curves:
        out.append(
            (
                "data efficiency",
                plots.plot_data_efficiency(
                    curves,
                    img / f"{task}-efficiency.png",
                    title=f"{task}: accuracy vs training size",
                ),
            )
        )
    out += _scatters(groups, task, size, models, img)
    out += _ablations(groups, task, size, models, img)
    out += _confusions(groups, task, size, models, img)
    return out


def _scatters(groups, task, size, models, img: Path):
    out = []
    for key, label, name in (
        ("n_parameters", "trainable parameters", "params"),
        ("train_seconds", "training time (s)", "time"),
    ):
        points = []
        for m in models:
            cells = groups.get((task, m["model"], size))
            x = cells and _mean(cells, key)
            if x:
                acc = summarise([r["accuracy"] for r in cells.values()])
                points.append((m["model"], x, acc.mean, m["family"]))
        if points:
            path = plots.plot_scatter(
                points, label, img / f"{task}-{name}.png", title=f"{task}: accuracy vs {label}"
            )
            out.append((f"accuracy vs {label}", path))
    return out


def _ablations(groups, task, size, models, img: Path):
    out = []
    for main in (m for m in models if m["family"] == "quantum" and not m["ablation"]):
        members = [main] + [m for m in models if m["ablation_of"] == main["model"]]
        bars = []
        for m in members:
            cells = groups.get((task, m["model"], size))
            if cells:
                acc = summarise([r["accuracy"] for r in cells.values()])
                bars.append((m["model"], acc.mean, acc.ci))
        if len(bars) > 1:
            path = plots.plot_bars(
                bars,
                img / f"{task}-{main['model']}-ablations.png",
                title=f"{task}: ablations of {main['model']}",
            )
            out.append((f"ablations of {main['model']}", path))
    return out


def _confusions(groups, task, size, models, img: Path):
    out = []
    for family in ("quantum", "classical"):
        scored = []
        for m in models:
            cells = groups.get((task, m["model"], size))
            if m["family"] == family and not m["ablation"] and cells:
                scored.append(
                    (summarise([r["accuracy"] for r in cells.values()]).mean, m["model"], cells)
                )
        if not scored:
            continue
        _, name, cells = max(scored, key=lambda t: t[0])
        matrices = [r["confusion"] for r in cells.values() if r.get("confusion")]
        total = [
            [sum(col) for col in zip(*rows, strict=True)] for rows in zip(*matrices, strict=True)
        ]
        labels = [str(i) for i in range(len(total))]
        path = plots.plot_confusion(
            total, labels, img / f"{task}-{family}-confusion.png", title=f"{name} (all seeds)"
        )
        out.append((f"confusion matrix of the best {family} model ({name})", path))
    return out


def _sections(rows, groups, img: Path) -> list[tuple]:
    blocks = []
    for task in _order(rows, "task"):
        label = next(r.get("task_label", task) for r in rows if r["task"] == task)
        sizes = sorted(
            {r["size"] for r in rows if r["task"] == task},
            key=lambda s: float("inf") if s is None else s,
        )
        size = None if None in sizes else max(sizes)
        models = _models(rows, task)
        blocks.append(("h2", f"{label} ({task})"))
        blocks += [
            ("p", sentence) for sentence in task_verdicts(groups, task, label, sizes, models)
        ]
        blocks.append(
            (
                "p",
                f"Accuracy at {'the full training set' if size is None else size} "
                "(mean ± 95% confidence interval over seeds):",
            )
        )
        blocks.append(("table", *_table(groups, task, size, models)))
        blocks += [
            ("img", title, path)
            for title, path in _task_plots(groups, task, sizes, models, img, size)
        ]
    return blocks


def _markdown(blocks, root: Path) -> str:
    out = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2"):
            out.append(("# " if kind == "h1" else "## ") + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "table":
            header, rows = block[1], block[2]
            out.append(
                "\n".join(
                    [
                        "| " + " | ".join(header) + " |",
                        "|" + "---|" * len(header),
                        *("| " + " | ".join(r) + " |" for r in rows),
                    ]
                )
            )
        elif kind == "img":
            out.append(f"![{block[1]}]({block[2].relative_to(root).as_posix()})")
    return "\n\n".join(out) + "\n"


def _html(blocks) -> str:
    body = []
    for block in blocks:
        kind = block[0]
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{html.escape(block[1])}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{html.escape(block[1])}</p>")
        elif kind == "table":
            head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
            rows = "".join(
                "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>"
                for r in block[2]
            )
            body.append(f"<table><tr>{head}</tr>{rows}</table>")
        elif kind == "img":
            data = base64.b64encode(block[2].read_bytes()).decode()
            body.append(
                f'<figure><img alt="{html.escape(block[1])}" '
                f'src="data:image/png;base64,{data}"><figcaption>'
                f"{html.escape(block[1])}</figcaption></figure>"
            )
    style = (
        "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
        "img{max-width:100%}"
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>qimage benchmark</title>"
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
    )


def build_report(
    results_dir: str | Path, out_dir: str | Path | None = None, command: str | None = None
) -> dict[str, Path]:
    """Write ``report.md``, ``report.html`` and ``img/*.png``; returns their paths."""
    results_dir = Path(results_dir)
    rows = read_jsonl(results_dir / "results.jsonl")
    if not rows:
        raise QimageError(f"no benchmark results in {results_dir} (results.jsonl)")
    out = Path(out_dir) if out_dir else results_dir
    img = out / "img"
    img.mkdir(parents=True, exist_ok=True)
    failed = sum("error" in r for r in rows)
    suites = ", ".join(_order(rows, "suite"))
    intro = (
        f"Suite {suites}: {len(rows) - failed} finished cells"
        + (f", {failed} failed" if failed else "")
        + f". Generated {time.strftime('%Y-%m-%d')} on {platform.machine()} "
        f"({platform.python_implementation()} {platform.python_version()})."
    )
    blocks = [("h1", "qimage benchmark: quantum vs classical"), ("p", intro)]
    if command:
        blocks.append(("p", f"Reproduce with: {command}"))
    blocks += _sections(rows, group(rows), img)
    md, page = out / "report.md", out / "report.html"
    md.write_text(_markdown(blocks, out))
    page.write_text(_html(blocks))
    return {"markdown": md, "html": page}
