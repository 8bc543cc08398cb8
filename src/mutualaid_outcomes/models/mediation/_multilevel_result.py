"""Result of the 1-1-1 multilevel mediation model and its effects table."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import MissingReport
from ...results import BaseResult, glance_frame
from ..regression.mixed import MixedResult

__all__ = ["MultilevelMediationResult", "MULTILEVEL_GLANCE_COLUMNS", "effects_table"]

MULTILEVEL_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "outcome_family",
    "cov_ab_source",
    "n",
    "n_dropped",
    "n_dropped_single_day",
    "n_groups",
    "n_groups_single_day",
    "residual_sd_ratio",
    "loglik",
    "converged",
    "singular",
    "ci",
    "n_sims",
    "conf_level",
    "seed",
)
METHODS = {
    "gaussian": "stacked REML (Bauer, Preacher & Gil 2006)",
    "binomial": "separate equations: REML lmm (a) and Laplace logistic glmm (b)",
}
EFFECT_ORDER = (
    "a",
    "b",
    "cov_ab",
    "indirect_within",
    "direct_within",
    "total_within",
    "a_between",
    "b_between",
    "indirect_between",
    "direct_between",
    "total_between",
)


@dataclass(frozen=True, repr=False, eq=False)
class MultilevelMediationResult(BaseResult):
    """A fitted 1-1-1 multilevel mediation model (immutable).

    Attributes
    ----------
    exposure, mediator, outcome, id : str
        The roles.
    outcome_family : str
        ``"gaussian"`` (stacked model) or ``"binomial"`` (b-paths on the log-odds scale).
    effects : pandas.DataFrame
        Tidy rows of every path and effect at ``conf_level`` (see :meth:`tidy`).
    random_effects : pandas.DataFrame
        Covariance matrix of the person-level random effects on the data's scale
        (``m_intercept``, ``a``, ``y_intercept``, ``b``, ``direct_within`` as fitted);
        with a binary outcome the covariances between the two equations' random
        effects are not estimated (NaN).
    sigma2_mediator, sigma2_outcome : float
        Residual variances of the two equations (``sigma2_outcome`` NaN for a binary
        outcome).
    stacked : MixedResult or None
        The stacked mixed model as fitted (outcome rows divided by
        ``residual_sd_ratio``); None for a binary outcome.
    mediator_model, outcome_model : MixedResult
        The two equations fitted separately (the source of the between-person paths;
        with a binary outcome also of the within-person paths).
    draws : pandas.DataFrame
        The Monte Carlo draws of the effects.
    missing : MissingReport
        Rows used and excluded for missing values (before persons with one day).
    """

    exposure: str
    mediator: str
    outcome: str
    id: str
    outcome_family: str
    effects: pd.DataFrame
    _paths: pd.Series = field(repr=False)
    _paths_cov: pd.DataFrame = field(repr=False)
    random_effects: pd.DataFrame
    sigma2_mediator: float
    sigma2_outcome: float
    residual_sd_ratio: float
    stacked: MixedResult | None = field(repr=False)
    mediator_model: MixedResult = field(repr=False)
    outcome_model: MixedResult = field(repr=False)
    draws: pd.DataFrame = field(repr=False)
    _mc_estimates: pd.Series = field(repr=False)
    missing: MissingReport
    n_used: int
    n_groups: int
    n_dropped_single_day: int
    n_groups_single_day: int
    n_sims: int
    conf_level: float
    seed: int | None
    _can_exponentiate = False
    _not_poolable = "Monte Carlo intervals of products are not pooled by Rubin's rules."

    # coefficient protocol: the six path coefficients
    @property
    def terms(self) -> tuple[str, ...]:
        """Path coefficient names."""
        return tuple(self._paths.index)

    def coef(self) -> pd.Series:
        """Path coefficients (data scale; b-paths on the log-odds scale if binary)."""
        return self._paths.copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the path coefficients."""
        return self._paths_cov.copy()

    @property
    def nobs(self) -> int:
        """Person-days used."""
        return self.n_used

    @property
    def df_resid(self) -> None:
        """None: large-sample (z) inference."""
        return None

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return effects_table(
            self._paths, self._paths_cov, self._mc_estimates, self.draws, conf_level
        )

    def glance(self) -> pd.DataFrame:
        """One row: ``method, outcome_family, cov_ab_source, n, n_dropped, ...``."""
        models = [self.mediator_model, self.outcome_model]
        if self.stacked is not None:
            models.append(self.stacked)
        gl = [m.glance() for m in models]
        loglik = float(gl[-1]["loglik"].iloc[0]) if self.stacked is not None else np.nan
        return glance_frame(
            {
                "method": METHODS[self.outcome_family],
                "outcome_family": self.outcome_family,
                "cov_ab_source": "stacked REML" if self.stacked is not None else "assumed 0",
                "n": self.n_used,
                "n_dropped": self.missing.n_dropped + self.n_dropped_single_day,
                "n_dropped_single_day": self.n_dropped_single_day,
                "n_groups": self.n_groups,
                "n_groups_single_day": self.n_groups_single_day,
                "residual_sd_ratio": self.residual_sd_ratio,
                "loglik": loglik,
                "converged": all(bool(g["converged"].iloc[0]) for g in gl),
                "singular": any(bool(g["singular"].iloc[0]) for g in gl),
                "ci": "monte_carlo",
                "n_sims": self.n_sims,
                "conf_level": self.conf_level,
                "seed": self.seed,
            },
            MULTILEVEL_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return (
            f"Multilevel mediation {self.exposure} -> {self.mediator} -> {self.outcome} "
            f"(1-1-1; persons: {self.id}; {self.outcome_family} outcome)"
        )

    def _notes(self) -> list[str]:
        notes = [self.missing.describe()]
        if self.n_groups_single_day:
            notes.append(
                f"{self.n_groups_single_day} person(s) with one day only "
                f"({self.n_dropped_single_day} rows) excluded: no within-person variation."
            )
        notes.append(
            "indirect_within = a*b + cov(a_j, b_j); indirect_between = a_between*b_between; "
            f"Monte Carlo intervals from {self.n_sims} draws."
        )
        if self.stacked is None:
            notes.append(
                "Binary outcome: b-paths and indirect effects on the log-odds scale; "
                "cov(a_j, b_j) is not estimated by separate equations and is taken as 0."
            )
        return notes


def effects_table(
    paths: pd.Series,
    cov: pd.DataFrame,
    mc_estimates: pd.Series,
    draws: pd.DataFrame,
    conf_level: float,
) -> pd.DataFrame:
    """Wald rows for the paths, Monte Carlo rows for the products and sums."""
    z = stats.norm.ppf(0.5 + conf_level / 2)
    se = np.sqrt(np.diag(cov.to_numpy()))
    est = paths.to_numpy()
    rows = pd.DataFrame(
        {
            "term": list(paths.index),
            "estimate": est,
            "std_error": se,
            "statistic": est / se,
            "p_value": 2 * stats.norm.sf(np.abs(est / se)),
            "conf_low": est - z * se,
            "conf_high": est + z * se,
        }
    )
    lo, hi = (1 - conf_level) / 2, (1 + conf_level) / 2
    mc = pd.DataFrame(
        {
            "term": list(draws.columns),
            "estimate": mc_estimates.loc[list(draws.columns)].to_numpy(),
            "std_error": draws.std(ddof=1).to_numpy(),
            "statistic": np.nan,
            "p_value": np.nan,
            "conf_low": draws.quantile(lo).to_numpy(),
            "conf_high": draws.quantile(hi).to_numpy(),
        }
    )
    out = pd.concat([rows, mc], ignore_index=True).set_index("term")
    return out.loc[[t for t in EFFECT_ORDER if t in out.index]].reset_index()
