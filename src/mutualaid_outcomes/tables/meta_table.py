"""The meta-analysis table: studies, weights, pooled effect, heterogeneity (or meta-regression)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from .formatting import JournalStyle, format_ci, format_number, format_p, get_style
from .model_tables import term_label
from .table import Table

if TYPE_CHECKING:
    from ..models.meta.results import MetaResult

__all__ = ["meta_table"]

_MEASURE_NAMES = {
    "RR": ("Log RR", "RR"),
    "OR": ("Log OR", "OR"),
    "IRR": ("Log IRR", "IRR"),
    "RD": ("RD", "RD"),
    "MD": ("MD", "MD"),
    "SMD": ("SMD", "SMD"),
    "COR": ("r", "r"),
    "ZCOR": ("Fisher's z", "Fisher's z"),
}
_MODEL = {True: "Random-effects", False: "Fixed-effect"}


def _value(x: float, exponentiate: bool) -> float:
    return float(np.exp(x)) if exponentiate else float(x)


def _ci_text(lo: float, hi: float, st: JournalStyle, decimals: int) -> str:
    return format_ci(lo, hi, st, decimals)


def _heterogeneity_notes(result: Any, st: JournalStyle, decimals: int) -> list[str]:
    g = result.glance().iloc[0]
    level = round(100 * result.conf_level)
    notes = []
    if result.is_random and g["q_df"] > 0:
        notes.append(
            f"Heterogeneity: τ² = {format_number(g['tau2'], decimals + 1)} ({level}% CI "
            f"{_ci_text(g['tau2_low'], g['tau2_high'], st, decimals + 1)}); I² = "
            f"{format_number(g['i2'], 1)}% ({_ci_text(g['i2_low'], g['i2_high'], st, 1)}); "
            f"Q({int(g['q_df'])}) = {format_number(g['q'], decimals)}, p "
            f"{_p(g['q_p'], st)}."
        )
    elif g["q_df"] > 0:
        notes.append(
            f"Heterogeneity: I² = {format_number(g['i2'], 1)}%; Q({int(g['q_df'])}) = "
            f"{format_number(g['q'], decimals)}, p {_p(g['q_p'], st)}."
        )
    return notes


def _p(p: float, st: JournalStyle) -> str:
    text = format_p(p, st)
    return f"< {text[1:]}" if text.startswith("<") else f"= {text}"


def _method_note(result: Any) -> str:
    model = _MODEL[result.is_random]
    tests = "Knapp-Hartung t tests" if result.test == "knha" else "z tests"
    tau = f", {result.method} estimate of τ²" if result.is_random else ""
    return f"{model} model{tau}; {tests}; study intervals are normal-theory."


def _study_rows(result: Any, exponentiate: bool, st, decimals, weights) -> list[tuple]:
    studies = result.studies()
    rows = []
    for _, s in studies.iterrows():
        cells = [
            format_number(_value(s["estimate"], exponentiate), decimals, st.minus),
            _ci_text(
                _value(s["conf_low"], exponentiate),
                _value(s["conf_high"], exponentiate),
                st,
                decimals,
            ),
        ]
        if weights:
            cells.append(format_number(s["weight"], 1))
        rows.append((str(s["study"]), cells, s.get("group", None)))
    return rows


def _pooled_cells(result: Any, level: float, exponentiate: bool, st, decimals, weight):
    """Estimate and interval of a pooled row, and its weight (None: no weight column)."""
    t = result.tidy(conf_level=level).iloc[0]
    cells = [
        format_number(_value(t["estimate"], exponentiate), decimals, st.minus),
        _ci_text(
            _value(t["conf_low"], exponentiate), _value(t["conf_high"], exponentiate), st, decimals
        ),
    ]
    if weight is not None:
        cells.append(format_number(weight, 1))
    return cells


def _studies_table(result, exponentiate, st, decimals, weights, labels, level) -> tuple:
    study_rows = _study_rows(result, exponentiate, st, decimals, weights)
    blank = [""] * (3 if weights else 2)
    index: list[str] = []
    body: list[list[str]] = []
    indent: list[int] = []

    def add(label: str, cells: list[str], ind: bool = False) -> None:
        if ind:
            indent.append(len(index))
        index.append(labels.get(label, label) if labels else label)
        body.append(cells)

    if result.subgroups:
        w = result.studies()
        for name, sub in result.subgroups:
            add(f"{result.by} = {name}", blank)
            for lab, cells, group in study_rows:
                if group == name:
                    add(lab, cells, ind=True)
            total = float(w.loc[w["group"] == name, "weight"].sum()) if weights else None
            cells = _pooled_cells(sub, level, exponentiate, st, decimals, total)
            add(f"Subtotal, {name} (k = {sub.nobs})", cells, ind=True)
    else:
        for lab, cells, _ in study_rows:
            add(lab, cells)
    model = "RE" if result.is_random else "FE"
    add(
        f"Overall, {model} model (k = {result.nobs})",
        _pooled_cells(result, level, exponentiate, st, decimals, 100.0 if weights else None),
    )
    if result.is_random:
        p = result.predict(conf_level=level, exponentiate=exponentiate).iloc[0]
        add(
            "Prediction interval",
            ["", _ci_text(p["pi_low"], p["pi_high"], st, decimals)] + ([""] if weights else []),
        )
    return index, body, indent


def _coefficient_table(result, exponentiate, st, decimals, labels, level) -> tuple:
    t = result.tidy(conf_level=level, exponentiate=exponentiate)
    index, body = [], []
    for _, r in t.iterrows():
        index.append(term_label(r["term"], labels=labels))
        body.append(
            [
                format_number(r["estimate"], decimals, st.minus),
                _ci_text(r["conf_low"], r["conf_high"], st, decimals),
                format_p(r["p_value"], st),
            ]
        )
    return index, body, []


def meta_table(
    result: MetaResult,
    *,
    exponentiate: bool = False,
    conf_level: float | None = None,
    style: str | JournalStyle = "apa",
    decimals: int = 2,
    weights: bool = True,
    heterogeneity: bool = True,
    labels: Mapping[str, str] | None = None,
    title: str = "",
) -> Table:
    """A publication table of a meta-analysis or meta-regression.

    Parameters
    ----------
    result : MetaResult
        The result of :func:`~mutualaid_outcomes.models.meta.meta_analysis`.
    exponentiate : bool
        Report ratios (RR, OR, IRR) instead of log ratios.
    conf_level : float, optional
        Level of the intervals; default the model's.
    style : {"apa", "jama", "nejm"} or JournalStyle
        Journal preset for intervals and p-values.
    decimals : int
        Decimals of estimates and limits.
    weights : bool
        Add the weight column (percent of the overall model's weight).
    heterogeneity : bool
        Add footnotes with tau^2, I^2 and Q (and the test of subgroup differences, or the
        omnibus test and R^2 of a meta-regression).
    labels : mapping, optional
        Replacement row labels (study labels or terms).
    title : str
        Caption.

    Returns
    -------
    Table
        For a model without moderators: one row per study (indented under subgroup
        headings with ``by``), subgroup subtotals, the overall estimate and the prediction
        interval; for a meta-regression: one row per coefficient with its p-value. Export
        with ``to_docx``, ``to_latex``, ``to_html``, ``to_markdown`` or ``save``.

    Raises
    ------
    OptionError
        If ``result`` is not a meta-analysis, or ``exponentiate=True`` for a difference
        measure.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.meta import meta_analysis
    >>> df = pd.DataFrame({"yi": [-0.89, -1.59, -1.35, -0.22], "vi": [0.33, 0.19, 0.42, 0.05],
    ...                    "study": ["A", "B", "C", "D"]})
    >>> t = meta_table(meta_analysis(df, study="study", measure="RR"), exponentiate=True)
    >>> t.body.loc["A"].tolist()
    ['0.41', '[0.13, 1.27]', '20.4']
    """
    if not hasattr(result, "subgroup_results"):
        raise OptionError(
            f"meta_table() needs the result of meta_analysis(); got {type(result).__name__}. "
            "Use regression_table() for other models."
        )
    result._check_exponentiate(exponentiate)
    st = get_style(style)
    level = result.conf_level if conf_level is None else conf_level
    names = _MEASURE_NAMES.get(result.measure or "", ("Estimate", "Ratio"))
    est_col = names[1] if exponentiate else names[0]
    ci_col = f"{round(100 * level)}% CI"
    if result.intercept_only:
        index, body, indent = _studies_table(
            result, exponentiate, st, decimals, weights, labels, level
        )
        columns = [est_col, ci_col] + (["Weight, %"] if weights else [])
        stub = "Study"
    else:
        index, body, indent = _coefficient_table(result, exponentiate, st, decimals, labels, level)
        columns, stub = [est_col, ci_col, "p"], "Moderator"
    notes = [_method_note(result)]
    if heterogeneity:
        notes += _heterogeneity_notes(result, st, decimals)
        g = result.glance().iloc[0]
        if result.subgroups:
            notes.append(
                f"Test for subgroup differences: Q({int(g['q_between_df'])}) = "
                f"{format_number(g['q_between'], decimals)}, p {_p(g['q_between_p'], st)}."
            )
        if not result.intercept_only:
            stat = "F" if result.test == "knha" else "χ²"
            dfs = (
                f"{int(g['qm_df'])}, {int(g['qm_df_resid'])}"
                if result.test == "knha"
                else (f"{int(g['qm_df'])}")
            )
            r2 = f"; R² = {format_number(g['r2'], 1)}%" if np.isfinite(g["r2"]) else ""
            notes.append(
                f"Test of moderators: {stat}({dfs}) = {format_number(g['qm'], decimals)}, "
                f"p {_p(g['qm_p'], st)}{r2}."
            )
    numbers = result.studies() if result.intercept_only else result.tidy(conf_level=level)
    frame = pd.DataFrame(body, index=pd.Index(index), columns=columns)
    return Table(
        frame, title=title, footnotes=notes, stub_header=stub, indent=indent, numbers=numbers
    )
