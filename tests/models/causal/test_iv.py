"""Two-stage least squares and the CACE against R AER::ivreg (tests/reference/iv_aer.R)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ColumnNotFoundError,
    DataValidationError,
    DataWarning,
    OptionError,
    SmallSampleWarning,
)
from mutualaid_outcomes.models.causal.iv import (
    CACE_GLANCE_COLUMNS,
    IV_GLANCE_COLUMNS,
    WeakInstrumentWarning,
    cace,
    fit_iv,
)

RTOL = 1e-6  # deterministic closed-form estimators: agreement to rounding error


@pytest.fixture(scope="module")
def ref(r_reference):
    """R values of tests/reference/iv_aer.csv for one model and quantity."""
    table = r_reference("iv_aer")

    def get(model: str, quantity: str) -> pd.Series:
        sub = table[(table["model"] == model) & (table["quantity"] == quantity)]
        assert len(sub), (model, quantity)
        return pd.Series(sub["value"].to_numpy(float), index=sub["term"].tolist())

    return get


def close(actual, expected, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(actual, float), np.asarray(expected, float), rtol=rtol)


@pytest.fixture(scope="module")
def cig(test_data) -> pd.DataFrame:
    d = test_data("iv_cigarettes.csv")
    d["y1995"] = (d["year"] == 1995).astype(int)
    return d


@pytest.fixture(scope="module")
def trial(test_data) -> pd.DataFrame:
    return test_data("iv_encouragement.csv")


def test_cigarettes_overidentified(cig, ref):
    c95 = cig[cig["year"] == 1995]
    res = fit_iv(c95, "lpacks", "lrprice", ["tdiff", "rtax"], "lrincome", cov_type="model")
    # R order: (Intercept), lrprice, lrincome; ours: Intercept, covariates, exposures
    order = ["Intercept", "lrprice", "lrincome"]
    close(res.coef()[order], ref("cig95", "coef"))
    close(res.tidy().set_index("term").loc[order, "std_error"], ref("cig95", "se_nonrobust"))
    for h in ("HC0", "HC1"):
        t = res.with_cov_type(h).tidy().set_index("term")
        close(t.loc[order, "std_error"], ref("cig95", f"se_{h}"))
    g = res.glance()
    diag = ref("cig95", "diagnostic")
    close(g["sargan"], diag["sargan"])
    close(g["sigma"], diag["sigma"])
    fs = ref("cig95", "first_stage")
    close(res.first_stage()["f_statistic"], fs["f_classical"])
    close(res.first_stage()["f_statistic"], diag["weak_f"])
    close(res.first_stage()["partial_r2"], fs["partial_r2"])
    close(res.with_cov_type("HC0").first_stage()["f_statistic"], fs["f_HC0"])
    close(res.with_cov_type("HC1").first_stage()["f_statistic"], fs["f_HC1"])


def test_cigarettes_cluster(cig, ref):
    res = fit_iv(
        cig,
        "lpacks",
        "lrprice",
        "tdiff",
        ["lrincome", "y1995"],
        cluster="state",
    )
    order = ["Intercept", "lrprice", "lrincome", "y1995"]
    close(res.coef()[order], ref("cig_panel", "coef"))
    # the default factor is vcovCL's default for ivreg: equal to type = "HC0"
    se = res.tidy().set_index("term").loc[order, "std_error"]
    close(se, ref("cig_panel", "se_cluster_default"))
    close(se, ref("cig_panel", "se_cluster_HC0"))
    fs = ref("cig_panel", "first_stage")
    close(res.first_stage()["f_statistic"], fs["f_cluster_HC0"])
    r1 = res.with_cov_type("robust", cluster_type="HC1")
    close(r1.tidy().set_index("term").loc[order, "std_error"], ref("cig_panel", "se_cluster_HC1"))
    close(r1.first_stage()["f_statistic"], fs["f_cluster_HC1"])
    assert res.glance()["n_clusters"].iloc[0] == 48
    assert np.isnan(res.glance()["sargan"].iloc[0])  # exactly identified


def test_trial_with_covariates_all_cov_types(trial, ref):
    res = fit_iv(trial, "pda15", "meetings", "tsf", ["age", "female", "pda0"], cov_type="HC1")
    order = ["Intercept", "meetings", "age", "female", "pda0"]
    close(res.coef()[order], ref("trial", "coef"))
    for cov, q in (("model", "se_nonrobust"), ("HC0", "se_HC0"), ("HC1", "se_HC1")):
        close(
            res.with_cov_type(cov).tidy().set_index("term").loc[order, "std_error"], ref("trial", q)
        )
    fs = ref("trial", "first_stage")
    close(res.first_stage()["f_statistic"], fs["f_HC1"])
    close(res.first_stage()["f_classical"], fs["f_classical"])
    with pytest.warns(SmallSampleWarning, match="9 clusters"):
        rc = fit_iv(trial, "pda15", "meetings", "tsf", ["age", "female", "pda0"], cluster="site")
    # default: sandwich::vcovCL's own default for an ivreg fit (HC0-type, G / (G - 1))
    assert rc.glance()["cov_type"].iloc[0] == "cluster" and rc.cluster_type == "HC0"
    se_default = ref("trial", "se_cluster_default")
    close(rc.tidy().set_index("term").loc[order, "std_error"], se_default)
    close(se_default, ref("trial", "se_cluster_HC0"))
    close(rc.first_stage()["f_statistic"], fs["f_cluster_HC0"])
    rc1 = rc.with_cov_type("robust", cluster_type="HC1")
    close(rc1.tidy().set_index("term").loc[order, "std_error"], ref("trial", "se_cluster_HC1"))
    close(rc1.first_stage()["f_statistic"], fs["f_cluster_HC1"])


def test_categorical_instrument_three_arms(trial, ref):
    res = fit_iv(trial, "pda15", "meetings", "arm", cov_type="model")
    assert res.instruments == ("arm[MET]", "arm[TSF]")
    close(res.coef(), ref("trial_arm", "coef"))
    close(res.tidy()["std_error"], ref("trial_arm", "se_nonrobust"))
    close(res.with_cov_type("HC1").tidy()["std_error"], ref("trial_arm", "se_HC1"))
    close(res.glance()["sargan"], ref("trial_arm", "diagnostic")["sargan"])
    close(res.first_stage()["f_statistic"], ref("trial_arm", "first_stage")["f_classical"])


def test_cace_equals_wald_and_2sls(trial, ref):
    w = ref("trial_cace", "wald")
    res = cace(trial, "pda15", "attended", "tsf", cov_type="HC0")
    est = res.tidy().set_index("term")["estimate"]
    close(est[["itt", "first_stage", "cace"]], w[["itt", "first_stage", "cace"]])
    for cov, q in (("model", "se_nonrobust"), ("HC0", "se_HC0"), ("HC1", "se_HC1")):
        c = cace(trial, "pda15", "attended", "tsf", cov_type=cov).tidy().set_index("term")
        close(c.loc["cace", "std_error"], ref("trial_cace", q)["attended"])
    assert res.glance()["exposure_binary"].iloc[0]
    assert list(res.glance().columns) == list(CACE_GLANCE_COLUMNS)


def test_cace_with_covariates_matches_fit_iv(trial):
    covs = ["age", "female", "pda0"]
    iv = fit_iv(trial, "pda15", "meetings", "tsf", covs, cov_type="HC0").tidy().set_index("term")
    c = cace(trial, "pda15", "meetings", "tsf", covs, cov_type="HC0").tidy().set_index("term")
    # indirect least squares = 2SLS when exactly identified; delta-method SE = 2SLS SE
    np.testing.assert_allclose(
        c.loc["cace", "estimate"], iv.loc["meetings", "estimate"], rtol=1e-10
    )
    np.testing.assert_allclose(
        c.loc["cace", "std_error"], iv.loc["meetings", "std_error"], rtol=1e-10
    )
    with pytest.warns(SmallSampleWarning):
        cc = cace(trial, "pda15", "meetings", "tsf", covs, cluster="site")
    with pytest.warns(SmallSampleWarning):
        ic = fit_iv(trial, "pda15", "meetings", "tsf", covs, cluster="site")
    np.testing.assert_allclose(
        cc.tidy().set_index("term").loc["cace", "std_error"],
        ic.tidy().set_index("term").loc["meetings", "std_error"],
        rtol=1e-10,
    )


def test_irrelevant_instrument_warns(trial, ref):
    with pytest.warns(WeakInstrumentWarning, match="Weak instruments") as rec:
        res = fit_iv(trial, "pda15", "meetings", "noise_inst", cov_type="model")
    assert issubclass(rec[0].category, DataWarning)
    close(res.first_stage()["f_statistic"], ref("trial_noise", "first_stage")["f_classical"])
    close(res.coef(), ref("trial_noise", "coef"))
    g = res.glance()
    assert bool(g["weak_instruments"].iloc[0])
    assert any("Weak instruments" in n for n in res._notes())


def test_constant_instrument_is_an_error(trial):
    d = trial.assign(const=1.0)
    with pytest.raises(DataValidationError, match="constant or collinear"):
        fit_iv(d, "pda15", "meetings", "const")
    with pytest.raises(DataValidationError, match="single value"):
        cace(d.assign(z=1), "pda15", "attended", "z")


def test_cace_weak_assignment_warns(trial):
    d = trial.assign(coin=(trial["noise_inst"] > 0).astype(int))
    with pytest.warns(WeakInstrumentWarning, match="first-stage F"):
        res = cace(d, "pda15", "meetings", "coin")
    assert bool(res.glance()["weak_instruments"].iloc[0])


def test_validation_and_no_mutation(trial):
    before = trial.copy()
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'meetings'"):
        fit_iv(trial, "pda15", "meeting", "tsf")
    with pytest.raises(DataValidationError, match="Under-identified"):
        fit_iv(trial, "pda15", ["meetings", "attended"], "tsf")
    with pytest.raises(OptionError, match="cov_type"):
        fit_iv(trial, "pda15", "meetings", "tsf", cov_type="HC3")
    with pytest.raises(OptionError, match="pass `cluster=`"):
        fit_iv(trial, "pda15", "meetings", "tsf", cov_type="cluster")
    with pytest.raises(OptionError, match="was renamed 'model'"):
        cace(trial, "pda15", "attended", "tsf", cov_type="nonrobust")
    with pytest.raises(OptionError, match="cluster-robust: `cov_type` must be None or 'robust'"):
        fit_iv(trial, "pda15", "meetings", "tsf", cov_type="HC0", cluster="site")
    with pytest.raises(DataValidationError, match="both"):
        fit_iv(trial, "pda15", "meetings", "tsf", ["tsf"])
    with pytest.raises(DataValidationError, match="0/1"):
        cace(trial, "pda15", "attended", "site")
    pd.testing.assert_frame_equal(trial, before)


def test_missing_rows_reported(trial):
    d = trial.copy()
    d.loc[d.index[:7], "pda15"] = np.nan
    d.loc[d.index[5:10], "meetings"] = np.nan
    res = fit_iv(d, "pda15", "meetings", "tsf")
    g = res.glance()
    assert list(g.columns) == list(IV_GLANCE_COLUMNS)
    assert g["n"].iloc[0] == len(d) - 10 and g["n_dropped"].iloc[0] == 10
    assert "10 excluded" in res.summary().as_text()
    assert "<table" in res._repr_html_()


def test_tidy_uses_t_reference(trial):
    res = fit_iv(trial, "pda15", "meetings", "tsf")
    t = res.tidy(conf_level=0.9)
    from scipy import stats

    q = stats.t(res.df_resid).ppf(0.95)
    np.testing.assert_allclose(t["conf_high"] - t["estimate"], q * t["std_error"], rtol=1e-12)
    with pytest.raises(OptionError):
        res.tidy(exponentiate=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert res.with_cov_type("HC0").cov_type == "HC0"


def test_sample_cohort_naive_weighted_iv_against_truth(
    sample_waves, sample_participants, sample_latent
):
    """Attendance in months 0-3 -> PDA at month 15 on the sample cohort.

    Truth: ``sample_truth()`` ``total`` (effect of one meeting). People who attend more
    are more severe, so the naive slope is biased toward zero; propensity weighting
    on observed baseline covariates (three dose groups, multinomial model) moves the
    estimate towards the truth, and 2SLS with TSF assignment as the instrument covers it.
    """
    from mutualaid_outcomes.datasets import mediation_frame, sample_truth
    from mutualaid_outcomes.models.causal.propensity import fit_weighted, propensity_scores
    from mutualaid_outcomes.models.regression.glm import fit_regression

    total = float(sample_truth().set_index("quantity").loc["total", "value"])
    waves, part = sample_waves, sample_participants
    mf = mediation_frame(sample_latent, waves, part)
    w = waves.set_index(["id", "month"])
    # meetings before intake enter on the log scale (a skewed count; linear in the
    # multinomial logit it leaves the weighted groups unbalanced)
    mf["aa_0"] = np.log1p(w["aa_meetings"].xs(0, level="month").reindex(mf["id"]).to_numpy())
    mf["phdd_0"] = w["phdd"].xs(0, level="month").reindex(mf["id"]).to_numpy()
    trial = part.set_index("id")["trial"].reindex(mf["id"])
    mf["aftercare"] = (trial == "aftercare").astype(float).to_numpy()
    obs = ["pda_0", "phdd_0", "aa_0", "sex", "age", "aftercare"]

    naive = fit_regression(mf, "pda_15 ~ attendance", cov_type="HC1").tidy().set_index("term")
    cc = mf.dropna(subset=["pda_15", "attendance", *obs]).copy()
    # three dose groups: no meeting (over a third of the cohort), and attenders split at
    # their median
    median = cc.loc[cc["attendance"] > 0, "attendance"].median()
    cc["dose"] = np.select(
        [cc["attendance"] == 0, cc["attendance"] <= median], ["low", "mid"], default="high"
    )
    ps = propensity_scores(cc, "dose", obs, method="multinomial", reference="low")
    assert ps.balance("ate", stabilized=True)["smd_adjusted"].abs().max() < 0.1
    wt = fit_weighted(cc, "pda_15 ~ attendance", ps, kind="ate", stabilized=True)
    wt = wt.tidy().set_index("term")
    iv = fit_iv(mf, "pda_15", "attendance", "tsf", cov_type="HC1")
    assert iv.first_stage()["f_statistic"].iloc[0] > 30
    ivt = iv.tidy().set_index("term")

    n_est = naive.loc["attendance", "estimate"]
    # 2SLS is free of self-selection: its (wide) interval covers the truth
    assert ivt.loc["attendance", "conf_low"] <= total <= ivt.loc["attendance", "conf_high"]
    # self-selection biases the naive slope towards zero; weighting on the observed
    # intake measures removes part of that bias, not all of it (severity and the intake
    # mechanisms are measured with error or not at all), so it moves towards the truth
    # without having to cover it
    assert n_est < total
    assert n_est < wt.loc["attendance", "estimate"] < total + 2 * wt.loc["attendance", "std_error"]
