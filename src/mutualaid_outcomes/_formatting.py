"""Journal formatting presets for numbers, p-values and confidence intervals.

Presets follow the journals' author instructions:

* ``"apa"`` (APA 7th ed., used by *Addiction*, *Psychology of Addictive Behaviors*):
  no leading zero for p, exact p to three decimals, ``< .001`` below; CIs in square
  brackets, ``[0.12, 0.34]``.
* ``"jama"`` (AMA Manual of Style): no leading zero for p; two decimals when
  p >= .01, three when .001 <= p < .01, ``<.001`` below; CIs as ``0.12 to 0.34``.
* ``"nejm"`` (NEJM): leading zero; two decimals when p >= 0.01, three between 0.001
  and 0.01, ``<0.001`` below; CIs as ``0.12 to 0.34``.

Examples
--------
>>> format_p(0.0004, "apa"), format_p(0.0312, "jama"), format_p(0.0312, "nejm")
('<.001', '.03', '0.03')
>>> format_ci(-0.1234, 0.5, "apa", decimals=2)
'[-0.12, 0.50]'
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from ._validation import check_option

__all__ = ["JournalStyle", "JOURNAL_STYLES", "format_p", "format_ci", "format_number", "get_style"]

StyleName = Literal["apa", "jama", "nejm"]


@dataclass(frozen=True)
class JournalStyle:
    """How a journal formats p-values and intervals.

    Attributes
    ----------
    name : str
        Preset name.
    p_leading_zero : bool
        Print ``0.03`` (True) or ``.03`` (False).
    p_exact_digits : int
        Decimals for p at or above 0.01.
    p_small_digits : int
        Decimals for 0.001 <= p < 0.01.
    ci_open, ci_sep, ci_close : str
        Interval punctuation.
    minus : str
        Character for negative numbers.
    count_label, mean_label, median_label : str
        How Table 1 names its statistics: ``n (%)``, ``M (SD)``, ``Mdn [Q1, Q3]``
        (APA); ``No. (%)``, ``Mean (SD)``, ``Median (IQR)`` (AMA); ``no. (%)``,
        ``mean (SD)``, ``median (IQR)`` (NEJM).
    table_font_size : float
        Point size of the table text in Word output (notes one point smaller): 10
        for APA, 9 for AMA and NEJM, whose typeset tables are set smaller than the
        text.
    proportion_decimals : int
        Fewest decimals for means, SDs and quartiles of a proportion (a variable in
        [0, 1]) in Table 1: 2, as APA 7 (6.36) and the AMA Manual give proportions
        to two decimals.
    """

    name: str
    p_leading_zero: bool
    p_exact_digits: int
    p_small_digits: int
    ci_open: str
    ci_sep: str
    ci_close: str
    minus: str = "-"
    count_label: str = "n (%)"
    mean_label: str = "M (SD)"
    median_label: str = "Mdn [Q1, Q3]"
    table_font_size: float = 10.0
    proportion_decimals: int = 2

    def interval(self, low: str, high: str) -> str:
        """Two formatted limits joined in the journal's interval style."""
        return f"{self.ci_open}{low}{self.ci_sep}{high}{self.ci_close}"


JOURNAL_STYLES: dict[str, JournalStyle] = {
    "apa": JournalStyle("apa", False, 3, 3, "[", ", ", "]"),
    "jama": JournalStyle(
        "jama",
        False,
        2,
        3,
        "",
        " to ",
        "",
        "-",
        "No. (%)",
        "Mean (SD)",
        "Median (IQR)",
        table_font_size=9.0,
    ),
    "nejm": JournalStyle(
        "nejm",
        True,
        2,
        3,
        "",
        " to ",
        "",
        "-",
        "no. (%)",
        "mean (SD)",
        "median (IQR)",
        table_font_size=9.0,
    ),
}


def get_style(style: str | JournalStyle) -> JournalStyle:
    """Return a :class:`JournalStyle` from a preset name or a style object.

    Examples
    --------
    >>> get_style("nejm").p_leading_zero
    True
    """
    if isinstance(style, JournalStyle):
        return style
    check_option(style, tuple(JOURNAL_STYLES), "style")
    return JOURNAL_STYLES[style]


def format_number(x: float, decimals: int = 2, minus: str = "-") -> str:
    """Format a number with fixed decimals; missing values become an empty string.

    Rounds half away from zero on the shortest decimal representation of the
    number (``0.25`` -> ``0.3``, as readers and journals expect), not half-to-even.

    Examples
    --------
    >>> format_number(3.14159, 3), format_number(0.25, 1), format_number(float("nan"))
    ('3.142', '0.3', '')
    """
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    x = float(x)
    if math.isinf(x):
        return "inf" if x > 0 else minus + "inf"
    quantum = Decimal(1).scaleb(-decimals)
    text = f"{Decimal(repr(x)).quantize(quantum, rounding=ROUND_HALF_UP):f}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", minus)


def format_p(p: float, style: str | JournalStyle = "apa") -> str:
    """Format a p-value following a journal preset.

    Examples
    --------
    >>> format_p(0.0049, "apa"), format_p(0.0049, "jama"), format_p(0.51, "nejm")
    ('.005', '.005', '0.51')
    """
    st = get_style(style)
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return ""
    p = float(p)
    if p < 0.001:
        text = "<0.001"
    else:
        digits = st.p_exact_digits if p >= 0.01 else st.p_small_digits
        text = f"{p:.{digits}f}"
        if float(text) >= 1:
            text = ">" + f"{1 - 10**-digits:.{digits}f}"
    if not st.p_leading_zero:
        text = text.replace("0.", ".", 1)
    return text


def format_ci(lo: float, hi: float, style: str | JournalStyle = "apa", decimals: int = 2) -> str:
    """Format a confidence interval following a journal preset.

    Examples
    --------
    >>> format_ci(0.1, 0.25, "jama")
    '0.10 to 0.25'
    """
    st = get_style(style)
    a = format_number(lo, decimals, st.minus)
    b = format_number(hi, decimals, st.minus)
    if not a and not b:
        return ""
    return f"{st.ci_open}{a}{st.ci_sep}{b}{st.ci_close}"
