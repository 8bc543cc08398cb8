"""Tests of causal_mediation: JOBS II references (R), exact integrals, VanderWeele, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special, stats

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    BootstrapWarning,
    ColumnNotFoundError,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.models.mediation import _causal_engine as engine
from mutualaid_outcomes.models.mediation.causal import (
    GLANCE_COLUMNS,
    CausalMediationResult,
    causal_mediation,
)

# Deterministic quantities: plug-in values from the same models must agree this closely.
RTOL_EXACT = 1e-6
# Quantile Monte Carlo error: the SE of a 2.5% / 97.5% sample quantile of B draws is about
# sqrt(p (1 - p) / B) / f(q); for a near-normal statistic f(q) = phi(1.96) / sd, giving
# 2.67 * sd / sqrt(B). Both sides simulate, so the SEs add in quadrature; we allow 4 SE
# (a false alarm about once in 16,000 comparisons).
QUANTILE_SE_FACTOR = np.sqrt(0.025 * 0.975) / stats.norm.pdf(stats.norm.ppf(0.975))
MC_SE_MULTIPLE = 4.0
EFFECT_TERMS = ["acme_control", "acme_treated", "ade_control", "ade_treated", "total"]
FACTORS = ["occp", "marital", "nonwhite", "educ", "income"]


@pytest.fixture(scope="module")
def jobs(test_data) -> pd.DataFrame:
    raw = test_data("jobs.csv")
    df = pd.get_dummies(raw, columns=FACTORS, drop_first=True, dtype=float)
    df["work"] = (raw["work1"] == "psyemp").astype(float)
    return df


@pytest.fixture(scope="module")
def full_covs(jobs) -> list[str]:
    dummies = [c for c in jobs.columns if c.split("_")[0] in FACTORS]
    return ["econ_hard", "sex", "age", "depress1", *dummies]


@pytest.fixture(scope="module")
def ref(r_reference) -> pd.DataFrame:
    return r_reference("causal_mediation_jobs")


@pytest.fixture(scope="module")
def ref_mc(r_reference) -> pd.DataFrame:
    return r_reference("causal_mediation_jobs_mc")


BASIC = ["econ_hard", "sex", "age"]
CASES = {
    "domain": dict(exposure="treat", mediators=["job_seek"], outcome="depress2"),
    "full": dict(exposure="treat", mediators=["job_seek"], outcome="depress2"),
    "logit_out": dict(
        exposure="treat",
        mediators=["job_seek"],
        outcome="work",
        outcome_family="binomial",
        outcome_link="logit",
    ),
    "probit_out": dict(
        exposure="treat",
        mediators=["job_seek"],
        outcome="work",
        outcome_family="binomial",
        outcome_link="probit",
    ),
    "binmed": dict(
        exposure="treat",
        mediators=["job_dich"],
        outcome="depress2",
        mediator_family="binomial",
        mediator_link="logit",
    ),
    "binmed_binout": dict(
        exposure="treat",
        mediators=["job_dich"],
        outcome="work",
        mediator_family="binomial",
        mediator_link="probit",
        outcome_family="binomial",
        outcome_link="logit",
    ),
    "continuous": dict(
        exposure="econ_hard",
        mediators=["job_seek"],
        outcome="depress2",
        control_value=2,
        treat_value=4,
    ),
    "int_linear": dict(
        exposure="treat", mediators=["job_seek"], outcome="depress2", interaction=True, m_value=4
    ),
    "int_logit": dict(
        exposure="treat",
        mediators=["job_seek"],
        outcome="work",
        outcome_family="binomial",
        outcome_link="logit",
        interaction=True,
        m_value=4,
    ),
    "int_binmed": dict(
        exposure="treat",
        mediators=["job_dich"],
        outcome="work",
        mediator_family="binomial",
        mediator_link="logit",
        outcome_family="binomial",
        outcome_link="logit",
        interaction=True,
        m_value=1,
    ),
    "int_binmed_lin": dict(
        exposure="treat",
        mediators=["job_dich"],
        outcome="depress2",
        mediator_family="binomial",
        mediator_link="logit",
        interaction=True,
        m_value=0,
    ),
}


def _covariates(case, full_covs):
    if case == "full":
        return full_covs
    if case == "continuous":
        return ["treat", "sex", "age"]
    return BASIC


def _fit(jobs, full_covs, case, **kw):
    args = dict(CASES[case])
    args.update(kw)
    return causal_mediation(jobs, covariates=_covariates(case, full_covs), **args)


def _plugin(jobs, full_covs, case):
    """Fit for the point estimates only (a few draws; their warning is expected)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapWarning)
        return _fit(jobs, full_covs, case, method="quasi_bayesian", n_sims=20, rng=3)


# ---------------------------------------------------------------------------
# point estimates
# ---------------------------------------------------------------------------


def test_bootstrap_fit_has_the_exact_plugin_values(jobs, ref):
    # the point estimates do not depend on the interval method or the draws
    res = causal_mediation(jobs, "treat", ["job_seek"], "depress2", BASIC, n_boot=500, rng=1)
    est = res.tidy().set_index("term")["estimate"]
    r = ref[ref["case"] == "domain"].set_index("term")["estimate"]
    for term in ("acme_average", "ade_average", "total", "prop_mediated_average"):
        assert est[term] == pytest.approx(r[term], rel=RTOL_EXACT), term


@pytest.mark.parametrize("case", list(CASES))
def test_plugin_matches_r_deterministic(jobs, full_covs, ref, case):
    res = _plugin(jobs, full_covs, case)
    r = ref[ref["case"] == case].set_index("term")["estimate"]
    tidy = res.tidy().set_index("term")["estimate"]
    for term in tidy.index:
        assert tidy[term] == pytest.approx(r[term], rel=RTOL_EXACT, abs=1e-12), term
    if res.four_way_estimates is not None:
        fw = res.four_way().set_index("term")["estimate"]
        for term in fw.index:
            assert fw[term] == pytest.approx(r[f"fw_{term}"], rel=RTOL_EXACT, abs=1e-12), term


# ---------------------------------------------------------------------------
# intervals versus R (Monte Carlo tolerance)
# ---------------------------------------------------------------------------

# (case, method, our draws). The R side re-implements mediation::mediate(); for models
# with a nonlinear part it also ran the same algorithm with the mediator integrated out
# ("integrated"), which is what we compute: mediate() itself simulates one mediator value
# per person and draw, which adds noise to every draw and widens its intervals (for the
# binary mediator by about 10%), so the like-for-like comparison is with "integrated".
MC_RUNS = [
    ("domain", "bootstrap", 2000),
    ("domain", "quasi_bayesian", 4000),
    ("full", "quasi_bayesian", 4000),
    ("logit_out", "quasi_bayesian", 500),
    pytest.param("logit_out", "bootstrap", 1000, marks=pytest.mark.slow),
    ("binmed", "bootstrap", 600),
    ("binmed_binout", "quasi_bayesian", 1000),
]


def _r_run(ref_mc, case, method, variant=None):
    sel = ref_mc[(ref_mc["case"] == case) & (ref_mc["method"] == method)]
    if variant is None:
        variant = "integrated" if (sel["variant"] == "integrated").any() else "mediate"
    return sel[sel["variant"] == variant].set_index("term")


@pytest.mark.parametrize(("case", "method", "n_sims"), MC_RUNS)
def test_intervals_match_r_within_mc_error(jobs, full_covs, ref_mc, case, method, n_sims):
    draws = {"n_boot" if method == "bootstrap" else "n_sims": n_sims}
    res = _fit(jobs, full_covs, case, method=method, rng=20240611, **draws)
    ours = res.tidy().set_index("term")
    r = _r_run(ref_mc, case, method)
    b_r = int(r["sims"].iloc[0])
    for term in EFFECT_TERMS:
        sd = r.loc[term, "sd"]
        se = QUANTILE_SE_FACTOR * sd * np.sqrt(1 / n_sims + 1 / b_r)
        tol = MC_SE_MULTIPLE * se
        assert abs(ours.loc[term, "conf_low"] - r.loc[term, "conf_low"]) < tol, term
        assert abs(ours.loc[term, "conf_high"] - r.loc[term, "conf_high"]) < tol, term
        # SD of the draws: SE of a sample SD is about sd / sqrt(2 B) on each side
        sd_tol = MC_SE_MULTIPLE * sd * np.sqrt(1 / (2 * n_sims) + 1 / (2 * b_r))
        assert abs(ours.loc[term, "std_error"] - sd) < sd_tol, term


@pytest.mark.parametrize(
    ("case", "method"),
    [
        ("logit_out", "quasi_bayesian"),
        ("binmed_binout", "quasi_bayesian"),
        ("binmed", "bootstrap"),
        ("logit_out", "bootstrap"),
    ],
)
def test_r_mediate_means_agree_with_exact_integrals(jobs, full_covs, ref_mc, case, method):
    # mediate()-style point estimates are means over simulated mediators and coefficient
    # draws (or resamples); they scatter around our exact plug-in values by sd / sqrt(B)
    # (plus a second-order bias of the nonlinear map, far below that here).
    est = _plugin(jobs, full_covs, case).tidy().set_index("term")["estimate"]
    r = _r_run(ref_mc, case, method, variant="mediate")
    for term in EFFECT_TERMS:
        tol = MC_SE_MULTIPLE * r.loc[term, "sd"] / np.sqrt(r.loc[term, "sims"])
        assert abs(est[term] - r.loc[term, "mean"]) < tol, term


def test_domain_bootstrap_matches_printed_r_mediation(jobs, r_reference):
    # The intervals R mediation::mediate(boot=TRUE, sims=1000) printed
    # (mediation_jobs_printed.csv). Tolerance: 4 quantile SEs for 1000 R draws and ours,
    # plus half a unit of the printed rounding.
    printed = r_reference("mediation_jobs_printed", case="domain").set_index("effect")
    res = (
        causal_mediation(jobs, "treat", ["job_seek"], "depress2", BASIC, n_boot=2000, rng=7)
        .tidy()
        .set_index("term")
    )
    for effect, term in (("acme", "acme_average"), ("ade", "ade_average"), ("total", "total")):
        r = printed.loc[effect]
        se = QUANTILE_SE_FACTOR * res.loc[term, "std_error"] * np.sqrt(1 / r["sims"] + 1 / 2000)
        tol_lo = MC_SE_MULTIPLE * se + r["half_unit_low"]
        tol_hi = MC_SE_MULTIPLE * se + r["half_unit_high"]
        assert abs(res.loc[term, "conf_low"] - r["conf_low"]) < tol_lo, term
        assert abs(res.loc[term, "conf_high"] - r["conf_high"]) < tol_hi, term


def test_full_quasi_bayesian_matches_printed_r_mediation(jobs, full_covs, r_reference):
    # The quasi-Bayesian ACME interval R printed (1000 simulations; mediation_jobs_printed.csv)
    r = r_reference("mediation_jobs_printed", case="full").set_index("effect").loc["acme"]
    res = _fit(jobs, full_covs, "full", method="quasi_bayesian", n_sims=4000, rng=11)
    row = res.tidy().set_index("term").loc["acme_average"]
    se = QUANTILE_SE_FACTOR * row["std_error"] * np.sqrt(1 / r["sims"] + 1 / 4000)
    assert abs(row["conf_low"] - r["conf_low"]) < MC_SE_MULTIPLE * se + r["half_unit_low"]
    assert abs(row["conf_high"] - r["conf_high"]) < MC_SE_MULTIPLE * se + r["half_unit_high"]


# ---------------------------------------------------------------------------
# the exact integrals
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "mu", "sigma"),
    [
        (-1.0, 0.5, 3.0, 0.7),
        (0.3, -2.0, 0.1, 1.5),
        (2.0, 1.0, -1.0, 2.5),
        (-4.0, 0.2, 4.0, 1.0),
        (-6.0, 3.0, 0.0, 1.0),
        (1.0, 0.01, 2.0, 0.5),
    ],
)
def test_quadrature_against_adaptive_integration(a, b, mu, sigma):
    def f(m, link):
        return link(a + b * m) * stats.norm.pdf(m, mu, sigma)

    exact = integrate.quad(f, -np.inf, np.inf, args=(special.expit,), epsabs=1e-14, epsrel=1e-13)[0]
    assert engine.logit_normal_mean(a, b, mu, sigma) == pytest.approx(exact, rel=1e-10)
    exact_p = integrate.quad(f, -np.inf, np.inf, args=(special.ndtr,), epsabs=1e-14, epsrel=1e-13)[
        0
    ]
    assert engine.probit_normal_mean(a, b, mu, sigma) == pytest.approx(exact_p, rel=1e-10)


def test_binary_models_recover_simulated_truth():
    # binary mediator (logit) and binary outcome (probit); truth by the exact two-point
    # sum over the mediator with the data-generating coefficients
    rng = np.random.default_rng(5)
    n = 10000
    x = rng.normal(size=n)
    t = rng.integers(0, 2, n).astype(float)
    m = (rng.uniform(size=n) < special.expit(-0.3 + 1.0 * t + 0.5 * x)).astype(float)
    y = (rng.uniform(size=n) < special.ndtr(-0.5 + 0.4 * t + 0.8 * m + 0.3 * x)).astype(float)
    df = pd.DataFrame({"t": t, "m": m, "y": y, "x": x})
    res = causal_mediation(
        df,
        "t",
        ["m"],
        "y",
        ["x"],
        mediator_family="binomial",
        outcome_family="binomial",
        method="quasi_bayesian",
        n_sims=500,
        rng=2,
        mediator_link="logit",
        outcome_link="probit",
    )
    p1, p0 = special.expit(-0.3 + 1.0 + 0.5 * x), special.expit(-0.3 + 0.5 * x)

    def ey(tt, p):
        return np.mean(
            p * special.ndtr(-0.5 + 0.4 * tt + 0.8 + 0.3 * x)
            + (1 - p) * special.ndtr(-0.5 + 0.4 * tt + 0.3 * x)
        )

    truth = {"acme_control": ey(0, p1) - ey(0, p0), "ade_treated": ey(1, p1) - ey(0, p1)}
    tidy = res.tidy().set_index("term")
    for term, value in truth.items():
        assert abs(tidy.loc[term, "estimate"] - value) < 4 * tidy.loc[term, "std_error"], term


# ---------------------------------------------------------------------------
# VanderWeele
# ---------------------------------------------------------------------------


def test_vanderweele_linear_equals_ikt_and_four_way_sums(jobs, full_covs):
    res = _fit(jobs, full_covs, "int_linear", n_boot=500, rng=2)
    est = res.tidy().set_index("term")["estimate"]
    assert est["pnde"] == pytest.approx(est["ade_control"], rel=1e-12)
    assert est["tnde"] == pytest.approx(est["ade_treated"], rel=1e-12)
    assert est["pnie"] == pytest.approx(est["acme_control"], rel=1e-12)
    assert est["tnie"] == pytest.approx(est["acme_treated"], rel=1e-12)
    fw = res.four_way()
    assert fw["estimate"].sum() == pytest.approx(est["total"], rel=1e-12)
    assert fw["proportion"].sum() == pytest.approx(1.0)
    # the same identity holds draw by draw
    assert np.allclose(res.four_way_draws.sum(axis=1), res.draws[:, 6])
    assert res.glance()["m_value"].iloc[0] == 4


def test_vanderweele_logit_outcome_against_numerical_integration(jobs, full_covs):
    # log E[exp(theta' x(t, M(t')))] over the normal mediator at the covariate means,
    # by adaptive quadrature, reproduces the closed-form log odds ratios (the
    # rare-outcome approximation replaces expit by exp; the integral is then exact)
    res = _fit(jobs, full_covs, "int_logit", n_sims=500, method="quasi_bayesian", rng=2)
    d = res.design
    bm, sm, _ = engine.fit_weighted(d.x_m, d.m, np.ones((1, d.n)), "linear")
    by, _, _ = engine.fit_weighted(d.x_y, d.y, np.ones((1, d.n)), "logit")
    bm, sm, by = bm[0], sm[0], by[0]
    cbar = d.c.mean(axis=0)

    def log_p(t, tp):
        mu = bm[0] + bm[1] * tp + cbar @ bm[2:]

        def f(z):
            m = mu + sm * z
            return np.exp(by[1] * t + by[2] * m + by[3] * t * m + cbar @ by[4:]) * stats.norm.pdf(z)

        return np.log(integrate.quad(f, -12, 12, epsabs=0, epsrel=1e-13, limit=200)[0])

    est = res.tidy().set_index("term")["estimate"]
    assert est["pnde"] == pytest.approx(log_p(1, 0) - log_p(0, 0), rel=1e-9)
    assert est["tnde"] == pytest.approx(log_p(1, 1) - log_p(0, 1), rel=1e-9)
    assert est["pnie"] == pytest.approx(log_p(0, 1) - log_p(0, 0), rel=1e-9)
    assert est["tnie"] == pytest.approx(log_p(1, 1) - log_p(1, 0), rel=1e-9)
    fw = res.four_way()
    assert set(fw["scale"]) == {"excess_relative_risk"}
    assert fw["estimate"].sum() == pytest.approx(np.expm1(log_p(1, 1) - log_p(0, 0)), rel=1e-9)


def test_vanderweele_rare_outcome_simulation():
    # rare outcome: the rare-outcome odds ratios approach the exact ones
    rng = np.random.default_rng(9)
    n = 3000
    t = rng.integers(0, 2, n).astype(float)
    m = 0.5 * t + rng.normal(size=n)
    y = (rng.uniform(size=n) < special.expit(-3.5 + 0.4 * t + 0.5 * m + 0.3 * t * m)).astype(float)
    df = pd.DataFrame({"t": t, "m": m, "y": y})
    res = causal_mediation(
        df,
        "t",
        ["m"],
        "y",
        outcome_family="binomial",
        interaction=True,
        m_value=0.0,
        method="quasi_bayesian",
        n_sims=500,
        rng=1,
        outcome_link="logit",
    )
    tidy = res.tidy().set_index("term")
    # true log OR^CDE(0) = 0.4; true log OR^TNIE ~ (0.5 + 0.3) * 0.5 = 0.4 (rare outcome)
    assert abs(tidy.loc["cde", "estimate"] - 0.4) < 4 * tidy.loc["cde", "std_error"]
    assert abs(tidy.loc["tnie", "estimate"] - 0.4) < 4 * tidy.loc["tnie", "std_error"]
    assert set(tidy.loc[["cde", "pnde", "tnde", "pnie", "tnie"], "scale"]) == {"log_odds_ratio"}


def test_probit_with_interaction_reports_ikt_only(jobs):
    res = causal_mediation(
        jobs,
        "treat",
        ["job_seek"],
        "work",
        BASIC,
        outcome_family="binomial",
        interaction=True,
        method="quasi_bayesian",
        n_sims=500,
        rng=1,
        outcome_link="probit",
    )
    tidy = res.tidy().set_index("term")
    assert "cde" not in tidy.index and tidy.loc["acme_control", "estimate"] != pytest.approx(
        tidy.loc["acme_treated", "estimate"]
    )
    assert any("not reported" in n for n in res.notes)
    with pytest.raises(OptionError, match="interaction=True"):
        res.four_way()


def test_four_way_needs_interaction(jobs):
    res = causal_mediation(jobs, "treat", ["job_seek"], "depress2", BASIC, n_boot=500, rng=1)
    with pytest.raises(OptionError, match="interaction=True"):
        res.four_way()


# ---------------------------------------------------------------------------
# inference machinery and the results contract
# ---------------------------------------------------------------------------


def test_bca_intervals(jobs):
    a = causal_mediation(
        jobs, "treat", ["job_seek"], "depress2", BASIC, n_boot=1000, ci="bca", rng=42
    )
    assert a.jackknife.shape == (899, 10)
    t = a.tidy().set_index("term")
    assert (t["conf_low"] < t["estimate"]).all() and (t["estimate"] < t["conf_high"]).all()
    # BCa limits differ from the percentile limits of the same draws
    pct = np.quantile(a.draws[:, 0], [0.025, 0.975])
    assert not np.allclose(
        [t.loc["acme_control", "conf_low"], t.loc["acme_control", "conf_high"]], pct
    )
    # jackknife by weights equals an explicit leave-one-out refit for one row
    drop = jobs.drop(index=17)
    loo = causal_mediation(drop, "treat", ["job_seek"], "depress2", BASIC, n_boot=500, rng=1)
    assert a.jackknife[17, 0] == pytest.approx(loo.coef().to_numpy()[0], rel=1e-10)
    g = a.glance()
    assert list(g.columns) == list(GLANCE_COLUMNS)
    assert g["seed"].iloc[0] == 42 and g["n"].iloc[0] == 899 and g["n_failed"].iloc[0] == 0
    assert g["ci"].iloc[0] == "bca"


def test_same_seed_same_result(jobs):
    kw = dict(covariates=BASIC, n_boot=500, rng=5)
    a = causal_mediation(jobs, "treat", ["job_seek"], "depress2", **kw)
    b = causal_mediation(jobs, "treat", ["job_seek"], "depress2", **kw)
    pd.testing.assert_frame_equal(a.tidy(), b.tidy())
    c = causal_mediation(jobs, "treat", ["job_seek"], "depress2", BASIC, n_boot=500, rng=6)
    assert not np.allclose(a.draws, c.draws)


def test_tidy_other_level_and_summary(jobs):
    res = causal_mediation(jobs, "treat", ["job_seek"], "depress2", BASIC, n_boot=600, rng=3)
    t90 = res.tidy(conf_level=0.9).set_index("term")
    t95 = res.tidy().set_index("term")
    assert (t90["conf_low"] > t95["conf_low"]).all()
    assert list(res.tidy().columns[:7]) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    text = res.summary().as_text()
    assert "acme_average" in text and "Used all 899 rows" in text
    with pytest.raises(OptionError):
        res.tidy(exponentiate=True)
    assert isinstance(res, CausalMediationResult)


def test_missing_rows_reported_and_input_not_mutated(jobs):
    df = jobs[["treat", "job_seek", "depress2", "econ_hard"]].copy()
    df.loc[[3, 10], "job_seek"] = np.nan
    df.loc[5, "depress2"] = np.nan
    before = df.copy()
    res = causal_mediation(df, "treat", ["job_seek"], "depress2", "econ_hard", n_boot=500, rng=1)
    pd.testing.assert_frame_equal(df, before)
    g = res.glance()
    assert g["n"].iloc[0] == 896 and g["n_dropped"].iloc[0] == 3
    assert any("3 excluded" in n for n in res.notes)


def test_continuous_exposure_scales_linearly(jobs):
    kw = dict(covariates=["treat", "sex", "age"], method="quasi_bayesian", n_sims=500, rng=1)
    a = causal_mediation(
        jobs, "econ_hard", ["job_seek"], "depress2", control_value=2, treat_value=3, **kw
    )
    b = causal_mediation(
        jobs, "econ_hard", ["job_seek"], "depress2", control_value=2, treat_value=4, **kw
    )
    assert b.coef().to_numpy()[0] == pytest.approx(2 * a.coef().to_numpy()[0], rel=1e-12)


def test_failed_resamples_are_counted():
    # a rare binary outcome: some resamples have perfect separation
    rng = np.random.default_rng(0)
    n = 60
    t = np.repeat([0.0, 1.0], n // 2)
    m = t + rng.normal(size=n)
    y = np.zeros(n)
    y[[5, 40]] = 1.0
    df = pd.DataFrame({"t": t, "m": m, "y": y})
    with pytest.warns(BootstrapWarning, match="failed"):
        res = causal_mediation(
            df, "t", ["m"], "y", outcome_family="binomial", n_boot=500, rng=1, outcome_link="logit"
        )
    g = res.glance()
    assert g["n_failed"].iloc[0] > 0
    assert np.isnan(res.draws).any(axis=1).sum() == g["n_failed"].iloc[0]


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small(jobs):
    return jobs[["treat", "job_seek", "depress2", "econ_hard", "work", "job_dich"]].copy()


def test_constant_treatment(small):
    df = small.assign(treat=1)
    with pytest.raises(DataValidationError, match="constant"):
        causal_mediation(df, "treat", ["job_seek"], "depress2", n_boot=500)


def test_mediator_equal_to_outcome_or_covariate(small):
    with pytest.raises(DataValidationError, match="different columns"):
        causal_mediation(small, "treat", ["job_seek"], "job_seek", n_boot=500)
    with pytest.raises(DataValidationError, match="also the mediator"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", ["job_seek"], n_boot=500)
    with pytest.raises(DataValidationError, match="more than once"):
        causal_mediation(
            small, "treat", ["job_seek"], "depress2", ["econ_hard", "econ_hard"], n_boot=500
        )


def test_missing_columns(small):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'job_seek'"):
        causal_mediation(small, "treat", ["job_sek"], "depress2", n_boot=500)
    with pytest.raises(ColumnNotFoundError, match="covariates"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", ["age"], n_boot=500)


def test_non_binary_outcome_with_logit(small):
    with pytest.raises(DataValidationError, match="0/1"):
        causal_mediation(
            small,
            "treat",
            ["job_seek"],
            "depress2",
            outcome_family="binomial",
            n_boot=500,
            outcome_link="logit",
        )
    with pytest.raises(DataValidationError, match="0/1"):
        causal_mediation(
            small,
            "treat",
            ["job_seek"],
            "depress2",
            mediator_family="binomial",
            n_boot=500,
            mediator_link="probit",
        )


def test_binary_outcome_with_linear_model_warns(small):
    with pytest.warns(DataWarning, match="coded 0/1"):
        causal_mediation(small, "treat", ["job_seek"], "work", n_boot=500, rng=1)


def test_equal_treatment_values(small):
    with pytest.raises(DataValidationError, match="must differ"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", control_value=1, treat_value=1)


def test_treatment_values_outside_range_warn(small):
    df = small.assign(treat=small["treat"] + 1)  # coded 1/2
    with pytest.warns(DataWarning, match="outside the observed range"):
        causal_mediation(df, "treat", ["job_seek"], "depress2", n_boot=500, rng=1)


def test_bca_with_few_sims_warns(small):
    with pytest.warns(BootstrapWarning, match="small for 'bca'"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", n_boot=200, ci="bca", rng=1)


def test_option_and_type_errors(small):
    with pytest.raises(OptionError, match="mediator_family"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", mediator_family="poisson")
    with pytest.raises(OptionError, match="mediator_link"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", mediator_link="log")
    with pytest.raises(OptionError, match="old interface: use outcome_family='binomial'"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", outcome_family="logit")
    with pytest.raises(ArgumentTypeError, match="renamed `mediator_family` and `mediator_link`"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", mediator_model="logit")
    with pytest.raises(ArgumentTypeError, match="`treatment`, which was renamed `exposure`"):
        causal_mediation(small, treatment="treat", mediators=["job_seek"], outcome="depress2")
    with pytest.raises(ArgumentTypeError, match="`mediator`, which was renamed `mediators`"):
        causal_mediation(small, "treat", mediator="job_seek", outcome="depress2")
    with pytest.raises(DataValidationError, match="exactly one column"):
        causal_mediation(small, "treat", ["job_seek", "econ_hard"], "depress2")
    with pytest.raises(OptionError, match="`n_sims` counts quasi-Bayesian draws"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", n_sims=500)
    with pytest.raises(OptionError, match="takes its number of draws from `n_sims`"):
        causal_mediation(
            small, "treat", ["job_seek"], "depress2", method="quasi_bayesian", n_boot=500
        )
    with pytest.raises(OptionError, match="method='bootstrap'"):
        causal_mediation(
            small, "treat", ["job_seek"], "depress2", method="quasi_bayesian", ci="bca"
        )
    with pytest.raises(ArgumentTypeError):
        causal_mediation(small.to_numpy(), "treat", ["job_seek"], "depress2")
    with pytest.raises(ArgumentTypeError, match="rng"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", rng="seed")
    with pytest.raises(DataValidationError, match="conf_level"):
        causal_mediation(small, "treat", ["job_seek"], "depress2", conf_level=95)


def test_non_numeric_column(test_data):
    raw = test_data("jobs.csv")
    with pytest.raises(DataValidationError, match="numeric"):
        causal_mediation(raw, "treat", ["job_seek"], "depress2", ["occp"], n_boot=500)


def test_complete_separation_is_an_estimation_error():
    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, 200).astype(float)
    m = t + rng.normal(size=200)
    df = pd.DataFrame({"t": t, "m": m, "y": (m > 0.5).astype(float)})
    with pytest.raises(EstimationError, match="separation"):
        causal_mediation(
            df, "t", ["m"], "y", outcome_family="binomial", n_boot=500, rng=1, outcome_link="logit"
        )


def test_collinear_covariate(small):
    df = small.assign(econ2=small["econ_hard"] * 2)
    with pytest.raises(DataValidationError, match=r"singular.*'econ_hard', 'econ2'"):
        causal_mediation(df, "treat", ["job_seek"], "depress2", ["econ_hard", "econ2"], n_boot=500)


def test_no_warnings_in_default_fit(small):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        causal_mediation(small, "treat", ["job_seek"], "depress2", n_boot=500, rng=1)
