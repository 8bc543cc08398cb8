"""Harrell's concordance of a Cox model in O(N log N), as R survival ``concordance()``.

A death at time ``t`` is compared with every row at risk at ``t`` in its stratum
(``start < t <= stop``) that is not itself a death at ``t`` (tied event times are not
comparable; a row censored at ``t`` is). The pair is concordant when the death has the
larger linear predictor, tied when the two are equal, discordant otherwise; pairs are
weighted by the product of the case weights.

The risk set is the stop-order suffix less the start-order suffix of
:class:`~._coxph.CoxData`, so the weight of risk-set rows with a smaller predictor is a
difference of two *dominance counts*: for a query ``(position q, rank r)``, the weight of
the rows at positions ``>= q`` with rank ``< r``. Ranks carry the stratum as their
leading part, so later strata never count as smaller. Dominance counts are answered
offline for all queries at once by a bottom-up merge sort over dyadic blocks of
positions (``log2 N`` vectorised passes), the array form of the Fenwick-tree sweep R
uses; the tied deaths of each event time are removed with one sort of the deaths.
"""

from __future__ import annotations

from typing import cast

import numpy as np

from ._coxph import CoxData

__all__ = ["concordance", "prefix_less"]


def prefix_less(
    rank: np.ndarray,
    w: np.ndarray,
    pos: np.ndarray,
    r: np.ndarray,
    orders: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """For each query ``q``: the sum of ``w[j]`` over ``j < pos[q]`` with ``rank[j] < r[q]``.

    ``rank`` holds non-negative integers. The prefix ``[0, pos)`` is the union of the
    dyadic blocks ``[b << k, (b + 1) << k)`` with ``b = (pos >> k) - 1`` for every bit
    ``k`` set in ``pos``. Level ``k`` holds the rows sorted by ``(position >> k, rank)``,
    obtained from level ``k + 1`` by a stable partition of every block into its two
    halves (all blocks but the last are full, so the new places are arithmetic), and a
    block's count is one ``searchsorted`` into the level's cumulative weights. Queries
    are visited in an order that keeps the searches cache-friendly: by position while
    blocks are small, by rank (grouped by block with a 16-bit radix sort) once they
    are few. ``orders`` may supply the three sorts: the rows by rank (stable) and the
    queries by rank and by position.
    """
    n = len(rank)
    big = int(max(rank.max(initial=0), r.max(initial=0))) + 1
    if orders is None:
        orders = (
            np.argsort(rank, kind="stable"),
            np.argsort(r, kind="stable"),
            np.argsort(pos, kind="stable"),
        )
    order, by_rank, by_pos = orders
    it = np.int32 if n < 2**31 - 1 else np.int64  # halves the memory traffic
    unit = bool(np.all(w == 1))  # unweighted: the cumulative weights are the counts
    ps: np.ndarray = order.astype(it)
    rk: np.ndarray = rank[order].astype(it)
    carried: tuple[np.ndarray, ...] = (ps, rk) if unit else (ps, rk, w[order])
    idx: np.ndarray = np.arange(n, dtype=it)
    views = {
        True: (pos[by_rank], r[by_rank], np.zeros(len(pos))),
        False: (pos[by_pos], r[by_pos], np.zeros(len(pos))),
    }
    cw = np.arange(n + 1, dtype=float) if unit else np.zeros(n + 1)
    for k in range(max(n.bit_length(), 1) - 1, -1, -1):
        # stable partition of every block of 2^(k+1) slots into its two halves
        upper = (ps >> k) & 1
        lower = upper ^ 1
        before: np.ndarray = np.cumsum(lower, dtype=it)
        before -= lower  # slots going to the lower half that precede this one
        new = np.where(upper, idx - before + (1 << k), before)
        new += (idx >> (k + 1)) << k
        for arr in carried:
            arr[new] = arr.copy()
        few_blocks = (n >> k) < 65536
        qp, qr, out = views[few_blocks]
        sel = np.flatnonzero((qp >> k) & 1)
        if not len(sel):
            continue
        b = (qp[sel] >> k) - 1
        if few_blocks:
            grp = np.argsort(b.astype(np.uint16), kind="stable")
            sel, b = sel[grp], b[grp]
        if not unit:
            np.cumsum(carried[2], out=cw[1:])
        keys = (idx >> k).astype(np.int64)
        keys *= big
        keys += rk
        at = np.searchsorted(keys, b * big + qr[sel], side="left")
        out[sel] += cw[at] - cw[b << k]
    res = np.zeros(len(pos))
    res[by_rank] = views[True][2]
    res[by_pos] += views[False][2]
    return res


def _dense_rank(cd: CoxData, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks 0, 1, ... of (stratum, eta) and the rows in rank order (stable).

    Exact ties share a rank; later strata rank higher.
    """
    o = np.lexsort((eta, cd.strata))
    s, e = cd.strata[o], eta[o]
    change = np.ones(len(o), dtype=np.int64)
    change[0] = 0
    change[1:] = (s[1:] != s[:-1]) | (e[1:] != e[:-1])
    rank = np.empty(len(o), dtype=np.int64)
    rank[o] = np.cumsum(change)
    return rank, o


def _suffix_counts(
    rank: np.ndarray,
    w: np.ndarray,
    order: np.ndarray,
    pos: np.ndarray,
    r: np.ndarray,
    by_rank: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Weight of the rows at positions ``>= pos`` with rank ``< r`` and with rank ``== r``.

    ``order`` sorts the rows by (rank, position); ``by_rank`` sorts the queries by
    (rank, position).
    """
    n = len(rank)
    below = np.zeros(int(max(rank.max(), r.max())) + 3)
    np.cumsum(np.bincount(rank, weights=w, minlength=len(below) - 1), out=below[1:])
    by_pos = np.arange(len(pos)) if np.all(pos[1:] >= pos[:-1]) else np.argsort(pos, kind="stable")
    less = below[r] - prefix_less(rank, w, pos, r, (order, by_rank, by_pos))
    # rows of rank r form one run of the (rank, position) order
    keys = rank[order] * (n + 1) + order
    cw = np.zeros(n + 1)
    np.cumsum(w[order], out=cw[1:])
    at = np.empty(len(pos), dtype=np.int64)
    at[by_rank] = np.searchsorted(keys, (r * (n + 1) + pos)[by_rank], side="left")
    return less, below[r + 1] - cw[at]


def _tied_deaths(cd: CoxData, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each death: weight of deaths at its time with smaller / equal rank."""
    dead, jd = cd.dead_pos, cd.dead_j
    big = int(rank.max(initial=0)) + 2
    key = jd * big + rank[dead]
    srt = np.argsort(key, kind="stable")
    ks = key[srt]
    cw = np.zeros(len(dead) + 1)
    np.cumsum(cd.weights[dead][srt], out=cw[1:])
    lo = cw[np.searchsorted(ks, key, side="left")]
    hi = cw[np.searchsorted(ks, key + 1, side="left")]
    start = cw[np.searchsorted(ks, jd * big, side="left")]
    return lo - start, hi - lo


def _suffix(w: np.ndarray) -> np.ndarray:
    out = np.zeros(len(w) + 1)
    np.cumsum(w[::-1], out=out[-2::-1])
    return out


def concordance(cd: CoxData, eta: np.ndarray) -> tuple[float, dict[str, float]]:
    """Harrell's C (R ``concordance``, ``timewt = "n"``) of ``eta`` given in sorted order."""
    if cd.n_times == 0:
        return float("nan"), {"concordant": 0.0, "discordant": 0.0, "tied_x": 0.0}
    rank, order = _dense_rank(cd, eta)
    dead, jd = cd.dead_pos, cd.dead_j
    w = cd.weights
    is_dead = np.zeros(cd.n, dtype=bool)
    is_dead[dead] = True
    death_index = np.cumsum(is_dead) - 1
    q_by_rank = death_index[order[is_dead[order]]]  # deaths by (rank, position)
    rq = rank[dead]
    # risk set = stop-order suffix minus start-order suffix (later strata cancel)
    less, equal = _suffix_counts(rank, w, order, cd.ev_first[jd], rq, q_by_rank)
    at_risk = _suffix(w)[cd.ev_first]
    if cd.counting:
        # set for counting-process data
        ord_start, lo_start = cast(np.ndarray, cd.ord_start), cast(np.ndarray, cd.lo_start)
        rs, ws = rank[ord_start], w[ord_start]
        order_s = np.argsort(rs, kind="stable")
        less_s, equal_s = _suffix_counts(rs, ws, order_s, lo_start[jd], rq, q_by_rank)
        less, equal = less - less_s, equal - equal_s
        at_risk = at_risk - _suffix(ws)[lo_start]
    else:
        at_risk = at_risk - _suffix(w)[cast(np.ndarray, cd.hi_stratum)]
    t_less, t_equal = _tied_deaths(cd, rank)
    less = less - t_less
    equal = equal - t_equal
    total = at_risk[jd] - cd.ev_wsum[jd]
    wd = w[dead]
    conc = float(wd @ less)
    tied = float(wd @ equal)
    disc = float(wd @ (total - less - equal))
    denom = conc + disc + tied
    c = (conc + tied / 2) / denom if denom > 0 else float("nan")
    return c, {"concordant": conc, "discordant": disc, "tied_x": tied}
