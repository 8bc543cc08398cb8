"""Participation coding: meeting attendance, daily calendars, attendance patterns, relapse.

Examples
--------
>>> from mutualaid_outcomes.participation import FREQUENCY_TO_MONTHLY
>>> round(FREQUENCY_TO_MONTHLY["2-3 times a week"], 2)
10.87
"""

from __future__ import annotations

from .attendance import DAYS_PER_MONTH, DOSE_BANDS, FREQUENCY_TO_MONTHLY, code_attendance
from .calendar import CALENDAR_COLUMNS, summarize_calendar
from .patterns import PATTERN_LABELS, PatternRules, attendance_patterns
from .relapse import RELAPSE_DEFINITIONS, relapse_times

__all__ = [
    "code_attendance",
    "DAYS_PER_MONTH",
    "DOSE_BANDS",
    "FREQUENCY_TO_MONTHLY",
    "summarize_calendar",
    "CALENDAR_COLUMNS",
    "attendance_patterns",
    "PatternRules",
    "PATTERN_LABELS",
    "relapse_times",
    "RELAPSE_DEFINITIONS",
]
