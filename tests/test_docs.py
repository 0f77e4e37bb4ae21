"""The docs cannot rot: every example in README.md and docs/*.md runs here.

* A fenced ``python`` block runs; the blocks of one file share a namespace, in order.
  A ``text`` block right after it is its expected output (``...`` matches anything, as in
  doctest's ELLIPSIS).
* A fenced ``console`` block preceded by ``<!-- test -->`` runs each ``$ qimage ...`` line;
  the lines after it, up to the next ``$``, are its expected output (ellipsis allowed).
* ``<!-- skip-test -->`` before a block exempts it (for commands that download, say).
"""

from __future__ import annotations

import contextlib
import doctest
import io
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(<!-- (?:test|skip-test) -->\n)?```(\w+)\n(.*?)```", re.S)
CHECKER = doctest.OutputChecker()
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def blocks(path: Path):
    """(marker, language, body) of every fenced block, in order."""
    for match in FENCE.finditer(path.read_text()):
        marker = (match.group(1) or "").strip()
        yield marker, match.group(2), match.group(3)


def python_examples(path: Path):
    """(code, expected output or None) pairs."""
    found, pending = [], None
    for marker, language, body in blocks(path):
        if language == "text" and pending is not None:
            found[-1] = (found[-1][0], body)
        pending = None
        if language == "python" and marker != "<!-- skip-test -->":
            found.append((body, None))
            pending = body
    return found


def console_examples(path: Path):
    """(command, expected output) pairs of console blocks marked for testing."""
    found = []
    for marker, language, body in blocks(path):
        if language != "console" or marker != "<!-- test -->":
            continue
        for chunk in re.split(r"^\$ ", body, flags=re.M)[1:]:
            command, _, expected = chunk.partition("\n")
            found.append((command.strip(), expected))
    return found


def _check(expected: str, got: str, what: str) -> None:
    if not CHECKER.check_output(expected, got, FLAGS):
        pytest.fail(f"{what}: output differs\n--- expected\n{expected}\n--- got\n{got}")


def _docs_with(kind):
    return [p for p in DOCS if kind(p)]


@pytest.mark.slow
@pytest.mark.parametrize("path", _docs_with(python_examples), ids=lambda p: p.name)
def test_python_examples(path, tmp_path, monkeypatch):
    """Every Python example of the file runs and prints what the docs show."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__docs__"}
    for i, (code, expected) in enumerate(python_examples(path)):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{path.name}[{i}]", "exec"), namespace)
        if expected is not None:
            _check(expected, out.getvalue(), f"{path.name} block {i}")


@pytest.mark.slow
@pytest.mark.parametrize("path", _docs_with(console_examples), ids=lambda p: p.name)
def test_console_examples(path, tmp_path, monkeypatch):
    """Every console example marked for testing runs and prints what the docs show.

    The commands run in this process through :func:`qimage.cli.main`, so the heavy imports
    (torch, PennyLane, Qiskit) are paid once; the CLI's own subprocess tests cover the entry
    point, and ``test_no_module_state_leaks`` that commands do not leak state into each other.
    """
    from qimage.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "120")
    for command, expected in console_examples(path):
        argv = shlex.split(command)
        assert argv[0] == "qimage", f"only qimage commands are run: {command}"
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv[1:])
        assert code == 0, f"{command}\n{err.getvalue()}"
        _check(expected, out.getvalue(), command)


def test_the_harness_finds_examples():
    """The README's Python example is found (the harness itself works)."""
    assert python_examples(ROOT / "README.md")


def test_the_readme_opens_with_the_two_commands():
    """The quick-start contract: the README's first block is ``make demo`` and ``make test``,
    and both are targets of the Makefile (which `.ci/run` calls for the second)."""
    _, _, first = next(blocks(ROOT / "README.md"))
    commands = [line.split("#")[0].strip() for line in first.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def _readme_summary():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "readme_summary", ROOT / "benchmarks" / "readme_summary.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_quotes_the_benchmark_summary():
    """The README's benchmark table and verdicts are ``docs/benchmark/summary.md`` word for
    word (as ``qimage report`` wrote it), links made relative to the root."""
    tool = _readme_summary()
    readme = (ROOT / "README.md").read_text()
    assert tool.embed(readme, tool.SUMMARY.read_text()) == readme


def test_the_summary_copy_rebases_links_and_replaces_the_old_block():
    tool = _readme_summary()
    readme = f"intro\n{tool.START}\nold table\n{tool.END}\nafter\n"
    summary = "| [a](report.md#t) | ![p](img/x.png) | [web](https://x.org) | [s](#top) |\n"
    got = tool.embed(readme, summary)
    assert "old table" not in got and got.endswith(f"{tool.END}\nafter\n")
    assert "[a](docs/benchmark/report.md#t)" in got and "(docs/benchmark/img/x.png)" in got
    assert "(https://x.org)" in got and "(#top)" in got
    with pytest.raises(SystemExit, match="markers"):
        tool.embed("no markers", summary)
