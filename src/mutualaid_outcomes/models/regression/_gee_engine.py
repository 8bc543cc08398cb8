"""Generalised estimating equations, solved on a padded cluster x slot layout.

Observations are arranged in arrays of shape ``(G, T)`` (clusters x the largest cluster
size) with a mask, so every cluster-level operation (working correlation matrices,
their inverses, score contributions) is one batched NumPy call.

The estimating equations and the moment estimators are those of R geepack
(Halekoh, Højsgaard & Yan 2006; gee2.cc):

* ``beta``: ``sum_i D_i' R_i^{-1} r_i = 0`` with Pearson-standardised derivatives
  ``D_i`` and residuals ``r_i`` (the scale cancels);
* scale: ``phi = sum r^2 / N`` (no degrees-of-freedom correction);
* correlation: least squares of the products ``z_ijk = e_ij e_ik`` (``e = r / sqrt(phi)``)
  over all within-cluster pairs ``j < k`` on ``rho_jk(alpha)``: the pooled mean for
  exchangeable, one mean per pair of waves for unstructured and, for AR(1),
  ``rho_jk = alpha^{|t_j - t_k|}`` with the actual spacing of the waves (geepack's
  ``waves``), solved by Gauss-Newton. Clusters of size one contribute no pairs, pairs
  from clusters of size two are used like any other, and alpha may be negative when
  the spacings are whole numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ALPHA_BOUND = 0.999  # |alpha| kept below 1 so the working correlation stays invertible


@dataclass(frozen=True)
class Layout:
    """Padded (cluster, slot) layout of the sorted observations."""

    rows: np.ndarray  # (G, T) row index into the sorted data, -1 for padding
    mask: np.ndarray  # (G, T) bool
    times: np.ndarray  # (G, T) float times (0 for padding)
    levels: np.ndarray  # (G, T) time-level index (unstructured), -1 for padding
    pair_g: np.ndarray  # pairs j < k within clusters
    pair_j: np.ndarray
    pair_k: np.ndarray
    pair_dist: np.ndarray
    pair_level: np.ndarray  # index of (level_j, level_k) among the level pairs
    level_pairs: list[tuple[int, int]]


def make_layout(codes: np.ndarray, times: np.ndarray, time_levels: np.ndarray) -> Layout:
    """``codes`` (0..G-1) and ``times`` must already be sorted by (code, time)."""
    n = len(codes)
    G = int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=G)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    slot = np.arange(n) - starts[codes]
    T = int(sizes.max())
    rows = np.full((G, T), -1)
    rows[codes, slot] = np.arange(n)
    mask = rows >= 0
    tt = np.zeros((G, T))
    tt[codes, slot] = times
    lev = np.full((G, T), -1)
    lev[codes, slot] = time_levels
    ju, ku = np.triu_indices(T, k=1)
    valid = mask[:, ju] & mask[:, ku]
    pg, pidx = np.nonzero(valid)
    pj, pk = ju[pidx], ku[pidx]
    dist = np.abs(tt[pg, pk] - tt[pg, pj])
    L = int(time_levels.max()) + 1 if n else 0
    la, lb = lev[pg, pj], lev[pg, pk]
    lo, hi = np.minimum(la, lb), np.maximum(la, lb)
    code = lo * L + hi
    uniq, inv = np.unique(code, return_inverse=True)
    level_pairs = [(int(c // L), int(c % L)) for c in uniq]
    return Layout(rows, mask, tt, lev, pg, pj, pk, dist, inv, level_pairs)


def pad(values: np.ndarray, layout: Layout) -> np.ndarray:
    """Scatter per-row values (n, ...) into the (G, T, ...) layout with zeros as padding."""
    shape = layout.rows.shape + values.shape[1:]
    out = np.zeros(shape)
    out[layout.mask] = values[layout.rows[layout.mask]]
    return out


def estimate_alpha(
    e: np.ndarray, layout: Layout, cov_struct: str, alpha: np.ndarray, integer_dist: bool
) -> tuple[np.ndarray, str]:
    """Moment (least-squares) estimate of the working-correlation parameters."""
    if cov_struct == "independence":
        return np.zeros(0), ""
    z = e[layout.pair_g, layout.pair_j] * e[layout.pair_g, layout.pair_k]
    note = ""
    if cov_struct == "exchangeable":
        a = np.array([z.mean()])
    elif cov_struct == "unstructured":
        cnt = np.bincount(layout.pair_level, minlength=len(layout.level_pairs))
        a = np.bincount(layout.pair_level, weights=z, minlength=len(layout.level_pairs)) / cnt
    else:  # ar1: Gauss-Newton on sum (z - a^d)^2, with the pairs pooled by spacing
        ud, inv = np.unique(layout.pair_dist, return_inverse=True)
        zsum = np.bincount(inv, weights=z, minlength=len(ud))
        cnt = np.bincount(inv, minlength=len(ud)).astype(float)
        d = ud
        a0 = float(alpha[0]) if len(alpha) else 0.0
        if a0 == 0.0:  # start from the mean product at the shortest spacing
            m = zsum[0] / cnt[0]
            a0 = float(np.sign(m) * abs(m) ** (1.0 / d[0])) if d[0] > 0 else m
            a0 = float(np.clip(a0, -0.9, 0.9)) or 0.1
        if not integer_dist:
            a0 = max(a0, 1e-3)
        for _ in range(500):
            rho = _power(a0, d)
            E = d * _power(a0, d - 1)
            H = float(cnt @ E**2)
            if H <= 0:
                break
            step = float(E @ (zsum - cnt * rho)) / H
            a1 = a0 + step
            if not integer_dist and a1 < 0:
                a1 = 0.0
                note = "AR(1) alpha held at 0 (negative correlation needs whole-number spacings)"
            a1 = float(np.clip(a1, -ALPHA_BOUND, ALPHA_BOUND))
            done = abs(a1 - a0) < 1e-15
            a0 = a1
            if done:
                break
        a = np.array([a0])
    if np.any(np.abs(a) >= ALPHA_BOUND):
        note = f"working correlation bounded at +/-{ALPHA_BOUND}"
    return np.clip(a, -ALPHA_BOUND, ALPHA_BOUND), note


def _power(a: float, d: np.ndarray) -> np.ndarray:
    """``a ** d`` elementwise, defined for negative ``a`` with whole-number ``d``."""
    if a == 0.0:
        return (d == 0).astype(float)
    return np.sign(a) ** np.round(d) * np.abs(a) ** d if a < 0 else a**d


def working_corr(layout: Layout, cov_struct: str, alpha: np.ndarray) -> np.ndarray:
    """Batched working correlation matrices (G, T, T); padding rows/cols are identity."""
    G, T = layout.rows.shape
    R = np.broadcast_to(np.eye(T), (G, T, T)).copy()
    if cov_struct == "independence" or len(layout.pair_g) == 0:
        return R
    if cov_struct == "exchangeable":
        rho = np.full(len(layout.pair_g), alpha[0])
    elif cov_struct == "unstructured":
        rho = alpha[layout.pair_level]
    else:
        rho = _power(float(alpha[0]), layout.pair_dist)
    R[layout.pair_g, layout.pair_j, layout.pair_k] = rho
    R[layout.pair_g, layout.pair_k, layout.pair_j] = rho
    return R


def scores_and_bread(
    Dp: np.ndarray, rp: np.ndarray, Rinv: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``A = sum_i D_i' R_i^{-1} D_i`` and cluster scores ``U_i = D_i' R_i^{-1} r_i``."""
    RD = np.einsum("gts,gsq->gtq", Rinv, Dp)
    A = np.einsum("gtp,gtq->pq", Dp, RD)
    U = np.einsum("gtp,gt->gp", RD, rp)
    return A, U


def mancl_derouen_scores(
    Dp: np.ndarray, rp: np.ndarray, Rinv: np.ndarray, Ainv: np.ndarray
) -> np.ndarray:
    """Bias-reduced scores ``D_i' R_i^{-1} (I - H_ii)^{-1} r_i``, ``H_ii = D_i A^{-1} D_i' R_i^{-1}``."""
    T = Dp.shape[1]
    H = np.einsum("gtp,pq,gsq->gts", Dp, Ainv, Dp) @ Rinv
    adj = np.linalg.solve(np.eye(T)[None] - H, rp[..., None])[..., 0]
    RD = np.einsum("gts,gsq->gtq", Rinv, Dp)
    return np.einsum("gtp,gt->gp", RD, adj)
