"""Survival table: survival at chosen times and the median with its CI per group.

The counterpart of gtsummary's ``tbl_survfit``, built from a
:class:`~mutualaid_outcomes.models.survival.KaplanMeierResult`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._labels import resolve_labels
from .._validation import check_positive_int
from ..disclosure import SUPPRESSED, check_min_cell, hidden_groups
from ..errors import ArgumentTypeError, DataValidationError
from .formatting import format_number, get_style
from .table import Table

if TYPE_CHECKING:
    from ..models.survival.kaplan_meier import KaplanMeierResult

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


def _shown_groups(result: Any, lab: Any, by: Any, min_cell: int | None) -> tuple[list, list]:
    """Groups with at least ``min_cell`` people, and a note naming the others."""
    groups = list(result.groups)
    hidden = hidden_groups(result, min_cell)
    if not hidden:
        return groups, []
    names = ", ".join(lab.value(by, g) if by else str(g) for g in hidden)
    note = f"Not shown (fewer than {min_cell} people): {names}."
    return [g for g in groups if g not in hidden], [note]


def _median_column(
    result: Any, groups: list, min_cell: int | None, decimals: int, st: Any, numbers: list
) -> tuple[list[str], bool]:
    """Median (CI) cells per group; True if any value was suppressed under ``min_cell``."""
    med = result.median_survival()
    shown = result.median_survival(min_cell=min_cell)
    col, hid = [], False
    for g in groups:
        r = med[med["group"] == g].iloc[0]
        r_shown = shown[shown["group"] == g].iloc[0]
        vals = []
        for stat, c in (("median", "median"), ("median_low", "conf_low"),
                        ("median_high", "conf_high")):  # fmt: skip
            if np.isnan(r_shown[c]) and not np.isnan(r[c]):
                numbers.append(dict(group=g, statistic=stat, time=np.nan, value=np.nan))
                vals.append(SUPPRESSED)
                hid = True
                continue
            numbers.append(dict(group=g, statistic=stat, time=np.nan, value=float(r[c])))
            vals.append("NR" if np.isnan(r[c]) else format_number(r[c], decimals, st.minus))
        col.append(_interval(st, *vals))
    return col, hid


def survival_table(
    result: KaplanMeierResult,
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
    min_cell: int | None = None,
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
    min_cell : int, optional
        Disclosure control (default none; the pipeline uses ``output.min_cell``):
        groups with fewer than ``min_cell`` people are left out (named in a note);
        survival at a time when fewer than ``min_cell`` are at risk, and a median or
        limit reached only after the last time with ``min_cell`` at risk, show as
        "suppressed".

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
    min_cell = check_min_cell(min_cell)
    groups, notes = _shown_groups(result, lab, by, min_cell)
    numbers: list[dict[str, Any]] = []
    hid = False
    columns: dict[str, list[str]] = {}
    if tq:
        s = result.survival_at(tq)
        if min_cell is not None:
            few = result.at_risk(tq)["n_risk"].to_numpy() < min_cell
            s.loc[few, ["survival", "std_error", "conf_low", "conf_high"]] = -1.0
        for t in tq:
            col = []
            for g in groups:
                r = s[(s["group"] == g) & (s["time"] == t)].iloc[0]
                for stat in ("survival", "conf_low", "conf_high"):
                    v = float(r[stat])
                    numbers.append(
                        dict(group=g, statistic=stat, time=t, value=np.nan if v < 0 else v)
                    )
                if r["survival"] < 0:
                    col.append(SUPPRESSED)
                    hid = True
                    continue
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
        col, hid_median = _median_column(result, groups, min_cell, decimals, st, numbers)
        hid |= hid_median
        columns[f"Median ({level}% CI), {time_unit}"] = col
    names = [lab.value(by, g) if by else "All participants" for g in groups]
    body = pd.DataFrame(columns, index=names)
    heading: list[int] = []
    indent: dict[int, int] = {}
    if by:
        body = pd.concat([pd.DataFrame([[""] * body.shape[1]], index=[lab.variable(by)],
                                       columns=body.columns), body])  # fmt: skip
        heading, indent = [0], {i + 1: 1 for i in range(len(groups))}
    notes[:0] = [f"Kaplan\u2013Meier estimates with {level}% pointwise confidence intervals "
             f"({result.conf_type} transformation)."]  # fmt: skip
    if median:
        notes.append("NR = not reached.")
    if hid:
        notes.append(
            f"Estimates resting on fewer than {min_cell} people at risk are suppressed "
            "to protect confidentiality."
        )
    return Table(
        body=body, title=title, footnotes=notes, stub_header="Group", indent=indent,
        heading_rows=heading, style=st,
        numbers=pd.DataFrame(numbers, columns=["group", "statistic", "time", "value"]),
    )  # fmt: skip
