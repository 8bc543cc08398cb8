"""Regression and mediation tables built from any result's ``tidy()`` and ``glance()``."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._labels import value_label, value_labels, variable_label
from .._validation import renamed
from ..errors import ArgumentTypeError, DataValidationError
from .formatting import format_ci, format_number, format_p, get_style
from .table import Table

__all__ = ["regression_table", "mediation_table", "term_label"]

_PATSY_LEVEL = re.compile(r"^C\((?P<var>[^,)]+)(?:,.*)?\)\[T\.(?P<level>[^\]]+)\]$")
_PLAIN_LEVEL = re.compile(r"^(?P<var>[A-Za-z_][A-Za-z0-9_.]*)\[T\.(?P<level>.+)\]$")

_GLANCE_ROWS = (
    ("n", "N"),
    ("n_events", "Events"),
    ("n_clusters", "Clusters"),
)


def term_label(term: str, *, codebook: Any = None, labels: Mapping[str, str] | None = None) -> str:
    """Readable label of a model term using explicit labels, then the codebook.

    ``C(arm)[T.TSF]`` becomes ``"arm: TSF"`` (with the codebook's variable and value
    labels when available); interactions ``a:b`` are labelled part by part.

    Examples
    --------
    >>> term_label("C(arm)[T.TSF]")
    'arm: TSF'
    >>> term_label("C(arm, Treatment('CBT'))[T.MET]")
    'arm: MET'
    >>> term_label("Intercept")
    '(Intercept)'
    """
    if labels and term in labels:
        return str(labels[term])
    if term in ("Intercept", "const", "(Intercept)"):
        return "(Intercept)"
    if ":" in term and not term.startswith("C("):
        return " × ".join(term_label(t, codebook=codebook, labels=labels) for t in term.split(":"))

    m = _PATSY_LEVEL.match(term) or _PLAIN_LEVEL.match(term)
    if m:
        var, level = m.group("var").strip(), m.group("level")
        lev_label = value_label(level, value_labels(codebook, var))
        return f"{variable_label(codebook, var, labels)}: {lev_label}"
    return variable_label(codebook, term, labels)


def _as_named(results: Any) -> list[tuple[str, Any]]:
    if isinstance(results, Mapping):
        items = list(results.items())
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(f"Model {i + 1}", r) for i, r in enumerate(results)]
    else:
        items = [("Model 1", results)]
    for name, r in items:
        if not (hasattr(r, "tidy") and hasattr(r, "glance")):
            raise ArgumentTypeError(
                f"`results` entry '{name}' is a {type(r).__name__}; expected a fitted result "
                "with tidy() and glance() (regression, GEE, mixed, Cox or mediation)."
            )
    if not items:
        raise DataValidationError("`results` is empty; pass at least one fitted result.")
    return items


@renamed(ci="show_ci")
def regression_table(
    results: Any,
    *,
    exponentiate: bool | Sequence[bool] = False,
    show_ci: bool = True,
    conf_level: float = 0.95,
    style: str = "apa",
    decimals: int = 2,
    codebook: Any = None,
    labels: Mapping[str, str] | None = None,
    intercept: bool = True,
    title: str = "",
) -> Table:
    """Models side by side: estimate with CI and p-value per model.

    Parameters
    ----------
    results : result, sequence of results, or mapping name -> result
        Any mix of fitted results with ``tidy()`` and ``glance()``: regression,
        GEE, mixed, Cox and mediation results.
    exponentiate : bool or sequence of bool
        Exponentiate estimates (OR, IRR, HR); one value for all models or one per model.
    show_ci : bool
        Show the confidence interval.
    conf_level : float
        Confidence level.
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values and intervals.
    decimals : int
        Decimals for estimates and limits.
    codebook : Codebook, optional
        Term labels come from it.
    labels : mapping, optional
        Explicit term labels (take precedence).
    intercept : bool
        Keep intercept rows.
    title : str
        Caption.

    Returns
    -------
    Table

    Examples
    --------
    >>> from mutualaid_outcomes.results import BaseResult, wald_table, glance_frame
    >>> class R(BaseResult):
    ...     def _tidy(self, conf_level):
    ...         return wald_table(["Intercept", "x"], [1.0, 0.5], [0.2, 0.1], conf_level)
    ...     def glance(self):
    ...         return glance_frame({"n": 100}, ["n"])
    >>> regression_table({"OLS": R()}).body.loc["x", "OLS"]
    '0.50 [0.30, 0.70]'
    """
    st = get_style(style)
    named = _as_named(results)
    if isinstance(exponentiate, bool):
        expo = [exponentiate] * len(named)
    else:
        expo = [bool(e) for e in exponentiate]
        if len(expo) != len(named):
            raise DataValidationError(
                f"`exponentiate` has {len(expo)} values for {len(named)} results; "
                "give one bool or one per result."
            )
    order: list[str] = []
    cells: dict[tuple[str, str], str] = {}
    pcells: dict[tuple[str, str], str] = {}
    numbers = []
    glance_rows: dict[str, dict[str, str]] = {}
    for (name, res), ex in zip(named, expo):
        td = res.tidy(conf_level=conf_level, exponentiate=ex)
        for _, row in td.iterrows():
            term = str(row["term"])
            if not intercept and term in ("Intercept", "const", "(Intercept)"):
                continue
            if term not in order:
                order.append(term)
            est = format_number(row["estimate"], decimals, st.minus)
            if show_ci and np.isfinite(row.get("conf_low", np.nan)):
                est += " " + format_ci(row["conf_low"], row["conf_high"], st, decimals)
            cells[(term, name)] = est
            pcells[(term, name)] = format_p(row.get("p_value", np.nan), st)
            numbers.append({"model": name, **row.to_dict()})
        gl = res.glance()
        for key, lab in _GLANCE_ROWS:
            if key in gl.columns and pd.notna(gl.loc[0, key]):
                glance_rows.setdefault(lab, {})[name] = str(int(gl.loc[0, key]))
    est_head = "Estimate"
    if any(expo):
        est_head = "Ratio" if all(expo) else "Estimate / ratio"
    if show_ci:
        est_head += f" ({int(round(conf_level * 100))}% CI)"
    multi = len(named) > 1
    cols = []
    for name, _ in named:
        cols += [name, f"p ({name})" if multi else "p"]
    body = pd.DataFrame(
        [
            [v for name, _ in named for v in (cells.get((t, name), ""), pcells.get((t, name), ""))]
            for t in order
        ],
        index=[term_label(t, codebook=codebook, labels=labels) for t in order],
        columns=cols,
    )
    for lab, vals in glance_rows.items():
        body.loc[lab] = [v for name, _ in named for v in (vals.get(name, ""), "")]
    notes = [f"Cells: {est_head[0].lower()}{est_head[1:]}."]
    if any(expo):
        notes.append("Ratios are exponentiated coefficients (odds, rate or hazard ratios).")
    return Table(
        body=body,
        title=title,
        footnotes=notes,
        stub_header="Term",
        numbers=pd.DataFrame(numbers),
    )


def mediation_table(
    result: Any,
    *,
    conf_level: float = 0.95,
    style: str = "apa",
    decimals: int = 3,
    labels: Mapping[str, str] | None = None,
    codebook: Any = None,
    title: str = "",
    contrasts: bool = True,
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
        Labels for mediator names inside effect terms such as ``indirect[cesd]``.
    title : str
        Caption.
    contrasts : bool
        Include the pairwise contrasts between specific indirect effects.

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
    td = result.tidy(conf_level=conf_level)
    if not contrasts:
        td = td[~td["term"].astype(str).str.startswith("contrast[")]

    def effect_label(term: str) -> str:
        if labels and term in labels:
            return str(labels[term])
        m = re.match(r"^(?P<kind>[a-z_]+)\[(?P<inner>.+)\]$", term)
        fixed = {
            "direct": "Direct effect",
            "total": "Total effect",
            "total_indirect": "Total indirect effect",
            "prop_mediated": "Proportion mediated",
        }
        if term in fixed:
            return fixed[term]
        if not m:
            return term.replace("_", " ").capitalize()
        kind, inner = m.group("kind"), m.group("inner")
        parts = re.split(r"(->|-)", inner)
        lab = "".join(
            p if p in ("->", "-") else term_label(p, codebook=codebook, labels=labels)
            for p in parts
        ).replace("->", " → ")
        names = {
            "a": "a path: exposure → ",
            "b": "b path: ",
            "d": "d path: ",
            "indirect": "Indirect via ",
            "contrast": "Contrast ",
        }
        if kind == "b":
            return f"b path: {lab} → outcome"
        return names.get(kind, f"{kind} ") + lab

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
    body = pd.DataFrame(
        rows,
        index=[effect_label(str(t)) for t in td["term"]],
        columns=["Estimate", "SE", ci_head, "p"],
    )
    gl = result.glance()
    notes = []
    if "method" in gl.columns and pd.notna(gl.loc[0, "method"]):
        notes.append(f"Inference: {gl.loc[0, 'method']}.")
    if "n" in gl.columns and pd.notna(gl.loc[0, "n"]):
        notes.append(f"N = {int(gl.loc[0, 'n'])}.")
    return Table(body=body, title=title, footnotes=notes, stub_header="Effect", numbers=td)
