"""Drinking and meeting outcomes from daily calendars (Timeline Followback, Form-90)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_option, renamed
from ..errors import ArgumentTypeError, DataValidationError
from ._daily import (
    DEFAULT_HEAVY_THRESHOLD,
    first_per_group,
    last_per_group,
    prepare_daily,
)

__all__ = ["summarize_calendar", "CALENDAR_COLUMNS"]

#: Columns of :func:`summarize_calendar` output (meeting columns only when ``meetings`` is given).
CALENDAR_COLUMNS: tuple[str, ...] = (
    "window",
    "window_start",
    "window_end",
    "window_days",
    "days_observed",
    "days_controlled",
    "days_at_risk",
    "coverage",
    "complete",
    "abstinent_days",
    "drinking_days",
    "heavy_days",
    "total_drinks",
    "pda",
    "ddd",
    "phdd",
    "heavy_threshold",
    "longest_abstinent_run",
    "last_at_risk_day",
    "first_drink_day",
    "first_drink_event",
    "first_heavy_day",
    "first_heavy_event",
)
_MEETING_COLUMNS: tuple[str, ...] = (
    "days_meetings_recorded",
    "meeting_days",
    "total_meetings",
    "pct_days_attending",
    "meetings_90_in_90",
)


def _resolve_windows(windows: Any) -> list[tuple[str, int, int]]:
    """Normalise ``windows`` to a list of (name, start, end)."""
    if isinstance(windows, Mapping):
        items: list[tuple[str | None, Any]] = [(str(k), v) for k, v in windows.items()]
    elif isinstance(windows, Sequence) and not isinstance(windows, str):
        if len(windows) == 2 and all(isinstance(v, numbers.Integral) for v in windows):
            windows = [tuple(windows)]
        items = [(None, v) for v in windows]
    else:
        raise ArgumentTypeError(
            "`windows` must be a list of (start, end) day pairs or a dict name -> (start, end); "
            f"got {type(windows).__name__}."
        )
    if not items:
        raise DataValidationError("`windows` is empty; give at least one (start, end) pair.")
    out = []
    for name, pair in items:
        ok = (
            isinstance(pair, (tuple, list))
            and len(pair) == 2
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in pair)
        )
        if not ok:
            raise DataValidationError(
                f"`windows` entries must be (start, end) pairs of whole days; got {pair!r}."
            )
        start, end = int(pair[0]), int(pair[1])
        if end <= start:
            raise DataValidationError(
                f"`windows` entry ({start}, {end}) is empty: windows are half-open "
                "[start, end) and need end > start."
            )
        out.append((name if name is not None else f"{start}-{end}", start, end))
    names = [n for n, _, _ in out]
    if len(set(names)) != len(names):
        raise DataValidationError(f"`windows` names must be unique; got {names}.")
    return out


@renamed(daily="data")
def summarize_calendar(
    data: pd.DataFrame,
    id: str = "id",
    date: str = "date",
    drinks: str = "drinks",
    meetings: str | None = None,
    *,
    windows: Sequence[tuple[int, int]] | Mapping[str, tuple[int, int]] = ((0, 90),),
    sex: str | pd.Series | pd.DataFrame | Mapping[Any, Any] | None = None,
    controlled: str | None = None,
    index_date: str | pd.Series | pd.DataFrame | Mapping[Any, Any] | None = None,
    heavy_threshold: Mapping[str, float] | tuple[float, float] | float = DEFAULT_HEAVY_THRESHOLD,
    before_index: Literal["exclude", "raise"] = "exclude",
) -> pd.DataFrame:
    """Summarise daily drinking and meeting calendars per person and window.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person and day (long format). Days absent from the frame, or
        with a missing drink count, are unobserved.
    id : str
        Person identifier column.
    date : str
        Day column: ``datetime64`` dates (times of day are ignored) or integer day
        numbers.
    drinks : str
        Standard drinks that day (non-negative numbers; missing = not recorded).
    meetings : str, optional
        Mutual-help meetings attended that day (non-negative; missing = not
        recorded). Adds the meeting columns to the output.
    windows : sequence of (start, end) or dict of name -> (start, end)
        Half-open day ranges ``[start, end)`` relative to each person's index date
        (day 0). ``(0, 90)`` is the first 90 days; ``(-90, 0)`` the 90 days before
        the index date. A list gives windows named ``"start-end"``.
    sex : str, Series, DataFrame or mapping, optional
        Sex per person, used for the heavy-day threshold: a column of ``data``
        (constant within person), a Series/mapping from id to value, or a frame
        with the id column and a ``sex`` column. Codes
        0 = male, 1 = female, or ``"male"``/``"female"``/``"m"``/``"f"``. When
        None, the male threshold applies to everyone (pass a single number as
        ``heavy_threshold`` to make that explicit).
    controlled : str, optional
        Boolean (or 0/1) column: day spent in a controlled environment (hospital,
        residential treatment, jail). Such days count as observed but not at risk.
        Missing values count as not controlled.
    index_date : str, Series, DataFrame or mapping, optional
        Each person's index date (day 0), of the same kind as ``date``: a column
        of ``data`` (constant within person), a Series or mapping from id to
        date, or a frame with the id column and a column named ``index_date`` (or
        exactly one other column), such as the sample cohort's participants table.
        Default: each person's first calendar row.
    heavy_threshold : dict, (male, female) pair or number
        Drinks on a day that make it a heavy drinking day (``drinks >=
        threshold``). Default ``{"male": 5, "female": 4}`` (NIAAA).
    before_index : {"exclude", "raise"}
        Rows dated before the person's index date that fall in no window are
        excluded and counted (``"exclude"``), or raise an error (``"raise"``).

    Returns
    -------
    pandas.DataFrame
        One row per person and window (every person in ``data`` times every
        window, in that order), with the id column followed by
        :data:`CALENDAR_COLUMNS` and, when ``meetings`` is given,
        ``days_meetings_recorded, meeting_days, total_meetings,
        pct_days_attending, meetings_90_in_90``. ``result.attrs["calendar_rows"]``
        holds the row accounting: ``n_rows``, ``n_rows_in_windows``,
        ``n_rows_outside_windows``, ``n_rows_before_index`` (rows before the index
        date in no window, excluded).

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data`` (with close-match suggestions).
    DataValidationError
        Duplicate (id, date) rows (count and positions), negative, infinite or
        non-numeric drink or meeting counts (column, positions, values), missing
        dates or ids, sex values not understood, missing index dates, invalid
        windows, or rows before the index date with ``before_index="raise"``.
    ArgumentTypeError
        An argument of the wrong type.
    OptionError
        ``before_index`` not one of the allowed values.

    Notes
    -----
    For window :math:`[s, e)` of length :math:`L = e - s`, a day is *observed*
    when its drink count is recorded or it is flagged controlled; it is *at risk*
    when the drink count is recorded and it is not controlled. With :math:`R`
    at-risk days, :math:`A` of them with 0 drinks, :math:`D` with any drinks,
    :math:`H` with ``drinks >= threshold`` and :math:`T` drinks in all on them:

    * ``coverage`` = days observed / :math:`L`; ``complete`` is True only when every
      day of the window is observed. A window running past the end of a calendar
      reports its partial coverage; nothing is extrapolated.
    * ``pda`` = :math:`A/R`; ``phdd`` = :math:`H/R`; ``ddd`` = :math:`T/D`, missing
      (not 0) when :math:`D = 0`; rates are missing when :math:`R = 0`.
    * ``longest_abstinent_run``: most consecutive calendar days that are all at
      risk with 0 drinks; an unobserved or controlled day ends a run.
    * ``first_drink_day`` / ``first_heavy_day``: day number (relative to the index
      date) of the first at-risk drinking / heavy day in the window, with
      ``*_event`` = 1; when there is none, ``*_event`` = 0 and the day is the last
      at-risk day observed in the window (censored there; missing when the window
      has no at-risk day). Unobserved days before the event are not treated as
      interval censoring (see :func:`relapse_times` with ``gaps="censor"``).
    * Meetings: ``meeting_days`` = days with at least one meeting among the
      ``days_meetings_recorded`` days with a recorded count (controlled days
      included); ``pct_days_attending`` = 100 x meeting_days /
      days_meetings_recorded. ``meetings_90_in_90`` is True when the first 90
      days of the window hold at least 90 meetings, False when all 90 days are
      recorded with fewer, and missing when the window is shorter than 90 days or
      the count is incomplete and below 90.

    All quantities are computed with group-wise numpy operations (``bincount``,
    cumulative sums for runs); there is no loop over people. Validated against a
    day-by-day loop on random calendars (exact agreement) and against the sample
    cohort's documented wave outcomes (``pda``, ``ddd``, ``phdd``, ``aa_meetings``,
    ``aa_days_pct`` in ``waves.csv``, reproduced to the file's 10 significant
    digits). 1,726 people x 455 days with two windows take well under a second.

    References
    ----------
    Sobell LC, Sobell MB (1992). Timeline Follow-Back. In Litten RZ, Allen JP (eds),
    Measuring Alcohol Consumption. Humana Press, 41-72.
    Miller WR (1996). Form 90: A structured assessment interview for drinking and
    related behaviors. NIAAA Project MATCH Monograph Series, Vol. 5.
    National Institute on Alcohol Abuse and Alcoholism (2005). Helping Patients Who
    Drink Too Much: A Clinician's Guide (heavy drinking day: 5+ drinks men, 4+ women).

    Examples
    --------
    >>> import pandas as pd
    >>> cal = pd.DataFrame({
    ...     "id": [1] * 10,
    ...     "date": pd.date_range("2024-01-01", periods=10),
    ...     "drinks": [0, 0, 3, 0, 6, 0, 0, 0, 0, 0],
    ... })
    >>> out = summarize_calendar(cal, windows=[(0, 10), (0, 20)])
    >>> out[["window", "days_observed", "coverage", "pda", "ddd", "phdd"]]
      window  days_observed  coverage  pda  ddd  phdd
    0   0-10             10       1.0  0.8  4.5   0.1
    1   0-20             10       0.5  0.8  4.5   0.1
    >>> out[["longest_abstinent_run", "first_drink_day", "first_heavy_day"]].head(1)
       longest_abstinent_run  first_drink_day  first_heavy_day
    0                      5              2.0              4.0
    """
    check_option(before_index, ("exclude", "raise"), "before_index")
    wins = _resolve_windows(windows)
    arr = prepare_daily(
        data,
        id=id,
        date=date,
        drinks=drinks,
        meetings=meetings,
        controlled=controlled,
        sex=sex,
        index_date=index_date,
        heavy_threshold=heavy_threshold,
    )
    n = len(arr.ids)

    in_any = np.zeros(arr.n_rows, dtype=bool)
    blocks = []
    for name, start, end in wins:
        mask = (arr.day >= start) & (arr.day < end)
        in_any |= mask
        blocks.append(_window_block(arr, mask, n, name, start, end))

    before = (~in_any) & (arr.day < 0)
    report = {
        "n_rows": int(arr.n_rows),
        "n_rows_in_windows": int(in_any.sum()),
        "n_rows_outside_windows": int((~in_any).sum()),
        "n_rows_before_index": int(before.sum()),
    }
    if before_index == "raise" and before.any():
        raise DataValidationError(
            f"`data` has {int(before.sum())} row(s) dated before the person's index date "
            f"that fall in no window ({int(np.unique(arr.person[before]).size)} person(s)). "
            "Check `index_date`, or pass before_index='exclude' to leave them out."
        )
    out = pd.concat(blocks, ignore_index=True)
    order = np.lexsort((np.repeat(np.arange(len(wins)), n), np.tile(np.arange(n), len(wins))))
    out = out.iloc[order].reset_index(drop=True)
    out.insert(0, id, np.tile(arr.ids, len(wins))[order])
    out.attrs["calendar_rows"] = report
    return out


def _window_block(
    arr: Any, mask: np.ndarray, n: int, name: str, start: int, end: int
) -> pd.DataFrame:
    """Compute every per-person quantity for one window (rows sorted by person, day)."""
    p = arr.person[mask]
    d = arr.day[mask]
    x = arr.drinks[mask]
    ctrl = arr.controlled[mask]
    thr = arr.threshold[p]
    length = end - start

    recorded = ~np.isnan(x)
    observed = recorded | ctrl
    risk = recorded & ~ctrl
    xr = np.where(risk, x, 0.0)
    drink = risk & (xr > 0)
    heavy = risk & (xr >= thr)
    abst = risk & (xr == 0)

    def count(flag: np.ndarray) -> np.ndarray:
        return np.bincount(p, weights=flag.astype(float), minlength=n)

    days_obs = count(observed)
    days_ctrl = count(observed & ctrl)
    days_risk = count(risk)
    n_abst = count(abst)
    n_drink = count(drink)
    n_heavy = count(heavy)
    total = np.bincount(p, weights=xr, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        pda = np.where(days_risk > 0, n_abst / days_risk, np.nan)
        phdd = np.where(days_risk > 0, n_heavy / days_risk, np.nan)
        ddd = np.where(n_drink > 0, total / np.where(n_drink > 0, n_drink, 1), np.nan)

    longest = _longest_runs(p, d, abst, n)
    last_risk = last_per_group(p[risk], d[risk].astype(float), n)
    first_drink = first_per_group(p[drink], d[drink].astype(float), n)
    first_heavy = first_per_group(p[heavy], d[heavy].astype(float), n)
    drink_event = ~np.isnan(first_drink)
    heavy_event = ~np.isnan(first_heavy)

    cols: dict[str, Any] = {
        "window": np.full(n, name, dtype=object),
        "window_start": np.full(n, start, dtype=np.int64),
        "window_end": np.full(n, end, dtype=np.int64),
        "window_days": np.full(n, length, dtype=np.int64),
        "days_observed": days_obs.astype(np.int64),
        "days_controlled": days_ctrl.astype(np.int64),
        "days_at_risk": days_risk.astype(np.int64),
        "coverage": days_obs / length,
        "complete": days_obs == length,
        "abstinent_days": n_abst.astype(np.int64),
        "drinking_days": n_drink.astype(np.int64),
        "heavy_days": n_heavy.astype(np.int64),
        "total_drinks": total,
        "pda": pda,
        "ddd": ddd,
        "phdd": phdd,
        "heavy_threshold": arr.threshold,
        "longest_abstinent_run": longest.astype(np.int64),
        "last_at_risk_day": last_risk,
        "first_drink_day": np.where(drink_event, first_drink, last_risk),
        "first_drink_event": drink_event.astype(np.int64),
        "first_heavy_day": np.where(heavy_event, first_heavy, last_risk),
        "first_heavy_event": heavy_event.astype(np.int64),
    }
    if arr.meetings is not None:
        cols.update(_meeting_columns(arr.meetings[mask], p, d, n, start, length))
    return pd.DataFrame(cols)


def _longest_runs(p: np.ndarray, d: np.ndarray, abst: np.ndarray, n: int) -> np.ndarray:
    """Each person's longest run of consecutive at-risk abstinent days.

    A run starts at an abstinent day whose previous row is not the same person's
    previous calendar day, abstinent.
    """
    prev_same = np.r_[False, (p[1:] == p[:-1]) & (d[1:] == d[:-1] + 1) & abst[:-1]]
    starts = abst & ~prev_same
    run_id = np.cumsum(starts) - 1
    longest = np.zeros(n)
    if abst.any():
        lengths = np.bincount(run_id[abst])
        run_person = p[starts]
        np.maximum.at(longest, run_person, lengths)
    return longest


def _meeting_columns(
    m: np.ndarray, p: np.ndarray, d: np.ndarray, n: int, start: int, length: int
) -> dict[str, Any]:
    """Meeting columns of one window: recorded days, meeting days, totals, 90 in 90."""
    mrec = ~np.isnan(m)
    mr = np.where(mrec, m, 0.0)
    days_mrec = np.bincount(p, weights=mrec.astype(float), minlength=n)
    mdays = np.bincount(p, weights=(mr > 0).astype(float), minlength=n)
    mtotal = np.bincount(p, weights=mr, minlength=n)
    first90 = d < start + 90
    m90 = np.bincount(p, weights=np.where(first90, mr, 0.0), minlength=n)
    rec90 = np.bincount(p, weights=(first90 & mrec).astype(float), minlength=n)
    flag = pd.array([pd.NA] * n, dtype="boolean")
    if length >= 90:
        flag[m90 >= 90] = True
        flag[(m90 < 90) & (rec90 == 90)] = False
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(days_mrec > 0, 100.0 * mdays / np.where(days_mrec > 0, days_mrec, 1), np.nan)
    return {
        "days_meetings_recorded": days_mrec.astype(np.int64),
        "meeting_days": mdays.astype(np.int64),
        "total_meetings": mtotal,
        "pct_days_attending": pct,
        "meetings_90_in_90": flag,
    }
