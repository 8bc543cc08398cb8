"""Disclosure control for Kaplan-Meier estimates (``min_cell``).

The rule of :mod:`mutualaid_outcomes.disclosure` applied to survival curves: a group
with fewer than ``min_cell`` people is not shown; a curve stops at the last time with
at least ``min_cell`` people at risk; a quantile (the median included) or a limit that
the curve reaches only after that time is suppressed (NaN), because it would be the
event time of one of the few people left.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["group_sizes", "small_groups", "last_shown_time", "suppress_quantiles"]


def group_sizes(table: pd.DataFrame) -> dict[Any, int]:
    """People in each group: the number at risk at the group's first time."""
    first = table.sort_values("time").groupby("group", sort=False)["n_risk"].first()
    return {g: int(n) for g, n in first.items()}


def small_groups(table: pd.DataFrame, min_cell: int | None) -> list[Any]:
    """Groups with fewer than ``min_cell`` people (none when ``min_cell`` is None)."""
    if min_cell is None:
        return []
    return [g for g, n in group_sizes(table).items() if n < min_cell]


def last_shown_time(table: pd.DataFrame, group: Any, min_cell: int) -> float:
    """Last time of ``group`` with at least ``min_cell`` at risk (-inf if none)."""
    sub = table[(table["group"] == group) & (table["n_risk"] >= min_cell)]
    return float(sub["time"].max()) if len(sub) else -np.inf


def suppress_quantiles(
    q: pd.DataFrame, table: pd.DataFrame, min_cell: int | None, columns: tuple[str, ...]
) -> pd.DataFrame:
    """Set to NaN the ``columns`` of ``q`` (per ``group``) not shown under ``min_cell``.

    A value is kept only if the group has at least ``min_cell`` people and the value
    is at or before the group's :func:`last_shown_time`.
    """
    if min_cell is None:
        return q
    out = q.copy()
    small = set(small_groups(table, min_cell))
    for g in dict.fromkeys(out["group"]):
        rows = out["group"] == g
        limit = -np.inf if g in small else last_shown_time(table, g, min_cell)
        for c in columns:
            vals = out.loc[rows, c].astype(float)
            out.loc[rows, c] = vals.where(vals <= limit)
    return out
