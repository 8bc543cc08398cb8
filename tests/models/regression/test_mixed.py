"""fit_mixed against R lme4 (tests/reference/mixed.R -> mixed.csv) and bad input."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    ConvergenceWarning,
    DataValidationError,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.models.regression.mixed import MIXED_GLANCE_COLUMNS, fit_mixed
from mutualaid_outcomes.results import TIDY_COLUMNS

RTOL = 1e-6  # fixed effects, their SEs, log-likelihood, AIC/BIC
# Variance components: the profiled engine stops where the analytic gradient is ~1e-9;
# lme4's derivative-free bobyqa (rhoend 1e-12) stops on a surface that is flat in the
# covariance direction, 1.4e-6 relative away in the sleepstudy slope-intercept
# covariance (every other variance component and the log-likelihood agree to 1e-7).
VARCOMP_RTOL = 2e-6


@pytest.fixture(scope="module")
def ref(r_reference):
    """R values of tests/reference/mixed.csv for one model and quantity."""
    table = r_reference("mixed")

    def get(model, quantity):
        r = table[(table.model == model) & (table.quantity == quantity)]
        return pd.Series(r.value.to_numpy(), index=r.term.to_numpy())

    return get


@pytest.fixture(scope="module")
def sleep(test_data):
    return test_data("mixed_sleepstudy.csv")


@pytest.fixture(scope="module")
def dropout(test_data):
    return test_data("regression_gee_dropout.csv")


CASES = [
    (f"{m}_{tag}", tag)
    for tag in ("reml", "ml")
    for m in ("sleep_slope", "sleep_int", "drop_int", "drop_slope")
]


@pytest.mark.parametrize("model,tag", CASES, ids=[c[0] for c in CASES])
def test_matches_lmer(model, tag, sleep, dropout, ref):
    spec = {
        "sleep_slope": ("Reaction ~ Days", sleep, "Subject", "~ Days"),
        "sleep_int": ("Reaction ~ Days", sleep, "Subject", None),
        "drop_int": ("y ~ arm + x + month", dropout, "id", None),
        "drop_slope": ("y ~ arm + x + month", dropout, "id", "~ month"),
    }["_".join(model.split("_")[:2])]
    f, d, g, re = spec
    res = fit_mixed(d, f, id=g, re_formula=re, reml=tag == "reml")
    np.testing.assert_allclose(res.coef(), ref(model, "coef").to_numpy(), rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov())), ref(model, "se").to_numpy(), rtol=RTOL)
    vc = res.variance_components()
    np.testing.assert_allclose(vc["variance"], ref(model, "varcorr").to_numpy(), rtol=VARCOMP_RTOL)
    gl = res.glance().iloc[0]
    g_ref = ref(model, "glance")
    for key in ("loglik", "aic", "bic"):
        assert gl[key] == pytest.approx(g_ref[key], rel=RTOL), key
    assert gl["sigma"] == pytest.approx(g_ref["sigma"], rel=VARCOMP_RTOL)
    assert gl["n"] == g_ref["n"] and gl["n_groups"] == g_ref["n_groups"]
    assert gl["converged"] and gl["method"] == tag.upper()


def test_contract(sleep):
    before = sleep.copy()
    res = fit_mixed(sleep, "Reaction ~ Days", id="Subject", re_formula="~ Days")
    pd.testing.assert_frame_equal(sleep, before)
    assert tuple(res.tidy().columns) == TIDY_COLUMNS
    assert tuple(res.glance().columns) == MIXED_GLANCE_COLUMNS
    vc = res.variance_components()
    assert list(vc["term1"]) == ["Intercept", "Days", "Intercept", ""]
    corr = vc.loc[2, "sd_or_corr"]
    assert corr == pytest.approx(
        vc.loc[2, "variance"] / (vc.loc[0, "sd_or_corr"] * vc.loc[1, "sd_or_corr"])
    )
    s = res.summary()
    assert "REML" in s.as_text() and "<table" in s.as_html()
    with pytest.raises(OptionError):
        res.tidy(exponentiate=True)
    pred = res.predict(pd.DataFrame({"Days": [0.0, 2.0]}))
    np.testing.assert_allclose(
        pred, res.coef()["Intercept"] + res.coef()["Days"] * np.array([0, 2])
    )


def test_missing_reported(dropout):
    df = dropout.copy()
    df.loc[[1, 2], "x"] = np.nan
    res = fit_mixed(df, "y ~ x", id="id")
    assert res.glance().loc[0, "n_dropped"] == 2


def test_non_convergence_recorded_and_warned(sleep):
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = fit_mixed(sleep, "Reaction ~ Days", id="Subject", re_formula="~ Days", max_iter=1)
    g = res.glance().iloc[0]
    assert not g["converged"]
    assert g["message"] != ""


def test_bad_input(sleep):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'Days'"):
        fit_mixed(sleep, "Reaction ~ Dayz", id="Subject")
    with pytest.raises(ColumnNotFoundError, match="`id`"):
        fit_mixed(sleep, "Reaction ~ Days", id="Subj")
    with pytest.raises(ArgumentTypeError, match="`groups`, which was renamed `id`"):
        fit_mixed(sleep, "Reaction ~ Days", groups="Subject")
    with pytest.raises(ArgumentTypeError, match="`maxiter`, which was renamed `max_iter`"):
        fit_mixed(sleep, "Reaction ~ Days", id="Subject", maxiter=10)
    with pytest.raises(DataValidationError, match="single group"):
        fit_mixed(sleep.assign(g=1), "Reaction ~ Days", id="g")
    with pytest.raises(EstimationError, match="No rows"):
        fit_mixed(sleep.assign(Days=np.nan), "Reaction ~ Days", id="Subject")


def test_formula_terms_match_id_interface(sleep):
    a = fit_mixed(sleep, "Reaction ~ Days + (1 + Days | Subject)")
    b = fit_mixed(sleep, "Reaction ~ Days", id="Subject", re_formula="~ Days")
    np.testing.assert_allclose(a.coef(), b.coef(), rtol=1e-12)
    assert a.id == "Subject" and a.re_formula == "~ 1 + Days"
    with pytest.raises(OptionError, match="already has the random-effect term"):
        fit_mixed(sleep, "Reaction ~ Days + (1 | Subject)", id="Subject")
    with pytest.raises(DataValidationError, match="'Subject:Days' has 180 levels for 180 rows"):
        fit_mixed(sleep, "Reaction ~ Days + (1 | Subject/Days)")
    with pytest.raises(OptionError, match="not supported"):
        fit_mixed(sleep, "Reaction ~ Days + (1 || Subject)")
    cond = a.predict(sleep, level="conditional")
    resid = sleep["Reaction"] - cond
    assert float(np.var(resid)) < float(np.var(sleep["Reaction"] - a.predict(sleep)))


def test_singular_fit_flagged():
    rng = np.random.default_rng(11)
    df = pd.DataFrame({"id": np.repeat(np.arange(30), 6), "x": rng.normal(size=180)})
    df["y"] = df["x"] + rng.normal(size=180)  # no between-person variance
    with pytest.warns(Warning, match="[Ss]ingular"):
        res = fit_mixed(df, "y ~ x + (1 | id)")
    assert res.glance().loc[0, "singular"]
