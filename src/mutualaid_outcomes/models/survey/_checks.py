"""Input checks for survey designs: weights, ids, strata, FPCs and replicate weights.

Every message names the argument, the column and (up to five of) the offending rows,
counted from 0 in the order of ``data`` and shown with their index labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import as_column_list, check_columns, check_option
from ...errors import ArgumentTypeError, DataValidationError

LONELY_PSU = ("fail", "adjust", "average", "remove", "certainty")
MAX_SHOWN = 5


def show_rows(data: pd.DataFrame, positions: np.ndarray) -> str:
    """'rows 3, 17 (index 103, 117) and 4 more' for messages (no data values)."""
    pos = np.asarray(positions)[:MAX_SHOWN]
    labels = [str(v) for v in data.index[pos]]
    text = f"rows {', '.join(str(int(p)) for p in pos)} (index {', '.join(labels)})"
    extra = len(positions) - len(pos)
    if extra > 0:
        text += f" and {extra} more"
    return text


def stage_columns(
    data: pd.DataFrame, value: str | Sequence[str | None] | None, argument: str
) -> list[str | None]:
    """Normalise a per-stage argument to a list of column names (``None`` allowed inside)."""
    if value is None:
        return []
    if isinstance(value, str):
        items: list[str | None] = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise ArgumentTypeError(
            f"`{argument}` must be a column name or a list of column names (one per "
            f"sampling stage); got {type(value).__name__}."
        )
    for item in items:
        if item is not None and not isinstance(item, str):
            raise ArgumentTypeError(
                f"`{argument}` must contain column names (strings) or None; got {item!r}."
            )
    named = [c for c in items if c is not None]
    check_columns(data, named, argument)
    return items


def check_complete(data: pd.DataFrame, column: str, argument: str) -> pd.Series:
    """A design column without missing values."""
    col = data[column]
    miss = np.flatnonzero(col.isna().to_numpy())
    if len(miss):
        raise DataValidationError(
            f"`{argument}` column '{column}' has {len(miss)} missing values ("
            f"{show_rows(data, miss)}); every row of a survey design needs its "
            f"{argument} value. Fill them in, or drop those rows before building the design "
            "if they are not part of the sample."
        )
    return col


def check_design_weights(data: pd.DataFrame, column: str) -> np.ndarray:
    """Sampling weights: numeric, complete, finite and strictly positive."""
    col = check_complete(data, column, "weights")
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise DataValidationError(f"`weights` column '{column}' must be numeric; got {col.dtype}.")
    w = col.to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(w) | (w <= 0))
    if len(bad):
        raise DataValidationError(
            f"`weights` column '{column}' must be finite and > 0; {len(bad)} values are not "
            f"({show_rows(data, bad)}). Sampling weights are inverse inclusion "
            "probabilities; to analyse a subgroup use design.subset(...) rather than zero "
            "weights."
        )
    return w


def check_numeric_column(data: pd.DataFrame, column: str, argument: str) -> np.ndarray:
    """A complete numeric design column as float."""
    col = check_complete(data, column, argument)
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        raise DataValidationError(
            f"`{argument}` column '{column}' must be numeric; got {col.dtype}."
        )
    return col.to_numpy(dtype=float)


def check_lonely(lonely_psu: Any) -> str:
    """The lonely-PSU rule (R ``options(survey.lonely.psu = ...)``)."""
    return check_option(lonely_psu, LONELY_PSU, "lonely_psu")


def check_replicate_columns(
    data: pd.DataFrame, replicate_weights: Any
) -> tuple[list[str], np.ndarray]:
    """Replicate weight columns: a list of names, complete, finite and >= 0."""
    if isinstance(replicate_weights, str) or replicate_weights is None:
        raise ArgumentTypeError(
            "`replicate_weights` must be a list of column names (one per replicate), e.g. "
            f"[f'repwt{{i}}' for i in range(1, 81)]; got {replicate_weights!r}."
        )
    cols = as_column_list(list(replicate_weights), "replicate_weights")
    if len(cols) < 2:
        raise DataValidationError(
            f"`replicate_weights` must name at least 2 columns; got {len(cols)}."
        )
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise DataValidationError(f"`replicate_weights` names columns more than once: {dup}.")
    check_columns(data, cols, "replicate_weights")
    frame = data.loc[:, cols]
    bad_type = [c for c in cols if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad_type:
        raise DataValidationError(
            f"`replicate_weights` columns must be numeric; not numeric: {bad_type[:10]}."
        )
    A = frame.to_numpy(dtype=float)
    for j, c in enumerate(cols):
        bad = np.flatnonzero(~np.isfinite(A[:, j]) | (A[:, j] < 0))
        if len(bad):
            raise DataValidationError(
                f"`replicate_weights` column '{c}' must be finite and >= 0; {len(bad)} values "
                f"are missing, infinite or negative ({show_rows(data, bad)})."
            )
    return cols, A


def domain_mask(data: pd.DataFrame, mask: Any) -> np.ndarray:
    """Boolean row mask from an array, Series or eval expression (NA -> False)."""
    if isinstance(mask, str):
        try:
            m = data.eval(mask)
        except Exception as exc:  # pandas raises many types
            raise DataValidationError(f"`mask` expression {mask!r} failed: {exc}") from None
    else:
        m = mask
    if isinstance(m, pd.Series):
        if not m.index.equals(data.index):
            raise DataValidationError("`mask` Series must have the same index as the design data.")
        m = m.to_numpy()
    arr = np.asarray(m)
    if arr.shape != (len(data),):
        raise DataValidationError(
            f"`mask` must have one value per row of the design ({len(data)}); got shape "
            f"{arr.shape}."
        )
    if arr.dtype == object:
        arr = pd.array(arr, dtype="boolean").fillna(False).to_numpy(dtype=bool)
    if arr.dtype != bool:
        raise ArgumentTypeError(f"`mask` must be boolean; got values of dtype {arr.dtype}.")
    return arr.copy()
