"""The result of :func:`~mutualaid_outcomes.models.sem.fit_sem`."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ...results import TIDY_COLUMNS, BaseResult, glance_frame
from .._core import bootstrap as bs

__all__ = ["SEMResult", "SEM_GLANCE_COLUMNS", "SEM_TIDY_EXTRA"]

#: Columns of :meth:`SEMResult.glance` (fixed for the SEM family; NaN where not applicable).
SEM_GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "n_groups",
    "n_clusters",
    "npar",
    "estimator",
    "missing",
    "cov_type",
    "information",
    "converged",
    "n_iter",
    "chisq",
    "df",
    "pvalue",
    "baseline_chisq",
    "baseline_df",
    "cfi",
    "tli",
    "rmsea",
    "rmsea_ci_low",
    "rmsea_ci_high",
    "rmsea_pvalue",
    "srmr",
    "loglik",
    "unrestricted_loglik",
    "aic",
    "bic",
    "chisq_scaled",
    "pvalue_scaled",
    "scaling_factor",
    "baseline_chisq_scaled",
    "cfi_scaled",
    "tli_scaled",
    "rmsea_scaled",
    "rmsea_scaled_ci_low",
    "rmsea_scaled_ci_high",
    "cfi_robust",
    "tli_robust",
    "rmsea_robust",
    "heywood",
    "n_boot",
    "n_failed",
    "ci",
    "conf_level",
    "seed",
    "method",
)

#: Columns :meth:`SEMResult.tidy` adds after the standard ones.
SEM_TIDY_EXTRA: tuple[str, ...] = ("lhs", "op", "rhs", "group", "label", "free", "std_all")


@dataclass(frozen=True, repr=False, eq=False)
class SEMResult(BaseResult):
    """A fitted structural equation model (immutable).

    Attributes
    ----------
    parameters : pandas.DataFrame
        One row per parameter (lavaan ``parameterEstimates()`` order): ``lhs, op, rhs,
        group, label, free`` (index of the free parameter, 0 if fixed), ``estimate``,
        ``std_error`` (0 for fixed parameters), ``std_all``, ``term``.
    fit_measures : dict
        Test statistics and fit indices (see :meth:`glance`).
    draws : pandas.DataFrame or None
        Bootstrap estimates of the free and defined parameters (one row per resample).
    notes : tuple of str
        Rows excluded, defaults applied, warnings.
    """

    parameters: pd.DataFrame
    fit_measures: dict[str, Any]
    param_cov: np.ndarray
    info: dict[str, Any]
    draws: pd.DataFrame | None = None
    jackknife: np.ndarray | None = None
    notes: tuple[str, ...] = ()
    _state: Any = field(default=None, repr=False)

    _can_exponentiate = False

    # ------------------------------------------------------------------ protocol
    @property
    def terms(self) -> tuple[str, ...]:
        """Free and defined parameters in table order.

        Named ``"lhs op rhs"``, with ``[group]`` in multi-group models.
        """
        p = self.parameters
        return tuple(p.loc[(p["free"] > 0) | (p["op"] == ":="), "term"])

    def coef(self) -> pd.Series:
        """Estimates of :attr:`terms`."""
        p = self.parameters.set_index("term")
        return p.loc[list(self.terms), "estimate"].rename("estimate")

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of :attr:`terms` under ``cov_type`` (delta method for ``:=``)."""
        t = list(self.terms)
        return pd.DataFrame(self.param_cov, index=t, columns=t)

    @property
    def nobs(self) -> int:
        """Rows used in estimation."""
        return int(self.info["n"])

    @property
    def syntax(self) -> str:
        """The lavaan model syntax that was fitted."""
        return str(self.info.get("syntax", ""))

    @property
    def df_resid(self) -> None:
        """``None``: inference is large-sample (z)."""
        return None

    # ------------------------------------------------------------------ contract
    def _tidy(self, conf_level: float) -> pd.DataFrame:
        p = self.parameters
        est = p["estimate"].to_numpy(float)
        se = p["std_error"].to_numpy(float)
        fixed = (p["free"].to_numpy() == 0) & (p["op"].to_numpy() != ":=")
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(fixed, np.nan, est / se)
        pval = 2 * stats.norm.sf(np.abs(z))
        q = stats.norm.ppf(0.5 + conf_level / 2)
        low, high = est - q * se, est + q * se
        if self.draws is not None:
            low, high = self._boot_limits(conf_level, low, high)
        out = pd.DataFrame(
            {
                "term": p["term"],
                "estimate": est,
                "std_error": se,
                "statistic": z,
                "p_value": pval,
                "conf_low": low,
                "conf_high": high,
            }
        )
        for c in SEM_TIDY_EXTRA:
            out[c] = p[c].to_numpy()
        if self.draws is not None:
            out["boot_se"] = self._boot_se()
        return out.loc[:, list(TIDY_COLUMNS) + [c for c in out.columns if c not in TIDY_COLUMNS]]

    @property
    def _draws(self) -> pd.DataFrame:
        if self.draws is None:  # pragma: no cover - callers check first
            raise RuntimeError("this fit has no resampling draws")
        return self.draws

    def _boot_index(self) -> np.ndarray:
        cols = {c: k for k, c in enumerate(self._draws.columns)}
        return np.array([cols.get(t, -1) for t in self.parameters["term"]])

    def _boot_se(self) -> np.ndarray:
        idx = self._boot_index()
        d = self._draws.to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sd = np.nanstd(d, axis=0, ddof=1)
        return np.where(idx >= 0, sd[np.maximum(idx, 0)], 0.0)

    def _boot_limits(self, conf_level: float, low: np.ndarray, high: np.ndarray):
        idx = self._boot_index()
        d = self._draws.to_numpy()
        if self.info["ci"] == "bca" and self.jackknife is not None:
            est = self.parameters.set_index("term").loc[self._draws.columns, "estimate"]
            lo, hi = bs.bca_interval(d, est.to_numpy(float), self.jackknife, conf_level)
        else:
            lo, hi = bs.percentile_interval(d, conf_level)
        has = idx >= 0
        low, high = low.copy(), high.copy()
        low[has], high[has] = lo[idx[has]], hi[idx[has]]
        return low, high

    def glance(self) -> pd.DataFrame:
        """One row of model-level statistics.

        Sample sizes, estimator and SE type, test statistics, fit indices (``chisq, df, pvalue, cfi, tli, rmsea`` with its 90% limits and p-value of close
        fit, ``srmr, loglik, aic, bic``), scaled (Yuan--Bentler) versions for MLR, the
        Heywood flag and the bootstrap settings (columns :data:`SEM_GLANCE_COLUMNS`).
        """
        values = {
            k: v for k, v in {**self.info, **self.fit_measures}.items() if k in SEM_GLANCE_COLUMNS
        }
        return glance_frame(values, SEM_GLANCE_COLUMNS)

    def _title(self) -> str:
        i = self.info
        groups = f", {i['n_groups']} groups" if i["n_groups"] > 1 else ""
        return (
            f"Structural equation model ({i['estimator']}, missing={i['missing']}, "
            f"{i['cov_type']} SEs{groups})"
        )

    def _notes(self) -> list[str]:
        return list(self.notes)

    # ------------------------------------------------------------------ extras
    def modification_indices(self, *, minimum: float = 0.0, sort: bool = True) -> pd.DataFrame:
        """Modification indices of parameters not in the model (lavaan ``modindices()``).

        Parameters
        ----------
        minimum : float
            Keep rows with a modification index above this value.
        sort : bool
            Sort by decreasing modification index.

        Returns
        -------
        pandas.DataFrame
            Columns ``lhs, op, rhs, group, mi, p_value, epc, sepc_all``.
        """
        from .modindices import modification_indices

        return modification_indices(self, minimum=minimum, sort=sort)
