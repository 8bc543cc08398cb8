"""Scale sums of whole-number items, read from the frame's columns without a copy.

Most questionnaires have whole-number answers ``lo..hi`` with ``lo >= 0`` and plain sum
scales. For them :func:`whole_sums` reads the item columns where the frame keeps them
(one 2-D view when they are equally spaced in one block, else column by column), in row
chunks small enough to stay in cache, and per chunk makes three passes over the items
and two small matrix products:

1. ``f = fmax(x, -B)``: a missing answer (NaN) becomes the sentinel ``-B``, a power of
   two above every column's largest sum; answers are kept as they are;
2. the smallest ``x - lo`` and the largest ``f - hi`` (the range check: an answer below
   ``lo``, also one below ``-B``, shows in the first) and ``rint(f) == f`` (whole
   numbers);
3. ``S = W f``, with ``W`` the 0/1 indicators of each scale's items and, per scale, of
   its reverse-keyed items grouped by ``lo + hi`` (the "columns" summed).

A column adds up to ``S = A - B k``, with ``A`` the sum of its answered items
(``0 <= A < B``) and ``k`` the number of them missing, so ``-k = floor(S / B)`` and
``A = S + B k``. A reverse-keyed item adds ``lo + hi - x``, so a scale's keyed sum is
``A - 2 A_rev + (lo + hi) (m_rev - k_rev)``, a fixed linear function of ``[S; -k; 1]``:
the second product. Every term is an integer below ``2**52``, so each sum is exact in
any order and equal, bit for bit, to the item-by-item sums of
:func:`~mutualaid_outcomes.instruments._items.scan_items`. When the checks find an
invalid answer the caller takes the item-by-item route, which names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import as_strided

from ._items import ScaleSums, sums_exact
from .spec import InstrumentSpec

__all__ = ["WholePlan", "whole_plan", "item_arrays", "whole_sums"]

# rows per step: 1.3 MB of float64 for 20 items; 4,096-8,192 rows measured fastest on
# 10^6 x 20 items, 16,384 about 20% slower and 32,768 70% slower
_CHUNK_ROWS = 8192
_SUM_LIMIT = 2.0**52  # |S| stays below this, so every sum is an exact integer


@dataclass(frozen=True)
class WholePlan:
    """What :func:`whole_sums` computes for one spec (built by :func:`whole_plan`)."""

    lo: np.ndarray  # (p,) item minima
    hi: np.ndarray  # (p,) item maxima
    uniform: bool  # every item has the same minimum and the same maximum
    sentinel: float  # B: a missing answer counts -B
    weights: np.ndarray  # (q, p) 0/1 indicators of the items each column adds up
    keying: np.ndarray  # (s, 2q + 1): scale sums from [S; -k; 1] of the q columns
    counted: dict[str, int]  # the column counting each scale's missing items
    all_items: int  # the column holding every item


_PLANS: dict[int, tuple[InstrumentSpec, WholePlan | None]] = {}
_MAX_PLANS = 64


def whole_plan(spec: InstrumentSpec) -> WholePlan | None:
    """The plan for ``spec`` (kept for the spec object: specs are immutable), or None.

    See :func:`_make_plan`.
    """
    kept = _PLANS.get(id(spec))
    if kept is not None and kept[0] is spec:  # the entry holds the spec: its id is unique
        return kept[1]
    plan = _make_plan(spec)
    if len(_PLANS) >= _MAX_PLANS:
        _PLANS.pop(next(iter(_PLANS)))
    _PLANS[id(spec)] = (spec, plan)
    return plan


def _make_plan(spec: InstrumentSpec) -> WholePlan | None:
    """The plan for ``spec``, or None when its answers are not plain whole numbers >= 0.

    The spec qualifies when its sums are exact (:func:`~._items.sums_exact`: whole-number
    answers and codes, no weighted scale), no item has a list of allowed codes, no
    numeric special code is recoded and every item's minimum is at least 0.

    A scale with items in column ``a`` and reverse-keyed items in columns ``g`` (grouped
    by ``lo + hi``, ``m_g`` items each) sums to ``A_a + sum_g [(lo + hi)_g (m_g - k_g) -
    2 A_g]``; with ``A = S + B k`` that is one row of ``keying`` applied to ``[S; -k; 1]``.
    """
    numeric_codes = any(not isinstance(c.code, str) for c in spec.special_codes)
    if not sums_exact(spec) or spec.item_values or numeric_codes:
        return None
    ranges = np.array([spec.item_range(item) for item in spec.items], dtype=float)
    if np.any(ranges[:, 0] < 0):
        return None
    p = len(spec.items)
    pos = {item: j for j, item in enumerate(spec.items)}
    columns: dict[tuple[int, ...], int] = {}

    def column(idx: list[int]) -> int:
        return columns.setdefault(tuple(sorted(idx)), len(columns))

    all_items = column(list(range(p)))
    terms = []  # per scale: {column: coefficient of A}, {column: of -k}, constant
    counted = {}
    for sc in spec.scales:
        idx = [pos[i] for i in sc.items]
        counted[sc.name] = column(idx)
        groups: dict[float, list[int]] = {}
        for j in idx:
            if spec.items[j] in spec.reverse:
                groups.setdefault(float(ranges[j].sum()), []).append(j)
        of_a: dict[int, float] = {counted[sc.name]: 1.0}
        of_k: dict[int, float] = {}
        const = 0.0
        for shift, g in groups.items():
            c = column(g)
            of_a[c] = of_a.get(c, 0.0) - 2.0
            of_k[c] = of_k.get(c, 0.0) + shift
            const += shift * len(g)
        terms.append((of_a, of_k, const))
    q = len(columns)
    weights = np.zeros((q, p))
    for members, c in columns.items():
        weights[c, list(members)] = 1.0
    largest = float((weights @ ranges[:, 1]).max())
    sentinel = 2.0 ** int(np.floor(np.log2(largest)) + 1) if largest >= 1 else 1.0
    keying = np.zeros((len(terms), 2 * q + 1))
    for r, (of_a, of_k, const) in enumerate(terms):
        for c, a in of_a.items():
            keying[r, c] += a  # A = S - B (-k)
            keying[r, q + c] -= sentinel * a
        for c, b in of_k.items():
            keying[r, q + c] += b
        keying[r, -1] = const
    # every product and partial sum must be an integer below 2**52: exact in any order
    bound = np.abs(keying) @ np.r_[np.full(q, sentinel * (p + 1)), np.full(q, p), 1.0]
    if sentinel * (p + 1) >= _SUM_LIMIT or bound.max() >= _SUM_LIMIT:
        return None
    uniform = bool(np.ptp(ranges, axis=0).max() == 0)
    return WholePlan(
        ranges[:, 0], ranges[:, 1], uniform, sentinel, weights, keying, counted, all_items
    )


def item_arrays(data: pd.DataFrame, cols: list[str]) -> list[np.ndarray] | None:
    """The item columns as the frame holds them (views), or None if one is not numeric.

    Only plain numpy boolean, integer and float columns qualify; pandas extension types
    (nullable integers, categoricals, strings) and object columns take the general route.
    """
    arrays = []
    for c in cols:
        s = data[c]
        if not isinstance(s, pd.Series):
            return None
        if not (isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf"):
            return None
        arrays.append(s.to_numpy())
    return arrays


def _block_view(arrays: list[np.ndarray]) -> np.ndarray | None:
    """One read-only 2-D view of the columns when they are equally spaced in one array.

    A frame built from a 2-D array (or consolidated by pandas) holds its float columns in
    one block; the item columns, in item order, are then evenly spaced in it. The view is
    made only when every column comes from the same base array of one dtype and the
    view's memory lies inside that array.
    """
    first = arrays[0]
    n, p = len(first), len(arrays)
    if p < 2 or n == 0 or any(a.dtype != first.dtype or a.strides != first.strides for a in arrays):
        return None
    root = first
    while isinstance(root.base, np.ndarray):
        root = root.base
    start = first.__array_interface__["data"][0]
    step = arrays[1].__array_interface__["data"][0] - start
    for j, a in enumerate(arrays):
        base = a
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base is not root or a.__array_interface__["data"][0] != start + j * step:
            return None
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        return None
    low = root.__array_interface__["data"][0]
    row = first.strides[0]
    offsets = [0, (n - 1) * row, (p - 1) * step, (n - 1) * row + (p - 1) * step]
    if start + min(offsets) < low or start + max(offsets) + first.itemsize > low + root.nbytes:
        return None
    return as_strided(first, shape=(n, p), strides=(row, step), writeable=False)


def _extreme(
    reduce: np.ufunc, x: np.ndarray, bound: np.ndarray, mode: str, work: np.ndarray
) -> float:
    """Smallest (``np.fmin``) or largest (``np.fmax``) ``x - bound`` of a chunk, NaN ignored.

    ``mode``: ``'uniform'`` (one bound for all items), ``'columns'`` (column-major
    chunk: item by item) or ``'shifted'`` (row-major chunk with item-specific bounds:
    subtract them into ``work``, then reduce once).
    """
    if mode == "uniform":
        return float(reduce.reduce(x, axis=None)) - float(bound[0])
    if mode == "columns":
        return float(reduce.reduce(reduce.reduce(x, axis=0) - bound))
    np.subtract(x, bound, out=work)
    return float(reduce.reduce(work, axis=None))


def whole_sums(
    plan: WholePlan, arrays: list[np.ndarray]
) -> tuple[dict[str, ScaleSums], np.ndarray] | None:
    """Each scale's sums and the missing items per row, or None if an answer is invalid.

    ``arrays`` are the item columns in spec order (:func:`item_arrays`). The sums equal
    those of :func:`~._items.scan_items`; see the module notes for the arithmetic.
    """
    from ..parallel import blas_single_thread

    n, p = len(arrays[0]), len(arrays)
    q = plan.weights.shape[0]
    block = _block_view(arrays)
    # chunk buffers laid out like the items: rows contiguous in a row-major block
    c_like = block is not None and abs(block.strides[0]) > abs(block.strides[1])
    order: Literal["C", "F"] = "C" if c_like else "F"
    # a row-major chunk is reduced over all its items at once (over rows, item by item,
    # takes about seven times longer): directly when the items share their range, else
    # after subtracting each item's bound
    mode = ("uniform" if plan.uniform else "shifted") if c_like else "columns"
    chunk = max(1, min(n, _CHUNK_ROWS))
    f = np.empty((chunk, p), order=order)
    work = np.empty((chunk, p), order=order)
    differ = np.empty((chunk, p), dtype=bool, order=order)
    stacked = np.ones((2 * q + 1, chunk))  # [S; -k; 1] of one chunk
    plain = np.empty((plan.keying.shape[0], n))
    missing = {c: np.empty(n, dtype=np.int64) for c in {*plan.counted.values(), plan.all_items}}
    low, high = np.inf, -np.inf  # smallest answer - lo, largest answer - hi
    col_lows = np.empty(p)
    floor, inv = np.float64(-plan.sentinel), 1.0 / plan.sentinel
    n_differ = 0
    # products of a few MB gain nothing from a second BLAS thread; an infinite answer
    # makes NaN sums, fails the range check, and the sums are dropped
    with blas_single_thread(), np.errstate(invalid="ignore"):
        for i in range(0, n, chunk):
            k = min(chunk, n - i)
            fk, wk = f[:k], work[:k]
            if block is not None:
                v = block[i : i + k]
                np.fmax(v, floor, out=fk)
                low = np.fmin(low, _extreme(np.fmin, v, plan.lo, mode, wk))
            else:
                for j, a in enumerate(arrays):
                    np.fmax(a[i : i + k], floor, out=fk[:, j])
                    col_lows[j] = np.fmin.reduce(a[i : i + k])
                low = np.fmin(low, np.fmin.reduce(col_lows - plan.lo))
            high = np.fmax(high, _extreme(np.fmax, fk, plan.hi, mode, wk))
            np.rint(fk, out=wk)
            np.not_equal(wk, fk, out=differ[:k])
            n_differ += int(np.count_nonzero(differ[:k]))
            s_k, neg_k = stacked[:q, :k], stacked[q : 2 * q, :k]
            np.matmul(plan.weights, fk.T, out=s_k)  # S = A - B k
            np.multiply(s_k, inv, out=neg_k)
            np.floor(neg_k, out=neg_k)  # -k, exactly: B is a power of two, 0 <= A < B
            np.matmul(plan.keying, stacked[:, :k], out=plain[:, i : i + k])
            for c, out in missing.items():
                np.negative(neg_k[c], out=out[i : i + k], casting="unsafe")
    if n_differ or low < 0 or high > 0:
        return None
    sums = {
        name: ScaleSums(plain[r], missing[plan.counted[name]])
        for r, name in enumerate(plan.counted)
    }
    return sums, missing[plan.all_items]
