"""The result of :func:`.glm.fit_regression`: coefficients, inference, predictions."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import MissingReport, check_cov_type, check_dataframe, check_option
from ...errors import DataValidationError, OptionError
from ...results import BaseResult, glance_frame, wald_table
from .._core.design import Design
from .._core.families import FAMILIES, FAMILY_LABELS, Fit
from ._glm_fit import REGRESSION_COV_TYPES, CovType, regression_vcov, used_cov_type
from .marginal import MarginalEffectsResult, average_marginal_effects

__all__ = ["REGRESSION_GLANCE_COLUMNS", "RegressionResult"]


REGRESSION_GLANCE_COLUMNS: tuple[str, ...] = (
    "family",
    "link",
    "method",
    "cov_type",
    "n",
    "n_dropped",
    "n_clusters",
    "df_model",
    "df_resid",
    "loglik",
    "aic",
    "bic",
    "deviance",
    "scale",
    "theta",
    "theta_se",
    "precision",
    "converged",
    "n_iter",
    "message",
    "condition_number",
    "collinear",
    "event_level",
)


_T_FAMILIES = ("gaussian", "fractional_logit")  # estimated dispersion: t reference


@dataclass(frozen=True, repr=False, eq=False)
class RegressionResult(BaseResult):
    """A fitted regression model (immutable).

    Attributes
    ----------
    formula : str
        The model formula.
    family, link : str
        Model family and link function.
    cov_type : str
        Covariance estimator of the standard errors: ``'model'``, ``'HC0'`` ...
        ``'HC3'``, or ``'cluster'`` (cluster-robust, from ``cluster=``).
    missing : MissingReport
        Rows used and excluded (listwise over formula, weight and cluster columns).

    Notes
    -----
    Coefficient protocol: :attr:`terms`, :meth:`coef` and :meth:`vcov` cover the
    coefficients shown by ``tidy()`` (for ordinal models the thresholds and slopes, for
    zero-inflated models the count and zero parts); ancillary parameters such as
    ``log(theta)`` are reported in ``glance()``. :attr:`nobs` is the number of rows used
    and :attr:`df_resid` is ``n - k`` for the gaussian and fractional-logit families
    (t-based intervals) and None for the others (z-based).
    """

    formula: str
    family: str
    link: str
    cov_type: str
    _params: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    missing: MissingReport
    n_clusters: int | None
    cluster_type: str | None
    _fit: Fit = field(repr=False)
    _design: Design = field(repr=False)
    _zero_design: Design | None = field(repr=False)
    _clusters: np.ndarray | None = field(repr=False)
    _data: pd.DataFrame = field(repr=False)
    _outcome: str = ""
    _offset: str | None = None
    _notes_: tuple[str, ...] = ()
    _event_level: str | None = None
    _levels: tuple[Any, ...] = ()

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names, in model order."""
        return tuple(self._params.index[: self._fit.n_coef])

    def coef(self) -> pd.Series:
        """Estimated coefficients indexed by term."""
        return self._params.iloc[: self._fit.n_coef].copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of :meth:`coef` under ``cov_type``."""
        k = self._fit.n_coef
        return self._cov.iloc[:k, :k].copy()

    @property
    def nobs(self) -> int:
        """Rows used in estimation."""
        return self.missing.n_used

    @property
    def df_resid(self) -> float | None:
        """``n - k`` for gaussian and fractional-logit models (t-based); None otherwise."""
        if self.family in _T_FAMILIES:
            return float(self.nobs - self._fit.n_coef)
        return None

    @property
    def _pool_dfcom(self) -> float:
        """``n - k`` for every family: R ``df.residual()``, which ``mice::pool`` uses."""
        return float(self.nobs - self._fit.n_coef)

    # -- contract -------------------------------------------------------------------
    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self.vcov().to_numpy()))
        return wald_table(self.terms, self.coef().to_numpy(), se, conf_level, self.df_resid)

    def glance(self) -> pd.DataFrame:
        """One-row model summary with the fixed regression columns.

        Columns ``family, link, method, cov_type, n, n_dropped, n_clusters, df_model,
        df_resid, loglik, aic, bic, deviance, scale, theta, theta_se, precision, converged,
        n_iter, message, condition_number, collinear, event_level`` (NaN where not
        applicable). ``condition_number`` is Belsley's scaled condition number of the
        design, ``collinear`` whether it exceeds the documented threshold (``1e4``),
        ``event_level`` the outcome level coded 1 of a binomial model with a labelled
        outcome (or an explicit ``event_level``).
        """
        f = self._fit
        ll = f.loglik
        k_ic = f.n_params_ic
        aic = -2 * ll + 2 * k_ic if np.isfinite(ll) else np.nan
        bic = -2 * ll + np.log(self.nobs) * k_ic if np.isfinite(ll) else np.nan
        values = {
            "family": self.family,
            "link": self.link,
            "method": "quasi-likelihood (IRLS)"
            if self.family == "fractional_logit"
            else ("IRLS" if self.family in FAMILIES[:5] else "maximum likelihood"),
            "cov_type": self.cov_type,
            "n": self.nobs,
            "n_dropped": self.missing.n_dropped,
            "n_clusters": self.n_clusters if self.n_clusters is not None else np.nan,
            "df_model": f.n_coef - (1 if self._design.has_intercept else 0),
            "df_resid": self.nobs - f.n_coef,
            "loglik": ll,
            "aic": aic,
            "bic": bic,
            "deviance": f.deviance,
            "scale": f.extras.get("scale", np.nan),
            "theta": f.extras.get("theta", np.nan),
            "theta_se": f.extras.get("theta_se", np.nan),
            "precision": f.extras.get("precision", np.nan),
            "converged": bool(f.converged),
            "n_iter": f.n_iter,
            "message": f.message,
            "condition_number": self._design.condition_number,
            "collinear": self._design.collinear,
            "event_level": self._event_level if self._event_level is not None else np.nan,
        }
        return glance_frame(values, REGRESSION_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"{FAMILY_LABELS[self.family]} regression ({self.link} link, {self.cov_type} SEs)"

    def _notes(self) -> list[str]:
        return [self.missing.describe(), *self._notes_]

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.family != "gaussian"

    # -- inference options ----------------------------------------------------------
    def with_cov_type(self, cov_type: CovType) -> RegressionResult:
        """Return a new result with standard errors from ``cov_type``.

        Parameters
        ----------
        cov_type : {'model', 'robust', 'HC0', 'HC1', 'HC2', 'HC3'}
            As in :func:`fit_regression`. For a model fitted with ``cluster=``,
            ``'robust'`` gives the cluster-robust SEs and the other values SEs that
            ignore the clusters.
        """
        check_cov_type(cov_type, REGRESSION_COV_TYPES)
        used = used_cov_type(cov_type, self._clusters is not None, self.family)
        clusters = self._clusters if used == "cluster" else None
        V = regression_vcov(self._fit, used, clusters, self.family, self.cluster_type)
        idx = self._params.index
        return replace(self, cov_type=used, _cov=pd.DataFrame(V, index=idx, columns=idx))

    # -- prediction -----------------------------------------------------------------
    @property
    def _predictor(self) -> Any:
        return self._fit.predictor

    def _matrices(self, newdata: pd.DataFrame | None) -> dict[str, np.ndarray]:
        data = self._data if newdata is None else newdata
        if newdata is not None:
            check_dataframe(newdata, "newdata")
        try:
            mats = {"X": self._design.matrix(data)}
            if self._zero_design is not None:
                mats["Z"] = self._zero_design.matrix(data)
        except Exception as exc:  # patsy raises many types
            raise DataValidationError(
                f"`newdata` could not be turned into the model's design: {exc}"
            ) from None
        if self.family == "ordinal_logit":
            mats["X"] = mats["X"][:, [c != "Intercept" for c in self._design.columns]]
        if self._offset is not None:
            if self._offset not in data.columns:
                raise DataValidationError(
                    f"`newdata` needs the offset column '{self._offset}' used in the fit."
                )
            mats["offset"] = data[self._offset].to_numpy(dtype=float)
        return mats

    def predict(
        self, newdata: pd.DataFrame | None = None, type: Literal["response", "link"] = "response"
    ) -> pd.Series | pd.DataFrame:
        """Predictions for ``newdata`` (the estimation rows when ``None``).

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            Must contain every column the formula uses. Rows with missing values give NaN.
        type : {'response', 'link'}
            Mean of the outcome (probability, rate, expected count including the zero
            part) or the linear predictor (of the count part for zero-inflated models).
            Ordinal models return one column of probabilities per category.

        Returns
        -------
        pandas.Series or pandas.DataFrame
        """
        check_option(type, ("response", "link"), "type")
        mats = self._matrices(newdata)
        out = self._fit.predictor(mats, self._params.to_numpy(), type)
        index = (self._data if newdata is None else newdata).index
        if out.ndim == 2:
            return pd.DataFrame(out, index=index, columns=[f"p_{lv}" for lv in self._levels])
        return pd.Series(out, index=index, name="predicted")

    def marginal_effects(
        self, variables: str | list[str] | None = None, *, conf_level: float = 0.95
    ) -> MarginalEffectsResult:
        """Average marginal effects on the response scale, with delta-method SEs.

        See :func:`mutualaid_outcomes.models.regression.marginal.average_marginal_effects`.
        """
        if self.family == "ordinal_logit":
            raise OptionError(
                "marginal_effects() is not available for ordinal models; use predict() to "
                "compare category probabilities."
            )
        return average_marginal_effects(self, variables=variables, conf_level=conf_level)
