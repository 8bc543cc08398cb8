"""Propensity scores, inverse-probability and overlap weights, covariate balance.

:func:`propensity_scores` fits the probability of each exposure level given
covariates (logistic regression for a binary exposure, multinomial logistic for
dose groups) and returns a :class:`PropensityResult`. Its :meth:`~PropensityResult.weights`
gives inverse-probability (ATE), ATT and overlap weights,
:meth:`~PropensityResult.balance` the standardised mean differences and variance
ratios before and after weighting (drawn by
:func:`mutualaid_outcomes.plotting.balance.love_plot`), and
:meth:`~PropensityResult.effective_sample_size` Kish's effective sample size.
:func:`fit_weighted` fits the weighted outcome model with robust standard errors.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(3)
>>> df = pd.DataFrame({"severity": rng.normal(size=400), "female": rng.binomial(1, 0.3, 400)})
>>> df["attends"] = rng.binomial(1, 1 / (1 + np.exp(-(0.8 * df["severity"]))))
>>> ps = propensity_scores(df, "attends", ["severity", "female"])
>>> bal = ps.balance("overlap")
>>> float(bal["smd_adjusted"].abs().max()) < 1e-8  # overlap weights balance means exactly
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import (
    as_column_list,
    check_columns,
    check_cov_type,
    check_data_first,
    check_dataframe,
    check_option,
    listwise_delete,
    renamed,
)
from ...errors import (
    ArgumentTypeError,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from .._core.design import check_conditioning, collinearity_note
from ..regression.glm import Family, RegressionResult, fit_regression
from ._design import check_rank, covariate_design, exposure_levels
from ._ps_models import fit_logit, fit_multinomial
from ._ps_result import (
    POSITIVITY_TOL,
    PROPENSITY_GLANCE_COLUMNS,
    Positivity,
    PositivityError,
    PropensityResult,
    PSMethod,
    WeightKind,
)

__all__ = [
    "PositivityError",
    "PropensityResult",
    "PROPENSITY_GLANCE_COLUMNS",
    "propensity_scores",
    "fit_weighted",
]


@renamed(treatment="exposure")
def propensity_scores(
    data: pd.DataFrame,
    exposure: str,
    covariates: str | Sequence[str],
    *,
    method: PSMethod = "logit",
    categorical: Sequence[str] = (),
    reference: Any = None,
    trim: float | None = None,
    positivity: Positivity = "error",
) -> PropensityResult:
    """Estimate propensity scores for an exposure such as AA attendance.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person. Not modified.
    exposure : str
        Exposure column: binary (0/1, boolean or two labels) for ``method='logit'``;
        any set of levels (e.g. dose groups none / some / frequent) for
        ``'multinomial'``.
    covariates : str or sequence of str
        Confounder columns. Numeric columns enter linearly; non-numeric, boolean
        and ``categorical`` columns as indicators of each level but the first.
    method : {'logit', 'multinomial'}
        Logistic or baseline-category multinomial logistic regression.
    categorical : sequence of str
        Numeric-coded covariates (site, arm codes) to treat as categories.
    reference : optional
        Reference (control) level; default the first level in sorted (or categorical)
        order -- 0 for a 0/1 exposure.
    trim : float, optional
        Exclude rows with any fitted level probability below ``trim`` (or, for a
        binary exposure, a score above ``1 - trim``), e.g. 0.05 or 0.1 (Crump et al.
        2009). Trimmed rows keep their scores, get NaN weights and are counted in
        ``glance()['n_trimmed']`` and the notes; the model is not refitted.
    positivity : {'error', 'warn'}
        What to do when fitted probabilities are numerically 0 or 1 (within 1e-8)
        among untrimmed rows: raise :class:`PositivityError` or warn (overlap
        weights stay bounded; inverse-probability weights do not).

    Returns
    -------
    PropensityResult

    Raises
    ------
    ColumnNotFoundError
        ``exposure`` or a covariate is not a column.
    DataValidationError
        The exposure has one level (or not two for ``'logit'``), collinear
        covariates, or invalid ``trim``.
    PositivityError
        Scores of 0 or 1 with ``positivity='error'`` (a covariate pattern determines
        the exposure); the message counts the rows per level and suggests ``trim``,
        overlap weights or removing the separating covariate.
    OptionError
        Unknown ``method`` or ``positivity``.

    Warns
    -----
    DataWarning
        Scores of 0 or 1 with ``positivity='warn'``.
    ConvergenceWarning
        The Newton-Raphson iterations did not converge.

    Notes
    -----
    Logistic: ``logit P(T = 1 | x) = x' beta``. Multinomial: ``log(P(T = j | x) /
    P(T = ref | x)) = x' beta_j``. The logistic model is fitted by the package's IRLS
    (:func:`mutualaid_outcomes.models._core.glm.fit_glm`, relative step 1e-10), the
    multinomial model by Newton-Raphson to a relative step of 1e-11; both report
    model-based (inverse information) standard errors.
    Rows with a missing exposure or covariate are excluded together (listwise) and
    counted in ``glance()`` and the notes.

    Validated against R 4.2.2 (tests/reference/propensity.R): ``glm(binomial)``
    coefficients, SEs and fitted scores to 1e-6 relative; ``nnet::multinom`` fitted
    probabilities within its optimiser tolerance; ATE/ATT/overlap weights and
    weighted SMDs recomputed from R's scores.

    References
    ----------
    Rosenbaum, P. R., & Rubin, D. B. (1983). The central role of the propensity score in
    observational studies for causal effects. *Biometrika*, 70(1), 41-55.

    Imbens, G. W. (2000). The role of the propensity score in estimating dose-response
    functions. *Biometrika*, 87(3), 706-710.

    Crump, R. K., Hotz, V. J., Imbens, G. W., & Mitnik, O. A. (2009). Dealing with limited
    overlap in estimation of average treatment effects. *Biometrika*, 96(1), 187-199.

    Li, F., Morgan, K. L., & Zaslavsky, A. M. (2018). Balancing covariates via propensity
    score weighting. *JASA*, 113(521), 390-400.

    Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples.
    *Statistics in Medicine*, 28(25), 3083-3107.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(11)
    >>> df = pd.DataFrame({"spirit": rng.normal(size=500), "site": rng.choice(["a", "b"], 500)})
    >>> df["dose"] = np.where(df["spirit"] + rng.logistic(size=500) > 0.5, "high",
    ...                       np.where(rng.random(500) < 0.5, "low", "none"))
    >>> ps = propensity_scores(df, "dose", ["spirit", "site"], method="multinomial",
    ...                        reference="none")
    >>> ps.levels
    ('none', 'high', 'low')
    >>> ps.effective_sample_size("overlap").round(1)
      level    n    ess
    0  none  131  113.8
    1  high  207  145.9
    2   low  162  154.7
    """
    data = check_dataframe(data)
    covs, cat = _check_ps_args(data, exposure, covariates, method, categorical, trim, positivity)
    clean, report = listwise_delete(data, [exposure, *covs])
    t = clean[exposure]
    levels = exposure_levels(t, exposure, method, reference, len(clean))
    codes = np.asarray(pd.Categorical(t, categories=levels).codes)
    D = covariate_design(clean, covs, cat)
    X = np.column_stack([np.ones(len(clean)), D.to_numpy()])
    names = ["Intercept", *D.columns]
    check_rank(X, names, "covariates")
    kappa, flagged = check_conditioning(X, names, "covariates")
    if method == "logit":
        fit = fit_logit(codes.astype(float), X)
        terms = names
    else:
        fit = fit_multinomial(codes, X, len(levels))
        terms = [f"{lv}:{nm}" for lv in levels[1:] for nm in names]
    P = fit["probs"]
    probs = pd.DataFrame(P, index=clean.index, columns=list(levels))
    trimmed, notes = _trim_and_check_positivity(P, codes, levels, fit, exposure, trim, positivity)
    if flagged:
        notes = [*notes, collinearity_note(kappa, flagged)]
    params = pd.Series(fit["params"].ravel(), index=terms, name="estimate")
    return PropensityResult(
        exposure=exposure,
        covariates=tuple(covs),
        method=method,
        levels=tuple(levels),
        probabilities=probs,
        received=t.rename("received"),
        trimmed=pd.Series(trimmed, index=clean.index, name="trimmed"),
        missing=report,
        _params=params,
        _cov=pd.DataFrame(fit["vcov"], index=terms, columns=terms),
        loglik=float(fit["loglik"]),
        converged=bool(fit["converged"]),
        n_iter=int(fit["n_iter"]),
        trim=trim,
        _design=D,
        _notes_=tuple(notes),
        condition_number=kappa,
        collinear_columns=flagged,
    )


def _check_ps_args(
    data: pd.DataFrame,
    exposure: Any,
    covariates: Any,
    method: Any,
    categorical: Any,
    trim: Any,
    positivity: Any,
) -> tuple[list[str], list[str]]:
    """Validate the arguments of :func:`propensity_scores`; covariate and categorical lists."""
    check_option(method, ("logit", "multinomial"), "method")
    check_option(positivity, ("error", "warn"), "positivity")
    if not isinstance(exposure, str):
        raise ArgumentTypeError(f"`exposure` must be a column name; got {exposure!r}.")
    check_columns(data, exposure, "exposure")
    covs = check_columns(data, covariates, "covariates")
    if not covs:
        raise DataValidationError("`covariates` is empty; name at least one confounder column.")
    cat = as_column_list(list(categorical), "categorical")
    bad = [c for c in cat if c not in covs]
    if bad:
        raise DataValidationError(f"`categorical` names {bad}, which are not in `covariates`.")
    if exposure in covs:
        raise DataValidationError(f"`covariates` must not contain the exposure ('{exposure}').")
    if trim is not None:
        if isinstance(trim, bool) or not isinstance(trim, (int, float)) or not 0 < trim < 0.5:
            raise DataValidationError(
                f"`trim` must be a number in (0, 0.5), e.g. 0.05 or 0.1; got {trim!r}."
            )
    return covs, cat


def _trim_and_check_positivity(
    P: np.ndarray,
    codes: np.ndarray,
    levels: list[Any],
    fit: dict[str, Any],
    exposure: str,
    trim: float | None,
    positivity: str,
) -> tuple[np.ndarray, list[str]]:
    """Rows trimmed by ``trim``; positivity (scores of 0 or 1) as an error or a warning.

    Separation of the propensity model shows up here: its fitted probabilities are
    numerically 0 or 1 (the caller's choice of policy, see :mod:`.._core.glm`).
    """
    n = len(codes)
    notes: list[str] = []
    trimmed = np.zeros(n, dtype=bool)
    if trim is not None:
        trimmed = np.any((P < trim) | (P > 1 - trim), axis=1)
        by_level = {str(lv): int(np.sum(trimmed & (codes == j))) for j, lv in enumerate(levels)}
        notes.append(
            f"Trimmed {int(trimmed.sum())} of {n} rows with a fitted probability "
            f"outside [{trim}, {1 - trim}] (by level: "
            + ", ".join(f"{k}: {v}" for k, v in by_level.items())
            + "); their weights are NaN, so weighted analyses describe the remaining "
            "population."
        )
    viol = np.any((P < POSITIVITY_TOL) | (P > 1 - POSITIVITY_TOL), axis=1) & ~trimmed
    if viol.any():
        by_level_v = ", ".join(
            f"{lv}: {int(np.sum(viol & (codes == j)))}" for j, lv in enumerate(levels)
        )
        msg = (
            f"Positivity violation: {int(viol.sum())} of {n} rows have a fitted "
            f"probability of 0 or 1 (within {POSITIVITY_TOL:g}) for '{exposure}' "
            f"(rows by level received: {by_level_v}), so their exposure is determined by the "
            "covariates and inverse-probability weights are unbounded."
        )
        if not fit["converged"]:
            msg += " The model did not converge (separation)."
        if positivity == "error":
            raise PositivityError(
                msg + " Use `trim=` (e.g. 0.05) to exclude them with a report, overlap "
                "weights with positivity='warn', or remove/merge the covariate that separates "
                "the groups."
            )
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
    if not fit["converged"] and not viol.any():
        warnings.warn(
            f"The propensity model for '{exposure}' did not converge in {fit['n_iter']} "
            "iterations (often separation: a covariate pattern determines the exposure).",
            ConvergenceWarning,
            stacklevel=3,
        )
        notes.append("The propensity model did not converge.")
    if trimmed.all():
        raise EstimationError(
            f"`trim={trim}` excludes all {n} rows; the exposure groups do not overlap."
        )
    return trimmed, notes


WeightedCov = Literal["robust", "HC0", "HC1", "HC2", "HC3"]
#: ``cov_type`` values of fit_weighted: sandwich estimators only
WEIGHTED_COV_TYPES: tuple[str, ...] = ("robust", "HC0", "HC1", "HC2", "HC3")


def fit_weighted(
    data: pd.DataFrame,
    formula: str,
    weights: str | pd.Series | PropensityResult,
    *,
    family: Family = "gaussian",
    link: str | None = None,
    kind: WeightKind = "ate",
    stabilized: bool = False,
    truncate: tuple[float, float] | None = None,
    focal: Any = None,
    cov_type: WeightedCov | None = None,
    cluster: str | None = None,
    ps_uncertainty: Literal["ignore", "stacked"] = "ignore",
) -> RegressionResult:
    """Fit a propensity-weighted outcome model with robust (sandwich) standard errors.

    Parameters
    ----------
    data : pandas.DataFrame
        Not modified. Rows are matched to the weights by index.
    formula : str
        Outcome model, e.g. ``"pda_15 ~ attends"`` (marginal effect) or with
        covariates for a doubly robust fit.
    weights : str, pandas.Series or PropensityResult
        A weight column, a Series indexed like ``data``, or a fitted propensity
        model (weights from :meth:`PropensityResult.weights` with ``kind``,
        ``stabilized``, ``truncate`` and ``focal``). Rows without a weight
        (trimmed, or not in the propensity model) are excluded and reported.
    family : str
        Any GLM family of :func:`~mutualaid_outcomes.models.regression.glm.fit_regression`
        (``'gaussian'``, ``'binomial'``, ``'poisson'``, ``'negative_binomial'``,
        ``'fractional_logit'``).
    link : str, optional
        Link function (see ``fit_regression``).
    kind, stabilized, truncate, focal
        See :meth:`PropensityResult.weights`.
    cov_type : {'robust', 'HC0', 'HC1', 'HC2', 'HC3'}, optional
        Sandwich covariance (``'robust'`` is HC0, the default: a weighted estimator is
        defined with its sandwich); model-based SEs are not valid with balancing
        weights and ``'model'`` is refused.
    cluster : str, optional
        Cluster column: cluster-robust SEs (``cov_type`` then None or ``'robust'``).
    ps_uncertainty : {'ignore', 'stacked'}
        ``'ignore'``: sandwich SEs that treat the weights as known. ``'stacked'``:
        M-estimation SEs that also carry the uncertainty of an estimated logistic
        propensity model (``weights`` must be a binary-exposure
        :class:`PropensityResult`; ``cov_type='HC0'``; no ``stabilized`` or
        ``truncate``). The result's ``cov_type`` is then ``'stacked'``.

    Returns
    -------
    RegressionResult
        As from ``fit_regression``, with a note on the weights.

    Raises
    ------
    ArgumentTypeError
        ``weights`` of another type.
    OptionError
        ``cov_type='model'`` or another invalid option.
    DataValidationError
        Negative or non-finite weights.

    Notes
    -----
    The weights enter as analytic (prior) weights, as R
    ``glm(weights = w)``: with only the exposure on the right-hand side the
    coefficient is the Hajek (normalised) inverse-probability-weighted difference
    in means. The sandwich ``B (sum u_i u_i') B`` treats the weights as known: it
    ignores the estimation of the propensity score, which makes it conservative
    for the ATE (Lunceford & Davidian 2004) but not necessarily for the ATT or
    overlap estimands; stacked M-estimation or the bootstrap account for it exactly.
    Agrees with R ``glm(weights =)`` plus ``sandwich::vcovHC`` / ``vcovCL`` to 1e-6
    (tests/reference/propensity.R).

    References
    ----------
    Lunceford, J. K., & Davidian, M. (2004). Stratification and weighting via the
    propensity score in estimation of causal treatment effects. *Statistics in
    Medicine*, 23(19), 2937-2960.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> df = pd.DataFrame({"sev": rng.normal(size=800)})
    >>> df["attends"] = rng.binomial(1, 1 / (1 + np.exp(-df["sev"])))
    >>> df["pda"] = 0.6 + 0.1 * df["attends"] - 0.1 * df["sev"] + rng.normal(0, 0.1, 800)
    >>> ps = propensity_scores(df, "attends", "sev")
    >>> res = fit_weighted(df, "pda ~ attends", ps, kind="ate")
    >>> round(float(res.tidy().loc[1, "estimate"]), 2)
    0.1
    """
    check_data_first(data, formula, "fit_weighted")
    data = check_dataframe(data)
    cov_type = _check_weighted_args(
        weights, family, cov_type, cluster, ps_uncertainty, stabilized, truncate
    )
    w, source = _balancing_weights(data, weights, kind, stabilized, truncate, focal)
    name = "ps_weight"
    while name in data.columns:
        name += "_"
    frame = data.copy()
    frame[name] = pd.to_numeric(w, errors="coerce").to_numpy(dtype=float)
    res = fit_regression(
        frame,
        formula,
        family=family,
        link=link,
        weights=name,
        cov_type=cov_type,
        cluster=cluster,
    )
    if ps_uncertainty == "stacked" and isinstance(weights, PropensityResult):
        V = _stacked_vcov(weights, res, name, "ate" if kind == "ipw" else kind, focal)
        note = (
            f"Weighted by {source} (column '{name}'); stacked M-estimation SEs include "
            "the estimation of the propensity score."
        )
        idx = res._params.index
        return replace(
            res,
            cov_type="stacked",
            _cov=pd.DataFrame(V, index=idx, columns=idx),
            _notes_=(*res._notes_, note),
        )
    note = (
        f"Weighted by {source} (column '{name}'); {res.cov_type} sandwich SEs treat the "
        "weights as known (conservative for the ATE)."
    )
    return replace(res, _notes_=(*res._notes_, note))


def _check_weighted_args(
    weights: Any,
    family: Any,
    cov_type: Any,
    cluster: Any,
    ps_uncertainty: Any,
    stabilized: Any,
    truncate: Any,
) -> Any:
    """Validate the options of :func:`fit_weighted`; the SE type used (HC0 by default)."""
    if cov_type == "model":
        raise OptionError(
            "`cov_type='model'` is not valid with balancing weights (they are not precision "
            "weights); use one of " + ", ".join(repr(c) for c in WEIGHTED_COV_TYPES) + "."
        )
    if cov_type is not None:
        check_cov_type(cov_type, WEIGHTED_COV_TYPES)
    if cluster is None and cov_type in (None, "robust"):
        cov_type = "HC0"
    check_option(ps_uncertainty, ("ignore", "stacked"), "ps_uncertainty")
    if ps_uncertainty == "stacked":
        if not isinstance(weights, PropensityResult) or weights.method != "logit":
            raise OptionError(
                "`ps_uncertainty='stacked'` needs `weights` to be a PropensityResult of a "
                "binary exposure (method='logit')."
            )
        if family == "negative_binomial":
            raise OptionError(
                "`ps_uncertainty='stacked'` is available for the gaussian, binomial, poisson "
                "and fractional_logit families."
            )
        if cov_type != "HC0" or cluster is not None or stabilized or truncate is not None:
            raise OptionError(
                "`ps_uncertainty='stacked'` is available with cov_type='HC0', no `cluster`, "
                "stabilized=False and truncate=None."
            )
    return cov_type


def _balancing_weights(
    data: pd.DataFrame,
    weights: Any,
    kind: Any,
    stabilized: bool,
    truncate: Any,
    focal: Any,
) -> tuple[pd.Series, str]:
    """The weights aligned with ``data`` and a description of where they came from."""
    if isinstance(weights, PropensityResult):
        w = weights.weights(kind, stabilized=stabilized, truncate=truncate, focal=focal)
        source = (
            f"{'ate' if kind == 'ipw' else kind} weights from the propensity model for "
            f"'{weights.exposure}'"
        )
        if stabilized:
            source = "stabilised " + source
        if truncate is not None:
            source += f", truncated at quantiles {tuple(truncate)}"
        return w.reindex(data.index), source
    if isinstance(weights, pd.Series):
        return weights.reindex(data.index), "user-supplied weights"
    if isinstance(weights, str):
        check_columns(data, weights, "weights")
        return data[weights], f"weights in column '{weights}'"
    raise ArgumentTypeError(
        "`weights` must be a column name, a pandas Series or a PropensityResult; "
        f"got {type(weights).__name__}."
    )


def _stacked_vcov(ps: PropensityResult, res: Any, wcol: str, kind: str, focal: Any) -> np.ndarray:
    """Joint M-estimation covariance of (propensity, outcome) coefficients; outcome block."""
    Xp = np.column_stack([np.ones(ps.nobs), ps._design.to_numpy()])
    t = np.asarray(pd.Categorical(ps.received, categories=list(ps.levels)).codes, dtype=float)
    e = ps.probabilities.to_numpy()[:, 1]
    psi1 = (t - e)[:, None] * Xp
    A11 = Xp.T @ ((e * (1 - e))[:, None] * Xp)
    # derivative of each row's weight with respect to the logit coefficients: dw * x
    if kind == "ate":
        dw = np.where(t == 1, -(1 - e) / e, e / (1 - e))
    elif kind == "att":
        if ps._focal(focal) == ps.levels[1]:
            dw = np.where(t == 1, 0.0, e / (1 - e))
        else:
            dw = np.where(t == 1, -(1 - e) / e, 0.0)
    else:
        dw = np.where(t == 1, -e * (1 - e), e * (1 - e))
    pos = ps.probabilities.index.get_indexer(res._data.index)
    if np.any(pos < 0):
        raise DataValidationError(
            "Rows of the outcome model are missing from the propensity model; stacked SEs "
            "need the outcome rows to be a subset of the propensity rows."
        )
    w = res._data[wcol].to_numpy(dtype=float)
    if np.any(w <= 0):
        raise DataValidationError(
            "Stacked SEs need positive weights for every row of the outcome model."
        )
    fit = res._fit
    k = fit.n_coef
    scores = fit.scores[:, :k]
    g = scores / w[:, None]
    A21 = -(g.T @ (dw[pos][:, None] * Xp[pos]))
    A22 = np.linalg.inv(fit.bread[:k, :k])
    ka = Xp.shape[1]
    A = np.zeros((ka + k, ka + k))
    A[:ka, :ka] = A11
    A[ka:, :ka] = A21
    A[ka:, ka:] = A22
    psi = np.zeros((ps.nobs, ka + k))
    psi[:, :ka] = psi1
    psi[pos, ka:] = scores
    Ainv = np.linalg.inv(A)
    V = Ainv @ (psi.T @ psi) @ Ainv.T
    return V[ka:, ka:]
