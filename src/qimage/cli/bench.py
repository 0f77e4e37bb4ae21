"""``qimage bench``: run (or resume) a benchmark suite of quantum vs classical models.

Each finished cell (task, model, training size, seed) appends one line to
``OUT/results.jsonl`` and is skipped on a rerun, so an interrupted benchmark resumes. Then
``qimage report OUT`` writes the report.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from qimage.bench import SUITES, run_suite


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench", help="run the quantum-vs-classical benchmark", description=__doc__.split("\n\n")[1]
    )
    p.add_argument(
        "--suite",
        choices=list(SUITES),
        default="quick",
        help="quick: minutes; standard: about an hour on 2 cores; full: hours",
    )
    p.add_argument("--out", type=Path, default=None, help="results folder (default: bench-SUITE)")
    p.add_argument("--workers", type=int, default=1, help="cells run in parallel")
    p.add_argument(
        "--data-dir",
        help="folder with one subfolder per dataset (DIR/mnist, DIR/fashion-mnist) holding its "
        "IDX files; datasets not found there come from the usual sources (see docs/data.md)",
    )
    p.add_argument("--max-cells", type=int, help="stop after this many new cells (smoke tests)")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(run=run_bench)


def run_bench(args) -> int:
    from rich.console import Console

    out = args.out or Path(f"bench-{args.suite}")
    console = Console(stderr=True, highlight=False)

    def say(message: str) -> None:
        if not args.quiet:
            console.print(message)

    suite = SUITES[args.suite]
    total = sum(1 for _ in suite.cells())
    say(f"suite {suite.name}: {total} cells into {out}")
    counts = run_suite(
        suite,
        out,
        workers=max(1, args.workers),
        data_dir=args.data_dir,
        max_cells=args.max_cells,
        progress=say,
    )
    (out / "command.txt").write_text(" ".join(["qimage", *map(shlex.quote, sys.argv[1:])]) + "\n")
    print(
        f"{counts['done']} cells run, {counts['failed']} failed, {counts['skipped']} already "
        f"done; results in {out / 'results.jsonl'}; next: qimage report {out}"
    )
    return 0
