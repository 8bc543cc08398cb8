"""Multiple imputation by chained equations (MICE, fully conditional specification).

:func:`impute` fills the missing values of chosen numeric columns ``m`` times and
returns an :class:`ImputedData` with the ``m`` completed frames, the imputation model,
the convergence trace and a report of what was imputed. Analyse every completed frame
and combine the results with Rubin's rules through
:func:`mutualaid_outcomes.models.missing.pooling.fit_imputed` or
:func:`~mutualaid_outcomes.models.missing.pooling.pool`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(3)
>>> df = pd.DataFrame({"x": rng.normal(size=200)})
>>> df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=200)
>>> df.loc[df["x"] > 0.8, "y"] = np.nan
>>> imp = impute(df, m=5, max_iter=5, rng=1)
>>> imp.report[["column", "n_missing", "pct_missing"]]
  column  n_missing  pct_missing
0      x          0          0.0
1      y         43         21.5
>>> imp.method
{'y': 'pmm'}
>>> int(imp.complete(1)["y"].isna().sum())
0
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._rng import check_rng, seed_of, spawn_rngs
from ..._validation import (
    as_column_list,
    check_columns,
    check_dataframe,
    check_option,
    check_positive_int,
    renamed,
)
from ...errors import ArgumentTypeError, DataValidationError, DataWarning, OptionError
from ._chained_equations import chain

__all__ = ["impute", "ImputedData", "IMPUTATION_METHODS"]

Method = Literal["pmm", "norm", "logreg"]
IMPUTATION_METHODS: tuple[str, ...] = ("pmm", "norm", "logreg")


@dataclass(frozen=True, repr=False, eq=False)
class ImputedData:
    """The result of :func:`impute`: ``m`` completed copies of the data (immutable).

    Attributes
    ----------
    data : pandas.DataFrame
        A copy of the incomplete input.
    completed : tuple of pandas.DataFrame
        The ``m`` completed frames (same index and columns as ``data``); prefer
        :meth:`complete`, which returns a copy.
    m, max_iter : int
        Number of imputations and of chained-equation iterations.
    method : dict
        Imputation method of every imputed column (``"pmm"``, ``"norm"`` or ``"logreg"``).
    predictors : dict
        For every imputed column, the columns of its conditional model.
    visit_sequence : tuple of str
        Order in which the columns are imputed within an iteration.
    trace : pandas.DataFrame
        Convergence trace: columns ``imputation, iteration, column, mean, sd`` of the
        imputed values (R ``mice``'s ``chainMean`` and ``chainVar``); plot ``mean``
        against ``iteration`` per imputation -- the chains should mix with no trend.
    report : pandas.DataFrame
        One row per column of the imputation model: ``column, n_missing, pct_missing,
        method`` (empty ``method`` for complete columns, used only as predictors).
    seed : int or None
        Integer seed passed as ``rng`` (None otherwise).
    notes : tuple of str
        Remarks (ignored methods, columns carried over with missing values).
    """

    data: pd.DataFrame
    completed: tuple[pd.DataFrame, ...]
    m: int
    max_iter: int
    method: dict[str, str]
    predictors: dict[str, tuple[str, ...]]
    visit_sequence: tuple[str, ...]
    trace: pd.DataFrame
    report: pd.DataFrame
    seed: int | None
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __len__(self) -> int:
        return self.m

    def __iter__(self) -> Iterator[pd.DataFrame]:
        return (frame.copy() for frame in self.completed)

    def complete(self, i: int) -> pd.DataFrame:
        """Return a copy of completed data set ``i`` (numbered 1..m, as R ``mice::complete``).

        Raises
        ------
        DataValidationError
            If ``i`` is not in 1..m.
        """
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
            raise ArgumentTypeError(f"`i` must be an integer in 1..{self.m}; got {i!r}.")
        if not 1 <= int(i) <= self.m:
            raise DataValidationError(
                f"`i` must be in 1..{self.m} (imputations are numbered from 1); got {i}."
            )
        return self.completed[int(i) - 1].copy()

    def long(self, include_original: bool = False) -> pd.DataFrame:
        """Stack the completed frames with ``.imp`` (1..m) and ``.id`` (row position) columns.

        With ``include_original=True`` the incomplete data come first with ``.imp = 0``
        (the layout of R ``mice::complete(imp, "long", include = TRUE)``).
        """
        frames = [self.data] if include_original else []
        frames += list(self.completed)
        start = 0 if include_original else 1
        out = []
        for k, frame in enumerate(frames, start=start):
            f = frame.reset_index(drop=True).copy()
            f.insert(0, ".id", np.arange(1, len(f) + 1))
            f.insert(0, ".imp", k)
            out.append(f)
        return pd.concat(out, ignore_index=True)

    def __repr__(self) -> str:
        n_cols = int((self.report["n_missing"] > 0).sum())
        lines = [
            f"ImputedData: m = {self.m} imputations of {len(self.data)} rows, "
            f"{self.max_iter} iterations, {n_cols} imputed column(s)",
            self.report.to_string(index=False),
        ]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)


# --------------------------------------------------------------------------- draws


# --------------------------------------------------------------------------- API


@renamed(n_iter="max_iter")
def impute(
    data: pd.DataFrame,
    columns: str | Sequence[str] | None = None,
    *,
    m: int = 20,
    method: Method | Mapping[str, Method] | None = None,
    max_iter: int = 10,
    predictors: Mapping[str, Sequence[str]] | None = None,
    rng: int | np.random.Generator | None = None,
) -> ImputedData:
    r"""Multiple imputation by chained equations.

    Parameters
    ----------
    data : pandas.DataFrame
        Incomplete data, one row per observation. Not modified.
    columns : str or sequence of str, optional
        Columns of the imputation model: incomplete ones are imputed, and all of them
        predict each other. Default: every numeric (or boolean) column of ``data``.
        Include the analysis model's outcome and every auxiliary variable that predicts
        missingness or the incomplete values (earlier waves, for instance); leave out
        identifiers. Other columns are carried over unchanged.
    m : int
        Number of imputations (at least 2; 20 or more when the fraction of missing
        information is large).
    method : str or mapping, optional
        ``"pmm"`` (predictive mean matching, the default for numeric columns), ``"norm"``
        (Bayesian linear regression) or ``"logreg"`` (Bayesian logistic regression for a
        0/1 column; the default for boolean columns). One string applies to every
        incomplete column; a mapping sets it per column (others keep the default).
    max_iter : int
        Iterations of the chained equations per imputation (mice's ``maxit``).
    predictors : mapping, optional
        ``{column: [predictor columns]}`` to restrict the conditional model of an
        imputed column (default: every other column of ``columns``).
    rng : int, numpy.random.Generator or None
        Random source (keyword-only). The ``m`` chains use independent child streams
        (``SeedSequence.spawn``); an integer seed is recorded in the result.

    Returns
    -------
    ImputedData
        ``m`` completed frames with the trace of the chains and a report of what was
        imputed.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        ``m < 2``; a column of the imputation model is not numeric (dummy-code
        categories first) or is missing in every row; a ``"logreg"`` column is not 0/1;
        or none of the columns has a missing value (nothing to impute).
    OptionError
        An unknown method, or a method or predictor set for a column not in ``columns``.

    Warns
    -----
    DataWarning
        A method given for a column without missing values (it is ignored; the column
        only serves as a predictor), or an incomplete column of ``data`` left out of
        ``columns`` (it keeps its missing values).

    Notes
    -----
    Fully conditional specification (van Buuren 2018, ch. 4), implemented here rather
    than wrapping ``statsmodels.imputation.mice.MICEData`` so that the draws follow R
    ``mice`` exactly and each of the ``m`` chains has its own random stream. Each chain
    starts from random draws of the observed values of every incomplete column; then,
    for ``max_iter`` iterations, every incomplete column :math:`y_j` (left to right) is
    re-imputed from its regression on the current values of its predictors
    :math:`X_{-j}` (with intercept), fitted on the rows where :math:`y_j` is observed:

    * ``norm`` (mice's ``norm``): with :math:`V = (X'X + \kappa\,\mathrm{diag}(X'X))^{-1}`,
      :math:`\kappa = 10^{-5}`, :math:`\hat\beta = V X'y`,
      :math:`\sigma^* = \sqrt{RSS / \chi^2_{n_{obs} - p}}` and
      :math:`\beta^* = \hat\beta + \sigma^* L z` (:math:`LL' = V`, :math:`z \sim N(0, I)`),
      imputations are :math:`x_{mis}'\beta^* + \sigma^* \varepsilon`;
    * ``pmm`` (type-1 predictive mean matching, mice's default): observed rows are
      predicted with :math:`\hat\beta`, missing rows with :math:`\beta^*`; each missing
      value takes the observed value of one of the 5 observed rows with the closest
      prediction, chosen at random. Imputations are observed values, so bounds, integer
      codes and skewness are preserved;
    * ``logreg``: logistic regression by Newton-Raphson (a ridge of
      :math:`10^{-5} n` on the slopes guards against separation), :math:`\beta^*` drawn from
      the normal approximation of its posterior, imputations Bernoulli with
      :math:`\mathrm{expit}(x_{mis}'\beta^*)`.

    The computations are vectorised over rows; the loops run over imputations,
    iterations and columns only. Validated against R ``mice`` 3.15.0 on ``nhanes``
    (``tests/reference/mice_pool.R``): the mean imputed ``bmi``, ``hyp`` and ``chl``
    agree with mice's within Monte Carlo error, for ``pmm`` and ``norm``; parameter
    recovery and interval coverage are checked on simulated data missing at random.

    Missing at random is assumed: missingness may depend on observed values of the
    imputation model's columns, not on the missing values themselves. Predictive mean
    matching cannot impute values outside the observed range: when missingness is
    concentrated where few values are observed (strong selection on a tail), ``pmm``
    underestimates the tail and ``norm`` recovers linear-normal relations better
    (in a simulation with 35% of the outcome missing and selection on an auxiliary
    variable, slope bias was -0.05 with ``pmm`` and -0.007 with ``norm``, for a true slope
    of 0.85). For bounded, discrete or skewed variables ``pmm`` is the safer default.

    References
    ----------
    van Buuren, S. (2018). *Flexible Imputation of Missing Data* (2nd ed.). CRC Press.

    van Buuren, S., & Groothuis-Oudshoorn, K. (2011). mice: Multivariate imputation by
    chained equations in R. *Journal of Statistical Software*, 45(3), 1-67.

    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"pda_0": rng.uniform(0, 1, 300)})
    >>> df["pda_15"] = np.clip(0.3 + 0.6 * df["pda_0"] + rng.normal(0, 0.1, 300), 0, 1)
    >>> df.loc[rng.random(300) < 0.6 * (1 - df["pda_0"]), "pda_15"] = np.nan
    >>> imp = impute(df, m=5, max_iter=5, rng=42)
    >>> len(imp), imp.method
    (5, {'pda_15': 'pmm'})
    >>> bool(imp.complete(2)["pda_15"].between(0, 1).all())
    True
    """
    data = check_dataframe(data)
    m = check_positive_int(m, "m", minimum=2)
    max_iter = check_positive_int(max_iter, "max_iter", minimum=1)
    cols = _model_columns(data, columns)
    gen = check_rng(rng)
    notes: list[str] = []
    miss_df = data[cols].isna()
    n_missing = miss_df.sum().astype(int)
    n = len(data)
    incomplete = _incomplete_columns(data, cols, columns, n_missing, notes)
    methods = _methods(data, method, cols, incomplete, notes)
    pred_sets = _predictor_sets(predictors, cols)
    for c in incomplete:
        n_obs = n - int(n_missing[c])
        if n_obs < 2:
            raise DataValidationError(
                f"Column '{c}' has only {n_obs} observed value(s); at least 2 are needed to "
                "fit its imputation model."
            )

    values = data[cols].to_numpy(dtype=float, na_value=np.nan)
    miss = miss_df.to_numpy()
    idx = {c: i for i, c in enumerate(cols)}
    targets = [idx[c] for c in incomplete]
    meth_list = [methods[c] for c in incomplete]
    pred_index = [np.array([idx[p] for p in pred_sets[c]], dtype=int) for c in incomplete]

    completed, traces = _run_chains(
        data, values, miss, incomplete, idx, targets, meth_list, pred_index, max_iter, m, gen
    )
    report = pd.DataFrame(
        {
            "column": cols,
            "n_missing": [int(n_missing[c]) for c in cols],
            "pct_missing": [100.0 * float(n_missing[c]) / n for c in cols],
            "method": [methods.get(c, "") for c in cols],
        }
    )
    return ImputedData(
        data=data.copy(),
        completed=tuple(completed),
        m=m,
        max_iter=max_iter,
        method=dict(methods),
        predictors={c: pred_sets[c] for c in incomplete},
        visit_sequence=tuple(incomplete),
        trace=pd.concat(traces, ignore_index=True),
        report=report,
        seed=seed_of(rng),
        notes=tuple(notes),
    )


def _model_columns(data: pd.DataFrame, columns: Any) -> list[str]:
    """Columns of the imputation model: the named ones, or every numeric/boolean column."""
    if columns is None:
        cols = [
            str(c)
            for c in data.columns
            if pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c])
        ]
        if not cols:
            raise DataValidationError(
                "`data` has no numeric columns to impute; dummy-code categories first."
            )
    else:
        cols = check_columns(data, columns, "columns")
        if not cols:
            raise DataValidationError("`columns` must name at least one column.")
        if len(set(cols)) != len(cols):
            dup = sorted({c for c in cols if cols.count(c) > 1})
            raise DataValidationError(f"`columns` lists {dup} more than once.")
    non_numeric = [
        f"'{c}' ({data[c].dtype})"
        for c in cols
        if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))
    ]
    if non_numeric:
        raise DataValidationError(
            f"`columns` must name numeric (or boolean) columns; non-numeric: "
            f"{', '.join(non_numeric)}. No imputation method applies to them: dummy-code "
            "categories as 0/1 columns (imputed with method 'logreg' or 'pmm') or leave "
            "them out of `columns`."
        )
    return cols


def _incomplete_columns(
    data: pd.DataFrame, cols: list[str], columns: Any, n_missing: pd.Series, notes: list[str]
) -> list[str]:
    """Model columns with missing values (none entirely missing); warn about left-out ones."""
    n = len(data)
    all_missing = [c for c in cols if n_missing[c] == n]
    if all_missing:
        raise DataValidationError(
            f"Column(s) {all_missing} are missing in all {n} rows; they cannot be imputed "
            "(there is nothing to learn their distribution from). Leave them out of "
            "`columns`."
        )
    incomplete = [c for c in cols if n_missing[c] > 0]
    if not incomplete:
        raise DataValidationError(
            f"None of the {len(cols)} column(s) of the imputation model has a missing "
            "value; there is nothing to impute. Analyse the data directly (or name the "
            "incomplete columns in `columns`)."
        )
    if columns is not None:
        left_out = [str(c) for c in data.columns if c not in cols and bool(data[c].isna().any())]
        if left_out:
            msg = (
                f"{len(left_out)} incomplete column(s) not in `columns` keep their missing "
                f"values: {left_out[:10]}."
            )
            warnings.warn(msg, DataWarning, stacklevel=4)
            notes.append(msg)
    return incomplete


def _methods(
    data: pd.DataFrame, method: Any, cols: list[str], incomplete: list[str], notes: list[str]
) -> dict[str, str]:
    """Method per incomplete column (default pmm; logreg for booleans); logreg needs 0/1."""
    default = {c: ("logreg" if pd.api.types.is_bool_dtype(data[c]) else "pmm") for c in incomplete}
    if method is None:
        methods = default
    elif isinstance(method, str):
        check_option(method, IMPUTATION_METHODS, "method")
        methods = {c: method for c in incomplete}
    elif isinstance(method, Mapping):
        unknown = [k for k in method if k not in cols]
        if unknown:
            raise OptionError(
                f"`method` names column(s) {unknown} that are not in `columns`; valid: {cols[:20]}."
            )
        for k, v in method.items():
            check_option(v, IMPUTATION_METHODS, f"method['{k}']")
        complete_given = [k for k in method if k not in incomplete]
        if complete_given:
            msg = (
                f"`method` was given for column(s) {complete_given} without missing values; "
                "ignored (they serve only as predictors)."
            )
            warnings.warn(msg, DataWarning, stacklevel=4)
            notes.append(msg)
        methods = {c: str(method.get(c, default[c])) for c in incomplete}
    else:
        raise ArgumentTypeError(
            "`method` must be a string ('pmm', 'norm', 'logreg') or a mapping from column to "
            f"method; got {type(method).__name__}."
        )
    for c in incomplete:
        if methods[c] == "logreg":
            vals = set(pd.unique(data[c].dropna().astype(float)))
            if not vals <= {0.0, 1.0}:
                shown = sorted(vals - {0.0, 1.0})[:5]
                raise DataValidationError(
                    f"`method` 'logreg' needs a 0/1 column; '{c}' has other values {shown}. "
                    "Use 'pmm' for ordinal or count columns."
                )
    return methods


def _predictor_sets(predictors: Any, cols: list[str]) -> dict[str, tuple[str, ...]]:
    """Predictors of each column's model: every other model column unless given."""
    pred_sets: dict[str, tuple[str, ...]] = {c: tuple(x for x in cols if x != c) for c in cols}
    if predictors is None:
        return pred_sets
    if not isinstance(predictors, Mapping):
        raise ArgumentTypeError(
            "`predictors` must be a mapping {column: [predictor columns]}; "
            f"got {type(predictors).__name__}."
        )
    for k, v in predictors.items():
        if k not in cols:
            raise OptionError(
                f"`predictors` names column '{k}', which is not in `columns` {cols[:20]}."
            )
        vs = as_column_list(v, f"predictors['{k}']")
        bad = [x for x in vs if x not in cols or x == k]
        if bad:
            raise OptionError(
                f"`predictors['{k}']` must name other columns of `columns`; got {bad}."
            )
        pred_sets[k] = tuple(vs)
    return pred_sets


def _run_chains(
    data: pd.DataFrame,
    values: np.ndarray,
    miss: np.ndarray,
    incomplete: list[str],
    idx: dict[str, int],
    targets: list[int],
    meth_list: list[str],
    pred_index: list[np.ndarray],
    max_iter: int,
    m: int,
    gen: np.random.Generator,
) -> tuple[list[pd.DataFrame], list[pd.DataFrame]]:
    """One chain per imputation on its own random stream: completed frames and traces."""
    completed = []
    traces = []
    for k, child in enumerate(spawn_rngs(gen, m), start=1):
        z, tr = chain(values, miss, targets, meth_list, pred_index, max_iter, child)
        frame = data.copy()
        for c in incomplete:
            j = idx[c]
            col = pd.Series(z[:, j], index=data.index, name=c)
            # imputed columns are float (boolean columns stay boolean)
            frame[c] = col.astype(bool) if pd.api.types.is_bool_dtype(data[c]) else col
        completed.append(frame)
        it, cc = np.meshgrid(np.arange(1, max_iter + 1), np.arange(len(incomplete)), indexing="ij")
        traces.append(
            pd.DataFrame(
                {
                    "imputation": k,
                    "iteration": it.ravel(),
                    "column": np.asarray(incomplete, dtype=object)[cc.ravel()],
                    "mean": tr[:, :, 0].ravel(),
                    "sd": tr[:, :, 1].ravel(),
                }
            )
        )
    return completed, traces
