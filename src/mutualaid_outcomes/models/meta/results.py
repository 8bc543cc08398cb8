"""The result of :func:`~mutualaid_outcomes.models.meta.meta_analysis`: :class:`MetaResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import MissingReport, check_conf_level, check_dataframe
from ...errors import DataValidationError, OptionError
from ...results import BaseResult, glance_frame, wald_table
from ._fit import ModelFit, critical_value, predict_rows
from .effect_sizes import RATIO_MEASURES
from .tau2 import q_profile_ci

__all__ = ["MetaResult", "META_GLANCE_COLUMNS", "METHOD_LABELS"]

#: columns of :meth:`MetaResult.glance`, the same for every meta-analysis
META_GLANCE_COLUMNS: tuple[str, ...] = (
    "measure",
    "method",
    "test",
    "n",
    "n_dropped",
    "n_coef",
    "df_resid",
    "tau2",
    "tau",
    "se_tau2",
    "tau2_low",
    "tau2_high",
    "i2",
    "i2_low",
    "i2_high",
    "h2",
    "h2_low",
    "h2_high",
    "q",
    "q_df",
    "q_p",
    "qm",
    "qm_df",
    "qm_df_resid",
    "qm_p",
    "r2",
    "pi_low",
    "pi_high",
    "n_subgroups",
    "q_between",
    "q_between_df",
    "q_between_p",
    "conf_level",
    "loglik",
    "aic",
    "bic",
    "converged",
    "n_iter",
)

METHOD_LABELS: dict[str, str] = {
    "FE": "fixed-effect",
    "DL": "DerSimonian-Laird",
    "HE": "Hedges",
    "SJ": "Sidik-Jonkman",
    "PM": "Paule-Mandel",
    "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood",
}
_LINEAR_MEASURES = ("RD", "MD", "SMD", "COR", "ZCOR")


@dataclass(frozen=True, repr=False, eq=False)
class MetaResult(BaseResult):
    """A fitted fixed-effect, random-effects or meta-regression model (immutable).

    Implements the coefficient protocol (``terms``, ``coef()``, ``vcov()``, ``nobs``,
    ``df_resid``). Percentages (``i2``, ``r2``) are in percent, as metafor prints them.

    Attributes
    ----------
    measure : str or None
        Effect measure (``"RR"``, ``"SMD"`` ...), used for labels and to allow
        ``exponentiate=True`` only for ratio measures.
    method : str
        tau^2 estimator used (``"FE"`` for a fixed-effect model, also when a single study
        forced it).
    method_requested : str
        The ``method`` asked for.
    test : str
        ``"z"`` or ``"knha"`` (Knapp-Hartung).
    conf_level : float
        Level of the tau^2 interval and prediction interval reported by ``glance()``.
    study_labels : tuple of str
        Study labels, in data order.
    moderators : tuple of str
        Moderator columns (empty for a model without moderators).
    by : str or None
        Subgroup column.
    subgroups : tuple of (str, MetaResult)
        One model per subgroup, in sorted level order (empty without ``by``).
    missing : MissingReport
        Rows used and excluded.
    """

    measure: str | None
    method: str
    method_requested: str
    test: str
    conf_level: float
    study_labels: tuple[str, ...]
    term_names: tuple[str, ...]
    fit: ModelFit = field(repr=False)
    missing: MissingReport
    r2: float = float("nan")
    moderators: tuple[str, ...] = ()
    by: str | None = None
    groups: tuple[str, ...] | None = None
    subgroups: tuple[tuple[str, MetaResult], ...] = ()
    q_between: float = float("nan")
    q_between_df: int | float = float("nan")
    q_between_p: float = float("nan")
    tol: float = 1e-10
    max_iter: int = 1000
    design: Any = field(default=None, repr=False)
    notes: tuple[str, ...] = ()

    # -- coefficient protocol ----------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names in model order (``"overall"`` for a model without moderators)."""
        return self.term_names

    def coef(self) -> pd.Series:
        """Estimated coefficients, indexed by term."""
        return pd.Series(self.fit.beta, index=list(self.terms), name="estimate")

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the coefficients (Knapp-Hartung scaled when ``test="knha"``)."""
        return pd.DataFrame(self.fit.vb, index=list(self.terms), columns=list(self.terms))

    @property
    def nobs(self) -> int:
        """Number of studies used."""
        return self.fit.k

    @property
    def df_resid(self) -> float | None:
        """``k - p`` for Knapp-Hartung (t) inference; ``None`` for z inference."""
        return self.fit.ddf

    # -- contract -----------------------------------------------------------------------
    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.measure not in _LINEAR_MEASURES

    @property
    def is_random(self) -> bool:
        """Whether tau^2 was estimated (not a fixed-effect model)."""
        return self.method != "FE"

    @property
    def intercept_only(self) -> bool:
        """Whether the model has no moderators."""
        return self.fit.p == 1

    def _check_exponentiate(self, exponentiate: bool) -> None:
        if exponentiate and not self._can_exponentiate:
            raise OptionError(
                f"`exponentiate=True` is not meaningful for measure {self.measure!r} (not a "
                "log ratio); use exponentiate=False."
            )

    def tidy(self, conf_level: float = 0.95, exponentiate: bool = False) -> pd.DataFrame:
        """Pooled effect or meta-regression coefficients, then one row per subgroup.

        Parameters
        ----------
        conf_level : float
            Confidence level of ``conf_low`` / ``conf_high``.
        exponentiate : bool
            Back-transform estimates and limits with ``exp`` (ratio measures RR, OR, IRR).

        Returns
        -------
        pandas.DataFrame
            Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``,
            then ``df`` (Knapp-Hartung t df, NaN for z) and ``k`` (studies). Subgroup rows
            are named ``"<by>=<level>"``.
        """
        self._check_exponentiate(exponentiate)
        return super().tidy(conf_level=conf_level, exponentiate=exponentiate)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        f = self.fit
        out = wald_table(self.terms, f.beta, f.se, conf_level, df=f.ddf)
        out["df"] = np.nan if f.ddf is None else f.ddf
        out["k"] = f.k
        if not self.subgroups:
            return out
        rows = []
        for level, sub in self.subgroups:
            row = sub._tidy(conf_level).iloc[[0]].copy()
            row["term"] = f"{self.by}={level}"
            rows.append(row)
        return pd.concat([out, *rows], ignore_index=True)

    def glance(self) -> pd.DataFrame:
        """One-row model summary with the fixed meta-analysis columns.

        Columns ``measure, method, test, n, n_dropped, n_coef, df_resid, tau2, tau, se_tau2,
        tau2_low, tau2_high, i2, i2_low, i2_high, h2, h2_low, h2_high, q, q_df, q_p, qm,
        qm_df, qm_df_resid, qm_p, r2, pi_low, pi_high, n_subgroups, q_between, q_between_df,
        q_between_p, conf_level, loglik, aic, bic, converged, n_iter``. Intervals are at
        ``conf_level``; the prediction interval is given for models without moderators.
        """
        f = self.fit
        het = self.heterogeneity()
        vals: dict[str, Any] = {
            "measure": self.measure if self.measure is not None else "",
            "method": self.method,
            "test": self.test,
            "n": f.k,
            "n_dropped": self.missing.n_dropped,
            "n_coef": f.p,
            "df_resid": f.k - f.p,
            "q": f.q,
            "q_df": f.k - f.p,
            "q_p": f.q_p,
            "qm": f.qm,
            "qm_df": f.qm_df,
            "qm_df_resid": f.ddf if f.ddf is not None else np.nan,
            "qm_p": f.qm_p,
            "r2": self.r2,
            "n_subgroups": len(self.subgroups) if self.subgroups else np.nan,
            "q_between": self.q_between,
            "q_between_df": self.q_between_df,
            "q_between_p": self.q_between_p,
            "conf_level": self.conf_level,
            "loglik": f.loglik,
            "aic": f.aic,
            "bic": f.bic,
            "converged": bool(f.tau2.converged),
            "n_iter": f.tau2.n_iter,
        }
        for name, row in het.set_index("parameter").iterrows():
            vals[name] = row["estimate"]
            if name != "tau":
                vals[f"{name}_low"] = row["conf_low"]
                vals[f"{name}_high"] = row["conf_high"]
        vals["se_tau2"] = f.tau2.se
        if self.intercept_only and self.is_random:
            pred = predict_rows(f, np.ones((1, 1)), self.conf_level)
            vals["pi_low"] = float(pred["pi_low"][0])
            vals["pi_high"] = float(pred["pi_high"][0])
        return glance_frame(vals, META_GLANCE_COLUMNS)

    def _title(self) -> str:
        kind = "meta-regression" if not self.intercept_only else "meta-analysis"
        model = (
            "Fixed-effect"
            if not self.is_random
            else ("Mixed-effects" if not self.intercept_only else "Random-effects")
        )
        parts = [self.method] + (["Knapp-Hartung"] if self.test == "knha" else [])
        measure = f", {self.measure}" if self.measure else ""
        return f"{model} {kind} ({', '.join(parts)}{measure}; k = {self.nobs})"

    def _notes(self) -> list[str]:
        return [self.missing.describe().replace("rows", "studies"), *self.notes]

    # -- heterogeneity and prediction ---------------------------------------------------
    @cached_property
    def tau2_ci(self) -> tuple[float, float]:
        """Q-profile interval for tau^2 at ``conf_level`` (NaN for fixed-effect models)."""
        f = self.fit
        if not self.is_random or f.k <= f.p:
            return float("nan"), float("nan")
        return q_profile_ci(f.y, f.v, f.X, f.tau2.tau2, self.conf_level)

    def heterogeneity(self, conf_level: float | None = None) -> pd.DataFrame:
        """tau^2, tau, I^2 (%) and H^2 with Q-profile confidence intervals.

        Parameters
        ----------
        conf_level : float, optional
            Default: the level the model was fitted with.

        Returns
        -------
        pandas.DataFrame
            Columns ``parameter, estimate, conf_low, conf_high`` (rows ``tau2, tau, i2,
            h2``), as metafor's ``confint(res)$random``. Intervals are NaN for the
            fixed-effect model and when ``k <= p``.

        Notes
        -----
        The tau^2 limits invert the generalised Q statistic (Viechtbauer 2007); the I^2
        and H^2 limits are transformed from them with the typical sampling variance.
        """
        level = self.conf_level if conf_level is None else check_conf_level(conf_level)
        f = self.fit
        tau2 = f.tau2.tau2
        if not self.is_random or f.k <= f.p:
            lb = ub = float("nan")
        elif level == self.conf_level:
            lb, ub = self.tau2_ci
        else:
            lb, ub = q_profile_ci(f.y, f.v, f.X, tau2, level)
        vt = np.float64(f.vt)
        lb, ub = np.float64(lb), np.float64(ub)
        with np.errstate(invalid="ignore", divide="ignore"):
            rows = [
                ("tau2", tau2, lb, ub),
                ("tau", np.sqrt(tau2), np.sqrt(lb), np.sqrt(ub)),
                ("i2", f.i2, 100 * lb / (vt + lb), 100 * ub / (vt + ub)),
                ("h2", f.h2, lb / vt + 1, ub / vt + 1),
            ]
        return pd.DataFrame(rows, columns=["parameter", "estimate", "conf_low", "conf_high"])

    def predict(
        self,
        data: pd.DataFrame | None = None,
        *,
        conf_level: float | None = None,
        exponentiate: bool = False,
    ) -> pd.DataFrame:
        """Predicted (average) effects with confidence and prediction intervals.

        Parameters
        ----------
        data : pandas.DataFrame, optional
            Moderator values to predict at (meta-regression). Default: the pooled effect
            for a model without moderators, the fitted values of the studies otherwise.
        conf_level : float, optional
            Default: the level the model was fitted with.
        exponentiate : bool
            Back-transform estimates and limits with ``exp`` (ratio measures).

        Returns
        -------
        pandas.DataFrame
            Columns ``estimate, std_error, conf_low, conf_high, pi_low, pi_high``.

        Notes
        -----
        As metafor's ``predict.rma``: ``pi = pred +- crit sqrt(se^2 + tau^2)`` with the z or
        (Knapp-Hartung) t critical value; NaN for the fixed-effect model.
        """
        level = self.conf_level if conf_level is None else check_conf_level(conf_level)
        self._check_exponentiate(exponentiate)
        if data is None:
            X_new = np.ones((1, 1)) if self.intercept_only else self.fit.X
            index: Any = ["overall"] if self.intercept_only else list(self.study_labels)
        else:
            if self.intercept_only:
                raise DataValidationError(
                    "`data` gives moderator values, but the model has no moderators; call "
                    "predict() without data for the pooled effect."
                )
            check_dataframe(data)
            missing = [m for m in self.moderators if m not in data.columns]
            if missing:
                raise DataValidationError(
                    f"`data` lacks the moderator column(s) {missing} used in the model."
                )
            try:
                X_new = self.design.matrix(data)
            except Exception as exc:  # patsy raises many types
                raise DataValidationError(
                    f"`data` could not be turned into the model's design: {exc}"
                ) from None
            index = data.index
        out = pd.DataFrame(predict_rows(self.fit, X_new, level), index=index)
        if exponentiate:
            for col in ("estimate", "conf_low", "conf_high", "pi_low", "pi_high"):
                out[col] = np.exp(out[col])
        return out

    def studies(self, conf_level: float | None = None) -> pd.DataFrame:
        """Per-study effects, intervals and weights (the study rows of forest plots).

        Returns
        -------
        pandas.DataFrame
            Columns ``study, estimate, std_error, conf_low, conf_high, weight`` (percent of
            the total inverse-variance weight in this model), ``fitted``, ``residual``,
            ``filled`` (False; True for studies added by trim-and-fill) and ``group``
            (the subgroup, with ``by``). Study intervals use the normal quantile, as
            metafor's forest plot.
        """
        level = self.conf_level if conf_level is None else check_conf_level(conf_level)
        f = self.fit
        se = np.sqrt(f.v)
        z = critical_value(level, None)
        out = pd.DataFrame(
            {
                "study": list(self.study_labels),
                "estimate": f.y,
                "std_error": se,
                "conf_low": f.y - z * se,
                "conf_high": f.y + z * se,
                "weight": 100 * f.weights / np.sum(f.weights),
                "fitted": f.fitted,
                "residual": f.y - f.fitted,
                "filled": False,
            }
        )
        if self.groups is not None:
            out["group"] = list(self.groups)
        return out

    @property
    def subgroup_results(self) -> dict[str, MetaResult]:
        """The subgroup models by level (empty without ``by``)."""
        return dict(self.subgroups)

    @property
    def is_ratio(self) -> bool:
        """Whether the measure is on the log scale (RR, OR, IRR)."""
        return self.measure in RATIO_MEASURES
