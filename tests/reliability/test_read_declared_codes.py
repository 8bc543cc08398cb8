"""Declared missing codes apply after type conversion: "refused" and -9 in one column both go."""

import pandas as pd
import pytest

from mutualaid_outcomes.io import Codebook, Variable, get_codebook, read_data


@pytest.fixture(params=[False, True], ids=["default-strings", "future-infer-string"])
def string_option(request):
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
def drinks_csv(tmp_path):
    path = tmp_path / "drinks.csv"
    path.write_text("id,ddd,site\n1,4,A\n2,refused,B\n3,-9,refused\n4,6.5,A\n5,,B\n")
    return path


@pytest.mark.parametrize("codes", [["refused", -9], {"ddd": ["refused", -9]}], ids=["list", "dict"])
def test_text_and_numeric_codes_in_one_column_are_both_missing(drinks_csv, codes, string_option):
    df = read_data(drinks_csv, missing_codes=codes)
    assert pd.api.types.is_float_dtype(df["ddd"].dtype)
    assert df["ddd"].isna().tolist() == [False, True, True, False, True]
    assert df["ddd"].dropna().tolist() == [4.0, 6.5]
    assert get_codebook(df).missing_counts("ddd") == {"refused": 1, -9: 1}


def test_list_codes_also_reach_text_columns(drinks_csv, string_option):
    df = read_data(drinks_csv, missing_codes=["refused", -9])
    assert df["site"].isna().tolist() == [False, False, True, False, False]
    assert get_codebook(df).missing_counts("site") == {"refused": 1}


def test_codes_declared_in_a_codebook_apply_after_conversion(drinks_csv, string_option):
    cb = Codebook([Variable("ddd", missing_codes=("refused", -9))])
    df = read_data(drinks_csv, codebook=cb)
    assert df["ddd"].dropna().tolist() == [4.0, 6.5]
    assert get_codebook(df).missing_counts("ddd") == {"refused": 1, -9: 1}


def test_excel_column_with_text_and_numeric_codes(tmp_path, string_option):
    pd.DataFrame({"ddd": [4, "refused", -9, 6.5]}).to_excel(tmp_path / "d.xlsx", index=False)
    df = read_data(tmp_path / "d.xlsx", missing_codes=["refused", -9])
    assert df["ddd"].dropna().tolist() == [4.0, 6.5]
    assert get_codebook(df).missing_counts("ddd") == {"refused": 1, -9: 1}


def test_numeric_code_written_as_text_in_the_file_still_matches(tmp_path, string_option):
    (tmp_path / "f.csv").write_text("ddd\n4\n-9.0\nrefused\n")
    df = read_data(tmp_path / "f.csv", missing_codes={"ddd": ["refused", -9]})
    assert df["ddd"].dropna().tolist() == [4.0]
