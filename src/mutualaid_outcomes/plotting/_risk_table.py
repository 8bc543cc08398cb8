"""The number-at-risk table under a survival figure (Kaplan-Meier, cumulative incidence).

Drawn as survminer's ``risk.table``: one row per group, labelled with the group's name
in its colour, the counts centred under the x ticks of the curve axes, titled
"Number at risk" (with "(events)" when cumulative events are shown). The table is an
inset axes below the curve axes (``ax.child_axes[0]``), sized in inches so that rows
keep the same height whatever the size of the figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

__all__ = ["draw_risk_table", "ROW_INCHES", "GAP_INCHES"]

#: height of one row of the table, and the gap between the curve axes and the table
#: (room for the tick labels and the x-axis label)
ROW_INCHES = 0.22
GAP_INCHES = 0.85


def draw_risk_table(
    ax: Any,
    risk: pd.DataFrame,
    names: Sequence[str],
    colors: Sequence[str],
    *,
    show_events: bool = False,
) -> Any:
    """Draw ``risk`` (group, label, time, n_risk, n_event) under ``ax``; return the table axes."""
    groups = list(dict.fromkeys(risk["group"]))
    n_rows = len(groups)
    fig = ax.figure
    ax_h = ax.get_position().height * fig.get_figheight()
    height = ROW_INCHES * n_rows / ax_h
    top = -GAP_INCHES / ax_h
    tab = ax.inset_axes([0, top - height, 1, height], sharex=ax)
    for i, g in enumerate(groups):
        rows = risk[risk["group"] == g]
        y = n_rows - i - 0.5
        for _, row in rows.iterrows():
            text = row.get("n_risk_text") or f"{int(row['n_risk'])}"
            if show_events:
                text += f" ({row.get('n_event_text') or int(row['n_event'])})"
            tab.text(
                row["time"],
                y,
                text,
                ha="center",
                va="center_baseline",
                fontsize="small",
                color=colors[i],
                clip_on=False,
            )
    tab.set_ylim(0, n_rows)
    tab.set_yticks([n_rows - i - 0.5 for i in range(n_rows)])
    tab.set_yticklabels(list(names), fontsize="small")
    for tick, color in zip(tab.get_yticklabels(), colors):
        tick.set_color(color)
    tab.tick_params(axis="x", bottom=False, labelbottom=False)
    tab.tick_params(axis="y", left=False, pad=18)
    for side in ("top", "right", "bottom", "left"):
        tab.spines[side].set_visible(False)
    tab.patch.set_visible(False)
    tab.set_title(
        "Number at risk" + (" (events)" if show_events else ""),
        loc="left",
        fontsize="small",
        fontweight="bold",
        pad=2,
    )
    return tab


def risk_table_inches(n_groups: int) -> float:
    """Height (inches) a figure needs below its curve axes for a table of ``n_groups``."""
    return GAP_INCHES + ROW_INCHES * n_groups + 0.35
