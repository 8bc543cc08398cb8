"""Variance components of mixed models as rows of regression_table."""

import numpy as np
import pytest
from docx import Document

from mutualaid_outcomes import fit_regression
from mutualaid_outcomes.models.regression.mixed import fit_mixed
from mutualaid_outcomes.tables import regression_table


@pytest.fixture(scope="module")
def fits(test_data):
    sleep = test_data("mixed_sleepstudy.csv")
    lmm = fit_mixed(sleep, "Reaction ~ Days", id="Subject", re_formula="~ Days")
    ols = fit_regression(sleep, "Reaction ~ Days")
    return {"OLS": ols, "LMM": lmm}


def test_variance_rows_under_coefficients(fits):
    t = regression_table(fits)
    idx = t.body.index.tolist()
    vc = fits["LMM"].variance_components()
    assert idx.index("Days") < idx.index("Random effects") < idx.index("N")
    sd_int = t.body.loc["Subject: SD (Intercept)"]
    assert sd_int.iloc[2] == f"{vc['sd_or_corr'].iloc[0]:.2f}"
    assert sd_int.iloc[0] == ""  # the OLS column has no random effects
    corr = t.body.loc["Subject: Corr (Intercept, Days)"].iloc[2]
    assert corr == f"{vc['sd_or_corr'].iloc[2]:.2f}".replace("-", "\u2212")
    assert t.body.loc["Residual SD"].iloc[2] == f"{np.sqrt(fits['LMM'].sigma2):.2f}"
    assert t.body.loc["Groups"].iloc[2] == "18"
    assert idx.index("Random effects") in t.heading_rows
    ran = t.numbers[t.numbers["effect"] == "ran_pars"]
    np.testing.assert_allclose(ran["estimate"], vc["sd_or_corr"])
    assert ran["term"].tolist() == [
        "sd__Intercept", "sd__Days", "cor__Intercept.Days", "sd__Observation"
    ]  # fmt: skip


def test_glmm_rows_and_exports(fits, test_data, tmp_path):
    cb = test_data("glmm_cbpp.csv")
    cb["fail"] = cb["size"] - cb["incidence"]
    glmm = fit_mixed(cb, "cbind(incidence, fail) ~ C(period) + (1 | herd)", family="binomial")
    t = regression_table({"GLMM": glmm, "LMM": fits["LMM"]})
    sd = f"{glmm.variance_components()['sd_or_corr'].iloc[0]:.2f}"
    assert t.body.loc["herd: SD (Intercept)"].iloc[0] == sd
    assert "Residual SD" in t.body.index  # from the linear model only
    assert t.body.loc["Residual SD"].iloc[0] == ""
    for text in (t.to_markdown(), t.to_html(), t.to_latex()):
        assert "Random effects" in text and "herd: SD (Intercept)" in text
    doc = Document(str(t.save(tmp_path / "mixed.docx")))
    cells = [c.text for tab in doc.tables for row in tab.rows for c in row.cells]
    assert "herd: SD (Intercept)" in cells and sd in cells


def test_no_variance_rows_without_mixed_models(fits):
    t = regression_table({"OLS": fits["OLS"]})
    assert "Random effects" not in t.body.index
    assert "effect" not in t.numbers.columns
