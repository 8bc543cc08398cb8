"""The item block of an instrument: extraction, validation, keying and scale sums.

Whole-number instruments whose answers are all valid are summed by
:mod:`~mutualaid_outcomes.instruments._whole` instead; this module is the route for
other instruments, other column types and invalid answers.

:func:`item_matrix` takes the item columns as one float block, without a copy when the
frame already holds them as one. :func:`scan_items` then reads the block once, in row
chunks small enough to stay in cache, and in that pass finds the missing answers, checks
every answer against the spec (minima and maxima, whole numbers), keys the items
(reverse-keyed items ``lo + hi - value``, missing answers 0) and adds up each scale:
no item-sized intermediate is kept. The
answer-by-answer mask of :func:`invalid_mask` is built only when the scan finds an
invalid answer, to name it in the error or set it missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .spec import InstrumentSpec

__all__ = ["item_matrix", "sums_exact", "scan_items", "invalid_mask", "ScaleSums"]

_CHUNK_ROWS = 8192  # rows per step of the scan: a few hundred kB per array, in cache
_EXACT_SUM_LIMIT = 2.0**53  # integers below this add exactly in float64, in any order


def item_matrix(
    spec: InstrumentSpec, data: pd.DataFrame, cols: list[str]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (values after special codes, non-numeric mask or None) as float arrays.

    ``values`` is read-only: it may share memory with ``data``. Items of one numpy
    dtype come as pandas lays them out (one copy at most); other item columns are
    converted one at a time into a column-major block. The non-numeric mask is None when
    every item column is numeric.
    """
    dtypes = [data[c].dtype for c in cols]
    same_numeric = all(
        isinstance(t, np.dtype) and t.kind in "biuf" and t == dtypes[0] for t in dtypes
    )
    if same_numeric and cols:
        frame = data if list(data.columns) == cols else data[cols]
        values, nonnum = frame.to_numpy(dtype=float), None
    else:
        values, nonnum = _item_columns(spec, data, cols)
    num_codes = [
        (float(c.code), c.value) for c in spec.special_codes if not isinstance(c.code, str)
    ]
    if num_codes:
        values = np.array(values, order="F")  # ours to recode
        for j in range(len(cols)):
            v = values[:, j]
            for code, value in num_codes:
                hit = v == code
                if hit.any():
                    v[hit] = np.nan if value is None else float(value)
    return values, nonnum


def _item_columns(
    spec: InstrumentSpec, data: pd.DataFrame, cols: list[str]
) -> tuple[np.ndarray, np.ndarray | None]:
    """Item columns of mixed or non-numeric types, one at a time (string codes mapped)."""
    n, p = len(data), len(cols)
    values = np.empty((n, p), dtype=float, order="F")  # column operations are contiguous
    nonnum = None
    str_codes = {c.code: c.value for c in spec.special_codes if isinstance(c.code, str)}
    for j, col in enumerate(cols):
        s = data[col]
        if isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf":
            values[:, j] = s.to_numpy()
            continue
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            values[:, j] = s.to_numpy(dtype=float, na_value=np.nan)
            continue
        obj = s.astype(object)
        if str_codes:
            mapped = obj.map(lambda x: str_codes.get(x, x) if isinstance(x, str) else x)
            is_code = obj.map(lambda x: isinstance(x, str) and x in str_codes).to_numpy(bool)
        else:
            mapped = obj
            is_code = np.zeros(n, dtype=bool)
        conv = pd.to_numeric(mapped, errors="coerce")
        v = np.asarray(conv, dtype=float)
        if nonnum is None:
            nonnum = np.zeros((n, p), dtype=bool, order="F")
        nonnum[:, j] = (~pd.isna(obj).to_numpy()) & np.isnan(v) & ~is_code
        values[:, j] = np.where(is_code & np.isnan(v), np.nan, v)
    return values, nonnum


def sums_exact(spec: InstrumentSpec) -> bool:
    """Whether every scale sum is exact whatever the order of addition.

    True for whole-number answers (``integer_codes``, whole ranges and allowed codes)
    whose sums stay below 2**53, on scales without weights: such sums are integers computed
    without rounding. Otherwise the items are added in item order, column by column.
    """
    whole_codes = all(float(v).is_integer() for vs in spec.item_values.values() for v in vs)
    ranges = [spec.item_range(item) for item in spec.items]
    whole_ranges = all(float(v).is_integer() for pair in ranges for v in pair)
    largest = max(max(abs(lo), abs(hi)) for lo, hi in ranges)
    return (
        spec.integer_codes
        and whole_codes
        and whole_ranges
        and all(sc.method != "weighted" for sc in spec.scales)
        and spec.n_items * largest < _EXACT_SUM_LIMIT
    )


@dataclass
class ScaleSums:
    """Per-row sums of one scale's keyed items (missing answers count 0)."""

    plain: np.ndarray  # sum of the items
    n_missing: np.ndarray  # items missing (int64)
    weighted: np.ndarray | None = None  # sum of w * item (weighted scales)
    weight_answered: np.ndarray | None = None  # sum of w over the answered items


class _Scan:
    """The per-chunk arithmetic of :func:`scan_items` (set up once per spec)."""

    def __init__(self, spec: InstrumentSpec, p: int) -> None:
        self.spec = spec
        self.ranged = [j for j, item in enumerate(spec.items) if item not in spec.item_values]
        bounds = np.array([spec.item_range(spec.items[j]) for j in self.ranged]).reshape(-1, 2)
        self.lo, self.hi = bounds[:, 0], bounds[:, 1]
        self.uniform = len(self.ranged) > 0 and np.ptp(bounds, axis=0).max() == 0
        ranges = np.array([spec.item_range(item) for item in spec.items]).reshape(-1, 2)
        rev = np.array([item in spec.reverse for item in spec.items])
        self.sign = np.where(rev, -1.0, 1.0)  # keyed item = shift + sign * answer
        self.shift = np.where(rev, ranges.sum(axis=1), 0.0)
        self.clip = bool(np.all(ranges >= 0))  # valid keyed items are >= 0: fmax(., 0)
        self.all_ranged = len(self.ranged) == p
        self.exact = sums_exact(spec)  # whole answers: sums by any route are exact
        self.rev_set = set(np.flatnonzero(rev).tolist())
        self.n_differ = self.n_nan = 0
        self.low, self.high = np.inf, -np.inf
        self.out_of_range = False

    def key(self, v: np.ndarray, m: np.ndarray, f: np.ndarray) -> None:
        """Keyed items of one chunk into ``f``: ``shift + sign * v``, missing 0.

        With whole-number answers (``exact``) ``f`` holds the answers themselves, missing
        0, and :meth:`add_up` keys the reverse-keyed items in the sums.
        """
        if self.exact:
            if self.clip:
                np.fmax(v, 0.0, out=f)  # NaN -> 0; a valid answer is never below 0
            else:
                np.copyto(f, v)
                np.copyto(f, 0.0, where=m)
            return
        np.multiply(v, self.sign, out=f)
        f += self.shift
        if self.clip:
            np.fmax(f, 0.0, out=f)  # NaN -> 0; a valid keyed item is never below 0
        else:
            np.copyto(f, 0.0, where=m)

    def check(self, v: np.ndarray, m: np.ndarray, f: np.ndarray, rounded: np.ndarray) -> None:
        """Accumulate the range and whole-number checks of one chunk (after :meth:`key`)."""
        if not self.ranged:
            return
        vr = v if self.all_ranged else v[:, self.ranged]
        if self.uniform:
            self.low = min(self.low, np.fmin.reduce(vr, axis=None))
            self.high = max(self.high, np.fmax.reduce(vr, axis=None))
        elif not self.out_of_range:
            self.out_of_range = bool(np.any(vr < self.lo) or np.any(vr > self.hi))
        if self.spec.integer_codes and self.exact:  # f: answers with missing 0
            r = rounded[: len(f)]
            np.rint(f, out=r)
            self.n_differ += int(np.count_nonzero(r != f))
        elif self.spec.integer_codes:
            r = rounded[: len(vr), : vr.shape[1]]
            np.rint(vr, out=r)
            self.n_differ += int(np.count_nonzero(r != vr))  # also counts the missing answers
            self.n_nan += int(np.count_nonzero(m if self.all_ranged else m[:, self.ranged]))

    def add_up(self, f: np.ndarray, m: np.ndarray, idx: list[int], whole: bool) -> np.ndarray:
        """Row sums of the keyed items ``idx`` of one chunk (``f`` from :meth:`key`).

        With whole-number answers a reverse-keyed item adds ``lo + hi - x``: the sum is
        the plain sum, minus twice the reverse-keyed answers, plus ``lo + hi`` for each
        of them answered; every term is an integer, so the result is exact.
        """
        fx = f if whole else f[:, idx]
        plain = fx.sum(axis=1)
        rev = [j for j in idx if j in self.rev_set] if self.exact else []
        if rev:
            plain -= 2.0 * f[:, rev].sum(axis=1)
            plain += (~m[:, rev]) @ self.shift[rev]
        return plain

    def invalid(self, values: np.ndarray) -> bool:
        """Whether the chunks held an invalid answer (after all chunks were checked)."""
        if self.uniform and (self.low < self.lo[0] or self.high > self.hi[0]):
            return True
        if self.out_of_range or self.n_differ != self.n_nan:
            return True
        for j, item in enumerate(self.spec.items):
            if item in self.spec.item_values:
                v = values[:, j]
                allowed = np.asarray(self.spec.item_values[item], dtype=float)
                if np.any(~np.isin(v, allowed) & ~np.isnan(v)):
                    return True
        return False


def scan_items(
    spec: InstrumentSpec, values: np.ndarray
) -> tuple[dict[str, ScaleSums], np.ndarray, bool]:
    """One pass over the item block: each scale's sums, missing items per row, validity.

    Returns ``(sums by scale name, items missing per row, any invalid answer)``. Keyed
    items are ``lo + hi - answer`` for reverse-keyed items and the answer otherwise,
    missing answers 0; each scale's row sum adds its items in scale order (column by
    column when ``values`` is column-major, as a column-major sum does). An answer is
    invalid when it is outside its item's range, not a whole number (``integer_codes``)
    or not one of its allowed codes, exactly as :func:`invalid_mask` decides; when one
    is found the sums are not meaningful.
    """
    n, p = values.shape
    pos = {item: j for j, item in enumerate(spec.items)}
    layout = [(sc, [pos[i] for i in sc.items]) for sc in spec.scales]
    sums = {
        sc.name: ScaleSums(
            np.empty(n),
            np.empty(n, dtype=np.int64),
            *((np.empty(n), np.empty(n)) if sc.method == "weighted" else ()),
        )
        for sc, _ in layout
    }
    n_missing = np.empty(n, dtype=np.int64)
    scan = _Scan(spec, p)
    chunk = min(n, _CHUNK_ROWS)
    # chunk buffers in the layout of `values`, so row sums add columns in the same order
    order: Literal["C", "F"] = (
        "F" if values.flags.f_contiguous and not values.flags.c_contiguous else "C"
    )
    f_buf = np.empty((chunk, p), order=order)
    m_buf = np.empty((chunk, p), dtype=bool, order=order)
    rounded = np.empty((chunk, p), order=order)
    for i in range(0, n, _CHUNK_ROWS):
        v = values[i : i + _CHUNK_ROWS]
        rows = slice(i, i + len(v))
        f, m = f_buf[: len(v)], m_buf[: len(v)]
        np.isnan(v, out=m)
        scan.key(v, m, f)
        scan.check(v, m, f, rounded)
        n_missing[rows] = _count(m)
        for sc, idx in layout:
            whole = idx == list(range(p))
            out = sums[sc.name]
            out.plain[rows] = scan.add_up(f, m, idx, whole)
            out.n_missing[rows] = n_missing[rows] if whole else _count(m[:, idx])
            if out.weighted is not None and out.weight_answered is not None:
                fx, mx = (f, m) if whole else (f[:, idx], m[:, idx])
                w = np.asarray(sc.weights, dtype=float)
                out.weighted[rows] = (fx * w).sum(axis=1)
                out.weight_answered[rows] = (~mx * w).sum(axis=1)
    return sums, n_missing, scan.invalid(values)


def _count(mask: np.ndarray) -> np.ndarray:
    """True values per row of a boolean block."""
    if mask.shape[1] < 256:  # count in one byte per row
        return mask.view(np.uint8).sum(axis=1, dtype=np.uint8)
    return mask.sum(axis=1)


def invalid_mask(spec: InstrumentSpec, values: np.ndarray) -> np.ndarray:
    """Answer by answer: out of range, not a whole number or not an allowed code."""
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
