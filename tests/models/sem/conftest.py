"""Shared data and lavaan reference values for the SEM tests (tests/reference/sem_lavaan.R)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
REF = ROOT / "reference"
R_SCRIPT = (REF / "sem_lavaan.R").read_text()

#: Month of each wave of the simulated panel (tests/data/sem_panel_long.csv).
MONTHS = (0, 6, 12, 18)


def syntax(name: str) -> str:
    """A model string of the R script (``name <- "..."``), so both sides fit the same text."""
    return R_SCRIPT.split(f'{name} <- "')[1].split('"')[0]


def read_ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, comment="#", keep_default_na=False, na_values=["NA"])


@pytest.fixture(scope="session")
def hs() -> pd.DataFrame:
    return pd.read_csv(DATA / "sem_holzinger_swineford.csv")


@pytest.fixture(scope="session")
def poldem() -> pd.DataFrame:
    return pd.read_csv(DATA / "sem_political_democracy.csv")


@pytest.fixture(scope="session")
def med() -> pd.DataFrame:
    return pd.read_csv(DATA / "sem_latent_mediation.csv")


@pytest.fixture(scope="session")
def panel_long() -> pd.DataFrame:
    return pd.read_csv(DATA / "sem_panel_long.csv")


@pytest.fixture(scope="session")
def panel_wide(panel_long) -> pd.DataFrame:
    """Wide panel with the R script's column names (attend_1 ... drink_4, age)."""
    wide = panel_long.pivot(index="id", columns="month", values=["attend", "drink"])
    wide.columns = [f"{v}_{MONTHS.index(t) + 1}" for v, t in wide.columns]
    return wide.join(panel_long.groupby("id").age.first()).reset_index()


@pytest.fixture(scope="session")
def ref_params() -> pd.DataFrame:
    return read_ref("sem_lavaan_params.csv")


@pytest.fixture(scope="session")
def ref_fit() -> pd.DataFrame:
    return read_ref("sem_lavaan_fit.csv")
