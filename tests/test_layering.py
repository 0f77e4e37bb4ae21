"""The folders are the architecture: a lower layer never imports an upper one.

Every import counts: top-level or inside a function, under ``if TYPE_CHECKING``, relative
(``from ..models import x``, resolved against the file's package) and dynamic
(``importlib.import_module("qimage.train")``, ``__import__("qimage.train")``).
"""

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
    "serve": 8,
    "cli": 9,
    "__main__": 9,
}

# Parts held to a narrower rule than their rank: the only other qimage parts they may import.
# sim is the self-contained simulator; report reads result files, never the code that made them.
ONLY = {"sim": {"errors"}, "report": {"errors"}}

# Calls that import the module named by their first argument.
_DYNAMIC = {"import_module", "__import__"}


def module_name(path: Path, root: Path = SRC) -> str:
    """``sim/gates.py`` -> ``qimage.sim.gates``; ``sim/__init__.py`` -> ``qimage.sim``."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, level: int, package: str) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written inside ``package``."""
    if level == 0:
        return name
    pieces = package.split(".")
    if level > len(pieces):
        raise ValueError(f"relative import beyond the top-level package in {package}")
    base = ".".join(pieces[: len(pieces) - level + 1])
    return f"{base}.{name}" if name else base


def _dynamic_name(node: ast.Call) -> ast.expr | None:
    """The name argument of ``import_module(...)``/``__import__(...)``, else None."""
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return node.args[0] if called in _DYNAMIC and node.args else None


def _is_part(base: str, name: str) -> bool:
    """Whether ``from base import name`` imports a qimage part (``from qimage import train``).

    Names taken from a part's modules cannot change the part; names taken from the root
    (``__version__``, the errors it re-exports) are the root's, which stays light.
    """
    return base == "qimage" and name in RANKS


def imports(source: str, module: str, is_package: bool = False) -> list[str]:
    """Absolute names of every module that ``source`` (the code of ``module``) imports.

    ``from qimage import train`` yields ``qimage`` and ``qimage.train``. A dynamic import whose
    name is not a string constant yields ``<dynamic>``: it cannot be checked, so it is refused.

    Example:
        >>> imports("from ..models import QNN", "qimage.train.loop")
        ['qimage.models']
    """
    package = module if is_package else module.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", node.level, package)
            out += [base] + [f"{base}.{a.name}" for a in node.names if _is_part(base, a.name)]
        elif isinstance(node, ast.Call) and (arg := _dynamic_name(node)) is not None:
            literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            name = arg.value if literal else "<dynamic>"
            level = len(name) - len(name.lstrip("."))
            out.append(_resolve(name[level:], level, package))
    return out


def part(module: str) -> str | None:
    """The top-level qimage part of a module name: ``qimage.sim.gates`` -> ``sim``."""
    pieces = module.split(".")
    return pieces[1] if pieces[0] == "qimage" and len(pieces) > 1 else None


def violations(module: str, imported: list[str]) -> list[str]:
    """Every import of ``module`` that breaks the rank rule or its part's ONLY rule."""
    owner, found = part(module), []
    for name in imported:
        target = part(name)
        if name == "<dynamic>":
            found.append(f"{module}: import_module/__import__ with a computed name")
        elif target is None or target == owner:
            continue
        elif owner is None and target != "errors":
            found.append(f"{module} (package root) imports {name}")
        elif owner is not None and RANKS.get(target, 99) > RANKS.get(owner, -1):
            found.append(f"{module} ({owner}) imports upward {name}")
        elif owner in ONLY and target not in ONLY[owner]:
            found.append(f"{module} ({owner}) may import only {sorted(ONLY[owner])}: {name}")
    return found


def package_graph(modules: dict[str, list[str]]) -> dict[str, set[str]]:
    """Which qimage parts each part imports (self-imports left out)."""
    graph: dict[str, set[str]] = {}
    for module, imported in modules.items():
        owner = part(module)
        if owner is not None:
            targets = {part(name) for name in imported} - {None, owner}
            graph.setdefault(owner, set()).update(targets)
    return graph


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Pairs of distinct parts that import each other, directly or through other parts."""
    reach = {node: _reachable(graph, node) for node in graph}
    return sorted((a, b) for a in graph for b in reach[a] if a < b and a in reach.get(b, ()))


def _scan() -> dict[str, list[str]]:
    """Every module under src/qimage and the modules it imports."""
    return {
        module_name(path): imports(path.read_text(), module_name(path), path.name == "__init__.py")
        for path in sorted(SRC.rglob("*.py"))
    }


MODULES = _scan()


def test_every_part_has_a_rank():
    """A new folder must be placed in the architecture before it can be imported."""
    parts = {part(m) for m in MODULES} - {None}
    assert parts <= RANKS.keys(), f"no rank for {sorted(parts - RANKS.keys())}: add to RANKS"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_forbidden_imports(module):
    """Each module imports only qimage parts of its rank or below, within its ONLY rule."""
    assert violations(module, MODULES[module]) == []


def test_no_cycles_between_parts():
    """No two parts import each other (for same-rank parts the rank rule cannot see this)."""
    assert cycles(package_graph(MODULES)) == []


def test_package_root_is_light():
    """qimage/__init__ imports nothing heavier than errors."""
    assert {part(m) for m in MODULES["qimage"]} - {None} <= {"errors"}


class TestChecker:
    """The checker itself: each rule can fail, on synthetic sources."""

    def test_module_names(self):
        assert module_name(SRC / "sim" / "gates.py") == "qimage.sim.gates"
        assert module_name(SRC / "sim" / "__init__.py") == "qimage.sim"
        assert module_name(SRC / "__init__.py") == "qimage"

    @pytest.mark.parametrize(
        ("source", "module", "is_package", "expected"),
        [
            ("from ..models import QNN", "qimage.sim.apply", False, "qimage.models"),
            ("from .. import train", "qimage.sim.apply", False, "qimage.train"),
            ("from . import train", "qimage", True, "qimage.train"),
            ("from .loop import fit", "qimage.train", True, "qimage.train.loop"),
            (
                "import importlib\nimportlib.import_module('qimage.train')",
                "qimage.data.x",
                False,
                "qimage.train",
            ),
            (
                "from importlib import import_module\nimport_module('..models', 'qimage.sim')",
                "qimage.sim.apply",
                False,
                "qimage.models",
            ),
            ("__import__('qimage.models')", "qimage.sim.apply", False, "qimage.models"),
            ("def f():\n    import qimage.train as t", "qimage.sim.apply", False, "qimage.train"),
            (
                "if TYPE_CHECKING:\n    from qimage.train import fit",
                "qimage.sim.x",
                False,
                "qimage.train",
            ),
        ],
    )
    def test_sees_import(self, source, module, is_package, expected):
        """Relative, dynamic, lazy and TYPE_CHECKING imports all resolve to absolute names."""
        assert expected in imports(source, module, is_package)

    def test_computed_name_is_refused(self):
        found = imports("import importlib\nimportlib.import_module(NAME)", "qimage.sim.x")
        assert violations("qimage.sim.x", found) != []

    def test_relative_import_beyond_top_level(self):
        with pytest.raises(ValueError, match="beyond the top-level"):
            imports("from ... import x", "qimage.sim")

    @pytest.mark.parametrize(
        ("module", "source"),
        [
            ("qimage.sim.apply", "from ..models import QNN"),  # upward, relative
            ("qimage.data.idx", "import importlib\nimportlib.import_module('qimage.train')"),
            ("qimage.circuits.x", "__import__('qimage.export')"),  # upward, dynamic
            ("qimage.sim.execute", "from qimage.data import load_dataset"),  # lower, yet ONLY
            ("qimage.report.plots", "from qimage.circuits.draw import columns"),  # ONLY
            ("qimage", "from . import train"),  # the root stays light
        ],
    )
    def test_flags_violation(self, module, source):
        is_package = module == "qimage"
        assert violations(module, imports(source, module, is_package)) != []

    @pytest.mark.parametrize(
        ("module", "source"),
        [
            (
                "qimage.sim.apply",
                "from .gates import GATES\nfrom qimage.errors import CircuitError",
            ),
            ("qimage.report.build", "from . import plots\nfrom ..errors import QimageError"),
            ("qimage.train.loop", "from ..models import QNN\nimport torch"),
        ],
    )
    def test_allows_legal_imports(self, module, source):
        assert violations(module, imports(source, module)) == []

    def test_finds_same_rank_cycles(self):
        direct = {
            "qimage.export.a": ["qimage.estimators"],
            "qimage.estimators.b": ["qimage.export.c"],
        }
        assert cycles(package_graph(direct)) == [("estimators", "export")]
        loop = {
            "qimage.a.x": ["qimage.b"],
            "qimage.b.x": ["qimage.c"],
            "qimage.c.x": ["qimage.a.y"],
        }
        assert cycles(package_graph(loop)) == [("a", "b"), ("a", "c"), ("b", "c")]
        assert cycles(package_graph({"qimage.bench.x": ["qimage.report.results"]})) == []
