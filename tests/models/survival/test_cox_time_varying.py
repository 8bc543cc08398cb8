"""fit_cox_time_varying against R coxph(Surv(start, stop, event) ~ x + cluster(id))."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, EstimationError
from mutualaid_outcomes.models.survival.cox import check_proportional_hazards, fit_cox
from mutualaid_outcomes.models.survival.cox_time_varying import fit_cox_time_varying
from mutualaid_outcomes.prep.counting_process import to_counting_process

# deterministic quantities; R run with eps = 1e-12
RTOL = 1e-6


@pytest.fixture(scope="module")
def heart(test_data) -> pd.DataFrame:
    return test_data("surv_heart.csv")


@pytest.fixture(scope="module")
def cgd(test_data) -> pd.DataFrame:
    return test_data("surv_cgd.csv").assign(later=lambda d: (d["enum"] > 1).astype(int))


@pytest.fixture(scope="module")
def lung(test_data) -> pd.DataFrame:
    return test_data("surv_lung.csv").dropna(subset=["ph.ecog"])


@pytest.fixture(scope="module")
def ref(r_reference):
    """``ref(case, quantity)``: survival_cox.csv values (in term order)."""
    table = r_reference("survival_cox")

    def get(case: str, quantity: str) -> np.ndarray:
        r = table[(table["case"] == case) & (table["quantity"] == quantity)]
        return r["value"].to_numpy()

    return get


@pytest.fixture(scope="module")
def fit(heart, cgd):
    """``fit(case, **options)``: the fits of survival_cox.R by case name."""

    def get(case: str, **kw):
        """The fits of survival_cox.R: ``+ cluster(id)`` there is ``cluster="id"`` here."""
        ties = case.rsplit("_", 1)[1]
        kw = {"cluster": "id", **kw}
        if case.startswith("heart"):
            covs = ["age", "year", "surgery", "transplant"]
            return fit_cox_time_varying(
                heart, "id", "start", "stop", "event", covs, ties=ties, **kw
            )
        if case.startswith("cgd_strata"):
            return fit_cox_time_varying(
                cgd,
                "id",
                "tstart",
                "tstop",
                "status",
                ["treat", "age"],
                strata="later",
                ties=ties,
                recurrent=True,
                **kw,
            )
        covs = ["treat", "female", "age", "autosomal", "steroids", "propylac"]
        return fit_cox_time_varying(
            cgd, "id", "tstart", "tstop", "status", covs, ties=ties, recurrent=True, **kw
        )

    return get


CASES = [f"{d}_{t}" for d in ("heart", "cgd", "cgd_strata") for t in ("efron", "breslow")]


@pytest.mark.parametrize("case", CASES)
def test_matches_r_counting_process(case, ref, fit):
    res = fit(case)
    tidy = res.tidy()
    np.testing.assert_allclose(tidy["estimate"], ref(case, "coef"), rtol=RTOL)
    np.testing.assert_allclose(tidy["std_error"], ref(case, "se"), rtol=RTOL)  # robust, by id
    np.testing.assert_allclose(np.sqrt(np.diag(res.naive_vcov)), ref(case, "naive_se"), rtol=RTOL)
    g = res.glance().iloc[0]
    for q, col in [
        ("loglik", "loglik"),
        ("loglik0", "loglik_null"),
        ("score", "score_statistic"),
        ("wald", "wald_statistic"),
        ("robust_score", "robust_score_statistic"),
        ("concordance", "concordance"),
        ("nevent", "n_events"),
    ]:
        assert g[col] == pytest.approx(ref(case, q)[0], rel=RTOL), q
    z = check_proportional_hazards(res)
    np.testing.assert_allclose(z.table["chisq"], ref(case, "zph_chisq"), rtol=RTOL)
    assert g["n_clusters"] == g["n_ids"]


# R coxph(..., id = id) without a cluster term: model-based SEs unless someone has two
# events (cgd: recurrent infections) or the weights are not whole numbers
DEFAULT_CASES = [
    (f"{d}_default_{t}", robust)
    for d, robust in (("heart", False), ("heart_weights", True), ("cgd", True))
    for t in ("efron", "breslow")
]


@pytest.mark.parametrize(("case", "robust"), DEFAULT_CASES, ids=[c for c, _ in DEFAULT_CASES])
def test_default_cov_type_follows_r_coxph(case, robust, ref, heart, fit):
    ties = case.rsplit("_", 1)[1]
    if case.startswith("heart_weights"):
        # survival_cox.R: heart$w <- 1 + (seq_len(nrow(heart)) %% 3) / 2
        weighted = heart.assign(w=1 + (np.arange(1, len(heart) + 1) % 3) / 2)
        covs = ["age", "year", "surgery", "transplant"]
        res = fit_cox_time_varying(
            weighted, "id", "start", "stop", "event", covs, weights="w", ties=ties
        )
    else:
        res = fit(f"{case.split('_')[0]}_{ties}", cluster=None)
    np.testing.assert_allclose(res.tidy()["estimate"], ref(case, "coef"), rtol=RTOL)
    np.testing.assert_allclose(res.tidy()["std_error"], ref(case, "se"), rtol=RTOL)
    g = res.glance().iloc[0]
    assert g["robust"] == robust and res.cov_type == ("robust" if robust else "model")
    if robust:  # clustered by id, as R does with `id`
        naive = np.sqrt(np.diag(res.naive_vcov))
        np.testing.assert_allclose(naive, ref(case, "naive_se"), rtol=RTOL)
        assert g["n_clusters"] == g["n_ids"]
    else:
        assert np.isnan(g["n_clusters"])
        # heart: the R default (model-based) and the by-id robust Wald statistics differ
        assert g["wald_statistic"] == pytest.approx(ref(case, "wald")[0], rel=RTOL)
        robust_wald = fit(f"heart_{ties}").glance()["wald_statistic"].iloc[0]
        assert robust_wald == pytest.approx(ref(f"heart_{ties}", "wald")[0], rel=RTOL)
        assert abs(robust_wald / g["wald_statistic"] - 1) > 0.01


def test_glance_counts(heart, fit):
    g = fit("heart_efron").glance().iloc[0]
    assert g["n"] == len(heart)
    assert g["n_ids"] == heart["id"].nunique()
    assert g["robust"]
    res = fit_cox_time_varying(heart, "id", "start", "stop", "event", ["age"], cov_type="model")
    assert np.isnan(res.glance()["n_clusters"].iloc[0])
    np.testing.assert_allclose(res.vcov(), res.naive_vcov)


def test_one_row_per_person_equals_fit_cox(lung):
    lung = lung.assign(dead=(lung["status"] == 2).astype(int), start=0.0, pid=np.arange(len(lung)))
    a = fit_cox_time_varying(
        lung, "pid", "start", "time", "dead", ["age", "ph.ecog"], cov_type="model"
    )
    b = fit_cox(lung, "time", "dead", ["age", "ph.ecog"])
    np.testing.assert_allclose(a.coef(), b.coef(), rtol=1e-10)
    np.testing.assert_allclose(a.vcov(), b.vcov(), rtol=1e-10)


def test_splitting_intervals_does_not_change_fit(lung):
    # splitting (0, t] at arbitrary points with constant covariates leaves the likelihood unchanged
    lung = lung.assign(dead=(lung["status"] == 2).astype(int), pid=np.arange(len(lung)))
    first = lung.assign(start=0.0, stop=lung["time"] / 2, dead=0)
    second = lung.assign(start=lung["time"] / 2, stop=lung["time"])
    split = pd.concat([first, second], ignore_index=True)
    a = fit_cox_time_varying(
        split, "pid", "start", "stop", "dead", ["age", "ph.ecog"], cov_type="robust"
    )
    b = fit_cox(lung, "time", "dead", ["age", "ph.ecog"], cov_type="robust")
    np.testing.assert_allclose(a.coef(), b.coef(), rtol=1e-9)
    np.testing.assert_allclose(a.vcov(), b.vcov(), rtol=1e-8)
    # one event per person at most: both defaults are model-based (R coxph's rule)
    a0 = fit_cox_time_varying(split, "pid", "start", "stop", "dead", ["age", "ph.ecog"])
    b0 = fit_cox(lung, "time", "dead", ["age", "ph.ecog"])
    assert a0.cov_type == b0.cov_type == "model"
    np.testing.assert_allclose(a0.vcov(), b0.vcov(), rtol=1e-8)


def _simulate_daily(n: int, rng: np.random.Generator, log_hr: float, days: int = 200):
    """Daily exposure that switches on and off; discrete-time hazard exp(a + b * exposure)."""
    on = np.zeros((n, days), dtype=float)
    state = rng.random(n) < 0.3
    for d in range(days):  # short loop over days only (the data-generating process)
        flip = rng.random(n) < 0.03
        state = np.where(flip, ~state, state)
        on[:, d] = state
    base = rng.normal(size=n)
    lin = -5.0 + log_hr * on + 0.5 * base[:, None]
    hz = -np.expm1(-np.exp(lin))
    ev = rng.random((n, days)) < hz
    has = ev.any(axis=1)
    first = np.where(has, ev.argmax(axis=1), days - 1)
    cal = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), days),
            "day": np.tile(np.arange(days), n),
            "exposed": on.ravel(),
            "base": np.repeat(base, days),
        }
    )
    out = pd.DataFrame({"id": np.arange(n), "duration": first + 1.0, "event": has.astype(int)})
    return cal, out


def test_recovers_time_varying_hazard_ratio_and_baseline_bias():
    rng = np.random.default_rng(2024)
    cal, out = _simulate_daily(3000, rng, np.log(0.5))
    cp = to_counting_process(
        cal,
        out,
        id="id",
        time="day",
        duration="duration",
        event="event",
        covariates=["exposed", "base"],
    )
    assert cp.n_rows < cp.n_rows_unmerged
    res = fit_cox_time_varying(cp.data, "id", "start", "stop", "event", ["exposed", "base"])
    t = res.tidy().set_index("term")
    assert t.loc["exposed", "conf_low"] < np.log(0.5) < t.loc["exposed", "conf_high"]
    assert t.loc["base", "conf_low"] < 0.5 < t.loc["base", "conf_high"]
    # exposure frozen at baseline is attenuated towards no effect
    base_exp = cal[cal["day"] == 0][["id", "exposed", "base"]]
    fixed = fit_cox(out.merge(base_exp, on="id"), "duration", "event", ["exposed", "base"])
    est_fixed = fixed.tidy().set_index("term").loc["exposed", "estimate"]
    assert abs(est_fixed - np.log(0.5)) > 3 * t.loc["exposed", "std_error"]
    assert np.log(0.5) < est_fixed < 0


def test_does_not_mutate_input(heart):
    heart = heart.copy()
    fit_cox_time_varying(heart, "id", "start", "stop", "event", ["age", "transplant"])
    pd.testing.assert_frame_equal(heart, heart)


# ---------------------------------------------------------------- bad input


def test_stop_not_after_start(heart):
    df = heart.copy()
    df.loc[0, "stop"] = df.loc[0, "start"]
    with pytest.raises(DataValidationError, match="stop <= start"):
        fit_cox_time_varying(df, "id", "start", "stop", "event", ["age"])


def test_overlapping_intervals(heart):
    df = heart.copy()
    i = df.index[df["id"] == 4][1]
    df.loc[i, "start"] = df.loc[i, "start"] - 5
    with pytest.raises(DataValidationError, match="overlap"):
        fit_cox_time_varying(df, "id", "start", "stop", "event", ["age"])


def test_event_not_on_last_interval(cgd):
    with pytest.raises(DataValidationError, match="not on the person's last interval"):
        fit_cox_time_varying(cgd, "id", "tstart", "tstop", "status", ["treat"])


def test_no_events_and_bad_codes(heart):
    with pytest.raises(EstimationError, match="no events"):
        fit_cox_time_varying(heart.assign(event=0), "id", "start", "stop", "event", ["age"])
    with pytest.raises(DataValidationError, match="0/1"):
        fit_cox_time_varying(
            heart.assign(event=heart["event"] * 2), "id", "start", "stop", "event", ["age"]
        )


def test_constant_covariate_within_strata(heart):
    with pytest.raises(DataValidationError, match="constant within every stratum"):
        fit_cox_time_varying(
            heart, "id", "start", "stop", "event", ["age", "surgery"], strata="surgery"
        )
