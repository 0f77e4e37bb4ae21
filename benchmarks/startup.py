"""Start-up time of the ``qimage`` command line: a benchmark, not a test.

Runs each command line in a fresh interpreter several times and prints the median wall time,
then the slowest imports of ``qimage --version`` as ``python -X importtime`` reports them.
The goal (issue 20): ``--version`` and ``--help`` under 0.3 s, and every command importing
only what it uses.

    python benchmarks/startup.py            # 5 runs of each command line
    python benchmarks/startup.py --runs 11
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMAND_LINES = (
    ["--version"],
    ["--help"],
    ["report", "--help"],
    ["info", "--help"],
    ["evaluate", "--help"],
    ["export", "--help"],
    ["predict", "--help"],
    ["train", "--help"],
)


def wall_time(command: list[str]) -> float:
    """Seconds from starting ``command`` to its exit."""
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=True)
    return time.perf_counter() - start


def slowest_imports(argv: list[str], top: int) -> list[tuple[int, str]]:
    """``(cumulative microseconds, module)`` of the ``top`` slowest top-level imports."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "qimage", *argv],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "cumulative" not in line:
            _, cumulative, name = line.split("|")
            if len(name) - len(name.lstrip()) == 1:  # imported by qimage itself, not nested
                rows.append((int(cumulative), name.strip()))
    return sorted(rows, reverse=True)[:top]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command line")
    args = parser.parse_args()
    baseline = statistics.median(
        wall_time([sys.executable, "-c", "pass"]) for _ in range(args.runs)
    )
    print(f"python -c pass: {baseline:.3f} s (interpreter start, the floor)")
    for argv in COMMAND_LINES:
        times = [wall_time([sys.executable, "-m", "qimage", *argv]) for _ in range(args.runs)]
        print(f"qimage {' '.join(argv):<16} median {statistics.median(times):.3f} s")
    print("\nslowest imports of qimage --version (cumulative):")
    for micros, name in slowest_imports(["--version"], top=8):
        print(f"  {micros / 1e6:7.3f} s  {name}")


if __name__ == "__main__":
    main()
