r"""Simple slopes and Johnson-Neyman regions of significance for an interaction.

For a model with linear predictor ``... + b_X X + b_W W + b_XW X W + ...`` the conditional
effect of the focal predictor ``X`` at moderator value ``w`` is

.. math:: \theta(w) = b_X + b_{XW} w, \qquad
          \operatorname{Var}\theta(w) = V_{XX} + 2 w V_{X,XW} + w^2 V_{XW,XW},

the delta-method variance of a linear combination of the coefficients, read from the
model's full covariance (``vcov()``, so under the model's ``cov_type``). For a categorical
moderator entered as treatment-coded indicators the effect at level ``L`` is
``b_X + b_{X:W[T.L]}`` (``b_X`` at the reference level). Inference uses the t distribution
with the model's residual df when ``df_resid`` is not None, the normal otherwise. For
GLMs the effect is on the linear-predictor scale (log odds, log rate).

The Johnson-Neyman bounds are the values of ``w`` where the effect is exactly
significant, ``theta(w)^2 = q^2 Var theta(w)`` with ``q`` the ``(1 + conf_level) / 2``
quantile, i.e. the real roots of

.. math:: (b_{XW}^2 - q^2 V_{XW,XW}) w^2 + 2 (b_X b_{XW} - q^2 V_{X,XW}) w
          + (b_X^2 - q^2 V_{XX}) = 0

(Johnson & Neyman 1936; Bauer & Curran 2005). Both functions read a fitted result only
through the coefficient protocol (``terms``, ``coef()``, ``vcov()``, ``nobs``,
``df_resid``), plus the rows the model used where the result keeps them (regression and
GEE results do) for the default moderator values and the observed range of ``W``.
Validated against hand computations in R from ``coef()``/``vcov()`` of ``lm`` and ``glm``
(``tests/reference/simple_slopes.R``) to 1e-6 relative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import check_conf_level
from ...errors import DataValidationError
from ...results import BaseResult, CoefficientProtocol, glance_frame, wald_table
from ._interaction import (
    categorical_at,
    combinations,
    continuous_at,
    critical_quantile,
    describe_regions,
    effect_label,
    jn_regions,
    locate,
)

__all__ = [
    "SimpleSlopesResult",
    "JohnsonNeymanResult",
    "simple_slopes",
    "johnson_neyman",
    "SLOPES_GLANCE_COLUMNS",
    "JN_GLANCE_COLUMNS",
]

SLOPES_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "focal",
    "moderator",
    "moderator_type",
    "at_rule",
    "n",
    "df_resid",
    "moderator_min",
    "moderator_max",
)
JN_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "focal",
    "moderator",
    "conf_level",
    "critical_value",
    "lower",
    "upper",
    "significant_where",
    "lower_in_range",
    "upper_in_range",
    "moderator_min",
    "moderator_max",
    "n",
    "df_resid",
)


@dataclass(frozen=True, repr=False, eq=False)
class SimpleSlopesResult(BaseResult):
    """Conditional effects of ``focal`` at values of ``moderator`` (simple slopes).

    Coefficient protocol: :meth:`coef` gives the conditional effects (terms
    ``'focal | moderator = value'``), :meth:`vcov` their joint delta-method covariance,
    :attr:`nobs` and :attr:`df_resid` those of the model.
    """

    table: pd.DataFrame
    _cov: pd.DataFrame = field(repr=False)
    focal: str
    moderator: str
    moderator_type: str
    at_rule: str
    moderator_range: tuple[float, float] | None
    _nobs: int
    _df: float | None
    _exponentiable: bool = True

    @property
    def terms(self) -> tuple[str, ...]:
        """Effect names ``'focal | moderator = value'``."""
        return tuple(self.table["term"])

    def coef(self) -> pd.Series:
        """Conditional effects indexed by term."""
        return pd.Series(self.table["estimate"].to_numpy(float), index=list(self.terms))

    def vcov(self) -> pd.DataFrame:
        """Delta-method covariance of the conditional effects."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Rows the model used."""
        return self._nobs

    @property
    def df_resid(self) -> float | None:
        """The model's residual df (t inference), or None (z inference)."""
        return self._df

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self._exponentiable

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = wald_table(
            self.terms,
            self.table["estimate"].to_numpy(float),
            self.table["std_error"].to_numpy(float),
            conf_level,
            self._df,
        )
        t["at"] = self.table["at"].to_numpy()
        return t

    def glance(self) -> pd.DataFrame:
        """One row of the fixed columns :data:`SLOPES_GLANCE_COLUMNS`.

        ``method, focal, moderator, moderator_type, at_rule, n, df_resid, moderator_min,
        moderator_max`` (NaN where not applicable).
        """
        lo, hi = self.moderator_range or (np.nan, np.nan)
        return glance_frame(
            {
                "method": "simple slopes (delta method)",
                "focal": self.focal,
                "moderator": self.moderator,
                "moderator_type": self.moderator_type,
                "at_rule": self.at_rule,
                "n": self._nobs,
                "df_resid": np.nan if self._df is None else self._df,
                "moderator_min": lo,
                "moderator_max": hi,
            },
            SLOPES_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return f"Conditional effect of {self.focal} by {self.moderator}"

    def _notes(self) -> list[str]:
        ref = "t" if self._df is not None else "normal"
        return [f"Moderator values: {self.at_rule}; {ref} reference distribution."]


def simple_slopes(
    result: CoefficientProtocol,
    focal: str,
    moderator: str,
    at: float | str | Sequence[Any] | None = None,
    *,
    conf_level: float = 0.95,
) -> SimpleSlopesResult:
    """Conditional effects of ``focal`` at values of ``moderator`` (simple slopes).

    Parameters
    ----------
    result : fitted result
        Any result implementing the coefficient protocol (``terms``, ``coef()``,
        ``vcov()``, ``nobs``, ``df_resid``) whose terms include ``focal`` and the
        interaction ``focal:moderator`` (either order): linear and generalised linear
        models, GEE, Cox, mixed models.
    focal : str
        The focal predictor, a single numeric term of the model.
    moderator : str
        The moderator: a numeric column (continuous or 0/1) or a categorical one entered
        as treatment-coded levels (``W[T.level]`` or ``C(W)[T.level]``).
    at : float, str or sequence, optional
        Moderator values (levels for a categorical moderator). Default: mean and
        +/- 1 SD (``ddof=1``) of the moderator over the rows the model used for a
        continuous moderator, both values of a binary one, every level of a categorical
        one. Required when the result does not keep those rows.
    conf_level : float
        Confidence level of the intervals.

    Returns
    -------
    SimpleSlopesResult
        ``tidy()`` has one row per moderator value (``term`` ``'focal | moderator =
        value'``, the value in ``at``) with estimate, SE, statistic, p and CI.

    Raises
    ------
    DataValidationError
        ``focal`` or ``moderator`` not in the model, no ``focal:moderator`` term, a
        moderator identical to the focal predictor, ``at`` not numeric (continuous) or
        not a level (categorical), or ``at`` missing when the model rows are unknown.
    ArgumentTypeError
        ``focal`` or ``moderator`` not a string.

    Warns
    -----
    DataWarning
        ``at`` values outside the observed range of the moderator (extrapolation); the
        focal predictor in further product terms (effects at zero of their variables).

    Notes
    -----
    The effect at ``w`` is ``b_X + b_XW w`` with variance ``V_XX + 2 w V_X,XW + w^2
    V_XW,XW`` (see the module docstring); the covariance across values is ``C V C'``.
    The default mean and SD are over the rows the model used, unweighted even for a
    weighted fit (pass ``at=`` for weighted moderator values).
    Checked against R ``lm``/``glm`` (logit) computed by hand from ``coef()`` and
    ``vcov()`` to 1e-6 relative (``tests/reference/simple_slopes.R``).

    References
    ----------
    Aiken, L. S., & West, S. G. (1991). *Multiple regression: Testing and interpreting
    interactions*. Sage.
    Hayes, A. F. (2022). *Introduction to mediation, moderation, and conditional process
    analysis* (3rd ed.). Guilford.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.regression import fit_regression
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "w": rng.normal(size=200)})
    >>> d["y"] = 0.5 * d.x + 0.4 * d.x * d.w + rng.normal(size=200)
    >>> res = simple_slopes(fit_regression(d, "y ~ x * w"), "x", "w", at=[-1, 0, 1])
    >>> res.tidy()[["term", "estimate"]].round(2)
             term  estimate
    0  x | w = -1      0.27
    1   x | w = 0      0.61
    2   x | w = 1      0.96
    """
    conf_level = check_conf_level(conf_level)
    inter = locate(result, focal, moderator)
    if inter.kind == "categorical":
        values, rule = categorical_at(inter, at)
        weights = [
            {inter.focal: 1.0, **({inter.product[v]: 1.0} if v in inter.product else {})}
            for v in values
        ]
        at_col: Any = np.array(values, dtype=object)
    else:
        nums, rule = continuous_at(inter, at)
        weights = [{inter.focal: 1.0, inter.product[""]: float(v)} for v in nums]
        at_col = nums
    est, cov = combinations(result, inter, weights)
    labels = [effect_label(inter, v) for v in at_col]
    table = pd.DataFrame(
        {"term": labels, "estimate": est, "std_error": np.sqrt(np.diag(cov)), "at": at_col}
    )
    rng = None
    if inter.frame is not None and inter.kind != "categorical":
        rng = (float(inter.frame.min()), float(inter.frame.max()))
    return SimpleSlopesResult(
        table=table,
        _cov=pd.DataFrame(cov, index=labels, columns=labels),
        focal=inter.focal,
        moderator=inter.moderator,
        moderator_type=inter.kind,
        at_rule=rule,
        moderator_range=rng,
        _nobs=int(result.nobs),
        _df=None if result.df_resid is None else float(result.df_resid),
        _exponentiable=bool(getattr(result, "_can_exponentiate", True)),
    )


# -- Johnson-Neyman --------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)
class JohnsonNeymanResult(BaseResult):
    """Johnson-Neyman region of significance of the effect of ``focal`` across ``moderator``.

    Attributes
    ----------
    focal, moderator : str
        The focal predictor and the continuous moderator.
    conf_level : float
        Level whose two-sided test defines significance (alpha = 1 - conf_level).
    lower, upper : float
        The J-N bounds (real roots of the quadratic), NaN when there is no such root.
    regions : tuple of (float, float)
        Intervals of the moderator where the effect is significant (``inf`` for
        unbounded ends); empty when it is nowhere significant.
    moderator_range : tuple of float or None
        Observed range of the moderator in the rows the model used (None when unknown).
    critical_value : float
        The t (residual df) or normal quantile used.
    """

    focal: str
    moderator: str
    conf_level: float
    lower: float
    upper: float
    regions: tuple[tuple[float, float], ...]
    moderator_range: tuple[float, float] | None
    critical_value: float
    quadratic: tuple[float, float, float]
    _b: tuple[float, float] = field(repr=False)
    _V: tuple[float, float, float] = field(repr=False)  # V_XX, V_X,XW, V_XW,XW
    _nobs: int = 0
    _df: float | None = None
    _can_exponentiate = False

    def _in_range(self, value: float) -> bool | float:
        if self.moderator_range is None or not math.isfinite(value):
            return np.nan
        return bool(self.moderator_range[0] <= value <= self.moderator_range[1])

    @property
    def significant_where(self) -> str:
        """Plain-language region of significance, e.g. ``'age <= 3.99 or age >= 68.5'``."""
        return describe_regions(self.regions, self.moderator)

    @property
    def observed_regions(self) -> tuple[tuple[float, float], ...] | None:
        """:attr:`regions` clipped to the observed range of the moderator (None if unknown)."""
        if self.moderator_range is None:
            return None
        lo, hi = self.moderator_range
        out = [(max(a, lo), min(b, hi)) for a, b in self.regions]
        return tuple((a, b) for a, b in out if a <= b)

    def conditional_effect(self, values: Sequence[float] | np.ndarray) -> pd.DataFrame:
        """The effect of ``focal`` at moderator ``values``, with SE and CI at ``conf_level``.

        Returns
        -------
        pandas.DataFrame
            Columns ``moderator_value, estimate, std_error, statistic, p_value, conf_low,
            conf_high, significant``.
        """
        w = np.asarray(values, dtype=float)
        bx, bxw = self._b
        vxx, vx_xw, vxw = self._V
        est = bx + bxw * w
        se = np.sqrt(vxx + 2 * w * vx_xw + w * w * vxw)
        t = wald_table([""] * w.size, est, se, self.conf_level, self._df).drop(columns="term")
        t.insert(0, "moderator_value", w)
        t["significant"] = np.abs(est) >= self.critical_value * se
        return t

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        bounds = [("jn_lower", self.lower), ("jn_upper", self.upper)]
        bounds = [(n, v) for n, v in bounds if math.isfinite(v)]
        w = np.array([v for _, v in bounds], dtype=float)
        bx, bxw = self._b
        vxx, vx_xw, vxw = self._V
        se = np.sqrt(vxx + 2 * w * vx_xw + w * w * vxw)
        t = wald_table([n for n, _ in bounds], bx + bxw * w, se, conf_level, self._df)
        t["at"] = w
        t["in_observed_range"] = [self._in_range(v) for v in w]
        return t

    def glance(self) -> pd.DataFrame:
        """One row of the fixed columns :data:`JN_GLANCE_COLUMNS`.

        ``method, focal, moderator, conf_level, critical_value, lower, upper,
        significant_where, lower_in_range, upper_in_range, moderator_min, moderator_max,
        n, df_resid`` (NaN where not applicable).
        """
        lo, hi = self.moderator_range or (np.nan, np.nan)
        return glance_frame(
            {
                "method": "Johnson-Neyman (exact roots)",
                "focal": self.focal,
                "moderator": self.moderator,
                "conf_level": self.conf_level,
                "critical_value": self.critical_value,
                "lower": self.lower,
                "upper": self.upper,
                "significant_where": self.significant_where,
                "lower_in_range": self._in_range(self.lower),
                "upper_in_range": self._in_range(self.upper),
                "moderator_min": lo,
                "moderator_max": hi,
                "n": self._nobs,
                "df_resid": np.nan if self._df is None else self._df,
            },
            JN_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return f"Johnson-Neyman region: effect of {self.focal} across {self.moderator}"

    def _notes(self) -> list[str]:
        level = f"{100 * self.conf_level:g}%"
        notes = [
            f"The effect of {self.focal} is significant (two-sided, {level} level) where "
            f"{self.significant_where}."
        ]
        if self.moderator_range is not None:
            lo, hi = self.moderator_range
            notes.append(f"Observed range of {self.moderator}: [{lo:.6g}, {hi:.6g}].")
            obs = self.observed_regions
            notes.append(
                "Within it: "
                + (describe_regions(obs, self.moderator) if obs else "nowhere")
                + (
                    ""
                    if obs is None or not obs or obs != ((lo, hi),)
                    else " (the whole observed range)"
                )
                + "."
            )
        notes.append("Rows jn_lower / jn_upper: the effect at each bound (p = alpha there).")
        return notes


def johnson_neyman(
    result: CoefficientProtocol, focal: str, moderator: str, *, conf_level: float = 0.95
) -> JohnsonNeymanResult:
    """Johnson-Neyman bounds: where the effect of ``focal`` is significant across ``moderator``.

    Parameters
    ----------
    result : fitted result
        Any result implementing the coefficient protocol whose terms include ``focal``
        and the interaction ``focal:moderator`` (either order) with a numeric moderator.
    focal : str
        The focal predictor, a single numeric term of the model.
    moderator : str
        A continuous (numeric) moderator.
    conf_level : float
        Significance is a two-sided test at alpha = ``1 - conf_level``.

    Returns
    -------
    JohnsonNeymanResult
        ``lower``/``upper`` bounds (NaN if absent), ``regions`` of significance, the
        observed range of the moderator and whether each bound lies in it (``glance()``);
        ``tidy()`` has the effect at each finite bound; :meth:`~JohnsonNeymanResult.
        conditional_effect` gives the effect along any grid.

    Raises
    ------
    DataValidationError
        As :func:`simple_slopes`; also for a categorical moderator (no continuum of
        values: use :func:`simple_slopes`).

    Notes
    -----
    The bounds solve ``(b_XW^2 - q^2 V_XW,XW) w^2 + 2 (b_X b_XW - q^2 V_X,XW) w +
    (b_X^2 - q^2 V_XX) = 0`` exactly, with ``q`` the t quantile on the model's residual
    df (``df_resid``) or the normal quantile when ``df_resid`` is None. With a positive
    leading coefficient the effect is significant outside the roots (everywhere without
    real roots); with a negative one inside them (nowhere without real roots). Checked
    against the roots computed by hand in R for ``lm`` and ``glm`` (logit) to 1e-6
    relative (``tests/reference/simple_slopes.R``).

    References
    ----------
    Johnson, P. O., & Neyman, J. (1936). Tests of certain linear hypotheses and their
    application to some educational problems. *Statistical Research Memoirs*, 1, 57-93.
    Bauer, D. J., & Curran, P. J. (2005). Probing interactions in fixed and multilevel
    regression: Inferential and graphical techniques. *Multivariate Behavioral Research*,
    40, 373-400.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.regression import fit_regression
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "w": rng.normal(size=200)})
    >>> d["y"] = 0.5 * d.x + 0.4 * d.x * d.w + rng.normal(size=200)
    >>> jn = johnson_neyman(fit_regression(d, "y ~ x * w"), "x", "w")
    >>> jn.significant_where
    'w <= -3.7331 or w >= -1.08164'
    >>> jn.glance()[["lower_in_range", "upper_in_range"]]
       lower_in_range  upper_in_range
    0           False            True
    """
    conf_level = check_conf_level(conf_level)
    inter = locate(result, focal, moderator)
    if inter.kind == "categorical":
        raise DataValidationError(
            f"`moderator` '{inter.moderator}' is categorical (levels "
            f"{list(inter.product)} against a reference); Johnson-Neyman bounds need a "
            "continuous moderator. Use simple_slopes() for the effect at each level."
        )
    term = inter.product[""]
    b = result.coef()
    V = result.vcov()
    bx, bxw = float(b[inter.focal]), float(b[term])
    vxx, vx_xw, vxw = (
        float(V.loc[inter.focal, inter.focal]),
        float(V.loc[inter.focal, term]),
        float(V.loc[term, term]),
    )
    df = None if result.df_resid is None else float(result.df_resid)
    q = critical_quantile(conf_level, df)
    qa, qb, qc = bxw**2 - q**2 * vxw, 2 * (bx * bxw - q**2 * vx_xw), bx**2 - q**2 * vxx
    regions = jn_regions(qa, qb, qc)
    finite = sorted({v for r in regions for v in r if math.isfinite(v)})
    lower, upper = (finite + [np.nan, np.nan])[:2] if len(finite) != 1 else (finite[0], np.nan)
    rows = inter.frame
    return JohnsonNeymanResult(
        focal=inter.focal,
        moderator=inter.moderator,
        conf_level=conf_level,
        lower=float(lower),
        upper=float(upper),
        regions=regions,
        moderator_range=None if rows is None else (float(rows.min()), float(rows.max())),
        critical_value=q,
        quadratic=(qa, qb, qc),
        _b=(bx, bxw),
        _V=(vxx, vx_xw, vxw),
        _nobs=int(result.nobs),
        _df=df,
    )
