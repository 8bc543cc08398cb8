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
from ._formats import check_path, describe_format, format_of, sidecar_path
from ._missing import (
    apply_missing,
    check_strict_labels,
    declare_missing_codes,
    is_stringlike,
    split_extended_missing,
    to_categoricals,
)
from .codebook import (
    Code,
    Codebook,
    Variable,
    as_codebook,
    guess_measurement,
    normalize_code,
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

_STAT_FORMATS = ("sav", "por", "dta", "sas7bdat", "xpt")
_USER_MISSING_FORMATS = ("sav", "dta", "sas7bdat")


def _wrap(p: Path, fmt: str, err: BaseException) -> FileFormatError:
    msg = str(err).strip() or type(err).__name__
    return FileFormatError(
        f"Could not read '{p}' as {describe_format(fmt)} data ({type(err).__name__}: {msg}). "
        "The file may be corrupt, truncated or of another format."
    )


def _stat_reader(fmt: str) -> Any:
    import pyreadstat

    return {
        "sav": pyreadstat.read_sav,
        "por": pyreadstat.read_por,
        "dta": pyreadstat.read_dta,
        "sas7bdat": pyreadstat.read_sas7bdat,
        "xpt": pyreadstat.read_xport,
    }[fmt]


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
        _, meta = _stat_reader(fmt)(os.fspath(p), **kwargs)
        return list(meta.column_names)
    except MutualAidError:
        raise
    except UnicodeDecodeError as err:
        raise FileFormatError(
            f"Could not decode '{p}' with encoding {encoding or 'utf-8'!r}; "
            "pass the file's encoding, e.g. encoding='latin-1'."
        ) from err
    except Exception as err:
        raise _wrap(p, fmt, err) from err


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


def _codebook_from_meta(meta: Any, fmt: str) -> tuple[Codebook, set[str], dict[str, list[str]]]:
    """Read pyreadstat metadata.

    Returns the variables, the names whose measurement is unknown, and the
    declared extended-missing codes.
    """
    labels = dict(getattr(meta, "column_names_to_labels", {}) or {})
    value_labels = dict(getattr(meta, "variable_value_labels", {}) or {})
    ranges = dict(getattr(meta, "missing_ranges", {}) or {})
    measure = dict(getattr(meta, "variable_measure", {}) or {})
    user_values = dict(getattr(meta, "missing_user_values", {}) or {})
    unknown: set[str] = set()
    variables = []
    for name in meta.column_names:
        codes: list[Code] = []
        rngs: list[tuple[float, float]] = []
        for r in ranges.get(name, []) or []:
            lo, hi = r["lo"], r["hi"]
            if lo == hi:
                codes.append(normalize_code(lo))
            else:
                rngs.append((float(lo), float(hi)))
        m = measure.get(name)
        if m not in ("nominal", "ordinal", "scale"):
            unknown.add(name)
            m = "scale"
        label = labels.get(name)
        variables.append(
            Variable(
                name=name,
                label=label if label else None,
                value_labels=value_labels.get(name, {}) or {},
                missing_codes=tuple(codes),
                missing_ranges=tuple(rngs),
                measurement=m,
            )
        )
    upper = fmt == "sas7bdat"
    ext = {
        k: ["." + (str(c) if upper else str(c).lower()) for c in v]
        for k, v in user_values.items()
        if fmt in ("dta", "sas7bdat")
    }
    return Codebook(variables), unknown, ext


def _read_stat(
    p: Path, fmt: str, cols: list[str] | None, encoding: str | None
) -> tuple[pd.DataFrame, Codebook, set[str], dict[str, dict[Code, int]]]:
    kwargs: dict[str, Any] = {"usecols": cols, "dates_as_pandas_datetime": True}
    if fmt in _USER_MISSING_FORMATS:
        kwargs["user_missing"] = True
    if encoding is not None and fmt != "por":
        kwargs["encoding"] = encoding
    try:
        df, meta = _stat_reader(fmt)(os.fspath(p), **kwargs)
    except Exception as err:
        raise _wrap(p, fmt, err) from err
    cb, unknown, ext_declared = _codebook_from_meta(meta, fmt)
    # These formats have no missing value for text: an empty string is missing.
    text = {
        c: df[c].mask(df[c] == "")
        for c in df.columns
        if is_stringlike(df[c]) and bool((df[c] == "").any())
    }
    if text:
        df = df.assign(**text)
    found: dict[str, dict[Code, int]] = {}
    if fmt in ("dta", "sas7bdat"):
        types = dict(getattr(meta, "readstat_variable_types", {}) or {})
        numeric = [c for c in df.columns if types.get(c, "string") != "string"]
        df, found = split_extended_missing(df, numeric, upper=fmt == "sas7bdat")
        # extended codes are declared missing for the columns where they occur
        new_vars = []
        for name, var in cb.variables.items():
            ext = list(ext_declared.get(name, [])) + list(found.get(name, {}))
            if ext:
                var = var.replace(missing_codes=tuple(var.missing_codes) + tuple(ext))
            new_vars.append(var)
        cb = Codebook(new_vars)
    return df, cb, unknown, found


def _read_plain(
    p: Path, fmt: str, cols: list[str] | None, encoding: str | None, sheet_name: str | int
) -> pd.DataFrame:
    try:
        if fmt in ("csv", "tsv"):
            return pd.read_csv(
                p, sep="," if fmt == "csv" else "\t", usecols=cols, encoding=encoding
            )
        if fmt == "parquet":
            stored, _ = _parquet_columns(p)
            df = pd.read_parquet(
                p, columns=None if cols is None else [c for c in cols if c in stored]
            )
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
            return df.assign(**fix) if fix else df
        wanted = None if cols is None else set(cols)
        df = pd.read_excel(
            p,
            sheet_name=sheet_name,
            usecols=None if wanted is None else (lambda c: str(c) in wanted),
            engine=_XLSX,
        )
        # a numeric header cell gives a numeric column name: use text throughout
        df.columns = [str(c) for c in df.columns]
        return df
    except UnicodeDecodeError as err:
        raise FileFormatError(
            f"Could not decode '{p}' with encoding {encoding or 'utf-8'!r}; "
            "pass the file's encoding, e.g. encoding='latin-1'."
        ) from err
    except Exception as err:
        raise _wrap(p, fmt, err) from err


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
    """Read a data file into a DataFrame with its :class:`Codebook` attached.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``, ``.tsv`` (optionally ``.gz``), ``.parquet``, ``.xlsx``,
        ``.sav``/``.zsav``/``.por`` (SPSS), ``.dta`` (Stata), ``.sas7bdat`` or ``.xpt`` (SAS).
    columns : list of str, optional
        Read only these columns, in this order (only they are parsed from the file).
    missing_codes : list or dict, optional
        Sentinel codes to treat as missing, in addition to those the file declares.
        A list applies its numbers to every numeric column (identifiers included)
        and its strings to every text column; a dict ``{column: [codes]}`` applies
        to the named columns only.
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
        If the extension is not supported (the message lists the supported ones)
        or the file cannot be parsed (corrupt, truncated, wrong encoding).
    DataValidationError
        If the file has duplicate column names, or ``strict_labels`` finds
        unlabelled values (column, codes and counts are named).
    ColumnNotFoundError
        If ``columns`` or a ``missing_codes`` key names a column not in the file
        (close matches are suggested).

    Notes
    -----
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
    >>> read_data(tmp / "c.sav", columns=["aa_meeting"])
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.ColumnNotFoundError: `columns` names 'aa_meeting', which is not in '...c.sav' (2 columns). Did you mean 'aa_meetings' for 'aa_meeting'?
    """
    p = check_path(path, "path")
    _, fmt = format_of(p)
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
    explicit = _as_codebook(codebook)

    header = _header(p, fmt, encoding, sheet_name)
    _check_header(p, header)
    cols = _check_selection(p, header, columns)

    unknown_measure: set[str] = set()
    found: dict[str, dict[Code, int]] = {}
    declared: Codebook | None = None
    if fmt in _STAT_FORMATS:
        df, declared, unknown_measure, found = _read_stat(p, fmt, cols, encoding)
    else:
        df = _read_plain(p, fmt, cols, encoding, sheet_name)
        side = sidecar_path(p)
        attached = df.attrs.get("mutualaid_codebook")
        df.attrs = {}
        if use_sidecar and side.is_file():
            declared = Codebook.from_json(side)
        elif isinstance(attached, Mapping):
            try:
                declared = Codebook.from_dict(attached)
            except MutualAidError:
                declared = None
    if cols is not None:
        df = df.loc[:, cols]
    if df.columns.has_duplicates:  # pragma: no cover - guarded by the header check
        raise DataValidationError(f"'{p}' has duplicate column names.")

    # Assemble declarations: file metadata or sidecar, then an explicit codebook.
    base: dict[str, Variable] = {}
    inferred = declared is None and explicit is None
    for source in (declared, explicit):
        if source is None:
            continue
        for name, var in source.variables.items():
            if name in df.columns:
                base[name] = var.replace(missing_counts={})
                if source is explicit:
                    unknown_measure.discard(name)
    for name in df.columns:
        if name not in base:
            base[name] = Variable(name=str(name))
            unknown_measure.add(name)
    cb = Codebook([base[c] for c in df.columns], inferred=inferred)

    cb = declare_missing_codes(cb, df, missing_codes, header, str(p))
    df, cb = apply_missing(df, cb, found, coerce_numeric=fmt in ("csv", "tsv", "xlsx"))
    if strict_labels:
        check_strict_labels(df, cb, str(p))

    final = []
    for name, var in cb.variables.items():
        changes: dict[str, Any] = {"dtype": str(df[name].dtype)}
        if name in unknown_measure:
            changes["measurement"] = guess_measurement(df[name], var.value_labels)
        final.append(var.replace(**changes))
    cb = Codebook(final, inferred=inferred)
    if convert_categoricals:
        df = to_categoricals(df, cb, str(p))
    out = set_codebook(df, cb)
    return out
