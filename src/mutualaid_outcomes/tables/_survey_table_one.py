"""The weighted Table 1 of :func:`~mutualaid_outcomes.tables.table_one` (``design=``).

Formats the rows of :func:`~mutualaid_outcomes.models.survey.weighted_summary` the way
R ``gtsummary::tbl_svysummary`` shows them, with one difference that journals and
survey statisticians ask for: counts are the *unweighted* numbers of respondents
(what the sample holds; weighted population counts are in ``Table.numbers``), while
percentages, means, SDs, medians and quartiles are weighted estimates. Column headers
give the unweighted n of each group; p-values are design-based (Rao-Scott F for
categorical variables, the Wald F test of equal domain means for continuous ones).
Dichotomous variables (0/1, logical, yes/no-labelled) are found by the rule of the
unweighted Table 1 (:func:`~mutualaid_outcomes.tables._table_one_rows.column_kind`)
and take one row, summarised and tested as categorical variables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..disclosure import SUPPRESSED, suppress_counts
from ..errors import ArgumentTypeError, DataValidationError
from ._survey_compare import apply_test_overrides, check_survey_tests, weighted_smd
from ._table_one_rows import column_kind, dichotomous_label, same_level_index, shown_level
from .formatting import format_number, format_p
from .table import Table

__all__ = ["weighted_table_one", "survey_table_one", "check_design_data"]

_TEST_NOTES = {
    "Rao-Scott F": "Rao-Scott F test (design-based chi-square)",
    "design-based Wald F": "design-based Wald F test of equal weighted means (also for "
    "variables summarised by medians)",
    "Rao-Scott chi-square": "Rao-Scott adjusted chi-square test",
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


@dataclass
class _Plan:
    """Disclosure plan of a weighted Table 1 (the rule of :mod:`mutualaid_outcomes.disclosure`).

    ``masks[var]`` covers groups x (levels, or the non-missing n of a continuous
    variable), plus the missing count when any value is missing; ``header`` the group
    sizes, ``primary`` the sizes below ``min_cell``.
    """

    min_cell: int | None
    header: np.ndarray
    primary: np.ndarray
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    used: bool = False

    def text(self, count: float) -> str:
        """Text of a hidden count: ``<min_cell`` (primary) or ``suppressed``."""
        self.used = True
        return f"<{self.min_cell}" if count < int(self.min_cell) else SUPPRESSED  # type: ignore[arg-type]


def _var_counts(rows: pd.DataFrame, groups: list[str]) -> tuple[np.ndarray, bool]:
    """Unweighted counts a variable publishes or implies, and whether missing is a column."""
    by_group = [rows[rows["group"] == g] for g in groups]
    if rows["type"].iloc[0] == "categorical":
        levels = list(dict.fromkeys(rows["level"]))
        table = np.array([[r[r["level"] == lv]["n"].sum() for lv in levels] for r in by_group])
    else:
        table = np.array([[r["n"].sum()] for r in by_group])
    miss = np.array([[r["n_missing"].iloc[0] if len(r) else 0] for r in by_group])
    if miss.any():
        return np.column_stack([table, miss]).astype(float), True
    return table.astype(float), False


def _plan(summary: pd.DataFrame, variables: Sequence[str], groups: list[str],
          sizes: np.ndarray, min_cell: int | None) -> _Plan:  # fmt: skip
    """Primary and complementary suppression over every variable and the group sizes."""
    header = sizes < min_cell if min_cell else np.zeros(len(sizes), bool)
    plan = _Plan(min_cell, header.copy(), header.copy())
    if not min_cell:
        return plan
    counts = {v: _var_counts(summary[summary["variable"] == v], groups)[0] for v in variables}
    has_total = bool(groups) and groups[0] == "Overall" and len(groups) > 1
    while True:
        before = plan.header.copy()
        for var, table in counts.items():
            pre = np.zeros((table.shape[0], table.shape[1] + 1), dtype=bool)
            pre[:, -1] = plan.header
            mask = suppress_counts(
                table, min_cell, has_total=has_total, totals=sizes, suppressed=pre
            )
            plan.masks[var] = mask[:, :-1]
            plan.header |= mask[:, -1]
        if (plan.header == before).all():
            break
    plan.used = bool(plan.header.any()) or any(m.any() for m in plan.masks.values())
    return plan


def _cells_categorical(rows: pd.DataFrame, groups: list[str], decimals: int, plan: _Plan):
    levels = list(dict.fromkeys(rows["level"]))
    table, _ = _var_counts(rows, groups)
    hidden = plan.masks.get(str(rows["variable"].iloc[0]))
    out = []
    for i, lv in enumerate(levels):
        cells = []
        for j, g in enumerate(groups):
            r = rows[(rows["level"] == lv) & (rows["group"] == g)]
            pct = float(r["percent"].iloc[0]) if len(r) else float("nan")
            if hidden is not None and hidden[j, i]:
                cells.append(plan.text(table[j, i]))
            else:
                cells.append(f"{int(table[j, i])} ({format_number(pct, decimals)}%)")
        out.append((lv, cells))
    return out


def _cell_continuous(r: pd.Series, nonnormal: bool, decimals: int, plan: _Plan) -> str:
    if plan.min_cell and r["n"] < plan.min_cell:  # a summary of fewer than min_cell values
        return plan.text(r["n"])
    if nonnormal:
        return (
            f"{format_number(r['median'], decimals)} "
            f"[{format_number(r['q1'], decimals)}, {format_number(r['q3'], decimals)}]"
        )
    return f"{format_number(r['mean'], decimals)} ({format_number(r['sd'], decimals)})"


def _missing_cells(rows: pd.DataFrame, groups: list[str], plan: _Plan) -> list[str]:
    miss = rows.groupby("group", sort=False)["n_missing"].first()
    mask = plan.masks.get(str(rows["variable"].iloc[0]))
    return [
        plan.text(miss[g]) if mask is not None and mask[j, -1] else str(int(miss[g]))
        for j, g in enumerate(groups)
    ]


def _published_numbers(
    summary: pd.DataFrame, groups: list[str], plan: _Plan, p_hidden: bool
) -> pd.DataFrame:
    """``Table.numbers`` without the values the body hides (NaN) or leaves out."""
    if not plan.min_cell:
        return summary.copy()
    out = summary[summary["group"].isin(groups)].copy()
    if p_hidden:
        out["p_value"] = np.nan
    for var, mask in plan.masks.items():
        sub = out[out["variable"] == var]
        categorical = sub["type"].iloc[0] == "categorical"
        levels = list(dict.fromkeys(sub["level"])) if categorical else [None]
        has_missing = _var_counts(sub, groups)[1]
        for j, g in enumerate(groups):
            at = (out["variable"] == var) & (out["group"] == g)
            for i, lv in enumerate(levels):
                if mask[j, i]:
                    rows = at & (out["level"] == lv) if categorical else at
                    out.loc[rows, ["n", "n_weighted", "percent"]] = np.nan
            if not has_missing or mask[j, -1]:  # no Missing row, or a hidden count
                out.loc[at, "n_missing"] = np.nan
    small = (summary["type"] == "continuous") & (summary["n"] < plan.min_cell)
    stats_ = ["n", "n_weighted", "mean", "sd", "median", "q1", "q3"]
    out.loc[small.reindex(out.index), stats_] = np.nan
    return out


def _header(design: Any, by: str | None, groups: list[str], sizes: np.ndarray,
            plan: _Plan, lab: Any) -> list[str]:  # fmt: skip
    out = []
    for j, g in enumerate(groups):
        name = g if g == "Overall" or by is None else lab.value(by, g)
        if plan.header[j]:
            out.append(f"{name} (n {plan.text(sizes[j])})")
        else:
            out.append(f"{name} (n = {int(sizes[j])})")
    return out


def _p_values(summary: pd.DataFrame, groups: list[str], sizes: np.ndarray,
              min_cell: int | None, lab: Any, by: str | None) -> tuple[pd.DataFrame, str | None]:  # fmt: skip
    """Per-variable p-values and tests; none when a group has fewer than ``min_cell`` people.

    A design-based test that involves a group of fewer than ``min_cell`` people is a
    summary of that group. Leaving the group out would mean a test on a domain whose
    design still holds the group's level (the Wald test of equal domain means is then
    singular), so under ``min_cell`` the p-values of such a table are suppressed and a
    note says why.
    """
    first = summary.groupby("variable", sort=False)[["p_value", "test"]].first()
    small = [g for g, n in zip(groups, sizes) if g != "Overall" and min_cell and n < min_cell]
    if not small:
        return first, None
    first["p_value"] = np.nan
    names = ", ".join(str(lab.value(by, g)) for g in small)
    return first, (
        f"p-values are not shown: a group has fewer than {min_cell} people ({names}), and "
        "every design-based test would involve it."
    )


def _notes(tests_used: list[str], p_note: str | None, pairs: bool, smd_note: str | None,
           plan: _Plan, *, show_smd: bool) -> list[str]:  # fmt: skip
    """Footnotes of the weighted Table 1."""
    min_cell = plan.min_cell
    notes = [
        "n: unweighted numbers of respondents; percentages, means, SDs, medians and "
        "quartiles are weighted by the survey design; percentages exclude missing values."
    ]
    if tests_used:
        notes.append("p: " + "; ".join(_TEST_NOTES.get(t, t) for t in tests_used) + ".")
    if p_note:
        notes.append(p_note)
    if show_smd:
        notes.append(
            "SMD = standardised mean difference from weighted means and variances "
            "(weighted proportions for categorical variables)"
            + (", averaged over pairs of groups." if pairs else ".")
        )
    if smd_note:
        notes.append(smd_note)
    if plan.used:
        notes.append(
            f"Counts below {min_cell} (shown as <{min_cell}), and counts from which they "
            "could be recovered (shown as suppressed), are not shown, to protect "
            "confidentiality."
        )
    return notes


def weighted_table_one(
    design: Any,
    by: str | None,
    variables: Sequence[str],
    *,
    categorical: Sequence[str] | None,
    nonnormal: Sequence[str] | None,
    overall: bool,
    tests: Mapping[str, str] | None,
    smd: bool,
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
    weighted counts, weighted percentages, means, SDs, quantiles, p-values), with the
    values hidden by ``min_cell`` set to NaN. Under ``min_cell`` the group sizes in the
    headers, the level and missing counts (zero included) and the summaries of fewer
    than ``min_cell`` values follow the rule of :mod:`mutualaid_outcomes.disclosure`
    (primary and complementary suppression, as in the unweighted Table 1), and no
    p-value is shown when a group has fewer than ``min_cell`` people (a note says why).
    """
    from .._labels import resolve_labels

    show_p = tests is not None and by is not None
    lab = resolve_labels(labels, codebook, design.data)
    shown = _dichotomous(design, variables, categorical, nonnormal, lab)
    summary = _summary(design, variables, by, categorical, shown, show_p)
    if show_p and tests:
        summary = apply_test_overrides(summary, design, str(by), tests)
    groups = list(dict.fromkeys(summary["group"]))
    if not overall and by is not None:
        groups = [g for g in groups if g != "Overall"]
    sizes = np.array([_group_n(design, by, g) for g in groups])
    plan = _plan(summary, variables, groups, sizes, min_cell)
    smd_values, smd_note = (
        _smds(summary, design, str(by), variables, min_cell, lab)
        if smd and by is not None
        else (None, None)
    )
    p_by_var, p_note = (
        _p_values(summary, groups, sizes, min_cell, lab, by) if show_p else (None, None)
    )
    skewed = set(nonnormal or [])
    body_rows: list[tuple[str, list[str], str]] = []
    smd_cells: dict[int, str] = {}
    indent: list[int] = []
    tests_used: list[str] = []
    for var in variables:
        rows = summary[summary["variable"] == var]
        p = ""
        if p_by_var is not None and np.isfinite(float(p_by_var.loc[var, "p_value"])):
            p = format_p(float(p_by_var.loc[var, "p_value"]), style)
            if p_by_var.loc[var, "test"] not in tests_used:
                tests_used.append(p_by_var.loc[var, "test"])
        if smd_values is not None and np.isfinite(smd_values[var]):
            smd_cells[len(body_rows)] = format_number(smd_values[var], 3)
        for label, cells, p_cell, level in _variable_rows(
            var, rows, p, shown, lab, groups, decimals, plan, var in skewed
        ):
            if level:
                indent.append(len(body_rows))
            body_rows.append((label, cells, p_cell))
        if missing and rows["n_missing"].max() > 0:
            indent.append(len(body_rows))
            body_rows.append(("Missing, n", _missing_cells(rows, groups, plan), ""))
    header = _header(design, by, groups, sizes, plan, lab)
    show_smd = smd_values is not None
    columns = header + (["p"] if show_p else []) + (["SMD"] if show_smd else [])
    body = pd.DataFrame(
        [
            cells + ([p] if show_p else []) + ([smd_cells.get(i, "")] if show_smd else [])
            for i, (_, cells, p) in enumerate(body_rows)
        ],
        index=[label for label, _, _ in body_rows],
        columns=columns,
    )
    notes = _notes(
        tests_used if show_p else [], p_note, show_smd and _n_by_groups(summary) > 2,
        smd_note, plan, show_smd=show_smd,
    )  # fmt: skip
    return Table(
        body=body,
        title=title,
        footnotes=notes,
        stub_header="Characteristic",
        indent=indent,
        numbers=_with_smd(
            _published_numbers(summary, groups, plan, p_note is not None), smd_values
        ),  # fmt: skip
        style=style,
    )


def _variable_rows(var: str, rows: pd.DataFrame, p: str, shown: dict[str, Any], lab: Any,
                   groups: list[str], decimals: int, plan: _Plan,
                   skewed: bool) -> list[tuple[str, list[str], str, int]]:  # fmt: skip
    """Rows (label, cells, p, level) of one variable: dichotomous, categorical, continuous."""
    name = lab.variable(var)
    if var in shown:
        cats = _cells_categorical(rows, groups, decimals, plan)
        at = same_level_index([lv for lv, _ in cats], shown[var])
        return [(dichotomous_label(lab, var, shown[var], "n (%)"), cats[at][1], p, 0)]
    if rows["type"].iloc[0] == "categorical":
        out = [(f"{name}, n (%)", [""] * len(groups), p, 0)]
        out += [
            (str(lab.value(var, lv)), c, "", 1)
            for lv, c in _cells_categorical(rows, groups, decimals, plan)
        ]
        return out
    stat = "Mdn [Q1, Q3]" if skewed else "M (SD)"
    by_group = rows.set_index("group")
    cells = [_cell_continuous(by_group.loc[g], skewed, decimals, plan) for g in groups]
    return [(f"{name}, {stat}", cells, p, 0)]


def _dichotomous(design: Any, variables: Sequence[str], categorical: Sequence[str] | None,
                 nonnormal: Sequence[str] | None, lab: Any) -> dict[str, Any]:  # fmt: skip
    """The dichotomous variables and the level each shows, by the unweighted rule.

    :func:`~mutualaid_outcomes.tables._table_one_rows.column_kind` decides, as in the
    unweighted Table 1 (and R ``gtsummary::tbl_svysummary``): logical, 0/1 and
    yes/no-labelled columns show one "n (%)" row of their true / 1 / yes level.
    """
    cats, skewed = set(categorical or []), set(nonnormal or [])
    out = {}
    for var in variables:
        s = design.data[var]
        if column_kind(s, var, lab, cats, skewed) == "dichotomous":
            out[var] = shown_level(s, var, lab)
    return out


def _summary(design: Any, variables: Sequence[str], by: str | None,
             categorical: Sequence[str] | None, shown: dict[str, Any],
             test: bool) -> pd.DataFrame:  # fmt: skip
    """``weighted_summary`` with dichotomous variables as categorical ones.

    A dichotomous variable is summarised by level (unweighted counts, weighted
    percentages, the Rao-Scott F test); when its shown level does not occur, rows of
    zero count and 0 % are added for it (NaN % in a group with no observed value). A
    design-based test of a variable with one observed level does not exist, so its
    p-value is NaN.
    """
    from ..models.survey import weighted_summary

    single = {v for v in shown if design.data[v].nunique(dropna=True) < 2}
    cats = [*dict.fromkeys([*(categorical or []), *shown])]
    parts = [
        weighted_summary(
            design,
            part,
            by=by,
            categorical=[c for c in cats if c in part],
            test=test and not untestable,
        )  # fmt: skip
        for part, untestable in _runs(variables, single)
    ]
    summary = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return _add_absent_levels(summary, shown)


def _runs(variables: Sequence[str], single: set[str]) -> list[tuple[list[str], bool]]:
    """``variables`` cut into consecutive runs of testable and untestable ones."""
    runs: list[tuple[list[str], bool]] = []
    for v in variables:
        if runs and runs[-1][1] == (v in single):
            runs[-1][0].append(v)
        else:
            runs.append(([v], v in single))
    return runs


def _add_absent_levels(summary: pd.DataFrame, shown: dict[str, Any]) -> pd.DataFrame:
    extra = []
    for var, level in shown.items():
        rows = summary[summary["variable"] == var]
        try:
            same_level_index(list(dict.fromkeys(rows["level"])), level)
            continue
        except ValueError:
            pass
        for _, first in rows.drop_duplicates("group").iterrows():
            observed = rows.loc[rows["group"] == first["group"], "n_weighted"].sum() > 0
            extra.append({**first.to_dict(), "level": level, "n": 0, "n_weighted": 0.0,
                          "percent": 0.0 if observed else np.nan})  # fmt: skip
    if not extra:
        return summary
    out = pd.concat([summary, pd.DataFrame(extra, columns=summary.columns)])
    order = {v: i for i, v in enumerate(dict.fromkeys(summary["variable"]))}
    return out.sort_values("variable", key=lambda c: c.map(order), kind="stable").reset_index(
        drop=True
    )


def _n_by_groups(summary: pd.DataFrame) -> int:
    return int(summary.loc[summary["group"] != "Overall", "group"].nunique())


def _with_smd(numbers: pd.DataFrame, smd_values: dict[str, float] | None) -> pd.DataFrame:
    """``numbers`` with an ``smd`` column (repeated on each row of a variable)."""
    if smd_values is None:
        return numbers
    return numbers.assign(smd=numbers["variable"].map(smd_values).astype(float))


def _smds(summary: pd.DataFrame, design: Any, by: str, variables: Sequence[str],
          min_cell: int | None, lab: Any) -> tuple[dict[str, float], str | None]:  # fmt: skip
    """Weighted SMD of each variable over the groups of at least ``min_cell`` people.

    An SMD that involves a group of fewer than ``min_cell`` people is a summary of that
    group (with the other group's mean shown, a two-group SMD gives the small group's
    mean back), so such groups are left out and named in a note, as in the unweighted
    Table 1; with fewer than two groups left, no SMD is shown.
    """
    groups = [g for g in dict.fromkeys(summary["group"]) if g != "Overall"]
    small = [g for g in groups if min_cell and _group_n(design, by, g) < min_cell]
    kept = [g for g in groups if g not in small]
    values = {v: weighted_smd(summary, v, kept) for v in variables}
    if not small:
        return values, None
    names = ", ".join(str(lab.value(by, g)) for g in small)
    if len(kept) < 2:
        return values, (
            f"SMDs are not shown: fewer than two groups have at least {min_cell} people."
        )
    return values, (f"SMDs compare the groups with at least {min_cell} people; left out: {names}.")


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
    tests = check_survey_tests(opts["tests"], variables) if by is not None else None
    opts = {**opts, "tests": tests, "smd": bool(opts["smd"]) and by is not None}
    return weighted_table_one(design, by, variables, **opts)
