"""read_redcap follows the reading rules of read_data: text values stay, ids stay exact."""

import pandas as pd
import pytest

from mutualaid_outcomes.errors import FileFormatError
from mutualaid_outcomes.io import get_codebook, read_redcap

DICTIONARY = (
    '"Variable / Field Name","Form Name","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Text Validation Type OR Show Slider Number"\n'
    "{rid},intake,text,Participant ID,,\n"
    "fellowship,intake,text,Fellowship attended,,\n"
    "meetings,intake,text,Meetings (90 days),,integer\n"
    "drinks,intake,text,Drinks per drinking day,,number\n"
    "quit_date,intake,text,Quit date,,date_ymd\n"
)


def _files(tmp_path, rows, rid="record_id"):
    (tmp_path / "dict.csv").write_text(DICTIONARY.format(rid=rid))
    header = f"{rid},fellowship,meetings,drinks,quit_date,intake_complete\n"
    (tmp_path / "rec.csv").write_text(header + "".join(r + "\n" for r in rows))
    return tmp_path / "rec.csv", tmp_path / "dict.csv"


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


def test_text_tokens_are_values_and_number_tokens_missing(tmp_path, string_option):
    rec, dd = _files(
        tmp_path,
        ["1,AA,3,2.5,2024-01-02,2", "2,NA,NA,NA,NA,2", "3,null,.,1.5,,2", "4,N/A,4,,2024-02-03,2"],
    )
    df = read_redcap(rec, dd)
    assert df["fellowship"].tolist() == ["AA", "NA", "null", "N/A"]
    assert df["meetings"].isna().tolist() == [False, True, True, False]
    assert df["drinks"].isna().tolist() == [False, True, False, True]
    assert df["quit_date"].isna().tolist() == [False, True, True, False]
    cb = get_codebook(df)
    assert cb.missing_counts("meetings") == {"NA": 1, ".": 1}
    assert "as missing" in " ".join(cb.variable("meetings").read_notes)


def test_numeric_codes_apply_after_conversion(tmp_path, string_option):
    rec, dd = _files(tmp_path, ["1,AA,3,-9.0,,2", "2,AA,refused,refused,,2", "3,AA,-9,4,,2"])
    df = read_redcap(rec, dd, missing_codes=["refused", -9])
    assert df["drinks"].isna().tolist() == [True, True, False]
    assert df["meetings"].isna().tolist() == [False, True, True]
    assert get_codebook(df).missing_counts("drinks") == {"refused": 1, -9: 1}


def test_record_ids_beyond_2_53_stay_exact(tmp_path, string_option):
    big = 2**53
    rec, dd = _files(tmp_path, [f"{big + 1},AA,1,1,,2", f"{big},AA,1,1,,2"])
    df = read_redcap(rec, dd)
    assert df["record_id"].tolist() == [big + 1, big]


def test_record_ids_beyond_int64_are_text(tmp_path, string_option):
    rec, dd = _files(tmp_path, ["99999999999999999999,AA,1,1,,2", "99999999999999999998,AA,1,1,,2"])
    df = read_redcap(rec, dd)
    assert df["record_id"].tolist() == ["99999999999999999999", "99999999999999999998"]
    assert "int64" in " ".join(get_codebook(df).variable("record_id").read_notes)


def test_record_id_with_a_missing_code_is_a_nullable_integer(tmp_path, string_option):
    rec, dd = _files(tmp_path, ["9007199254740993,AA,1,1,,2", "-9,AA,1,1,,2"], rid="study_no")
    df = read_redcap(rec, dd, missing_codes={"study_no": [-9]})
    assert str(df["study_no"].dtype) == "Int64"
    assert df["study_no"].tolist()[0] == 9007199254740993


def test_integer_field_beyond_2_53_stays_exact(tmp_path, string_option):
    rec, dd = _files(tmp_path, ["1,AA,9007199254740993,1,,2", "2,AA,,1,,2"])
    df = read_redcap(rec, dd)
    assert df["meetings"].tolist()[0] == 9007199254740993


def test_long_rows_raise_naming_the_line(tmp_path):
    rec, dd = _files(tmp_path, ["1,AA,3,2.5,,2", "2,AA,3,2.5,,2,extra"])
    with pytest.raises(FileFormatError, match="line 3 has 7 fields"):
        read_redcap(rec, dd)
