"""Readable labels for the rows of any result's ``tidy()``: one resolver for all output.

The publication tables, the ``summary()`` sections of the analysis report and anything
else that shows coefficient or effect names ask this module, which asks the label
resolver (:class:`mutualaid_outcomes._labels.Labels`):

* model coefficients (``C(arm, Treatment('CBT'))[T.MET]``, ``sex``, ``a:b``) become
  "Arm: MET vs CBT" with value labels, the reference level taken from the term, or
  from the value labels when the term does not state it (as the regression tables'
  reference rows do);
* mediation effects (``a[m]``, ``b[m]``, ``indirect[m]``, ``contrast[m1-m2]``,
  ``direct`` ...) become "a path: X → M", "Indirect via M" ... as in
  :func:`~mutualaid_outcomes.tables.mediation_table`;
* Kaplan-Meier medians ``median[level]`` become "Median: <value label>".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .._labels import Labels
from ._moderation_rows import moderated_label

__all__ = ["coefficient_labels", "effect_label", "result_term_labels"]

_EFFECT = re.compile(r"^(?P<kind>[a-z_]+)\[(?P<inner>.+)\]$")
_FIXED = {
    "direct": "Direct effect",
    "total": "Total effect",
    "total_indirect": "Total indirect effect",
    "prop_mediated": "Proportion mediated",
}
_PATHS = {"a", "b", "d", "indirect", "contrast", "index"}


def effect_label(term: str, lab: Labels, x_text: str, y_text: str) -> str:
    """Label of a mediation effect row.

    Examples
    --------
    >>> lab = Labels(variables={"m": "Self-efficacy"})
    >>> effect_label("a[m]", lab, "AA meetings", "PDA")
    'a path: AA meetings → Self-efficacy'
    >>> effect_label("indirect[m]", lab, "X", "Y"), effect_label("direct", lab, "X", "Y")
    ('Indirect via Self-efficacy', 'Direct effect')
    """
    if term in lab.variables:
        return lab.variables[term]
    moderated = moderated_label(term, lab.term, x_text, y_text)
    if moderated is not None:
        return moderated
    if term in _FIXED:
        return _FIXED[term]
    m = _EFFECT.match(term)
    if not m:
        return term.replace("_", " ").capitalize()
    kind, inner = m.group("kind"), m.group("inner")
    parts = re.split(r"(->|-)", inner)
    arrows = {"->": " \u2192 ", "-": " \u2212 "}
    text = "".join(arrows.get(p) or lab.term(p) for p in parts)
    names = {
        "a": f"a path: {x_text} → ",
        "d": "d path: ",
        "indirect": "Indirect via ",
        "contrast": "Contrast: ",
    }
    if kind == "b":
        return f"b path: {text} → {y_text}"
    return names.get(kind, f"{kind} ") + text


def coefficient_labels(terms: Sequence[str], lab: Labels) -> dict[str, str]:
    """``{term: label}`` for model coefficients, with the reference level of factors.

    The reference of a treatment-coded factor is the one its terms state
    (``Treatment('CBT')``) or, failing that, the one labelled level without a
    coefficient.

    Examples
    --------
    >>> lab = Labels(variables={"arm": "Arm"},
    ...              values={"arm": {"CBT": "CBT", "MET": "MET", "TSF": "TSF"}})
    >>> coefficient_labels(["Intercept", "C(arm)[T.MET]", "C(arm)[T.TSF]"], lab)
    {'Intercept': '(Intercept)', 'C(arm)[T.MET]': 'Arm: MET vs CBT', 'C(arm)[T.TSF]': 'Arm: TSF vs CBT'}
    """
    parsed = {str(t): lab.parse_term(str(t)) for t in terms}
    levels: dict[str, list[str]] = {}
    refs: dict[str, str | None] = {}
    for t in parsed.values():
        if t.is_factor and not t.parts and t.coding == "treatment":
            var = str(t.variable)
            levels.setdefault(var, []).append(str(t.level))
            refs[var] = refs.get(var) or t.reference
    for var in levels:
        refs[var] = refs[var] or lab.reference_level(var, levels[var])
    out = {}
    for term, t in parsed.items():
        ref = refs.get(str(t.variable)) if t.is_factor and not t.parts else None
        out[term] = lab.term(term, reference=ref)
    return out


def _is_effect(term: str) -> bool:
    m = _EFFECT.match(term)
    return term in _FIXED or bool(m and m.group("kind") in _PATHS)


def result_term_labels(result: Any, terms: Sequence[str], lab: Labels) -> dict[str, str]:
    """``{term: label}`` for the ``term`` column of a result's ``tidy()``.

    Mediation results (with ``exposure`` and ``outcome``) get effect labels,
    Kaplan-Meier medians the value labels of their grouping variable, and everything
    else the labels of model coefficients (:func:`coefficient_labels`). A term that is
    none of these keeps its name unless the resolver has an explicit label for it.

    Examples
    --------
    >>> class Fit:
    ...     exposure, outcome = "x", "y"
    >>> result_term_labels(Fit(), ["indirect[m]", "total"], Labels(variables={"m": "M"}))
    {'indirect[m]': 'Indirect via M', 'total': 'Total effect'}
    """
    terms = [str(t) for t in terms]
    exposure = getattr(result, "exposure", None)
    outcome = getattr(result, "outcome", None)
    mediation = isinstance(exposure, str) and any(_is_effect(t) for t in terms)
    x_text = lab.variable(exposure) if isinstance(exposure, str) else "exposure"
    y_text = lab.variable(outcome) if isinstance(outcome, str) else "outcome"
    by = getattr(result, "by", None)
    coefficient_terms = []
    out: dict[str, str] = {}
    for term in terms:
        m = _EFFECT.match(term)
        if mediation and _is_effect(term):
            out[term] = effect_label(term, lab, x_text, y_text)
        elif m and m.group("kind") == "median":
            level = m.group("inner")
            out[term] = f"Median: {lab.value(by, level) if isinstance(by, str) else level}"
        elif m and m.group("kind") in ("cif", "cause", "alpha"):
            out[term] = lab.variables.get(term, term)
        else:
            coefficient_terms.append(term)
    out.update(coefficient_labels(coefficient_terms, lab))
    return {t: out[t] for t in terms}
