"""Missing-code handling shared by the readers: find declared codes, count them, set NaN."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentTypeError, ColumnNotFoundError, DataValidationError, DataWarning
from .codebook import Code, Codebook, Variable, normalize_code

__all__ = [
    "split_extended_missing",
    "declare_missing_codes",
    "apply_missing",
    "check_strict_labels",
    "to_categoricals",
    "is_stringlike",
]


def is_stringlike(series: pd.Series) -> bool:
    """True for object and string dtypes (not categoricals)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return False
    return pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)


def split_extended_missing(
    data: pd.DataFrame, numeric_columns: Sequence[str], upper: bool
) -> tuple[pd.DataFrame, dict[str, dict[Code, int]]]:
    """Turn Stata or SAS extended missing values into NaN, counting each code.

    pyreadstat with ``user_missing=True`` returns them as strings: Stata
    ``'a'``-``'z'``, SAS ``'A'``-``'Z'`` and ``'_'``.

    Only text columns that are numeric in the file are touched. Codes are
    recorded as ``".a"`` (Stata) or ``".A"`` (SAS).
    """
    counts: dict[str, dict[Code, int]] = {}
    new_cols: dict[str, pd.Series] = {}
    for col in numeric_columns:
        s = data[col]
        if not is_stringlike(s):  # object, or pandas 3's str when every value is a code
            continue
        num = pd.to_numeric(s, errors="coerce")
        special = s.notna() & num.isna()
        if special.any():
            vc = s[special].astype(str).value_counts(sort=False)
            counts[col] = {
                "." + (str(k) if upper else str(k).lower()): int(n) for k, n in vc.items()
            }
        new_cols[col] = num.astype(float)
    if new_cols:
        data = data.assign(**new_cols)
    return data, counts


def _codes_arg(value: Any, argument: str) -> list[Code]:
    if isinstance(value, (str, numbers.Number)) and not isinstance(value, bool):
        return [normalize_code(value)]
    if isinstance(value, (list, tuple, set, frozenset, np.ndarray, pd.Index)):
        out = []
        for v in value:
            if isinstance(v, bool) or not isinstance(v, (str, numbers.Number)):
                raise ArgumentTypeError(
                    f"`{argument}` must hold numbers or strings; got {type(v).__name__} ({v!r})."
                )
            out.append(normalize_code(v))
        return out
    raise ArgumentTypeError(
        f"`{argument}` must be a list of codes or a dict {{column: [codes]}}; "
        f"got {type(value).__name__}."
    )


def declare_missing_codes(
    codebook: Codebook,
    data: pd.DataFrame,
    missing_codes: Sequence[Code] | Mapping[str, Sequence[Code] | Code] | None,
    file_columns: Sequence[str],
    source: str,
) -> Codebook:
    """Add the user's ``missing_codes`` to the codebook's declarations.

    A list applies numeric codes to every numeric column and string codes to every
    string column; a dict applies codes to the named columns. Dict keys that are
    in the file but were not read are ignored; keys not in the file raise.
    """
    if missing_codes is None:
        return codebook
    per_col: dict[str, list[Code]] = {}
    if isinstance(missing_codes, Mapping):
        unknown = [k for k in missing_codes if k not in set(file_columns)]
        if unknown:
            from .._validation import close_matches

            hints = [
                f"{s!r} for {k!r}"
                for k in unknown[:10]
                for s in close_matches(str(k), file_columns)[:1]
            ]
            text = (
                f"`missing_codes` names {', '.join(repr(k) for k in unknown)}, which "
                f"{'is' if len(unknown) == 1 else 'are'} not a column of '{source}'."
            )
            if hints:
                text += " Did you mean " + "; ".join(hints) + "?"
            raise ColumnNotFoundError(text)
        for col, codes in missing_codes.items():
            if col in data.columns:
                per_col[col] = _codes_arg(codes, f"missing_codes['{col}']")
    else:
        codes = _codes_arg(missing_codes, "missing_codes")
        num_codes = [c for c in codes if not isinstance(c, str)]
        str_codes = [c for c in codes if isinstance(c, str)]
        for col in data.columns:
            s = data[col]
            if pd.api.types.is_bool_dtype(s.dtype):
                continue
            if pd.api.types.is_numeric_dtype(s.dtype) and num_codes:
                per_col[col] = num_codes
            elif is_stringlike(s) and str_codes:
                per_col[col] = str_codes
    out = []
    for name, var in codebook.variables.items():
        extra = per_col.get(name)
        if extra:
            var = var.replace(missing_codes=tuple(var.missing_codes) + tuple(extra))
        out.append(var)
    return Codebook(out, inferred=codebook.inferred)


def _missing_mask(s: pd.Series, var: Variable) -> tuple[pd.Series, dict[Any, Code]]:
    """Boolean mask of values declared missing, and a map from data value to code key."""
    mask = pd.Series(False, index=s.index)
    keymap: dict[Any, Code] = {}
    if pd.api.types.is_bool_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype):
        return mask, keymap
    if pd.api.types.is_numeric_dtype(s.dtype):
        codes = [c for c in var.missing_codes if not isinstance(c, str)]
        if pd.api.types.is_extension_array_dtype(s.dtype):
            arr = s.to_numpy(dtype=float, na_value=np.nan)
        else:
            arr = s.to_numpy()
        hit = np.zeros(len(arr), dtype=bool)
        # a few equality tests are faster than hashing for the usual handful of codes
        if 0 < len(codes) <= 8:
            for c in codes:
                hit |= arr == c
        elif codes:
            hit |= np.isin(arr, codes)
        for lo, hi in var.missing_ranges:
            hit |= (arr >= lo) & (arr <= hi)
        return pd.Series(hit, index=s.index), keymap
    elif is_stringlike(s):
        codes = list(var.missing_codes)
        if codes:
            as_text = {str(c): c for c in codes}
            keymap.update(as_text)
            mask |= s.isin(codes) | s.isin(list(as_text))
        if var.missing_ranges:
            num = pd.to_numeric(s, errors="coerce")
            for lo, hi in var.missing_ranges:
                mask |= (num >= lo) & (num <= hi)
    return mask.fillna(False).astype(bool), keymap


def apply_missing(
    data: pd.DataFrame,
    codebook: Codebook,
    found: Mapping[str, Mapping[Code, int]] | None = None,
    coerce_numeric: bool = False,
) -> tuple[pd.DataFrame, Codebook]:
    """Set every declared missing code to NaN and record per-code counts in the codebook.

    ``found`` holds counts already taken (extended missing values); declared
    discrete codes not found are recorded with a count of 0. With
    ``coerce_numeric``, a text column whose remaining values are all numbers once
    the codes are removed becomes numeric (CSV columns holding e.g. "refused").
    """
    found = dict(found or {})
    new_cols: dict[str, pd.Series] = {}
    new_vars = []
    for name, var in codebook.variables.items():
        counts: dict[Code, int] = {k: int(v) for k, v in var.missing_counts.items()}
        for k, v in found.get(name, {}).items():
            counts[k] = counts.get(k, 0) + int(v)
        if name in data.columns and var.has_missing_declarations:
            s = data[name]
            mask, keymap = _missing_mask(s, var)
            is_num = pd.api.types.is_numeric_dtype(s.dtype)
            for c in var.missing_codes:
                if is_num != isinstance(c, str):
                    counts.setdefault(normalize_code(c), 0)
            if is_num and not pd.api.types.is_extension_array_dtype(s.dtype):
                hit = mask.to_numpy()
                if hit.any():
                    arr = s.to_numpy()
                    values, ns = np.unique(arr[hit], return_counts=True)
                    for value, n in zip(values.tolist(), ns.tolist()):
                        key = normalize_code(value)
                        counts[key] = counts.get(key, 0) + int(n)
                    out = arr.astype(float)  # a new array
                    out[hit] = np.nan
                    new_cols[name] = pd.Series(out, index=s.index, name=name)
            elif mask.any():
                vc = s[mask].value_counts(sort=False)
                for value, n in vc.items():
                    key = keymap.get(value, value)
                    key = normalize_code(key) if not isinstance(key, str) else key
                    counts[key] = counts.get(key, 0) + int(n)
                s = s.mask(mask)
                if coerce_numeric and is_stringlike(s):
                    num = pd.to_numeric(s, errors="coerce")
                    if int(num.isna().sum()) == int(s.isna().sum()):
                        s = num
                new_cols[name] = s
        new_vars.append(var.replace(missing_counts=counts))
    if new_cols:
        data = data.copy(deep=False)
        for name, col in new_cols.items():
            data[name] = col
    return data, Codebook(new_vars, inferred=codebook.inferred)


def check_strict_labels(data: pd.DataFrame, codebook: Codebook, source: str) -> None:
    """Raise if a non-missing value lies outside its column's declared value labels.

    The message names each column, the offending codes (at most 10) and how many
    values are affected; no row contents are shown.
    """
    problems = []
    for name, var in codebook.variables.items():
        if name not in data.columns or not var.value_labels:
            continue
        s = data[name]
        if isinstance(s.dtype, pd.CategoricalDtype):
            continue
        keys = list(var.value_labels)
        if pd.api.types.is_numeric_dtype(s.dtype):
            keys = [k for k in keys if not isinstance(k, str)]
            bad = s.notna() & ~s.isin(keys)
        else:
            bad = s.notna() & ~(s.isin(keys) | s.isin([str(k) for k in keys]))
        n_bad = int(bad.sum())
        if n_bad:
            values = pd.unique(s[bad])
            shown = sorted(
                (normalize_code(v) if not isinstance(v, str) else v for v in values), key=str
            )
            more = f" and {len(shown) - 10} more" if len(shown) > 10 else ""
            problems.append(
                f"'{name}': {shown[:10]}{more} ({n_bad} value{'s' if n_bad != 1 else ''}; "
                f"labelled codes {list(var.value_labels)[:12]})"
            )
    if problems:
        raise DataValidationError(
            f"'{source}' has values outside the declared value labels (strict_labels=True): "
            + "; ".join(problems)
            + ". Declare them as missing codes, add labels, or read with strict_labels=False."
        )


def to_categoricals(data: pd.DataFrame, codebook: Codebook, source: str) -> pd.DataFrame:
    """Replace labelled codes by their labels as pandas Categoricals.

    Ordinal variables become ordered categoricals; categories follow code order.
    Columns holding unlabelled values (or duplicate labels) are left as codes,
    with a :class:`DataWarning` naming them.
    """
    new_cols: dict[str, pd.Series] = {}
    skipped = []
    for name, var in codebook.variables.items():
        if name not in data.columns or not var.value_labels:
            continue
        s = data[name]
        labels = dict(var.value_labels)
        if pd.api.types.is_numeric_dtype(s.dtype):
            labels = {k: v for k, v in labels.items() if not isinstance(k, str)}
        else:
            labels = {str(k): v for k, v in labels.items()}
            s = s.where(s.isna(), s.astype(str))
        ordered_codes = sorted(labels, key=lambda c: (isinstance(c, str), c))
        cats = [labels[c] for c in ordered_codes]
        n_unlabelled = int((s.notna() & ~s.isin(list(labels))).sum())
        if n_unlabelled or len(set(cats)) != len(cats):
            skipped.append(
                f"'{name}' ({n_unlabelled} unlabelled values)"
                if n_unlabelled
                else f"'{name}' (duplicate labels)"
            )
            continue
        new_cols[name] = pd.Series(
            pd.Categorical(s.map(labels), categories=cats, ordered=var.measurement == "ordinal"),
            index=s.index,
            name=name,
        )
    if skipped:
        warnings.warn(
            f"'{source}': kept codes instead of labels for {', '.join(skipped)}.",
            DataWarning,
            stacklevel=3,
        )
    if new_cols:
        data = data.assign(**new_cols)
    return data
