"""The wheel holds every module and data file of the package.

The wheel is built from a copy of the project without build isolation (no network:
setuptools comes from the test extra), so a new subpackage or data folder that
packaging would miss fails here rather than on a user's machine.
"""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "mutualaid_outcomes"
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


def _package_files() -> set[str]:
    """Every file of the source package, as its path inside the wheel."""
    return {
        str(p.relative_to(PACKAGE.parent)).replace("\\", "/")
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools", reason="building the wheel needs setuptools (test extra)")
    tmp = tmp_path_factory.mktemp("wheel")
    project = tmp / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=SKIP)
    dist = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    cmd += ["--no-index", "--quiet", "--wheel-dir", str(dist), str(project)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = dist.glob("mutualaid_outcomes-*.whl")
    return path


def test_every_module_and_data_file_is_in_the_wheel(wheel):
    with zipfile.ZipFile(wheel) as zf:
        inside = {n for n in zf.namelist() if n.startswith("mutualaid_outcomes/")}
    expected = _package_files()
    missing = sorted(expected - inside)
    assert not missing, f"the wheel lacks {missing}"
    # the data files users rely on, named so a change of layout is noticed here too
    for data in (
        "mutualaid_outcomes/py.typed",
        "mutualaid_outcomes/pipeline/demo.toml",
        "mutualaid_outcomes/instruments/specs/cesd.toml",
        "mutualaid_outcomes/datasets/sample/waves.csv",
        "mutualaid_outcomes/datasets/sample/calendar.csv.gz",
        "mutualaid_outcomes/datasets/sample/codebook.json",
    ):
        assert data in inside
    assert sum(n.endswith(".py") for n in inside) == sum(n.endswith(".py") for n in expected)


def test_wheel_metadata_declares_the_runtime_dependencies(wheel):
    with zipfile.ZipFile(wheel) as zf:
        (meta,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        text = zf.read(meta).decode("utf-8")
        entry_points = zf.read(meta.replace("METADATA", "entry_points.txt")).decode("utf-8")
    requires = [line for line in text.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requires if "extra ==" not in r]
    assert any(r.startswith("Requires-Dist: pandas>=2.2") for r in runtime)
    assert not any("lifelines" in r for r in runtime)
    assert "mutualaid = mutualaid_outcomes.cli:main" in entry_points
