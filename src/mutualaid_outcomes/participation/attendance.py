"""Coding of mutual-help meeting attendance: frequencies, counts, dose bands."""

from __future__ import annotations

import numbers
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._validation import check_columns, check_dataframe, check_option
from ..errors import ArgumentTypeError, DataValidationError
from ._daily import shown

__all__ = [
    "code_attendance",
    "DAYS_PER_MONTH",
    "FREQUENCY_TO_MONTHLY",
    "DOSE_BANDS",
]

#: Mean length of a month in days (365.25 / 12).
DAYS_PER_MONTH: float = 365.25 / 12

_WEEK = DAYS_PER_MONTH / 7.0

#: Meetings per month for each frequency category (category midpoints; see
#: :func:`code_attendance` Notes). Read-only; pass ``conversion=`` to override or extend.
FREQUENCY_TO_MONTHLY: Mapping[str, float] = MappingProxyType(
    {
        "daily": 7.0 * _WEEK,  # 30.44: every day
        "several times a week": 5.0 * _WEEK,  # 4-6 times a week, midpoint 5
        "2-3 times a week": 2.5 * _WEEK,  # midpoint 2.5 a week
        "weekly": 1.0 * _WEEK,  # once a week
        "every 2 weeks": 0.5 * _WEEK,  # once a fortnight
        "monthly": 1.0,  # once a month
        "less than monthly": 0.5,  # between 0 and 1 a month, midpoint 0.5
        "never": 0.0,
    }
)

#: Default dose bands: band label -> inclusive lower bound in meetings per month,
#: for values above zero (zero is always "none").
DOSE_BANDS: Mapping[str, float] = MappingProxyType(
    {
        "less than weekly": 0.0,  # above 0 and below 4 a month
        "about weekly": 4.0,  # 4 to < 8 a month (about 1 a week)
        "2+ per week": 8.0,  # 8 to < 26 a month (about 2 to 6 a week)
        "near daily": 26.0,  # 26+ a month (6+ a week)
    }
)


def _normalise_label(value: Any) -> str:
    """Case-fold, unify dashes and collapse spaces in a frequency label."""
    text = str(value).strip().lower()
    text = re.sub(r"[\u2010-\u2015]", "-", text)
    text = re.sub(r"\s*-\s*", "-", text)
    return re.sub(r"\s+", " ", text)


def _check_bands(bands: Any) -> list[tuple[str, float]]:
    if not isinstance(bands, Mapping) or not bands:
        raise ArgumentTypeError(
            "`bands` must be a non-empty dict of band label -> lower bound (meetings per "
            f"month); got {type(bands).__name__}."
        )
    items = []
    for label, lower in bands.items():
        if isinstance(lower, bool) or not isinstance(lower, numbers.Real) or lower < 0:
            raise DataValidationError(
                f"`bands` lower bounds must be non-negative numbers; got {label!r}: {lower!r}."
            )
        items.append((str(label), float(lower)))
    lowers = [lo for _, lo in items]
    if lowers[0] != 0 or any(b <= a for a, b in zip(lowers, lowers[1:])):
        raise DataValidationError(
            "`bands` lower bounds must start at 0 and increase strictly (the first band "
            f"covers values just above zero); got {lowers}."
        )
    if "none" in [lab for lab, _ in items]:
        raise DataValidationError("`bands` must not define 'none'; zero is always 'none'.")
    return items


def code_attendance(
    data: pd.DataFrame,
    column: str,
    *,
    kind: Literal["frequency", "count"] = "frequency",
    mapping: Mapping[Any, str] | None = None,
    conversion: Mapping[str, float] | None = None,
    period_days: float | None = None,
    bands: Mapping[str, float] = DOSE_BANDS,
) -> pd.DataFrame:
    r"""Convert reported meeting attendance to meetings per month, any attendance and dose bands.

    Parameters
    ----------
    data : pandas.DataFrame
        Data with one attendance column.
    column : str
        The attendance column.
    kind : {"frequency", "count"}
        ``"frequency"``: frequency categories (labels such as ``"2-3 times a
        week"``, or numeric codes translated by ``mapping``). ``"count"``: numbers
        of meetings over ``period_days`` days.
    mapping : dict, optional
        For ``kind="frequency"``: maps the values found in ``column`` (numeric codes
        or the survey's own labels) to frequency labels of the conversion table.
        Values not in ``mapping`` are matched against the table directly.
    conversion : dict, optional
        Frequency label -> meetings per month, overriding or extending
        :data:`FREQUENCY_TO_MONTHLY` (for example ``{"twice a month": 2.0}``).
    period_days : float, optional
        For ``kind="count"``: length in days of the period the count covers
        (e.g. 90 for "meetings in the past 90 days"). Required for counts.
    bands : dict
        Band label -> inclusive lower bound in meetings per month for values above
        zero; the first bound must be 0 (covering values just above zero) and the
        bounds must increase. Zero is always ``"none"``. Default :data:`DOSE_BANDS`.

    Returns
    -------
    pandas.DataFrame
        Aligned to ``data.index``, with ``meetings_per_month`` (float),
        ``any_attendance`` (1.0 / 0.0) and ``dose_band`` (ordered categorical
        starting with ``"none"``). Missing input values give missing outputs; no
        row is dropped.

    Raises
    ------
    DataValidationError
        Unknown frequency labels (listing them and the valid labels), numeric codes
        without a ``mapping``, negative or non-numeric counts (positions and
        values), or invalid ``bands``/``conversion``/``period_days``.
    ColumnNotFoundError
        ``column`` is not in ``data``.
    OptionError
        ``kind`` is not one of the allowed values.

    Notes
    -----
    A month is :math:`365.25/12 = 30.44` days, a week-based frequency of :math:`f`
    meetings a week is :math:`f \times 30.44/7` meetings a month. Ranges are coded at
    their midpoints, the usual convention for categorical frequency items (e.g. the
    graduated-frequency and quantity-frequency codings reviewed by Dawson 2003):

    ==========================  ===============  ==================
    label                       per week         meetings per month
    ==========================  ===============  ==================
    daily                       7                30.44
    several times a week        5 (4-6)          21.74
    2-3 times a week            2.5              10.87
    weekly                      1                4.35
    every 2 weeks               0.5              2.17
    monthly                     --               1
    less than monthly           --               0.5 (0-1)
    never                       0                0
    ==========================  ===============  ==================

    Labels are matched after case-folding, trimming and unifying dashes and spaces
    (``"2 – 3 times a week"`` matches ``"2-3 times a week"``). Counts are converted as
    ``count x 30.44 / period_days``. ``any_attendance`` is 1 when meetings per month
    are above zero. Default dose bands (meetings per month): none (0), less than
    weekly (above 0, below 4), about weekly (4 to below 8), 2+ per week (8 to below
    26), near daily (26 or more, about 6+ a week); "2-3 times a week" falls in
    "2+ per week" and "several times a week" in "2+ per week".

    References
    ----------
    Dawson DA (2003). Methodological issues in measuring alcohol use. Alcohol
    Research & Health 27(1), 18-29.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"aa_freq": ["weekly", "2-3 times a week", "never", None]})
    >>> code_attendance(df, "aa_freq").round(2)
       meetings_per_month  any_attendance     dose_band
    0                4.35             1.0  about weekly
    1               10.87             1.0   2+ per week
    2                0.00             0.0          none
    3                 NaN             NaN           NaN
    >>> codes = pd.DataFrame({"q12": [1, 3, 5]})
    >>> code_attendance(codes, "q12", mapping={1: "never", 3: "monthly", 5: "daily"}).round(2)
       meetings_per_month  any_attendance         dose_band
    0                0.00             0.0              none
    1                1.00             1.0  less than weekly
    2               30.44             1.0        near daily
    >>> counts = pd.DataFrame({"aa90": [0, 12, 45]})
    >>> code_attendance(counts, "aa90", kind="count", period_days=90).round(2)
       meetings_per_month  any_attendance      dose_band
    0                0.00             0.0           none
    1                4.06             1.0   about weekly
    2               15.22             1.0    2+ per week
    """
    data = check_dataframe(data, "data", allow_empty=True)
    if not isinstance(column, str):
        raise ArgumentTypeError(f"`column` must be a column name; got {type(column).__name__}.")
    check_columns(data, column, "column")
    check_option(kind, ("frequency", "count"), "kind")
    band_items = _check_bands(bands)
    s = data[column]

    if kind == "frequency":
        if period_days is not None:
            raise DataValidationError("`period_days` applies only to kind='count'.")
        per_month = _frequency_to_monthly(s, column, mapping, conversion)
    else:
        if mapping is not None or conversion is not None:
            raise DataValidationError("`mapping` and `conversion` apply only to kind='frequency'.")
        if (
            period_days is None
            or isinstance(period_days, bool)
            or not isinstance(period_days, numbers.Real)
            or not period_days > 0
        ):
            raise DataValidationError(
                "kind='count' needs `period_days`, the positive number of days the count "
                f"covers (e.g. 90); got {period_days!r}."
            )
        counts = _count_values(s, column)
        per_month = counts * (DAYS_PER_MONTH / float(period_days))

    any_att = np.where(np.isnan(per_month), np.nan, (per_month > 0).astype(float))
    labels = ["none"] + [lab for lab, _ in band_items]
    lowers = np.array([lo for _, lo in band_items])
    code = np.searchsorted(lowers, per_month, side="right")  # 1.. for values > 0
    code = np.where(per_month > 0, np.maximum(code, 1), 0)
    code = np.where(np.isnan(per_month), -1, code)
    band = pd.Categorical.from_codes(code, categories=labels, ordered=True)
    return pd.DataFrame(
        {"meetings_per_month": per_month, "any_attendance": any_att, "dose_band": band},
        index=data.index,
    )


def _count_values(s: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
    else:
        conv = pd.to_numeric(s, errors="coerce")
        bad = (conv.isna() & s.notna()).to_numpy()
        if bad.any():
            pos = np.flatnonzero(bad)
            raise DataValidationError(
                f"`column` '{column}' must hold meeting counts; {bad.sum()} non-numeric "
                f"value(s) at positions {shown(pos)}: {shown(sorted({repr(v) for v in s.iloc[pos]}))}."
            )
        values = conv.to_numpy(dtype=float, na_value=np.nan)
    bad = (values < 0) | np.isinf(values)
    if bad.any():
        pos = np.flatnonzero(bad)
        raise DataValidationError(
            f"`column` '{column}' must hold non-negative finite meeting counts; {bad.sum()} "
            f"invalid value(s) at positions {shown(pos)}: {shown(sorted(set(values[pos].tolist())))}."
        )
    return values


def _frequency_to_monthly(
    s: pd.Series, column: str, mapping: Mapping[Any, str] | None, conversion: Any
) -> np.ndarray:
    table = dict(FREQUENCY_TO_MONTHLY)
    if conversion is not None:
        if not isinstance(conversion, Mapping):
            raise ArgumentTypeError(
                "`conversion` must be a dict of frequency label -> meetings per month; "
                f"got {type(conversion).__name__}."
            )
        for lab, val in conversion.items():
            if isinstance(val, bool) or not isinstance(val, numbers.Real) or not float(val) >= 0:
                raise DataValidationError(
                    f"`conversion` values must be non-negative numbers; got {lab!r}: {val!r}."
                )
            table[str(lab)] = float(val)
    lookup = {_normalise_label(k): v for k, v in table.items()}
    if mapping is not None and not isinstance(mapping, Mapping):
        raise ArgumentTypeError(
            f"`mapping` must be a dict from values to frequency labels; got {type(mapping).__name__}."
        )
    if mapping is not None:
        bad_targets = sorted(
            {str(v) for v in mapping.values() if _normalise_label(v) not in lookup}
        )
        if bad_targets:
            raise DataValidationError(
                f"`mapping` maps to labels {bad_targets} that are not in the conversion table; "
                f"valid labels: {list(table)}. Add new labels with `conversion`."
            )

    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    present = s.notna().to_numpy()
    uniques = pd.unique(s[present])
    value_of: dict[Any, float] = {}
    unknown: list[str] = []
    numeric_unmapped: list[Any] = []
    for u in uniques:
        if mapping is not None and u in mapping:
            value_of[u] = lookup[_normalise_label(mapping[u])]
            continue
        if isinstance(u, str):
            key = _normalise_label(u)
            if key in lookup:
                value_of[u] = lookup[key]
                continue
            unknown.append(u)
        else:
            numeric_unmapped.append(u)
    if numeric_unmapped:
        vals = sorted(numeric_unmapped, key=str)
        raise DataValidationError(
            f"`column` '{column}' holds codes {shown(vals)} that are not frequency labels; "
            "pass `mapping` from each code to a label of the conversion table "
            f"(valid labels: {list(table)}), or use kind='count' for meeting counts."
        )
    if unknown:
        raise DataValidationError(
            f"`column` '{column}' has unknown frequency label(s) {shown(sorted(unknown))}; "
            f"valid labels: {list(table)}. Map them with `mapping` or add them with "
            "`conversion`."
        )
    out = np.full(len(s), np.nan)
    if present.any():
        out[present] = s[present].map(value_of).to_numpy(dtype=float)
    return out
