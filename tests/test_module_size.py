"""Size limits: modules under about 600 lines, functions under about 80 lines of code.

A module over :data:`MAX_MODULE_LINES` fails unless it is in :data:`LARGE_MODULES` with
the reason it has not been split yet; a function whose code (docstring excluded) is over
:data:`MAX_FUNCTION_LINES` fails unless it is in :data:`LONG_FUNCTIONS`. Shrink the lists,
never grow them without a reason. Run this file as a script to print every offender.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "mutualaid_outcomes"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80

#: Modules over the limit, with why (paths relative to src/mutualaid_outcomes).
LARGE_MODULES: dict[str, str] = {}

#: Functions whose code (docstring excluded) is over the limit: "module:function".
LONG_FUNCTIONS: frozenset[str] = frozenset(
    {
        # Gray's test for one stratum: a transcription of cmprsk's Fortran crstm
        "models/survival/_cmprsk.py:gray_stratum",
    }
)


def module_lines() -> dict[str, int]:
    """Lines of every module under src/mutualaid_outcomes."""
    return {
        p.relative_to(SRC).as_posix(): p.read_text(encoding="utf-8").count("\n")
        for p in sorted(SRC.rglob("*.py"))
    }


def function_lines() -> dict[str, int]:
    """Code lines (from the line after the docstring to the end) of every function."""
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            first = node.body[0]
            start = node.lineno
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                if isinstance(first.value.value, str):
                    start = first.end_lineno or node.lineno
            key = f"{p.relative_to(SRC).as_posix()}:{node.name}"
            out[key] = max(out.get(key, 0), (node.end_lineno or start) - start + 1)
    return out


def test_modules_are_small():
    big = {m: n for m, n in module_lines().items() if n > MAX_MODULE_LINES}
    unexpected = sorted(set(big) - set(LARGE_MODULES))
    assert not unexpected, f"modules over {MAX_MODULE_LINES} lines: {unexpected}"


def test_large_module_list_is_current():
    lines = module_lines()
    stale = [m for m in LARGE_MODULES if lines.get(m, 0) <= MAX_MODULE_LINES]
    assert not stale, f"now small enough or gone, remove from LARGE_MODULES: {stale}"


def test_functions_are_short():
    long = {f for f, n in function_lines().items() if n > MAX_FUNCTION_LINES}
    unexpected = sorted(long - LONG_FUNCTIONS)
    assert not unexpected, f"functions over {MAX_FUNCTION_LINES} lines of code: {unexpected}"


def test_long_function_list_is_current():
    lines = function_lines()
    stale = sorted(f for f in LONG_FUNCTIONS if lines.get(f, 0) <= MAX_FUNCTION_LINES)
    assert not stale, f"now short enough or gone, remove from LONG_FUNCTIONS: {stale}"


if __name__ == "__main__":
    for m, n in sorted(module_lines().items(), key=lambda kv: -kv[1]):
        if n > MAX_MODULE_LINES:
            print(f"{n:5d}  {m}")
    for f, n in sorted(function_lines().items(), key=lambda kv: -kv[1]):
        if n > MAX_FUNCTION_LINES:
            print(f"{n:5d}  {f}")
