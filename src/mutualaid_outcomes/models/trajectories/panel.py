"""Person-level panels for trajectory models: validation, ordering and design matrices.

Rows are sorted by person and time. The likelihood is computed on the *distinct*
(outcome, design row) combinations only: with counts or 0/1 outcomes at common wave times
a panel of 60,000 observations has a few hundred of them. A sparse incidence matrix
``M`` (persons x distinct rows, entries the number of the person's observations equal to
the row) gives per-person sums, ``M @ values``, and the posterior weight of each
distinct row, ``M' @ tau``. This is exact, not an approximation; with continuous outcomes
every observation is its own row and nothing changes. Time enters the trajectories as a
polynomial in ``(time - centre) / half_range`` (values in [-1, 1]) and covariates are
centred and scaled: the raw-scale coefficients reported to users (R's
``poly(time, d, raw = TRUE)``) are a fixed linear map of the internal ones, applied to
the estimates and their covariance alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from math import comb

import numpy as np
import pandas as pd
from scipy import sparse

from ..._validation import (
    MissingReport,
    check_binary,
    check_columns,
    check_numeric,
    listwise_delete,
)
from ...errors import DataValidationError, EstimationError
from .._core.families import check_count
from .families import Outcome

__all__ = ["Panel", "build_panel", "compress", "raw_map_polynomial", "poly_names"]


@dataclass(frozen=True, eq=False)
class Panel:
    """A validated panel, sorted by person and time (internal).

    Attributes
    ----------
    y, time : numpy.ndarray
        Outcome and raw time, one entry per observation.
    person : numpy.ndarray
        Person index (0..N-1) of each observation.
    starts : numpy.ndarray
        Index of each person's first observation (for ``numpy.add.reduceat``).
    ids : numpy.ndarray
        Person identifiers, in person-index order.
    X : numpy.ndarray
        Internal trajectory design ``[1, s, s^2, ..., s^D, covariates]``, ``s`` scaled time.
    Z : numpy.ndarray
        Internal membership design ``[1, covariates]`` (one row per person).
    """

    y: np.ndarray
    time: np.ndarray
    person: np.ndarray
    starts: np.ndarray
    ids: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    max_degree: int
    time_center: float
    time_scale: float
    tv_center: np.ndarray
    tv_scale: np.ndarray
    z_center: np.ndarray
    z_scale: np.ndarray
    x_names: tuple[str, ...]
    z_names: tuple[str, ...]
    missing: MissingReport
    n_persons_dropped: int
    waves: np.ndarray  # observations per person
    n_distinct_times: int
    Xu: np.ndarray  # distinct design rows (with ``obs``: distinct outcome and design pairs)
    obs: Outcome  # the distinct outcomes, with precomputed pieces of their density
    M: sparse.csr_matrix  # persons x distinct rows incidence counts
    Mt: sparse.csr_matrix  # its transpose

    @property
    def n_persons(self) -> int:
        """Persons in the fit."""
        return len(self.ids)

    @property
    def n_obs(self) -> int:
        """Observations in the fit."""
        return len(self.y)

    @property
    def n_rows(self) -> int:
        """Distinct (outcome, design row) combinations."""
        return self.Xu.shape[0]

    def person_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum values of the distinct rows (first axis) over each person's observations."""
        shape = values.shape
        out = self.M @ values.reshape(shape[0], -1)
        return np.asarray(out).reshape((self.n_persons, *shape[1:]))

    def row_weights(self, tau: np.ndarray) -> np.ndarray:
        """Posterior weight of each distinct row: ``sum over its observations of tau``."""
        return np.asarray(self.Mt @ tau)

    def obs_person_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum raw per-observation ``values`` within persons."""
        return np.add.reduceat(values, self.starts, axis=0)

    def with_outcome(self, y: np.ndarray) -> Panel:
        """The same panel with another outcome vector (parametric bootstrap)."""
        y = np.asarray(y, dtype=float)
        Xu, yu, M = compress(y, self.X, self.person, self.n_persons)
        obs = Outcome(yu, self.obs.lower, self.obs.upper)
        return replace(self, y=y, Xu=Xu, obs=obs, M=M, Mt=M.T.tocsr())

    def scaled_time(self, t: np.ndarray) -> np.ndarray:
        """Time on the internal scale."""
        return (np.asarray(t, dtype=float) - self.time_center) / self.time_scale

    def x_map(self) -> np.ndarray:
        """Matrix ``A`` with raw trajectory coefficients ``= A @ internal`` (one class)."""
        D = self.max_degree
        A = np.zeros((self.X.shape[1],) * 2)
        A[: D + 1, : D + 1] = raw_map_polynomial(D, self.time_center, self.time_scale)
        for j, (c, s) in enumerate(zip(self.tv_center, self.tv_scale)):
            col = D + 1 + j
            A[col, col] = 1.0 / s
            A[0, col] = -c / s
        return A

    def z_map(self) -> np.ndarray:
        """Matrix ``A`` with raw membership coefficients ``= A @ internal`` (one class)."""
        q = self.Z.shape[1]
        A = np.eye(q)
        for j, (c, s) in enumerate(zip(self.z_center, self.z_scale)):
            A[j + 1, j + 1] = 1.0 / s
            A[0, j + 1] = -c / s
        return A

    def design(self, t: np.ndarray, tv: np.ndarray | None = None) -> np.ndarray:
        """Internal trajectory design at raw times ``t`` (covariates at ``tv`` or their mean)."""
        s = self.scaled_time(t)
        cols = [s**j for j in range(self.max_degree + 1)]
        k = len(self.tv_center)
        if k:
            tvv = np.zeros((len(s), k)) if tv is None else (tv - self.tv_center) / self.tv_scale
            cols += [tvv[:, j] for j in range(k)]
        return np.column_stack(cols)


def compress(
    y: np.ndarray, X: np.ndarray, person: np.ndarray, n_persons: int
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Distinct ``(y, X)`` rows and the persons x rows incidence matrix.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> Xu, yu, M = compress(np.array([2.0, 0.0, 2.0, 1.0]), X, np.array([0, 0, 1, 1]), 2)
    >>> len(yu), M.toarray().tolist()
    (3, [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    """
    both = np.column_stack([y, X])
    uniq, inv = _unique_rows(both)
    M = sparse.coo_matrix(
        (np.ones(len(y)), (person, inv)), shape=(n_persons, len(uniq))
    ).tocsr()  # duplicates are summed: the count of each row per person
    return np.ascontiguousarray(uniq[:, 1:]), uniq[:, 0], M


def _unique_rows(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``numpy.unique(a, axis=0, return_inverse=True)`` for NaN-free ``a``, by sorting integers.

    Each column is coded by the rank of its value and the codes are combined column by
    column (first column most significant) and re-ranked, so the distinct rows come out
    in the same lexicographic order as :func:`numpy.unique`, whose row sort on a
    structured view is several times slower.
    """
    key = np.zeros(a.shape[0], dtype=np.int64)
    n_keys = 1
    for j in range(a.shape[1]):
        values, code = np.unique(a[:, j], return_inverse=True)
        _, key = np.unique(key * len(values) + code.ravel(), return_inverse=True)
        key = key.ravel()
        n_keys = int(key.max()) + 1 if len(key) else 0
    first = np.zeros(n_keys, dtype=np.int64)
    first[key[::-1]] = np.arange(a.shape[0] - 1, -1, -1)  # first row of each distinct key
    return a[first], key


def raw_map_polynomial(degree: int, center: float, scale: float) -> np.ndarray:
    """Coefficients of ``sum_j b_j ((t - c) / s)^j`` in powers of ``t``: ``raw = A @ b``.

    Examples
    --------
    >>> A = raw_map_polynomial(1, 2.0, 4.0)  # b0 + b1 (t - 2) / 4
    >>> (A @ np.array([1.0, 4.0])).tolist()
    [-1.0, 1.0]
    """
    A = np.zeros((degree + 1, degree + 1))
    for j in range(degree + 1):
        for r in range(j + 1):
            A[r, j] = comb(j, r) * (-center) ** (j - r) / scale**j
    return A


def poly_names(time: str, degree: int) -> list[str]:
    """Names of the raw polynomial terms.

    Examples
    --------
    >>> poly_names("month", 2)
    ['(Intercept)', 'month', 'month^2']
    """
    return ["(Intercept)"] + [time if j == 1 else f"{time}^{j}" for j in range(1, degree + 1)]


def _check_outcome(y: pd.Series, family: str, lower: float | None, upper: float | None) -> None:
    if not (pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y)):
        raise DataValidationError(
            f"`outcome` ('{y.name}') must be numeric; got {y.dtype}. Recode it as numbers "
            "(0/1 for family='logit', counts for 'poisson'/'zip')."
        )
    if family in ("poisson", "zip"):
        check_count(y, family, "outcome")
    elif family == "logit":
        check_binary(y, "outcome")
    elif family == "cnorm":
        arr = y.to_numpy(dtype=float)
        below = int(np.sum(arr < lower)) if lower is not None else 0
        above = int(np.sum(arr > upper)) if upper is not None else 0
        if below or above:
            raise DataValidationError(
                f"`outcome` ('{y.name}') must lie in [lower, upper] = [{lower}, {upper}] for "
                f"family='cnorm'; {below} values are below `lower` and {above} above `upper` "
                f"(range {arr.min():.4g} to {arr.max():.4g}). Fix the data or the bounds."
            )


def _check_time(data: pd.DataFrame, time: str) -> None:
    col = data[time]
    if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
        raise DataValidationError(
            f"`time` ('{time}') must be numeric (months, years or wave numbers); got "
            f"{col.dtype}. Convert dates to elapsed time, e.g. days since baseline / 30.44."
        )
    vals = col.to_numpy(dtype=float)
    if np.isinf(vals).any():
        raise DataValidationError(
            f"`time` ('{time}') has {int(np.isinf(vals).sum())} infinite values."
        )


def _duplicates(df: pd.DataFrame, id: str, time: str) -> None:
    dup = df.duplicated([id, time], keep=False)
    if dup.any():
        persons = df.loc[dup, id].unique()
        shown = ", ".join(repr(v) for v in persons[:3])
        raise DataValidationError(
            f"`data` has {int(dup.sum())} rows sharing an (`id`, `time`) pair with another "
            f"row ({len(persons)} persons, e.g. id {shown}); a trajectory needs one outcome "
            "per person and time. Aggregate or remove the duplicates first."
        )


def _scale(values: np.ndarray, names: Sequence[str], argument: str) -> tuple:
    center = values.mean(axis=0)
    scale = values.std(axis=0)
    flat = [n for n, s in zip(names, scale) if not s > 0]
    if flat:
        raise DataValidationError(
            f"`{argument}` columns {flat} are constant in the data used; remove them."
        )
    return center, scale


def _person_covariates(
    df: pd.DataFrame, id: str, covariates: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row of time-stable covariates per person; persons missing any are dropped."""
    g = df.groupby(id, sort=False)
    counts = g[covariates].nunique(dropna=True)
    varying = [c for c in covariates if (counts[c] > 1).any()]
    if varying:
        n_p = {c: int((counts[c] > 1).sum()) for c in varying}
        detail = ", ".join(f"'{c}' ({n} persons)" for c, n in n_p.items())
        raise DataValidationError(
            f"`covariates` must be time-stable (one value per person); these vary within "
            f"persons: {detail}. Use `tv_covariates` for time-varying predictors of the "
            "trajectories, or keep the baseline value."
        )
    first = g[covariates].first()
    keep = first.notna().all(axis=1)
    return first, keep.to_numpy()


def _check_roles(
    data: pd.DataFrame,
    id: str,
    time: str,
    outcome: str,
    covariates: list[str],
    tv_covariates: list[str],
) -> None:
    """The named columns exist, the two covariate lists are disjoint and numeric."""
    check_columns(data, [id, time, outcome], "id/time/outcome")
    check_columns(data, covariates, "covariates")
    check_columns(data, tv_covariates, "tv_covariates")
    overlap = set(covariates) & set(tv_covariates)
    if overlap:
        raise DataValidationError(
            f"columns {sorted(overlap)} are in both `covariates` and `tv_covariates`."
        )
    _check_time(data, time)
    check_numeric(data, covariates, "covariates")
    check_numeric(data, tv_covariates, "tv_covariates")


def _drop_missing_covariates(
    data: pd.DataFrame,
    clean: pd.DataFrame,
    id: str,
    covariates: list[str],
    by_column: dict[str, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep persons with complete time-stable ``covariates``; count the rows dropped.

    Returns the kept rows and the one-row-per-person covariates; ``by_column`` is updated
    in place with the rows each covariate excluded.
    """
    per, keep = _person_covariates(data.loc[clean.index, [id, *covariates]], id, covariates)
    rows_of = clean[id].map(clean[id].value_counts())
    for c in covariates:
        lacking = per.index[per[c].isna().to_numpy()]
        by_column[c] = int(rows_of[clean[id].isin(lacking)].count())
    clean = clean[clean[id].isin(per.index[keep])]
    if clean.empty:
        raise EstimationError(
            "No person has complete `covariates`; check their missing-value codes."
        )
    return clean, per


def _time_scale(t: np.ndarray, max_degree: int) -> tuple[float, float, int]:
    """Centre and half-range of the distinct times, and how many there are."""
    uniq = np.unique(t)
    if len(uniq) < max_degree + 1:
        raise DataValidationError(
            f"`time` has {len(uniq)} distinct values in the data used; a degree-{max_degree} "
            f"trajectory needs at least {max_degree + 1}. Lower `degree`."
        )
    center = (uniq[0] + uniq[-1]) / 2.0
    half = (uniq[-1] - uniq[0]) / 2.0 if len(uniq) > 1 else 1.0
    return float(center), float(half), len(uniq)


def _trajectory_design(
    clean: pd.DataFrame, s: np.ndarray, max_degree: int, tv_covariates: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[1, s, ..., s^D, scaled tv_covariates]`` with the covariates' centres and scales."""
    cols = [s**j for j in range(max_degree + 1)]
    tv_c = tv_s = np.zeros(0)
    if tv_covariates:
        V = clean[tv_covariates].to_numpy(dtype=float)
        tv_c, tv_s = _scale(V, tv_covariates, "tv_covariates")
        cols += list(((V - tv_c) / tv_s).T)
    return np.column_stack(cols), tv_c, tv_s


def _membership_design(
    per: pd.DataFrame | None, ids: pd.Index, covariates: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``[1, scaled covariates]``, one row per person, with the centres and scales."""
    if per is None or not covariates:
        return np.ones((len(ids), 1)), np.zeros(0), np.zeros(0)
    Zraw = per.loc[np.asarray(ids), covariates].to_numpy(dtype=float)
    z_c, z_s = _scale(Zraw, covariates, "covariates")
    return np.column_stack([np.ones(len(ids)), (Zraw - z_c) / z_s]), z_c, z_s


def build_panel(
    data: pd.DataFrame,
    id: str,
    time: str,
    outcome: str,
    family: str,
    max_degree: int,
    covariates: list[str],
    tv_covariates: list[str],
    lower: float | None,
    upper: float | None,
) -> Panel:
    """Validate the long data and build the internal panel (see :class:`Panel`)."""
    _check_roles(data, id, time, outcome, covariates, tv_covariates)
    row_cols = list(dict.fromkeys([id, time, outcome, *tv_covariates]))
    clean, report = listwise_delete(data, row_cols, "data")
    _check_outcome(clean[outcome], family, lower, upper)
    _duplicates(clean, id, time)
    n_before = clean[id].nunique()
    by_column = dict(report.missing_by_column)
    per = None
    if covariates:
        clean, per = _drop_missing_covariates(data, clean, id, covariates, by_column)
    clean = clean.sort_values([id, time], kind="mergesort")
    codes, ids = pd.factorize(clean[id], sort=False)
    person = np.asarray(codes, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, person[1:] != person[:-1]])
    waves = np.diff(np.r_[starts, len(person)])
    t = clean[time].to_numpy(dtype=float)
    center, half, n_times = _time_scale(t, max_degree)
    X, tv_c, tv_s = _trajectory_design(clean, (t - center) / half, max_degree, tv_covariates)
    Z, z_c, z_s = _membership_design(per, ids, covariates)
    report = MissingReport(report.n_input, len(clean), by_column)
    y = clean[outcome].to_numpy(dtype=float)
    Xu, yu, M = compress(y, X, person, len(ids))
    return Panel(
        y=y,
        time=t,
        person=person,
        starts=starts,
        ids=np.asarray(ids),
        X=X,
        Z=Z,
        max_degree=max_degree,
        time_center=center,
        time_scale=half,
        tv_center=np.asarray(tv_c, dtype=float),
        tv_scale=np.asarray(tv_s, dtype=float),
        z_center=np.asarray(z_c, dtype=float),
        z_scale=np.asarray(z_s, dtype=float),
        x_names=tuple(poly_names(time, max_degree) + list(tv_covariates)),
        z_names=tuple(["(Intercept)", *covariates]),
        missing=report,
        n_persons_dropped=int(n_before - len(ids)),
        waves=waves,
        n_distinct_times=n_times,
        Xu=Xu,
        obs=Outcome(yu, lower, upper),
        M=M,
        Mt=M.T.tocsr(),
    )
