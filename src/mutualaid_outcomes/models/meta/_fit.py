"""Fitting and inference of fixed- and random-effects (meta-regression) models.

Given effects ``y``, sampling variances ``v`` and a design ``X`` with an intercept,
:func:`fit_model` estimates tau^2 (:mod:`.tau2`) and then, with weights
``w_i = 1 / (v_i + tau^2)``,

* ``beta = (X'WX)^-1 X'Wy`` and ``Var(beta) = (X'WX)^-1``;
* with ``test="knha"`` (Knapp & Hartung 2003) the covariance is multiplied by
  ``s^2 = y'Py / (k - p)`` and tests use t (coefficients) and F (omnibus) with
  ``k - p`` denominator degrees of freedom (metafor does not truncate ``s^2`` at 1);
* the omnibus test of moderators ``QM = b' Var(b)^-1 b`` over the non-intercept
  coefficients (the intercept alone in an intercept-only model), chi^2(m) or, with
  Knapp-Hartung, ``QM / m ~ F(m, k - p)``;
* heterogeneity: Cochran's ``Q = y'P y`` with weights ``1 / v_i`` (``QE`` for a
  meta-regression), ``I^2 = 100 tau^2 / (tau^2 + s^2_typ)`` and ``H^2 = tau^2 / s^2_typ + 1``
  with the "typical" sampling variance ``s^2_typ = (k - p) / tr(P)`` (Higgins & Thompson
  2002; metafor's definition for random-effects models); for the fixed-effect model
  ``I^2 = 100 (Q - (k - p)) / Q`` and ``H^2 = Q / (k - p)``;
* the ML and REML log-likelihoods as metafor's ``fit.stats``.

Validated against metafor 3.8.1 ``rma.uni`` (tests/reference/meta_metafor.R).

References
----------
Knapp G, Hartung J (2003). Improved tests for a random effects meta-regression with a
single covariate. Stat Med 22:2693-2710. Higgins JPT, Thompson SG (2002). Quantifying
heterogeneity in a meta-analysis. Stat Med 21:1539-1558. Viechtbauer W (2010). Conducting
meta-analyses in R with the metafor package. J Stat Softw 36(3):1-48.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._weighted import wls
from .tau2 import Tau2Estimate, estimate_tau2

__all__ = ["ModelFit", "fit_model", "critical_value"]


@dataclass(frozen=True, eq=False)
class ModelFit:
    """The numbers of one fitted model (no labels, no data frame)."""

    method: str
    test: str
    y: np.ndarray
    v: np.ndarray
    X: np.ndarray
    beta: np.ndarray
    vb: np.ndarray
    tau2: Tau2Estimate
    s2w: float
    weights: np.ndarray
    hat: np.ndarray
    q: float
    q_p: float
    i2: float
    h2: float
    vt: float
    qm: float
    qm_df: int
    qm_p: float
    ll_ml: float
    ll_reml: float

    @property
    def k(self) -> int:
        """Number of studies."""
        return int(self.X.shape[0])

    @property
    def p(self) -> int:
        """Number of coefficients."""
        return int(self.X.shape[1])

    @property
    def ddf(self) -> float | None:
        """Denominator df of t/F tests (``k - p``) with Knapp-Hartung; ``None`` for z tests."""
        return float(self.k - self.p) if self.test == "knha" else None

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.diag(self.vb))

    @property
    def fitted(self) -> np.ndarray:
        """Fitted values ``X beta``."""
        return self.X @ self.beta

    @property
    def loglik(self) -> float:
        """REML log-likelihood for REML fits, ML otherwise (metafor's ``logLik``)."""
        return self.ll_reml if self.method == "REML" else self.ll_ml

    @property
    def n_params(self) -> int:
        """Parameters counted by the information criteria (coefficients, plus tau^2)."""
        return self.p + (0 if self.method == "FE" else 1)

    @property
    def aic(self) -> float:
        """Akaike information criterion (metafor's definition)."""
        return -2 * self.loglik + 2 * self.n_params

    @property
    def bic(self) -> float:
        """Bayesian information criterion (``log(k - p)`` penalty for REML, as metafor)."""
        n = self.k - self.p if self.method == "REML" else self.k
        return -2 * self.loglik + self.n_params * math.log(n) if n > 0 else float("nan")


def critical_value(conf_level: float, ddf: float | None) -> float:
    """Two-sided critical value: t with ``ddf`` df, or standard normal when ``ddf`` is None."""
    if ddf is None:
        return float(stats.norm.isf((1 - conf_level) / 2))
    if ddf <= 0:
        return float("nan")
    return float(stats.t.isf((1 - conf_level) / 2, ddf))


def _heterogeneity(y, v, X, method: str, tau2: float) -> tuple[float, float, float, float, float]:
    """Q, its p-value, I^2, H^2 and the typical sampling variance (metafor's definitions)."""
    k, p = X.shape
    if k <= p:
        return 0.0, 1.0, 0.0, 1.0, 0.0
    fe = wls(y, X, 1.0 / v)
    q = max(0.0, fe.rss)
    q_p = float(stats.chi2.sf(q, k - p))
    vt = (k - p) / fe.trace_p
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - p)) / q) if q > 0 else 0.0
        h2 = q / (k - p)
    else:
        i2 = 100 * tau2 / (vt + tau2)
        h2 = tau2 / vt + 1
    return q, q_p, i2, h2, vt


def _omnibus(beta, vb, test: str, k: int, intercept_only: bool) -> tuple[float, int, float]:
    p = len(beta)
    btt = np.arange(p) if intercept_only else np.arange(1, p)
    b = beta[btt]
    try:
        qm = float(b @ np.linalg.solve(vb[np.ix_(btt, btt)], b))
    except np.linalg.LinAlgError:
        return float("nan"), len(btt), float("nan")
    m = len(btt)
    if test == "knha":
        qm /= m
        p_val = float(stats.f.sf(qm, m, k - p)) if k - p > 0 else float("nan")
    else:
        p_val = float(stats.chi2.sf(qm, m))
    return qm, m, p_val


def fit_model(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    method: str,
    test: str,
    *,
    tol: float = 1e-10,
    max_iter: int = 1000,
    tau2: Tau2Estimate | None = None,
) -> ModelFit:
    """Fit a fixed- or random-effects model with design ``X`` (first column the intercept).

    ``tau2`` fixes the heterogeneity estimate (used when refitting with a known value);
    otherwise it is estimated by ``method``. The caller ensures ``k >= p`` (fixed effect)
    or ``k >= p + 1`` (random effects) and positive variances.
    """
    k, p = X.shape
    est = tau2 if tau2 is not None else estimate_tau2(y, v, X, method, tol=tol, max_iter=max_iter)
    t2 = est.tau2
    fit = wls(y, X, 1.0 / (v + t2))
    vb = fit.A.copy()
    s2w = 1.0
    if test == "knha":
        rss = fit.rss
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
        vb = vb * s2w
    intercept_only = p == 1
    qm, qm_df, qm_p = _omnibus(fit.beta, vb, test, k, intercept_only)
    q, q_p, i2, h2, vt = _heterogeneity(y, v, X, method, t2)
    sum_log = float(np.sum(np.log(v + t2)))
    ll_ml = -0.5 * k * math.log(2 * math.pi) - 0.5 * sum_log - 0.5 * fit.rss
    _, logdet_xx = np.linalg.slogdet(X.T @ X)
    _, logdet_a = np.linalg.slogdet(fit.A)
    ll_reml = (
        -0.5 * (k - p) * math.log(2 * math.pi)
        + 0.5 * logdet_xx
        - 0.5 * sum_log
        + 0.5 * logdet_a
        - 0.5 * fit.rss
    )
    hat = fit.hat.copy()
    hat[hat > 1 - 10 * np.finfo(float).eps] = 1.0
    return ModelFit(
        method=method,
        test=test,
        y=y,
        v=v,
        X=X,
        beta=fit.beta,
        vb=vb,
        tau2=est,
        s2w=s2w,
        weights=fit.w,
        hat=hat,
        q=q,
        q_p=q_p,
        i2=i2,
        h2=h2,
        vt=vt,
        qm=qm,
        qm_df=qm_df,
        qm_p=qm_p,
        ll_ml=float(ll_ml),
        ll_reml=float(ll_reml),
    )


def predict_rows(fit: ModelFit, X_new: np.ndarray, conf_level: float) -> dict[str, np.ndarray]:
    """Predicted values, SEs, confidence and prediction intervals (metafor ``predict.rma``).

    The prediction interval is ``pred +- crit * sqrt(se^2 + tau^2)`` with the z or t
    critical value of the model's test; NaN for the fixed-effect model.
    """
    pred = X_new @ fit.beta
    vpred = np.einsum("ij,jk,ik->i", X_new, fit.vb, X_new)
    vpred = np.where(vpred < 0, np.nan, vpred)
    se = np.sqrt(vpred)
    crit = critical_value(conf_level, fit.ddf)
    out = {
        "estimate": pred,
        "std_error": se,
        "conf_low": pred - crit * se,
        "conf_high": pred + crit * se,
    }
    if fit.method == "FE":
        out["pi_low"] = np.full_like(pred, np.nan)
        out["pi_high"] = np.full_like(pred, np.nan)
    else:
        half = crit * np.sqrt(vpred + fit.tau2.tau2)
        out["pi_low"] = pred - half
        out["pi_high"] = pred + half
    return out
