"""Read data files into a labelled DataFrame with its :class:`Codebook` attached.

Examples
--------
>>> import tempfile, pathlib
>>> import pandas as pd
>>> from mutualaid_outcomes.io import read_data, get_codebook
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> pd.DataFrame({"id": [1, 2, 3, 4], "ddd": [4.0, 99, 6.5, -9]}).to_csv(tmp / "w.csv", index=False)
>>> df = read_data(tmp / "w.csv", missing_codes=[-9, 99])
>>> df["ddd"].tolist()
[4.0, nan, 6.5, nan]
>>> get_codebook(df).missing_counts("ddd")
{-9: 1, 99: 1}
"""

from __future__ import annotations

import csv
import gzip
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_column_list, close_matches
from ..errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    FileFormatError,
    MutualAidError,
)
from ._atomic import read_sidecar
from ._formats import check_path, format_of, sidecar_path
from ._missing import (
    apply_missing,
    check_strict_labels,
    declare_missing_codes,
    is_stringlike,
    missing_codes_by_column,
    to_categoricals,
)
from ._stat_files import STAT_FORMATS, read_stat, stat_reader, wrap_read_error
from ._text_files import (
    read_delimited,
    read_excel_raw,
    reparse_in_memory,
    reparser_delimited,
    resolve_text_columns,
)
from ._textcols import needs_exact_integers
from .codebook import (
    Code,
    Codebook,
    Variable,
    as_codebook,
    guess_measurement,
    set_codebook,
)

__all__ = ["read_data", "SUPPORTED_READ_EXTENSIONS"]

#: File extensions :func:`read_data` understands.
SUPPORTED_READ_EXTENSIONS: tuple[str, ...] = (
    ".csv",
    ".csv.gz",
    ".tsv",
    ".tsv.gz",
    ".parquet",
    ".xlsx",
    ".sav",
    ".zsav",
    ".por",
    ".dta",
    ".sas7bdat",
    ".xpt",
)

_TEXT_FORMATS = ("csv", "tsv", "xlsx")


#: the engine pandas reads .xlsx files with (a runtime dependency of this package)
_XLSX = "openpyxl"


def _parquet_columns(p: Path) -> tuple[list[str], list[str]]:
    """Columns stored in a Parquet file, and named indexes kept only as metadata.

    pandas writes a RangeIndex (pandas 3 also infers one for ``set_index`` on evenly
    spaced integers) as metadata rather than as a column; a named one is still a
    variable of the data. Unnamed stored indexes (``__index_level_0__``) are not.
    """
    import pyarrow.parquet as pq

    schema = pq.read_schema(p)
    stored = [n for n in schema.names if not n.startswith("__index_level_")]
    meta = schema.pandas_metadata or {}
    range_index = [
        str(ix["name"])
        for ix in meta.get("index_columns", [])
        if isinstance(ix, dict) and ix.get("kind") == "range" and ix.get("name") is not None
    ]
    return stored, [n for n in range_index if n not in stored]


def _is_stored_index(index: pd.Index) -> bool:
    """True unless ``index`` is an unnamed RangeIndex (row numbering, not data)."""
    return not isinstance(index, pd.RangeIndex) or index.name is not None


def _header(p: Path, fmt: str, encoding: str | None, sheet_name: str | int) -> list[str]:
    """Column names as stored in the file (before any renaming by pandas)."""
    try:
        if fmt in ("csv", "tsv"):
            opener = gzip.open if p.name.lower().endswith(".gz") else open
            with opener(p, "rt", encoding=encoding or "utf-8-sig", newline="") as fh:
                row = next(csv.reader(fh, delimiter="," if fmt == "csv" else "\t"), None)
            if row is None:
                raise FileFormatError(f"'{p}' is empty: it has no header row.")
            if row:
                row[0] = row[0].lstrip("\ufeff")
            # pandas names empty header cells "Unnamed: i"
            return [c if c != "" else f"Unnamed: {i}" for i, c in enumerate(row)]
        if fmt == "parquet":
            stored, range_index = _parquet_columns(p)
            return stored + range_index
        if fmt == "xlsx":
            head = pd.read_excel(p, sheet_name=sheet_name, header=None, nrows=1, engine=_XLSX)
            if head.shape[0] == 0:
                raise FileFormatError(f"Sheet {sheet_name!r} of '{p}' is empty.")
            return [
                f"Unnamed: {i}" if pd.isna(v) else str(v)
                for i, v in enumerate(head.iloc[0].tolist())
            ]
        kwargs: dict[str, Any] = {"metadataonly": True}
        if encoding is not None and fmt != "por":
            kwargs["encoding"] = encoding
        _, meta = stat_reader(fmt)(os.fspath(p), **kwargs)
        return list(meta.column_names)
    except MutualAidError:
        raise
    except UnicodeDecodeError as err:
        raise FileFormatError(
            f"Could not decode '{p}' with encoding {encoding or 'utf-8'!r}; "
            "pass the file's encoding, e.g. encoding='latin-1'."
        ) from err
    except Exception as err:
        raise wrap_read_error(p, fmt, err) from err


def _check_header(p: Path, header: Sequence[str]) -> None:
    seen: dict[str, int] = {}
    for name in header:
        seen[name] = seen.get(name, 0) + 1
    dup = [f"'{k}' ({n} times)" for k, n in seen.items() if n > 1]
    if dup:
        raise DataValidationError(
            f"'{p}' has duplicate column names: {', '.join(dup)}. Column names must be "
            "unique; rename them in the file (pandas would silently rename them 'x.1')."
        )


def _check_selection(p: Path, header: Sequence[str], columns: Any) -> list[str] | None:
    if columns is None:
        return None
    cols = as_column_list(columns, "columns")
    if not cols:
        raise DataValidationError("`columns` is empty; pass None to read every column.")
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise DataValidationError(f"`columns` names {dup} more than once.")
    present = set(header)
    missing = [c for c in cols if c not in present]
    if missing:
        text = (
            f"`columns` names {', '.join(repr(m) for m in missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not in '{p}' ({len(header)} columns)."
        )
        hints = [
            f"{' or '.join(repr(s) for s in close_matches(m, header))} for {m!r}"
            for m in missing[:10]
            if close_matches(m, header)
        ]
        if hints:
            text += " Did you mean " + "; ".join(hints) + "?"
        raise ColumnNotFoundError(text)
    return cols


def _exact_parquet_ints(p: Path, df: pd.DataFrame) -> pd.DataFrame:
    """Integer Parquet columns with nulls, read exactly instead of through float.

    pandas turns an integer column with nulls into float64 (as files written by R
    or polars hold), which merges identifiers beyond 2**53. Identifiers and such
    large integers are read again as nullable ``Int64``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(p)
    names = [
        f.name
        for f in schema
        if pa.types.is_integer(f.type)
        and f.name in df.columns
        and pd.api.types.is_float_dtype(df[f.name].dtype)
    ]
    if not names:
        return df
    exact = pq.read_table(p, columns=names).to_pandas(
        types_mapper=lambda t: pd.Int64Dtype() if pa.types.is_integer(t) else None
    )
    fix = {
        n: pd.Series(exact[n].array, index=df.index)  # not via an object array: float
        for n in names
        if needs_exact_integers(n, exact[n].dropna())
    }
    return df.assign(**fix) if fix else df


def _read_parquet(p: Path, cols: list[str] | None) -> pd.DataFrame:
    stored, _ = _parquet_columns(p)
    df = pd.read_parquet(p, columns=None if cols is None else [c for c in cols if c in stored])
    if _is_stored_index(df.index):
        # a stored named index is a column of the file
        df = df.reset_index()
        if cols is not None:
            df = df.loc[:, cols]
    # missing text is None in Parquet; use NaN as the CSV reader does
    fix = {
        c: df[c].where(df[c].notna(), np.nan)
        for c in df.columns
        if pd.api.types.is_object_dtype(df[c].dtype) and bool(df[c].isna().any())
    }
    if fix:
        df = df.assign(**fix)
    return _exact_parquet_ints(p, df)


def _read_plain(
    p: Path,
    fmt: str,
    header: list[str],
    cols: list[str] | None,
    encoding: str | None,
    sheet_name: str | int,
) -> pd.DataFrame:
    """First pass over a CSV, TSV, Parquet or Excel file (see :mod:`._text_files`).

    CSV and TSV files are read whole (every column), so that a row longer than
    the header is always detected; the selection is taken afterwards.
    """
    try:
        if fmt in ("csv", "tsv"):
            df = read_delimited(p, fmt, header, encoding)
            return df if cols is None else df.loc[:, cols]
        if fmt == "parquet":
            return _read_parquet(p, cols)
        return read_excel_raw(p, sheet_name, cols, engine=_XLSX)
    except MutualAidError:
        raise
    except UnicodeDecodeError as err:
        raise FileFormatError(
            f"Could not decode '{p}' with encoding {encoding or 'utf-8'!r}; "
            "pass the file's encoding, e.g. encoding='latin-1'."
        ) from err
    except Exception as err:
        raise wrap_read_error(p, fmt, err) from err


def _as_codebook(codebook: Any) -> Codebook | None:
    return as_codebook(codebook)


def read_data(
    path: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    *,
    missing_codes: Sequence[Code] | Mapping[str, Sequence[Code] | Code] | None = None,
    strict_labels: bool = False,
    convert_categoricals: bool = False,
    encoding: str | None = None,
    sheet_name: str | int = 0,
    codebook: Codebook | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    use_sidecar: bool = True,
) -> pd.DataFrame:
    r"""Read a data file into a DataFrame with its :class:`Codebook` attached.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``, ``.tsv`` (optionally ``.gz``), ``.parquet``, ``.xlsx``,
        ``.sav``/``.zsav``/``.por`` (SPSS), ``.dta`` (Stata), ``.sas7bdat`` or ``.xpt`` (SAS).
    columns : list of str, optional
        Read only these columns, in this order (CSV and TSV files are still read
        whole, so that a malformed row anywhere is found).
    missing_codes : list or dict, optional
        Sentinel codes to treat as missing, in addition to those the file declares.
        A list applies its numbers to every column that is numeric once read
        (identifiers included) and its strings to every column that is text in the
        file; a dict ``{column: [codes]}`` applies to the named columns only. Codes
        apply after type conversion: ``["refused", -9]`` removes both from a column
        holding numbers, ``"refused"`` and ``-9``. A dict entry is also the way to
        read a token such as ``"NA"`` as missing in a text column.
    strict_labels : bool, default False
        If True, a non-missing value of a labelled variable without a value label
        raises :class:`DataValidationError`.
    convert_categoricals : bool, default False
        If True, labelled variables whose values all carry labels become pandas
        Categoricals of the labels (ordered for ordinal variables). The codebook
        keeps the codes.
    encoding : str, optional
        Text encoding (CSV/TSV and the SAS/SPSS/Stata readers); default UTF-8 or
        the file's own.
    sheet_name : str or int, default 0
        Excel sheet.
    codebook : Codebook, dict or path, optional
        Declarations (labels, missing codes, measurement) to apply; they replace
        the file's own for the variables they describe.
    use_sidecar : bool, default True
        For CSV, TSV, Parquet and Excel files, read ``<name>.codebook.json`` next
        to the file when it exists (as written by :func:`write_data`).

    Returns
    -------
    pandas.DataFrame
        The data; every declared missing code is NaN. ``get_codebook(df)`` gives
        the codebook, whose ``missing_counts`` say how many values of each code
        were found in each column.

    Raises
    ------
    DataFileNotFoundError
        If the file does not exist.
    FileFormatError
        If the extension is not supported (the message lists the supported ones),
        the file cannot be parsed (corrupt, truncated, wrong encoding), or a CSV/TSV
        row has more fields than the header (the line is named).
    DataValidationError
        If the file has duplicate column names, or ``strict_labels`` finds
        unlabelled values (column, codes and counts are named).
    ColumnNotFoundError
        If ``columns`` or a ``missing_codes`` key names a column not in the file
        (close matches are suggested).

    Notes
    -----
    Reading rule for CSV, TSV and Excel files: only empty cells are missing by
    default. A token that programs write for a missing value (``NA``, ``.``,
    ``NULL``, ``null``, ``None``, ``N/A``, ``NaN``, ``#N/A``, ...; see
    ``mutualaid_outcomes.io.NA_TOKENS``) is missing only in a column whose other
    values are all numbers, true/false or dates (R and SAS exports); in a text
    column it is a value (``NA`` is Narcotics Anonymous in a ``fellowship``
    column). Tokens read as missing become declared codes of the column and are
    counted; every decision is recorded in the column's ``read_notes`` (shown by
    :func:`describe_data`), which say how to override it.

    Identifiers never pass through float: an identifier column (``id``,
    ``record_id``, ``subjectID``, ...) or a column of integers beyond 2**53 that
    has missing values becomes nullable ``Int64``; identifiers with leading zeros
    and integers beyond the int64 range are read as text (with a note), so two
    distinct identifiers never become equal.

    A ``<name>.codebook.json`` sidecar records the size and checksum of the data
    file it was written with; if they do not match (the data file was replaced
    later), a :class:`DataWarning` says so.

    Missing values handled:

    * SPSS user-missing values and ranges (read with pyreadstat's
      ``user_missing=True`` so each code is seen and counted, then set to NaN);
    * Stata extended missing ``.a``-``.z`` and SAS special missing ``.A``-``.Z``,
      ``._`` (``.dta`` and ``.sas7bdat``), recorded as codes ``".a"``, ``".A"``;
    * the ``missing_codes`` given here and those in a codebook or sidecar.

    SPSS, Stata and SAS have no missing value for text, so empty strings in
    their text variables are read as NaN (not counted as codes).
    ``.por`` and ``.xpt`` files are read without user-missing information
    (pyreadstat returns those values as NaN, so they cannot be counted).
    ``missing_counts`` describe the file as read: a code already stored as
    system-missing is not counted again. Value labels are kept as codes unless
    ``convert_categoricals`` is set. Measurement levels the file does not give are
    guessed (see :func:`guess_measurement`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import pyreadstat
    >>> from mutualaid_outcomes.io import get_codebook
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> raw = pd.DataFrame({"sex": [0.0, 1, 1, 9], "aa_meetings": [3.0, -1, 12, 0]})
    >>> pyreadstat.write_sav(raw, tmp / "c.sav", column_labels={"sex": "Sex"},
    ...                      variable_value_labels={"sex": {0: "male", 1: "female"}},
    ...                      missing_ranges={"sex": [9], "aa_meetings": [{"lo": -9, "hi": -1}]})
    >>> df = read_data(tmp / "c.sav")
    >>> df["sex"].tolist(), df["aa_meetings"].tolist()
    ([0.0, 1.0, 1.0, nan], [3.0, nan, 12.0, 0.0])
    >>> cb = get_codebook(df)
    >>> cb.label("sex"), cb.missing_counts("sex"), cb.missing_counts("aa_meetings")
    ('Sex', {9: 1}, {-1: 1})
    >>> _ = (tmp / "m.csv").write_text("fellowship,meetings\nAA,3\nNA,NA\n")
    >>> df = read_data(tmp / "m.csv")  # NA: a fellowship, and a missing count
    >>> df["fellowship"].tolist(), df["meetings"].tolist()
    (['AA', 'NA'], [3.0, nan])
    >>> get_codebook(df).variable("meetings").read_notes
    ("read 'NA' (1) as missing: the other values are numbers; ...",)
    >>> read_data(tmp / "c.sav", columns=["aa_meeting"])
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.ColumnNotFoundError: `columns` names 'aa_meeting', which is not in '...c.sav' (2 columns). Did you mean 'aa_meetings' for 'aa_meeting'?
    """
    p = check_path(path, "path")
    _, fmt = format_of(p)
    _check_flags(strict_labels, convert_categoricals, use_sidecar, encoding, sheet_name)
    explicit = _as_codebook(codebook)

    header = _header(p, fmt, encoding, sheet_name)
    _check_header(p, header)
    cols = _check_selection(p, header, columns)

    df, declared, unknown_measure, found = _load(
        p, fmt, header, cols, encoding, sheet_name, use_sidecar
    )
    cb, inferred = _assemble_codebook(df, declared, explicit, unknown_measure)
    notes: dict[str, list[str]] = {}
    text_columns = [c for c in df.columns if _is_text(df[c])]
    if fmt in _TEXT_FORMATS:
        df, cb, found, notes = _resolve_text(p, fmt, df, cb, missing_codes, header, encoding, found)
    cb = declare_missing_codes(cb, df, missing_codes, header, str(p), text_columns)
    df, cb = apply_missing(df, cb, found)
    if strict_labels:
        check_strict_labels(df, cb, str(p))

    final = []
    for name, var in cb.variables.items():
        changes: dict[str, Any] = {
            "dtype": str(df[name].dtype),
            "read_notes": tuple(notes.get(name, ())),
        }
        if name in unknown_measure:
            changes["measurement"] = guess_measurement(df[name], var.value_labels)
        final.append(var.replace(**changes))
    cb = Codebook(final, inferred=inferred)
    if convert_categoricals:
        df = to_categoricals(df, cb, str(p))
    return set_codebook(df, cb)


def _is_text(s: pd.Series) -> bool:
    return is_stringlike(s) or pd.api.types.is_object_dtype(s.dtype)


def _check_flags(
    strict_labels: Any,
    convert_categoricals: Any,
    use_sidecar: Any,
    encoding: Any,
    sheet_name: Any,
) -> None:
    for name, flag in (
        ("strict_labels", strict_labels),
        ("convert_categoricals", convert_categoricals),
        ("use_sidecar", use_sidecar),
    ):
        if not isinstance(flag, bool):
            raise ArgumentTypeError(f"`{name}` must be True or False; got {flag!r}.")
    if encoding is not None and not isinstance(encoding, str):
        raise ArgumentTypeError(f"`encoding` must be a string or None; got {encoding!r}.")
    if isinstance(sheet_name, bool) or not isinstance(sheet_name, (str, int)):
        raise ArgumentTypeError(
            f"`sheet_name` must be a sheet name or a 0-based position; got {sheet_name!r}."
        )


def _load(
    p: Path,
    fmt: str,
    header: list[str],
    cols: list[str] | None,
    encoding: str | None,
    sheet_name: str | int,
    use_sidecar: bool,
) -> tuple[pd.DataFrame, Codebook | None, set[str], dict[str, dict[Code, int]]]:
    """Read the file; return the frame, its own declarations, unknown measures, codes found."""
    if fmt in STAT_FORMATS:
        df, declared, unknown, found = read_stat(p, fmt, cols, encoding)
    else:
        unknown, found = set(), {}
        df = _read_plain(p, fmt, header, cols, encoding, sheet_name)
        side = sidecar_path(p)
        attached = df.attrs.get("mutualaid_codebook")
        df.attrs = {}
        declared = None
        if use_sidecar and side.is_file():
            declared = read_sidecar(side, p)
        elif isinstance(attached, Mapping):
            try:
                declared = Codebook.from_dict(attached)
            except MutualAidError:
                declared = None
    if cols is not None:
        df = df.loc[:, cols]
    if df.columns.has_duplicates:  # pragma: no cover - guarded by the header check
        raise DataValidationError(f"'{p}' has duplicate column names.")
    return df, declared, unknown, found


def _assemble_codebook(
    df: pd.DataFrame,
    declared: Codebook | None,
    explicit: Codebook | None,
    unknown_measure: set[str],
) -> tuple[Codebook, bool]:
    """File metadata or sidecar, then an explicit codebook; counts and notes start empty."""
    base: dict[str, Variable] = {}
    inferred = declared is None and explicit is None
    for source in (declared, explicit):
        if source is None:
            continue
        for name, var in source.variables.items():
            if name in df.columns:
                base[name] = var.replace(missing_counts={}, read_notes=())
                if source is explicit:
                    unknown_measure.discard(name)
    for name in df.columns:
        if name not in base:
            base[name] = Variable(name=str(name))
            unknown_measure.add(name)
    return Codebook([base[c] for c in df.columns], inferred=inferred), inferred


def _resolve_text(
    p: Path,
    fmt: str,
    df: pd.DataFrame,
    cb: Codebook,
    missing_codes: Any,
    header: list[str],
    encoding: str | None,
    found: dict[str, dict[Code, int]],
) -> tuple[pd.DataFrame, Codebook, dict[str, dict[Code, int]], dict[str, list[str]]]:
    """Decide the text columns of a CSV, TSV or Excel file (see :mod:`._textcols`).

    Text missing codes (declared in a codebook or sidecar, or given in
    ``missing_codes``) and missing tokens are set aside before a column's type is
    decided; tokens read as missing become declared codes of the column.
    """
    text_columns = [c for c in df.columns if _is_text(df[c])]
    by_col = missing_codes_by_column(df, missing_codes, header, str(p), text_columns)
    declared_text: dict[str, list[str]] = {}
    for name, var in cb.variables.items():
        codes = [c for c in (*var.missing_codes, *by_col.get(name, ())) if isinstance(c, str)]
        if codes:
            declared_text[name] = codes
    reparse = reparse_in_memory(df)
    reread = reparser_delimited(p, fmt, encoding) if fmt in ("csv", "tsv") else None
    df, res = resolve_text_columns(df, declared_text, reparse, reread)
    found = {k: dict(v) for k, v in found.items()}
    for name, counts in res.found.items():
        merged = found.setdefault(name, {})
        for k, n in counts.items():
            merged[k] = merged.get(k, 0) + n
    new_vars = []
    for name, var in cb.variables.items():
        tokens = res.token_codes.get(name)
        if tokens:
            var = var.replace(missing_codes=(*var.missing_codes, *tokens))
        new_vars.append(var)
    return df, Codebook(new_vars, inferred=cb.inferred), found, res.notes
