"""The result of :func:`.causal.causal_mediation`: IKT estimands and VanderWeele's effects."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..._rng import RNGLike
from ..._validation import check_conf_level
from ...errors import OptionError
from ...results import BaseResult, glance_frame
from .._core.bootstrap import bca_interval, percentile_interval
from ._causal_engine import FOUR_WAY_TERMS, Design
from .sensitivity import SensitivityResult, mediation_sensitivity

__all__ = ["GLANCE_COLUMNS", "CausalMediationResult"]


GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "method",
    "ci",
    "n_boot",
    "n_sims",
    "n_failed",
    "seed",
    "mediator_family",
    "mediator_link",
    "outcome_family",
    "outcome_link",
    "interaction",
    "control_value",
    "treat_value",
    "m_value",
    "condition_number",
    "collinear",
)


@dataclass(frozen=True, repr=False, eq=False)
class CausalMediationResult(BaseResult):
    """Result of :func:`causal_mediation`.

    Attributes
    ----------
    draws : numpy.ndarray
        ``(n_boot or n_sims, k)`` bootstrap or quasi-Bayesian draws, columns in the order
        of :attr:`terms` (NaN rows: failed resamples).
    scales : tuple of str
        Scale of each term (``"difference"``, ``"ratio"`` or ``"log_odds_ratio"``).
    four_way_estimates, four_way_draws : numpy.ndarray or None
        The four-way decomposition (with ``interaction=True``).
    four_way_scale : str or None
        ``"difference"`` (linear outcome) or ``"excess_relative_risk"`` (logit outcome).

    Notes
    -----
    Coefficient protocol: :attr:`terms` are the effect names, :meth:`coef` the exact
    plug-in estimates (not simulation means), :meth:`vcov` the covariance of the
    bootstrap or quasi-Bayesian draws (failed resamples excluded) -- a simulation
    estimate; :attr:`nobs` is the number of rows used and :attr:`df_resid` is None.
    """

    _terms: tuple[str, ...]
    _estimates: np.ndarray
    draws: np.ndarray
    scales: tuple[str, ...]
    ci: str
    conf_level: float
    jackknife: np.ndarray | None
    four_way_estimates: np.ndarray | None
    four_way_draws: np.ndarray | None
    four_way_jackknife: np.ndarray | None
    four_way_scale: str | None
    glance_values: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    design: Design | None = None
    exposure_values: tuple[float, float] = (0.0, 1.0)

    _can_exponentiate = False
    _not_poolable = (
        "Causal mediation effects are not pooled by pool(); fit causal_mediation to each "
        "completed data set and combine the draws."
    )

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Effect names (``acme_control`` ...), in :meth:`tidy` order."""
        return tuple(self._terms)

    def coef(self) -> pd.Series:
        """Exact plug-in estimates indexed by term."""
        return pd.Series(
            np.array(self._estimates, dtype=float), index=list(self._terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Covariance of the bootstrap or quasi-Bayesian draws (failed draws excluded)."""
        d = self.draws[~np.isnan(self.draws).any(axis=1)]
        names = list(self._terms)
        v = np.cov(d, rowvar=False, ddof=1).reshape(len(names), len(names))
        return pd.DataFrame(v, index=names, columns=names)

    @property
    def nobs(self) -> int:
        """Rows used."""
        return int(self.glance_values["n"])

    @property
    def df_resid(self) -> None:
        """None: the intervals are percentiles of draws."""
        return None

    def _intervals(self, draws, estimates, jackknife, conf_level):
        if self.ci == "bca":
            return bca_interval(draws, estimates, jackknife, conf_level)
        return percentile_interval(draws, conf_level)

    def _frame(self, names, estimates, draws, jackknife, conf_level, scales) -> pd.DataFrame:
        low, high = self._intervals(draws, estimates, jackknife, conf_level)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(draws, axis=0, ddof=1)
            valid = (~np.isnan(draws)).sum(axis=0)
            below = np.nansum(draws < 0, axis=0) / valid
            above = np.nansum(draws > 0, axis=0) / valid
        p = np.minimum(1.0, 2 * np.minimum(below, above))
        out = pd.DataFrame(
            {
                "term": list(names),
                "estimate": estimates,
                "std_error": se,
                "statistic": np.nan,
                "p_value": p,
                "conf_low": low,
                "conf_high": high,
                "scale": list(scales),
            }
        )
        return out

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return self._frame(
            self._terms, self._estimates, self.draws, self.jackknife, conf_level, self.scales
        )

    def four_way(self, conf_level: float | None = None) -> pd.DataFrame:
        """VanderWeele's four-way decomposition of the total effect.

        Parameters
        ----------
        conf_level : float, optional
            Confidence level; the level of the fit by default.

        Returns
        -------
        pandas.DataFrame
            Rows ``cde``, ``intref``, ``intmed``, ``pie`` with the tidy columns, ``scale``
            and ``proportion`` (each component's share of their sum).

        Raises
        ------
        OptionError
            If the model was fitted without ``interaction=True``.
        """
        if self.four_way_estimates is None:
            raise OptionError(
                "The four-way decomposition needs `interaction=True` and linear or logit models "
                "in causal_mediation()."
            )
        conf_level = check_conf_level(self.conf_level if conf_level is None else conf_level)
        out = self._frame(
            FOUR_WAY_TERMS,
            self.four_way_estimates,
            self.four_way_draws,
            self.four_way_jackknife,
            conf_level,
            [self.four_way_scale] * 4,
        )
        out["proportion"] = out["estimate"] / out["estimate"].sum()
        return out

    def glance(self) -> pd.DataFrame:
        """One row: ``n``, ``n_dropped``, method, interval type, draws, failures, seed, models.

        ``condition_number`` is Belsley's scaled condition number of the worse-conditioned
        of the two fitted designs (mediator model and outcome model, each with its
        intercept; the outcome model's design holds every column of the mediator model's,
        so in effect it is the outcome model's); ``collinear`` is True when it
        exceeds the documented threshold ``1e4``, and a warning and a note then name the
        columns and the model.
        """
        return glance_frame(self.glance_values, GLANCE_COLUMNS)

    def _title(self) -> str:
        g = self.glance_values
        return (
            f"Causal mediation analysis ({g['mediator_family']}/{g['mediator_link']} mediator, "
            f"{g['outcome_family']}/{g['outcome_link']} outcome; {g['method']})"
        )

    def _notes(self) -> list[str]:
        return list(self.notes)

    def sensitivity(
        self,
        *,
        rho: Sequence[float] | np.ndarray | None = None,
        conf_level: float | None = None,
        n_sims: int = 500,
        rng: RNGLike = None,
    ) -> SensitivityResult:
        """Sensitivity of the ACME to mediator-outcome confounding (Imai et al. 2010).

        Parameters
        ----------
        rho : array-like, optional
            Correlations between the mediator and outcome model errors; by default
            ``numpy.linspace(-0.9, 0.9, 181)``.
        conf_level : float, optional
            Level of the pointwise intervals; the level of the fit by default.
        n_sims : int
            Quasi-Bayesian draws for the intervals of a probit outcome (unused for a
            linear outcome, whose intervals are analytic).
        rng : int, numpy.random.Generator or None
            Randomness for those draws.

        Returns
        -------
        SensitivityResult
            See :func:`mutualaid_outcomes.models.mediation.sensitivity.mediation_sensitivity`.
        """
        return mediation_sensitivity(self, rho=rho, conf_level=conf_level, n_sims=n_sims, rng=rng)
