"""Least squares: the one OLS fitter of the package, for one fit and for a batch of fits.

Every linear regression the package computes itself (power simulation, the sample
cohort's truth, causal mediation and its sensitivity analysis, the product-of-coefficients
mediation engine, and the IRLS steps of :mod:`.glm`) goes through this module, so one
numerical recipe and one collinearity rule hold everywhere:

* **Normal equations, scaled.** The cross-product matrix ``A = X' W X`` is scaled to unit
  diagonal, ``A_s = D^{-1/2} A D^{-1/2}``, and factorised by Cholesky.
* **One collinearity rule.** A fit fails when a squared Cholesky pivot of ``A_s`` falls
  below :data:`RIDGE_FLOOR` (``1e-10``): some regressor has ``1 - R^2 < 1e-10`` on the
  others. A single fit raises :class:`~mutualaid_outcomes.errors.EstimationError`; a batch
  marks that fit as failed (``ok`` false, coefficients NaN) and carries on.
* **Accuracy.** A single fit whose smallest pivot is below :data:`REFINE_BELOW` (``1e-6``,
  i.e. the scaled condition number exceeds about ``1e6``) re-solves by least squares on
  the data (:func:`numpy.linalg.lstsq`, SVD), which does not square the condition number.

Batches are sets of weight vectors over the same rows (bootstrap counts, leave-one-out
indicators): :class:`Packer` packs the ``d (d + 1) / 2`` distinct products of each row of
``[1, Z]`` so that the cross products of every weight vector come from one matrix product,
and :func:`sweep` (Goodnight 1979) turns them into regression coefficients in place.

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
>>> x1 = np.c_[np.ones(30), z[:, 0]]
>>> fit = fit_ols(x1, z[:, 1])
>>> bool(np.allclose(fit.beta, ref))
True
>>> beta, sigma, ok = fit_ols_batched(x1, z[:, 1], np.ones((2, 30)))
>>> bool(np.allclose(beta[1], ref) and ok.all())
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve

from ...errors import EstimationError

__all__ = [
    "RIDGE_FLOOR",
    "REFINE_BELOW",
    "OLSFit",
    "Packer",
    "chol_ok",
    "fit_ols",
    "fit_ols_batched",
    "group_sum",
    "solve_batched",
    "solve_normal",
    "sweep",
]

#: A fit fails (singular or collinear system) when, after scaling its cross-product
#: matrix to unit diagonal, a squared Cholesky pivot falls below this value, i.e. some
#: regressor has 1 - R^2 < 1e-10 on the others.
RIDGE_FLOOR = 1e-10
#: A single fit whose smallest squared pivot is below this value (scaled condition number
#: above about 1e6) is re-solved by least squares on the data instead of the normal
#: equations, so that ill-conditioned designs lose no accuracy.
REFINE_BELOW = 1e-6


# --------------------------------------------------------------------------- one fit


@dataclass(frozen=True, eq=False)
class OLSFit:
    """Least-squares fit of one or several responses on the same design.

    Attributes
    ----------
    beta : numpy.ndarray
        ``(p,)`` coefficients, or ``(p, k)`` for ``k`` response columns.
    xtx_inv : numpy.ndarray
        ``(p, p)`` inverse of the (weighted) cross-product matrix ``(X' W X)^{-1}``.
    rss : numpy.ndarray
        Weighted residual sum of squares, scalar or ``(k,)``.
    df_resid : float
        ``sum(w) - p`` (``n - p`` without weights).
    min_pivot : float
        Smallest squared Cholesky pivot of the unit-diagonal cross-product matrix.
    """

    beta: np.ndarray
    xtx_inv: np.ndarray
    rss: np.ndarray
    df_resid: float
    min_pivot: float

    @property
    def sigma2(self) -> np.ndarray:
        """Residual variance ``rss / df_resid`` (NaN without residual degrees of freedom)."""
        if self.df_resid <= 0:
            return np.full(np.shape(self.rss), np.nan)
        return self.rss / self.df_resid

    @property
    def std_errors(self) -> np.ndarray:
        """Model-based standard errors, ``(p,)`` or ``(p, k)``."""
        d = np.diag(self.xtx_inv)
        s2 = self.sigma2
        return np.sqrt(d * s2) if np.ndim(s2) == 0 else np.sqrt(np.outer(d, s2))


def solve_normal(a: np.ndarray, rhs: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Solve the normal equations ``a beta = rhs`` through the unit-diagonal Cholesky factor.

    Returns ``beta = a^{-1} rhs``, ``a^{-1}`` and the smallest squared pivot of the scaled
    factor (0 when ``a`` is not numerically positive definite; ``beta`` and ``a^{-1}`` are
    then NaN). The caller applies :data:`RIDGE_FLOOR`.
    """
    p = a.shape[0]
    sc = np.sqrt(np.diag(a))
    if not np.all(sc > 0):
        nan = np.full((p, p), np.nan)
        return nan @ rhs, nan, 0.0
    try:
        chol = np.linalg.cholesky(a / np.outer(sc, sc))
    except np.linalg.LinAlgError:
        nan = np.full((p, p), np.nan)
        return nan @ rhs, nan, 0.0
    piv = float(np.min(np.diag(chol) ** 2))
    inv = cho_solve((chol, True), np.eye(p)) / np.outer(sc, sc)
    return inv @ rhs, inv, piv


def fit_ols(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None, *, what: str = "regression"
) -> OLSFit:
    """Weighted least squares of ``y`` (``(n,)`` or ``(n, k)``) on ``x`` (``(n, p)``).

    ``weights`` are case (frequency) weights: they multiply each row's contribution and
    ``df_resid = sum(weights) - p``.

    Raises
    ------
    EstimationError
        If the design is collinear by the module's rule (:data:`RIDGE_FLOOR`);
        ``what`` names the regression in the message.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    xw = x if weights is None else x * weights[:, None]
    a = xw.T @ x
    beta, inv, piv = solve_normal(a, xw.T @ y)
    if piv < RIDGE_FLOOR:
        raise EstimationError(
            f"The {what} is singular or nearly so (a regressor has 1 - R^2 < "
            f"{RIDGE_FLOOR:g} on the others); remove collinear or constant columns."
        )
    if piv < REFINE_BELOW:
        if weights is None:
            beta = np.linalg.lstsq(x, y, rcond=None)[0]
        else:
            sw = np.sqrt(weights)
            yw = y * (sw if y.ndim == 1 else sw[:, None])
            beta = np.linalg.lstsq(x * sw[:, None], yw, rcond=None)[0]
    resid = y - x @ beta
    r2 = resid**2 if weights is None else resid**2 * (weights if y.ndim == 1 else weights[:, None])
    n_eff = float(len(x) if weights is None else np.sum(weights))
    return OLSFit(
        beta=beta,
        xtx_inv=inv,
        rss=r2.sum(axis=0),
        df_resid=n_eff - x.shape[1],
        min_pivot=piv,
    )


# --------------------------------------------------------------------------- batches


class Packer:
    """Packs row-wise products of ``[1, Z]`` and unpacks weighted sums into matrices.

    Parameters
    ----------
    z : numpy.ndarray
        ``(n, p)`` data; column 0 of the packed design is the intercept, column ``j + 1``
        is ``z[:, j]``.
    intercept : bool
        Prepend the column of ones (default). With ``False`` the columns of ``z`` are
        packed as they are (a design that already holds its intercept).
    """

    def __init__(self, z: np.ndarray, intercept: bool = True) -> None:
        zt = np.asarray(z, dtype=float).T
        z1t = np.vstack([np.ones(zt.shape[1]), zt]) if intercept else zt
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

    def gram(self, weights: np.ndarray) -> np.ndarray:
        """``(m, d, d)`` weighted cross-product matrices for ``(m, n)`` weights."""
        return self.unpack(self.cross(weights))

    def total(self) -> np.ndarray:
        """Packed cross products of the full data (all weights one)."""
        return self.packed_t.sum(axis=1)


def chol_ok(a: np.ndarray) -> np.ndarray:
    """Which unit-diagonal matrices of the batch ``a`` pass the :data:`RIDGE_FLOOR` rule."""
    m = a.shape[0]
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


def solve_batched(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``a[s] x[s] = b[s]`` for a batch of symmetric positive definite systems.

    Each ``a[s]`` is scaled to unit diagonal and checked by :func:`chol_ok`; systems that
    fail the collinearity rule get ``x[s] = 0`` and ``ok[s] = False``.
    """
    eye = np.eye(a.shape[1])
    scale = np.sqrt(np.diagonal(a, axis1=1, axis2=2))
    good = np.all(scale > 0, axis=1) & np.all(np.isfinite(scale), axis=1)
    scale = np.where(good[:, None], scale, 1.0)
    a_s = a / (scale[:, :, None] * scale[:, None, :])
    a_s = np.where(good[:, None, None], a_s, eye)
    ok = good & chol_ok(a_s)
    a_s = np.where(ok[:, None, None], a_s, eye)
    x = np.linalg.solve(a_s, (b / scale)[:, :, None])[:, :, 0] / scale
    x[~ok] = 0.0
    return x, ok


def fit_ols_batched(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One weighted least-squares fit per row of ``weights`` (``(S, n)``).

    Returns ``beta`` ``(S, p)`` (NaN where a fit failed), the residual SD ``sigma``
    ``(S,)`` with ``sum(w) - p`` degrees of freedom, and the success mask ``ok``
    (collinearity rule of the module, finite results, positive residual df).
    """
    packer = Packer(x, intercept=False)
    beta, ok = solve_batched(packer.gram(weights), weights @ (x * y[:, None]))
    resid = y[None, :] - beta @ x.T
    df = weights.sum(axis=1) - x.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma = np.sqrt((weights * resid**2).sum(axis=1) / df)
    ok &= np.isfinite(beta).all(axis=1) & np.isfinite(sigma) & (df > 0)
    beta[~ok] = np.nan
    return beta, sigma, ok


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


def group_sum(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the rows of ``values`` within each group code 0..n_groups-1 (sorted reduce)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.searchsorted(sorted_groups, np.arange(n_groups))
    return np.add.reduceat(values[order], starts, axis=0)
