"""Table 1: participant characteristics overall and by group.

Summaries follow R ``tableone`` and gtsummary: mean (SD) for continuous variables,
median [Q1, Q3] for those listed in ``nonnormal``, n (%) for categorical variables
with percentages of the non-missing values; a dichotomous variable (0/1, true/false,
yes/no) takes one row, the count of its "1" level. Each variable gets its own test,
named in a note (see :mod:`~mutualaid_outcomes.tables.group_tests`: Welch's t test or
one-way ANOVA, Kruskal-Wallis, chi-square, or Fisher's exact test when an expected
count is below 5; overridable per variable). Standardised mean differences are
Cohen-type for continuous variables and the multinomial Yang-Dalton SMD for
categorical ones, averaged over all pairs of groups when there are more than two.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._labels import resolve_labels
from .._validation import (
    as_column_list,
    check_columns,
    check_dataframe,
    check_option,
)
from ..disclosure import check_min_cell, small_text, suppress_counts
from ..errors import ArgumentTypeError, DataValidationError
from ._survey_compare import SurveyTestName
from ._table_one_rows import (
    Row,
    Setup,
    categorical_rows,
    continuous_rows,
    count_table,
    kind_of,
    missing_row,
    plan_suppression,
    sorted_levels,
    table_levels,
)
from .formatting import format_number, format_p, get_style
from .group_tests import (
    CATEGORICAL_TESTS,
    CONTINUOUS_TESTS,
    TEST_LABELS,
    TWO_GROUP_TESTS,
    TestName,
    categorical_test,
    continuous_test,
    default_test,
)
from .table import Table

__all__ = ["table_one", "smd_continuous", "smd_categorical", "suppress_cells"]


def smd_continuous(x1: np.ndarray, x2: np.ndarray) -> float:
    """Standardised mean difference of a continuous variable between two groups.

    ``|m1 - m2| / sqrt((s1^2 + s2^2) / 2)`` with sample variances (as R tableone).

    Examples
    --------
    >>> round(smd_continuous(np.array([1.0, 2, 3]), np.array([2.0, 3, 4])), 4)
    1.0
    """
    x1 = x1[~np.isnan(x1)]
    x2 = x2[~np.isnan(x2)]
    denom = np.sqrt((np.var(x1, ddof=1) + np.var(x2, ddof=1)) / 2)
    return float(abs(x1.mean() - x2.mean()) / denom) if denom > 0 else float("nan")


def smd_categorical(p1: np.ndarray, p2: np.ndarray) -> float:
    """Multinomial standardised difference of two proportion vectors (Yang & Dalton 2012).

    ``sqrt((p1 - p2)' S^+ (p1 - p2))`` over levels 2..K, with ``S`` the average of
    the two multinomial covariance matrices and ``S^+`` its Moore-Penrose inverse
    (as R tableone).

    Examples
    --------
    >>> round(smd_categorical(np.array([0.5, 0.5]), np.array([0.3, 0.7])), 4)
    0.4170
    """
    t = np.asarray(p1, float)[1:]
    c = np.asarray(p2, float)[1:]

    def cov(p: np.ndarray) -> np.ndarray:
        return np.diag(p) - np.outer(p, p)

    s = (cov(t) + cov(c)) / 2
    d = t - c
    val = float(d @ np.linalg.pinv(s) @ d)
    return float(np.sqrt(max(val, 0.0)))


def suppress_cells(counts: np.ndarray, min_cell: int, has_total: bool) -> np.ndarray:
    """Cells to suppress for disclosure control (primary and secondary suppression).

    Kept for existing code; see :func:`mutualaid_outcomes.disclosure.suppress_counts`,
    which this calls (counts below ``min_cell``, zero included, then complementary
    suppression along rows and, with ``has_total``, along levels).

    Examples
    --------
    >>> suppress_cells(np.array([[19, 30], [6, 10], [13, 20]]), 11, has_total=True).astype(int)
    array([[0, 0],
           [1, 1],
           [1, 1]])
    """
    return suppress_counts(counts, min_cell, has_total=has_total)


def _check_tests(tests: Any, variables: list[str], n_groups: int) -> dict[str, str] | None:
    if isinstance(tests, bool):
        return {} if tests else None
    if not isinstance(tests, Mapping):
        raise ArgumentTypeError(
            "`tests` must be True, False or a mapping {variable: test}; got "
            f"{type(tests).__name__}."
        )
    out = {}
    for var, name in tests.items():
        if var not in variables:
            raise DataValidationError(
                f"`tests` names '{var}', which is not among `variables` ({variables})."
            )
        check_option(name, CONTINUOUS_TESTS + CATEGORICAL_TESTS[:-1], f"tests['{var}']")
        if name in TWO_GROUP_TESTS and n_groups != 2:
            raise DataValidationError(
                f"`tests['{var}']`='{name}' compares two groups; `by` has {n_groups}. "
                "Use 'anova', 'welch_anova' or 'kruskal'."
            )
        out[str(var)] = str(name)
    return out


def _setup(data: pd.DataFrame, by: str | None, variables: Any, opts: dict[str, Any]) -> Setup:
    check_dataframe(data, "data")
    min_cell = check_min_cell(opts["min_cell"])
    if by is not None:
        check_columns(data, [by], "by")
    if variables is None:
        variables = [c for c in data.columns if c != by]
    variables = check_columns(data, as_column_list(variables, "variables"), "variables")
    if by is not None and by in variables:
        raise DataValidationError(f"`variables` includes the grouping column `by`='{by}'.")
    cat = set(
        check_columns(data, as_column_list(opts["categorical"], "categorical"), "categorical")
    )
    nonnormal = set(
        check_columns(data, as_column_list(opts["nonnormal"], "nonnormal"), "nonnormal")
    )
    if cat & nonnormal:
        raise DataValidationError(
            f"Columns {sorted(cat & nonnormal)} are listed in both `categorical` and `nonnormal`."
        )
    lab = resolve_labels(opts["labels"], opts["codebook"], data)
    frame, notes, tests, smd, overall = data, [], opts["tests"], opts["smd"], opts["overall"]
    group_values: list[Any] = []
    if by is not None:
        n_na = int(frame[by].isna().sum())
        if n_na:
            notes.append(f"{n_na} participants with missing {lab.variable(by)} are excluded.")
            frame = frame.loc[frame[by].notna()]
        group_values = sorted_levels(frame[by])
        if len(group_values) < 2 and (tests is not False or smd):
            raise DataValidationError(
                f"`by`='{by}' has {len(group_values)} group(s); tests and SMDs need at least two. "
                "Use tests=False, smd=False or another grouping column."
            )
    else:
        tests, smd, overall = False, False, True
    groups = [frame.loc[frame[by] == g] for g in group_values]
    columns = [("Overall", frame)] if overall else []
    if by is not None:  # else there are no groups
        columns += [(lab.value(by, g), sub) for g, sub in zip(group_values, groups)]
    return Setup(
        frame=frame, by=by, variables=variables, categorical=cat, nonnormal=nonnormal, lab=lab,
        st=get_style(opts["style"]), columns=columns, groups=groups, overall=overall,
        tests=_check_tests(tests, variables, len(groups)), smd=bool(smd),
        missing=bool(opts["missing"]), decimals=int(opts["decimals"]), min_cell=min_cell,
        rng=opts["rng"], footnotes=notes,
    )  # fmt: skip


def _test(su: Setup, col: str, kind: str) -> tuple[str, str]:
    """p-value text and the note key of the test used ("" when none)."""
    if su.tests is None or len(su.groups) < 2:
        return "", ""
    if kind in ("continuous", "nonnormal"):
        arrays = [
            pd.to_numeric(g[col], errors="coerce").dropna().to_numpy(float) for g in su.groups
        ]
        name = su.tests.get(col) or default_test(kind, len(arrays))
        if name not in CONTINUOUS_TESTS:
            raise DataValidationError(
                f"`tests['{col}']`='{name}' is a test for categorical variables; '{col}' is "
                f"summarised as continuous. Use one of {list(CONTINUOUS_TESTS)}."
            )
        if name == "none":
            return "", ""
        p, key = continuous_test(name, arrays)
    else:
        levels = table_levels(su, col, kind)
        table = count_table(su, col, levels, su.groups)
        table = table[:, table.sum(axis=0) > 0]  # levels held only by groups left out
        name = su.tests.get(col) or default_test("categorical", len(su.groups), table)
        if name not in CATEGORICAL_TESTS:
            raise DataValidationError(
                f"`tests['{col}']`='{name}' is a test for continuous variables; '{col}' is "
                f"categorical. Use one of {list(CATEGORICAL_TESTS)}."
            )
        if name == "none":
            return "", ""
        p, key = categorical_test(name, table, su.rng)
    if not np.isfinite(p):
        return "", ""
    su.record(col, "", "", "p_value", p)
    su.record(col, "", "", "test", key)
    return format_p(p, su.st), key


def _smd(su: Setup, col: str, kind: str) -> str:
    if not su.smd or len(su.groups) < 2:
        return ""
    if kind in ("continuous", "nonnormal"):
        arrays = [
            pd.to_numeric(g[col], errors="coerce").dropna().to_numpy(float) for g in su.groups
        ]
        vals = [smd_continuous(a, b) for a, b in itertools.combinations(arrays, 2)]
    else:
        levels = table_levels(su, col, kind)
        if len(levels) < 2:
            return ""
        props = [np.array([(g[col].dropna() == lv).mean() for lv in levels]) for g in su.groups]
        vals = [smd_categorical(a, b) for a, b in itertools.combinations(props, 2)]
    value = float(np.nanmean(vals)) if vals and not np.all(np.isnan(vals)) else np.nan
    su.record(col, "", "", "smd", value)
    return format_number(value, 3)


def _leave_small_groups_out_of_comparisons(su: Setup) -> None:
    """Tests and SMDs compare only the groups with at least ``min_cell`` people.

    A p-value or an SMD that involves a group of fewer than ``min_cell`` people is a
    summary of that group (with the other group's mean shown, a two-group SMD gives the
    small group's mean back), so such groups are left out of the comparisons and named in
    a note; with fewer than two groups left, no p-value or SMD is shown.
    """
    if su.tests is None and not su.smd:
        return
    names = [name for name, _ in su.columns[len(su.columns) - len(su.groups) :]]
    small = [n for n, g in zip(names, su.groups) if len(g) < int(su.min_cell)]  # type: ignore[arg-type]
    if not small:
        return
    su.groups = [g for g in su.groups if len(g) >= int(su.min_cell)]  # type: ignore[arg-type]
    what = " and ".join(w for w, on in (("p-values", su.tests is not None), ("SMDs", su.smd)) if on)
    if len(su.groups) < 2:
        su.footnotes.append(
            f"{what} are not shown: fewer than two groups have at least {su.min_cell} people."
        )
    else:
        su.footnotes.append(
            f"{what} compare the groups with at least {su.min_cell} people; left out: "
            f"{', '.join(small)}."
        )


def _withhold_comparisons(su: Setup) -> set[str]:
    """Categorical variables whose p-value and SMD are not shown: they hide a compared count.

    The test and the SMD of a categorical variable are functions of the compared groups'
    level counts (missing values are left out of both). When one of those counts is
    hidden, they are an equation in it; with one unknown (a 2 x 2 table whose overall
    row is shown, say) the p-value or the SMD gives it back exactly, since both change
    monotonically with it. So such a variable shows neither, and a note names it. A
    continuous variable's SMD does not depend on counts, and its test only through the
    group sizes' weight in the standard error (see ``docs/disclosure.md``).
    """
    if (su.tests is None and not su.smd) or len(su.groups) < 2:
        return set()
    compared = [i for i, (_, sub) in enumerate(su.columns) if any(sub is g for g in su.groups)]
    out = set()
    for col in su.variables:
        if col not in su.masks or kind_of(su, col) not in ("categorical", "dichotomous"):
            continue
        n_levels = len(sorted_levels(su.frame[col]))
        if su.masks[col][compared, :n_levels].any():
            out.add(col)
    if out:
        what = " and ".join(
            w for w, on in (("p-values", su.tests is not None), ("SMDs", su.smd)) if on
        )
        names = ", ".join(su.lab.variable(c) for c in su.variables if c in out)
        su.footnotes.append(
            f"{what} are not shown for {names}: a count they compare is hidden, and they "
            "could give it back."
        )
    return out


def _header(su: Setup, i: int, name: str, sub: pd.DataFrame) -> str:
    if su.header_mask is not None and su.header_mask[i]:
        if su.header_primary is not None and su.header_primary[i]:
            return f"{name} (n {small_text(int(su.cell_limit))})"
        return f"{name} (n suppressed)"
    return f"{name} (n = {len(sub)})"


def _assemble(su: Setup, rows: list[Row], title: str) -> Table:
    """Body, indentation, test markers and notes of the finished table."""
    columns = [_header(su, i, name, sub) for i, (name, sub) in enumerate(su.columns)]
    tests = su.tests is not None
    columns += (["p"] if tests else []) + (["SMD"] if su.smd else [])
    body = pd.DataFrame(
        [r.cells + ([r.p] if tests else []) + ([r.smd] if su.smd else []) for r in rows],
        columns=columns,
        index=[r.label for r in rows],
    )
    markers: dict[tuple[int, int], str] = {}
    marked: dict[str, str] = {}
    letters: dict[str, str] = {}
    p_col = len(su.columns)
    for i, r in enumerate(rows):
        if r.test and r.p:
            if r.test not in letters:
                letters[r.test] = "abcdefghij"[len(letters)]
                marked[letters[r.test]] = TEST_LABELS[r.test] + "."
            markers[(i, p_col)] = letters[r.test]
    notes = list(su.footnotes)
    if su.smd:
        pairs = " (average over pairs of groups)" if len(su.groups) > 2 else ""
        notes.append(f"SMD = standardised mean difference{pairs}.")
    if su.suppressed:
        notes.append(
            f"Counts below {su.min_cell} (shown as {small_text(int(su.cell_limit))}), and counts "
            "from which they could be recovered (shown as suppressed), are not shown, to "
            "protect confidentiality."
        )
    return Table(
        body=body,
        title=title,
        footnotes=notes,
        indent={i: r.level for i, r in enumerate(rows) if r.level},
        numbers=pd.DataFrame(
            su.numbers, columns=["variable", "level", "group", "statistic", "value"]
        ),
        style=su.st,
        markers=markers,
        marked_notes=marked,
        stub_header="Characteristic",
    )


def table_one(
    data: pd.DataFrame,
    by: str | None = None,
    variables: Sequence[str] | None = None,
    *,
    categorical: Sequence[str] | None = None,
    nonnormal: Sequence[str] | None = None,
    codebook: Any = None,
    overall: bool = True,
    tests: bool | Mapping[str, TestName | SurveyTestName] = True,
    smd: bool = True,
    missing: bool = True,
    decimals: int = 1,
    style: str = "apa",
    min_cell: int | None = None,
    labels: Any = None,
    title: str = "Table 1. Participant characteristics",
    rng: Any = None,
    design: Any = None,
) -> Table:
    """Describe participants overall and by group (a journal's "Table 1").

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    by : str, optional
        Grouping column (e.g. treatment arm). Rows with a missing group are excluded
        and counted in a note.
    variables : sequence of str, optional
        Columns to describe, in order; default all columns except ``by``.
    categorical : sequence of str, optional
        Columns to treat as categorical in addition to non-numeric, boolean, 0/1 and
        value-labelled columns. A categorical column with the two levels 0/1,
        true/false or no/yes is dichotomous and takes one row (the count of 1), as
        is a numeric column whose values are all 0 or 1, a logical column and a
        column labelled with a yes/no pair even when only one value occurs (the row
        then shows 0 (0.0)); gtsummary's "dichotomous" rule.
    nonnormal : sequence of str, optional
        Continuous columns summarised as median [Q1, Q3] and tested with Kruskal-Wallis.
    codebook : Codebook, optional
        Variable and value labels; defaults to the one attached to ``data``.
    overall : bool
        Add an "Overall" column.
    tests : bool or mapping
        Add a p-value column (needs ``by``), each p-value marked with the test used.
        A mapping ``{variable: test}`` overrides the default test of those variables:
        ``"t_test"`` (Welch), ``"student_t"``, ``"anova"``, ``"welch_anova"``,
        ``"kruskal"``, ``"wilcoxon"``, ``"chisq"``, ``"fisher"`` or ``"none"``; with
        ``design``: ``"wald"``, ``"rao_scott"``, ``"rao_scott_chisq"`` or ``"none"``.
    smd : bool
        Add a standardised mean difference column (needs ``by``); weighted (R
        tableone's svy SMD) with ``design``.
    missing : bool
        Add a "Missing" row under variables with missing values.
    decimals : int
        Decimals for means, SDs, medians and percentages. Summaries of a proportion
        (a continuous column with every value in [0, 1]) take at least the preset's
        ``proportion_decimals`` (2): 0.32 (0.25), not 0.3 (0.3).
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values, statistic names and the table layout.
    min_cell : int, optional
        Disclosure control (default: none). Counts below ``min_cell`` (zero included),
        group sizes below it and summaries of fewer than ``min_cell`` values are shown
        as ``<min_cell``; counts from which a hidden one could be recovered (from a
        group's n, the overall column or a missing count) are shown as
        "suppressed". Tests and SMDs leave out groups of fewer than ``min_cell``
        people (named in a note), and are not shown for a categorical variable with a
        hidden level count in a compared group (named in a note: they could give it
        back). See :mod:`mutualaid_outcomes.disclosure` and
        ``docs/disclosure.md``.
    labels : mapping or Labels, optional
        Variable labels (and value labels) overriding the codebook.
    title : str
        Caption.
    rng : int, numpy.random.Generator or None
        Used only for a Monte Carlo Fisher p-value (tables too large to enumerate).
    design : SurveyDesign or ReplicateDesign, optional
        A survey design built on ``data``: weighted percentages, means and SDs (medians
        for ``nonnormal``) with unweighted n and design-based p-values (Rao-Scott F,
        Wald F), as ``tbl_svysummary`` but with unweighted counts. ``smd`` gives
        weighted SMDs (R ``tableone::svyCreateTableOne``); ``tests`` overrides are then
        ``"wald"``, ``"rao_scott"``, ``"rao_scott_chisq"`` or ``"none"``
        (tables/_survey_compare.py, docs/survey.md). Dichotomous variables follow the
        unweighted rule (one row of the 1 / true / yes level, even when only one value
        occurs) and are tested with the Rao-Scott F test, as ``tbl_svysummary``.

    Returns
    -------
    Table
        ``Table.numbers`` holds the full-precision statistics in long form
        (variable, level, group, statistic, value), including each variable's
        ``p_value`` and ``test``.

    Raises
    ------
    ColumnNotFoundError
        If ``by`` or a variable is not a column.
    DataValidationError
        If ``by`` has fewer than two groups while tests or SMDs are requested, or a
        test in ``tests`` does not fit the variable or the number of groups.

    Notes
    -----
    Default tests: Welch's t test (two groups) or one-way ANOVA (three or more) for
    means, Kruskal-Wallis for medians, Pearson's chi-square (Yates-corrected for
    2 x 2 tables) for categorical variables, and Fisher's exact test when an expected
    count is below 5. Validated against R 4.2 (``tests/reference/table_one.R``):
    means, SDs, percentages, SMDs and the p-values of ``t.test``, ``oneway.test``,
    ``kruskal.test``, ``chisq.test`` and ``fisher.test`` agree to 1e-8.

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["A", "A", "B", "B"], "age": [30.0, 40, 50, 60],
    ...                    "female": [0, 1, 1, 1]})
    >>> t = table_one(df, by="arm", labels={"age": "Age"}, tests=False, smd=False)
    >>> t.body.loc["Age, M (SD)", "A (n = 2)"]
    '35.0 (7.1)'
    >>> t.body.index.tolist()[1]  # a dichotomous variable takes one row
    'female, n (%)'
    """
    if design is not None:
        from ._survey_table_one import survey_table_one

        opts = dict(categorical=categorical, nonnormal=nonnormal, overall=overall,
                    tests=tests, smd=smd, missing=missing, decimals=decimals, style=style,
                    min_cell=min_cell, labels=labels, codebook=codebook, title=title)  # fmt: skip
        return survey_table_one(data, design, by, variables, opts)
    su = _setup(
        data,
        by,
        variables,
        dict(
            categorical=categorical, nonnormal=nonnormal, codebook=codebook, labels=labels,
            tests=tests, smd=smd, overall=overall, missing=missing, decimals=decimals,
            style=style, min_cell=min_cell, rng=rng,
        ),
    )  # fmt: skip
    withheld: set[str] = set()
    if su.min_cell is not None:
        plan_suppression(su)
        _leave_small_groups_out_of_comparisons(su)
        withheld = _withhold_comparisons(su)
    rows: list[Row] = []
    for col in su.variables:
        kind = kind_of(su, col)
        block = (
            categorical_rows(su, col, kind)
            if kind in ("categorical", "dichotomous")
            else continuous_rows(su, col, kind)
        )
        if col not in withheld:
            block[0].p, block[0].test = _test(su, col, kind)
            block[0].smd = _smd(su, col, kind)
        rows += block + missing_row(su, col)
    return _assemble(su, rows, title)
