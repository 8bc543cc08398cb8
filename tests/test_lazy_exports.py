"""The package's public names are imported on first use, and start-up stays light."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from mutualaid_outcomes._lazy import lazy_imports

HEAVY = ("pandas", "scipy.stats", "statsmodels", "matplotlib", "pyreadstat", "pyarrow")
LAZY_PACKAGES = ("mutualaid_outcomes", "mutualaid_outcomes.models")


def _loaded_after(code: str) -> list[str]:
    probe = code + f"\nimport sys\nprint('LOADED:', *(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1].split()[1:]


def test_import_loads_no_heavy_library():
    assert _loaded_after("import mutualaid_outcomes") == []


def test_cli_help_loads_no_heavy_library():
    code = (
        "import sys\nfrom mutualaid_outcomes.cli import main\n"
        "sys.argv = ['mutualaid', '--help']\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code in (0, None)\n"
    )
    assert _loaded_after(code) == []


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_public_name_resolves_and_is_listed(name):
    pkg = importlib.import_module(name)
    listed = dir(pkg)
    for attr in pkg.__all__:
        assert attr in listed
        assert getattr(pkg, attr) is not None
    table = lazy_imports(Path(pkg.__file__).read_text(encoding="utf-8"), name)
    # every lazy import is public, and the public list has no duplicates
    assert set(table) <= set(pkg.__all__)
    assert len(pkg.__all__) == len(set(pkg.__all__))


def test_lazy_names_are_the_objects_of_their_modules():
    import mutualaid_outcomes as ma
    from mutualaid_outcomes.models.survival.cox import fit_cox
    from mutualaid_outcomes.tables import table_one

    assert ma.fit_cox is fit_cox and ma.models.fit_cox is fit_cox
    assert ma.table_one is table_one
    assert ma.__version__ and ma.errors.SpecError.__name__ == "SpecError"
    assert ma.pipeline.__name__ == "mutualaid_outcomes.pipeline"  # a subpackage by attribute


def test_unknown_attribute_is_an_attribute_error():
    import mutualaid_outcomes as ma

    with pytest.raises(AttributeError, match="has no attribute 'fit_coxx'"):
        _ = ma.fit_coxx
    assert not hasattr(ma.models, "no_such_model")
