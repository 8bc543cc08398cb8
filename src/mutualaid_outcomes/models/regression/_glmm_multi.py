"""Laplace deviance of a GLMM with several random-effect terms (nested, crossed).

As :mod:`._glmm_engine` (lme4's PIRLS and Laplace approximation), but the Newton system
``H = Lambda'Z'W Z Lambda + I = L L'`` couples the levels of different grouping factors,
so PIRLS takes Newton steps in all spherical random effects ``u`` (length ``Q``) at
once, with step halving on the penalised deviance. ``H`` is factorised as in
:mod:`._mixed_sparse`: Schur complement on the term with the most levels (its blocks
inverted as a batch, the complement of the other terms by a dense Cholesky), or
SuperLU (log-determinant from the diagonal of ``U``) when the other terms are large. The exact gradient of the
Laplace deviance in ``(theta, beta)`` is the per-row formula of
:func:`._glmm_engine.laplace_gradient`, with the row's own levels of every term in place
of its group; it needs ``H^-1`` on the few random effects of each row (and of pairs of
them), taken from the dense inverse, so the gradient is used up to
:data:`EXACT_GRADIENT_MAX_RE` random effects and central differences above. Only the Laplace approximation
(``n_agq = 1``) is offered, as ``glmer`` does for several terms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import sparse, special

from . import _glmm_engine as ge
from ._glmm_fit import GLMMFit, _glm_start, _grad_hessian, _minimise
from ._mixed_engine import theta_index
from ._mixed_sparse import SMALL_DENSE_RE, factor, fd_gradient
from ._mixed_terms import ReStructure

#: Largest total number of random effects for which the exact gradient (which needs the
#: dense ``H^-1``) is used; central differences above.
EXACT_GRADIENT_MAX_RE = 3000

__all__ = ["MultiGLMMData", "multi_deviance", "multi_gradient", "fit_glmm_multi"]


@dataclass(eq=False)
class MultiGLMMData:
    """Rows of a GLMM with several random-effect terms, and the warm start of PIRLS."""

    family: str
    y: np.ndarray
    trials: np.ndarray
    X: np.ndarray
    re: ReStructure
    offset: np.ndarray
    const: float = 0.0
    u: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        k, m = self.y, self.trials
        if self.family == "binomial":
            lg = special.gammaln
            self.const = float(np.sum(lg(m + 1) - lg(k + 1) - lg(m - k + 1)))
        else:
            self.const = -float(np.sum(special.gammaln(k + 1)))
        self.u = np.zeros(self.re.n_re)

    @property
    def dense(self) -> bool:
        """Whether the exact gradient (dense ``H^-1``) is used."""
        return self.re.n_re <= EXACT_GRADIENT_MAX_RE


def _hessian(d: MultiGLMMData, ZL: sparse.csr_matrix, w: np.ndarray):  # noqa: ANN202
    """Factor of ``H = Lambda'Z'W Z Lambda + I`` and ``log|H|`` (see :func:`._mixed_sparse.factor`)."""
    H = (ZL.T @ ZL.multiply(w[:, None])).tocsc() + sparse.identity(d.re.n_re, format="csc")
    return factor(H.toarray() if d.re.n_re <= SMALL_DENSE_RE else H, d.re)


def _f(d: MultiGLMMData, eta: np.ndarray, u: np.ndarray) -> float:
    return float(-2.0 * np.sum(ge.cond_loglik_rows(d, eta)) + u @ u)  # type: ignore[arg-type]


def pirls(d: MultiGLMMData, ZL: sparse.csr_matrix, fixed: np.ndarray):  # noqa: ANN201
    """Conditional modes ``u`` by Newton steps with step halving.

    Returns ``u``, the factor of ``H`` and ``log|H|`` at ``u``, the penalised deviance
    ``f(u)`` (without constants) and the linear predictor.
    """
    u = d.u.copy()
    eta = fixed + ZL @ u
    f = _f(d, eta, u)
    for _ in range(ge.MAX_PIRLS):
        score, var = ge.score_weight(d, eta)  # type: ignore[arg-type]
        grad = ZL.T @ score - u
        fac, _ = _hessian(d, ZL, var)
        step = fac.solve(grad)
        scale = 1.0
        for _half in range(30):
            u_new = u + scale * step
            eta_new = fixed + ZL @ u_new
            f_new = _f(d, eta_new, u_new)
            if f_new <= f + 1e-12 * abs(f):
                break
            scale /= 2.0
        u, eta, f = u_new, eta_new, f_new
        if np.max(np.abs(scale * step), initial=0.0) < ge.PIRLS_TOL:
            break
    _, var = ge.score_weight(d, eta)  # type: ignore[arg-type]
    fac, ld = _hessian(d, ZL, var)
    d.u = u
    return u, fac, ld, f, eta


def _split(params: np.ndarray, d: MultiGLMMData) -> tuple[np.ndarray, np.ndarray]:
    k = d.re.n_theta
    if len(params) != k + d.X.shape[1]:
        raise ValueError("parameter vector has the wrong length")
    return params[:k], params[k:]


def multi_deviance(params: np.ndarray, d: MultiGLMMData) -> float:
    """Laplace deviance at ``(theta, beta)``."""
    theta, beta = _split(params, d)
    _, _, ld, f, _ = pirls(d, d.re.zl(theta), d.offset + d.X @ beta)
    return f + ld - 2.0 * d.const


def multi_gradient(params: np.ndarray, d: MultiGLMMData) -> tuple[float, np.ndarray]:
    """Laplace deviance and its exact gradient (see :func:`._glmm_engine.laplace_gradient`).

    Row ``i`` of ``Z Lambda`` has nonzeros ``a_i`` at the columns ``c_i`` of its levels
    (one block of ``q_t`` per term); ``h_i = a_i' H^-1 a_i`` and ``(H^-1 a_i)[c_i]`` use the
    ``(c_i, c_i)`` entries of ``H^-1``. A parameter of ``Lambda_t`` at ``(r, c)`` moves
    ``a_i`` at the row's own level of term ``t`` only, by ``Z_t[i, r]`` in column ``c``.
    """
    theta, beta = _split(params, d)
    re = d.re
    ZL = re.zl(theta)
    u, fac, ld, f, eta = pirls(d, ZL, d.offset + d.X @ beta)
    dev = f + ld - 2.0 * d.const
    r, w = ge.score_weight(d, eta)  # type: ignore[arg-type]
    wd = ge.var_deriv(d, eta)  # type: ignore[arg-type]
    cols, a = re.nz_cols, re.zl_values(theta)  # (n, m)
    Hinv = fac.inverse() if hasattr(fac, "inverse") else fac.solve(np.eye(re.n_re))
    Hsub = Hinv[cols[:, :, None], cols[:, None, :]]  # (n, m, m)
    Ha = np.einsum("njk,nk->nj", Hsub, a)
    h = np.sum(a * Ha, axis=1)
    c = np.bincount(cols.ravel(), weights=((h * wd)[:, None] * a).ravel(), minlength=re.n_re)
    v = Hinv @ c
    vr = v[cols]
    av = np.sum(a * vr, axis=1)
    grad_beta = d.X.T @ (-2.0 * r + h * wd - w * av)
    ur = u[cols]
    grad_theta = np.empty(re.n_theta)
    for t, (b, s) in enumerate(zip(re.blocks, re.theta_slices, strict=True)):
        rows_t, cols_t = theta_index(b.q)
        for k, (rk, ck) in enumerate(zip(rows_t, cols_t, strict=True)):
            j = re.positions[t] + ck
            uc = ur[:, j]
            row = -2.0 * r * uc + 2.0 * w * Ha[:, j] + h * wd * uc + r * vr[:, j] - uc * w * av
            grad_theta[s.start + k] = float(np.sum(b.Z[:, rk] * row))
    return dev, np.concatenate([grad_theta, grad_beta])


def multi_conditional_vcov(d: MultiGLMMData, theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``(X'WX - X'W Z Lambda H^-1 Lambda'Z'W X)^-1`` at the conditional modes."""
    ZL = d.re.zl(theta)
    _, fac, _, _, eta = pirls(d, ZL, d.offset + d.X @ beta)
    _, var = ge.score_weight(d, eta)  # type: ignore[arg-type]
    B = np.asarray(ZL.T @ (d.X * var[:, None]))
    schur = (d.X * var[:, None]).T @ d.X - B.T @ fac.solve(B)
    return np.asarray(np.linalg.inv(schur))


def _positive_columns(x: np.ndarray, re: ReStructure) -> np.ndarray:
    """Flip the sign of every column of each ``Lambda_t`` whose diagonal entry is negative."""
    out = x.copy()
    for b, s, lam in zip(re.blocks, re.theta_slices, re.lambdas(x[: re.n_theta]), strict=True):
        lam = lam * np.where(np.diag(lam) < 0, -1.0, 1.0)[None, :]
        rows, cols = theta_index(b.q)
        out[s] = lam[rows, cols]
    return out


def fit_glmm_multi(d: MultiGLMMData, max_iter: int) -> GLMMFit:
    """Minimise the Laplace deviance over ``(theta, beta)``; covariance of ``beta``.

    The same two passes and covariance as :func:`._glmm_fit.fit_glmm` (unbounded, then
    bounded from sign-normalised columns; twice the inverse finite-difference Hessian,
    or the conditional covariance when that is not positive definite).
    """
    re = d.re
    k = re.n_theta
    lower = np.concatenate([re.theta_lower(), np.full(d.X.shape[1], -np.inf)])
    x0 = np.concatenate([re.theta_start(), _glm_start(d)])  # type: ignore[arg-type]

    def f(x: np.ndarray) -> float:
        return multi_deviance(x, d)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        if d.dense:
            return multi_gradient(x, d)
        return f(x), fd_gradient(f, x, lower)

    res = _minimise(fg, x0, np.full(len(x0), -np.inf), max_iter)
    res = _minimise(fg, _positive_columns(np.asarray(res.x, dtype=float), re), lower, max_iter)
    x = np.asarray(res.x, dtype=float)
    g = fg(x)[1]
    g[(x <= lower + 1e-10) & (g > 0)] = 0.0
    converged = bool(res.success) or float(np.max(np.abs(g))) < 1e-4
    dev = f(x)
    theta, beta = x[:k], x[k:]
    vcov = multi_conditional_vcov(d, theta, beta)
    hessian_used = False
    if np.all(theta[re.diag_theta_mask()] > 1e-4):
        H = _grad_hessian(f, lambda z: fg(z)[1], x, k)
        if np.all(np.linalg.eigvalsh(H) > 0):
            vcov = 2.0 * np.linalg.inv(H)[k:, k:]
            vcov = (vcov + vcov.T) / 2
            hessian_used = True
    f(x)  # leave the modes at the optimum
    return GLMMFit(theta, beta, vcov, dev, d.u.copy(), converged, str(res.message), hessian_used)
