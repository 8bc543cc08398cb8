r"""Baseline model and fit indices (lavaan ``fitMeasures()`` definitions).

With :math:`T, d` the model's and :math:`T_b, d_b` the baseline model's chi-square and
degrees of freedom, :math:`N` the number of rows used and :math:`G` the number of groups:

* CFI :math:`= 1 - \max(T-d, 0)/\max(T-d, T_b-d_b, 0)`;
* TLI :math:`= 1 - [(T-d)d_b]/[(T_b-d_b)d]`;
* RMSEA :math:`= \sqrt{\max(T/(Nd) - 1/N, 0)}\sqrt G`, its confidence limits from the
  non-centrality :math:`\lambda` at which the non-central :math:`\chi^2_d(\lambda)`
  distribution function at :math:`T` equals 0.95 / 0.05 (:math:`\sqrt{\lambda/(Nd)}\sqrt G`),
  and the p-value of close fit :math:`P(\chi^2_d(N d\, 0.05^2/G) > T)`;
* SRMR (Bentler): root mean square of the residual means and covariances divided by the
  sample (or EM) standard deviations, weighted over groups by :math:`N_g/N`;
* log-likelihood of the model (conditional on fixed covariates, as lavaan reports it),
  AIC :math:`= -2\ell + 2q`, BIC :math:`= -2\ell + q\log N`.

Scaled versions (MLR) use the Yuan--Bentler statistic of the model and of the baseline;
the scaled RMSEA uses :math:`T` with :math:`\mathrm{tr}(U\Gamma)` in place of :math:`d`
(lavaan's definition). The baseline (independence) model frees the variances (and means)
of the observed variables and keeps the exogenous covariates' moments fixed.

The RMSEA limits are found with Brent's method to 1e-12; lavaan uses ``uniroot()`` at
its default tolerance, so its limits can differ from exact ones in the sixth digit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize as sopt
from scipy import stats

from .likelihood import Likelihood
from .partable import ParRow, ParTable
from .samplestats import LOG_2PI, GroupStats

__all__ = [
    "baseline_partable",
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci",
    "rmsea_pvalue",
    "srmr",
    "loglik_x",
]


def baseline_partable(pt: ParTable) -> ParTable:
    """Independence model on the same observed variables and groups."""
    rows: list[ParRow] = []
    k = 0
    x = list(pt.ov_x)
    for g in range(pt.n_groups):
        for v in pt.ov_names:
            if v in x:
                continue
            k += 1
            rows.append(ParRow(v, "~~", v, g, False, k, float("nan"), ""))
        for i, a in enumerate(x):
            for b in x[i:]:
                rows.append(ParRow(a, "~~", b, g, False, 0, float("nan"), "", exo=True))
        if pt.meanstructure:
            for v in pt.ov_names:
                if v in x:
                    rows.append(ParRow(v, "~1", "", g, False, 0, float("nan"), "", exo=True))
                else:
                    k += 1
                    rows.append(ParRow(v, "~1", "", g, False, k, float("nan"), ""))
    return ParTable(tuple(rows), pt.ov_names, (), pt.ov_x, pt.n_groups, k, pt.meanstructure)


def baseline_start(pt: ParTable, stats: Sequence[GroupStats]) -> np.ndarray:
    """Closed-form ML estimates of the independence model.

    Means and ML variances of the observed values of each variable (exact also under
    FIML, where the likelihood factorises over independent variables).
    """
    theta = np.zeros(pt.n_free)
    ov = {v: i for i, v in enumerate(pt.ov_names)}
    for r in pt.rows:
        if not r.free:
            continue
        st = stats[r.group]
        col = st.X[:, ov[r.lhs]]
        col = col[~np.isnan(col)]
        theta[r.free - 1] = col.mean() if r.op == "~1" else col.var()
    return theta


def cfi(X2: float, df: float, X2b: float, dfb: float, c: float = 1.0, cb: float = 1.0) -> float:
    """Comparative fit index (with lavaan's ``c.hat`` arguments for the robust version)."""
    if not all(np.isfinite([X2, df, X2b, dfb, c, cb])):
        return float("nan")
    t1 = max(X2 - c * df, 0.0)
    t2 = max(X2 - c * df, X2b - cb * dfb, 0.0)
    if math.isclose(t1, 0.0, abs_tol=1.5e-8) and math.isclose(t2, 0.0, abs_tol=1.5e-8):
        return 1.0
    return 1.0 - t1 / t2


def tli(X2: float, df: float, X2b: float, dfb: float, c: float = 1.0, cb: float = 1.0) -> float:
    """Tucker--Lewis index (non-normed fit index)."""
    if not all(np.isfinite([X2, df, X2b, dfb, c, cb])):
        return float("nan")
    t1 = (X2 - c * df) * dfb
    t2 = (X2b - cb * dfb) * df
    if df > 0 and abs(t2) > 0:
        return 1.0 - t1 / t2
    return 1.0


def rmsea(X2: float, df: float, N: float, G: int = 1, c: float = 1.0) -> float:
    """Root mean square error of approximation."""
    if not (np.isfinite(X2) and np.isfinite(df)):
        return float("nan")
    if df <= 0:
        return 0.0
    return math.sqrt(max(X2 / N / df - c / N, 0.0)) * math.sqrt(G)


def _root(fun, hi: float) -> float:
    return float(sopt.brentq(fun, 0.0, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps, maxiter=500))


def rmsea_ci(
    X2: float, df: float, N: float, G: int = 1, level: float = 0.90, c: float = 1.0
) -> tuple[float, float]:
    """Confidence limits of the RMSEA (lavaan ``lav_fit_rmsea_ci``)."""
    if not (np.isfinite(X2) and np.isfinite(df)):
        return float("nan"), float("nan")
    upper_p = 1 - (1 - level) / 2
    lower_p = (1 - level) / 2

    def cdf(lam: float) -> float:
        return float(stats.ncx2.cdf(X2, df, lam)) if lam > 0 else float(stats.chi2.cdf(X2, df))

    if df < 1 or cdf(0.0) - upper_p < 0:
        lo = 0.0
    else:
        lam = _root(lambda x: cdf(x) - upper_p, X2)
        lo = math.sqrt(c * lam / (N * df)) * math.sqrt(G)
    top = max(N, X2 * 4)
    if df < 1 or cdf(top) - lower_p > 0 or cdf(0.0) - lower_p < 0:
        hi = 0.0
    else:
        lam = _root(lambda x: cdf(x) - lower_p, top)
        hi = math.sqrt(c * lam / (N * df)) * math.sqrt(G)
    return lo, hi


def rmsea_pvalue(X2: float, df: float, N: float, G: int = 1, h0: float = 0.05, c: float = 1.0):
    """p-value of the test of close fit, H0: RMSEA <= ``h0``."""
    if not (np.isfinite(X2) and np.isfinite(df)) or df <= 0:
        return float("nan")
    ncp = N * df / c * h0**2 / G
    return float(stats.ncx2.sf(X2, df, ncp))


def srmr(lik: Likelihood, theta: np.ndarray, meanstructure: bool) -> float:
    """Bentler's standardised root mean square residual (lavaan ``srmr``)."""
    total = 0.0
    for g, st in enumerate(lik.stats):
        imp = lik.model.implied_group(theta, g)
        sd = np.sqrt(np.diag(st.cov))
        res_cov = (st.cov - imp.sigma) / np.outer(sd, sd)
        iu = np.triu_indices(st.p)
        parts = [res_cov[iu]]
        if meanstructure:
            parts.append((st.mean - imp.mu) / sd)
        e = np.concatenate(parts)
        total += st.n / lik.N * math.sqrt(float(np.mean(e**2)))
    return total


def loglik_x(stats: Sequence[GroupStats], x_idx: Sequence[int]) -> float:
    """Log-likelihood of the fixed exogenous covariates (subtracted, as lavaan does)."""
    if not len(x_idx):
        return 0.0
    total = 0.0
    for st in stats:
        S = st.cov[np.ix_(x_idx, x_idx)]
        total += -st.n / 2 * (len(x_idx) * LOG_2PI + np.linalg.slogdet(S)[1] + len(x_idx))
    return total
