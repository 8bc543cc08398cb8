import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    OptionError,
)
from mutualaid_outcomes.participation import (
    DAYS_PER_MONTH,
    DOSE_BANDS,
    FREQUENCY_TO_MONTHLY,
    code_attendance,
)

MONTH = 365.25 / 12


def test_conversion_table_values():
    assert DAYS_PER_MONTH == pytest.approx(30.4375)
    expected = {
        "daily": 30.4375,
        "several times a week": 5 * MONTH / 7,
        "2-3 times a week": 2.5 * MONTH / 7,
        "weekly": MONTH / 7,
        "every 2 weeks": 0.5 * MONTH / 7,
        "monthly": 1.0,
        "less than monthly": 0.5,
        "never": 0.0,
    }
    assert dict(FREQUENCY_TO_MONTHLY) == pytest.approx(expected)
    with pytest.raises(TypeError):
        FREQUENCY_TO_MONTHLY["daily"] = 1.0  # read-only


def test_all_labels_hand_worked():
    labels = list(FREQUENCY_TO_MONTHLY)
    df = pd.DataFrame({"freq": labels}, index=[f"r{i}" for i in range(len(labels))])
    out = code_attendance(df, "freq")
    assert out.index.equals(df.index)
    assert out["meetings_per_month"].round(2).tolist() == [
        30.44,
        21.74,
        10.87,
        4.35,
        2.17,
        1.0,
        0.5,
        0.0,
    ]
    assert out["any_attendance"].tolist() == [1, 1, 1, 1, 1, 1, 1, 0]
    assert out["dose_band"].astype(str).tolist() == [
        "near daily",
        "2+ per week",
        "2+ per week",
        "about weekly",
        "less than weekly",
        "less than weekly",
        "less than weekly",
        "none",
    ]
    assert out["dose_band"].cat.ordered
    assert list(out["dose_band"].cat.categories) == ["none", *DOSE_BANDS]


def test_label_normalisation_and_missing():
    df = pd.DataFrame({"f": ["  Weekly", "2 \u2013 3 TIMES A WEEK", None, np.nan]})
    out = code_attendance(df, "f")
    assert out["meetings_per_month"].iloc[:2].tolist() == pytest.approx(
        [MONTH / 7, 2.5 * MONTH / 7]
    )
    assert out.iloc[2:].isna().all().all()


def test_categorical_column():
    df = pd.DataFrame({"f": pd.Categorical(["daily", "never", "monthly"])})
    out = code_attendance(df, "f")
    assert out["meetings_per_month"].tolist() == pytest.approx([MONTH, 0, 1])


def test_numeric_codes_with_mapping_and_conversion():
    df = pd.DataFrame({"q": [0, 1, 2, 3, np.nan]})
    mapping = {0: "never", 1: "twice a month", 2: "weekly", 3: "Daily"}
    out = code_attendance(df, "q", mapping=mapping, conversion={"twice a month": 2.0})
    assert out["meetings_per_month"].iloc[:4].tolist() == pytest.approx([0, 2.0, MONTH / 7, MONTH])
    assert np.isnan(out["meetings_per_month"].iloc[4])
    # overriding a default value
    out2 = code_attendance(df.iloc[[3]], "q", mapping={3: "Daily"}, conversion={"daily": 30.0})
    assert out2["meetings_per_month"].tolist() == [30.0]


def test_counts_over_period():
    df = pd.DataFrame({"aa90": [0, 9, 30, 90, np.nan]})
    out = code_attendance(df, "aa90", kind="count", period_days=90)
    expected = np.array([0, 9, 30, 90]) * MONTH / 90
    assert out["meetings_per_month"].iloc[:4].to_numpy() == pytest.approx(expected)
    assert out["dose_band"].astype(str).tolist()[:4] == [
        "none",
        "less than weekly",  # 3.04 a month
        "2+ per week",  # 10.15 a month
        "near daily",  # 30.44 a month
    ]


def test_custom_bands():
    df = pd.DataFrame({"n": [0, 1, 5, 20]})
    out = code_attendance(df, "n", kind="count", period_days=MONTH, bands={"some": 0, "lots": 5})
    assert out["dose_band"].astype(str).tolist() == ["none", "some", "lots", "lots"]
    with pytest.raises(DataValidationError, match="start at 0"):
        code_attendance(df, "n", kind="count", period_days=30, bands={"a": 1, "b": 5})
    with pytest.raises(DataValidationError, match="increase"):
        code_attendance(df, "n", kind="count", period_days=30, bands={"a": 0, "b": 0})
    with pytest.raises(DataValidationError, match="'none'"):
        code_attendance(df, "n", kind="count", period_days=30, bands={"none": 0})
    with pytest.raises(ArgumentTypeError):
        code_attendance(df, "n", kind="count", period_days=30, bands=[0, 4])


def test_unknown_labels_listed_with_valid_ones():
    df = pd.DataFrame({"f": ["weekly", "fortnightly", "sometimes", "fortnightly"]})
    with pytest.raises(
        DataValidationError,
        match=r"unknown frequency label\(s\) \[fortnightly, sometimes\]; valid labels: \['daily'",
    ):
        code_attendance(df, "f")


def test_numeric_codes_without_mapping():
    with pytest.raises(DataValidationError, match="pass `mapping`"):
        code_attendance(pd.DataFrame({"q": [1, 2]}), "q")
    with pytest.raises(DataValidationError, match="not in the conversion table"):
        code_attendance(pd.DataFrame({"q": [1, 2]}), "q", mapping={1: "often", 2: "weekly"})
    with pytest.raises(DataValidationError, match=r"codes \[3\]"):
        code_attendance(pd.DataFrame({"q": [1, 3]}), "q", mapping={1: "weekly"})


def test_bad_counts():
    with pytest.raises(DataValidationError, match=r"'n'.*\[1\].*-2.0"):
        code_attendance(pd.DataFrame({"n": [1, -2]}), "n", kind="count", period_days=30)
    with pytest.raises(DataValidationError, match=r"non-numeric.*\[0\].*'lots'"):
        code_attendance(pd.DataFrame({"n": ["lots", "2"]}), "n", kind="count", period_days=30)
    with pytest.raises(DataValidationError, match="period_days"):
        code_attendance(pd.DataFrame({"n": [1]}), "n", kind="count")
    with pytest.raises(DataValidationError, match="period_days"):
        code_attendance(pd.DataFrame({"n": [1]}), "n", kind="count", period_days=0)
    with pytest.raises(DataValidationError, match="only to kind='count'"):
        code_attendance(pd.DataFrame({"n": ["weekly"]}), "n", period_days=30)


def test_bad_arguments():
    df = pd.DataFrame({"aa_freq": ["weekly"]})
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'aa_freq'"):
        code_attendance(df, "aa_frq")
    with pytest.raises(OptionError, match="kind"):
        code_attendance(df, "aa_freq", kind="rate")
    with pytest.raises(DataValidationError, match="non-negative"):
        code_attendance(df, "aa_freq", conversion={"weekly": -1})


def test_does_not_mutate_input():
    df = pd.DataFrame({"f": pd.Categorical(["weekly", "daily"]), "n": [3, 4]})
    before = df.copy(deep=True)
    code_attendance(df, "f")
    code_attendance(df, "n", kind="count", period_days=30)
    pd.testing.assert_frame_equal(df, before)
