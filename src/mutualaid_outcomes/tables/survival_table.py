"""Survival table: survival at chosen times and the median with its CI per group.

The counterpart of gtsummary's ``tbl_survfit``, built from a
:class:`~mutualaid_outcomes.models.survival.KaplanMeierResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._labels import resolve_labels
from .._validation import check_positive_int
from ..errors import ArgumentTypeError, DataValidationError
from .formatting import format_number, get_style
from .table import Table

__all__ = ["survival_table"]


def _times(times: Any) -> list[float]:
    try:
        out = [float(t) for t in np.atleast_1d(np.asarray(times, dtype=float))]
    except (TypeError, ValueError) as exc:
        raise ArgumentTypeError(f"`times` must be numbers; got {times!r}.") from exc
    if any(not np.isfinite(t) or t < 0 for t in out):
        raise DataValidationError(f"`times` must be finite and non-negative; got {out}.")
    return out


def _interval(st: Any, est: str, low: str, high: str) -> str:
    ci = st.interval(low, high)
    return f"{est} ({ci})" if st.ci_open == "" else f"{est} {ci}"


def survival_table(
    result: Any,
    times: Sequence[float] = (),
    *,
    median: bool = True,
    time_label: str = "Day",
    time_unit: str = "days",
    decimals: int = 0,
    style: str = "apa",
    labels: Any = None,
    codebook: Any = None,
    title: str = "",
) -> Table:
    """Survival at chosen times and median survival with CIs, one row per group.

    Parameters
    ----------
    result : KaplanMeierResult
        From :func:`~mutualaid_outcomes.kaplan_meier`; its confidence level and
        limit type (log, log-log, plain) are used.
    times : sequence of float
        Follow-up times for the survival columns ("Day 90", ...).
    median : bool
        Add the median survival time with its confidence interval.
    time_label : str
        Word before each time in the column headers ("Day", "Month", "Week").
    time_unit : str
        Unit of the median, for its header ("Median (95% CI), days").
    decimals : int
        Decimals of the survival percentages; the median uses ``decimals`` too.
    style : {"apa", "jama", "nejm"}
        Journal preset for the intervals.
    labels, codebook : optional
        Labels of the grouping variable and of its values.
    title : str
        Caption.

    Returns
    -------
    Table
        Cells "98 [95, 100]" (percent surviving, pointwise CI); "NR" where the
        median or a limit is not reached, "—" beyond a group's last follow-up.
        ``numbers`` holds the full-precision values in long form (group,
        statistic, time, value).

    Raises
    ------
    ArgumentTypeError
        If ``result`` is not a Kaplan-Meier result or ``times`` are not numbers.
    DataValidationError
        If ``times`` is empty while ``median=False``, or a time is negative.

    Notes
    -----
    Survival at ``t`` is the Kaplan-Meier step function at ``t`` (right-continuous)
    with its pointwise interval, as R ``summary(survfit, times = t)``; the median
    and its limits follow ``quantile.survfit``. Checked against R survival 3.5
    (``tests/reference/survival_km.R``).

    Examples
    --------
    >>> from mutualaid_outcomes import kaplan_meier
    >>> df = pd.DataFrame({"t": [5.0, 8, 12, 20, 25, 30], "e": [1, 1, 0, 1, 1, 0],
    ...                    "g": ["a", "a", "a", "b", "b", "b"]})
    >>> t = survival_table(kaplan_meier(df, "t", "e", by="g"), times=[10])
    >>> t.body.columns.tolist()
    ['Day 10, % (95% CI)', 'Median (95% CI), days']
    >>> t.body.iloc[1].tolist()
    ['33 [7, 100]', '8 [5, NR]']
    """
    if not (hasattr(result, "survival_at") and hasattr(result, "median_survival")):
        raise ArgumentTypeError(
            f"`result` must be a Kaplan-Meier result (from kaplan_meier); got "
            f"{type(result).__name__}."
        )
    tq = _times(times)
    if not tq and not median:
        raise DataValidationError("`times` is empty and `median=False`: nothing to show.")
    decimals = check_positive_int(decimals, "decimals", minimum=0)
    st = get_style(style)
    lab = resolve_labels(labels, codebook)
    level = int(round(100 * float(result.conf_level)))
    by = getattr(result, "by", None)
    groups = list(result.groups)
    numbers: list[dict[str, Any]] = []
    columns: dict[str, list[str]] = {}
    if tq:
        s = result.survival_at(tq)
        for t in tq:
            col = []
            for g in groups:
                r = s[(s["group"] == g) & (s["time"] == t)].iloc[0]
                for stat in ("survival", "conf_low", "conf_high"):
                    numbers.append(dict(group=g, statistic=stat, time=t, value=float(r[stat])))
                if np.isnan(r["survival"]):
                    col.append("\u2014")
                    continue
                pct = [format_number(100 * r[c], decimals, st.minus) for c in
                       ("survival", "conf_low", "conf_high")]  # fmt: skip
                col.append(_interval(st, *pct))
            columns[
                f"{time_label} {format_number(t, 0 if t == int(t) else 1)}, % ({level}% CI)"
            ] = col
    if median:
        med = result.median_survival()
        col = []
        for g in groups:
            r = med[med["group"] == g].iloc[0]
            vals = []
            for stat, c in (("median", "median"), ("median_low", "conf_low"),
                            ("median_high", "conf_high")):  # fmt: skip
                numbers.append(dict(group=g, statistic=stat, time=np.nan, value=float(r[c])))
                vals.append("NR" if np.isnan(r[c]) else format_number(r[c], decimals, st.minus))
            col.append(_interval(st, *vals))
        columns[f"Median ({level}% CI), {time_unit}"] = col
    names = [lab.value(by, g) if by else "All participants" for g in groups]
    body = pd.DataFrame(columns, index=names)
    heading: list[int] = []
    indent: dict[int, int] = {}
    if by:
        body = pd.concat([pd.DataFrame([[""] * body.shape[1]], index=[lab.variable(by)],
                                       columns=body.columns), body])  # fmt: skip
        heading, indent = [0], {i + 1: 1 for i in range(len(groups))}
    notes = [f"Kaplan\u2013Meier estimates with {level}% pointwise confidence intervals "
             f"({result.conf_type} transformation)."]  # fmt: skip
    if median:
        notes.append("NR = not reached.")
    return Table(
        body=body, title=title, footnotes=notes, stub_header="Group", indent=indent,
        heading_rows=heading, style=st,
        numbers=pd.DataFrame(numbers, columns=["group", "statistic", "time", "value"]),
    )  # fmt: skip
