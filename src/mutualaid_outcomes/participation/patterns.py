"""Classification of longitudinal meeting attendance into documented patterns."""

from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from .._validation import check_columns, check_dataframe, renamed
from ..errors import ArgumentTypeError, DataValidationError
from ._daily import _nonneg_numeric, shown

__all__ = ["PatternRules", "attendance_patterns", "PATTERN_LABELS"]

#: Pattern labels, in the order of the categorical ``pattern`` column.
PATTERN_LABELS: tuple[str, ...] = (
    "never",
    "early drop-out",
    "declining",
    "sustained",
    "late starter",
    "intermittent",
    "too few waves",
    "other",
)


@dataclass(frozen=True)
class PatternRules:
    """Thresholds of :func:`attendance_patterns` (immutable; build a new one to adjust).

    Parameters
    ----------
    attending_above : float
        A wave counts as attending when attendance is above this value.
    early_waves : int
        The first ``early_waves`` waves of the panel (by position among its sorted
        distinct times) form the early period.
    min_waves : int
        People with fewer observed waves are labelled ``"too few waves"``.
    dropout_zero_waves : int
        Observed non-attending waves needed after the last attending wave to call
        a drop-out.
    decline_ratio : float
        Someone still attending at the last observed wave whose attendance there is
        below ``decline_ratio`` times their peak is ``"declining"``.
    max_missed_waves : int
        Non-attending waves tolerated between the first attending wave and the last
        observed wave for ``"sustained"``; more make the pattern ``"intermittent"``.

    Examples
    --------
    >>> PatternRules(early_waves=3).early_waves
    3
    """

    attending_above: float = 0.0
    early_waves: int = 2
    min_waves: int = 2
    dropout_zero_waves: int = 1
    decline_ratio: float = 0.5
    max_missed_waves: int = 0

    def __post_init__(self) -> None:
        for name in ("early_waves", "min_waves", "dropout_zero_waves"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
                raise DataValidationError(
                    f"PatternRules.{name} must be an integer >= 1; got {v!r}."
                )
        v = self.max_missed_waves
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise DataValidationError(
                f"PatternRules.max_missed_waves must be an integer >= 0; got {v!r}."
            )
        for name in ("attending_above", "decline_ratio"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or v < 0:
                raise DataValidationError(
                    f"PatternRules.{name} must be a non-negative number; got {v!r}."
                )
        if self.decline_ratio > 1:
            raise DataValidationError(
                f"PatternRules.decline_ratio must be between 0 and 1; got {self.decline_ratio!r}."
            )


@renamed(panel="data")
def _wave_grid(
    panel: pd.DataFrame, id: str, time: str, attendance: str
) -> tuple[np.ndarray, pd.Index, pd.Index]:
    """Attendance as a people x waves array (NaN: wave not observed), the ids and times.

    Checks the columns, missing ids or times and duplicated (id, time) rows.
    """
    for arg, col in (("id", id), ("time", time), ("attendance", attendance)):
        if not isinstance(col, str):
            raise ArgumentTypeError(f"`{arg}` must be a column name; got {type(col).__name__}.")
        check_columns(panel, col, arg)
    for arg, col in (("id", id), ("time", time)):
        na = panel[col].isna().to_numpy()
        if na.any():
            raise DataValidationError(
                f"`data` {arg} column '{col}' has {na.sum()} missing value(s) at positions "
                f"{shown(np.flatnonzero(na))}."
            )
    values = _nonneg_numeric(panel, attendance, "attendance")
    pcode, ids = pd.factorize(panel[id], sort=True)
    tcode, times = pd.factorize(panel[time], sort=True)
    dup = pd.DataFrame({"p": pcode, "t": tcode}).duplicated().to_numpy()
    if dup.any():
        raise DataValidationError(
            f"`data` has {dup.sum()} duplicate (id, time) row(s) at positions "
            f"{shown(np.flatnonzero(dup))}; give one row per person and wave."
        )
    a = np.full((len(ids), len(times)), np.nan)
    a[pcode, tcode] = values
    return a, ids, times


def _time_at(time_values: np.ndarray, index: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The wave time at each person's wave ``index`` where ``valid`` (else NaN / None)."""
    picked = time_values[np.clip(index, 0, len(time_values) - 1)]
    if pd.api.types.is_numeric_dtype(time_values):
        return np.where(valid, picked.astype(float), np.nan)
    return pd.Series(picked).where(valid).to_numpy()


def attendance_patterns(
    data: pd.DataFrame,
    id: str = "id",
    time: str = "month",
    attendance: str = "aa_meetings",
    *,
    rules: PatternRules | None = None,
) -> pd.DataFrame:
    r"""Classify each person's attendance over waves into a pattern, with time to drop-out.

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel, one row per person and wave.
    id : str
        Person identifier column.
    time : str
        Wave time column (numbers such as months, or dates); waves are ordered by it.
    attendance : str
        Attendance at each wave (meeting count, days attending or 0/1); missing =
        wave not observed.
    rules : PatternRules, optional
        Thresholds; default ``PatternRules()``.

    Returns
    -------
    pandas.DataFrame
        One row per person (sorted by id): the id column, ``pattern`` (ordered
        categorical over :data:`PATTERN_LABELS`), ``n_waves_observed``,
        ``first_attending_time``, ``last_attending_time``, ``peak_attendance``,
        ``last_attendance`` (at the last observed wave), ``dropout_time`` and
        ``dropout_event``. ``result.attrs["rules"]`` holds the rules used.

    Raises
    ------
    DataValidationError
        Duplicate (id, time) rows, missing ids or times, negative or non-numeric
        attendance.
    ColumnNotFoundError
        A named column is not in ``data``.
    ArgumentTypeError
        ``rules`` is not a :class:`PatternRules`.

    Notes
    -----
    Waves are positions :math:`0, 1, \dots` among the distinct times of the panel. A
    wave is attending when attendance > ``attending_above``. Rules apply in order;
    the first that matches gives the label:

    1. ``too few waves``: fewer than ``min_waves`` observed waves.
    2. ``never``: no attending wave.
    3. ``late starter``: first attending wave after the early period, with at least
       one observed non-attending early wave (with no early wave observed the
       pattern is ``other``).
    4. A *drop-out* is at least ``dropout_zero_waves`` observed non-attending
       waves after the last attending wave, with no attendance after it.
       ``early drop-out``: a drop-out whose last attending wave is in the early
       period; ``declining``: a later drop-out.
    5. Still attending at the end: ``declining`` when attendance at the last
       observed wave is below ``decline_ratio`` x the person's peak;
       ``intermittent`` when more than ``max_missed_waves`` non-attending waves lie
       between the first attending wave and the last observed wave; otherwise
       ``sustained``.

    Time to drop-out: for people who ever attended, ``dropout_time`` is the time of
    the first observed wave after the last attending wave (``dropout_event = 1``)
    when that is a drop-out by rule 4; otherwise they are censored at their last
    observed wave (``dropout_event = 0``). Never-attenders have no drop-out time.
    All rules are evaluated on a people x waves array without a loop over people.

    Examples
    --------
    >>> import pandas as pd
    >>> panel = pd.DataFrame({
    ...     "id": [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4,
    ...     "month": [0, 3, 6, 9] * 4,
    ...     "aa_meetings": [10, 12, 11, 9, 8, 0, 0, 0, 0, 0, 5, 6, 0, 0, 0, 0],
    ... })
    >>> attendance_patterns(panel)[["id", "pattern", "dropout_time", "dropout_event"]]
       id         pattern  dropout_time  dropout_event
    0   1       sustained           9.0              0
    1   2  early drop-out           3.0              1
    2   3    late starter           9.0              0
    3   4           never           NaN              0
    """
    if rules is None:
        rules = PatternRules()
    if not isinstance(rules, PatternRules):
        raise ArgumentTypeError(f"`rules` must be a PatternRules; got {type(rules).__name__}.")
    a, ids, times = _wave_grid(check_dataframe(data), id, time, attendance)
    n, n_t = a.shape
    obs = ~np.isnan(a)
    att = obs & (np.nan_to_num(a, nan=0.0) > rules.attending_above)
    pos = np.arange(n_t)[None, :]
    n_obs = obs.sum(axis=1)
    ever = att.any(axis=1)
    first_att = np.where(ever, att.argmax(axis=1), -1)
    last_att = np.where(ever, n_t - 1 - att[:, ::-1].argmax(axis=1), -1)
    last_obs = np.where(n_obs > 0, n_t - 1 - obs[:, ::-1].argmax(axis=1), -1)
    early = pos < rules.early_waves
    zero = obs & ~att
    early_zero = (zero & early).any(axis=1)
    after_last = obs & (pos > last_att[:, None])
    trailing = after_last.sum(axis=1)
    dropout = ever & (trailing >= rules.dropout_zero_waves)
    missed = (zero & (pos > first_att[:, None]) & (pos <= last_obs[:, None])).sum(axis=1)
    filled = np.where(obs, a, -np.inf)
    peak = np.where(n_obs > 0, filled.max(axis=1), np.nan)
    rows = np.arange(n)
    last_level = np.where(n_obs > 0, a[rows, np.maximum(last_obs, 0)], np.nan)

    conditions = [
        n_obs < rules.min_waves,
        ~ever,
        (first_att >= rules.early_waves) & early_zero,
        first_att >= rules.early_waves,
        dropout & (last_att < rules.early_waves),
        dropout,
        last_level < rules.decline_ratio * peak,
        missed > rules.max_missed_waves,
    ]
    choices = [
        "too few waves",
        "never",
        "late starter",
        "other",
        "early drop-out",
        "declining",
        "declining",
        "intermittent",
    ]
    label = np.select(conditions, choices, default="sustained")
    pattern = pd.Categorical(label, categories=list(PATTERN_LABELS), ordered=True)

    time_values = np.asarray(times)
    first_after = after_last.argmax(axis=1)
    dropout_idx = np.where(dropout, first_after, last_obs)
    out = pd.DataFrame(
        {
            id: np.asarray(ids),
            "pattern": pattern,
            "n_waves_observed": n_obs.astype(np.int64),
            "first_attending_time": _time_at(time_values, first_att, ever),
            "last_attending_time": _time_at(time_values, last_att, ever),
            "peak_attendance": peak,
            "last_attendance": last_level,
            "dropout_time": _time_at(time_values, dropout_idx, ever),
            "dropout_event": dropout.astype(np.int64),
        }
    )
    out.attrs["rules"] = asdict(rules)
    return out
