"""The report's readability: rounding, twin fairness, summary first, labels, ticks, class names."""

from __future__ import annotations

import itertools
import json
import re

import pytest
from matplotlib.text import Text
from test_report import _rows

from qimage.report import build, plots
from qimage.report.fmt import p_value, percent, plain
from qimage.report.labels import overlaps, place_labels
from qimage.report.stats import group
from qimage.report.verdict import headline

# A float printed with its full binary expansion, e.g. 0.29000000000000004 or 83.10000000000001.
UNROUNDED = re.compile(r"\d\.\d{7,}")


def _models(rows):
    keys = ("model", "family", "twin", "ablation_of", "ablation")
    return list({r["model"]: {k: r[k] for k in keys} for r in rows}.values())


class TestRounding:
    @pytest.mark.parametrize(
        ("value", "text"),
        [(0.30000000000000004, "0.3"), (2000.0, "2,000"), (1438, "1,438"), (2.5, "2.5")],
    )
    def test_plain_ticks(self, value, text):
        """Axis ticks are plain numbers, never 3x10^-1 or binary expansions."""
        assert plain(value) == text

    def test_percent_and_p_values(self):
        assert percent(0.29000000000000004) == "29.0"
        assert p_value(0.000774) == "p < 0.001" and p_value(0.0109123) == "p = 0.0109"

    def test_report_prints_no_unrounded_figure(self, tmp_path):
        """Accuracies with long binary expansions never reach the Markdown or the HTML text."""
        rows = _rows([0.29000000000000004, 0.31], [0.3, 0.30000000000000004], [0.1, 0.2])
        for row in rows:
            row["train_seconds"] = 0.1 + 0.2  # 0.30000000000000004
        (tmp_path / "results.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
        paths = build.build_report(tmp_path)
        text = paths["markdown"].read_text()
        assert UNROUNDED.findall(text) == []
        page = re.sub(r"base64,[^\"]+", "", paths["html"].read_text())
        assert UNROUNDED.findall(page) == []


class TestTwins:
    def test_twin_more_than_twice_the_size_is_not_compared(self):
        """A verdict against an 805-parameter twin of a 260-parameter model is not drawn."""
        rows = _rows([0.8, 0.81, 0.82], [0.5, 0.52, 0.51], [0.5, 0.5, 0.5])
        for row in rows:
            row["n_parameters"] = {"qnn": 260, "qnn:twin": 805}.get(row["model"], 260)
        h = headline(group(rows), "t", None, _models(rows))
        assert h.twin_test is None
        assert h.twin_note == "not compared: twin has 805 parameters against 260"

    @pytest.mark.parametrize(("twin_size", "compared"), [(520, True), (521, False), (130, True)])
    def test_ratio_limit_is_two(self, twin_size, compared):
        rows = _rows([0.8, 0.81, 0.82], [0.5, 0.52, 0.51], [0.5, 0.5, 0.5])
        for row in rows:
            row["n_parameters"] = twin_size if row["model"] == "qnn:twin" else 260
        h = headline(group(rows), "t", None, _models(rows))
        assert (h.twin_test is not None) is compared


class TestSummary:
    def test_summary_table_comes_first_with_badges_and_links(self, tmp_path):
        """The first table of the report is the summary: linked tasks and verdict badges."""
        rows = _rows([0.8, 0.81, 0.8], [0.9, 0.91, 0.9], [0.8, 0.79, 0.8])
        (tmp_path / "results.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
        paths = build.build_report(tmp_path)
        md = paths["markdown"].read_text()
        first_table = next(line for line in md.splitlines() if line.startswith("|"))
        assert first_table.startswith("| task |")
        assert "[Task T](#task-t)" in md and '<a id="task-t"></a>' in md
        assert "🟢 **classical ahead**" in md  # qnn:twin is the best classical, 10 points up
        assert "- [Task T (t)](#task-t)" in md  # contents
        page = paths["html"].read_text()
        assert page.index('<table id="summary">') < page.index("<table>")
        assert '<span class="badge classical">classical ahead</span>' in page
        assert '<div id="legend">' in page


class TestLabels:
    def test_clumped_labels_do_not_overlap(self):
        """Labels of points closer than a label's height end up apart, clear of the markers."""
        anchors = [(100 + 3 * i, 100 + 2 * i) for i in range(6)]
        sizes = [(60, 10)] * 6
        markers = [(x - 4, y - 4, x + 4, y + 4) for x, y in anchors]
        boxes = place_labels(anchors, sizes, (0, 0, 400, 300), markers)
        for a, b in itertools.combinations(boxes, 2):
            assert not overlaps(a, b)
        assert not any(overlaps(b, m) for b in boxes for m in markers)
        assert all(b[0] >= 0 and b[2] <= 400 and b[1] >= 0 and b[3] <= 300 for b in boxes)

    def test_overlap_is_area_not_touching(self):
        assert overlaps((0, 0, 2, 2), (1, 1, 3, 3)) and not overlaps((0, 0, 1, 1), (1, 0, 2, 1))

    def test_drawn_scatter_labels_do_not_overlap(self):
        """In the rendered scatter, the named models' label extents are pairwise disjoint."""
        names = ["quanv", "quanv:twin", "rbf-svc", "qnn", "logreg"]
        points = [(n, 1960 + 9 * i, 0.95 + 1e-3 * i, "quantum", True) for i, n in enumerate(names)]
        points.append(("other", 20, 0.3, "classical", False))
        fig, texts = plots.scatter_figure(points, "trainable parameters")
        renderer = fig.canvas.get_renderer()
        # The text's own box (an Annotation's extent also spans its leader line).
        extents = [Text.get_window_extent(t, renderer).extents for t in texts]
        assert len(texts) == 5  # the unnamed point gets no label
        for a, b in itertools.combinations(extents, 2):
            assert not overlaps(tuple(a), tuple(b))
        plots._pyplot().close(fig)

    def test_narrow_log_axis_has_plain_ticks(self):
        """Within one decade the ticks read 0.3 0.4 ..., not 3x10^-1 4x10^-1 run together."""
        points = [("a", 0.25, 0.9, "quantum", True), ("b", 0.65, 0.8, "classical", True)]
        fig, _ = plots.scatter_figure(points, "training time (s)")
        fig.canvas.draw()
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
        assert {"0.3", "0.4", "0.5", "0.6"} <= set(labels)
        assert not any("10^" in t or "times" in t for t in labels)
        assert all(t.get_text() == "" for t in ax.xaxis.get_minorticklabels())
        plots._pyplot().close(fig)


class TestClassNames:
    def test_confusion_uses_the_rows_class_names(self, tmp_path, monkeypatch):
        """Confusion axes show the class names the rows carry, else the label numbers."""
        seen = []

        def record(confusion, names, path, title):
            seen.append(names)
            path.write_bytes(b"png")

        monkeypatch.setattr(plots, "plot_confusion", record)
        rows = _rows([0.8, 0.81], [0.9, 0.91], [0.8, 0.79])
        for row in rows:
            row["class_names"] = ["T-shirt/top", "Trouser"] if row["model"] == "qnn" else None
        (tmp_path / "results.jsonl").write_text("\n".join(map(json.dumps, rows)) + "\n")
        build.build_report(tmp_path)
        assert seen == [["T-shirt/top", "Trouser"], ["0", "1"]]
