"""Counting-process (start, stop] data for time-varying covariates.

:func:`to_counting_process` turns repeated records per person (survey waves, or daily
calendars with rolling-window summaries such as meetings in the past 30 days) and one
outcome row per person into (start, stop] intervals, merging consecutive intervals with
identical covariates. :func:`validate_counting_process` checks interval data before a
time-varying Cox fit.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._validation import as_column_list, check_columns, check_dataframe, check_numeric
from ..errors import ArgumentTypeError, DataValidationError, DataWarning
from ..results import glance_frame
from ._survival_input import check_column_names, event_indicator

__all__ = ["CountingProcess", "to_counting_process", "validate_counting_process"]


@dataclass(frozen=True)
class CountingProcess:
    """(start, stop] data built by :func:`to_counting_process`.

    Attributes
    ----------
    data : pandas.DataFrame
        Columns ``id, start, stop, event`` and the covariates, one row per interval,
        sorted by id and start.
    n_rows_unmerged : int
        Intervals before merging consecutive intervals with identical covariates.
    n_rows : int
        Intervals after merging.
    n_ids : int
        People in ``data``.
    n_events : int
        Events.
    notes : tuple of str
        What was excluded and why (counts only).
    """

    data: pd.DataFrame
    n_rows_unmerged: int
    n_rows: int
    n_ids: int
    n_events: int
    notes: tuple[str, ...] = field(default=())

    def glance(self) -> pd.DataFrame:
        """One row with the row counts before and after merging."""
        return glance_frame(
            {
                "n_ids": self.n_ids,
                "n_events": self.n_events,
                "n_rows_unmerged": self.n_rows_unmerged,
                "n_rows": self.n_rows,
            },
            ("n_ids", "n_events", "n_rows_unmerged", "n_rows"),
        )


def _codes(values: pd.Series) -> np.ndarray:
    return pd.factorize(values, sort=True)[0].astype(np.int64)


def _rolling_sum(ids: np.ndarray, t: np.ndarray, values: np.ndarray, window: float) -> np.ndarray:
    """Sum of ``values`` over each person's records with time in [t - window, t).

    The record at ``t`` itself is excluded, so the sum only uses the past. Rows must
    be sorted by id then time; vectorised with one cumulative sum and a search on
    (id, time) keys.
    """
    n = len(t)
    if n == 0:
        return np.zeros(0)
    csum = np.concatenate([[0.0], np.cumsum(values)])
    block_start = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    first = np.repeat(block_start, np.diff(np.r_[block_start, n]))
    # keys increase with (id, time) and blocks are further apart than any window
    span = float(t.max() - t.min()) + window + 1.0
    key = ids.astype(float) * span * 2 + t
    lo = np.maximum(np.searchsorted(key, key - window, side="left"), first)
    return csum[np.arange(n)] - csum[lo]


def _check_rolling(data: pd.DataFrame, rolling: Mapping[str, tuple] | None) -> dict[str, tuple]:
    """``rolling`` as a dict, each spec a ``(column, window[, how])`` tuple checked."""
    rolling = dict(rolling or {})
    for new, spec in rolling.items():
        if not (isinstance(spec, tuple) and len(spec) in (2, 3)):
            raise ArgumentTypeError(
                f"`rolling['{new}']` must be a (column, window) or (column, window, how) "
                f"tuple; got {spec!r}."
            )
        if len(spec) == 3 and spec[2] not in ("sum", "any", "mean"):
            raise DataValidationError(
                f"`rolling['{new}']` summary must be one of 'sum', 'any', 'mean'; got {spec[2]!r}."
            )
        check_columns(data, [spec[0]], f"rolling['{new}']")
        check_numeric(data, [spec[0]], f"rolling['{new}']")
        if not (isinstance(spec[1], (int, float)) and spec[1] > 0):
            raise DataValidationError(
                f"`rolling['{new}']` window must be a positive number; got {spec[1]!r}."
            )
    return rolling


def _outcome_rows(
    outcomes: pd.DataFrame, id: str, duration: str, event: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The outcome rows (one per person), their durations and 0/1 event indicators."""
    oc = outcomes.loc[:, [id, duration, event]]
    if oc[id].duplicated().any():
        raise DataValidationError(
            f"`outcomes` must have one row per `{id}`; {int(oc[id].duplicated().sum())} "
            "id(s) are duplicated."
        )
    dur = oc[duration].to_numpy(dtype=float)
    if np.isnan(dur).any() or oc[event].isna().any():
        raise DataValidationError(
            f"`outcomes` has missing `{duration}` or `{event}` for "
            f"{int((np.isnan(dur) | oc[event].isna().to_numpy()).sum())} id(s); "
            "give every person a duration and an event indicator."
        )
    if (dur < 0).any():
        raise DataValidationError(
            f"`duration` ('{duration}') must be >= 0; {int((dur < 0).sum())} negative value(s)."
        )
    return oc, dur, event_indicator(oc[event], event, recode_hint=False)


def _sorted_records(
    data: pd.DataFrame, id: str, time: str, covs: list[str], rolling: dict[str, tuple]
) -> pd.DataFrame:
    """The records' columns, checked (no missing id or time, no duplicate) and sorted."""
    cols = list(dict.fromkeys([id, time] + covs + [s[0] for s in rolling.values()]))
    rec = data.loc[:, cols]
    if rec[time].isna().any():
        raise DataValidationError(
            f"`time` ('{time}') has {int(rec[time].isna().sum())} missing value(s)."
        )
    if rec[id].isna().any():
        raise DataValidationError(
            f"`id` ('{id}') has {int(rec[id].isna().sum())} missing value(s)."
        )
    dup = rec.duplicated([id, time])
    if dup.any():
        raise DataValidationError(
            f"`data` has {int(dup.sum())} duplicated ({id}, {time}) record(s); each person "
            "may have one record per time."
        )
    return rec.sort_values([id, time], kind="stable").reset_index(drop=True)


def _record_values(
    rec: pd.DataFrame, rid: np.ndarray, t: np.ndarray, covs: list[str], rolling: dict[str, tuple]
) -> dict[str, np.ndarray]:
    """Per record: the rolling-window summaries and the carried-forward covariates."""
    # rolling-window sums (before any truncation, so windows see all earlier records)
    values = {}
    for new, spec in rolling.items():
        col, window = spec[0], float(spec[1])
        how = spec[2] if len(spec) == 3 else "sum"
        v = rec[col].to_numpy(dtype=float)
        miss = np.isnan(v).astype(float)
        s = _rolling_sum(rid, t, np.nan_to_num(v), window)
        m = _rolling_sum(rid, t, miss, window)
        if how == "any":
            s = (s > 0).astype(float)
        elif how == "mean":
            s = s / window
        s[m > 0] = np.nan
        values[new] = s
    for c in covs:
        values[c] = rec.groupby(rid, sort=False)[c].ffill().to_numpy()
    return values


def _excluded(
    rid: np.ndarray, t: np.ndarray, in_fu: np.ndarray, dur_by: np.ndarray
) -> tuple[np.ndarray, list[str]]:
    """People whose event or censoring is at or before their first record; the notes.

    Warns (at the caller of ``to_counting_process``) about every group of people left out.
    """
    has_rec = np.zeros(len(dur_by), bool)
    has_rec[rid] = True
    no_outcome = np.isnan(dur_by) & has_rec
    no_records = ~has_rec
    d_row = dur_by[rid]
    t_fu = np.where(in_fu, t, np.inf)
    first_t = pd.Series(t_fu).groupby(rid).transform("min").to_numpy()
    early = np.zeros(len(dur_by), bool)
    early[rid[d_row <= first_t]] = True
    notes: list[str] = []
    for cnt, why in (
        (int(no_outcome.sum()), "have records but no row in `outcomes`"),
        (int(no_records.sum()), "have an outcome but no records in `data`"),
        (int(early.sum()), "have their event or censoring at or before their first record"),
    ):
        if cnt:
            msg = f"{cnt} person(s) excluded: they {why}."
            notes.append(msg)
            warnings.warn(msg, DataWarning, stacklevel=3)
    return early, notes


def _intervals(
    rid: np.ndarray,
    t: np.ndarray,
    keep: np.ndarray,
    d_row: np.ndarray,
    ev_by: np.ndarray,
    ids_all: pd.Index,
) -> pd.DataFrame:
    """``id, start, stop, event`` of the kept records: each runs to the next or the end."""
    rid_k = rid[keep]
    start = t[keep]
    nxt = np.r_[t[1:], np.inf]
    same_next = np.r_[rid[1:] == rid[:-1], False]
    stop = np.where(same_next, nxt, np.inf)[keep]
    stop = np.minimum(stop, d_row[keep])
    last = np.r_[rid_k[1:] != rid_k[:-1], True] if len(rid_k) else np.zeros(0, bool)
    event_col = np.where(last, ev_by[rid_k], 0.0)
    return pd.DataFrame(
        {"id": ids_all[rid_k].to_numpy(), "start": start, "stop": stop, "event": event_col}
    )


def _merge_constant(cp: pd.DataFrame, out_names: list[str], rid_k: np.ndarray) -> pd.DataFrame:
    """Consecutive intervals of a person with the same covariate values merged into one."""
    cv = cp[out_names].to_numpy(dtype=float) if out_names else np.zeros((len(cp), 0))
    prev_same = np.zeros(len(cp), bool)
    if len(cp) > 1:
        eq = (cv[1:] == cv[:-1]) | (np.isnan(cv[1:]) & np.isnan(cv[:-1]))
        prev_same[1:] = (rid_k[1:] == rid_k[:-1]) & eq.all(axis=1)
    first_idx = np.flatnonzero(~prev_same)
    last_idx = np.r_[first_idx[1:] - 1, len(cp) - 1]
    merged = cp.iloc[first_idx].reset_index(drop=True)
    merged["stop"] = cp["stop"].to_numpy()[last_idx]
    merged["event"] = cp["event"].to_numpy()[last_idx]
    return merged


def to_counting_process(
    data: pd.DataFrame,
    outcomes: pd.DataFrame,
    *,
    id: str,
    time: str,
    duration: str,
    event: str,
    covariates: str | Sequence[str] | None = None,
    rolling: Mapping[str, tuple] | None = None,
    entry: float | None = None,
    merge: bool = True,
) -> CountingProcess:
    """Build (start, stop] intervals from repeated records and one outcome per person.

    Parameters
    ----------
    data : pandas.DataFrame
        Long records, one row per id and ``time``: survey waves (e.g. ``month`` 0, 3,
        6, ...) or a daily calendar (``day`` 0, 1, 2, ...). Not modified.
    outcomes : pandas.DataFrame
        One row per id with ``duration`` (time of the event or of censoring, on the
        scale of ``time``) and ``event`` (1 = event, 0 = censored). Not modified.
    id, time : str
        Person and record-time columns of ``data`` (``id`` also in ``outcomes``).
    duration, event : str
        Columns of ``outcomes``.
    covariates : str or list of str, optional
        Columns of ``data`` carried forward: the value recorded at ``time`` applies
        until the next record. Missing values are filled from the person's previous
        record (last observation carried forward).
    rolling : dict, optional
        ``{"new_name": (column, window)}``: the sum of ``column`` over the person's
        records with time in ``[t - window, t)``, i.e. the ``window`` time units
        before ``t``. On a daily calendar ``{"meetings_30d": ("meetings", 30)}`` is the
        number of meetings on days ``t - 30 .. t - 1``. A missing value in the window
        makes the sum missing; days before the first record count as no data (the
        window is shorter at the start of a calendar). A third element chooses the
        summary: ``"sum"`` (default), ``"any"`` (1 if the sum is positive, else 0) or
        ``"mean"`` (sum divided by ``window``).
    entry : float, optional
        Start of follow-up on the ``time`` scale (e.g. 0 = index date). Records
        before it only feed rolling windows and carried-forward values; intervals
        start at the first record at or after ``entry``. Default: each person's first
        record.
    merge : bool
        Merge consecutive intervals of a person whose covariates are identical.

    Returns
    -------
    CountingProcess
        ``data`` with ``id, start, stop, event`` and the covariates; row counts before
        and after merging.

    Raises
    ------
    DataValidationError
        Duplicated (id, time) records, missing record times, negative or missing
        durations, events not coded 0/1, duplicated ids in ``outcomes``, non-positive
        windows.
    ColumnNotFoundError, ArgumentTypeError
        Unknown columns or wrong argument types.

    Warns
    -----
    DataWarning
        People excluded because they have no records, no outcome row, or an event or
        censoring at or before their first record time (counts only).

    Notes
    -----
    Timing convention: the record at time :math:`t_k` describes the interval
    :math:`(t_k, t_{k+1}]` up to the next record, and the last record the interval up
    to ``duration``; records at or after ``duration`` are not used. On a daily
    calendar day :math:`d` is the interval :math:`(d, d+1]`, matching
    :func:`~mutualaid_outcomes.participation.relapse.relapse_times`
    (``duration = relapse_day + 1``), and a rolling window for day :math:`d` covers
    days before :math:`d` only, so it never includes the relapse day itself. Wave
    values are carried forward until the next wave (last observation carried
    forward), which is the usual, and optimistic, assumption that exposure stays at
    its last reported level. The event is placed on the person's last interval. Rolling sums are computed for
    all people at once with a cumulative sum; merging is a vectorised group-by.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.prep.counting_process import to_counting_process
    >>> waves = pd.DataFrame({"id": [1, 1, 1, 2, 2], "month": [0, 3, 6, 0, 3],
    ...                       "aa": [0, 2, 2, 1, None]})
    >>> out = pd.DataFrame({"id": [1, 2], "time": [8.0, 5.0], "event": [1, 0]})
    >>> cp = to_counting_process(waves, out, id="id", time="month", duration="time",
    ...                          event="event", covariates="aa")
    >>> cp.data
       id  start  stop  event   aa
    0   1    0.0   3.0      0  0.0
    1   1    3.0   8.0      1  2.0
    2   2    0.0   5.0      0  1.0
    >>> cp.n_rows_unmerged, cp.n_rows
    (5, 3)
    """
    data = check_dataframe(data)
    outcomes = check_dataframe(outcomes, "outcomes")
    check_column_names(("id", id), ("time", time), ("duration", duration), ("event", event))
    covs = check_columns(data, as_column_list(covariates, "covariates"), "covariates")
    check_columns(data, [id, time], "id/time")
    check_columns(outcomes, [id, duration, event], "outcomes columns")
    check_numeric(data, [time], "time")
    check_numeric(outcomes, [duration], "duration")
    rolling = _check_rolling(data, rolling)
    out_names = covs + [n for n in rolling if n not in covs]
    reserved = {"id", "start", "stop", "event"} & set(out_names)
    if reserved:
        raise DataValidationError(
            f"Covariate names {sorted(reserved)} clash with the output columns "
            "id, start, stop, event; rename them."
        )
    oc, dur, ev = _outcome_rows(outcomes, id, duration, event)
    rec = _sorted_records(data, id, time, covs, rolling)
    ids_all = pd.Index(pd.unique(pd.concat([rec[id], oc[id]], ignore_index=True)))
    rid = ids_all.get_indexer(rec[id])
    t = rec[time].to_numpy(dtype=float)
    values = _record_values(rec, rid, t, covs, rolling)

    # match outcomes
    oid = ids_all.get_indexer(oc[id])
    dur_by = np.full(len(ids_all), np.nan)
    ev_by = np.full(len(ids_all), np.nan)
    dur_by[oid] = dur
    ev_by[oid] = ev
    if entry is not None:
        if not isinstance(entry, (int, float)) or isinstance(entry, bool):
            raise ArgumentTypeError(f"`entry` must be a number; got {entry!r}.")
        in_fu = t >= entry
    else:
        in_fu = np.ones(len(t), bool)
    d_row = dur_by[rid]
    early, notes = _excluded(rid, t, in_fu, dur_by)
    keep = in_fu & (t < d_row) & ~np.isnan(d_row) & ~early[rid]
    n_unmerged_full = int(keep.sum())
    rid_k = rid[keep]
    cp = _intervals(rid, t, keep, d_row, ev_by, ids_all)
    for name in out_names:
        cp[name] = values[name][keep]
    if merge and len(cp):
        cp = _merge_constant(cp, out_names, rid_k)
    cp["event"] = cp["event"].astype(int)
    return CountingProcess(
        data=cp,
        n_rows_unmerged=n_unmerged_full,
        n_rows=len(cp),
        n_ids=int(cp["id"].nunique()) if len(cp) else 0,
        n_events=int(cp["event"].sum()) if len(cp) else 0,
        notes=tuple(notes),
    )


def validate_counting_process(
    data: pd.DataFrame,
    id: str,
    start: str,
    stop: str,
    event: str,
    *,
    recurrent: bool = False,
) -> None:
    """Check (start, stop] interval data; raise on the first problem found.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per interval. Not modified.
    id, start, stop, event : str
        Column names.
    recurrent : bool
        Allow several events per person (recurrent-event data such as R's ``cgd``).
        When False an event must be on the person's last interval.

    Raises
    ------
    DataValidationError
        ``stop <= start``; overlapping intervals of one person; an event not on the
        person's last interval (unless ``recurrent``); events not coded 0/1.

    Notes
    -----
    Rows with a missing value in any of the four columns are ignored here (the model
    excludes and reports them). Gaps between intervals are allowed (the person is not
    at risk then).

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.prep.counting_process import validate_counting_process
    >>> df = pd.DataFrame({"id": [1, 1], "start": [0, 2], "stop": [3, 5], "event": [0, 1]})
    >>> validate_counting_process(df, "id", "start", "stop", "event")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.DataValidationError: Intervals overlap within 1 id(s): a person's interval starts before their previous interval stops (e.g. at sorted row position 1).
    """
    data = check_dataframe(data)
    check_columns(data, [id, start, stop, event], "id/start/stop/event")
    check_numeric(data, [start, stop], "start/stop")
    sub = data.loc[:, [id, start, stop, event]].dropna()
    ev = event_indicator(sub[event], event, recode_hint=False)
    t0 = sub[start].to_numpy(dtype=float)
    t1 = sub[stop].to_numpy(dtype=float)
    bad = np.flatnonzero(t1 <= t0)
    if bad.size:
        raise DataValidationError(
            f"`stop` ('{stop}') must be greater than `start` ('{start}'); {bad.size} row(s) "
            f"have stop <= start (row positions {bad[:10].tolist()})."
        )
    code = _codes(sub[id])
    order = np.lexsort((t1, t0, code))
    c, a, b, e = code[order], t0[order], t1[order], ev[order]
    same = c[1:] == c[:-1]
    overlap = same & (a[1:] < b[:-1])
    if overlap.any():
        first = int(np.flatnonzero(overlap)[0]) + 1
        raise DataValidationError(
            f"Intervals overlap within {len(np.unique(c[1:][overlap]))} id(s): a person's "
            "interval starts before their previous interval stops (e.g. at sorted row "
            f"position {first})."
        )
    if not recurrent:
        is_last = np.r_[~same, True]
        wrong = (e > 0) & ~is_last
        if wrong.any():
            raise DataValidationError(
                f"{int(wrong.sum())} event(s) are not on the person's last interval "
                f"({len(np.unique(c[wrong]))} id(s)); with a single event per person, "
                "follow-up must end at the event. For recurrent events use recurrent=True."
            )
