"""Tests of mutualaid_outcomes.models.mediation.lagged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mutualaid_outcomes.errors import ColumnNotFoundError, DataValidationError
from mutualaid_outcomes.models.mediation.lagged import lagged_mediation
from mutualaid_outcomes.models.mediation.product import mediate

WAVES = (0, 3, 9, 15)


def _long(n=250, seed=1):
    rng = np.random.default_rng(seed)
    female = rng.binomial(1, 0.4, n).astype(float)
    se0 = rng.normal(size=n)
    dep0 = rng.normal(size=n)
    pda0 = rng.uniform(size=n)
    aa3 = rng.poisson(5 + 3 * (pda0 > 0.5)).astype(float)
    se9 = 0.5 * se0 + 0.08 * aa3 + rng.normal(size=n)
    dep9 = 0.4 * dep0 - 0.05 * aa3 + rng.normal(size=n)
    pda15 = 0.3 * pda0 + 0.1 * se9 - 0.05 * dep9 + 0.1 * female + rng.normal(0, 0.2, n)
    frames = []
    for month in WAVES:
        frames.append(
            pd.DataFrame(
                {
                    "id": np.arange(n),
                    "month": month,
                    "female": female,
                    "aa": aa3 if month == 3 else np.nan,
                    "se": {0: se0, 9: se9}.get(month, np.full(n, np.nan)),
                    "dep": {0: dep0, 9: dep9}.get(month, np.full(n, np.nan)),
                    "pda": {0: pda0, 15: pda15}.get(month, np.full(n, np.nan)),
                }
            )
        )
    long = pd.concat(frames, ignore_index=True)
    # losses: 5 people miss the month-15 interview, 4 have no mediator value at month 9
    lost = long["id"].isin(range(5)) & (long["month"] == 15)
    long = long[~lost].reset_index(drop=True)
    long.loc[long["id"].isin(range(10, 14)) & (long["month"] == 9), "se"] = np.nan
    return long


def _wide_by_pivot(long):
    """Independent construction of the analysis frame."""
    p = long.pivot(index="id", columns="month")
    wide = pd.DataFrame(
        {
            "aa_t3": p[("aa", 3)],
            "se_t9": p[("se", 9)],
            "dep_t9": p[("dep", 9)],
            "pda_t15": p[("pda", 15)],
            "female": p[("female", 0)],
            "se_t0": p[("se", 0)],
            "dep_t0": p[("dep", 0)],
            "pda_t0": p[("pda", 0)],
        }
    )
    return wide.dropna().reset_index(drop=True)


def test_matches_mediate_on_independently_built_frame():
    long = _long()
    before = long.copy()
    res = lagged_mediation(
        long,
        id="id",
        time="month",
        exposure="aa",
        mediators=["se", "dep"],
        outcome="pda",
        exposure_at=3,
        mediator_at=9,
        outcome_at=15,
        covariates="female",
        n_boot=1000,
        ci="percentile",
        rng=5,
    )
    pd.testing.assert_frame_equal(long, before)
    wide = _wide_by_pivot(long)
    ref = mediate(
        wide,
        "aa_t3",
        ["se_t9", "dep_t9"],
        "pda_t15",
        ["female", "se_t0", "dep_t0", "pda_t0"],
        n_boot=1000,
        ci="percentile",
        rng=5,
    )
    np.testing.assert_allclose(res.coef().to_numpy(), ref.coef().to_numpy(), rtol=1e-12)
    pd.testing.assert_frame_equal(res.draws, ref.draws, rtol=1e-10)
    assert res.terms[:2] == ("a[se_t9]", "a[dep_t9]")
    g = res.glance().iloc[0]
    assert (g["n"], g["n_dropped"], g["seed"]) == (241, 9, 5)
    assert "241 of 250" in res.notes[0]
    assert any("Baseline (month=0)" in note for note in res.notes)


def test_baseline_adjustment_enters_every_equation():
    long = _long(seed=2)
    res = lagged_mediation(
        long,
        id="id",
        time="month",
        exposure="aa",
        mediators=["se"],
        outcome="pda",
        exposure_at=3,
        mediator_at=9,
        outcome_at=15,
        n_boot=1000,
        ci="percentile",
        rng=1,
    )
    wide = _wide_by_pivot(long)
    a = sm.OLS(wide["se_t9"], sm.add_constant(wide[["aa_t3", "se_t0", "pda_t0"]])).fit()
    assert res.coef()["a[se_t9]"] == pytest.approx(a.params["aa_t3"], rel=1e-9)
    unadj = lagged_mediation(
        long,
        id="id",
        time="month",
        exposure="aa",
        mediators=["se"],
        outcome="pda",
        exposure_at=3,
        mediator_at=9,
        outcome_at=15,
        adjust_baseline=False,
        n_boot=1000,
        ci="percentile",
        rng=1,
    )
    keep = long.pivot(index="id", columns="month")
    w2 = pd.DataFrame({"x": keep[("aa", 3)], "m": keep[("se", 9)], "y": keep[("pda", 15)]}).dropna()
    a2 = sm.OLS(w2["m"], sm.add_constant(w2[["x"]])).fit()
    assert unadj.coef()["a[se_t9]"] == pytest.approx(a2.params["x"], rel=1e-9)


def test_recovers_lagged_indirect_effect():
    long = _long(n=3000, seed=7)
    res = lagged_mediation(
        long,
        id="id",
        time="month",
        exposure="aa",
        mediators=["se", "dep"],
        outcome="pda",
        exposure_at=3,
        mediator_at=9,
        outcome_at=15,
        covariates="female",
        n_boot=1000,
        rng=3,
    )
    t = res.tidy().set_index("term")
    for term, truth in (("indirect[se_t9]", 0.08 * 0.1), ("indirect[dep_t9]", -0.05 * -0.05)):
        assert t.loc[term, "conf_low"] < truth < t.loc[term, "conf_high"]


def test_bad_input():
    long = _long(n=60)
    kw = dict(id="id", time="month", exposure="aa", mediators="se", outcome="pda", n_boot=1000)
    with pytest.raises(DataValidationError, match="`mediator_at` .* must be before `outcome_at`"):
        lagged_mediation(long, exposure_at=3, mediator_at=15, outcome_at=9, **kw)
    with pytest.raises(DataValidationError, match="`baseline_at`"):
        lagged_mediation(long, exposure_at=3, mediator_at=9, outcome_at=15, baseline_at=9, **kw)
    with pytest.raises(ColumnNotFoundError, match="`covariates`"):
        lagged_mediation(long, exposure_at=3, mediator_at=9, outcome_at=15, covariates="sex", **kw)
    with pytest.raises(DataValidationError, match="distinct"):
        lagged_mediation(
            long, exposure_at=3, mediator_at=9, outcome_at=15, **{**kw, "mediators": "pda"}
        )
