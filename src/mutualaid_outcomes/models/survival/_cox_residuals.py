"""Score residuals, the robust (dfbeta) variance and the zph score of a Cox model.

Everything is O(N p) after the sort in :class:`~._coxph.CoxData`: the per-row sums over
the event times at which a row is at risk are differences of one cumulative sum over
event times (as R's ``coxscore``/``agscore``), and cluster totals are ``bincount``s.
"""

from __future__ import annotations

import numpy as np

from ._coxph import CoxData, pieces, solve_psd, step_info

__all__ = ["score_residuals", "robust_variance", "robust_score_test", "zph_score"]


def score_residuals(cd: CoxData, beta: np.ndarray) -> np.ndarray:
    """Per-row score residuals (unweighted, p x n, sorted order), as R ``type = "score"``.

    Their weighted sum is the score vector. For row ``i`` with risk score ``r_i``:
    ``-r_i sum_k h_k (x_i - xbar_k)`` over the steps ``k`` at which it is at risk, the
    Efron fraction of its own death time removed, plus ``x_i - mean_k xbar_k`` over the
    steps of its death time if it dies.
    """
    pc = pieces(cd, beta, info=False)
    f = cd.step_f
    h = cd.step_w / pc.denom
    xbar = pc.xbar
    xc = cd.xc
    dead, jd = cd.dead_pos, cd.dead_j
    risk = xc * cd.row_sums(cd.per_time(h))
    risk -= cd.row_sums(cd.per_time(xbar * h))
    fh = f * h
    risk[:, dead] -= xc[:, dead] * cd.per_time(fh)[jd] - cd.per_time(xbar * fh)[:, jd]
    resid = risk
    resid *= -pc.r
    xbar_mean = cd.per_time(xbar) / cd.step_count
    resid[:, dead] += xc[:, dead] - xbar_mean[:, jd]
    return resid


def collapse(values: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sum the columns of ``values`` (p, n) within clusters (integer codes) -> (p, G)."""
    if cluster is None:
        return values
    g = int(cluster.max()) + 1 if len(cluster) else 0
    return np.vstack([np.bincount(cluster, weights=row, minlength=g) for row in values])


def _sorted_cluster(cd: CoxData, cluster: np.ndarray | None) -> np.ndarray | None:
    """Cluster codes given in the caller's row order, put in the engine's sorted order."""
    return None if cluster is None else np.asarray(cluster)[cd.order]


def robust_variance(
    cd: CoxData, beta: np.ndarray, var: np.ndarray, cluster: np.ndarray | None
) -> np.ndarray:
    """Sandwich variance ``D'D`` from weighted dfbeta residuals collapsed by cluster.

    ``cluster`` holds integer codes in the caller's row order (None: one row each).
    """
    resid = score_residuals(cd, beta)
    resid *= cd.weights
    d = collapse(var @ resid, _sorted_cluster(cd, cluster))
    return d @ d.T


def robust_score_test(cd: CoxData, cluster: np.ndarray | None) -> float:
    """R's robust score test at beta = 0."""
    resid = score_residuals(cd, np.zeros(cd.p))
    resid *= cd.weights
    resid = collapse(resid, _sorted_cluster(cd, cluster))
    u = resid.sum(axis=1)
    inv, _ = solve_psd(resid @ resid.T)
    return float(u @ inv @ u)


def zph_score(cd: CoxData, beta: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score for ``x * g(t)`` and the 2p x 2p information at (beta, 0), as R zph1/zph2.

    ``g`` holds one value per event time (``cd.n_times``).
    """
    pc = pieces(cd, beta)
    w = cd.step_w
    gs = g[cd.step_j]
    dead = cd.dead_pos
    u2 = cd.xc[:, dead] @ (cd.weights[dead] * g[cd.dead_j]) - pc.xbar @ (w * gs)
    i11 = pc.info
    i12 = step_info(cd, pc, w * gs)
    i22 = step_info(cd, pc, w * gs * gs)
    imat = np.block([[i11, i12], [i12.T, i22]])
    return u2, imat
