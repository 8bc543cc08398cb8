"""survey_glm, survey_table and weighted_summary: recovery, contract and bad input."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ColumnNotFoundError,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.models.regression.glm import fit_regression
from mutualaid_outcomes.models.survey import (
    survey_design,
    survey_glm,
    survey_table,
    weighted_summary,
)
from mutualaid_outcomes.models.survey.glm import SURVEY_GLM_GLANCE_COLUMNS
from mutualaid_outcomes.models.survey.tables import SURVEY_TABLE_GLANCE_COLUMNS
from mutualaid_outcomes.results import TIDY_COLUMNS


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(3)
    n_psu, per = 60, 20
    psu = np.repeat(np.arange(n_psu), per)
    df = pd.DataFrame(
        {
            "stratum": psu % 6,
            "psu": psu,
            "w": rng.uniform(1, 3, n_psu * per),
            "x": rng.normal(size=n_psu * per),
            "group": rng.choice(["a", "b", "c"], n_psu * per),
        }
    )
    u = rng.normal(0, 0.3, n_psu)[psu]
    eta = -0.5 + 0.8 * df.x + u
    df["y"] = 1 + 0.5 * df.x + u + rng.normal(size=len(df))
    df["b"] = (rng.uniform(size=len(df)) < 1 / (1 + np.exp(-eta))).astype(int)
    df["count"] = rng.poisson(np.exp(0.2 + 0.3 * df.x))
    return df


@pytest.fixture(scope="module")
def design(clustered):
    return survey_design(clustered, weights="w", strata="stratum", cluster="psu")


def test_glm_contract_and_recovery(design):
    res = survey_glm(design, "b ~ x + C(group)", family="binomial")
    t = res.tidy()
    assert list(t.columns) == list(TIDY_COLUMNS)
    assert list(res.glance().columns) == list(SURVEY_GLM_GLANCE_COLUMNS)
    assert res.df_resid == design.degf + 1 - 4 == 51
    slope = t.set_index("term").loc["x"]
    assert slope.conf_low < 0.8 < slope.conf_high  # true log-odds ratio 0.8
    assert res.tidy(exponentiate=True).estimate[1] == pytest.approx(np.exp(t.estimate[1]))
    assert res.nobs == 1200 and res.glance().converged[0]
    pd.testing.assert_index_equal(res.vcov().columns, res.coef().index)


def test_glm_point_estimates_equal_weighted_glm(design, clustered):
    """Coefficients are those of the weighted GLM; only the SEs differ (docs/survey.md)."""
    for fam, f in (("gaussian", "y ~ x"), ("poisson", "count ~ x"), ("binomial", "b ~ x")):
        ours = survey_glm(design, f, family=fam).coef()
        ref = fit_regression(clustered, f, family=fam, weights="w").coef()
        np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy()[: len(ours)], rtol=1e-8)


def test_glm_without_strata_or_fpc_is_the_cluster_sandwich_times_g_over_g_minus_1(clustered):
    """No strata, no FPC: svyglm's SE is vcovCL's HC0 cluster sandwich (G/(G-1))."""
    d = survey_design(clustered, weights="w", cluster="psu")
    ours = np.sqrt(np.diag(survey_glm(d, "b ~ x", family="binomial").cov))
    cl = fit_regression(
        clustered, "b ~ x", family="binomial", weights="w", cluster="psu", cluster_type="HC0"
    )
    np.testing.assert_allclose(ours, np.sqrt(np.diag(cl.vcov().to_numpy())), rtol=1e-7)


def test_replicate_glm_quasi_families_agree(design):
    rep = design.as_replicate("JKn")
    a = survey_glm(rep, "b ~ x", family="quasibinomial")
    b = survey_glm(rep, "b ~ x", family="binomial")
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-10)
    assert a.glance().method[0] == "replicate (JKn)"


def test_glm_wald_test_and_errors(design):
    res = survey_glm(design, "y ~ x + C(group)")
    w = res.wald_test(["C(group)[T.b]", "C(group)[T.c]"])
    assert w["ndf"] == 2 and 0 <= w["p_value"] <= 1
    with pytest.raises(DataValidationError, match="unknown: \\['grp'\\]"):
        res.wald_test(["grp"])
    with pytest.raises(OptionError, match="`family` must be one of"):
        survey_glm(design, "y ~ x", family="gamma")
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'x'"):
        survey_glm(design, "y ~ xx")
    with pytest.raises(DataValidationError, match="coded 0/1"):
        survey_glm(design, "y ~ x", family="binomial")
    empty = survey_design(
        design.data.assign(z=np.nan), weights="w", strata="stratum", cluster="psu"
    )
    with pytest.raises(EstimationError, match="No complete rows"):
        survey_glm(empty, "y ~ z")


def test_table_contract(design):
    res = survey_table(design, "group", "b")
    assert res.counts().shape == (3, 2)
    assert res.counts().to_numpy().sum() == pytest.approx(design.weights.sum())
    assert list(res.glance().columns) == list(SURVEY_TABLE_GLANCE_COLUMNS)
    t = res.tidy()
    assert list(t.columns[:7]) == list(TIDY_COLUMNS) and len(t) == 6
    assert t.estimate.sum() == pytest.approx(1.0)
    chi = survey_table(design, "group", "b", statistic="Chisq").glance()
    assert chi.ndf[0] == 2 and np.isnan(chi.ddf[0])
    same = survey_design(design.data.assign(k="same"), weights="w", strata="stratum", cluster="psu")
    with pytest.raises(DataValidationError, match="'k' has 1 level"):
        survey_table(same, "k", "b")


def test_weighted_summary_rows(design, clustered):
    out = weighted_summary(design, ["x", "group", "b"], by="group", categorical=["b"])
    assert set(out.type) == {"continuous", "categorical"}
    overall = out[(out.variable == "b") & (out.group == "Overall")]
    assert overall.percent.sum() == pytest.approx(100.0)
    assert overall.n.sum() == len(clustered)
    x = out[(out.variable == "x") & (out.group == "Overall")].iloc[0]
    assert x["mean"] == pytest.approx(np.average(clustered.x, weights=clustered.w))
    assert x["q1"] <= x["median"] <= x["q3"] and x["test"] == "design-based Wald F"
    assert out[out.variable == "b"].test.iloc[0] == "Rao-Scott F"
    assert out[out.variable == "group"].p_value.isna().all()  # no test of by against itself
    assert weighted_summary(design, "x").p_value.isna().all()  # no by, no test


def test_glm_without_clusters_is_hc0_times_n_over_n_minus_1(clustered):
    """Every row its own PSU, no strata or FPC: svyglm's variance is n/(n-1) HC0."""
    d = survey_design(clustered, weights="w")
    ours = survey_glm(d, "y ~ x").cov
    hc0 = fit_regression(clustered, "y ~ x", weights="w", cov_type="HC0").vcov().to_numpy()
    n = len(clustered)
    np.testing.assert_allclose(ours, hc0 * n / (n - 1), rtol=1e-8)


def test_glm_coefficients_only_through_the_protocol(design):
    res = survey_glm(design, "y ~ x")
    assert not hasattr(res, "params")
    assert list(res.coef().index) == list(res.terms) == ["Intercept", "x"]
    assert list(res.vcov().columns) == list(res.terms)


def test_glm_separation_warns_and_notes(clustered):
    # everyone with x above 1 has the outcome: quasi-complete separation. As R svyglm
    # ("fitted probabilities numerically 0 or 1 occurred"): a warning and a note, the
    # replicate refits counted; the linearised information is singular (an error).
    df = clustered.assign(sep=lambda d: ((d.x > 1) | (d.b == 1)).astype(int), hi=lambda d: d.x > 1)
    des = survey_design(df, weights="w", strata="stratum", cluster="psu")
    rep = des.as_replicate("bootstrap", n_boot=20, rng=1)
    with pytest.warns(DataWarning, match="numerically 0 or 1"):
        res = survey_glm(rep, "sep ~ x + hi", family="binomial")
    assert not res.glance().converged[0]
    notes = " ".join(res._notes())
    assert "Full-sample fit: fitted probabilities numerically 0 or 1" in notes
    assert "Replicate fits: fitted probabilities numerically 0 or 1 occurred" in notes
    with pytest.warns(DataWarning, match="numerically 0 or 1"):
        with pytest.raises(EstimationError, match="information matrix is singular"):
            survey_glm(des, "sep ~ x + hi", family="binomial")
