"""Estimators of the between-study variance tau^2 and its Q-profile confidence interval.

Each estimator follows R metafor's ``rma.uni`` (Viechtbauer 2010) for the model

    y_i = x_i' beta + u_i + e_i,   u_i ~ N(0, tau^2),   e_i ~ N(0, v_i),

with ``W = diag(1 / (v_i + tau^2))``, ``A = (X'WX)^-1`` and ``P = W - W X A X' W``
(``p`` coefficients, ``k`` studies):

``"DL"`` (DerSimonian-Laird)
    ``tau^2 = (Q - (k - p)) / tr(P)`` with fixed-effect weights ``W = diag(1 / v_i)``.
``"HE"`` (Hedges, method of moments with unit weights)
    ``tau^2 = (RSS - tr(P V)) / (k - p)`` with ``P`` the ordinary least-squares residual maker.
``"SJ"`` (Sidik-Jonkman)
    ``tau^2 = tau0^2 * y'Py / (k - p)`` with weights ``1 / (v_i + tau0^2)`` and
    ``tau0^2 = mean((y - mean(y))^2)``.
``"PM"`` (Paule-Mandel)
    the root of the generalised Q statistic ``y'P(tau^2)y = k - p``.
``"ML"``, ``"REML"``
    maximum and restricted maximum likelihood by Fisher scoring from the ``"HE"`` value,
    step-halving at the boundary 0 (metafor's algorithm), with metafor's check that the
    likelihood at ``tau^2 = 0`` is not higher.

Negative values are truncated at 0. Standard errors are those printed by metafor for
each method. The Q-profile interval (Viechtbauer 2007) inverts
``y'P(tau^2)y ~ chi^2(k - p)``, as ``confint()`` does for ``rma.uni`` models.

Validated against metafor 3.8.1 (tests/reference/meta_metafor.R) on the BCG vaccine,
Normand (1999) and Molloy et al. (2014) data: agreement to 1e-9 relative or better
with both programs run to full convergence.

References
----------
DerSimonian R, Laird N (1986). Meta-analysis in clinical trials. Controlled Clinical
Trials 7:177-188. Paule RC, Mandel J (1982). Consensus values and weighting factors.
J Res Natl Bur Stand 87:377-385. Sidik K, Jonkman JN (2005). Simple heterogeneity variance
estimation for meta-analysis. JRSS C 54:367-384. Viechtbauer W (2005). Bias and efficiency
of meta-analytic variance estimators in the random-effects model. J Educ Behav Stat
30:261-293. Viechtbauer W (2007). Confidence intervals for the amount of heterogeneity in
meta-analysis. Stat Med 26:37-52.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ...errors import ConvergenceError
from ._weighted import WLSFit, sum_p2, wls

__all__ = ["TAU2_METHODS", "Tau2Estimate", "estimate_tau2", "q_generalised", "q_profile_ci"]

#: tau^2 estimators; "FE" fixes tau^2 at 0 (the fixed-effect model).
TAU2_METHODS: tuple[str, ...] = ("FE", "DL", "HE", "SJ", "PM", "ML", "REML")


@dataclass(frozen=True)
class Tau2Estimate:
    """A tau^2 estimate with its standard error and how it was reached."""

    tau2: float
    se: float
    converged: bool = True
    n_iter: int = 0
    note: str = ""


def q_generalised(tau2: float, y: np.ndarray, v: np.ndarray, X: np.ndarray) -> float:
    """Generalised Q statistic ``y' P(tau^2) y`` (Cochran's Q at ``tau^2 = 0``).

    Examples
    --------
    >>> y, v = np.array([0.1, 0.5, 0.9]), np.array([0.04, 0.04, 0.04])
    >>> round(q_generalised(0.0, y, v, np.ones((3, 1))), 6)
    8.0
    """
    return wls(y, X, 1.0 / (v + tau2)).rss


def _mad2(y: np.ndarray) -> float:
    """Squared median absolute deviation with R's consistency constant 1.4826."""
    return float((1.4826 * np.median(np.abs(y - np.median(y)))) ** 2)


def _upper_bracket(f, start: float, target: float) -> float:
    """Grow ``start`` until the decreasing function ``f`` falls to ``target`` or below."""
    upper = start
    for _ in range(60):
        if f(upper) <= target:
            return upper
        upper *= 10.0
    raise ConvergenceError(
        "Could not bracket tau^2: the generalised Q statistic stays above its target even "
        f"for tau^2 = {upper:.3g}. Check the effects and variances for gross errors."
    )


def _root(f, lower: float, upper: float) -> float:
    return float(optimize.brentq(f, lower, upper, xtol=1e-300, rtol=4 * np.finfo(float).eps))


def _he(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> Tau2Estimate:
    k, p = X.shape
    fit = wls(y, X, np.ones(k))
    rss = float(np.sum(fit.resid**2))
    tr_pv = float(np.sum(fit.diag_p * v))
    tau2 = max(0.0, (rss - tr_pv) / (k - p))
    se = math.sqrt(
        (2 * sum_p2(fit, v, v) + 4 * tau2 * tr_pv + 2 * tau2**2 * (k - p)) / (k - p) ** 2
    )
    return Tau2Estimate(tau2, se)


def _dl(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> Tau2Estimate:
    k, p = X.shape
    fit = wls(y, X, 1.0 / v)
    tr_p = fit.trace_p
    tau2 = max(0.0, (fit.rss - (k - p)) / tr_p)
    se = math.sqrt((2 * (k - p) + 4 * tau2 * tr_p + 2 * tau2**2 * sum_p2(fit)) / tr_p**2)
    return Tau2Estimate(tau2, se)


def _sj(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> Tau2Estimate:
    k, p = X.shape
    tau0 = float(np.mean((y - np.mean(y)) ** 2))
    fit = wls(y, X, 1.0 / (v + tau0))
    tau2 = max(0.0, tau0 * fit.rss / (k - p))
    var = (
        tau0**2
        / (k - p) ** 2
        * (2 * sum_p2(fit, v, v) + 4 * tau2 * sum_p2(fit, 1.0, v) + 2 * tau2**2 * sum_p2(fit))
    )
    return Tau2Estimate(tau2, math.sqrt(var))


def _se_pm(v: np.ndarray, tau2: float, k: int, p: int) -> float:
    w = 1.0 / (v + tau2)
    return math.sqrt(2 * k**2 / (k - p) / np.sum(w) ** 2)


def _pm(y: np.ndarray, v: np.ndarray, X: np.ndarray) -> Tau2Estimate:
    k, p = X.shape
    target = float(k - p)

    def f(t: float) -> float:
        return q_generalised(t, y, v, X) - target

    if f(0.0) <= 0:
        return Tau2Estimate(0.0, _se_pm(v, 0.0, k, p))
    upper = _upper_bracket(lambda t: f(t), max(100.0, 10 * _mad2(y)), 0.0)
    tau2 = _root(f, 0.0, upper)
    return Tau2Estimate(tau2, _se_pm(v, tau2, k, p))


def _loglik(y, v, X, tau2: float, reml: bool) -> float:
    """Log-likelihood used by metafor's check of the boundary (without the REML constant)."""
    k, p = X.shape
    fit = wls(y, X, 1.0 / (v + tau2))
    ll = -0.5 * np.sum(np.log(v + tau2)) - 0.5 * fit.rss
    if reml:
        _, logdet_a = np.linalg.slogdet(fit.A)
        return float(ll - 0.5 * (k - p) * np.log(2 * np.pi) + 0.5 * logdet_a)
    return float(ll - 0.5 * k * np.log(2 * np.pi))


def _score_step(fit: WLSFit, reml: bool) -> float:
    """Fisher-scoring step for tau^2 (metafor's update)."""
    if reml:
        return (fit.ppy - fit.trace_p) / sum_p2(fit)
    w = fit.w
    return (fit.ppy - float(np.sum(w))) / float(np.sum(w**2))


def _likelihood(
    y: np.ndarray, v: np.ndarray, X: np.ndarray, reml: bool, tol: float, max_iter: int
) -> Tau2Estimate:
    scale = float(np.mean(v))
    tau2 = _he(y, v, X).tau2
    n_iter = 0
    converged = False
    while n_iter < max_iter:
        n_iter += 1
        step = _score_step(wls(y, X, 1.0 / (v + tau2)), reml)
        if not np.isfinite(step):
            step = 0.0
        if tau2 == 0.0 and step < 0:
            step = 0.0
        while tau2 + step < 0:
            step /= 2.0
        tau2 += step
        if abs(step) <= tol * max(tau2, scale):
            converged = True
            break
    if not converged:
        raise ConvergenceError(
            f"Fisher scoring for the {'REML' if reml else 'ML'} estimate of tau^2 did not "
            f"converge in {max_iter} iterations (last value {tau2:.6g}); raise `max_iter` "
            "or use method='PM' or 'DL'."
        )
    note = ""
    # the maximum is on the boundary: the score at 0 is not positive and the iterations
    # are only halving their way towards 0
    if 0 < tau2 <= 100 * tol * scale and _score_step(wls(y, X, 1.0 / v), reml) <= 0:
        tau2 = 0.0
    if tau2 > 0 and _loglik(y, v, X, 0.0, reml) - _loglik(y, v, X, tau2, reml) > 1e-10:
        note = (
            "Fisher scoring stopped at a local maximum of the likelihood; tau^2 set to 0, "
            "where the likelihood is higher (as metafor does)."
        )
        tau2 = 0.0
    fit = wls(y, X, 1.0 / (v + tau2))
    if reml:
        se = math.sqrt(2.0 / sum_p2(fit))
    else:
        se = math.sqrt(2.0 / float(np.sum(fit.w**2)))
    return Tau2Estimate(tau2, se, converged, n_iter, note)


def estimate_tau2(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    method: str,
    *,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> Tau2Estimate:
    """Estimate tau^2 by ``method`` (one of :data:`TAU2_METHODS`).

    Parameters
    ----------
    y, v : numpy.ndarray
        Effects and their (positive) sampling variances.
    X : numpy.ndarray
        Full-rank design with an intercept column, ``k >= p + 1`` rows for a
        random-effects method.
    method : str
        ``"FE"`` (tau^2 = 0), ``"DL"``, ``"HE"``, ``"SJ"``, ``"PM"``, ``"ML"`` or ``"REML"``.
    tol : float
        Convergence criterion of Fisher scoring: the step is at most
        ``tol * max(tau^2, mean(v))``.
    max_iter : int
        Maximum Fisher-scoring iterations.

    Returns
    -------
    Tau2Estimate

    Raises
    ------
    ConvergenceError
        If Fisher scoring does not converge or Q cannot be bracketed.

    Examples
    --------
    >>> y = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79])
    >>> v = np.array([0.33, 0.19, 0.42, 0.02, 0.05, 0.01])
    >>> round(estimate_tau2(y, v, np.ones((6, 1)), "DL").tau2, 4)
    0.2086
    """
    if method == "FE":
        return Tau2Estimate(0.0, float("nan"))
    if method == "DL":
        return _dl(y, v, X)
    if method == "HE":
        return _he(y, v, X)
    if method == "SJ":
        return _sj(y, v, X)
    if method == "PM":
        return _pm(y, v, X)
    if method in ("ML", "REML"):
        return _likelihood(y, v, X, method == "REML", tol, max_iter)
    raise ValueError(f"unknown tau^2 method {method!r}")  # pragma: no cover - validated upstream


def q_profile_ci(
    y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, conf_level: float
) -> tuple[float, float]:
    """Q-profile confidence interval for tau^2 (metafor ``confint(type = "QP")``).

    The limits solve ``y'P(tau^2)y = chi^2_{k-p}(1 - alpha/2)`` (lower) and
    ``= chi^2_{k-p}(alpha/2)`` (upper); a limit is 0 when Q at ``tau^2 = 0`` is already
    below its target. Where metafor stops searching at ``max(100, 10 tau^2)`` and reports
    the limit as "> 100", the search here widens until the limit is found.

    Examples
    --------
    >>> y = np.array([-0.89, -1.59, -1.35, -1.44, -0.22, -0.79])
    >>> v = np.array([0.33, 0.19, 0.42, 0.02, 0.05, 0.01])
    >>> [round(x, 4) for x in q_profile_ci(y, v, np.ones((6, 1)), 0.2, 0.95)]
    [0.0383, 1.4816]
    """
    k, p = X.shape
    alpha = 1 - conf_level
    crit_u = float(stats.chi2.isf(alpha / 2, k - p))
    crit_l = float(stats.chi2.ppf(alpha / 2, k - p))

    def q(t: float) -> float:
        return q_generalised(t, y, v, X)

    q0 = q(0.0)
    start = max(100.0, 10 * tau2)
    if q0 < crit_l:
        return 0.0, 0.0
    upper = _upper_bracket(q, start, crit_l)
    ub = _root(lambda t: q(t) - crit_l, 0.0, upper) if q0 > crit_l else 0.0
    if q0 < crit_u:
        lb = 0.0
    else:
        upper = _upper_bracket(q, start, crit_u)
        lb = _root(lambda t: q(t) - crit_u, 0.0, upper) if q0 > crit_u else 0.0
    return lb, ub
