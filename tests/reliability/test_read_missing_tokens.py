"""Reading never turns a text value such as NA (Narcotics Anonymous) into missing.

Rule: only empty cells are missing by default; NA-like tokens are missing only in
columns that hold numbers, true/false or dates once the tokens are set aside. Each
decision is recorded in the codebook (``read_notes``) and shown by describe_data.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataWarning
from mutualaid_outcomes.io import describe_data, get_codebook, read_data, write_data
from mutualaid_outcomes.tables import table_one

TEXT_TOKENS = ["NA", "null", "None", "N/A"]


@pytest.fixture(params=[False, True], ids=["default-strings", "future-infer-string"])
def string_option(request):
    """Run each test with pandas' default text dtype and with the str dtype of pandas 3."""
    if request.param and int(pd.__version__.split(".")[0]) >= 3:
        pytest.skip("pandas 3 infers the str dtype by default")
    if request.param and not hasattr(pd.options.future, "infer_string"):
        pytest.skip("this pandas has no future.infer_string option")
    if not request.param:
        yield
        return
    with pd.option_context("future.infer_string", True):
        yield


@pytest.fixture
def fellowship_csv(tmp_path):
    path = tmp_path / "members.csv"
    path.write_text(
        "id,fellowship,meetings,sober_date\n"
        "1,AA,3,2020-01-05\n"
        "2,NA,NA,NA\n"
        "3,CA,.,2021-03-01\n"
        "4,null,5,\n"
        "5,N/A,null,2019-12-31\n"
        "6,None,2,.\n"
        "7,,4,2020-06-30\n"
    )
    return path


def test_text_tokens_are_values_in_a_text_column(fellowship_csv, string_option):
    df = read_data(fellowship_csv)
    got = df["fellowship"].tolist()
    assert got[:6] == ["AA", "NA", "CA", "null", "N/A", "None"]
    assert pd.isna(got[6])  # only the empty cell is missing
    assert df["fellowship"].isna().sum() == 1


def test_tokens_are_missing_in_number_and_date_columns(fellowship_csv, string_option):
    df = read_data(fellowship_csv)
    assert pd.api.types.is_float_dtype(df["meetings"].dtype)
    assert df["meetings"].isna().tolist() == [False, True, True, False, True, False, False]
    assert df["meetings"].dropna().tolist() == [3.0, 5.0, 2.0, 4.0]
    assert df["sober_date"].isna().tolist() == [False, True, False, True, False, True, False]
    assert df["sober_date"].dropna().tolist()[0] == "2020-01-05"


def test_each_decision_is_recorded_in_codebook_and_describe(fellowship_csv, string_option):
    df = read_data(fellowship_csv)
    cb = get_codebook(df)
    kept = " ".join(cb.variable("fellowship").read_notes)
    assert "kept" in kept and "'NA' (1)" in kept and "'null' (1)" in kept
    assert "missing_codes={'fellowship': ['NA']}" in kept
    meet = cb.variable("meetings")
    assert "as missing" in " ".join(meet.read_notes) and "numbers" in " ".join(meet.read_notes)
    assert meet.missing_counts == {"NA": 1, ".": 1, "null": 1}
    assert set(meet.missing_codes) == {"NA", ".", "null"}
    assert "dates" in " ".join(cb.variable("sober_date").read_notes)
    assert cb.variable("id").read_notes == ()
    desc = describe_data(df).set_index("variable")
    assert "kept 'NA' (1)" in desc.loc["fellowship", "read_notes"]
    assert "NA: 1" in desc.loc["meetings", "missing_codes_found"]
    assert desc.loc["fellowship", "n_missing"] == 1


def test_override_reads_a_text_token_as_missing(fellowship_csv, string_option):
    df = read_data(fellowship_csv, missing_codes={"fellowship": ["NA", "N/A"]})
    assert df["fellowship"].isna().sum() == 3
    assert get_codebook(df).missing_counts("fellowship") == {"NA": 1, "N/A": 1}
    assert df["fellowship"].tolist()[3] == "null"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".sav", ".dta"])
def test_round_trip_keeps_narcotics_anonymous(tmp_path, suffix, string_option):
    src = pd.DataFrame(
        {"id": [1, 2, 3, 4], "fellowship": ["AA", "NA", "CA", "NA"], "n": [1.0, 2, 3, np.nan]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        back = read_data(write_data(src, tmp_path / f"m{suffix}"))
    assert back["fellowship"].tolist() == ["AA", "NA", "CA", "NA"]
    assert back["n"].isna().tolist() == [False, False, False, True]


def test_table_one_shows_na_as_a_fellowship_not_missing(tmp_path, string_option):
    src = pd.DataFrame({"fellowship": ["AA", "NA", "CA", "NA", "AA"]})
    back = read_data(write_data(src, tmp_path / "t.csv"))
    body = table_one(back, variables=["fellowship"], tests=False, smd=False).body
    assert "NA" in body.index
    assert "Missing" not in body.index
    assert body.loc["NA"].iloc[0] == "2 (40.0)"


def test_tsv_and_excel_follow_the_same_rule(tmp_path, string_option):
    frame = pd.DataFrame(
        {"fellowship": ["AA", "NA", "CA"], "score": ["1.5", "NA", "2.5"]}, dtype=object
    )
    frame.to_csv(tmp_path / "m.tsv", sep="\t", index=False)
    xl = frame.assign(score=[1.5, "NA", 2.5])
    xl.to_excel(tmp_path / "m.xlsx", index=False)
    for name in ("m.tsv", "m.xlsx"):
        df = read_data(tmp_path / name)
        assert df["fellowship"].tolist() == ["AA", "NA", "CA"], name
        assert df["score"].isna().tolist() == [False, True, False], name
        assert df["score"].dropna().tolist() == [1.5, 2.5], name


def test_a_column_of_tokens_only_stays_text(tmp_path, string_option):
    (tmp_path / "only.csv").write_text("fellowship,x\nNA,1\nNA,2\n")
    df = read_data(tmp_path / "only.csv")
    assert df["fellowship"].tolist() == ["NA", "NA"]
    assert "kept 'NA' (2)" in " ".join(get_codebook(df).variable("fellowship").read_notes)


def test_true_false_column_with_tokens(tmp_path, string_option):
    (tmp_path / "b.csv").write_text("flag\nTRUE\nNA\nFALSE\n")
    df = read_data(tmp_path / "b.csv")
    assert df["flag"].isna().tolist() == [False, True, False]
    assert df["flag"].dropna().tolist() == [True, False]


def test_floats_are_those_of_pandas_own_parser(tmp_path, string_option):
    values = ["0.1", "2.675", "1e-7", "3.141592653589793", "123456.789012345"]
    (tmp_path / "f.csv").write_text("x,k\n" + "".join(f"{v},1\n" for v in [*values, "NA"]))
    (tmp_path / "g.csv").write_text("x,k\n" + "".join(f"{v},1\n" for v in [*values, ""]))
    a = read_data(tmp_path / "f.csv")["x"].to_numpy()
    b = pd.read_csv(tmp_path / "g.csv")["x"].to_numpy()
    assert np.array_equal(a, b, equal_nan=True)
