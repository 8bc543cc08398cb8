"""SEMResult and LatentMediationResult: results contract and coefficient protocol."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import OptionError
from mutualaid_outcomes.models.mediation.product import GLANCE_COLUMNS as MEDIATION_GLANCE
from mutualaid_outcomes.models.sem import (
    SEM_GLANCE_COLUMNS,
    fit_sem,
    latent_mediation,
)
from mutualaid_outcomes.models.sem.latent_mediation import LATENT_MEDIATION_GLANCE_COLUMNS
from mutualaid_outcomes.results import TIDY_COLUMNS

from .conftest import syntax


@pytest.fixture(scope="module")
def pdfit(poldem):
    return fit_sem(poldem, syntax("pd_model") + "\nind := a*2 + b\n")


def test_tidy_and_glance_columns(pdfit):
    td = pdfit.tidy()
    assert list(td.columns[:7]) == list(TIDY_COLUMNS)
    assert {"lhs", "op", "rhs", "group", "label", "std_all"} <= set(td.columns)
    assert list(pdfit.glance().columns) == list(SEM_GLANCE_COLUMNS)
    fixed = td[(td["free"] == 0) & (td["op"] != ":=")]
    assert (fixed["std_error"] == 0).all() and fixed["statistic"].isna().all()
    assert (fixed["conf_low"] == fixed["estimate"]).all()
    row = td.set_index("term").loc["dem60 ~ ind60"]
    assert row["conf_high"] == pytest.approx(row["estimate"] + 1.959963984540054 * row["std_error"])
    with pytest.raises(OptionError, match="exponentiate=True"):
        pdfit.tidy(exponentiate=True)


def test_coefficient_protocol(pdfit):
    terms = pdfit.terms
    assert len(terms) == len(set(terms)) == 31 + 1  # 28 free + 3 duplicated labels + 1 defined
    coef, vcov = pdfit.coef(), pdfit.vcov()
    assert list(coef.index) == list(vcov.index) == list(vcov.columns) == list(terms)
    td = pdfit.tidy().set_index("term")
    np.testing.assert_allclose(np.sqrt(np.diag(vcov)), td.loc[list(terms), "std_error"], rtol=1e-12)
    # equal-labelled loadings share their estimate and are perfectly correlated
    assert coef["dem60 =~ y2"] == coef["dem65 =~ y6"]
    assert vcov.loc["dem60 =~ y2", "dem65 =~ y6"] == pytest.approx(
        vcov.loc["dem60 =~ y2", "dem60 =~ y2"]
    )
    # delta method: Var(2a + b) from the covariance of the loadings
    a, b = "dem60 =~ y2", "dem60 =~ y3"
    var = 4 * vcov.loc[a, a] + vcov.loc[b, b] + 4 * vcov.loc[a, b]
    assert vcov.loc["ind := a*2+b", "ind := a*2+b"] == pytest.approx(var, rel=1e-10)
    assert coef["ind := a*2+b"] == pytest.approx(2 * coef[a] + coef[b])
    assert pdfit.nobs == 75 and pdfit.df_resid is None


def test_summary_renders(pdfit):
    s = pdfit.summary()
    text = s.as_text()
    assert text.startswith("Structural equation model (ML, missing=listwise, model SEs)")
    assert "cfi" in text and "dem65 ~ dem60" in text
    assert "<table" in s.as_html() and "\\toprule" in s.as_latex()
    assert pdfit.syntax.startswith("\n  ind60 =~")


def test_multigroup_terms_are_unique(hs):
    res = fit_sem(hs, syntax("hs_model"), group="school")
    assert res.glance().loc[0, "n_groups"] == 2
    assert "visual =~ x2 [Pasteur]" in res.terms and "visual =~ x2 [Grant-White]" in res.terms
    assert len(res.terms) == len(set(res.terms))


def test_latent_mediation_protocol_and_glance(med):
    res = latent_mediation(
        med, "x", ["support"], "y", indicators={"support": ["s1", "s2", "s3"]}, covariates=["c1"]
    )
    assert LATENT_MEDIATION_GLANCE_COLUMNS[: len(MEDIATION_GLANCE)] == MEDIATION_GLANCE
    assert list(res.glance().columns) == list(LATENT_MEDIATION_GLANCE_COLUMNS)
    assert res.terms == (
        "a[support]",
        "b[support]",
        "indirect[support]",
        "total_indirect",
        "direct",
        "total",
        "prop_mediated",
    )
    V = res.vcov()
    se = res.tidy().set_index("term")["std_error"]
    np.testing.assert_allclose(np.sqrt(np.diag(V)), se[list(res.terms)], rtol=1e-12)
    assert res.coef()["total"] == pytest.approx(
        res.coef()["direct"] + res.coef()["indirect[support]"]
    )
    assert res.glance().loc[0, "method"].startswith("SEM with latent mediators (ML); delta method")
    assert res.nobs == 300 and res.sem.modification_indices().shape[1] == 8


def test_two_latent_and_one_observed_mediator():
    rng = np.random.default_rng(11)
    n = 600
    x = rng.normal(size=n)
    m1 = 0.5 * x + rng.normal(size=n)
    m2 = 0.3 * x + rng.normal(size=n)
    m3 = -0.4 * x + rng.normal(size=n)
    df = pd.DataFrame({"x": x, "m3": m3, "y": 0.4 * m1 + 0.3 * m2 + 0.2 * m3 + rng.normal(size=n)})
    for k in range(3):
        df[f"a{k}"] = m1 + rng.normal(scale=0.5, size=n)
        df[f"b{k}"] = m2 + rng.normal(scale=0.5, size=n)
    res = latent_mediation(
        df,
        "x",
        ["m1", "m2", "m3"],
        "y",
        indicators={"m1": ["a0", "a1", "a2"], "m2": ["b0", "b1", "b2"]},
    )
    c = res.coef()
    assert c["total_indirect"] == pytest.approx(
        c["indirect[m1]"] + c["indirect[m2]"] + c["indirect[m3]"]
    )
    assert res.glance().loc[0, "model"] == "parallel"
    assert "m1 ~~ m2" in res.sem.syntax
