"""Rendering of results: the :class:`Summary` object and its number formatting.

A :class:`Summary` is built by :meth:`mutualaid_outcomes.results.BaseResult.summary`
from a result's ``tidy()`` and ``glance()`` frames and renders as plain text, HTML
(shown by Jupyter) and LaTeX. Numbers are rounded only here: one format per column
(integers for counts, fixed decimals, or scientific notation when a nonzero value would
print as zero), p-values as ``<0.001``. :func:`ratio_label` and :data:`RATIO_NAMES` name
exponentiated coefficients (odds, rate, risk and hazard ratios) for the summary and the
tables; :func:`latex_escape` is shared with the LaTeX table writer.

Everything public here is re-exported by :mod:`mutualaid_outcomes.results`.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._validation import renamed

__all__ = ["RATIO_NAMES", "ratio_label", "latex_escape", "Summary"]


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
