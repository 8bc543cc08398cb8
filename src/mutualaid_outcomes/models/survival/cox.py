"""Cox proportional-hazards regression and the test of proportional hazards.

Efron or Breslow ties, strata, case weights, cluster-robust standard errors, and the
scaled-Schoenfeld score test of proportional hazards.

The partial likelihood is maximised by Newton-Raphson in :mod:`._coxph` (vectorised
risk-set sums); results agree with R survival 3.5.3 ``coxph`` and ``cox.zph``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import (
    as_column_list,
    check_columns,
    check_cov_type,
    check_dataframe,
    check_numeric,
    check_option,
    renamed,
)
from ...errors import (
    ArgumentTypeError,
    ConvergenceWarning,
    DataValidationError,
    EstimationError,
    OptionError,
)
from ...prep._survival_input import event_indicator, missing_note
from ...results import BaseResult, glance_frame, wald_table
from ._coxph import (
    CoxData,
    concordance,
    fit_coxph,
    robust_score_test,
    robust_variance,
    zph_score,
)

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
)


@dataclass(frozen=True, repr=False)
class CoxResult(BaseResult):
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
    _cd: Any = field(default=None, compare=False)
    _beta_c: Any = field(default=None, compare=False)

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names (one per design column)."""
        return tuple(self._terms)

    def coef(self) -> pd.Series:
        """Log hazard ratios indexed by term (``±inf`` for a monotone likelihood)."""
        return pd.Series(
            np.array(self._coef, dtype=float), index=list(self._terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix used for inference (robust when ``cov_type='robust'``)."""
        names = list(self._terms)
        return pd.DataFrame(np.array(self._cov, dtype=float), index=names, columns=names)

    @property
    def nobs(self) -> int:
        """Rows (intervals for counting-process data) used."""
        return int(self._nobs)

    @property
    def df_resid(self) -> None:
        """None: Wald tests and intervals use the normal distribution."""
        return None

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
        """One row: n, events, concordance, LR / Wald / score tests, log-likelihood, AIC."""
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


@dataclass(frozen=True, repr=False)
class ProportionalHazardsResult(BaseResult):
    """Result of :func:`check_proportional_hazards`: one row per term and ``GLOBAL``."""

    table: pd.DataFrame
    transform: str
    _can_exponentiate = False

    def _title(self) -> str:
        return f"Test of proportional hazards (transform = {self.transform!r})"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = self.table
        return pd.DataFrame(
            {
                "term": t["term"],
                "estimate": np.nan,
                "std_error": np.nan,
                "statistic": t["chisq"],
                "p_value": t["p_value"],
                "conf_low": np.nan,
                "conf_high": np.nan,
                "df": t["df"],
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: the global chi-square, its df and p-value, and the transform."""
        g = self.table[self.table["term"] == "GLOBAL"]
        vals = {"transform": self.transform, "method": "cox.zph score test"}
        if len(g):
            vals.update(
                statistic=float(g["chisq"].iloc[0]),
                df=int(g["df"].iloc[0]),
                p_value=float(g["p_value"].iloc[0]),
            )
        return glance_frame(vals, ("statistic", "df", "p_value", "transform", "method"))


# ---------------------------------------------------------------------------
# input preparation shared with fit_cox_time_varying


def _design(
    data: pd.DataFrame, covariates: Any, formula: str | None
) -> tuple[pd.DataFrame, list[str], dict[str, list[int]]]:
    """Covariate matrix (same index as rows kept), column names, term -> columns."""
    if formula is not None and covariates is not None:
        raise OptionError("Give either `covariates` or `formula`, not both.")
    if formula is None:
        cols = check_columns(data, covariates, "covariates")
        if not cols:
            raise DataValidationError("`covariates` must name at least one column.")
        check_numeric(data, cols, "covariates")
        x = data.loc[:, cols].astype(float)
        return x, cols, {c: [i] for i, c in enumerate(cols)}
    if not isinstance(formula, str):
        raise ArgumentTypeError(f"`formula` must be a string like '~ a + b'; got {formula!r}.")
    import patsy

    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    try:
        x = patsy.dmatrix(rhs, data, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise DataValidationError(f"`formula` could not be evaluated: {exc}") from None
    info = x.design_info
    groups: dict[str, list[int]] = {}
    names: list[str] = []
    # keep the user's term order (patsy puts categorical terms first)
    user_order = [t.name() for t in patsy.ModelDesc.from_formula(rhs).rhs_termlist]
    slices = info.term_name_slices
    for term in user_order:
        if term == "Intercept" or term not in slices:
            continue
        sl = slices[term]
        idx = list(range(len(names), len(names) + (sl.stop - sl.start)))
        names.extend(info.column_names[sl])
        groups[term] = idx
    x = x.loc[:, names]
    if not names:
        raise DataValidationError("`formula` has no covariate terms.")
    return x, names, groups


@dataclass
class _Prepared:
    cd: CoxData
    names: list[str]
    groups: dict[str, list[int]]
    cluster: np.ndarray | None
    n_clusters: float
    n_input: int
    n_dropped: int
    n_ids: float
    notes: list[str]


def _prepare(
    data: pd.DataFrame,
    *,
    start: str | None,
    stop: str,
    event: str,
    covariates: Any,
    formula: str | None,
    strata: str | Sequence[str] | None,
    cluster: str | None,
    weights: str | None,
    ties: str,
    id_col: str | None,
    time_args: tuple[str, str] = ("duration", "duration"),
) -> _Prepared:
    data = check_dataframe(data)
    ties = check_option(ties, ("efron", "breslow"), "ties")
    stop_arg, _ = time_args
    check_columns(data, [stop], stop_arg)
    check_columns(data, [event], "event")
    if start is not None:
        check_columns(data, [start], "start")
    strata_cols = check_columns(data, as_column_list(strata, "strata"), "strata")
    if cluster is not None and not isinstance(cluster, str):
        raise ArgumentTypeError(f"`cluster` must be one column name; got {cluster!r}.")
    if weights is not None and not isinstance(weights, str):
        raise ArgumentTypeError(f"`weights` must be one column name; got {weights!r}.")
    extra = [c for c in (cluster, weights, id_col) if c is not None]
    check_columns(data, extra, "cluster/weights/id")
    time_cols = ([start] if start is not None else []) + [stop]
    check_numeric(data, time_cols, stop_arg if start is None else "start/stop")

    data = data.reset_index(drop=True)
    x_df, names, groups = _design(data, covariates, formula)
    base_cols = list(dict.fromkeys(time_cols + [event] + strata_cols + extra))
    sub = data.loc[x_df.index, base_cols]
    n_input = len(data)
    miss_cov = n_input - len(x_df)
    keep = ~(sub.isna().any(axis=1) | x_df.isna().any(axis=1))
    missing_by = {c: int(data[c].isna().sum()) for c in base_cols}
    if formula is None:
        missing_by.update({c: int(data[c].isna().sum()) for c in names})
    else:
        missing_by["formula terms"] = miss_cov
    sub = sub.loc[keep]
    x_df = x_df.loc[keep]
    n_used = len(sub)
    if n_used == 0:
        raise EstimationError(
            f"No rows remain after removing rows with missing values ({n_input} rows in)."
        )
    notes = [missing_note(n_used, n_input, missing_by)] if n_used < n_input else []
    ev = event_indicator(sub[event], event)
    t_stop = sub[stop].to_numpy(dtype=float)
    if start is None:
        if np.any(t_stop < 0):
            pos = np.flatnonzero(t_stop < 0)
            raise DataValidationError(
                f"`{stop_arg}` ('{stop}') must be >= 0; {len(pos)} negative value(s) at "
                f"row position(s) {pos[:10].tolist()}."
            )
        t_start = np.full(len(t_stop), -np.inf)
    else:
        t_start = sub[start].to_numpy(dtype=float)
        bad = np.flatnonzero(t_stop <= t_start)
        if bad.size:
            raise DataValidationError(
                f"`stop` ('{stop}') must be greater than `start` ('{start}') on every row; "
                f"{bad.size} row(s) have stop <= start (row positions {bad[:10].tolist()})."
            )
    if not np.all(np.isfinite(t_stop)):
        raise DataValidationError(f"`{stop_arg}` ('{stop}') has infinite values.")
    if ev.sum() == 0:
        raise EstimationError(
            f"There are no events (`event` '{event}' is 0 on all {n_used} rows used); "
            "a Cox model needs at least one event."
        )
    if weights is not None:
        w = sub[weights].to_numpy(dtype=float)
        if np.any(w <= 0) or not np.all(np.isfinite(w)):
            raise DataValidationError(
                f"`weights` ('{weights}') must be positive and finite; "
                f"{int(np.sum(~(w > 0) | ~np.isfinite(w)))} row(s) are not."
            )
    else:
        w = np.ones(n_used)
    if strata_cols:
        s_codes = sub[strata_cols].astype(str).agg("\x1f".join, axis=1)
        s = pd.factorize(s_codes, sort=True)[0].astype(np.int64)
    else:
        s = np.zeros(n_used, dtype=np.int64)
    x = x_df.to_numpy(dtype=float)
    # a covariate with no variation within every stratum is not estimable
    xf = pd.DataFrame(x)
    grouped = xf.groupby(s)
    varies = (grouped.max() > grouped.min()).any(axis=0).to_numpy()
    const = [name for name, v in zip(names, varies) if not v]
    if const:
        within = " within every stratum" if strata_cols else ""
        raise DataValidationError(
            f"Covariate(s) {const} are constant{within}, so their hazard ratios are not "
            "estimable; remove them (or the strata that absorb them)."
        )
    cl = None
    n_clusters = np.nan
    if cluster is not None:
        cl = pd.factorize(sub[cluster], sort=True)[0].astype(np.int64)
        n_clusters = float(cl.max() + 1)
    n_ids = float(sub[id_col].nunique()) if id_col is not None else np.nan
    cd = CoxData(
        start=t_start,
        stop=t_stop,
        event=ev,
        x=x,
        weights=w,
        strata=s,
        efron=(ties == "efron"),
    )
    return _Prepared(
        cd=cd,
        names=names,
        groups=groups,
        cluster=cl,
        n_clusters=n_clusters,
        n_input=n_input,
        n_dropped=n_input - n_used,
        n_ids=n_ids,
        notes=notes,
    )


def _linear_predictor(x: np.ndarray, beta: np.ndarray, w: np.ndarray) -> np.ndarray:
    """R's centred linear predictor ``X b - sum(b * means)``, accumulated in R's order.

    Concordance counts exact ties between linear predictors, so rows with identical
    covariates must get bit-identical values (a blocked matrix product does not
    guarantee that) and near-ties must round as they do in R: columns are accumulated
    one at a time (reference BLAS ``dgemm``), means are sequential weighted sums and
    ``sum(b * means)`` uses extended precision like R's ``sum``.
    """
    eta = np.zeros(x.shape[0])
    for k in range(x.shape[1]):
        eta = eta + x[:, k] * beta[k]
    wsum = np.cumsum(w)[-1]
    means = np.array([np.cumsum(w * x[:, k])[-1] / wsum for k in range(x.shape[1])])
    shift = np.longdouble(0)
    for k in range(x.shape[1]):
        shift += np.longdouble(beta[k] * means[k])
    return eta - float(shift)


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
    conc, _ = concordance(cd, _linear_predictor(cd.x, raw.beta, cd.weights))
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


def _km_left(cd: CoxData) -> np.ndarray:
    """1 - KM(t-) at every row's stop time, pooled over strata, unweighted (R survfitKM)."""
    t = cd.stop
    times = np.unique(t)
    # risk set at each unique time: start < t <= stop
    stops = np.sort(t)
    starts = np.sort(cd.start)
    n_stop_ge = len(t) - np.searchsorted(stops, times, side="left")
    n_start_ge = len(t) - np.searchsorted(starts, times, side="left")
    n_risk = n_stop_ge - n_start_ge
    d = np.bincount(np.searchsorted(times, t[cd.event > 0]), minlength=len(times))
    with np.errstate(divide="ignore", invalid="ignore"):
        surv = np.cumprod(np.where(n_risk > 0, 1 - d / np.maximum(n_risk, 1), 1.0))
    idx = np.searchsorted(times, t, side="left")  # times strictly below t
    return 1 - np.concatenate([[1.0], surv])[idx]


def check_proportional_hazards(
    result: CoxResult,
    *,
    transform: Literal["km", "identity", "rank", "log"] = "km",
    global_test: bool = True,
) -> ProportionalHazardsResult:
    r"""Test proportional hazards with the scaled-Schoenfeld score test (R ``cox.zph``).

    Parameters
    ----------
    result : CoxResult
        A fit from :func:`fit_cox` or :func:`fit_cox_time_varying`.
    transform : {"km", "identity", "rank", "log"}
        Function of time :math:`g(t)`; ``"km"`` (R's default) is one minus the
        left-continuous Kaplan-Meier estimate of the pooled data.
    global_test : bool
        Add the ``GLOBAL`` row.

    Returns
    -------
    ProportionalHazardsResult
        ``table`` with ``term, chisq, df, p_value`` (one row per model term, a factor
        being one term with several df) and ``GLOBAL``.

    Raises
    ------
    ArgumentTypeError, OptionError
        ``result`` is not a Cox fit, or ``transform`` is unknown.
    EstimationError
        The model has infinite coefficients.

    Notes
    -----
    This is the score test of :math:`\gamma = 0` in the model with added covariates
    :math:`x\,(g(t) - \bar g)`, evaluated at :math:`(\hat\beta, 0)` with the full
    :math:`2p \times 2p` information (survival 3.x ``cox.zph``; not the older
    approximation using the variance of the scaled Schoenfeld residuals). The
    statistic for a term uses the rows and columns of all :math:`p` base coefficients
    and of that term's interaction columns. :math:`\bar g` is the mean of
    :math:`g` over event rows. The computation is a function of sorted risk sets only,
    so it does not depend on the row order of the data, ties included. Agrees with R
    survival 3.5.3 ``cox.zph`` to 1e-6 relative.

    References
    ----------
    Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based
    on weighted residuals. Biometrika 81:515-526.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.survival.cox import fit_cox, check_proportional_hazards
    >>> rng = np.random.default_rng(2)
    >>> x = rng.normal(size=300)
    >>> t = rng.exponential(1 / np.exp(0.5 * x))
    >>> df = pd.DataFrame({"time": t, "event": 1, "x": x})
    >>> zph = check_proportional_hazards(fit_cox(df, "time", "event", covariates="x"))
    >>> zph.table["term"].tolist()
    ['x', 'GLOBAL']
    """
    if not isinstance(result, CoxResult):
        raise ArgumentTypeError(
            f"`result` must be a CoxResult from fit_cox or fit_cox_time_varying; got "
            f"{type(result).__name__}."
        )
    transform = check_option(transform, ("km", "identity", "rank", "log"), "transform")
    if result.infinite_terms:
        raise EstimationError(
            "The proportional-hazards test needs finite coefficients; "
            f"{list(result.infinite_terms)} are infinite (monotone likelihood)."
        )
    cd: CoxData = result._cd
    t = cd.stop
    if transform == "km":
        tt = _km_left(cd)
    elif transform == "identity":
        tt = t.copy()
    elif transform == "rank":
        tt = stats.rankdata(t)
    else:
        tt = np.log(t)
    dead = cd.event > 0
    gt = tt - tt[dead].mean()
    # one g value per event time (all deaths at a time share the same stop time)
    g = np.zeros(cd.n_times)
    g[cd.ev_index] = gt[cd.dead_idx]
    u2, imat = zph_score(cd, result._beta_c, g)
    p = cd.p
    rows = []
    u_full = np.concatenate([np.zeros(p), u2])
    for term, cols in result.term_groups.items():
        kk = list(range(p)) + [p + c for c in cols]
        u = u_full[kk]
        chisq = float(u @ np.linalg.solve(imat[np.ix_(kk, kk)], u))
        rows.append((term, chisq, len(cols)))
    if global_test:
        rows.append(("GLOBAL", float(u_full @ np.linalg.solve(imat, u_full)), p))
    table = pd.DataFrame(rows, columns=["term", "chisq", "df"])
    table["p_value"] = stats.chi2.sf(table["chisq"], table["df"])
    return ProportionalHazardsResult(table=table, transform=transform)
