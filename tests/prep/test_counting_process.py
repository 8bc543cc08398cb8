"""to_counting_process and validate_counting_process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError, DataWarning
from mutualaid_outcomes.models.survival.cox_time_varying import fit_cox_time_varying
from mutualaid_outcomes.prep.counting_process import (
    to_counting_process,
    validate_counting_process,
)


def _calendar(rng: np.random.Generator, n: int = 40):
    rows = []
    for i in range(n):  # test data construction only
        days = int(rng.integers(20, 60))
        rows.append(
            pd.DataFrame(
                {
                    "id": 100 + i,
                    "day": np.arange(-10, days),
                    "meetings": rng.poisson(0.3, days + 10).astype(float),
                    "x": np.repeat(rng.integers(0, 2, 4), int(np.ceil((days + 10) / 4)))[
                        : days + 10
                    ],
                }
            )
        )
    cal = pd.concat(rows, ignore_index=True)
    out = pd.DataFrame(
        {
            "id": 100 + np.arange(n),
            "duration": rng.integers(5, 70, n).astype(float),
            "event": rng.integers(0, 2, n),
        }
    )
    return cal, out


def test_waves_last_observation_carried_forward():
    waves = pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2, 2],
            "month": [0, 3, 6, 0, 3, 6],
            "aa": [0.0, 2.0, np.nan, 1.0, np.nan, 4.0],
        }
    )
    out = pd.DataFrame({"id": [1, 2], "t": [8.0, 5.0], "e": [1, 1]})
    cp = to_counting_process(
        waves, out, id="id", time="month", duration="t", event="e", covariates="aa"
    )
    expected = pd.DataFrame(
        {
            "id": [1, 1, 2],
            "start": [0.0, 3.0, 0.0],
            "stop": [3.0, 8.0, 5.0],
            "event": [0, 1, 1],
            "aa": [0.0, 2.0, 1.0],
        }
    )
    pd.testing.assert_frame_equal(cp.data, expected)
    assert (cp.n_rows_unmerged, cp.n_rows, cp.n_ids, cp.n_events) == (5, 3, 2, 2)
    g = cp.glance()
    assert g["n_rows"].iloc[0] == 3 and g["n_rows_unmerged"].iloc[0] == 5
    unmerged = to_counting_process(
        waves, out, id="id", time="month", duration="t", event="e", covariates="aa", merge=False
    )
    assert unmerged.n_rows == 5
    assert unmerged.data["event"].tolist() == [0, 0, 1, 0, 1]


def test_rolling_windows_match_a_loop():
    rng = np.random.default_rng(4)
    cal, out = _calendar(rng)
    cal.loc[rng.choice(len(cal), 15, replace=False), "meetings"] = np.nan
    cp = to_counting_process(
        cal,
        out,
        id="id",
        time="day",
        duration="duration",
        event="event",
        rolling={
            "m7": ("meetings", 7),
            "any7": ("meetings", 7, "any"),
            "mean7": ("meetings", 7, "mean"),
        },
        entry=0,
        merge=False,
    )
    d = cp.data
    for _, row in d.sample(200, random_state=1).iterrows():
        c = cal[
            (cal["id"] == row["id"])
            & (cal["day"] >= row["start"] - 7)
            & (cal["day"] < row["start"])
        ]
        m = c["meetings"]
        if m.isna().any():
            assert np.isnan(row["m7"]) and np.isnan(row["any7"])
        else:
            assert row["m7"] == m.sum()
            assert row["any7"] == float(m.sum() > 0)
            assert row["mean7"] == pytest.approx(m.sum() / 7)
    assert d["start"].min() == 0


def test_intervals_end_at_duration_and_events_on_last_row():
    rng = np.random.default_rng(5)
    cal, out = _calendar(rng)
    cp = to_counting_process(
        cal,
        out,
        id="id",
        time="day",
        duration="duration",
        event="event",
        covariates="x",
        entry=0,
    )
    d = cp.data
    validate_counting_process(d, "id", "start", "stop", "event")
    last = d.groupby("id").tail(1).set_index("id")
    merged = out.set_index("id").loc[last.index]
    # the last record's values are carried forward to the end of follow-up
    np.testing.assert_array_equal(last["stop"], merged["duration"])
    np.testing.assert_array_equal(last["event"], merged["event"])
    assert d.groupby("id")["event"].sum().max() <= 1
    # merging leaves the Cox fit unchanged
    cp0 = to_counting_process(
        cal,
        out,
        id="id",
        time="day",
        duration="duration",
        event="event",
        covariates="x",
        entry=0,
        merge=False,
    )
    a = fit_cox_time_varying(d, "id", "start", "stop", "event", ["x"])
    b = fit_cox_time_varying(cp0.data, "id", "start", "stop", "event", ["x"])
    np.testing.assert_allclose(a.coef(), b.coef(), rtol=1e-10)
    np.testing.assert_allclose(a.vcov(), b.vcov(), rtol=1e-9)
    assert cp.n_rows < cp0.n_rows


def test_people_excluded_are_reported():
    waves = pd.DataFrame({"id": [1, 1, 2, 3], "month": [0, 3, 0, 0], "aa": [1.0, 2.0, 3.0, 4.0]})
    out = pd.DataFrame({"id": [1, 2, 4], "t": [6.0, 0.0, 3.0], "e": [0, 1, 1]})
    with pytest.warns(DataWarning) as rec:
        cp = to_counting_process(
            waves, out, id="id", time="month", duration="t", event="e", covariates="aa"
        )
    text = " ".join(str(w.message) for w in rec)
    assert "no row in `outcomes`" in text and "no records" in text and "at or before" in text
    assert len(cp.notes) == 3
    assert cp.data["id"].unique().tolist() == [1]


def test_does_not_mutate_inputs():
    rng = np.random.default_rng(6)
    cal, out = _calendar(rng, 10)
    cal0, out0 = cal.copy(), out.copy()
    to_counting_process(
        cal,
        out,
        id="id",
        time="day",
        duration="duration",
        event="event",
        covariates="x",
        rolling={"m": ("meetings", 5)},
        entry=0,
    )
    pd.testing.assert_frame_equal(cal, cal0)
    pd.testing.assert_frame_equal(out, out0)


# ---------------------------------------------------------------- bad input


WAVES = pd.DataFrame({"id": [1, 1, 2], "month": [0, 3, 0], "aa": [1.0, 2.0, 3.0]})
OUT = pd.DataFrame({"id": [1, 2], "t": [6.0, 2.0], "e": [1, 0]})


def _cp(waves=WAVES, out=OUT, **kw):
    return to_counting_process(waves, out, id="id", time="month", duration="t", event="e", **kw)


def test_bad_inputs():
    with pytest.raises(DataValidationError, match="duplicated"):
        _cp(waves=pd.concat([WAVES, WAVES.iloc[[0]]]))
    with pytest.raises(DataValidationError, match=">= 0"):
        _cp(out=OUT.assign(t=[-1.0, 2.0]))
    with pytest.raises(DataValidationError, match="missing"):
        _cp(out=OUT.assign(t=[np.nan, 2.0]))
    with pytest.raises(DataValidationError, match="0/1"):
        _cp(out=OUT.assign(e=[1, 3]))
    with pytest.raises(DataValidationError, match="one row per"):
        _cp(out=pd.concat([OUT, OUT.iloc[[0]]]))
    with pytest.raises(ArgumentTypeError, match="tuple"):
        _cp(rolling={"m": "aa"})
    with pytest.raises(DataValidationError, match="positive"):
        _cp(rolling={"m": ("aa", 0)})
    with pytest.raises(DataValidationError, match="summary"):
        _cp(rolling={"m": ("aa", 3, "max")})
    with pytest.raises(DataValidationError, match="clash"):
        _cp(waves=WAVES.assign(start=1.0), covariates=["start"])


def test_validate_counting_process_errors():
    ok = pd.DataFrame({"id": [1, 1, 2], "start": [0, 2, 0], "stop": [2, 5, 4], "event": [0, 1, 0]})
    validate_counting_process(ok, "id", "start", "stop", "event")
    with pytest.raises(DataValidationError, match="stop <= start"):
        validate_counting_process(ok.assign(stop=[2, 2, 4]), "id", "start", "stop", "event")
    with pytest.raises(DataValidationError, match="overlap"):
        validate_counting_process(ok.assign(start=[0, 1, 0]), "id", "start", "stop", "event")
    with pytest.raises(DataValidationError, match="last interval"):
        validate_counting_process(ok.assign(event=[1, 0, 0]), "id", "start", "stop", "event")
    validate_counting_process(
        ok.assign(event=[1, 1, 0]), "id", "start", "stop", "event", recurrent=True
    )
    # row order does not matter
    validate_counting_process(ok.iloc[::-1], "id", "start", "stop", "event")
