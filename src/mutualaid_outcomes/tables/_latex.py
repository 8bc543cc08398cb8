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
#: row labels longer than this many characters wrap in a column of STUB_WIDTH
STUB_CHARS = 40
STUB_WIDTH = "14em"
#: characters per line of a wrapped column header
HEADER_WIDTH = 16
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
    head = [tex(t.stub_header)] + [f"\\multicolumn{{1}}{{c}}{{{_stacked(c)}}}" for c in t.columns]
    lines.append(" & ".join(head) + " \\\\")
    return lines


def _wrap(text: str, width: int = HEADER_WIDTH) -> list[str]:
    """Greedy word wrap of a column header; "(n = 575)" stays in one piece."""
    words = re.sub(r" (?==|\d|CI\))|(?<==) ", "\u00a0", text).split(" ")
    lines: list[str] = []
    for w in words:
        if lines and len(lines[-1]) + 1 + len(w) <= width:
            lines[-1] += " " + w
        else:
            lines.append(w)
    return [ln.replace("\u00a0", " ") for ln in lines]


def _stacked(text: str) -> str:
    r"""A header set on several centred lines (a nested ``tabular``) when long."""
    lines = _wrap(text)
    if len(lines) == 1:
        return tex(text)
    return "\\begin{tabular}[b]{@{}c@{}}" + " \\\\ ".join(tex(x) for x in lines) + "\\end{tabular}"


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
    wrap = max((len(r[0]) + 3 * r[2] for r in t.rows()), default=0) > STUB_CHARS
    stub = f"p{{{STUB_WIDTH}}}" if wrap else "l"
    lines.append(f"\\begin{{tabular}}{{{stub}{'c' * ncol}}}")
    lines.append("\\toprule")
    lines += _header(t)
    lines.append("\\midrule")
    for i, (label, cells, level) in enumerate(t.rows()):
        lab = "\\raggedright " if wrap else ""
        lab += f"\\hspace*{{{1.2 * level:g}em}}" if level else ""
        lab += tex(label) + _tnote(t.marker(i, -1))
        vals = [tex(c, numeric=True) + _tnote(t.marker(i, j)) for j, c in enumerate(cells)]
        # \raggedright redefines \\ inside the cell; \tabularnewline ends the row
        lines.append(" & ".join([lab, *vals]) + (" \\tabularnewline" if wrap else " \\\\"))
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
