"""Tests of moderated mediation: mediate(..., moderator=, moderated_paths=).

References: R lm products and lavaan 0.6.14 `:=` definitions, R boot 1.3.28 percentile and
BCa limits (tests/reference/moderated_mediation.R). Bootstrap limits are compared within
Monte Carlo tolerances sized from the number of resamples on both sides.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    DataValidationError,
    DataWarning,
    OptionError,
    SmallSampleWarning,
)
from mutualaid_outcomes.models._core import bootstrap as bs
from mutualaid_outcomes.models.mediation.product import mediate

#: Plug-in estimates are products of OLS coefficients: deterministic, vs R lm.
REL_TOL = 1e-6
#: Number of Monte Carlo SEs between two independent sets of bootstrap limits (4 SE:
#: false alarm about 6e-5 per comparison); BCa adds the noise of the bias correction z0.
N_MC_SE = 4.0
N_MC_SE_BCA = 5.0

JOBS_COVS = ["depress1", "age"]


def _mc_se(draws: np.ndarray, level: float, n_boot: int) -> float:
    """MC SE of a bootstrap quantile: sqrt(p (1 - p) / B) / f, 1/f by central difference."""
    d = draws[~np.isnan(draws)]
    h = 0.01
    dq = (np.quantile(d, min(level + h, 1)) - np.quantile(d, max(level - h, 0))) / (2 * h)
    return math.sqrt(level * (1 - level) / n_boot) * dq


def _mc_tol(draws, level, n_ours, n_ref, k=N_MC_SE):
    return k * math.hypot(_mc_se(draws, level, n_ours), _mc_se(draws, level, n_ref))


@pytest.fixture(scope="module")
def jobs(test_data) -> pd.DataFrame:
    return test_data("jobs.csv")


@pytest.fixture(scope="module")
def sim(test_data) -> pd.DataFrame:
    return test_data("moderated_mediation_sim.csv")


def _fit(case, jobs, sim, **kw):
    kw.setdefault("n_boot", 1000)
    kw.setdefault("rng", 1)
    if case == "jobs_m7":
        return mediate(jobs, "treat", ["job_seek", "job_disc"], "depress2", JOBS_COVS,
                       moderator="econ_hard", moderated_paths=["a"], **kw)  # fmt: skip
    if case == "jobs_m59":
        return mediate(jobs, "treat", ["job_seek"], "depress2", moderator="econ_hard",
                       moderated_paths=["a", "b", "c"], center=True, **kw)  # fmt: skip
    if case == "jobs_serial_ab":
        return mediate(jobs, "treat", ["job_seek", "job_disc"], "depress2", model="serial",
                       moderator="sex", moderated_paths=["a", "b"], **kw)  # fmt: skip
    if case == "jobs_cat":
        return mediate(jobs, "treat", ["job_seek"], "depress2", moderator="educ",
                       moderated_paths=["a"], **kw)  # fmt: skip
    return mediate(sim, "x", ["m1", "m2", "m3"], "y", ["c1"], moderator="w",
                   moderated_paths=["a", "c"], **kw)  # fmt: skip


@pytest.mark.parametrize("case", ["jobs_m7", "jobs_m59", "jobs_serial_ab", "jobs_cat", "sim_m8"])
def test_point_estimates_match_r_lm_and_lavaan(case, jobs, sim, r_reference):
    est = _fit(case, jobs, sim).coef()
    ref = r_reference("moderated_mediation", case=case)
    assert len(ref) >= 10
    for term, value in zip(ref["term"], ref["estimate"]):
        assert est[term] == pytest.approx(value, rel=REL_TOL), term


def test_process_model_numbers_and_glance(jobs, sim):
    assert _fit("jobs_m7", jobs, sim).glance().loc[0, "process_model"] == 7
    g = _fit("jobs_m59", jobs, sim).glance()
    assert g.loc[0, "process_model"] == 59
    assert bool(g.loc[0, "center"]) is True
    assert g.loc[0, "moderated_paths"] == "a,b,c"
    assert _fit("sim_m8", jobs, sim).glance().loc[0, "process_model"] == 8
    assert np.isnan(_fit("jobs_serial_ab", jobs, sim).glance().loc[0, "process_model"])


def test_no_single_index_when_a_and_b_moderated(jobs, sim):
    res = _fit("jobs_serial_ab", jobs, sim)
    assert not any(t.startswith("index[") for t in res.terms)
    assert any("No single index of moderated mediation" in n for n in res.notes)
    assert "contrast[job_seek|sex=1 minus sex=0]" in res.terms


def test_centring_changes_only_lower_order_paths(jobs, sim):
    kw = dict(moderator="econ_hard", moderated_paths=["a"], n_boot=1000, rng=3)
    raw = mediate(jobs, "treat", ["job_seek"], "depress2", **kw)
    cen = mediate(jobs, "treat", ["job_seek"], "depress2", center=True, **kw)
    shared = [t for t in raw.terms if t != "a[job_seek]"]
    np.testing.assert_allclose(raw.coef()[shared], cen.coef()[shared], rtol=1e-10)
    w = jobs["econ_hard"]
    a_mean = raw.coef()["a[job_seek]"] + raw.coef()["a[job_seek]:econ_hard"] * w.mean()
    assert cen.coef()["a[job_seek]"] == pytest.approx(a_mean, rel=1e-10)


def test_bootstrap_limits_match_r_boot_within_mc_error(jobs, sim, r_reference):
    ref = r_reference("moderated_mediation_boot").set_index("term")
    n_ref = int(ref["n_boot"].iloc[0])
    res = _fit("jobs_m7", jobs, sim, n_boot=20000, rng=11)
    bca = res.tidy().set_index("term")
    low, high = bs.percentile_interval(res.draws.to_numpy(), 0.95)
    perc = pd.DataFrame({"low": low, "high": high}, index=list(res.terms))
    for term in ref.index:
        assert res.coef()[term] == pytest.approx(ref.loc[term, "estimate"], rel=REL_TOL)
        draws = res.draws[term].to_numpy()
        for side, level in (("low", 0.025), ("high", 0.975)):
            tol = _mc_tol(draws, level, res.n_boot, n_ref)
            assert perc.loc[term, side] == pytest.approx(ref.loc[term, f"perc_{side}"], abs=tol)
            tol = _mc_tol(draws, level, res.n_boot, n_ref, N_MC_SE_BCA)
            col = "conf_low" if side == "low" else "conf_high"
            assert bca.loc[term, col] == pytest.approx(ref.loc[term, f"bca_{side}"], abs=tol)
        # relative MC SE of a bootstrap SD from B draws ~ sqrt((kurtosis - 1) / (4 B))
        assert bca.loc[term, "std_error"] == pytest.approx(ref.loc[term, "boot_sd"], rel=0.03)


def test_conditional_effects_without_refit(jobs, sim):
    res = _fit("jobs_m7", jobs, sim, n_boot=2000)
    w = jobs["econ_hard"]
    at = [float(w.mean())]
    tab = res.conditional_effects(at=at).set_index("term")
    name = f"indirect[job_seek|econ_hard={at[0]:.6g}]"
    full = res.tidy().set_index("term")
    for col in ("estimate", "std_error", "conf_low", "conf_high"):
        assert tab.loc[name, col] == pytest.approx(full.loc[name, col], rel=1e-12)
    new = res.conditional_effects(at=[2.5]).set_index("term")
    c = res.coef()
    expected = (c["a[job_seek]"] + 2.5 * c["a[job_seek]:econ_hard"]) * c["b[job_seek]"]
    assert new.loc["indirect[job_seek|econ_hard=2.5]", "estimate"] == pytest.approx(expected)
    with pytest.warns(DataWarning, match="extrapolation"):
        res.conditional_effects(at=[99.0])


@pytest.mark.parametrize("ci", ["percentile", "monte_carlo"])
def test_interval_types_and_cluster(jobs, sim, ci):
    kw = {"n_sims": 2000} if ci == "monte_carlo" else {"n_boot": 2000}
    res = mediate(sim, "x", ["m1"], "y", moderator="w", moderated_paths=["a"], ci=ci, rng=2, **kw)
    row = res.tidy().set_index("term").loc["index[m1]"]
    assert row["conf_low"] < row["estimate"] < row["conf_high"]
    clustered = sim.assign(pid=np.arange(len(sim)) // 2)
    res_c = mediate(clustered, "x", ["m1"], "y", moderator="w", moderated_paths=["a"],
                    cluster="pid", n_boot=1000, rng=2)  # fmt: skip
    assert res_c.glance().loc[0, "n_clusters"] == len(sim) // 2
    assert res_c.glance().loc[0, "method"] == "cluster bootstrap"


def test_missing_rows_dropped_and_reported(sim):
    df = sim.copy()
    df.loc[:4, "w"] = np.nan
    res = mediate(df, "x", ["m1"], "y", moderator="w", moderated_paths=["a"], n_boot=1000, rng=1)
    assert res.nobs == len(sim) - 5 and res.n_dropped == 5
    assert df["w"].isna().sum() == 5  # caller's frame untouched


def test_parameter_recovery_known_index():
    rng = np.random.default_rng(12)
    n = 20000
    x = rng.binomial(1, 0.5, n).astype(float)
    w = rng.normal(size=n)
    m = 0.4 * x + 0.2 * w + 0.3 * x * w + rng.normal(size=n)
    y = 0.5 * m + 0.1 * x + rng.normal(size=n)
    df = pd.DataFrame({"x": x, "w": w, "m": m, "y": y})
    res = mediate(df, "x", ["m"], "y", moderator="w", moderated_paths=["a"], ci="percentile",
                  n_boot=1000, rng=4)  # fmt: skip
    row = res.tidy().set_index("term").loc["index[m]"]
    true_index = 0.3 * 0.5
    assert row["conf_low"] < true_index < row["conf_high"]
    assert row["estimate"] == pytest.approx(true_index, abs=4 * row["std_error"])


# --------------------------------------------------------------------------- bad input


def test_moderator_equal_to_exposure_or_mediator(sim):
    with pytest.raises(DataValidationError, match="one role"):
        mediate(sim, "x", ["m1"], "y", moderator="x", moderated_paths=["a"], n_boot=1000)
    copy = sim.assign(w2=sim["m1"])
    with pytest.raises(DataValidationError, match="`moderator` 'w2' has the same values"):
        mediate(copy, "x", ["m1"], "y", moderator="w2", moderated_paths=["a"], n_boot=1000)


def test_constant_moderator(sim):
    with pytest.raises(DataValidationError, match="`moderator` 'k' is constant"):
        mediate(sim.assign(k=1.0), "x", ["m1"], "y", moderator="k", moderated_paths=["a"],
                n_boot=1000)  # fmt: skip


@pytest.mark.filterwarnings("ignore::mutualaid_outcomes.errors.BootstrapWarning")
def test_small_level_warns(sim):
    # a 3-row level makes many resamples singular: the failure warning is expected here
    g = np.where(np.arange(len(sim)) < 3, "rare", np.where(np.arange(len(sim)) % 2, "u", "v"))
    with pytest.warns(SmallSampleWarning, match="`moderator` 'g'.*'rare'"):
        mediate(sim.assign(g=g), "x", ["m1"], "y", moderator="g", moderated_paths=["a"],
                n_boot=1000, min_cell=10, rng=1)  # fmt: skip


@pytest.mark.parametrize("paths", [["d"], ["a[m9]"], ["c[m1]"], [], "e"])
def test_unknown_moderated_path(sim, paths):
    with pytest.raises(OptionError, match="moderated_paths"):
        mediate(sim, "x", ["m1"], "y", moderator="w", moderated_paths=paths, n_boot=1000)


def test_moderator_and_paths_go_together(sim):
    with pytest.raises(OptionError, match="`moderated_paths` is missing"):
        mediate(sim, "x", ["m1"], "y", moderator="w", n_boot=1000)
    with pytest.raises(OptionError, match="`moderator` is missing"):
        mediate(sim, "x", ["m1"], "y", moderated_paths=["a"], n_boot=1000)


def test_at_outside_range_warns_and_bad_levels_raise(sim, jobs):
    with pytest.warns(DataWarning, match="`at` values \\[50.0\\].*extrapolation"):
        mediate(sim, "x", ["m1"], "y", moderator="w", moderated_paths=["a"], at=[0, 50],
                n_boot=1000, rng=1)  # fmt: skip
    with pytest.raises(DataValidationError, match="`at` must be levels"):
        mediate(jobs, "treat", ["job_seek"], "depress2", moderator="educ",
                moderated_paths=["a"], at=["phd"], n_boot=1000)  # fmt: skip


def test_binomial_outcome_not_supported(sim):
    df = sim.assign(yb=(sim["y"] > 0).astype(float))
    with pytest.raises(OptionError, match="gaussian outcome"):
        mediate(df, "x", ["m1"], "yb", moderator="w", moderated_paths=["a"],
                outcome_family="binomial", n_boot=1000)  # fmt: skip


def test_unmoderated_call_unchanged(sim):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = mediate(sim, "x", ["m1"], "y", n_boot=1000, rng=1)
    assert "indirect[m1]" in res.terms and not hasattr(res, "conditional_effects")


def test_monte_carlo_covariance_is_ols_covariance(sim):
    """The normal-theory covariance behind Monte Carlo draws: s^2 (X'X)^-1 per equation and
    s_12 (X'X)^-1 between parallel mediator equations (statsmodels OLS / residuals)."""
    import statsmodels.api as sm

    res = mediate(sim, "x", ["m1", "m2"], "y", ["c1"], moderator="w", moderated_paths=["a"],
                  ci="monte_carlo", n_sims=1000, rng=1)  # fmt: skip
    from mutualaid_outcomes.models.mediation._moderated_engine import ModEngine, build_columns

    spec = res.layout.spec
    num = sim[["x", "c1", "m1", "m2", "y"]].to_numpy(float)
    z, _ = build_columns(num[:, 0], sim[["w"]].to_numpy(float), num[:, [1]], num[:, 2:4],
                         num[:, 4], spec)  # fmt: skip
    paths, cov = ModEngine(spec, z).fit()
    # the engine's (centred) parameterisation: products of mean-centred x and w
    xc, wc = sim.x - sim.x.mean(), sim.w - sim.w.mean()
    xm = sm.add_constant(np.column_stack([xc, wc, xc * wc, sim.c1]))
    f1, f2 = sm.OLS(sim.m1, xm).fit(), sm.OLS(sim.m2, xm).fit()
    # path slots: a[m1], a[m1]:w, a[m2], a[m2]:w, b[m1], b[m2], direct
    np.testing.assert_allclose(paths[[0, 1]], f1.params.to_numpy()[[1, 3]], rtol=1e-10)
    np.testing.assert_allclose(cov[:2, :2], f1.cov_params().to_numpy()[np.ix_([1, 3], [1, 3])],
                               rtol=1e-8)  # fmt: skip
    df = f1.df_resid
    s12 = (f1.resid @ f2.resid) / df
    inv = np.linalg.inv(xm.T @ xm)
    np.testing.assert_allclose(cov[0, 2], s12 * inv[1, 1], rtol=1e-8)
    fy = sm.OLS(sim.y, sm.add_constant(np.column_stack([sim.x, sim.m1, sim.m2, sim.c1]))).fit()
    np.testing.assert_allclose(cov[4, 4], fy.cov_params().to_numpy()[2, 2], rtol=1e-8)
    assert cov[0, 4] == 0.0


def test_moderator_also_a_covariate(jobs):
    """W in `covariates` adjusts every equation; its column is not entered twice."""
    res = mediate(jobs, "treat", ["job_seek"], "depress2", ["sex", "age"], moderator="sex",
                  moderated_paths=["a"], ci="percentile", n_boot=1000, rng=1)  # fmt: skip
    one = np.ones(len(jobs))
    xm = np.column_stack([one, jobs.treat, jobs.treat * jobs.sex, jobs.sex, jobs.age])
    a = np.linalg.lstsq(xm, jobs.job_seek, rcond=None)[0]
    xy = np.column_stack([one, jobs.treat, jobs.job_seek, jobs.sex, jobs.age])
    b = np.linalg.lstsq(xy, jobs.depress2, rcond=None)[0][2]
    est = res.coef()
    assert est["a[job_seek]:sex"] == pytest.approx(a[2], rel=REL_TOL)
    assert est["b[job_seek]"] == pytest.approx(b, rel=REL_TOL)
    assert est["index[job_seek]"] == pytest.approx(a[2] * b, rel=REL_TOL)
