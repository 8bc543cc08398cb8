"""pyproject's runtime dependencies are exactly what src/ imports."""

import ast
import re
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "mutualaid_outcomes"

#: import name -> distribution name, where they differ
DISTRIBUTION = {"docx": "python-docx"}

#: declared dependencies that src/ uses without importing them, and where
USED_INDIRECTLY = {
    # the engine io/readers.py passes to pandas.read_excel for .xlsx files
    "openpyxl": SRC / "io" / "readers.py",
}


def _imported_modules() -> dict[str, set[str]]:
    """Top-level names of every absolute import in src/, with the files importing them."""
    found: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def _third_party_imports() -> dict[str, set[str]]:
    stdlib = set(sys.stdlib_module_names) | {"__future__", "tomli"}
    return {
        DISTRIBUTION.get(k, k): v
        for k, v in _imported_modules().items()
        if k not in stdlib and k != "mutualaid_outcomes"
    }


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(req: str) -> str:
    return _normalise(re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0])


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_runtime_dependencies_are_what_src_imports():
    declared = {_requirement_name(r) for r in _pyproject()["project"]["dependencies"]}
    imported = {_normalise(k) for k in _third_party_imports()}
    indirect = {_normalise(k) for k in USED_INDIRECTLY}
    undeclared = sorted(imported - declared)
    unused = sorted(declared - imported - indirect - {"tomli"})
    assert not undeclared, f"src/ imports {undeclared}, which pyproject does not declare"
    assert not unused, f"pyproject declares {unused}, which src/ never imports"


def test_indirect_dependencies_are_really_used():
    # each use names the package as a string, so removing the use shows up here
    for name, path in USED_INDIRECTLY.items():
        text = path.read_text(encoding="utf-8")
        assert f'"{name}"' in text, f"{name} is no longer used in {path}"


def test_tomli_is_only_the_python_3_10_fallback():
    reqs = [r for r in _pyproject()["project"]["dependencies"] if _requirement_name(r) == "tomli"]
    assert reqs == ["tomli>=2; python_version < '3.11'"]
    users = _imported_modules().get("tomli", set())
    for user in users:
        text = (ROOT / user).read_text(encoding="utf-8")
        assert "import tomllib" in text  # the standard library first, tomli as the fallback


def test_lifelines_is_a_test_dependency_only():
    project = _pyproject()["project"]
    assert "lifelines" not in {_requirement_name(r) for r in project["dependencies"]}
    assert "lifelines" in {_requirement_name(r) for r in project["optional-dependencies"]["test"]}
    assert "lifelines" not in _third_party_imports()
