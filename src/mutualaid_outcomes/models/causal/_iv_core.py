"""Instrumental-variable internals: the covariance rule, clusters and first-stage F statistics."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import check_cov_type, check_numeric, check_option
from ...errors import (
    ArgumentTypeError,
    DataValidationError,
    DataWarning,
    OptionError,
    SmallSampleWarning,
)
from .._core.covariance import sandwich_vcov
from .._core.ols import fit_ols

__all__ = [
    "CORE_COV",
    "IVCov",
    "IV_CLUSTER_TYPE",
    "IV_COV_TYPES",
    "MIN_CLUSTERS_WARN",
    "WEAK_F",
    "WeakInstrumentWarning",
    "check_cov",
    "cluster_codes",
    "first_stage_f",
    "iv_vcov",
    "numeric_columns",
    "public_cov",
    "warn_weak",
]


IVCov = Literal["model", "robust", "HC0", "HC1"]


#: ``cov_type`` values of fit_iv and cace (docs/conventions.md)
IV_COV_TYPES: tuple[str, ...] = ("model", "robust", "HC0", "HC1")


#: what each public value computes (the covariance helpers' names)
CORE_COV = {"model": "nonrobust", "robust": "HC0", "HC0": "HC0", "HC1": "HC1"}

#: cluster-robust factor by default: R ``sandwich::vcovCL`` on an ``AER::ivreg`` fit uses
#: ``type = "HC0"`` (``G / (G - 1)``); its HC1-type default applies to ``lm`` objects only
IV_CLUSTER_TYPE = "HC0"


#: first-stage F below this flags weak instruments (Staiger & Stock 1997 rule of thumb)
WEAK_F = 10.0


#: fewer clusters than this: cluster-robust SEs are biased downward (as fit_regression)
MIN_CLUSTERS_WARN = 10


class WeakInstrumentWarning(DataWarning):
    """The instruments barely predict the exposure (first-stage F below 10)."""


def check_cov(cov_type: Any, cluster: Any, cluster_type: Any) -> str:
    """The covariance estimator by the default rule of docs/conventions.md.

    Cluster-robust with ``cluster`` (``cov_type`` None or ``'robust'``); otherwise
    ``cov_type``, model-based (classical 2SLS, as R ``AER::ivreg``) by default.
    Returns ``'nonrobust'``, ``'HC0'``, ``'HC1'`` or ``'cluster'``.
    """
    if cov_type is not None:
        check_cov_type(cov_type, IV_COV_TYPES)
    check_option(cluster_type, ("HC0", "HC1"), "cluster_type")
    if cluster is not None and not isinstance(cluster, str):
        raise ArgumentTypeError(f"`cluster` must be a column name; got {cluster!r}.")
    if cluster is not None:
        if cov_type not in (None, "robust"):
            raise OptionError(
                f"`cluster` was given, so the standard errors are cluster-robust: `cov_type` "
                f"must be None or 'robust'; got {cov_type!r}."
            )
        return "cluster"
    return CORE_COV["model" if cov_type is None else cov_type]


def public_cov(core: str) -> str:
    """The reported ``cov_type``: ``'model'`` for the classical covariance."""
    return "model" if core == "nonrobust" else core


def cluster_codes(clean: pd.DataFrame, cluster: str | None) -> tuple[np.ndarray | None, int | None]:
    if cluster is None:
        return None, None
    codes, uniq = pd.factorize(clean[cluster], sort=True)
    if len(uniq) < 2:
        raise DataValidationError(
            f"`cluster` ('{cluster}') has a single cluster among the {len(clean)} rows used; "
            "cluster-robust SEs need at least 2."
        )
    if len(uniq) < MIN_CLUSTERS_WARN:
        warnings.warn(
            f"Only {len(uniq)} clusters in `cluster` ('{cluster}'); cluster-robust SEs and "
            "F statistics are biased with few clusters.",
            SmallSampleWarning,
            stacklevel=3,
        )
    return codes, len(uniq)


def iv_vcov(
    bread: np.ndarray,
    scores: np.ndarray,
    cov_type: str,
    scale: float,
    clusters: np.ndarray | None,
    cluster_type: str,
) -> np.ndarray:
    return sandwich_vcov(
        bread,
        scores,
        cov_type,
        scale=scale,
        clusters=clusters,
        cluster_hc1=cluster_type == "HC1",
    )


def first_stage_f(
    D: np.ndarray,
    Z: np.ndarray,
    W: np.ndarray,
    excl: np.ndarray,
    names: Sequence[str],
    cov_type: str,
    clusters: np.ndarray | None,
    cluster_type: str,
) -> pd.DataFrame:
    """F statistics of the excluded instruments in each first-stage regression."""
    n, kz = Z.shape
    q = int(excl.sum())
    unrestricted = fit_ols(Z, D, what="first-stage regression")
    restricted = fit_ols(W, D, what="first-stage regression without the instruments")
    ZtZi = unrestricted.xtx_inv
    rows = []
    for j, name in enumerate(names):
        b = unrestricted.beta[:, j]
        e = D[:, j] - Z @ b
        rss_u = float(unrestricted.rss[j])
        rss_r = float(restricted.rss[j])
        f_classical = ((rss_r - rss_u) / q) / (rss_u / (n - kz))
        if cov_type == "nonrobust":
            f = f_classical
        else:
            V = iv_vcov(ZtZi, e[:, None] * Z, cov_type, 1.0, clusters, cluster_type)
            bq = b[excl]
            f = float(bq @ np.linalg.solve(V[np.ix_(excl, excl)], bq)) / q
        rows.append(
            {
                "exposure": name,
                "f_statistic": float(f),
                "df_num": q,
                "df_denom": n - kz,
                "p_value": float(stats.f.sf(f, q, n - kz)),
                "f_classical": float(f_classical),
                "partial_r2": (rss_r - rss_u) / rss_r if rss_r > 0 else float("nan"),
                "cov_type": public_cov(cov_type),
                "weak": bool(f < WEAK_F),
            }
        )
    return pd.DataFrame(rows)


def warn_weak(fs: pd.DataFrame, stacklevel: int = 3) -> str | None:
    weak = fs[fs["weak"]]
    if weak.empty:
        return None
    detail = ", ".join(f"'{r.exposure}': F = {r.f_statistic:.2f}" for r in weak.itertuples())
    msg = (
        f"Weak instruments: first-stage F below {WEAK_F:g} ({detail}; {weak['cov_type'].iloc[0]} "
        "Wald F). The instruments barely predict the exposure, so 2SLS is biased toward "
        "the confounded OLS estimate and Wald intervals undercover; report "
        "Anderson-Rubin intervals or find a stronger instrument."
    )
    warnings.warn(msg, WeakInstrumentWarning, stacklevel=stacklevel)
    return msg


def numeric_columns(clean: pd.DataFrame, cols: Sequence[str], argument: str) -> None:
    check_numeric(clean, list(cols), argument)
