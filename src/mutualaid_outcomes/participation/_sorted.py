"""Person codes and the (person, day) order of a daily calendar.

A calendar file is nearly always sorted by person and date already. :func:`person_codes`
and :func:`group_rows` recognise that layout with one pass over the id and day columns and
then sort, gather and hash nothing: person codes are the running count of id changes and
each person's rows form one segment. Any other layout is sorted once, by a stable argsort
of the combined integer key ``person * span + day`` (a two-key ``lexsort`` when that key
could overflow), which orders rows exactly as a stable sort by (person, day) does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_KEY_LIMIT = 2**62  # person * span + day must stay inside int64


@dataclass(frozen=True)
class RowGroups:
    """Where each person's rows are once the calendar is in (person, day) order."""

    codes: np.ndarray  # person code of each input row (int64)
    order: np.ndarray | None  # input rows in (person, day) order; None: already in order
    starts: np.ndarray  # first sorted position of each person (one per person)

    def sorted(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per input row) in (person, day) order; no copy when in order."""
        return values if self.order is None else values[self.order]

    def first_rows(self) -> np.ndarray:
        """Each person's first input row (smallest position)."""
        if self.order is None:
            return self.starts
        return np.minimum.reduceat(self.order, self.starts)


def person_codes(id_values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..n-1 of the ids in sorted order, and the sorted unique ids.

    The same as ``pandas.factorize(id_values, sort=True)``; integer ids already in
    non-decreasing order are coded from the positions where the id changes.
    """
    dtype = id_values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iu" and len(id_values) > 1:
        v = id_values.to_numpy()
        if np.all(v[1:] >= v[:-1]):
            first = np.r_[0, np.flatnonzero(v[1:] != v[:-1]) + 1]
            counts = np.diff(np.r_[first, len(v)])
            return np.repeat(np.arange(len(first), dtype=np.int64), counts), v[first]
    codes, ids = pd.factorize(id_values, sort=True)
    return codes.astype(np.int64, copy=False), np.asarray(ids)


def group_rows(codes: np.ndarray, days: np.ndarray) -> tuple[RowGroups, np.ndarray]:
    """The (person, day) order of the rows and the positions of duplicated (person, day) rows.

    Returns the row groups and the sorted input positions of the rows that repeat an
    earlier row's person and day (empty when there are none).
    """
    same = codes[1:] == codes[:-1]
    in_order = np.all((codes[1:] > codes[:-1]) | (same & (days[1:] > days[:-1])))
    if in_order:
        return RowGroups(codes, None, _segment_starts(codes)), np.array([], dtype=np.int64)
    del same
    lo, hi = int(days.min()), int(days.max())
    span = hi - lo + 1
    if (int(codes.max()) + 1) * span < _KEY_LIMIT:
        key = codes * span + (days - lo)
        order = np.argsort(key, kind="stable")
        key = key[order]
        repeat = key[1:] == key[:-1]
        del key
    else:
        order = np.lexsort((days, codes))
        cs, ds = codes[order], days[order]
        repeat = (cs[1:] == cs[:-1]) & (ds[1:] == ds[:-1])
    duplicates = np.sort(order[1:][repeat])
    groups = RowGroups(codes, order, _segment_starts(codes[order]))
    return groups, duplicates


def _segment_starts(sorted_codes: np.ndarray) -> np.ndarray:
    """First position of each code in a sorted code array."""
    return np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1]


def column_per_person(column: pd.Series, groups: RowGroups) -> tuple[np.ndarray, int]:
    """A column's value on each person's first row, and how many persons have several values.

    Values are compared as ``pandas.factorize(..., use_na_sentinel=False)`` compares them
    (missing values equal to each other); numpy columns are compared directly on the
    sorted rows, others through their factorized codes.
    """
    values = column.to_numpy()
    kind = values.dtype.kind
    if kind in "biufmM":
        v = groups.sorted(values)
        if kind in "mM":
            v = v.view(np.int64)  # NaT is one value, equal to itself
        a, b = v[1:], v[:-1]
        differ = a != b
        if kind == "f":
            differ &= ~(np.isnan(a) & np.isnan(b))
    else:
        vc = groups.sorted(pd.factorize(column, use_na_sentinel=False)[0])
        differ = vc[1:] != vc[:-1]
    p = groups.sorted(groups.codes)
    varying = differ & (p[1:] == p[:-1])
    n_varying = int(np.unique(p[1:][varying]).size) if varying.any() else 0
    return values[groups.first_rows()], n_varying


def segment_search(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: int) -> np.ndarray:
    """``searchsorted(values[lo_i:hi_i], target) + lo_i`` for every segment at once.

    ``values`` is sorted within each segment ``[lo_i, hi_i)``. A bisection run on all
    segments together: about log2(longest segment) steps of O(number of segments) each.
    """
    lo = lo.astype(np.int64, copy=True)
    hi = hi.astype(np.int64, copy=True)
    active = np.flatnonzero(lo < hi)
    while len(active):
        a_lo, a_hi = lo[active], hi[active]
        mid = (a_lo + a_hi) // 2
        below = values[mid] < target
        lo[active] = np.where(below, mid + 1, a_lo)
        hi[active] = np.where(below, a_hi, mid)
        active = active[lo[active] < hi[active]]
    return lo
