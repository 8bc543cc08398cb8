"""summarize_calendar and relapse_times return exactly what the previous implementation did.

The previous per-window mask-and-bincount implementation is kept frozen in
tests/reference/previous_calendar.py. Frames are compared with ``check_exact=True`` on the
sample cohort and on random calendars with gaps, missing and controlled days, rows
outside every window and before the index date, unsorted rows and several column types;
bad input must raise the same error with the same message.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.participation import relapse, relapse_times, summarize_calendar

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "src" / "mutualaid_outcomes" / "datasets" / "sample"


def _load_previous():
    name = "previous_calendar"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "tests" / "reference" / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


previous = _load_previous()


def assert_same(data, **kwargs):
    old = previous.summarize_calendar(data, **kwargs)
    new = summarize_calendar(data, **kwargs)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert new.attrs == old.attrs
    return new


def random_calendar(rng, n_people=40, n_days=120):
    """Irregular calendars: gaps, missing counts, controlled days, days before the index."""
    frames = []
    for pid in range(n_people):
        n = int(rng.integers(1, n_days))
        days = np.sort(rng.choice(np.arange(-30, n_days), size=n, replace=False))
        drinks = np.where(rng.random(n) < 0.5, 0.0, rng.integers(1, 12, n).astype(float))
        drinks[rng.random(n) < 0.3] += 0.5  # fractional standard drinks
        drinks[rng.random(n) < 0.07] = np.nan
        meetings = rng.poisson(1.1, n).astype(float)
        meetings[rng.random(n) < 0.07] = np.nan
        frames.append(
            pd.DataFrame(
                {
                    "id": 1000 + 7 * pid,
                    "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(days, unit="D"),
                    "drinks": drinks,
                    "meetings": meetings,
                    "ctrl": rng.random(n) < 0.06,
                    "sex": int(rng.integers(0, 2)),
                }
            )
        )
    cal = pd.concat(frames, ignore_index=True)
    index = cal.groupby("id")["date"].min() + pd.to_timedelta(
        rng.integers(0, 40, cal["id"].nunique()), unit="D"
    )
    return cal, index.rename("index_date")


WINDOWS = [
    [(0, 90)],
    [(0, 30), (30, 90), (10, 25)],
    {"before": (-30, 0), "first": (0, 60), "late": (100, 400), "all": (-30, 400)},
]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_random_calendars_identical(seed):
    rng = np.random.default_rng(seed)
    cal, index = random_calendar(rng)
    wins = WINDOWS[seed % len(WINDOWS)]
    common = dict(windows=wins, sex="sex", controlled="ctrl")
    assert_same(cal, meetings="meetings", **common)
    out = assert_same(cal, meetings="meetings", index_date=index, **common)
    assert out.attrs["calendar_rows"]["n_rows_before_index"] > 0  # exercised
    assert_same(cal.sample(frac=1.0, random_state=seed), index_date=index, **common)
    assert_same(cal, windows=wins, heavy_threshold=3.5)


def test_column_types_identical():
    rng = np.random.default_rng(8)
    cal, index = random_calendar(rng, n_people=25)
    kinds = cal.assign(
        id=cal["id"].astype("int32"),
        drinks=cal["drinks"].astype("Float64"),
        meetings=cal["meetings"].fillna(0).astype(int),
        ctrl=cal["ctrl"].astype(int),
        sex=np.where(cal["sex"] == 1, "F", "male"),
    )
    wins = [(0, 90), (-10, 200)]
    assert_same(kinds, meetings="meetings", windows=wins, sex="sex", controlled="ctrl")
    strings = cal.assign(id="p" + cal["id"].astype(str), ctrl=cal["ctrl"].astype(object))
    assert_same(strings, windows=wins, sex="sex", controlled="ctrl")
    numbered = cal.assign(date=(cal["date"] - pd.Timestamp("2022-01-01")).dt.days)
    assert_same(numbered, windows=wins, sex="sex", index_date={i: 3 for i in cal["id"]})
    aware = cal.assign(date=cal["date"].dt.tz_localize("UTC") + pd.Timedelta(hours=7))
    assert_same(aware, windows=wins, sex=cal.groupby("id")["sex"].first())


def test_sample_cohort_identical():
    cal = pd.read_csv(SAMPLE / "calendar.csv.gz", parse_dates=["date"])
    part = pd.read_csv(SAMPLE / "participants.csv", parse_dates=["index_date"])
    cal = cal.merge(part[["id", "sex"]], on="id", how="left", validate="many_to_one")
    out = assert_same(
        cal,
        meetings="meetings",
        windows={"before": (-90, 0), "m1-3": (0, 90), "m4-6": (90, 180), "year": (0, 365)},
        sex="sex",
        controlled="controlled",
        index_date=part[["id", "index_date"]],
    )
    assert len(out) == 4 * cal["id"].nunique()


def _same_error(data, **kwargs):
    with pytest.raises(DataValidationError) as old:
        previous.summarize_calendar(data, **kwargs)
    with pytest.raises(DataValidationError) as new:
        summarize_calendar(data, **kwargs)
    assert str(new.value) == str(old.value)


def test_same_errors():
    rng = np.random.default_rng(3)
    cal, index = random_calendar(rng, n_people=12)
    dup = pd.concat([cal, cal.iloc[[5, 40, 41]]]).sample(frac=1.0, random_state=2)
    _same_error(dup)
    bad = cal.copy()
    bad.loc[[3, 17], "drinks"] = [-1.0, np.inf]
    _same_error(bad)
    _same_error(cal.assign(sex=np.arange(len(cal)) % 2), sex="sex")
    _same_error(cal, index_date=index, before_index="raise")
    _same_error(cal.assign(ctrl=np.where(np.arange(len(cal)) == 4, 2, 0)), controlled="ctrl")


def test_relapse_times_identical(monkeypatch):
    rng = np.random.default_rng(11)
    cal, index = random_calendar(rng)
    cal = cal.sample(frac=1.0, random_state=1)
    args = [
        dict(definition="first_drink"),
        dict(definition="consecutive_heavy", k=2, sex="sex", controlled="ctrl"),
        dict(definition="heavy_in_window", k=2, window_days=7, index_date=index, gaps="censor"),
    ]
    new = [relapse_times(cal, **a) for a in args]
    monkeypatch.setattr(relapse, "prepare_daily", previous.prepare_daily)
    monkeypatch.setattr(relapse, "_per_person_value", previous._per_person_value)
    for a, got in zip(args, new):
        old = relapse_times(cal, **a)
        pd.testing.assert_frame_equal(got, old, check_exact=True)
        assert got.attrs == old.attrs
