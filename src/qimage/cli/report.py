"""``qimage report RESULTS_DIR``: Markdown and self-contained HTML report of a benchmark.

It only reads result files (``results.jsonl``), so it can be rerun at any time, even while a
benchmark is still adding cells.
"""

from __future__ import annotations

from pathlib import Path

from qimage.report import build_report


def add_parser(sub) -> None:
    p = sub.add_parser(
        "report",
        help="write the report of a benchmark's results",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("results", type=Path, help="folder written by qimage bench")
    p.add_argument("--out", type=Path, help="where to write (default: the results folder)")
    p.set_defaults(run=run_report)


def run_report(args) -> int:
    command_file = args.results / "command.txt"
    lines = command_file.read_text().splitlines() if command_file.is_file() else []
    command = ", then ".join(line for line in lines if line.strip()) or None
    paths = build_report(args.results, args.out, command=command)
    print(f"wrote {paths['markdown']}, {paths['html']} and {paths['summary']}")
    return 0
