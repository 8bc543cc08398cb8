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

import html
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._validation import check_conf_level, renamed

__all__ = [
    "RATIO_NAMES",
    "ratio_label",
    "TIDY_COLUMNS",
    "wald_table",
    "exponentiate_tidy",
    "glance_frame",
    "Summary",
    "BaseResult",
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


def _fmt(value: Any, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return ""
        if v != 0 and (abs(v) < 10 ** (-digits) or abs(v) >= 1e7):
            return f"{v:.{digits}e}"
        return f"{v:.{digits}f}"
    return str(value)


def _column_rule(values: pd.Series, digits: int) -> str:
    """One number format per column: ``"int"``, ``"fixed"`` or ``"sci"``.

    Integer-valued columns (counts) print as integers; a column with a nonzero value
    that would print as zero, or one of 1e7 or more, prints in scientific notation
    throughout; otherwise fixed decimals.
    """
    num = pd.to_numeric(values, errors="coerce")
    finite = num[np.isfinite(num.astype(float))].astype(float)
    if finite.empty or not all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in values.dropna()
    ):
        return "other"
    if pd.api.types.is_integer_dtype(values) or (finite == finite.round()).all():
        if (finite.abs() < 1e15).all() and not pd.api.types.is_float_dtype(values):
            return "int"
    nonzero = finite[finite != 0].abs()
    if len(nonzero) and ((nonzero < 0.5 * 10.0**-digits).any() or (nonzero >= 1e7).any()):
        return "sci"
    return "fixed"


def _format_frame(frame: pd.DataFrame, digits: int) -> pd.DataFrame:
    out = frame.copy().astype(object)
    for col in frame.columns:
        if col == "p_value":
            out[col] = [
                "" if pd.isna(v) else ("<0.001" if v < 0.001 else f"{v:.3f}") for v in frame[col]
            ]
            continue
        rule = _column_rule(frame[col], digits)
        if rule == "other":
            out[col] = [_fmt(v, digits) for v in frame[col]]
            continue
        spec = {"int": ".0f", "sci": f".{digits}e", "fixed": f".{digits}f"}[rule]
        out[col] = ["" if pd.isna(v) else format(float(v), spec) for v in frame[col]]
    return out


_COUNT_KEYS = re.compile(r"^(n|n_.*|df|df_.*|k|nobs|n_iter|iterations|.*_df)$")


def _glance_value(key: str, value: Any, digits: int) -> str:
    """A glance value; counts (n, n_events, df, ...) print as integers."""
    if (
        isinstance(value, (float, np.floating))
        and np.isfinite(value)
        and float(value).is_integer()
        and _COUNT_KEYS.match(key)
    ):
        return str(int(value))
    return _fmt(value, digits)


#: names of exponentiated coefficients, for summary() and the tables
RATIO_NAMES = {
    "HR": "Hazard ratio",
    "OR": "Odds ratio",
    "IRR": "Incidence rate ratio",
    "RR": "Risk ratio",
    "Ratio": "Ratio",
}


def ratio_label(family: Any, link: Any) -> str | None:
    """The ratio an exponentiated coefficient is, for a GLM family and link.

    Examples
    --------
    >>> ratio_label("binomial", "logit"), ratio_label("poisson", "log"), ratio_label("gaussian", "identity")
    ('OR', 'IRR', None)
    """
    fam, lnk = str(family).lower(), str(link).lower()
    if lnk in ("logit", "nan", "none", "") and "binomial" in fam and "negative" not in fam:
        return "OR"
    if lnk == "log" and "binomial" in fam and "negative" not in fam:
        return "RR"
    if lnk in ("log", "nan", "none", "") and fam.startswith(
        ("poisson", "negbin", "negative", "quasipoisson", "zi", "hurdle")
    ):
        return "IRR"
    return None


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    # symbols used in table notes and labels, so the output compiles with pdflatex
    "²": r"\textsuperscript{2}",
    "τ": r"$\tau$",
    "χ": r"$\chi$",
    "×": r"$\times$",
}


def latex_escape(text: str) -> str:
    r"""Escape LaTeX special characters.

    Examples
    --------
    >>> print(latex_escape("a_b & 50%"))
    a\_b \& 50\%
    >>> print(latex_escape("τ² = 0.31"))
    $\tau$\textsuperscript{2} = 0.31
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


class Summary:
    """A rendered summary of a result: text, HTML and LaTeX from tidy and glance frames.

    Parameters
    ----------
    title : str
        Heading, e.g. ``"Generalized estimating equations (gaussian, exchangeable)"``.
    tidy : pandas.DataFrame
        The coefficient or effect table.
    glance : pandas.DataFrame
        The one-row model summary.
    notes : sequence of str
        Footnotes (rows excluded, warnings, how intervals were computed).
    decimals : int
        Decimals shown (3 by default, the ``summary()`` default of docs/conventions.md).
    ratios : pandas.DataFrame, optional
        A second table of exponentiated coefficients (``term``, ratio, its inverse
        and the limits), shown after the coefficients as R's ``summary(coxph)`` does.
    ratio_name : str
        Short name of the ratio (``"HR"``, ``"OR"``, ``"IRR"``, ``"RR"``).

    Examples
    --------
    >>> from mutualaid_outcomes.results import wald_table, glance_frame
    >>> s = Summary("Demo", wald_table(["x"], [1.0], [0.5]), glance_frame({"n": 3}, ["n"]))
    >>> print(s.as_text().splitlines()[0])
    Demo
    >>> "<table" in s.as_html()
    True
    """

    @renamed(digits="decimals")
    def __init__(
        self,
        title: str,
        tidy: pd.DataFrame,
        glance: pd.DataFrame,
        notes: Sequence[str] = (),
        *,
        decimals: int = 3,
        ratios: pd.DataFrame | None = None,
        ratio_name: str = "Ratio",
    ) -> None:
        self.title = title
        self.tidy = tidy
        self.glance = glance
        self.notes = tuple(notes)
        self.decimals = decimals
        self.ratios = ratios
        self.ratio_name = ratio_name

    def _glance_items(self) -> list[tuple[str, str]]:
        if self.glance is None or self.glance.empty:
            return []
        row = self.glance.iloc[0]
        items = []
        for k, v in row.items():
            s = _glance_value(str(k), v, self.decimals)
            if s != "":
                items.append((str(k), s))
        return items

    def as_text(self) -> str:
        """Plain-text rendering."""
        lines = [self.title, "=" * max(len(self.title), 20)]
        items = self._glance_items()
        if items:
            width = max(len(k) for k, _ in items)
            lines += [f"{k:<{width}}  {v}" for k, v in items]
            lines.append("-" * max(len(self.title), 20))
        table = _format_frame(self.tidy, self.decimals)
        lines.append(table.to_string(index=False))
        if self.ratios is not None:
            lines.append("")
            lines.append(
                f"{RATIO_NAMES.get(self.ratio_name, self.ratio_name)}s ({self.ratio_name})"
            )
            lines.append(_format_frame(self.ratios, self.decimals).to_string(index=False))
        if self.notes:
            lines.append("")
            lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def as_html(self) -> str:
        """HTML rendering: the coefficients (and ratios) first, then the fit statistics.

        Styles are inline so Jupyter's stylesheet cannot right-align the term column.
        """
        esc = html.escape
        cell = "padding:1px 8px;border:none;"
        left, right = f"style='{cell}text-align:left'", f"style='{cell}text-align:right'"
        rule = "style='border-collapse:collapse;border:none;margin:4px 0 8px 0'"
        parts = [f"<div class='mutualaid-summary'><h4>{esc(self.title)}</h4>"]
        frames = [(self.tidy, "")]
        if self.ratios is not None:
            frames.append((self.ratios, f"{RATIO_NAMES.get(self.ratio_name, self.ratio_name)}s"))
        for frame, caption in frames:
            table = _format_frame(frame, self.decimals)
            parts.append(f"<table class='tidy' {rule}>")
            if caption:
                parts.append(f"<caption style='text-align:left'>{esc(caption)}</caption>")
            parts.append("<thead><tr>")
            parts += [
                f"<th {left if j == 0 else right}>{esc(str(c))}</th>"
                for j, c in enumerate(table.columns)
            ]
            parts.append("</tr></thead><tbody>")
            for _, row in table.iterrows():
                tds = "".join(
                    f"<td {left if j == 0 else right}>{esc(str(v))}</td>" for j, v in enumerate(row)
                )
                parts.append(f"<tr>{tds}</tr>")
            parts.append("</tbody></table>")
        items = self._glance_items()
        if items:
            parts.append(f"<table class='glance' {rule}>")
            parts += [
                f"<tr><th {left}>{esc(k)}</th><td {right}>{esc(v)}</td></tr>" for k, v in items
            ]
            parts.append("</table>")
        for n in self.notes:
            parts.append(f"<p><small>Note: {esc(n)}</small></p>")
        parts.append("</div>")
        return "".join(parts)

    def as_latex(self) -> str:
        """LaTeX rendering (a booktabs ``tabular``)."""
        table = _format_frame(self.tidy, self.decimals)
        cols = list(table.columns)
        spec = "l" + "r" * (len(cols) - 1)
        out = [
            f"% {latex_escape(self.title)}",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\toprule",
            " & ".join(latex_escape(c) for c in cols) + " \\\\",
            "\\midrule",
        ]
        for _, row in table.iterrows():
            out.append(" & ".join(latex_escape(str(v)) for v in row) + " \\\\")
        if self.ratios is not None:
            ratios = _format_frame(self.ratios, self.decimals)
            out.append("\\midrule")
            head = list(ratios.columns) + [""] * (len(cols) - len(ratios.columns))
            out.append(" & ".join(latex_escape(c) for c in head) + " \\\\")
            out.append("\\midrule")
            for _, row in ratios.iterrows():
                vals = [latex_escape(str(v)) for v in row] + [""] * (len(cols) - len(row))
                out.append(" & ".join(vals) + " \\\\")
        out.append("\\bottomrule")
        out.append("\\end{tabular}")
        for n in self.notes:
            out.append(f"% Note: {latex_escape(n)}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.as_text()

    def __repr__(self) -> str:
        return self.as_text()

    def _repr_html_(self) -> str:
        return self.as_html()


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
            ratios = pd.DataFrame(
                {
                    "term": tidy["term"],
                    name: np.exp(tidy["estimate"]),
                    f"1/{name}": np.exp(-tidy["estimate"]),
                    f"lower {level}": np.exp(tidy["conf_low"]),
                    f"upper {level}": np.exp(tidy["conf_high"]),
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
