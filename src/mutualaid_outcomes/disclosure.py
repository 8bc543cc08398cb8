"""Disclosure control: one rule for small counts in every table, figure and file.

The rule (``min_cell``, default 11 in the pipeline, off in the Python API unless given):

* **Primary suppression.** A count below ``min_cell``, zero included, is not shown:
  cell counts, group sizes, numbers at risk, cumulative events, missing counts and the
  ``n`` of a model or a summary. It is written ``<min_cell`` (``"<11"``).
* **Complementary (secondary) suppression.** A count table is checked together with
  its margins: each row adds up to its total (a group's ``n``, shown in the header) and,
  when an overall column is shown, each level of the overall column is the sum of the
  groups. Wherever a relation has exactly one suppressed entry (so it could be
  recovered by subtraction), the smallest other entry of that relation is suppressed
  too (written ``"suppressed"``), repeatedly until no relation has a single
  suppressed entry. See :func:`suppress_counts`.
* **Summaries of small groups.** Means, SDs, medians, quartiles and percentages of a
  group with fewer than ``min_cell`` people are suppressed with the group.

Survival figures and tables apply the same threshold to people at risk (see
:func:`stop_curve`); model tables name factor levels held by fewer than ``min_cell``
people in a note (:func:`small_levels`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from ._validation import check_positive_int

if TYPE_CHECKING:
    from .models.survival._competing_results import CumulativeIncidenceResult
    from .models.survival.kaplan_meier import KaplanMeierResult

__all__ = [
    "check_min_cell",
    "is_small",
    "small_text",
    "count_text",
    "suppress_counts",
    "suppress_frame",
    "stop_curve",
    "suppress_text",
    "small_levels",
    "hidden_groups",
    "hidden_classes",
    "SUPPRESSED",
    "COUNT_COLUMNS",
]

#: text of a cell hidden by complementary suppression
SUPPRESSED = "suppressed"

#: columns of tidy/glance frames that hold counts of people or events
COUNT_COLUMNS = (
    "n",
    "nobs",
    "n_obs",
    "n_dropped",
    "n_events",
    "n_event",
    "n_risk",
    "n_censor",
    "n_clusters",
    "n_complete",
    "n_missing",
)


def check_min_cell(min_cell: Any) -> int | None:
    """Validate ``min_cell``: None (no suppression) or a whole number of at least 2.

    Examples
    --------
    >>> check_min_cell(11), check_min_cell(None)
    (11, None)
    """
    if min_cell is None:
        return None
    return check_positive_int(min_cell, "min_cell", minimum=2)


def is_small(count: Any, min_cell: int | None) -> bool:
    """True when ``count`` is below ``min_cell`` (never when ``min_cell`` is None).

    Examples
    --------
    >>> is_small(0, 11), is_small(11, 11), is_small(3, None)
    (True, False, False)
    """
    if min_cell is None or count is None:
        return False
    try:
        value = float(count)
    except (TypeError, ValueError):
        return False
    return bool(np.isfinite(value) and value < min_cell)


def small_text(min_cell: int) -> str:
    """How a count below ``min_cell`` is written.

    Examples
    --------
    >>> small_text(11)
    '<11'
    """
    return f"<{min_cell}"


def count_text(count: Any, min_cell: int | None) -> str:
    """A count as text: the number, or ``<min_cell`` when it is below the threshold.

    Examples
    --------
    >>> count_text(25, 11), count_text(3, 11), count_text(3, None)
    ('25', '<11', '3')
    """
    if is_small(count, min_cell):
        return small_text(int(min_cell))  # type: ignore[arg-type]
    return str(int(count))


def _fill_one(mask: np.ndarray, values: np.ndarray) -> bool:
    """If exactly one entry is masked, mask the smallest other one; True if changed."""
    if mask.sum() != 1 or len(mask) < 2:
        return False
    cand = np.where(~mask)[0]
    if not len(cand):
        return False
    mask[cand[np.argmin(values[cand])]] = True
    return True


def suppress_counts(
    counts: Any,
    min_cell: int,
    *,
    has_total: bool = False,
    totals: Sequence[int] | np.ndarray | None = None,
    suppressed: Any = None,
) -> np.ndarray:
    """Cells to suppress in a count table (primary and complementary suppression).

    Parameters
    ----------
    counts : array-like of int, shape (k, L)
        One row per column of the displayed table (the overall column first when
        ``has_total``), one column per level. Levels that are not displayed but can be
        inferred (the "no" of a yes/no row, the missing count) belong in it too.
    min_cell : int
        Counts below it (zero included) are suppressed.
    has_total : bool
        The first row is the overall column: along each level it is the sum of the
        other rows.
    totals : sequence of int, optional
        The total of each row (a group's ``n`` in the header). When given, the totals
        take part as an extra level column, so a group's size is suppressed when
        small and protected like any other cell; the returned mask then has ``L + 1``
        columns, the last for the totals.
    suppressed : array-like of bool, optional
        Cells already suppressed (e.g. totals suppressed by another variable of the
        same table); same shape as the returned mask.

    Returns
    -------
    numpy.ndarray of bool
        True for the cells to hide.

    Notes
    -----
    The algorithm: mark every count below ``min_cell``; then, until nothing changes,
    for each row (which adds up to its total) and, with ``has_total``, each column
    (the overall entry is the sum of the groups' entries), where exactly one entry is
    marked, mark the smallest unmarked other entry. When ``totals`` are given, the
    row relation holds among the row's levels and its total, so a row whose total is
    marked needs a second marked level. The result leaves no relation with a single
    unknown, so no suppressed count can be recovered by one subtraction from totals
    or other cells. It is not an optimal (minimum-loss) suppression pattern.

    Examples
    --------
    >>> suppress_counts([[19, 30], [6, 10], [13, 20]], 11, has_total=True).astype(int)
    array([[0, 0],
           [1, 1],
           [1, 1]])
    >>> suppress_counts([[40, 12], [3, 30]], 11).astype(int)
    array([[0, 0],
           [1, 1]])
    """
    table = np.asarray(counts, dtype=float)
    if table.ndim != 2:
        table = np.atleast_2d(table)
    if totals is not None:
        table = np.column_stack([table, np.asarray(totals, dtype=float)])
    mask = table < min_cell
    if suppressed is not None:
        mask |= np.asarray(suppressed, dtype=bool)
    changed = True
    while changed:
        changed = False
        if table.shape[1] > 1:
            for g in range(table.shape[0]):
                row = mask[g].copy()
                if _fill_one(row, table[g]):
                    mask[g] = row
                    changed = True
        if has_total and table.shape[0] > 1:
            for lv in range(table.shape[1]):
                col = mask[:, lv].copy()
                if _fill_one(col, table[:, lv]):
                    mask[:, lv] = col
                    changed = True
    return mask


def suppress_frame(
    frame: pd.DataFrame, min_cell: int | None, columns: Iterable[str] = COUNT_COLUMNS
) -> pd.DataFrame:
    """A copy of ``frame`` with counts from 1 to ``min_cell - 1`` in ``columns`` set to missing.

    A zero stays: in a model-level summary "0 rows dropped" or "0 clusters" says
    nothing about any person (unlike a zero cell of a group in Table 1). Used for the ``tidy()``/``glance()`` files a run writes: a model fitted on fewer
    than ``min_cell`` people, or with fewer than ``min_cell`` events or dropped rows,
    does not publish those counts.

    Examples
    --------
    >>> suppress_frame(pd.DataFrame({"n": [8, 120], "x": [1.0, 2.0]}), 11)["n"].tolist()
    [nan, 120.0]
    """
    out = frame.copy()
    if min_cell is None:
        return out
    for c in columns:
        if c in out.columns:
            values = pd.to_numeric(out[c], errors="coerce")
            small = values.notna() & (values > 0) & (values < min_cell)
            if small.any():
                out[c] = values.astype(float).where(~small)
    return out


def stop_curve(n_risk: Any, min_cell: int | None) -> np.ndarray:
    """Rows of a survival table to keep: those with at least ``min_cell`` at risk.

    A curve stops at the last time with ``min_cell`` or more people at risk, so no step
    shows the event of one of fewer than ``min_cell`` remaining people.

    Examples
    --------
    >>> stop_curve([30, 20, 12, 9, 4], 11).tolist()
    [True, True, True, False, False]
    """
    n = np.asarray(n_risk, dtype=float)
    if min_cell is None:
        return np.ones(n.shape, dtype=bool)
    return n >= min_cell


def small_levels(
    data: pd.DataFrame, columns: Iterable[str], min_cell: int | None
) -> list[tuple[str, Any, int]]:
    """Levels of categorical columns held by fewer than ``min_cell`` rows.

    Only non-numeric, boolean or categorical columns (the factors of a model) are
    checked. Returns ``(column, level, count)`` triples; the count is for the caller's
    own checks and is never printed.

    Examples
    --------
    >>> df = pd.DataFrame({"f": ["AA"] * 20 + ["CA"] * 3})
    >>> [(c, lv) for c, lv, _ in small_levels(df, ["f"], 11)]
    [('f', 'CA')]
    """
    if min_cell is None:
        return []
    out = []
    for c in columns:
        if c not in data.columns:
            continue
        s = data[c]
        factor = (
            isinstance(s.dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(s)
            or not pd.api.types.is_numeric_dtype(s)
        )
        if not factor:
            continue
        for level, n in s.value_counts(dropna=True, sort=False).items():
            if 0 < n < min_cell:
                out.append((str(c), level, int(n)))
    return out


_COUNTED = re.compile(
    r"\b(\d+)(?=\s+(?:of\s+\d+\s+)?(?:rows?|participants?|people|persons?|observations?|"
    r"events?|clusters?|subjects?|cases?|records?|values?)\b)",
    re.IGNORECASE,
)


def suppress_text(text: str, min_cell: int | None) -> str:
    """A note or message with counts of people or rows below ``min_cell`` replaced.

    Catches the counts that notes and warnings write as "3 rows", "2 participants",
    "4 events" (numbers followed by a word for people, rows or events).

    Examples
    --------
    >>> suppress_text("3 rows with missing values were dropped; 120 rows used.", 11)
    '<11 rows with missing values were dropped; 120 rows used.'
    """
    if min_cell is None:
        return text

    def repl(m: re.Match[str]) -> str:
        return count_text(int(m.group(1)), min_cell)

    return _COUNTED.sub(repl, text)


def hidden_groups(
    result: KaplanMeierResult | CumulativeIncidenceResult | pd.DataFrame, min_cell: int | None
) -> list[Any]:
    """Groups of a survival result with fewer than ``min_cell`` people.

    Sizes come from ``result.at_risk([0])`` when the result has it (Kaplan-Meier and
    cumulative-incidence results), else from the first ``n_risk`` of each group in a
    Kaplan-Meier ``table`` (or such a frame).

    Examples
    --------
    >>> tab = pd.DataFrame({"group": ["a", "a", "b"], "time": [1.0, 2, 3],
    ...                     "n_risk": [20, 19, 3]})
    >>> hidden_groups(tab, 11)
    ['b']
    """
    if min_cell is None:
        return []
    if hasattr(result, "at_risk"):
        start = result.at_risk([0.0])
        first = pd.Series(start["n_risk"].to_numpy(), index=start["group"].to_numpy())
    else:
        table = cast(pd.DataFrame, getattr(result, "table", result))
        first = table.sort_values("time").groupby("group", sort=False)["n_risk"].first()
    return [g for g, n in first.items() if n < min_cell]


def hidden_classes(sizes: Any, min_cell: int | None) -> np.ndarray:
    """Latent classes whose size is hidden: below ``min_cell``, and complementary ones.

    ``sizes`` are the persons assigned to each class; they add up to the sample size,
    which is published, so when one class is hidden the next-smallest is hidden too
    (:func:`suppress_counts` on the one row of sizes). A hidden class's estimated share
    and average posterior probability are hidden with it.

    Examples
    --------
    >>> hidden_classes([60, 52, 4], 11).tolist()
    [False, True, True]
    >>> hidden_classes([60, 52, 4], None).tolist()
    [False, False, False]
    """
    counts = np.asarray(sizes, dtype=float).ravel()
    if min_cell is None or counts.size == 0:
        return np.zeros(counts.size, dtype=bool)
    return suppress_counts(counts[None, :], min_cell)[0]
