"""Results of the instrumental-variable estimators: 2SLS (:class:`IVResult`) and CACE."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import MissingReport, check_cov_type, check_option
from ...results import BaseResult, StoredCoefficients, glance_frame, wald_table
from .._core.ols import fit_ols
from ._iv_core import CORE_COV, IV_COV_TYPES, WEAK_F, IVCov, first_stage_f, iv_vcov, public_cov

__all__ = ["CACE_GLANCE_COLUMNS", "CACEResult", "IV_GLANCE_COLUMNS", "IVResult"]


IV_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "cov_type",
    "n",
    "n_dropped",
    "n_clusters",
    "n_exposures",
    "n_instruments",
    "df_resid",
    "sigma",
    "first_stage_f",
    "first_stage_f_classical",
    "partial_r2",
    "weak_instruments",
    "sargan",
    "sargan_p_value",
    "condition_number",
    "collinear",
)


CACE_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "cov_type",
    "n",
    "n_dropped",
    "n_clusters",
    "n_assigned",
    "exposure_binary",
    "first_stage_f",
    "weak_instruments",
    "condition_number",
    "collinear",
)


@dataclass(frozen=True, repr=False, eq=False)
class IVResult(StoredCoefficients, BaseResult):
    """A two-stage least-squares fit (immutable).

    Attributes
    ----------
    outcome : str
        Outcome column.
    exposures : tuple of str
        Endogenous exposure columns.
    instruments : tuple of str
        Excluded instrument design columns (indicators for categorical instruments).
    covariates : tuple of str
        Exogenous covariate design columns (in both stages).
    cov_type : str
        Covariance estimator: ``'model'``, ``'HC0'``, ``'HC1'`` or ``'cluster'``.
    missing : MissingReport
        Rows used and excluded.
    n_clusters : int or None
        Number of clusters for cluster-robust SEs.

    Notes
    -----
    Coefficient protocol: :meth:`coef` gives the second-stage coefficients and
    :meth:`vcov` their covariance under ``cov_type``; :attr:`nobs` is the number of rows
    used and :attr:`df_resid` is ``n - k`` (t-based inference).
    """

    outcome: str
    exposures: tuple[str, ...]
    instruments: tuple[str, ...]
    covariates: tuple[str, ...]
    cov_type: str
    _params: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    missing: MissingReport
    n_clusters: int | None
    cluster_type: str
    _first: pd.DataFrame = field(repr=False)
    _xhat: np.ndarray = field(repr=False)
    _resid: np.ndarray = field(repr=False)
    _Z: np.ndarray = field(repr=False)
    _D: np.ndarray = field(repr=False)
    _W: np.ndarray = field(repr=False)
    _clusters: np.ndarray | None = field(repr=False)
    _notes_: tuple[str, ...] = ()
    condition_number: float = np.nan
    collinear_columns: tuple[str, ...] = ()

    _can_exponentiate = False

    @property
    def df_resid(self) -> float:
        """Residual degrees of freedom ``n - k``."""
        return float(self.nobs - len(self._params))

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov.to_numpy()))
        return wald_table(self.terms, self._params.to_numpy(), se, conf_level, self.df_resid)

    def first_stage(self) -> pd.DataFrame:
        """First-stage strength of the excluded instruments, one row per exposure.

        Returns
        -------
        pandas.DataFrame
            ``exposure, f_statistic`` (Wald F of the excluded instruments using the
            fit's ``cov_type``: classical, HC0/HC1 or cluster-robust), ``df_num,
            df_denom, p_value, f_classical`` (homoskedastic F), ``partial_r2``
            (share of the exposure's residual variance, after covariates, explained
            by the instruments), ``cov_type``, ``weak`` (F below 10).
        """
        return self._first.copy()

    def glance(self) -> pd.DataFrame:
        """One-row summary with the fixed IV columns.

        Columns ``method, cov_type, n, n_dropped, n_clusters, n_exposures,
        n_instruments, df_resid, sigma, first_stage_f`` (smallest over exposures),
        ``first_stage_f_classical, partial_r2, weak_instruments, sargan,
        sargan_p_value`` (NaN when exactly identified), ``condition_number`` (Belsley's
        scaled condition number of the second-stage design: intercept, covariates and
        exposures) and ``collinear`` (above the documented threshold ``1e4``,
        ``docs/numerics.md``).
        """
        u = self._resid
        sargan = p_sargan = np.nan
        over = len(self.instruments) - len(self.exposures)
        if over > 0:
            g = fit_ols(self._Z, u, what="Sargan regression").beta
            fitted = self._Z @ g
            r2 = 1 - np.sum((u - fitted) ** 2) / np.sum((u - u.mean()) ** 2)
            sargan = float(self.nobs * r2)
            p_sargan = float(stats.chi2.sf(sargan, over))
        fs = self._first
        values = {
            "method": "2SLS",
            "cov_type": self.cov_type,
            "n": self.nobs,
            "n_dropped": self.missing.n_dropped,
            "n_clusters": self.n_clusters if self.n_clusters is not None else np.nan,
            "n_exposures": len(self.exposures),
            "n_instruments": len(self.instruments),
            "df_resid": self.df_resid,
            "sigma": float(np.sqrt(u @ u / self.df_resid)),
            "first_stage_f": float(fs["f_statistic"].min()),
            "first_stage_f_classical": float(fs["f_classical"].min()),
            "partial_r2": float(fs["partial_r2"].min()),
            "weak_instruments": bool(fs["weak"].any()),
            "sargan": sargan,
            "sargan_p_value": p_sargan,
            "condition_number": self.condition_number,
            "collinear": bool(self.collinear_columns),
        }
        return glance_frame(values, IV_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"Instrumental variables (2SLS, {self.cov_type} SEs): {self.outcome}"

    def _notes(self) -> list[str]:
        inst = ", ".join(self.instruments)
        return [
            self.missing.describe(),
            f"Instruments: {inst}; exposures: {', '.join(self.exposures)}.",
            *self._notes_,
        ]

    def with_cov_type(
        self, cov_type: IVCov, *, cluster_type: Literal["HC0", "HC1"] | None = None
    ) -> IVResult:
        """Return a new result with standard errors and first-stage F from ``cov_type``.

        Values as in :func:`fit_iv`. For a model fitted with ``cluster=``, ``'robust'``
        gives the cluster-robust SEs and the other values SEs that ignore the clusters.
        """
        check_cov_type(cov_type, IV_COV_TYPES)
        ctype = self.cluster_type if cluster_type is None else cluster_type
        check_option(ctype, ("HC0", "HC1"), "cluster_type")
        if cov_type == "robust" and self._clusters is not None:
            core = "cluster"
        else:
            core = CORE_COV[cov_type]
        clusters = self._clusters if core == "cluster" else None
        bread = np.linalg.inv(self._xhat.T @ self._xhat)
        u = self._resid
        V = iv_vcov(bread, u[:, None] * self._xhat, core, u @ u / self.df_resid, clusters, ctype)
        excl = np.zeros(self._Z.shape[1], dtype=bool)
        excl[self._W.shape[1] :] = True
        fs = first_stage_f(self._D, self._Z, self._W, excl, self.exposures, core, clusters, ctype)
        idx = self._params.index
        return replace(
            self,
            cov_type=public_cov(core),
            cluster_type=ctype,
            _cov=pd.DataFrame(V, index=idx, columns=idx),
            _first=fs,
        )


@dataclass(frozen=True, repr=False, eq=False)
class CACEResult(BaseResult):
    """Complier average causal effect from a randomised encouragement (immutable).

    ``tidy()`` has three rows: ``itt`` (effect of assignment on the outcome),
    ``first_stage`` (effect of assignment on the exposure; for a binary exposure the
    share of compliers) and ``cace`` (their ratio).

    Coefficient protocol: :meth:`coef` gives ``itt``, ``first_stage`` and ``cace``,
    :meth:`vcov` their joint covariance (sandwich of the stacked regressions, delta
    method for the ratio), :attr:`nobs` the rows used and :attr:`df_resid` ``n - k`` of
    the ITT regressions (t-based inference).
    """

    outcome: str
    exposure: str
    assignment: str
    cov_type: str
    _estimates: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    missing: MissingReport
    n_clusters: int | None
    exposure_binary: bool
    n_assigned: int
    first_stage_f: float
    _df_resid: int = 0
    _notes_: tuple[str, ...] = ()
    condition_number: float = np.nan
    collinear_columns: tuple[str, ...] = ()

    _can_exponentiate = False

    @property
    def terms(self) -> tuple[str, ...]:
        """``('itt', 'first_stage', 'cace')``."""
        return tuple(self._estimates.index)

    def coef(self) -> pd.Series:
        """The ITT effect, the first-stage effect and their ratio."""
        return self._estimates.copy()

    def vcov(self) -> pd.DataFrame:
        """Joint covariance of the three estimates."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Rows used."""
        return self.missing.n_used

    @property
    def df_resid(self) -> float:
        """Residual degrees of freedom ``n - k`` of the two ITT regressions."""
        return float(self._df_resid)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov.to_numpy()))
        return wald_table(self.terms, self._estimates.to_numpy(), se, conf_level, self.df_resid)

    def glance(self) -> pd.DataFrame:
        """One-row summary with the fixed CACE columns.

        Columns ``method, cov_type, n, n_dropped, n_clusters, n_assigned,
        exposure_binary, first_stage_f, weak_instruments, condition_number, collinear``.
        ``condition_number`` is Belsley's scaled condition number of the design both
        intention-to-treat regressions share (intercept, assignment, covariates);
        ``collinear`` is True when it exceeds the documented threshold ``1e4``, and a
        warning and a note then name the columns.
        """
        values = {
            "method": "Wald (ratio of ITT effects)",
            "cov_type": self.cov_type,
            "n": self.nobs,
            "n_dropped": self.missing.n_dropped,
            "n_clusters": self.n_clusters if self.n_clusters is not None else np.nan,
            "n_assigned": self.n_assigned,
            "exposure_binary": self.exposure_binary,
            "first_stage_f": self.first_stage_f,
            "weak_instruments": bool(self.first_stage_f < WEAK_F),
            "condition_number": self.condition_number,
            "collinear": bool(self.collinear_columns),
        }
        return glance_frame(values, CACE_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"Complier average causal effect of {self.exposure} on {self.outcome}"

    def _notes(self) -> list[str]:
        return [self.missing.describe(), *self._notes_]
