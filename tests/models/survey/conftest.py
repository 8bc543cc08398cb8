"""Designs on R survey's public data (tests/data/survey_*.csv) and the R reference values."""

from pathlib import Path

import pandas as pd
import pytest

from mutualaid_outcomes.models.survey import replicate_design, survey_design

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
REF = pd.read_csv(ROOT / "reference" / "survey.csv", comment="#")


def ref(case: str, quantity: str) -> pd.Series:
    """Reference values of one case and quantity, indexed by R's term names."""
    r = REF[(REF.case == case) & (REF.quantity == quantity)]
    if r.empty:
        raise KeyError((case, quantity))
    return pd.Series(r.value.to_numpy(), index=r.term.to_numpy())


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


def make_designs() -> dict:
    strat = read("survey_apistrat.csv")
    clus1 = read("survey_apiclus1.csv")
    clus2 = read("survey_apiclus2.csv")
    jk = read("survey_apiclus1_jk1.csv")
    bs = read("survey_apistrat_boot.csv")
    jk_cols = [c for c in jk.columns if c.startswith("jk")]
    bs_cols = [c for c in bs.columns if c.startswith("bs")]
    out = {
        "strat": survey_design(strat, weights="pw", strata="stype", fpc="fpc"),
        "clus1": survey_design(clus1, weights="pw", cluster="dnum", fpc="fpc"),
        "clus2": survey_design(clus2, cluster=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
        "clus1nofpc": survey_design(clus1, weights="pw", cluster="dnum"),
        "jk1": replicate_design(
            jk,
            weights="pw",
            replicate_weights=jk_cols,
            type="JK1",
            scale=float(ref("jk1", "design")["scale"]),
        ),
        "boot": replicate_design(
            bs,
            weights="pw",
            replicate_weights=bs_cols,
            type="bootstrap",
            scale=float(ref("boot", "design")["scale"]),
        ),
    }
    out["jkn"] = out["strat"].as_replicate("JKn")
    return out


@pytest.fixture(scope="module")
def designs() -> dict:
    return make_designs()


@pytest.fixture(scope="module")
def nhanes() -> pd.DataFrame:
    return read("survey_nhanes.csv")
