"""Propensity scores, weights, balance and weighted outcome models against R.

References: tests/reference/propensity.R (glm, nnet::multinom, sandwich).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    OptionError,
    SmallSampleWarning,
)
from mutualaid_outcomes.models.causal.propensity import (
    PROPENSITY_GLANCE_COLUMNS,
    PositivityError,
    fit_weighted,
    propensity_scores,
)
from mutualaid_outcomes.tables.table_one import smd_categorical, smd_continuous

RTOL = 1e-6  # deterministic estimators: both sides iterate to full convergence
# nnet::multinom stops on a relative change of the deviance (reltol 1e-14) after BFGS,
# not on the gradient; its probabilities agree with Newton-Raphson to about 1e-7.
MULTINOM_RTOL = 1e-5
COVS = ["age", "female", "severity", "site"]


@pytest.fixture(scope="module")
def ref(r_reference):
    """R values of tests/reference/propensity.csv for one model and quantity."""
    table = r_reference("propensity")

    def get(model: str, quantity: str) -> pd.Series:
        sub = table[(table["model"] == model) & (table["quantity"] == quantity)]
        assert len(sub), (model, quantity)
        return pd.Series(sub["value"].to_numpy(float), index=sub["term"].astype(str).tolist())

    return get


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


@pytest.fixture(scope="module")
def sim(test_data) -> pd.DataFrame:
    return test_data("ps_sim.csv")


@pytest.fixture(scope="module")
def ps(sim):
    return propensity_scores(sim, "treat", COVS)


def test_logit_model_matches_glm(ps, test_data, ref):
    close(ps.coef(), ref("ps_logit", "coef"))
    close(ps.tidy()["std_error"], ref("ps_logit", "se"))
    close(ps.scores, ref("ps_logit", "score"))
    close(ps.loglik, ref("ps_logit", "loglik").iloc[0])
    g = ps.glance()
    assert list(g.columns) == list(PROPENSITY_GLANCE_COLUMNS)
    assert g["n"].iloc[0] == 600 and g["n_trimmed"].iloc[0] == 0
    assert ps.levels == (0, 1)
    pos = ps.positivity()
    sc = np.asarray(ref("ps_logit", "score"))
    t = test_data("ps_sim.csv")["treat"].to_numpy()
    close(pos["min"], [sc[t == 0].min(), sc[t == 1].min()])
    close(pos["max"], [sc[t == 0].max(), sc[t == 1].max()])


@pytest.mark.parametrize(
    ("kind", "kwargs", "quantity"),
    [
        ("ate", {}, "ate"),
        ("ipw", {}, "ate"),
        ("ate", {"stabilized": True}, "ate_stabilized"),
        ("att", {}, "att"),
        ("overlap", {}, "overlap"),
    ],
)
def test_weights_match_r(ps, kind, kwargs, quantity, ref):
    close(ps.weights(kind, **kwargs), ref("weights", quantity))


def test_effective_sample_size(ps, ref):
    ess = ps.effective_sample_size("ate")
    close(ess["ess"], ref("ess_ate", "ess"))
    assert ess["n"].sum() == 600


def test_balance_matches_r_and_table_one(ps, sim, ref):
    bal = ps.balance("ate").set_index("covariate")
    r_u = ref("balance_ate", "smd_unadjusted")
    r_a = ref("balance_ate", "smd_adjusted")
    assert len(bal) == len(r_u) == 6
    close(bal["smd_unadjusted"], r_u)
    close(bal["smd_adjusted"], r_a)
    vr = ref("balance_ate", "var_ratio_adjusted")
    close(bal.loc[["age", "severity"], "var_ratio_adjusted"], vr)
    att = ps.balance("att").set_index("covariate")
    close(att["smd_adjusted"], ref("balance_att", "smd_adjusted"))
    # unadjusted SMDs agree with the table-one helpers up to sign
    t = sim["treat"] == 1
    for col in ("age", "severity"):
        np.testing.assert_allclose(
            abs(bal.loc[col, "smd_unadjusted"]),
            smd_continuous(sim.loc[t, col].to_numpy(float), sim.loc[~t, col].to_numpy(float)),
            rtol=1e-12,
        )
    p1, p0 = sim.loc[t, "female"].mean(), sim.loc[~t, "female"].mean()
    np.testing.assert_allclose(
        abs(bal.loc["female", "smd_unadjusted"]),
        smd_categorical(np.array([1 - p1, p1]), np.array([1 - p0, p0])),
        rtol=1e-10,
    )
    assert bal.attrs["kind"] == "ate"


def test_overlap_weights_balance_means_exactly(ps):
    # Li, Morgan & Zaslavsky (2018): overlap weights from a logistic model balance the
    # means of every model covariate exactly
    bal = ps.balance("overlap")
    assert np.max(np.abs(bal["smd_adjusted"])) < 1e-8
    assert np.max(np.abs(bal["smd_unadjusted"])) > 0.1


@pytest.mark.parametrize(
    ("model", "formula", "kind", "family"),
    [
        ("wls_ate", "y ~ treat", "ate", "gaussian"),
        ("wls_overlap_dr", "y ~ treat + age + female + severity + site", "overlap", "gaussian"),
        ("wlogit_att", "ybin ~ treat", "att", "binomial"),
    ],
)
def test_weighted_outcome_models_match_glm_sandwich(ps, sim, model, formula, kind, family, ref):
    for cov in ("HC0", "HC1"):
        res = fit_weighted(sim, formula, ps, kind=kind, family=family, cov_type=cov)
        t = res.tidy().set_index("term").rename(index=_r_name)
        r = ref(model, "coef")
        close(t.loc[r.index, "estimate"], r)
        close(t.loc[r.index, "std_error"], ref(model, f"se_{cov}"))
    assert any("treat the weights as known" in n for n in res._notes())


def _r_name(term: str) -> str:
    """Our patsy term names to R's: Intercept -> (Intercept), site[T.s2] -> sites2."""
    if term == "Intercept":
        return "(Intercept)"
    if "[T." in term:
        var, level = term.split("[T.")
        return var + level.rstrip("]")
    return term


def test_weighted_cluster_se(ps, sim, ref):
    with pytest.warns(SmallSampleWarning, match="4 clusters"):
        res = fit_weighted(sim, "y ~ treat", ps, cluster="site")
    close(res.tidy()["std_error"], ref("wls_ate", "se_cluster_HC1"))
    # with fewer than 10 clusters fit_regression warns; 4 sites here
    assert res.glance()["n_clusters"].iloc[0] == 4


def test_weights_from_column_and_series_agree(ps, sim):
    d = sim.assign(w=ps.weights("ate"))
    a = fit_weighted(d, "y ~ treat", "w").tidy()
    b = fit_weighted(sim, "y ~ treat", ps.weights("ate")).tidy()
    pd.testing.assert_frame_equal(a, b)
    # the point estimate is the Hajek IPW difference in means
    w, y, t = d["w"].to_numpy(), d["y"].to_numpy(), d["treat"].to_numpy()
    hajek = np.sum(w * y * t) / np.sum(w * t) - np.sum(w * y * (1 - t)) / np.sum(w * (1 - t))
    np.testing.assert_allclose(a.loc[1, "estimate"], hajek, rtol=1e-10)


def test_multinomial_matches_nnet(sim, ref):
    ps = propensity_scores(sim, "dose", COVS, method="multinomial", reference="none")
    assert ps.levels == ("none", "frequent", "some")
    for lv in ps.levels:
        close(ps.probabilities[lv], ref("ps_multinom", f"prob_{lv}"), MULTINOM_RTOL)
    r = ref("ps_multinom", "coef")
    # R's multinom orders levels alphabetically after the reference: frequent, some
    close(ps.coef(), r, MULTINOM_RTOL)
    P = ps.probabilities.to_numpy()
    codes = pd.Categorical(sim["dose"], categories=ps.levels).codes
    np.testing.assert_allclose(ps.weights("ate"), 1 / P[np.arange(len(sim)), codes], rtol=1e-12)
    gow = ps.weights("overlap").to_numpy()
    np.testing.assert_allclose(gow, (1 / P[np.arange(len(sim)), codes]) / np.sum(1 / P, 1))
    bal = ps.balance("ate")
    assert set(bal["contrast"]) == {"frequent vs none", "some vs none"}
    with pytest.raises(OptionError, match="focal"):
        ps.weights("att")
    att = ps.weights("att", focal="frequent")
    assert np.allclose(att[sim["dose"] == "frequent"], 1.0)


def _separated(n=300, seed=1):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"x": rng.normal(size=n), "aftercare": rng.binomial(1, 0.3, n)})
    d["attends"] = rng.binomial(1, 1 / (1 + np.exp(-d["x"])))
    d.loc[d["aftercare"] == 1, "attends"] = 1  # everyone in aftercare attends
    return d


def test_positivity_violation_is_an_error():
    d = _separated()
    with pytest.raises(PositivityError, match=r"Positivity violation: \d+ of 300 rows") as exc:
        propensity_scores(d, "attends", ["x", "aftercare"])
    assert "trim=" in str(exc.value)
    assert issubclass(PositivityError, DataValidationError)


def test_positivity_trimming_reports():
    d = _separated()
    n_after = int(d["aftercare"].sum())
    with pytest.warns(ConvergenceWarning, match="did not converge"):  # separation
        ps = propensity_scores(d, "attends", ["x", "aftercare"], trim=0.05)
    g = ps.glance()
    assert g["n_trimmed"].iloc[0] >= n_after
    assert any("Trimmed" in n for n in ps._notes())
    w = ps.weights("ate")
    assert w[d["aftercare"] == 1].isna().all()
    res = fit_weighted(d, "x ~ attends", ps)
    assert res.glance()["n_dropped"].iloc[0] == g["n_trimmed"].iloc[0]
    assert "ps_weight" in res.summary().as_text()


def test_positivity_warn_keeps_overlap_weights():
    d = _separated()
    with pytest.warns(DataWarning, match="Positivity violation"):
        ps = propensity_scores(d, "attends", ["x", "aftercare"], positivity="warn")
    pos = ps.positivity().set_index("level")
    # every aftercare participant attends: their scores are numerically 1
    assert pos.loc[1, "n_zero_one"] == int(d["aftercare"].sum())
    assert pos.loc[0, "n_zero_one"] == 0
    assert pos.loc[1, "max"] > 1 - 1e-8
    assert pos["n"].sum() == len(d)
    w = ps.weights("overlap")
    assert np.all(np.isfinite(w)) and w.max() <= 1


def test_truncation_caps_weights(ps):
    w = ps.weights("ate")
    wt = ps.weights("ate", truncate=(0.01, 0.99))
    lo, hi = np.quantile(w, [0.01, 0.99])
    np.testing.assert_allclose(wt, np.clip(w, lo, hi))
    with pytest.raises(DataValidationError, match="truncate"):
        ps.weights("ate", truncate=(0.99, 0.01))


def test_input_validation(sim):
    before = sim.copy()
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'severity'"):
        propensity_scores(sim, "treat", ["severty"])
    with pytest.raises(DataValidationError, match="method='multinomial'"):
        propensity_scores(sim, "dose", COVS)
    with pytest.raises(OptionError, match="method"):
        propensity_scores(sim, "treat", COVS, method="probit")
    with pytest.raises(DataValidationError, match="single value"):
        propensity_scores(sim.assign(t=1), "t", COVS)
    with pytest.raises(DataValidationError, match="trim"):
        propensity_scores(sim, "treat", COVS, trim=0.7)
    ps = propensity_scores(sim, "treat", COVS)
    with pytest.raises(OptionError, match="kind"):
        ps.weights("atc")
    with pytest.raises(OptionError, match="stabilized"):
        ps.weights("overlap", stabilized=True)
    with pytest.raises(ArgumentTypeError, match="weights"):
        fit_weighted(sim, "y ~ treat", 3)
    with pytest.raises(OptionError, match="cov_type"):
        fit_weighted(sim, "y ~ treat", ps, cov_type="model")
    pd.testing.assert_frame_equal(sim, before)


def test_missing_covariates_reported(sim):
    d = sim.copy()
    d.loc[d.index[:6], "age"] = np.nan
    ps = propensity_scores(d, "treat", COVS)
    assert ps.glance()["n_dropped"].iloc[0] == 6
    assert "6 excluded" in ps.summary().as_text()
    res = fit_weighted(d, "y ~ treat", ps)
    assert res.glance()["n"].iloc[0] == 594


def test_recovers_ate_under_confounding():
    # known truth: constant effect 0.1; confounder raises both exposure and outcome
    rng = np.random.default_rng(2024)
    n = 4000
    x = rng.normal(size=n)
    t = rng.binomial(1, 1 / (1 + np.exp(-1.2 * x)))
    y = 0.5 + 0.1 * t + 0.2 * x + rng.normal(0, 0.2, n)
    d = pd.DataFrame({"x": x, "t": t, "y": y})
    naive = fit_weighted(d, "y ~ t", pd.Series(1.0, index=d.index)).tidy().loc[1]
    ps = propensity_scores(d, "t", "x")
    ipw = fit_weighted(d, "y ~ t", ps).tidy().loc[1]
    assert naive["conf_low"] > 0.2  # confounded
    assert ipw["conf_low"] < 0.1 < ipw["conf_high"]


@pytest.mark.parametrize(
    ("model", "formula", "kind", "family"),
    [
        ("stacked_ate", "y ~ treat + severity", "ate", "gaussian"),
        ("stacked_att_logit", "ybin ~ treat", "att", "binomial"),
        ("stacked_overlap", "y ~ treat", "overlap", "gaussian"),
    ],
)
def test_stacked_m_estimation_se(ps, sim, model, formula, kind, family, ref):
    res = fit_weighted(sim, formula, ps, kind=kind, family=family, ps_uncertainty="stacked")
    t = res.tidy()
    close(t["estimate"], ref(model, "coef"))
    close(t["std_error"], ref(model, "se_stacked"))  # R side: numDeriv jacobian
    assert res.cov_type == "stacked"
    assert res.glance()["cov_type"].iloc[0] == "stacked"
    assert any("include the estimation" in n for n in res._notes())
    hc0 = fit_weighted(sim, formula, ps, kind=kind, family=family).tidy()
    close(hc0["std_error"], ref(model, "se_HC0"))
    if kind == "ate":
        # estimating the propensity score does not increase the ATE variance
        assert t.loc[1, "std_error"] <= hc0.loc[1, "std_error"]


def test_stacked_options_checked(ps, sim):
    with pytest.raises(OptionError, match="stacked"):
        fit_weighted(sim, "y ~ treat", ps.weights("ate"), ps_uncertainty="stacked")
    with pytest.raises(OptionError, match="stacked"):
        fit_weighted(sim, "y ~ treat", ps, stabilized=True, ps_uncertainty="stacked")
    with pytest.raises(OptionError, match="ps_uncertainty"):
        fit_weighted(sim, "y ~ treat", ps, ps_uncertainty="bootstrap")
