"""Propensity scores, inverse-probability and overlap weights, covariate balance.

:func:`propensity_scores` fits the probability of each exposure level given
covariates (logistic regression for a binary exposure, multinomial logistic for
dose groups) and returns a :class:`PropensityResult`. Its :meth:`~PropensityResult.weights`
gives inverse-probability (ATE), ATT and overlap weights,
:meth:`~PropensityResult.balance` the standardised mean differences and variance
ratios before and after weighting (drawn by
:func:`mutualaid_outcomes.plotting.balance.love_plot`), and
:meth:`~PropensityResult.effective_sample_size` Kish's effective sample size.
:func:`fit_weighted` fits the weighted outcome model with robust standard errors.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(3)
>>> df = pd.DataFrame({"severity": rng.normal(size=400), "female": rng.binomial(1, 0.3, 400)})
>>> df["attends"] = rng.binomial(1, 1 / (1 + np.exp(-(0.8 * df["severity"]))))
>>> ps = propensity_scores(df, "attends", ["severity", "female"])
>>> bal = ps.balance("overlap")
>>> float(bal["smd_adjusted"].abs().max()) < 1e-8  # overlap weights balance means exactly
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from ..._validation import (
    MissingReport,
    as_column_list,
    check_columns,
    check_cov_type,
    check_data_first,
    check_dataframe,
    check_option,
    listwise_delete,
    renamed,
)
from ...errors import (
    ArgumentTypeError,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from ...results import BaseResult, glance_frame, wald_table

if TYPE_CHECKING:
    from ..regression.glm import RegressionResult

__all__ = [
    "PositivityError",
    "PropensityResult",
    "PROPENSITY_GLANCE_COLUMNS",
    "propensity_scores",
    "fit_weighted",
]

PSMethod = Literal["logit", "multinomial"]
WeightKind = Literal["ate", "ipw", "att", "overlap"]
Positivity = Literal["error", "warn"]
WEIGHT_KINDS: tuple[str, ...] = ("ate", "ipw", "att", "overlap")

#: fitted probabilities closer than this to 0 or 1 are treated as exactly 0 or 1
#: (numerical positivity violation: the weight 1 / p is not usable)
POSITIVITY_TOL = 1e-8
#: probabilities outside [EXTREME, 1 - EXTREME] are counted as extreme in glance()
EXTREME = 0.01

PROPENSITY_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "exposure",
    "n_levels",
    "n",
    "n_dropped",
    "n_trimmed",
    "n_positivity",
    "n_extreme",
    "ps_min",
    "ps_max",
    "loglik",
    "aic",
    "converged",
    "n_iter",
)


class PositivityError(DataValidationError):
    """Fitted propensity scores of 0 or 1: some people could not have had the other exposure."""


# -- covariate design shared with models.iv -------------------------------------------------
def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def covariate_design(
    clean: pd.DataFrame,
    covariates: Sequence[str],
    categorical: Sequence[str] = (),
    drop_first: bool = True,
) -> pd.DataFrame:
    """Numeric design columns of ``covariates`` (no intercept).

    Numeric columns enter as they are; non-numeric, boolean and ``categorical``
    columns become indicators ``name[level]`` for every level (``drop_first=False``)
    or every level but the first in sorted order (``drop_first=True``).
    """
    parts: dict[str, np.ndarray] = {}
    for c in covariates:
        s = clean[c]
        if c in categorical or _is_categorical(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                levels = sorted(pd.unique(s).tolist(), key=lambda v: (str(type(v)), v))
            for lv in levels[1:] if drop_first else levels:
                parts[f"{c}[{lv}]"] = (s == lv).to_numpy(dtype=float)
        else:
            parts[c] = s.to_numpy(dtype=float)
    return pd.DataFrame(parts, index=clean.index)


def _check_rank(X: np.ndarray, names: Sequence[str], argument: str) -> None:
    if X.shape[1] and np.linalg.matrix_rank(X) < X.shape[1]:
        raise DataValidationError(
            f"The columns of `{argument}` are collinear (rank {np.linalg.matrix_rank(X)} < "
            f"{X.shape[1]}: {list(names)}); remove redundant columns or constant variables."
        )


# -- model fitting ----------------------------------------------------------------------------
def _fit_logit(y: np.ndarray, X: np.ndarray) -> dict[str, Any]:
    """Logistic regression by Newton-Raphson (= IRLS, as R glm), to full convergence."""
    k = X.shape[1]
    beta = np.zeros(k)
    converged = False
    it = 0
    for it in range(1, 101):  # noqa: B007 - the count is reported
        eta = X @ beta
        p = special.expit(eta)
        W = p * (1 - p)
        info = X.T @ (W[:, None] * X)
        grad = X.T @ (y - p)
        try:
            step = np.linalg.solve(info, grad)
        except np.linalg.LinAlgError:
            break
        beta = beta + step
        if np.max(np.abs(step)) < 1e-11 * (1 + np.max(np.abs(beta))):
            converged = True
            break
        if np.max(np.abs(beta)) > 50:
            break  # separation: coefficients diverge
    p = special.expit(X @ beta)
    W = p * (1 - p)
    info = X.T @ (W[:, None] * X)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = float(np.sum(special.xlogy(y, p) + special.xlogy(1 - y, 1 - p)))
    vcov = np.linalg.pinv(info)
    probs = np.column_stack([1 - p, p])
    return {
        "params": beta[None, :],
        "vcov": vcov,
        "probs": probs,
        "loglik": ll,
        "converged": converged,
        "n_iter": it,
    }


def _fit_multinomial(codes: np.ndarray, X: np.ndarray, n_levels: int) -> dict[str, Any]:
    """Baseline-category multinomial logit (first level = reference) by Newton-Raphson."""
    n, k = X.shape
    J = n_levels - 1
    Y = np.zeros((n, n_levels))
    Y[np.arange(n), codes] = 1.0
    B = np.zeros((J, k))
    converged = False
    it = 0

    def probs_of(B: np.ndarray) -> np.ndarray:
        eta = np.column_stack([np.zeros(n), X @ B.T])
        return special.softmax(eta, axis=1)

    def info_of(P: np.ndarray) -> np.ndarray:
        H = np.zeros((J * k, J * k))
        for a in range(J):
            for b in range(J):
                w = P[:, a + 1] * ((a == b) - P[:, b + 1])
                H[a * k : (a + 1) * k, b * k : (b + 1) * k] = X.T @ (w[:, None] * X)
        return H

    for it in range(1, 101):  # noqa: B007 - the count is reported
        P = probs_of(B)
        grad = ((Y[:, 1:] - P[:, 1:]).T @ X).ravel()
        try:
            step = np.linalg.solve(info_of(P), grad)
        except np.linalg.LinAlgError:
            break
        B = B + step.reshape(J, k)
        if np.max(np.abs(step)) < 1e-11 * (1 + np.max(np.abs(B))):
            converged = True
            break
        if np.max(np.abs(B)) > 50:
            break
    P = probs_of(B)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = float(np.sum(special.xlogy(Y, P)))
    return {
        "params": B,
        "vcov": np.linalg.pinv(info_of(P)),
        "probs": P,
        "loglik": ll,
        "converged": converged,
        "n_iter": it,
    }


# -- weighted moments -------------------------------------------------------------------------
def _wmean(x: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum(w * x) / np.sum(w))


def _wvar(x: np.ndarray, w: np.ndarray) -> float:
    """Unbiased weighted variance ``sum w (x - m)^2 * sum w / ((sum w)^2 - sum w^2)``."""
    sw = np.sum(w)
    denom = sw**2 - np.sum(w**2)
    if denom <= 0:
        return float("nan")
    m = np.sum(w * x) / sw
    return float(np.sum(w * (x - m) ** 2) * sw / denom)


@dataclass(frozen=True, repr=False, eq=False)
class PropensityResult(BaseResult):
    """A fitted propensity-score model (immutable).

    ``tidy()`` gives the coefficients of the propensity model (log odds; for a
    multinomial model the terms are ``level:covariate`` against the first level).

    Attributes
    ----------
    exposure : str
        Exposure column.
    covariates : tuple of str
        Covariate columns.
    method : str
        ``'logit'`` or ``'multinomial'``.
    levels : tuple
        Exposure levels; the first is the reference (control), and for a binary
        exposure the second is the treated level.
    probabilities : pandas.DataFrame
        Fitted probability of every level (one column per level), indexed like the
        rows of ``data`` that were used.
    received : pandas.Series
        Exposure level of each row used.
    trimmed : pandas.Series
        True for rows excluded by ``trim`` (their weights are NaN).
    missing : MissingReport
        Rows used and excluded for missing values.

    Notes
    -----
    Coefficient protocol: :meth:`coef` and :meth:`vcov` are the propensity model's
    coefficients (log odds against the reference level) and their model-based
    covariance; :attr:`nobs` is the number of rows fitted; :attr:`df_resid` is None.
    """

    exposure: str
    covariates: tuple[str, ...]
    method: str
    levels: tuple[Any, ...]
    probabilities: pd.DataFrame
    received: pd.Series
    trimmed: pd.Series
    missing: MissingReport
    _params: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    loglik: float
    converged: bool
    n_iter: int
    trim: float | None
    _design: pd.DataFrame = field(repr=False)
    _notes_: tuple[str, ...] = ()

    # -- coefficient protocol -----------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names (``level:covariate`` for a multinomial model)."""
        return tuple(self._params.index)

    def coef(self) -> pd.Series:
        """Propensity-model coefficients (log odds) indexed by term."""
        return self._params.copy()

    def vcov(self) -> pd.DataFrame:
        """Model-based covariance of :meth:`coef`."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Rows used to fit the propensity model."""
        return self.missing.n_used

    @property
    def df_resid(self) -> None:
        """None: Wald intervals use the normal distribution."""
        return None

    @property
    def scores(self) -> pd.Series:
        """Propensity score of each row used.

        Binary exposure: ``P(treated level | X)``. Multinomial: the generalised
        propensity score ``P(T = level received | X)`` (Imbens 2000).
        """
        if len(self.levels) == 2:
            return self.probabilities.iloc[:, 1].rename("propensity")
        codes = pd.Categorical(self.received, categories=list(self.levels)).codes
        vals = self.probabilities.to_numpy()[np.arange(self.nobs), codes]
        return pd.Series(vals, index=self.probabilities.index, name="propensity")

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov.to_numpy()))
        return wald_table(self.terms, self._params.to_numpy(), se, conf_level)

    def glance(self) -> pd.DataFrame:
        """One-row summary with the fixed propensity columns.

        Columns ``method, exposure, n_levels, n, n_dropped, n_trimmed, n_positivity``
        (fitted probabilities numerically 0 or 1), ``n_extreme`` (a probability below
        0.01 or above 0.99), ``ps_min, ps_max`` (of :attr:`scores`), ``loglik, aic,
        converged, n_iter``.
        """
        P = self.probabilities.to_numpy()
        k = len(self._params)
        values = {
            "method": self.method,
            "exposure": self.exposure,
            "n_levels": len(self.levels),
            "n": self.nobs,
            "n_dropped": self.missing.n_dropped,
            "n_trimmed": int(self.trimmed.sum()),
            "n_positivity": int(
                np.sum(np.any((P < POSITIVITY_TOL) | (P > 1 - POSITIVITY_TOL), axis=1))
            ),
            "n_extreme": int(np.sum(np.any((P < EXTREME) | (P > 1 - EXTREME), axis=1))),
            "ps_min": float(self.scores.min()),
            "ps_max": float(self.scores.max()),
            "loglik": self.loglik,
            "aic": -2 * self.loglik + 2 * k,
            "converged": self.converged,
            "n_iter": self.n_iter,
        }
        return glance_frame(values, PROPENSITY_GLANCE_COLUMNS)

    def _title(self) -> str:
        kind = "logistic" if self.method == "logit" else "multinomial logistic"
        return f"Propensity score model for {self.exposure} ({kind})"

    def _notes(self) -> list[str]:
        return [self.missing.describe(), *self._notes_]

    # -- weights ------------------------------------------------------------------------
    def _focal(self, focal: Any) -> Any:
        if focal is None:
            if len(self.levels) == 2:
                return self.levels[1]
            raise OptionError(
                "`focal` is needed for kind='att' with more than two exposure levels; "
                f"choose one of {list(self.levels)}."
            )
        if focal not in self.levels:
            raise OptionError(f"`focal` must be one of {list(self.levels)}; got {focal!r}.")
        return focal

    def weights(
        self,
        kind: WeightKind = "ate",
        *,
        stabilized: bool = False,
        truncate: tuple[float, float] | None = None,
        focal: Any = None,
    ) -> pd.Series:
        """Balancing weights of the rows used (NaN for trimmed rows).

        Parameters
        ----------
        kind : {'ate', 'ipw', 'att', 'overlap'}
            ``'ate'`` (alias ``'ipw'``): ``1 / p_T(x)``, the inverse probability of the
            level received (average effect in the whole population). ``'att'``:
            ``p_focal(x) / p_T(x)`` (1 for the focal level; effect among the treated).
            ``'overlap'``: ``(1 / p_T(x)) / sum_k 1 / p_k(x)``, for a binary exposure
            ``1 - e(x)`` for the treated and ``e(x)`` for controls (Li, Morgan &
            Zaslavsky 2018; Li & Li 2019 for several levels); effect in the population
            with most overlap, bounded weights.
        stabilized : bool
            Multiply ATE weights by the marginal share of the level received
            (Robins, Hernán & Brumback 2000). Only for ``kind='ate'``.
        truncate : (float, float), optional
            Lower and upper quantiles (e.g. ``(0.01, 0.99)``) at which the weights
            are capped (Cole & Hernán 2008).
        focal : optional
            Focal level for ``kind='att'``; default the treated level of a binary
            exposure.

        Returns
        -------
        pandas.Series
            Indexed like :attr:`probabilities`, named ``weight``.

        Raises
        ------
        OptionError
            Unknown kind, ``stabilized`` with a kind other than ATE, or an unknown
            focal level.
        DataValidationError
            Invalid ``truncate`` quantiles.
        """
        check_option(kind, WEIGHT_KINDS, "kind")
        if not isinstance(stabilized, (bool, np.bool_)):
            raise ArgumentTypeError(f"`stabilized` must be True or False; got {stabilized!r}.")
        kind = "ate" if kind == "ipw" else kind
        if stabilized and kind != "ate":
            raise OptionError(
                f"`stabilized=True` applies to kind='ate' only; got kind={kind!r} "
                "(ATT and overlap weights need no stabilisation)."
            )
        P = self.probabilities.to_numpy()
        codes = pd.Categorical(self.received, categories=list(self.levels)).codes
        p_recv = P[np.arange(self.nobs), codes]
        with np.errstate(divide="ignore"):
            if kind == "ate":
                w = 1.0 / p_recv
                if stabilized:
                    share = np.bincount(codes, minlength=len(self.levels)) / self.nobs
                    w = w * share[codes]
            elif kind == "att":
                j = self.levels.index(self._focal(focal))
                w = P[:, j] / p_recv
            else:
                w = (1.0 / p_recv) / np.sum(1.0 / P, axis=1)
        w = np.where(self.trimmed.to_numpy(), np.nan, w)
        if truncate is not None:
            lo, hi = _check_truncate(truncate)
            ok = ~np.isnan(w)
            qlo, qhi = np.quantile(w[ok], [lo, hi])
            w = np.where(ok, np.clip(w, qlo, qhi), np.nan)
        return pd.Series(w, index=self.probabilities.index, name="weight")

    def effective_sample_size(self, kind: WeightKind = "ate", **kwargs: Any) -> pd.DataFrame:
        """Kish's effective sample size ``(sum w)^2 / sum w^2`` by exposure level.

        Parameters
        ----------
        kind : str
            Weight kind (see :meth:`weights`).
        **kwargs
            Passed to :meth:`weights` (``stabilized``, ``truncate``, ``focal``).

        Returns
        -------
        pandas.DataFrame
            Columns ``level, n, ess`` (``n`` counts the untrimmed rows).
        """
        w = self.weights(kind, **kwargs).to_numpy()
        rows = []
        for lv in self.levels:
            m = (self.received.to_numpy() == lv) & ~np.isnan(w)
            wi = w[m]
            ess = float(wi.sum() ** 2 / np.sum(wi**2)) if m.any() else float("nan")
            rows.append({"level": lv, "n": int(m.sum()), "ess": ess})
        return pd.DataFrame(rows)

    def positivity(self) -> pd.DataFrame:
        """Overlap of the propensity scores by exposure level received.

        Returns
        -------
        pandas.DataFrame
            One row per level: ``level, n, min, p01, median, p99, max`` of
            :attr:`scores` (for a binary exposure the probability of the treated
            level, so the two rows show the overlap of the score distributions),
            ``n_extreme`` (rows with any level probability below 0.01 or above 0.99),
            ``n_zero_one`` (numerically 0 or 1) and ``n_trimmed``.
        """
        P = self.probabilities.to_numpy()
        extreme = np.any((P < EXTREME) | (P > 1 - EXTREME), axis=1)
        zero_one = np.any((P < POSITIVITY_TOL) | (P > 1 - POSITIVITY_TOL), axis=1)
        sc = self.scores.to_numpy()
        recv = self.received.to_numpy()
        rows = []
        for lv in self.levels:
            m = recv == lv
            q = np.quantile(sc[m], [0.0, 0.01, 0.5, 0.99, 1.0])
            rows.append(
                {
                    "level": lv,
                    "n": int(m.sum()),
                    "min": q[0],
                    "p01": q[1],
                    "median": q[2],
                    "p99": q[3],
                    "max": q[4],
                    "n_extreme": int(np.sum(extreme & m)),
                    "n_zero_one": int(np.sum(zero_one & m)),
                    "n_trimmed": int(np.sum(self.trimmed.to_numpy() & m)),
                }
            )
        return pd.DataFrame(rows)

    # -- balance ------------------------------------------------------------------------
    def balance(
        self,
        kind: WeightKind = "ate",
        *,
        weights: pd.Series | None = None,
        stabilized: bool = False,
        truncate: tuple[float, float] | None = None,
        focal: Any = None,
    ) -> pd.DataFrame:
        """Covariate balance before and after weighting.

        Parameters
        ----------
        kind : str
            Weight kind (see :meth:`weights`); ignored when ``weights`` is given.
        weights : pandas.Series, optional
            Other weights, indexed like :attr:`probabilities`.
        stabilized, truncate, focal
            Passed to :meth:`weights`.

        Returns
        -------
        pandas.DataFrame
            One row per comparison and covariate column (each level of a categorical
            covariate): ``contrast`` (``"level vs reference"``), ``covariate``,
            ``type`` (``'binary'`` or ``'continuous'``), ``smd_unadjusted``,
            ``smd_adjusted``, ``var_ratio_unadjusted``, ``var_ratio_adjusted``
            (treated over reference; NaN for binary columns). Attribute
            ``attrs["kind"]`` records the weights used.

        Notes
        -----
        The standardised mean difference of a column ``x`` between level ``t`` and
        the reference ``c`` is ``(m_t - m_c) / s``, with weighted means ``m`` and the
        same denominator before and after weighting (as R cobalt): ``s`` is the
        unweighted ``sqrt((s_t^2 + s_c^2) / 2)`` (sample variances; ``p (1 - p)`` for
        binary columns, as R tableone), or the focal group's SD for ATT weights.
        Unadjusted values equal
        :func:`~mutualaid_outcomes.tables.table_one.smd_continuous` and
        :func:`~mutualaid_outcomes.tables.table_one.smd_categorical` up to sign.
        Weighted variances use ``sum w (x - m)^2 sum w / ((sum w)^2 - sum w^2)``.
        Common targets: ``|SMD| < 0.1`` and variance ratios within 0.5-2 (Austin 2009).
        """
        if weights is not None:
            if not isinstance(weights, pd.Series):
                raise ArgumentTypeError(
                    f"`weights` must be a pandas Series; got {type(weights).__name__}."
                )
            w_all = weights.reindex(self.probabilities.index).to_numpy(dtype=float)
            if np.isnan(w_all).all():
                raise DataValidationError(
                    "`weights` share no index labels with the rows of the propensity model."
                )
            label = "user"
            att_focal = None
        else:
            w_all = self.weights(kind, stabilized=stabilized, truncate=truncate, focal=focal)
            w_all = w_all.to_numpy()
            label = "ate" if kind == "ipw" else kind
            att_focal = self._focal(focal) if label == "att" else None
        D = self._design
        recv = self.received.to_numpy()
        ref = self.levels[0]
        rows = []
        for lv in self.levels:
            if lv == ref:
                continue
            mt, mc = recv == lv, recv == ref
            ok = ~np.isnan(w_all)
            for col in D.columns:
                x = D[col].to_numpy()
                binary = bool(np.isin(np.unique(x), (0.0, 1.0)).all())
                xt, xc = x[mt], x[mc]
                if binary:
                    pt, pc = xt.mean(), xc.mean()
                    vt, vc = pt * (1 - pt), pc * (1 - pc)
                else:
                    vt, vc = np.var(xt, ddof=1), np.var(xc, ddof=1)
                if att_focal is not None:
                    sd = np.sqrt(vt if att_focal == lv else vc)
                else:
                    sd = np.sqrt((vt + vc) / 2)
                wt, wc = w_all[mt & ok], w_all[mc & ok]
                at, ac = x[mt & ok], x[mc & ok]
                with np.errstate(divide="ignore", invalid="ignore"):
                    smd_u = (xt.mean() - xc.mean()) / sd if sd > 0 else np.nan
                    smd_a = (_wmean(at, wt) - _wmean(ac, wc)) / sd if sd > 0 else np.nan
                    vr_u = np.nan if binary else np.var(xt, ddof=1) / np.var(xc, ddof=1)
                    vr_a = np.nan if binary else _wvar(at, wt) / _wvar(ac, wc)
                rows.append(
                    {
                        "contrast": f"{lv} vs {ref}",
                        "covariate": col,
                        "type": "binary" if binary else "continuous",
                        "smd_unadjusted": float(smd_u),
                        "smd_adjusted": float(smd_a),
                        "var_ratio_unadjusted": float(vr_u),
                        "var_ratio_adjusted": float(vr_a),
                    }
                )
        out = pd.DataFrame(rows)
        out.attrs["kind"] = label
        return out


def _check_truncate(truncate: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in truncate)
    except (TypeError, ValueError):
        raise DataValidationError(
            f"`truncate` must be two quantiles (lower, upper), e.g. (0.01, 0.99); got {truncate!r}."
        ) from None
    if not 0 <= lo < hi <= 1:
        raise DataValidationError(
            f"`truncate` quantiles must satisfy 0 <= lower < upper <= 1; got {truncate!r}."
        )
    return lo, hi


@renamed(treatment="exposure")
def propensity_scores(
    data: pd.DataFrame,
    exposure: str,
    covariates: str | Sequence[str],
    *,
    method: PSMethod = "logit",
    categorical: Sequence[str] = (),
    reference: Any = None,
    trim: float | None = None,
    positivity: Positivity = "error",
) -> PropensityResult:
    """Estimate propensity scores for an exposure such as AA attendance.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person. Not modified.
    exposure : str
        Exposure column: binary (0/1, boolean or two labels) for ``method='logit'``;
        any set of levels (e.g. dose groups none / some / frequent) for
        ``'multinomial'``.
    covariates : str or sequence of str
        Confounder columns. Numeric columns enter linearly; non-numeric, boolean
        and ``categorical`` columns as indicators of each level but the first.
    method : {'logit', 'multinomial'}
        Logistic or baseline-category multinomial logistic regression.
    categorical : sequence of str
        Numeric-coded covariates (site, arm codes) to treat as categories.
    reference : optional
        Reference (control) level; default the first level in sorted (or categorical)
        order -- 0 for a 0/1 exposure.
    trim : float, optional
        Exclude rows with any fitted level probability below ``trim`` (or, for a
        binary exposure, a score above ``1 - trim``), e.g. 0.05 or 0.1 (Crump et al.
        2009). Trimmed rows keep their scores, get NaN weights and are counted in
        ``glance()['n_trimmed']`` and the notes; the model is not refitted.
    positivity : {'error', 'warn'}
        What to do when fitted probabilities are numerically 0 or 1 (within 1e-8)
        among untrimmed rows: raise :class:`PositivityError` or warn (overlap
        weights stay bounded; inverse-probability weights do not).

    Returns
    -------
    PropensityResult

    Raises
    ------
    ColumnNotFoundError
        ``exposure`` or a covariate is not a column.
    DataValidationError
        The exposure has one level (or not two for ``'logit'``), collinear
        covariates, or invalid ``trim``.
    PositivityError
        Scores of 0 or 1 with ``positivity='error'`` (a covariate pattern determines
        the exposure); the message counts the rows per level and suggests ``trim``,
        overlap weights or removing the separating covariate.
    OptionError
        Unknown ``method`` or ``positivity``.

    Warns
    -----
    DataWarning
        Scores of 0 or 1 with ``positivity='warn'``.
    ConvergenceWarning
        The Newton-Raphson iterations did not converge.

    Notes
    -----
    Logistic: ``logit P(T = 1 | x) = x' beta``. Multinomial: ``log(P(T = j | x) /
    P(T = ref | x)) = x' beta_j``. Both are fitted by Newton-Raphson to a relative
    step of 1e-11 and report model-based (inverse information) standard errors.
    Rows with a missing exposure or covariate are excluded together (listwise) and
    counted in ``glance()`` and the notes.

    Validated against R 4.2.2 (tests/reference/propensity.R): ``glm(binomial)``
    coefficients, SEs and fitted scores to 1e-6 relative; ``nnet::multinom`` fitted
    probabilities within its optimiser tolerance; ATE/ATT/overlap weights and
    weighted SMDs recomputed from R's scores.

    References
    ----------
    Rosenbaum, P. R., & Rubin, D. B. (1983). The central role of the propensity score in
    observational studies for causal effects. *Biometrika*, 70(1), 41-55.

    Imbens, G. W. (2000). The role of the propensity score in estimating dose-response
    functions. *Biometrika*, 87(3), 706-710.

    Crump, R. K., Hotz, V. J., Imbens, G. W., & Mitnik, O. A. (2009). Dealing with limited
    overlap in estimation of average treatment effects. *Biometrika*, 96(1), 187-199.

    Li, F., Morgan, K. L., & Zaslavsky, A. M. (2018). Balancing covariates via propensity
    score weighting. *JASA*, 113(521), 390-400.

    Austin, P. C. (2009). Balance diagnostics for comparing the distribution of baseline
    covariates between treatment groups in propensity-score matched samples.
    *Statistics in Medicine*, 28(25), 3083-3107.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(11)
    >>> df = pd.DataFrame({"spirit": rng.normal(size=500), "site": rng.choice(["a", "b"], 500)})
    >>> df["dose"] = np.where(df["spirit"] + rng.logistic(size=500) > 0.5, "high",
    ...                       np.where(rng.random(500) < 0.5, "low", "none"))
    >>> ps = propensity_scores(df, "dose", ["spirit", "site"], method="multinomial",
    ...                        reference="none")
    >>> ps.levels
    ('none', 'high', 'low')
    >>> ps.effective_sample_size("overlap").round(1)
      level    n    ess
    0  none  131  113.8
    1  high  207  145.9
    2   low  162  154.7
    """
    data = check_dataframe(data)
    check_option(method, ("logit", "multinomial"), "method")
    check_option(positivity, ("error", "warn"), "positivity")
    if not isinstance(exposure, str):
        raise ArgumentTypeError(f"`exposure` must be a column name; got {exposure!r}.")
    check_columns(data, exposure, "exposure")
    covs = check_columns(data, covariates, "covariates")
    if not covs:
        raise DataValidationError("`covariates` is empty; name at least one confounder column.")
    cat = as_column_list(list(categorical), "categorical")
    bad = [c for c in cat if c not in covs]
    if bad:
        raise DataValidationError(f"`categorical` names {bad}, which are not in `covariates`.")
    if exposure in covs:
        raise DataValidationError(f"`covariates` must not contain the exposure ('{exposure}').")
    if trim is not None:
        if isinstance(trim, bool) or not isinstance(trim, (int, float)) or not 0 < trim < 0.5:
            raise DataValidationError(
                f"`trim` must be a number in (0, 0.5), e.g. 0.05 or 0.1; got {trim!r}."
            )
    clean, report = listwise_delete(data, [exposure, *covs])
    t = clean[exposure]
    if isinstance(t.dtype, pd.CategoricalDtype):
        levels = [lv for lv in t.cat.categories if (t == lv).any()]
    else:
        levels = sorted(pd.unique(t).tolist(), key=lambda v: (str(type(v)), v))
    if pd.api.types.is_bool_dtype(t):
        levels = [False, True]
    if len(levels) < 2:
        raise DataValidationError(
            f"`exposure` ('{exposure}') takes a single value in the {len(clean)} rows used; "
            "a propensity score needs at least two exposure levels."
        )
    if method == "logit" and len(levels) != 2:
        raise DataValidationError(
            f"`exposure` ('{exposure}') has {len(levels)} levels; method='logit' needs "
            "two. Use method='multinomial' for dose groups."
        )
    if reference is not None:
        if reference not in levels:
            raise OptionError(f"`reference` must be one of {levels}; got {reference!r}.")
        levels = [reference] + [lv for lv in levels if lv != reference]
    codes = np.asarray(pd.Categorical(t, categories=levels).codes)
    D = covariate_design(clean, covs, cat)
    X = np.column_stack([np.ones(len(clean)), D.to_numpy()])
    names = ["Intercept", *D.columns]
    _check_rank(X, names, "covariates")
    if method == "logit":
        fit = _fit_logit(codes.astype(float), X)
        terms = names
    else:
        fit = _fit_multinomial(codes, X, len(levels))
        terms = [f"{lv}:{nm}" for lv in levels[1:] for nm in names]
    P = fit["probs"]
    probs = pd.DataFrame(P, index=clean.index, columns=list(levels))
    notes: list[str] = []
    trimmed = np.zeros(len(clean), dtype=bool)
    if trim is not None:
        trimmed = np.any((P < trim) | (P > 1 - trim), axis=1)
        by_level = {str(lv): int(np.sum(trimmed & (codes == j))) for j, lv in enumerate(levels)}
        notes.append(
            f"Trimmed {int(trimmed.sum())} of {len(clean)} rows with a fitted probability "
            f"outside [{trim}, {1 - trim}] (by level: "
            + ", ".join(f"{k}: {v}" for k, v in by_level.items())
            + "); their weights are NaN, so weighted analyses describe the remaining "
            "population."
        )
    viol = np.any((P < POSITIVITY_TOL) | (P > 1 - POSITIVITY_TOL), axis=1) & ~trimmed
    if viol.any():
        by_level = ", ".join(
            f"{lv}: {int(np.sum(viol & (codes == j)))}" for j, lv in enumerate(levels)
        )
        msg = (
            f"Positivity violation: {int(viol.sum())} of {len(clean)} rows have a fitted "
            f"probability of 0 or 1 (within {POSITIVITY_TOL:g}) for '{exposure}' "
            f"(rows by level received: {by_level}), so their exposure is determined by the "
            "covariates and inverse-probability weights are unbounded."
        )
        if not fit["converged"]:
            msg += " The model did not converge (separation)."
        if positivity == "error":
            raise PositivityError(
                msg + " Use `trim=` (e.g. 0.05) to exclude them with a report, overlap "
                "weights with positivity='warn', or remove/merge the covariate that separates "
                "the groups."
            )
        warnings.warn(msg, DataWarning, stacklevel=2)
        notes.append(msg)
    if not fit["converged"] and not viol.any():
        warnings.warn(
            f"The propensity model for '{exposure}' did not converge in {fit['n_iter']} "
            "iterations (often separation: a covariate pattern determines the exposure).",
            ConvergenceWarning,
            stacklevel=2,
        )
        notes.append("The propensity model did not converge.")
    if trimmed.all():
        raise EstimationError(
            f"`trim={trim}` excludes all {len(clean)} rows; the exposure groups do not overlap."
        )
    params = pd.Series(fit["params"].ravel(), index=terms, name="estimate")
    return PropensityResult(
        exposure=exposure,
        covariates=tuple(covs),
        method=method,
        levels=tuple(levels),
        probabilities=probs,
        received=t.rename("received"),
        trimmed=pd.Series(trimmed, index=clean.index, name="trimmed"),
        missing=report,
        _params=params,
        _cov=pd.DataFrame(fit["vcov"], index=terms, columns=terms),
        loglik=float(fit["loglik"]),
        converged=bool(fit["converged"]),
        n_iter=int(fit["n_iter"]),
        trim=trim,
        _design=D,
        _notes_=tuple(notes),
    )


WeightedCov = Literal["robust", "HC0", "HC1", "HC2", "HC3"]
#: ``cov_type`` values of fit_weighted: sandwich estimators only
WEIGHTED_COV_TYPES: tuple[str, ...] = ("robust", "HC0", "HC1", "HC2", "HC3")


def fit_weighted(
    data: pd.DataFrame,
    formula: str,
    weights: str | pd.Series | PropensityResult,
    *,
    family: str = "gaussian",
    link: str | None = None,
    kind: WeightKind = "ate",
    stabilized: bool = False,
    truncate: tuple[float, float] | None = None,
    focal: Any = None,
    cov_type: WeightedCov | None = None,
    cluster: str | None = None,
    ps_uncertainty: Literal["ignore", "stacked"] = "ignore",
) -> RegressionResult:
    """Fit a propensity-weighted outcome model with robust (sandwich) standard errors.

    Parameters
    ----------
    data : pandas.DataFrame
        Not modified. Rows are matched to the weights by index.
    formula : str
        Outcome model, e.g. ``"pda_15 ~ attends"`` (marginal effect) or with
        covariates for a doubly robust fit.
    weights : str, pandas.Series or PropensityResult
        A weight column, a Series indexed like ``data``, or a fitted propensity
        model (weights from :meth:`PropensityResult.weights` with ``kind``,
        ``stabilized``, ``truncate`` and ``focal``). Rows without a weight
        (trimmed, or not in the propensity model) are excluded and reported.
    family : str
        Any GLM family of :func:`~mutualaid_outcomes.models.regression.glm.fit_regression`
        (``'gaussian'``, ``'binomial'``, ``'poisson'``, ``'negative_binomial'``,
        ``'fractional_logit'``).
    link : str, optional
        Link function (see ``fit_regression``).
    kind, stabilized, truncate, focal
        See :meth:`PropensityResult.weights`.
    cov_type : {'robust', 'HC0', 'HC1', 'HC2', 'HC3'}, optional
        Sandwich covariance (``'robust'`` is HC0, the default: a weighted estimator is
        defined with its sandwich); model-based SEs are not valid with balancing
        weights and ``'model'`` is refused.
    cluster : str, optional
        Cluster column: cluster-robust SEs (``cov_type`` then None or ``'robust'``).
    ps_uncertainty : {'ignore', 'stacked'}
        ``'ignore'``: sandwich SEs that treat the weights as known. ``'stacked'``:
        M-estimation SEs that also carry the uncertainty of an estimated logistic
        propensity model (``weights`` must be a binary-exposure
        :class:`PropensityResult`; ``cov_type='HC0'``; no ``stabilized`` or
        ``truncate``). The result's ``cov_type`` is then ``'stacked'``.

    Returns
    -------
    RegressionResult
        As from ``fit_regression``, with a note on the weights.

    Raises
    ------
    ArgumentTypeError
        ``weights`` of another type.
    OptionError
        ``cov_type='model'`` or another invalid option.
    DataValidationError
        Negative or non-finite weights.

    Notes
    -----
    The weights enter as analytic (prior) weights, as R
    ``glm(weights = w)``: with only the exposure on the right-hand side the
    coefficient is the Hajek (normalised) inverse-probability-weighted difference
    in means. The sandwich ``B (sum u_i u_i') B`` treats the weights as known: it
    ignores the estimation of the propensity score, which makes it conservative
    for the ATE (Lunceford & Davidian 2004) but not necessarily for the ATT or
    overlap estimands; stacked M-estimation or the bootstrap account for it exactly.
    Agrees with R ``glm(weights =)`` plus ``sandwich::vcovHC`` / ``vcovCL`` to 1e-6
    (tests/reference/propensity.R).

    References
    ----------
    Lunceford, J. K., & Davidian, M. (2004). Stratification and weighting via the
    propensity score in estimation of causal treatment effects. *Statistics in
    Medicine*, 23(19), 2937-2960.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(5)
    >>> df = pd.DataFrame({"sev": rng.normal(size=800)})
    >>> df["attends"] = rng.binomial(1, 1 / (1 + np.exp(-df["sev"])))
    >>> df["pda"] = 0.6 + 0.1 * df["attends"] - 0.1 * df["sev"] + rng.normal(0, 0.1, 800)
    >>> ps = propensity_scores(df, "attends", "sev")
    >>> res = fit_weighted(df, "pda ~ attends", ps, kind="ate")
    >>> round(float(res.tidy().loc[1, "estimate"]), 2)
    0.1
    """
    from ..regression.glm import fit_regression

    check_data_first(data, formula, "fit_weighted")
    data = check_dataframe(data)
    if cov_type == "model":
        raise OptionError(
            "`cov_type='model'` is not valid with balancing weights (they are not precision "
            "weights); use one of " + ", ".join(repr(c) for c in WEIGHTED_COV_TYPES) + "."
        )
    if cov_type is not None:
        check_cov_type(cov_type, WEIGHTED_COV_TYPES)
    if cluster is None and cov_type in (None, "robust"):
        cov_type = "HC0"
    check_option(ps_uncertainty, ("ignore", "stacked"), "ps_uncertainty")
    if ps_uncertainty == "stacked":
        if not isinstance(weights, PropensityResult) or weights.method != "logit":
            raise OptionError(
                "`ps_uncertainty='stacked'` needs `weights` to be a PropensityResult of a "
                "binary exposure (method='logit')."
            )
        if family == "negative_binomial":
            raise OptionError(
                "`ps_uncertainty='stacked'` is available for the gaussian, binomial, poisson "
                "and fractional_logit families."
            )
        if cov_type != "HC0" or cluster is not None or stabilized or truncate is not None:
            raise OptionError(
                "`ps_uncertainty='stacked'` is available with cov_type='HC0', no `cluster`, "
                "stabilized=False and truncate=None."
            )
    if isinstance(weights, PropensityResult):
        w = weights.weights(kind, stabilized=stabilized, truncate=truncate, focal=focal)
        source = (
            f"{'ate' if kind == 'ipw' else kind} weights from the propensity model for "
            f"'{weights.exposure}'"
        )
        if stabilized:
            source = "stabilised " + source
        if truncate is not None:
            source += f", truncated at quantiles {tuple(truncate)}"
        w = w.reindex(data.index)
    elif isinstance(weights, pd.Series):
        w = weights.reindex(data.index)
        source = "user-supplied weights"
    elif isinstance(weights, str):
        check_columns(data, weights, "weights")
        w = data[weights]
        source = f"weights in column '{weights}'"
    else:
        raise ArgumentTypeError(
            "`weights` must be a column name, a pandas Series or a PropensityResult; "
            f"got {type(weights).__name__}."
        )
    name = "ps_weight"
    while name in data.columns:
        name += "_"
    frame = data.copy()
    frame[name] = pd.to_numeric(w, errors="coerce").to_numpy(dtype=float)
    res = fit_regression(
        frame,
        formula,
        family=family,  # type: ignore[arg-type]
        link=link,
        weights=name,
        cov_type=cov_type,  # type: ignore[arg-type]
        cluster=cluster,
    )
    if ps_uncertainty == "stacked" and isinstance(weights, PropensityResult):
        V = _stacked_vcov(weights, res, name, "ate" if kind == "ipw" else kind, focal)
        note = (
            f"Weighted by {source} (column '{name}'); stacked M-estimation SEs include "
            "the estimation of the propensity score."
        )
        idx = res._params.index
        return replace(
            res,
            cov_type="stacked",
            _cov=pd.DataFrame(V, index=idx, columns=idx),
            _notes_=(*res._notes_, note),
        )
    note = (
        f"Weighted by {source} (column '{name}'); {res.cov_type} sandwich SEs treat the "
        "weights as known (conservative for the ATE)."
    )
    return replace(res, _notes_=(*res._notes_, note))


def _stacked_vcov(ps: PropensityResult, res: Any, wcol: str, kind: str, focal: Any) -> np.ndarray:
    """Joint M-estimation covariance of (propensity, outcome) coefficients; outcome block."""
    Xp = np.column_stack([np.ones(ps.nobs), ps._design.to_numpy()])
    t = np.asarray(pd.Categorical(ps.received, categories=list(ps.levels)).codes, dtype=float)
    e = ps.probabilities.to_numpy()[:, 1]
    psi1 = (t - e)[:, None] * Xp
    A11 = Xp.T @ ((e * (1 - e))[:, None] * Xp)
    # derivative of each row's weight with respect to the logit coefficients: dw * x
    if kind == "ate":
        dw = np.where(t == 1, -(1 - e) / e, e / (1 - e))
    elif kind == "att":
        if ps._focal(focal) == ps.levels[1]:
            dw = np.where(t == 1, 0.0, e / (1 - e))
        else:
            dw = np.where(t == 1, -(1 - e) / e, 0.0)
    else:
        dw = np.where(t == 1, -e * (1 - e), e * (1 - e))
    pos = ps.probabilities.index.get_indexer(res._data.index)
    if np.any(pos < 0):
        raise DataValidationError(
            "Rows of the outcome model are missing from the propensity model; stacked SEs "
            "need the outcome rows to be a subset of the propensity rows."
        )
    w = res._data[wcol].to_numpy(dtype=float)
    if np.any(w <= 0):
        raise DataValidationError(
            "Stacked SEs need positive weights for every row of the outcome model."
        )
    fit = res._fit
    k = fit.n_coef
    scores = fit.scores[:, :k]
    g = scores / w[:, None]
    A21 = -(g.T @ (dw[pos][:, None] * Xp[pos]))
    A22 = np.linalg.inv(fit.bread[:k, :k])
    ka = Xp.shape[1]
    A = np.zeros((ka + k, ka + k))
    A[:ka, :ka] = A11
    A[ka:, :ka] = A21
    A[ka:, ka:] = A22
    psi = np.zeros((ps.nobs, ka + k))
    psi[:, :ka] = psi1
    psi[pos, ka:] = scores
    Ainv = np.linalg.inv(A)
    V = Ainv @ (psi.T @ psi) @ Ainv.T
    return V[ka:, ka:]
