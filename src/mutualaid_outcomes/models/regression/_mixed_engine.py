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
from functools import cached_property

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
    "no_pooling_rss",
]


@dataclass(frozen=True, eq=False)
class GroupStats:
    """Per-group sufficient statistics of a linear mixed model."""

    ZtZ: np.ndarray  # (G, q, q)
    ZtX: np.ndarray  # (G, q, p)
    Zty: np.ndarray  # (G, q)
    XtX: np.ndarray  # (p, p)
    Xty: np.ndarray  # (p,)
    yty: float
    n: int

    @cached_property
    def ZtZ_(self) -> np.ndarray:
        """``ZtZ`` on the (q, q, G) layout."""
        return np.ascontiguousarray(np.moveaxis(self.ZtZ, 0, 2))

    @cached_property
    def ZtX_(self) -> np.ndarray:
        """``ZtX`` on the (q, p, G) layout."""
        return np.ascontiguousarray(np.moveaxis(self.ZtX, 0, 2))

    @cached_property
    def Zty_(self) -> np.ndarray:
        """``Zty`` on the (q, G) layout."""
        return np.ascontiguousarray(self.Zty.T)

    @cached_property
    def ZtZ_sum(self) -> np.ndarray:
        """``sum_g Z_g'Z_g``."""
        return np.asarray(self.ZtZ.sum(axis=0))

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


# Batched small-matrix algebra on a "structure of arrays" layout: a stack of G q x k
# matrices is an array (q, k, G), so every step is a vector operation over groups and
# the only Python loops run over the q (<= a few) rows and columns.


def _bchol(A: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of a stack ``A`` (q, q, G) of positive definite matrices."""
    q = A.shape[0]
    L = np.zeros_like(A)
    for j in range(q):
        d = A[j, j] - np.sum(L[j, :j] ** 2, axis=0)
        L[j, j] = np.sqrt(d)
        for i in range(j + 1, q):
            L[i, j] = (A[i, j] - np.sum(L[i, :j] * L[j, :j], axis=0)) / L[j, j]
    return L


def _bfsolve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L X = B`` for stacks ``L`` (q, q, G) lower triangular and ``B`` (q, k, G)."""
    X = np.empty_like(B)
    for i in range(L.shape[0]):
        acc = B[i] - np.sum(L[i, :i, None] * X[:i], axis=0) if i else B[i]
        X[i] = acc / L[i, i]
    return X


def _bbsolve(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Solve ``L' X = B`` for stacks ``L`` (q, q, G) lower triangular and ``B`` (q, k, G)."""
    q = L.shape[0]
    X = np.empty_like(B)
    for i in reversed(range(q)):
        acc = B[i] - np.sum(L[i + 1 :, i, None] * X[i + 1 :], axis=0) if i < q - 1 else B[i]
        X[i] = acc / L[i, i]
    return X


def _left(M: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """``M @ stack_g`` for every g: (r, q) x (q, k, G) -> (r, k, G)."""
    out = np.zeros((M.shape[0],) + stack.shape[1:])
    for r in range(M.shape[0]):
        for j in range(M.shape[1]):
            if M[r, j] != 0.0:
                out[r] += M[r, j] * stack[j]
    return out


def _right(stack: np.ndarray, M: np.ndarray) -> np.ndarray:
    """``stack_g @ M`` for every g: (q, k, G) x (k, r) -> (q, r, G)."""
    return np.stack([M.T @ stack[i] for i in range(stack.shape[0])])


def _sum_tn(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``sum_g A_g' B_g`` for stacks (q, a, G) and (q, b, G) -> (a, b)."""
    return np.asarray(sum(A[i] @ B[i].T for i in range(A.shape[0])))


def pls(theta: np.ndarray, st: GroupStats, reml: bool, gradient: bool = True) -> PLSFit:
    """Solve the PLS problem at ``theta`` and return the profiled deviance (and gradient)."""
    q, p, n = st.q, st.p, st.n
    lam = make_lambda(np.asarray(theta, dtype=float), q)
    A = _right(_left(lam.T, st.ZtZ_), lam) + np.eye(q)[:, :, None]
    L = _bchol(A)
    RZX = _bfsolve(L, _left(lam.T, st.ZtX_))  # (q, p, G)
    cu = _bfsolve(L, _left(lam.T, st.Zty_[:, None, :]))  # (q, 1, G)
    RXtRX = st.XtX - _sum_tn(RZX, RZX)
    RX = linalg.cholesky(RXtRX, lower=True)
    rhs = st.Xty - _sum_tn(RZX, cu)[:, 0]
    cbeta = linalg.solve_triangular(RX, rhs, lower=True)
    beta = linalg.solve_triangular(RX.T, cbeta, lower=False)
    r2 = max(st.yty - float(np.sum(cu * cu)) - float(cbeta @ cbeta), 0.0)
    ldL2 = 2.0 * float(np.sum(np.log(np.diagonal(L, axis1=0, axis2=1))))
    ldRX2 = 2.0 * float(np.sum(np.log(np.diag(RX))))
    n_eff = n - p if reml else n
    with np.errstate(divide="ignore"):
        dev = ldL2 + n_eff * (1.0 + np.log(2.0 * np.pi * r2 / n_eff))
    if reml:
        dev += ldRX2
    cv = cu - np.einsum("qpg,p->qg", RZX, beta)[:, None, :]  # L' u = cu - RZX beta
    u = _bbsolve(L, cv)[:, 0, :].T
    grad = np.zeros(len(theta))
    if gradient and r2 > 0:
        grad = _gradient(st, lam, L, RZX, cv, beta, RX, r2, n_eff, reml)
    return PLSFit(float(dev), grad, beta, u, r2, RXtRX, ldL2, ldRX2)


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
    W = _bfsolve(L, _left(lam.T, st.ZtZ_))  # L^-1 Lambda' M_g  (q, q, G)
    S = st.ZtZ_sum - _sum_tn(W, W)
    ztr = st.Zty_ - np.einsum("qpg,p->qg", st.ZtX_, beta)  # Z_g'(y_g - X_g beta)
    s = ztr - np.einsum("kqg,kg->qg", W, cv[:, 0, :])
    S -= (n_eff / r2) * (s @ s.T)
    if reml:
        T = st.ZtX_ - np.einsum("kqg,kpg->qpg", W, RZX)  # (q, p, G)
        RXinv = linalg.solve_triangular(RX, np.eye(RX.shape[0]), lower=True)
        TR = _right(T, RXinv.T)  # T C T' = (T RX^-T)(T RX^-T)'
        S -= np.einsum("qkg,rkg->qr", TR, TR)
    G = 2.0 * S @ lam
    rows, cols = theta_index(q)
    return np.asarray(G[rows, cols])


def no_pooling_rss(st: GroupStats) -> float:
    """Residual sum of squares of ``y`` on ``X`` plus free per-group ``Z`` effects.

    The limit of the penalised residual sum of squares as theta grows without bound;
    zero when the model reproduces the outcome exactly.
    """
    Pinv = np.linalg.pinv(st.ZtZ, hermitian=True)  # (G, q, q), singular blocks allowed
    PZX = Pinv @ st.ZtX
    PZy = (Pinv @ st.Zty[:, :, None])[:, :, 0]
    XMX = st.XtX - np.einsum("gqp,gqr->pr", st.ZtX, PZX)
    XMy = st.Xty - np.einsum("gqp,gq->p", st.ZtX, PZy)
    yMy = st.yty - float(np.sum(st.Zty * PZy))
    b = np.linalg.lstsq(XMX, XMy, rcond=None)[0]
    return float(yMy - b @ XMy)


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
