"""Profiled (RE)ML deviance of a linear mixed model with several random-effect terms.

Nested (``(1 | site/id)``), crossed (``(1 | id) + (1 | item)``) and interaction terms
make ``Lambda'Z'Z Lambda + I`` a sparse matrix that is no longer block diagonal by one
factor. As lme4 (Bates et al. 2015, section 3), the penalised least-squares problem

    min ||y - X beta - Z Lambda u||^2 + ||u||^2

is solved through ``A = Lambda'Z'Z Lambda + I = L L'``. The first term (the grouping
factor with the most levels; lme4's order) makes its block of ``A`` block diagonal, one
``q x q`` block per level, so ``A`` is eliminated by the Schur complement on that term:
the blocks are inverted as a batch and the complement of the other terms (nested outer
factors or the smaller crossed factor), up to :data:`DENSE_MAX_RE` random effects, is
factorised by a dense Cholesky; ``log|A|`` is the sum of the blocks' log-determinants
and the complement's. Above that size, scipy having no sparse Cholesky, ``A``
(symmetric positive definite) is factorised by SuperLU (``scipy.sparse.linalg.splu``,
fill-reducing column ordering), and ``log|L|^2 = log|A|`` is the sum of the logs of the
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


#: Largest number of random effects of the terms after the first (the one with the most
#: levels) for which ``A`` is eliminated by the Schur complement on the first term with
#: a dense Cholesky factor of the complement; above it SuperLU factorises ``A``.
DENSE_MAX_RE = 1000
#: Up to this many random effects in all, ``A`` is a dense matrix with a dense Cholesky
#: factor (less overhead per evaluation than sparse elimination for small systems).
SMALL_DENSE_RE = 100


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
        dense = re.n_re <= SMALL_DENSE_RE
        return cls(
            re, X, y, Z, ZtZ.toarray() if dense else ZtZ,
            np.asarray(Z.T @ X), np.asarray(Z.T @ y), dense,
        )  # fmt: skip


def factor(A: Any, re: ReStructure | None = None) -> tuple[Any, float]:
    """Factor of a symmetric positive definite matrix and ``log|A|``; has ``solve(B)``.

    A sparse ``A`` of several terms is eliminated by the Schur complement on the first
    term (:class:`SchurFactor`) when the other terms have at most :data:`DENSE_MAX_RE`
    random effects, and by SuperLU otherwise; a dense ``A`` by LAPACK's Cholesky.
    """
    if isinstance(A, np.ndarray):
        c = linalg.cho_factor(A, lower=True, check_finite=False)
        return _Chol(c), 2.0 * float(np.sum(np.log(np.diag(c[0]))))
    if re is not None and re.n_re - int(re.offsets[1]) <= DENSE_MAX_RE:
        sf = SchurFactor(sparse.csr_matrix(A), int(re.offsets[1]), re.blocks[0].q)
        return sf, sf.logdet
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


class SchurFactor:
    """Block elimination of ``A = [[A11, A12], [A21, A22]]`` with ``A11`` block diagonal.

    The first term's random effects (``n1`` of them, ``q`` per level) only meet each
    other within a level, so ``A11`` is block diagonal with ``q x q`` blocks, inverted as
    a batch; the Schur complement ``S = A22 - A21 A11^-1 A12`` of the other terms is
    small and dense (Cholesky). ``log|A| = sum log|A11_l| + log|S|``.
    """

    def __init__(self, A: sparse.csr_matrix, n1: int, q: int) -> None:
        G = n1 // q
        coo = A.tocoo()
        inside = (coo.row < n1) & (coo.col < n1)
        blocks = np.zeros((G, q, q))
        rr, cc = coo.row[inside], coo.col[inside]
        np.add.at(blocks, (rr // q, rr % q, cc % q), coo.data[inside])
        inv = np.linalg.inv(blocks)
        lev = np.arange(G)[:, None, None] * q
        r = (lev + np.arange(q)[None, :, None]).repeat(q, axis=2)
        c = (lev + np.arange(q)[None, None, :]).repeat(q, axis=1)
        self.A11inv = sparse.csr_matrix((inv.ravel(), (r.ravel(), c.ravel())), shape=(n1, n1))
        upper = (coo.row < n1) & (coo.col >= n1)
        self.A12 = sparse.csr_matrix(
            (coo.data[upper], (coo.row[upper], coo.col[upper] - n1)), shape=(n1, A.shape[0] - n1)
        )
        self.A21 = self.A12.T.tocsr()
        lower = (coo.row >= n1) & (coo.col >= n1)
        A22 = np.zeros((A.shape[0] - n1,) * 2)
        np.add.at(A22, (coo.row[lower] - n1, coo.col[lower] - n1), coo.data[lower])
        B = self.A11inv @ self.A12
        S = A22 - np.asarray((self.A21 @ B).todense())
        self.S = linalg.cho_factor((S + S.T) / 2, lower=True, check_finite=False)
        self.n1 = n1
        self.logdet = float(np.sum(np.linalg.slogdet(blocks)[1])) + 2.0 * float(
            np.sum(np.log(np.diag(self.S[0])))
        )

    def solve(self, b: np.ndarray) -> np.ndarray:
        b1, b2 = b[: self.n1], b[self.n1 :]
        y1 = self.A11inv @ b1
        x2 = linalg.cho_solve(self.S, b2 - self.A21 @ y1, check_finite=False)
        x1 = y1 - self.A11inv @ (self.A12 @ x2)
        return np.concatenate([x1, x2], axis=0)

    def inverse(self) -> np.ndarray:
        return self.solve(np.eye(self.n1 + self.S[0].shape[0]))


def sparse_pls(theta: np.ndarray, st: MultiStats, reml: bool) -> SparsePLS:
    """Solve the PLS problem at ``theta``; the profiled (RE)ML deviance."""
    X, y = st.X, st.y
    n, p = X.shape
    lam = st.re.lambda_matrix(np.asarray(theta, dtype=float), st.dense)
    A = lam.T @ st.ZtZ @ lam
    A = A + (np.eye(st.re.n_re) if st.dense else sparse.identity(st.re.n_re, format="csc"))
    fac, ldL2 = factor(A, st.re)
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
