"""Tests of the rho sensitivity analysis against the medsens FGLS iteration in R."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError, OptionError
from mutualaid_outcomes.models.mediation.causal import causal_mediation
from mutualaid_outcomes.models.mediation.sensitivity import (
    DEFAULT_RHO,
    FRAME_COLUMNS,
    SensitivityResult,
    mediation_sensitivity,
)
from mutualaid_outcomes.results import TIDY_COLUMNS

FACTORS = ["occp", "marital", "nonwhite", "educ", "income"]
BASIC = ["econ_hard", "sex", "age"]

# Deterministic: the closed-form fixed point versus R's FGLS iterated to convergence.
RTOL_EXACT = 1e-6
# medsens' own stopping rule (sum of squared coefficient changes < sqrt(machine eps),
# i.e. changes below ~1.2e-4) leaves the linearly converging iteration (rate rho^2) short
# of its fixed point by up to ~1.2e-4 * rho^2 / (1 - rho^2) in the mediator coefficient;
# times the treatment -> mediator coefficient (~0.07 here) that is < 5e-5 in the ACME for
# |rho| <= 0.9.
ATOL_MEDSENS_DEFAULT = 5e-5


@pytest.fixture(scope="module")
def jobs(test_data) -> pd.DataFrame:
    raw = test_data("jobs.csv")
    return pd.get_dummies(raw, columns=FACTORS, drop_first=True, dtype=float)


@pytest.fixture(scope="module")
def full_covs(jobs) -> list[str]:
    return ["econ_hard", "sex", "age", "depress1"] + [
        c for c in jobs.columns if c.split("_")[0] in FACTORS
    ]


@pytest.fixture(scope="module")
def ref(r_reference) -> pd.DataFrame:
    return r_reference("causal_mediation_jobs_sens")


def _fit(jobs, covs, interaction=False):
    return causal_mediation(
        jobs,
        "treat",
        ["job_seek"],
        "depress2",
        covs,
        interaction=interaction,
        method="quasi_bayesian",
        n_sims=500,
        rng=1,
    )


@pytest.fixture(scope="module")
def full_sens(jobs, full_covs):
    return _fit(jobs, full_covs).sensitivity()


def test_full_model_root_matches_r(full_sens, ref):
    r = ref[ref["case"] == "full"]
    root = full_sens.rho_at_zero()
    # the exact root is the residual correlation rho~ of Imai et al. (2010)
    assert root == pytest.approx(r["rho_tilde"].iloc[0], rel=RTOL_EXACT)
    # medsens reads the root off its grid: our root lies between the grid points where
    # R's converged ACME changes sign
    grid = r.sort_values("rho")
    sign_change = np.flatnonzero(np.diff(np.sign(grid["acme"].to_numpy())))
    lo, hi = grid["rho"].to_numpy()[sign_change[0]], grid["rho"].to_numpy()[sign_change[0] + 1]
    assert lo <= root <= hi


@pytest.mark.parametrize("case", ["full", "domain", "int_linear"])
def test_acme_curve_matches_r_medsens(jobs, full_covs, ref, case):
    covs = full_covs if case == "full" else BASIC
    r = ref[ref["case"] == case]
    rho = np.sort(r["rho"].unique())
    sens = _fit(jobs, covs, interaction=case == "int_linear").sensitivity(rho=rho)
    merged = sens.frame.merge(r, on=["effect", "rho"], suffixes=("", "_r"))
    assert len(merged) == len(r)
    for col in ["acme", "std_error", "conf_low", "conf_high"]:
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=RTOL_EXACT, atol=1e-12)
    np.testing.assert_allclose(merged["r2tilde_prod"], merged["r2tilde_prod_r"], rtol=RTOL_EXACT)
    np.testing.assert_allclose(
        merged["acme"], merged["acme_default_eps"], atol=ATOL_MEDSENS_DEFAULT
    )
    assert sens.r_squared_mediator == pytest.approx(r["r_squared_m"].iloc[0], rel=RTOL_EXACT)
    assert sens.r_squared_outcome == pytest.approx(r["r_squared_y"].iloc[0], rel=RTOL_EXACT)


def test_rho_zero_gives_plugin_and_closed_form_root(jobs, full_covs):
    fit = _fit(jobs, full_covs)
    sens = fit.sensitivity(rho=[0.0])
    assert sens.frame["acme"].iloc[0] == pytest.approx(fit.coef().to_numpy()[2], rel=1e-12)
    # closed form of the root: k / sqrt(1 + k^2), k = theta_M s_M / s_Y
    d = fit.design
    xm, xy = d.x_m, d.x_y
    bm = np.linalg.lstsq(xm, d.m, rcond=None)[0]
    by = np.linalg.lstsq(xy, d.y, rcond=None)[0]
    k = by[2] * np.std(d.m - xm @ bm) / np.std(d.y - xy @ by)
    assert fit.sensitivity().rho_at_zero() == pytest.approx(k / np.sqrt(1 + k**2), abs=1e-12)


def test_interaction_roots_and_frame(jobs):
    sens = _fit(jobs, BASIC, interaction=True).sensitivity()
    assert set(sens.frame["effect"]) == {"acme_control", "acme_treated"}
    assert list(sens.frame.columns) == list(FRAME_COLUMNS)
    assert len(sens.frame) == 2 * DEFAULT_RHO.size
    for eff in ("acme_control", "acme_treated"):
        root = sens.rho_at_zero(eff)
        at_root = mediation_sensitivity(_fit(jobs, BASIC, interaction=True), rho=[root])
        value = at_root.frame.loc[at_root.frame["effect"] == eff, "acme"].iloc[0]
        assert abs(value) < 1e-12
    row = sens.roots.set_index("effect").loc["acme_control"]
    assert row["r2star_prod"] == pytest.approx(row["rho_at_zero"] ** 2)
    assert "acme_control" in repr(sens)
    with pytest.raises(OptionError, match="effect"):
        sens.rho_at_zero("acme_average")


def test_recovers_truth_under_known_confounding():
    # U confounds mediator and outcome; ignoring it biases the ACME, and the sensitivity
    # curve at the true error correlation recovers the true ACME a * b
    rng = np.random.default_rng(12)
    n = 20000
    a, b, lam, gam = 0.5, 0.4, 0.8, 0.6
    t = rng.integers(0, 2, n).astype(float)
    u = rng.normal(size=n)
    m = a * t + lam * u + rng.normal(size=n)
    y = b * m + 0.3 * t + gam * u + rng.normal(size=n)
    df = pd.DataFrame({"t": t, "m": m, "y": y})
    fit = causal_mediation(df, "t", ["m"], "y", method="quasi_bayesian", n_sims=500, rng=1)
    rho_true = lam * gam / np.sqrt((lam**2 + 1) * (gam**2 + 1))
    at = fit.sensitivity(rho=[rho_true]).frame.iloc[0]
    assert abs(fit.coef().to_numpy()[2] - a * b) > 5 * at["std_error"]  # naive estimate is biased
    assert abs(at["acme"] - a * b) < 4 * at["std_error"]


def test_bad_input(jobs):
    fit = _fit(jobs, BASIC)
    with pytest.raises(DataValidationError, match="strictly between -1 and 1"):
        fit.sensitivity(rho=[0.5, 1.0])
    with pytest.raises(DataValidationError, match="empty"):
        fit.sensitivity(rho=[])
    jobs2 = jobs.assign(work=(jobs["depress2"] > 2).astype(float))
    logit = causal_mediation(
        jobs2,
        "treat",
        ["job_seek"],
        "work",
        BASIC,
        outcome_family="binomial",
        method="quasi_bayesian",
        n_sims=500,
        rng=1,
        outcome_link="logit",
    )
    with pytest.raises(OptionError, match="gaussian or binomial-probit outcome"):
        logit.sensitivity()
    sens = fit.sensitivity(conf_level=0.9)
    assert isinstance(sens, SensitivityResult) and sens.conf_level == 0.9
    # the tidy()/glance() contract: one row per effect with the rho at which the ACME is 0
    t = sens.tidy()
    assert list(t.columns[:7]) == list(TIDY_COLUMNS)
    assert t["term"].tolist() == ["rho_at_zero[acme_average]"]
    assert t["estimate"].iloc[0] == sens.rho_at_zero()
    g = sens.glance().iloc[0]
    assert g["conf_level"] == 0.9 and g["n_rho"] == 181
    assert "ACME = 0 at rho" in sens.summary().as_text()
    with pytest.raises(NotImplementedError, match="SensitivityResult has no coefficients"):
        sens.coef()
    with pytest.raises(TypeError):
        fit.sensitivity([0.1, 0.2])  # rho is keyword-only
    with pytest.raises(ArgumentTypeError, match=r"causal_mediation\(\).*got DataFrame"):
        mediation_sensitivity(jobs2)


def test_acme_by_r2_matches_rho_curve(full_sens):
    grid = full_sens.acme_by_r2([0.0, 0.1, 0.3], [0.0, 0.2, 0.5], sign=-1)
    assert len(grid) == 9
    row = grid[(grid["r2_mediator"] == 0.1) & (grid["r2_outcome"] == 0.2)].iloc[0]
    assert row["rho"] == pytest.approx(-np.sqrt(0.02))
    at = full_sens.frame.iloc[0]  # rho = -0.9
    g = full_sens.acme_by_r2([0.81], [0.0], sign=-1)  # rho = 0
    assert g["acme"].iloc[0] == pytest.approx(full_sens.frame.loc[90, "acme"], rel=1e-10)
    g = full_sens.acme_by_r2([0.9], [0.9], sign=-1)
    assert g["acme"].iloc[0] == pytest.approx(at["acme"], rel=1e-10)
    # tilde version: the R~^2 product at the root reproduces the root
    root = full_sens.roots.iloc[0]
    g = full_sens.acme_by_r2(
        [np.sqrt(root["r2tilde_prod"])], [np.sqrt(root["r2tilde_prod"])], kind="tilde"
    )
    assert g["rho"].iloc[0] == pytest.approx(root["rho_at_zero"], rel=1e-10)
    assert abs(g["acme"].iloc[0]) < 1e-12
    with pytest.raises(OptionError, match="kind"):
        full_sens.acme_by_r2([0.1], [0.1], kind="partial")
    with pytest.raises(DataValidationError, match="r2_outcome"):
        full_sens.acme_by_r2([0.1], [1.0])


# ---------------------------------------------------------------------------
# probit outcome
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def probit_fit(jobs, test_data):
    raw = test_data("jobs.csv")
    df = jobs.assign(work=(raw["work1"] == "psyemp").astype(float))
    return causal_mediation(
        df,
        "treat",
        ["job_seek"],
        "work",
        BASIC,
        outcome_family="binomial",
        method="quasi_bayesian",
        n_sims=500,
        rng=1,
        outcome_link="probit",
    )


def test_probit_outcome_curve_matches_r_integration(probit_fit, r_reference):
    ref = r_reference("causal_mediation_jobs_sens_probit")
    sens = probit_fit.sensitivity(rho=ref["rho"].to_numpy(), n_sims=200, rng=3)
    wide = sens.frame.pivot(index="rho", columns="effect", values="acme").loc[ref["rho"]]
    for eff in ("acme_control", "acme_treated"):
        np.testing.assert_allclose(wide[eff].to_numpy(), ref[eff], rtol=RTOL_EXACT)
    np.testing.assert_allclose(
        wide["acme_average"], (wide["acme_control"] + wide["acme_treated"]) / 2, rtol=1e-12
    )
    for eff in ("acme_control", "acme_treated", "acme_average"):
        assert sens.rho_at_zero(eff) == pytest.approx(ref["rho_tilde"].iloc[0], rel=RTOL_EXACT)
    assert sens.r_squared_outcome == pytest.approx(ref["r_squared_y"].iloc[0], rel=RTOL_EXACT)
    assert sens.r_squared_mediator == pytest.approx(ref["r_squared_m"].iloc[0], rel=RTOL_EXACT)
    f = sens.frame
    assert ((f["conf_low"] <= f["acme"]) & (f["acme"] <= f["conf_high"])).all()


def test_probit_outcome_rho_zero_is_the_plugin(probit_fit):
    sens = probit_fit.sensitivity(rho=[0.0], n_sims=100, rng=1)
    est = probit_fit.tidy().set_index("term")["estimate"]
    for eff in ("acme_control", "acme_treated", "acme_average"):
        value = sens.frame.set_index("effect").loc[eff, "acme"]
        assert value == pytest.approx(est[eff], rel=1e-12)


def test_probit_outcome_recovers_truth_under_confounding():
    from scipy import special

    rng = np.random.default_rng(21)
    n = 10000
    rho_true, sigma = -0.4, 1.0
    t = rng.integers(0, 2, n).astype(float)
    e = rng.multivariate_normal([0, 0], [[1, rho_true], [rho_true, 1]], size=n)
    m = 0.8 * t + sigma * e[:, 0]
    y = (-0.2 + 0.3 * t + 0.5 * m + e[:, 1] > 0).astype(float)
    df = pd.DataFrame({"t": t, "m": m, "y": y})
    fit = causal_mediation(
        df,
        "t",
        ["m"],
        "y",
        outcome_family="binomial",
        method="quasi_bayesian",
        n_sims=500,
        rng=1,
        outcome_link="probit",
    )
    scale = np.sqrt(0.5**2 * sigma**2 + 2 * 0.5 * rho_true * sigma + 1)
    truth = special.ndtr((-0.2 + 0.5 * 0.8) / scale) - special.ndtr(-0.2 / scale)
    at = fit.sensitivity(rho=[rho_true], n_sims=300, rng=2).frame.set_index("effect")
    row = at.loc["acme_control"]
    assert abs(row["acme"] - truth) < 4 * row["std_error"]
    naive = fit.tidy().set_index("term").loc["acme_control"]
    assert abs(naive["estimate"] - truth) > 4 * naive["std_error"]


def test_probit_outcome_with_interaction_is_refused(jobs, test_data):
    raw = test_data("jobs.csv")
    df = jobs.assign(work=(raw["work1"] == "psyemp").astype(float))
    fit = causal_mediation(
        df,
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
    with pytest.raises(OptionError, match="interaction"):
        fit.sensitivity()


def test_probit_acme_by_r2(probit_fit):
    sens = probit_fit.sensitivity(rho=[-0.5, 0.0, 0.5], n_sims=100, rng=1)
    g = sens.acme_by_r2([0.25], [1.0 - 1e-9], sign=1)
    direct = probit_fit.sensitivity(rho=[float(g["rho"].iloc[0])], n_sims=100, rng=1).frame
    value = direct.set_index("effect").loc["acme_control", "acme"]
    assert g["acme"].iloc[0] == pytest.approx(value, rel=1e-10)
