"""Fit a GLMM on one grouping factor: optimise the Laplace/AGQ deviance over (theta, beta).

The deviance of :mod:`._glmm_engine` is minimised jointly over the relative covariance
parameters and the fixed effects (lme4's second stage, ``nAGQ >= 1``) by L-BFGS-B,
from the fixed effects of the GLM without random effects and ``Lambda = I``: first
without bounds (the deviance does not change when a column of ``Lambda`` changes sign),
then within lme4's bounds from the sign-normalised solution. The Laplace deviance comes
with its exact gradient (:func:`._glmm_engine.laplace_gradient`); adaptive quadrature
uses central differences. The fixed-effect covariance is lme4's default for ``glmer``:
twice the inverse of the finite-difference Hessian of the deviance in ``(theta, beta)``
(second differences of the deviance in ``theta`` as lme4's ``deriv12``, differences of
the exact gradient in ``beta`` for the Laplace deviance), restricted to ``beta``; when that Hessian is not positive definite (a singular fit), the
conditional covariance given ``theta`` (lme4's ``use.hessian = FALSE``) is used and
flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import optimize

from . import _glmm_engine as ge
from ._mixed_engine import _bfsolve, make_lambda, theta_index, theta_lower, theta_start

__all__ = ["GLMMFit", "fit_glmm"]

#: Relative step of the central-difference gradient used by the optimiser.
GRAD_STEP = 1e-6
#: Step of the central-difference Hessian behind the fixed-effect covariance (lme4's
#: ``deriv12`` uses ``delta = 1e-4``; the truncation error is O(step^2)).
HESS_STEP = 1e-4


@dataclass(frozen=True)
class GLMMFit:
    """Estimates of a GLMM fit."""

    theta: np.ndarray
    beta: np.ndarray
    vcov: np.ndarray
    deviance: float
    u: np.ndarray
    converged: bool
    message: str
    hessian_used: bool


def _fd_grad(f: Callable[[np.ndarray], float], x: np.ndarray, lower: np.ndarray) -> np.ndarray:
    g = np.empty_like(x)
    for i in range(len(x)):
        h = GRAD_STEP * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        if x[i] - h < lower[i]:  # one-sided at a bound
            g[i] = (f(x + e) - f(x)) / h
        else:
            g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _fd_hessian(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    k = len(x)
    H = np.empty((k, k))
    f0 = f(x)
    h = HESS_STEP * np.maximum(1.0, np.abs(x))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = h[i]
        H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = h[j]
            H[i, j] = H[j, i] = (
                f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
            ) / (4 * h[i] * h[j])
    return H


def _minimise(
    fg: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x0: np.ndarray,
    lower: np.ndarray,
    max_iter: int,
) -> optimize.OptimizeResult:
    bounds = [(lo if np.isfinite(lo) else None, None) for lo in lower]
    return optimize.minimize(
        fg,
        x0,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": max_iter, "ftol": 1e-15, "gtol": 1e-8, "maxcor": 20},
    )


def _positive_columns(x: np.ndarray, q: int) -> np.ndarray:
    """Flip the sign of every column of Lambda whose diagonal entry is negative."""
    n_theta = q * (q + 1) // 2
    lam = make_lambda(x[:n_theta], q)
    lam = lam * np.where(np.diag(lam) < 0, -1.0, 1.0)[None, :]
    rows, cols = theta_index(q)
    out = x.copy()
    out[:n_theta] = lam[rows, cols]
    return out


def _grad_hessian(
    f: Callable[[np.ndarray], float],
    g: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    n_theta: int,
) -> np.ndarray:
    """Hessian of the deviance: lme4's scheme in theta, exact-gradient differences in beta.

    The ``(theta, theta)`` block is the central second difference of the deviance (as
    lme4's ``deriv12``; the deviance can be flat in theta, where another difference
    scheme would change the SEs in the fourth digit); the ``beta`` columns are central
    differences of the exact gradient, 2p gradient evaluations instead of O(p^2)
    deviance evaluations.
    """
    k = len(x)
    H = np.empty((k, k))
    h = HESS_STEP * np.maximum(1.0, np.abs(x))
    for i in range(n_theta, k):
        e = np.zeros(k)
        e[i] = h[i]
        H[:, i] = (g(x + e) - g(x - e)) / (2 * h[i])
    H[n_theta:, n_theta:] = (H[n_theta:, n_theta:] + H[n_theta:, n_theta:].T) / 2
    H[n_theta:, :n_theta] = H[:n_theta, n_theta:].T

    def f_theta(t: np.ndarray) -> float:
        return f(np.concatenate([t, x[n_theta:]]))

    H[:n_theta, :n_theta] = _fd_hessian(f_theta, x[:n_theta])
    return H


def _glm_start(d: ge.GLMMData) -> np.ndarray:
    if d.family == "binomial":
        endog = np.column_stack([d.y, d.trials - d.y])
        fam: sm.families.Family = sm.families.Binomial()
    else:
        endog, fam = d.y, sm.families.Poisson()
    res = sm.GLM(endog, d.X, family=fam, offset=d.offset).fit()
    return np.asarray(res.params, dtype=float)


def _conditional_vcov(d: ge.GLMMData, theta: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """``(X'WX - sum_g X_g'W Z_g Lambda H_g^-1 Lambda'Z_g'W X_g)^-1`` at the modes."""
    q, p = d.q, d.X.shape[1]
    ZL = d.Z @ make_lambda(theta, q)
    u, L, _, eta = ge._pirls(d, ZL, d.offset + d.X @ beta)
    _, var = ge.mean_var(d, eta)
    B = np.stack(
        [
            np.stack(
                [np.bincount(d.codes, var * ZL[:, i] * d.X[:, k], d.n_groups) for k in range(p)]
            )
            for i in range(q)
        ]
    )  # (q, p, G)
    R = _bfsolve(L, B)
    schur = (d.X * var[:, None]).T @ d.X - sum(R[i] @ R[i].T for i in range(q))
    return np.asarray(np.linalg.inv(schur))


def fit_glmm(d: ge.GLMMData, n_agq: int, max_iter: int) -> GLMMFit:
    """Minimise the deviance over ``(theta, beta)`` and compute the covariance of beta."""
    q = d.q
    n_theta = q * (q + 1) // 2
    lower = np.concatenate([theta_lower(q), np.full(d.X.shape[1], -np.inf)])
    x0 = np.concatenate([theta_start(q), _glm_start(d)])

    def f(x: np.ndarray) -> float:
        return ge.laplace_deviance(x, d, n_agq)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        if n_agq == 1:
            return ge.laplace_gradient(x, d)
        return f(x), _fd_grad(f, x, lower)

    # The deviance is invariant to flipping the sign of a column of Lambda, so the first
    # pass drops the bounds (a projected-gradient method stalls at a zero diagonal theta,
    # a stationary point); the column signs are then made positive and a bounded pass
    # polishes the solution, reaching an exact zero where the optimum is singular.
    res = _minimise(fg, x0, np.full(len(x0), -np.inf), max_iter)
    x1 = _positive_columns(np.asarray(res.x, dtype=float), q)
    res = _minimise(fg, x1, lower, max_iter)
    x = np.asarray(res.x, dtype=float)
    g = fg(x)[1]
    g[(x <= lower + 1e-10) & (g > 0)] = 0.0
    converged = bool(res.success) or float(np.max(np.abs(g))) < 1e-4
    dev = f(x)
    theta, beta = x[:n_theta], x[n_theta:]
    hessian_used = False
    vcov = _conditional_vcov(d, theta, beta)
    if np.all(theta[np.isfinite(theta_lower(q))] > 1e-4):
        if n_agq == 1:
            H = _grad_hessian(f, lambda z: fg(z)[1], x, n_theta)
        else:
            H = _fd_hessian(f, x)
        try:
            inv = np.linalg.inv(H)
            if np.all(np.linalg.eigvalsh(H) > 0):
                vcov = 2.0 * inv[n_theta:, n_theta:]
                vcov = (vcov + vcov.T) / 2
                hessian_used = True
        except np.linalg.LinAlgError:
            pass
    f(x)  # leave the modes at the optimum
    u = d.u.copy()
    return GLMMFit(theta, beta, vcov, dev, u, converged, str(res.message), hessian_used)
