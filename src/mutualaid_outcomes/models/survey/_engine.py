"""Shared machinery of the survey estimators: variables, domains, means/totals/ratios.

Domains (``by=``) are estimated together: one influence column per (domain, variable)
for linearisation, one replicate total per (domain, variable) for replicate designs,
so the cost is one pass over the rows per column, not one per domain or PSU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import as_column_list, check_columns
from ...errors import ArgumentTypeError, DataValidationError
from .design import SurveyDesign
from .linearization import linearized_vcov
from .replicate import ReplicateDesign

Design = SurveyDesign | ReplicateDesign


def check_design(design: Any) -> Design:
    """The first argument of every estimator."""
    if not isinstance(design, (SurveyDesign, ReplicateDesign)):
        raise ArgumentTypeError(
            "`design` must be a SurveyDesign (survey_design()) or a ReplicateDesign "
            f"(replicate_design(), design.as_replicate()); got {type(design).__name__}."
        )
    return design


def is_categorical(col: pd.Series) -> bool:
    """Categories become one indicator per level (R svymean of a factor)."""
    return not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col))


def levels_of(col: pd.Series) -> list[Any]:
    """Sorted levels (categorical order for pandas categoricals)."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        return list(col.cat.categories)
    return sorted(pd.unique(col.dropna()), key=lambda v: (str(type(v)), v))


@dataclass(frozen=True)
class Variables:
    """An ``n x p`` matrix of analysis variables (NaN where missing) and column names."""

    X: np.ndarray
    names: list[str]
    sources: list[str]
    levels: list[Any]


def variables_matrix(data: pd.DataFrame, variables: Any, argument: str) -> Variables:
    """Numeric columns as they are, categorical columns as level indicators."""
    cols = check_columns(data, variables, argument)
    if not cols:
        raise DataValidationError(f"`{argument}` must name at least one column.")
    mats, names, sources, levels = [], [], [], []
    for c in cols:
        col = data[c]
        if is_categorical(col):
            lv = levels_of(col)
            miss = col.isna().to_numpy()
            for level in lv:
                ind = (col == level).to_numpy(dtype=float, copy=True)
                ind[miss] = np.nan
                mats.append(ind)
                names.append(f"{c}[{level}]")
                sources.append(c)
                levels.append(level)
        else:
            mats.append(col.to_numpy(dtype=float, na_value=np.nan))
            names.append(c)
            sources.append(c)
            levels.append(None)
    return Variables(np.column_stack(mats), names, sources, levels)


@dataclass(frozen=True)
class Domains:
    """Domain masks (rows in the design's subset and in each ``by`` level)."""

    masks: list[np.ndarray]
    frame: pd.DataFrame  # one row per domain with the by columns
    labels: list[str]
    by: tuple[str, ...]


def domains(design: Design, by: Any) -> Domains:
    """Sorted domains of ``by`` with at least one row of positive weight (as svyby)."""
    base = design.in_domain
    cols = as_column_list(by, "by")
    if not cols:
        return Domains([base], pd.DataFrame(index=[0]), [""], ())
    check_columns(design.data, cols, "by")
    sub = design.data.loc[:, cols]
    present = sub.loc[base & ~sub.isna().any(axis=1).to_numpy()]
    if present.empty:
        raise DataValidationError(f"`by` columns {cols} are missing on every row in the design.")
    keys = present.drop_duplicates().sort_values(cols).reset_index(drop=True)
    masks, labels = [], []
    for _, row in keys.iterrows():
        m = base.copy()
        for c in cols:
            m &= (sub[c] == row[c]).to_numpy()
        masks.append(m)
        labels.append(".".join(str(row[c]) for c in cols))
    return Domains(masks, keys, labels, tuple(cols))


@dataclass(frozen=True)
class Estimates:
    """Point estimates, covariance and (replicate designs) replicate estimates."""

    estimate: np.ndarray
    cov: np.ndarray
    thetas: np.ndarray | None
    n_used: int
    n_dropped: int


def _complete(X: np.ndarray) -> np.ndarray:
    return np.all(np.isfinite(X), axis=1)


def domain_codes(masks: list[np.ndarray], use: np.ndarray) -> np.ndarray:
    """Domain index of each row (``-1`` outside every domain or not ``use``); masks are disjoint."""
    codes = np.full(len(use), -1, dtype=np.int64)
    for d, m in enumerate(masks):
        codes[m & use] = d
    return codes


def _domain_sums(values: np.ndarray, codes: np.ndarray, D: int) -> np.ndarray:
    keep = codes >= 0
    return np.bincount(codes[keep], weights=values[keep], minlength=D)


def ratio_estimates(
    design: Design, num: np.ndarray, den: np.ndarray, masks: list[np.ndarray]
) -> Estimates:
    """Ratios ``T(num_k) / T(den_k)`` per domain (``den`` of ones gives means).

    ``num`` and ``den`` are ``n x p``; rows with a missing value in either are left out
    (zero weight), as R's ``na.rm = TRUE``. Estimates are ordered domain by domain.
    """
    ok = _complete(num) & _complete(den)
    w = design.analysis_weights
    codes = domain_codes(masks, ok & (w > 0))
    D, p = len(masks), num.shape[1]
    Xn = np.where(ok[:, None], num, 0.0)
    Xd = np.where(ok[:, None], den, 0.0)
    tn = np.column_stack([_domain_sums(w * Xn[:, k], codes, D) for k in range(p)])
    td = np.column_stack([_domain_sums(w * Xd[:, k], codes, D) for k in range(p)])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = tn / td  # D x p
    est = ratio.ravel()
    if isinstance(design, SurveyDesign):  # kind "linearization"
        valid = codes >= 0
        cv = codes[valid]
        Z = np.zeros((len(w), p))
        with np.errstate(divide="ignore", invalid="ignore"):
            for k in range(p):
                Z[valid, k] = w[valid] * (Xn[valid, k] - ratio[cv, k] * Xd[valid, k]) / td[cv, k]
        cov, thetas = linearized_vcov(design, Z, codes, D), None
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = design.replicate_totals_by(Xn, codes, D) / design.replicate_totals_by(
                Xd, codes, D
            )
        cov = design.vcov(thetas, est)
    n_dropped = int(np.sum(design.in_domain & ~ok))
    return Estimates(est, cov, thetas, int(np.sum(codes >= 0)), n_dropped)


def total_estimates(design: Design, X: np.ndarray, masks: list[np.ndarray]) -> Estimates:
    """Totals ``T(x_k)`` per domain."""
    ok = _complete(X)
    w = design.analysis_weights
    codes = domain_codes(masks, ok & (w > 0))
    D, p = len(masks), X.shape[1]
    Xz = np.where(ok[:, None], X, 0.0)
    est = np.column_stack([_domain_sums(w * Xz[:, k], codes, D) for k in range(p)]).ravel()
    if isinstance(design, SurveyDesign):  # kind "linearization"
        cov, thetas = linearized_vcov(design, Xz * w[:, None], codes, D), None
    else:
        thetas = design.replicate_totals_by(Xz, codes, D)
        cov = design.vcov(thetas, est)
    n_dropped = int(np.sum(design.in_domain & ~ok))
    return Estimates(est, cov, thetas, int(np.sum(codes >= 0)), n_dropped)


def srs_variance(x: np.ndarray, wd: np.ndarray) -> float:
    """Weighted variance with ``n / (n - 1)`` (R ``svyvar``), over rows with ``wd > 0``."""
    use = wd > 0
    n = int(use.sum())
    W = wd[use].sum()
    xb = wd[use] @ x[use] / W
    return float(wd[use] @ (x[use] - xb) ** 2 / W * n / (n - 1)) if n > 1 else np.nan


def deff_values(
    design: Design,
    X: np.ndarray,
    masks: list[np.ndarray],
    variances: np.ndarray,
    kind: str,
    den: np.ndarray | None = None,
    est: np.ndarray | None = None,
) -> np.ndarray:
    """Design effects as R ``deff = TRUE`` (without-replacement SRS variance).

    Mean: ``V / (s^2 (N - n) / (N n))``; total: ``V / (s^2 N^2 (N - n) / (N n))``;
    ratio: the total of ``(num - r den) / T(den)``; ``s^2`` is the weighted variance
    with ``n / (n - 1)``, ``n`` the rows and ``N`` the weights in the domain.
    """
    ok = _complete(X) if den is None else (_complete(X) & _complete(den))
    w = design.analysis_weights
    p = X.shape[1]
    out = np.empty(len(masks) * p)
    for d, m in enumerate(masks):
        wd = w * (m & ok)
        n = int(np.count_nonzero(wd))
        N = wd.sum()
        for k in range(p):
            x = np.where(ok, X[:, k], 0.0)
            if kind == "ratio":
                if den is None or est is None:  # ratio_estimates passes both
                    raise ValueError("the design effect of a ratio needs `den` and `est`")
                td = wd @ np.where(ok, den[:, k], 0.0)
                x = (x - est[d * p + k] * np.where(ok, den[:, k], 0.0)) / td
            s2 = srs_variance(x, wd)
            if kind == "mean":
                vsrs = s2 * (N - n) / (N * n) if N >= n else np.nan
            else:
                vsrs = s2 * N**2 * (N - n) / (N * n)
            out[d * p + k] = variances[d * p + k] / vsrs
    return out


def result_table(
    names: list[str],
    sources: list[str],
    dom: Domains,
    est: np.ndarray,
    cov: np.ndarray,
    design: Design,
) -> pd.DataFrame:
    """Tidy rows: term, variable, by columns, estimate, std_error, df."""
    rows = []
    for d, label in enumerate(dom.labels):
        df = design.degf_for(dom.masks[d])
        for k, name in enumerate(names):
            term = name if not dom.by else f"{label}:{name}"
            row: dict[str, Any] = {"term": term, "variable": sources[k]}
            for c in dom.by:
                row[c] = dom.frame.loc[d, c]
            row["df"] = df
            rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(2 + len(dom.by), "estimate", est)
    table.insert(3 + len(dom.by), "std_error", np.sqrt(np.clip(np.diag(cov), 0, None)))
    return table
