"""The result of :func:`.product.mediate`: paths, indirect effects and their intervals."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ...results import TIDY_COLUMNS, BaseResult, glance_frame
from .._core import bootstrap as bs

__all__ = ["GLANCE_COLUMNS", "MediationResult"]


#: Columns of :meth:`MediationResult.glance` (fixed for the mediation family).
GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "n_boot",
    "n_failed",
    "ci",
    "conf_level",
    "seed",
    "n_clusters",
    "model",
    "method",
    "condition_number",
    "collinear",
)


@dataclass(frozen=True, repr=False, eq=False)
class MediationResult(BaseResult):
    """Result of :func:`mediate` (and :func:`~mutualaid_outcomes.models.mediation.lagged`).

    Attributes
    ----------
    draws : pandas.DataFrame
        One row per bootstrap resample (or Monte Carlo draw), one column per term;
        failed resamples are rows of NaN.
    jackknife : numpy.ndarray or None
        Leave-one-out (leave-one-cluster-out) estimates used for the BCa acceleration.
    ci : str
        Interval type: ``"bca"``, ``"percentile"`` or ``"monte_carlo"``.
    conf_level : float
        Confidence level requested in :func:`mediate` (``tidy()`` accepts others).
    n_boot : int
        Bootstrap resamples, or Monte Carlo draws for ``ci="monte_carlo"`` (the rows of
        ``draws``).
    condition_number : float
        Belsley's scaled condition number of the worst-conditioned fitted equation (the
        largest over the mediator models and the outcome model, each with its intercept).
    collinear_columns : tuple of str
        The columns of that equation flagged as nearly collinear (empty when the
        condition number is at most ``1e4``).

    Notes
    -----
    Coefficient protocol: :attr:`terms` are the effect names in :meth:`tidy` order,
    :meth:`coef` the plug-in estimates on the full (complete-case) data, :meth:`vcov`
    the covariance of the bootstrap (or Monte Carlo) draws over the draws that did
    not fail -- a simulation estimate, not an analytic covariance; :attr:`nobs` is the
    number of rows used and :attr:`df_resid` is None. ``pool()`` refuses mediation
    results: use ``pool_mediation``.
    """

    _terms: tuple[str, ...]
    _estimates: np.ndarray
    draws: pd.DataFrame
    jackknife: np.ndarray | None
    ci: str
    conf_level: float
    _nobs: int
    n_dropped: int
    n_boot: int
    n_failed: int
    seed: int | None
    n_clusters: int | None
    model: str
    method: str
    exposure: str
    mediators: tuple[str, ...]
    outcome: str
    covariates: tuple[str, ...]
    outcome_family: str
    wald_terms: frozenset[str]
    notes: tuple[str, ...] = field(default_factory=tuple)
    condition_number: float = np.nan
    collinear_columns: tuple[str, ...] = ()

    _can_exponentiate = False
    _not_poolable = (
        "Mediation results are pooled with pool_mediation(imputed, ...), which pools the "
        "bootstrap draws of every imputation; pool() handles model fits."
    )

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Effect names, in :meth:`tidy` order (see :func:`mediate`)."""
        return tuple(self._terms)

    def coef(self) -> pd.Series:
        """Plug-in estimates of the paths and effects, indexed by term."""
        return pd.Series(
            np.array(self._estimates, dtype=float), index=list(self._terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Covariance of the bootstrap or Monte Carlo draws (failed draws excluded)."""
        d = self.draws[list(self._terms)].dropna().to_numpy(dtype=float)
        names = list(self._terms)
        return pd.DataFrame(
            np.cov(d, rowvar=False, ddof=1).reshape(len(names), len(names)),
            index=names,
            columns=names,
        )

    @property
    def nobs(self) -> int:
        """Rows used (complete cases)."""
        return int(self._nobs)

    @property
    def df_resid(self) -> None:
        """None: p-values use the normal distribution with the draws' SD."""
        return None

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        draws = self.draws.to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(draws, axis=0, ddof=1)
        if self.ci == "bca" and self.jackknife is not None:
            low, high = bs.bca_interval(draws, self._estimates, self.jackknife, conf_level)
        else:
            low, high = bs.percentile_interval(draws, conf_level)
        wald = np.array([t in self.wald_terms for t in self._terms])
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = np.where(wald, self._estimates / se, np.nan)
        p = np.where(wald, 2 * stats.norm.sf(np.abs(stat)), np.nan)
        out = pd.DataFrame(
            {
                "term": list(self._terms),
                "estimate": self._estimates,
                "std_error": se,
                "statistic": stat,
                "p_value": p,
                "conf_low": low,
                "conf_high": high,
            }
        )
        return out.loc[:, list(TIDY_COLUMNS)]

    def glance(self) -> pd.DataFrame:
        """One row: ``n, n_dropped, n_boot, n_failed, ci, conf_level, seed, n_clusters,
        model, method, condition_number, collinear``.

        ``condition_number`` is Belsley's scaled condition number of the worst-conditioned
        fitted equation (the largest over the mediator models and the outcome model);
        ``collinear`` is True when it exceeds the documented threshold ``1e4``
        (:data:`~mutualaid_outcomes.models._core.design.COLLINEARITY_THRESHOLD`), and a
        warning and a note then name the columns and the equation.
        """  # noqa: D205
        return glance_frame(
            {
                "n": self.nobs,
                "n_dropped": self.n_dropped,
                "n_boot": self.n_boot,
                "n_failed": self.n_failed,
                "ci": self.ci,
                "conf_level": self.conf_level,
                "seed": np.nan if self.seed is None else self.seed,
                "n_clusters": np.nan if self.n_clusters is None else self.n_clusters,
                "model": self.model,
                "method": self.method,
                "condition_number": self.condition_number,
                "collinear": bool(self.collinear_columns),
            },
            GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        k = len(self.mediators)
        return (
            f"Mediation analysis ({self.model}, {k} mediator{'s' if k > 1 else ''}, "
            f"{self.ci} intervals)"
        )

    def _notes(self) -> list[str]:
        return list(self.notes)
