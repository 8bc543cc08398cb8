"""Journal formatting presets for numbers, p-values and confidence intervals.

The presets and formatters live in :mod:`mutualaid_outcomes._formatting`, so that
``summary()`` renderings (:mod:`mutualaid_outcomes._summary`) use the same rules as
the tables without importing the table package; they are re-exported here.

Examples
--------
>>> format_p(0.0004, "apa"), format_ci(-0.1234, 0.5, "apa", decimals=2)
('<.001', '[-0.12, 0.50]')
"""

from __future__ import annotations

from .._formatting import (
    JOURNAL_STYLES,
    JournalStyle,
    StyleName,
    format_ci,
    format_number,
    format_p,
    get_style,
)

__all__ = [
    "JournalStyle",
    "JOURNAL_STYLES",
    "StyleName",
    "format_p",
    "format_ci",
    "format_number",
    "get_style",
]
