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

Negative binomial (lme4's ``glmer.nb``): ``log(nb_theta)`` joins the parameters, from
glmer.nb's start (a Poisson GLMM and MASS's ``theta.ml`` on its conditional means), and
the deviance is minimised jointly with its exact gradient; this is the maximiser of the
profile log-likelihood that ``glmer.nb`` finds with ``optimize`` over nested refits.
Quadrature fits start from the Laplace fit. The covariance of beta is computed with
``nb_theta`` held at its estimate (``vcov`` of glmer.nb's final fit). A fit no better
than the Poisson GLMM (its limit as ``nb_theta -> infinity``) is flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import statsmodels.api as sm
from scipy import optimize

from .._core.families import THETA_MAX, theta_ml
from . import _glmm_engine as ge
from ._mixed_engine import _bfsolve, make_lambda, theta_index, theta_lower, theta_start

__all__ = ["GLMMFit", "fit_glmm"]

#: Relative step of the central-difference gradient used by the optimiser.
GRAD_STEP = 1e-6
#: Step of the central-difference Hessian behind the fixed-effect covariance (lme4's
#: ``deriv12`` uses ``delta = 1e-4``; the truncation error is O(step^2)).
HESS_STEP = 1e-4
#: Lower bound of the negative binomial size (``THETA_MAX`` of :mod:`.._core.families` is
#: the upper bound: an estimate there means no overdispersion, i.e. the Poisson limit).
NB_THETA_MIN = 1e-6
#: Log-likelihood gain of the negative binomial GLMM over the Poisson GLMM (its limit as
#: theta -> infinity) below which theta is taken to be infinite. Where the profile
#: likelihood rises towards the Poisson limit the optimiser stops at a large finite
#: theta with a log-likelihood just below the Poisson one; a real finite maximum is
#: above it.
NB_POISSON_GAIN = 1e-6


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
    nb_theta: float = float("nan")  # negative binomial size (NaN for other families)
    nb_theta_infinite: bool = False  # the NB fit is no better than the Poisson GLMM


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
    upper: np.ndarray | None = None,
) -> optimize.OptimizeResult:
    upper = np.full(len(lower), np.inf) if upper is None else upper
    bounds = [
        (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
        for lo, hi in zip(lower, upper, strict=True)
    ]
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
    _, var = ge.score_weight(d, eta)
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


def _nb_start(d: ge.GLMMData, max_iter: int) -> tuple[np.ndarray, float]:
    """Start of a negative binomial GLMM as ``glmer.nb``: a Poisson GLMM, then theta.ml.

    The Poisson GLMM's ``(theta, beta)`` and ``log`` of MASS's ``theta.ml`` on its
    conditional means (lme4's ``est_theta``), kept within the bounds of ``log(nb_theta)``;
    and the Poisson GLMM's deviance (the limit of the negative binomial's as
    ``nb_theta -> infinity``).
    """
    pois = ge.GLMMData("poisson", d.y, np.ones(len(d.y)), d.X, d.Z, d.codes, d.n_groups, d.offset)
    fit = fit_glmm(pois, 1, max_iter)
    ZL = d.Z @ make_lambda(fit.theta, d.q)
    mu = np.exp(d.offset + d.X @ fit.beta + np.sum(ZL * fit.u[d.codes], axis=1))
    th, _, _ = theta_ml(d.y, mu, np.ones(len(d.y)))
    th = float(np.clip(th, NB_THETA_MIN * 10, THETA_MAX / 10)) if np.isfinite(th) else 1.0
    d.u = pois.u.copy()
    return np.concatenate([fit.theta, fit.beta, [np.log(th)]]), fit.deviance


def _start(d: ge.GLMMData, n_agq: int, max_iter: int) -> tuple[np.ndarray, float, bool]:
    """Starting values, the Poisson limit's deviance (NB, Laplace) and the infinite-theta flag.

    Binomial and Poisson: ``Lambda = I`` and the GLM's fixed effects. Negative binomial:
    :func:`_nb_start` for the Laplace fit; adaptive quadrature starts from the Laplace
    negative binomial fit (fitted with the exact gradient, so fast) and takes its flag.
    """
    if d.family != "negative_binomial":
        return np.concatenate([theta_start(d.q), _glm_start(d)]), np.nan, False
    if n_agq == 1:
        x0, pois_dev = _nb_start(d, max_iter)
        return x0, pois_dev, False
    lap = fit_glmm(d, 1, max_iter)
    d.u = lap.u.copy()
    x0 = np.concatenate([lap.theta, lap.beta, [np.log(lap.nb_theta)]])
    return x0, np.nan, lap.nb_theta_infinite


def fit_glmm(d: ge.GLMMData, n_agq: int, max_iter: int) -> GLMMFit:
    """Minimise the deviance over ``(theta, beta)`` and compute the covariance of beta.

    A negative binomial model adds ``log(nb_theta)`` as a last parameter, bounded to
    ``[log NB_THETA_MIN, log THETA_MAX]``; the covariance of beta is then the one at the
    estimated ``nb_theta`` held fixed (``vcov`` of the final ``glmer`` fit of
    ``glmer.nb``).
    """
    q, p = d.q, d.X.shape[1]
    n_theta = q * (q + 1) // 2
    nb = d.family == "negative_binomial"
    lower = np.concatenate([theta_lower(q), np.full(p, -np.inf)])
    upper = np.full(len(lower) + nb, np.inf)
    if nb:
        lower = np.append(lower, np.log(NB_THETA_MIN))
        upper[-1] = np.log(THETA_MAX)
    x0, pois_dev, infinite = _start(d, n_agq, max_iter)

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
    free = np.where(np.arange(len(x0)) < n_theta + p, -np.inf, lower)
    res = _minimise(fg, x0, free, max_iter, upper)
    x1 = _positive_columns(np.asarray(res.x, dtype=float), q)
    res = _minimise(fg, x1, lower, max_iter, upper)
    x = np.asarray(res.x, dtype=float)
    g = fg(x)[1]
    g[(x <= lower + 1e-10) & (g > 0)] = 0.0
    g[(x >= upper - 1e-10) & (g < 0)] = 0.0
    converged = bool(res.success) or float(np.max(np.abs(g))) < 1e-4
    dev = f(x)
    nb_theta = float(np.exp(x[-1])) if nb else float("nan")
    # theta -> infinity: the negative binomial does no better than its Poisson limit.
    infinite = infinite or bool(nb and (pois_dev - dev) / 2 < NB_POISSON_GAIN)
    xc = x[: n_theta + p]

    def fc(z: np.ndarray) -> float:  # the deviance at the estimated nb_theta held fixed
        return f(np.concatenate([z, x[n_theta + p :]]))

    def gc(z: np.ndarray) -> np.ndarray:
        return fg(np.concatenate([z, x[n_theta + p :]]))[1][: n_theta + p]

    vcov, hessian_used = _beta_vcov(d, xc, n_theta, n_agq, fc, gc)
    f(x)  # leave the modes (and nb_theta) at the optimum
    u = d.u.copy()
    return GLMMFit(
        xc[:n_theta], xc[n_theta:], vcov, dev, u, converged, str(res.message),
        hessian_used, nb_theta, infinite,
    )  # fmt: skip


def _beta_vcov(
    d: ge.GLMMData,
    x: np.ndarray,
    n_theta: int,
    n_agq: int,
    f: Callable[[np.ndarray], float],
    g: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, bool]:
    """Covariance of beta: twice the inverse Hessian of the deviance, else conditional."""
    theta, beta = x[:n_theta], x[n_theta:]
    vcov = _conditional_vcov(d, theta, beta)
    if not np.all(theta[np.isfinite(theta_lower(d.q))] > 1e-4):
        return vcov, False
    H = _grad_hessian(f, g, x, n_theta) if n_agq == 1 else _fd_hessian(f, x)
    try:
        inv = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return vcov, False
    if not np.all(np.linalg.eigvalsh(H) > 0):
        return vcov, False
    vcov = 2.0 * inv[n_theta:, n_theta:]
    return (vcov + vcov.T) / 2, True
