"""Binomial fit_mixed with a `trials` column: the cbind() model and glmer's weights form."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ColumnNotFoundError, DataValidationError, OptionError
from mutualaid_outcomes.models.regression.mixed import fit_mixed

RTOL = 1e-5
LOGLIK_ATOL = 1e-6
# SEs from the finite-difference Hessian of the deviance, as vcov(glmer) (lme4's
# deriv12, step 1e-4); the tolerance of tests/models/regression/test_glmm.py.
HESSIAN_SE_RTOL = 1e-4
CBIND = "cbind(incidence, fail) ~ C(period) + (1 | herd)"
TRIALS = "incidence ~ C(period) + (1 | herd)"


@pytest.fixture(scope="module")
def cbpp(test_data):
    cb = test_data("glmm_cbpp.csv")
    cb["fail"] = cb["size"] - cb["incidence"]
    return cb


@pytest.mark.parametrize("n_agq", [1, 10])
def test_trials_equals_cbind_exactly(cbpp, n_agq):
    a = fit_mixed(cbpp, CBIND, family="binomial", n_agq=n_agq)
    before = cbpp.copy()
    b = fit_mixed(cbpp, TRIALS, family="binomial", trials="size", n_agq=n_agq)
    pd.testing.assert_frame_equal(cbpp, before)  # the caller's frame is not modified
    pd.testing.assert_series_equal(a.coef(), b.coef(), rtol=0, atol=0)
    pd.testing.assert_frame_equal(a.vcov(), b.vcov(), rtol=0, atol=0)
    pd.testing.assert_frame_equal(a.ranef, b.ranef, rtol=0, atol=0)
    assert a.theta == b.theta and a.loglik == b.loglik
    assert b.trials == "size" and a.trials is None
    pd.testing.assert_series_equal(a.predict(cbpp), b.predict(cbpp), rtol=0, atol=0)


@pytest.mark.parametrize(
    "model, reference",
    [("cbpp_laplace", "glmm_lme4"), ("cbpp_trials_laplace", "glmm_nb_lme4")],
)
def test_trials_matches_glmer(cbpp, r_reference, model, reference):
    """lme4's cbind() fit and its incidence / size ~ ..., weights = size fit."""
    res = fit_mixed(cbpp, TRIALS, family="binomial", trials="size")

    def ref(quantity):
        return r_reference(reference, model=model, quantity=quantity)["value"].to_numpy()

    np.testing.assert_allclose(res.coef(), ref("coef"), rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov())), ref("se"), rtol=HESSIAN_SE_RTOL)
    np.testing.assert_allclose(res.theta, ref("theta"), rtol=RTOL)
    assert res.glance().loc[0, "loglik"] == pytest.approx(ref("glance")[0], abs=LOGLIK_ATOL)


def test_missing_trials_are_reported(cbpp):
    d = cbpp.astype({"size": float})
    d.loc[[2, 5], "size"] = np.nan
    res = fit_mixed(d, TRIALS, family="binomial", trials="size")
    assert res.glance().loc[0, "n"] == len(d) - 2
    assert res.glance().loc[0, "n_dropped"] == 2


def test_trials_bad_input(cbpp):
    d = cbpp.copy()
    d.loc[[4, 9], "incidence"] = d.loc[[4, 9], "size"] + 1
    with pytest.raises(
        DataValidationError,
        match=r"successes \('incidence'\) exceed `trials` \('size'\) in 2 rows \(index labels 4, 9\)",
    ):
        fit_mixed(d, TRIALS, family="binomial", trials="size")
    d = cbpp.astype({"size": float})
    d.loc[3, "size"] = 2.5
    with pytest.raises(
        DataValidationError, match=r"`trials` \('size'\).*positive whole.*labels 3\)"
    ):
        fit_mixed(d, TRIALS, family="binomial", trials="size")
    d = cbpp.assign(size=cbpp["size"].where(cbpp.index != 0, 0))
    with pytest.raises(DataValidationError, match=r"positive whole numbers; 1 values do not"):
        fit_mixed(d, TRIALS, family="binomial", trials="size")
    with pytest.raises(DataValidationError, match="must be numeric"):
        fit_mixed(cbpp.assign(size="ten"), TRIALS, family="binomial", trials="size")
    prop = cbpp.assign(p=cbpp["incidence"] / cbpp["size"])
    with pytest.raises(DataValidationError, match=r"counts successes.*'p' times 'size'"):
        fit_mixed(prop, "p ~ C(period) + (1 | herd)", family="binomial", trials="size")
    neg = cbpp.assign(incidence=cbpp["incidence"].where(cbpp.index != 7, -1))
    with pytest.raises(DataValidationError, match=r"non-negative whole.*index labels 7\)"):
        fit_mixed(neg, TRIALS, family="binomial", trials="size")
    with pytest.raises(OptionError, match="family='binomial' only"):
        fit_mixed(cbpp, TRIALS, family="poisson", trials="size")
    with pytest.raises(OptionError, match="use one"):
        fit_mixed(cbpp, CBIND, family="binomial", trials="size")
    with pytest.raises(ColumnNotFoundError, match="sizes"):
        fit_mixed(cbpp, TRIALS, family="binomial", trials="sizes")


def test_trials_with_several_terms_equals_cbind(cbpp):
    """The multi-term (Schur complement) path reads trials as the single-term path does."""
    data = cbpp.assign(pair=cbpp["herd"] % 3)
    a = fit_mixed(data, "cbind(incidence, fail) ~ period + (1 | herd) + (1 | pair)",
                  family="binomial")  # fmt: skip
    b = fit_mixed(data, "incidence ~ period + (1 | herd) + (1 | pair)", family="binomial",
                  trials="size")  # fmt: skip
    assert len(b.re_terms) == 2 and b.trials == "size"
    pd.testing.assert_series_equal(a.coef(), b.coef(), rtol=1e-12, atol=0)
    assert a.loglik == pytest.approx(b.loglik, rel=1e-12)


def test_negative_binomial_with_several_terms_is_refused(cbpp):
    with pytest.raises(OptionError, match="negative_binomial.*one random-effect term"):
        fit_mixed(cbpp.assign(pair=cbpp["herd"] % 3), "incidence ~ period + (1 | herd) + (1 | pair)",
                  family="negative_binomial")  # fmt: skip
