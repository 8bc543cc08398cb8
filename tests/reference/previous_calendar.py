"""Frozen copy of the previous calendar code (prepare_daily, summarize_calendar).

The per-window mask-and-bincount implementation as it stood before the sorted-array
rewrite (commit b5a1376), kept verbatim apart from imports and docstrings. The tests in
tests/participation/test_calendar_identity.py check that the current implementation
returns identical frames and raises the same errors. Not collected as tests.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from mutualaid_outcomes._validation import check_columns, check_dataframe, check_option
from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError

DEFAULT_HEAVY_THRESHOLD: dict[str, float] = {"male": 5.0, "female": 4.0}

_SEX_LABELS = {
    "0": "male",
    "m": "male",
    "male": "male",
    "man": "male",
    "men": "male",
    "1": "female",
    "f": "female",
    "female": "female",
    "woman": "female",
    "women": "female",
}

_MAX_SHOWN = 10


@dataclass(frozen=True)
class DailyArrays:
    """A validated calendar as arrays sorted by (person, day)."""

    ids: np.ndarray  # unique person ids, position = person code
    person: np.ndarray  # person code of each row (int64)
    day: np.ndarray  # day relative to the index date (int64)
    drinks: np.ndarray  # float, NaN = not recorded
    meetings: np.ndarray | None  # float, NaN = not recorded
    controlled: np.ndarray  # bool
    threshold: np.ndarray  # heavy threshold per person (float)
    n_rows: int
    id_name: str


def shown(values: Any) -> str:
    """Format at most ``_MAX_SHOWN`` values for an error message."""
    vals = list(values)
    text = ", ".join(str(v) for v in vals[:_MAX_SHOWN])
    if len(vals) > _MAX_SHOWN:
        text += f", ... ({len(vals)} in all)"
    return "[" + text + "]"


def _nonneg_numeric(data: pd.DataFrame, column: str, argument: str) -> np.ndarray:
    """Return a column as float, raising on non-numeric, negative or infinite values."""
    s = data[column]
    if pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=float)
    elif pd.api.types.is_numeric_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        converted = pd.to_numeric(s, errors="coerce")
        bad = converted.isna().to_numpy() & s.notna().to_numpy()
        if bad.any():
            pos = np.flatnonzero(bad)
            vals = sorted({repr(v) for v in s.iloc[pos]})
            raise DataValidationError(
                f"`{argument}` column '{column}' must hold non-negative numbers; "
                f"{bad.sum()} non-numeric value(s) at positions {shown(pos)}: {shown(vals)}."
            )
        values = converted.to_numpy(dtype=float, na_value=np.nan)
    bad = (values < 0) | np.isinf(values)
    if bad.any():
        pos = np.flatnonzero(bad)
        vals = sorted(set(values[pos].tolist()))
        raise DataValidationError(
            f"`{argument}` column '{column}' must hold non-negative finite numbers; "
            f"{bad.sum()} invalid value(s) at positions {shown(pos)}: {shown(vals)}."
        )
    return values


def _as_day_numbers(
    values: pd.Series | pd.Index, argument: str, what: str
) -> tuple[np.ndarray, str]:
    """Convert dates (datetime64) or integer day numbers to int64 day numbers."""
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        na = s.isna().to_numpy()
        days = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").astype(np.int64)
        kind = "date"
    elif pd.api.types.is_integer_dtype(s) or (
        pd.api.types.is_float_dtype(s) and np.all(np.mod(s.dropna().to_numpy(), 1) == 0)
    ):
        na = s.isna().to_numpy()
        days = s.to_numpy(dtype=float, na_value=np.nan)
        days = np.where(na, 0, days).astype(np.int64)
        kind = "day"
    else:
        raise DataValidationError(
            f"`{argument}` {what} must be datetime64 dates or integer day numbers; "
            f"got dtype {s.dtype}. Convert text dates with pandas.to_datetime first."
        )
    if na.any():
        raise DataValidationError(
            f"`{argument}` {what} has {na.sum()} missing value(s) at positions "
            f"{shown(np.flatnonzero(na))}; every row needs a date."
        )
    return days, kind


def _per_person_value(
    spec: Any, data: pd.DataFrame, id_col: str, ids: np.ndarray, argument: str
) -> pd.Series:
    """Resolve a per-person argument given as a column, Series, mapping or frame.

    Returns a Series indexed by the unique ids (values may be missing).
    """
    if isinstance(spec, str):
        check_columns(data, spec, argument)
        person = pd.Index(ids).get_indexer(data[id_col])
        value_code = pd.factorize(data[spec], use_na_sentinel=False)[0]
        lo = np.full(len(ids), np.iinfo(np.int64).max)
        hi = np.full(len(ids), -1)
        np.minimum.at(lo, person, value_code)
        np.maximum.at(hi, person, value_code)
        varying = lo != hi
        if varying.any():
            raise DataValidationError(
                f"`{argument}` column '{spec}' must be constant within each person; "
                f"{int(varying.sum())} person(s) have more than one value."
            )
        first_row = np.full(len(ids), len(data))
        np.minimum.at(first_row, person, np.arange(len(data)))
        return pd.Series(data[spec].to_numpy()[first_row], index=ids)
    if isinstance(spec, pd.DataFrame):
        if id_col not in spec.columns:
            raise DataValidationError(
                f"`{argument}` given as a DataFrame must have the id column '{id_col}'; "
                f"it has {list(map(str, spec.columns))}."
            )
        others = [c for c in spec.columns if c != id_col]
        if argument in others:
            others = [argument]
        if len(others) != 1:
            raise DataValidationError(
                f"`{argument}` given as a DataFrame must have '{id_col}' and a column named "
                f"'{argument}' or exactly one other column; got {list(map(str, spec.columns))}."
            )
        spec = spec.set_index(id_col)[others[0]]
    if isinstance(spec, Mapping) and not isinstance(spec, pd.Series):
        spec = pd.Series(dict(spec))
    if isinstance(spec, pd.Series):
        if spec.index.has_duplicates:
            raise DataValidationError(
                f"`{argument}` has {int(spec.index.duplicated().sum())} duplicated id(s); "
                "give one value per person."
            )
        return spec.reindex(ids)
    raise ArgumentTypeError(
        f"`{argument}` must be a column name, a Series or mapping from id to value, or a "
        f"DataFrame with the id column; got {type(spec).__name__}."
    )


def resolve_thresholds(heavy_threshold: Any) -> tuple[float, float]:
    """Return the (male, female) heavy-day thresholds from the user's argument."""
    if isinstance(heavy_threshold, Mapping):
        keys = set(heavy_threshold)
        if keys != {"male", "female"}:
            raise DataValidationError(
                "`heavy_threshold` given as a mapping needs exactly the keys 'male' and "
                f"'female'; got {sorted(map(str, keys))}."
            )
        pair = (heavy_threshold["male"], heavy_threshold["female"])
    elif isinstance(heavy_threshold, (tuple, list)):
        if len(heavy_threshold) != 2:
            raise DataValidationError(
                "`heavy_threshold` given as a sequence must be (male, female); "
                f"got {len(heavy_threshold)} values."
            )
        pair = tuple(heavy_threshold)
    elif isinstance(heavy_threshold, numbers.Real) and not isinstance(heavy_threshold, bool):
        pair = (heavy_threshold, heavy_threshold)
    else:
        raise ArgumentTypeError(
            "`heavy_threshold` must be a number, a (male, female) pair or a mapping "
            f"{{'male': ..., 'female': ...}}; got {type(heavy_threshold).__name__}."
        )
    for v in pair:
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not float(v) > 0:
            raise DataValidationError(
                f"`heavy_threshold` values must be positive numbers of drinks; got {pair!r}."
            )
    return float(pair[0]), float(pair[1])


def _sex_thresholds(
    sex: Any,
    data: pd.DataFrame,
    id_col: str,
    ids: np.ndarray,
    heavy_threshold: Any,
) -> np.ndarray:
    male, female = resolve_thresholds(heavy_threshold)
    if sex is None:
        return np.full(len(ids), male)
    values = _per_person_value(sex, data, id_col, ids, "sex")
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataValidationError(
            f"`sex` is missing for {missing.sum()} of {len(ids)} person(s) (person positions "
            f"{shown(np.flatnonzero(missing))}); the heavy-day threshold depends on it. "
            "Give every person a sex, or pass sex=None to use one threshold for all."
        )
    keys = values.map(
        lambda v: (
            str(int(float(v))) if isinstance(v, numbers.Real) and float(v).is_integer() else str(v)
        )
    )
    labels = keys.str.strip().str.lower().map(_SEX_LABELS)
    unknown = sorted(set(keys[labels.isna()].tolist()))
    if unknown:
        raise DataValidationError(
            f"`sex` has values {shown(unknown)} that are not understood; use 0 = male, "
            "1 = female (or 'male'/'female', 'm'/'f')."
        )
    return np.where(labels.to_numpy() == "female", female, male).astype(float)


def _controlled_days(daily: pd.DataFrame, controlled: str | None) -> np.ndarray:
    """Per row: the day was spent in a controlled environment (boolean or 0/1 column)."""
    if controlled is None:
        return np.zeros(len(daily), dtype=bool)
    c = daily[controlled]
    if pd.api.types.is_bool_dtype(c):
        return c.fillna(False).to_numpy(dtype=bool)
    cnum = pd.to_numeric(c, errors="coerce")
    bad = (cnum.isna() & c.notna()) | ~(cnum.isna() | cnum.isin([0, 1]))
    if bad.any():
        pos = np.flatnonzero(bad.to_numpy())
        raise DataValidationError(
            f"`controlled` column '{controlled}' must be boolean or 0/1; "
            f"{len(pos)} other value(s) at positions {shown(pos)}."
        )
    return cnum.fillna(0).to_numpy(dtype=float) == 1


def _index_days(
    index_date: Any,
    daily: pd.DataFrame,
    id: str,
    ids: np.ndarray,
    codes: np.ndarray,
    days: np.ndarray,
    kind: str,
    date: str,
) -> np.ndarray:
    """Each person's index day: ``index_date`` as a day number, or their first day."""
    if index_date is None:
        index_day = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(index_day, codes, days)
        return index_day
    idx = _per_person_value(index_date, daily, id, ids, "index_date")
    missing = idx.isna().to_numpy()
    if missing.any():
        raise DataValidationError(
            f"`index_date` has no value for {missing.sum()} of {len(ids)} person(s) in "
            f"`data` (person positions {shown(np.flatnonzero(missing))})."
        )
    index_day, idx_kind = _as_day_numbers(idx, "index_date", "values")
    if idx_kind != kind:
        raise DataValidationError(
            f"`index_date` holds {idx_kind} values but the calendar's date column "
            f"'{date}' holds {kind} values; use the same kind for both."
        )
    return index_day


def prepare_daily(
    daily: Any,
    *,
    id: str,
    date: str,
    drinks: str,
    meetings: str | None,
    controlled: str | None,
    sex: Any,
    index_date: Any,
    heavy_threshold: Any,
) -> DailyArrays:
    """Validate a daily calendar and return sorted arrays (the input is not modified)."""
    daily = check_dataframe(daily, "data")
    for arg, col in (("id", id), ("date", date), ("drinks", drinks)):
        if not isinstance(col, str):
            raise ArgumentTypeError(f"`{arg}` must be a column name; got {type(col).__name__}.")
        check_columns(daily, col, arg)
    for arg, optional in (("meetings", meetings), ("controlled", controlled)):
        if optional is not None:
            col = optional
            if not isinstance(col, str):
                raise ArgumentTypeError(
                    f"`{arg}` must be a column name or None; got {type(col).__name__}."
                )
            check_columns(daily, col, arg)

    id_values = daily[id]
    id_na = id_values.isna().to_numpy()
    if id_na.any():
        raise DataValidationError(
            f"`data` id column '{id}' has {id_na.sum()} missing value(s) at positions "
            f"{shown(np.flatnonzero(id_na))}."
        )
    codes, ids = pd.factorize(id_values, sort=True)
    ids = np.asarray(ids)
    days, kind = _as_day_numbers(daily[date], "data", f"date column '{date}'")

    order = np.lexsort((days, codes))  # stable: equal keys keep their row order
    cs, ds = codes[order], days[order]
    repeat = np.r_[False, (cs[1:] == cs[:-1]) & (ds[1:] == ds[:-1])]
    if repeat.any():
        pos = np.sort(order[repeat])
        raise DataValidationError(
            f"`data` has {len(pos)} duplicate (id, date) row(s) (same person and day as an "
            f"earlier row) at positions {shown(pos)}; give one row per person and day."
        )

    drink_values = _nonneg_numeric(daily, drinks, "drinks")
    meeting_values = None if meetings is None else _nonneg_numeric(daily, meetings, "meetings")
    ctrl = _controlled_days(daily, controlled)

    threshold = _sex_thresholds(sex, daily, id, ids, heavy_threshold)

    index_day = _index_days(index_date, daily, id, ids, codes, days, kind, date)
    rel = days - index_day[codes]  # same order within person as `days`
    return DailyArrays(
        ids=ids,
        person=codes[order].astype(np.int64),
        day=rel[order],
        drinks=drink_values[order],
        meetings=None if meeting_values is None else meeting_values[order],
        controlled=ctrl[order],
        threshold=threshold,
        n_rows=len(daily),
        id_name=id,
    )


def first_per_group(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """First value per group for rows sorted by group (NaN for empty groups)."""
    out = np.full(n, np.nan)
    if len(group):
        starts = np.r_[0, np.flatnonzero(np.diff(group)) + 1]
        out[group[starts]] = values[starts]
    return out


def last_per_group(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Last value per group for rows sorted by group (NaN for empty groups)."""
    out = np.full(n, np.nan)
    if len(group):
        ends = np.r_[np.flatnonzero(np.diff(group)), len(group) - 1]
        out[group[ends]] = values[ends]
    return out


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
    """The previous summarize_calendar (frozen)."""
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
