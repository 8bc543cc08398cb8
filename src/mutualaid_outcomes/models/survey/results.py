"""Result classes of the survey estimators (means, totals, ratios, proportions, quantiles).

All share one glance schema (:data:`SURVEY_GLANCE_COLUMNS`) and implement the
coefficient protocol of docs/conventions.md: ``terms``, ``coef()``, ``vcov()``,
``nobs`` and ``df_resid`` (``None``: normal reference, as R ``confint(svymean(...))``;
the design degrees of freedom with ``df="design"``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ...results import BaseResult, glance_frame, wald_table

__all__ = ["SurveyEstimateResult", "SURVEY_GLANCE_COLUMNS", "design_glance"]

SURVEY_GLANCE_COLUMNS: tuple[str, ...] = (
    "statistic",
    "method",
    "n",
    "n_dropped",
    "n_psu",
    "n_strata",
    "n_replicates",
    "degf",
    "population",
    "ci",
    "seed",
)


def design_glance(design: Any) -> dict[str, Any]:
    """Design facts for glance(): method, PSUs, strata, replicates, df, seed."""
    if design.kind == "replicate":
        return {
            "method": f"replicate ({design.type})",
            "n_replicates": design.n_replicates,
            "degf": design.degf,
            "seed": design.seed if design.seed is not None else np.nan,
        }
    return {
        "method": "linearization",
        "n_psu": design.n_psu,
        "n_strata": design.n_strata,
        "degf": design.degf,
    }


@dataclass(frozen=True, repr=False, eq=False)
class SurveyEstimateResult(BaseResult):
    """Design-based estimates with standard errors (immutable).

    Attributes
    ----------
    statistic : str
        ``'mean'``, ``'total'``, ``'ratio'``, ``'proportion'`` or ``'quantile'``.
    table : pandas.DataFrame
        One row per estimate: ``term``, ``variable``, the ``by`` columns, ``estimate``,
        ``std_error``, ``df`` (design df of the domain) and ``deff`` when requested.
    cov : numpy.ndarray
        Covariance matrix of the estimates (block-diagonal over domains for quantiles).
    """

    statistic: str
    table: pd.DataFrame
    cov: np.ndarray
    by: tuple[str, ...]
    info: dict[str, Any]
    ci_method: str = "wald"
    use_design_df: bool = False
    _interval: Any = field(default=None, repr=False)
    _notes_: tuple[str, ...] = ()

    # -- coefficient protocol ----------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Estimate names (``'api00'``, ``'E:api00'`` with ``by``)."""
        return tuple(self.table["term"])

    def coef(self) -> pd.Series:
        """Estimates indexed by term."""
        return pd.Series(self.table["estimate"].to_numpy(), index=list(self.terms), name="estimate")

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the estimates, indexed by term."""
        t = list(self.terms)
        return pd.DataFrame(self.cov, index=t, columns=t)

    @property
    def nobs(self) -> int:
        """Rows with non-zero weight and no missing value used."""
        return int(self.info.get("n", 0))

    @property
    def df_resid(self) -> float | None:
        """Design df with ``df='design'``; ``None`` (normal reference) otherwise."""
        if not self.use_design_df:
            return None
        return float(np.min(self.table["df"].to_numpy()))

    # -- contract ----------------------------------------------------------------------
    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return False

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = self.table
        est = t["estimate"].to_numpy(float)
        se = t["std_error"].to_numpy(float)
        if self._interval is not None:
            low, high, se2 = self._interval(conf_level)
            out = wald_table(t["term"], est, se2, conf_level)
            out["std_error"] = se2
            out["statistic"] = np.nan
            out["p_value"] = np.nan
            out["conf_low"], out["conf_high"] = low, high
        elif self.use_design_df:
            parts = [
                wald_table([term], [e], [s], conf_level, df=d)
                for term, e, s, d in zip(t["term"], est, se, t["df"])
            ]
            out = pd.concat(parts, ignore_index=True)
        else:
            out = wald_table(t["term"], est, se, conf_level)
        extra = [c for c in t.columns if c not in out.columns and c != "std_error"]
        for c in extra:
            out[c] = t[c].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """One-row summary.

        Columns: statistic, method, n, n_dropped, n_psu, n_strata, n_replicates, degf,
        population, ci, seed.
        """
        values = {"statistic": self.statistic, "ci": self.ci_method, **self.info}
        values = {k: v for k, v in values.items() if k in SURVEY_GLANCE_COLUMNS}
        return glance_frame(values, SURVEY_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"Survey {self.statistic} ({self.info.get('method', '')})"

    def _notes(self) -> list[str]:
        return list(self._notes_)
