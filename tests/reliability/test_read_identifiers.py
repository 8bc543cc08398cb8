"""Identifiers never pass through float: reading and writing keep every id exact and distinct."""

import warnings

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mutualaid_outcomes.errors import DataWarning
from mutualaid_outcomes.io import get_codebook, read_data, write_data

BIG = 2**53  # 9007199254740992: the first integer after which doubles skip values


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


def test_id_with_sentinel_code_stays_exact_nullable_integer(tmp_path, string_option):
    (tmp_path / "s.csv").write_text(f"id,x\n{BIG + 1},1\n{BIG},2\n-9,3\n")
    df = read_data(tmp_path / "s.csv", missing_codes={"id": [-9]})
    assert str(df["id"].dtype) == "Int64"
    assert df["id"].tolist()[:2] == [BIG + 1, BIG]
    assert df["id"].isna().tolist() == [False, False, True]
    assert get_codebook(df).missing_counts("id") == {-9: 1}


def test_list_of_sentinels_keeps_small_ids_exact_too(tmp_path, string_option):
    (tmp_path / "s.csv").write_text("record_id,x\n101,1\n-9,2\n103,-9\n")
    df = read_data(tmp_path / "s.csv", missing_codes=[-9])
    assert str(df["record_id"].dtype) == "Int64"
    assert df["record_id"].tolist()[0] == 101 and df["record_id"].tolist()[2] == 103
    assert df["x"].isna().tolist() == [False, False, True]


@pytest.mark.parametrize("blank", ["", "NA", "."])
def test_id_with_empty_or_token_cells_stays_exact(tmp_path, blank, string_option):
    (tmp_path / "e.csv").write_text(f"subject_id,x\n{BIG + 1},1\n{BIG + 3},2\n{blank},3\n")
    df = read_data(tmp_path / "e.csv")
    assert str(df["subject_id"].dtype) == "Int64"
    assert df["subject_id"].tolist()[:2] == [BIG + 1, BIG + 3]
    assert df["subject_id"].nunique() == 2


def test_large_integers_in_any_column_are_not_merged(tmp_path, string_option):
    (tmp_path / "l.csv").write_text(f"account,x\n{BIG + 1},1\n{BIG},2\n,3\n")
    df = read_data(tmp_path / "l.csv")
    assert df["account"].dropna().tolist() == [BIG + 1, BIG]
    assert df["account"].nunique() == 2


def test_ids_beyond_int64_are_text_with_a_note(tmp_path, string_option):
    (tmp_path / "b.csv").write_text("id,x\n123456789012345678901,1\n123456789012345678902,2\n,3\n")
    df = read_data(tmp_path / "b.csv")
    assert df["id"].tolist()[:2] == ["123456789012345678901", "123456789012345678902"]
    assert "beyond the int64 range" in " ".join(get_codebook(df).variable("id").read_notes)


def test_ids_with_leading_zeros_never_collide(tmp_path, string_option):
    (tmp_path / "z.csv").write_text("id,x\n007,1\n7,2\n070,3\n")
    df = read_data(tmp_path / "z.csv")
    assert df["id"].tolist() == ["007", "7", "070"]
    assert "leading zeros" in " ".join(get_codebook(df).variable("id").read_notes)


def test_plain_integer_ids_are_unchanged(tmp_path, string_option):
    (tmp_path / "p.csv").write_text("id,x\n1,1\n2,2\n3,3\n")
    df = read_data(tmp_path / "p.csv")
    assert str(df["id"].dtype) == "int64"
    assert get_codebook(df).variable("id").read_notes == ()


def test_parquet_integer_ids_with_nulls_are_exact(tmp_path):
    table = pa.table({"id": pa.array([BIG + 1, BIG, None], type=pa.int64()), "x": [1, 2, 3]})
    pq.write_table(table, tmp_path / "foreign.parquet")  # as R arrow or polars write it
    df = read_data(tmp_path / "foreign.parquet")
    assert str(df["id"].dtype) == "Int64"
    assert df["id"].tolist()[:2] == [BIG + 1, BIG]


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_write_data_keeps_ids_beyond_2_53_as_text_and_warns(tmp_path, suffix):
    src = pd.DataFrame({"id": [BIG + 1, BIG, 5], "x": [1.0, 2.0, 3.0]})
    with pytest.warns(DataWarning, match=r"\['id'\] hold integers beyond 2\*\*53"):
        path = write_data(src, tmp_path / f"ids{suffix}")
    back = read_data(path)
    assert back["id"].tolist() == [str(BIG + 1), str(BIG), "5"]
    assert back["id"].nunique() == 3


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_text_formats_write_large_ids_exactly(tmp_path, suffix):
    src = pd.DataFrame({"id": pd.array([BIG + 1, BIG, None], dtype="Int64"), "x": [1, 2, 3]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        back = read_data(write_data(src, tmp_path / f"ids{suffix}"))
    assert back["id"].tolist()[:2] == [BIG + 1, BIG]
    assert back["id"].isna().tolist() == [False, False, True]
