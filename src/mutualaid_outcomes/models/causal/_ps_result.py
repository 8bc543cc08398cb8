"""The fitted propensity model: scores, weights, positivity and covariate balance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import MissingReport, check_option
from ...errors import ArgumentTypeError, DataValidationError, OptionError
from ...results import BaseResult, StoredCoefficients, glance_frame, wald_table

__all__ = [
    "EXTREME",
    "PSMethod",
    "Positivity",
    "WeightKind",
    "POSITIVITY_TOL",
    "PROPENSITY_GLANCE_COLUMNS",
    "WEIGHT_KINDS",
    "PositivityError",
    "PropensityResult",
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
    "condition_number",
    "collinear",
)


class PositivityError(DataValidationError):
    """Fitted propensity scores of 0 or 1: some people could not have had the other exposure."""


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
class PropensityResult(StoredCoefficients, BaseResult):
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
    condition_number: float = np.nan
    collinear_columns: tuple[str, ...] = ()

    # -- coefficient protocol -----------------------------------------------------------

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
        converged, n_iter``, ``condition_number`` (Belsley's scaled condition number of
        the covariate design with its intercept) and ``collinear`` (above the documented
        threshold ``1e4``, ``docs/numerics.md``).
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
            "condition_number": self.condition_number,
            "collinear": bool(self.collinear_columns),
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
