"""No import circles: every module imports on its own, and the static import graph is acyclic.

The static check reads every module under ``src/`` with :mod:`ast` and draws an edge for
each import of a package module, wherever it sits: at module level or inside a function
(a function-level import that only avoids a circle is still a circle). Imports under
``if TYPE_CHECKING:`` are left out, since they never run -- except in a package
``__init__`` that hands them to ``mutualaid_outcomes._lazy.attach``, which imports them
on first use (lazy public names), so there they are edges. Importing ``a.b.c`` also runs
the ``__init__`` of ``a`` and ``a.b``; an edge to each such package that is not an
ancestor of the importing module is drawn too, so a circle through a package's
``__init__`` is found as well.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PKG = "mutualaid_outcomes"
SRC = Path(__file__).resolve().parents[1] / "src"
_ENV = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(SRC)}


def _modules() -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted((SRC / PKG).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(node: ast.AST, lazy: bool = False) -> list[ast.Import | ast.ImportFrom]:
    """Import statements under ``node``; ``lazy``: include ``if TYPE_CHECKING:`` bodies."""
    found: list[ast.Import | ast.ImportFrom] = []
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child) and not lazy:
            for other in child.orelse:
                found += _imports_of(other, lazy)
            continue
        found += _imports_of(child, lazy)
    return found


def _imports_of(node: ast.AST, lazy: bool) -> list[ast.Import | ast.ImportFrom]:
    own = [node] if isinstance(node, (ast.Import, ast.ImportFrom)) else []
    return own + _imports(node, lazy)  # type: ignore[list-item]


def _attaches_lazily(tree: ast.Module) -> bool:
    """The module calls ``attach(...)`` (mutualaid_outcomes._lazy): lazy public names."""
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "attach"
        for n in ast.walk(tree)
    )


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def import_graph() -> dict[str, set[str]]:
    """Module -> package modules it imports (see the module docstring)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, (path, is_pkg) in modules.items():
        package = name if is_pkg else name.rsplit(".", 1)[0]
        targets: set[str] = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _imports(tree, lazy=is_pkg and _attaches_lazily(tree)):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in modules}
                continue
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            for alias in node.names:
                sub = f"{mod}.{alias.name}"
                if sub in modules:
                    targets.add(sub)
                elif mod in modules:
                    targets.add(mod)
        own = set(_ancestors(name)) | {name}
        implicit = {a for t in targets for a in _ancestors(t) if a not in own}
        graph[name] = (targets | implicit) - {name}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    sys.setrecursionlimit(max(10_000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for comp in components:
        start = min(comp)
        # breadth-first search for the shortest way back to start inside the component
        prev: dict[str, str] = {}
        frontier = [start]
        seen = {start}
        while frontier and start not in prev:
            nxt = []
            for v in frontier:
                for w in sorted(graph[v] & comp):
                    if w == start and start not in prev:
                        prev[start] = v
                    elif w not in seen:
                        seen.add(w)
                        prev[w] = v
                        nxt.append(w)
            frontier = nxt
        path = [start]
        v = prev[start]
        while v != start:
            path.append(v)
            v = prev[v]
        cycles.append([start, *reversed(path[1:]), start])
    return cycles


def test_static_import_graph_has_no_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 50 and f"{PKG}.models._core.ols" in graph
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_cycle_finder_reports_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_graph_sees_function_level_imports_and_skips_type_checking(tmp_path: Path) -> None:
    tree = ast.parse(
        textwrap.dedent(
            """
            from typing import TYPE_CHECKING
            if TYPE_CHECKING:
                from .b import B
            else:
                from .c import C
            def f():
                from .d import D
            """
        )
    )
    names = sorted(n.module for n in _imports(tree) if isinstance(n, ast.ImportFrom))
    assert names == ["c", "d", "typing"]
    lazy = sorted(n.module for n in _imports(tree, lazy=True) if isinstance(n, ast.ImportFrom))
    assert lazy == ["b", "c", "d", "typing"]
    assert not _attaches_lazily(tree)
    assert _attaches_lazily(ast.parse("__getattr__, __dir__ = attach(__name__, __file__, [])"))


@pytest.mark.parametrize("order", ["sorted", "reversed"])
def test_every_module_imports(order: str) -> None:
    # a fresh interpreter imports every package module one by one (in both orders, so
    # that a module never relies on a sibling having been imported before it)
    names = sorted(_modules())
    if order == "reversed":
        names = names[::-1]
    script = textwrap.dedent(
        f"""
        import importlib, sys, traceback
        failed = []
        for name in {names!r}:
            try:
                importlib.import_module(name)
            except Exception:
                failed.append(name + "\\n" + traceback.format_exc(limit=3))
        print("\\n".join(failed))
        sys.exit(1 if failed else 0)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=_ENV
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
