"""Calendar heat strips: daily drinking and meeting attendance for a few people."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._rng import RNGLike, check_rng
from .._validation import check_columns, check_dataframe, check_positive_int, renamed
from ..disclosure import check_min_cell
from ..errors import DataValidationError

__all__ = ["calendar_strip_data", "plot_calendar_strips", "NOT_SHOWN_NOTE"]

#: what a calendar-strip figure says under disclosure control instead of the strips
NOT_SHOWN_NOTE = (
    "Not shown: calendar strips are individual participants' daily records, which "
    "disclosure control (counts below {min_cell} suppressed) does not allow."
)


@renamed(daily="data")
def calendar_strip_data(
    data: pd.DataFrame,
    id: str = "id",
    day: str = "day",
    drinks: str = "drinks",
    meetings: str | None = "meetings",
    *,
    ids: Sequence[Any] | None = None,
    n: int = 6,
    rng: RNGLike = None,
    min_cell: int | None = None,
) -> pd.DataFrame:
    """Daily values for a few people, de-identified as "Participant 1..k".

    Parameters
    ----------
    data : pandas.DataFrame
        Daily calendar (one row per person and day).
    id, day, drinks, meetings : str
        Columns; ``day`` is the day number since the index date.
    ids : sequence, optional
        People to show; otherwise ``n`` people are drawn at random with ``rng``.
    n : int
        Number of people to draw.
    rng : int or Generator, optional
        Random generator for the draw.
    min_cell : int, optional
        Disclosure control (default none, ``docs/disclosure.md``). Each strip is one
        participant's day-by-day record, a count of one that no threshold can protect,
        so under ``min_cell`` no strip is returned (an empty frame) and
        :func:`plot_calendar_strips` draws only a note saying why.

    Returns
    -------
    pandas.DataFrame
        Columns participant (1..k, not the study id), day, drinks, meeting (bool).

    Examples
    --------
    >>> d = pd.DataFrame({"id": [7, 7, 9, 9], "day": [0, 1, 0, 1],
    ...                   "drinks": [0, 5, 2, 0], "meetings": [1, 0, 0, 0]})
    >>> calendar_strip_data(d, ids=[9])["participant"].unique().tolist()
    [1]
    """
    daily = check_dataframe(data)
    cols = [id, day, drinks] + ([meetings] if meetings else [])
    check_columns(daily, cols, "columns")
    if check_min_cell(min_cell) is not None:
        return pd.DataFrame(
            {"participant": pd.Series(dtype="int64"), "day": pd.Series(dtype=float),
             "drinks": pd.Series(dtype=float), "meeting": pd.Series(dtype=bool)}
        )  # fmt: skip
    all_ids = pd.unique(daily[id])
    if ids is None:
        n = check_positive_int(n, "n")
        gen = check_rng(rng)
        chosen = list(gen.choice(all_ids, size=min(n, len(all_ids)), replace=False))
    else:
        unknown = [i for i in ids if i not in set(all_ids)]
        if unknown:
            raise DataValidationError(
                f"`ids`: {len(unknown)} of the requested ids are not in `data`."
            )
        chosen = list(ids)
    sub = daily.loc[daily[id].isin(chosen), cols]
    order = {pid: k + 1 for k, pid in enumerate(chosen)}
    out = pd.DataFrame(
        {
            "participant": sub[id].map(order).to_numpy(),
            "day": sub[day].to_numpy(),
            "drinks": sub[drinks].to_numpy(float),
            "meeting": (sub[meetings].to_numpy() > 0) if meetings else False,
        }
    )
    return out.sort_values(["participant", "day"]).reset_index(drop=True)


@renamed(daily="data")
def plot_calendar_strips(
    data: pd.DataFrame,
    ax: Any = None,
    *,
    max_drinks: float = 10.0,
    min_cell: int | None = None,
    **kwargs: Any,
) -> Any:
    """Draw one strip per person: colour = standard drinks that day, dot = meeting attended.

    Parameters
    ----------
    data : pandas.DataFrame
        Daily calendar; see :func:`calendar_strip_data` for the column arguments.
    ax : matplotlib Axes, optional
        Axes to draw on.
    max_drinks : float
        Drinks at which the colour scale saturates.
    min_cell : int, optional
        Disclosure control: under ``min_cell`` no individual strip is drawn, only a note
        (see :func:`calendar_strip_data`).
    **kwargs
        Passed to :func:`calendar_strip_data` (``ids``, ``n``, ``rng``, column names).

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    strips = calendar_strip_data(data, min_cell=min_cell, **kwargs)
    if min_cell is not None:
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 1.5))
        ax.text(0.5, 0.5, NOT_SHOWN_NOTE.format(min_cell=min_cell), transform=ax.transAxes,
                ha="center", va="center", fontsize="small", wrap=True)  # fmt: skip
        ax.set_axis_off()
        return ax
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.4 * strips["participant"].nunique() + 1))
    k = int(strips["participant"].max())
    days = np.arange(int(strips["day"].min()), int(strips["day"].max()) + 1)
    grid = np.full((k, len(days)), np.nan)
    grid[strips["participant"].to_numpy() - 1, strips["day"].to_numpy() - days[0]] = strips[
        "drinks"
    ]
    mesh = ax.pcolormesh(
        np.append(days, days[-1] + 1) - 0.5,
        np.arange(k + 1) + 0.5,
        grid,
        cmap="Reds",
        vmin=0,
        vmax=max_drinks,
        shading="flat",
    )
    met = strips[strips["meeting"]]
    ax.plot(
        met["day"],
        met["participant"] + 0.3,
        linestyle="none",
        marker=".",
        markersize=2,
        color="#0072B2",
        label="Meeting attended",
    )
    ax.set_yticks(np.arange(1, k + 1))
    ax.set_yticklabels([f"Participant {i}" for i in range(1, k + 1)])
    ax.set_xlabel("Day since index date")
    ax.invert_yaxis()
    ax.figure.colorbar(mesh, ax=ax, label="Standard drinks", fraction=0.03)
    ax.legend(loc="upper right", fontsize="x-small")
    return ax
