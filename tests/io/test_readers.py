import copy
import gzip

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataFileNotFoundError,
    DataValidationError,
    DataWarning,
    FileFormatError,
)
from mutualaid_outcomes.io import (
    SUPPORTED_READ_EXTENSIONS,
    Codebook,
    Variable,
    get_codebook,
    read_data,
)


@pytest.fixture
def raw():
    return pd.DataFrame(
        {
            "id": [1, 2, 3, 4, 5, 6],
            "sex": [0.0, 1.0, 1.0, 9.0, 0.0, np.nan],
            "craving": [1.0, 5.0, 98.0, 99.0, -3.0, 2.0],
            "ddd": [4.5, 12.0, -1.0, 3.0, 6.0, 0.0],
            "site": ["A", "B", "B", "X", "A", "A"],
        }
    )


@pytest.fixture
def sav(raw, tmp_path):
    path = tmp_path / "survey.sav"
    pyreadstat.write_sav(
        raw,
        path,
        column_labels={"sex": "Sex", "craving": "Craving (past week)", "ddd": "Drinks/day"},
        variable_value_labels={
            "sex": {0: "male", 1: "female", 9: "refused"},
            "craving": {1: "none", 2: "mild", 3: "moderate", 4: "strong", 5: "severe"},
        },
        missing_ranges={
            "sex": [9],
            "craving": [98, {"lo": -9, "hi": -1}],
            "ddd": [{"lo": -9, "hi": -1}],
            "site": ["X"],
        },
        variable_measure={"sex": "nominal", "craving": "ordinal", "ddd": "scale", "id": "nominal"},
    )
    return path


# -- SPSS -----------------------------------------------------------------------------


def test_sav_user_missing_codes_and_ranges_become_nan_and_are_counted(sav):
    df = read_data(sav)
    assert df["sex"].isna().tolist() == [False, False, False, True, False, True]
    assert df["sex"].dropna().tolist() == [0.0, 1.0, 1.0, 0.0]
    # 98 (discrete) and -3 (in range -9..-1) are missing; 99 is NOT declared -> kept
    assert df["craving"].tolist()[:2] == [1.0, 5.0]
    assert np.isnan(df["craving"][2]) and np.isnan(df["craving"][4])
    assert df["craving"][3] == 99.0
    assert np.isnan(df["ddd"][2])
    assert df["site"].isna().tolist() == [False, False, False, True, False, False]
    cb = get_codebook(df)
    assert not cb.inferred
    assert cb.missing_counts("sex") == {9: 1}
    assert cb.missing_counts("craving") == {98: 1, -3: 1}
    assert cb.missing_counts("ddd") == {-1: 1}
    assert cb.missing_counts("site") == {"X": 1}
    assert cb.variable("craving").missing_codes == (98,)
    assert cb.variable("craving").missing_ranges == ((-9, -1),)
    assert cb.label("craving") == "Craving (past week)"
    assert cb.value_labels("sex") == {0: "male", 1: "female", 9: "refused"}
    assert cb.measurement("craving") == "ordinal"
    assert cb.variable("sex").dtype == "float64"


def test_sav_plus_user_sentinels(sav):
    df = read_data(sav, missing_codes={"craving": [99]})
    assert df["craving"].isna().sum() == 3
    assert get_codebook(df).missing_counts("craving") == {98: 1, 99: 1, -3: 1}


def test_zsav_and_por(raw, tmp_path):
    pyreadstat.write_sav(raw, tmp_path / "c.zsav", compress=True, column_labels={"sex": "Sex"})
    df = read_data(tmp_path / "c.zsav", missing_codes=[9])
    assert get_codebook(df).label("sex") == "Sex"
    assert get_codebook(df).missing_counts("sex") == {9: 1}
    pyreadstat.write_por(raw.drop(columns="site"), tmp_path / "c.por")
    # the portable format stores names in upper case
    with pytest.raises(ColumnNotFoundError, match="'CRAVING' for 'craving'"):
        read_data(tmp_path / "c.por", columns=["craving"])
    df = read_data(tmp_path / "c.por", columns=["CRAVING", "ID"], missing_codes=[98, 99])
    assert list(df.columns) == ["CRAVING", "ID"]
    assert df["CRAVING"].isna().sum() == 2


def test_columns_reads_only_requested_and_orders(sav, monkeypatch):
    seen = {}
    real = pyreadstat.read_sav

    def spy(path, **kwargs):
        if not kwargs.get("metadataonly"):
            seen.update(kwargs)
        return real(path, **kwargs)

    monkeypatch.setattr(pyreadstat, "read_sav", spy)
    df = read_data(sav, columns=["ddd", "sex"])
    assert seen["usecols"] == ["ddd", "sex"] and seen["user_missing"] is True
    assert list(df.columns) == ["ddd", "sex"]
    assert get_codebook(df).names == ["ddd", "sex"]
    assert get_codebook(df).missing_counts("sex") == {9: 1}


def test_unknown_column_suggests_close_match_and_names_file(sav):
    with pytest.raises(ColumnNotFoundError, match=r"'cravng'.*survey\.sav.*'craving'"):
        read_data(sav, columns=["cravng"])
    with pytest.raises(ColumnNotFoundError, match="not a column of"):
        read_data(sav, missing_codes={"sx": [9]})
    with pytest.raises(DataValidationError, match="more than once"):
        read_data(sav, columns=["sex", "sex"])


def test_strict_labels(sav):
    with pytest.raises(DataValidationError) as info:
        read_data(sav, strict_labels=True)
    msg = str(info.value)
    assert "'craving'" in msg and "[99]" in msg and "1 value" in msg and "survey.sav" in msg
    assert "'sex'" not in msg  # 9 is declared missing, so no violation
    # declaring 99 missing resolves it
    df = read_data(sav, strict_labels=True, missing_codes={"craving": [99]})
    assert df["craving"].isna().sum() == 3


def test_convert_categoricals(sav):
    with pytest.warns(DataWarning, match="craving"):
        df = read_data(sav, convert_categoricals=True)
    assert df["sex"].dtype == "category"
    assert df["sex"].tolist()[:3] == ["male", "female", "female"]
    assert df["craving"].dtype == "float64"  # 99 has no label: kept as codes
    df = read_data(sav, convert_categoricals=True, missing_codes={"craving": [99]})
    assert df["craving"].cat.ordered
    assert list(df["craving"].cat.categories) == ["none", "mild", "moderate", "strong", "severe"]
    assert get_codebook(df).value_labels("sex") == {0: "male", 1: "female", 9: "refused"}


# -- Stata / SAS ----------------------------------------------------------------------


def test_dta_extended_missing_detected_and_counted(tmp_path):
    raw = pd.DataFrame(
        {
            "aa_days": pd.Series([10.0, "a", 0.0, "b", "a", np.nan, 30.0], dtype=object),
            "sex": [0, 1, 1, 0, 1, 0, 1],
        }
    )
    path = tmp_path / "ext.dta"
    pyreadstat.write_dta(
        raw,
        path,
        missing_user_values={"aa_days": ["a", "b"]},
        column_labels={"aa_days": "Days attended AA", "sex": "Sex"},
        variable_value_labels={"sex": {0: "male", 1: "female"}},
    )
    df = read_data(path)
    assert df["aa_days"].dtype == "float64"
    assert df["aa_days"].isna().tolist() == [False, True, False, True, True, True, False]
    cb = get_codebook(df)
    assert cb.missing_counts("aa_days") == {".a": 2, ".b": 1}
    assert set(cb.variable("aa_days").missing_codes) == {".a", ".b"}
    assert cb.label("aa_days") == "Days attended AA"
    assert cb.value_labels("sex") == {0: "male", 1: "female"}
    assert cb.measurement("sex") == "nominal"


def test_sas7bdat_fixture(paths):
    df = read_data(paths.io_data / "iris.sas7bdat", columns=["Species", "Sepal_Length"])
    assert df.shape == (150, 2)
    assert list(df.columns) == ["Species", "Sepal_Length"]
    assert get_codebook(df).measurement("Species") == "nominal"
    assert df["Sepal_Length"].mean() == pytest.approx(5.843333, abs=1e-6)


def test_xpt(raw, tmp_path):
    pyreadstat.write_xport(raw.drop(columns="site"), tmp_path / "c.xpt")
    df = read_data(tmp_path / "c.xpt", missing_codes=[98, 99, 9])
    assert get_codebook(df).missing_counts("craving") == {98: 1, 99: 1, 9: 0}
    assert get_codebook(df).missing_counts("sex") == {98: 0, 99: 0, 9: 1}


# -- text, Parquet, Excel -------------------------------------------------------------


def test_csv_sentinels_list_applies_to_numeric_columns(raw, tmp_path):
    raw.to_csv(tmp_path / "w.csv", index=False)
    df = read_data(tmp_path / "w.csv", missing_codes=[-1, 9, 98, 99])
    assert df["sex"].isna().sum() == 2  # 9 and a blank
    assert df["craving"].isna().sum() == 2
    assert df["ddd"].isna().sum() == 1
    cb = get_codebook(df)
    assert cb.inferred
    assert cb.missing_counts("craving") == {-1: 0, 9: 0, 98: 1, 99: 1}
    assert df["id"].tolist() == [1, 2, 3, 4, 5, 6]  # no code present: untouched, int
    assert df["site"].tolist() == ["A", "B", "B", "X", "A", "A"]
    # sentinels never survive as valid values
    for col in ("sex", "craving", "ddd"):
        assert not df[col].isin([-1, 9, 98, 99]).any()


def test_csv_text_sentinel_in_numeric_column(tmp_path):
    (tmp_path / "t.csv").write_text("id,age,arm\n1,34,TSF\n2,refused,CBT\n3,51,dont know\n")
    df = read_data(tmp_path / "t.csv", missing_codes={"age": ["refused"], "arm": "dont know"})
    assert df["age"].dtype == "float64"
    assert df["age"].isna().tolist() == [False, True, False]
    assert df["arm"].isna().tolist() == [False, False, True]
    cb = get_codebook(df)
    assert cb.missing_counts("age") == {"refused": 1}
    assert cb.missing_counts("arm") == {"dont know": 1}


@pytest.mark.parametrize("suffix", [".tsv", ".csv.gz", ".parquet", ".xlsx"])
def test_other_formats(raw, tmp_path, suffix):
    path = tmp_path / f"w{suffix}"
    if suffix == ".tsv":
        raw.to_csv(path, sep="\t", index=False)
    elif suffix == ".csv.gz":
        with gzip.open(path, "wt") as fh:
            raw.to_csv(fh, index=False)
    elif suffix == ".parquet":
        raw.to_parquet(path, index=False)
    else:
        raw.to_excel(path, index=False)
    df = read_data(path, columns=["site", "craving"], missing_codes=[98, 99])
    assert list(df.columns) == ["site", "craving"]
    assert df["craving"].isna().sum() == 2
    assert get_codebook(df).missing_counts("craving") == {98: 1, 99: 1}
    pd.testing.assert_series_equal(df["site"], raw["site"])


def test_excel_sheet(raw, tmp_path):
    with pd.ExcelWriter(tmp_path / "b.xlsx") as xw:
        raw.to_excel(xw, sheet_name="baseline", index=False)
        raw.assign(sex=2.0).to_excel(xw, sheet_name="month3", index=False)
    df = read_data(tmp_path / "b.xlsx", sheet_name="month3")
    assert (df["sex"] == 2.0).all()
    with pytest.raises(FileFormatError, match="b.xlsx"):
        read_data(tmp_path / "b.xlsx", sheet_name="month9")


def test_explicit_codebook_and_sidecar(raw, tmp_path):
    raw.to_csv(tmp_path / "w.csv", index=False)
    cb = Codebook(
        [
            Variable("sex", "Sex", {0: "male", 1: "female"}, (9,), measurement="nominal"),
            Variable("unread", "Not in the file"),
        ]
    )
    before = copy.deepcopy(cb.to_dict())
    df = read_data(tmp_path / "w.csv", codebook=cb)
    assert cb.to_dict() == before  # not mutated
    got = get_codebook(df)
    assert not got.inferred
    assert got.label("sex") == "Sex" and got.missing_counts("sex") == {9: 1}
    assert "unread" not in got
    # a sidecar next to the file is used; use_sidecar=False ignores it
    cb.to_json(tmp_path / "w.codebook.json")
    assert get_codebook(read_data(tmp_path / "w.csv")).label("sex") == "Sex"
    plain = read_data(tmp_path / "w.csv", use_sidecar=False)
    assert get_codebook(plain).label("sex") == "sex" and plain["sex"].max() == 9


def test_missing_codes_argument_not_mutated(raw, tmp_path):
    raw.to_csv(tmp_path / "w.csv", index=False)
    codes = {"sex": [9], "craving": [98, 99]}
    frozen = copy.deepcopy(codes)
    read_data(tmp_path / "w.csv", missing_codes=codes)
    assert codes == frozen
    with pytest.raises(ArgumentTypeError, match="missing_codes"):
        read_data(tmp_path / "w.csv", missing_codes={"sex": [None]})


# -- bad input ------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(DataFileNotFoundError, match="nothing.sav"):
        read_data(tmp_path / "nothing.sav")
    with pytest.raises(DataFileNotFoundError, match="not a file"):
        read_data(tmp_path)
    with pytest.raises(ArgumentTypeError, match="path"):
        read_data(42)


def test_unsupported_extension_lists_supported(tmp_path):
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(FileFormatError, match=r"'\.json'.*\.csv.*\.sav.*\.dta.*\.xpt"):
        read_data(tmp_path / "data.json")
    assert ".sas7bdat" in SUPPORTED_READ_EXTENSIONS


def test_corrupt_and_truncated_sav(tmp_path):
    (tmp_path / "garbage.sav").write_bytes(b"this is not an SPSS system file at all")
    with pytest.raises(FileFormatError, match=r"garbage\.sav.*SPSS") as info:
        read_data(tmp_path / "garbage.sav")
    assert isinstance(info.value.__cause__, pyreadstat.ReadstatError)
    big = pd.DataFrame({"x": np.arange(2000.0), "y": np.arange(2000.0)})
    pyreadstat.write_sav(big, tmp_path / "full.sav")
    data = (tmp_path / "full.sav").read_bytes()
    (tmp_path / "cut.sav").write_bytes(data[: len(data) // 2])
    with pytest.raises(FileFormatError, match=r"cut\.sav.*expected number of rows"):
        read_data(tmp_path / "cut.sav")


def test_duplicate_column_names(tmp_path):
    (tmp_path / "dup.csv").write_text("id,score,score,age\n1,2,3,40\n")
    with pytest.raises(DataValidationError, match=r"dup\.csv.*'score' \(2 times\)"):
        read_data(tmp_path / "dup.csv")
    pd.DataFrame([[1, 2, 3]], columns=["a", "b", "a"]).to_excel(tmp_path / "dup.xlsx", index=False)
    with pytest.raises(DataValidationError, match="'a' \\(2 times\\)"):
        read_data(tmp_path / "dup.xlsx")


def test_empty_and_undecodable_csv(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(FileFormatError, match="empty"):
        read_data(tmp_path / "empty.csv")
    (tmp_path / "latin.csv").write_bytes("site,n\nMünster,3\n".encode("latin-1"))
    with pytest.raises(FileFormatError, match="encoding"):
        read_data(tmp_path / "latin.csv")
    df = read_data(tmp_path / "latin.csv", encoding="latin-1")
    assert df["site"].tolist() == ["Münster"]


def test_flag_types(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    with pytest.raises(ArgumentTypeError, match="strict_labels"):
        read_data(tmp_path / "a.csv", strict_labels="yes")
    with pytest.raises(ArgumentTypeError, match="sheet_name"):
        read_data(tmp_path / "a.csv", sheet_name=None)


def test_empty_header_cells_are_not_duplicates(tmp_path):
    (tmp_path / "u.csv").write_text(",x,\n1,2,3\n")
    df = read_data(tmp_path / "u.csv", columns=["x", "Unnamed: 2"])
    assert list(df.columns) == ["x", "Unnamed: 2"]


def test_parquet_with_stored_index(tmp_path):
    df = pd.DataFrame({"id": [7, 8], "x": [1.0, 99.0]}).set_index("id")
    df.to_parquet(tmp_path / "i.parquet")
    back = read_data(tmp_path / "i.parquet", columns=["x", "id"], missing_codes={"x": [99]})
    assert list(back.columns) == ["x", "id"]
    assert back["id"].tolist() == [7, 8] and back["x"].isna().tolist() == [False, True]


def test_parquet_row_numbers_are_not_a_column(tmp_path):
    pd.DataFrame({"x": [1.0, 2.0, 3.0]}).iloc[1:].to_parquet(tmp_path / "r.parquet")
    back = read_data(tmp_path / "r.parquet")
    assert list(back.columns) == ["x"] and back["x"].tolist() == [2.0, 3.0]


def test_csv_with_byte_order_mark(tmp_path):
    (tmp_path / "bom.csv").write_bytes("\ufeffid,x\n1,2\n".encode())
    df = read_data(tmp_path / "bom.csv", columns=["id"], encoding="utf-8")
    assert list(df.columns) == ["id"]


def test_excel_numeric_header(tmp_path):
    pd.DataFrame({2020: [1, 99], "id": [1, 2]}).to_excel(tmp_path / "n.xlsx", index=False)
    df = read_data(tmp_path / "n.xlsx", columns=["2020"], missing_codes=[99])
    assert list(df.columns) == ["2020"] and df["2020"].isna().tolist() == [False, True]
