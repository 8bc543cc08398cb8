"""Profiled (RE)ML deviance of a linear mixed model with several random-effect terms.

Nested (``(1 | site/id)``), crossed (``(1 | id) + (1 | item)``) and interaction terms
make ``Lambda'Z'Z Lambda + I`` a sparse matrix that is no longer block diagonal by one
factor. As lme4 (Bates et al. 2015, section 3), the penalised least-squares problem

    min ||y - X beta - Z Lambda u||^2 + ||u||^2

is solved through ``A = Lambda'Z'Z Lambda + I = L L'``. Up to :data:`DENSE_MAX_RE` random
effects in all, ``A`` is a dense matrix and LAPACK's Cholesky factor gives ``L``. Above
that, scipy having no sparse Cholesky, ``A`` (symmetric positive definite) is factorised
by SuperLU (``scipy.sparse.linalg.splu``, fill-reducing column ordering), and ``log|L|^2 = log|A|`` is the sum of the logs of the
absolute diagonal of ``U`` (``L`` of SuperLU has a unit diagonal; ``det A > 0``). The
fixed effects are profiled out through the Schur complement
``R_X'R_X = X'X - X'Z Lambda A^-1 Lambda'Z'X``, and the penalised residual sum of
squares is computed from the residuals (not by subtraction), so the deviance is accurate
to rounding and its central-difference gradient can drive L-BFGS-B. One grouping factor
keeps the batched per-group path of :mod:`._mixed_engine`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import linalg, optimize, sparse
from scipy.sparse import linalg as splinalg

from ._mixed_terms import ReStructure

__all__ = [
    "MultiStats",
    "SparsePLS",
    "sparse_pls",
    "optimise_theta_sparse",
    "fd_gradient",
    "FD_STEP",
]

#: Relative step of the central-difference gradient of the profiled deviance. The
#: deviance is computed to about 1e-14 relative, so the rounding error of the gradient is
#: about 1e-14 |dev| / step; the truncation error is O(step^2).
FD_STEP = 1e-5


#: Largest total number of random effects for which ``A`` is a dense matrix factorised by
#: LAPACK's Cholesky (cheaper than SuperLU's set-up for small systems); above it SuperLU.
DENSE_MAX_RE = 1000


@dataclass(frozen=True)
class SparsePLS:
    """The PLS solution at one theta."""

    deviance: float
    beta: np.ndarray
    u: np.ndarray  # (Q,) spherical conditional modes
    r2: float
    RXtRX: np.ndarray
    ldL2: float


@dataclass(frozen=True, eq=False)
class MultiStats:
    """Cross-products of a linear mixed model with several terms, gathered once."""

    re: ReStructure
    X: np.ndarray
    y: np.ndarray
    Z: sparse.csr_matrix
    ZtZ: Any  # sparse (Q, Q), dense when ``dense``
    ZtX: np.ndarray
    Zty: np.ndarray
    dense: bool

    @classmethod
    def build(cls, re: ReStructure, X: np.ndarray, y: np.ndarray) -> MultiStats:
        Z = re.zl(re.theta_start())  # Lambda = I
        ZtZ = (Z.T @ Z).tocsc()
        dense = re.n_re <= DENSE_MAX_RE
        return cls(
            re, X, y, Z, ZtZ.toarray() if dense else ZtZ,
            np.asarray(Z.T @ X), np.asarray(Z.T @ y), dense,
        )  # fmt: skip


def factor(A: Any) -> tuple[Any, float]:
    """Factor of a symmetric positive definite matrix (dense Cholesky or SuperLU), ``log|A|``.

    Returns an object with ``solve(B)``.
    """
    if isinstance(A, np.ndarray):
        c = linalg.cho_factor(A, lower=True, check_finite=False)
        return _Chol(c), 2.0 * float(np.sum(np.log(np.diag(c[0]))))
    lu = splinalg.splu(sparse.csc_matrix(A), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0)
    return lu, float(np.sum(np.log(np.abs(lu.U.diagonal()))))


@dataclass(frozen=True)
class _Chol:
    c: tuple[np.ndarray, bool]

    def solve(self, B: np.ndarray) -> np.ndarray:
        return np.asarray(linalg.cho_solve(self.c, B, check_finite=False))

    def inverse(self) -> np.ndarray:
        """``A^-1`` from the Cholesky factor (LAPACK ``potri``)."""
        inv, info = linalg.lapack.dpotri(self.c[0], lower=1)
        if info != 0:
            raise np.linalg.LinAlgError("potri failed")
        return np.asarray(np.tril(inv) + np.tril(inv, -1).T)


def sparse_pls(theta: np.ndarray, st: MultiStats, reml: bool) -> SparsePLS:
    """Solve the PLS problem at ``theta``; the profiled (RE)ML deviance."""
    X, y = st.X, st.y
    n, p = X.shape
    lam = st.re.lambda_matrix(np.asarray(theta, dtype=float), st.dense)
    A = lam.T @ st.ZtZ @ lam
    A = A + (np.eye(st.re.n_re) if st.dense else sparse.identity(st.re.n_re, format="csc"))
    fac, ldL2 = factor(A)
    ZLtX = np.asarray(lam.T @ st.ZtX)
    ZLty = np.asarray(lam.T @ st.Zty)
    sol = fac.solve(np.column_stack([ZLtX, ZLty]))
    RXtRX = X.T @ X - ZLtX.T @ sol[:, :p]
    RXtRX = (RXtRX + RXtRX.T) / 2
    RX = linalg.cholesky(RXtRX, lower=True)
    rhs = X.T @ y - ZLtX.T @ sol[:, p]
    beta = linalg.cho_solve((RX, True), rhs)
    u = sol[:, p] - sol[:, :p] @ beta
    resid = y - X @ beta - st.Z @ np.asarray(lam @ u)
    r2 = float(resid @ resid + u @ u)
    ldRX2 = 2.0 * float(np.sum(np.log(np.diag(RX))))
    n_eff = n - p if reml else n
    with np.errstate(divide="ignore"):
        dev = ldL2 + n_eff * (1.0 + np.log(2.0 * np.pi * r2 / n_eff))
    if reml:
        dev += ldRX2
    return SparsePLS(float(dev), beta, u, r2, RXtRX, ldL2)


def fd_gradient(f, x: np.ndarray, lower: np.ndarray, step: float = FD_STEP) -> np.ndarray:  # noqa: ANN001
    """Central-difference gradient, one-sided forward at a lower bound."""
    g = np.empty_like(x)
    for i in range(len(x)):
        h = step * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        if x[i] - h < lower[i]:
            g[i] = (-3.0 * f(x) + 4.0 * f(x + e) - f(x + 2 * e)) / (2 * h)
        else:
            g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def optimise_theta_sparse(
    st: MultiStats, reml: bool, max_iter: int
) -> tuple[np.ndarray, bool, str]:
    """Minimise the profiled deviance over theta (L-BFGS-B, central differences).

    As :func:`._mixed_engine.optimise_theta`, a diagonal element of ``Lambda`` that stalls
    at its zero bound is restarted from small positive values and the better optimum kept.
    """
    re = st.re
    lower = re.theta_lower()
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]

    def f(th: np.ndarray) -> float:
        return sparse_pls(th, st, reml).deviance

    def fg(th: np.ndarray) -> tuple[float, np.ndarray]:
        return f(th), fd_gradient(f, th, lower)

    opts = {"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-9, "maxcor": 20}
    res = optimize.minimize(
        fg, re.theta_start(), jac=True, method="L-BFGS-B", bounds=bounds, options=opts
    )
    diag = np.isfinite(lower) & (res.x <= 1e-8)
    for start in (0.1, 1e-3) if np.any(diag) else ():
        x1 = np.where(diag, start, res.x)
        alt = optimize.minimize(fg, x1, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
        if alt.fun < res.fun - 1e-10 * max(1.0, abs(res.fun)):
            res = alt
            break
    theta = np.asarray(res.x, dtype=float)
    g = fd_gradient(f, theta, lower)
    g[(theta <= lower + 1e-12) & (g > 0)] = 0.0
    converged = bool(res.success) or float(np.max(np.abs(g), initial=0.0)) <= 1e-4
    return theta, converged, str(res.message)
