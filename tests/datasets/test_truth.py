"""The documented truth is recovered from the sample cohort by simple estimators."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mutualaid_outcomes.datasets import (
    MECHANISMS,
    MEDIATION_COVARIATES,
    CohortParameters,
    compute_truth,
    load_sample,
    mediation_frame,
    sample_truth,
    simulate_cohort,
    structural_truth,
)
from mutualaid_outcomes.datasets.truth import TRUTH_SEED
from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError, OptionError

# One fixed sample, several estimates: each must lie within this many standard errors
# of its true value (2 for the single pre-registered arm effect; 2.5 for the groups of
# six a-paths and b-paths, where one 2-SE miss in six has probability ~0.25).
Z_SINGLE = 2.0
Z_GROUP = 2.5


@pytest.fixture(scope="module")
def truth() -> pd.Series:
    return sample_truth().set_index("quantity")["value"]


@pytest.fixture(scope="module")
def frames():
    return load_sample("participants"), load_sample("waves"), load_sample("latent")


def test_truth_frame_layout(truth) -> None:
    t = sample_truth()
    assert list(t.columns) == ["quantity", "value", "mc_se", "kind", "description"]
    assert t["quantity"].is_unique
    assert set(t["kind"]) == {"population", "structural"}
    pop = t[t["kind"] == "population"]
    assert (pop["mc_se"] > 0).all()
    for m in MECHANISMS:
        for prefix in ("a", "b", "indirect"):
            assert f"{prefix}[{m}]" in truth.index
        assert truth[f"indirect[{m}]"] == pytest.approx(truth[f"a[{m}]"] * truth[f"b[{m}]"])
    assert truth["total"] == pytest.approx(truth["direct"] + truth["total_indirect"], rel=0.02)
    assert truth["hr_attendance"] == pytest.approx(0.6)
    assert truth["log_hr_attendance"] == pytest.approx(np.log(0.6))
    # direction of the documented mechanisms
    assert truth["indirect[network]"] > 0 and truth["arm_effect_attendance"] > 5


def test_truth_md_shows_stored_values(truth, paths) -> None:
    text = (paths.sample / "TRUTH.md").read_text()
    stored = json.loads((paths.sample / "truth.json").read_text())
    assert stored["meta"]["n"] == 200_000
    for q in ("arm_effect_attendance", "indirect[network]", "hr_attendance"):
        assert f"`{q}` | {truth[q]:.6g}" in text


def test_cohort_truth_attached() -> None:
    small = simulate_cohort(20, rng=1)
    pd.testing.assert_frame_equal(small.truth, sample_truth())
    other = simulate_cohort(20, rng=1, parameters=CohortParameters(heavy_log_hr_attend=0.0))
    t = other.truth.set_index("quantity")["value"]
    assert set(other.truth["kind"]) == {"structural"}
    assert t["hr_attendance"] == 1.0


def test_small_recomputation_agrees_with_stored_truth(truth) -> None:
    # 10,000 fresh people: their estimate has MC SE = stored MC SE (200,000 people) times
    # sqrt(200,000 / 10,000) = sqrt(20); allow 4 such standard errors.
    stored = sample_truth().set_index("quantity")
    fresh = compute_truth(10_000, batch_size=5_000, rng=12345).set_index("quantity")
    for q in ("arm_effect_attendance", "a[network]", "b[efficacy]", "total", "direct"):
        tol = 4 * np.sqrt(20) * stored.loc[q, "mc_se"]
        assert abs(fresh.loc[q, "value"] - stored.loc[q, "value"]) < tol, q


def test_truth_for_a_subset_of_mediators() -> None:
    full = compute_truth(2000, batch_size=1000, rng=5).set_index("quantity")["value"]
    sub = compute_truth(2000, batch_size=1000, rng=5, mediators=["network", "efficacy"])
    sub = sub.set_index("quantity")["value"]
    assert "a[craving]" not in sub.index
    # same simulated people: paths of the exposure on the mediators and the total agree
    assert sub["total"] == pytest.approx(full["total"], rel=1e-12)
    assert sub["a[network]"] == pytest.approx(full["a[network]"], rel=1e-12)
    assert sub["b[network]"] != pytest.approx(full["b[network]"], rel=1e-6)
    with pytest.raises(OptionError, match="`mediators` must be one of"):
        compute_truth(2000, batch_size=1000, mediators=["network", "hope"])


@pytest.mark.slow
def test_full_recomputation_reproduces_truth_json() -> None:
    fresh = compute_truth(200_000, rng=TRUTH_SEED).set_index("quantity")
    stored = sample_truth().set_index("quantity")
    np.testing.assert_allclose(fresh["value"], stored.loc[fresh.index, "value"], rtol=1e-9)


# --- recovery from the sample ------------------------------------------------------------


def test_arm_effect_on_attendance_recovered(frames, truth) -> None:
    participants, waves, _ = frames
    d = waves[waves["month"] == 3].merge(participants, on="id").dropna(subset=["aa_meetings"])
    x = sm.add_constant((d["arm"] == "TSF").astype(float).rename("tsf"))
    fit = sm.OLS(d["aa_meetings"], x).fit(cov_type="HC1")
    est, se = fit.params["tsf"], fit.bse["tsf"]
    assert abs(est - truth["arm_effect_attendance"]) < Z_SINGLE * se


def test_mediation_paths_recovered(frames, truth) -> None:
    mf = mediation_frame(frames[2], frames[1], frames[0]).dropna()
    assert 1000 < len(mf) < 1726  # complete cases after drop-out
    covs = sm.add_constant(mf[["attendance", *MEDIATION_COVARIATES]])
    for m in MECHANISMS:
        fit = sm.OLS(mf[f"{m}_9"], covs).fit()
        est, se = fit.params["attendance"], fit.bse["attendance"]
        assert abs(est - truth[f"a[{m}]"]) < Z_GROUP * se, m
    full = sm.add_constant(
        mf[["attendance", *(f"{m}_9" for m in MECHANISMS), *MEDIATION_COVARIATES]]
    )
    fit = sm.OLS(mf["pda_15"], full).fit()
    for m in MECHANISMS:
        est, se = fit.params[f"{m}_9"], fit.bse[f"{m}_9"]
        assert abs(est - truth[f"b[{m}]"]) < Z_GROUP * se, m
    assert abs(fit.params["attendance"] - truth["direct"]) < Z_SINGLE * fit.bse["attendance"]


def _at_risk_days(participants: pd.DataFrame, waves: pd.DataFrame) -> pd.DataFrame:
    cal = load_sample("calendar")
    sex = cal["id"].map(participants.set_index("id")["sex"])
    cal["thr"] = np.where(sex == 1, 4, 5)
    met = (cal["meetings"] > 0).astype(int)
    before = met.groupby(cal["id"]).cumsum() - met  # meeting days up to the day before
    cal["past30"] = ((before - before.groupby(cal["id"]).shift(30)) > 0).astype(float)
    fu = cal[cal["day"] >= 0].copy()
    fu["heavy"] = (fu["drinks"] >= fu["thr"]).astype(int)
    fu["heavy_before"] = fu.groupby("id")["heavy"].cumsum() - fu["heavy"]
    risk = fu[(fu["heavy_before"] == 0) & ~fu["controlled"]].copy()
    risk["phdd0"] = risk["id"].map(waves[waves["month"] == 0].set_index("id")["phdd"])
    risk["early"] = (risk["day"] < 84).astype(float)
    return risk


def test_attendance_hazard_ratio_recovered(frames, truth) -> None:
    participants, waves, _ = frames
    risk = _at_risk_days(participants, waves)
    assert risk["heavy"].sum() > 800
    # discrete-time cloglog model on person-days: the exact model of the generator
    x = sm.add_constant(risk[["past30", "phdd0", "early"]])
    link = sm.families.links.CLogLog()
    fit = sm.GLM(risk["heavy"], x, family=sm.families.Binomial(link)).fit()
    est, se = fit.params["past30"], fit.bse["past30"]
    assert abs(est - truth["log_hr_attendance"]) < Z_SINGLE * se
    assert abs(fit.params["phdd0"] - truth["log_hr_phdd0"]) < Z_SINGLE * fit.bse["phdd0"]

    # Cox model with time-varying attendance (counting process, runs of equal covariates)
    lifelines = pytest.importorskip(
        "lifelines",
        reason="lifelines, the independent cross-check, is not installed (it requires pandas<3)",
    )
    new_run = (
        risk["id"].ne(risk["id"].shift())
        | risk["past30"].ne(risk["past30"].shift())
        | risk["day"].ne(risk["day"].shift() + 1)
    )
    risk["run"] = new_run.cumsum()
    cp = risk.groupby("run").agg(
        id=("id", "first"),
        start=("day", "first"),
        stop=("day", "last"),
        event=("heavy", "max"),
        past30=("past30", "first"),
        phdd0=("phdd0", "first"),
    )
    cp["stop"] = cp["stop"] + 1
    ctv = lifelines.CoxTimeVaryingFitter()
    ctv.fit(cp, id_col="id", start_col="start", stop_col="stop", event_col="event")
    est, se = ctv.params_["past30"], ctv.standard_errors_["past30"]
    assert abs(est - truth["log_hr_attendance"]) < Z_SINGLE * se


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("n", [9, 0, -5])
def test_too_few_people(n) -> None:
    with pytest.raises(DataValidationError, match="`n` must be an integer >= 10"):
        simulate_cohort(n)


@pytest.mark.parametrize("n", [10.5, "100", True, None])
def test_n_not_integer(n) -> None:
    with pytest.raises(ArgumentTypeError, match="`n` must be an integer"):
        simulate_cohort(n)


def test_other_bad_arguments() -> None:
    with pytest.raises(DataValidationError, match="`days` must be an integer >= 450"):
        simulate_cohort(20, days=300)
    with pytest.raises(ArgumentTypeError, match="`days`"):
        simulate_cohort(20, days=455.0)
    with pytest.raises(ArgumentTypeError, match="`parameters` must be a CohortParameters"):
        simulate_cohort(20, parameters={"p_female": 0.5})
    with pytest.raises(ArgumentTypeError, match="rng"):
        simulate_cohort(20, rng="seed")
    with pytest.raises(DataValidationError, match="`batch_size`"):
        compute_truth(5000, batch_size=10)
    with pytest.raises(ArgumentTypeError, match="`parameters`"):
        structural_truth("defaults")


def test_longer_follow_up_is_supported() -> None:
    c = simulate_cohort(15, rng=2, days=540)
    assert c.calendar["day"].max() <= 539
    assert c.waves["month"].max() == 15
