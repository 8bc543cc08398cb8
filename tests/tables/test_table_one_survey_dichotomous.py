"""table_one(..., design=) follows the dichotomous rule of the unweighted Table 1.

As R ``gtsummary::tbl_svysummary``: 0/1 numbers (even all 0), logicals and
yes/no-labelled codes take one "n (%)" row, the unweighted count of the shown level with
its weighted percentage; the expected cells below are computed by hand.
"""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models.survey import survey_design, survey_table, weighted_summary
from mutualaid_outcomes.tables import table_one

COLS = ["Overall (n = 10)", "a (n = 5)", "b (n = 5)"]
VALUES = {
    "yn12": {1: "Yes", 2: "No"},
    "sex0": {0: "Male", 1: "Female"},
    "mf12": {1: "Female", 2: "Male"},
}


@pytest.fixture(scope="module")
def data():
    return pd.DataFrame(
        {
            "g": ["a"] * 5 + ["b"] * 5,
            "w": [1.0, 2, 3, 4, 5, 1, 2, 3, 4, 5],
            "x01": [0, 1, 1, 0, 1, 0, 0, 0, 1, np.nan],
            "lg": [True, False, True, False, False, False, False, True, True, True],
            "zeros": [0.0] * 10,
            "yn12": [1, 2, 1, 2, 2, 1, 1, 1, 2, 2],
            "sex0": [0] * 10,
            "mf12": [1, 2, 1, 2, 2, 1, 1, 1, 2, 2],
            "age": [30.0, 41, 52, 33, 44, 25, 36, 47, 38, 29],
        }
    )


@pytest.fixture(scope="module")
def design(data):
    return survey_design(data, weights="w")


@pytest.fixture(scope="module")
def table(data, design):
    return table_one(
        data, by="g", variables=["x01", "lg", "zeros", "yn12", "sex0", "mf12", "age"],
        design=design, labels={"values": VALUES, "variables": {}}, smd=False,
        categorical=["mf12"],
    )  # fmt: skip


def cell(t, row):
    return t.body.loc[row, COLS].tolist()


def test_dichotomous_rows_hold_unweighted_counts_and_weighted_percentages(table):
    # weights a: 1 2 3 4 5, b: 1 2 3 4 5
    # x01 = 1 at weights a: 2+3+5 = 10 of 15; b: 4 of 1+2+3+4 = 10 (one missing);
    # overall 14 of 25
    assert cell(table, "x01, n (%)") == ["4 (56.0%)", "3 (66.7%)", "1 (40.0%)"]
    # lg true at a: 1+3 = 4 of 15; b: 3+4+5 = 12 of 15; overall 16 of 30
    assert cell(table, "lg, n (%)") == ["5 (53.3%)", "2 (26.7%)", "3 (80.0%)"]
    # yn12 = 1 (Yes) at a: 1+3 = 4 of 15; b: 1+2+3 = 6 of 15; overall 10 of 30
    assert cell(table, "yn12, n (%)") == ["5 (33.3%)", "2 (26.7%)", "3 (40.0%)"]
    # nobody has the shown level: 0 (0.0%), not a row of the level that occurs
    assert cell(table, "zeros, n (%)") == ["0 (0.0%)"] * 3
    assert cell(table, "sex0: Female, n (%)") == ["0 (0.0%)"] * 3
    # a two-level factor that is not yes/no keeps a row per level (as gtsummary)
    assert {"mf12, n (%)", "Female", "Male"} <= set(table.body.index)
    assert "x01, M (SD)" not in table.body.index and "0" not in table.body.index


def test_dichotomous_rows_use_the_rao_scott_test(table, design):
    for var in ("x01", "lg", "yn12"):
        p = survey_table(design, var, "g").glance()["p_value"].iloc[0]
        assert table.body.loc[f"{var}, n (%)", "p"] == f"{p:.3f}".lstrip("0")
    # a constant column has nothing to test
    assert table.body.loc["zeros, n (%)", "p"] == ""
    assert table.body.loc["sex0: Female, n (%)", "p"] == ""


def test_other_variables_are_unchanged(table, design, data):
    w, age = data["w"], data["age"]
    mean = float((w * age).sum() / w.sum())
    assert table.body.loc["age, M (SD)", COLS[0]].startswith(f"{mean:.1f} (")
    want = weighted_summary(design, ["mf12", "age"], by="g", categorical=["mf12"])
    got = table.numbers[table.numbers["variable"].isin(["age", "mf12"])]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want)


def test_numbers_hold_the_absent_level_as_zero(table):
    nums = table.numbers
    zeros = nums[(nums["variable"] == "zeros") & (nums["level"] == 1)]
    assert list(zeros["group"]) == ["Overall", "a", "b"]
    assert (zeros["n"] == 0).all() and (zeros["percent"] == 0).all()
    x01 = nums[(nums["variable"] == "x01") & (nums["level"] == 1) & (nums["group"] == "b")]
    assert x01["percent"].iloc[0] == pytest.approx(40.0)
    assert x01["n_weighted"].iloc[0] == pytest.approx(4.0)
