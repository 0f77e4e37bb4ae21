"""The folders are the architecture: a lower layer never imports an upper one."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "qimage"

# Rank of each top-level part; a module may import only parts of equal or lower rank.
# errors is importable from anywhere; the package root only re-exports errors.
RANKS = {
    "errors": 0,
    "data": 1,
    "preprocess": 2,
    "sim": 3,
    "circuits": 4,
    "models": 5,
    "train": 6,
    "estimators": 7,
    "export": 7,
    "bench": 8,
    "report": 8,
    "cli": 9,
    "__main__": 9,
}


def _part(module: str) -> str | None:
    pieces = module.split(".")
    return pieces[1] if pieces[0] == "qimage" and len(pieces) > 1 else None


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


def _modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        owner = rel.parts[0].removesuffix(".py")
        if owner != "__init__":
            yield owner, path


@pytest.mark.parametrize(("owner", "path"), list(_modules()), ids=lambda v: str(v)[-40:])
def test_no_upward_imports(owner, path):
    """Each module imports only qimage parts of its own rank or below."""
    assert owner in RANKS, f"{owner} has no rank: add it to RANKS"
    for module in _imports(path):
        part = _part(module)
        if part is not None and part != owner:
            assert RANKS.get(part, 99) <= RANKS[owner], f"{path.name}: {owner} imports {module}"


def test_report_reads_files_only():
    """The report layer never imports training or models (it reads result files)."""
    for path in (SRC / "report").rglob("*.py"):
        parts = {_part(m) for m in _imports(path)}
        assert not parts & {"train", "models", "sim", "bench"}, path.name


def test_package_root_is_light():
    """qimage/__init__ imports nothing heavier than errors."""
    parts = {_part(m) for m in _imports(SRC / "__init__.py")} - {None}
    assert parts <= {"errors"}
