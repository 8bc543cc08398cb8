r"""The test of proportional hazards for Cox fits (R ``cox.zph``).

The score test of :math:`\gamma = 0` for the added covariates :math:`x\,(g(t) - \bar g)`
at :math:`(\hat\beta, 0)`, computed from the sorted risk sets of the fit
(:func:`~._cox_residuals.zph_score`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import check_option
from ...errors import ArgumentTypeError, EstimationError
from ...results import BaseResult, glance_frame
from ._cox_residuals import zph_score
from ._coxph import CoxData

if TYPE_CHECKING:
    from .cox import CoxResult

__all__ = ["ProportionalHazardsResult", "check_proportional_hazards"]


@dataclass(frozen=True, repr=False)
class ProportionalHazardsResult(BaseResult):
    """Result of :func:`check_proportional_hazards`: one row per term and ``GLOBAL``."""

    table: pd.DataFrame
    transform: str
    _can_exponentiate = False

    def _title(self) -> str:
        return f"Test of proportional hazards (transform = {self.transform!r})"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = self.table
        return pd.DataFrame(
            {
                "term": t["term"],
                "estimate": np.nan,
                "std_error": np.nan,
                "statistic": t["chisq"],
                "p_value": t["p_value"],
                "conf_low": np.nan,
                "conf_high": np.nan,
                "df": t["df"],
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: the global chi-square, its df and p-value, and the transform."""
        g = self.table[self.table["term"] == "GLOBAL"]
        vals: dict[str, object] = {"transform": self.transform, "method": "cox.zph score test"}
        if len(g):
            vals.update(
                statistic=float(g["chisq"].iloc[0]),
                df=int(g["df"].iloc[0]),
                p_value=float(g["p_value"].iloc[0]),
            )
        return glance_frame(vals, ("statistic", "df", "p_value", "transform", "method"))


def _km_left(cd: CoxData) -> np.ndarray:
    """1 - KM(t-) at every row's stop time, pooled over strata, unweighted (R survfitKM)."""
    t = cd.stop
    times = np.unique(t)
    # risk set at each unique time: start < t <= stop
    stops = np.sort(t)
    n_stop_ge = len(t) - np.searchsorted(stops, times, side="left")
    n_risk = n_stop_ge
    if cd.start is not None:
        starts = np.sort(cd.start)
        n_risk = n_stop_ge - (len(t) - np.searchsorted(starts, times, side="left"))
    d = np.bincount(np.searchsorted(times, t[cd.event]), minlength=len(times))
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(n_risk > 0, 1 - d / np.maximum(n_risk, 1), 1.0))
    idx = np.searchsorted(times, t, side="left")  # times strictly below t
    return 1 - np.concatenate([[1.0], surv])[idx]


def check_proportional_hazards(
    result: CoxResult,
    *,
    transform: Literal["km", "identity", "rank", "log"] = "km",
    global_test: bool = True,
) -> ProportionalHazardsResult:
    r"""Test proportional hazards with the scaled-Schoenfeld score test (R ``cox.zph``).

    Parameters
    ----------
    result : CoxResult
        A fit from :func:`fit_cox` or :func:`fit_cox_time_varying`.
    transform : {"km", "identity", "rank", "log"}
        Function of time :math:`g(t)`; ``"km"`` (R's default) is one minus the
        left-continuous Kaplan-Meier estimate of the pooled data.
    global_test : bool
        Add the ``GLOBAL`` row.

    Returns
    -------
    ProportionalHazardsResult
        ``table`` with ``term, chisq, df, p_value`` (one row per model term, a factor
        being one term with several df) and ``GLOBAL``.

    Raises
    ------
    ArgumentTypeError, OptionError
        ``result`` is not a Cox fit, or ``transform`` is unknown.
    EstimationError
        The model has infinite coefficients.

    Notes
    -----
    This is the score test of :math:`\gamma = 0` in the model with added covariates
    :math:`x\,(g(t) - \bar g)`, evaluated at :math:`(\hat\beta, 0)` with the full
    :math:`2p \times 2p` information (survival 3.x ``cox.zph``; not the older
    approximation using the variance of the scaled Schoenfeld residuals). The
    statistic for a term uses the rows and columns of all :math:`p` base coefficients
    and of that term's interaction columns. :math:`\bar g` is the mean of
    :math:`g` over event rows. The computation is a function of sorted risk sets only,
    so it does not depend on the row order of the data, ties included. Agrees with R
    survival 3.5.3 ``cox.zph`` to 1e-6 relative.

    References
    ----------
    Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based
    on weighted residuals. Biometrika 81:515-526.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.survival.cox import fit_cox, check_proportional_hazards
    >>> rng = np.random.default_rng(2)
    >>> x = rng.normal(size=300)
    >>> t = rng.exponential(1 / np.exp(0.5 * x))
    >>> df = pd.DataFrame({"time": t, "event": 1, "x": x})
    >>> zph = check_proportional_hazards(fit_cox(df, "time", "event", covariates="x"))
    >>> zph.table["term"].tolist()
    ['x', 'GLOBAL']
    """
    # A Cox fit carries its prepared data (CoxData); checking that, not the result
    # class, keeps this module free of an import of .cox (which imports this one).
    if not isinstance(getattr(result, "_cd", None), CoxData):
        raise ArgumentTypeError(
            f"`result` must be a CoxResult from fit_cox or fit_cox_time_varying; got "
            f"{type(result).__name__}."
        )
    transform = check_option(transform, ("km", "identity", "rank", "log"), "transform")
    if result.infinite_terms:
        raise EstimationError(
            "The proportional-hazards test needs finite coefficients; "
            f"{list(result.infinite_terms)} are infinite (monotone likelihood)."
        )
    cd: CoxData = result._cd
    t = cd.stop
    if transform == "km":
        tt = _km_left(cd)
    elif transform == "identity":
        tt = t.copy()
    elif transform == "rank":
        tt = stats.rankdata(t)
    else:
        tt = np.log(t)
    gt = tt - tt[cd.event].mean()
    # one g value per event time (all deaths at a time share the same stop time)
    g = gt[cd.ev_first]
    u2, imat = zph_score(cd, result._beta_c, g)
    p = cd.p
    rows = []
    u_full = np.concatenate([np.zeros(p), u2])
    for term, cols in result.term_groups.items():
        kk = list(range(p)) + [p + c for c in cols]
        u = u_full[kk]
        chisq = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
        rows.append((term, chisq, len(cols)))
    if global_test:
        rows.append(("GLOBAL", float(u_full @ np.linalg.solve(imat, u_full)), p))
    table = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    table["p_value"] = stats.chi2.sf(table["chisq"], table["df"])
    return ProportionalHazardsResult(table=table, transform=transform)
