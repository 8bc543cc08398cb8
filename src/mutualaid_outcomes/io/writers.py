"""Write a DataFrame and its codebook to SPSS, Stata, CSV or Parquet.

Examples
--------
>>> import tempfile, pathlib
>>> import pandas as pd
>>> from mutualaid_outcomes.io import Codebook, Variable, read_data, write_data, get_codebook
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> cb = Codebook([Variable("sex", "Sex", {0: "male", 1: "female"}, missing_codes=(9,),
...                         measurement="nominal")])
>>> path = write_data(pd.DataFrame({"sex": [0, 1, 9]}), tmp / "x.sav", codebook=cb)
>>> back = read_data(path)
>>> back["sex"].tolist(), get_codebook(back).missing_counts("sex")
([0.0, 1.0, nan], {9: 1})
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import check_dataframe
from ..errors import (
    ArgumentTypeError,
    DataFileNotFoundError,
    DataValidationError,
    DataWarning,
    FileFormatError,
    MutualAidError,
)
from ._atomic import IncompleteFileError, sidecar_text, write_atomically
from ._export import integers_as_text, is_extended, spss_label_limits, stata_missing_codes
from ._formats import WRITE_FORMATS, as_path, format_of, sidecar_path
from ._missing import is_stringlike
from .codebook import (
    CODEBOOK_ATTR,
    Code,
    Codebook,
    Variable,
    as_codebook,
    guess_measurement,
    normalize_code,
)

__all__ = ["write_data", "SUPPORTED_WRITE_EXTENSIONS"]

#: File extensions :func:`write_data` can write.
SUPPORTED_WRITE_EXTENSIONS: tuple[str, ...] = tuple(WRITE_FORMATS)

_STATA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_STATA_LABEL_MAX = 80
_DTA_END = b"</stata_dta>"


def _resolve_codebook(data: pd.DataFrame, codebook: Any) -> Codebook:
    cb = as_codebook(codebook, data)
    variables = []
    for col in data.columns:
        var = cb.get(col)
        if var is None:
            var = Variable(col, measurement=guess_measurement(data[col]))  # type: ignore[arg-type]
        variables.append(var.replace(dtype=str(data[col].dtype)))
    return Codebook(variables, inferred=cb.inferred)


def _prepare(data: pd.DataFrame, cb: Codebook, fmt: str) -> tuple[pd.DataFrame, Codebook]:
    """Turn categoricals back into codes and pandas-only dtypes into plain ones."""
    new_cols: dict[str, pd.Series] = {}
    new_vars = dict(cb.variables)
    for col in data.columns:
        s = data[col]
        var = new_vars[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            to_code = {lab: code for code, lab in var.value_labels.items()}
            cats = list(s.cat.categories)
            if var.value_labels and all(c in to_code for c in cats):
                codes = s.astype(object).map(to_code)
                numeric_codes = all(not isinstance(v, str) for v in to_code.values())
                new_cols[col] = codes.astype(float) if numeric_codes else codes
            elif fmt in ("sav", "dta"):
                new_cols[col] = (s.cat.codes.astype(float) + 1).where(s.notna())
                new_vars[col] = var.replace(
                    value_labels={i + 1: str(c) for i, c in enumerate(cats)},
                    measurement="ordinal" if s.cat.ordered else var.measurement,
                )
            continue
        if fmt not in ("sav", "dta"):
            continue
        if pd.api.types.is_bool_dtype(s.dtype):
            new_cols[col] = s.astype(float)
        elif pd.api.types.is_extension_array_dtype(s.dtype) and pd.api.types.is_numeric_dtype(
            s.dtype
        ):
            new_cols[col] = s.astype("float64")
        elif pd.api.types.is_string_dtype(s.dtype) and not pd.api.types.is_object_dtype(s.dtype):
            new_cols[col] = s.astype(object).where(s.notna(), None)
    out = data.copy(deep=False)
    out.attrs = {}
    if new_cols:
        out = out.assign(**new_cols)
    variables = [new_vars[c].replace(dtype=str(out[c].dtype)) for c in data.columns]
    return out, Codebook(variables, inferred=cb.inferred)


def _spss_missing(name: str, s: pd.Series, var: Variable) -> list[Any] | None:
    """SPSS missing-value declaration for one column within SPSS's limits.

    SPSS allows up to three discrete codes, or one range plus one discrete code
    (strings: three discrete codes). More codes are merged into one range when no
    valid (non-missing, undeclared) value of the column falls inside it.
    """
    numeric = not is_stringlike(s)
    codes: list[Code]
    if numeric:
        codes = [c for c in var.missing_codes if not isinstance(c, str)]
        ranges = list(var.missing_ranges)
    else:
        codes = [c for c in var.missing_codes if isinstance(c, str) and not is_extended(c)]
        ranges = []
    if not codes and not ranges:
        return None
    if not numeric:
        if len(codes) > 3:
            raise DataValidationError(
                f"Cannot declare {len(codes)} missing codes {codes} for string column '{name}' "
                "in SPSS (at most 3 discrete codes for strings)."
            )
        return codes
    if not ranges and len(codes) <= 3:
        return codes
    if len(ranges) == 1 and len(codes) <= 1:
        lo, hi = ranges[0]
        return [{"lo": lo, "hi": hi}, *codes]
    # Merge: keep one discrete code apart, span the rest with one range.
    items: list[tuple[float, float]] = [(float(c), float(c)) for c in codes] + [
        (float(lo), float(hi)) for lo, hi in ranges
    ]
    values = s.dropna()
    values = values[~values.isin(codes)]
    for lo_r, hi_r in ranges:
        values = values[~((values >= lo_r) & (values <= hi_r))]
    best: tuple[float, list[Any]] | None = None
    candidates: list[tuple[int | None]] = [(None,)] + [(i,) for i in range(len(codes))]
    for (keep,) in candidates:
        rest = [it for j, it in enumerate(items) if keep is None or j != keep]
        lo = min(r[0] for r in rest)
        hi = max(r[1] for r in rest)
        if ((values >= lo) & (values <= hi)).any():
            continue
        decl: list[Any] = [{"lo": normalize_code(lo), "hi": normalize_code(hi)}]
        if keep is not None:
            decl.append(codes[keep])
        width = hi - lo
        if best is None or width < best[0]:
            best = (width, decl)
    if best is None:
        raise DataValidationError(
            f"Cannot write the missing declarations of '{name}' (codes {codes}, ranges {ranges}) "
            "to SPSS: it allows three discrete codes or one range plus one code, and any "
            "range spanning these codes would also cover valid values of the column."
        )
    return best[1]


def _sav_declarations(
    out: pd.DataFrame, cb: Codebook
) -> tuple[dict[str, dict[Any, str]], dict[str, list[Any]], str | None]:
    """Value labels and missing declarations for pyreadstat, and what was changed."""
    value_labels: dict[str, dict[Any, str]] = {}
    missing: dict[str, list[Any]] = {}
    merged: list[str] = []
    for c, v in cb.variables.items():
        s = out[c]
        numeric = not is_stringlike(s)
        if v.value_labels:
            vl = {
                k: lab for k, lab in v.value_labels.items() if (not isinstance(k, str)) == numeric
            }
            if vl:
                value_labels[c] = vl
        decl = _spss_missing(c, s, v)
        if decl:
            missing[c] = decl
            n_declared = len([k for k in v.missing_codes if not is_extended(k)]) + len(
                v.missing_ranges
            )
            if numeric and len(decl) < n_declared:
                shown = ", ".join(
                    f"{d['lo']} thru {d['hi']}" if isinstance(d, dict) else str(d) for d in decl
                )
                merged.append(f"'{c}' ({shown})")
    note = None
    if merged:
        note = (
            "SPSS declares at most three missing codes, or one range and one code: codes "
            "merged into one range for " + ", ".join(merged)
        )
    return value_labels, missing, note


def _write_sav(
    out: pd.DataFrame,
    cb: Codebook,
    p: Path,
    compress: bool,
    file_label: str,
    declarations: tuple[dict[str, dict[Any, str]], dict[str, list[Any]]],
) -> None:
    import pyreadstat

    # pyreadstat's annotations ask for these exact value types (dicts are invariant)
    labels: dict[str, str | None] = {c: v.label for c, v in cb.variables.items() if v.label}
    value_labels, missing = declarations
    measure: dict[str, str] = {c: v.measurement for c, v in cb.variables.items()}
    pyreadstat.write_sav(
        out,
        os.fspath(p),
        file_label=file_label,
        column_labels=labels or None,
        compress=compress,
        variable_value_labels=value_labels or None,
        missing_ranges=missing or None,
        variable_measure=measure or None,
    )


def _check_stata_names(out: pd.DataFrame, p: Path) -> None:
    bad = [c for c in out.columns if not _STATA_NAME.match(str(c))]
    if bad:
        raise FileFormatError(
            f"Cannot write '{p}': Stata variable names must start with a letter or '_', "
            f"contain only letters, digits and '_', and have at most 32 characters; "
            f"not valid: {bad[:10]}. Rename these columns first."
        )


def _stata_labels(
    out: pd.DataFrame, cb: Codebook
) -> tuple[dict[str, str], dict[str, dict[Any, str]], str | None]:
    """Variable and value labels Stata can hold, and what was left out."""
    labels: dict[str, str] = {}
    truncated = []
    for c, v in cb.variables.items():
        if v.label:
            labels[c] = v.label[:_STATA_LABEL_MAX]
            if len(v.label) > _STATA_LABEL_MAX:
                truncated.append(c)
    value_labels: dict[str, dict[Any, str]] = {}
    dropped = []
    for c, v in cb.variables.items():
        if not v.value_labels:
            continue
        ok = not is_stringlike(out[c]) and all(isinstance(k, int) for k in v.value_labels)
        if ok:
            value_labels[c] = dict(v.value_labels)
        else:
            dropped.append(c)
    notes = []
    if truncated:
        notes.append(f"variable labels cut to {_STATA_LABEL_MAX} characters for {truncated}")
    if dropped:
        notes.append(
            f"value labels not written for {dropped} (Stata labels integer codes of numeric "
            "variables only)"
        )
    return labels, value_labels, "; ".join(notes) or None


def _write_dta(
    out: pd.DataFrame,
    p: Path,
    file_label: str,
    declarations: tuple[dict[str, str], dict[str, dict[Any, str]], dict[str, list[str]]],
) -> None:
    import pyreadstat

    var_labels, value_labels, user_values = declarations
    labels: dict[str, str | None] = dict(var_labels)  # the value type pyreadstat declares
    pyreadstat.write_dta(
        out,
        os.fspath(p),
        file_label=file_label,
        column_labels=labels or None,
        variable_value_labels=value_labels or None,
        missing_user_values=user_values or None,
    )
    # pyreadstat does not report a failed write of a .dta file (a full disk leaves a
    # truncated file and no error); a complete file ends with this closing tag
    with open(p, "rb") as fh:
        fh.seek(max(0, p.stat().st_size - len(_DTA_END)))
        if fh.read() != _DTA_END:
            raise IncompleteFileError("the Stata writer stopped before the end of the file")


def _plan(
    out: pd.DataFrame, cb: Codebook, p: Path, ext: str, fmt: str, file_label: str
) -> tuple[list[tuple[Path, Callable[[Path], None]]], Callable[..., Any] | None, list[str]]:
    """The files to write (destination, writer) and the notes for the warning."""
    notes: list[str] = []
    if fmt == "sav":
        out, cb, note = integers_as_text(out, cb, "SPSS")
        notes.append(note or "")
        cb, note = spss_label_limits(cb)
        notes.append(note or "")
        vl, missing, note = _sav_declarations(out, cb)
        notes.append(note or "")
        compress = ext == ".zsav"
        return (
            [(p, lambda tmp: _write_sav(out, cb, tmp, compress, file_label, (vl, missing)))],
            None,
            [n for n in notes if n],
        )
    if fmt == "dta":
        _check_stata_names(out, p)
        out, cb, note = integers_as_text(out, cb, "Stata")
        notes.append(note or "")
        labels, vls, note = _stata_labels(out, cb)
        notes.append(note or "")
        out, cb, user_values, note = stata_missing_codes(out, cb)
        notes.append(note or "")
        decl = (labels, vls, user_values)
        return (
            [(p, lambda tmp: _write_dta(out, tmp, file_label, decl))],
            None,
            [n for n in notes if n],
        )
    if fmt == "csv":

        def write_body(tmp: Path) -> None:
            out.to_csv(tmp, index=False)

    else:
        body = out.copy(deep=False)
        body.attrs = {CODEBOOK_ATTR: cb}

        def write_body(tmp: Path) -> None:
            body.to_parquet(tmp, index=False)

    side = sidecar_path(p)

    def sidecar(temps: list[Path]) -> list[tuple[Path, Callable[[Path], None]]]:
        text = sidecar_text(cb, p.name, temps[0])
        return [(side, lambda tmp: tmp.write_text(text, encoding="utf-8"))]

    return [(p, write_body)], sidecar, []


def write_data(
    data: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    codebook: Codebook | Mapping[str, Any] | str | os.PathLike[str] | None = None,
    file_label: str = "",
) -> Path:
    """Write ``data`` with its labels to ``.sav``/``.zsav``, ``.dta``, ``.csv`` or ``.parquet``.

    Parameters
    ----------
    data : pandas.DataFrame
        The data; not modified.
    path : str or os.PathLike
        Destination; the extension chooses the format. An existing file is replaced
        only once the new one is completely written (see Notes).
    codebook : Codebook, dict or path, optional
        Labels and missing declarations to write. Default: the codebook attached to
        ``data`` (:func:`get_codebook`), which is inferred when none is attached.
    file_label : str, default ""
        File label (SPSS and Stata).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ArgumentTypeError
        If ``data`` is not a DataFrame, a column name is not a string, or
        ``codebook`` has the wrong type.
    FileFormatError
        If the extension is not supported (the supported ones are listed), a
        column name is not valid in Stata, or the writer rejects the data.
    DataFileNotFoundError
        If the destination directory does not exist.
    DataValidationError
        If the missing-value declarations of a column cannot be expressed in SPSS.
    DataWriteError
        If the operating system refused the write (disk full, quota, permission,
        read-only folder): a subclass of :class:`OSError` whose message and
        ``errno`` name the cause. The previous file is unchanged.

    Warns
    -----
    DataWarning
        When the format cannot hold something exactly and it was changed (the
        message says what): integers beyond 2**53 written as text (SPSS, Stata);
        declared missing codes written as Stata extended missing values ``.a``,
        ``.b``, ... or declarations not carried (Stata); labels cut to what SPSS
        or Stata keep; more than three SPSS missing codes merged into a range.

    Notes
    -----
    Safety: the file (and its sidecar) is written to a temporary file in the
    same folder, flushed and fsynced, and then moved over the destination with
    :func:`os.replace`. A failure at any point, an interrupt included, leaves the
    previous file byte-identical and removes the temporary file; the previous
    file is never deleted first. The data file is replaced before its sidecar,
    and the sidecar records the data file's size and SHA-256, so a crash between
    the two renames is detected by :func:`read_data`.

    What is carried, by format:

    * **SPSS** (``.sav``, compressed ``.zsav``): variable labels, value labels
      (numeric and string codes), measurement level, and missing-value declarations
      (discrete codes and ranges; SPSS allows three codes, or one range plus one
      code: more codes are merged into one range when no valid value lies inside
      it). Values that are NaN are written as system-missing; codes still present
      in the data are written as values and declared user-missing, so reading the
      file back counts them again. Stata/SAS extended codes (``".a"``) are not
      written (their values are already NaN).
    * **Stata** (``.dta``): variable labels (at most 80 characters) and value
      labels of integer codes on numeric variables. Stata has no user-missing
      declarations: declared codes still in the data are written as extended
      missing values ``.a``, ``.b``, ... (with a warning naming the mapping), so
      they stay missing in Stata; measurement levels are not carried; NaN is
      written as Stata's ``.``.
    * **CSV** and **Parquet**: the data, plus the whole codebook (labels, missing
      declarations, measurement, the counts found when the data were read) in
      ``<name>.codebook.json`` next to the file, which :func:`read_data` picks up.
      Parquet files also carry the codebook in their pandas metadata.

    Categorical columns are written as codes: through the codebook's value labels
    when they cover every category, otherwise (SPSS, Stata) as codes ``1..k``
    labelled with the categories.

    Round trips (tested): ``.sav`` -> :func:`read_data` -> ``write_data`` ->
    ``read_data`` keeps variable labels, value labels, missing codes and ranges,
    and measurement levels; the same for ``.dta`` keeps variable and value labels;
    CSV and Parquet keep the whole codebook except ``missing_counts``, which
    describe the file as last read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mutualaid_outcomes.io import get_codebook, read_data, set_codebook
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> df = set_codebook(pd.DataFrame({"arm": [1, 2, 3]}),
    ...                   Codebook([Variable("arm", "Arm", {1: "TSF", 2: "CBT", 3: "MET"})]))
    >>> path = write_data(df, tmp / "arm.csv")
    >>> sorted(q.name for q in tmp.iterdir())
    ['arm.codebook.json', 'arm.csv']
    >>> get_codebook(read_data(path)).value_labels("arm")
    {1: 'TSF', 2: 'CBT', 3: 'MET'}
    """
    check_dataframe(data, "data", allow_empty=True)
    bad = [c for c in data.columns if not isinstance(c, str)]
    if bad:
        raise ArgumentTypeError(
            f"Column names must be strings to write a file; got {bad[:10]}. Rename them first."
        )
    if not isinstance(file_label, str):
        raise ArgumentTypeError(f"`file_label` must be a string; got {file_label!r}.")
    p = as_path(path, "path")
    ext, fmt = format_of(p, WRITE_FORMATS, action="write")
    if not p.parent.is_dir():
        raise DataFileNotFoundError(f"Cannot write '{p}': directory '{p.parent}' does not exist.")
    cb = _resolve_codebook(data, codebook)
    out, cb = _prepare(data, cb, fmt)
    targets, after, notes = _plan(out, cb, p, ext, fmt, file_label)
    if notes:
        warnings.warn(f"Writing '{p}': " + "; ".join(notes) + ".", DataWarning, stacklevel=2)
    try:
        write_atomically(targets, after_write=after)
    except MutualAidError:
        raise
    except Exception as err:
        raise FileFormatError(
            f"Could not write '{p}' ({type(err).__name__}: {err}). Check the column types: "
            "each column must hold numbers, text or dates, not a mixture. The previous file, "
            "if any, is unchanged."
        ) from err
    return p
