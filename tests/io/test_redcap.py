import shutil

import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ColumnNotFoundError,
    DataFileNotFoundError,
    DataValidationError,
    FileFormatError,
)
from mutualaid_outcomes.io import describe_data, get_codebook, parse_choices, read_redcap


@pytest.fixture(scope="module")
def records(paths):
    return paths.io_data / "redcap_records.csv"


@pytest.fixture(scope="module")
def dictionary(paths):
    return paths.io_data / "redcap_dictionary.csv"


@pytest.fixture
def df(records, dictionary):
    return read_redcap(records, dictionary, missing_codes=["UNK"])


def test_long_form_and_types(df):
    assert df.shape == (9, 23)
    assert df["record_id"].dtype == "int64"
    assert df["record_id"].tolist() == [101, 101, 101, 101, 102, 102, 103, 103, 103]
    assert df["redcap_event_name"].tolist()[:4] == [
        "baseline_arm_1",
        "baseline_arm_1",
        "baseline_arm_1",
        "month_3_arm_1",
    ]
    logs = df[df["redcap_repeat_instrument"] == "meeting_log"]
    assert logs["redcap_repeat_instance"].tolist() == [1.0, 2.0, 1.0]
    assert logs["meeting_type"].tolist() == [1.0, 4.0, 3.0]
    assert df["consent_date"].dtype.kind == "M"  # pandas' default unit: ns in 2.x, us in 3
    assert df["consent_date"].iloc[0] == pd.Timestamp("2024-03-04")
    assert df["age"].dtype == "float64" and df["pda"].dtype == "float64"


def test_labels(df):
    cb = get_codebook(df)
    assert not cb.inferred
    assert cb.label("age") == "Age (years)"
    assert cb.value_labels("arm") == {1: "TSF", 2: "CBT", 3: "MET"}
    assert cb.value_labels("prior_aa") == {1: "Yes", 0: "No"}
    assert cb.value_labels("intake_complete") == {0: "Incomplete", 1: "Unverified", 2: "Complete"}
    assert cb.label("redcap_repeat_instance") == "Repeat instance"
    assert "intake_intro" not in cb  # descriptive field: no data


def test_checkbox_columns(df):
    cols = [c for c in df.columns if c.startswith("supports___")]
    assert cols == ["supports___1", "supports___2", "supports___3", "supports___4"]
    cb = get_codebook(df)
    assert cb.label("supports___3") == "Recovery supports in place: Service commitment"
    assert cb.value_labels("supports___1") == {0: "Unchecked", 1: "Checked"}
    base = df[df["redcap_repeat_instrument"].isna() & (df["redcap_event_name"] == "baseline_arm_1")]
    assert base["supports___1"].tolist() == [1.0, 0.0, 1.0]
    assert set(base[cols].stack().unique()) <= {0.0, 1.0}


def test_missing_data_code_counted(df):
    cb = get_codebook(df)
    assert cb.missing_counts("craving") == {"UNK": 1}
    assert df["craving"].isna().sum() == 7  # 6 rows of other forms, 1 UNK
    assert "UNK: 1" in describe_data(df).set_index("variable").loc["craving", "missing_codes_found"]


def test_unknown_code_without_declaration_is_an_error(records, dictionary):
    with pytest.raises(
        DataValidationError, match=r"'craving': 1 value\(s\) are not numbers \(rows 6\)"
    ):
        read_redcap(records, dictionary)


def test_strict_labels_and_categoricals(tmp_path, records, dictionary):
    text = records.read_text().replace(",0.55,7,UNK,3,1,", ",0.55,7,7,3,1,")
    (tmp_path / "r.csv").write_text(text)
    df = read_redcap(tmp_path / "r.csv", dictionary)  # lenient by default
    assert df["craving"].max() == 7
    with pytest.raises(DataValidationError, match=r"'craving': \[7\] \(1 value"):
        read_redcap(tmp_path / "r.csv", dictionary, strict_labels=True)
    cats = read_redcap(
        records, dictionary, missing_codes={"craving": "UNK"}, convert_categoricals=True
    )
    assert cats["arm"].dropna().tolist() == ["TSF", "CBT", "MET"]
    assert cats["craving"].cat.ordered


def test_fields_not_matching_dictionary_are_listed(tmp_path, records, dictionary):
    rec = pd.read_csv(records, dtype=str)
    rec.rename(columns={"pda": "pda_90"}).drop(columns=["supports___4"]).to_csv(
        tmp_path / "r.csv", index=False
    )
    with pytest.raises(DataValidationError) as info:
        read_redcap(tmp_path / "r.csv", dictionary)
    msg = str(info.value)
    assert "not in the dictionary: ['pda_90']" in msg
    assert "missing from the records: ['supports___4', 'pda']" in msg


def test_snake_case_dictionary_from_the_api(tmp_path, records, dictionary):
    d = pd.read_csv(dictionary, dtype=str)
    d = d.rename(
        columns={
            "Variable / Field Name": "field_name",
            "Form Name": "form_name",
            "Field Type": "field_type",
            "Field Label": "field_label",
            "Choices, Calculations, OR Slider Labels": "select_choices_or_calculations",
            "Text Validation Type OR Show Slider Number": "text_validation_type_or_show_slider_number",
        }
    )
    d.to_csv(tmp_path / "meta.csv", index=False)
    df = read_redcap(records, tmp_path / "meta.csv", missing_codes=["UNK"])
    assert get_codebook(df).value_labels("sex") == {0: "Male", 1: "Female"}


def test_bad_files(tmp_path, records, dictionary):
    with pytest.raises(DataFileNotFoundError, match="nope.csv"):
        read_redcap(tmp_path / "nope.csv", dictionary)
    pd.DataFrame({"name": ["x"], "type": ["text"]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(FileFormatError, match="not a REDCap data dictionary"):
        read_redcap(records, tmp_path / "d.csv")
    (tmp_path / "dup.csv").write_text("record_id,age,age\n1,3,4\n")
    with pytest.raises(DataValidationError, match="'age' \\(2 times\\)"):
        read_redcap(tmp_path / "dup.csv", dictionary)
    with pytest.raises(ColumnNotFoundError, match="'craving'"):
        read_redcap(records, dictionary, missing_codes={"cravin": ["UNK"]})


def test_inputs_not_modified(tmp_path, records, dictionary):
    shutil.copy(records, tmp_path / "r.csv")
    before = (tmp_path / "r.csv").read_bytes()
    codes = {"craving": ["UNK"]}
    read_redcap(tmp_path / "r.csv", dictionary, missing_codes=codes)
    assert (tmp_path / "r.csv").read_bytes() == before
    assert codes == {"craving": ["UNK"]}


def test_parse_choices():
    assert parse_choices("1, Yes | 0, No") == {1: "Yes", 0: "No"}
    assert parse_choices("-9, Refused|1,One") == {-9: "Refused", 1: "One"}
    assert parse_choices("") == {}
    with pytest.raises(FileFormatError, match="code, label"):
        parse_choices("1 Yes | 0 No")
