"""Survival figures: Kaplan-Meier curves with a number-at-risk table, cumulative incidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, renamed
from ..errors import DataValidationError
from .style import OKABE_ITO

__all__ = [
    "km_plot_data",
    "at_risk_table_data",
    "plot_km",
    "cumulative_incidence_data",
    "plot_cumulative_incidence",
]

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


def km_plot_data(result: Any) -> pd.DataFrame:
    """The step curves a Kaplan-Meier figure draws.

    Parameters
    ----------
    result : KaplanMeierResult or DataFrame
        A result from :func:`kaplan_meier` or its ``table`` (columns group, time,
        n_risk, n_event, n_censor, survival, conf_low, conf_high).

    Returns
    -------
    pandas.DataFrame
        Columns group, time, survival, conf_low, conf_high, censored (number censored
        at that time), starting with a row at time 0 with survival 1 for each group.

    Examples
    --------
    >>> tab = pd.DataFrame({"group": "all", "time": [2.0, 5.0], "n_risk": [4, 2],
    ...     "n_event": [1, 1], "n_censor": [1, 0], "survival": [0.75, 0.375],
    ...     "conf_low": [0.4, 0.1], "conf_high": [1.0, 1.0]})
    >>> km_plot_data(tab)["survival"].tolist()
    [1.0, 0.75, 0.375]
    """
    table = _km_table(result)
    parts = []
    for g, sub in table.groupby("group", sort=False):
        sub = sub.sort_values("time")
        start = pd.DataFrame(
            {
                "group": [g],
                "time": [0.0],
                "survival": [1.0],
                "conf_low": [1.0],
                "conf_high": [1.0],
                "censored": [0],
            }
        )
        body = pd.DataFrame(
            {
                "group": g,
                "time": sub["time"].astype(float).to_numpy(),
                "survival": sub["survival"].to_numpy(float),
                "conf_low": sub["conf_low"].to_numpy(float),
                "conf_high": sub["conf_high"].to_numpy(float),
                "censored": sub["n_censor"].to_numpy(int),
            }
        )
        if len(body) and body["time"].iloc[0] == 0:
            body.loc[body.index[0], ["conf_low", "conf_high"]] = body.loc[
                body.index[0], ["conf_low", "conf_high"]
            ].fillna(1.0)
            parts.append(body)
        else:
            parts.append(pd.concat([start, body], ignore_index=True))
    return pd.concat(parts, ignore_index=True)


def at_risk_table_data(result: Any, times: Sequence[float]) -> pd.DataFrame:
    """Number at risk (and cumulative events) at the tick times, per group.

    Uses ``result.at_risk(times)`` when the result provides it; otherwise computes it
    from the table: at risk at ``t`` = at risk at the first time >= t, or the last
    at-risk count minus its events and censorings when ``t`` is beyond the last time.

    Examples
    --------
    >>> tab = pd.DataFrame({"group": "all", "time": [2.0, 5.0], "n_risk": [4, 2],
    ...     "n_event": [1, 1], "n_censor": [1, 1], "survival": [0.75, 0.375],
    ...     "conf_low": [0.4, 0.1], "conf_high": [1.0, 1.0]})
    >>> at_risk_table_data(tab, [0, 3, 6])["n_risk"].tolist()
    [4, 2, 0]
    """
    if hasattr(result, "at_risk"):
        out = result.at_risk(list(times))
        return out.reset_index(drop=True)
    table = _km_table(result)
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


def _median_time(step: pd.DataFrame) -> float:
    below = step[step["survival"] <= 0.5]
    return float(below["time"].iloc[0]) if len(below) else float("nan")


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


@renamed(conf_int="show_ci")
def plot_km(
    result: Any,
    ax: Any = None,
    *,
    times: Sequence[float] | None = None,
    show_ci: bool = True,
    censor_marks: bool = True,
    median_lines: bool = False,
    at_risk: bool = True,
    show_events: bool = False,
    labels: Mapping[Any, str] | None = None,
    xlabel: str = "Days since index date",
    ylabel: str = "Proportion without event",
) -> Any:
    """Kaplan-Meier curves with confidence bands, censor marks and a number-at-risk table.

    Parameters
    ----------
    result : KaplanMeierResult or DataFrame
        See :func:`km_plot_data`.
    ax : matplotlib Axes, optional
        Axes for the curves; the at-risk table is drawn in an inset axes beneath it.
    times : sequence of float, optional
        Tick times for the x axis and the at-risk table; default 6 evenly spaced ticks.
    show_ci, censor_marks, median_lines, at_risk, show_events : bool
        Elements to draw (``show_events`` adds cumulative events in the table).
    labels : mapping, optional
        Group labels (e.g. from the codebook's value labels).
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes
        The curve axes; the table axes is ``ax.child_axes[0]`` when drawn.
    """
    import matplotlib.pyplot as plt

    step = km_plot_data(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    tmax = float(step["time"].max())
    if times is None:
        times = np.linspace(0, tmax, 6).round(0)
    groups = list(dict.fromkeys(step["group"]))
    for i, g in enumerate(groups):
        s = step[step["group"] == g]
        color = OKABE_ITO[i % len(OKABE_ITO)]
        name = (labels or {}).get(g, str(g))
        ax.step(s["time"], s["survival"], where="post", color=color, label=name)
        if show_ci:
            _confidence_band(ax, s, color, 0.15)
        if censor_marks:
            c = s[s["censored"] > 0]
            ax.plot(
                c["time"], c["survival"], linestyle="none", marker="|", color=color, markersize=6
            )
        if median_lines:
            med = _median_time(s)
            if np.isfinite(med):
                ax.plot([0, med], [0.5, 0.5], color="grey", linestyle=":", linewidth=0.8)
                ax.plot([med, med], [0, 0.5], color=color, linestyle=":", linewidth=0.8)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(0, max(tmax, max(times)))
    ax.set_xticks(list(times))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if len(groups) > 1 or labels:
        ax.legend(loc="best")
    if at_risk:
        risk = at_risk_table_data(result, times)
        n_rows = len(groups)
        height = 0.07 * n_rows + 0.05
        tab = ax.inset_axes([0, -0.22 - height, 1, height], sharex=ax)
        for i, g in enumerate(groups):
            r = risk[risk["group"] == g]
            y = n_rows - i - 0.5
            for _, row in r.iterrows():
                text = f"{int(row['n_risk'])}"
                if show_events:
                    text += f" ({int(row['n_event'])})"
                tab.text(
                    row["time"],
                    y,
                    text,
                    ha="center",
                    va="center",
                    fontsize="small",
                    color=OKABE_ITO[i % len(OKABE_ITO)],
                )
        tab.set_ylim(0, n_rows)
        tab.set_yticks([n_rows - i - 0.5 for i in range(n_rows)])
        tab.set_yticklabels([(labels or {}).get(g, str(g)) for g in groups], fontsize="small")
        tab.tick_params(axis="x", bottom=False, labelbottom=False)
        tab.tick_params(axis="y", left=False, pad=14)
        for side in ("top", "right", "bottom", "left"):
            tab.spines[side].set_visible(False)
        tab.set_title(
            "Number at risk" + (" (events)" if show_events else ""), fontsize="small", loc="left"
        )
    return ax


def cumulative_incidence_data(result: Any) -> pd.DataFrame:
    """The curves a cumulative-incidence figure draws.

    ``result`` is a cumulative-incidence result (with a ``table`` frame) or that frame,
    with columns time and cif, and optionally group, cause, conf_low, conf_high.
    A time-0 row with incidence 0 is added to each curve.

    Examples
    --------
    >>> tab = pd.DataFrame({"time": [1.0, 3.0], "cif": [0.1, 0.25]})
    >>> cumulative_incidence_data(tab)["cif"].tolist()
    [0.0, 0.1, 0.25]
    """
    table = getattr(result, "table", result)
    if not isinstance(table, pd.DataFrame):
        raise DataValidationError(
            f"`result` must be a cumulative-incidence result or frame; got {type(result).__name__}."
        )
    check_columns(table, ["time", "cif"], "result.table")
    table = table.copy()
    if "group" not in table:
        table["group"] = "all"
    if "cause" not in table:
        table["cause"] = "event"
    for c in ("conf_low", "conf_high"):
        if c not in table:
            table[c] = np.nan
    parts = []
    for (g, cause), sub in table.groupby(["group", "cause"], sort=False):
        sub = sub.sort_values("time")
        start = pd.DataFrame(
            {
                "group": [g],
                "cause": [cause],
                "time": [0.0],
                "cif": [0.0],
                "conf_low": [0.0],
                "conf_high": [0.0],
            }
        )
        parts.append(
            pd.concat(
                [start, sub[["group", "cause", "time", "cif", "conf_low", "conf_high"]]],
                ignore_index=True,
            )
        )
    return pd.concat(parts, ignore_index=True)


@renamed(conf_int="show_ci")
def plot_cumulative_incidence(
    result: Any,
    ax: Any = None,
    *,
    show_ci: bool = True,
    labels: Mapping[Any, str] | None = None,
    xlabel: str = "Days since index date",
    ylabel: str = "Cumulative incidence",
) -> Any:
    """Draw cumulative incidence curves (Aalen-Johansen) per group and cause.

    Parameters
    ----------
    result : cumulative-incidence result or DataFrame
        See :func:`cumulative_incidence_data`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    show_ci : bool
        Draw confidence bands when the table has limits.
    labels : mapping, optional
        Labels for ``(group, cause)`` pairs or for groups.
    xlabel, ylabel : str
        Axis labels.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    data = cumulative_incidence_data(result)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    styles = ["-", "--", ":", "-."]
    causes = list(dict.fromkeys(data["cause"]))
    groups = list(dict.fromkeys(data["group"]))
    for gi, g in enumerate(groups):
        for ci, cause in enumerate(causes):
            s = data[(data["group"] == g) & (data["cause"] == cause)]
            if s.empty:
                continue
            color = OKABE_ITO[gi % len(OKABE_ITO)]
            lab = (labels or {}).get((g, cause), (labels or {}).get(g, f"{g}: {cause}"))
            ax.step(
                s["time"], s["cif"], where="post", color=color, linestyle=styles[ci % 4], label=lab
            )
            if show_ci and s["conf_low"].notna().any():
                _confidence_band(ax, s, color, 0.12)
    ax.set_ylim(0, 1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return ax
