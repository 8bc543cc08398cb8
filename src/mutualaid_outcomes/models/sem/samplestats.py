r"""Sample statistics by group and missing-data pattern, and the saturated (h1) model.

Complete data are one pattern. With ``missing="fiml"`` the rows of a group are split by
which variables are observed; each pattern keeps its size :math:`n_k`, mean
:math:`\bar y_k` and ML covariance :math:`S_k` of the observed variables, which is all
the normal log-likelihood needs:

.. math::
   -2\ell = \sum_k n_k \{p_k \log 2\pi + \log|\Sigma_{oo}| +
            \mathrm{tr}(\Sigma_{oo}^{-1}[S_k + (\bar y_k-\mu_o)(\bar y_k-\mu_o)^\top])\}.

The saturated model's estimates (``h1``) are the sample mean and ML covariance for
complete data and the EM estimates (Dempster, Laird & Rubin 1977) otherwise, iterated
until the largest change is below ``em_tol`` (lavaan: ``em.h1.tol``).

Examples
--------
>>> import numpy as np
>>> X = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 3.0]])
>>> g = group_stats(X, label="all")
>>> [(p.obs.tolist(), p.n) for p in g.patterns]
[([0, 1], 3), ([0], 1)]
>>> np.round(g.mean, 4).tolist()
[2.5, 3.25]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import linalg  # noqa: F401

from ...errors import ConvergenceError, DataValidationError

__all__ = ["Pattern", "GroupStats", "group_stats", "pattern_m2ll", "em_saturated"]

LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class Pattern:
    """Rows sharing one set of observed variables."""

    obs: np.ndarray
    rows: np.ndarray
    n: float  # rows in the pattern (a weighted count inside resampling)
    mean: np.ndarray
    cov: np.ndarray


@dataclass(frozen=True)
class GroupStats:
    """Data and sufficient statistics of one group.

    ``mean`` and ``cov`` are the saturated-model estimates (sample moments, or EM
    estimates with missing data); ``h1_m2ll`` is its ``-2 log L``.
    """

    label: str
    X: np.ndarray
    n: int
    patterns: tuple[Pattern, ...]
    mean: np.ndarray
    cov: np.ndarray
    complete: bool
    h1_m2ll: float
    em_iterations: int = 0

    @property
    def p(self) -> int:
        """Number of observed variables."""
        return self.X.shape[1]


def _patterns(X: np.ndarray) -> tuple[Pattern, ...]:
    mask = ~np.isnan(X)
    keys, inverse = np.unique(mask, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    counts = np.bincount(inverse, minlength=len(keys))
    out = []
    for k in np.argsort(-counts, kind="stable"):
        obs = np.flatnonzero(keys[k])
        if obs.size == 0:
            continue
        rows = np.flatnonzero(inverse == k)
        Y = X[np.ix_(rows, obs)]
        mean = Y.mean(axis=0)
        Yc = Y - mean
        out.append(Pattern(obs, rows, rows.size, mean, Yc.T @ Yc / rows.size))
    return tuple(out)


def pattern_m2ll(patterns: tuple[Pattern, ...], mu: np.ndarray, sigma: np.ndarray) -> float:
    """``-2 log L`` of normal data summarised by patterns.

    Evaluated at mean ``mu`` and covariance ``sigma`` (``inf`` if a block of ``sigma`` is
    not positive definite).

    Examples
    --------
    >>> X = np.array([[0.0], [2.0]])
    >>> round(pattern_m2ll(group_stats(X).patterns, np.array([1.0]), np.eye(1)), 4)
    5.6758
    """
    total = 0.0
    for pat in patterns:
        o = pat.obs
        try:
            c = linalg.cho_factor(sigma[np.ix_(o, o)], lower=True, check_finite=False)
        except linalg.LinAlgError:
            return math.inf
        logdet = 2.0 * np.log(np.diag(c[0])).sum()
        d = pat.mean - mu[o]
        W = pat.cov + np.outer(d, d)
        tr = np.trace(linalg.cho_solve(c, W, check_finite=False))
        total += pat.n * (o.size * LOG_2PI + logdet + tr)
    return float(total)


def em_saturated(
    patterns: tuple[Pattern, ...],
    p: int,
    *,
    tol: float = 1e-13,
    max_iter: int = 100_000,
) -> tuple[np.ndarray, np.ndarray, int]:
    """EM estimates of the mean and covariance of incomplete multivariate normal data.

    Starts (as lavaan) from the available-case means and variances with zero
    covariances, and stops when the largest absolute change of a mean or covariance is
    below ``tol``.

    Returns
    -------
    mu, sigma : numpy.ndarray
    iterations : int

    Raises
    ------
    ConvergenceError
        If ``max_iter`` iterations do not reach ``tol``.
    """
    n = sum(pat.n for pat in patterns)
    s1 = np.zeros(p)
    s2 = np.zeros(p)
    cnt = np.zeros(p)
    for pat in patterns:
        s1[pat.obs] += pat.n * pat.mean
        cnt[pat.obs] += pat.n
    if np.any(cnt == 0):
        raise DataValidationError(
            "A variable has no observed value in a group; FIML cannot estimate its mean."
        )
    mu = s1 / cnt
    for pat in patterns:
        d = pat.mean - mu[pat.obs]
        s2[pat.obs] += pat.n * (np.diag(pat.cov) + d * d)
    var0 = s2 / cnt
    var0[~np.isfinite(var0) | (var0 == 0)] = 1.0
    sigma = np.diag(var0)
    pre = []
    for pat in patterns:
        o = pat.obs
        m = np.setdiff1d(np.arange(p), o)
        sy = pat.n * pat.mean
        syy = pat.n * (pat.cov + np.outer(pat.mean, pat.mean))
        pre.append((o, m, np.ix_(o, o), np.ix_(o, m), np.ix_(m, o), np.ix_(m, m), sy, syy))
    for it in range(1, max_iter + 1):
        T1 = np.zeros(p)
        T2 = np.zeros((p, p))
        for pat, (o, m, oo, om, mo, mm, sy, syy) in zip(patterns, pre):
            T1[o] += sy
            T2[oo] += syy
            if m.size:
                beta = np.linalg.solve(sigma[oo], sigma[om]).T
                a = mu[m] - beta @ mu[o]
                bsy = beta @ sy
                T1[m] += pat.n * a + bsy
                cross = np.outer(a, sy) + beta @ syy
                T2[mo] += cross
                T2[om] += cross.T
                cond = sigma[mm] - beta @ sigma[om]
                T2[mm] += (
                    pat.n * np.outer(a, a)
                    + np.outer(a, bsy)
                    + np.outer(bsy, a)
                    + beta @ syy @ beta.T
                    + pat.n * cond
                )
        mu_new = T1 / n
        sigma_new = T2 / n - np.outer(mu_new, mu_new)
        sigma_new = (sigma_new + sigma_new.T) / 2
        delta = max(np.abs(mu_new - mu).max(), np.abs(sigma_new - sigma).max())
        mu, sigma = mu_new, sigma_new
        if delta < tol:
            return mu, sigma, it
    raise ConvergenceError(
        f"The EM algorithm for the saturated model did not converge in {max_iter} iterations "
        "(too little information about some covariances); check the missing-data patterns."
    )


def group_stats(
    X: np.ndarray,
    *,
    label: str = "",
    em_tol: float = 1e-13,
    em_max_iter: int = 100_000,
) -> GroupStats:
    """Patterns and saturated-model estimates of one group's data matrix.

    Parameters
    ----------
    X : numpy.ndarray
        ``(n, p)`` data (NaN for missing values); rows missing on every variable must
        have been removed.
    label : str
        Group label.
    em_tol, em_max_iter : float, int
        EM convergence for incomplete data.

    Returns
    -------
    GroupStats
    """
    X = np.asarray(X, dtype=float)
    patterns = _patterns(X)
    p = X.shape[1]
    complete = len(patterns) == 1 and patterns[0].obs.size == p
    iters = 0
    if complete:
        mean, cov = patterns[0].mean, patterns[0].cov
    else:
        mean, cov, iters = em_saturated(patterns, p, tol=em_tol, max_iter=em_max_iter)
    m2ll = pattern_m2ll(patterns, mean, cov)
    return GroupStats(label, X, X.shape[0], patterns, mean, cov, complete, m2ll, iters)
