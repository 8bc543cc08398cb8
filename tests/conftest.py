"""Fixtures shared by the whole suite: repository paths, R reference tables, test data.

* ``paths``: the folders a test may need (``data``, ``io_data``, ``reference``,
  ``sample``, ``examples``, ``notebooks``) and the README, computed once here.
* ``r_reference(name, **where)``: rows of ``tests/reference/<name>.csv``, the output of the
  committed R script ``tests/reference/<name>.R`` (R and package versions in the CSV's
  header), optionally filtered by column values. R reference numbers live only in those
  CSVs; tests never repeat them.
* ``test_data(file, **read_csv_kwargs)``: a public data set of ``tests/data`` (sources in
  ``tests/data/README.md``).
* ``sample_waves``, ``sample_participants``, ``sample_latent``, ``sample_calendar``: the
  bundled simulated cohort, as :func:`mutualaid_outcomes.load_sample` returns it.

Every loader returns a fresh copy, so a test cannot change what another one sees.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

_ROOT = Path(__file__).resolve().parents[1]
_PATHS = SimpleNamespace(
    root=_ROOT,
    data=_ROOT / "tests" / "data",
    io_data=_ROOT / "tests" / "data" / "io",
    reference=_ROOT / "tests" / "reference",
    sample=_ROOT / "src" / "mutualaid_outcomes" / "datasets" / "sample",
    examples=_ROOT / "examples",
    notebooks=_ROOT / "notebooks",
    readme=_ROOT / "README.md",
    ci=_ROOT / ".ci" / "run",
)


@functools.cache
def _read_csv(path: Path, options: tuple[tuple[str, Any], ...]) -> pd.DataFrame:
    return pd.read_csv(path, comment="#", **dict(options))


def _load(path: Path, **kwargs: Any) -> pd.DataFrame:
    options = tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items()))
    return _read_csv(path, options).copy()


@pytest.fixture(scope="session")
def paths() -> SimpleNamespace:
    """Folders of the repository the tests read from."""
    return _PATHS


@pytest.fixture(scope="session")
def r_reference() -> Callable[..., pd.DataFrame]:
    """``r_reference(name, keep_default_na=True, **where)``: rows of an R reference CSV.

    ``where`` keeps the rows whose columns equal the given values, e.g.
    ``r_reference("gee", model="ohio_ar1", quantity="coef")``.
    """

    def load(name: str, *, keep_default_na: bool = True, **where: Any) -> pd.DataFrame:
        frame = _load(_PATHS.reference / f"{name}.csv", keep_default_na=keep_default_na)
        for column, value in where.items():
            frame = frame[frame[column] == value]
        return frame

    return load


@pytest.fixture(scope="session")
def test_data() -> Callable[..., pd.DataFrame]:
    """``test_data(file, **read_csv_kwargs)``: a data set of ``tests/data`` (a copy)."""

    def load(file: str, **kwargs: Any) -> pd.DataFrame:
        return _load(_PATHS.data / file, **kwargs)

    return load


@pytest.fixture
def sample_waves() -> pd.DataFrame:
    """The sample cohort's wave data (one row per person and interview)."""
    from mutualaid_outcomes.datasets import load_sample

    return load_sample("waves")


@pytest.fixture
def sample_participants() -> pd.DataFrame:
    """The sample cohort's participants (one row per person)."""
    from mutualaid_outcomes.datasets import load_sample

    return load_sample("participants")


@pytest.fixture
def sample_latent() -> pd.DataFrame:
    """The sample cohort's latent (true) values per person and wave."""
    from mutualaid_outcomes.datasets import load_sample

    return load_sample("latent")


@pytest.fixture
def sample_calendar() -> pd.DataFrame:
    """The sample cohort's daily calendar."""
    from mutualaid_outcomes.datasets import load_sample

    return load_sample("calendar")
