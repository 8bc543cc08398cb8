"""The sample cohort's documented hazard ratio of time-varying attendance (TRUTH.md:
``hr_attendance`` = 0.6 per any meeting on days t-30..t-1, given baseline PHDD) is
recovered by the calendar -> counting process -> time-varying Cox pipeline, and
freezing attendance at baseline is biased."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes import datasets
from mutualaid_outcomes.models.survival.cox import fit_cox
from mutualaid_outcomes.models.survival.cox_time_varying import fit_cox_time_varying
from mutualaid_outcomes.participation import relapse
from mutualaid_outcomes.prep.counting_process import to_counting_process


@pytest.fixture(scope="module")
def pipeline():
    cal = datasets.load_sample("calendar")
    part = datasets.load_sample("participants")
    waves = datasets.load_sample("waves")
    truth = datasets.load_sample("truth")
    ids = part["id"].to_numpy()
    rel = relapse.relapse_times(
        cal,
        id="id",
        date="day",
        drinks="drinks",
        definition="first_heavy",
        sex=part.set_index("id")["sex"],
        controlled="controlled",
        index_date=pd.Series(0, index=ids),
    )
    rel = rel.dropna(subset=["duration"])  # people with no day at risk
    phdd0 = waves.loc[waves["month"] == 0, ["id", "phdd"]].rename(columns={"phdd": "phdd0"})
    c = cal.loc[cal["id"].isin(rel["id"]), ["id", "day", "meetings", "controlled"]]
    c = c.merge(phdd0, on="id").assign(controlled=lambda d: d["controlled"].astype(float))
    cp = to_counting_process(
        c,
        rel,
        id="id",
        time="day",
        duration="duration",
        event="event",
        covariates=["phdd0", "controlled"],
        rolling={"a30": ("meetings", 30, "any")},
        entry=0,
    )
    at_risk = cp.data[cp.data["controlled"] == 0]  # controlled days are not at risk
    tv = fit_cox_time_varying(at_risk, "id", "start", "stop", "event", ["a30", "phdd0"])
    base = at_risk.groupby("id").head(1)[["id", "a30", "phdd0"]]
    fixed = fit_cox(rel.merge(base, on="id"), "duration", "event", ["a30", "phdd0"])
    return truth, cp, tv, fixed


def _truth(truth: pd.DataFrame, name: str) -> float:
    t = truth.set_index("quantity") if "quantity" in truth.columns else truth
    return float(t.loc[name, "value"])


def test_time_varying_attendance_recovers_documented_hr(pipeline):
    truth, cp, tv, _ = pipeline
    log_hr = _truth(truth, "log_hr_attendance")
    t = tv.tidy().set_index("term")
    assert t.loc["a30", "conf_low"] < log_hr < t.loc["a30", "conf_high"]
    assert t.loc["phdd0", "conf_low"] < _truth(truth, "log_hr_phdd0") < t.loc["phdd0", "conf_high"]
    assert cp.n_rows < cp.n_rows_unmerged / 50  # merging removes most daily rows


def test_baseline_attendance_is_biased(pipeline):
    truth, _, tv, fixed = pipeline
    log_hr = _truth(truth, "log_hr_attendance")
    est_fixed = fixed.tidy().set_index("term").loc["a30"]
    # the baseline-only estimate misses the truth by many standard errors (towards 1)
    assert abs(est_fixed["estimate"] - log_hr) > 4 * est_fixed["std_error"]
    assert est_fixed["estimate"] > log_hr
    assert not (est_fixed["conf_low"] < log_hr < est_fixed["conf_high"])
    assert np.isfinite(tv.glance()["concordance"].iloc[0])
