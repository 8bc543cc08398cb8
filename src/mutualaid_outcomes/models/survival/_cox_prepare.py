"""Input checks and preparation shared by fit_cox and fit_cox_time_varying.

Turns a data frame and the role arguments into a :class:`~._coxph.CoxData` (rows with
missing values removed and reported), the covariate names and term groups, and the
cluster codes; and computes R's centred linear predictor for the concordance.

Times that differ by no more than ``sqrt(machine epsilon)`` (absolutely, or relative to
the mean absolute time) are made equal before fitting, as R ``coxph`` does by default
(``coxph.control(timefix = TRUE)``, ``aeqSurv``): times computed in floating point
(fractions of years, differences of dates) that should tie then tie in the partial
likelihood, the concordance and the proportional-hazards test, as in R.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import (
    as_column_list,
    check_columns,
    check_dataframe,
    check_finite,
    check_numeric,
    check_option,
)
from ...errors import ArgumentTypeError, DataValidationError, EstimationError, OptionError
from ...prep._survival_input import event_indicator, missing_note
from .._core.design import check_conditioning, collinearity_note
from ._coxph import CoxData

__all__ = ["_Prepared", "_design", "_linear_predictor", "_prepare"]


def _design(
    data: pd.DataFrame, covariates: Any, formula: str | None
) -> tuple[pd.DataFrame, list[str], dict[str, list[int]]]:
    """Covariate matrix (same index as rows kept), column names, term -> columns."""
    if formula is not None and covariates is not None:
        raise OptionError("Give either `covariates` or `formula`, not both.")
    if formula is None:
        cols = check_columns(data, covariates, "covariates")
        if not cols:
            raise DataValidationError("`covariates` must name at least one column.")
        check_numeric(data, cols, "covariates")
        x = data.loc[:, cols].astype(float)
        return x, cols, {c: [i] for i, c in enumerate(cols)}
    if not isinstance(formula, str):
        raise ArgumentTypeError(f"`formula` must be a string like '~ a + b'; got {formula!r}.")
    import patsy

    rhs = formula.split("~", 1)[1] if "~" in formula else formula
    try:
        x = patsy.dmatrix(rhs, data, NA_action="drop", return_type="dataframe")
    except patsy.PatsyError as exc:
        raise DataValidationError(f"`formula` could not be evaluated: {exc}") from None
    info = x.design_info
    groups: dict[str, list[int]] = {}
    names: list[str] = []
    # keep the user's term order (patsy puts categorical terms first)
    user_order = [t.name() for t in patsy.ModelDesc.from_formula(rhs).rhs_termlist]
    slices = info.term_name_slices
    for term in user_order:
        if term == "Intercept" or term not in slices:
            continue
        sl = slices[term]
        idx = list(range(len(names), len(names) + (sl.stop - sl.start)))
        names.extend(info.column_names[sl])
        groups[term] = idx
    x = x.loc[:, names]
    if not names:
        raise DataValidationError("`formula` has no covariate terms.")
    return x, names, groups


@dataclass
class _Prepared:
    cd: CoxData
    names: list[str]
    groups: dict[str, list[int]]
    cluster: np.ndarray | None
    n_clusters: float
    n_input: int
    n_dropped: int
    n_ids: float
    notes: list[str]
    condition_number: float = np.nan
    collinear_columns: tuple[str, ...] = ()


def _check_roles(
    data: pd.DataFrame,
    *,
    start: str | None,
    stop: str,
    event: str,
    strata: Any,
    cluster: Any,
    weights: Any,
    id_col: str | None,
    stop_arg: str,
) -> tuple[list[str], list[str], list[str]]:
    """Column checks; returns the strata columns, the extra columns and the time columns."""
    check_columns(data, [stop], stop_arg)
    check_columns(data, [event], "event")
    if start is not None:
        check_columns(data, [start], "start")
    strata_cols = check_columns(data, as_column_list(strata, "strata"), "strata")
    if cluster is not None and not isinstance(cluster, str):
        raise ArgumentTypeError(f"`cluster` must be one column name; got {cluster!r}.")
    if weights is not None and not isinstance(weights, str):
        raise ArgumentTypeError(f"`weights` must be one column name; got {weights!r}.")
    extra = [c for c in (cluster, weights, id_col) if c is not None]
    check_columns(data, extra, "cluster/weights/id")
    time_cols = ([start] if start is not None else []) + [stop]
    check_numeric(data, time_cols, stop_arg if start is None else "start/stop")
    return strata_cols, extra, time_cols


def _complete_rows(
    data: pd.DataFrame, x_df: pd.DataFrame, names: list[str], base_cols: list[str], formula: Any
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Rows without missing values in any model column, and the note reporting the rest."""
    sub = data.loc[x_df.index, base_cols]
    n_input = len(data)
    miss_cov = n_input - len(x_df)  # rows patsy dropped for missing formula terms
    keep = ~(sub.isna().any(axis=1).to_numpy() | x_df.isna().any(axis=1).to_numpy())
    if not keep.all():
        sub = sub.loc[keep]
        x_df = x_df.loc[keep]
    n_used = len(sub)
    if n_used == 0:
        raise EstimationError(
            f"No rows remain after removing rows with missing values ({n_input} rows in)."
        )
    notes = []
    if n_used < n_input:
        missing_by = {c: int(data[c].isna().sum()) for c in base_cols}
        if formula is None:
            missing_by.update({c: int(data[c].isna().sum()) for c in names})
        else:
            missing_by["formula terms"] = miss_cov
        notes.append(missing_note(n_used, n_input, missing_by))
    return sub, x_df, notes


def _times(
    sub: pd.DataFrame, start: str | None, stop: str, stop_arg: str
) -> tuple[np.ndarray | None, np.ndarray]:
    """Start (None for right-censored data) and stop times, checked."""
    t_stop = sub[stop].to_numpy(dtype=float)
    t_start = None
    if start is None:
        if np.any(t_stop < 0):
            pos = np.flatnonzero(t_stop < 0)
            raise DataValidationError(
                f"`{stop_arg}` ('{stop}') must be >= 0; {len(pos)} negative value(s) at "
                f"row position(s) {pos[:10].tolist()}."
            )
    else:
        t_start = sub[start].to_numpy(dtype=float)
        bad = np.flatnonzero(t_stop <= t_start)
        if bad.size:
            raise DataValidationError(
                f"`stop` ('{stop}') must be greater than `start` ('{start}') on every row; "
                f"{bad.size} row(s) have stop <= start (row positions {bad[:10].tolist()})."
            )
    if not np.all(np.isfinite(t_stop)):
        raise DataValidationError(f"`{stop_arg}` ('{stop}') has infinite values.")
    return t_start, t_stop


def _time_fix(
    start: np.ndarray | None, stop: np.ndarray, names: tuple[str, str]
) -> tuple[np.ndarray | None, np.ndarray]:
    """R's ``aeqSurv``: replace each run of almost-equal times by its smallest value."""
    vals = stop if start is None else np.concatenate([start, stop])
    y = np.unique(vals[np.isfinite(vals)])
    if len(y) < 2:
        return start, stop
    dy = np.diff(y)
    tol = np.sqrt(np.finfo(float).eps)
    tied = (dy <= tol) | (dy / np.mean(np.abs(y)) <= tol)
    if not tied.any():
        return start, stop
    cuts = y[np.concatenate([[True], ~tied])]

    def fix(t: np.ndarray) -> np.ndarray:
        return cuts[np.searchsorted(cuts, t, side="right") - 1]

    stop = fix(stop)
    if start is not None:
        start = fix(start)
        bad = np.flatnonzero(stop <= start)
        if bad.size:
            raise DataValidationError(
                f"{bad.size} interval(s) ({names[0]}, {names[1]}] are shorter than the "
                f"tolerance for tied times (sqrt(machine epsilon), as R's aeqSurv) at row "
                f"positions {bad[:10].tolist()}; lengthen or drop them."
            )
    return start, stop


def _case_weights(sub: pd.DataFrame, weights: str | None) -> np.ndarray:
    if weights is None:
        return np.ones(len(sub))
    w = sub[weights].to_numpy(dtype=float)
    bad = ~(w > 0) | ~np.isfinite(w)
    if bad.any():
        raise DataValidationError(
            f"`weights` ('{weights}') must be positive and finite; {int(bad.sum())} row(s) are not."
        )
    return w


def _strata_codes(sub: pd.DataFrame, strata_cols: list[str]) -> np.ndarray:
    """Integer codes 0..K-1 of the combinations of the strata columns."""
    if not strata_cols:
        return np.zeros(len(sub), dtype=np.int64)
    if len(strata_cols) == 1:
        return pd.factorize(sub[strata_cols[0]], sort=True)[0].astype(np.int64)
    codes = sub.groupby(strata_cols, sort=True, dropna=False).ngroup()
    return codes.to_numpy(dtype=np.int64)


def _check_estimable(
    x: np.ndarray, s: np.ndarray, names: list[str], strata_cols: list[str]
) -> None:
    """A covariate with no variation within every stratum is not estimable."""
    if strata_cols:
        grouped = pd.DataFrame(x).groupby(s)
        varies = (grouped.max() > grouped.min()).any(axis=0).to_numpy()
    else:
        varies = x.max(axis=0) > x.min(axis=0)
    const = [name for name, v in zip(names, varies) if not v]
    if const:
        within = " within every stratum" if strata_cols else ""
        raise DataValidationError(
            f"Covariate(s) {const} are constant{within}, so their hazard ratios are not "
            "estimable; remove them (or the strata that absorb them)."
        )


def _prepare(
    data: pd.DataFrame,
    *,
    start: str | None,
    stop: str,
    event: str,
    covariates: Any,
    formula: str | None,
    strata: str | Sequence[str] | None,
    cluster: str | None,
    weights: str | None,
    ties: str,
    id_col: str | None,
    time_args: tuple[str, str] = ("duration", "duration"),
) -> _Prepared:
    data = check_dataframe(data)
    ties = check_option(ties, ("efron", "breslow"), "ties")
    stop_arg, _ = time_args
    strata_cols, extra, time_cols = _check_roles(
        data,
        start=start,
        stop=stop,
        event=event,
        strata=strata,
        cluster=cluster,
        weights=weights,
        id_col=id_col,
        stop_arg=stop_arg,
    )
    data = data.copy(deep=False)  # new row labels without copying the columns
    data.index = pd.RangeIndex(len(data))
    x_df, names, groups = _design(data, covariates, formula)
    base_cols = list(dict.fromkeys(time_cols + [event] + strata_cols + extra))
    ids = [c for c in (cluster, id_col) if c is not None]
    check_finite(data, [*time_cols, *([weights] if weights else [])], "data", identifiers=ids)
    check_finite(x_df.reindex(data.index), list(x_df.columns), "covariates")
    sub, x_df, notes = _complete_rows(data, x_df, names, base_cols, formula)
    n_used = len(sub)
    ev = event_indicator(sub[event], event)
    t_start, t_stop = _time_fix(*_times(sub, start, stop, stop_arg), (str(start), stop))
    if ev.sum() == 0:
        raise EstimationError(
            f"There are no events (`event` '{event}' is 0 on all {n_used} rows used); "
            "a Cox model needs at least one event."
        )
    w = _case_weights(sub, weights)
    s = _strata_codes(sub, strata_cols)
    x = x_df.to_numpy(dtype=float)
    _check_estimable(x, s, names, strata_cols)
    argument = "covariates" if formula is None else "formula"
    kappa, flagged = check_conditioning(x, names, argument, centre=True, refuse_exact=True)
    if flagged:
        notes.append(collinearity_note(kappa, flagged))
    cl = None
    n_clusters = np.nan
    if cluster is not None:
        cl = pd.factorize(sub[cluster], sort=True)[0].astype(np.int64)
        n_clusters = float(cl.max() + 1)
    n_ids = float(sub[id_col].nunique()) if id_col is not None else np.nan
    cd = CoxData(
        start=t_start, stop=t_stop, event=ev, x=x, weights=w, strata=s, efron=(ties == "efron")
    )
    return _Prepared(
        cd=cd,
        names=names,
        groups=groups,
        cluster=cl,
        n_clusters=n_clusters,
        n_input=len(data),
        n_dropped=len(data) - n_used,
        n_ids=n_ids,
        notes=notes,
        condition_number=kappa,
        collinear_columns=flagged,
    )


def _linear_predictor(cd: CoxData, beta: np.ndarray) -> np.ndarray:
    """R's centred linear predictor ``X b - sum(b * means)`` (sorted order), in R's order.

    Concordance counts exact ties between linear predictors, so rows with identical
    covariates must get bit-identical values (a blocked matrix product does not
    guarantee that) and near-ties must round as they do in R: columns are accumulated
    one at a time (reference BLAS ``dgemm``), means are sequential weighted sums in the
    data's row order and ``sum(b * means)`` uses extended precision like R's ``sum``.
    """
    eta = np.zeros(cd.n)
    for k in range(cd.p):
        eta = eta + cd.x[k] * beta[k]
    shift = np.longdouble(0)
    for k in range(cd.p):
        shift += np.longdouble(beta[k] * cd.lp_means[k])
    return eta - float(shift)
