"""The quick-start model's seeds against the published spread, all five (the suite checks one).

docs/results.md publishes the quick-start model (``qimage train``, seeds 0-4) as 95.43 ±
1.6 (mean ± standard deviation). Per-seed figures are machine-specific (see machine.py), so
what a reader relies on is the spread: this script trains the given seeds here and checks
that each lands inside the published mean ± 2 standard deviations. About 48 s a seed on two
idle cores; the suite checks seed 0 (tests/train/test_quickstart_spread.py).

    python benchmarks/quickstart_seeds.py              # seeds 0 1 2 3 4, exit 1 if one is out
    python benchmarks/quickstart_seeds.py --seeds 0 --threads 1
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from machine import machine_line

PUBLISHED_MEAN, PUBLISHED_STD = 95.43, 1.6


def test_accuracy(seed: int, threads: int, folder: Path) -> float:
    """Test accuracy (%) of ``qimage train --seed SEED`` (the quick-start model)."""
    command = [sys.executable, "-m", "qimage", "--threads", str(threads), "train"]
    command += ["--seed", str(seed), "--quiet", "--json", "--out", str(folder / f"s{seed}")]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return 100 * json.loads(out)["test"]["accuracy"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--threads", type=int, default=2, help="PyTorch threads per run")
    args = parser.parse_args()
    low, high = PUBLISHED_MEAN - 2 * PUBLISHED_STD, PUBLISHED_MEAN + 2 * PUBLISHED_STD
    print(machine_line())
    with tempfile.TemporaryDirectory() as folder:
        scores = {s: test_accuracy(s, args.threads, Path(folder)) for s in args.seeds}
    for seed, score in scores.items():
        print(f"seed {seed}: {score:.2f}  {'inside' if low <= score <= high else 'OUTSIDE'}")
    if len(scores) > 1:
        values = list(scores.values())
        print(f"mean ± std: {statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}")
    print(f"published: {PUBLISHED_MEAN} ± {PUBLISHED_STD}, 2-std band {low:.2f}..{high:.2f}")
    return 0 if all(low <= s <= high for s in scores.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
