import math

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    OptionError,
)
from mutualaid_outcomes.participation import CALENDAR_COLUMNS, summarize_calendar

# Every quantity is a ratio of small integers or a sum of floats: agreement to
# floating-point rounding is expected.
EXACT = 1e-12


def ten_day(drinks, start="2024-03-01", pid=1, **extra):
    cal = pd.DataFrame(
        {"id": pid, "date": pd.date_range(start, periods=len(drinks)), "drinks": drinks}
    )
    for k, v in extra.items():
        cal[k] = v
    return cal


# ---------------------------------------------------------------- hand-worked


def test_hand_worked_ten_days():
    # day:     0  1  2  3  4  5  6  7  8  9
    drinks = [0, 0, 2, 0, 0, 0, 7, 4, 0, 0]
    out = summarize_calendar(ten_day(drinks), windows=[(0, 10)]).iloc[0]
    # abstinent days: 0,1,3,4,5,8,9 = 7 of 10 at risk
    assert out["pda"] == pytest.approx(0.7, abs=EXACT)
    # drinking days 2, 6, 7: 2 + 7 + 4 = 13 drinks over 3 days
    assert out["ddd"] == pytest.approx(13 / 3, abs=EXACT)
    assert out["total_drinks"] == 13
    # heavy (>= 5, default male threshold when sex is None): day 6 only
    assert out["phdd"] == pytest.approx(0.1, abs=EXACT)
    # abstinent runs: [0,1] = 2, [3,4,5] = 3, [8,9] = 2
    assert out["longest_abstinent_run"] == 3
    assert out["first_drink_day"] == 2 and out["first_drink_event"] == 1
    assert out["first_heavy_day"] == 6 and out["first_heavy_event"] == 1
    assert out["days_observed"] == 10 and out["days_at_risk"] == 10
    assert out["coverage"] == 1.0 and bool(out["complete"])


def test_women_threshold_is_four():
    drinks = [0, 0, 2, 0, 0, 0, 7, 4, 0, 0]
    men = ten_day(drinks, pid=1, sex=0)
    women = ten_day(drinks, pid=2, sex=1)
    out = summarize_calendar(pd.concat([men, women]), windows=[(0, 10)], sex="sex")
    # man: heavy only on day 6 (7 drinks); woman: days 6 and 7 (7 and 4 drinks)
    assert out["heavy_days"].tolist() == [1, 2]
    assert out["phdd"].tolist() == pytest.approx([0.1, 0.2])
    assert out["heavy_threshold"].tolist() == [5.0, 4.0]
    # custom thresholds as a (male, female) pair
    out2 = summarize_calendar(
        pd.concat([men, women]), windows=[(0, 10)], sex="sex", heavy_threshold=(7, 2)
    )
    assert out2["heavy_days"].tolist() == [1, 3]
    # sex as a mapping with string labels
    out3 = summarize_calendar(pd.concat([men, women]), windows=[(0, 10)], sex={1: "male", 2: "F"})
    assert out3["heavy_days"].tolist() == [1, 2]


def test_no_drinking_days_gives_missing_ddd_and_censoring():
    out = summarize_calendar(ten_day([0] * 10), windows=[(0, 10)]).iloc[0]
    assert math.isnan(out["ddd"])
    assert out["pda"] == 1.0 and out["phdd"] == 0.0
    assert out["longest_abstinent_run"] == 10
    # censored at the last observed day of the window (day 9)
    assert out["first_drink_event"] == 0 and out["first_drink_day"] == 9
    assert out["first_heavy_event"] == 0 and out["first_heavy_day"] == 9


def test_controlled_days_leave_denominator():
    drinks = [0, 0, 0, 0, 3, 0, 0, 0, 0, 0]
    ctrl = [False, False, True, True, True, False, False, False, False, False]
    out = summarize_calendar(ten_day(drinks, ctrl=ctrl), windows=[(0, 10)], controlled="ctrl")
    row = out.iloc[0]
    # days 2-4 controlled: 7 days at risk, all abstinent (the drink on day 4 was controlled)
    assert row["days_observed"] == 10 and row["days_controlled"] == 3
    assert row["days_at_risk"] == 7
    assert row["pda"] == 1.0 and math.isnan(row["ddd"])
    # controlled days break runs: [0,1] and [5..9]
    assert row["longest_abstinent_run"] == 5
    assert row["first_drink_event"] == 0 and row["first_drink_day"] == 9


def test_controlled_as_zero_one_with_missing_drinks():
    drinks = [0, np.nan, np.nan, 1, 0]
    ctrl = [0, 1, 0, 0, 0]
    out = summarize_calendar(ten_day(drinks, ctrl=ctrl), windows=[(0, 5)], controlled="ctrl")
    row = out.iloc[0]
    # day 1: controlled with no drink record -> observed, not at risk; day 2: unobserved
    assert row["days_observed"] == 4 and row["days_at_risk"] == 3
    assert row["coverage"] == pytest.approx(0.8)
    assert not row["complete"]
    assert row["pda"] == pytest.approx(2 / 3)


def test_window_longer_than_calendar_reports_partial_coverage():
    out = summarize_calendar(ten_day([0, 1] * 5), windows={"first": (0, 90), "second": (90, 180)})
    first, second = out.iloc[0], out.iloc[1]
    assert first["window"] == "first" and second["window"] == "second"
    assert first["days_observed"] == 10
    assert first["coverage"] == pytest.approx(10 / 90)
    assert not first["complete"]
    # rates use the observed days only; nothing is extrapolated
    assert first["pda"] == 0.5 and first["total_drinks"] == 5
    assert second["days_observed"] == 0 and second["coverage"] == 0
    assert math.isnan(second["pda"]) and math.isnan(second["first_drink_day"])
    assert second["first_drink_event"] == 0


def test_windows_relative_to_index_date_and_before_index_rows():
    cal = ten_day([5, 5, 0, 0, 0, 1, 0, 0, 0, 0])  # 2024-03-01 .. 2024-03-10
    idx = pd.Series({1: pd.Timestamp("2024-03-03")})
    out = summarize_calendar(cal, windows=[(0, 4), (-2, 0)], index_date=idx)
    after, before = out.iloc[0], out.iloc[1]
    # days 0..3 after the index date: drinks 0,0,0,1
    assert after["pda"] == 0.75 and after["first_drink_day"] == 3
    # the two days before the index date: both heavy
    assert before["phdd"] == 1.0 and before["first_heavy_day"] == -2
    assert out.attrs["calendar_rows"]["n_rows_before_index"] == 0

    out2 = summarize_calendar(cal, windows=[(0, 4)], index_date=idx)
    rows = out2.attrs["calendar_rows"]
    assert rows == {
        "n_rows": 10,
        "n_rows_in_windows": 4,
        "n_rows_outside_windows": 6,
        "n_rows_before_index": 2,
    }
    with pytest.raises(DataValidationError, match="2 row.*before the person's index date"):
        summarize_calendar(cal, windows=[(0, 4)], index_date=idx, before_index="raise")


def test_index_date_forms_agree():
    rng = np.random.default_rng(3)
    cal = random_calendar(rng, n_people=5, n_days=40)
    idx = cal.groupby("id")["date"].min() + pd.to_timedelta(rng.integers(0, 10, 5), unit="D")
    a = summarize_calendar(cal, windows=[(0, 20)], index_date=idx)
    b = summarize_calendar(cal, windows=[(0, 20)], index_date=idx.to_dict())
    c = summarize_calendar(cal, windows=[(0, 20)], index_date=idx.rename("start").reset_index())
    d = summarize_calendar(
        cal.assign(start=cal["id"].map(idx)), windows=[(0, 20)], index_date="start"
    )
    for other in (b, c, d):
        pd.testing.assert_frame_equal(a, other)


def test_integer_day_numbers():
    cal = pd.DataFrame({"id": [7] * 5, "day": [0, 1, 2, 3, 4], "drinks": [0, 0, 6, 0, 0]})
    out = summarize_calendar(cal, date="day", windows=[(0, 5)], index_date={7: 0})
    assert out.loc[0, "first_heavy_day"] == 2 and out.loc[0, "pda"] == 0.8
    with pytest.raises(DataValidationError, match="same kind"):
        summarize_calendar(
            cal, date="day", windows=[(0, 5)], index_date={7: pd.Timestamp("2024-01-01")}
        )


def test_meetings_columns_and_90_in_90():
    n = 100
    cal = pd.DataFrame(
        {
            "id": 1,
            "date": pd.date_range("2024-01-01", periods=n),
            "drinks": 0.0,
            "meetings": [2] * 45 + [0] * 55,  # 90 meetings in days 0-44
        }
    )
    out = summarize_calendar(cal, meetings="meetings", windows=[(0, 90), (0, 60), (50, 150)])
    full, short, late = out.iloc[0], out.iloc[1], out.iloc[2]
    assert full["meeting_days"] == 45 and full["total_meetings"] == 90
    assert full["pct_days_attending"] == pytest.approx(50.0)
    assert bool(full["meetings_90_in_90"])
    assert pd.isna(short["meetings_90_in_90"])  # window shorter than 90 days
    # days 50-99 recorded (50 of the first 90 window days), no meetings: unknown
    assert pd.isna(late["meetings_90_in_90"])
    cal2 = cal.assign(meetings=1)
    cal2.loc[10, "meetings"] = 0
    out2 = summarize_calendar(cal2, meetings="meetings", windows=[(0, 90)])
    assert out2.loc[0, "total_meetings"] == 89
    assert not bool(out2.loc[0, "meetings_90_in_90"])


def test_output_layout_one_row_per_person_and_window():
    rng = np.random.default_rng(11)
    cal = random_calendar(rng, n_people=4, n_days=30)
    out = summarize_calendar(cal, windows=[(0, 10), (10, 20), (20, 40)])
    assert list(out.columns) == ["id", *CALENDAR_COLUMNS]
    assert len(out) == 12
    assert out["id"].tolist() == sorted(cal["id"].unique().tolist() * 3)
    assert out["window"].tolist() == ["0-10", "10-20", "20-40"] * 4


def test_does_not_mutate_input():
    rng = np.random.default_rng(5)
    cal = random_calendar(rng, n_people=6, n_days=25).sample(frac=1, random_state=1)
    before = cal.copy(deep=True)
    summarize_calendar(
        cal, meetings="meetings", controlled="ctrl", sex="sex", windows=[(0, 10), (5, 30)]
    )
    pd.testing.assert_frame_equal(cal, before)


def test_row_order_does_not_matter():
    rng = np.random.default_rng(8)
    cal = random_calendar(rng, n_people=8, n_days=30)
    kw = dict(meetings="meetings", controlled="ctrl", sex="sex", windows=[(0, 15), (15, 30)])
    a = summarize_calendar(cal, **kw)
    b = summarize_calendar(cal.sample(frac=1, random_state=2), **kw)
    pd.testing.assert_frame_equal(a, b)


# ---------------------------------------------------------------- bad input


def test_duplicate_id_date_rows():
    cal = ten_day([0] * 10)
    bad = pd.concat([cal, cal.iloc[[3, 5]]], ignore_index=True)
    with pytest.raises(
        DataValidationError, match=r"2 duplicate \(id, date\).*positions \[10, 11\]"
    ):
        summarize_calendar(bad)


def test_negative_drinks():
    cal = ten_day([0, 1, -2, 0, 0, 0, 0, 0, 0, -1])
    with pytest.raises(DataValidationError, match=r"'drinks'.*2 invalid.*\[2, 9\].*-2.0"):
        summarize_calendar(cal)


def test_non_numeric_drinks():
    cal = ten_day(["0", "1", "refused", "0", "0", "0", "0", "0", "0", "0"])
    with pytest.raises(DataValidationError, match=r"'drinks'.*non-numeric.*\[2\].*'refused'"):
        summarize_calendar(cal)


def test_negative_meetings():
    cal = ten_day([0] * 10, m=[0] * 9 + [-1])
    with pytest.raises(DataValidationError, match=r"'m'.*\[9\]"):
        summarize_calendar(cal, meetings="m")


def test_missing_column_suggests():
    cal = ten_day([0] * 10)
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'drinks'"):
        summarize_calendar(cal, drinks="drink")


def test_bad_windows_and_options():
    cal = ten_day([0] * 10)
    with pytest.raises(DataValidationError, match="end > start"):
        summarize_calendar(cal, windows=[(10, 10)])
    with pytest.raises(DataValidationError, match="whole days"):
        summarize_calendar(cal, windows=[(0, 9.5)])
    with pytest.raises(ArgumentTypeError):
        summarize_calendar(cal, windows="0-90")
    with pytest.raises(OptionError, match="before_index"):
        summarize_calendar(cal, before_index="drop")
    with pytest.raises(ArgumentTypeError):
        summarize_calendar(cal.to_dict())


def test_bad_sex_and_dates():
    cal = ten_day([0] * 10, sex="x")
    with pytest.raises(DataValidationError, match="`sex` has values"):
        summarize_calendar(cal, sex="sex")
    cal = ten_day([0] * 10, sex=[0] * 5 + [1] * 5)
    with pytest.raises(DataValidationError, match="constant within each person"):
        summarize_calendar(cal, sex="sex")
    cal = ten_day([0] * 10)
    cal["date"] = cal["date"].astype(str)
    with pytest.raises(DataValidationError, match="to_datetime"):
        summarize_calendar(cal)
    with pytest.raises(DataValidationError, match="no value for 1"):
        summarize_calendar(ten_day([0] * 10), index_date={2: pd.Timestamp("2024-01-01")})


# ---------------------------------------------------------------- loop reference


def random_calendar(rng, n_people=30, n_days=60):
    """Irregular calendars: gaps, missing drink counts, controlled days, sexes, meetings."""
    frames = []
    for pid in range(n_people):
        n = int(rng.integers(5, n_days))
        days = np.sort(rng.choice(n_days + 20, size=n, replace=False))
        drinks = np.where(rng.random(n) < 0.6, 0.0, rng.integers(1, 9, n).astype(float))
        drinks[rng.random(n) < 0.05] = np.nan
        meetings = rng.poisson(0.7, n).astype(float)
        meetings[rng.random(n) < 0.05] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "id": 100 + pid,
                    "date": pd.Timestamp("2023-06-01")
                    + pd.to_timedelta(days + int(rng.integers(0, 30)), unit="D"),
                    "drinks": drinks,
                    "meetings": meetings,
                    "ctrl": rng.random(n) < 0.08,
                    "sex": int(rng.integers(0, 2)),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def reference_summary(cal, windows, thresholds=(5.0, 4.0)):
    """Day-by-day loop over people and windows (slow, obvious)."""
    rows = []
    for pid, g in cal.groupby("id"):
        index = g["date"].min()
        rec = {
            (d - index).days: (x, c, m)
            for d, x, c, m in zip(g["date"], g["drinks"], g["ctrl"], g["meetings"])
        }
        thr = thresholds[1] if g["sex"].iloc[0] == 1 else thresholds[0]
        for start, end in windows:
            r = dict(id=pid, observed=0, risk=0, abst=0, drink=0, heavy=0, total=0.0)
            run = best = 0
            first_drink = first_heavy = last_risk = None
            mdays = mrec = 0
            mtotal = 0.0
            for day in range(start, end):
                x, c, m = rec.get(day, (np.nan, False, np.nan))
                if not np.isnan(m):
                    mrec += 1
                    mtotal += m
                    mdays += m > 0
                if c or not np.isnan(x):
                    r["observed"] += 1
                at_risk = (not c) and not np.isnan(x)
                if at_risk:
                    r["risk"] += 1
                    last_risk = day
                    r["total"] += x
                    if x == 0:
                        r["abst"] += 1
                        run += 1
                        best = max(best, run)
                    else:
                        run = 0
                        r["drink"] += 1
                        if first_drink is None:
                            first_drink = day
                    if x >= thr:
                        r["heavy"] += 1
                        if first_heavy is None:
                            first_heavy = day
                else:
                    run = 0
            r["pda"] = r["abst"] / r["risk"] if r["risk"] else np.nan
            r["phdd"] = r["heavy"] / r["risk"] if r["risk"] else np.nan
            r["ddd"] = r["total"] / r["drink"] if r["drink"] else np.nan
            r["run"] = best
            censor = np.nan if last_risk is None else last_risk
            r["fd"] = censor if first_drink is None else first_drink
            r["fd_event"] = int(first_drink is not None)
            r["fh"] = censor if first_heavy is None else first_heavy
            r["fh_event"] = int(first_heavy is not None)
            r["mdays"] = mdays
            r["mtotal"] = mtotal
            r["pct"] = 100 * mdays / mrec if mrec else np.nan
            rows.append(r)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agrees_with_loop_reference(seed):
    rng = np.random.default_rng(seed)
    cal = random_calendar(rng)
    windows = [(0, 30), (30, 90), (10, 25)]
    got = summarize_calendar(
        cal, meetings="meetings", windows=windows, sex="sex", controlled="ctrl"
    )
    ref = reference_summary(cal, windows)
    pairs = {
        "days_observed": "observed",
        "days_at_risk": "risk",
        "abstinent_days": "abst",
        "drinking_days": "drink",
        "heavy_days": "heavy",
        "total_drinks": "total",
        "pda": "pda",
        "ddd": "ddd",
        "phdd": "phdd",
        "longest_abstinent_run": "run",
        "first_drink_day": "fd",
        "first_drink_event": "fd_event",
        "first_heavy_day": "fh",
        "first_heavy_event": "fh_event",
        "meeting_days": "mdays",
        "total_meetings": "mtotal",
        "pct_days_attending": "pct",
    }
    assert got["id"].tolist() == ref["id"].tolist()
    for ours, theirs in pairs.items():
        np.testing.assert_allclose(
            got[ours].to_numpy(dtype=float),
            ref[theirs].to_numpy(dtype=float),
            rtol=EXACT,
            atol=EXACT,
            err_msg=ours,
        )
    # the random calendars do exercise every branch
    assert got["first_drink_event"].between(0, 1).all()
    assert (got["first_drink_event"] == 0).any() and (got["first_drink_event"] == 1).any()
    assert (got["coverage"] < 1).any() and (got["days_controlled"] > 0).any()


def test_participants_frame_for_sex_and_index_date():
    rng = np.random.default_rng(12)
    cal = random_calendar(rng, n_people=6, n_days=40)
    part = (
        cal.groupby("id")
        .agg(index_date=("date", "min"), sex=("sex", "first"))
        .reset_index()
        .assign(age=40, arm="TSF")
    )
    a = summarize_calendar(cal, windows=[(0, 30)], sex=part, index_date=part)
    b = summarize_calendar(cal, windows=[(0, 30)], sex="sex")
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(DataValidationError, match="exactly one other column"):
        summarize_calendar(cal, index_date=part.rename(columns={"index_date": "start"}))


def test_times_of_day_and_time_zones_are_ignored():
    cal = ten_day([0, 0, 6, 0, 0, 0, 0, 0, 0, 0])
    base = summarize_calendar(cal, windows=[(0, 10)])
    shifted = cal.assign(date=cal["date"] + pd.Timedelta(hours=13))
    pd.testing.assert_frame_equal(summarize_calendar(shifted, windows=[(0, 10)]), base)
    aware = cal.assign(date=cal["date"].dt.tz_localize("UTC"))
    pd.testing.assert_frame_equal(summarize_calendar(aware, windows=[(0, 10)]), base)
