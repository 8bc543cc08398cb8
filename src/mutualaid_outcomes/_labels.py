"""Labels for output: variable and value labels from a codebook, with fallbacks.

Shared by tables and figures, so every output labels variables the same way.
A codebook here is anything with ``label(name)`` and ``value_labels(name)``
(a :class:`~mutualaid_outcomes.io.Codebook` or a user object).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["resolve_codebook", "variable_label", "value_labels", "value_label", "ratio_label"]


def resolve_codebook(codebook: Any, data: pd.DataFrame | None = None) -> Any:
    """The codebook to label with: the one given, else the one attached to ``data``.

    A dict or a JSON path is read into a :class:`~mutualaid_outcomes.io.Codebook`;
    any other object with ``label``/``value_labels`` methods is used as it is.

    Examples
    --------
    >>> resolve_codebook({"variables": {"x": {"label": "Exposure"}}}).label("x")
    'Exposure'
    """
    from .io.codebook import as_codebook, get_codebook

    if codebook is None:
        return get_codebook(data) if data is not None else None
    if isinstance(codebook, (Mapping, str, os.PathLike)):
        return as_codebook(codebook)
    return codebook


def variable_label(codebook: Any, name: str, labels: Mapping[str, str] | None = None) -> str:
    """Label of a variable: explicit ``labels`` first, then the codebook, then the name.

    Examples
    --------
    >>> variable_label(None, "pda", {"pda": "Percent days abstinent"})
    'Percent days abstinent'
    >>> variable_label(None, "pda")
    'pda'
    """
    if labels and name in labels:
        return str(labels[name])
    if codebook is not None:
        try:
            lab = codebook.label(name)
        except Exception:  # noqa: BLE001 - codebook without this variable
            lab = None
        if lab:
            return str(lab)
    return name


def value_labels(codebook: Any, name: str) -> dict:
    """Value labels of a variable (empty when there are none or no codebook).

    Examples
    --------
    >>> value_labels(None, "sex")
    {}
    """
    if codebook is None:
        return {}
    try:
        vl = codebook.value_labels(name)
    except Exception:  # noqa: BLE001 - codebook without this variable
        return {}
    return dict(vl or {})


def value_label(value: Any, vlabels: Mapping[Any, Any]) -> str:
    """Label of one value, matching codes stored as numbers or text.

    ``1``, ``1.0`` and ``"1"`` all find a label stored under any of them; without a
    label, whole floats print without a decimal part.

    Examples
    --------
    >>> value_label(1.0, {1: "Female"}), value_label("1", {1: "Female"}), value_label(2.0, {})
    ('Female', 'Female', '2')
    """
    for key in (value, str(value)):
        if key in vlabels:
            return str(vlabels[key])
    try:
        f = float(value)
        for key in (f, int(f) if f.is_integer() else None, str(int(f)) if f.is_integer() else None):
            if key is not None and key in vlabels:
                return str(vlabels[key])
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_RATIO_BY_FAMILY = {
    "binomial": "Odds ratio",
    "quasibinomial": "Odds ratio",
    "fractional_logit": "Odds ratio",
    "ordinal_logit": "Odds ratio",
    "beta": "Odds ratio",
    "poisson": "Rate ratio",
    "quasipoisson": "Rate ratio",
    "negative_binomial": "Rate ratio",
    "zip": "Rate ratio",
    "zinb": "Rate ratio",
    "gamma": "Mean ratio",
}


def ratio_label(result: Any) -> str:
    """Name of the exponentiated coefficients of a model: "Hazard ratio", "Odds ratio" ...

    Cox models give hazard ratios, Fine-Gray models subdistribution hazard ratios,
    logit-link models odds ratios, log-link binomial models risk ratios and count
    models rate ratios; anything else is a "Ratio".

    Examples
    --------
    >>> class Fit:
    ...     family, link = "binomial", "logit"
    >>> ratio_label(Fit()), ratio_label(None)
    ('Odds ratio', 'Ratio')
    """
    name = type(result).__name__
    if name.startswith("FineGray"):
        return "Subdistribution hazard ratio"
    if name.startswith("Cox"):
        return "Hazard ratio"
    family = str(getattr(result, "family", "") or "").lower()
    link = str(getattr(result, "link", "") or "").lower()
    if family in ("binomial", "quasibinomial") and link == "log":
        return "Risk ratio"
    if family in ("binomial", "quasibinomial") and link not in ("", "logit"):
        return "Ratio"
    return _RATIO_BY_FAMILY.get(family, "Ratio")
