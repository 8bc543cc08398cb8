"""Input checks shared by the survival models (Kaplan-Meier, Cox, competing risks).

Each function raises the package's error classes with the same messages wherever it
is used, so a user sees one wording for one problem across the survival functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentTypeError, DataValidationError, EstimationError

__all__ = [
    "check_column_names",
    "check_durations",
    "complete_survival_rows",
    "event_indicator",
    "group_codes",
    "missing_note",
]


def check_column_names(*pairs: tuple[str, Any], optional: bool = False) -> None:
    """Check that each ``(argument, value)`` pair names one column.

    Parameters
    ----------
    *pairs : tuple of (str, object)
        Argument name and the value passed for it.
    optional : bool
        Skip values that are None (optional arguments).

    Raises
    ------
    ArgumentTypeError
        A value is not a string.

    Examples
    --------
    >>> check_column_names(("duration", "t"), ("event", "e"))
    >>> check_column_names(("group", None), optional=True)
    """
    for name, val in pairs:
        if optional and val is None:
            continue
        if not isinstance(val, str):
            raise ArgumentTypeError(f"`{name}` must be a column name; got {val!r}.")


def missing_note(n_used: int, n_input: int, counts: Mapping[str, int]) -> str:
    """Describe listwise deletion: rows used, rows excluded and missing counts by column.

    Parameters
    ----------
    n_used, n_input : int
        Rows kept and rows given.
    counts : mapping of str to int
        Missing values per column (columns with none are left out of the text).

    Returns
    -------
    str
        The note for a result's ``notes``.

    Examples
    --------
    >>> missing_note(8, 10, {"t": 2, "e": 0, "x": 1})
    'Used 8 of 10 rows; 2 excluded for missing values (t: 2, x: 1).'
    """
    detail = ", ".join(f"{c}: {int(v)}" for c, v in counts.items() if v)
    return (
        f"Used {n_used} of {n_input} rows; {n_input - n_used} excluded for missing values "
        f"({detail})."
    )


def complete_survival_rows(
    data: pd.DataFrame, duration: str, event: str, extra: Sequence[str] = ()
) -> tuple[pd.DataFrame, list[str], int]:
    """Select the duration, event and ``extra`` columns and keep complete rows.

    Parameters
    ----------
    data : pandas.DataFrame
        Input data (already checked to contain the columns). Not modified.
    duration, event : str
        Duration and event columns; the duration must be numeric.
    extra : sequence of str
        Further columns (group, strata) whose missing values also exclude a row.

    Returns
    -------
    frame : pandas.DataFrame
        The selected columns on the complete rows.
    notes : list of str
        One note on excluded rows when any were excluded, else empty.
    n_input : int
        Rows given.

    Raises
    ------
    DataValidationError
        The duration column is not numeric.
    EstimationError
        No complete rows remain.

    Examples
    --------
    >>> df = pd.DataFrame({"t": [1.0, None, 3.0], "e": [1, 0, None]})
    >>> frame, notes, n_input = complete_survival_rows(df, "t", "e")
    >>> len(frame), n_input, notes
    (1, 3, ['Used 1 of 3 rows; 2 excluded for missing values (t: 1, e: 1).'])
    """
    sub = data.loc[:, list(dict.fromkeys([duration, event, *extra]))]
    if not pd.api.types.is_numeric_dtype(sub[duration]):
        raise DataValidationError(
            f"`duration` ('{duration}') must be numeric; got dtype {sub[duration].dtype}."
        )
    miss = sub.isna()
    keep = ~miss.any(axis=1)
    n_in = len(sub)
    sub = sub.loc[keep]
    if len(sub) == 0:
        raise EstimationError(f"No rows remain after removing missing values ({n_in} rows in).")
    notes = []
    if len(sub) < n_in:
        notes.append(missing_note(len(sub), n_in, miss.sum()))
    return sub, notes, n_in


def check_durations(t: np.ndarray, duration: str, *, positions: bool = True) -> None:
    """Check that durations are finite and non-negative.

    Parameters
    ----------
    t : numpy.ndarray
        Durations of the complete rows.
    duration : str
        Column name, for the message.
    positions : bool
        Name the first offending row positions (among complete rows) in the message.

    Raises
    ------
    DataValidationError
        A duration is negative or not finite.

    Examples
    --------
    >>> check_durations(np.array([0.0, 2.5]), "t")
    """
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        bad = np.flatnonzero((t < 0) | ~np.isfinite(t))
        if positions:
            raise DataValidationError(
                f"`duration` ('{duration}') must be finite and >= 0; {len(bad)} value(s) are "
                f"not (row positions among complete rows {bad[:10].tolist()})."
            )
        raise DataValidationError(
            f"`duration` ('{duration}') must be finite and >= 0; {len(bad)} value(s) are not."
        )


def event_indicator(
    series: pd.Series, column: Any, argument: str = "event", *, recode_hint: bool = True
) -> np.ndarray:
    """Event indicator as floats, checking a 0/1 (1 = event) or boolean coding.

    Parameters
    ----------
    series : pandas.Series
        The event column; missing values are passed through as NaN.
    column : object
        Column name, for the message.
    argument : str
        Argument name, for the message.
    recode_hint : bool
        End the message on other codes with a recoding example.

    Returns
    -------
    numpy.ndarray
        1.0 for an event, 0.0 for censored.

    Raises
    ------
    DataValidationError
        The column is not numeric or boolean, or holds codes other than 0 and 1.

    Examples
    --------
    >>> event_indicator(pd.Series([True, False]), "e").tolist()
    [1.0, 0.0]
    >>> event_indicator(pd.Series([1, 2]), "status")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.DataValidationError: `event` ('status') must be coded 0/1 (1 = event, 0 = censored); found other values [2]. Recode, e.g. event = (status == 2).
    """
    if pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(series):
        raise DataValidationError(
            f"`{argument}` ('{column}') must be coded 0/1 (or boolean); got dtype {series.dtype}."
        )
    v = series.to_numpy(dtype=float)
    bad = np.setdiff1d(np.unique(v[~np.isnan(v)]), [0.0, 1.0])
    if bad.size:
        shown = [int(b) if float(b).is_integer() else float(b) for b in bad[:10]]
        hint = " Recode, e.g. event = (status == 2)." if recode_hint else ""
        raise DataValidationError(
            f"`{argument}` ('{column}') must be coded 0/1 (1 = event, 0 = censored); "
            f"found other values {shown}.{hint}"
        )
    return v


def group_codes(frame: pd.DataFrame, group: str | None, n: int) -> tuple[np.ndarray, tuple]:
    """Integer codes of the groups (sorted labels), or a single group "all".

    Parameters
    ----------
    frame : pandas.DataFrame
        Complete rows.
    group : str or None
        Group column, or None for one group.
    n : int
        Number of rows (used when ``group`` is None).

    Returns
    -------
    codes : numpy.ndarray
        Group code of each row, indexing ``labels``.
    labels : tuple
        Group labels in sorted order.

    Examples
    --------
    >>> codes, labels = group_codes(pd.DataFrame({"arm": ["b", "a", "b"]}), "arm", 3)
    >>> codes.tolist(), labels
    ([1, 0, 1], ('a', 'b'))
    """
    if group is None:
        return np.zeros(n, dtype=np.int64), ("all",)
    codes, labels = pd.factorize(frame[group], sort=True)
    return codes, tuple(labels.tolist())
