"""Rubin's rules (with the Barnard-Rubin degrees of freedom) and what they pool from a fit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ...errors import ArgumentTypeError, EstimationError, OptionError

__all__ = ["extract_fit", "rubin_rules"]


_LAMBDA_FLOOR = 1e-4  # mice's barnard.rubin() floors lambda at 1e-4 (df stays finite)


def rubin_rules(
    estimates: np.ndarray, variances: np.ndarray, dfcom: float = np.inf
) -> dict[str, np.ndarray]:
    r"""Rubin's rules for ``m`` estimates of ``p`` parameters (the scalar formulas per term).

    Parameters
    ----------
    estimates : array of shape (m, p)
        Complete-data estimates :math:`\hat Q_l`.
    variances : array of shape (m, p)
        Their complete-data variances :math:`U_l` (squared standard errors).
    dfcom : float
        Complete-data degrees of freedom (``inf`` for large-sample inference).

    Returns
    -------
    dict
        Arrays ``estimate, ubar, b, t, df, riv, lambda, fmi`` (length ``p``).

    Notes
    -----
    :math:`\bar Q = m^{-1}\sum \hat Q_l`, :math:`\bar U = m^{-1}\sum U_l`,
    :math:`B = (m-1)^{-1}\sum (\hat Q_l - \bar Q)^2`, :math:`T = \bar U + (1 + 1/m) B`,
    ``riv`` :math:`r = (1 + 1/m) B / \bar U`, :math:`\lambda = (1 + 1/m) B / T`,
    :math:`\nu_{old} = (m - 1) / \lambda^2` (with :math:`\lambda` floored at
    :math:`10^{-4}`, as mice), and for finite ``dfcom`` the Barnard-Rubin (1999)
    :math:`\nu = \nu_{old}\nu_{obs} / (\nu_{old} + \nu_{obs})`,
    :math:`\nu_{obs} = \frac{\nu_{com} + 1}{\nu_{com} + 3}\nu_{com}(1 - \lambda)`;
    ``fmi`` :math:`= (r + 2 / (\nu + 3)) / (1 + r)`. These are exactly the columns of
    R ``mice::pool()`` (mice 3.15).

    Examples
    --------
    >>> out = rubin_rules(np.array([[1.0], [1.2], [0.8]]), np.array([[0.04], [0.05], [0.03]]))
    >>> [round(float(out[k][0]), 4) for k in ("estimate", "t", "riv")]
    [1.0, 0.0933, 1.3333]
    """
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    m = q.shape[0]
    qbar = q.mean(axis=0)
    ubar = u.mean(axis=0)
    b = q.var(axis=0, ddof=1)
    t = ubar + (1 + 1 / m) * b
    with np.errstate(divide="ignore", invalid="ignore"):
        riv = (1 + 1 / m) * b / ubar
        lam = (1 + 1 / m) * b / t
    lam_f = np.maximum(np.nan_to_num(lam, nan=_LAMBDA_FLOOR), _LAMBDA_FLOOR)
    df_old = (m - 1) / lam_f**2
    if np.isinf(dfcom):
        df = df_old
    else:
        df_obs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam_f)
        df = df_old * df_obs / (df_old + df_obs)
    fmi = (riv + 2 / (df + 3)) / (riv + 1)
    return {
        "estimate": qbar,
        "ubar": ubar,
        "b": b,
        "t": t,
        "df": df,
        "riv": riv,
        "lambda": lam,
        "fmi": fmi,
    }


def extract_fit(fit: Any, position: int) -> dict[str, Any]:
    """Terms, estimates, covariance, n and complete-data df of one fit (the protocol)."""
    reason = getattr(fit, "_not_poolable", None)
    if reason:
        raise OptionError(reason)
    if not (hasattr(fit, "coef") and hasattr(fit, "vcov") and hasattr(fit, "glance")):
        raise ArgumentTypeError(
            f"`results` item {position} is a {type(fit).__name__}; pool() accepts fitted "
            "results with coefficients (fit_regression, fit_gee, fit_mixed, fit_cox, "
            "fit_cox_time_varying, fit_iv, fit_fine_gray, propensity_scores ...)."
        )
    try:
        est = fit.coef()
        cov = fit.vcov()
    except NotImplementedError as exc:
        raise ArgumentTypeError(f"`results` item {position} cannot be pooled: {exc}") from None
    terms = [str(t) for t in est.index]
    values = est.to_numpy(dtype=float)
    bad = [t for t, v in zip(terms, values) if not np.isfinite(v)]
    if bad:
        raise EstimationError(
            f"Fit {position} has infinite or missing coefficients {bad} (a monotone "
            "likelihood, for instance); Rubin's rules need finite estimates."
        )
    g = fit.glance()
    dropped = g["n_dropped"].iloc[0] if "n_dropped" in g.columns else 0
    return {
        "terms": terms,
        "est": values,
        "cov": cov.loc[est.index, est.index].to_numpy(dtype=float),
        "n": fit.nobs,
        "n_dropped": int(dropped) if pd.notna(dropped) else 0,
        "dfcom": fit._pool_dfcom,
        "exp": bool(fit._can_exponentiate),
    }
