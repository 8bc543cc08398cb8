"""Attendance and outcome trajectories over waves by group."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._labels import resolve_codebook, value_label, value_labels, variable_label
from .._validation import (
    check_columns,
    check_conf_level,
    check_dataframe,
    check_numeric,
    renamed,
)
from ..disclosure import check_min_cell
from .style import OKABE_ITO

__all__ = ["trajectory_data", "plot_trajectories"]


@renamed(group="by")
def trajectory_data(
    data: pd.DataFrame,
    time: str,
    value: str,
    by: str | None = None,
    *,
    conf_level: float = 0.95,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """Mean of ``value`` at each wave (per group) with a t-based confidence interval.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per person and wave.
    time, value : str
        Wave and measure columns.
    by : str, optional
        Grouping column (e.g. arm).
    conf_level : float
        Confidence level.
    min_cell : int, optional
        Disclosure control (default none, ``docs/disclosure.md``): a mean of fewer than
        ``min_cell`` values is not shown (``n``, ``mean``, ``sd`` and the limits NaN),
        and a group with fewer than ``min_cell`` values at every wave is left out.

    Returns
    -------
    pandas.DataFrame
        Columns group, time, n, mean, sd, conf_low, conf_high (available cases per wave).

    Examples
    --------
    >>> df = pd.DataFrame({"month": [0, 0, 3, 3], "pda": [0.2, 0.4, 0.6, 0.8]})
    >>> trajectory_data(df, "month", "pda")[["time", "n", "mean"]].values.tolist()
    [[0.0, 2.0, 0.3], [3.0, 2.0, 0.7]]
    """
    check_dataframe(data)
    cols = [time, value] + ([by] if by else [])
    check_columns(data, cols, "columns")
    check_numeric(data, [value], "value")
    conf_level = check_conf_level(conf_level)
    df = data[cols].dropna(subset=[value])
    g = df[by] if by else pd.Series("all", index=df.index)
    agg = df.groupby([g, df[time]])[value].agg(["count", "mean", "std"]).reset_index()
    agg.columns = ["group", "time", "n", "mean", "sd"]
    se = agg["sd"] / np.sqrt(agg["n"])
    q = stats.t.ppf(0.5 + conf_level / 2, np.maximum(agg["n"] - 1, 1))
    agg["conf_low"] = agg["mean"] - q * se
    agg["conf_high"] = agg["mean"] + q * se
    agg["n"] = agg["n"].astype(float)
    min_cell = check_min_cell(min_cell)
    if min_cell is not None:
        agg = agg[agg["group"].isin(shown_groups(agg, min_cell))].reset_index(drop=True)
        small = agg["n"] < min_cell
        agg.loc[small, ["n", "mean", "sd", "conf_low", "conf_high"]] = np.nan
    return agg


def shown_groups(traj: pd.DataFrame, min_cell: int | None) -> list[Any]:
    """Groups of a trajectory frame with at least ``min_cell`` values at some wave."""
    largest = traj.groupby("group", sort=False)["n"].max()
    return [g for g, n in largest.items() if min_cell is None or n >= min_cell]


def _hidden_note(full: pd.DataFrame, by: str | None, min_cell: int | None, codebook: Any) -> str:
    """The note naming the groups :func:`trajectory_data` leaves out ("" when none)."""
    shown = shown_groups(full, min_cell)
    hidden = [g for g in dict.fromkeys(full["group"]) if g not in shown]
    if not hidden:
        return ""
    names = [str(g) if by is None else value_label(g, value_labels(codebook, by)) for g in hidden]
    return f"Not shown (fewer than {min_cell} people): {', '.join(names)}."


@renamed(group="by")
def plot_trajectories(
    data: pd.DataFrame,
    time: str,
    value: str,
    by: str | None = None,
    ax: Any = None,
    *,
    conf_level: float = 0.95,
    codebook: Any = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    min_cell: int | None = None,
) -> Any:
    """Plot mean trajectories with confidence intervals by group.

    Axis labels come from ``codebook`` (or the codebook attached to ``data``) when
    not given.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel.
    time, value, by : str
        Columns (``by``: the grouping, optional).
    ax : matplotlib Axes, optional
        Axes to draw on.
    conf_level : float
        Confidence level.
    codebook : Codebook, optional
        Variable and value labels.
    xlabel, ylabel : str, optional
        Axis labels overriding the codebook.
    min_cell : int, optional
        Disclosure control (default none, ``docs/disclosure.md``): means of fewer than
        ``min_cell`` values are not drawn, and groups left out are named in a note
        (see :func:`trajectory_data`).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    traj = trajectory_data(data, time, value, by, conf_level=conf_level, min_cell=min_cell)
    codebook = resolve_codebook(codebook, data)
    note = ""
    if min_cell is not None:
        full = trajectory_data(data, time, value, by, conf_level=conf_level)
        note = _hidden_note(full, by, min_cell, codebook)

    def lab(name: str) -> str:
        return variable_label(codebook, name)

    def vlab(var: str | None, v: Any) -> str:
        return str(v) if var is None else value_label(v, value_labels(codebook, var))

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, (g, s) in enumerate(traj.groupby("group", sort=False)):
        color = OKABE_ITO[i % len(OKABE_ITO)]
        ax.errorbar(
            s["time"]
            + (i - (traj["group"].nunique() - 1) / 2) * 0.08 * max(np.ptp(traj["time"]), 1) / 10,
            s["mean"],
            yerr=[s["mean"] - s["conf_low"], s["conf_high"] - s["mean"]],
            marker="o",
            color=color,
            capsize=2,
            label=vlab(by, g),
        )
    ax.set_xlabel(xlabel or lab(time))
    ax.set_ylabel(ylabel or lab(value))
    if by and len(traj):
        ax.legend(title=lab(by))
    if note:
        ax.text(0.98, 0.98, note, transform=ax.transAxes, ha="right", va="top",
                fontsize="x-small")  # fmt: skip
    return ax
