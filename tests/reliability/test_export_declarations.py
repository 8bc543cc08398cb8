"""Exports to formats that cannot carry declared missing codes or long labels warn and say what changed."""

import warnings

import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataWarning
from mutualaid_outcomes.io import Codebook, Variable, get_codebook, read_data, write_data


def test_stata_declared_codes_become_extended_missing_with_a_warning(tmp_path):
    cb = Codebook([Variable("ddd", "Drinks", {-9: "refused", 1: "one"}, missing_codes=(-9, 99))])
    frame = pd.DataFrame({"ddd": [4.0, -9, 99, 1, -9]})
    with pytest.warns(DataWarning, match=r"'ddd': -9 as \.a, 99 as \.b") as rec:
        write_data(frame, tmp_path / "d.dta", codebook=cb)
    assert "Stata has no user-missing values" in str(rec[0].message)
    back = read_data(tmp_path / "d.dta")
    assert back["ddd"].isna().tolist() == [False, True, True, False, True]
    assert get_codebook(back).missing_counts("ddd") == {".a": 2, ".b": 1}
    assert frame["ddd"].tolist() == [4.0, -9, 99, 1, -9]  # input untouched


def test_stata_declarations_without_values_are_named(tmp_path):
    cb = Codebook([Variable("x", missing_codes=(-9,), missing_ranges=((90, 99),))])
    with pytest.warns(DataWarning, match=r"not carried for 'x'"):
        write_data(pd.DataFrame({"x": [1.0, None]}), tmp_path / "x.dta", codebook=cb)


def test_spss_long_value_labels_are_cut_with_a_warning(tmp_path):
    long = "Attended a meeting of Narcotics Anonymous in person " * 4
    cb = Codebook([Variable("f", "Fellowship", {1: "AA", 2: long})])
    with pytest.warns(DataWarning, match=r"value labels cut to 120 bytes for f = 2"):
        write_data(pd.DataFrame({"f": [1.0, 2.0]}), tmp_path / "f.sav", codebook=cb)
    labels = get_codebook(read_data(tmp_path / "f.sav")).value_labels("f")
    assert labels[2] == long.encode()[:120].decode()


def test_spss_long_variable_labels_are_cut_with_a_warning(tmp_path):
    cb = Codebook([Variable("f", "L" * 300)])
    with pytest.warns(DataWarning, match=r"variable labels cut to 256 characters for \['f'\]"):
        write_data(pd.DataFrame({"f": [1.0]}), tmp_path / "f.sav", codebook=cb)


def test_spss_codes_merged_into_a_range_are_named(tmp_path):
    cb = Codebook([Variable("d", missing_codes=(-9, 97, 98, 99))])
    with pytest.warns(DataWarning, match=r"merged into one range for 'd' \(97 thru 99, -9\)"):
        write_data(pd.DataFrame({"d": [1.0, 97, -9]}), tmp_path / "d.sav", codebook=cb)


def test_formats_that_carry_everything_do_not_warn(tmp_path):
    cb = Codebook([Variable("d", "Drinks", {1: "one"}, missing_codes=(-9, 97, 98))])
    frame = pd.DataFrame({"d": [1.0, 97, -9]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        for suffix in (".sav", ".csv", ".parquet"):
            write_data(frame, tmp_path / f"d{suffix}", codebook=cb)
