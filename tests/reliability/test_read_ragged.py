"""Rows longer than the header raise FileFormatError naming the line; nothing shifts into the index."""

import gzip

import pytest

from mutualaid_outcomes.errors import FileFormatError
from mutualaid_outcomes.io import read_data


@pytest.mark.parametrize(
    ("text", "line", "fields"),
    [
        ("a,b\n1,2,3\n4,5,6\n", 2, 3),  # every row one longer: pandas made column a the index
        ("a,b\n1,2\n4,5\n7,8,9\n", 4, 3),  # a later row
        ("a,b\n1,2,\n4,5,\n", 2, 3),  # trailing delimiters
        ('a,b\n"x,y",2\n1,2,3,4\n', 3, 4),  # a quoted delimiter is fine; the next row is not
    ],
)
def test_long_rows_raise_naming_the_line(tmp_path, text, line, fields):
    (tmp_path / "r.csv").write_text(text)
    with pytest.raises(FileFormatError, match=rf"line {line} has {fields} fields.*header names 2"):
        read_data(tmp_path / "r.csv")


def test_selecting_columns_does_not_hide_a_long_row(tmp_path):
    (tmp_path / "r.csv").write_text("a,b\n1,2\n4,5,6\n")
    with pytest.raises(FileFormatError, match="line 3 has 3 fields"):
        read_data(tmp_path / "r.csv", columns=["a"])


def test_tsv_and_gzip(tmp_path):
    (tmp_path / "r.tsv").write_text("a\tb\n1\t2\t3\n")
    with pytest.raises(FileFormatError, match="line 2 has 3 fields"):
        read_data(tmp_path / "r.tsv")
    with gzip.open(tmp_path / "r.csv.gz", "wt") as fh:
        fh.write("a,b\n1,2\n3,4,5\n")
    with pytest.raises(FileFormatError, match="line 3 has 3 fields"):
        read_data(tmp_path / "r.csv.gz")


def test_short_rows_are_missing_values_not_errors(tmp_path):
    (tmp_path / "s.csv").write_text("a,b,c\n1,2,3\n4,5\n")
    df = read_data(tmp_path / "s.csv")
    assert df.index.tolist() == [0, 1]
    assert df["a"].tolist() == [1, 4]
    assert df["c"].isna().tolist() == [False, True]


def test_message_shows_no_row_contents(tmp_path):
    (tmp_path / "r.csv").write_text("id,name\n1,Jane Doe,extra\n")
    with pytest.raises(FileFormatError) as info:
        read_data(tmp_path / "r.csv")
    assert "Jane" not in str(info.value)
