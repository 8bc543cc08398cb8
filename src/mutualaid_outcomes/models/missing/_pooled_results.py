"""Results of pooling by Rubin's rules: :class:`PooledResult` and :class:`PooledMediationResult`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from ...results import BaseResult, glance_frame

__all__ = [
    "POOLED_GLANCE_COLUMNS",
    "POOLED_MEDIATION_GLANCE_COLUMNS",
    "PooledMediationResult",
    "PooledResult",
]


POOLED_GLANCE_COLUMNS: tuple[str, ...] = (
    "model",
    "method",
    "m",
    "n",
    "n_dropped",
    "dfcom",
    "df_method",
    "fmi_max",
)


POOLED_MEDIATION_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "ci",
    "m",
    "n",
    "n_dropped",
    "n_boot",
    "n_failed",
    "seed",
    "fmi_max",
)


@dataclass(frozen=True, repr=False, eq=False)
class PooledResult(BaseResult):
    r"""Estimates of ``m`` fits combined by Rubin's rules (immutable).

    Attributes
    ----------
    within, between : pandas.DataFrame
        :math:`\bar U` and :math:`B` as matrices.
    df, riv, lambda_, fmi : numpy.ndarray
        Per-term degrees of freedom, relative increase in variance, proportion of the
        variance due to missingness and fraction of missing information.
    fit_estimates : pandas.DataFrame
        The ``m`` complete-data estimates (one row per fit).
    model : str
        Class of the pooled fits (``"RegressionResult"``, ``"CoxResult"`` ...).
    dfcom : float
        Complete-data degrees of freedom (``inf``: large-sample df).

    Notes
    -----
    Coefficient protocol: :attr:`terms` are the parameter names, :meth:`coef` the pooled
    estimates :math:`\bar Q`, :meth:`vcov` the total covariance
    :math:`\bar U + (1 + 1/m) B` (matrix form), :attr:`nobs` the rows of each completed
    data set; :attr:`df_resid` is None because the degrees of freedom differ by term
    (``tidy()["df"]``).
    """

    _terms: tuple[str, ...]
    _estimates: np.ndarray
    _cov: pd.DataFrame
    within: pd.DataFrame
    between: pd.DataFrame
    df: np.ndarray
    riv: np.ndarray
    lambda_: np.ndarray
    fmi: np.ndarray
    fit_estimates: pd.DataFrame
    m: int
    _nobs: int
    n_dropped: int
    model: str
    dfcom: float
    exponentiable: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    _not_poolable = "These results are already pooled over imputations."

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.exponentiable

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Parameter names."""
        return tuple(self._terms)

    def coef(self) -> pd.Series:
        """Pooled estimates indexed by term."""
        return pd.Series(
            np.array(self._estimates, dtype=float), index=list(self._terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Total covariance ``Ubar + (1 + 1/m) B``."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Rows of each completed data set used by the fits."""
        return int(self._nobs)

    @property
    def df_resid(self) -> None:
        """None: the t reference has one df per term (``tidy()["df"]``)."""
        return None

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        est = self._estimates
        ubar = np.diag(self.within.to_numpy())
        b = np.diag(self.between.to_numpy())
        t = np.diag(self._cov.to_numpy())
        se = np.sqrt(t)
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = est / se
        q = stats.t.ppf(0.5 + conf_level / 2, self.df)
        out = pd.DataFrame(
            {
                "term": list(self._terms),
                "estimate": est,
                "std_error": se,
                "statistic": stat,
                "p_value": 2 * stats.t.sf(np.abs(stat), self.df),
                "conf_low": est - q * se,
                "conf_high": est + q * se,
                "df": self.df,
                "ubar": ubar,
                "b": b,
                "t": t,
                "riv": self.riv,
                "lambda": self.lambda_,
                "fmi": self.fmi,
            }
        )
        return out

    def glance(self) -> pd.DataFrame:
        """One row: ``model, method, m, n, n_dropped, dfcom, df_method, fmi_max``."""
        return glance_frame(
            {
                "model": self.model,
                "method": "Rubin's rules",
                "m": self.m,
                "n": self.nobs,
                "n_dropped": self.n_dropped,
                "dfcom": self.dfcom,
                "df_method": "large-sample" if np.isinf(self.dfcom) else "Barnard-Rubin",
                "fmi_max": float(np.nanmax(self.fmi)) if len(self.fmi) else np.nan,
            },
            POOLED_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return f"{self.model} pooled over m = {self.m} imputations (Rubin's rules)"

    def _notes(self) -> list[str]:
        return list(self.notes)


@dataclass(frozen=True, repr=False, eq=False)
class PooledMediationResult(BaseResult):
    """A mediation analysis pooled over ``m`` imputations (immutable).

    Attributes
    ----------
    draws : pandas.DataFrame
        All bootstrap draws of all imputations, with an ``imp`` column (1..m).
    fit_estimates : pandas.DataFrame
        The ``m`` plug-in estimates (one row per imputation).
    ubar, b, t, df, riv, lambda_, fmi : numpy.ndarray
        Rubin's-rules quantities per effect (within variance = bootstrap variance).
    ci : str
        ``"rubin"`` or ``"pooled_percentile"``.

    Notes
    -----
    Coefficient protocol: :attr:`terms` are the effect names (as
    :func:`~mutualaid_outcomes.models.mediation.product.mediate`), :meth:`coef` the
    pooled point estimates (means of the ``m`` plug-in estimates), :meth:`vcov` the
    matrix form of Rubin's total variance with the bootstrap covariance of each
    imputation as within covariance (its diagonal is ``t``); :attr:`nobs` is the number
    of rows of each completed data set and :attr:`df_resid` None.
    """

    _terms: tuple[str, ...]
    _estimates: np.ndarray
    draws: pd.DataFrame
    fit_estimates: pd.DataFrame
    ubar: np.ndarray
    b: np.ndarray
    t: np.ndarray
    df: np.ndarray
    riv: np.ndarray
    lambda_: np.ndarray
    fmi: np.ndarray
    ci: str
    m: int
    _nobs: int
    n_dropped: int
    n_boot: int
    n_failed: int
    seed: int | None
    wald_terms: frozenset[str]
    notes: tuple[str, ...] = field(default_factory=tuple)

    _can_exponentiate = False
    _not_poolable = "These mediation results are already pooled over imputations."

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Effect names, in :meth:`tidy` order."""
        return tuple(self._terms)

    def coef(self) -> pd.Series:
        """Pooled plug-in estimates indexed by term."""
        return pd.Series(
            np.array(self._estimates, dtype=float), index=list(self._terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Rubin's total covariance: mean bootstrap covariance + ``(1 + 1/m)`` B."""
        names = list(self._terms)
        k = len(names)
        within = np.zeros((k, k))
        for _, d in self.draws.groupby("imp"):
            x = d[names].dropna().to_numpy(dtype=float)
            within += np.cov(x, rowvar=False, ddof=1).reshape(k, k)
        within /= self.m
        between = np.cov(self.fit_estimates[names].to_numpy(dtype=float), rowvar=False, ddof=1)
        total = within + (1 + 1 / self.m) * between.reshape(k, k)
        return pd.DataFrame(total, index=names, columns=names)

    @property
    def nobs(self) -> int:
        """Rows of each completed data set."""
        return int(self._nobs)

    @property
    def df_resid(self) -> None:
        """None: the t reference has one df per effect (``tidy()["df"]``)."""
        return None

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(self.t)
        q = stats.t.ppf(0.5 + conf_level / 2, self.df)
        if self.ci == "rubin":
            low, high = self._estimates - q * se, self._estimates + q * se
        else:
            d = self.draws[list(self._terms)].to_numpy(dtype=float)
            alpha = (1 - conf_level) / 2
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                low = np.nanquantile(d, alpha, axis=0)
                high = np.nanquantile(d, 1 - alpha, axis=0)
        wald = np.array([t in self.wald_terms for t in self._terms])
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = np.where(wald, self._estimates / se, np.nan)
        p = np.where(wald, 2 * stats.t.sf(np.abs(stat), self.df), np.nan)
        out = pd.DataFrame(
            {
                "term": list(self._terms),
                "estimate": self._estimates,
                "std_error": se,
                "statistic": stat,
                "p_value": p,
                "conf_low": low,
                "conf_high": high,
                "df": self.df,
                "ubar": self.ubar,
                "b": self.b,
                "t": self.t,
                "riv": self.riv,
                "lambda": self.lambda_,
                "fmi": self.fmi,
            }
        )
        return out

    def glance(self) -> pd.DataFrame:
        """One row: ``method, ci, m, n, n_dropped, n_boot, n_failed, seed, fmi_max``."""
        return glance_frame(
            {
                "method": "MI-boot (bootstrap within each imputation)",
                "ci": self.ci,
                "m": self.m,
                "n": self.nobs,
                "n_dropped": self.n_dropped,
                "n_boot": self.n_boot,
                "n_failed": self.n_failed,
                "seed": np.nan if self.seed is None else self.seed,
                "fmi_max": float(np.nanmax(self.fmi)) if len(self.fmi) else np.nan,
            },
            POOLED_MEDIATION_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return f"Mediation analysis pooled over m = {self.m} imputations ({self.ci})"

    def _notes(self) -> list[str]:
        return list(self.notes)
