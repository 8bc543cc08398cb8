import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ColumnNotFoundError, DataValidationError
from mutualaid_outcomes.tables import suppress_cells, table_one

# Deterministic statistics computed the same way in base R: agreement is exact up to
# floating-point summation order.
REL_TOL = 1e-8


@pytest.fixture(scope="module")
def jobs(test_data):
    return test_data("jobs.csv")


@pytest.fixture(scope="module")
def reference(r_reference):
    return r_reference("table_one", keep_default_na=False)


@pytest.mark.parametrize("by", ["treat", "income"])
def test_table_one_matches_r(jobs, reference, by):
    t = table_one(
        jobs,
        by=by,
        variables=["age", "econ_hard", "depress1", "sex", "marital"],
        categorical=["sex"],
        nonnormal=["depress1"],
        overall=False,
    )
    ours = t.numbers.copy()
    ours["group"] = ours["group"].astype(str)
    ref = reference[reference["by"] == by]
    checked = 0
    for _, r in ref.iterrows():
        level = str(r["level"])
        sel = ours[
            (ours["variable"] == r["variable"])
            & (ours["statistic"] == r["statistic"])
            & (ours["group"] == str(r["group"]))
            & (ours["level"].astype(str) == level)
        ]
        assert len(sel) == 1, (r["variable"], r["statistic"], r["group"], level)
        assert float(sel["value"].iloc[0]) == pytest.approx(float(r["value"]), rel=REL_TOL)
        checked += 1
    assert checked == len(ref) > 40


def test_table_one_does_not_mutate_and_counts_missing(jobs):
    df = jobs[["treat", "age", "sex"]].copy()
    df.loc[:4, "age"] = np.nan
    df.loc[5, "treat"] = np.nan
    before = df.copy()
    t = table_one(df, by="treat", categorical=["sex"])
    pd.testing.assert_frame_equal(df, before)
    assert "Missing" in t.body.index
    assert any("1 participants with missing treat" in f for f in t.footnotes)
    miss = t.numbers[(t.numbers.level == "Missing") & (t.numbers.group == "Overall")]
    assert int(miss["value"].iloc[0]) == 5


def test_disclosure_control_masks_small_cells(jobs):
    t = table_one(jobs, by="treat", variables=["marital"], min_cell=11)
    widowed = t.body.loc["widowed"]
    assert widowed.iloc[1] == "<11"  # 6 people in the control group
    # secondary suppression: the other arm's cell would reveal it via the overall count
    assert widowed.iloc[2] == "suppressed"
    assert any("suppressed" in f for f in t.footnotes)
    shown = " ".join(t.body.to_numpy().ravel())
    assert " 6 (" not in shown


def test_suppress_cells_primary_and_secondary():
    m = suppress_cells(np.array([[40, 25, 15], [5, 20, 10], [35, 5, 5]]), 11, has_total=True)
    assert m[1, 0] and m[2, 1] and m[2, 2]
    # no single suppressed cell per row or per level remains
    assert all(r.sum() != 1 for r in m)


def test_codebook_labels_used():
    class CB:
        def label(self, name):
            return {"age": "Age, years", "arm": "Arm"}.get(name)

        def value_labels(self, name):
            return {"arm": {1: "TSF", 2: "CBT"}}.get(name, {})

    df = pd.DataFrame({"arm": [1, 1, 2, 2, 2], "age": [30.0, 32, 41, 39, 45]})
    t = table_one(df, by="arm", codebook=CB(), tests=False, smd=False)
    assert "Age, years, mean (SD)" in t.body.index
    assert any(c.startswith("TSF (n = 2)") for c in t.body.columns)


def test_bad_input(jobs):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'treat'"):
        table_one(jobs, by="tret")
    with pytest.raises(DataValidationError, match="at least two"):
        table_one(jobs.assign(one=1), by="one", variables=["age"])
    with pytest.raises(DataValidationError, match="both"):
        table_one(jobs, by="treat", categorical=["age"], nonnormal=["age"])
