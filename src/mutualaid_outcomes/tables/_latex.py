r"""LaTeX renderer of a :class:`~mutualaid_outcomes.tables.Table`.

A ``table`` float holding a ``threeparttable``: the caption without a "Table N."
prefix (LaTeX numbers the table), a booktabs ``tabular`` (``\toprule``,
``\midrule``, ``\bottomrule``; ``\cmidrule`` under spanning headers), level rows
indented with ``\hspace``, note markers as ``\tnote{a}`` and the notes in a
``tablenotes`` list. Needs ``\usepackage{booktabs}`` and
``\usepackage{threeparttable}``; the text compiles with pdflatex (symbols such as
× → ≥ τ² are written as LaTeX commands).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..results import latex_escape

if TYPE_CHECKING:
    from .table import Table

__all__ = ["to_latex", "tex"]

_EXTRA = {
    "\u00a0": "~",
    "\u2011": "-",
    "\u2212": "$-$",
    "\u2013": "--",
    "\u2014": "---",
    "\u2192": r"$\rightarrow$",
    "\u2190": r"$\leftarrow$",
    "\u2265": r"$\geq$",
    "\u2264": r"$\leq$",
    "\u00b1": r"$\pm$",
    "\u2032": r"$'$",
    "\u2009": r"\,",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "\u03b1": r"$\alpha$",
    "\u03b2": r"$\beta$",
    "\u03b8": r"$\theta$",
    "\u03c7": r"$\chi$",
}
_MINUS = re.compile(r"(?<![\w)])-(?=\d|\.\d)")


def tex(text: str, *, numeric: bool = False) -> str:
    r"""Escape text for LaTeX; in ``numeric`` cells a leading ``-`` becomes a minus sign.

    Examples
    --------
    >>> tex("Self-efficacy → PDA"), tex("-0.12 [-0.30, 0.05]", numeric=True)
    ('Self-efficacy $\\rightarrow$ PDA', '$-$0.12 [$-$0.30, 0.05]')
    """
    out = "".join(_EXTRA.get(ch) or latex_escape(ch) for ch in str(text))
    if numeric:
        out = _MINUS.sub("$-$", out)
    return out


def _header(t: Table) -> list[str]:
    ncol = len(t.columns)
    lines = []
    spanners = t.spanners
    if spanners:
        cells = [""]
        rules = []
        j = 0
        for label, first, last in spanners:
            cells += [""] * (first - j)
            width = last - first + 1
            cells.append(f"\\multicolumn{{{width}}}{{c}}{{{tex(label)}}}")
            rules.append(f"\\cmidrule(lr){{{first + 2}-{last + 2}}}")
            j = last + 1
        cells += [""] * (ncol - j)
        lines.append(" & ".join(cells) + " \\\\")
        lines.append(" ".join(rules))
    head = [tex(t.stub_header)] + [f"\\multicolumn{{1}}{{c}}{{{tex(c)}}}" for c in t.columns]
    lines.append(" & ".join(head) + " \\\\")
    return lines


def _tnote(marker: str) -> str:
    return f"\\tnote{{{tex(marker)}}}" if marker else ""


def to_latex(t: Table) -> str:
    """The table as a LaTeX ``table`` float (booktabs + threeparttable)."""
    ncol = len(t.columns)
    _, caption = t.number_and_caption
    lines = [
        "% needs \\usepackage{booktabs} and \\usepackage{threeparttable}",
        "\\begin{table}[htbp]",
        "\\centering",
        "\\begin{threeparttable}",
    ]
    if caption:
        lines.append(f"\\caption{{{tex(caption)}}}")
    lines.append(f"\\begin{{tabular}}{{l{'c' * ncol}}}")
    lines.append("\\toprule")
    lines += _header(t)
    lines.append("\\midrule")
    for i, (label, cells, level) in enumerate(t.rows()):
        lab = f"\\hspace{{{1.2 * level:g}em}}" if level else ""
        lab += tex(label) + _tnote(t.marker(i, -1))
        vals = [tex(c, numeric=True) + _tnote(t.marker(i, j)) for j, c in enumerate(cells)]
        lines.append(" & ".join([lab, *vals]) + " \\\\")
    lines.append("\\bottomrule")
    lines.append("\\end{tabular}")
    notes = t.notes()
    if notes:
        lines.append("\\begin{tablenotes}[flushleft]")
        lines.append("\\footnotesize")
        general = [n for m, n in notes if not m]
        if general and t.style.name == "apa":
            lines.append("\\item \\textit{Note.} " + " ".join(tex(n) for n in general))
        else:
            lines += [f"\\item {tex(n)}" for n in general]
        lines += [f"\\item[{tex(m)}] {tex(n)}" for m, n in notes if m]
        lines.append("\\end{tablenotes}")
    lines.append("\\end{threeparttable}")
    lines.append("\\end{table}")
    return "\n".join(lines) + "\n"
