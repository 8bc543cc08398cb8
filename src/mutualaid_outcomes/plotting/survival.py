"""Kaplan-Meier figures: survival curves, number-at-risk table, medians and log-rank p.

The figure follows survminer's ``ggsurvplot(fit, risk.table = TRUE, pval = TRUE,
surv.median.line = "hv")``: step curves with pointwise confidence bands and censoring
marks ("+"), round x ticks (0, 100, 200 ... days, or 0, 3, 6 ... months with
``display_unit="months"``), a legend titled with the grouping variable's label and
entries from its value labels, the log-rank p-value in the lower left, dashed median
lines, and the number at risk under each tick in a table whose rows are labelled with the
group names. Groups keep the same names and colours as in the other figures (see
:mod:`._groups`). Cumulative-incidence figures are in :mod:`.incidence`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from .._validation import check_columns, check_option, renamed
from ..disclosure import check_min_cell, count_text, hidden_groups, stop_curve
from ..errors import DataValidationError, OptionError
from ._groups import by_label, check_labels, group_colors, group_names
from ._layout import fit_figure
from ._legend import LEGEND_POSITIONS, LegendPosition, place_legend
from ._risk_table import draw_risk_table, risk_table_inches
from ._time_axis import check_times, round_time_ticks, time_axis_label, unit_factor

if TYPE_CHECKING:
    from ..models.survival._competing_results import CumulativeIncidenceResult
    from ..models.survival.kaplan_meier import KaplanMeierResult

__all__ = [
    "km_plot_data",
    "hidden_groups",
    "hidden_groups_note",
    "at_risk_table_data",
    "km_median_data",
    "plot_km",
    "p_value_text",
]


class _Naming(TypedDict):
    """Group-naming options shared by the ``*_data()`` companions."""

    labels: Mapping[Any, Any] | None
    codebook: Any
    min_cell: int | None


class _Units(TypedDict):
    """Time-unit options shared by the ``*_data()`` companions."""

    time_unit: str | None
    display_unit: str | None


_KM_COLUMNS = [
    "group",
    "time",
    "n_risk",
    "n_event",
    "n_censor",
    "survival",
    "conf_low",
    "conf_high",
]


def _km_table(result: Any) -> pd.DataFrame:
    table = getattr(result, "table", result)
    if not isinstance(table, pd.DataFrame):
        raise DataValidationError(
            "`result` must be a Kaplan-Meier result (with a `table` frame) or such a frame; "
            f"got {type(result).__name__}."
        )
    check_columns(table, _KM_COLUMNS, "result.table")
    return table


def _naming(
    result: Any, labels: Any, codebook: Any, min_cell: int | None = None
) -> tuple[list, list[str]]:
    """Groups shown (those with at least ``min_cell`` people) and their names."""
    table = _km_table(result)
    groups = list(getattr(result, "groups", None) or dict.fromkeys(table["group"]))
    hidden = set(hidden_groups(table, min_cell))
    groups = [g for g in groups if g not in hidden]
    return groups, group_names(groups, getattr(result, "by", None), labels, codebook)


def hidden_groups_note(
    result: KaplanMeierResult | CumulativeIncidenceResult | pd.DataFrame,
    min_cell: int | None,
    labels: Any = None,
    codebook: Any = None,
) -> str:
    """The note naming the groups left out under ``min_cell`` ("" when none).

    Examples
    --------
    >>> tab = pd.DataFrame({"group": ["a"] * 2 + ["b"], "time": [1.0, 2, 3],
    ...     "n_risk": [20, 19, 3], "n_event": 1, "n_censor": 0, "survival": 0.9,
    ...     "conf_low": 0.8, "conf_high": 1.0})
    >>> hidden_groups_note(tab, 11)
    'Not shown (fewer than 11 people): b.'
    """
    hidden = hidden_groups(result, min_cell)
    if not hidden:
        return ""
    names = group_names(hidden, getattr(result, "by", None), labels, codebook)
    return f"Not shown (fewer than {min_cell} people): {', '.join(names)}."


def km_plot_data(
    result: KaplanMeierResult | pd.DataFrame,
    *,
    labels: Mapping[Any, Any] | None = None,
    codebook: Any = None,
    time_unit: str | None = None,
    display_unit: str | None = None,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """The step curves a Kaplan-Meier figure draws.

    Parameters
    ----------
    result : KaplanMeierResult or DataFrame
        A result from :func:`kaplan_meier` or its ``table`` (columns group, time,
        n_risk, n_event, n_censor, survival, conf_low, conf_high).
    labels, codebook : optional
        Group names (see :func:`plot_km`).
    time_unit, display_unit : str, optional
        Unit of the durations and the unit to show them in ("days", "weeks",
        "months", "years"); times are converted when both are given.
    min_cell : int, optional
        Disclosure control (default none): groups with fewer than ``min_cell`` people
        are left out, each curve stops at its last time with at least ``min_cell`` at
        risk, and the ``censored`` column is dropped (no censoring marks).

    Returns
    -------
    pandas.DataFrame
        Columns group, label (the group's name), time, survival, conf_low, conf_high,
        censored (number censored at that time; not with ``min_cell``), starting with
        a row at time 0 with survival 1 for each group.

    Examples
    --------
    >>> tab = pd.DataFrame({"group": "all", "time": [2.0, 5.0], "n_risk": [4, 2],
    ...     "n_event": [1, 1], "n_censor": [1, 0], "survival": [0.75, 0.375],
    ...     "conf_low": [0.4, 0.1], "conf_high": [1.0, 1.0]})
    >>> km_plot_data(tab)["survival"].tolist()
    [1.0, 0.75, 0.375]
    """
    table = _km_table(result)
    min_cell = check_min_cell(min_cell)
    factor = unit_factor(time_unit, display_unit)
    groups, names = _naming(result, labels, codebook, min_cell)
    parts = []
    for g, name in zip(groups, names):
        sub = table[table["group"] == g].sort_values("time")
        sub = sub[stop_curve(sub["n_risk"], min_cell)]
        body = pd.DataFrame(
            {
                "group": g,
                "label": name,
                "time": sub["time"].to_numpy(float) * factor,
                "survival": sub["survival"].to_numpy(float),
                "conf_low": sub["conf_low"].to_numpy(float),
                "conf_high": sub["conf_high"].to_numpy(float),
                "censored": sub["n_censor"].to_numpy(int),
            }
        )
        if len(body) and body["time"].iloc[0] == 0:
            first = body.index[0]
            body.loc[first, ["conf_low", "conf_high"]] = body.loc[
                first, ["conf_low", "conf_high"]
            ].fillna(1.0)
        else:
            start = {"group": g, "label": name, "time": 0.0, "survival": 1.0}
            start |= {"conf_low": 1.0, "conf_high": 1.0, "censored": 0}
            body = pd.concat([pd.DataFrame([start]), body], ignore_index=True)
        parts.append(body)
    columns = ["group", "label", "time", "survival", "conf_low", "conf_high", "censored"]
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    return out.drop(columns="censored") if min_cell is not None else out


def at_risk_table_data(
    result: KaplanMeierResult | CumulativeIncidenceResult | pd.DataFrame,
    times: Sequence[float],
    *,
    labels: Mapping[Any, Any] | None = None,
    codebook: Any = None,
    time_unit: str | None = None,
    display_unit: str | None = None,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """Number at risk (and cumulative events) at the tick times, per group.

    Uses ``result.at_risk(times)`` when the result provides it (R ``summary(fit,
    times)``: at risk = follow-up ``>= t``); otherwise computes it from the table: at
    risk at ``t`` = at risk at the first time >= t, or the last at-risk count minus its
    events and censorings when ``t`` is beyond the last time.

    Parameters
    ----------
    result : KaplanMeierResult, cumulative-incidence result or DataFrame
        See :func:`km_plot_data`.
    times : sequence of float
        Times in the display unit.
    labels, codebook, time_unit, display_unit : optional
        As for :func:`km_plot_data`.
    min_cell : int, optional
        Disclosure control (default none): groups with fewer than ``min_cell`` people
        are left out; numbers at risk and cumulative events below ``min_cell`` are
        missing in ``n_risk``/``n_event`` and ``"<min_cell"`` in ``n_risk_text``/
        ``n_event_text``.

    Returns
    -------
    pandas.DataFrame
        Columns group, label (the row label of the table), time (display unit),
        n_risk, n_event, and the texts drawn, n_risk_text and n_event_text.

    Examples
    --------
    >>> tab = pd.DataFrame({"group": "all", "time": [2.0, 5.0], "n_risk": [4, 2],
    ...     "n_event": [1, 1], "n_censor": [1, 1], "survival": [0.75, 0.375],
    ...     "conf_low": [0.4, 0.1], "conf_high": [1.0, 1.0]})
    >>> at_risk_table_data(tab, [0, 3, 6])["n_risk"].tolist()
    [4, 2, 0]
    """
    shown = check_times(times) or []
    factor = unit_factor(time_unit, display_unit)
    data_times = [t / factor for t in shown]
    if hasattr(result, "at_risk"):
        out = result.at_risk(data_times).reset_index(drop=True)
        groups = list(getattr(result, "groups", None) or dict.fromkeys(out["group"]))
    else:
        out = _at_risk_from_table(_km_table(result), data_times)
        groups = list(dict.fromkeys(out["group"]))
    names = group_names(groups, getattr(result, "by", None), labels, codebook)
    out["label"] = out["group"].map(dict(zip(groups, names)))
    # both sources return one block of len(times) rows per group: show the display times
    out["time"] = np.tile(shown, len(out) // max(len(shown), 1))
    return _disclosed_counts(out, result, check_min_cell(min_cell))


def _disclosed_counts(out: pd.DataFrame, result: Any, min_cell: int | None) -> pd.DataFrame:
    """Drop small groups; counts below ``min_cell`` become missing and ``"<min_cell"``."""
    hidden = set(hidden_groups(result, min_cell)) if min_cell is not None else set()
    out = out[~out["group"].isin(hidden)].reset_index(drop=True)
    for c in ("n_risk", "n_event"):
        out[f"{c}_text"] = [count_text(v, min_cell) for v in out[c]]
        if min_cell is not None:
            out[c] = out[c].astype(float).where(out[c] >= min_cell)
    cols = ["group", "label", "time", "n_risk", "n_event", "n_risk_text", "n_event_text"]
    return out[cols]


def _at_risk_from_table(table: pd.DataFrame, times: Sequence[float]) -> pd.DataFrame:
    rows = []
    for g, sub in table.groupby("group", sort=False):
        sub = sub.sort_values("time")
        t = sub["time"].to_numpy(float)
        nr = sub["n_risk"].to_numpy(int)
        ne = sub["n_event"].to_numpy(int)
        nc = sub["n_censor"].to_numpy(int)
        cum_events = np.cumsum(ne)
        for tt in times:
            idx = np.searchsorted(t, tt, side="left")
            n_risk = int(nr[idx]) if idx < len(t) else int(nr[-1] - ne[-1] - nc[-1])
            ev = int(cum_events[np.searchsorted(t, tt, side="right") - 1]) if (t <= tt).any() else 0
            rows.append({"group": g, "time": tt, "n_risk": n_risk, "n_event": ev})
    return pd.DataFrame(rows)


def km_median_data(
    result: KaplanMeierResult | pd.DataFrame,
    *,
    labels: Mapping[Any, Any] | None = None,
    codebook: Any = None,
    time_unit: str | None = None,
    display_unit: str | None = None,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """Median survival per group, as the median lines mark it.

    Uses ``result.median_survival()`` (R ``quantile.survfit``: where the curve is 0.5
    over an interval, its midpoint) when available, otherwise the first time the curve
    reaches 0.5 or below. With ``min_cell`` (default none), groups with fewer than
    ``min_cell`` people are left out and a median or limit reached only where fewer
    than ``min_cell`` remain at risk is NaN.

    Returns
    -------
    pandas.DataFrame
        Columns group, label, median, conf_low, conf_high (display unit; NaN where the
        curve does not reach 0.5).

    Examples
    --------
    >>> tab = pd.DataFrame({"group": "all", "time": [2.0, 5.0], "n_risk": [4, 2],
    ...     "n_event": [1, 1], "n_censor": [1, 0], "survival": [0.75, 0.375],
    ...     "conf_low": [0.4, 0.1], "conf_high": [1.0, 1.0]})
    >>> km_median_data(tab)["median"].tolist()
    [5.0]
    """
    factor = unit_factor(time_unit, display_unit)
    min_cell = check_min_cell(min_cell)
    groups, names = _naming(result, labels, codebook, min_cell)
    if hasattr(result, "median_survival"):
        med = result.median_survival(min_cell=min_cell).set_index("group").reindex(groups)
    else:
        table = _km_table(result)
        rows = {}
        for g in groups:
            keep = table[(table["group"] == g)]
            keep = keep[stop_curve(keep["n_risk"], min_cell)]
            below = keep[keep["survival"] <= 0.5]
            rows[g] = float(below["time"].min()) if len(below) else np.nan
        med = pd.DataFrame({"median": rows, "conf_low": np.nan, "conf_high": np.nan})
    out = pd.DataFrame(
        {
            "group": groups,
            "label": names,
            "median": med["median"].to_numpy(float) * factor,
            "conf_low": med["conf_low"].to_numpy(float) * factor,
            "conf_high": med["conf_high"].to_numpy(float) * factor,
        }
    )
    return out


def p_value_text(p: float, test: str = "Log-rank", style: str = "apa") -> str:
    """Text like "Log-rank p = .042", the p-value formatted by journal preset.

    Examples
    --------
    >>> p_value_text(0.0421), p_value_text(0.00001, style="nejm")
    ('Log-rank $p$ = .042', 'Log-rank $p$ < 0.001')
    """
    from ..tables.formatting import format_p

    text = format_p(p, style)
    rel = "="
    if text[:1] in "<>":
        rel, text = text[0], text[1:]
    return f"{test} $p$ {rel} {text}".strip()


def _pvalue(result: Any, pval: bool | float | str, style: str) -> str | None:
    if pval is False or pval is None:
        return None
    if isinstance(pval, str):
        return pval
    if isinstance(pval, (int, float)) and not isinstance(pval, bool):
        return p_value_text(float(pval), style=style)
    if not hasattr(result, "logrank"):
        raise OptionError(
            "`pval=True` needs a Kaplan-Meier result (to run the log-rank test); with a "
            "table, pass the p-value itself (`pval=0.03`) or a text."
        )
    if len(getattr(result, "groups", ())) < 2:
        raise OptionError("`pval=True` needs at least two groups (a `by` column).")
    return p_value_text(result.logrank().p_value, style=style)


def new_curve_axes(n_rows: int, at_risk: bool) -> Any:
    """A figure with curve axes 4.8 x 3.2 in and room for an at-risk table of ``n_rows``."""
    import matplotlib.pyplot as plt

    width, height = 4.8, 3.2
    extra = risk_table_inches(n_rows) if at_risk else 0.55
    fig = plt.figure(figsize=(width + 1.2, height + extra + 0.25))
    w, h = fig.get_size_inches()
    return fig.add_axes((0.9 / w, extra / h, width / w, height / h))


@renamed(conf_int="show_ci")
def plot_km(
    result: KaplanMeierResult | pd.DataFrame,
    ax: Any = None,
    *,
    times: Sequence[float] | None = None,
    time_unit: str | None = None,
    display_unit: str | None = None,
    show_ci: bool = True,
    censor_marks: bool = True,
    median_lines: bool = False,
    at_risk: bool = True,
    show_events: bool = False,
    pval: bool | float | str = False,
    labels: Mapping[Any, Any] | None = None,
    codebook: Any = None,
    colors: Mapping[Any, str] | None = None,
    xlabel: str | None = None,
    ylabel: str = "Proportion without event",
    legend_title: str | None = None,
    legend: LegendPosition = "auto",
    style: str = "apa",
    min_cell: int | None = None,
) -> Any:
    """Kaplan-Meier curves with confidence bands, censoring marks and a number-at-risk table.

    Parameters
    ----------
    result : KaplanMeierResult or DataFrame
        See :func:`km_plot_data`.
    ax : matplotlib Axes, optional
        Axes for the curves; the at-risk table is drawn in an inset axes beneath it. A
        new figure sized for the curves and the table is made when omitted.
    times : sequence of float, optional
        Tick times (display unit) for the x axis and the at-risk table; default round
        steps from 0 (0, 100, 200 ... days; 0, 3, 6 ... months).
    time_unit : {"days", "weeks", "months", "years"}, optional
        Unit of the durations (shown in the default axis label).
    display_unit : {"days", "weeks", "months", "years"}, optional
        Unit to show the times in (converted from ``time_unit``), as survminer's
        ``xscale``.
    show_ci, censor_marks, at_risk, show_events : bool
        Elements to draw (``show_events`` adds cumulative events in the table).
    median_lines : bool
        Dashed lines at survival 0.5 and down from each group's median
        (survminer ``surv.median.line = "hv"``); see :func:`km_median_data`.
    pval : bool, float or str
        ``True``: the log-rank p-value (R ``survdiff``) in the lower left; a number or
        a text is shown as given.
    labels : mapping, optional
        Group names: ``{group: name}`` or ``{by: {group: name}}``; also the variable
        labels of the grouping and duration columns (``{by: "Treatment arm"}``).
    codebook : Codebook, optional
        Value labels of the ``by`` column name the groups (a legend shows "Female"
        rather than 1); variable labels give the legend title and the x-axis label.
    colors : mapping, optional
        ``{group or name: colour}``; default the Okabe-Ito palette in group order.
    xlabel : str, optional
        Default: the duration's label from the codebook, else "Time (unit)".
    ylabel : str
        Y-axis label.
    legend_title : str, optional
        Default the label of the ``by`` column.
    legend : {"auto", "inside", "right", "top", "none"}
        Where the legend goes. ``"auto"``: inside the plot area when there are at most
        three groups and it then covers no curve and no text, else beside the plot
        (survminer puts its legend outside, ``legend = "top"``/``"right"``); see
        :mod:`mutualaid_outcomes.plotting._legend`.
    style : {"apa", "jama", "nejm"}
        Journal preset of the p-value format.
    min_cell : int, optional
        Disclosure control (default none; the pipeline uses ``output.min_cell``):
        groups with fewer than ``min_cell`` people are not drawn (named in a note in
        the upper right), curves stop where fewer than ``min_cell`` remain at risk, no
        censoring marks are drawn, numbers at risk below ``min_cell`` show as
        ``<min_cell`` and medians reached after the stop are not marked.

    Returns
    -------
    matplotlib.axes.Axes
        The curve axes; the table axes is ``ax.child_axes[0]`` when drawn.

    Raises
    ------
    OptionError
        Unknown units or ``legend`` position, or ``pval=True`` without a result that
        can run the test.
    DataValidationError
        Negative or decreasing ``times``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survival.kaplan_meier import kaplan_meier
    >>> df = pd.DataFrame({"t": [20, 35, 60, 90, 120, 150, 40, 80], "e": [1, 1, 0, 1, 1, 0, 1, 1],
    ...                    "sex": [0, 1, 0, 1, 0, 1, 0, 1]})
    >>> km = kaplan_meier(df, "t", "e", by="sex")
    >>> ax = plot_km(km, labels={"sex": {0: "Male", 1: "Female"}}, pval=True)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Male', 'Female']
    >>> [int(t) for t in ax.get_xticks()]
    [0, 50, 100, 150]
    """
    labels = check_labels(labels)
    legend = check_option(legend, LEGEND_POSITIONS, "legend")
    units: _Units = {"time_unit": time_unit, "display_unit": display_unit}
    min_cell = check_min_cell(min_cell)
    naming: _Naming = {"labels": labels, "codebook": codebook, "min_cell": min_cell}
    step = km_plot_data(result, **naming, **units)
    censor_marks = censor_marks and min_cell is None
    groups = list(dict.fromkeys(step["group"]))
    names = [step.loc[step["group"] == g, "label"].iloc[0] for g in groups]
    colours = group_colors(groups, names, colors)
    p_text = _pvalue(result, pval, style)
    ticks = check_times(times)
    tmax = float(step["time"].max()) if len(step) else 1.0  # every group hidden
    unit = display_unit or time_unit
    if ticks is None:
        ticks = round_time_ticks(tmax, unit)
    own = ax is None
    if own:
        ax = new_curve_axes(len(groups), at_risk)
    for g, name, color in zip(groups, names, colours):
        s = step[step["group"] == g]
        ax.step(s["time"], s["survival"], where="post", color=color, label=name)
        if show_ci:
            _confidence_band(ax, s, color, 0.15)
        if censor_marks:
            c = s[s["censored"] > 0]
            ax.plot(c["time"], c["survival"], "+", color=color, markersize=5, linestyle="none")
    if median_lines:
        _median_lines(ax, km_median_data(result, **naming, **units))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(tmax, ticks[-1]) * 1.02)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlabel(
        time_axis_label(
            xlabel,
            getattr(result, "duration", None),
            unit,
            display_unit not in (None, time_unit),
            labels,
            codebook,
        )
    )
    ax.set_ylabel(ylabel)
    if p_text:
        ax.text(0.03, 0.05, p_text, transform=ax.transAxes, ha="left", va="bottom")
    note = hidden_groups_note(result, min_cell, labels, codebook)
    if note:
        ax.text(0.98, 0.98, note, transform=ax.transAxes, ha="right", va="top",
                fontsize="x-small")  # fmt: skip
    title = legend_title or by_label(getattr(result, "by", None), labels, codebook)
    place_legend(ax, position=legend if len(groups) > 1 or labels else "none", title=title)
    if at_risk and groups:  # no table when min_cell hides every group
        risk = at_risk_table_data(result, ticks, **naming, **units)
        draw_risk_table(ax, risk, names, colours, show_events=show_events)
    if own:
        fit_figure(ax.figure)
    return ax


def _median_lines(ax: Any, med: pd.DataFrame) -> None:
    found = med[np.isfinite(med["median"])]
    if found.empty:
        return
    line = {"color": "grey", "linestyle": "--", "linewidth": 0.8, "zorder": 1}
    ax.plot([0, float(found["median"].max())], [0.5, 0.5], **line)
    for m in found["median"]:
        ax.plot([m, m], [0, 0.5], **line)


def _confidence_band(ax: Any, curve: pd.DataFrame, color: str, alpha: float) -> None:
    """Shade a step curve's pointwise limits (``conf_low``, ``conf_high``)."""
    ax.fill_between(
        curve["time"],
        curve["conf_low"],
        curve["conf_high"],
        step="post",
        color=color,
        alpha=alpha,
        linewidth=0,
    )
