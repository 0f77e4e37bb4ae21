"""Copy the benchmark's front page (``docs/benchmark/summary.md``, written by ``qimage
report``) into the README, between its two ``benchmark-summary`` markers.

The README's benchmark table and verdict sentences are thus the report's, word for word;
``tests/test_docs.py`` checks that the copy is current. Run after ``qimage report
docs/benchmark``::

    python benchmarks/readme_summary.py
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = ROOT / "docs" / "benchmark" / "summary.md"
README = ROOT / "README.md"
START, END = "<!-- benchmark-summary: start -->", "<!-- benchmark-summary: end -->"


def rebase(markdown: str, folder: str) -> str:
    """Relative link targets of ``markdown`` (written in ``folder``) made relative to the root."""
    return re.sub(r"\]\((?![a-z]+:|#|/)", f"]({folder}/", markdown)


def embed(readme: str, summary: str, folder: str = "docs/benchmark") -> str:
    """``readme`` with the text between the markers replaced by ``summary``."""
    head, found, rest = readme.partition(START)
    _, found_end, tail = rest.partition(END)
    if not (found and found_end):
        raise SystemExit(f"README.md lacks the markers {START} and {END}")
    return f"{head}{START}\n{rebase(summary, folder).strip()}\n{END}{tail}"


def main() -> None:
    README.write_text(embed(README.read_text(), SUMMARY.read_text()))
    print(f"copied {SUMMARY.relative_to(ROOT)} into {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
