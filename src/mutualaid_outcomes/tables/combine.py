"""Combine tables: side by side, stacked, and one model per covariate.

The counterparts of gtsummary's ``tbl_merge``, ``tbl_stack`` and ``tbl_uvregression``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._labels import resolve_labels
from .._validation import as_column_list, check_columns, check_dataframe
from ..errors import ArgumentTypeError, DataValidationError
from .regression_tables import regression_table
from .table import Table

if TYPE_CHECKING:
    from ..models.regression.glm import Family

__all__ = ["merge_tables", "stack_tables", "univariable_table"]


def _named_tables(tables: Any, what: str) -> list[tuple[str, Table]]:
    if isinstance(tables, Mapping):
        items = [(str(k), v) for k, v in tables.items()]
    elif isinstance(tables, Sequence) and not isinstance(tables, str):
        items = [("", v) for v in tables]
    else:
        raise ArgumentTypeError(
            f"`tables` must be a sequence or a mapping label -> Table; got {type(tables).__name__}."
        )
    if len(items) < 2:
        raise DataValidationError(f"`tables` has {len(items)} table(s); {what} needs two or more.")
    for name, t in items:
        if not isinstance(t, Table):
            raise ArgumentTypeError(
                f"`tables` entry {name or '#'} is a {type(t).__name__}; expected a Table."
            )
    return items


def _row_keys(t: Table) -> list[tuple[str, str]]:
    """Rows keyed by (heading above, label), so "Female" under two factors stays apart."""
    keys, head = [], ""
    for i, label in enumerate(t.body.index):
        if i in t.heading_rows:
            head = str(label)
        elif t.indent_level(i) == 0:
            head = ""
        keys.append((head if i not in t.heading_rows else "", str(label)))
    return keys


def merge_tables(
    tables: Mapping[str, Table] | Sequence[Table], *, title: str = "", spanners: bool = True
) -> Table:
    """Put tables side by side under spanning headers (gtsummary ``tbl_merge``).

    Rows are matched by label (and by the factor heading above them); rows missing
    from a table get empty cells. Indentation, heading rows and notes come from the
    first table that has the row or note.

    Parameters
    ----------
    tables : mapping label -> Table, or sequence of Table
        The tables; mapping keys become the spanning headers (for a sequence, each
        table's title or "Table k").
    title : str
        Caption of the merged table.
    spanners : bool
        Put each table's columns under its label.

    Returns
    -------
    Table

    Raises
    ------
    ArgumentTypeError
        If an entry is not a :class:`Table`.
    DataValidationError
        If fewer than two tables are given or a table has spanning headers already.

    Examples
    --------
    >>> a = Table(pd.DataFrame({"OR": ["1.2"]}, index=["Age"]))
    >>> b = Table(pd.DataFrame({"OR": ["1.5"]}, index=["Sex"]))
    >>> m = merge_tables({"Unadjusted": a, "Adjusted": b})
    >>> m.spanners, m.body.index.tolist()
    ([('Unadjusted', 0, 0), ('Adjusted', 1, 1)], ['Age', 'Sex'])
    """
    items = _named_tables(tables, "merging")
    order: list[tuple[str, str]] = []
    info: dict[tuple[str, str], tuple[int, bool]] = {}
    for _, t in items:
        if t.spanners:
            raise DataValidationError(
                "`tables` holds a table with spanning headers already; merge tables of one "
                "model each."
            )
        for i, key in enumerate(_row_keys(t)):
            if key not in info:
                info[key] = (t.indent_level(i), i in t.heading_rows)
                order.append(key)
    frames, cols = [], []
    for k, (name, t) in enumerate(items):
        label = name or t.number_and_caption[1] or f"Table {k + 1}"
        part = t.body.copy()
        part.index = pd.MultiIndex.from_tuples(_row_keys(t))
        frames.append(part.reindex(pd.MultiIndex.from_tuples(order)).fillna(""))
        cols += [(label if spanners else "", c) for c in t.columns]
    body = pd.concat(frames, axis=1)
    body.index = [lab for _, lab in order]
    body.columns = pd.MultiIndex.from_tuples(cols) if spanners else [c for _, c in cols]
    notes: list[str] = []
    for _, t in items:
        notes += [n for n in t.footnotes if n not in notes]
    return Table(
        body=body,
        title=title,
        footnotes=notes,
        stub_header=items[0][1].stub_header,
        indent={i: info[k][0] for i, k in enumerate(order) if info[k][0]},
        heading_rows=[i for i, k in enumerate(order) if info[k][1]],
        style=items[0][1].style,
    )


def stack_tables(tables: Mapping[str, Table] | Sequence[Table], *, title: str = "") -> Table:
    """Stack tables with the same columns (gtsummary ``tbl_stack``).

    With a mapping, each group of rows is headed by its key and indented one level.

    Examples
    --------
    >>> a = Table(pd.DataFrame({"HR": ["1.2"]}, index=["Age"]))
    >>> b = Table(pd.DataFrame({"HR": ["1.5"]}, index=["Age"]))
    >>> stack_tables({"Men": a, "Women": b}).body.index.tolist()
    ['Men', 'Age', 'Women', 'Age']
    """
    items = _named_tables(tables, "stacking")
    first = items[0][1]
    bodies, indent, heading, notes = [], {}, [], []
    n = 0
    for name, t in items:
        if list(t.body.columns) != list(first.body.columns):
            raise DataValidationError(
                f"`tables` have different columns ({first.columns} and {t.columns}); "
                "stacked tables need the same columns."
            )
        shift = 1 if name else 0
        if name:
            heading.append(n)
            bodies.append(pd.DataFrame([[""] * t.body.shape[1]], index=[name],
                                       columns=t.body.columns))  # fmt: skip
        for i in range(len(t.body)):
            level = t.indent_level(i) + shift
            if level:
                indent[n + shift + i] = level
        heading += [n + shift + i for i in t.heading_rows]
        bodies.append(t.body)
        notes += [x for x in t.footnotes if x not in notes]
        n += shift + len(t.body)
    return Table(
        body=pd.concat(bodies), title=title, footnotes=notes, stub_header=first.stub_header,
        indent=indent, heading_rows=heading, style=first.style,
    )  # fmt: skip


def univariable_table(
    data: pd.DataFrame,
    outcome: str,
    covariates: Sequence[str],
    *,
    fit: Callable[..., Any] | None = None,
    family: Family = "gaussian",
    exponentiate: bool = False,
    labels: Any = None,
    codebook: Any = None,
    title: str = "",
    **table_options: Any,
) -> Table:
    """One model per covariate, stacked (gtsummary ``tbl_uvregression``).

    Parameters
    ----------
    data : pandas.DataFrame
        Analysis data.
    outcome : str
        Outcome: a column name, or the left-hand side of a formula
        (``"Surv"``-style outcomes: pass ``fit``).
    covariates : sequence of str
        Covariates, each a column name or a formula term such as ``"C(arm)"``.
    fit : callable, optional
        ``fit(data, formula)`` returning a result; default
        :func:`~mutualaid_outcomes.fit_regression` with ``family``.
    family : str
        Family for the default ``fit``.
    exponentiate : bool
        Show ratios.
    labels, codebook : optional
        Labels (default: the codebook attached to ``data``).
    title : str
        Caption.
    **table_options
        Passed to :func:`regression_table` (``decimals``, ``style``, ``conf_level``).

    Returns
    -------
    Table
        One block per covariate, with the N of its model in the first column;
        ``numbers`` holds every model's ``tidy()`` rows (``model`` = covariate).

    Raises
    ------
    ColumnNotFoundError
        If ``outcome`` or a plain covariate name is not a column.
    DataValidationError
        If ``covariates`` is empty.

    Examples
    --------
    >>> df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 7], "x": [0.0, 1, 1, 2, 3, 3],
    ...                    "z": [1.0, 0, 1, 0, 1, 0]})
    >>> t = univariable_table(df, "y", ["x", "z"])
    >>> t.body.index.tolist(), t.columns
    (['x', 'z'], ['N', 'Estimate (95% CI)', 'p'])
    """
    check_dataframe(data, "data")
    covs = as_column_list(covariates, "covariates")
    if not covs:
        raise DataValidationError("`covariates` is empty; give at least one covariate.")
    plain = [c for c in covs if c.isidentifier()]
    check_columns(data, [outcome, *plain], "covariates")
    if fit is None:
        from ..models import fit_regression

        def fit(d: pd.DataFrame, formula: str) -> Any:
            return fit_regression(d, formula, family=family)

    lab = resolve_labels(labels, codebook, data)
    parts, numbers = [], []
    for cov in covs:
        res = fit(data, f"{outcome} ~ {cov}")
        t = regression_table(res, exponentiate=exponentiate, labels=lab, **table_options)
        keep = [i for i, r in enumerate(t.body.index) if r not in ("N", "Events", "Clusters")]
        body = t.body.iloc[keep].copy()
        n = t.body.loc["N"].iloc[0] if "N" in t.body.index else ""
        body.insert(0, "N", [n] + [""] * (len(body) - 1))
        parts.append(
            Table(body=body, footnotes=t.footnotes, stub_header=t.stub_header,
                  indent={i: t.indent_level(i) for i in keep if t.indent_level(i)},
                  heading_rows=[i for i in t.heading_rows if i in keep], style=t.style)
        )  # fmt: skip
        if t.numbers is not None:
            numbers.append(t.numbers.assign(model=cov))
    if len(parts) == 1:
        parts.append(Table(body=parts[0].body.iloc[:0]))
    out = stack_tables(parts, title=title)
    return Table(
        body=out.body, title=title, footnotes=out.footnotes, stub_header=out.stub_header,
        indent={i: out.indent_level(i) for i in range(len(out.body))}, heading_rows=out.heading_rows,
        style=out.style, numbers=pd.concat(numbers, ignore_index=True),
    )  # fmt: skip
