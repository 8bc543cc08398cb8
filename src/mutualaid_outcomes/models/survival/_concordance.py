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

import numpy as np

from ._coxph import CoxData

__all__ = ["concordance", "prefix_less"]


def prefix_less(rank: np.ndarray, w: np.ndarray, pos: np.ndarray, r: np.ndarray) -> np.ndarray:
    """For each query ``q``: the sum of ``w[j]`` over ``j < pos[q]`` with ``rank[j] < r[q]``.

    ``rank`` holds non-negative integers. The prefix ``[0, pos)`` is the union of the
    dyadic blocks ``[b << k, (b + 1) << k)`` with ``b = (pos >> k) - 1`` for every bit
    ``k`` set in ``pos``. Level ``k`` holds the rows sorted by ``(position >> k, rank)``,
    obtained from level ``k + 1`` by a stable partition of every block into its two
    halves (all blocks but the last are full, so the new places are arithmetic), and a
    block's count is one ``searchsorted`` into the level's cumulative weights. Queries
    are visited in an order that keeps the searches cache-friendly: by position while
    blocks are small, by rank (grouped by block with a 16-bit radix sort) once they
    are few.
    """
    n = len(rank)
    big = int(max(rank.max(initial=0), r.max(initial=0))) + 1
    order = np.argsort(rank, kind="stable")
    rk, ps, ww = rank[order], order, w[order]
    idx = np.arange(n)
    by_rank, by_pos = np.argsort(r, kind="stable"), np.argsort(pos, kind="stable")
    views = {
        True: (pos[by_rank], r[by_rank], np.zeros(len(pos))),
        False: (pos[by_pos], r[by_pos], np.zeros(len(pos))),
    }
    cw = np.zeros(n + 1)
    for k in range(max(n.bit_length(), 1) - 1, -1, -1):
        bit = (ps >> k) & 1
        before = np.cumsum(1 - bit)
        before -= 1 - bit  # rows going to the lower half, before this one in its block
        base = (idx >> (k + 1)) << k
        new = np.where(bit == 0, before + base, idx + (1 << k) - before + base)
        for arr in (rk, ps, ww):
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
        np.cumsum(ww, out=cw[1:])
        at = np.searchsorted((idx >> k) * big + rk, b * big + qr[sel], side="left")
        out[sel] += cw[at] - cw[b << k]
    res = np.zeros(len(pos))
    res[by_rank] = views[True][2]
    res[by_pos] += views[False][2]
    return res


def _dense_rank(cd: CoxData, eta: np.ndarray) -> np.ndarray:
    """Ranks 0, 1, ... of (stratum, eta): exact ties share a rank, later strata rank higher."""
    o = np.lexsort((eta, cd.strata))
    s, e = cd.strata[o], eta[o]
    change = np.ones(len(o), dtype=np.int64)
    change[0] = 0
    change[1:] = (s[1:] != s[:-1]) | (e[1:] != e[:-1])
    rank = np.empty(len(o), dtype=np.int64)
    rank[o] = np.cumsum(change)
    return rank


def _tied_deaths(cd: CoxData, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each death: weight of deaths at its time with smaller / not larger rank."""
    dead, jd = cd.dead_pos, cd.dead_j
    big = int(rank.max(initial=0)) + 2
    key = jd * big + rank[dead]
    srt = np.argsort(key, kind="stable")
    ks = key[srt]
    cw = np.zeros(len(dead) + 1)
    np.cumsum(cd.weights[dead][srt], out=cw[1:])
    less = cw[np.searchsorted(ks, key, side="left")]
    leq = cw[np.searchsorted(ks, key + 1, side="left")]
    start = cw[np.searchsorted(ks, jd * big, side="left")]
    return less - start, leq - start


def _suffix(w: np.ndarray) -> np.ndarray:
    out = np.zeros(len(w) + 1)
    np.cumsum(w[::-1], out=out[-2::-1])
    return out


def concordance(cd: CoxData, eta: np.ndarray) -> tuple[float, dict[str, float]]:
    """Harrell's C (R ``concordance``, ``timewt = "n"``) of ``eta`` given in sorted order."""
    if cd.n_times == 0:
        return float("nan"), {"concordant": 0.0, "discordant": 0.0, "tied_x": 0.0}
    rank = _dense_rank(cd, eta)
    dead, jd = cd.dead_pos, cd.dead_j
    w = cd.weights
    rq = np.concatenate([rank[dead], rank[dead] + 1])  # "< r" and "<= r"
    # risk set = stop-order suffix minus start-order suffix (later strata cancel)
    counts = -prefix_less(rank, w, np.tile(cd.ev_first[jd], 2), rq)
    at_risk = _suffix(w)[cd.ev_first]
    if cd.counting:
        ws = w[cd.ord_start]
        counts += prefix_less(rank[cd.ord_start], ws, np.tile(cd.lo_start[jd], 2), rq)
        at_risk = at_risk - _suffix(ws)[cd.lo_start]
    else:
        by_rank = np.zeros(int(rank.max()) + 3)
        np.cumsum(np.bincount(rank, weights=w, minlength=len(by_rank) - 1), out=by_rank[1:])
        counts += by_rank[rq]  # all rows with a smaller rank (later strata rank higher)
        at_risk = at_risk - _suffix(w)[cd.hi_stratum]
    less, leq = counts[: len(dead)], counts[len(dead) :]
    t_less, t_leq = _tied_deaths(cd, rank)
    less = less - t_less
    leq = leq - t_leq
    total = at_risk[jd] - cd.ev_wsum[jd]
    wd = w[dead]
    conc = float(wd @ less)
    tied = float(wd @ (leq - less))
    disc = float(wd @ (total - leq))
    denom = conc + disc + tied
    c = (conc + tied / 2) / denom if denom > 0 else float("nan")
    return c, {"concordant": conc, "discordant": disc, "tied_x": tied}
