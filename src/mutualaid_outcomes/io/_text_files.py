"""Read CSV, TSV and Excel files under the reading rule of :mod:`._textcols`.

A first pass reads every cell with only empty cells missing (identifier columns as
text); :func:`resolve_text_columns` then decides each text column (numbers, dates,
true/false or text) and converts it with its missing tokens set aside. Float
columns that may hold integers beyond 2**53 are read again as text, exactly.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FileFormatError
from ._missing import is_stringlike
from ._textcols import (
    FLOAT_EXACT_MAX,
    classify_text,
    convert_text,
    exact_integers,
    is_identifier_name,
    token_note,
)
from .codebook import Code

__all__ = [
    "read_delimited",
    "read_excel_raw",
    "default_index",
    "ragged_error",
    "resolve_text_columns",
    "TextDecisions",
]

Reparse = Callable[[str, list[str]], pd.Series]


def _sep(fmt: str) -> str:
    return "," if fmt == "csv" else "\t"


def _first_long_row(p: Path, fmt: str, encoding: str | None, width: int) -> tuple[int, int]:
    """Line number (header = 1) and field count of the first row longer than the header."""
    opener: Any = gzip.open if p.name.lower().endswith(".gz") else open
    with opener(p, "rt", encoding=encoding or "utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=_sep(fmt))
        next(reader, None)
        for row in reader:
            if len(row) > width:
                return reader.line_num, len(row)
    return 0, 0


def ragged_error(p: Path, fmt: str, encoding: str | None, width: int) -> FileFormatError | None:
    line, n = _first_long_row(p, fmt, encoding, width)
    if not line:
        return None
    return FileFormatError(
        f"'{p}' line {line} has {n} fields but the header names {width} columns. "
        "Rows longer than the header would shift values into the wrong columns; fix the "
        "file (an unquoted delimiter inside a value, or a trailing delimiter) and read it again."
    )


def default_index(df: pd.DataFrame) -> bool:
    """True for row numbering 0..n-1 (pandas 3 infers a RangeIndex from index values)."""
    return df.index.equals(pd.RangeIndex(len(df))) and df.index.name is None


def read_delimited(p: Path, fmt: str, header: Sequence[str], encoding: str | None) -> pd.DataFrame:
    """First pass: every column, only empty cells missing, identifier columns as text.

    Raises FileFormatError naming the line when a row has more fields than the header.
    """
    ids = {c: str for c in header if is_identifier_name(c)}
    try:
        df = pd.read_csv(
            p,
            sep=_sep(fmt),
            encoding=encoding,
            keep_default_na=False,
            na_values=[""],
            dtype=ids or None,
        )
    except pd.errors.ParserError as err:
        ragged = ragged_error(p, fmt, encoding, len(header))
        if ragged is not None:
            raise ragged from err
        raise
    # pandas makes the first columns the index when rows are longer than the header
    if not default_index(df) or len(df.columns) != len(header):
        ragged = ragged_error(p, fmt, encoding, len(header))
        if ragged is not None:
            raise ragged
    return df


def reparser_delimited(p: Path, fmt: str, encoding: str | None) -> Reparse:
    """A function re-reading one column as text (only empty cells missing).

    Used for float columns whose integers may exceed 2**53, to read them exactly.
    """

    def reread(name: str, tokens: list[str]) -> pd.Series:
        out = pd.read_csv(
            p,
            sep=_sep(fmt),
            encoding=encoding,
            usecols=[name],
            keep_default_na=False,
            na_values={name: ["", *tokens]},
            dtype=str,
        )
        return out[name]

    return reread


def read_excel_raw(
    p: Path, sheet_name: str | int, cols: Sequence[str] | None, engine: str | None = None
) -> pd.DataFrame:
    """First pass over an Excel sheet: only empty cells missing."""
    wanted = None if cols is None else set(cols)
    kwargs: dict[str, Any] = {}
    if engine is not None:
        kwargs["engine"] = engine
    df = pd.read_excel(
        p,
        sheet_name=sheet_name,
        usecols=None if wanted is None else (lambda c: str(c) in wanted),
        keep_default_na=False,
        na_values=[""],
        **kwargs,
    )
    # a numeric header cell gives a numeric column name: use text throughout
    df.columns = [str(c) for c in df.columns]
    return df


_BOOLS = {"True": True, "TRUE": True, "true": True, "False": False, "FALSE": False, "false": False}


def reparse_in_memory(frame: pd.DataFrame) -> Reparse:
    """Parse a first-pass column again with its missing tokens set aside.

    Numbers go through :func:`pandas.to_numeric`, which gives the same doubles as
    pandas' CSV parser (tests/reliability check this), so no second pass over the
    file is needed; true/false text becomes booleans as ``read_csv`` makes them.
    """

    def reparse(name: str, tokens: list[str]) -> pd.Series:
        s = frame[name]
        masked = s.mask(s.isin(tokens)).astype(object)
        numeric = pd.to_numeric(masked, errors="coerce")
        if int(numeric.notna().sum()) == int(masked.notna().sum()):
            return numeric
        present = masked.dropna()
        if len(present) and bool(present.isin(list(_BOOLS)).all()):
            out = masked.map(lambda v: _BOOLS.get(v, v) if isinstance(v, str) else v)
            return out.astype(bool) if not bool(out.isna().any()) else out
        return masked.infer_objects()

    return reparse


class TextDecisions:
    """What :func:`resolve_text_columns` decided: codes found, tokens declared, notes."""

    def __init__(self) -> None:
        self.found: dict[str, dict[Code, int]] = {}
        self.token_codes: dict[str, list[str]] = {}
        self.notes: dict[str, list[str]] = {}

    def note(self, name: str, text: str | None) -> None:
        if text:
            self.notes.setdefault(name, []).append(text)


def _exact_float_column(
    name: str, s: pd.Series, reread: Reparse | None
) -> tuple[pd.Series, str | None]:
    """A float column whose integers may exceed 2**53: re-read it as text, exactly."""
    if reread is None:
        return s, None
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    finite = arr[np.isfinite(arr)]
    if (
        not len(finite)
        or np.abs(finite).max() < FLOAT_EXACT_MAX
        or not np.all(finite == np.round(finite))
    ):
        return s, None
    text = reread(name, [])
    missing = text.isna()
    if not bool(text[~missing].astype(str).str.match(r"^\s*[+-]?\d+\s*$").all()):
        return s, None
    return exact_integers(name, text, missing)


def resolve_text_columns(
    df: pd.DataFrame,
    declared_text: Mapping[str, Sequence[str]],
    reparse: Reparse,
    reread_text: Reparse | None = None,
) -> tuple[pd.DataFrame, TextDecisions]:
    """Decide each text column of a first-pass frame (see :mod:`._textcols`).

    ``declared_text`` maps columns to their declared text missing codes.
    ``reread_text(name, [])`` returns a column as raw text (for exact integers).
    """
    result = TextDecisions()
    new_cols: dict[str, pd.Series] = {}
    for name in df.columns:
        s = df[name]
        declared = [str(c) for c in declared_text.get(name, ())]
        if pd.api.types.is_float_dtype(s.dtype):
            out, note = _exact_float_column(name, s, reread_text)
            if out is not s:
                new_cols[name] = out
            result.note(name, note)
            continue
        if not (is_stringlike(s) or pd.api.types.is_object_dtype(s.dtype)):
            continue
        decision = classify_text(s, declared)
        out, decision, note = convert_text(name, s, decision, reparse)
        new_cols[name] = out
        if decision.missing:
            found: dict[Code, int] = {k: n for k, n in decision.missing.items()}
            result.found[name] = found
            tokens = [k for k in decision.missing if k not in set(declared)]
            if tokens:
                result.token_codes[name] = tokens
        result.note(name, token_note(name, decision, declared))
        result.note(name, note)
    if new_cols:
        df = df.copy(deep=False)
        for name, col in new_cols.items():
            df[name] = col
    return df, result
