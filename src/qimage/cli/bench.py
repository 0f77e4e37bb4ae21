"""``qimage bench``: run (or resume) a benchmark suite of quantum vs classical models.

Each finished cell (task, model, training size, seed) appends one line to
``OUT/results.jsonl`` and is skipped on a rerun, so an interrupted benchmark resumes. Cells
run on a local process pool or, with ``--executor ray``, as Ray tasks on a local Ray or a
cluster. Then ``qimage report OUT`` writes the report.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from qimage.bench import SUITES, run_suite
from qimage.bench.executors import EXECUTORS, make_executor
from qimage.cli import bounded
from qimage.cli.options import check_device
from qimage.errors import QimageError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "bench", help="run the quantum-vs-classical benchmark", description=__doc__.split("\n\n")[1]
    )
    p.add_argument(
        "--suite",
        choices=list(SUITES),
        default="quick",
        help="quick: minutes; standard: about half an hour on 2 cores; full: hours",
    )
    p.add_argument(
        "--task",
        action="append",
        metavar="NAME",
        help="run only this task of the suite (repeatable); rows of a re-run cell replace the "
        "old ones in the report",
    )
    p.add_argument("--out", type=Path, default=None, help="results folder (default: bench-SUITE)")
    p.add_argument(
        "--executor",
        choices=list(EXECUTORS),
        default="local",
        help="local: a process pool; ray: Ray tasks (pip install 'qimage[ray]')",
    )
    p.add_argument(
        "--workers",
        type=bounded(1024),
        help="local: cells run in parallel (default 1); ray: CPUs of the local Ray (default all)",
    )
    p.add_argument("--address", help="ray: join the Ray cluster at ADDR (e.g. auto or HOST:6379)")
    p.add_argument(
        "--cpus-per-cell",
        type=bounded(4096),
        help="CPUs (PyTorch threads) per cell (default: local the cores shared out, ray 1)",
    )
    p.add_argument(
        "--data-dir",
        help="folder with one subfolder per dataset (DIR/mnist, DIR/fashion-mnist) holding its "
        "IDX files; datasets not found there come from the usual sources (see docs/data.md)",
    )
    p.add_argument(
        "--device", metavar="DEVICE", help="where models train: cpu, cuda or cuda:N (default: cpu)"
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

    for flag in ("workers", "cpus_per_cell"):
        if getattr(args, flag) is not None and getattr(args, flag) < 1:
            raise QimageError(f"--{flag.replace('_', '-')} must be at least 1")
    if args.address and args.executor != "ray":
        raise QimageError("--address joins a Ray cluster: use it with --executor ray")
    if args.device is not None:
        check_device(args.device)
    suite = SUITES[args.suite].only(args.task) if args.task else SUITES[args.suite]
    total = sum(1 for _ in suite.cells())
    say(f"suite {suite.name}: {total} cells into {out}")
    executor = make_executor(
        args.executor,
        workers=args.workers,
        address=args.address,
        cpus_per_cell=args.cpus_per_cell,
    )
    with executor:
        counts = run_suite(
            suite,
            out,
            executor=executor,
            data_dir=args.data_dir,
            max_cells=args.max_cells,
            progress=say,
            device=args.device,
        )
    _record_command(out / "command.txt", " ".join(["qimage", *map(shlex.quote, sys.argv[1:])]))
    print(
        f"{counts['done']} cells run, {counts['failed']} failed, {counts['skipped']} already "
        f"done; results in {out / 'results.jsonl'}; next: qimage report {out}"
    )
    return 0


def _record_command(path: Path, command: str) -> None:
    """Add ``command`` to the commands that wrote the results in ``path``'s folder (a
    ``--task`` re-run adds to the suite's command instead of hiding it)."""
    lines = path.read_text().splitlines() if path.is_file() else []
    if command not in lines:
        path.write_text("\n".join([*lines, command]) + "\n")
