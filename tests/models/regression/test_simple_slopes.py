"""simple_slopes and johnson_neyman against R (tests/reference/simple_slopes.R), by
reparametrisation, and on bad input."""

import math

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError, DataWarning
from mutualaid_outcomes.models.regression import (
    fit_gee,
    fit_regression,
    johnson_neyman,
    simple_slopes,
)
from mutualaid_outcomes.models.regression.simple_slopes import (
    JN_GLANCE_COLUMNS,
    SLOPES_GLANCE_COLUMNS,
)
from mutualaid_outcomes.models.survival import fit_cox
from mutualaid_outcomes.results import TIDY_COLUMNS

RTOL = 1e-6  # closed-form linear combinations of coefficients fitted to full convergence
REPARAM_RTOL = 1e-6  # same model refitted with a shifted moderator: same likelihood optimum
QUANTITIES = ("estimate", "std_error", "statistic", "p_value", "conf_low", "conf_high")

# model name in the CSV -> (formula, family, focal, moderator)
MODELS = {
    "lm_econ_age": ("depress2 ~ econ_hard * age + sex", "gaussian", "econ_hard", "age"),
    "lm_seek_dep": (
        "depress2 ~ job_seek * depress1 + sex + age",
        "gaussian",
        "job_seek",
        "depress1",
    ),
    "lm_treat_econ": ("depress2 ~ econ_hard * treat + sex + age", "gaussian", "treat", "econ_hard"),
    "logit_seek_dep": ("work ~ job_seek * depress1 + age", "binomial", "job_seek", "depress1"),
    "lm_treat_sex": ("depress2 ~ treat * sex + age", "gaussian", "treat", "sex"),
    "lm_treat_marital": ("depress2 ~ treat * marital + age", "gaussian", "treat", "marital"),
}


@pytest.fixture(scope="module")
def jobs(test_data):
    d = test_data("jobs.csv")
    d["work"] = (d["work1"] == "psyemp").astype(int)
    return d


@pytest.fixture(scope="module")
def fits(jobs):
    return {
        name: fit_regression(jobs, formula, family=family)
        for name, (formula, family, _, _) in MODELS.items()
    }


@pytest.fixture(scope="module")
def ref(r_reference):
    table = r_reference("simple_slopes", keep_default_na=False)
    return {m: g for m, g in table.groupby("model")}


def _scalar(ref_model, quantity):
    return float(ref_model.loc[ref_model.quantity == quantity, "value"].iloc[0])


def _wide(ref_model):
    rows = ref_model[ref_model.quantity.isin(QUANTITIES)]
    return rows.pivot_table(index="at", columns="quantity", values="value", sort=False)


@pytest.mark.parametrize("name", ["lm_econ_age", "lm_seek_dep", "lm_treat_econ", "logit_seek_dep"])
def test_continuous_slopes_match_r(name, fits, ref):
    _, _, focal, moderator = MODELS[name]
    r = ref[name]
    wide = _wide(r)
    at = wide.index.astype(float).to_numpy()
    default = simple_slopes(fits[name], focal, moderator)
    # the default values are the first three: mean - SD, mean, mean + SD (R sd(), n - 1)
    np.testing.assert_allclose(default.tidy()["at"].astype(float), at[:3], rtol=RTOL)
    with_extra = simple_slopes(fits[name], focal, moderator, at=at)
    got = with_extra.tidy()
    for q in QUANTITIES:
        np.testing.assert_allclose(got[q], wide[q].to_numpy(), rtol=RTOL, err_msg=q)
    np.testing.assert_allclose(default.tidy()["estimate"], got["estimate"][:3], rtol=1e-12)
    g = default.glance()
    assert tuple(g.columns) == SLOPES_GLANCE_COLUMNS
    assert g.loc[0, "moderator_min"] == pytest.approx(_scalar(r, "w_min"), rel=RTOL)
    assert g.loc[0, "moderator_max"] == pytest.approx(_scalar(r, "w_max"), rel=RTOL)
    assert g.loc[0, "at_rule"] == "mean and +/- 1 SD"


@pytest.mark.parametrize("name", ["lm_econ_age", "lm_seek_dep", "lm_treat_econ", "logit_seek_dep"])
def test_johnson_neyman_bounds_match_r(name, fits, ref):
    _, family, focal, moderator = MODELS[name]
    r = ref[name]
    jn = johnson_neyman(fits[name], focal, moderator)
    assert jn.quadratic[0] == pytest.approx(_scalar(r, "jn_a"), rel=RTOL)
    disc = jn.quadratic[1] ** 2 - 4 * jn.quadratic[0] * jn.quadratic[2]
    assert disc == pytest.approx(_scalar(r, "jn_disc"), rel=RTOL)
    if "jn_lower" in set(r.quantity):
        assert jn.lower == pytest.approx(_scalar(r, "jn_lower"), rel=RTOL)
        assert jn.upper == pytest.approx(_scalar(r, "jn_upper"), rel=RTOL)
        # at the bounds the effect is exactly significant: p = alpha, a CI limit at 0
        t = jn.tidy()
        assert list(t.columns[:7]) == list(TIDY_COLUMNS)
        np.testing.assert_allclose(t["p_value"], 0.05, rtol=1e-9)
        np.testing.assert_allclose(
            np.minimum(t["conf_low"].abs(), t["conf_high"].abs()), 0, atol=1e-12
        )
    else:
        assert math.isnan(jn.lower) and math.isnan(jn.upper)
        assert jn.tidy().empty
    assert (jn._df is None) == (family == "binomial")


def test_johnson_neyman_regions_and_range(fits, jobs):
    g = johnson_neyman(fits["lm_econ_age"], "econ_hard", "age").glance()
    assert tuple(g.columns) == JN_GLANCE_COLUMNS
    # lower root (about 4 years) is below the youngest participant, upper root inside
    assert not bool(g.loc[0, "lower_in_range"])
    assert bool(g.loc[0, "upper_in_range"])
    jn = johnson_neyman(fits["lm_econ_age"], "econ_hard", "age")
    assert len(jn.regions) == 1 and jn.quadratic[0] < 0  # significant between the roots
    assert jn.observed_regions == ((jobs["age"].min(), jn.upper),)
    both_out = johnson_neyman(fits["lm_seek_dep"], "job_seek", "depress1")
    assert both_out.observed_regions == ((1.0, 3.0),)
    assert "whole observed range" in str(both_out.summary())
    never = johnson_neyman(fits["lm_treat_econ"], "treat", "econ_hard")
    assert never.regions == () and never.significant_where == "nowhere"
    logit = johnson_neyman(fits["logit_seek_dep"], "job_seek", "depress1")
    assert bool(logit.glance().loc[0, "lower_in_range"])
    assert not bool(logit.glance().loc[0, "upper_in_range"])


def test_grid_agrees_with_simple_slopes_and_regions(fits):
    jn = johnson_neyman(fits["lm_econ_age"], "econ_hard", "age")
    grid = np.array([0.0, 3.0, 20.0, 40.0, 68.0, 69.0, 80.0])
    curve = jn.conditional_effect(grid)
    ss = simple_slopes(fits["lm_econ_age"], "econ_hard", "age", at=[20.0, 40.0, 68.0])
    np.testing.assert_allclose(
        curve.set_index("moderator_value").loc[[20.0, 40.0, 68.0], "std_error"],
        ss.tidy()["std_error"],
        rtol=1e-12,
    )
    inside = (grid >= jn.lower) & (grid <= jn.upper)
    np.testing.assert_array_equal(curve["significant"], inside)
    np.testing.assert_array_equal(curve["p_value"] < 0.05, inside)


def test_binary_and_categorical_moderators_match_r(fits, ref):
    binary = simple_slopes(fits["lm_treat_sex"], "treat", "sex")
    wide = _wide(ref["lm_treat_sex"])
    assert binary.glance().loc[0, "moderator_type"] == "binary"
    np.testing.assert_allclose(binary.tidy()["at"].astype(float), [0, 1])
    for q in QUANTITIES:
        np.testing.assert_allclose(binary.tidy()[q], wide[q].to_numpy(), rtol=RTOL, err_msg=q)
    cat = simple_slopes(fits["lm_treat_marital"], "treat", "marital")
    wide = _wide(ref["lm_treat_marital"])
    t = cat.tidy().set_index("at")
    assert list(t.index) == list(wide.index)  # every level, the reference (divrcd) first
    for q in QUANTITIES:
        np.testing.assert_allclose(t[q], wide.loc[t.index, q], rtol=RTOL, err_msg=q)
    two = simple_slopes(fits["lm_treat_marital"], "treat", "marital", at=["widowed", "divrcd"])
    np.testing.assert_allclose(two.tidy()["estimate"], t.loc[["widowed", "divrcd"], "estimate"])


def test_joint_covariance_of_effects(fits):
    ss = simple_slopes(fits["lm_econ_age"], "econ_hard", "age", at=[20, 50])
    b, V = fits["lm_econ_age"].coef(), fits["lm_econ_age"].vcov()
    c = pd.DataFrame(0.0, index=ss.terms, columns=b.index)
    c.loc[:, "econ_hard"] = 1.0
    c.loc[:, "econ_hard:age"] = [20.0, 50.0]
    np.testing.assert_allclose(ss.vcov(), c @ V @ c.T, rtol=1e-12)
    assert ss.nobs == 899 and ss.df_resid == 894.0
    assert "Conditional effect of econ_hard by age" in str(ss.summary())


def test_logit_effects_can_be_exponentiated(fits):
    ss = simple_slopes(fits["logit_seek_dep"], "job_seek", "depress1", at=[2.0])
    t, e = ss.tidy(), ss.tidy(exponentiate=True)
    assert e.loc[0, "estimate"] == pytest.approx(math.exp(t.loc[0, "estimate"]))
    assert ss.df_resid is None


@pytest.fixture(scope="module")
def clustered():
    rng = np.random.default_rng(20261205)
    n, per = 150, 3
    ids = np.repeat(np.arange(n), per)
    x = rng.normal(size=n * per)
    w = rng.uniform(0, 10, size=n * per)
    u = np.repeat(rng.normal(scale=0.5, size=n), per)
    eta = -0.5 + 0.1 * x + 0.08 * x * w + 0.05 * w + u
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    days = rng.exponential(scale=np.exp(-(0.2 * x + 0.06 * x * w)), size=n * per) * 100
    event = (rng.uniform(size=n * per) < 0.8).astype(int)
    return pd.DataFrame({"id": ids, "x": x, "w": w, "y": y, "days": days, "event": event})


def test_gee_by_reparametrisation(clustered):
    """The effect at w0 equals the focal coefficient of the model refitted with w - w0."""
    fit = fit_gee(clustered, "y ~ x * w", id="id", family="binomial", cov_struct="exchangeable")
    ss = simple_slopes(fit, "x", "w", at=[2.5, 7.0])
    assert ss.df_resid is None
    for w0, row in zip([2.5, 7.0], ss.tidy().itertuples(), strict=True):
        shifted = clustered.assign(w=clustered["w"] - w0)
        refit = fit_gee(shifted, "y ~ x * w", id="id", family="binomial", cov_struct="exchangeable")
        t = refit.tidy().set_index("term").loc["x"]
        assert row.estimate == pytest.approx(t["estimate"], rel=REPARAM_RTOL)
        assert row.std_error == pytest.approx(t["std_error"], rel=REPARAM_RTOL)
        assert row.p_value == pytest.approx(t["p_value"], rel=REPARAM_RTOL)


def test_cox_through_protocol_requires_at(clustered):
    """Cox results do not keep their rows: `at` is required; values by reparametrisation."""
    fit = fit_cox(clustered, "days", "event", formula="~ x * w")
    with pytest.raises(DataValidationError, match="`at` is required"):
        simple_slopes(fit, "x", "w")
    ss = simple_slopes(fit, "x", "w", at=[5.0])
    refit = fit_cox(clustered.assign(w=clustered["w"] - 5.0), "days", "event", formula="~ x * w")
    t = refit.tidy().set_index("term").loc["x"]
    assert ss.tidy().loc[0, "estimate"] == pytest.approx(t["estimate"], rel=REPARAM_RTOL)
    assert ss.tidy().loc[0, "std_error"] == pytest.approx(t["std_error"], rel=REPARAM_RTOL)
    jn = johnson_neyman(fit, "x", "w")
    assert jn.moderator_range is None and math.isnan(jn.glance().loc[0, "lower_in_range"])


def test_significant_outside_the_roots():
    """A positive leading coefficient: significant for low and high W, not in between."""
    rng = np.random.default_rng(7)
    d = pd.DataFrame({"x": rng.normal(size=400), "w": rng.uniform(-3, 3, size=400)})
    d["y"] = 0.05 * d.x + 0.6 * d.x * d.w + rng.normal(size=400)
    jn = johnson_neyman(fit_regression(d, "y ~ x * w"), "x", "w")
    assert jn.quadratic[0] > 0 and len(jn.regions) == 2
    assert jn.regions[0] == (-math.inf, jn.lower) and jn.regions[1] == (jn.upper, math.inf)
    assert jn.lower < 0 < jn.upper
    p = jn.conditional_effect([jn.lower - 0.1, 0.0, jn.upper + 0.1])["p_value"]
    assert p[0] < 0.05 and p[1] > 0.05 and p[2] < 0.05
    assert " or " in jn.significant_where


def test_bad_input(fits, jobs):
    lm = fits["lm_econ_age"]
    with pytest.raises(DataValidationError, match=r"`focal` 'econ_hrd' .*did you mean"):
        simple_slopes(lm, "econ_hrd", "age")
    with pytest.raises(DataValidationError, match="`moderator` 'depress1' is not in the model"):
        simple_slopes(lm, "econ_hard", "depress1")
    with pytest.raises(DataValidationError, match="no interaction term 'econ_hard:sex'"):
        johnson_neyman(lm, "econ_hard", "sex")
    with pytest.raises(DataValidationError, match="`moderator` is identical to `focal`"):
        simple_slopes(lm, "age", "age")
    with pytest.raises(ArgumentTypeError, match="`moderator` must be a column name"):
        simple_slopes(lm, "econ_hard", ["age"])
    with pytest.warns(DataWarning, match=r"`at` values \[80.0\] are outside the observed range"):
        simple_slopes(lm, "econ_hard", "age", at=[30, 80])
    with pytest.warns(DataWarning, match="extrapolation"):
        simple_slopes(lm, "econ_hard", "age", at=10)
    with pytest.raises(DataValidationError, match="`at` must be numeric"):
        simple_slopes(lm, "econ_hard", "age", at=["old"])
    with pytest.raises(DataValidationError, match="`at` must be one or more finite"):
        simple_slopes(lm, "econ_hard", "age", at=[np.nan])
    cat = fits["lm_treat_marital"]
    with pytest.raises(DataValidationError, match="`at` must be levels .* got \\['single'\\]"):
        simple_slopes(cat, "treat", "marital", at="single")
    with pytest.raises(DataValidationError, match="Johnson-Neyman bounds need a continuous"):
        johnson_neyman(cat, "treat", "marital")
    with pytest.raises(ValueError, match="conf_level"):
        johnson_neyman(lm, "econ_hard", "age", conf_level=95)
    three = fit_regression(jobs, "depress2 ~ econ_hard * age + econ_hard:sex")
    with pytest.warns(DataWarning, match=r"also enters the product terms \['econ_hard:sex'\]"):
        simple_slopes(three, "econ_hard", "age")
