"""Frozen copy of the previous scoring engine (score() and its helpers).

The column-by-column implementation as it stood before the whole-block rewrite (commit
b5a1376), kept verbatim apart from imports and docstrings. The tests in
tests/instruments/test_scoring_identity.py check that the current implementation returns
identical frames and raises the same errors. Not collected as tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import pandas as pd

from mutualaid_outcomes._validation import check_dataframe, check_option
from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.instruments._scales import Subscale
from mutualaid_outcomes.instruments.scoring import resolve_item_columns
from mutualaid_outcomes.instruments.spec import Band, InstrumentSpec, get_spec

_MISSING = ("published", "none", "prorate", "available")
_ON_INVALID = ("raise", "missing")
_MAX_SHOWN = 10


def _item_matrix(
    spec: InstrumentSpec, data: pd.DataFrame, cols: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Return (values after special codes, non-numeric mask) as float arrays."""
    n, p = len(data), len(cols)
    values = np.empty((n, p), dtype=float, order="F")  # column operations are contiguous
    nonnum = np.zeros((n, p), dtype=bool)
    num_codes = [
        (float(c.code), c.value) for c in spec.special_codes if not isinstance(c.code, str)
    ]
    str_codes = {c.code: c.value for c in spec.special_codes if isinstance(c.code, str)}
    for j, col in enumerate(cols):
        s = data[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            v = s.to_numpy(dtype=float, na_value=np.nan)
        else:
            obj = s.astype(object)
            if str_codes:
                mapped = obj.map(lambda x: str_codes.get(x, x) if isinstance(x, str) else x)
                is_code = obj.map(lambda x: isinstance(x, str) and x in str_codes).to_numpy(bool)
            else:
                mapped = obj
                is_code = np.zeros(n, dtype=bool)
            conv = pd.to_numeric(mapped, errors="coerce")
            v = np.asarray(conv, dtype=float)
            nonnum[:, j] = (~pd.isna(obj).to_numpy()) & np.isnan(v) & ~is_code
            v = np.where(is_code & np.isnan(v), np.nan, v)
        for code, value in num_codes:
            hit = v == code
            if hit.any():
                v = np.where(hit, np.nan if value is None else float(value), v)
        values[:, j] = v
    return values, nonnum


def _invalid_mask(spec: InstrumentSpec, values: np.ndarray) -> np.ndarray:
    bad = np.zeros(values.shape, dtype=bool)
    present = ~np.isnan(values)
    for j, item in enumerate(spec.items):
        v = values[:, j]
        if item in spec.item_values:
            allowed = np.asarray(spec.item_values[item], dtype=float)
            ok = np.isin(v, allowed)
        else:
            lo, hi = spec.item_range(item)
            ok = (v >= lo) & (v <= hi)
            if spec.integer_codes:
                ok &= v == np.round(v)
        bad[:, j] = present[:, j] & ~ok
    return bad


def _show(value: object) -> str:
    """Readable form of an offending answer (4.0 -> '4', 'refused' -> "'refused'")."""
    if hasattr(value, "item"):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _invalid_message(
    spec: InstrumentSpec, cols: list[str], data: pd.DataFrame, bad: np.ndarray
) -> str:
    parts = []
    for j in np.flatnonzero(bad.any(axis=0)):
        rows = np.flatnonzero(bad[:, j])
        raw = data[cols[j]].iloc[rows]
        vals = list(dict.fromkeys(_show(v) for v in raw))
        lo, hi = spec.item_range(spec.items[j])
        allowed = (
            f"one of {list(spec.item_values[spec.items[j]])}"
            if spec.items[j] in spec.item_values
            else f"{lo:g}..{hi:g}"
        )
        pos = ", ".join(str(int(r)) for r in rows[:_MAX_SHOWN])
        more = f" (+{len(rows) - _MAX_SHOWN} more)" if len(rows) > _MAX_SHOWN else ""
        parts.append(
            f"'{cols[j]}' (item {spec.items[j]}, allowed {allowed}): {len(rows)} value(s) "
            f"{', '.join(vals[:_MAX_SHOWN])} at row position(s) {pos}{more}"
        )
    return (
        f"Invalid answers for '{spec.id}' (out of range, not an allowed code, or non-numeric): "
        + "; ".join(parts)
        + ". Recode them, declare them as special codes in the spec, or pass "
        "on_invalid='missing' to treat them as missing (they are then counted)."
    )


def _band_labels(scores: np.ndarray, bands: Sequence[Band]) -> pd.Categorical:
    labels = [b.label for b in bands]
    lowers = np.array([b.lower for b in bands])
    idx = np.searchsorted(lowers, scores, side="right") - 1
    ok = (~np.isnan(scores)) & (idx >= 0) & (scores <= bands[-1].upper)
    codes = np.where(ok, idx, -1)
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)


def _reverse_key(spec: InstrumentSpec, values: np.ndarray) -> None:
    """Reverse-key the items of ``spec.reverse`` in place (``lo + hi - value``)."""
    for j, item in enumerate(spec.items):
        if item in spec.reverse:
            lo, hi = spec.item_range(item)
            values[:, j] = lo + hi - values[:, j]


def _allowed_missing(sc: Subscale, missing: str, m: int) -> int:
    """How many of the scale's ``m`` items may be missing under the ``missing`` rule."""
    if missing == "published":
        return sc.max_missing if sc.max_missing is not None else 0
    if missing == "none":
        return 0
    if missing == "prorate":
        return m - int(np.ceil(m / 2))
    return m - 1  # available


def _scale_values(sc: Subscale, x: np.ndarray, answered: np.ndarray, missing: str) -> np.ndarray:
    """The scale's score of every row from its items ``x`` (NaN = missing), before the rules."""
    m = x.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = np.where(np.isnan(x), 0.0, x)
        plain = filled.sum(axis=1)
        complete = answered == m
        mean = plain / answered
        if sc.method == "sum":
            # complete rows keep the exact sum (m * mean can be off by an ulp and
            # move an integer score across a cut-point)
            prorated = plain if missing == "available" else mean * m
            return np.where(complete, plain, prorated)
        if sc.method == "mean":
            return mean
        if sc.method == "mean_times_k":
            return mean * float(cast(float, sc.k))  # validated with the spec
        # weighted
        w = np.asarray(sc.weights, dtype=float)
        wx = (filled * w).sum(axis=1)
        if missing == "available":
            return wx
        w_ans = (~np.isnan(x) * w).sum(axis=1)
        return np.where(complete, wx, wx / w_ans * w.sum())


def score(
    data: pd.DataFrame,
    instrument: str | InstrumentSpec,
    items: str | Sequence[str] | Mapping[int, str] | None = None,
    *,
    missing: str = "published",
    on_invalid: str = "raise",
) -> pd.DataFrame:
    """The previous score() (frozen)."""
    spec = get_spec(instrument)
    data = check_dataframe(data, "data", allow_empty=True)
    check_option(missing, _MISSING, "missing")
    check_option(on_invalid, _ON_INVALID, "on_invalid")
    cols = resolve_item_columns(spec, data, items)

    values, nonnum = _item_matrix(spec, data, cols)
    bad = nonnum | _invalid_mask(spec, values)
    n_rows = len(data)
    if bad.any():
        if on_invalid == "raise":
            raise DataValidationError(_invalid_message(spec, cols, data, bad))
        values = np.where(bad, np.nan, values)
    n_invalid_row = bad.sum(axis=1)

    _reverse_key(spec, values)
    miss = np.isnan(values)
    pos = {item: j for j, item in enumerate(spec.items)}
    instrument_ok = np.ones(n_rows, dtype=bool)
    if missing == "published" and spec.max_missing_total is not None:
        instrument_ok = miss.sum(axis=1) <= spec.max_missing_total

    out: dict[str, object] = {}
    scale_scores: dict[str, np.ndarray] = {}
    for sc in spec.scales:
        idx = [pos[i] for i in sc.items]
        x = values[:, idx]
        m = len(idx)
        answered = (~np.isnan(x)).sum(axis=1)
        allowed = _allowed_missing(sc, missing, m)
        ok = instrument_ok & (answered >= 1) & ((m - answered) <= allowed)
        s = _scale_values(sc, x, answered, missing)
        s = np.where(ok, s, np.nan)
        name = f"{spec.id}_{sc.name}"
        scale_scores[sc.name] = s
        out[name] = s
        out[f"{name}_n"] = answered.astype(np.int64)
        out[f"{name}_prorated"] = ok & (answered < m)
        if sc.bands:
            out[f"{name}_band"] = _band_labels(s, sc.bands)
    for comp in spec.composites:
        total = np.zeros(n_rows)
        for term, coef in comp.terms:
            total = total + coef * scale_scores[term]
        s = (total + comp.offset) * comp.multiplier
        scale_scores[comp.name] = s
        name = f"{spec.id}_{comp.name}"
        out[name] = s
        if comp.bands:
            out[f"{name}_band"] = _band_labels(s, comp.bands)
    out[f"{spec.id}_n_invalid"] = n_invalid_row.astype(np.int64)
    result = pd.DataFrame(out, index=data.index)
    result.attrs = {
        "instrument": spec.id,
        "missing": missing,
        "on_invalid": on_invalid,
        "n_invalid": int(bad.sum()),
        "invalid_by_column": {
            cols[j]: int(bad[:, j].sum()) for j in range(len(cols)) if bad[:, j].any()
        },
    }
    return result
