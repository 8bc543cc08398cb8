"""E-values: how strong unmeasured confounding would have to be to explain an association.

:func:`e_value` computes the E-value of one estimate and of the confidence limit
closest to the null (VanderWeele & Ding 2017); :func:`e_values` does it for every
row of a fitted result's ``tidy()`` frame.

Examples
--------
>>> ev = e_value(3.9, 1.8, 8.7, measure="RR")
>>> round(ev.e_value, 2), round(ev.e_value_ci, 2)
(7.26, 3.0)
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import check_columns, check_option, renamed
from ...errors import ArgumentTypeError, DataValidationError, OptionError
from ...results import BaseResult, TidyProtocol, glance_frame

__all__ = ["EValueResult", "e_value", "e_values", "EVALUE_GLANCE_COLUMNS"]

Measure = Literal["RR", "OR", "HR", "SMD"]
MEASURES: tuple[str, ...] = ("RR", "OR", "HR", "SMD")
#: VanderWeele & Ding (2017): a standardised mean difference d approximates log RR 0.91 d
SMD_TO_LOGRR = 0.91

EVALUE_GLANCE_COLUMNS: tuple[str, ...] = (
    "measure",
    "estimate",
    "conf_low",
    "conf_high",
    "rare",
    "true",
    "e_value",
    "e_value_ci",
    "method",
)


def _e(rr: float) -> float:
    """E-value of a risk ratio against 1: ``RR + sqrt(RR (RR - 1))`` after inverting RR < 1."""
    if rr < 1:
        rr = 1.0 / rr
    return float(rr + math.sqrt(rr * (rr - 1.0)))


def _to_rr(value: float, measure: str, rare: bool | None) -> float:
    if measure == "RR":
        return value
    if measure == "SMD":
        return math.exp(SMD_TO_LOGRR * value)
    if rare:
        return value
    if measure == "OR":
        return math.sqrt(value)
    # HR, common outcome
    return (1 - 0.5 ** math.sqrt(value)) / (1 - 0.5 ** math.sqrt(1 / value))


def _number(value: Any, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentTypeError(f"`{argument}` must be a number; got {value!r}.")
    v = float(value)
    if not math.isfinite(v):
        raise DataValidationError(f"`{argument}` must be finite; got {value!r}.")
    return v


@dataclass(frozen=True, repr=False)
class EValueResult(BaseResult):
    """E-values of one estimate (immutable).

    ``tidy()`` has two rows as R ``EValue::evalues.RR``: ``risk_ratio`` (the estimate
    and its limits on the risk-ratio scale) and ``e_value`` (the E-value of the
    estimate, with the E-value of the limit closest to the null in that limit's
    column). ``glance()`` gives the inputs and both E-values. An E-value has no
    coefficients, so the coefficient protocol does not apply.

    Attributes
    ----------
    measure : str
        Scale of the estimate given (``RR``, ``OR``, ``HR`` or ``SMD``).
    estimate, conf_low, conf_high : float
        The estimate and its confidence limits as given (NaN when absent).
    rr, rr_low, rr_high : float
        The same on the approximate risk-ratio scale used for the E-value.
    e_value : float
        E-value of the point estimate.
    e_value_ci : float
        E-value of the confidence limit closest to the null (1 when the interval
        includes the null; NaN without limits).
    rare : bool or None
        Rare-outcome assumption used for OR and HR.
    true : float
        Null value on the risk-ratio scale (1 unless given).
    """

    measure: str
    estimate: float
    conf_low: float
    conf_high: float
    rr: float
    rr_low: float
    rr_high: float
    e_value: float
    e_value_ci: float
    rare: bool | None
    true: float

    _can_exponentiate = False

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        """Rows ``risk_ratio`` and ``e_value``; the limits are those given (any level)."""
        t = self.table()
        return pd.DataFrame(
            {
                "term": ["risk_ratio", "e_value"],
                "estimate": t["point"].to_numpy(),
                "std_error": np.nan,
                "statistic": np.nan,
                "p_value": np.nan,
                "conf_low": t["lower"].to_numpy(),
                "conf_high": t["upper"].to_numpy(),
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: ``measure, estimate, conf_low, conf_high, rare, true, e_value,
        e_value_ci, method``.
        """  # noqa: D205
        return glance_frame(
            {
                "measure": self.measure,
                "estimate": self.estimate,
                "conf_low": self.conf_low,
                "conf_high": self.conf_high,
                "rare": np.nan if self.rare is None else self.rare,
                "true": self.true,
                "e_value": self.e_value,
                "e_value_ci": self.e_value_ci,
                "method": "E-value (VanderWeele & Ding 2017)",
            },
            EVALUE_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return f"E-value of {self.measure} {self.estimate:.3g}"

    def table(self) -> pd.DataFrame:
        """Two rows (``risk_ratio``, ``e_value``) by ``point, lower, upper``, as R EValue.

        Only the limit closest to the null carries an E-value; the other is NaN.
        """
        lower_e = upper_e = np.nan
        if not math.isnan(self.e_value_ci):
            if self.rr >= self.true:
                lower_e = self.e_value_ci
            else:
                upper_e = self.e_value_ci
        return pd.DataFrame(
            {
                "point": [self.rr, self.e_value],
                "lower": [self.rr_low, lower_e],
                "upper": [self.rr_high, upper_e],
            },
            index=["risk_ratio", "e_value"],
        )

    def __repr__(self) -> str:
        ci = "" if math.isnan(self.e_value_ci) else f", CI limit {self.e_value_ci:.2f}"
        return (
            f"E-value ({self.measure} {self.estimate:.3g} -> RR {self.rr:.3g}): "
            f"point {self.e_value:.2f}{ci}"
        )


def e_value(
    estimate: float,
    conf_low: float | None = None,
    conf_high: float | None = None,
    *,
    measure: Measure = "RR",
    rare: bool | None = None,
    true: float | None = None,
) -> EValueResult:
    """E-value of an observed association and of its confidence limit nearest the null.

    Parameters
    ----------
    estimate : float
        Risk ratio, odds ratio or hazard ratio (not its logarithm), or a standardised
        mean difference (Cohen's d, outcome SD units).
    conf_low, conf_high : float, optional
        Confidence limits on the same scale.
    measure : {'RR', 'OR', 'HR', 'SMD'}
        Scale of ``estimate``.
    rare : bool, optional
        For OR and HR (required there): whether the outcome is rare (below about 15%
        by the end of follow-up). Rare: OR and HR approximate the RR. Common:
        ``RR ~ sqrt(OR)`` and ``RR ~ (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))``.
    true : float, optional
        Value to shift the estimate to, on the scale of ``estimate`` (default the
        null: 1 for ratios, 0 for SMD).

    Returns
    -------
    EValueResult

    Raises
    ------
    OptionError
        Unknown ``measure``, or ``rare`` missing for OR/HR.
    DataValidationError
        A ratio that is not positive, limits that do not bracket the estimate, or a
        non-finite value.
    ArgumentTypeError
        A non-numeric value.

    Notes
    -----
    For a risk ratio ``RR > 1`` (divided by ``true``) the E-value is
    ``RR + sqrt(RR (RR - 1))``; for ``RR < 1`` use ``1 / RR``. It is the minimum
    strength of association, on the risk-ratio scale, that an unmeasured confounder
    would need with both exposure and outcome, conditional on the measured
    covariates, to explain the association away. For the interval, the same formula
    is applied to the limit closest to the null; it is 1 if the interval contains the
    null. A standardised mean difference ``d`` is converted by ``RR ~ exp(0.91 d)``
    and its limits by ``exp(0.91 limit)`` (R EValue's ``evalues.MD`` uses
    ``exp(0.91 d -/+ 1.78 se)``, the same up to rounding 0.91 x 1.96 = 1.78).
    The risk-difference E-value (which needs the 2 x 2 counts) is not provided.

    The R package EValue was not available for checking; the tests reproduce the
    worked example of VanderWeele & Ding (2017) (RR 3.9, CI 1.8-8.7: E-values 7.26
    for the estimate and exactly 3.00 for the lower limit, ``1.8 + sqrt(1.8 x 0.8)``)
    and the formulas above.

    References
    ----------
    VanderWeele, T. J., & Ding, P. (2017). Sensitivity analysis in observational research:
    Introducing the E-value. *Annals of Internal Medicine*, 167(4), 268-274.

    Examples
    --------
    >>> e_value(0.8, 0.71, 0.91, measure="HR", rare=False).table().round(3)
                point  lower  upper
    risk_ratio  0.857  0.789  0.937
    e_value     1.609    NaN  1.336
    >>> round(e_value(0.5, 0.3, 0.7, measure="SMD").e_value, 3)
    2.529
    """
    check_option(measure, MEASURES, "measure")
    est = _number(estimate, "estimate")
    lo = np.nan if conf_low is None else _number(conf_low, "conf_low")
    hi = np.nan if conf_high is None else _number(conf_high, "conf_high")
    if measure in ("OR", "HR"):
        if rare is None:
            raise OptionError(
                f"`rare` must be True or False for measure={measure!r}: is the outcome rare "
                "(below about 15% by the end of follow-up)? Common outcomes are converted "
                "to the risk-ratio scale before computing the E-value."
            )
        if not isinstance(rare, (bool, np.bool_)):
            raise ArgumentTypeError(f"`rare` must be True or False; got {rare!r}.")
    if measure != "SMD":
        for name, v in (("estimate", est), ("conf_low", lo), ("conf_high", hi)):
            if not math.isnan(v) and v <= 0:
                raise DataValidationError(
                    f"`{name}` must be a positive ratio for measure={measure!r} (not a log "
                    f"ratio); got {v}."
                )
    if (not math.isnan(lo) and lo > est) or (not math.isnan(hi) and hi < est):
        raise DataValidationError(
            f"The limits must bracket the estimate: conf_low <= estimate <= conf_high; got "
            f"{conf_low}, {estimate}, {conf_high}."
        )
    null = 0.0 if measure == "SMD" else 1.0
    true_v = null if true is None else _number(true, "true")
    if measure != "SMD" and true_v <= 0:
        raise DataValidationError(f"`true` must be a positive ratio; got {true}.")
    r = bool(rare) if rare is not None else None

    def conv(v: float) -> float:
        return np.nan if math.isnan(v) else _to_rr(v, measure, r)

    rr, rr_lo, rr_hi = conv(est), conv(lo), conv(hi)
    t_rr = _to_rr(true_v, measure, r) if true_v != null else 1.0
    e_point = _e(rr / t_rr)
    if math.isnan(rr_lo) and math.isnan(rr_hi):
        e_ci = np.nan
    elif rr > t_rr:
        e_ci = np.nan if math.isnan(rr_lo) else (1.0 if rr_lo <= t_rr else _e(rr_lo / t_rr))
    elif rr < t_rr:
        e_ci = np.nan if math.isnan(rr_hi) else (1.0 if rr_hi >= t_rr else _e(rr_hi / t_rr))
    else:
        e_ci = 1.0
    return EValueResult(
        measure=measure,
        estimate=est,
        conf_low=lo,
        conf_high=hi,
        rr=rr,
        rr_low=rr_lo,
        rr_high=rr_hi,
        e_value=e_point,
        e_value_ci=float(e_ci),
        rare=r,
        true=t_rr,
    )


@renamed(effects="result")
def e_values(
    result: TidyProtocol | pd.DataFrame,
    *,
    measure: Measure = "RR",
    rare: bool | None = None,
    terms: Sequence[str] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """E-values for every term of a fitted result or tidy frame.

    Parameters
    ----------
    result : result or pandas.DataFrame
        A fitted result (its ``tidy()`` is called with ``exponentiate=True`` for ratio
        measures) or a tidy frame with ``term, estimate, conf_low, conf_high`` on the
        scale of ``measure``.
    measure, rare
        See :func:`e_value`.
    terms : sequence of str, optional
        Terms to keep; default all but the intercept.
    conf_level : float
        Passed to ``tidy()``.

    Returns
    -------
    pandas.DataFrame
        ``term, estimate, conf_low, conf_high, rr, e_value, e_value_ci``.

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["aa"], "estimate": [1.5], "conf_low": [1.1],
    ...                      "conf_high": [2.0]})
    >>> e_values(tidy, measure="OR", rare=True)[["term", "e_value", "e_value_ci"]].round(3)
      term  e_value  e_value_ci
    0   aa    2.366       1.431
    """
    check_option(measure, MEASURES, "measure")
    if isinstance(result, pd.DataFrame):
        frame = result
    elif hasattr(result, "tidy"):
        frame = result.tidy(conf_level=conf_level, exponentiate=measure != "SMD")
    else:
        raise ArgumentTypeError(
            f"`result` must be a fitted result or a tidy DataFrame; got {type(result).__name__}."
        )
    check_columns(frame, ["term", "estimate", "conf_low", "conf_high"], "result")
    frame = frame[~frame["term"].isin(["Intercept", "(Intercept)", "const"])]
    if terms is not None:
        missing = [t for t in terms if t not in set(frame["term"])]
        if missing:
            raise DataValidationError(
                f"`terms` {missing} are not in the effects; available: {frame['term'].tolist()}."
            )
        frame = frame.set_index("term").loc[list(terms)].reset_index()
    rows = []
    for r in frame.itertuples(index=False):
        ev = e_value(
            float(r.estimate),
            float(r.conf_low),
            float(r.conf_high),
            measure=measure,
            rare=rare,
        )
        rows.append(
            {
                "term": r.term,
                "estimate": ev.estimate,
                "conf_low": ev.conf_low,
                "conf_high": ev.conf_high,
                "rr": ev.rr,
                "e_value": ev.e_value,
                "e_value_ci": ev.e_value_ci,
            }
        )
    return pd.DataFrame(
        rows, columns=["term", "estimate", "conf_low", "conf_high", "rr", "e_value", "e_value_ci"]
    )
