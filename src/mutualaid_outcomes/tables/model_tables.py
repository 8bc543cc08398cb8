"""Regression and mediation tables built from any result's ``tidy()`` and ``glance()``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .._convergence import NONCONVERGENCE_MARK, nonconvergence_note
from .._labels import resolve_labels
from ..disclosure import check_min_cell, count_text
from ._moderation_rows import moderation_footnotes
from .formatting import format_ci, format_number, format_p, get_style
from .regression_tables import regression_table
from .table import Table
from .term_labels import effect_label

__all__ = ["regression_table", "mediation_table", "term_label"]


def term_label(term: str, *, codebook: Any = None, labels: Any = None) -> str:
    """Readable label of a model term (see :meth:`mutualaid_outcomes._labels.Labels.term`).

    Examples
    --------
    >>> term_label("C(arm)[T.TSF]")
    'arm: TSF'
    >>> term_label("C(arm, Treatment('CBT'))[T.MET]")
    'arm: MET vs CBT'
    >>> term_label("Intercept")
    '(Intercept)'
    """
    lab = resolve_labels(labels, codebook)
    if term in lab.variables:
        return lab.variables[term]
    return lab.term(term)


def mediation_table(
    result: Any,
    *,
    conf_level: float = 0.95,
    style: str = "apa",
    decimals: int = 3,
    labels: Any = None,
    codebook: Any = None,
    title: str = "",
    contrasts: bool = True,
    exposure: str | None = None,
    outcome: str | None = None,
    min_cell: int | None = None,
) -> Table:
    """Effects of a mediation result: estimate, SE, CI and p-value per effect.

    Parameters
    ----------
    result : mediation result
        From :func:`mediate`, :func:`lagged_mediation` or :func:`causal_mediation`.
    conf_level : float
        Confidence level.
    style : {"apa", "jama", "nejm"}
        Journal preset.
    decimals : int
        Decimals.
    labels, codebook : optional
        Labels (a mapping or :class:`~mutualaid_outcomes._labels.Labels`) for the
        exposure, the mediators named inside effect terms such as ``indirect[cesd]``
        and the outcome; a key equal to a whole term (``"direct"``) relabels that row.
    exposure, outcome : str, optional
        Column names of the exposure and the outcome, shown (labelled) in the a and b
        path rows; default: the result's ``exposure``/``outcome`` attributes, else
        the words "exposure" and "outcome".
    title : str
        Caption.
    contrasts : bool
        Include the pairwise contrasts between specific indirect effects.
    min_cell : int, optional
        Disclosure control (default none, see ``docs/disclosure.md``): an N below
        ``min_cell`` in the note is written ``<min_cell``.

    Notes
    -----
    The proportion mediated is shown with its interval but without a standard error:
    it is a ratio whose bootstrap distribution is heavy-tailed when the total effect
    is near zero, so its standard deviation is not a useful summary.

    Returns
    -------
    Table

    Examples
    --------
    >>> from mutualaid_outcomes.results import BaseResult, wald_table, glance_frame
    >>> class M(BaseResult):
    ...     def _tidy(self, conf_level):
    ...         return wald_table(["indirect[se]", "direct"], [0.1, 0.2], [0.05, 0.1], conf_level)
    ...     def glance(self):
    ...         return glance_frame({"n": 50, "method": "bootstrap"}, ["n", "method"])
    >>> mediation_table(M()).body.index.tolist()
    ['Indirect via se', 'Direct effect']
    """
    st = get_style(style)
    lab = resolve_labels(labels, codebook)
    min_cell = check_min_cell(min_cell)
    exposure = exposure or getattr(result, "exposure", None)
    outcome = outcome or getattr(result, "outcome", None)
    x_text = lab.variable(exposure) if isinstance(exposure, str) else "exposure"
    y_text = lab.variable(outcome) if isinstance(outcome, str) else "outcome"
    td = result.tidy(conf_level=conf_level)
    if not contrasts:
        td = td[~td["term"].astype(str).str.startswith("contrast[")]

    ci_head = f"{int(round(conf_level * 100))}% CI"
    rows = []
    for _, r in td.iterrows():
        rows.append(
            [
                format_number(r["estimate"], decimals, st.minus),
                ""
                if str(r["term"]).startswith("prop_mediated")
                else format_number(r["std_error"], decimals, st.minus),
                format_ci(r["conf_low"], r["conf_high"], st, decimals),
                format_p(r["p_value"], st),
            ]
        )
    unconverged = nonconvergence_note([("the model", result)])
    estimate_head = f"Estimate {NONCONVERGENCE_MARK}" if unconverged else "Estimate"
    body = pd.DataFrame(
        rows,
        index=[effect_label(str(t), lab, x_text, y_text) for t in td["term"]],
        columns=[estimate_head, "SE", ci_head, "p"],
    )
    gl = result.glance()
    notes = [unconverged] if unconverged else []
    if "method" in gl.columns and pd.notna(gl.loc[0, "method"]):
        notes.append(f"Inference: {gl.loc[0, 'method']}.")
    if "n" in gl.columns and pd.notna(gl.loc[0, "n"]):
        notes.append(f"N = {count_text(int(gl.loc[0, 'n']), min_cell)}.")
    notes += moderation_footnotes(result)
    return Table(body=body, title=title, footnotes=notes, stub_header="Effect", numbers=td)
