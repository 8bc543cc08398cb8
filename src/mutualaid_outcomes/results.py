"""The results contract shared by every fitted model.

Every estimator returns an immutable result with

* ``tidy(conf_level=0.95, exponentiate=False)``: one row per term or effect with the
  columns :data:`TIDY_COLUMNS` (the convention of R's broom);
* ``glance()``: a one-row frame whose columns are fixed for a model family
  (``n``, ``n_dropped``, ``converged``, ``method`` ...), NaN where a value does not apply;
* ``summary()``: a :class:`Summary` built from the two, rendering as text, HTML
  (shown by Jupyter) and LaTeX.

A result that has coefficients also implements the coefficient protocol of
``docs/conventions.md``: ``terms`` (tuple of names), ``coef()`` (a Series indexed by
term), ``vcov()`` (a DataFrame indexed by term on both axes), ``nobs`` (rows used) and
``df_resid`` (residual degrees of freedom of t-based inference, ``None`` for
large-sample z inference). Consumers -- ``pool``, ``regression_table``, ``forest_data``
-- use only the protocol and ``tidy()``/``glance()``, never the class of a result. A
result without coefficients (Kaplan-Meier curves, a log-rank test) raises
``NotImplementedError`` from the protocol members.

Numbers are stored at full precision; rounding happens only when rendering.
Re-running inference with other options returns a new result; results are never
modified in place.

Examples
--------
>>> import pandas as pd
>>> from mutualaid_outcomes.results import wald_table
>>> t = wald_table(["x"], [0.5], [0.25])
>>> list(t.columns)
['term', 'estimate', 'std_error', 'statistic', 'p_value', 'conf_low', 'conf_high']
>>> round(float(t.loc[0, "conf_low"]), 4)
0.01
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd
from scipy import stats

from ._summary import RATIO_NAMES, Summary, latex_escape, ratio_label
from ._validation import check_conf_level

__all__ = [
    "RATIO_NAMES",
    "ratio_label",
    "latex_escape",
    "TIDY_COLUMNS",
    "wald_table",
    "exponentiate_tidy",
    "glance_frame",
    "Summary",
    "BaseResult",
    "TidyProtocol",
    "CoefficientProtocol",
    "StoredCoefficients",
    "ArrayCoefficients",
]

TIDY_COLUMNS: tuple[str, ...] = (
    "term",
    "estimate",
    "std_error",
    "statistic",
    "p_value",
    "conf_low",
    "conf_high",
)


def wald_table(
    terms: Sequence[str],
    estimates: Sequence[float] | np.ndarray,
    std_errors: Sequence[float] | np.ndarray,
    conf_level: float = 0.95,
    df: float | None = None,
) -> pd.DataFrame:
    """Build a tidy frame of Wald statistics, p-values and confidence limits.

    Parameters
    ----------
    terms : sequence of str
        Term names.
    estimates, std_errors : array-like
        Point estimates and their standard errors.
    conf_level : float
        Confidence level of the interval.
    df : float, optional
        Residual degrees of freedom; uses the t distribution when given, the
        standard normal otherwise.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TIDY_COLUMNS`.

    Notes
    -----
    ``statistic = estimate / std_error``; two-sided ``p = 2 P(T > |statistic|)``;
    limits ``estimate ± q * std_error`` with ``q`` the ``(1 + conf_level) / 2`` quantile.

    Examples
    --------
    >>> wald_table(["a"], [1.0], [0.5], df=10).round(4)
      term  estimate  std_error  statistic  p_value  conf_low  conf_high
    0    a       1.0        0.5        2.0   0.0734   -0.1141     2.1141
    """
    conf_level = check_conf_level(conf_level)
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    dist = stats.t(df) if df is not None and np.isfinite(df) else stats.norm
    q = dist.ppf(0.5 + conf_level / 2)
    p = 2 * dist.sf(np.abs(stat))
    return pd.DataFrame(
        {
            "term": list(terms),
            "estimate": est,
            "std_error": se,
            "statistic": stat,
            "p_value": p,
            "conf_low": est - q * se,
            "conf_high": est + q * se,
        }
    )


def exponentiate_tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """Exponentiate ``estimate``, ``conf_low`` and ``conf_high`` (odds, rate, hazard ratios).

    ``std_error``, ``statistic`` and ``p_value`` stay on the linear-predictor scale,
    as in R's broom.

    Examples
    --------
    >>> t = exponentiate_tidy(wald_table(["x"], [0.0], [1.0]))
    >>> float(t.loc[0, "estimate"])
    1.0
    """
    out = frame.copy()
    for col in ("estimate", "conf_low", "conf_high"):
        out[col] = np.exp(out[col].astype(float))
    return out


def glance_frame(values: Mapping[str, Any], columns: Sequence[str]) -> pd.DataFrame:
    """Build a one-row glance frame with exactly ``columns``; absent values are NaN.

    Examples
    --------
    >>> glance_frame({"n": 10}, ["n", "n_dropped"])
        n  n_dropped
    0  10        NaN
    """
    extra = set(values) - set(columns)
    if extra:
        raise KeyError(f"glance values {sorted(extra)} are not in the family's columns")
    row = {c: values.get(c, np.nan) for c in columns}
    return pd.DataFrame([row], columns=list(columns))


class BaseResult(ABC):
    """Base class of every fitted result.

    Subclasses implement :meth:`_tidy` (a frame with :data:`TIDY_COLUMNS`, before
    any exponentiation) and :meth:`glance`, and may override :meth:`_title` and
    :meth:`_notes`. Subclasses are typically frozen dataclasses. Their class names end
    in ``Result``.

    A subclass with coefficients overrides the coefficient protocol: :attr:`terms`,
    :meth:`coef`, :meth:`vcov`, :attr:`nobs` and :attr:`df_resid`. The defaults here
    raise ``NotImplementedError`` naming the class. Dataclass fields must therefore not
    be named ``terms``, ``coef``, ``vcov``, ``nobs`` or ``df_resid``.
    """

    #: whether ``tidy(exponentiate=True)`` makes sense for this result
    _can_exponentiate: bool = True
    #: why ``pool()`` refuses results of this class (None: pooled through the protocol)
    _not_poolable: str | None = None

    # -- coefficient protocol ------------------------------------------------------------
    def _no_coefficients(self) -> NotImplementedError:
        return NotImplementedError(
            f"{type(self).__name__} has no coefficients: the coefficient protocol (terms, "
            "coef(), vcov(), nobs, df_resid) applies to results of models with "
            "coefficients; use tidy() and glance()."
        )

    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names, in model order."""
        raise self._no_coefficients()

    def coef(self) -> pd.Series:
        """Estimates as a Series indexed by term."""
        raise self._no_coefficients()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of :meth:`coef`, indexed by term on both axes."""
        raise self._no_coefficients()

    @property
    def nobs(self) -> int:
        """Observations (rows) used in the fit."""
        raise self._no_coefficients()

    @property
    def df_resid(self) -> float | None:
        """Residual degrees of freedom for t-based inference; None for z inference."""
        raise self._no_coefficients()

    @property
    def _pool_dfcom(self) -> float:
        """Complete-data degrees of freedom ``pool()`` uses by default (``df_resid``)."""
        df = self.df_resid
        return math.inf if df is None else float(df)

    @abstractmethod
    def _tidy(self, conf_level: float) -> pd.DataFrame:
        """Return the tidy frame at ``conf_level`` on the estimation scale."""

    @abstractmethod
    def glance(self) -> pd.DataFrame:
        """One-row frame of model-level statistics with the family's fixed columns."""

    def tidy(self, conf_level: float = 0.95, exponentiate: bool = False) -> pd.DataFrame:
        """One row per term or effect.

        Parameters
        ----------
        conf_level : float
            Confidence level of ``conf_low`` / ``conf_high``.
        exponentiate : bool
            Exponentiate estimates and limits (odds, rate or hazard ratios).

        Returns
        -------
        pandas.DataFrame
            Columns ``term, estimate, std_error, statistic, p_value, conf_low, conf_high``
            (plus family-specific columns after them).
        """
        conf_level = check_conf_level(conf_level)
        out = self._tidy(conf_level)
        if exponentiate:
            if not self._can_exponentiate:
                from .errors import OptionError

                raise OptionError(
                    f"`exponentiate=True` is not meaningful for {type(self).__name__}; "
                    "use exponentiate=False."
                )
            out = exponentiate_tidy(out)
        return out.reset_index(drop=True)

    def _title(self) -> str:
        return type(self).__name__

    def _notes(self) -> list[str]:
        return []

    def _ratio(self) -> str | None:
        """Name of the exponentiated coefficients (``"OR"``, ``"IRR"``, ``"HR"``), or None.

        By default from the ``family`` and ``link`` columns of :meth:`glance`; results
        whose coefficients are log hazard ratios set the class attribute ``_ratio_name``.
        """
        fixed = getattr(type(self), "_ratio_name", None)
        if fixed:
            return str(fixed)
        if not self._can_exponentiate:
            return None
        try:
            gl = self.glance()
        except Exception:  # noqa: BLE001 - a result without glance has no ratio
            return None
        if "family" not in gl.columns or gl.empty:
            return None
        return ratio_label(gl["family"].iloc[0], gl["link"].iloc[0] if "link" in gl else "")

    def summary(self, conf_level: float = 0.95, exponentiate: bool = False) -> Summary:
        """A :class:`Summary` rendering as text, HTML and LaTeX.

        For models whose coefficients are log ratios (Cox: hazard ratios; logistic:
        odds ratios; Poisson and negative binomial: rate ratios) the coefficient table
        is followed by the ratios with their inverse and confidence limits, as R's
        ``summary(coxph)`` prints ``exp(coef)``, ``exp(-coef)``, ``lower .95`` and
        ``upper .95``. ``exponentiate=True`` shows the ratios in the main table instead.
        """
        tidy = self.tidy(conf_level=conf_level, exponentiate=exponentiate)
        name = None if exponentiate else self._ratio()
        ratios = None
        if name is not None:
            level = f"{100 * conf_level:g}%"
            with np.errstate(over="ignore"):  # a limit beyond exp(709) is infinite
                exp = {c: np.exp(tidy[c]) for c in ("estimate", "conf_low", "conf_high")}
                inv = np.exp(-tidy["estimate"])
            ratios = pd.DataFrame(
                {
                    "term": tidy["term"],
                    name: exp["estimate"],
                    f"1/{name}": inv,
                    f"lower {level}": exp["conf_low"],
                    f"upper {level}": exp["conf_high"],
                }
            )
            ratios = ratios[~ratios["term"].isin(["Intercept", "(Intercept)", "const"])]
        return Summary(
            self._title(),
            tidy,
            self.glance(),
            self._notes(),
            ratios=ratios,
            ratio_name=name or "Ratio",
        )

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def __repr__(self) -> str:
        try:
            return self.summary().as_text()
        except Exception:  # pragma: no cover - repr must never fail
            return f"<{type(self).__name__}>"


class TidyProtocol(Protocol):
    """A result read through its tables: ``tidy()`` and ``glance()``.

    Every :class:`BaseResult` provides it; functions that take any fitted result
    (``forest_data``, ``regression_table``, ``e_values``) are typed with it.
    """

    def tidy(self, conf_level: float = 0.95, exponentiate: bool = False) -> pd.DataFrame:
        """One row per term or effect."""
        ...

    def glance(self) -> pd.DataFrame:
        """One row of model-level statistics."""
        ...


class CoefficientProtocol(TidyProtocol, Protocol):
    """The coefficient protocol of ``docs/conventions.md``, as a type.

    ``terms``, ``coef()``, ``vcov()``, ``nobs`` and ``df_resid`` besides ``tidy()`` and
    ``glance()``: what ``pool``, ``simple_slopes`` and ``johnson_neyman`` read.
    """

    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names, in model order."""
        ...

    def coef(self) -> pd.Series:
        """Estimates indexed by term."""
        ...

    def vcov(self) -> pd.DataFrame:
        """Covariance of :meth:`coef`, indexed by term on both axes."""
        ...

    @property
    def nobs(self) -> int:
        """Observations (rows) used in the fit."""
        ...

    @property
    def df_resid(self) -> float | None:
        """Residual degrees of freedom (t inference), or None (z inference)."""
        ...


class StoredCoefficients:
    """Coefficient protocol for results that keep ``_params``, ``_cov`` and ``missing``.

    Mixed into a :class:`BaseResult` subclass (listed first among its bases): ``terms``,
    ``coef()``, ``vcov()`` and ``nobs`` come from the stored coefficients, their
    covariance and the rows used (``missing.n_used``); ``df_resid`` is None (Wald
    intervals on the normal distribution) unless the class overrides it.
    """

    _params: pd.Series
    _cov: pd.DataFrame
    missing: Any

    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names, in model order."""
        return tuple(self._params.index)

    def coef(self) -> pd.Series:
        """Estimates as a Series indexed by term."""
        return self._params.copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of :meth:`coef`, indexed by term on both axes."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Observations (rows) used in the fit."""
        return int(self.missing.n_used)

    @property
    def df_resid(self) -> float | None:
        """None: Wald tests and intervals use the normal distribution."""
        return None


class ArrayCoefficients(StoredCoefficients):
    """Coefficient protocol for results that keep ``_terms``, ``_coef``, ``_cov``, ``_nobs``.

    As :class:`StoredCoefficients`, for results that store plain arrays (Cox, Fine–Gray).
    """

    _terms: Any
    _coef: Any
    _nobs: Any

    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names, in model order."""
        return tuple(self._terms)

    def coef(self) -> pd.Series:
        """Estimates as a Series indexed by term."""
        return pd.Series(
            np.array(self._coef, dtype=float), index=list(self._terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of :meth:`coef`, indexed by term on both axes."""
        names = list(self._terms)
        return pd.DataFrame(np.array(self._cov, dtype=float), index=names, columns=names)

    @property
    def nobs(self) -> int:
        """Observations (rows; intervals for counting-process data) used in the fit."""
        return int(self._nobs)
