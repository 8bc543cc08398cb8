"""Table 1: participant characteristics overall and by group.

Follows the conventions of R ``tableone`` (Yoshida & Bartel): mean (SD) for
normally distributed variables, median [Q1, Q3] for those listed in
``nonnormal``, n (%) for categorical variables with percentages of the
non-missing values; tests are one-way ANOVA (``oneway.test(var.equal=TRUE)``),
Kruskal-Wallis and Pearson's chi-square with Yates' correction for 2 x 2 tables;
standardised mean differences are Cohen-type for continuous variables and the
multinomial Yang-Dalton SMD for categorical ones, averaged over all pairs of
groups when there are more than two.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._labels import resolve_codebook, value_label, value_labels, variable_label
from .._validation import as_column_list, check_columns, check_dataframe, check_positive_int
from ..errors import DataValidationError
from .formatting import format_number, format_p, get_style
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

    ``counts`` has one row per column of the table (the first row is the overall
    column when ``has_total``) and one column per level. Counts from 1 to
    ``min_cell - 1`` are suppressed; then, until nothing changes, wherever a single
    suppressed cell could be recovered by subtraction (from a column's total, or
    from the overall column along a level), the smallest other positive cell is
    suppressed too.

    Examples
    --------
    >>> suppress_cells(np.array([[19, 30], [6, 10], [13, 20]]), 11, has_total=True).astype(int)
    array([[0, 0],
           [1, 1],
           [1, 1]])
    """
    counts = np.asarray(counts)
    mask = (counts > 0) & (counts < min_cell)

    def fill_one(idx_mask: np.ndarray, values: np.ndarray) -> bool:
        if idx_mask.sum() != 1:
            return False
        cand = np.where(~idx_mask & (values > 0))[0]
        if not len(cand):
            return False
        idx_mask[cand[np.argmin(values[cand])]] = True
        return True

    changed = True
    while changed:
        changed = False
        if counts.shape[1] > 1:
            for g in range(counts.shape[0]):
                row = mask[g].copy()
                if fill_one(row, counts[g]):
                    mask[g] = row
                    changed = True
        if has_total and counts.shape[0] > 2:
            for lv in range(counts.shape[1]):
                col = mask[:, lv].copy()
                if fill_one(col, counts[:, lv]):
                    mask[:, lv] = col
                    changed = True
    return mask


def table_one(
    data: pd.DataFrame,
    by: str | None = None,
    variables: Sequence[str] | None = None,
    *,
    categorical: Sequence[str] | None = None,
    nonnormal: Sequence[str] | None = None,
    codebook: Any = None,
    overall: bool = True,
    tests: bool = True,
    smd: bool = True,
    missing: bool = True,
    decimals: int = 1,
    style: str = "apa",
    min_cell: int | None = None,
    labels: Mapping[str, str] | None = None,
    title: str = "Table 1. Participant characteristics",
    design: Any = None,
) -> Table:
    """Describe participants overall and by group (a journal's "Table 1").

    Parameters
    ----------
    data : pandas.DataFrame
        One row per participant.
    by : str, optional
        Grouping column (e.g. treatment arm). Rows with a missing group are excluded
        and counted in a footnote.
    variables : sequence of str, optional
        Columns to describe, in order; default all columns except ``by``.
    categorical : sequence of str, optional
        Columns to treat as categorical in addition to non-numeric, boolean and
        value-labelled columns.
    nonnormal : sequence of str, optional
        Continuous columns summarised as median [Q1, Q3] and tested with Kruskal-Wallis.
    codebook : Codebook, optional
        Variable and value labels; defaults to the one attached to ``data``.
    overall : bool
        Add an "Overall" column.
    tests : bool
        Add a p-value column (needs ``by``).
    smd : bool
        Add a standardised mean difference column (needs ``by``).
    missing : bool
        Add a "Missing" row under variables with missing values.
    decimals : int
        Decimals for means, SDs, medians and percentages.
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values.
    min_cell : int, optional
        Disclosure control: counts from 1 to ``min_cell - 1`` are shown as ``<min_cell``
        with their percentage hidden, and one more cell per column is suppressed
        where a single suppressed cell could be recovered from the total.
    labels : mapping, optional
        Variable labels overriding the codebook.
    title : str
        Caption.
    design : SurveyDesign or ReplicateDesign, optional
        A complex-survey design built on ``data`` (``survey_design(data, ...)``): the
        table then shows weighted percentages, means and SDs (medians and quartiles for
        ``nonnormal``) with the *unweighted* n of respondents, and design-based
        p-values (Rao-Scott F, Wald F); ``smd`` does not apply. As R
        ``gtsummary::tbl_svysummary``, but with unweighted counts; the numbers are
        those of :func:`~mutualaid_outcomes.models.survey.weighted_summary`, checked
        against R survey 4.1.1.

    Returns
    -------
    Table
        ``Table.numbers`` holds the full-precision statistics in long form
        (variable, level, group, statistic, value).

    Raises
    ------
    ColumnNotFoundError
        If ``by`` or a variable is not a column.
    DataValidationError
        If ``by`` has fewer than two groups while tests or SMDs are requested.

    Notes
    -----
    Validated against a base-R computation of tableone's formulas
    (``tests/reference/table_one.R``): means, SDs, percentages, p-values and SMDs
    agree to 1e-8.

    Examples
    --------
    >>> df = pd.DataFrame({"arm": ["A", "A", "B", "B"], "age": [30.0, 40, 50, 60],
    ...                    "female": [0, 1, 1, 1]})
    >>> t = table_one(df, by="arm", categorical=["female"], tests=False, smd=False)
    >>> t.body.loc["Age, mean (SD)" if "Age, mean (SD)" in t.body.index else "age, mean (SD)", "A (n = 2)"]
    '35.0 (7.1)'
    """
    check_dataframe(data, "data")
    if design is not None:
        from ._survey_table_one import survey_table_one

        return survey_table_one(
            data, design, by, variables,
            dict(categorical=categorical, nonnormal=nonnormal, overall=overall, tests=tests,
                 missing=missing, decimals=decimals, style=style, min_cell=min_cell,
                 labels=labels, title=title),
        )  # fmt: skip
    st = get_style(style)
    if min_cell is not None:
        min_cell = check_positive_int(min_cell, "min_cell", minimum=2)
    cb = resolve_codebook(codebook, data)
    if by is not None:
        check_columns(data, [by], "by")
    if variables is None:
        variables = [c for c in data.columns if c != by]
    variables = check_columns(data, as_column_list(variables, "variables"), "variables")
    if by is not None and by in variables:
        raise DataValidationError(f"`variables` includes the grouping column `by`='{by}'.")
    categorical = set(
        check_columns(data, as_column_list(categorical, "categorical"), "categorical")
    )
    nonnormal = set(check_columns(data, as_column_list(nonnormal, "nonnormal"), "nonnormal"))
    both = categorical & nonnormal
    if both:
        raise DataValidationError(
            f"Columns {sorted(both)} are listed in both `categorical` and `nonnormal`."
        )

    footnotes: list[str] = []
    frame = data
    if by is not None:
        n_na = int(frame[by].isna().sum())
        if n_na:
            footnotes.append(f"{n_na} participants with missing {by} are excluded.")
            frame = frame.loc[frame[by].notna()]
        group_values = sorted(pd.unique(frame[by]), key=lambda v: (str(type(v)), v))
        if len(group_values) < 2 and (tests or smd):
            raise DataValidationError(
                f"`by`='{by}' has {len(group_values)} group(s); tests and SMDs need at least two. "
                "Use tests=False, smd=False or another grouping column."
            )
    else:
        group_values = []
        tests = smd = False
        overall = True

    by_labels = value_labels(cb, by) if by is not None else {}
    groups: list[tuple[str, pd.DataFrame]] = []
    if overall:
        groups.append(("Overall", frame))
    for g in group_values:
        groups.append((value_label(g, by_labels), frame.loc[frame[by] == g]))

    def col_header(name: str, sub: pd.DataFrame) -> str:
        n = len(sub)
        shown = f"<{min_cell}" if (min_cell and 0 < n < min_cell) else str(n)
        return f"{name} (n = {shown})"

    headers = [col_header(name, sub) for name, sub in groups]
    rows: list[tuple[str, list[str], str, str, bool]] = []  # label, cells, p, smd, indent
    numbers: list[dict[str, Any]] = []
    suppressed_any = False

    def is_categorical(col: str) -> bool:
        s = frame[col]
        if col in categorical:
            return True
        if col in nonnormal:
            return False
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            return True
        return bool(value_labels(cb, col))

    group_frames = [frame.loc[frame[by] == g] for g in group_values] if by is not None else []

    for col in variables:
        label = variable_label(cb, col, labels)
        if is_categorical(col):
            vl = value_labels(cb, col)
            levels = sorted(pd.unique(frame[col].dropna()), key=lambda v: (str(type(v)), v))
            count_cells: list[list[int]] = []
            pct_cells: list[list[float]] = []
            for gname, sub in groups:
                s = sub[col].dropna()
                denom = len(s)
                counts = [int((s == lv).sum()) for lv in levels]
                pcts = [100 * c / denom if denom else float("nan") for c in counts]
                count_cells.append(counts)
                pct_cells.append(pcts)
                for lv, c, p in zip(levels, counts, pcts):
                    lvl = value_label(lv, vl)
                    numbers.append(
                        dict(variable=col, level=lvl, group=gname, statistic="n", value=c)
                    )
                    numbers.append(
                        dict(variable=col, level=lvl, group=gname, statistic="percent", value=p)
                    )
            # disclosure control
            mask = np.zeros((len(groups), len(levels)), dtype=bool)
            if min_cell:
                mask = suppress_cells(np.array(count_cells), min_cell, has_total=overall)
                suppressed_any |= bool(mask.any())
            p_text = smd_text = ""
            if tests and len(levels) > 1:
                table = np.array(
                    [[int((g[col] == lv).sum()) for lv in levels] for g in group_frames]
                )
                keep = table.sum(axis=0) > 0
                chi = stats.chi2_contingency(table[:, keep], correction=True)
                pval = float(chi.pvalue)
                p_text = format_p(pval, st)
                numbers.append(
                    dict(variable=col, level="", group="", statistic="p_value", value=pval)
                )
                numbers.append(
                    dict(variable=col, level="", group="", statistic="test", value="chi-square")
                )
            if smd and len(levels) > 1:
                props = []
                for g in group_frames:
                    s = g[col].dropna()
                    props.append(np.array([(s == lv).mean() for lv in levels]))
                vals = [smd_categorical(a, b) for a, b in itertools.combinations(props, 2)]
                sval = float(np.mean(vals))
                smd_text = format_number(sval, 3)
                numbers.append(dict(variable=col, level="", group="", statistic="smd", value=sval))
            rows.append((f"{label}, n (%)", [""] * len(groups), p_text, smd_text, False))
            for li, lv in enumerate(levels):
                cells = []
                for gi in range(len(groups)):
                    c, p = count_cells[gi][li], pct_cells[gi][li]
                    if mask[gi, li]:
                        cells.append(f"<{min_cell}" if 0 < c < min_cell else "suppressed")
                    else:
                        cells.append(f"{c} ({format_number(p, decimals)})")
                rows.append((value_label(lv, vl), cells, "", "", True))
        else:
            cells = []
            for gname, sub in groups:
                s = pd.to_numeric(sub[col], errors="coerce").dropna()
                if col in nonnormal:
                    med, q1, q3 = (
                        float(s.quantile(q)) if len(s) else np.nan for q in (0.5, 0.25, 0.75)
                    )
                    cells.append(
                        f"{format_number(med, decimals)} [{format_number(q1, decimals)}, "
                        f"{format_number(q3, decimals)}]"
                    )
                    for nm, v in (("median", med), ("q1", q1), ("q3", q3)):
                        numbers.append(
                            dict(variable=col, level="", group=gname, statistic=nm, value=v)
                        )
                else:
                    m = float(s.mean()) if len(s) else np.nan
                    sd = float(s.std(ddof=1)) if len(s) > 1 else np.nan
                    cells.append(f"{format_number(m, decimals)} ({format_number(sd, decimals)})")
                    for nm, v in (("mean", m), ("sd", sd)):
                        numbers.append(
                            dict(variable=col, level="", group=gname, statistic=nm, value=v)
                        )
                numbers.append(
                    dict(variable=col, level="", group=gname, statistic="n", value=len(s))
                )
            p_text = smd_text = ""
            arrays = [
                pd.to_numeric(g[col], errors="coerce").dropna().to_numpy(float)
                for g in group_frames
            ]
            if tests:
                usable = [a for a in arrays if len(a) > 0]
                if len(usable) >= 2 and sum(len(a) for a in usable) > len(usable):
                    if col in nonnormal:
                        pval = float(stats.kruskal(*usable).pvalue)
                        tname = "kruskal-wallis"
                    else:
                        pval = float(stats.f_oneway(*usable).pvalue)
                        tname = "anova"
                    p_text = format_p(pval, st)
                    numbers.append(
                        dict(variable=col, level="", group="", statistic="p_value", value=pval)
                    )
                    numbers.append(
                        dict(variable=col, level="", group="", statistic="test", value=tname)
                    )
            if smd:
                vals = [smd_continuous(a, b) for a, b in itertools.combinations(arrays, 2)]
                sval = float(np.nanmean(vals)) if vals else np.nan
                smd_text = format_number(sval, 3)
                numbers.append(dict(variable=col, level="", group="", statistic="smd", value=sval))
            suffix = "median [Q1, Q3]" if col in nonnormal else "mean (SD)"
            rows.append((f"{label}, {suffix}", cells, p_text, smd_text, False))
        if missing:
            n_miss = [int(sub[col].isna().sum()) for _, sub in groups]
            if any(n_miss):
                cells = []
                for (gname, sub), nm in zip(groups, n_miss):
                    pct = 100 * nm / len(sub) if len(sub) else float("nan")
                    numbers.append(
                        dict(variable=col, level="Missing", group=gname, statistic="n", value=nm)
                    )
                    if min_cell and 0 < nm < min_cell:
                        cells.append(f"<{min_cell}")
                        suppressed_any = True
                    else:
                        cells.append(f"{nm} ({format_number(pct, decimals)})")
                rows.append(("Missing", cells, "", "", True))

    columns = list(headers)
    if tests:
        columns.append("p")
    if smd:
        columns.append("SMD")
    body_rows = []
    index = []
    indent = []
    for i, (label, cells, p_text, smd_text, ind) in enumerate(rows):
        extra = ([p_text] if tests else []) + ([smd_text] if smd else [])
        body_rows.append(cells + extra)
        index.append(label)
        if ind:
            indent.append(i)
    body = pd.DataFrame(body_rows, columns=columns, index=index)
    if tests:
        footnotes.append(
            "p: one-way ANOVA for means, Kruskal-Wallis for medians, chi-square test "
            "(Yates-corrected for 2 x 2 tables) for categorical variables."
        )
    if smd:
        footnotes.append(
            "SMD: standardised mean difference"
            + (" (average over pairs of groups)." if len(group_values) > 2 else ".")
        )
    if suppressed_any:
        footnotes.append(
            f"Counts below {min_cell}, and cells from which they could be recovered, are "
            "suppressed to protect confidentiality."
        )
    return Table(
        body=body,
        title=title,
        footnotes=footnotes,
        indent=indent,
        numbers=pd.DataFrame(numbers, columns=["variable", "level", "group", "statistic", "value"]),
    )
