"""Rows of Table 1 by variable type, and the disclosure control they share.

:func:`~mutualaid_outcomes.tables.table_one` validates its arguments into a
:class:`Setup`, asks :func:`plan_suppression` which counts to hide (see
:mod:`mutualaid_outcomes.disclosure`), then builds each variable's rows here:
categorical and dichotomous variables (n (%)), continuous ones (mean (SD) or
median [Q1, Q3]) and the "Missing" row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from .._labels import Labels
from ..disclosure import SUPPRESSED, small_text, suppress_counts
from .formatting import JournalStyle, format_number

__all__ = [
    "Row",
    "Setup",
    "sorted_levels",
    "kind_of",
    "column_kind",
    "dichotomous_level",
    "shown_level",
    "dichotomous_label",
    "table_levels",
    "count_table",
    "same_level_index",
    "plan_suppression",
    "categorical_rows",
    "continuous_rows",
    "missing_row",
    "continuous_decimals",
]

_YES = {"1", "true", "yes", "y"}
_NO = {"0", "false", "no", "n"}


@dataclass
class Row:
    label: str
    cells: list[str]
    p: str = ""
    smd: str = ""
    level: int = 0
    test: str = ""


@dataclass
class Setup:
    """Validated arguments and the frames each column of the table describes."""

    frame: pd.DataFrame
    by: str | None
    variables: list[str]
    categorical: set[str]
    nonnormal: set[str]
    lab: Labels
    st: JournalStyle
    columns: list[tuple[str, pd.DataFrame]]  # displayed columns (Overall first)
    groups: list[pd.DataFrame]  # the by-groups compared by tests and SMDs
    overall: bool
    tests: dict[str, str] | None  # per-variable overrides; None: no tests
    smd: bool
    missing: bool
    decimals: int
    min_cell: int | None
    rng: Any
    footnotes: list[str] = field(default_factory=list)
    numbers: list[dict[str, Any]] = field(default_factory=list)
    suppressed: bool = False
    # disclosure control: per variable, the mask over (columns x levels [+ missing]);
    # and the mask of the group sizes in the headers (primary, secondary)
    masks: dict[str, np.ndarray] = field(default_factory=dict)
    header_mask: np.ndarray | None = None
    header_primary: np.ndarray | None = None

    def record(self, variable: str, level: str, group: str, statistic: str, value: Any) -> None:
        self.numbers.append(
            dict(variable=variable, level=level, group=group, statistic=statistic, value=value)
        )

    @property
    def cell_limit(self) -> int:
        """``min_cell`` where disclosure control is on (cells are hidden only then)."""
        return cast(int, self.min_cell)

    def hidden(self, primary: bool) -> str:
        """Text of a suppressed cell: ``<min_cell`` or ``suppressed``."""
        self.suppressed = True
        return small_text(int(self.cell_limit)) if primary else SUPPRESSED


def sorted_levels(s: pd.Series) -> list[Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [c for c in s.cat.categories if c in present]
    return sorted(pd.unique(s.dropna()), key=lambda v: (str(type(v)), v))


def kind_of(su: Setup, col: str) -> str:
    """``"continuous"``, ``"nonnormal"``, ``"categorical"`` or ``"dichotomous"``."""
    return column_kind(su.frame[col], col, su.lab, su.categorical, su.nonnormal)


def column_kind(
    s: pd.Series, col: str, lab: Labels, categorical: set[str], nonnormal: set[str]
) -> str:
    """The kind of column ``s`` (named ``col``) in a Table 1, weighted or not.

    ``"nonnormal"`` when listed there; categorical when listed, not numeric, logical,
    value-labelled, nominal/ordinal in the codebook or 0/1; of those, ``"dichotomous"``
    when :func:`shown_level` finds the level to show; otherwise ``"continuous"``.
    """
    if col in nonnormal:
        return "nonnormal"
    is_categorical = (
        col in categorical
        or not pd.api.types.is_numeric_dtype(s)
        or pd.api.types.is_bool_dtype(s)
        or bool(lab.value_labels(col))
        or lab.measurement(col) in ("nominal", "ordinal")
        or _binary_level(s, col, lab) is not None
    )
    if not is_categorical:
        return "continuous"
    return "dichotomous" if shown_level(s, col, lab) is not None else "categorical"


def _code_text(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (int, float, np.integer, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip().lower()


def _labelled_yes(s: pd.Series, col: str, lab: Labels, present: list[Any]) -> Any:
    """The "yes" code of a variable labelled with one yes and one no code, or None.

    Every value in the data must be one of the two codes; the code is returned as the
    data hold it (or as a number for a numeric column that lacks it).
    """
    pairs = [(code, str(text).strip().lower()) for code, text in lab.value_labels(col).items()]
    yes = [c for c, t in pairs if t in _YES]
    no = [c for c, t in pairs if t in _NO]
    if len(yes) != 1 or len(no) != 1:
        return None
    codes = {_code_text(yes[0]), _code_text(no[0])}
    if not all(_code_text(v) in codes for v in present):
        return None
    for v in present:
        if _code_text(v) == _code_text(yes[0]):
            return v
    if pd.api.types.is_numeric_dtype(s):
        try:
            return float(yes[0])
        except (TypeError, ValueError):
            return None
    return yes[0]


def _binary_level(s: pd.Series, col: str, lab: Labels) -> Any:
    """The shown level of a variable that can only take two values, or None.

    gtsummary's dichotomous rule: a logical column, a numeric column whose values are
    all 0 or 1, or a column labelled with a yes/no pair is dichotomous even when only
    one of its two values occurs (the row then shows 0 (0.0) or n (100.0)).
    """
    present = sorted_levels(s)
    if pd.api.types.is_bool_dtype(s) or (
        present and all(isinstance(v, (bool, np.bool_)) for v in present)
    ):
        return True
    if (
        pd.api.types.is_numeric_dtype(s)
        and present
        and all(_code_text(v) in ("0", "1") for v in present)
        and (not lab.value_labels(col) or lab.binary_levels(col) is not None)
    ):
        for v in present:
            if _code_text(v) == "1":
                return v
        return 1
    return _labelled_yes(s, col, lab, present)


def table_levels(su: Setup, col: str, kind: str) -> list[Any]:
    """The levels a categorical variable's counts are taken over.

    The levels in the data, with the shown level of a dichotomous variable added when
    no one has it (an all-zero 0/1 column still counts its 1s).
    """
    levels = sorted_levels(su.frame[col])
    if kind == "dichotomous":
        shown = dichotomous_level(su, col)
        if not any(_code_text(v) == _code_text(shown) for v in levels):
            levels = [*levels, shown]
    return levels


def dichotomous_level(su: Setup, col: str) -> Any:
    """The level a dichotomous variable shows (its 1 / true / yes), or None."""
    return shown_level(su.frame[col], col, su.lab)


def shown_level(s: pd.Series, col: str, lab: Labels) -> Any:
    """The level a dichotomous column ``s`` (named ``col``) shows, or None.

    The rule of the unweighted and the weighted Table 1 alike: a logical column, a
    0/1 numeric column or one labelled with a yes/no pair shows its true / 1 / yes
    level even when only one value occurs; any other column with exactly two levels
    shows the one coded or labelled yes/true/1 when the other is no/false/0.
    """
    binary = _binary_level(s, col, lab)
    if binary is not None:
        return binary
    levels = sorted_levels(s)
    if len(levels) != 2:
        return None
    for one, other in (levels, levels[::-1]):
        codes = (_code_text(one), _code_text(other))
        labels = (lab.value(col, one).lower(), lab.value(col, other).lower())
        if (codes[0] in _YES and codes[1] in _NO) or (labels[0] in _YES and labels[1] in _NO):
            return one
    return None


def same_level_index(levels: list[Any], shown: Any) -> int:
    """Position of ``shown`` among ``levels`` (1, 1.0, True and "1" are the same code)."""
    return [_code_text(v) for v in levels].index(_code_text(shown))


def dichotomous_label(lab: Labels, col: str, shown: Any, count_label: str) -> str:
    """Row label of a dichotomous variable: "Label, n (%)" or "Label: Level, n (%)".

    The level is named when it is not itself labelled yes/true/1.
    """
    label = lab.variable(col)
    text = lab.value(col, shown)
    if text.strip().lower() not in _YES:
        label = f"{label}: {text}"
    return f"{label}, {count_label}"


def count_table(su: Setup, col: str, levels: list[Any], frames: list[pd.DataFrame]) -> np.ndarray:
    return np.array([[int((f[col] == lv).sum()) for lv in levels] for f in frames])


def _disclosure_counts(su: Setup, col: str, kind: str) -> np.ndarray:
    """Counts a variable publishes or implies: levels (or non-missing n), then missing."""
    frames = [sub for _, sub in su.columns]
    if kind in ("categorical", "dichotomous"):
        table = count_table(su, col, table_levels(su, col, kind), frames)
    else:
        table = np.array([[int(sub[col].notna().sum())] for sub in frames])
    miss = np.array([[int(sub[col].isna().sum())] for sub in frames])
    return np.column_stack([table, miss]) if miss.any() else table


def plan_suppression(su: Setup) -> None:
    """Decide every hidden count of the table (cells, missing counts, group sizes).

    Each variable's counts (levels, or the non-missing n of a continuous variable, and
    the missing count) are checked with the group sizes as row totals
    (:func:`~mutualaid_outcomes.disclosure.suppress_counts`); a group size hidden for
    one variable is hidden for all, so the passes repeat until the header mask stops
    changing.
    """
    sizes = np.array([len(sub) for _, sub in su.columns])
    header = sizes < su.cell_limit
    su.header_primary = header.copy()
    counts = {col: _disclosure_counts(su, col, kind_of(su, col)) for col in su.variables}
    while True:
        before = header.copy()
        for col, table in counts.items():
            pre = np.zeros((table.shape[0], table.shape[1] + 1), dtype=bool)
            pre[:, -1] = header
            mask = suppress_counts(
                table, su.cell_limit, has_total=su.overall, totals=sizes, suppressed=pre
            )
            su.masks[col] = mask[:, :-1]
            header |= mask[:, -1]
        if (header == before).all():
            break
    su.header_mask = header
    su.suppressed |= bool(header.any()) or any(m.any() for m in su.masks.values())


def _mask(su: Setup, col: str, shape: tuple[int, int]) -> np.ndarray:
    mask = su.masks.get(col)
    return mask if mask is not None else np.zeros(shape, dtype=bool)


def categorical_rows(su: Setup, col: str, kind: str) -> list[Row]:
    """Rows of a categorical variable: a heading and one row per level, or one row."""
    levels = table_levels(su, col, kind)
    counts = count_table(su, col, levels, [sub for _, sub in su.columns])
    denom = np.array([sub[col].notna().sum() for _, sub in su.columns])
    with np.errstate(invalid="ignore", divide="ignore"):
        pcts = 100 * counts / denom[:, None]
    mask = _mask(su, col, counts.shape)[:, : len(levels)]
    for gi, (gname, _) in enumerate(su.columns):
        for li, lv in enumerate(levels):
            lvl = su.lab.value(col, lv)
            hide = bool(mask[gi, li])
            su.record(col, lvl, gname, "n", np.nan if hide else int(counts[gi, li]))
            su.record(col, lvl, gname, "percent", np.nan if hide else float(pcts[gi, li]))

    def cells(li: int) -> list[str]:
        out = []
        for gi in range(len(su.columns)):
            c = int(counts[gi, li])
            out.append(
                su.hidden(bool(c < su.cell_limit))
                if mask[gi, li]
                else f"{c} ({format_number(pcts[gi, li], su.decimals, su.st.minus)})"
            )
        return out

    label = su.lab.variable(col)
    if kind == "dichotomous":
        shown = dichotomous_level(su, col)
        li = same_level_index(levels, shown)
        return [Row(dichotomous_label(su.lab, col, shown, su.st.count_label), cells(li))]
    rows = [Row(f"{label}, {su.st.count_label}", [""] * len(su.columns))]
    rows += [Row(su.lab.value(col, lv), cells(li), level=1) for li, lv in enumerate(levels)]
    return rows


def continuous_rows(su: Setup, col: str, kind: str) -> list[Row]:
    """One row: mean (SD), or median [Q1, Q3]; hidden for fewer than ``min_cell`` values."""
    cells = []
    d, minus = continuous_decimals(su, col), su.st.minus
    for gname, sub in su.columns:
        s = pd.to_numeric(sub[col], errors="coerce").dropna()
        if su.min_cell and len(s) < su.min_cell:
            cells.append(su.hidden(True))
            for name in ("median", "q1", "q3") if kind == "nonnormal" else ("mean", "sd"):
                su.record(col, "", gname, name, np.nan)
            su.record(col, "", gname, "n", np.nan)
            continue
        if kind == "nonnormal":
            med, q1, q3 = (float(s.quantile(q)) if len(s) else np.nan for q in (0.5, 0.25, 0.75))
            iqr = su.st.interval(format_number(q1, d, minus), format_number(q3, d, minus))
            if su.st.ci_open == "":
                iqr = f"({iqr})"
            cells.append(f"{format_number(med, d, minus)} {iqr}")
            stats_: tuple[tuple[str, float], ...] = (("median", med), ("q1", q1), ("q3", q3))
        else:
            m = float(s.mean()) if len(s) else np.nan
            sd = float(s.std(ddof=1)) if len(s) > 1 else np.nan
            cells.append(f"{format_number(m, d, minus)} ({format_number(sd, d, minus)})")
            stats_ = (("mean", m), ("sd", sd))
        for name, value in stats_:
            su.record(col, "", gname, name, value)
        hide_n = su.min_cell is not None and bool(_mask(su, col, (len(su.columns), 1))[
            su.columns.index((gname, sub)), 0])  # fmt: skip
        su.record(col, "", gname, "n", np.nan if hide_n else len(s))
    suffix = su.st.median_label if kind == "nonnormal" else su.st.mean_label
    return [Row(f"{su.lab.variable(col)}, {suffix}", cells)]


def continuous_decimals(su: Setup, col: str) -> int:
    """Decimals of a continuous variable: the table's, or more for a proportion.

    A variable whose values all lie in [0, 1] is a proportion; its mean (SD) or
    median [Q1, Q3] takes at least the preset's ``proportion_decimals`` (2), so a
    mean proportion of 0.32 does not print as 0.3.
    """
    s = pd.to_numeric(su.frame[col], errors="coerce").dropna()
    if len(s) and bool(((s >= 0) & (s <= 1)).all()):
        return max(su.decimals, su.st.proportion_decimals)
    return su.decimals


def missing_row(su: Setup, col: str) -> list[Row]:
    """The "Missing" row of a variable (when asked for and any value is missing)."""
    n_miss = [int(sub[col].isna().sum()) for _, sub in su.columns]
    if not su.missing or not any(n_miss):
        return []
    mask = su.masks.get(col)
    cells = []
    for gi, ((gname, sub), nm) in enumerate(zip(su.columns, n_miss)):
        if mask is not None and mask[gi, -1]:
            su.record(col, "Missing", gname, "n", np.nan)
            cells.append(su.hidden(nm < su.cell_limit))
        else:
            su.record(col, "Missing", gname, "n", nm)
            pct = 100 * nm / len(sub) if len(sub) else float("nan")
            cells.append(f"{nm} ({format_number(pct, su.decimals, su.st.minus)})")
    return [Row("Missing", cells, level=1)]
