"""The steps of :func:`.glm.fit_regression`: option checks, outcome coding, family fits.

:func:`fit_family` dispatches to the package's GLM fitter (:mod:`.._core.families`,
applying the "error" / "warning + flag" separation policy of :mod:`.._core.glm`) or to
the likelihood families (beta, zero-inflated, ordinal); :func:`regression_vcov` turns a
fit into the covariance of the ``cov_type`` rule of docs/conventions.md.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import check_cov_type, check_option
from ...errors import (
    ArgumentTypeError,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
    SmallSampleWarning,
)
from .._core.covariance import sandwich_vcov
from .._core.families import (
    FAMILIES,
    LINKS,
    Fit,
    binary_outcome,
    check_count,
    check_fraction,
    fit_glm_family,
)
from .._core.likelihood import fit_beta, fit_ordinal, fit_zero_inflated

__all__ = [
    "MIN_CLUSTERS_WARN",
    "REGRESSION_COV_TYPES",
    "CovType",
    "check_options",
    "cluster_codes",
    "fit_family",
    "offset_values",
    "outcome_values",
    "regression_vcov",
    "used_cov_type",
]

CovType = Literal["model", "robust", "HC0", "HC1", "HC2", "HC3"]


#: ``cov_type`` values of fit_regression (docs/conventions.md)
REGRESSION_COV_TYPES: tuple[str, ...] = ("model", "robust", "HC0", "HC1", "HC2", "HC3")


MIN_CLUSTERS_WARN = 10  # fewer clusters than this: cluster-robust SEs are biased downward


def offset_values(clean: pd.DataFrame, offset: str | None) -> np.ndarray | None:
    if offset is None:
        return None
    col = clean[offset]
    if not pd.api.types.is_numeric_dtype(col) or not np.all(np.isfinite(col.to_numpy(float))):
        raise DataValidationError(
            f"`offset` ('{offset}') must be numeric and finite (e.g. the log of days at "
            "risk; log(0) gives -inf)."
        )
    return col.to_numpy(dtype=float)


def used_cov_type(cov_type: str | None, clustered: bool, family: str) -> str:
    """The covariance estimator the default rule of docs/conventions.md picks.

    Cluster-robust with cluster ids (``cov_type`` None or ``'robust'``); otherwise HC0
    for ``'robust'`` and for the fractional logit's default (a quasi-likelihood estimator,
    defined with its sandwich: Papke & Wooldridge 1996), model-based by default.
    """
    if clustered:
        if cov_type not in (None, "robust"):
            raise OptionError(
                f"`cluster` was given, so the standard errors are cluster-robust: "
                f"`cov_type` must be None or 'robust'; got {cov_type!r}."
            )
        return "cluster"
    if cov_type is None:
        return "HC0" if family == "fractional_logit" else "model"
    return "HC0" if cov_type == "robust" else cov_type


def regression_vcov(
    fit: Fit, cov_type: str, clusters: np.ndarray | None, family: str, cluster_type: str | None
) -> np.ndarray:
    k = fit.n_coef if family == "negative_binomial" else len(fit.params)
    return sandwich_vcov(
        fit.bread,
        fit.scores,
        "nonrobust" if cov_type == "model" else cov_type,
        scale=fit.scale,
        hat=fit.hat_values() if cov_type in ("HC2", "HC3") else None,
        clusters=clusters,
        n_params=k,
        cluster_hc1=cluster_type == "HC1",
    )


def check_options(
    family: Any,
    link: Any,
    beta_boundary: Any,
    cov_type: Any,
    cluster: Any,
    cluster_type: Any,
    weights: Any,
    zero_formula: Any,
    offset: Any,
) -> tuple[str, str, str]:
    """Validate the options of :func:`.glm.fit_regression`; link, SE type and cluster type."""
    check_option(family, FAMILIES, "family")
    if link is None:
        link = LINKS[family][0]
    check_option(link, LINKS[family], "link")
    check_option(beta_boundary, ("warn", "transform", "error"), "beta_boundary")
    if cov_type is not None:
        check_cov_type(cov_type, REGRESSION_COV_TYPES)
    cov_type = used_cov_type(cov_type, cluster is not None, family)
    if cluster_type is None:
        cluster_type = "HC1" if family == "gaussian" else "HC0"
    check_option(cluster_type, ("HC0", "HC1"), "cluster_type")
    if weights is not None and family not in (*FAMILIES[:5], "ordinal_logit"):
        raise OptionError(
            f"`weights` are supported for GLM families (gaussian, binomial, poisson, "
            f"negative_binomial, fractional_logit) and ordinal_logit; got family={family!r}."
        )
    if zero_formula is not None and family not in ("zip", "zinb"):
        raise OptionError("`zero_formula` applies only to family 'zip' or 'zinb'.")
    if cov_type in ("HC2", "HC3") and family in ("beta", "zip", "zinb", "ordinal_logit"):
        raise OptionError(
            f"`cov_type={cov_type!r}` needs hat values, defined here for GLM families only; "
            "use 'HC0', 'HC1' or cluster-robust errors."
        )
    if offset is not None and family in ("beta", "ordinal_logit"):
        raise OptionError(f"`offset` is not available for family={family!r}.")
    for argname, value in (("weights", weights), ("cluster", cluster), ("offset", offset)):
        if value is not None and not isinstance(value, str):
            raise ArgumentTypeError(f"`{argname}` must be a column name; got {value!r}.")
    return link, cov_type, cluster_type


def outcome_values(
    y_raw: pd.Series, family: str, lhs: str, event_level: Any = None
) -> tuple[Any, list[str], str | None]:
    """The outcome coded for ``family`` (0/1, counts, proportions ...), notes, event level.

    A labelled binary outcome gets the note ``Outcome coded 1 = '<level>'.`` naming the
    event level (the second level, or ``event_level``).
    """
    notes: list[str] = []
    if event_level is not None and family != "binomial":
        raise DataValidationError(
            f"`event_level` applies to family='binomial' only; got family={family!r}."
        )
    if family in ("binomial",):
        y, event = binary_outcome(y_raw, "formula", event_level)
        if event is not None:
            notes.append(f"Outcome coded 1 = '{event}'.")
        return y, notes, event
    if family in ("poisson", "negative_binomial", "zip", "zinb"):
        return check_count(y_raw, family, "formula"), notes, None
    if family in ("fractional_logit", "beta"):
        return check_fraction(y_raw, family, "formula"), notes, None
    if family == "gaussian":
        if not pd.api.types.is_numeric_dtype(y_raw):
            raise DataValidationError(
                f"`formula`: the gaussian outcome ('{lhs}') must be numeric; got {y_raw.dtype}."
            )
        return y_raw.to_numpy(dtype=float), notes, None
    return y_raw, notes, None  # ordinal: any ordered values


def cluster_codes(clean: pd.DataFrame, cluster: str | None) -> tuple[np.ndarray | None, int | None]:
    """Integer cluster codes and the number of clusters (at least 2; warn below 10)."""
    if cluster is None:
        return None, None
    codes, uniq = pd.factorize(clean[cluster], sort=True)
    n_clusters = len(uniq)
    if n_clusters < 2:
        raise DataValidationError(
            f"`cluster` ('{cluster}') has a single cluster among the {len(clean)} rows used; "
            "cluster-robust SEs need at least 2 (and preferably 30 or more). Drop "
            "`cluster=` or use a coarser/finer grouping."
        )
    if n_clusters < MIN_CLUSTERS_WARN:
        warnings.warn(
            f"Only {n_clusters} clusters in `cluster` ('{cluster}'); cluster-robust SEs "
            "are biased downward with few clusters. Consider a wild cluster bootstrap.",
            SmallSampleWarning,
            stacklevel=3,
        )
    return codes, n_clusters


def fit_family(
    family: str,
    link: str,
    y: Any,
    y_raw: pd.Series,
    X: np.ndarray,
    w: np.ndarray,
    names: list[str],
    off: np.ndarray | None,
    *,
    lhs: str,
    zero_design_of: Callable[[], tuple[np.ndarray, Any]],
    beta_boundary: str,
    notes: list[str],
) -> tuple[Fit, Any, tuple[Any, ...]]:
    """Fit ``family``; the fit, the zero-model design (zero-inflated) and ordinal levels.

    ``notes`` receives the separation and beta-boundary messages.
    """
    if family in FAMILIES[:5]:
        return _fit_glm_checked(family, link, y, X, w, names, off, lhs, notes), None, ()
    if family == "beta":
        y = _squeeze_boundary(y, beta_boundary, notes)
        return fit_beta(y, X, link, names), None, ()
    if family in ("zip", "zinb"):
        Z, zero_design = zero_design_of()
        if np.all(y > 0):
            raise DataValidationError(
                f"`formula`: the outcome ('{lhs}') has no zeros; a zero-inflated model is not "
                "identified. Use 'poisson' or 'negative_binomial'."
            )
        fit = fit_zero_inflated(y, X, Z, family, names, list(zero_design.columns), off)
        return fit, zero_design, ()
    keep = [c != "Intercept" for c in names]
    fit, lv = fit_ordinal(
        y_raw.reset_index(drop=True),
        X[:, keep],
        link,
        names=[c for c, kk in zip(names, keep) if kk],
        weights=None if np.all(w == 1) else w,
    )
    return fit, None, tuple(lv)


def _fit_glm_checked(
    family: str,
    link: str,
    y: np.ndarray,
    X: np.ndarray,
    w: np.ndarray,
    names: list[str],
    off: np.ndarray | None,
    lhs: str,
    notes: list[str],
) -> Fit:
    """GLM families; separation: complete is an error, quasi-complete a warning + flag."""
    if family in ("binomial",) and len(np.unique(y)) < 2:
        raise DataValidationError(
            f"`formula`: the binomial outcome ('{lhs}') takes a single value in the "
            f"{len(y)} rows used; nothing to model."
        )
    fit = fit_glm_family(y, X, w, family, link, names, off)
    if family == "gaussian" and not np.isfinite(fit.loglik):
        msg = (
            "Essentially perfect fit: the residuals are numerically zero, so standard "
            "errors, tests and intervals are meaningless (R summary.lm warns likewise). "
            "Check that the outcome is not a predictor in disguise."
        )
        warnings.warn(msg, DataWarning, stacklevel=4)
        notes.append(msg)
    n_sep = fit.n_boundary if family == "binomial" else 0
    if family == "binomial" and n_sep == len(y):
        raise EstimationError(
            "Complete separation: the predictors classify every observation perfectly, so "
            "the odds ratios are infinite. Remove or merge the separating predictor(s), "
            "or use penalised (Firth) logistic regression or exact methods."
        )
    if n_sep:
        msg = (
            f"Quasi-complete separation: {n_sep} of {len(y)} fitted probabilities are 0 or "
            "1, so some estimates and SEs are unreliable (very large). Check sparse "
            "categories; consider merging levels or penalised (Firth) regression."
        )
        warnings.warn(msg, DataWarning, stacklevel=4)
        notes.append(msg)
        fit = replace(fit, converged=False, message="; ".join([fit.message, msg]).strip("; "))
    return fit


def _squeeze_boundary(y: np.ndarray, beta_boundary: str, notes: list[str]) -> np.ndarray:
    """Beta regression: outcomes at exactly 0 or 1 are an error or squeezed into (0, 1)."""
    if not np.any((y <= 0) | (y >= 1)):
        return y
    nb = int(np.sum((y <= 0) | (y >= 1)))
    if beta_boundary == "error":
        raise DataValidationError(
            f"`formula`: beta regression needs outcomes strictly inside (0, 1); {nb} "
            "values are exactly 0 or 1. Use beta_boundary='transform' "
            "(Smithson-Verkuilen squeeze) or family='fractional_logit'."
        )
    n_ = len(y)
    msg = (
        f"{nb} outcome values at exactly 0 or 1 were squeezed into (0, 1) by "
        "(y (n - 1) + 0.5) / n (Smithson & Verkuilen 2006); estimates depend on this "
        "choice. family='fractional_logit' needs no transformation."
    )
    notes.append(msg)
    if beta_boundary == "warn":
        warnings.warn(msg, DataWarning, stacklevel=4)
    return (y * (n_ - 1) + 0.5) / n_
