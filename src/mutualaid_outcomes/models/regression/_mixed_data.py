"""Data preparation of ``fit_mixed``: random-effect terms, complete rows and designs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..._validation import check_columns, listwise_delete
from ...errors import ArgumentTypeError, DataValidationError, EstimationError, OptionError
from .._core.design import build_design, formula_columns, outcome_series, split_formula
from .._core.families import check_count, index_labels
from . import _mixed_engine as eng
from ._mixed_formula import RandomTerm, parse_cbind, parse_random_terms
from ._mixed_terms import term_blocks

#: Residual sum of squares, relative to the total, at which the model is an exact fit.
#: Evaluated in the no-pooling limit (theta -> infinity: fixed effects plus free
#: per-group effects); rounding in the sufficient-statistic residual sum of squares is
#: about 1e-13 relative, so 1e-10 separates exact fits from any real data with a
#: residual SD above 1e-5 of the outcome SD.
PERFECT_FIT_TOL = 1e-10


def check_identifiable(st: eng.GroupStats, n_groups: int, id: str, y: np.ndarray) -> None:
    """Refuse models whose residual variance is not identified (as lme4's nobs checks)."""
    n_re = n_groups * st.q
    if st.n <= n_re:
        raise DataValidationError(
            f"The {st.n} rows used are no more than the {n_re} random effects ({st.q} per "
            f"level of `id` ('{id}')); the random-effect and residual variances are not "
            "identified. Use fewer random effects (e.g. a random intercept only)."
        )
    ss = float(np.sum((y - y.mean()) ** 2))
    rss = eng.no_pooling_rss(st)
    if ss == 0 or rss <= PERFECT_FIT_TOL * ss:
        raise EstimationError(
            "The outcome is reproduced exactly by the fixed effects and one set of random "
            f"effects per level of `id` ('{id}') (residual sum of squares "
            f"{max(rss, 0.0):.3g} against a total of {ss:.3g}): the residual variance is "
            "zero and the likelihood has no maximum. Check for a derived or duplicated "
            "outcome column."
        )


def resolve_random_terms(
    formula: str, id: str | None, re_formula: str | None
) -> tuple[str, list[RandomTerm]]:
    """Random-effect terms from ``(... | g)`` in the formula or from ``id``/``re_formula``."""
    if not isinstance(formula, str):
        raise ArgumentTypeError(f"`formula` must be a string; got {formula!r}.")
    fixed, terms = parse_random_terms(formula)
    if not terms:
        if id is None:
            raise ArgumentTypeError(
                "fit_mixed needs the grouping of the random effects: a term such as "
                "'(1 | id)' in `formula`, or `id=`."
            )
        if not isinstance(id, str):
            raise ArgumentTypeError(f"`id` must be a column name; got {id!r}.")
        expr = "1" if re_formula is None else re_formula.split("~")[-1].strip() or "1"
        return formula, [RandomTerm(expr, (id,))]
    if id is not None or re_formula is not None:
        raise OptionError(
            f"`formula` already has the random-effect term(s) of "
            f"{[t.group for t in terms]}; do not pass `id` ({id!r}) or `re_formula` "
            f"({re_formula!r}) as well."
        )
    return fixed, terms


def mixed_data(
    data: pd.DataFrame,
    formula: str,
    terms: list[RandomTerm],
    offset: str | None,
    trials: str | None = None,
) -> tuple[Any, ...]:
    """Complete rows, outcome, fixed-effects design and the random-effect terms.

    A ``cbind(successes, failures)`` outcome comes back as a two-column frame; the terms
    come back as :class:`TermBlock` in lme4's order. The ``offset`` and ``trials`` columns
    take part in the listwise deletion.
    """
    factors = list(dict.fromkeys(f for t in terms for f in t.factors))
    check_columns(data, factors, "id" if len(terms) == 1 and len(factors) == 1 else "formula")
    lhs, rhs = split_formula(formula)
    pair = parse_cbind(lhs)
    extra = [c for c in (offset, trials) if c is not None]
    if offset is not None:
        check_columns(data, offset, "offset")
    if trials is not None:
        if not isinstance(trials, str):
            raise ArgumentTypeError(f"`trials` must be a column name; got {trials!r}.")
        check_columns(data, trials, "trials")
    if pair is not None:
        check_columns(data, list(pair), "formula")
        cols = [*pair, *formula_columns(f"~ {rhs}", data)]
    else:
        cols = formula_columns(formula, data)
    re_cols = [c for t in terms for c in formula_columns(f"~ {t.expr}", data, "re_formula")]
    clean, report = listwise_delete(
        data, list(dict.fromkeys([*cols, *re_cols, *extra, *factors])), identifiers=factors
    )
    blocks = term_blocks(clean, terms)
    y = clean[list(pair)] if pair is not None else outcome_series(lhs, clean)
    dtypes = y.dtypes if isinstance(y, pd.DataFrame) else [y.dtype]
    if not all(pd.api.types.is_numeric_dtype(t) or pd.api.types.is_bool_dtype(t) for t in dtypes):
        raise DataValidationError(
            f"`formula`: the outcome ('{lhs}') must be numeric; got {list(dtypes)}."
        )
    X, design = build_design(rhs, clean)
    return clean, report, y, X, design, blocks


def glmm_outcome(
    y: Any, family: str, offset_values: np.ndarray, trials: pd.Series | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Successes (counts) and trials of a binomial, Poisson or negative binomial outcome."""
    if trials is not None:
        if isinstance(y, pd.DataFrame):
            raise OptionError(
                f"`trials` ('{trials.name}') and a cbind() outcome both give the binomial "
                "trials; use one: cbind(successes, failures) or successes with `trials`."
            )
        return binomial_with_trials(y, trials)
    if isinstance(y, pd.DataFrame):
        if family != "binomial":
            raise OptionError(
                f"`formula`: a cbind() outcome needs family='binomial'; got '{family}'."
            )
        k = check_count(y.iloc[:, 0], "binomial", "formula")
        f = check_count(y.iloc[:, 1], "binomial", "formula")
        return k, k + f
    if family in ("poisson", "negative_binomial"):
        counts = check_count(y, family, "formula")
        if not counts.any():
            raise DataValidationError(
                f"`formula`: the {family} outcome ('{y.name}') is zero in all {len(y)} rows "
                "used; the log-rate has no finite maximum-likelihood estimate."
            )
        return counts, np.ones(len(y))
    arr = y.to_numpy(dtype=float)
    if not np.all(np.isin(arr, [0.0, 1.0])):
        raise DataValidationError(
            f"`formula`: the binomial outcome ('{y.name}') must be 0/1 (or use "
            "cbind(successes, failures)); found values outside {0, 1}."
        )
    return arr, np.ones(len(arr))


def binomial_with_trials(y: pd.Series, trials: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Successes ``y`` out of ``trials``: whole numbers with ``0 <= y <= trials``, trials > 0.

    The model of lme4's ``glmer(y / n ~ ..., weights = n)`` and of
    ``cbind(y, n - y)``. Messages name the column and the rows (index labels).
    """
    if not pd.api.types.is_numeric_dtype(trials):
        raise DataValidationError(
            f"`trials` ('{trials.name}') must be numeric (the number of trials); got "
            f"{trials.dtype}."
        )
    m = trials.to_numpy(dtype=float)
    bad = (m <= 0) | (m != np.round(m))
    if bad.any():
        raise DataValidationError(
            f"`trials` ('{trials.name}') must hold positive whole numbers; {int(bad.sum())} "
            f"values do not ({index_labels(trials.index, bad)})."
        )
    arr = y.to_numpy(dtype=float)
    frac = (arr > 0) & (arr < 1)
    if frac.any():
        raise DataValidationError(
            f"`formula`: with `trials`, the outcome ('{y.name}') counts successes; "
            f"{int(frac.sum())} values lie strictly between 0 and 1 "
            f"({index_labels(y.index, frac)}). For a proportion outcome, model "
            f"'{y.name}' times '{trials.name}' (the successes)."
        )
    k = check_count(y, "binomial", "formula")
    over = k > m
    if over.any():
        raise DataValidationError(
            f"`formula`: the successes ('{y.name}') exceed `trials` ('{trials.name}') in "
            f"{int(over.sum())} rows ({index_labels(y.index, over)})."
        )
    return k, m
