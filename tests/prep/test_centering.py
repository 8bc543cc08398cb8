"""Within/between decomposition (person-mean centring)."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ColumnNotFoundError, DataValidationError
from mutualaid_outcomes.prep.centering import within_between


@pytest.fixture
def days():
    return pd.DataFrame(
        {
            "id": [1, 1, 1, 2, 2, 3],
            "x": [1.0, 0.0, 2.0, 4.0, 6.0, 5.0],
            "y": [0.5, np.nan, 1.0, 2.0, 3.0, 1.0],
        }
    )


def test_parts_add_up_and_means_by_person(days):
    out = within_between(days, ["x"], id="id")
    np.testing.assert_allclose(out["x_within"] + out["x_between"], days["x"])
    np.testing.assert_allclose(out["x_between"], [1, 1, 1, 5, 5, 5])
    assert out.groupby("id")["x_within"].sum().abs().max() < 1e-12


def test_means_over_model_rows_and_caller_untouched(days):
    before = days.copy()
    out = within_between(days, "x", id="id", over="y")
    pd.testing.assert_frame_equal(days, before)
    # person 1: row 2 has y missing, so its mean is over x = 1 and 2
    np.testing.assert_allclose(out["x_between"].iloc[[0, 2]], [1.5, 1.5])
    assert np.isnan(out["x_within"].iloc[1]) and np.isnan(out["x_between"].iloc[1])


def test_center_between_uses_each_person_once(days):
    out = within_between(days, "x", id="id", center_between=True)
    # person means 1, 5, 5; grand mean of persons 11/3
    np.testing.assert_allclose(out["x_between"].iloc[[0, 3, 5]], np.array([1, 5, 5]) - 11 / 3)


def test_bad_input(days):
    with pytest.raises(DataValidationError, match="`id`.*missing"):
        within_between(days.assign(id=[1, None, 1, 2, 2, 3]), "x", id="id")
    with pytest.raises(ColumnNotFoundError, match="`columns`"):
        within_between(days, "z", id="id")
    with pytest.raises(DataValidationError, match="already exist"):
        within_between(days.assign(x_within=0.0), "x", id="id")
    with pytest.raises(DataValidationError, match="numeric"):
        within_between(days.assign(s="a"), "s", id="id")
