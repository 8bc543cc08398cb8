"""Many weighted regressions at once through packed cross-product matrices.

Every equation of a mediation model regresses one column of a common matrix
``Z`` on an intercept and other columns of ``Z``. With resampling weights
``w_b`` (bootstrap counts, or leave-one-out indicators) the normal equations of
every equation are blocks of ``Z1' diag(w_b) Z1`` with ``Z1 = [1, Z]``. Packing the
``d (d + 1) / 2`` distinct products of each row of ``Z1`` into a matrix ``P`` gives all
``B`` cross-product matrices from one matrix product ``W @ P``; no loop over
resamples is needed.

Columns are centred and scaled on the full data before packing, which keeps the
cross products well conditioned; coefficients are returned on that scale and the
caller converts them back.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> z = rng.normal(size=(30, 2))
>>> z[:, 1] += 2 * z[:, 0]
>>> packer = Packer(z)
>>> S = packer.unpack(packer.cross(np.ones((1, 30))))
>>> ok = np.ones(1, dtype=bool)
>>> diag0 = np.diagonal(S, axis1=1, axis2=2).copy()
>>> for k in (0, 1):
...     sweep(S, k, diag0, ok)
>>> ref = np.linalg.lstsq(np.c_[np.ones(30), z[:, 0]], z[:, 1], rcond=None)[0]
>>> bool(np.allclose(S[0, :2, 2], ref) and ok.all())
True
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

__all__ = [
    "Packer",
    "fit_logit",
    "logit_one_step_jackknife",
    "group_sum",
    "RIDGE_FLOOR",
]

#: An equation fails (singular or collinear system) when, after scaling its cross-product
#: matrix to unit diagonal, a squared Cholesky pivot falls below this value, i.e. some
#: regressor has 1 - R^2 < 1e-10 on the others in that resample.
RIDGE_FLOOR = 1e-10


class Packer:
    """Packs row-wise products of ``[1, Z]`` and unpacks weighted sums into matrices.

    Parameters
    ----------
    z : numpy.ndarray
        ``(n, p)`` data; column 0 of the packed design is the intercept, column ``j + 1``
        is ``z[:, j]``.
    """

    def __init__(self, z: np.ndarray) -> None:
        z1t = np.vstack([np.ones(len(z)), np.asarray(z, dtype=float).T])
        self.d = z1t.shape[0]
        self.iu, self.ju = np.triu_indices(self.d)
        # (q, n) layout: ``packed_t @ weights.T`` is many times faster than
        # ``weights @ packed`` when n is large (contiguous inner dimension for BLAS).
        self.packed_t = z1t[self.iu] * z1t[self.ju]

    @property
    def packed(self) -> np.ndarray:
        """``(n, q)`` view of the packed products (row i: products of row i of ``[1, Z]``)."""
        return self.packed_t.T

    def cross(self, weights: np.ndarray) -> np.ndarray:
        """Packed weighted cross products ``(m, q)`` for ``(m, n)`` weights."""
        return (self.packed_t @ np.asarray(weights, dtype=float).T).T

    def unpack(self, c: np.ndarray) -> np.ndarray:
        """Turn ``(m, d (d + 1) / 2)`` packed sums into ``(m, d, d)`` symmetric matrices."""
        c = np.atleast_2d(c)
        s = np.empty((c.shape[0], self.d, self.d))
        s[:, self.iu, self.ju] = c
        s[:, self.ju, self.iu] = c
        return s

    def total(self) -> np.ndarray:
        """Packed cross products of the full data (all weights one)."""
        return self.packed_t.sum(axis=1)


def _chol_ok(a: np.ndarray) -> np.ndarray:
    """Which unit-diagonal matrices are numerically positive definite."""
    m, p, _ = a.shape
    ok = np.zeros(m, dtype=bool)
    try:
        chol = np.linalg.cholesky(a)
        piv = np.diagonal(chol, axis1=1, axis2=2) ** 2
        return np.all(piv > RIDGE_FLOOR, axis=1)
    except np.linalg.LinAlgError:
        for i in range(m):
            try:
                chol = np.linalg.cholesky(a[i])
            except np.linalg.LinAlgError:
                continue
            ok[i] = bool(np.all(np.diag(chol) ** 2 > RIDGE_FLOOR))
    return ok


def sweep(a: np.ndarray, k: int, diag0: np.ndarray, ok: np.ndarray, tail: bool = False) -> None:
    """Sweep every matrix of the batch ``a`` (m, d, d) on pivot ``k``, in place.

    After sweeping a set ``K`` of pivots, ``a[:, K, j]`` holds the least-squares
    coefficients of variable ``j`` regressed on the variables ``K`` (Goodnight 1979).
    ``ok`` is updated: a matrix fails when its pivot, relative to the original diagonal
    ``diag0[:, k]``, is below :data:`RIDGE_FLOOR` (``1 - R^2`` of variable ``k`` on the
    variables swept before it); failed matrices get a unit pivot and must be discarded.
    With ``tail=True`` (pivots swept in the order 0, 1, 2, ...) only columns ``k`` and
    later are updated -- the ones still needed for coefficients -- which halves the work.
    """
    piv = a[:, k, k].copy()
    good = piv > RIDGE_FLOOR * diag0[:, k]
    ok &= good
    piv = np.where(good, piv, 1.0)
    first = k if tail else 0
    row = a[:, k, first:] / piv[:, None]
    col = a[:, :, k].copy()
    a[:, :, first:] -= col[:, :, None] * row[:, None, :]
    a[:, k, first:] = row
    a[:, :, k] = -col / piv[:, None]
    a[:, k, k] = -1.0 / piv


def fit_logit(
    x1: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    start: np.ndarray,
    max_iter: int = 50,
    tol: float = 1e-10,
) -> tuple[np.ndarray, np.ndarray]:
    """Newton-Raphson logistic regressions for a batch of weight vectors.

    Parameters
    ----------
    x1 : numpy.ndarray
        ``(n, p)`` design including the intercept column.
    y : numpy.ndarray
        ``(n,)`` 0/1 outcome.
    weights : numpy.ndarray
        ``(m, n)`` case weights (bootstrap counts).
    start : numpy.ndarray
        ``(p,)`` or ``(m, p)`` starting values (the full-data fit).
    max_iter : int
        Maximum Newton steps.
    tol : float
        Convergence when the largest absolute step is below ``tol``.

    Returns
    -------
    coef : numpy.ndarray
        ``(m, p)``; NaN where the fit failed (no convergence, e.g. separation, or a
        singular information matrix).
    ok : numpy.ndarray
        ``(m,)`` booleans.
    """
    packer = Packer(x1[:, 1:])
    m = weights.shape[0]
    beta = np.broadcast_to(np.asarray(start, dtype=float), (m, x1.shape[1])).copy()
    active = np.ones(m, dtype=bool)
    conv = np.zeros(m, dtype=bool)
    failed = np.zeros(m, dtype=bool)
    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        w = weights[rows]
        mu = expit(beta[rows] @ x1.T)
        h = packer.unpack(packer.cross(w * (mu * (1 - mu))))
        g = (w * (y - mu)) @ x1
        scale = np.sqrt(np.diagonal(h, axis1=1, axis2=2))
        good = np.all(scale > 0, axis=1)
        scale = np.where(scale > 0, scale, 1.0)
        hs = h / (scale[:, :, None] * scale[:, None, :])
        ok = good & _chol_ok(np.where(good[:, None, None], hs, np.eye(h.shape[1])))
        hs = np.where(ok[:, None, None], hs, np.eye(h.shape[1]))
        step = np.linalg.solve(hs, (g / scale)[:, :, None])[:, :, 0] / scale
        step[~ok] = 0.0
        beta[rows] += step
        bad = ~ok | ~np.all(np.isfinite(beta[rows]), axis=1)
        done = ok & (np.max(np.abs(step), axis=1) < tol)
        failed[rows[bad]] = True
        conv[rows[done & ~bad]] = True
        active[rows[bad | done]] = False
    ok = conv & ~failed
    beta[~ok] = np.nan
    return beta, ok


def logit_one_step_jackknife(
    x1: np.ndarray, y: np.ndarray, beta: np.ndarray, groups: np.ndarray | None = None
) -> np.ndarray:
    """One-step Newton approximation of leave-one-out (or leave-one-group-out) logit fits.

    ``beta_(-g) = beta - H_(-g)^{-1} sum_{i in g} x_i (y_i - mu_i)`` with
    ``H_(-g) = sum_{i not in g} mu_i (1 - mu_i) x_i x_i'``, starting from the full fit.

    Parameters
    ----------
    x1 : numpy.ndarray
        ``(n, p)`` design with intercept.
    y : numpy.ndarray
        ``(n,)`` 0/1 outcome.
    beta : numpy.ndarray
        ``(p,)`` full-data estimate.
    groups : numpy.ndarray, optional
        Integer group codes 0..G-1 (cluster jackknife); rows by default.

    Returns
    -------
    numpy.ndarray
        ``(G, p)`` approximate leave-out estimates (NaN where singular).
    """
    packer = Packer(x1[:, 1:])
    mu = expit(x1 @ beta)
    vp = packer.packed * (mu * (1 - mu))[:, None]
    score = x1 * (y - mu)[:, None]
    if groups is not None:
        n_groups = int(groups.max()) + 1
        vp = group_sum(vp, groups, n_groups)
        score = group_sum(score, groups, n_groups)
    h = packer.unpack(vp.sum(axis=0) - vp)
    scale = np.sqrt(np.diagonal(h, axis1=1, axis2=2))
    hs = h / (scale[:, :, None] * scale[:, None, :])
    ok = _chol_ok(hs)
    hs = np.where(ok[:, None, None], hs, np.eye(h.shape[1]))
    step = np.linalg.solve(hs, (score / scale)[:, :, None])[:, :, 0] / scale
    out = beta - step
    out[~ok] = np.nan
    return out


def group_sum(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the rows of ``values`` within each group code 0..n_groups-1 (sorted reduce)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, np.arange(n_groups))
    return np.add.reduceat(values[order], starts, axis=0)
