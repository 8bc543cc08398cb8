"""The weighted Table 1 of :func:`~mutualaid_outcomes.tables.table_one` (``design=``).

Formats the rows of :func:`~mutualaid_outcomes.models.survey.weighted_summary` the way
R ``gtsummary::tbl_svysummary`` shows them, with one difference that journals and
survey statisticians ask for: counts are the *unweighted* numbers of respondents
(what the sample holds; weighted population counts are in ``Table.numbers``), while
percentages, means, SDs, medians and quartiles are weighted estimates. Column headers
give the unweighted n of each group; p-values are design-based (Rao-Scott F for
categorical variables, the Wald F test of equal domain means for continuous ones).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..disclosure import SUPPRESSED, suppress_counts
from ..errors import ArgumentTypeError, DataValidationError
from .formatting import format_number, format_p
from .table import Table

__all__ = ["weighted_table_one", "survey_table_one", "check_design_data"]

_TEST_NOTES = {
    "Rao-Scott F": "Rao-Scott F test (design-based chi-square)",
    "design-based Wald F": "design-based Wald F test of equal weighted means (also for "
    "variables summarised by medians)",
}


def check_design_data(design: Any, data: pd.DataFrame) -> None:
    """``design`` must be a survey design built on the rows of ``data``.

    Raises
    ------
    ArgumentTypeError
        ``design`` is not a survey design.
    DataValidationError
        The design holds other rows than ``data``.
    """
    frame = getattr(design, "data", None)
    if not isinstance(frame, pd.DataFrame) or not hasattr(design, "in_domain"):
        raise ArgumentTypeError(
            "`design` must be a survey design from `survey_design(...)` or "
            f"`replicate_design(...)`; got {type(design).__name__}."
        )
    if len(frame) != len(data) or not frame.index.equals(data.index):
        raise DataValidationError(
            f"`design` was built on {len(frame)} rows that are not the {len(data)} rows of "
            "`data`; build it from the same data frame: "
            "`table_one(df, ..., design=survey_design(df, weights=...))`."
        )


def _cells_categorical(rows: pd.DataFrame, groups: list[str], decimals: int, min_cell: int | None):
    levels = list(dict.fromkeys(rows["level"]))
    counts = np.array(
        [
            [rows[(rows["level"] == lv) & (rows["group"] == g)]["n"].sum() for g in groups]
            for lv in levels
        ]
    )
    hidden = np.zeros(counts.shape, bool)
    if min_cell:  # the rule of mutualaid_outcomes.disclosure (groups x levels)
        has_total = bool(groups) and groups[0] == "Overall"
        hidden = suppress_counts(counts.T, min_cell, has_total=has_total).T
    out = []
    for i, lv in enumerate(levels):
        cells = []
        for j, g in enumerate(groups):
            r = rows[(rows["level"] == lv) & (rows["group"] == g)]
            pct = float(r["percent"].iloc[0]) if len(r) else float("nan")
            if hidden[i, j]:
                cells.append(f"<{min_cell}" if counts[i, j] < min_cell else SUPPRESSED)
            else:
                cells.append(f"{int(counts[i, j])} ({format_number(pct, decimals)}%)")
        out.append((lv, cells))
    return out, bool(hidden.any())


def _cell_continuous(r: pd.Series, nonnormal: bool, decimals: int) -> str:
    if nonnormal:
        return (
            f"{format_number(r['median'], decimals)} "
            f"[{format_number(r['q1'], decimals)}, {format_number(r['q3'], decimals)}]"
        )
    return f"{format_number(r['mean'], decimals)} ({format_number(r['sd'], decimals)})"


def weighted_table_one(
    design: Any,
    by: str | None,
    variables: Sequence[str],
    *,
    categorical: Sequence[str] | None,
    nonnormal: Sequence[str] | None,
    overall: bool,
    tests: bool,
    missing: bool,
    decimals: int,
    style: str,
    min_cell: int | None,
    labels: Any,
    title: str,
    codebook: Any = None,
) -> Table:
    """A weighted Table 1 from a survey design (see the module docstring).

    ``Table.numbers`` holds the unrounded rows of ``weighted_summary`` (unweighted and
    weighted counts, weighted percentages, means, SDs, quantiles, p-values).
    """
    from .._labels import resolve_labels
    from ..models.survey import weighted_summary

    summary = weighted_summary(
        design, list(variables), by=by, categorical=list(categorical or []),
        test=bool(tests and by is not None),
    )  # fmt: skip
    groups = list(dict.fromkeys(summary["group"]))
    if not overall and by is not None:
        groups = [g for g in groups if g != "Overall"]
    lab = resolve_labels(labels, codebook, design.data)
    skewed = set(nonnormal or [])
    show_p = bool(tests and by is not None)
    body_rows: list[tuple[str, list[str], str]] = []
    indent: list[int] = []
    tests_used: list[str] = []
    suppressed = False
    for var in variables:
        rows = summary[summary["variable"] == var]
        name = lab.variable(var)
        p = format_p(float(rows["p_value"].iloc[0]), style) if show_p else ""
        if show_p and rows["test"].iloc[0] not in tests_used:
            tests_used.append(rows["test"].iloc[0])
        if rows["type"].iloc[0] == "categorical":
            body_rows.append((f"{name}, n (%)", [""] * len(groups), p))
            cells, hid = _cells_categorical(rows, groups, decimals, min_cell)
            suppressed |= hid
            for lv, c in cells:
                indent.append(len(body_rows))
                body_rows.append((str(lab.value(var, lv)), c, ""))
        else:
            stat = "Mdn [Q1, Q3]" if var in skewed else "M (SD)"
            by_group = rows.set_index("group")
            body_rows.append(
                (
                    f"{name}, {stat}",
                    [_cell_continuous(by_group.loc[g], var in skewed, decimals) for g in groups],
                    p,
                )
            )
        if missing and rows["n_missing"].max() > 0:
            miss = rows.groupby("group", sort=False)["n_missing"].first()
            indent.append(len(body_rows))
            body_rows.append(("Missing, n", [_count(int(miss[g]), min_cell) for g in groups], ""))
    header = [
        f"{g if g == 'Overall' or by is None else lab.value(by, g)} (n = {_group_n(design, by, g)})"
        for g in groups
    ]
    columns = header + (["p"] if show_p else [])
    body = pd.DataFrame(
        [cells + ([p] if show_p else []) for _, cells, p in body_rows],
        index=[label for label, _, _ in body_rows],
        columns=columns,
    )
    notes = [
        "n: unweighted numbers of respondents; percentages, means, SDs, medians and "
        "quartiles are weighted by the survey design; percentages exclude missing values."
    ]
    if show_p:
        notes.append("p: " + "; ".join(_TEST_NOTES.get(t, t) for t in tests_used) + ".")
    if suppressed:
        notes.append(f"Counts below {min_cell} are suppressed to protect confidentiality.")
    return Table(
        body=body,
        title=title,
        footnotes=notes,
        stub_header="Characteristic",
        indent=indent,
        numbers=summary,
        style=style,
    )


def _count(n: int, min_cell: int | None) -> str:
    return f"<{min_cell}" if min_cell and 0 < n < min_cell else str(n)


def _group_n(design: Any, by: str | None, group: str) -> int:
    """Unweighted rows in the group (rows of the design's domain)."""
    in_domain = np.asarray(design.in_domain, bool)
    if group == "Overall" or by is None:
        return int(in_domain.sum())
    col = design.data[by]
    return int((in_domain & (col.astype(str).to_numpy() == str(group))).sum())


def survey_table_one(
    data: pd.DataFrame, design: Any, by: str | None, variables: Any, opts: dict[str, Any]
) -> Table:
    """``table_one(data, ..., design=design)``: check the arguments, then format."""
    from .._validation import as_column_list, check_columns, check_positive_int

    check_design_data(design, data)
    if by is not None:
        check_columns(data, [by], "by")
    if variables is None:
        variables = [c for c in data.columns if c != by]
    variables = check_columns(data, as_column_list(variables, "variables"), "variables")
    if by is not None and by in variables:
        raise DataValidationError(f"`variables` includes the grouping column `by`='{by}'.")
    for key in ("categorical", "nonnormal"):
        if opts[key] is not None:
            check_columns(data, as_column_list(opts[key], key), key)
    if opts["min_cell"] is not None:
        opts = {**opts, "min_cell": check_positive_int(opts["min_cell"], "min_cell", minimum=2)}
    missing = [c for c in [*variables, *([by] if by else [])] if c not in design.data.columns]
    if missing:
        raise DataValidationError(
            f"Columns {missing} are not in the data of `design`; build the design after "
            "adding them to `data`."
        )
    return weighted_table_one(design, by, variables, **opts)
