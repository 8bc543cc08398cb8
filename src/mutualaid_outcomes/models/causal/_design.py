"""Covariate design matrices shared by the propensity-score and instrumental-variable models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...errors import DataValidationError, OptionError

__all__ = ["check_rank", "covariate_design", "exposure_levels"]


# -- covariate design shared with models.iv -------------------------------------------------
def _is_categorical(s: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)


def covariate_design(
    clean: pd.DataFrame,
    covariates: Sequence[str],
    categorical: Sequence[str] = (),
    drop_first: bool = True,
) -> pd.DataFrame:
    """Numeric design columns of ``covariates`` (no intercept).

    Numeric columns enter as they are; non-numeric, boolean and ``categorical``
    columns become indicators ``name[level]`` for every level (``drop_first=False``)
    or every level but the first in sorted order (``drop_first=True``).
    """
    parts: dict[str, np.ndarray] = {}
    for c in covariates:
        s = clean[c]
        if c in categorical or _is_categorical(s):
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = [lv for lv in s.cat.categories if (s == lv).any()]
            else:
                levels = sorted(pd.unique(s).tolist(), key=lambda v: (str(type(v)), v))
            for lv in levels[1:] if drop_first else levels:
                parts[f"{c}[{lv}]"] = (s == lv).to_numpy(dtype=float)
        else:
            parts[c] = s.to_numpy(dtype=float)
    return pd.DataFrame(parts, index=clean.index)


def check_rank(X: np.ndarray, names: Sequence[str], argument: str) -> None:
    if X.shape[1] and np.linalg.matrix_rank(X) < X.shape[1]:
        raise DataValidationError(
            f"The columns of `{argument}` are collinear (rank {np.linalg.matrix_rank(X)} < "
            f"{X.shape[1]}: {list(names)}); remove redundant columns or constant variables."
        )


def exposure_levels(t: pd.Series, exposure: str, method: str, reference: Any, n: int) -> list[Any]:
    """Exposure levels, reference first (sorted or categorical order otherwise)."""
    if isinstance(t.dtype, pd.CategoricalDtype):
        levels = [lv for lv in t.cat.categories if (t == lv).any()]
    else:
        levels = sorted(pd.unique(t).tolist(), key=lambda v: (str(type(v)), v))
    if pd.api.types.is_bool_dtype(t):
        levels = [False, True]
    if len(levels) < 2:
        raise DataValidationError(
            f"`exposure` ('{exposure}') takes a single value in the {n} rows used; "
            "a propensity score needs at least two exposure levels."
        )
    if method == "logit" and len(levels) != 2:
        raise DataValidationError(
            f"`exposure` ('{exposure}') has {len(levels)} levels; method='logit' needs "
            "two. Use method='multinomial' for dose groups."
        )
    if reference is not None:
        if reference not in levels:
            raise OptionError(f"`reference` must be one of {levels}; got {reference!r}.")
        levels = [reference] + [lv for lv in levels if lv != reference]
    return levels
