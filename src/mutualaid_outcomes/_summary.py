"""Rendering of results: the :class:`Summary` object and its number formatting.

A :class:`Summary` is built by :meth:`mutualaid_outcomes.results.BaseResult.summary`
from a result's ``tidy()`` and ``glance()`` frames and renders as plain text, HTML
(shown by Jupyter) and LaTeX. Numbers are rounded only here, with the rules of the
publication tables (:mod:`mutualaid_outcomes._formatting`): one format per column
(integers for counts, otherwise fixed decimals rounded half away from zero, a nonzero
value that would print as zero shown with two significant digits, e.g. ``0.00041``;
scientific notation only from 1e7), p-values as ``<0.001`` or by a journal preset. :func:`ratio_label` and :data:`RATIO_NAMES` name
exponentiated coefficients (odds, rate, risk and hazard ratios) for the summary and the
tables; :func:`latex_escape` is shared with the LaTeX table writer.

Everything public here is re-exported by :mod:`mutualaid_outcomes.results`.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
import pandas as pd

from ._formatting import format_number, format_p, get_style
from ._validation import renamed

__all__ = ["RATIO_NAMES", "ratio_label", "latex_escape", "Summary"]


def _floor(v: float, digits: int, minus: str = "-") -> str:
    """A nonzero number that would print as zero: ``<0.001`` (or ``>-0.001``)."""
    unit = f"{10.0**-digits:.{digits}f}"
    return f"<{unit}" if v > 0 else f">{minus}{unit}"


#: Smallest nonzero magnitude printed with its own digits; below it, ``<1e-08``-style floors.
_TINY = 1e-8


def _fixed(v: float, digits: int, minus: str = "-") -> str:
    """Fixed decimals; a tiny nonzero value keeps two significant digits.

    Rounds as the publication tables do (half away from zero); values of 1e7 and
    more print in scientific notation. A nonzero value that would print as zero at
    ``digits`` decimals (an index of moderated mediation of 0.00041, say) prints in
    fixed notation with two significant digits (``0.00041``) instead, so it is never
    hidden behind a floor; only values below 1e-8 print as ``<0.00000001``.
    """
    if math.isnan(v):
        return ""
    if math.isinf(v) or abs(v) >= 1e7:
        return f"{v:.{digits}e}"
    if v != 0 and abs(v) < 0.5 * 10.0**-digits:
        if abs(v) < _TINY:
            return _floor(v, 8, minus)
        return format_number(v, 1 - math.floor(math.log10(abs(v))), minus)
    return format_number(v, digits, minus)


def _p_text(p: Any, style: Any) -> str:
    """A p-value: by the journal preset ``style``, or ``<0.001`` / 3 decimals."""
    if p is None or pd.isna(p):
        return ""
    if style is not None:
        return format_p(float(p), style)
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def _fmt(value: Any, digits: int, minus: str = "-") -> str:
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _fixed(float(value), digits, minus)
    return str(value)


def _column_rule(values: pd.Series, digits: int) -> str:
    """One number format per column: ``"int"``, ``"fixed"`` or ``"sci"``.

    Integer-valued columns (counts) print as integers; a column with a value of 1e7
    or more prints in scientific notation throughout; otherwise fixed decimals, where
    a tiny nonzero value prints with two significant digits (``0.00041``) rather than
    turning the whole column scientific.
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
    if (finite.abs() >= 1e7).any():
        return "sci"
    return "fixed"


def _is_p_column(name: Any) -> bool:
    return str(name) in ("p_value", "p") or str(name).endswith("_p_value")


def _format_frame(frame: pd.DataFrame, digits: int, style: Any = None) -> pd.DataFrame:
    out = frame.copy().astype(object)
    minus = getattr(style, "minus", "-")
    for col in frame.columns:
        if _is_p_column(col):
            out[col] = [_p_text(v, style) for v in frame[col]]
            continue
        rule = _column_rule(frame[col], digits)
        if rule == "other":
            out[col] = [_fmt(v, digits, minus) for v in frame[col]]
        elif rule == "sci":
            out[col] = ["" if pd.isna(v) else f"{float(v):.{digits}e}" for v in frame[col]]
        elif rule == "int":
            out[col] = ["" if pd.isna(v) else f"{float(v):.0f}" for v in frame[col]]
        else:
            out[col] = [_fixed(float(v), digits, minus) for v in frame[col]]
    return out


_COUNT_KEYS = re.compile(r"^(n|n_.*|df|df_.*|k|nobs|n_iter|iterations|.*_df)$")


def _glance_value(key: str, value: Any, digits: int, style: Any = None) -> str:
    """A glance value; counts (n, n_events, df, ...) as integers, p-values as p-values."""
    if _is_p_column(key) and isinstance(value, (float, np.floating, int, np.integer)):
        return _p_text(value, style)
    if (
        isinstance(value, (float, np.floating))
        and np.isfinite(value)
        and float(value).is_integer()
        and _COUNT_KEYS.match(key)
    ):
        return str(int(value))
    return _fmt(value, digits, getattr(style, "minus", "-"))


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
    style : {"apa", "jama", "nejm"} or JournalStyle, optional
        Journal preset for p-values (and the minus sign), as the publication tables
        use it; without one, p-values print with three decimals and ``<0.001``.

    Notes
    -----
    One number format per column: counts as integers, everything else with
    ``decimals`` fixed decimals. A nonzero value that would print as zero keeps two
    significant digits in fixed notation (``0.00041``, ``-0.000095``) instead of
    switching its column to scientific notation or hiding behind a floor; only values
    of 1e7 or more print in scientific notation.

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
        style: Any = None,
    ) -> None:
        self.title = title
        self.tidy = tidy
        self.glance = glance
        self.notes = tuple(notes)
        self.decimals = decimals
        self.ratios = ratios
        self.ratio_name = ratio_name
        self.style = None if style is None else get_style(style)

    def relabelled(
        self, term_labels: Mapping[str, str] | None = None, *, style: Any = None
    ) -> Summary:
        """A copy with readable term labels and/or a journal preset.

        Parameters
        ----------
        term_labels : mapping, optional
            ``{term: label}`` for the ``term`` column of the coefficient and ratio
            tables; terms not in it keep their names.
        style : {"apa", "jama", "nejm"} or JournalStyle, optional
            Journal preset for p-values (kept when not given).

        Returns
        -------
        Summary
            A new summary; this one is unchanged.

        Examples
        --------
        >>> from mutualaid_outcomes.results import wald_table, glance_frame
        >>> s = Summary("Demo", wald_table(["C(arm)[T.MET]"], [1.0], [0.5]),
        ...             glance_frame({"n": 3}, ["n"]))
        >>> r = s.relabelled({"C(arm)[T.MET]": "Arm: MET vs CBT"}, style="apa")
        >>> r.tidy["term"].tolist(), s.tidy["term"].tolist()
        (['Arm: MET vs CBT'], ['C(arm)[T.MET]'])
        """
        mapping = dict(term_labels or {})

        def relabel(frame: pd.DataFrame | None) -> pd.DataFrame | None:
            if frame is None or "term" not in frame.columns or not mapping:
                return frame
            out = frame.copy()
            out["term"] = [mapping.get(str(t), t) for t in frame["term"]]
            return out

        return Summary(
            self.title,
            cast(pd.DataFrame, relabel(self.tidy)),
            self.glance,
            self.notes,
            decimals=self.decimals,
            ratios=relabel(self.ratios),
            ratio_name=self.ratio_name,
            style=self.style if style is None else style,
        )

    def _glance_items(self) -> list[tuple[str, str]]:
        if self.glance is None or self.glance.empty:
            return []
        row = self.glance.iloc[0]
        items = []
        for k, v in row.items():
            s = _glance_value(str(k), v, self.decimals, self.style)
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
        table = _format_frame(self.tidy, self.decimals, self.style)
        lines.append(table.to_string(index=False))
        if self.ratios is not None:
            lines.append("")
            lines.append(
                f"{RATIO_NAMES.get(self.ratio_name, self.ratio_name)}s ({self.ratio_name})"
            )
            lines.append(
                _format_frame(self.ratios, self.decimals, self.style).to_string(index=False)
            )
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
            table = _format_frame(frame, self.decimals, self.style)
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
        table = _format_frame(self.tidy, self.decimals, self.style)
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
            ratios = _format_frame(self.ratios, self.decimals, self.style)
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
