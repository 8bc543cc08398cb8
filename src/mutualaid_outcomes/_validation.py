"""Argument checks shared by every public function.

All checks raise classes from :mod:`mutualaid_outcomes.errors` with messages
that name the argument, what was received and what would be valid.
"""

from __future__ import annotations

import difflib
import functools
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

import numpy as np
import pandas as pd

from .errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    EstimationError,
    OptionError,
)

__all__ = [
    "check_dataframe",
    "check_columns",
    "check_option",
    "check_conf_level",
    "check_positive_int",
    "check_numeric",
    "check_binary",
    "as_column_list",
    "MissingReport",
    "listwise_delete",
    "close_matches",
    "renamed",
    "check_data_first",
    "COV_TYPES",
    "check_cov_type",
    "MAX_ABS_VALUE",
    "check_finite",
]

_P = ParamSpec("_P")
_R = TypeVar("_R")


def close_matches(name: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Return up to ``n`` candidates close to ``name`` (case-insensitive).

    Examples
    --------
    >>> close_matches("job_sek", ["job_seek", "treat", "depress2"])
    ['job_seek']
    """
    cands = [str(c) for c in candidates]
    lower = {c.lower(): c for c in cands}
    hits = difflib.get_close_matches(str(name).lower(), list(lower), n=n, cutoff=0.6)
    return [lower[h] for h in hits]


def check_dataframe(data: Any, argument: str = "data", allow_empty: bool = False) -> pd.DataFrame:
    """Check that ``data`` is a pandas DataFrame with unique column names.

    Raises
    ------
    ArgumentTypeError
        If ``data`` is not a DataFrame.
    DataValidationError
        If it has duplicated column names or (unless ``allow_empty``) no rows.

    Examples
    --------
    >>> check_dataframe(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    if not isinstance(data, pd.DataFrame):
        raise ArgumentTypeError(
            f"`{argument}` must be a pandas DataFrame; got {type(data).__name__}."
        )
    dup = data.columns[data.columns.duplicated()].unique().tolist()
    if dup:
        raise DataValidationError(
            f"`{argument}` has duplicated column names {dup}; column names must be unique."
        )
    if not allow_empty and len(data) == 0:
        raise DataValidationError(f"`{argument}` has no rows.")
    return data


def as_column_list(columns: str | Sequence[str] | None, argument: str) -> list[str]:
    """Normalise a column argument (one name, a sequence of names, or None) to a list.

    Examples
    --------
    >>> as_column_list("x", "covariates"), as_column_list(None, "covariates")
    (['x'], [])
    """
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    if isinstance(columns, (list, tuple, pd.Index, np.ndarray)):
        out = list(columns)
        bad = [c for c in out if not isinstance(c, str)]
        if bad:
            raise ArgumentTypeError(
                f"`{argument}` must contain column names (strings); got {bad!r}."
            )
        return out
    raise ArgumentTypeError(
        f"`{argument}` must be a column name or a list of column names; "
        f"got {type(columns).__name__}."
    )


def check_columns(
    data: pd.DataFrame, columns: str | Sequence[str] | None, argument: str = "columns"
) -> list[str]:
    """Check that every name in ``columns`` is a column of ``data``.

    Returns the names as a list. Unknown names raise :class:`ColumnNotFoundError`
    with close-match suggestions.

    Examples
    --------
    >>> df = pd.DataFrame({"job_seek": [1.0], "treat": [1]})
    >>> check_columns(df, ["treat"], "exposure")
    ['treat']
    >>> check_columns(df, "job_sek", "mediators")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.ColumnNotFoundError: `mediators` names column 'job_sek', which is not in the data. Did you mean 'job_seek'?
    """
    names = as_column_list(columns, argument)
    present = [str(c) for c in data.columns]
    present_set = set(present)
    missing = [c for c in names if c not in present_set]
    if missing:
        if len(missing) == 1:
            text = f"`{argument}` names column '{missing[0]}', which is not in the data."
        else:
            text = f"`{argument}` names columns {missing}, which are not in the data."
        hints = []
        for m in missing[:10]:
            sugg = close_matches(m, present)
            if sugg:
                alts = " or ".join(repr(s) for s in sugg)
                hints.append(alts if len(missing) == 1 else f"{alts} for '{m}'")
        if hints:
            text += " Did you mean " + "; ".join(hints) + "?"
        raise ColumnNotFoundError(text)
    return names


def check_option(value: Any, allowed: Sequence[Any], argument: str) -> Any:
    """Check that ``value`` is one of ``allowed``.

    Examples
    --------
    >>> check_option("bca", ("bca", "percentile", "monte_carlo"), "ci")
    'bca'
    >>> check_option("bc", ("bca", "percentile", "monte_carlo"), "ci")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.OptionError: `ci` must be one of 'bca', 'percentile', 'monte_carlo'; got 'bc'.
    """
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise OptionError(f"`{argument}` must be one of {choices}; got {value!r}.")
    return value


def _replacement(new: str) -> str:
    """Render a replacement: a bare name as `name`, a hint (``cov_type='model'``) as given."""
    return f"`{new}`" if new.isidentifier() else new


def renamed(**renames: str) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Refuse keywords that were renamed, with a TypeError naming the replacement.

    The package renamed arguments directly at version 0.2 (see ``CHANGELOG.md``); there are
    no silent aliases. Decorate a public function with the old names mapped to the new
    ones (a bare name, or a hint such as ``"cov_type='bias_reduced'"`` where a value
    replaces an argument). Calls with new names pass through untouched; the signature,
    docstring and type hints are those of the function. The mapping is kept in the
    ``__renamed__`` attribute, so other code (the pipeline's spec checks) can point at
    the new name too.

    Raises
    ------
    ArgumentTypeError
        (a ``TypeError``) when an old keyword is passed.

    Examples
    --------
    >>> @renamed(groups="id")
    ... def fit(data, *, id="id"):
    ...     return id
    >>> fit(None, id="pid")
    'pid'
    >>> fit(None, groups="pid")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.ArgumentTypeError: fit() got the keyword `groups`, which was renamed `id` (see CHANGELOG.md).
    >>> dict(fit.__renamed__)
    {'groups': 'id'}
    """
    table = MappingProxyType(dict(renames))

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        name = func.__qualname__.removesuffix(".__init__")

        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            for old in table.keys() & kwargs.keys():
                raise ArgumentTypeError(
                    f"{name}() got the keyword `{old}`, which was renamed "
                    f"{_replacement(table[old])} (see CHANGELOG.md)."
                )
            return func(*args, **kwargs)

        wrapper.__renamed__ = table  # type: ignore[attr-defined]
        return wrapper

    return decorate


def check_data_first(data: Any, second: Any, function: str, second_name: str = "formula") -> None:
    """Point out the old argument order ``f(formula, data)`` of a data-first function.

    Raises
    ------
    ArgumentTypeError
        When ``data`` is a string and the second argument a DataFrame.

    Examples
    --------
    >>> check_data_first("y ~ x", pd.DataFrame({"y": [1.0]}), "fit_regression")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.ArgumentTypeError: fit_regression() takes the data first: fit_regression(data, formula, ...); got the formula as `data` and a DataFrame as `formula`.
    """
    if isinstance(data, str) and isinstance(second, pd.DataFrame):
        raise ArgumentTypeError(
            f"{function}() takes the data first: {function}(data, {second_name}, ...); got "
            f"the {second_name} as `data` and a DataFrame as `{second_name}`."
        )


#: every value of ``cov_type`` (docs/conventions.md); a function accepts the subset it supports
COV_TYPES: tuple[str, ...] = ("model", "robust", "HC0", "HC1", "HC2", "HC3", "bias_reduced")
_OLD_COV_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "nonrobust": "was renamed 'model'",
        "naive": "was renamed 'model'",
        "cluster": (
            "is no longer a value: pass `cluster=` (a column) and the standard errors are "
            "cluster-robust"
        ),
    }
)


def check_cov_type(cov_type: Any, allowed: Sequence[str], argument: str = "cov_type") -> str:
    """Check a ``cov_type`` value against the values one function supports.

    Old values (``'nonrobust'``, ``'naive'``, ``'cluster'``) raise an :class:`OptionError`
    naming their replacement.

    Examples
    --------
    >>> check_cov_type("HC1", ("model", "robust", "HC0", "HC1"))
    'HC1'
    >>> check_cov_type("nonrobust", ("model", "robust"))
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.OptionError: `cov_type='nonrobust'` was renamed 'model'; `cov_type` must be one of 'model', 'robust'.
    """
    if isinstance(cov_type, str) and cov_type in _OLD_COV_TYPES:
        choices = ", ".join(repr(a) for a in allowed)
        raise OptionError(
            f"`{argument}={cov_type!r}` {_OLD_COV_TYPES[cov_type]}; `{argument}` must be one "
            f"of {choices}."
        )
    return str(check_option(cov_type, allowed, argument))


def check_conf_level(conf_level: Any, argument: str = "conf_level") -> float:
    """Check a confidence level strictly between 0 and 1.

    Examples
    --------
    >>> check_conf_level(0.9)
    0.9
    """
    if isinstance(conf_level, bool) or not isinstance(conf_level, numbers.Real):
        raise ArgumentTypeError(f"`{argument}` must be a number in (0, 1); got {conf_level!r}.")
    if not 0 < float(conf_level) < 1:
        raise DataValidationError(
            f"`{argument}` must be strictly between 0 and 1 (e.g. 0.95); got {conf_level!r}."
        )
    return float(conf_level)


def check_positive_int(value: Any, argument: str, minimum: int = 1) -> int:
    """Check an integer no smaller than ``minimum``.

    Examples
    --------
    >>> check_positive_int(1000, "n_boot")
    1000
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentTypeError(f"`{argument}` must be an integer >= {minimum}; got {value!r}.")
    if int(value) < minimum:
        raise DataValidationError(f"`{argument}` must be an integer >= {minimum}; got {value}.")
    return int(value)


def check_numeric(data: pd.DataFrame, columns: Sequence[str], argument: str) -> None:
    """Check that the named columns are numeric (bool counts as numeric).

    Examples
    --------
    >>> check_numeric(pd.DataFrame({"a": ["x"]}), ["a"], "covariates")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.DataValidationError: `covariates` must name numeric columns; non-numeric: 'a' (...). Encode categories as numbers or dummy variables first.
    """
    bad = [
        f"'{c}' ({data[c].dtype})"
        for c in columns
        if not (pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]))
    ]
    if bad:
        raise DataValidationError(
            f"`{argument}` must name numeric columns; non-numeric: {', '.join(bad)}. "
            "Encode categories as numbers or dummy variables first."
        )


def check_binary(series: pd.Series, argument: str) -> pd.Series:
    """Check that a series holds only 0/1 (or booleans) among non-missing values.

    Returns the series as float.

    Examples
    --------
    >>> check_binary(pd.Series([0, 1, 2]), "event")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.DataValidationError: `event` ('None') must be coded 0/1; found other values [2].
    """
    values = pd.unique(series.dropna())
    try:
        other = sorted({float(v) for v in values} - {0.0, 1.0})
    except (TypeError, ValueError):
        text = sorted(map(str, values))[:10]
        raise DataValidationError(
            f"`{argument}` ('{series.name}') must be coded 0/1; found non-numeric values {text}."
        ) from None
    if other:
        shown = [int(v) if float(v).is_integer() else v for v in other[:10]]
        raise DataValidationError(
            f"`{argument}` ('{series.name}') must be coded 0/1; found other values {shown}."
        )
    return series.astype(float)


#: Largest magnitude accepted in a column that enters a model's algebra. Beyond about
#: ``2**53 = 9.0e15`` doubles no longer hold whole numbers exactly, their squares (``1e30``)
#: swamp every other term of a cross-product, and a single such value decides a fit;
#: values this large are data errors (a sentinel such as ``9.99e99``, a unit slip) or
#: need rescaling, never something to estimate with quietly.
MAX_ABS_VALUE = 1e15


def _row_positions(mask: np.ndarray, shown: int = 5) -> str:
    """'rows at positions 3, 17 and 2 more' (0-based positions in the data passed in)."""
    pos = np.flatnonzero(mask)
    text = ", ".join(str(int(p)) for p in pos[:shown])
    more = f" and {len(pos) - shown} more" if len(pos) > shown else ""
    return f"{len(pos)} row{'s' if len(pos) != 1 else ''} (0-based positions {text}{more})"


def check_finite(
    data: pd.DataFrame,
    columns: Sequence[str],
    argument: str = "data",
    *,
    identifiers: Sequence[str] = (),
) -> None:
    """Refuse infinite or absurdly large values in the numeric columns a model uses.

    ``inf``/``-inf`` are never valid data; magnitudes above :data:`MAX_ABS_VALUE`
    (``1e15``) make the floating-point algebra meaningless. Missing values (NaN) are
    left to :func:`listwise_delete`. Columns in ``identifiers`` (cluster and subject ids)
    are only checked for infinities, since long numeric ids are legitimate. Messages name
    the column, the number of rows and their first positions, never any values.

    Raises
    ------
    DataValidationError
        Naming the first offending column.

    Examples
    --------
    >>> check_finite(pd.DataFrame({"y": [1.0, np.inf]}), ["y"])
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.DataValidationError: `data` column 'y' has infinite values in 1 row (0-based positions 1). Recode them as missing or correct them before fitting.
    """
    ids = set(identifiers)
    for c in dict.fromkeys(columns):
        col = data[c]
        if pd.api.types.is_bool_dtype(col) or not pd.api.types.is_numeric_dtype(col):
            continue
        arr = col.to_numpy(dtype=float, na_value=np.nan)
        inf = np.isinf(arr)
        if inf.any():
            raise DataValidationError(
                f"`{argument}` column '{c}' has infinite values in {_row_positions(inf)}. "
                "Recode them as missing or correct them before fitting."
            )
        if c in ids:
            continue
        with np.errstate(invalid="ignore"):
            big = np.abs(arr) > MAX_ABS_VALUE
        if big.any():
            raise DataValidationError(
                f"`{argument}` column '{c}' has values larger than {MAX_ABS_VALUE:.0e} in "
                f"absolute value in {_row_positions(big)}; such values are data errors or "
                "sentinel codes, or need rescaling (e.g. to thousands), before fitting."
            )


@dataclass(frozen=True)
class MissingReport:
    """How many rows a model used and why the others were excluded.

    Attributes
    ----------
    n_input : int
        Rows in the data passed in.
    n_used : int
        Rows used after listwise deletion.
    missing_by_column : dict
        For each column, the number of rows with a missing value there
        (a row missing on two columns is counted under both).
    """

    n_input: int
    n_used: int
    missing_by_column: dict[str, int] = field(default_factory=dict)

    @property
    def n_dropped(self) -> int:
        """Rows excluded."""
        return self.n_input - self.n_used

    def describe(self) -> str:
        """One sentence for summaries and logs (counts only, no participant data).

        Examples
        --------
        >>> MissingReport(10, 8, {"x": 2}).describe()
        'Used 8 of 10 rows; 2 excluded for missing values (x: 2).'
        """
        if self.n_dropped == 0:
            return f"Used all {self.n_input} rows."
        detail = ", ".join(f"{k}: {v}" for k, v in self.missing_by_column.items() if v)
        return (
            f"Used {self.n_used} of {self.n_input} rows; {self.n_dropped} excluded for "
            f"missing values ({detail})."
        )


def listwise_delete(
    data: pd.DataFrame,
    columns: Sequence[str],
    argument: str = "data",
    *,
    identifiers: Sequence[str] = (),
) -> tuple[pd.DataFrame, MissingReport]:
    """Drop rows with a missing value in any of ``columns``, and report it.

    The same deletion applies to every equation, weight and cluster column of
    a model, so all parts of a model use the same rows. The caller's frame is
    not modified; a copy restricted to ``columns`` is returned. Every numeric column is
    first checked by :func:`check_finite` (``identifiers`` names the id and cluster
    columns, exempt from its magnitude limit), so no model sees ``inf`` or absurd values.

    Raises
    ------
    DataValidationError
        Infinite or absurdly large values (:func:`check_finite`).
    EstimationError
        If no row remains.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, None, 3.0], "x": [1.0, 2.0, None]})
    >>> clean, rep = listwise_delete(df, ["y", "x"])
    >>> len(clean), rep.n_dropped, rep.missing_by_column
    (1, 2, {'y': 1, 'x': 1})
    """
    cols = list(dict.fromkeys(columns))
    sub = data.loc[:, cols]
    check_finite(sub, cols, argument, identifiers=identifiers)
    isna = sub.isna()
    by_col = {c: int(isna[c].sum()) for c in cols}
    keep = ~isna.any(axis=1)
    # ``data.loc[:, cols]`` is already a new frame: copy again only when rows go
    clean = sub if bool(keep.all()) else sub.loc[keep].copy()
    report = MissingReport(int(len(data)), int(keep.sum()), by_col)
    if report.n_used == 0:
        detail = ", ".join(f"{k}: {v}" for k, v in by_col.items() if v)
        raise EstimationError(
            f"No rows of `{argument}` remain after removing rows with missing values "
            f"({len(data)} rows in; missing by column: {detail}). Check missing-value "
            "codes or impute first."
        )
    return clean, report
