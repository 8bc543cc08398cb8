"""Argument and long-data checks of :func:`~mutualaid_outcomes.prep.panel.lagged_panel`."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import as_column_list, check_columns
from ..errors import ArgumentTypeError, DataValidationError, DataWarning

__all__ = ["check_request", "observed_waves", "warn_varying"]


def check_request(
    data: pd.DataFrame,
    id: str,
    time: str,
    variables: Mapping[str, Any] | None,
    lags: Mapping[str, Any] | None,
    baseline: str | Sequence[str] | None,
    invariant: str | Sequence[str] | None,
    dropna: Any,
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The requested columns: column -> waves (or offsets), baseline and invariant columns."""
    check_columns(data, [id], "id")
    check_columns(data, [time], "time")
    if id == time:
        raise DataValidationError("`id` and `time` must be different columns.")
    if variables is not None and lags is not None:
        raise DataValidationError(
            "Give either `variables` (absolute waves) or `lags` (offsets from an origin), not both."
        )
    for argname, spec in (("variables", variables), ("lags", lags)):
        if spec is not None and not isinstance(spec, Mapping):
            raise ArgumentTypeError(
                f"`{argname}` must be a mapping of column name to wave(s), e.g. "
                f"{{'aa_meetings': 3, 'pda': [0, 15]}}; got {type(spec).__name__}."
            )
    if not isinstance(dropna, (bool, np.bool_)):
        raise ArgumentTypeError(f"`dropna` must be True or False; got {dropna!r}.")
    spec_map = dict(variables if variables is not None else (lags or {}))
    check_columns(data, list(spec_map), "lags" if lags is not None else "variables")
    base_cols = check_columns(data, as_column_list(baseline, "baseline"), "baseline")
    inv_cols = check_columns(data, as_column_list(invariant, "invariant"), "invariant")
    if not spec_map and not base_cols:
        raise DataValidationError(
            "Nothing requested: give `variables` (or `lags`) and/or `baseline` columns."
        )
    clash = [c for c in [*spec_map, *base_cols, *inv_cols] if c in (id, time)]
    if clash:
        raise DataValidationError(
            f"`id`/`time` columns cannot also be requested as variables: {clash}."
        )
    return spec_map, base_cols, inv_cols


def observed_waves(data: pd.DataFrame, id: str, time: str) -> list[Any]:
    """The waves in ``data`` in order, after checking every row has one ``(id, time)`` pair.

    Numeric waves are ordered numerically; labelled waves by the categories of a
    categorical ``time`` column, otherwise by first appearance.
    """
    if data[id].isna().any() or data[time].isna().any():
        raise DataValidationError(
            f"`id` ('{id}') has {int(data[id].isna().sum())} and `time` ('{time}') has "
            f"{int(data[time].isna().sum())} missing values; every row needs both."
        )
    dup = data.duplicated([id, time], keep=False)
    if dup.any():
        pos = np.flatnonzero(dup.to_numpy())[:5].tolist()
        raise DataValidationError(
            f"`data` has {int(dup.sum())} rows sharing an (id, time) pair with another row "
            f"(first positions {pos}); each person needs at most one row per wave."
        )
    tcol = data[time]
    if isinstance(tcol.dtype, pd.CategoricalDtype):
        present = set(tcol.dropna())
        return [c for c in tcol.cat.categories if c in present]
    if pd.api.types.is_numeric_dtype(tcol):
        return sorted(pd.unique(tcol).tolist())
    return pd.unique(tcol).tolist()  # labelled waves: order of first appearance


def warn_varying(work: pd.DataFrame, id: str, inv_cols: list[str]) -> None:
    """Warn (at the caller of ``lagged_panel``) when ``invariant`` columns vary within person."""
    if not inv_cols:
        return
    nun = work.groupby(id)[inv_cols].nunique(dropna=False)
    varying = {c: int((nun[c] > 1).sum()) for c in inv_cols if (nun[c] > 1).any()}
    if varying:
        detail = ", ".join(f"'{c}' in {k} people" for c, k in varying.items())
        warnings.warn(
            f"`invariant` columns vary within person ({detail}); the earliest row's value is used.",
            DataWarning,
            stacklevel=3,
        )
