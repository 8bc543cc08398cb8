"""cumulative_incidence and gray_test against R cmprsk 2.2-11 cuminc
(tests/reference/survival_competing.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError, EstimationError
from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence, gray_test
from mutualaid_outcomes.models.survival.kaplan_meier import kaplan_meier

RTOL = 1e-6  # deterministic


@pytest.fixture(scope="module")
def cr(test_data) -> pd.DataFrame:
    """Simulated competing-risks data of survival_competing.R."""
    return test_data("surv_cmprsk_sim.csv")


@pytest.fixture(scope="module")
def cr_ref(r_reference) -> pd.DataFrame:
    """tests/reference/survival_competing.csv (cmprsk cuminc and crr)."""
    return r_reference("survival_competing")


@pytest.mark.parametrize("case,group", [("by_group", "group"), ("pooled", None)])
def test_cuminc_estimates_and_variances(case, group, cr, cr_ref):
    ci = cumulative_incidence(cr, "ftime", "fstatus", group)
    t = ci.table.copy()
    t["group"] = t["group"].astype(str).replace({"all": "1"})
    t["cause"] = t["cause"].astype(str)
    r = cr_ref[cr_ref["case"] == case].copy()
    r["group"] = r["group"].astype(str)
    r["cause"] = r["cause"].astype(str)
    for kind, col in (("est", "cif"), ("var", "variance")):
        rr = r[r["kind"] == kind].sort_values(["group", "cause", "time"], kind="stable")
        tt = t.sort_values(["group", "cause", "time"], kind="stable")
        assert len(rr) == len(tt)
        np.testing.assert_array_equal(tt["time"], rr["time"])
        np.testing.assert_allclose(tt[col], rr["value"], rtol=RTOL, atol=1e-14)


@pytest.mark.parametrize(
    "case,kw", [("by_group", {}), ("strata", {"strata": "strat"}), ("rho1", {"rho": 1})]
)
def test_gray_test_matches_cuminc(case, kw, cr, cr_ref):
    g = gray_test(cr, "ftime", "fstatus", "group", **kw)
    r = cr_ref[cr_ref["case"] == case]
    np.testing.assert_allclose(
        g.table["statistic"], r[r["kind"] == "test_stat"]["value"], rtol=RTOL
    )
    np.testing.assert_allclose(g.table["p_value"], r[r["kind"] == "test_p"]["value"], rtol=RTOL)
    assert g.table["df"].tolist() == [2, 2]
    assert g.tidy()["term"].tolist() == ["cause[1]", "cause[2]"]


def test_result_method_gray_test(cr):
    ci = cumulative_incidence(cr, "ftime", "fstatus", "group")
    a = ci.gray_test().table
    b = gray_test(cr, "ftime", "fstatus", "group").table
    pd.testing.assert_frame_equal(a, b)


def test_one_cause_equals_one_minus_km(cr):
    df = cr.assign(status=(cr["fstatus"] > 0).astype(int))
    ci = cumulative_incidence(df, "ftime", "status")
    km = kaplan_meier(df, "ftime", "status").table
    km = km[km["n_event"] > 0]
    np.testing.assert_allclose(ci.table["cif"].iloc[1:], 1 - km["survival"], rtol=1e-12)


def test_ties_are_deterministic_and_order_free(cr):
    a = cumulative_incidence(cr, "ftime", "fstatus", "group").table
    for seed in range(3):
        b = cumulative_incidence(
            cr.sample(frac=1, random_state=seed), "ftime", "fstatus", "group"
        ).table
        pd.testing.assert_frame_equal(a, b)
        gb = gray_test(cr.sample(frac=1, random_state=seed), "ftime", "fstatus", "group")
        np.testing.assert_allclose(
            gb.table["statistic"],
            gray_test(cr, "ftime", "fstatus", "group").table["statistic"],
            rtol=1e-12,
        )


def test_table_columns_limits_and_at(cr):
    ci = cumulative_incidence(cr, "ftime", "fstatus", "group", conf_level=0.9)
    t = ci.table
    for col in ("group", "cause", "time", "cif", "conf_low", "conf_high"):
        assert col in t.columns
    inner = t[(t["cif"] > 0) & (t["cif"] < 1)]
    assert (inner["conf_low"] < inner["cif"]).all() and (inner["cif"] < inner["conf_high"]).all()
    at = ci.at([0.5, 1.0, 100.0])
    assert at["cif"].iloc[-1] != at["cif"].iloc[-1]  # NaN beyond follow-up
    assert ci.glance()["n_causes"].iloc[0] == 2
    assert len(ci.tidy()) == 6


def test_does_not_mutate_input(cr):
    before = cr.copy()
    cumulative_incidence(cr, "ftime", "fstatus", "group")
    gray_test(cr, "ftime", "fstatus", "group", strata="strat")
    pd.testing.assert_frame_equal(cr, before)


def test_bad_input(cr):
    with pytest.raises(DataValidationError, match=">= 0"):
        cumulative_incidence(cr.assign(ftime=-cr["ftime"]), "ftime", "fstatus")
    with pytest.raises(EstimationError, match="no events"):
        cumulative_incidence(cr.assign(fstatus=0), "ftime", "fstatus")
    with pytest.raises(EstimationError, match="two groups"):
        gray_test(cr.assign(g=1), "ftime", "fstatus", "g")
    with pytest.raises(ArgumentTypeError):
        gray_test(cr, "ftime", "fstatus", "group", rho="1")
    df = cr.copy()
    df.loc[[0, 1], "ftime"] = np.nan
    ci = cumulative_incidence(df, "ftime", "fstatus")
    assert ci.glance()["n_dropped"].iloc[0] == 2


# ---------------------------------------------------------------- Fine-Gray

from mutualaid_outcomes.errors import ConvergenceWarning  # noqa: E402
from mutualaid_outcomes.models.survival.competing_risks import fit_fine_gray  # noqa: E402


@pytest.mark.parametrize("cause", [1, 2])
def test_fine_gray_matches_crr(cause, cr, cr_ref):
    # R was run with gtol = 1e-12: crr's default gtol = 1e-6 stops about 5e-5 (relative)
    # short of the maximum, so the reference uses a tight tolerance like ours
    res = fit_fine_gray(cr, "ftime", "fstatus", ["x1", "x2", "x3"], cause=cause)
    r = cr_ref[cr_ref["case"] == f"crr_cause{cause}"]
    tidy = res.tidy()
    np.testing.assert_allclose(tidy["estimate"], r[r["kind"] == "coef"]["value"], rtol=RTOL)
    np.testing.assert_allclose(tidy["std_error"], r[r["kind"] == "se"]["value"], rtol=RTOL)
    g = res.glance().iloc[0]
    assert g["loglik"] == pytest.approx(r[r["kind"] == "loglik"]["value"].iloc[0], rel=RTOL)
    assert g["loglik_null"] == pytest.approx(
        r[r["kind"] == "loglik_null"]["value"].iloc[0], rel=RTOL
    )
    assert g["converged"]
    assert g["n_events"] + g["n_competing"] + g["n_censored"] == len(cr)
    shr = res.tidy(exponentiate=True)
    np.testing.assert_allclose(shr["estimate"], np.exp(tidy["estimate"]))


def test_fine_gray_order_free_and_no_mutation(cr):
    before = cr.copy()
    a = fit_fine_gray(cr, "ftime", "fstatus", ["x1", "x2"])
    pd.testing.assert_frame_equal(cr, before)
    b = fit_fine_gray(cr.sample(frac=1, random_state=9), "ftime", "fstatus", ["x1", "x2"])
    np.testing.assert_allclose(a.coef(), b.coef(), rtol=1e-10)
    np.testing.assert_allclose(a.vcov(), b.vcov(), rtol=1e-8)


def test_fine_gray_recovers_subdistribution_hazard_ratio():
    # Fine & Gray (1999) simulation design: P(cause 1 | x) = 1 - (1 - p)^exp(x b)
    rng = np.random.default_rng(12)
    n, p, b = 4000, 0.4, 0.6
    x = rng.binomial(1, 0.5, n).astype(float)
    p1 = 1 - (1 - p) ** np.exp(b * x)
    is1 = rng.random(n) < p1
    u = rng.random(n)
    # inverse of F1(t | x) = 1 - (1 - p (1 - e^-t))^exp(x b), conditional on cause 1
    t1 = -np.log(1 - (1 - (1 - u * p1) ** np.exp(-b * x)) / p)
    t2 = rng.exponential(1 / np.exp(0.3 * x))
    t = np.where(is1, t1, t2)
    c = rng.exponential(3, n)
    df = pd.DataFrame(
        {"t": np.minimum(t, c), "cause": np.where(t <= c, np.where(is1, 1, 2), 0), "x": x}
    )
    tidy = fit_fine_gray(df, "t", "cause", "x").tidy().iloc[0]
    assert tidy["conf_low"] < b < tidy["conf_high"]


def test_fine_gray_bad_input(cr):
    with pytest.raises(DataValidationError, match="does not occur"):
        fit_fine_gray(cr, "ftime", "fstatus", ["x1"], cause=3)
    with pytest.raises(DataValidationError, match="constant"):
        fit_fine_gray(cr.assign(k=1.0), "ftime", "fstatus", ["x1", "k"])
    with pytest.raises(EstimationError, match="no events"):
        fit_fine_gray(cr.assign(fstatus=0), "ftime", "fstatus", ["x1"])
    df = cr.copy()
    df.loc[[3, 4], "x1"] = np.nan
    res = fit_fine_gray(df, "ftime", "fstatus", ["x1"])
    assert res.glance()["n_dropped"].iloc[0] == 2
    assert "x1: 2" in res.notes[0]
    with pytest.warns(ConvergenceWarning):
        fit_fine_gray(cr, "ftime", "fstatus", ["x1", "x2"], max_iter=1)
