"""Profiled (RE)ML deviance of a linear mixed model with one grouping factor.

The numerics follow lme4 (Bates, Mächler, Bolker & Walker 2015, sections 3.2-3.6): the
random effects are ``b = Lambda(theta) u`` with ``u ~ N(0, sigma^2 I)``, and for each
relative covariance parameter vector ``theta`` the penalised least-squares problem
``min ||y - X beta - Z Lambda u||^2 + ||u||^2`` is solved through the Cholesky factor of

    [ Lambda'Z'Z Lambda + I   Lambda'Z'X ]
    [ X'Z Lambda              X'X        ]

With a single grouping factor ``Lambda'Z'Z Lambda + I`` is block diagonal with one
``q x q`` block per group, so every quantity is a batched ``(G, q, q)`` array operation
on per-group sufficient statistics (``Z_g'Z_g``, ``Z_g'X_g``, ``Z_g'y_g``) gathered once
with ``bincount``: a deviance evaluation costs ``O(G q^3 + G q^2 p + p^3)``, independent
of the number of rows and with no Python loop over groups. ``sigma`` and ``beta`` are
profiled out, and the gradient of the profiled deviance with respect to ``theta`` is
analytic (matrix-derivative identities for ``log|V|``, ``log|X'V^-1 X|`` and the GLS
residual sum of squares, with ``V = I + Z Lambda Lambda' Z'``), so a bounded
quasi-Newton optimiser over ``theta`` alone reaches the optimum to machine precision.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

__all__ = [
    "GroupStats",
    "group_stats",
    "theta_lower",
    "make_lambda",
    "PLSFit",
    "pls",
    "optimise_theta",
]


@dataclass(frozen=True)
class GroupStats:
    """Per-group sufficient statistics of a linear mixed model."""

    ZtZ: np.ndarray  # (G, q, q)
    ZtX: np.ndarray  # (G, q, p)
    Zty: np.ndarray  # (G, q)
    XtX: np.ndarray  # (p, p)
    Xty: np.ndarray  # (p,)
    yty: float
    n: int

    @property
    def q(self) -> int:
        return int(self.ZtZ.shape[1])

    @property
    def p(self) -> int:
        return int(self.XtX.shape[0])


def group_sums(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Column sums of ``values`` (n, k) within groups: (G, k), by one bincount per column."""
    out = np.empty((n_groups, values.shape[1]))
    for j in range(values.shape[1]):  # loop over columns, not groups
        out[:, j] = np.bincount(codes, weights=values[:, j], minlength=n_groups)
    return out


def group_stats(
    codes: np.ndarray, X: np.ndarray, Z: np.ndarray, y: np.ndarray, n_groups: int
) -> GroupStats:
    """Gather the sufficient statistics of the blocked PLS problem."""
    n, p = X.shape
    q = Z.shape[1]
    ZZ = (Z[:, :, None] * Z[:, None, :]).reshape(n, q * q)
    ZX = (Z[:, :, None] * X[:, None, :]).reshape(n, q * p)
    Zy = Z * y[:, None]
    return GroupStats(
        ZtZ=group_sums(codes, ZZ, n_groups).reshape(n_groups, q, q),
        ZtX=group_sums(codes, ZX, n_groups).reshape(n_groups, q, p),
        Zty=group_sums(codes, Zy, n_groups),
        XtX=X.T @ X,
        Xty=X.T @ y,
        yty=float(y @ y),
        n=n,
    )


def theta_index(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row and column indices of theta in the lower triangle of Lambda (column-major, as lme4)."""
    cols, rows = np.triu_indices(q)
    return rows, cols


def theta_lower(q: int) -> np.ndarray:
    """Lower bounds of theta: 0 for the diagonal of Lambda, -inf below it (lme4)."""
    rows, cols = theta_index(q)
    return np.where(rows == cols, 0.0, -np.inf)


def theta_start(q: int) -> np.ndarray:
    """lme4's start: Lambda = I."""
    rows, cols = theta_index(q)
    return np.where(rows == cols, 1.0, 0.0)


def make_lambda(theta: np.ndarray, q: int) -> np.ndarray:
    """Lower-triangular relative covariance factor Lambda(theta)."""
    lam = np.zeros((q, q))
    rows, cols = theta_index(q)
    lam[rows, cols] = theta
    return lam


@dataclass(frozen=True)
class PLSFit:
    """The PLS solution at one theta."""

    deviance: float
    gradient: np.ndarray
    beta: np.ndarray
    u: np.ndarray  # (G, q) spherical conditional modes
    r2: float  # penalised residual sum of squares
    RXtRX: np.ndarray
    ldL2: float
    ldRX2: float


def _chol_solve_batched(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L x = B`` for a batch of small lower-triangular ``L`` (G, q, q)."""
    if L.shape[1] == 1:
        return B / L[:, :1, :1] if B.ndim == 3 else B / L[:, 0, :1]
    if B.ndim == 2:
        return np.linalg.solve(L, B[:, :, None])[:, :, 0]
    return np.linalg.solve(L, B)


def pls(theta: np.ndarray, st: GroupStats, reml: bool, gradient: bool = True) -> PLSFit:
    """Solve the PLS problem at ``theta`` and return the profiled deviance (and gradient)."""
    q, p, n = st.q, st.p, st.n
    lam = make_lambda(np.asarray(theta, dtype=float), q)
    lt = lam.T
    A = lt @ st.ZtZ @ lam + np.eye(q)
    L = np.linalg.cholesky(A)
    RZX = _chol_solve_batched(L, lt @ st.ZtX)  # (G, q, p)
    cu = _chol_solve_batched(L, st.Zty @ lam)  # (G, q)
    RXtRX = st.XtX - np.einsum("gqp,gqr->pr", RZX, RZX)
    RX = linalg.cholesky(RXtRX, lower=True)
    rhs = st.Xty - np.einsum("gqp,gq->p", RZX, cu)
    cbeta = linalg.solve_triangular(RX, rhs, lower=True)
    beta = linalg.solve_triangular(RX.T, cbeta, lower=False)
    r2 = st.yty - float(np.sum(cu * cu)) - float(cbeta @ cbeta)
    r2 = max(r2, 0.0)
    ldL2 = 2.0 * float(np.sum(np.log(np.diagonal(L, axis1=1, axis2=2))))
    ldRX2 = 2.0 * float(np.sum(np.log(np.diag(RX))))
    n_eff = n - p if reml else n
    with np.errstate(divide="ignore"):
        dev = ldL2 + n_eff * (1.0 + np.log(2.0 * np.pi * r2 / n_eff))
    if reml:
        dev += ldRX2
    cv = cu - RZX @ beta  # L' u = cu - RZX beta
    u = _back_solve_batched(L, cv)
    grad = np.zeros(len(theta))
    if gradient and r2 > 0:
        grad = _gradient(st, lam, L, RZX, cv, beta, RX, r2, n_eff, reml)
    return PLSFit(float(dev), grad, beta, u, r2, RXtRX, ldL2, ldRX2)


def _back_solve_batched(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Solve ``L' x = b`` for a batch of lower-triangular ``L``."""
    if L.shape[1] == 1:
        return b / L[:, 0, :1]
    return np.linalg.solve(np.swapaxes(L, 1, 2), b[:, :, None])[:, :, 0]


def _gradient(
    st: GroupStats,
    lam: np.ndarray,
    L: np.ndarray,
    RZX: np.ndarray,
    cv: np.ndarray,
    beta: np.ndarray,
    RX: np.ndarray,
    r2: float,
    n_eff: int,
    reml: bool,
) -> np.ndarray:
    """Analytic gradient of the profiled deviance with respect to theta.

    With ``D = Lambda Lambda'`` and ``V_g = I + Z_g D Z_g'``, the derivative of the
    deviance with respect to ``D`` is ``S = sum_g [Z_g'V_g^-1 Z_g - T_g C T_g'
    - (n_eff / r2) s_g s_g']`` (the middle term for REML only), where
    ``T_g = Z_g'V_g^-1 X_g``, ``C = (X'V^-1 X)^-1`` and ``s_g = Z_g'V_g^-1 (y_g - X_g beta)``;
    then ``d dev / d Lambda = 2 S Lambda`` restricted to the lower triangle.
    """
    q = lam.shape[0]
    W = _chol_solve_batched(L, lam.T @ st.ZtZ)  # L^-1 Lambda' M_g  (G, q, q)
    WT = np.swapaxes(W, 1, 2)
    S = np.sum(st.ZtZ, axis=0) - np.einsum("gkq,gkr->qr", W, W)
    ztr = st.Zty - st.ZtX @ beta  # Z_g'(y_g - X_g beta)
    s = ztr - (WT @ cv[:, :, None])[:, :, 0]
    S -= (n_eff / r2) * (s.T @ s)
    if reml:
        T = st.ZtX - WT @ RZX  # (G, q, p)
        RXinv = linalg.solve_triangular(RX, np.eye(RX.shape[0]), lower=True)
        TR = T @ RXinv.T  # T C T' = (T RX^-T)(T RX^-T)'
        S -= np.einsum("gqk,grk->qr", TR, TR)
    G = 2.0 * S @ lam
    rows, cols = theta_index(q)
    return np.asarray(G[rows, cols])


def optimise_theta(
    st: GroupStats, reml: bool, max_iter: int, theta0: np.ndarray | None = None
) -> tuple[np.ndarray, bool, str, int]:
    """Minimise the profiled deviance over theta (L-BFGS-B with the analytic gradient).

    Returns theta, whether the optimiser converged, its message and the number of
    deviance evaluations.
    """
    q = st.q
    x0 = theta_start(q) if theta0 is None else np.asarray(theta0, dtype=float)
    lower = theta_lower(q)
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]

    def fun(th: np.ndarray) -> tuple[float, np.ndarray]:
        f = pls(th, st, reml)
        return f.deviance, f.gradient

    opts = {"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-10, "maxcor": 20}
    res = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
    nfev = int(res.nfev)
    # The deviance is flat in a diagonal element of Lambda at zero (its gradient is
    # proportional to it), so a first step onto the bound can stall there. Restart from
    # small positive values and keep the better optimum (bobyqa does not stall this way).
    diag = np.isfinite(lower) & (res.x <= 1e-8)
    for start in (0.1, 1e-3) if np.any(diag) else ():
        x1 = np.where(diag, start, res.x)
        alt = optimize.minimize(fun, x1, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
        nfev += int(alt.nfev)
        if alt.fun < res.fun - 1e-10 * max(1.0, abs(res.fun)):
            res = alt
            break
    theta = np.asarray(res.x, dtype=float)
    converged = bool(res.success) or _at_stationary_point(theta, st, reml, lower)
    return theta, converged, str(res.message), nfev


def _at_stationary_point(theta: np.ndarray, st: GroupStats, reml: bool, lower: np.ndarray) -> bool:
    """Whether the projected gradient is negligible (L-BFGS-B may stop on precision loss)."""
    f = pls(theta, st, reml)
    g = f.gradient.copy()
    at_bound = (theta <= lower + 1e-12) & (g > 0)
    g[at_bound] = 0.0
    return bool(np.max(np.abs(g), initial=0.0) <= 1e-5 * max(1.0, abs(f.deviance)) ** 0.5)
