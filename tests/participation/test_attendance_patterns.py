import dataclasses

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, ColumnNotFoundError, DataValidationError
from mutualaid_outcomes.participation import PATTERN_LABELS, PatternRules, attendance_patterns

MONTHS = [0, 3, 6, 9, 12, 15]

# one person per pattern, attendance at months 0..15 (None = wave missed)
CASES = {
    "never": [0, 0, 0, 0, 0, 0],
    "early drop-out": [10, 8, 0, 0, 0, 0],
    "declining": [12, 10, 8, 6, 0, 0],
    "sustained": [10, 12, 9, 11, 10, 8],
    "late starter": [0, 0, 5, 8, 9, 9],
    "intermittent": [10, 0, 9, 0, 10, 9],
    "too few waves": [10, None, None, None, None, None],
}


def panel_from(cases):
    rows = []
    for pid, (_, values) in enumerate(cases.items(), start=1):
        for month, v in zip(MONTHS, values):
            rows.append({"id": pid, "month": month, "aa_meetings": v})
    return pd.DataFrame(rows).astype({"aa_meetings": float})


def test_each_pattern_hand_worked():
    out = attendance_patterns(panel_from(CASES))
    assert out["pattern"].astype(str).tolist() == list(CASES)
    assert list(out["pattern"].cat.categories) == list(PATTERN_LABELS)
    by = out.set_index(out["pattern"].astype(str))
    # early drop-out: last attended at month 3, first zero at month 6
    assert (
        by.loc["early drop-out", "dropout_time"] == 6
        and by.loc["early drop-out", "dropout_event"] == 1
    )
    assert by.loc["declining", "dropout_time"] == 12 and by.loc["declining", "dropout_event"] == 1
    # still attending: censored at the last observed wave
    assert by.loc["sustained", "dropout_time"] == 15 and by.loc["sustained", "dropout_event"] == 0
    assert (
        by.loc["too few waves", "dropout_time"] == 0
        and by.loc["too few waves", "dropout_event"] == 0
    )
    assert np.isnan(by.loc["never", "dropout_time"])
    assert by.loc["late starter", "first_attending_time"] == 6
    assert by.loc["intermittent", "n_waves_observed"] == 6
    assert by.loc["declining", "peak_attendance"] == 12


def test_declining_by_level_and_rule_changes():
    cases = {"a": [20, 18, 15, 10, 6, 4], "b": [10, 0, 9, 10, 10, 9]}
    out = attendance_patterns(panel_from(cases))
    # a: 4 < 0.5 x 20 -> declining while still attending; b: one missed wave -> intermittent
    assert out["pattern"].astype(str).tolist() == ["declining", "intermittent"]
    relaxed = PatternRules(decline_ratio=0.1, max_missed_waves=1)
    out = attendance_patterns(panel_from(cases), rules=relaxed)
    assert out["pattern"].astype(str).tolist() == ["sustained", "sustained"]
    assert out.attrs["rules"]["max_missed_waves"] == 1


def test_attending_threshold_and_dropout_waves():
    cases = {"a": [3, 2, 1, 1, 0, 0], "b": [5, 5, 5, 5, 5, 0]}
    out = attendance_patterns(panel_from(cases), rules=PatternRules(attending_above=1))
    # with attending meaning > 1: a attended only months 0-3 -> early drop-out
    assert out["pattern"].astype(str).tolist() == ["early drop-out", "declining"]
    strict = PatternRules(dropout_zero_waves=2)
    out = attendance_patterns(panel_from(cases), rules=strict)
    # b has only one zero wave at the end: not a drop-out, declining by level (0 < 2.5)
    assert out.loc[1, "dropout_event"] == 0 and out.loc[1, "pattern"] == "declining"


def test_late_starter_needs_observed_early_zero():
    cases = {"a": [None, None, 4, 5, 6, 7]}
    out = attendance_patterns(panel_from(cases))
    assert out.loc[0, "pattern"] == "other"


def test_rules_are_frozen_and_validated():
    rules = PatternRules()
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.early_waves = 3
    with pytest.raises(DataValidationError, match="early_waves"):
        PatternRules(early_waves=0)
    with pytest.raises(DataValidationError, match="decline_ratio"):
        PatternRules(decline_ratio=1.5)
    with pytest.raises(DataValidationError, match="max_missed_waves"):
        PatternRules(max_missed_waves=-1)
    with pytest.raises(ArgumentTypeError, match="rules"):
        attendance_patterns(panel_from(CASES), rules={"early_waves": 2})


def test_bad_panel():
    panel = panel_from(CASES)
    dup = pd.concat([panel, panel.iloc[[4]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"1 duplicate \(id, time\).*\[42\]"):
        attendance_patterns(dup)
    neg = panel.copy()
    neg.loc[3, "aa_meetings"] = -1
    with pytest.raises(DataValidationError, match=r"'aa_meetings'.*\[3\]"):
        attendance_patterns(neg)
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'month'"):
        attendance_patterns(panel, time="months")
    na = panel.copy()
    na.loc[0, "month"] = np.nan
    with pytest.raises(DataValidationError, match="time column 'month' has 1 missing"):
        attendance_patterns(na)


def test_does_not_mutate_and_order_free():
    panel = panel_from(CASES).sample(frac=1, random_state=4)
    before = panel.copy(deep=True)
    a = attendance_patterns(panel)
    pd.testing.assert_frame_equal(panel, before)
    b = attendance_patterns(panel.sort_values(["id", "month"]))
    pd.testing.assert_frame_equal(a, b)


def test_datetime_waves():
    panel = panel_from(CASES)
    panel["when"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(panel["month"] * 30, unit="D")
    out = attendance_patterns(panel, time="when")
    assert out.loc[1, "dropout_time"] == pd.Timestamp("2020-01-01") + pd.Timedelta(days=180)
    assert pd.isna(out.loc[0, "dropout_time"])


# ---------------------------------------------------------------- loop reference


def reference_pattern(values, rules):
    """Plain per-person transcription of the documented rules."""
    obs = [(i, v) for i, v in enumerate(values) if not np.isnan(v)]
    att = [i for i, v in obs if v > rules.attending_above]
    if len(obs) < rules.min_waves:
        label = "too few waves"
    elif not att:
        label = "never"
    else:
        first, last = att[0], att[-1]
        last_obs = obs[-1][0]
        trailing = [i for i, _ in obs if i > last]
        dropout = len(trailing) >= rules.dropout_zero_waves
        peak = max(v for _, v in obs)
        last_level = obs[-1][1]
        missed = sum(1 for i, v in obs if first < i <= last_obs and v <= rules.attending_above)
        early_zero = any(i < rules.early_waves and v <= rules.attending_above for i, v in obs)
        if first >= rules.early_waves:
            label = "late starter" if early_zero else "other"
        elif dropout:
            label = "early drop-out" if last < rules.early_waves else "declining"
        elif last_level < rules.decline_ratio * peak:
            label = "declining"
        elif missed > rules.max_missed_waves:
            label = "intermittent"
        else:
            label = "sustained"
    if not att:
        return label, np.nan, 0
    if len(obs) and len([i for i, _ in obs if i > att[-1]]) >= rules.dropout_zero_waves:
        return label, MONTHS[[i for i, _ in obs if i > att[-1]][0]], 1
    return label, MONTHS[obs[-1][0]], 0


@pytest.mark.parametrize(
    "rules",
    [PatternRules(), PatternRules(early_waves=3, dropout_zero_waves=2, max_missed_waves=1)],
)
def test_agrees_with_loop_reference(rules):
    rng = np.random.default_rng(99)
    n = 300
    level = rng.gamma(1.0, 6.0, size=(n, 1))
    keep = rng.random((n, 6)) < rng.uniform(0.3, 1.0, size=(n, 1))
    values = np.where(keep, rng.poisson(level * np.linspace(1.2, 0.4, 6)), 0).astype(float)
    values[rng.random((n, 6)) < 0.1] = np.nan
    panel = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n), 6),
            "month": np.tile(MONTHS, n),
            "aa_meetings": values.ravel(),
        }
    )
    got = attendance_patterns(panel, rules=rules)
    ref = [reference_pattern(values[i], rules) for i in range(n)]
    assert got["pattern"].astype(str).tolist() == [r[0] for r in ref]
    np.testing.assert_array_equal(got["dropout_time"], [r[1] for r in ref])
    np.testing.assert_array_equal(got["dropout_event"], [r[2] for r in ref])
    # the random panel reaches most labels
    assert got["pattern"].nunique() >= 6
