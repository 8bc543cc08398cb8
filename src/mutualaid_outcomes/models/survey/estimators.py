"""Design-based means, totals and ratios, overall and by domain (R svymean, svytotal, svyratio, svyby).

For weights ``w_i`` and domain indicator ``d_i`` the estimators and their influence
values (whose design variance, :func:`~.linearization.linearized_vcov`, is the
variance of the estimator) are

* total ``T = sum d_i w_i x_i``; influence ``d_i w_i x_i``;
* mean ``m = T(x) / T(1)``; influence ``d_i w_i (x_i - m) / T(1)``;
* ratio ``r = T(y) / T(z)``; influence ``d_i w_i (y_i - r z_i) / T(z)``.

Replicate designs recompute the statistic with every replicate weight set instead.
Rows with a missing value are left out of the estimate (zero weight) but stay in the
design, as R's ``na.rm = TRUE``; ``glance()`` reports how many.

Validated against R survey 4.1.1 (tests/reference/survey.R) on the California API
samples (stratified with FPC, one-stage and two-stage cluster, JK1 and bootstrap
replicates) to 1e-6 relative: estimates, SEs, domain estimates and design effects.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from ..._validation import check_columns
from ...errors import DataValidationError
from ._engine import (
    check_design,
    deff_values,
    domains,
    ratio_estimates,
    result_table,
    total_estimates,
    variables_matrix,
)
from .results import SurveyEstimateResult, design_glance

__all__ = ["survey_mean", "survey_total", "survey_ratio"]

DfOption = Literal["normal", "design"]


def _check_df(df: Any) -> bool:
    from ..._validation import check_option

    return check_option(df, ("normal", "design"), "df") == "design"


def _info(design: Any, est: Any) -> dict[str, Any]:
    info = design_glance(design)
    info.update(
        n=est.n_used,
        n_dropped=est.n_dropped,
        population=float(design.analysis_weights.sum()),
    )
    return info


def _notes(n_dropped: int) -> tuple[str, ...]:
    if n_dropped:
        return (
            f"{n_dropped} rows with missing values were left out of the estimates (zero "
            "weight); the design keeps them.",
        )
    return ()


def survey_mean(
    design: Any,
    variables: str | list[str],
    *,
    by: str | list[str] | None = None,
    deff: bool = False,
    df: DfOption = "normal",
) -> SurveyEstimateResult:
    """Weighted means with design-based standard errors (R ``svymean``, ``svyby``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design (possibly a subset).
    variables : str or list of str
        Numeric columns, or categorical columns (one proportion per level, as R does
        for a factor).
    by : str or list of str, optional
        Domain columns: one estimate per level (combination), each with the whole
        design behind its variance.
    deff : bool
        Add design effects (``deff`` column), as R ``deff = TRUE``.
    df : {'normal', 'design'}
        Reference distribution of ``tidy()`` intervals: normal (R ``confint`` of a
        ``svymean``) or t with the design degrees of freedom (Stata ``svy: mean``).

    Returns
    -------
    SurveyEstimateResult
        ``tidy()`` has ``term, estimate, std_error, statistic, p_value, conf_low,
        conf_high`` then ``variable``, the ``by`` columns, ``df`` and ``deff``.

    Raises
    ------
    ArgumentTypeError
        ``design`` is not a survey design.
    ColumnNotFoundError
        A variable or by column is not in the data.

    Notes
    -----
    ``m = sum w_i x_i / sum w_i`` with influence ``w_i (x_i - m) / sum w_i``; see the
    module docstring. Agrees with R survey 4.1.1 ``svymean``/``svyby`` to 1e-6.

    References
    ----------
    Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*. Wiley.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survey import survey_design
    >>> df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3, 4, 4], "w": [1.0, 1, 2, 2, 1, 1, 2, 2],
    ...                    "meetings": [0.0, 2, 4, 1, 3, 5, 2, 2]})
    >>> d = survey_design(df, weights="w", cluster="psu")
    >>> survey_mean(d, "meetings").tidy()[["term", "estimate", "std_error"]].round(4)
           term  estimate  std_error
    0  meetings    2.3333     0.4351
    """
    return _mean_or_total("mean", design, variables, by, deff, df)


def survey_total(
    design: Any,
    variables: str | list[str],
    *,
    by: str | list[str] | None = None,
    deff: bool = False,
    df: DfOption = "normal",
) -> SurveyEstimateResult:
    """Estimated population totals with design-based standard errors (R ``svytotal``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design.
    variables : str or list of str
        Numeric or categorical columns (categorical: the number of people per level).
    by : str or list of str, optional
        Domain columns.
    deff : bool
        Add design effects.
    df : {'normal', 'design'}
        Reference distribution of the intervals.

    Returns
    -------
    SurveyEstimateResult

    Raises
    ------
    ArgumentTypeError, ColumnNotFoundError
        As :func:`survey_mean`.

    Notes
    -----
    ``T = sum w_i x_i`` with influence ``w_i x_i``. Agrees with R ``svytotal`` to 1e-6.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survey import survey_design
    >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "w": [10.0, 10, 20, 20], "aa": [1, 0, 1, 1]})
    >>> d = survey_design(df, weights="w", cluster="psu")
    >>> survey_total(d, "aa").tidy()[["estimate", "std_error"]].round(2)
       estimate  std_error
    0      50.0      19.15
    """
    return _mean_or_total("total", design, variables, by, deff, df)


def survey_ratio(
    design: Any,
    numerator: str | list[str],
    denominator: str,
    *,
    by: str | list[str] | None = None,
    deff: bool = False,
    df: DfOption = "normal",
) -> SurveyEstimateResult:
    """Ratios of estimated totals, ``T(numerator) / T(denominator)`` (R ``svyratio``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design.
    numerator : str or list of str
        Numeric numerator column(s).
    denominator : str
        Numeric denominator column.
    by : str or list of str, optional
        Domain columns.
    deff : bool
        Add design effects (R: the design effect of the total of the linearised
        residuals).
    df : {'normal', 'design'}
        Reference distribution of the intervals.

    Returns
    -------
    SurveyEstimateResult
        Terms ``'numerator/denominator'``.

    Raises
    ------
    ColumnNotFoundError
        A column is not in the data.
    DataValidationError
        Non-numeric columns, or a denominator total of zero.

    Notes
    -----
    ``r = T(y) / T(z)``, influence ``w_i (y_i - r z_i) / T(z)``. Agrees with R
    ``svyratio`` to 1e-6.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survey import survey_design
    >>> df = pd.DataFrame({"psu": [1, 2, 3, 4], "w": [1.0, 1, 1, 1],
    ...                    "drinks": [10.0, 4, 6, 0], "days": [5.0, 4, 3, 2]})
    >>> d = survey_design(df, weights="w", cluster="psu")
    >>> round(float(survey_ratio(d, "drinks", "days").coef().iloc[0]), 4)
    1.4286
    """
    design = check_design(design)
    use_df = _check_df(df)
    nums = check_columns(design.data, numerator, "numerator")
    check_columns(design.data, denominator, "denominator")
    if not isinstance(denominator, str):
        raise DataValidationError("`denominator` must be one column name.")
    v = variables_matrix(design.data, nums, "numerator")
    vd = variables_matrix(design.data, denominator, "denominator")
    if any(lv is not None for lv in v.levels + vd.levels):
        raise DataValidationError("`numerator` and `denominator` must be numeric columns.")
    den = np.repeat(vd.X, v.X.shape[1], axis=1)
    dom = domains(design, by)
    est = ratio_estimates(design, v.X, den, dom.masks)
    if not np.all(np.isfinite(est.estimate)):
        raise DataValidationError(
            f"The total of `denominator` ('{denominator}') is zero in a domain; the ratio is "
            "undefined."
        )
    names = [f"{n}/{denominator}" for n in v.names]
    table = result_table(names, v.sources, dom, est.estimate, est.cov, design)
    if deff:
        table["deff"] = deff_values(
            design, v.X, dom.masks, np.diag(est.cov), "ratio", den=den, est=est.estimate
        )
    return SurveyEstimateResult(
        "ratio",
        table,
        est.cov,
        dom.by,
        _info(design, est),
        "wald",
        use_df,
        _notes_=_notes(est.n_dropped),
    )


def _mean_or_total(
    kind: str, design: Any, variables: Any, by: Any, deff: bool, df: DfOption
) -> SurveyEstimateResult:
    """The shared body of :func:`survey_mean` and :func:`survey_total`."""
    design = check_design(design)
    use_df = _check_df(df)
    v = variables_matrix(design.data, variables, "variables")
    dom = domains(design, by)
    if kind == "mean":
        est = ratio_estimates(design, v.X, np.ones_like(v.X), dom.masks)
    else:
        est = total_estimates(design, v.X, dom.masks)
    table = result_table(v.names, v.sources, dom, est.estimate, est.cov, design)
    if deff:
        table["deff"] = deff_values(design, v.X, dom.masks, np.diag(est.cov), kind)
    return SurveyEstimateResult(
        kind,
        table,
        est.cov,
        dom.by,
        _info(design, est),
        "wald",
        use_df,
        _notes_=_notes(est.n_dropped),
    )
