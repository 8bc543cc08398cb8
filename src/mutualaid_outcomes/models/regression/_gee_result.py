"""The result of :func:`.gee.fit_gee`: marginal-model coefficients, working correlation, QIC."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import MissingReport, check_cov_type, check_dataframe, check_option
from ...errors import DataValidationError
from ...results import BaseResult, StoredCoefficients, glance_frame, wald_table
from .._core.design import Design
from ._gee_solver import GEE_COV_TYPES, GEECovType, gee_vcov, sm_family
from .marginal import MarginalEffectsResult, average_marginal_effects

__all__ = ["GEE_GLANCE_COLUMNS", "GEEResult"]


GEE_GLANCE_COLUMNS: tuple[str, ...] = (
    "family",
    "link",
    "method",
    "cov_struct",
    "cov_type",
    "n",
    "n_dropped",
    "n_clusters",
    "cluster_size_min",
    "cluster_size_max",
    "scale",
    "alpha",
    "qic",
    "qicu",
    "quasi_loglik",
    "converged",
    "n_iter",
    "message",
    "condition_number",
    "collinear",
)


@dataclass(frozen=True, repr=False, eq=False)
class GEEResult(StoredCoefficients, BaseResult):
    """A fitted GEE model (immutable).

    Attributes
    ----------
    formula, family, link, cov_struct, cov_type : str
        The model and its inference settings.
    working_correlation : pandas.Series
        Estimated working-correlation parameters (``alpha``; for unstructured one per
        pair of waves, named ``'alpha[t1,t2]'``).
    scale : float
        Estimated scale ``phi = sum r^2 / N`` (Pearson residuals).
    missing : MissingReport
        Rows used and excluded.

    Notes
    -----
    Coefficient protocol: :meth:`coef` and :meth:`vcov` (under ``cov_type``), :attr:`nobs`
    (rows used); :attr:`df_resid` is None (Wald z inference, as geepack).
    """

    formula: str
    family: str
    link: str
    cov_struct: str
    cov_type: str
    _params: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    working_correlation: pd.Series
    scale: float
    missing: MissingReport
    n_clusters: int
    cluster_sizes: tuple[int, int]
    converged: bool
    n_iter: int
    message: str
    qic: float
    qicu: float
    quasi_loglik: float
    _bread: np.ndarray = field(repr=False)
    _scores: dict[str, np.ndarray] = field(repr=False)
    _design: Design = field(repr=False)
    _data: pd.DataFrame = field(repr=False)
    _notes_: tuple[str, ...] = ()

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.family != "gaussian"

    def _matrices(self, newdata: pd.DataFrame) -> dict[str, np.ndarray]:
        try:
            return {"X": self._design.matrix(newdata)}
        except Exception as exc:  # patsy raises many types
            raise DataValidationError(f"`newdata` does not fit the model: {exc}") from None

    @property
    def _predictor(self) -> Any:
        inverse = sm_family(self.family, self.link).link.inverse

        def predictor(mats: dict[str, np.ndarray], params: np.ndarray, kind: str) -> np.ndarray:
            eta = mats["X"] @ params
            return eta if kind == "link" else inverse(eta)

        return predictor

    def marginal_effects(
        self, variables: str | list[str] | None = None, *, conf_level: float = 0.95
    ) -> MarginalEffectsResult:
        """Population-averaged average marginal effects with delta-method SEs.

        Slopes of numeric predictors and contrasts of categorical ones on the response
        scale (risk differences for binomial, count differences for Poisson), averaged over
        the estimation rows; SEs use this result's ``cov_type``. See
        :func:`mutualaid_outcomes.models.regression.marginal.average_marginal_effects`.
        """
        return average_marginal_effects(self, variables=variables, conf_level=conf_level)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov.to_numpy()))
        return wald_table(self.terms, self._params.to_numpy(), se, conf_level)

    def glance(self) -> pd.DataFrame:
        """One-row model summary with the fixed GEE columns.

        Columns ``family, link, method, cov_struct, cov_type, n, n_dropped, n_clusters,
        cluster_size_min, cluster_size_max, scale, alpha, qic, qicu, quasi_loglik, converged,
        n_iter, message, condition_number, collinear`` (``alpha`` is NaN for independence
        and unstructured; see ``working_correlation``). ``condition_number`` is Belsley's
        scaled condition number of the design, ``collinear`` whether it exceeds the
        documented threshold (``1e4``, ``docs/numerics.md``).
        """
        wc = self.working_correlation
        return glance_frame(
            {
                "family": self.family,
                "link": self.link,
                "method": "GEE",
                "cov_struct": self.cov_struct,
                "cov_type": self.cov_type,
                "n": self.nobs,
                "n_dropped": self.missing.n_dropped,
                "n_clusters": self.n_clusters,
                "cluster_size_min": self.cluster_sizes[0],
                "cluster_size_max": self.cluster_sizes[1],
                "scale": self.scale,
                "alpha": float(wc.iloc[0]) if len(wc) == 1 else np.nan,
                "qic": self.qic,
                "qicu": self.qicu,
                "quasi_loglik": self.quasi_loglik,
                "converged": bool(self.converged),
                "n_iter": self.n_iter,
                "message": self.message,
                "condition_number": self._design.condition_number,
                "collinear": self._design.collinear,
            },
            GEE_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return (
            f"Generalized estimating equations ({self.family}, {self.link} link, "
            f"{self.cov_struct}, {self.cov_type} SEs)"
        )

    def _notes(self) -> list[str]:
        return [self.missing.describe(), *self._notes_]

    def with_cov_type(self, cov_type: GEECovType) -> GEEResult:
        """Return a new result with ``'robust'``, ``'model'`` or ``'bias_reduced'`` SEs."""
        check_cov_type(cov_type, GEE_COV_TYPES)
        V = gee_vcov(self._bread, self._scores, cov_type, self.scale)
        idx = self._params.index
        return replace(self, cov_type=cov_type, _cov=pd.DataFrame(V, index=idx, columns=idx))

    def predict(
        self, newdata: pd.DataFrame, type: Literal["response", "link"] = "response"
    ) -> pd.Series:
        """Population-averaged predictions (mean or linear predictor) for ``newdata``."""
        check_dataframe(newdata, "newdata")
        check_option(type, ("response", "link"), "type")
        out = self._predictor(self._matrices(newdata), self._params.to_numpy(), type)
        return pd.Series(out, index=newdata.index, name="predicted")
