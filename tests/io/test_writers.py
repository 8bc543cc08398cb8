import numpy as np
import pandas as pd
import pyreadstat
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    DataFileNotFoundError,
    DataValidationError,
    DataWarning,
    FileFormatError,
)
from mutualaid_outcomes.io import (
    Codebook,
    Variable,
    get_codebook,
    read_data,
    set_codebook,
    write_data,
)


@pytest.fixture
def sav(tmp_path):
    raw = pd.DataFrame(
        {
            "id": [1.0, 2, 3, 4, 5],
            "sex": [0.0, 1, 9, 1, 0],
            "craving": [1.0, 98, -2, 4, 5],
            "site": ["north", "south", "NA", "north", "east"],
            "when": pd.to_datetime(["2024-01-02", "2024-02-03", None, "2024-03-04", "2024-05-06"]),
        }
    )
    path = tmp_path / "orig.sav"
    pyreadstat.write_sav(
        raw,
        path,
        column_labels={"sex": "Sex", "craving": "Craving (past week)", "site": "Site"},
        variable_value_labels={
            "sex": {0: "male", 1: "female", 9: "refused"},
            "craving": {1: "none", 2: "mild", 3: "moderate", 4: "strong", 5: "severe"},
            "site": {"north": "Northern clinic"},
        },
        missing_ranges={"sex": [9], "craving": [98, {"lo": -9, "hi": -1}], "site": ["NA"]},
        variable_measure={"id": "nominal", "sex": "nominal", "craving": "ordinal"},
    )
    return path


def _declarations(cb):
    return {
        n: (v.label, dict(v.value_labels), v.missing_codes, v.missing_ranges, v.measurement)
        for n, v in cb.variables.items()
    }


def test_sav_round_trip_keeps_labels_and_missing_declarations(sav, tmp_path):
    first = read_data(sav)
    snapshot = first.copy()
    out = write_data(first, tmp_path / "again.sav")
    pd.testing.assert_frame_equal(first, snapshot)  # input not modified
    second = read_data(out)
    cb1, cb2 = get_codebook(first), get_codebook(second)
    assert _declarations(cb2) == _declarations(cb1)
    assert cb2.variable("craving").missing_codes == (98,)
    assert cb2.variable("craving").missing_ranges == ((-9, -1),)
    assert cb2.variable("site").missing_codes == ("NA",)
    assert cb2.value_labels("site") == {"north": "Northern clinic"}
    pd.testing.assert_frame_equal(second, first, check_like=False)
    # codes read as NaN are written as system-missing: nothing left to count
    assert cb1.missing_counts("craving") == {98: 1, -2: 1}
    assert cb2.missing_counts("craving") == {98: 0}
    # and a third pass is stable
    third = read_data(write_data(second, tmp_path / "third.zsav"))
    assert _declarations(get_codebook(third)) == _declarations(cb1)


def test_sav_codes_still_in_data_are_declared_and_recounted(tmp_path):
    cb = Codebook([Variable("sex", "Sex", {0: "male", 1: "female"}, missing_codes=(7, 8, 9))])
    df = pd.DataFrame({"sex": [0, 1, 9, 8, 1]})
    back = read_data(write_data(df, tmp_path / "s.sav", codebook=cb))
    assert back["sex"].isna().tolist() == [False, False, True, True, False]
    assert get_codebook(back).missing_counts("sex") == {7: 0, 8: 1, 9: 1}


def test_sav_more_than_three_codes_merged_into_range(tmp_path):
    cb = Codebook([Variable("drinks", missing_codes=(-9, 97, 98, 99))])
    df = pd.DataFrame({"drinks": [0.0, 4, 12, 97, 99, -9]})
    with pytest.warns(DataWarning, match="merged into one range for 'drinks'"):
        back = read_data(write_data(df, tmp_path / "d.sav", codebook=cb))
    var = get_codebook(back).variable("drinks")
    assert var.missing_ranges == ((97, 99),) and var.missing_codes == (-9,)
    assert back["drinks"].isna().sum() == 3
    assert get_codebook(back).missing_counts("drinks") == {-9: 1, 97: 1, 99: 1}


def test_sav_codes_that_cannot_be_declared(tmp_path):
    cb = Codebook([Variable("x", missing_codes=(-9, -8, 50, 99))])
    df = pd.DataFrame({"x": [0.0, 60.0, 10.0]})
    with pytest.raises(DataValidationError, match=r"'x'.*three discrete codes"):
        write_data(df, tmp_path / "x.sav", codebook=cb)


def test_dta_round_trip_keeps_labels(sav, tmp_path):
    first = read_data(sav, columns=["id", "sex", "craving"])
    with pytest.warns(DataWarning, match="not carried for 'sex', 'craving'"):
        second = read_data(write_data(first, tmp_path / "a.dta"))
    third = read_data(write_data(second, tmp_path / "b.dta"))
    for df in (second, third):
        cb = get_codebook(df)
        assert cb.label("sex") == "Sex" and cb.label("craving") == "Craving (past week)"
        assert cb.value_labels("sex") == {0: "male", 1: "female", 9: "refused"}
        assert cb.value_labels("craving") == get_codebook(first).value_labels("craving")
        pd.testing.assert_frame_equal(df, first)


def test_dta_stata_extended_missing_round_trip(tmp_path):
    raw = pd.DataFrame({"days": pd.Series([3.0, "a", 5.0, "z"], dtype=object)})
    pyreadstat.write_dta(raw, tmp_path / "e.dta", missing_user_values={"days": ["a", "z"]})
    first = read_data(tmp_path / "e.dta")
    assert get_codebook(first).missing_counts("days") == {".a": 1, ".z": 1}
    second = read_data(write_data(first, tmp_path / "f.dta"))
    assert second["days"].isna().tolist() == [False, True, False, True]
    assert get_codebook(second).missing_counts("days") == {}  # written as plain '.'


def test_dta_limits(tmp_path):
    cb = Codebook(
        [
            Variable("x", "l" * 100, value_labels={0.5: "half"}),
            Variable("s", value_labels={"a": "Aye"}),
        ]
    )
    df = pd.DataFrame({"x": [0.5, 1.0], "s": ["a", "b"]})
    with pytest.warns(DataWarning, match=r"cut to 80.*value labels not written for \['x', 's'\]"):
        back = read_data(write_data(df, tmp_path / "l.dta", codebook=cb))
    assert get_codebook(back).label("x") == "l" * 80
    with pytest.raises(FileFormatError, match="Stata variable names.*'bad name'"):
        write_data(pd.DataFrame({"bad name": [1]}), tmp_path / "n.dta")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_text_and_parquet_round_trip_with_sidecar(sav, tmp_path, suffix):
    first = read_data(sav)
    path = write_data(first, tmp_path / f"w{suffix}")
    assert (tmp_path / "w.codebook.json").is_file()
    second = read_data(path)
    cb1, cb2 = get_codebook(first), get_codebook(second)
    assert _declarations(cb2) == _declarations(cb1)
    assert cb2.missing_counts("craving") == {98: 0}
    pd.testing.assert_series_equal(second["craving"], first["craving"])
    pd.testing.assert_series_equal(second["site"], first["site"])


def test_categoricals_written_as_codes(sav, tmp_path):
    cats = read_data(sav, convert_categoricals=True, columns=["sex", "id"])
    assert cats["sex"].dtype == "category"
    for suffix in (".sav", ".csv"):
        back = read_data(write_data(cats, tmp_path / f"c{suffix}"))
        assert back["sex"].tolist()[:2] == [0.0, 1.0]
        assert get_codebook(back).value_labels("sex") == {0: "male", 1: "female", 9: "refused"}
    plain = pd.DataFrame({"arm": pd.Categorical(["TSF", "MET", "CBT"], ["TSF", "CBT", "MET"])})
    back = read_data(write_data(plain, tmp_path / "arm.sav"))
    assert back["arm"].tolist() == [1.0, 3.0, 2.0]
    assert get_codebook(back).value_labels("arm") == {1: "TSF", 2: "CBT", 3: "MET"}


def test_inferred_codebook_when_none_attached(tmp_path):
    df = pd.DataFrame({"x": [1.5, 2.5], "flag": [True, False]})
    back = read_data(write_data(df, tmp_path / "p.sav"))
    assert back["flag"].tolist() == [1.0, 0.0]
    assert get_codebook(back).measurement("x") == "scale"


def test_attached_codebook_is_used_and_input_untouched(tmp_path):
    cb = Codebook([Variable("x", "Exposure", missing_codes=(-9,))])
    df = set_codebook(pd.DataFrame({"x": [1.0, -9.0]}), cb)
    before = df.copy()
    back = read_data(write_data(df, tmp_path / "x.sav"))
    pd.testing.assert_frame_equal(df, before)
    assert get_codebook(df) is cb
    assert get_codebook(back).label("x") == "Exposure"
    assert get_codebook(back).missing_counts("x") == {-9: 1}


def test_write_bad_input(tmp_path):
    df = pd.DataFrame({"x": [1]})
    with pytest.raises(FileFormatError, match=r"\.xlsx.*\.csv, \.parquet, \.sav, \.zsav, \.dta"):
        write_data(df, tmp_path / "x.xlsx")
    with pytest.raises(DataFileNotFoundError, match="does not exist"):
        write_data(df, tmp_path / "no" / "x.csv")
    with pytest.raises(ArgumentTypeError, match="strings"):
        write_data(pd.DataFrame({0: [1]}), tmp_path / "x.csv")
    with pytest.raises(ArgumentTypeError, match="DataFrame"):
        write_data({"x": [1]}, tmp_path / "x.csv")
    with pytest.raises(ArgumentTypeError, match="codebook"):
        write_data(df, tmp_path / "x.csv", codebook=3)
    with pytest.raises(DataValidationError, match="duplicated column names"):
        write_data(pd.DataFrame([[1, 2]], columns=["a", "a"]), tmp_path / "x.sav")


def test_nan_only_frame_and_empty(tmp_path):
    df = pd.DataFrame({"x": [np.nan, np.nan]})
    back = read_data(write_data(df, tmp_path / "n.sav"))
    assert back["x"].isna().all()
