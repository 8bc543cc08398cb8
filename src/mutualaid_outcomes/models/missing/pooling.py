"""Rubin's rules: combine analyses of multiply imputed data.

:func:`fit_imputed` fits one model to every completed data set of an
:class:`~mutualaid_outcomes.models.missing.imputation.ImputedData` and pools the fits;
:func:`pool` pools fits made elsewhere (any result with the coefficient protocol:
regression, GEE, mixed, Cox, IV ... results);
:func:`pool_mediation` pools a product-of-coefficients mediation analysis,
bootstrapping within every completed data set.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from mutualaid_outcomes.models.missing.imputation import impute
>>> from mutualaid_outcomes.models.regression.glm import fit_regression
>>> rng = np.random.default_rng(5)
>>> df = pd.DataFrame({"x": rng.normal(size=300), "z": rng.normal(size=300)})
>>> df["y"] = 1 + 0.5 * df["x"] + 0.5 * df["z"] + rng.normal(size=300)
>>> df.loc[df["z"] > 0.5, "y"] = np.nan
>>> imp = impute(df, m=10, max_iter=5, rng=2)
>>> res = fit_imputed(imp, fit_regression, "y ~ x")
>>> res.tidy()[["term", "estimate", "df", "fmi"]].round(2)
        term  estimate      df   fmi
0  Intercept      1.00   19.32  0.65
1          x      0.55  107.59  0.23
"""

from __future__ import annotations

import inspect
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from ..._rng import check_rng, seed_of, spawn_rngs
from ..._validation import check_option, check_positive_int, renamed
from ...errors import ArgumentTypeError, DataValidationError, EstimationError, OptionError
from ...results import CoefficientProtocol
from ..mediation.product import MediationResult, mediate
from ._pooled_results import (
    POOLED_GLANCE_COLUMNS,
    POOLED_MEDIATION_GLANCE_COLUMNS,
    PooledMediationResult,
    PooledResult,
)
from ._rubin import extract_fit, rubin_rules
from .imputation import ImputedData

__all__ = [
    "pool",
    "fit_imputed",
    "pool_mediation",
    "PooledResult",
    "PooledMediationResult",
    "POOLED_GLANCE_COLUMNS",
    "POOLED_MEDIATION_GLANCE_COLUMNS",
    "rubin_rules",
]


PoolCI = Literal["rubin", "pooled_percentile"]


# --------------------------------------------------------------------------- Rubin's rules


# --------------------------------------------------------------------------- pooled result


@renamed(fits="results")
def pool(results: Sequence[CoefficientProtocol], *, dfcom: float | None = None) -> PooledResult:
    r"""Combine fits of the same model to ``m`` imputed data sets by Rubin's rules.

    Parameters
    ----------
    results : sequence of results
        ``m >= 2`` fitted results with the coefficient protocol (``coef()``,
        ``vcov()``, ``nobs``, ``df_resid``): from
        :func:`~mutualaid_outcomes.models.regression.glm.fit_regression`,
        :func:`~mutualaid_outcomes.models.regression.gee.fit_gee`,
        :func:`~mutualaid_outcomes.models.regression.mixed.fit_mixed`,
        :func:`~mutualaid_outcomes.models.survival.cox.fit_cox`,
        :func:`~mutualaid_outcomes.models.survival.cox_time_varying.fit_cox_time_varying`,
        :func:`~mutualaid_outcomes.models.causal.iv.fit_iv` and others; one per
        completed data set, all of the same class and with the same terms.
    dfcom : float, optional
        Complete-data degrees of freedom; ``numpy.inf`` gives large-sample df. Default
        (None): what R ``mice::pool`` 3.15 uses for the matching R fit -- for
        ``fit_regression`` results ``n - k`` in every family (R ``df.residual()`` of
        ``lm`` and ``glm``); for ``fit_cox`` and ``fit_cox_time_varying`` results
        ``max(events - k, 1)`` (mice's rule for ``coxph``: ``nevent - length(coef)``);
        otherwise the results' ``df_resid``, or infinity when it is None (GEE, mixed
        models, Fine-Gray).

    Returns
    -------
    PooledResult
        ``tidy()`` has the standard columns (t intervals with the per-term df) plus ``df,
        ubar, b, t, riv, lambda, fmi``; ``glance()`` gives ``m``, ``n`` and the method.

    Raises
    ------
    ArgumentTypeError
        ``results`` is not a sequence of results with coefficients, or they differ in
        class.
    DataValidationError
        Fewer than 2 fits, fits with different terms, or an invalid ``dfcom``.
    OptionError
        A mediation result (use :func:`pool_mediation`) or another result that cannot
        be pooled.
    EstimationError
        A fit with infinite coefficients (a Cox model with a monotone likelihood).

    Notes
    -----
    Each fit contributes ``coef()`` and its own covariance ``vcov()`` -- the covariance
    the fit reports, i.e. the robust (sandwich) one for GEE, for Cox models fitted with
    ``cov_type='robust'`` or ``cluster=``, and for regression with a robust
    ``cov_type``. The
    formulas are those of :func:`rubin_rules` applied per term, and in matrix form for
    ``vcov``. Exponentiated output (odds, rate, hazard ratios) transforms the pooled
    estimate and limits; pooling itself is on the linear-predictor scale, where the
    estimates are closer to normal.

    Validated against R ``mice::pool`` (mice 3.15.0) for ``lm`` and binomial ``glm`` fits
    on fixed imputations of ``nhanes`` and for ``coxph`` fits on fixed imputations of
    ``survival::lung`` (default ``dfcom`` and ``dfcom = Inf``): estimates, ``ubar``,
    ``b``, ``t``, ``dfcom``, ``df``, ``riv``, ``lambda``, ``fmi`` and the limits agree to
    1e-6 relative (tests/reference/mice_pool.R, mice_pool_cox.R).

    References
    ----------
    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.

    Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
    imputation. *Biometrika*, 86(4), 948-955.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.regression.glm import fit_regression
    >>> rng = np.random.default_rng(1)
    >>> frames = []
    >>> for _ in range(3):
    ...     x = rng.normal(size=50)
    ...     frames.append(pd.DataFrame({"x": x, "y": x + rng.normal(size=50)}))
    >>> res = pool([fit_regression(f, "y ~ x") for f in frames])
    >>> res.glance()[["m", "n", "dfcom", "df_method"]]
       m   n  dfcom      df_method
    0  3  50   48.0  Barnard-Rubin
    """
    if isinstance(results, (str, bytes)) or not isinstance(results, Sequence):
        raise ArgumentTypeError(
            f"`results` must be a list of fitted results; got {type(results).__name__}."
        )
    fits = list(results)
    if len(fits) < 2:
        raise DataValidationError(
            f"`results` must hold at least 2 results (one per imputed data set); got {len(fits)}."
        )
    kinds = {type(f).__name__ for f in fits}
    if len(kinds) > 1:
        raise ArgumentTypeError(f"`results` mixes result classes {sorted(kinds)}; pool one model.")
    parts = [extract_fit(f, i) for i, f in enumerate(fits)]
    terms = parts[0]["terms"]
    for i, p in enumerate(parts[1:], start=1):
        if p["terms"] != terms:
            raise DataValidationError(
                f"Fit {i} has terms {p['terms']}, fit 0 has {terms}; every fit must be the "
                "same model (a factor level absent from one imputed data set changes the terms)."
            )
    if dfcom is None:
        dfc = float(parts[0]["dfcom"])
    else:
        if isinstance(dfcom, bool) or not isinstance(dfcom, numbers.Real) or not dfcom > 0:
            raise DataValidationError(f"`dfcom` must be a positive number or inf; got {dfcom!r}.")
        dfc = float(dfcom)
    return _pooled_result(
        terms,
        np.vstack([p["est"] for p in parts]),
        np.stack([p["cov"] for p in parts]),
        dfc,
        n=int(parts[0]["n"]),
        n_dropped=int(max(p["n_dropped"] for p in parts)),
        model=type(fits[0]).__name__,
        exponentiable=bool(parts[0]["exp"]),
        notes=_drop_notes(parts),
    )


def _drop_notes(parts: list[dict[str, Any]]) -> tuple[str, ...]:
    dropped = [p["n_dropped"] for p in parts]
    if max(dropped) == 0:
        return ()
    return (
        f"Rows excluded for missing values after imputation (columns not imputed): "
        f"{min(dropped)} to {max(dropped)} per fit.",
    )


def _pooled_result(
    terms: list[str],
    est: np.ndarray,
    covs: np.ndarray,
    dfcom: float,
    *,
    n: int,
    n_dropped: int,
    model: str,
    exponentiable: bool,
    notes: tuple[str, ...],
) -> PooledResult:
    m = est.shape[0]
    if not np.all(np.isfinite(est)) or not np.all(np.isfinite(covs)):
        raise EstimationError(
            "Some fits have non-finite estimates or covariances; Rubin's rules need finite "
            "values in every imputation."
        )
    variances = np.diagonal(covs, axis1=1, axis2=2)
    rr = rubin_rules(est, variances, dfcom)
    ubar = covs.mean(axis=0)
    dev = est - est.mean(axis=0)
    bmat = dev.T @ dev / (m - 1)
    tmat = ubar + (1 + 1 / m) * bmat
    idx = list(terms)
    return PooledResult(
        _terms=tuple(terms),
        _estimates=rr["estimate"],
        _cov=pd.DataFrame(tmat, index=idx, columns=idx),
        within=pd.DataFrame(ubar, index=idx, columns=idx),
        between=pd.DataFrame(bmat, index=idx, columns=idx),
        df=rr["df"],
        riv=rr["riv"],
        lambda_=rr["lambda"],
        fmi=rr["fmi"],
        fit_estimates=pd.DataFrame(est, columns=idx, index=pd.RangeIndex(1, m + 1, name="imp")),
        m=m,
        _nobs=n,
        n_dropped=n_dropped,
        model=model,
        dfcom=dfcom,
        exponentiable=exponentiable,
        notes=notes,
    )


def _check_imputed(imputed: Any) -> ImputedData:
    if not isinstance(imputed, ImputedData):
        raise ArgumentTypeError(
            f"`imputed` must be the ImputedData returned by impute(); got {type(imputed).__name__}."
        )
    return imputed


def fit_imputed(
    imputed: ImputedData,
    fit_function: Callable[..., Any],
    /,
    *args: Any,
    dfcom: float | None = None,
    **kwargs: Any,
) -> PooledResult:
    """Fit a model to every completed data set and pool the fits by Rubin's rules.

    Parameters
    ----------
    imputed : ImputedData
        The result of :func:`~mutualaid_outcomes.models.missing.imputation.impute`.
    fit_function : callable
        A model function taking the data first (every model function does):
        ``fit_regression``, ``fit_gee``, ``fit_mixed``, ``fit_cox``,
        ``fit_cox_time_varying``, ``fit_iv`` ...
    *args, **kwargs
        Passed on after the data, e.g. the formula: ``fit_imputed(imp, fit_regression,
        "y ~ x")`` calls ``fit_regression(completed_i, "y ~ x")`` for each ``i``.
    dfcom : float, optional
        Complete-data degrees of freedom, see :func:`pool`.

    Returns
    -------
    PooledResult

    Raises
    ------
    ArgumentTypeError
        ``imputed`` is not an ImputedData or ``fit_function`` is not callable.
    OptionError
        ``fit_function`` is ``mediate`` (use :func:`pool_mediation`), or ``data`` is
        passed in ``kwargs``.

    Notes
    -----
    See :func:`pool` for the rules. Warnings raised by the individual fits propagate.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.missing.imputation import impute
    >>> from mutualaid_outcomes.models.regression.glm import fit_regression
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"x": rng.normal(size=100)})
    >>> df["y"] = 2 * df["x"] + rng.normal(size=100)
    >>> df.loc[:19, "y"] = np.nan
    >>> res = fit_imputed(impute(df, m=5, max_iter=3, rng=1), fit_regression, "y ~ x")
    >>> res.glance()[["m", "n"]]
       m    n
    0  5  100
    """
    imputed = _check_imputed(imputed)
    if not callable(fit_function):
        raise ArgumentTypeError(
            f"`fit_function` must be a model function such as fit_regression; got "
            f"{type(fit_function).__name__}."
        )
    if getattr(fit_function, "__name__", "") == "mediate":
        raise OptionError("Use pool_mediation(imputed, ...) to pool a mediation analysis.")
    if "data" in kwargs:
        raise OptionError("Do not pass `data`; fit_imputed supplies each completed data set.")
    try:
        params = list(inspect.signature(fit_function).parameters)
    except (TypeError, ValueError):  # pragma: no cover - builtins without signature
        params = ["data"]
    if not params or params[0] != "data":
        raise ArgumentTypeError(
            f"`fit_function` ({getattr(fit_function, '__name__', fit_function)!r}) does not "
            "take the data as its first argument `data`."
        )
    fits = [fit_function(frame, *args, **kwargs) for frame in imputed]
    return pool(fits, dfcom=dfcom)


# --------------------------------------------------------------------------- mediation


@renamed(interval="ci")
def pool_mediation(
    imputed: ImputedData,
    exposure: str,
    mediators: str | Sequence[str],
    outcome: str,
    covariates: str | Sequence[str] = (),
    *,
    n_boot: int = 1000,
    ci: PoolCI = "rubin",
    rng: int | np.random.Generator | None = None,
    **mediate_kwargs: Any,
) -> PooledMediationResult:
    r"""Product-of-coefficients mediation pooled over multiply imputed data (MI-boot).

    Parameters
    ----------
    imputed : ImputedData
        The result of :func:`~mutualaid_outcomes.models.missing.imputation.impute`.
    exposure, mediators, outcome, covariates
        As in :func:`~mutualaid_outcomes.models.mediation.product.mediate`.
    n_boot : int
        Bootstrap resamples per imputed data set (``m * n_boot`` draws in all).
    ci : {"rubin", "pooled_percentile"}
        Interval method. ``"rubin"``: t interval from Rubin's rules with the bootstrap variance as the
        within-imputation variance. ``"pooled_percentile"``: percentile limits of the
        ``m * n_boot`` pooled draws (keeps the skewness of indirect effects).
    rng : int, numpy.random.Generator or None
        Random source (keyword-only); imputation ``i`` bootstraps with its own child
        stream.
    **mediate_kwargs
        Other arguments of ``mediate`` (``model``, ``outcome_family``, ``cluster``).
        Each imputation is bootstrapped with percentile draws (no BCa jackknife per
        imputation); ``n_sims`` and ``conf_level`` are not accepted.

    Returns
    -------
    PooledMediationResult
        ``tidy()`` rows as ``mediate`` plus ``df, ubar, b, t, riv, lambda, fmi``.

    Raises
    ------
    ArgumentTypeError
        ``imputed`` is not an ImputedData.
    OptionError
        Unknown ``ci``, or ``n_sims`` / ``conf_level`` / ``data`` in ``mediate_kwargs``,
        or ``indicators`` (latent mediators have no bootstrap draws to pool).

    Notes
    -----
    "MI-boot" of Schomaker & Heumann (2018): impute first, then bootstrap each of the
    ``m`` completed data sets. Point estimates are :math:`\bar Q`, the mean of the ``m``
    plug-in estimates. The within variance :math:`\bar U` is the mean of the ``m``
    bootstrap variances, :math:`B` the variance of the plug-in estimates, and
    :math:`T`, ``df`` (large-sample), ``riv``, ``lambda`` and ``fmi`` follow
    :func:`rubin_rules`; ``std_error`` is :math:`\sqrt{T}`. Schomaker & Heumann found
    MI-boot with Rubin's rules valid; the pooled-sample percentile interval
    ("MI Boot pooled sample") keeps asymmetric limits for products of paths, but its
    spread estimates :math:`\bar U + (1 - 1/m)B` rather than :math:`T`, so it is
    slightly too narrow when ``m`` is small and the fraction of missing information
    large -- use ``m >= 20`` with it. ``statistic`` and ``p_value`` are given only for
    single paths, ``direct`` and ``total`` (as ``mediate``). Pooling of the
    point estimates is checked against pooling of separate ``mediate`` fits; the
    rules themselves are checked against R ``mice::pool``.

    References
    ----------
    Schomaker, M., & Heumann, C. (2018). Bootstrap inference when using multiple
    imputation. *Statistics in Medicine*, 37(14), 2252-2266.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.missing.imputation import impute
    >>> rng = np.random.default_rng(4)
    >>> n = 300
    >>> x = rng.normal(size=n)
    >>> med = 0.5 * x + rng.normal(size=n)
    >>> y = 0.4 * med + 0.2 * x + rng.normal(size=n)
    >>> df = pd.DataFrame({"x": x, "med": med, "y": y})
    >>> df.loc[rng.random(n) < 0.2, "med"] = np.nan
    >>> imp = impute(df, m=5, max_iter=5, rng=3)
    >>> res = pool_mediation(imp, "x", ["med"], "y", n_boot=500, rng=1)
    >>> round(float(res.tidy().set_index("term").loc["indirect[med]", "estimate"]), 2)
    0.27
    """
    imputed = _check_imputed(imputed)
    check_option(ci, ("rubin", "pooled_percentile"), "ci")
    n_boot = check_positive_int(n_boot, "n_boot", minimum=2)
    for bad in ("n_sims", "conf_level", "data", "rng", "n_boot"):
        if bad in mediate_kwargs:
            raise OptionError(
                f"`{bad}` cannot be passed to pool_mediation's mediate calls; intervals come "
                "from `ci` and tidy(conf_level=...)."
            )
    if mediate_kwargs.get("indicators") is not None:
        raise OptionError(
            "`indicators` (latent mediators) cannot be passed to pool_mediation: MI-boot pools "
            "the bootstrap draws of observed-mediator models."
        )
    gen = check_rng(rng)
    fits: list[MediationResult] = []
    for frame, child in zip(imputed, spawn_rngs(gen, imputed.m)):
        fit = mediate(
            frame,
            exposure,
            mediators,
            outcome,
            covariates,
            n_boot=n_boot,
            ci="percentile",
            rng=child,
            **mediate_kwargs,
        )
        # observed mediators only (`indicators` rejected above): a MediationResult
        fits.append(cast(MediationResult, fit))
    terms = list(fits[0].terms)
    est = np.vstack([f.coef().to_numpy(dtype=float) for f in fits])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        boot_var = np.vstack([np.nanvar(f.draws[terms].to_numpy(), axis=0, ddof=1) for f in fits])
    rr = rubin_rules(est, boot_var, np.inf)
    draws = pd.concat(
        [f.draws[terms].assign(imp=i) for i, f in enumerate(fits, start=1)], ignore_index=True
    )
    n_dropped = max(f.n_dropped for f in fits)
    notes = [
        f"MI-boot: {n_boot} bootstrap resamples in each of {imputed.m} imputed data sets; "
        f"{'Rubin t intervals' if ci == 'rubin' else 'percentile limits of the pooled draws'}."
    ]
    if n_dropped:
        notes.append(f"Up to {n_dropped} rows per imputation excluded for missing values.")
    return PooledMediationResult(
        _terms=tuple(terms),
        _estimates=rr["estimate"],
        draws=draws,
        fit_estimates=pd.DataFrame(est, columns=terms, index=pd.RangeIndex(1, imputed.m + 1)),
        ubar=rr["ubar"],
        b=rr["b"],
        t=rr["t"],
        df=rr["df"],
        riv=rr["riv"],
        lambda_=rr["lambda"],
        fmi=rr["fmi"],
        ci=ci,
        m=imputed.m,
        _nobs=int(fits[0].nobs),
        n_dropped=int(n_dropped),
        n_boot=n_boot,
        n_failed=int(sum(f.n_failed for f in fits)),
        seed=seed_of(rng),
        wald_terms=frozenset(fits[0].wald_terms),
        notes=tuple(notes),
    )
