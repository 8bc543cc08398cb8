"""Cox proportional-hazards regression and the test of proportional hazards.

Efron or Breslow ties, strata, case weights, cluster-robust standard errors, and the
scaled-Schoenfeld score test of proportional hazards.

The partial likelihood is maximised by Newton-Raphson in :mod:`._coxph` (risk-set sums
by reverse cumulative sums over sorted times: O(N log N) for the sort, O(N p^2) per
step); the concordance is counted in O(N log N) in :mod:`._concordance`, the robust
variance in :mod:`._cox_residuals`, and the proportional-hazards test lives in
:mod:`.proportional_hazards`. Results agree with R survival 3.5.3 ``coxph`` and
``cox.zph``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import check_cov_type, renamed
from ...errors import ConvergenceWarning, OptionError
from ...results import ArrayCoefficients, BaseResult, glance_frame, wald_table
from ._concordance import concordance
from ._cox_prepare import _linear_predictor, _prepare, _Prepared
from ._cox_residuals import robust_score_test, robust_variance
from ._coxph import fit_coxph
from .proportional_hazards import ProportionalHazardsResult, check_proportional_hazards

__all__ = [
    "CoxResult",
    "ProportionalHazardsResult",
    "fit_cox",
    "check_proportional_hazards",
    "COX_GLANCE_COLUMNS",
    "COX_COV_TYPES",
]

Ties = Literal["efron", "breslow"]
CoxCovType = Literal["model", "robust"]
#: ``cov_type`` values of fit_cox and fit_cox_time_varying (docs/conventions.md)
COX_COV_TYPES: tuple[str, ...] = ("model", "robust")

#: glance() columns of every Cox result (fit_cox and fit_cox_time_varying)
COX_GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "n_ids",
    "n_events",
    "n_clusters",
    "concordance",
    "loglik",
    "loglik_null",
    "aic",
    "lr_statistic",
    "lr_df",
    "lr_p_value",
    "wald_statistic",
    "wald_df",
    "wald_p_value",
    "score_statistic",
    "score_df",
    "score_p_value",
    "robust_score_statistic",
    "robust_score_p_value",
    "ties",
    "robust",
    "converged",
    "n_iter",
    "method",
    "condition_number",
    "collinear",
)


@dataclass(frozen=True, repr=False)
class CoxResult(ArrayCoefficients, BaseResult):
    """Result of :func:`fit_cox` or :func:`fit_cox_time_varying`.

    Attributes
    ----------
    naive_vcov : numpy.ndarray
        Inverse of the observed information (the model-based covariance).
    robust : bool
        Whether the standard errors are the robust (dfbeta sandwich) ones; see
        :attr:`cov_type`.
    term_groups : dict
        Columns of each model term (a factor expands to several columns).
    infinite_terms : tuple of str
        Coefficients diverging to infinity (monotone likelihood).

    Notes
    -----
    Coefficient protocol: :meth:`coef` gives the log hazard ratios (``±inf`` for a
    coefficient whose likelihood is monotone), :meth:`vcov` the covariance used for
    inference (robust when :attr:`cov_type` is ``'robust'``), :attr:`nobs` the rows
    (intervals) used; :attr:`df_resid` is None (Wald z inference, as R ``coxph``).
    """

    _ratio_name = "HR"  # coefficients are log hazard ratios

    _terms: tuple[str, ...]
    _coef: np.ndarray
    _cov: np.ndarray
    naive_vcov: np.ndarray
    loglik: float
    loglik_null: float
    score_statistic: float
    robust_score_statistic: float
    concordance: float
    _nobs: int
    n_dropped: int
    n_ids: float
    n_events: int
    n_clusters: float
    ties: str
    robust: bool
    converged: bool
    n_iter: int
    method: str
    term_groups: dict[str, list[int]]
    infinite_terms: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    condition_number: float = np.nan
    collinear_columns: tuple[str, ...] = ()
    _cd: Any = field(default=None, compare=False)
    _beta_c: Any = field(default=None, compare=False)

    # -- coefficient protocol -------------------------------------------------------

    @property
    def _pool_dfcom(self) -> float:
        """``max(events - k, 1)``: the complete-data df R ``mice::pool`` uses for coxph."""
        return float(max(self.n_events - len(self._terms), 1))

    @property
    def cov_type(self) -> str:
        """``'robust'`` (dfbeta sandwich, by cluster or id when given) or ``'model'``."""
        return "robust" if self.robust else "model"

    def _title(self) -> str:
        return f"{self.method} ({self.ties} ties{', robust SE' if self.robust else ''})"

    def _notes(self) -> list[str]:
        return list(self.notes)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov))
        out = wald_table(list(self._terms), self._coef, se, conf_level=conf_level)
        bad = np.isin(out["term"], list(self.infinite_terms))
        if bad.any():
            out.loc[bad, ["std_error", "statistic", "p_value"]] = np.nan
            out.loc[bad, "conf_low"] = np.where(out.loc[bad, "estimate"] > 0, np.nan, -np.inf)
            out.loc[bad, "conf_high"] = np.where(out.loc[bad, "estimate"] > 0, np.inf, np.nan)
        return out

    def _tests(self) -> dict[str, float]:
        p = len(self._terms)
        lr = 2 * (self.loglik - self.loglik_null)
        finite = [i for i, t in enumerate(self._terms) if t not in self.infinite_terms]
        if finite:
            b = self._coef[finite]
            v = self._cov[np.ix_(finite, finite)]
            wald = float(b @ np.linalg.solve(v, b))
        else:
            wald = np.nan
        return {
            "lr_statistic": lr,
            "lr_df": p,
            "lr_p_value": float(stats.chi2.sf(lr, p)) if p else np.nan,
            "wald_statistic": wald,
            "wald_df": len(finite),
            "wald_p_value": float(stats.chi2.sf(wald, len(finite))) if finite else np.nan,
            "score_statistic": self.score_statistic,
            "score_df": p,
            "score_p_value": float(stats.chi2.sf(self.score_statistic, p)) if p else np.nan,
            "robust_score_statistic": self.robust_score_statistic,
            "robust_score_p_value": (
                float(stats.chi2.sf(self.robust_score_statistic, p))
                if np.isfinite(self.robust_score_statistic)
                else np.nan
            ),
        }

    def glance(self) -> pd.DataFrame:
        """One row: n, events, concordance, LR / Wald / score tests, log-likelihood, AIC.

        ``condition_number`` is Belsley's scaled condition number of the centred
        covariate matrix (the partial likelihood does not depend on the covariates'
        means), ``collinear`` whether it exceeds the documented threshold (``1e4``,
        ``docs/numerics.md``).
        """
        p = len(self._terms)
        vals = {
            "n": self.nobs,
            "n_dropped": self.n_dropped,
            "n_ids": self.n_ids,
            "n_events": self.n_events,
            "n_clusters": self.n_clusters,
            "concordance": self.concordance,
            "loglik": self.loglik,
            "loglik_null": self.loglik_null,
            "aic": -2 * self.loglik + 2 * p,
            "ties": self.ties,
            "robust": self.robust,
            "converged": self.converged,
            "n_iter": self.n_iter,
            "method": self.method,
            "condition_number": self.condition_number,
            "collinear": bool(self.collinear_columns),
        }
        vals.update(self._tests())
        return glance_frame(vals, COX_GLANCE_COLUMNS)

    def check_proportional_hazards(
        self,
        *,
        transform: Literal["km", "identity", "rank", "log"] = "km",
        global_test: bool = True,
    ) -> ProportionalHazardsResult:
        """Scaled-Schoenfeld score test of proportional hazards.

        See :func:`check_proportional_hazards`.
        """
        return check_proportional_hazards(self, transform=transform, global_test=global_test)


def _fit(prep: _Prepared, *, robust: bool, ties: str, method: str) -> CoxResult:
    cd = prep.cd
    raw = fit_coxph(cd)
    names = prep.names
    notes = list(prep.notes)
    infinite = tuple(n for n, f in zip(names, raw.infinite) if f)
    coef = raw.beta.copy()
    if infinite:
        idx = [names.index(t) for t in infinite]
        coef[idx] = np.sign(coef[idx]) * np.inf
        msg = (
            f"Monotone likelihood: the coefficient(s) of {list(infinite)} diverge to "
            "infinity (a covariate separates events from non-events in some risk sets). "
            "Their estimates are reported as +/-inf with no standard error; consider "
            "removing or recoding the covariate, or a penalised (Firth) Cox model."
        )
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        notes.append(msg)
    elif not raw.converged:
        msg = f"Newton-Raphson did not converge in {raw.n_iter} iterations."
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        notes.append(msg)
    naive = raw.var
    vcov = naive
    rscore = np.nan
    if robust:
        vcov = robust_variance(cd, raw.beta, naive, prep.cluster)
        rscore = robust_score_test(cd, prep.cluster)
        unit = "cluster" if prep.cluster is not None else "row"
        notes.append(f"Robust (sandwich) standard errors from dfbeta residuals summed by {unit}.")
    conc, _ = concordance(cd, _linear_predictor(cd, raw.beta))
    return CoxResult(
        _terms=tuple(names),
        _coef=coef,
        _cov=vcov,
        naive_vcov=naive,
        loglik=raw.loglik,
        loglik_null=raw.loglik0,
        score_statistic=raw.score_test,
        robust_score_statistic=rscore,
        concordance=conc,
        _nobs=cd.n,
        n_dropped=prep.n_dropped,
        n_ids=prep.n_ids,
        n_events=int(cd.event.sum()),
        n_clusters=prep.n_clusters,
        ties=ties,
        robust=robust,
        converged=raw.converged and not infinite,
        n_iter=raw.n_iter,
        method=method,
        term_groups=prep.groups,
        infinite_terms=infinite,
        notes=tuple(notes),
        condition_number=prep.condition_number,
        collinear_columns=prep.collinear_columns,
        _cd=cd,
        _beta_c=raw.beta,
    )


def _robust(cov_type: str | None, cluster: str | None, default: bool) -> bool:
    """Robust SEs or not: ``cov_type``, or R ``coxph``'s rule (``default``) when None."""
    if cov_type is None:
        return default
    if cov_type == "model" and cluster is not None:
        raise OptionError(
            "`cluster` was given with cov_type='model'; a cluster term only changes the "
            "robust variance. Drop `cluster` or use cov_type='robust' (or None)."
        )
    return cov_type == "robust"


@renamed(robust="cov_type")
def fit_cox(
    data: pd.DataFrame,
    duration: str,
    event: str,
    covariates: str | Sequence[str] | None = None,
    *,
    formula: str | None = None,
    strata: str | Sequence[str] | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    ties: Ties = "efron",
    cov_type: CoxCovType | None = None,
) -> CoxResult:
    r"""Fit a Cox proportional-hazards model.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person. Not modified.
    duration : str
        Follow-up time (>= 0).
    event : str
        1 = event, 0 = censored (booleans accepted).
    covariates : str or list of str, optional
        Numeric covariate columns. Give this or ``formula``.
    formula : str, optional
        Right-hand side such as ``"~ age + C(arm)"`` (patsy syntax; the intercept is
        dropped, factors are dummy coded against their first level).
    strata : str or list of str, optional
        Stratify the baseline hazard by these columns.
    cluster : str, optional
        Cluster identifier; implies robust standard errors summed within clusters
        (R ``+ cluster(id)``).
    weights : str, optional
        Positive case weights.
    ties : {"efron", "breslow"}
        Handling of tied event times (R's default is Efron; SAS and SPSS use Breslow).
    cov_type : {"model", "robust"}, optional
        ``"model"``: inverse information; ``"robust"``: dfbeta sandwich (per row unless
        ``cluster`` is given; R ``coxph(robust = TRUE)``). The default (None) is R
        ``coxph``'s rule: robust when ``cluster`` is given or the weights are not whole
        numbers (sampling weights), model-based otherwise.

    Returns
    -------
    CoxResult
        ``tidy(exponentiate=True)`` gives hazard ratios; ``glance()`` gives n, events,
        concordance, the likelihood-ratio, Wald and score tests, log-likelihood and AIC.

    Raises
    ------
    DataValidationError
        Negative durations, events not coded 0/1, non-positive weights, covariates
        constant within every stratum.
    EstimationError
        No events, or no complete rows.
    ColumnNotFoundError, OptionError, ArgumentTypeError
        Unknown columns, ``ties`` or ``cov_type`` not recognised (or ``cov_type='model'``
        with ``cluster``), wrong argument types.

    Warns
    -----
    ConvergenceWarning
        Monotone likelihood (a coefficient diverges); the estimate is reported as
        ``±inf`` and ``glance()["converged"]`` is False.

    Notes
    -----
    The log partial likelihood with Breslow ties is
    :math:`\ell(\beta)=\sum_j [\sum_{i\in D_j} w_i\eta_i - W_j\log\sum_{i\in R_j}
    w_i e^{\eta_i}]`; Efron's approximation replaces the single log term by
    :math:`m_j` terms in which the fraction :math:`k/m_j` of the tied deaths' risk is
    removed. It is maximised by Newton-Raphson with step halving from
    :math:`\beta=0`. The robust variance is :math:`D^\top D` with :math:`D` the
    weighted dfbeta residuals (score residuals times the inverse information) summed
    within clusters, without small-sample correction, as in R. Concordance is
    Harrell's C computed as R ``concordance()`` (ties in the linear predictor count
    one half, tied event times are not comparable). Rows with missing values in any
    model column are excluded and reported in ``glance()["n_dropped"]`` and the notes.

    Coefficients, model-based and robust standard errors, log-likelihoods, the three
    tests and the concordance agree with R survival 3.5.3 ``coxph`` to 1e-6 relative
    or better (``tests/reference/survival_cox.R``).

    References
    ----------
    Cox DR (1972). Regression models and life-tables. JRSS B 34:187-220.
    Efron B (1977). The efficiency of Cox's likelihood function for censored data.
    JASA 72:557-565.
    Lin DY, Wei LJ (1989). The robust inference for the Cox proportional hazards model.
    JASA 84:1074-1078.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.survival.cox import fit_cox
    >>> rng = np.random.default_rng(1)
    >>> x = rng.binomial(1, 0.5, 400)
    >>> t = rng.exponential(1 / np.exp(0.7 * x))
    >>> c = rng.exponential(2, 400)
    >>> df = pd.DataFrame({"time": np.minimum(t, c), "event": (t <= c).astype(int), "x": x})
    >>> res = fit_cox(df, "time", "event", covariates=["x"])
    >>> res.tidy(exponentiate=True)[["term", "estimate"]].round(2)
      term  estimate
    0    x      2.01
    """
    if cov_type is not None:
        check_cov_type(cov_type, COX_COV_TYPES)
    prep = _prepare(
        data,
        start=None,
        stop=duration,
        event=event,
        covariates=covariates,
        formula=formula,
        strata=strata,
        cluster=cluster,
        weights=weights,
        ties=ties,
        id_col=None,
    )
    w = prep.cd.weights
    robust = _robust(cov_type, cluster, cluster is not None or bool(np.any(w != np.floor(w))))
    return _fit(prep, robust=robust, ties=ties, method="Cox PH")
