import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ColumnNotFoundError, DataValidationError, OptionError
from mutualaid_outcomes.participation import relapse_times


def calendar(rows):
    """rows: {id: list of drinks from day 0} (None = no row that day)."""
    frames = []
    for pid, drinks in rows.items():
        days = [d for d, x in enumerate(drinks) if x is not None]
        frames.append(
            pd.DataFrame(
                {
                    "id": pid,
                    "date": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
                    "drinks": [float(drinks[d]) for d in days],
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# day:      0  1  2  3  4  5  6  7  8  9
HAND = {
    1: [0, 0, 1, 0, 6, 0, 5, 5, 0, 0],  # first drink day 2, heavy 4, 6, 7
    2: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # abstinent: censored at day 9
    3: [3, 0, 0, 0, 0, 0, 0, 0, 0, 0],  # drinks on the index date
    4: [0, 5, 0, 5, 0, 0, 0, 5, 0, 0],  # heavy 1, 3, 7 (never consecutive)
}


def test_first_drink_hand_worked():
    out = relapse_times(calendar(HAND), definition="first_drink").set_index("id")
    # event on day d -> duration d + 1; censored at last day 9 -> duration 10
    assert out["duration"].tolist() == [3, 10, 1, 2]
    assert out["event"].tolist() == [1, 0, 1, 1]
    assert out.loc[2, "last_at_risk_day"] == 9 and np.isnan(out.loc[2, "relapse_day"])


def test_first_heavy_hand_worked():
    out = relapse_times(calendar(HAND), definition="first_heavy").set_index("id")
    # id 3 drank 3 drinks only: not heavy for a man (>= 5)
    assert out["duration"].tolist() == [5, 10, 10, 2]
    assert out["event"].tolist() == [1, 0, 0, 1]


def test_women_threshold():
    sex = {1: 0, 2: 0, 3: 1, 4: 1}
    cal = calendar({**HAND, 3: [4, 0, 0, 0, 0, 0, 0, 0, 0, 0]})
    out = relapse_times(cal, definition="first_heavy", sex=sex).set_index("id")
    assert out.loc[3, "event"] == 1 and out.loc[3, "duration"] == 1
    men_only = relapse_times(cal, definition="first_heavy").set_index("id")
    assert men_only.loc[3, "event"] == 0


def test_consecutive_heavy_hand_worked():
    out = relapse_times(calendar(HAND), definition="consecutive_heavy", k=2).set_index("id")
    # id 1: days 6, 7 heavy in a row -> relapse day 7 (onset 6), duration 8
    assert out.loc[1, "relapse_day"] == 7 and out.loc[1, "onset_day"] == 6
    assert out.loc[1, "duration"] == 8 and out.loc[1, "event"] == 1
    # id 4 never has two heavy days in a row: censored at day 9
    assert out.loc[4, "event"] == 0 and out.loc[4, "duration"] == 10


def test_heavy_in_window_hand_worked():
    cal = calendar(HAND)
    out = relapse_times(cal, definition="heavy_in_window", k=2, window_days=3).set_index("id")
    # id 1: heavy 4 and 6 are within 3 days (4, 5, 6) -> met on day 6
    assert out.loc[1, "relapse_day"] == 6 and out.loc[1, "onset_day"] == 4
    # id 4: heavy 1 and 3 within days 1-3 -> met on day 3
    assert out.loc[4, "relapse_day"] == 3 and out.loc[4, "onset_day"] == 1
    out = relapse_times(cal, definition="heavy_in_window", k=3, window_days=7).set_index("id")
    # id 1: heavy 4, 6, 7 within 4..7 -> day 7; id 4: 1, 3, 7 span 7 days -> day 7
    assert out.loc[1, "relapse_day"] == 7 and out.loc[4, "relapse_day"] == 7
    out = relapse_times(cal, definition="heavy_in_window", k=3, window_days=6).set_index("id")
    assert out.loc[4, "event"] == 0


def test_missing_and_controlled_days_break_consecutive_runs():
    cal = calendar({1: [0, 6, None, 6, 6, 0]})
    out = relapse_times(cal, definition="consecutive_heavy", k=2)
    assert out.loc[0, "relapse_day"] == 4
    cal["ctrl"] = [False, False, True, False, False]
    cal.loc[cal.index[3], "drinks"] = 6.0
    out = relapse_times(cal, definition="consecutive_heavy", k=3, controlled="ctrl")
    assert out.loc[0, "event"] == 0


def test_end_of_followup_and_index_date():
    cal = calendar(HAND)
    out = relapse_times(cal, definition="first_heavy", end=4).set_index("id")
    # follow-up days 0..3: id 1's heavy day 4 is outside -> censored at day 3
    assert out.loc[1, "event"] == 0 and out.loc[1, "duration"] == 4
    assert out.attrs["relapse"]["n_rows_after_end"] == 4 * 6
    per_person = relapse_times(cal, definition="first_heavy", end={1: 5, 2: 3}).set_index("id")
    assert per_person.loc[1, "event"] == 1 and per_person.loc[2, "duration"] == 3
    assert per_person.loc[4, "duration"] == 2  # no limit for ids not in the mapping
    idx = {pid: pd.Timestamp("2024-01-03") for pid in HAND}
    shifted = relapse_times(cal, definition="first_drink", index_date=idx).set_index("id")
    # id 1 drinks on 2024-01-03 = new day 0; id 3's drink is before the index date
    assert shifted.loc[1, "duration"] == 1
    assert shifted.loc[3, "event"] == 0 and shifted.loc[3, "duration"] == 8
    assert shifted.attrs["relapse"]["n_rows_before_index"] == 8


def test_gaps_censor():
    cal = calendar({1: [0, 0, None, 0, 4, 0], 2: [0, 0, 0, 2]})
    ignore = relapse_times(cal, definition="first_drink").set_index("id")
    assert ignore.loc[1, "event"] == 1 and ignore.loc[1, "duration"] == 5
    censor = relapse_times(cal, definition="first_drink", gaps="censor").set_index("id")
    # id 1 unobserved on day 2: censored after day 1
    assert censor.loc[1, "event"] == 0 and censor.loc[1, "duration"] == 2
    assert censor.loc[2, "event"] == 1 and censor.loc[2, "duration"] == 4
    assert censor.attrs["relapse"]["n_rows_after_gap"] == 3


def test_no_followup_gives_missing_duration():
    cal = calendar({1: [0, 1], 2: [np.nan, np.nan]})
    out = relapse_times(cal)
    assert np.isnan(out.loc[1, "duration"]) and out.loc[1, "event"] == 0
    assert out.attrs["relapse"]["n_no_followup"] == 1


def test_bad_arguments():
    cal = calendar(HAND)
    with pytest.raises(OptionError, match="definition"):
        relapse_times(cal, definition="first_lapse")
    with pytest.raises(DataValidationError, match="needs `k`"):
        relapse_times(cal, definition="consecutive_heavy")
    with pytest.raises(DataValidationError, match="needs `window_days`"):
        relapse_times(cal, definition="heavy_in_window", k=2)
    with pytest.raises(DataValidationError, match="at least `k`"):
        relapse_times(cal, definition="heavy_in_window", k=3, window_days=2)
    with pytest.raises(DataValidationError, match="do not apply"):
        relapse_times(cal, definition="first_drink", k=2)
    with pytest.raises(OptionError, match="gaps"):
        relapse_times(cal, gaps="drop")
    with pytest.raises(ColumnNotFoundError):
        relapse_times(cal, drinks="drnks")
    dup = pd.concat([cal, cal.iloc[[0]]], ignore_index=True)
    with pytest.raises(DataValidationError, match="1 duplicate"):
        relapse_times(dup)


def test_does_not_mutate_input():
    cal = calendar(HAND).sample(frac=1, random_state=0)
    before = cal.copy(deep=True)
    relapse_times(cal, definition="heavy_in_window", k=2, window_days=4, end=8)
    pd.testing.assert_frame_equal(cal, before)


# ---------------------------------------------------------------- loop reference


def reference_relapse(cal, definition, k=1, window_days=1, thr=5.0, end=None, gaps="ignore"):
    out = []
    for pid, g in cal.groupby("id"):
        index = g["date"].min()
        rec = {(d - index).days: x for d, x in zip(g["date"], g["drinks"])}
        last_day = max(rec)
        stop = last_day + 1 if end is None else min(end, last_day + 1)
        heavy_days = []
        event_day = None
        last_risk = None
        for day in range(stop):
            x = rec.get(day, np.nan)
            if np.isnan(x):
                if gaps == "censor":
                    break
                continue
            last_risk = day
            if definition == "first_drink":
                hit = x > 0
            else:
                hit = x >= thr
            if not hit:
                continue
            heavy_days.append(day)
            if definition in ("first_drink", "first_heavy"):
                event_day = day
                break
            span = k if definition == "consecutive_heavy" else window_days
            recent = [h for h in heavy_days if h > day - span]
            if len(recent) >= k:
                event_day = day
                break
        if event_day is None:
            dur = np.nan if last_risk is None else last_risk + 1
            out.append((pid, dur, 0))
        else:
            out.append((pid, event_day + 1, 1))
    return pd.DataFrame(out, columns=["id", "duration", "event"])


def random_relapse_calendar(rng, n_people=40, n_days=50):
    frames = []
    for pid in range(n_people):
        length = int(rng.integers(3, n_days))
        days = np.flatnonzero(rng.random(length) > 0.1)  # about 10% of days unrecorded
        days = days - days[0]
        n = len(days)
        p_drink = rng.uniform(0.02, 0.8) if rng.random() > 0.2 else 0.0
        drinks = np.where(rng.random(n) < p_drink, rng.integers(1, 10, n), 0).astype(float)
        frames.append(
            pd.DataFrame(
                {
                    "id": pid,
                    "date": pd.Timestamp("2022-01-01") + pd.to_timedelta(days, unit="D"),
                    "drinks": drinks,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.mark.parametrize(
    "definition,k,window_days",
    [
        ("first_drink", None, None),
        ("first_heavy", None, None),
        ("consecutive_heavy", 2, None),
        ("consecutive_heavy", 3, None),
        ("heavy_in_window", 2, 5),
        ("heavy_in_window", 3, 10),
    ],
)
@pytest.mark.parametrize("gaps", ["ignore", "censor"])
def test_agrees_with_loop_reference(definition, k, window_days, gaps):
    rng = np.random.default_rng(2024)
    cal = random_relapse_calendar(rng)
    got = relapse_times(cal, definition=definition, k=k, window_days=window_days, gaps=gaps)
    ref = reference_relapse(cal, definition, k or 1, window_days or 1, gaps=gaps)
    np.testing.assert_array_equal(got["id"], ref["id"])
    np.testing.assert_array_equal(got["event"], ref["event"])
    np.testing.assert_allclose(got["duration"], ref["duration"])
    assert 0 < got["event"].sum() < len(got)


def test_agrees_with_loop_reference_with_end():
    rng = np.random.default_rng(7)
    cal = random_relapse_calendar(rng)
    got = relapse_times(cal, definition="heavy_in_window", k=2, window_days=7, end=20)
    ref = reference_relapse(cal, "heavy_in_window", 2, 7, end=20)
    np.testing.assert_array_equal(got["event"], ref["event"])
    np.testing.assert_allclose(got["duration"], ref["duration"])


def test_end_as_column_and_bad_end():
    cal = calendar(HAND)
    cal["stop"] = cal["id"].map({1: 5, 2: 3, 3: 10, 4: 10})
    a = relapse_times(cal, definition="first_heavy", end="stop")
    b = relapse_times(cal, definition="first_heavy", end={1: 5, 2: 3})
    pd.testing.assert_frame_equal(a[["id", "duration", "event"]], b[["id", "duration", "event"]])
    with pytest.raises(DataValidationError, match="whole day numbers"):
        relapse_times(cal, end={1: 2.5})
    with pytest.raises(TypeError, match="whole number of days"):
        relapse_times(cal, end=2.5)
