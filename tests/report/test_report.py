"""The report: statistics against SciPy, verdicts from numbers, Markdown and HTML output."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats as scipy_stats

from qimage.errors import QimageError
from qimage.report import build_report
from qimage.report.stats import group, paired_test, summarise
from qimage.report.verdict import task_verdicts


class TestStats:
    def test_confidence_interval_matches_scipy(self, rng):
        """The 95% interval equals SciPy's t-interval."""
        values = list(rng.uniform(0.8, 0.9, 5))
        low, high = scipy_stats.t.interval(
            0.95, 4, loc=np.mean(values), scale=scipy_stats.sem(values)
        )
        s = summarise(values)
        assert s.mean == pytest.approx(np.mean(values))
        assert s.ci == pytest.approx((high - low) / 2)

    def test_paired_test_matches_scipy(self, rng):
        """The paired test equals scipy.stats.ttest_rel over the shared seeds."""
        a = dict(enumerate(rng.uniform(0.8, 0.9, 5)))
        b = {**dict(enumerate(rng.uniform(0.7, 0.9, 5))), 9: 0.5}  # seed 9 has no partner
        diff, p, n = paired_test(a, b)
        want = scipy_stats.ttest_rel([a[i] for i in range(5)], [b[i] for i in range(5)])
        assert n == 5 and p == pytest.approx(want.pvalue)
        assert diff == pytest.approx(np.mean([a[i] - b[i] for i in range(5)]))

    def test_single_seed_has_no_test(self):
        """One seed gives a difference but no p-value."""
        _, p, n = paired_test({0: 0.9}, {0: 0.8})
        assert n == 1 and np.isnan(p)


def _rows(q, twin, sep, size=None):
    out = []
    for model, family, accs, extra in (
        ("qnn", "quantum", q, {"twin": "qnn:twin"}),
        ("qnn:twin", "classical", twin, {}),
        ("qnn:separable", "quantum", sep, {"ablation_of": "qnn", "ablation": "separable"}),
    ):
        for seed, acc in enumerate(accs):
            out.append(
                {
                    "task": "t",
                    "task_label": "Task T",
                    "model": model,
                    "family": family,
                    "size": size,
                    "seed": seed,
                    "accuracy": acc,
                    "n_parameters": 10,
                    "n_train": 100 if size is None else size,
                    "train_seconds": 1.0,
                    "confusion": [[5, 1], [2, 4]],
                    "suite": "s",
                    "twin": None,
                    "ablation_of": None,
                    "ablation": None,
                    **extra,
                }
            )
    return out


class TestVerdicts:
    def test_significant_gap_is_reported(self):
        """A clear gap to the twin is stated in points and called significant."""
        rows = _rows(
            [0.80, 0.81, 0.79, 0.80, 0.82],
            [0.90, 0.92, 0.91, 0.90, 0.93],
            [0.80, 0.80, 0.79, 0.81, 0.82],
        )
        models = [
            {k: r[k] for k in ("model", "family", "twin", "ablation_of", "ablation")}
            for r in rows[::5]
        ]
        text = " ".join(task_verdicts(group(rows), "t", "Task T", [None], models))
        assert "qnn" in text and "points below its matched classical twin" in text
        assert "significant, paired t-test over 5 seeds" in text
        assert "Removing entanglement (qnn:separable) changes accuracy by" in text
        assert "(not significant" in text  # the separable ablation makes no real difference

    def test_search_budgets_are_stated(self):
        """Rows that record their search budgets get "8 vs 8 candidates" in the verdicts;
        older rows without them get no claim."""
        rows = _rows([0.8, 0.81, 0.79], [0.9, 0.92, 0.91], [0.8, 0.8, 0.8])
        models = [
            {k: r[k] for k in ("model", "family", "twin", "ablation_of", "ablation")}
            for r in rows[::3]
        ]
        text = " ".join(task_verdicts(group(rows), "t", "Task T", [None], models))
        assert "candidates" not in text
        for row in rows:
            row["candidates"] = 8 if row["model"] == "qnn" else 3
        text = " ".join(task_verdicts(group(rows), "t", "Task T", [None], models))
        assert "its matched classical twin (qnn:twin; significant" in text
        assert "; 8 vs 3 hyperparameter candidates)" in text

    def test_data_efficiency_answer(self):
        """At the smallest size the verdict answers whether a quantum model is ahead."""
        rows = _rows([0.6, 0.61, 0.6], [0.5, 0.52, 0.49], [0.5, 0.5, 0.5], size=50)
        rows += _rows([0.8, 0.8, 0.8], [0.9, 0.9, 0.9], [0.8, 0.8, 0.8], size=None)
        models = [
            {
                "model": "qnn",
                "family": "quantum",
                "twin": "qnn:twin",
                "ablation_of": None,
                "ablation": None,
            },
            {
                "model": "qnn:twin",
                "family": "classical",
                "twin": None,
                "ablation_of": None,
                "ablation": None,
            },
        ]
        text = " ".join(task_verdicts(group(rows), "t", "Task T", [50, None], models))
        assert "with 50 training images, qnn is" in text
        assert "a quantum model is significantly ahead of a fairly matched twin there" in text
        assert "not compared" not in text  # equal sizes: a fair match
        for row in rows:
            if row["model"] == "qnn:twin":
                row["n_parameters"] = 805
        text = " ".join(task_verdicts(group(rows), "t", "Task T", [50, None], models))
        assert "qnn against its twin: not compared: twin has 805 parameters against 10" in text
        assert "no quantum model is significantly ahead" in text  # the unfair win is not counted
        assert "points above its matched classical twin" not in text


class TestBuild:
    def test_markdown_and_self_contained_html(self, tmp_path):
        """build_report writes Markdown with images and HTML with the images embedded."""
        rows = _rows([0.8, 0.81], [0.9, 0.91], [0.8, 0.79], size=50)
        rows += _rows([0.85, 0.86], [0.95, 0.94], [0.84, 0.85])
        (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        paths = build_report(tmp_path, command="qimage bench --suite x")
        md = paths["markdown"].read_text()
        assert "| qnn:twin |" in md and "![data efficiency](img/t-efficiency.png)" in md
        assert "Reproduce with: qimage bench --suite x" in md
        page = paths["html"].read_text()
        assert page.count("data:image/png;base64,") >= 4 and "<table>" in page
        assert (tmp_path / "img" / "t-quantum-confusion.png").is_file()

    def test_summary_quotes_the_report(self, tmp_path):
        """summary.md: the summary row linking into report.md, and the task's headline
        verdicts, each sentence also in the report."""
        rows = _rows([0.85, 0.86, 0.84], [0.95, 0.94, 0.96], [0.84, 0.85, 0.83])
        (tmp_path / "results.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
        paths = build_report(tmp_path)
        md, summary = paths["markdown"].read_text(), paths["summary"].read_text()
        assert "](report.md#task-t)" in summary and "| verdict: best quantum" in summary
        bullet = next(line for line in summary.splitlines() if line.startswith("- **"))
        sentences = bullet.split(".** ", 1)[1].split("). ")
        assert len(sentences) == 2 and "best classical model (qnn:twin)" in sentences[1]
        assert all(s.rstrip(".") in md for s in sentences)

    def test_rerun_cells_replace_earlier_rows(self, tmp_path):
        """A re-run cell (a later row for the same task, model, size and seed) replaces the
        earlier one in the numbers and in the cell count."""
        rows = _rows([0.8, 0.81], [0.9, 0.91], [0.8, 0.79])
        again = [{**r, "accuracy": 0.5} for r in rows if r["model"] == "qnn"]
        (tmp_path / "results.jsonl").write_text(
            "\n".join(json.dumps(r) for r in rows + again) + "\n"
        )
        md = build_report(tmp_path)["markdown"].read_text()
        assert "6 finished cells (2 earlier results replaced by re-runs)" in md
        assert "| qnn | quantum |" in md and "50.0 ± " in md

    def test_no_results(self, tmp_path):
        """An empty folder is a clear error."""
        with pytest.raises(QimageError, match="no benchmark results"):
            build_report(tmp_path)
