"""What SPSS and Stata files cannot hold, and what :func:`write_data` does instead.

Each adjustment returns the changed frame and codebook plus a sentence for the
warning that :func:`write_data` issues, so nothing is changed silently:

* integers that a double cannot hold exactly (beyond 2**53) are written as text;
* Stata has no user-missing declarations: declared codes still in the data are
  written as Stata extended missing values ``.a``, ``.b``, ... (and the mapping
  is named); declarations of codes not in the data are not carried;
* SPSS keeps variable labels to 256 characters and value labels to 120 bytes;
  longer labels are cut.
"""

from __future__ import annotations

import string
from typing import TypeGuard

import numpy as np
import pandas as pd

from ._missing import is_stringlike
from ._textcols import FLOAT_EXACT_MAX
from .codebook import Code, Codebook, Variable, code_to_str

__all__ = [
    "SPSS_VALUE_LABEL_BYTES",
    "SPSS_VARIABLE_LABEL_CHARS",
    "integers_as_text",
    "spss_label_limits",
    "stata_missing_codes",
    "is_extended",
]

#: SPSS keeps at most this many bytes (UTF-8) of a value label.
SPSS_VALUE_LABEL_BYTES = 120
#: SPSS keeps at most this many characters of a variable label.
SPSS_VARIABLE_LABEL_CHARS = 256


def is_extended(code: Code) -> TypeGuard[str]:
    """Whether ``code`` is a Stata/SAS extended missing code (``".a"``, ``"._"``)."""
    return (
        isinstance(code, str)
        and len(code) == 2
        and code[0] == "."
        and (code[1].isalpha() or code[1] == "_")
    )


def _beyond_double(s: pd.Series) -> bool:
    if not pd.api.types.is_integer_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return False
    values = s.dropna()
    if not len(values):
        return False
    return bool(((values > FLOAT_EXACT_MAX) | (values < -FLOAT_EXACT_MAX)).any())


def integers_as_text(
    out: pd.DataFrame, cb: Codebook, fmt_name: str
) -> tuple[pd.DataFrame, Codebook, str | None]:
    """Write integer columns beyond 2**53 as text (a double would change them).

    Their numeric missing codes become text codes and their value labels are
    dropped (labels of text codes would not match the numbers).
    """
    cols = [c for c in out.columns if _beyond_double(out[c])]
    if not cols:
        return out, cb, None
    new = {
        c: out[c].astype(object).map(lambda v: None if pd.isna(v) else str(int(v))) for c in cols
    }
    out = out.assign(**new)
    variables = []
    for name, var in cb.variables.items():
        if name in new:
            var = var.replace(
                missing_codes=tuple(code_to_str(c) for c in var.missing_codes),
                missing_ranges=(),
                value_labels={},
                dtype="object",
            )
        variables.append(var)
    note = (
        f"{cols} hold integers beyond 2**53, which {fmt_name} stores as doubles that would "
        "change them; written as text"
    )
    return out, Codebook(variables, inferred=cb.inferred), note


def spss_label_limits(cb: Codebook) -> tuple[Codebook, str | None]:
    """Cut labels to what SPSS keeps, and say which were cut."""
    cut_vars: list[str] = []
    cut_values: list[str] = []
    variables = []
    for name, var in cb.variables.items():
        label = var.label
        if label is not None and len(label) > SPSS_VARIABLE_LABEL_CHARS:
            label = label[:SPSS_VARIABLE_LABEL_CHARS]
            cut_vars.append(name)
        labels: dict[Code, str] = {}
        for code, text in var.value_labels.items():
            raw = text.encode("utf-8")
            if len(raw) > SPSS_VALUE_LABEL_BYTES:
                text = raw[:SPSS_VALUE_LABEL_BYTES].decode("utf-8", errors="ignore")
                cut_values.append(f"{name} = {code_to_str(code)}")
            labels[code] = text
        variables.append(var.replace(label=label, value_labels=labels))
    notes = []
    if cut_vars:
        notes.append(
            f"variable labels cut to {SPSS_VARIABLE_LABEL_CHARS} characters for {cut_vars}"
        )
    if cut_values:
        shown = cut_values[:10] + (["..."] if len(cut_values) > 10 else [])
        notes.append(f"value labels cut to {SPSS_VALUE_LABEL_BYTES} bytes for {', '.join(shown)}")
    return Codebook(variables, inferred=cb.inferred), "; ".join(notes) or None


def _codes_in(s: pd.Series, var: Variable) -> list[float]:
    """Distinct non-missing values of numeric ``s`` that are declared missing."""
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    hit = np.zeros(len(arr), dtype=bool)
    for c in var.missing_codes:
        if not isinstance(c, str):
            hit |= arr == c
    for lo, hi in var.missing_ranges:
        hit |= (arr >= lo) & (arr <= hi)
    return sorted(set(arr[hit].tolist()))


def stata_missing_codes(
    out: pd.DataFrame, cb: Codebook
) -> tuple[pd.DataFrame, Codebook, dict[str, list[str]], str | None]:
    """Write declared missing codes as Stata extended missing values.

    Returns the frame (columns with codes become object columns holding the
    letters), the codebook with the new codes declared, the ``missing_user_values``
    for pyreadstat, and the sentence for the warning.
    """
    new_cols: dict[str, pd.Series] = {}
    user_values: dict[str, list[str]] = {}
    mapped: list[str] = []
    dropped: list[str] = []
    variables = []
    for name, var in cb.variables.items():
        s = out[name]
        plain = [c for c in var.missing_codes if not is_extended(c)]
        if is_stringlike(s) or not (plain or var.missing_ranges):
            variables.append(var)
            continue
        taken = {c[1] for c in var.missing_codes if is_extended(c)}
        letters = [x for x in string.ascii_lowercase if x not in taken]
        values = _codes_in(s, var)
        if len(values) > len(letters):
            dropped.append(f"'{name}' ({len(values)} distinct codes: too many to map)")
            variables.append(var)
            continue
        lookup = dict(zip(values, letters))
        col = s.astype(object)
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        for value, letter in lookup.items():
            col[arr == value] = letter
        new_cols[name] = col
        if lookup:
            user_values[name] = list(lookup.values())
            pairs = ", ".join(f"{code_to_str(v)} as .{x}" for v, x in lookup.items())
            mapped.append(f"'{name}': {pairs}")
        absent = [code_to_str(c) for c in plain if float(c) not in lookup] if plain else []
        if absent or var.missing_ranges:
            dropped.append(f"'{name}'")
        ext = tuple(f".{x}" for x in lookup.values())
        labels = {k: v for k, v in var.value_labels.items() if k not in lookup}
        variables.append(
            var.replace(
                missing_codes=tuple(c for c in var.missing_codes if is_extended(c)) + ext,
                missing_ranges=(),
                value_labels=labels,
            )
        )
    if new_cols:
        out = out.assign(**new_cols)
    notes = []
    if mapped:
        notes.append(
            "Stata has no user-missing values: declared codes in the data are written as "
            "extended missing values (" + "; ".join(mapped) + "; labels of these codes are "
            "not written)"
        )
    if dropped:
        notes.append(
            "Stata has no user-missing declarations: declared codes not found in the data "
            "(values already missing) are not carried for " + ", ".join(dropped)
        )
    return out, Codebook(variables, inferred=cb.inferred), user_values, "; ".join(notes) or None
