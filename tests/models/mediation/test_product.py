"""Tests of mutualaid_outcomes.models.mediation.product.mediate.

References: R lavaan 0.6.14 (tests/reference/mediation_lavaan.R), R boot 1.3.28
(tests/reference/bca_boot.R) and the JOBS II values of R `mediation` (tests/reference).
Bootstrap limits are compared within Monte Carlo tolerances sized from the number of
resamples on both sides (see `quantile_mc_se`).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mutualaid_outcomes.errors import (
    BootstrapWarning,
    ColumnNotFoundError,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.models._core import bootstrap as bs
from mutualaid_outcomes.models.mediation.product import GLANCE_COLUMNS, mediate

#: Deterministic quantities (plug-in estimates, jackknife acceleration) vs R.
REL_TOL = 1e-6
#: lavaan's ML estimates come from numerical optimisation (nlminb), converged to about
#: 1e-9 in the parameters; absolute slack for coefficients near zero.
LAVAAN_ABS_TOL = 1e-6
#: Number of Monte Carlo standard errors allowed between two independent sets of
#: bootstrap limits. 4 SE: a false alarm has probability about 6e-5 per comparison.
N_MC_SE = 4.0
#: BCa limits carry extra Monte Carlo noise from the estimated bias correction z0 (its
#: error shifts both quantile levels); allow 5 SE of the quantile estimate.
N_MC_SE_BCA = 5.0

JOBS_COVS = ["econ_hard", "sex", "age"]


def quantile_mc_se(draws: np.ndarray, level: float, n_boot: int) -> float:
    """Monte Carlo SE of a bootstrap quantile computed from ``n_boot`` resamples.

    A sample ``p`` quantile of ``B`` draws has asymptotic SD ``sqrt(p (1 - p) / B) / f``
    with ``f`` the density at the quantile; ``1 / f = dQ/dp`` is estimated by a central
    difference of our (larger) set of draws' empirical quantile function.
    """
    d = draws[~np.isnan(draws)]
    h = 0.01
    dq = (np.quantile(d, min(level + h, 1)) - np.quantile(d, max(level - h, 0))) / (2 * h)
    return math.sqrt(level * (1 - level) / n_boot) * dq


def _mc_tol(draws, level, n_ours, n_ref, k=N_MC_SE):
    return k * math.hypot(quantile_mc_se(draws, level, n_ours), quantile_mc_se(draws, level, n_ref))


@pytest.fixture(scope="module")
def jobs(test_data) -> pd.DataFrame:
    return test_data("jobs.csv")


@pytest.fixture(scope="module")
def sim(test_data) -> pd.DataFrame:
    return test_data("mediation_sim.csv")


def _simulate(n=600, seed=3, binary_y=False):
    rng = np.random.default_rng(seed)
    c1 = rng.normal(size=n)
    c2 = rng.binomial(1, 0.4, n).astype(float)
    x = rng.binomial(1, 0.5, n) + 0.3 * c1
    m1 = 0.5 * x + 0.2 * c1 + rng.normal(size=n)
    m2 = -0.4 * x + 0.1 * c2 + rng.normal(size=n)
    lin = 0.2 * x + 0.4 * m1 + 0.3 * m2 + 0.2 * c1
    y = rng.binomial(1, 1 / (1 + np.exp(-lin))) if binary_y else lin + rng.normal(size=n)
    return pd.DataFrame({"x": x, "m1": m1, "m2": m2, "c1": c1, "c2": c2, "y": y.astype(float)})


# --------------------------------------------------------------------------- JOBS / R boot


@pytest.fixture(scope="module")
def jobs_bca(jobs):
    return mediate(jobs, "treat", ["job_seek"], "depress2", JOBS_COVS, n_boot=20000, rng=11)


def test_jobs_plugin_matches_r_mediation(jobs_bca, r_reference):
    est = jobs_bca.coef()
    # exact plug-in values of the JOBS II linear models (causal_mediation_jobs.R, "domain")
    r = r_reference("causal_mediation_jobs", case="domain").set_index("term")["estimate"]
    assert est["indirect[job_seek]"] == pytest.approx(r["acme_average"], rel=REL_TOL)
    assert est["direct"] == pytest.approx(r["ade_average"], rel=REL_TOL)
    assert est["total"] == pytest.approx(r["total"], rel=REL_TOL)
    assert est["prop_mediated"] == pytest.approx(r["prop_mediated_average"], rel=REL_TOL)
    assert est["total_indirect"] == est["indirect[job_seek]"]


def test_jobs_acceleration_matches_boot_jackknife(jobs_bca, r_reference):
    ref = r_reference("bca_boot").set_index("effect")
    terms = {
        "acme": "indirect[job_seek]",
        "ade": "direct",
        "total": "total",
        "prop_mediated": "prop_mediated",
    }
    idx = [jobs_bca.terms.index(t) for t in terms.values()]
    jack = jobs_bca.jackknife[:, idx]
    acc = bs.jackknife_acceleration(jack)
    # boot's own variant: influence values centred at the full-data estimate
    L = (len(jack) - 1) * (jobs_bca.coef().to_numpy()[idx] - jack)
    acc_boot = (L**3).sum(axis=0) / (6 * (L**2).sum(axis=0) ** 1.5)
    for k, name in enumerate(terms):
        assert acc[k] == pytest.approx(ref.loc[name, "acceleration"], rel=REL_TOL)
        assert acc_boot[k] == pytest.approx(ref.loc[name, "acceleration_boot"], rel=REL_TOL)
    # boot.ci without L estimates the influence values by regression: another acceleration
    # (the documented reason R must be given the jackknife values for agreement)
    assert abs(acc[0] / ref.loc["acme", "acceleration_boot_default"]) > 10
    est = jobs_bca.coef()
    for name, term in terms.items():
        assert est[term] == pytest.approx(ref.loc[name, "estimate"], rel=REL_TOL)


def test_jobs_bootstrap_limits_match_r_boot_within_mc_error(jobs_bca, r_reference):
    ref = r_reference("bca_boot").set_index("effect")
    bca = jobs_bca.tidy().set_index("term")
    perc = bs.percentile_interval(jobs_bca.draws.to_numpy(), 0.95)
    perc = pd.DataFrame({"low": perc[0], "high": perc[1]}, index=list(jobs_bca.terms))
    n_ref = int(ref["n_boot"].iloc[0])
    # prop_mediated has a heavy-tailed bootstrap distribution (total near 0): limits are
    # not compared, its acceleration is (test above).
    for name, term in {"acme": "indirect[job_seek]", "ade": "direct", "total": "total"}.items():
        draws = jobs_bca.draws[term].to_numpy()
        for side, level in (("low", 0.025), ("high", 0.975)):
            tol = _mc_tol(draws, level, jobs_bca.n_boot, n_ref)
            assert perc.loc[term, side] == pytest.approx(ref.loc[name, f"perc_{side}"], abs=tol)
            tol = _mc_tol(draws, level, jobs_bca.n_boot, n_ref, N_MC_SE_BCA)
            col = "conf_low" if side == "low" else "conf_high"
            assert bca.loc[term, col] == pytest.approx(ref.loc[name, f"bca_{side}"], abs=tol)
        # bootstrap SD: relative MC SE of an SD from B draws ~ sqrt((kurt - 1) / (4B))
        assert bca.loc[term, "std_error"] == pytest.approx(ref.loc[name, "boot_sd"], rel=0.03)


def test_jobs_r_mediation_printed_intervals(jobs, r_reference):
    # The intervals R mediate(boot=TRUE, sims=1000) printed (mediation_jobs_printed.csv):
    # R's 1000 percentile resamples have an MC SE of about 0.0015 (ACME) / 0.005 (ADE,
    # total) at these limits, and the printout rounds some limits to 0.01; allow 4 MC SE
    # plus half the printed rounding of the upper limits.
    printed = r_reference("mediation_jobs_printed", case="domain").set_index("effect")
    res = (
        mediate(
            jobs, "treat", ["job_seek"], "depress2", JOBS_COVS, n_boot=10000, ci="percentile", rng=5
        )
        .tidy()
        .set_index("term")
    )
    mc_tol = {"indirect[job_seek]": 0.006, "direct": 0.02, "total": 0.02}
    for effect, term in (("acme", "indirect[job_seek]"), ("ade", "direct"), ("total", "total")):
        r = printed.loc[effect]
        tol = mc_tol[term]
        assert res.loc[term, "conf_low"] == pytest.approx(r["conf_low"], abs=tol)
        assert res.loc[term, "conf_high"] == pytest.approx(
            r["conf_high"], abs=r["half_unit_high"] + tol
        )


# --------------------------------------------------------------------------- lavaan


@pytest.mark.parametrize(
    ("model", "mediators"), [("parallel", ["m1", "m2", "m3"]), ("serial", ["m1", "m2"])]
)
def test_lavaan_estimates_and_percentile_limits(sim, model, mediators, r_reference):
    ref = r_reference("mediation_lavaan")
    ref = ref[ref["model"] == model].set_index("term")
    res = mediate(
        sim, "x", mediators, "y", ["c1", "c2"], model=model, n_boot=8000, ci="percentile", rng=21
    )
    tidy = res.tidy().set_index("term")
    n_ref = int(ref["n_boot_ok"].iloc[0])
    for term, row in ref.iterrows():
        assert tidy.loc[term, "estimate"] == pytest.approx(
            row["estimate"], rel=REL_TOL, abs=LAVAAN_ABS_TOL
        )
        draws = res.draws[term].to_numpy()
        for side, level, col in (("low", 0.025, "conf_low"), ("high", 0.975, "conf_high")):
            tol = _mc_tol(draws, level, res.n_boot, n_ref)
            assert tidy.loc[term, col] == pytest.approx(row[f"conf_{side}"], abs=tol)
    # every lavaan term is reported under the same name
    assert set(ref.index) <= set(tidy.index)


# --------------------------------------------------------------------------- engine checks


def _ols(df, y, xs):
    return sm.OLS(df[y], sm.add_constant(df[xs])).fit().params


@pytest.mark.filterwarnings("ignore:`n_boot`:mutualaid_outcomes.errors.BootstrapWarning")
def test_draws_equal_naive_weighted_refits():
    df = _simulate(n=120, seed=8)
    n_boot = 40
    res = mediate(
        df,
        "x",
        ["m1", "m2"],
        "y",
        ["c1", "c2"],
        model="serial",
        n_boot=n_boot,
        ci="percentile",
        rng=13,
    )
    counts = bs.bootstrap_counts(len(df), n_boot, np.random.default_rng(13))
    for b in (0, 17, 39):
        boot = df.iloc[np.repeat(np.arange(len(df)), counts[b].astype(int))]
        p1 = _ols(boot, "m1", ["x", "c1", "c2"])
        p2 = _ols(boot, "m2", ["x", "m1", "c1", "c2"])
        py = _ols(boot, "y", ["x", "m1", "m2", "c1", "c2"])
        row = res.draws.iloc[b]
        assert row["a[m1]"] == pytest.approx(p1["x"], rel=1e-9)
        assert row["d[m1->m2]"] == pytest.approx(p2["m1"], rel=1e-9)
        assert row["b[m2]"] == pytest.approx(py["m2"], rel=1e-9)
        assert row["indirect[m1->m2]"] == pytest.approx(p1["x"] * p2["m1"] * py["m2"], rel=1e-9)
        assert row["direct"] == pytest.approx(py["x"], rel=1e-9)


@pytest.mark.filterwarnings("ignore:`n_boot`:mutualaid_outcomes.errors.BootstrapWarning")
def test_cluster_draws_resample_whole_clusters():
    df = _simulate(n=90, seed=4)
    df["pid"] = np.repeat(np.arange(30), 3)[::-1]
    res = mediate(df, "x", ["m1"], "y", ["c1"], n_boot=25, ci="percentile", cluster="pid", rng=2)
    assert res.glance().loc[0, "n_clusters"] == 30
    assert res.glance().loc[0, "method"] == "cluster bootstrap"
    codes, g = bs.cluster_codes(df["pid"].to_numpy())
    counts = bs.bootstrap_counts(g, 25, np.random.default_rng(2))
    b = 7
    idx = np.concatenate(
        [np.flatnonzero(codes == c).repeat(int(k)) for c, k in enumerate(counts[b]) if k]
    )
    boot = df.iloc[idx]
    pm = _ols(boot, "m1", ["x", "c1"])
    py = _ols(boot, "y", ["x", "m1", "c1"])
    assert res.draws.iloc[b]["indirect[m1]"] == pytest.approx(pm["x"] * py["m1"], rel=1e-9)


def test_jackknife_is_exact_leave_one_out():
    df = _simulate(n=80, seed=6)
    res = mediate(df, "x", ["m1", "m2"], "y", ["c1"], n_boot=1000, rng=1)
    assert res.jackknife.shape == (80, len(res.terms))
    for i in (0, 41, 79):
        loo = df.drop(index=i)
        a = _ols(loo, "m2", ["x", "c1"])["x"]
        b = _ols(loo, "y", ["x", "m1", "m2", "c1"])["m2"]
        j = res.terms.index("indirect[m2]")
        assert res.jackknife[i, j] == pytest.approx(a * b, rel=1e-9)


def test_cluster_jackknife_leaves_out_clusters():
    df = _simulate(n=60, seed=6)
    df["pid"] = np.arange(60) // 4
    res = mediate(df, "x", ["m1"], "y", n_boot=1000, cluster="pid", rng=1)
    assert res.jackknife.shape == (15, len(res.terms))
    loo = df[df["pid"] != 3]
    a = _ols(loo, "m1", ["x"])["x"]
    b = _ols(loo, "y", ["x", "m1"])["m1"]
    assert res.jackknife[3, res.terms.index("indirect[m1]")] == pytest.approx(a * b, rel=1e-9)


def test_serial_decomposition_and_total_effect():
    df = _simulate(n=300, seed=9)
    res = mediate(
        df, "x", ["m1", "m2"], "y", ["c1", "c2"], model="serial", n_boot=500, ci="percentile", rng=1
    )
    est = res.coef()
    assert list(res.terms) == [
        "a[m1]",
        "a[m2]",
        "d[m1->m2]",
        "b[m1]",
        "b[m2]",
        "indirect[m1]",
        "indirect[m2]",
        "indirect[m1->m2]",
        "total_indirect",
        "direct",
        "total",
        "prop_mediated",
        "contrast[m1-m2]",
        "contrast[m1-m1->m2]",
        "contrast[m2-m1->m2]",
    ]
    ind = est["indirect[m1]"] + est["indirect[m2]"] + est["indirect[m1->m2]"]
    assert est["total_indirect"] == pytest.approx(ind, rel=1e-12)
    # in linear models total = coefficient of x in y ~ x + covariates
    assert est["total"] == pytest.approx(_ols(df, "y", ["x", "c1", "c2"])["x"], rel=1e-9)
    assert est["indirect[m1->m2]"] == pytest.approx(
        est["a[m1]"] * est["d[m1->m2]"] * est["b[m2]"], rel=1e-12
    )
    d = res.draws
    np.testing.assert_allclose(d["contrast[m1-m2]"], d["indirect[m1]"] - d["indirect[m2]"])


def test_parallel_terms_and_tidy_contract():
    df = _simulate(n=300, seed=2)
    res = mediate(df, "x", ["m1", "m2"], "y", "c1", n_boot=1000, rng=4)
    tidy = res.tidy()
    assert list(tidy.columns) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    assert tidy["term"].tolist() == [
        "a[m1]",
        "a[m2]",
        "b[m1]",
        "b[m2]",
        "indirect[m1]",
        "indirect[m2]",
        "total_indirect",
        "direct",
        "total",
        "prop_mediated",
        "contrast[m1-m2]",
    ]
    t = tidy.set_index("term")
    assert np.isnan(t.loc["indirect[m1]", "p_value"]) and np.isnan(
        t.loc["prop_mediated", "statistic"]
    )
    assert 0 <= t.loc["a[m1]", "p_value"] <= 1
    np.testing.assert_allclose(t["std_error"], res.draws.std(ddof=1).to_numpy())
    narrow = res.tidy(conf_level=0.8).set_index("term")
    assert np.all(narrow["conf_high"] - narrow["conf_low"] < t["conf_high"] - t["conf_low"])
    assert list(res.glance().columns) == list(GLANCE_COLUMNS)
    assert "Mediation analysis" in res.summary().as_text()
    with pytest.raises(OptionError):
        res.tidy(exponentiate=True)


def test_parameter_recovery_against_known_truth():
    rng = np.random.default_rng(12)
    n = 4000
    c = rng.normal(size=(n, 2))
    x = rng.normal(size=n) + 0.3 * c[:, 0]
    a = np.array([0.5, 0.3, -0.4])
    m = x[:, None] * a + 0.2 * c[:, [0]] + rng.normal(size=(n, 3))
    b = np.array([0.4, 0.25, 0.3])
    y = 0.15 * x + m @ b - 0.1 * c[:, 1] + rng.normal(size=n)
    df = pd.DataFrame(
        {"x": x, "m1": m[:, 0], "m2": m[:, 1], "m3": m[:, 2], "c1": c[:, 0], "c2": c[:, 1], "y": y}
    )
    res = mediate(df, "x", ["m1", "m2", "m3"], "y", ["c1", "c2"], n_boot=2000, rng=3)
    t = res.tidy().set_index("term")
    truth = {f"indirect[m{j + 1}]": a[j] * b[j] for j in range(3)}
    truth.update({"total_indirect": float(a @ b), "direct": 0.15, "total": 0.15 + a @ b})
    for term, value in truth.items():
        assert abs(t.loc[term, "estimate"] - value) < 4 * t.loc[term, "std_error"]
        assert t.loc[term, "conf_low"] < value < t.loc[term, "conf_high"]


def test_monte_carlo_intervals():
    df = _simulate(n=500, seed=5)
    res = mediate(df, "x", ["m1", "m2"], "y", ["c1"], ci="monte_carlo", n_sims=20000, rng=2)
    assert res.glance().loc[0, "method"] == "monte carlo"
    t = res.tidy().set_index("term")
    ols = sm.OLS(df["m1"], sm.add_constant(df[["x", "c1"]])).fit()
    # MC SD of a single path reproduces the OLS standard error (SD from 20000 draws: 1%)
    assert t.loc["a[m1]", "std_error"] == pytest.approx(ols.bse["x"], rel=0.03)
    # cross-equation covariance of the a-paths: sigma_12 [(X'X)^-1]_xx
    r1 = ols.resid
    r2 = sm.OLS(df["m2"], sm.add_constant(df[["x", "c1"]])).fit().resid
    expected = (r1 @ r2 / (len(df) - 3)) * ols.normalized_cov_params.loc["x", "x"]
    got = np.cov(res.draws["a[m1]"], res.draws["a[m2]"])[0, 1]
    assert got == pytest.approx(expected, abs=4 * ols.bse["x"] ** 2 / math.sqrt(20000) * 1.5)
    boot = mediate(df, "x", ["m1", "m2"], "y", ["c1"], ci="percentile", n_boot=4000, rng=2)
    tb = boot.tidy().set_index("term")
    # Monte Carlo and bootstrap intervals of an indirect effect agree in large samples
    assert t.loc["indirect[m1]", "conf_low"] == pytest.approx(
        tb.loc["indirect[m1]", "conf_low"], abs=0.25 * tb.loc["indirect[m1]", "std_error"]
    )


def test_logit_outcome_matches_statsmodels():
    df = _simulate(n=400, seed=7, binary_y=True)
    res = mediate(df, "x", ["m1", "m2"], "y", ["c1"], outcome_family="binomial", n_boot=1000, rng=3)
    fit = sm.Logit(df["y"], sm.add_constant(df[["x", "m1", "m2", "c1"]])).fit(disp=0)
    est = res.coef()
    assert est["b[m1]"] == pytest.approx(fit.params["m1"], rel=1e-7)
    assert est["direct"] == pytest.approx(fit.params["x"], rel=1e-7)
    assert est["indirect[m2]"] == pytest.approx(
        _ols(df, "m2", ["x", "c1"])["x"] * fit.params["m2"], rel=1e-7
    )
    counts = bs.bootstrap_counts(len(df), 1000, np.random.default_rng(3))
    boot = df.iloc[np.repeat(np.arange(len(df)), counts[5].astype(int))]
    bfit = sm.Logit(boot["y"], sm.add_constant(boot[["x", "m1", "m2", "c1"]])).fit(disp=0)
    assert res.draws.iloc[5]["b[m2]"] == pytest.approx(bfit.params["m2"], rel=1e-6)
    # one-step jackknife is close to the exact leave-one-out refit
    loo = df.drop(index=0)
    lfit = sm.Logit(loo["y"], sm.add_constant(loo[["x", "m1", "m2", "c1"]])).fit(disp=0)
    j = res.terms.index("b[m1]")
    assert res.jackknife[0, j] == pytest.approx(lfit.params["m1"], abs=2e-4)
    assert "log-odds" in " ".join(res.notes)


# --------------------------------------------------------------------------- data handling


def test_listwise_deletion_common_and_reported():
    df = _simulate(n=200, seed=1)
    df.loc[[3, 5], "m2"] = np.nan
    df.loc[[5, 7], "c1"] = np.nan
    before = df.copy()
    res = mediate(df, "x", ["m1", "m2"], "y", ["c1"], n_boot=1000, ci="percentile", rng=1)
    pd.testing.assert_frame_equal(df, before)
    g = res.glance().iloc[0]
    assert (g["n"], g["n_dropped"]) == (197, 3)
    assert "Used 197 of 200 rows" in res.notes[0]
    full = mediate(df.dropna(), "x", ["m1", "m2"], "y", ["c1"], n_boot=1000, ci="percentile", rng=1)
    np.testing.assert_allclose(res.coef().to_numpy(), full.coef().to_numpy())


def test_seed_recorded_and_reproducible():
    df = _simulate(n=100, seed=1)
    r1 = mediate(df, "x", ["m1"], "y", n_boot=1000, rng=99)
    r2 = mediate(df, "x", ["m1"], "y", n_boot=1000, rng=99)
    pd.testing.assert_frame_equal(r1.draws, r2.draws)
    assert r1.glance().loc[0, "seed"] == 99
    r3 = mediate(df, "x", ["m1"], "y", n_boot=1000, rng=np.random.default_rng(99))
    assert np.isnan(r3.glance().loc[0, "seed"])


# --------------------------------------------------------------------------- bad input


@pytest.fixture
def small():
    return _simulate(n=150, seed=2)


def test_constant_exposure(small):
    with pytest.raises(DataValidationError, match=r"'x' \(exposure\)"):
        mediate(small.assign(x=1.0), "x", ["m1"], "y", n_boot=1000, rng=1)


def test_mediator_is_outcome_or_covariate(small):
    with pytest.raises(DataValidationError, match="'y' is given as mediators and outcome"):
        mediate(small, "x", ["m1", "y"], "y", n_boot=1000, rng=1)
    with pytest.raises(DataValidationError, match="'m1' is given as mediators and covariates"):
        mediate(small, "x", ["m1"], "y", ["m1", "c1"], n_boot=1000, rng=1)


def test_missing_columns(small):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'm1'"):
        mediate(small, "x", ["m_1"], "y", n_boot=1000, rng=1)
    with pytest.raises(ColumnNotFoundError, match="`covariates`"):
        mediate(small, "x", ["m1"], "y", ["age"], n_boot=1000, rng=1)


def test_binary_outcome_with_gaussian_family_warns():
    df = _simulate(n=200, seed=2, binary_y=True)
    with pytest.warns(DataWarning, match="binary"):
        mediate(df, "x", ["m1"], "y", n_boot=1000, rng=1)


def test_non_binary_outcome_with_logit_errors(small):
    with pytest.raises(DataValidationError, match="coded 0/1"):
        mediate(small, "x", ["m1"], "y", outcome_family="binomial", n_boot=1000, rng=1)


def test_cluster_with_missing_values(small):
    df = small.assign(pid=np.arange(len(small)) // 3.0)
    df.loc[4, "pid"] = np.nan
    with pytest.raises(DataValidationError, match="1 missing value"):
        mediate(df, "x", ["m1"], "y", cluster="pid", n_boot=1000, rng=1)


def test_small_n_boot_with_bca_warns(small):
    with pytest.warns(BootstrapWarning, match="small for 'bca'"):
        mediate(small, "x", ["m1"], "y", n_boot=999, rng=1)


@pytest.mark.filterwarnings("ignore:`n_boot`:mutualaid_outcomes.errors.BootstrapWarning")
def test_all_resamples_failing():
    # as many rows as outcome coefficients (14): a resample is singular unless it holds
    # every row exactly once (probability 14!/14^14 = 8e-6 per resample)
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(14, 14)), columns=[f"v{i}" for i in range(14)])
    covs = [f"v{i}" for i in range(3, 14)]
    with pytest.raises(EstimationError, match="All 200 bootstrap resamples failed"):
        mediate(df, "v0", ["v1"], "v2", covs, n_boot=200, ci="percentile", rng=1)


def test_some_resamples_failing_warns_and_counts():
    df = _simulate(n=60, seed=3)
    df["rare"] = 0.0
    df.loc[0, "rare"] = 1.0  # absent from about 37% of resamples -> singular
    with pytest.warns(BootstrapWarning, match="resamples failed"):
        res = mediate(df, "x", ["m1"], "y", ["rare"], n_boot=1000, ci="percentile", rng=1)
    n_failed = res.glance().loc[0, "n_failed"]
    assert 0.3 * 1000 < n_failed < 0.45 * 1000
    assert res.draws.isna().all(axis=1).sum() == n_failed
    assert np.isfinite(res.tidy()["conf_low"]).all()


def test_option_errors(small):
    with pytest.raises(OptionError, match="`ci` must be one of"):
        mediate(small, "x", ["m1"], "y", ci="bc", rng=1)
    with pytest.raises(OptionError, match="`model` must be one of"):
        mediate(small, "x", ["m1"], "y", model="moderated", rng=1)
    with pytest.raises(OptionError, match="causal_mediation"):
        mediate(small, "x", ["m1"], "y", mediator_family="logit", rng=1)
    with pytest.raises(OptionError, match="Monte Carlo"):
        mediate(small.assign(pid=1), "x", ["m1"], "y", ci="monte_carlo", cluster="pid", rng=1)
    with pytest.raises(OptionError, match="take their number of draws from `n_sims`"):
        mediate(small, "x", ["m1"], "y", ci="monte_carlo", n_boot=2000, rng=1)
    with pytest.raises(OptionError, match="`n_sims` counts Monte Carlo draws"):
        mediate(small, "x", ["m1"], "y", ci="percentile", n_sims=2000, rng=1)
    with pytest.raises(OptionError, match="was renamed: use outcome_family='binomial'"):
        mediate(small, "x", ["m1"], "y", outcome_family="logit", rng=1)
    with pytest.raises(OptionError, match="`outcome_link` must be one of 'logit'"):
        mediate(small, "x", ["m1"], "y", outcome_family="binomial", outcome_link="probit")
    with pytest.raises(TypeError):
        mediate(small, "x", ["m1"], "y", [], "serial")  # options are keyword-only


def test_non_numeric_and_collinear(small):
    with pytest.raises(DataValidationError, match="numeric"):
        mediate(small.assign(g="a"), "x", ["m1"], "y", ["g"], n_boot=1000, rng=1)
    with pytest.raises(DataValidationError, match=r"singular.*'c1', 'c3'"):
        mediate(
            small.assign(c3=2 * small["c1"]), "x", ["m1"], "y", ["c1", "c3"], n_boot=1000, rng=1
        )


def test_quiet_on_good_data(small):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mediate(small, "x", ["m1", "m2"], "y", ["c1"], n_boot=1000, rng=1)


def test_sample_cohort_documented_indirect_effects_recovered(
    sample_latent, sample_waves, sample_participants
):
    # The sample cohort's documented lagged model (src/mutualaid_outcomes/datasets/sample/TRUTH.md) on the committed
    # sample, complete cases, latent mechanisms: the intervals cover the documented
    # population values (computed from 200,000 simulated people). Nine effects are checked
    # at once, so each interval is at the Bonferroni level 1 - 0.05 / 9 (family-wise 95%).
    from mutualaid_outcomes.datasets import sample_truth
    from mutualaid_outcomes.datasets.truth import mediation_frame

    mech = ["network", "efficacy", "motivation", "depression", "craving", "spirituality"]
    frame = mediation_frame(sample_latent, sample_waves, sample_participants)
    covs = ["pda_0", *[f"{m}_0" for m in mech], "tsf", "cbt", "sex", "age"]
    res = mediate(frame, "attendance", [f"{m}_9" for m in mech], "pda_15", covs, n_boot=2000, rng=1)
    tidy = res.tidy(conf_level=1 - 0.05 / 9).set_index("term")
    truth = sample_truth().set_index("quantity")["value"]
    assert res.glance().loc[0, "n_dropped"] == frame.isna().any(axis=1).sum()
    for m in mech:
        row = tidy.loc[f"indirect[{m}_9]"]
        assert row["conf_low"] < truth[f"indirect[{m}]"] < row["conf_high"]
    for term in ("total_indirect", "direct", "total"):
        assert tidy.loc[term, "conf_low"] < truth[term] < tidy.loc[term, "conf_high"]


@pytest.mark.parametrize("model", ["parallel", "serial"])
@pytest.mark.parametrize("family", ["gaussian", "binomial"])
@pytest.mark.parametrize(("ci", "cluster"), [("bca", None), ("bca", "pid"), ("monte_carlo", None)])
def test_every_combination_runs_and_agrees_on_estimates(model, family, ci, cluster):
    df = _simulate(n=240, seed=7, binary_y=family == "binomial")
    df["pid"] = np.arange(240) // 3
    draws = {"n_sims" if ci == "monte_carlo" else "n_boot": 1000}
    res = mediate(
        df,
        "x",
        ["m1", "m2"],
        "y",
        ["c1"],
        model=model,
        outcome_family=family,
        ci=ci,
        cluster=cluster,
        rng=1,
        **draws,
    )
    ref = mediate(
        df,
        "x",
        ["m1", "m2"],
        "y",
        ["c1"],
        model=model,
        outcome_family=family,
        ci="percentile",
        n_boot=500,
        rng=2,
    )
    np.testing.assert_allclose(res.coef().to_numpy(), ref.coef().to_numpy(), rtol=1e-12)
    tidy = res.tidy().set_index("term")
    finite = tidy.drop(index="prop_mediated")
    assert np.isfinite(finite[["std_error", "conf_low", "conf_high"]].to_numpy()).all()
    assert (finite["conf_low"] <= finite["estimate"]).all()
    assert (finite["estimate"] <= finite["conf_high"]).all()
    # product-of-coefficients identity: serial and parallel total indirect effects coincide
    other = "serial" if model == "parallel" else "parallel"
    alt = mediate(
        df,
        "x",
        ["m1", "m2"],
        "y",
        ["c1"],
        model=other,
        outcome_family=family,
        ci="percentile",
        n_boot=500,
        rng=2,
    )
    assert alt.coef()["total_indirect"] == pytest.approx(res.coef()["total_indirect"], rel=1e-10)
