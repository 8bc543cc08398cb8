"""Cumulative-incidence figures (Aalen-Johansen curves of competing risks).

Curves of each cause per group, with the same round ticks, time units, group names and
colours as the Kaplan-Meier figure (:mod:`.survival`); causes are told apart by line
style and named from the value labels of the event column. Options: Gray's test p-value
for the first cause shown (R cmprsk ``cuminc``), and the number-at-risk table (all
causes) under the curves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._labels import value_label, value_labels
from .._validation import check_columns, check_option, renamed
from ..disclosure import check_min_cell
from ..errors import DataValidationError, OptionError
from ._groups import by_label, check_labels, group_colors, group_names
from ._layout import fit_figure
from ._legend import LEGEND_POSITIONS, LegendPosition, place_legend
from ._risk_table import draw_risk_table
from ._time_axis import check_times, round_time_ticks, time_axis_label, unit_factor
from .survival import (
    _confidence_band,
    _Naming,
    _Units,
    at_risk_table_data,
    hidden_groups,
    hidden_groups_note,
    new_curve_axes,
    p_value_text,
)

if TYPE_CHECKING:
    from ..models.survival._competing_results import CumulativeIncidenceResult

__all__ = ["cumulative_incidence_data", "plot_cumulative_incidence"]

_LINESTYLES: tuple[Literal["-", "--", ":", "-."], ...] = ("-", "--", ":", "-.")


def _table(result: Any) -> pd.DataFrame:
    table = getattr(result, "table", result)
    if not isinstance(table, pd.DataFrame):
        raise DataValidationError(
            f"`result` must be a cumulative-incidence result or frame; got {type(result).__name__}."
        )
    check_columns(table, ["time", "cif"], "result.table")
    return table


def _cause_name(cause: Any, result: Any, labels: Mapping[Any, Any], codebook: Any) -> str:
    event = getattr(result, "event", None)
    given = labels.get(event) if event is not None else None
    if isinstance(given, Mapping):
        return value_label(cause, given)
    vl = value_labels(codebook, event) if event is not None else {}
    return value_label(cause, vl)


def cumulative_incidence_data(
    result: CumulativeIncidenceResult | pd.DataFrame,
    *,
    causes: Sequence[Any] | None = None,
    labels: Mapping[Any, Any] | None = None,
    codebook: Any = None,
    time_unit: str | None = None,
    display_unit: str | None = None,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """The curves a cumulative-incidence figure draws.

    Parameters
    ----------
    result : CumulativeIncidenceResult or DataFrame
        A result of :func:`cumulative_incidence` or its ``table`` (columns time and
        cif, and optionally group, cause, conf_low, conf_high).
    causes : sequence, optional
        Causes to keep, in order; default all.
    labels, codebook : optional
        Names of groups (as in :func:`plot_km`) and causes (value labels of the event
        column: ``{event: {1: "Relapse", 2: "Death"}}`` or the codebook's).
    time_unit, display_unit : str, optional
        Unit of the durations and the unit to show them in.
    min_cell : int, optional
        Disclosure control (default none): groups with fewer than ``min_cell`` people
        are left out and each curve stops at the last time with at least ``min_cell``
        people at risk (needs a result with ``at_risk``, or an ``n_risk`` column).

    Returns
    -------
    pandas.DataFrame
        Columns group, cause, group_label, cause_label, time, cif, conf_low,
        conf_high; each curve starts with a time-0 row with incidence 0 and is carried
        flat to the group's last time in the table.

    Examples
    --------
    >>> tab = pd.DataFrame({"time": [1.0, 3.0], "cif": [0.1, 0.25]})
    >>> cumulative_incidence_data(tab)["cif"].tolist()
    [0.0, 0.1, 0.25]
    """
    labels = check_labels(labels) or {}
    table = _table(result).copy()
    if "group" not in table:
        table["group"] = "all"
    if "cause" not in table:
        table["cause"] = "event"
    for c in ("conf_low", "conf_high"):
        if c not in table:
            table[c] = np.nan
    all_causes = list(getattr(result, "causes", None) or dict.fromkeys(table["cause"]))
    if causes is not None:
        unknown = [c for c in causes if c not in all_causes]
        if unknown:
            raise DataValidationError(f"`causes` {unknown} are not among the causes {all_causes}.")
        all_causes = list(causes)
    groups = list(getattr(result, "groups", None) or dict.fromkeys(table["group"]))
    min_cell = check_min_cell(min_cell)
    if min_cell is not None:
        table = _stop_curves(result, table, min_cell)
        hidden = set(hidden_groups(result, min_cell)) if hasattr(result, "at_risk") else set()
        groups = [g for g in groups if g not in hidden and (table["group"] == g).any()]
    gnames = dict(zip(groups, group_names(groups, getattr(result, "by", None), labels, codebook)))
    factor = unit_factor(time_unit, display_unit)
    parts = []
    for g in groups:
        end = float(table.loc[table["group"] == g, "time"].max())
        for cause in all_causes:
            sub = table[(table["group"] == g) & (table["cause"] == cause)].sort_values("time")
            cols = ["time", "cif", "conf_low", "conf_high"]
            body = sub[cols].astype(float)
            if not len(body) or body["time"].iloc[0] > 0:
                start = pd.DataFrame([[0.0, 0.0, 0.0, 0.0]], columns=cols)
                body = pd.concat([start, body], ignore_index=True)
            if body["time"].iloc[-1] < end:  # flat to the group's last follow-up time
                last = body.iloc[[-1]].assign(time=end)
                body = pd.concat([body, last], ignore_index=True)
            body["time"] *= factor
            body.insert(0, "cause_label", _cause_name(cause, result, labels, codebook))
            body.insert(0, "group_label", gnames[g])
            body.insert(0, "cause", cause)
            body.insert(0, "group", g)
            parts.append(body)
    if not parts:  # every group hidden by min_cell
        columns = ["group", "cause", "group_label", "cause_label", "time", "cif"]
        return pd.DataFrame(columns=columns + ["conf_low", "conf_high"])
    return pd.concat(parts, ignore_index=True)


def _stop_curves(result: Any, table: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Rows of ``table`` with at least ``min_cell`` people at risk."""
    if hasattr(result, "at_risk"):
        parts = []
        for g, sub in table.groupby("group", sort=False):
            risk = result.at_risk(sub["time"].to_numpy(float))
            n = risk.loc[risk["group"] == g, "n_risk"].to_numpy()
            parts.append(sub[n >= min_cell])
        return pd.concat(parts) if parts else table.iloc[:0]
    if "n_risk" not in table:
        raise OptionError(
            "`min_cell` needs a cumulative-incidence result (with `at_risk`) or a table "
            "with an `n_risk` column."
        )
    return table[table["n_risk"] >= min_cell]


def _curve_label(
    g: Any, cause: Any, row: pd.Series, labels: Mapping, one_group: bool, one_cause: bool
) -> str:
    if (g, cause) in labels:
        return str(labels[(g, cause)])
    if one_group:
        return row["cause_label"]
    if one_cause:
        return row["group_label"]
    return f"{row['group_label']}: {row['cause_label']}"


@renamed(conf_int="show_ci")
def plot_cumulative_incidence(
    result: CumulativeIncidenceResult | pd.DataFrame,
    ax: Any = None,
    *,
    causes: Sequence[Any] | None = None,
    times: Sequence[float] | None = None,
    time_unit: str | None = None,
    display_unit: str | None = None,
    show_ci: bool = True,
    at_risk: bool = False,
    pval: bool | float | str = False,
    labels: Mapping[Any, Any] | None = None,
    codebook: Any = None,
    colors: Mapping[Any, str] | None = None,
    xlabel: str | None = None,
    ylabel: str = "Cumulative incidence",
    legend_title: str | None = None,
    legend: LegendPosition = "auto",
    style: str = "apa",
    min_cell: int | None = None,
) -> Any:
    """Draw cumulative incidence curves (Aalen-Johansen) per group and cause.

    Parameters
    ----------
    result : CumulativeIncidenceResult or DataFrame
        See :func:`cumulative_incidence_data`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    causes : sequence, optional
        Causes to draw (e.g. only relapse, with death as the competing risk).
    times, time_unit, display_unit : optional
        Ticks and units, as in :func:`plot_km`.
    show_ci : bool
        Draw confidence bands when the table has limits.
    at_risk : bool
        Number at risk (any cause) under the curves; needs a result with ``at_risk``.
    pval : bool, float or str
        ``True``: Gray's test p-value of the first cause drawn (upper left).
    labels : mapping, optional
        Group names (as in :func:`plot_km`), cause names (``{event: {code: name}}``)
        and whole curve labels keyed by ``(group, cause)``.
    codebook : Codebook, optional
        Value labels of the grouping and event columns.
    colors : mapping, optional
        ``{group or name: colour}``; groups keep the Kaplan-Meier figure's colours.
    xlabel, ylabel, legend_title : str, optional
        Axis labels and legend title.
    legend : {"auto", "inside", "right", "top", "none"}
        Where the legend goes, as in :func:`plot_km` (one legend naming the curves;
        with several groups and several causes two legends beside the plot, colours
        for the groups and line styles for the causes, unless ``"none"``).
    style : {"apa", "jama", "nejm"}
        Journal preset of the p-value format.
    min_cell : int, optional
        Disclosure control (default none): groups with fewer than ``min_cell`` people
        are not drawn (named in a note), curves stop where fewer than ``min_cell``
        remain at risk, and numbers at risk below ``min_cell`` show as ``<min_cell``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence
    >>> df = pd.DataFrame({"t": [5, 12, 20, 33, 41, 58, 60, 75], "status": [1, 2, 1, 0, 1, 2, 1, 0]})
    >>> ci = cumulative_incidence(df, "t", "status")
    >>> ax = plot_cumulative_incidence(ci, labels={"status": {1: "Relapse", 2: "Death"}})
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Relapse', 'Death']
    """
    labels = check_labels(labels) or {}
    legend = check_option(legend, LEGEND_POSITIONS, "legend")
    units: _Units = {"time_unit": time_unit, "display_unit": display_unit}
    min_cell = check_min_cell(min_cell)
    naming: _Naming = {"labels": labels, "codebook": codebook, "min_cell": min_cell}
    data = cumulative_incidence_data(result, causes=causes, **naming, **units)
    groups = list(dict.fromkeys(data["group"]))
    names = [data.loc[data["group"] == g, "group_label"].iloc[0] for g in groups]
    colours = dict(zip(groups, group_colors(groups, names, colors)))
    shown_causes = list(dict.fromkeys(data["cause"]))
    p_text = _gray_p(result, pval, shown_causes[0], style) if shown_causes else None
    ticks = check_times(times)
    tmax = float(data["time"].max()) if len(data) else 1.0  # every group hidden
    unit = display_unit or time_unit
    ticks = ticks if ticks is not None else round_time_ticks(tmax, unit)
    own = ax is None
    if own:
        ax = new_curve_axes(len(groups), at_risk)
    for (g, cause), s in data.groupby(["group", "cause"], sort=False):
        ls = _LINESTYLES[shown_causes.index(cause) % len(_LINESTYLES)]
        lab = _curve_label(g, cause, s.iloc[0], labels, len(groups) == 1, len(shown_causes) == 1)
        ax.step(s["time"], s["cif"], where="post", color=colours[g], linestyle=ls, label=lab)
        if show_ci and s["conf_low"].notna().any():
            _confidence_band(ax, s, colours[g], 0.12)
    top = float(np.nanmax(data[["cif", "conf_high"]].to_numpy(float))) if len(data) else 1.0
    ax.set_ylim(0, 1 if top > 0.6 else min(1.0, np.ceil(top * 10 + 0.5) / 10))
    ax.set_xlim(0, max(tmax, ticks[-1]) * 1.02)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    converted = display_unit not in (None, time_unit)
    duration = getattr(result, "duration", None)
    ax.set_xlabel(time_axis_label(xlabel, duration, unit, converted, labels, codebook))
    ax.set_ylabel(ylabel)
    if p_text:
        ax.text(0.03, 0.95, p_text, transform=ax.transAxes, ha="left", va="top")
    note = ""
    if min_cell is not None and hasattr(result, "at_risk"):
        note = hidden_groups_note(result, min_cell, labels, codebook)
    if note:
        ax.text(0.98, 0.02, note, transform=ax.transAxes, ha="right", va="bottom",
                fontsize="x-small")  # fmt: skip
    title = legend_title or by_label(getattr(result, "by", None), labels, codebook)
    _legends(ax, data, colours, shown_causes, labels, title, legend)
    if at_risk and groups:  # no table when min_cell hides every group
        if not hasattr(result, "at_risk"):
            raise OptionError("`at_risk=True` needs a cumulative-incidence result, not a table.")
        risk = at_risk_table_data(result, ticks, **naming, **units)
        draw_risk_table(ax, risk, names, [colours[g] for g in groups])
    if own:
        fit_figure(ax.figure)
    return ax


def _legends(
    ax: Any,
    data: pd.DataFrame,
    colours: dict,
    causes: list,
    labels: Mapping,
    title: str | None,
    position: str = "auto",
) -> None:
    """One legend when curves differ by group or by cause only; else colour and line style.

    With several groups and several causes (and no whole-curve labels), colours name the
    groups and line styles the causes, in two legends beside the axes.
    """
    groups = list(colours)
    whole = any(isinstance(k, tuple) for k in labels)
    if position == "none":
        return
    if len(groups) == 1 or len(causes) == 1 or whole:
        place_legend(ax, position=position, title=title)
        return
    from matplotlib.lines import Line2D

    first = data.drop_duplicates("group").set_index("group")["group_label"]
    handles = [Line2D([], [], color=colours[g], label=first[g]) for g in groups]
    by_group = ax.legend(
        handles=handles, title=title, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1)
    )
    by_group.set_clip_on(False)  # so that tight layouts count it
    ax.add_artist(by_group)
    names = data.drop_duplicates("cause").set_index("cause")["cause_label"]
    handles = [
        Line2D([], [], color="black", linestyle=_LINESTYLES[i % len(_LINESTYLES)], label=names[c])
        for i, c in enumerate(causes)
    ]
    ax.legend(
        handles=handles, title="Event", frameon=False, loc="upper left", bbox_to_anchor=(1.02, 0.5)
    )


def _gray_p(result: Any, pval: bool | float | str, cause: Any, style: str) -> str | None:
    if pval is False or pval is None:
        return None
    if isinstance(pval, str):
        return pval
    if isinstance(pval, (int, float)) and not isinstance(pval, bool):
        return p_value_text(float(pval), test="Gray's test", style=style)
    if not hasattr(result, "gray_test") or len(getattr(result, "groups", ())) < 2:
        raise OptionError(
            "`pval=True` needs a cumulative-incidence result with at least two groups "
            "(to run Gray's test); otherwise pass the p-value or a text."
        )
    table = result.gray_test().table.set_index("cause")
    return p_value_text(float(table.loc[cause, "p_value"]), test="Gray's test", style=style)
