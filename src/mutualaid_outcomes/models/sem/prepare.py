"""Data preparation for :func:`~mutualaid_outcomes.models.sem.fit_sem`.

Checks the observed variables, splits the rows by group, applies the missing-data rule
and computes each group's sample statistics:

* ``missing="listwise"``: rows with a missing value on any model variable are dropped;
* ``missing="fiml"``: rows missing on every model variable carry no information and are
  dropped; with ``fixed_x=True`` rows missing on an exogenous covariate are dropped too
  (their likelihood is conditional on the covariates, as in lavaan); every other row
  contributes the likelihood of its observed values.

Rows with a missing group or cluster label are dropped. Every exclusion is counted in the
report and the result's notes. Variables are numeric; pandas categoricals (ordinal
indicators) are refused, and numeric outcome or indicator variables with at most
:data:`FEW_LEVELS` distinct values draw a :class:`~mutualaid_outcomes.errors.DataWarning`
because normal-theory ML treats them as continuous.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..._validation import MissingReport, check_columns
from ...errors import DataValidationError, DataWarning, EstimationError
from .samplestats import GroupStats, group_stats

__all__ = ["PreparedData", "prepare_data", "FEW_LEVELS"]

#: Outcomes or indicators with this many distinct values or fewer draw a warning.
FEW_LEVELS = 4


@dataclass(frozen=True)
class PreparedData:
    """Grouped data ready for estimation."""

    stats: list[GroupStats]
    group_labels: list[str]
    rows: list[np.ndarray]
    clusters: list[np.ndarray | None]
    report: MissingReport
    notes: list[str] = field(default_factory=list)
    n_empty: int = 0
    n_missing_x: int = 0


def _check_types(data: pd.DataFrame, ov: Sequence[str], ov_x: Sequence[str]) -> None:
    bad: list[str] = []
    ordinal: list[str] = []
    for c in ov:
        s = data[c]
        if isinstance(s.dtype, pd.CategoricalDtype):
            (ordinal if s.cat.ordered else bad).append(f"'{c}' ({s.dtype})")
        elif not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            bad.append(f"'{c}' ({s.dtype})")
    if ordinal:
        raise DataValidationError(
            f"Model variables {', '.join(ordinal)} are ordered categoricals. Ordinal "
            "indicators need a WLSMV or categorical-ML estimator, which fit_sem does not "
            "offer; to treat them as continuous (reasonable with five or more categories), "
            "pass their integer codes, e.g. data[col].cat.codes + 1."
        )
    if bad:
        raise DataValidationError(
            f"Model variables must be numeric; non-numeric: {', '.join(bad)}. Encode "
            "categories as numbers or dummy variables first."
        )
    few = []
    for c in ov:
        if c in ov_x:
            continue
        vals = pd.unique(data[c].dropna())
        if 1 < len(vals) <= FEW_LEVELS:
            few.append(f"'{c}' ({len(vals)} values)")
    if few:
        warnings.warn(
            f"Variables {', '.join(few)} have few distinct values and are treated as "
            "continuous (normal-theory ML); for ordinal items consider estimator='MLR' for "
            "robust SEs, or a categorical estimator outside this package.",
            DataWarning,
            stacklevel=4,
        )


def _not_pd_message(cov: np.ndarray, names: Sequence[str], where: str) -> str | None:
    w, v = np.linalg.eigh(cov)
    if w.min() > 1e-10 * max(w.max(), 1e-300):
        return None
    vec = v[:, 0]
    involved = [names[int(i)] for i in np.flatnonzero(np.abs(vec) > 0.1 * np.abs(vec).max())]
    return (
        f"The sample covariance matrix{where} is not positive definite (smallest eigenvalue "
        f"{w.min():.3g}); variables {involved} are (nearly) linearly dependent. Drop or "
        "combine one of them."
    )


def prepare_data(
    data: pd.DataFrame,
    ov: Sequence[str],
    ov_x: Sequence[str],
    *,
    group: str | None,
    cluster: str | None,
    missing: str,
    em_tol: float = 1e-13,
) -> PreparedData:
    """Split, filter and summarise the data (see the module notes).

    Raises
    ------
    DataValidationError
        Non-numeric or ordinal variables, a variable without variance, a
        non-positive-definite sample covariance matrix.
    EstimationError
        No usable rows.
    """
    extra = [c for c in (group, cluster) if c is not None]
    check_columns(data, extra, "group/cluster")
    _check_types(data, ov, ov_x)
    n_input = len(data)
    notes: list[str] = []
    X_all = data.loc[:, list(ov)].to_numpy(dtype=float, na_value=np.nan)
    isna = np.isnan(X_all)
    keep = np.ones(n_input, dtype=bool)
    by_col = {c: int(isna[:, k].sum()) for k, c in enumerate(ov)}
    for c in extra:
        miss = data[c].isna().to_numpy()
        if miss.any():
            notes.append(f"{int(miss.sum())} rows with a missing '{c}' were excluded.")
            by_col[c] = int(miss.sum())
        keep &= ~miss
    n_empty = n_missing_x = 0
    if missing == "listwise":
        keep &= ~isna.any(axis=1)
    else:
        xi = [k for k, c in enumerate(ov) if c in ov_x]
        if xi:
            mx = isna[:, xi].any(axis=1) & keep
            n_missing_x = int(mx.sum())
            if n_missing_x:
                notes.append(
                    f"{n_missing_x} rows with missing exogenous covariates were excluded "
                    "(fixed.x: the likelihood is conditional on the covariates; pass "
                    "fixed_x=False to model them)."
                )
            keep &= ~mx
        empty = isna.all(axis=1) & keep
        n_empty = int(empty.sum())
        if n_empty:
            notes.append(
                f"{n_empty} rows with no observed value on any model variable were excluded "
                "(they carry no information under FIML)."
            )
        keep &= ~empty
    if not keep.any():
        raise EstimationError(
            f"No rows of `data` remain ({n_input} rows in; missing by column: "
            + ", ".join(f"{k}: {v}" for k, v in by_col.items() if v)
            + "). Check missing-value codes, or use missing='fiml'."
        )
    if group is None:
        labels = [""]
        gcodes = np.zeros(n_input, dtype=int)
    else:
        gvals = data[group].to_numpy()
        labels = [str(v) for v in pd.unique(data.loc[keep, group])]
        lookup = {v: k for k, v in enumerate(labels)}
        gcodes = np.array([lookup.get(str(v), -1) for v in gvals])
    stats, rows, clusters = [], [], []
    for g, lab in enumerate(labels):
        idx = np.flatnonzero(keep & (gcodes == g))
        Xg = X_all[idx]
        where = f" in group '{lab}'" if group is not None else ""
        var = np.nanvar(Xg, axis=0)
        flat = [c for c, v in zip(ov, var) if not v > 0]
        if flat:
            raise DataValidationError(
                f"Variables {flat} have no variance{where}; remove them from the model."
            )
        st = group_stats(Xg, label=lab, em_tol=em_tol)
        msg = _not_pd_message(st.cov, ov, where)
        if msg:
            raise DataValidationError(msg)
        if st.n < len(ov):
            warnings.warn(
                f"Fewer rows ({st.n}) than observed variables ({len(ov)}){where}.",
                DataWarning,
                stacklevel=3,
            )
        stats.append(st)
        rows.append(idx)
        clusters.append(None if cluster is None else data[cluster].to_numpy()[idx])
    report = MissingReport(n_input, int(keep.sum()), by_col)
    return PreparedData(stats, labels, rows, clusters, report, notes, n_empty, n_missing_x)
