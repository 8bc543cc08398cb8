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
    return agg


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

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    traj = trajectory_data(data, time, value, by, conf_level=conf_level)
    codebook = resolve_codebook(codebook, data)

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
    if by:
        ax.legend(title=lab(by))
    return ax
