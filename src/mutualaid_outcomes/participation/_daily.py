"""Validation and array preparation shared by the daily-calendar functions.

A daily calendar (Timeline Followback, Form-90) is turned into numpy arrays
sorted by person and day, with every date expressed as a whole number of days
relative to the person's index date (day 0 = index date).

Calendars usually arrive sorted by person and date. That layout is detected with one
pass over the id and date columns and then nothing is sorted, gathered or hashed: person
codes come from the positions where the id changes, and every per-person quantity from
the segment boundaries. Other layouts are sorted once on a combined integer key.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, check_dataframe
from ..errors import ArgumentTypeError, DataValidationError
from ._sorted import RowGroups, column_per_person, group_rows, person_codes

#: Default heavy-drinking-day thresholds in standard drinks (NIAAA: 5+ men, 4+ women).
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
    starts: np.ndarray  # first row of each person (the rows are grouped by person)


def shown(values: Any) -> str:
    """Format at most ``_MAX_SHOWN`` values for an error message."""
    vals = list(values)
    text = ", ".join(str(v) for v in vals[:_MAX_SHOWN])
    if len(vals) > _MAX_SHOWN:
        text += f", ... ({len(vals)} in all)"
    return "[" + text + "]"


def _nonneg_numeric(data: pd.DataFrame, column: str, argument: str) -> np.ndarray:
    """Return a column as float, raising on non-numeric, negative or infinite values.

    A float64 column is returned without a copy (callers only read it); the range is
    checked by two reductions, and the offending positions are only located on failure.
    """
    s = data[column]
    if pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=float)
    elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "iuf":
        values = s.to_numpy(dtype=float)  # NaN stays NaN; no missing-value pass
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
    if len(values) and (np.fmin.reduce(values) < 0 or np.fmax.reduce(values) == np.inf):
        bad = (values < 0) | np.isinf(values)
        pos = np.flatnonzero(bad)
        vals = sorted(set(values[pos].tolist()))
        raise DataValidationError(
            f"`{argument}` column '{column}' must hold non-negative finite numbers; "
            f"{bad.sum()} invalid value(s) at positions {shown(pos)}: {shown(vals)}."
        )
    return values


def _plain_integers(s: pd.Series) -> bool:
    """A numpy integer column (no missing values) whose values are exact as floats."""
    if not (isinstance(s.dtype, np.dtype) and s.dtype.kind in "iu") or len(s) == 0:
        return False
    v = s.to_numpy()
    return bool(v.min() > -(2**53) and v.max() < 2**53)


def _as_day_numbers(
    values: pd.Series | pd.Index, argument: str, what: str
) -> tuple[np.ndarray, str]:
    """Convert dates (datetime64) or integer day numbers to int64 day numbers."""
    s = pd.Series(values)
    if pd.api.types.is_datetime64_any_dtype(s):
        if getattr(s.dt, "tz", None) is not None:
            s = s.dt.tz_localize(None)
        na = s.isna().to_numpy()
        days = s.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]").view(np.int64)
        kind = "date"
    elif _plain_integers(s):
        # exactly what the float route below gives (all values are below 2**53)
        na = np.zeros(len(s), dtype=bool)
        days = s.to_numpy().astype(np.int64)
        kind = "day"
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
    spec: Any,
    data: pd.DataFrame,
    id_col: str,
    ids: np.ndarray,
    argument: str,
    groups: RowGroups | None = None,
) -> pd.Series:
    """Resolve a per-person argument given as a column, Series, mapping or frame.

    Returns a Series indexed by the unique ids (values may be missing). ``groups``
    (the calendar's row groups, when known) saves coding the ids again for a column.
    """
    if isinstance(spec, str):
        check_columns(data, spec, argument)
        if groups is None:
            person = pd.Index(ids).get_indexer(data[id_col]).astype(np.int64)
            order = np.argsort(person, kind="stable")
            groups = RowGroups(person, order, np.searchsorted(person[order], np.arange(len(ids))))
        values, n_varying = column_per_person(data[spec], groups)
        if n_varying:
            raise DataValidationError(
                f"`{argument}` column '{spec}' must be constant within each person; "
                f"{n_varying} person(s) have more than one value."
            )
        return pd.Series(values, index=ids)
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


def _sex_key(v: Any) -> str:
    """The text a sex value is looked up by (1, 1.0 and True all read ``"1"``)."""
    if isinstance(v, numbers.Real) and float(v).is_integer():
        return str(int(float(v)))
    return str(v)


def _sex_thresholds(
    sex: Any,
    data: pd.DataFrame,
    id_col: str,
    ids: np.ndarray,
    heavy_threshold: Any,
    groups: RowGroups | None = None,
) -> np.ndarray:
    male, female = resolve_thresholds(heavy_threshold)
    if sex is None:
        return np.full(len(ids), male)
    values = _per_person_value(sex, data, id_col, ids, "sex", groups)
    missing = values.isna().to_numpy()
    if missing.any():
        raise DataValidationError(
            f"`sex` is missing for {missing.sum()} of {len(ids)} person(s) (person positions "
            f"{shown(np.flatnonzero(missing))}); the heavy-day threshold depends on it. "
            "Give every person a sex, or pass sex=None to use one threshold for all."
        )
    # look up each distinct value once, not once per person
    codes, distinct = pd.factorize(values)
    keys = pd.Series([_sex_key(v) for v in distinct], dtype=object)
    labels = keys.str.strip().str.lower().map(_SEX_LABELS)
    unknown = sorted(set(keys[labels.isna()].tolist()))
    if unknown:
        raise DataValidationError(
            f"`sex` has values {shown(unknown)} that are not understood; use 0 = male, "
            "1 = female (or 'male'/'female', 'm'/'f')."
        )
    female_code = (labels.to_numpy() == "female")[codes]
    return np.where(female_code, female, male).astype(float)


def _controlled_days(daily: pd.DataFrame, controlled: str | None) -> np.ndarray:
    """Per row: the day was spent in a controlled environment (boolean or 0/1 column)."""
    if controlled is None:
        return np.zeros(len(daily), dtype=bool)
    c = daily[controlled]
    if isinstance(c.dtype, np.dtype) and c.dtype.kind == "b":
        return c.to_numpy()  # read only by the callers
    if pd.api.types.is_bool_dtype(c):
        return c.fillna(False).to_numpy(dtype=bool)
    if _plain_integers(c):
        v = c.to_numpy()
        if v.min() >= 0 and v.max() <= 1:
            return v == 1
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
    groups: RowGroups,
    sorted_days: np.ndarray,
    kind: str,
    date: str,
) -> np.ndarray:
    """Each person's index day: ``index_date`` as a day number, or their first day."""
    if index_date is None:
        return sorted_days[groups.starts]  # rows are in (person, day) order
    idx = _per_person_value(index_date, daily, id, ids, "index_date", groups)
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


def _check_column_names(
    daily: pd.DataFrame, required: dict[str, Any], optional: dict[str, Any]
) -> None:
    for arg, col in required.items():
        if not isinstance(col, str):
            raise ArgumentTypeError(f"`{arg}` must be a column name; got {type(col).__name__}.")
        check_columns(daily, col, arg)
    for arg, col in optional.items():
        if col is not None:
            if not isinstance(col, str):
                raise ArgumentTypeError(
                    f"`{arg}` must be a column name or None; got {type(col).__name__}."
                )
            check_columns(daily, col, arg)


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
    """Validate a daily calendar and return sorted arrays (the input is not modified).

    The arrays may share memory with ``daily`` when it is already sorted by person and
    date (no copy is made then); callers only read them.
    """
    daily = check_dataframe(daily, "data")
    _check_column_names(
        daily,
        {"id": id, "date": date, "drinks": drinks},
        {"meetings": meetings, "controlled": controlled},
    )
    id_values = daily[id]
    id_na = id_values.isna().to_numpy()
    if id_na.any():
        raise DataValidationError(
            f"`data` id column '{id}' has {id_na.sum()} missing value(s) at positions "
            f"{shown(np.flatnonzero(id_na))}."
        )
    codes, ids = person_codes(id_values)
    days, kind = _as_day_numbers(daily[date], "data", f"date column '{date}'")

    groups, duplicates = group_rows(codes, days)
    if len(duplicates):
        raise DataValidationError(
            f"`data` has {len(duplicates)} duplicate (id, date) row(s) (same person and day "
            f"as an earlier row) at positions {shown(duplicates)}; give one row per person "
            "and day."
        )

    drink_values = _nonneg_numeric(daily, drinks, "drinks")
    meeting_values = None if meetings is None else _nonneg_numeric(daily, meetings, "meetings")
    ctrl = _controlled_days(daily, controlled)

    threshold = _sex_thresholds(sex, daily, id, ids, heavy_threshold, groups)

    day = groups.sorted(days)  # a fresh array (converted or gathered): shifted in place
    del days
    index_day = _index_days(index_date, daily, id, ids, groups, day, kind, date)
    person = groups.sorted(codes)
    day -= index_day[person]
    return DailyArrays(
        ids=ids,
        person=person,
        day=day,
        drinks=groups.sorted(drink_values),
        meetings=None if meeting_values is None else groups.sorted(meeting_values),
        controlled=groups.sorted(ctrl),
        threshold=threshold,
        n_rows=len(daily),
        id_name=id,
        starts=groups.starts,
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
