"""Missing-code handling shared by the readers: find declared codes, count them, set NaN."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentTypeError, ColumnNotFoundError, DataValidationError, DataWarning
from ._textcols import needs_exact_integers
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


def missing_codes_by_column(
    data: pd.DataFrame,
    missing_codes: Sequence[Code] | Mapping[str, Sequence[Code] | Code] | None,
    file_columns: Sequence[str],
    source: str,
    text_columns: Collection[str] | None = None,
) -> dict[str, list[Code]]:
    """The user's ``missing_codes`` as ``{column: [codes]}`` for the columns of ``data``.

    A list applies numeric codes to every numeric column and string codes to every
    column that is text in the file (``text_columns``; default: the text columns of
    ``data``); a dict applies codes to the named columns. Dict keys that are in the
    file but were not read are ignored; keys not in the file raise.
    """
    per_col: dict[str, list[Code]] = {}
    if missing_codes is None:
        return per_col
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
            codes_here: list[Code] = []
            if pd.api.types.is_numeric_dtype(s.dtype):
                codes_here += num_codes
            in_text = is_stringlike(s) if text_columns is None else col in text_columns
            if in_text:
                codes_here += str_codes
            if codes_here:
                per_col[col] = codes_here
    return per_col


def declare_missing_codes(
    codebook: Codebook,
    data: pd.DataFrame,
    missing_codes: Sequence[Code] | Mapping[str, Sequence[Code] | Code] | None,
    file_columns: Sequence[str],
    source: str,
    text_columns: Collection[str] | None = None,
) -> Codebook:
    """Add the user's ``missing_codes`` to the codebook's declarations.

    See :func:`missing_codes_by_column` for how a list or dict is applied.
    """
    if missing_codes is None:
        return codebook
    per_col = missing_codes_by_column(data, missing_codes, file_columns, source, text_columns)
    out = []
    for name, var in codebook.variables.items():
        extra = per_col.get(name)
        if extra:
            var = var.replace(missing_codes=tuple(var.missing_codes) + tuple(extra))
        out.append(var)
    return Codebook(out, inferred=codebook.inferred)


def _numeric_hits(s: pd.Series, var: Variable) -> np.ndarray:
    """Which values of a numeric column equal a declared code or lie in a range."""
    codes = [c for c in var.missing_codes if not isinstance(c, str)]
    if pd.api.types.is_integer_dtype(s.dtype):
        # compare integers as integers: beyond 2**53 a float comparison merges values
        int_codes = [int(c) for c in codes if float(c).is_integer()]
        hit = s.isin(int_codes).to_numpy(dtype=bool, na_value=False)
        for lo, hi in var.missing_ranges:
            hit |= ((s >= lo) & (s <= hi)).to_numpy(dtype=bool, na_value=False)
        return hit
    arr = s.to_numpy(dtype=float, na_value=np.nan)
    hit = np.zeros(len(arr), dtype=bool)
    # a few equality tests are faster than hashing for the usual handful of codes
    if 0 < len(codes) <= 8:
        for c in codes:
            hit |= arr == c
    elif codes:
        hit |= np.isin(arr, codes)
    for lo, hi in var.missing_ranges:
        hit |= (arr >= lo) & (arr <= hi)
    return hit


def _missing_mask(s: pd.Series, var: Variable) -> tuple[pd.Series, dict[Any, Code]]:
    """Boolean mask of values declared missing, and a map from data value to code key."""
    mask = pd.Series(False, index=s.index)
    keymap: dict[Any, Code] = {}
    if pd.api.types.is_bool_dtype(s.dtype) or isinstance(s.dtype, pd.CategoricalDtype):
        return mask, keymap
    if pd.api.types.is_numeric_dtype(s.dtype):
        return pd.Series(_numeric_hits(s, var), index=s.index), keymap
    if is_stringlike(s):
        codes = list(var.missing_codes)
        if codes:
            as_text = {str(c): c for c in codes}
            keymap.update(as_text)
            obj = s.astype(object)
            mask |= obj.isin(codes) | obj.isin(list(as_text))
        if var.missing_ranges:
            num = pd.to_numeric(s, errors="coerce")
            for lo, hi in var.missing_ranges:
                mask |= (num >= lo) & (num <= hi)
    return mask.fillna(False).astype(bool), keymap


def _mask_numeric(name: str, s: pd.Series, hit: np.ndarray, counts: dict[Code, int]) -> pd.Series:
    """Count the codes hit in a numeric column and set them missing.

    Integer columns stay exact: identifiers and integers beyond 2**53 become
    nullable ``Int64``; other integer columns become float as before.
    """
    values, ns = np.unique(s.to_numpy()[hit], return_counts=True)
    for value, n in zip(values.tolist(), ns.tolist()):
        key = normalize_code(value)
        counts[key] = counts.get(key, 0) + int(n)
    if pd.api.types.is_integer_dtype(s.dtype) and (
        pd.api.types.is_extension_array_dtype(s.dtype) or needs_exact_integers(name, s)
    ):
        out = s.astype("Int64")  # a new array
        out[hit] = pd.NA
        return out
    if pd.api.types.is_extension_array_dtype(s.dtype):
        return s.mask(pd.Series(hit, index=s.index))
    out_arr = s.to_numpy().astype(float)  # a new array
    out_arr[hit] = np.nan
    return pd.Series(out_arr, index=s.index, name=name)


def apply_missing(
    data: pd.DataFrame,
    codebook: Codebook,
    found: Mapping[str, Mapping[Code, int]] | None = None,
) -> tuple[pd.DataFrame, Codebook]:
    """Set every declared missing code to NaN and record per-code counts in the codebook.

    ``found`` holds counts already taken (extended missing values, text codes set
    aside while reading); declared discrete codes not found are recorded with a
    count of 0. Declared codes apply to the column as converted, so numeric codes
    match numbers and text codes match text.
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
            hit = mask.to_numpy()
            if is_num and hit.any():
                new_cols[name] = _mask_numeric(name, s, hit, counts)
            elif hit.any():
                vc = s[mask].value_counts(sort=False)
                for value, n in vc.items():
                    key = keymap.get(value, value)
                    key = normalize_code(key) if not isinstance(key, str) else key
                    counts[key] = counts.get(key, 0) + int(n)
                new_cols[name] = s.mask(mask)
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
