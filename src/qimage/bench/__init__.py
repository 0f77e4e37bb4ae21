"""The honest quantum-vs-classical benchmark: suites of tasks x models x sizes x seeds.

``run_suite(SUITES["quick"], "bench-out")`` runs (or resumes) a suite; ``qimage report``
turns its result files into a report.
"""

from __future__ import annotations

from qimage.bench.runner import PROTOCOL, read_jsonl, run_suite
from qimage.bench.spec import BenchModel, Suite, Task
from qimage.bench.suites import SUITES

__all__ = ["PROTOCOL", "SUITES", "BenchModel", "Suite", "Task", "read_jsonl", "run_suite"]
