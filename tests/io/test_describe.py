import numpy as np
import pandas as pd
import pyreadstat
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError
from mutualaid_outcomes.io import DESCRIBE_COLUMNS, describe_data, get_codebook, read_data


@pytest.fixture
def df(tmp_path):
    raw = pd.DataFrame(
        {
            "sex": [0.0, 1, 9, 1, np.nan],
            "ddd": [4.5, -9, -9, 3.25, 6.0],
            "note": ["a", "b", "c", "d", "e"],
        }
    )
    pyreadstat.write_sav(
        raw,
        tmp_path / "d.sav",
        column_labels={"sex": "Sex", "ddd": "Drinks per drinking day"},
        variable_value_labels={"sex": {0: "male", 1: "female"}},
        missing_ranges={"sex": [9], "ddd": [{"lo": -99, "hi": -1}]},
        variable_measure={"sex": "nominal", "ddd": "scale"},
    )
    return read_data(tmp_path / "d.sav")


def test_describe_columns_and_counts(df):
    out = describe_data(df)
    assert tuple(out.columns) == DESCRIBE_COLUMNS
    row = out.set_index("variable")
    assert row.loc["sex", "label"] == "Sex"
    assert row.loc["sex", "n"] == 3 and row.loc["sex", "n_missing"] == 2
    assert row.loc["sex", "value_labels"] == "0 = male; 1 = female"
    assert row.loc["sex", "missing_codes"] == "9"
    assert row.loc["sex", "missing_codes_found"] == "9: 1"
    assert row.loc["ddd", "missing_codes"] == "-99 to -1"
    assert row.loc["ddd", "missing_codes_found"] == "-9: 2"
    assert row.loc["ddd", "type"] == "float64"
    assert row.loc["note", "label"] == "note"


def test_describe_shows_no_data_values(df):
    text = describe_data(df).to_string()
    for value in ("4.5", "3.25", "6.0"):
        assert value not in text


def test_describe_with_explicit_codebook(df):
    cb = get_codebook(df).replace("ddd", label="DDD")
    plain = pd.DataFrame(df)  # same data
    plain.attrs = {}
    out = describe_data(plain, codebook=cb).set_index("variable")
    assert out.loc["ddd", "label"] == "DDD"
    out = describe_data(plain, codebook=cb.to_dict()).set_index("variable")
    assert out.loc["ddd", "label"] == "DDD"
    with pytest.raises(ArgumentTypeError, match="codebook"):
        describe_data(plain, codebook=1)


def test_describe_does_not_modify(df):
    before = df.copy()
    describe_data(df)
    pd.testing.assert_frame_equal(df, before)
