"""Read SPSS, Stata and SAS files with pyreadstat, keeping every user-missing code.

User-missing values are read as values (``user_missing=True``) so that each code
can be counted before it becomes NaN; Stata and SAS extended missing values are
recorded as codes ``".a"`` / ``".A"``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FileFormatError
from ._formats import describe_format
from ._missing import is_stringlike, split_extended_missing
from .codebook import Code, Codebook, Measurement, Variable, normalize_code

__all__ = ["STAT_FORMATS", "read_stat", "stat_reader", "wrap_read_error"]

STAT_FORMATS = ("sav", "por", "dta", "sas7bdat", "xpt")
_USER_MISSING_FORMATS = ("sav", "dta", "sas7bdat")
_MEASUREMENTS: dict[str, Measurement] = {
    "nominal": "nominal",
    "ordinal": "ordinal",
    "scale": "scale",
}


def wrap_read_error(p: Path, fmt: str, err: BaseException) -> FileFormatError:
    msg = str(err).strip() or type(err).__name__
    return FileFormatError(
        f"Could not read '{p}' as {describe_format(fmt)} data ({type(err).__name__}: {msg}). "
        "The file may be corrupt, truncated or of another format."
    )


def stat_reader(fmt: str) -> Any:
    import pyreadstat

    return {
        "sav": pyreadstat.read_sav,
        "por": pyreadstat.read_por,
        "dta": pyreadstat.read_dta,
        "sas7bdat": pyreadstat.read_sas7bdat,
        "xpt": pyreadstat.read_xport,
    }[fmt]


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
        m = _MEASUREMENTS.get(str(measure.get(name)))
        if m is None:
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


def read_stat(
    p: Path, fmt: str, cols: list[str] | None, encoding: str | None
) -> tuple[pd.DataFrame, Codebook, set[str], dict[str, dict[Code, int]]]:
    kwargs: dict[str, Any] = {"usecols": cols, "dates_as_pandas_datetime": True}
    if fmt in _USER_MISSING_FORMATS:
        kwargs["user_missing"] = True
    if encoding is not None and fmt != "por":
        kwargs["encoding"] = encoding
    try:
        df, meta = stat_reader(fmt)(os.fspath(p), **kwargs)
    except Exception as err:
        raise wrap_read_error(p, fmt, err) from err
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
