"""kaplan_meier against R survival 3.5.3 survfit / quantile / summary / survdiff
(tests/reference/survival_km.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.models.survival.kaplan_meier import KM_TABLE_COLUMNS, kaplan_meier

RTOL = 1e-6  # deterministic

CASES = {
    **{
        f"lung_sex_{ct}": ("lung", "time", "dead", "sex", 0.95, ct)
        for ct in ("log", "log-log", "plain")
    },
    **{
        f"vet_{ct}": ("vet", "time", "status", None, 0.95, ct) for ct in ("log", "log-log", "plain")
    },
    "lung_sex_log_90": ("lung", "time", "dead", "sex", 0.90, "log"),
    "colon_rx_log": ("colon", "time", "status", "rx", 0.95, "log"),
}


@pytest.fixture(scope="module")
def lung(test_data) -> pd.DataFrame:
    return test_data("surv_lung.csv").assign(dead=lambda d: (d["status"] == 2).astype(int))


@pytest.fixture(scope="module")
def vet(test_data) -> pd.DataFrame:
    return test_data("surv_veteran.csv")


@pytest.fixture(scope="module")
def colon(test_data) -> pd.DataFrame:
    return test_data("surv_colon.csv")


@pytest.fixture(scope="module")
def km_ref(r_reference) -> pd.DataFrame:
    """tests/reference/survival_km.csv (R survfit, quantile.survfit, survdiff)."""
    return r_reference("survival_km")


@pytest.fixture(scope="module")
def fit_km(lung, vet, colon):
    """``fit_km(case)``: the Kaplan-Meier fit of survival_km.R's case."""
    frames = {"lung": lung, "vet": vet, "colon": colon}

    def get(case):
        data, t, e, g, level, ct = CASES[case]
        return kaplan_meier(frames[data], t, e, by=g, conf_level=level, conf_type=ct)

    return get


def _close(a, b):
    a = np.asarray(a, float)
    b = np.asarray(b, float)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=RTOL)


@pytest.mark.parametrize("case", sorted(CASES))
def test_table_matches_survfit(case, km_ref, fit_km):
    km = fit_km(case)
    r = km_ref[(km_ref["case"] == case) & (km_ref["kind"] == "table")]
    t = km.table
    assert list(t.columns) == list(KM_TABLE_COLUMNS)
    assert t["group"].astype(str).tolist() == r["group"].astype(str).tolist()
    for col in (
        "time",
        "n_risk",
        "n_event",
        "n_censor",
        "survival",
        "std_error",
        "conf_low",
        "conf_high",
    ):
        _close(t[col], r[col])


@pytest.mark.parametrize("case", sorted(CASES))
def test_quantiles_match_r(case, km_ref, fit_km):
    q = fit_km(case).quantile([0.25, 0.5, 0.75])
    for p in (25, 50, 75):
        r = km_ref[(km_ref["case"] == case) & (km_ref["kind"] == f"quantile{p}")]
        qq = q[q["prob"] == p / 100]
        _close(qq["time"], r["time"])
        _close(qq["conf_low"], r["conf_low"])
        _close(qq["conf_high"], r["conf_high"])


def test_median_and_tidy(fit_km):
    km = fit_km("lung_sex_log")
    med = km.median_survival()
    assert med["median"].tolist() == [270.0, 426.0]
    assert med["conf_low"].tolist() == [212.0, 348.0]
    assert med["conf_high"].tolist() == [310.0, 550.0]
    tidy = km.tidy()
    assert tidy["term"].tolist() == ["median[1]", "median[2]"]
    np.testing.assert_array_equal(tidy["estimate"], med["median"])
    # another level recomputes the limits
    assert km.tidy(conf_level=0.9)["conf_low"].tolist() != tidy["conf_low"].tolist()
    with pytest.raises(OptionError):
        km.tidy(exponentiate=True)


def test_median_on_flat_half_uses_midpoint():
    # S = 0.5 exactly on [4, 6): R reports the midpoint, 5
    df = pd.DataFrame({"t": [2, 4, 6, 8], "e": [1, 1, 1, 1]})
    assert kaplan_meier(df, "t", "e").median_survival()["median"].iloc[0] == 5.0


def test_at_risk_and_survival_at_times(km_ref, fit_km):
    km = fit_km("lung_sex_log")
    times = [0, 100, 200, 365, 500, 730]
    r = km_ref[km_ref["case"] == "lung_sex_times"]
    a = km.at_risk(times)
    np.testing.assert_array_equal(a["n_risk"], r["n_risk"])
    # R reports events in each interval; ours are cumulative
    cum = r.groupby("group")["n_event"].cumsum()
    np.testing.assert_array_equal(a["n_event"], cum)
    s = km.survival_at(times)
    for col in ("survival", "std_error", "conf_low", "conf_high"):
        _close(s[col], r[col])
    beyond = km.survival_at([5000])
    assert beyond["survival"].isna().all()


def test_logrank_and_trend_match_survdiff(lung, colon, km_ref):
    for case, data, group in [
        ("lung_sex_logrank", lung, "sex"),
        ("colon_rx_logrank", colon, "rx"),
        ("lung_ecog_logrank", lung.dropna(subset=["ph.ecog"]), "ph.ecog"),
    ]:
        km = kaplan_meier(data, "time", "status" if case.startswith("colon") else "dead", group)
        r = km_ref[km_ref["case"] == case].set_index("kind")
        lr = km.logrank()
        assert lr.statistic == pytest.approx(r.loc["chisq", "survival"], rel=RTOL)
        assert lr.df == int(r.loc["df", "survival"])
        exp_ = km_ref[(km_ref["case"] == case) & (km_ref["kind"] == "expected")]
        np.testing.assert_allclose(lr.table["expected"], exp_["survival"], rtol=RTOL)
        np.testing.assert_array_equal(lr.table["observed"], exp_["n_event"])
        tr = km.trend_test()
        assert tr.statistic == pytest.approx(r.loc["trend", "survival"], rel=RTOL)
        assert tr.df == 1
        g = km.glance().iloc[0]
        assert g["logrank_statistic"] == pytest.approx(lr.statistic)
        assert lr.tidy()["statistic"].iloc[0] == lr.statistic


def test_single_group_glance_and_errors(vet, fit_km):
    km = fit_km("vet_log")
    g = km.glance().iloc[0]
    assert g["n"] == len(vet) and g["n_groups"] == 1 and np.isnan(g["logrank_statistic"])
    with pytest.raises(EstimationError, match="two groups"):
        km.logrank()
    km2 = fit_km("colon_rx_log")
    with pytest.raises(DataValidationError, match="one finite number per group"):
        km2.trend_test(scores=[1, 2])


def test_does_not_mutate_input(lung):
    before = lung.copy()
    kaplan_meier(lung, "time", "dead", "sex")
    pd.testing.assert_frame_equal(lung, before)


def test_row_order_irrelevant(lung, fit_km):
    shuffled = lung.sample(frac=1, random_state=3)
    a = kaplan_meier(shuffled, "time", "dead", "sex").table
    b = fit_km("lung_sex_log").table
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------- bad input


def test_negative_duration(lung):
    with pytest.raises(DataValidationError, match=">= 0"):
        kaplan_meier(lung.assign(time=-lung["time"]), "time", "dead")


def test_missing_duration_reported(lung):
    df = lung.copy()
    df.loc[[0, 5, 9], "time"] = np.nan
    km = kaplan_meier(df, "time", "dead")
    assert km.glance()["n_dropped"].iloc[0] == 3
    assert "time: 3" in km.notes[0]


def test_event_codes(lung):
    with pytest.raises(DataValidationError, match=r"0/1.*\[2\]"):
        kaplan_meier(lung, "time", "status")
    km = kaplan_meier(lung.assign(dead=lung["dead"].astype(bool)), "time", "dead")
    assert km.table["n_event"].sum() == lung["dead"].sum()


def test_no_events_gives_flat_curve(lung):
    km = kaplan_meier(lung.assign(dead=0), "time", "dead")
    assert (km.table["survival"] == 1).all()
    assert km.median_survival()["median"].isna().all()


def test_argument_errors(lung, fit_km):
    with pytest.raises(ColumnNotFoundError):
        kaplan_meier(lung, "tme", "dead")
    with pytest.raises(OptionError, match="conf_type"):
        kaplan_meier(lung, "time", "dead", conf_type="logit")
    with pytest.raises(ArgumentTypeError):
        kaplan_meier(lung, "time", "dead", by=["sex"])
    with pytest.raises(DataValidationError, match="non-negative"):
        fit_km("vet_log").at_risk([-1])
