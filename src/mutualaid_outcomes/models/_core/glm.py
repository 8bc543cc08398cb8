r"""Generalised linear models by IRLS: the one GLM fitter of the package.

Every GLM the package fits itself goes through :func:`irls` (a batch of fits over the
same rows, one per weight vector), :func:`.glm_chunked.irls_chunked` (the same iteration
with its sums formed over chunks of rows, for many fits on many rows: survey replicate
weights), :func:`.glm_refit.refit_near` (many fits near a common solution: the same
score equations, Newton then chord steps for all fits in one pass over the rows, and the
convergence rule below or a distance-to-root estimate within a tenth of it; survey
replicate refits) or :func:`fit_glm` (one fit, the same iteration):
:func:`~mutualaid_outcomes.models.regression.glm.fit_regression` (gaussian, binomial,
Poisson, negative binomial with fixed :math:`\theta`, fractional logit), GEE starting
values, propensity scores, logistic imputation, and the mediator and outcome models of
:func:`~mutualaid_outcomes.models.mediation.causal.causal_mediation` and
:func:`~mutualaid_outcomes.models.mediation.product.mediate` with their bootstrap and
jackknife refits, and :func:`~mutualaid_outcomes.models.survey.glm.survey_glm` (the
full-sample fit and its replicate-weight refits).

Iteration
---------
Fisher scoring (Newton-Raphson for canonical links, i.e. IRLS as R ``glm.fit``):
:math:`\beta \leftarrow \beta + (X'WX + \Lambda)^{-1}\{X'w\,\mu'(\eta)(y - \mu)/V(\mu) -
\Lambda\beta\}` with working weights :math:`W = w\,\mu'(\eta)^2 / V(\mu)` and an optional
ridge penalty :math:`\Lambda` (zero unless a caller asks for capped estimates). Without
starting values the first step starts from R's ``mustart`` (binomial
:math:`(w y + 0.5)/(w + 1)`, Poisson and negative binomial :math:`y + 0.1`, gaussian
:math:`y`). The iteration stops when the largest step is at most
``tol * (1 + max|beta|)`` (:data:`TOL` ``= 1e-10``: converged) or after ``max_iter``
steps (not converged). Each system is solved by :func:`.ols.solve_batched`, so the
collinearity rule of :mod:`.ols` (:data:`~.ols.RIDGE_FLOOR`) applies: a fit whose
information matrix fails it stops at its last finite iterate, not converged.

Separation policy
-----------------
*Detection* is the same for every caller. A binomial fit is (quasi-)separated when a row
with positive weight has a fitted probability within :data:`SEPARATION_EPS` (``10``
machine epsilons, ``2.2e-16 * 10``) of 0 or 1 -- R ``glm.fit``'s test behind "fitted
probabilities numerically 0 or 1 occurred" (``|eta| > 33.7`` for the logit link,
``> 7.9`` for probit). Under separation the maximum-likelihood estimate does not exist:
the coefficients diverge, the step never falls below ``tol``, and the iteration runs to
``max_iter`` with finite but huge estimates; :attr:`IRLSFit.n_boundary` counts the rows at
the boundary. Probabilities are computed with their complements (``expit(-eta)``,
``ndtr(-eta)``), so working weights stay positive far beyond the threshold.

*What happens next* is the caller's choice, one of three:

================  ===========================================  =============================
policy            what the user gets                           used by
================  ===========================================  =============================
error             :class:`~mutualaid_outcomes.errors.EstimationError`   ``fit_regression`` (complete
                                                               separation: every row at the
                                                               boundary); the full-data fits
                                                               of ``causal_mediation`` and of
                                                               ``mediate`` with a logistic
                                                               outcome
warning + flag    a :class:`~mutualaid_outcomes.errors.DataWarning` or  ``fit_regression`` (quasi-
                  ``ConvergenceWarning``, ``converged`` false  complete separation: glance()
                  and a note in ``glance()``; for resampling   ``message``);
                  replicates the replicate is dropped and      ``propensity_scores``
                  counted in ``n_failed``                      (separation is a positivity
                                                               violation: ``positivity=``
                                                               chooses error or warning);
                                                               bootstrap and jackknife
                                                               refits of ``causal_mediation``
                                                               and ``mediate``
capped estimates  finite estimates from a ridge penalty        ``impute`` (``logreg``
                  :math:`\Lambda = 10^{-5} n` on the slopes    method; the role mice's data
                  (never separated)                            augmentation plays)
================  ===========================================  =============================

``survey_glm`` follows "warning + flag" as R ``svyglm`` does: a
:class:`~mutualaid_outcomes.errors.DataWarning` and a note for a separated full-sample fit
and for separated replicate refits (counted), the diverged estimates kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special

from .ols import Packer, group_sum, solve_batched

__all__ = [
    "MAX_ITER",
    "TOL",
    "SEPARATION_EPS",
    "GLMFit",
    "IRLSFit",
    "boundary_rows",
    "deviance",
    "fit_glm",
    "information",
    "irls",
    "link_inverse",
    "logit_one_step_jackknife",
    "unit_weights",
]

#: Default largest number of scoring steps of one fit.
MAX_ITER = 100
#: Convergence: the largest absolute step is at most ``TOL * (1 + max|beta|)``.
TOL = 1e-10
#: A fitted probability within this distance of 0 or 1 is "numerically 0 or 1" (R glm.fit's
#: ``10 * .Machine$double.eps``): the sign of (quasi-)complete separation.
SEPARATION_EPS = 10 * np.finfo(float).eps
#: Floor for variance functions of non-canonical links (keeps W finite at the boundary).
_VAR_FLOOR = 1e-300
#: Above this many fits in a batch, information matrices come from packed row products.
_PACK_FROM = 4
_BINOMIAL = ("binomial", "fractional_logit")
_CANONICAL = {
    ("gaussian", "identity"),
    ("binomial", "logit"),
    ("fractional_logit", "logit"),
    ("poisson", "log"),
}


# --------------------------------------------------------------------------- links


def link_inverse(eta: np.ndarray, link: str) -> np.ndarray:
    """Mean from the linear predictor for ``link`` in identity, logit, probit, log."""
    if link == "logit":
        return special.expit(eta)
    if link == "probit":
        return special.ndtr(eta)
    if link == "log":
        with np.errstate(over="ignore"):
            return np.exp(eta)
    return np.asarray(eta, dtype=float)


def _link(mu: np.ndarray, link: str) -> np.ndarray:
    if link == "logit":
        return special.logit(mu)
    if link == "probit":
        return special.ndtri(mu)
    if link == "log":
        return np.log(mu)
    return mu


def _parts(
    eta: np.ndarray, family: str, link: str, theta: float | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, complement (binomial; else NaN), unit working weight and unit score weight.

    The working weight is ``mu_eta^2 / V(mu)`` and the score weight ``mu_eta / V(mu)``,
    both per unit prior weight.
    """
    mu = link_inverse(eta, link)
    cmu = np.full_like(mu, np.nan)
    if family in _BINOMIAL:
        cmu = link_inverse(-eta, link)
        var = mu * cmu
    elif family == "poisson":
        var = mu
    elif family == "negative_binomial":
        var = mu + mu**2 / float(theta)  # type: ignore[arg-type]
    else:
        var = np.ones_like(mu)
    if (family, link) in _CANONICAL:
        return mu, cmu, var, np.ones_like(mu)
    if link == "probit":
        mu_eta = np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)
    elif link == "log":
        mu_eta = mu
    elif link == "logit":
        mu_eta = mu * cmu
    else:
        mu_eta = np.ones_like(mu)
    with np.errstate(over="ignore", invalid="ignore"):
        var = np.maximum(var, _VAR_FLOOR)
        return mu, cmu, mu_eta**2 / var, mu_eta / var


def unit_weights(
    eta: np.ndarray, family: str, link: str, theta: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Working weight ``mu_eta^2 / V(mu)`` and score weight ``mu_eta / V(mu)`` per unit weight."""
    with np.errstate(over="ignore", invalid="ignore"):
        _, _, ww, sw = _parts(eta, family, link, theta)
    return ww, sw


def _residual(y: np.ndarray, mu: np.ndarray, cmu: np.ndarray, family: str) -> np.ndarray:
    """Response residual ``y - mu``, from the complement for binomial families.

    ``y (1 - mu) - (1 - y) mu`` stays non-zero where ``mu`` rounds to 1, so a separated
    fit keeps diverging instead of stopping with a zero score.
    """
    if family in _BINOMIAL:
        return y * cmu - (1 - y) * mu
    return y - mu


def _mustart(y: np.ndarray, w: np.ndarray, family: str) -> np.ndarray:
    if family in _BINOMIAL:
        return (w * y + 0.5) / (w + 1)
    if family in ("poisson", "negative_binomial"):
        return np.broadcast_to(y + 0.1, w.shape)
    return np.broadcast_to(y, w.shape)


def boundary_rows(eta: np.ndarray, weights: np.ndarray, family: str, link: str) -> np.ndarray:
    """Rows (positive weight) whose fitted probability is numerically 0 or 1, per fit.

    ``eta`` and ``weights`` are ``(S, n)``; returns ``(S,)`` counts (zero for families
    other than binomial): the module's one separation test.
    """
    if family not in _BINOMIAL:
        return np.zeros(eta.shape[0], dtype=int)
    tail = link_inverse(-np.abs(eta), link)
    return np.sum((tail < SEPARATION_EPS) & (weights > 0), axis=1)


# --------------------------------------------------------------------------- batch


@dataclass(frozen=True, eq=False)
class IRLSFit:
    """A batch of GLM fits, one per weight vector.

    Attributes
    ----------
    beta : numpy.ndarray
        ``(S, p)`` estimates (last finite iterate when a fit failed or diverged).
    converged : numpy.ndarray
        ``(S,)``: the step criterion was met.
    n_iter : numpy.ndarray
        ``(S,)`` scoring steps taken.
    n_boundary : numpy.ndarray
        ``(S,)`` rows with fitted probabilities numerically 0 or 1 (binomial families).
    """

    beta: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    n_boundary: np.ndarray

    @property
    def separated(self) -> np.ndarray:
        """``(S,)``: (quasi-)complete separation by the module's test."""
        return self.n_boundary > 0

    @property
    def ok(self) -> np.ndarray:
        """``(S,)``: converged, finite and not separated (the resampling criterion)."""
        return self.converged & ~self.separated & np.isfinite(self.beta).all(axis=1)


def irls(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    *,
    family: str,
    link: str,
    start: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    penalty: np.ndarray | None = None,
    theta: float | None = None,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> IRLSFit:
    r"""Fit one GLM per row of ``weights`` (``(S, n)``) by Fisher scoring.

    Parameters
    ----------
    x : numpy.ndarray
        ``(n, p)`` design (with its intercept column).
    y : numpy.ndarray
        ``(n,)`` response (0/1 or proportions for the binomial families).
    weights : numpy.ndarray
        ``(S, n)`` prior (case) weights: bootstrap counts, leave-one-out indicators or
        ``numpy.ones((1, n))`` for one fit.
    family, link : str
        ``gaussian``/identity, ``binomial`` or ``fractional_logit``/logit or probit,
        ``poisson``/log, ``negative_binomial``/log (size ``theta`` fixed).
    start : numpy.ndarray, optional
        ``(p,)`` or ``(S, p)`` starting coefficients; R's ``mustart`` when omitted.
    offset : numpy.ndarray, optional
        ``(n,)`` offset of the linear predictor.
    penalty : numpy.ndarray, optional
        ``(p,)`` ridge penalty :math:`\Lambda` (diagonal).
    max_iter, tol : int, float
        Iteration limit and step tolerance (see the module notes).
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    weights = np.atleast_2d(np.asarray(weights, dtype=float))
    s, p = weights.shape[0], x.shape[1]
    off = 0.0 if offset is None else np.asarray(offset, dtype=float)
    pen = np.zeros(p) if penalty is None else np.asarray(penalty, dtype=float)
    gram = _gram_function(x, s)
    n_iter = np.zeros(s, dtype=int)
    if start is None:
        mu0 = _mustart(y, weights, family)
        eta0 = _link(mu0, link)
        _, _, ww, sw = _parts(eta0, family, link, theta)
        z = eta0 - off + (y - mu0) * sw / ww
        beta, ok0 = solve_batched(gram(weights * ww) + np.diag(pen), (weights * ww * z) @ x)
        beta[~ok0] = np.nan
        n_iter += 1
    else:
        beta = np.broadcast_to(np.asarray(start, dtype=float), (s, p)).copy()
        ok0 = np.isfinite(beta).all(axis=1)

    def system(idx: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        w = weights[idx]
        eta = b @ x.T + off
        with np.errstate(over="ignore", invalid="ignore"):
            mu, cmu, ww, sw = _parts(eta, family, link, theta)
            score = (w * sw * _residual(y, mu, cmu, family)) @ x - pen * b
        return gram(w * ww) + np.diag(pen), score

    converged = _scoring(system, beta, ok0, n_iter, max_iter - int(start is None), tol)
    with np.errstate(invalid="ignore"):
        eta = np.nan_to_num(beta) @ x.T + off
    return IRLSFit(
        beta=beta,
        converged=converged,
        n_iter=n_iter,
        n_boundary=boundary_rows(eta, weights, family, link),
    )


def _gram_function(x: np.ndarray, n_fits: int) -> Callable[[np.ndarray], np.ndarray]:
    """``weights (m, n) -> (m, p, p)`` matrices ``X' diag(w) X`` for the fits of a batch.

    Above :data:`_PACK_FROM` fits: packed row products, one matrix product for all fits
    (an ``(p (p + 1) / 2, n)`` array built once). At or below it: one ``X' W X`` product
    per fit through a preallocated ``(n, p)`` buffer, so a single fit on a million rows
    holds one extra copy of ``X`` instead of the ``p (p + 1) / 2`` packed products.
    """
    if n_fits > _PACK_FROM:
        return Packer(x, intercept=False).gram
    buf = np.empty_like(x)

    def gram(weights: np.ndarray) -> np.ndarray:
        weights = np.atleast_2d(weights)
        out = np.empty((weights.shape[0], x.shape[1], x.shape[1]))
        for i, w in enumerate(weights):
            np.multiply(x, w[:, None], out=buf)
            out[i] = buf.T @ x
        return out

    return gram


def _scoring(
    system: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
    beta: np.ndarray,
    active: np.ndarray,
    n_iter: np.ndarray,
    max_iter: int,
    tol: float,
) -> np.ndarray:
    """The scoring loop shared by :func:`irls` and :func:`.glm_chunked.irls_chunked` (in place).

    ``system(idx, beta[idx])`` returns the information matrices ``(m, p, p)`` and scores
    ``(m, p)`` of the fits ``idx`` still iterating; each step solves them with
    :func:`.ols.solve_batched` and applies the module's convergence rule. Returns the
    ``converged`` mask; ``beta`` and ``n_iter`` are updated in place.
    """
    active = active.copy()
    converged = np.zeros(len(beta), dtype=bool)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        info, score = system(idx, beta[idx])
        step, ok = solve_batched(info, score)
        bad = ~ok | ~np.isfinite(step).all(axis=1)
        step[bad] = 0.0
        beta[idx] = beta[idx] + step
        n_iter[idx[~bad]] += 1
        done = ~bad & (
            np.abs(step).max(axis=1, initial=0.0) <= tol * (1 + np.abs(beta[idx]).max(axis=1))
        )
        converged[idx[done]] = True
        active[idx[done | bad]] = False
    return converged


# --------------------------------------------------------------------------- one fit


@dataclass(frozen=True, eq=False)
class GLMFit:
    """One GLM fit: estimates, fitted values and the iteration's outcome."""

    beta: np.ndarray
    eta: np.ndarray
    mu: np.ndarray
    converged: bool
    n_iter: int
    n_boundary: int

    @property
    def separated(self) -> bool:
        """(Quasi-)complete separation by the module's test."""
        return self.n_boundary > 0


def fit_glm(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    family: str,
    link: str,
    start: np.ndarray | None = None,
    offset: np.ndarray | None = None,
    penalty: np.ndarray | None = None,
    theta: float | None = None,
    max_iter: int = MAX_ITER,
    tol: float = TOL,
) -> GLMFit:
    """One GLM fit: :func:`irls` with a single weight vector (``None``: all ones)."""
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    res = irls(
        x,
        y,
        w[None, :],
        family=family,
        link=link,
        start=start,
        offset=offset,
        penalty=penalty,
        theta=theta,
        max_iter=max_iter,
        tol=tol,
    )
    beta = res.beta[0]
    eta = x @ beta + (0.0 if offset is None else offset)
    with np.errstate(over="ignore", under="ignore"):
        mu = link_inverse(eta, link)
    return GLMFit(
        beta=beta,
        eta=eta,
        mu=mu,
        converged=bool(res.converged[0]),
        n_iter=int(res.n_iter[0]),
        n_boundary=int(res.n_boundary[0]),
    )


def information(
    x: np.ndarray,
    eta: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    family: str,
    link: str,
    theta: float | None = None,
    penalty: np.ndarray | None = None,
) -> np.ndarray:
    """Expected information ``X' W X (+ Lambda)`` at the linear predictor ``eta``."""
    with np.errstate(over="ignore", invalid="ignore"):
        _, _, ww, _ = _parts(eta, family, link, theta)
    if weights is not None:
        ww = ww * weights
    info = (x * ww[:, None]).T @ x
    return info if penalty is None else info + np.diag(penalty)


def deviance(
    y: np.ndarray,
    eta: np.ndarray,
    weights: np.ndarray,
    *,
    family: str,
    link: str,
    theta: float | None = None,
) -> float:
    """Deviance of a fit (R's ``dev.resids`` summed)."""
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        mu = link_inverse(eta, link)
        if family == "gaussian":
            d = (y - mu) ** 2
        elif family in _BINOMIAL:
            cmu = link_inverse(-eta, link)
            d = 2 * (
                special.xlogy(y, y)
                - special.xlogy(y, mu)
                + special.xlogy(1 - y, 1 - y)
                - special.xlogy(1 - y, cmu)
            )
        elif family == "poisson":
            d = 2 * (special.xlogy(y, y) - special.xlogy(y, mu) - (y - mu))
        else:
            th = float(theta)  # type: ignore[arg-type]
            d = 2 * (
                special.xlogy(y, y)
                - special.xlogy(y, mu)
                - (y + th) * (np.log(y + th) - np.log(mu + th))
            )
        return float(np.sum(weights * d))


# --------------------------------------------------------------------------- jackknife


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
    packer = Packer(x1, intercept=False)
    mu = special.expit(x1 @ beta)
    vp = packer.packed * (mu * (1 - mu))[:, None]
    score = x1 * (y - mu)[:, None]
    if groups is not None:
        n_groups = int(groups.max()) + 1
        vp = group_sum(vp, groups, n_groups)
        score = group_sum(score, groups, n_groups)
    step, ok = solve_batched(packer.unpack(vp.sum(axis=0) - vp), score)
    out = beta - step
    out[~ok] = np.nan
    return out
