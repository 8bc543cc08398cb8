"""Labels for output: the one place tables, figures, summaries and the report get labels.

Every output asks a :class:`Labels` resolver for the label of a variable, of a value
and of a model term. The resolver looks in these sources, first match wins:

1. **explicit labels**: ``labels=`` given to a table or figure function, and the
   ``[labels]`` section of an analysis spec (``variables`` and ``values`` tables);
2. **the codebook**: variable and value labels read from SPSS, Stata or SAS metadata,
   a REDCap data dictionary or a codebook JSON sidecar, or attached with
   :func:`~mutualaid_outcomes.io.set_codebook` (frames from
   :func:`~mutualaid_outcomes.datasets.load_sample` carry the sample's codebook);
3. **instrument specs** for scored columns: ``cesd_total`` is "Depressive symptoms
   (CES-D)", ``aase_conf_negative_affect`` "Negative affect (AASE confidence)"
   (from the spec's ``label``/``construct`` and ``abbreviation``);
4. a lagged copy ``<name>_t<k>`` (as :func:`lagged_mediation` names its columns) is
   labelled "<label of name>, time k"; otherwise the name itself.

API
---
``Labels(variables=None, values=None, codebook=None)``
    The resolver (immutable). Methods:

    * ``variable(name)``: variable label;
    * ``value_labels(name)``: ``{code: label}``; ``value(name, code)``: one value's label;
    * ``term(term, reference=None)``: a readable model term. ``C(arm,
      Treatment('CBT'))[T.MET]`` becomes "Arm: MET vs CBT" (with value labels), a
      0/1 variable with value labels "Sex: Female vs Male", ``a:b`` "A × B";
    * ``parse_term(term)``: the :class:`Term` behind a coefficient name (variable,
      level, reference, coding, interaction parts);
    * ``reference_level(variable, levels)``: the reference level of a factor whose
      other ``levels`` have coefficients (from the term or the codebook's levels);
    * ``measurement(name)``: the codebook's measurement level, or None;
    * ``binary_levels(name)``: the (1, 0) labels of a labelled 0/1 variable, or None;
    * ``merged(other)``: a resolver whose explicit labels add ``other``'s on top.

``resolve_labels(labels=None, codebook=None, data=None)``
    Build the resolver a function uses from its ``labels=`` and ``codebook=``
    arguments (``labels`` may be a mapping ``{name: label}``, a mapping
    ``{name: {code: label}}`` for value labels, the spec form ``{"variables": {...},
    "values": {...}}`` or a :class:`Labels`) and the codebook attached to ``data``.

``instrument_label(column)``
    The label an instrument spec gives a scored column, or None.

Functions kept for existing callers: ``resolve_codebook``, ``variable_label``,
``value_labels`` and ``value_label``.

Examples
--------
>>> lab = Labels(variables={"arm": "Arm"}, values={"arm": {"CBT": "CBT", "MET": "MET"}})
>>> lab.term("C(arm, Treatment('CBT'))[T.MET]")
'Arm: MET vs CBT'
>>> lab.variable("cesd_total")
'Depressive symptoms (CES-D)'
>>> Labels(values={"sex": {0: "Male", 1: "Female"}}, variables={"sex": "Sex"}).term("sex")
'Sex: Female vs Male'
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from ._terms import Term, parse_term

__all__ = [
    "Labels",
    "Term",
    "parse_term",
    "resolve_labels",
    "instrument_label",
    "resolve_codebook",
    "variable_label",
    "value_labels",
    "value_label",
    "ratio_label",
]

_FUNCTION = re.compile(r"^(?:np\.)?(?P<fn>log|log1p|log2|log10|sqrt|exp)\((?P<var>[\w.]+)\)$")
_LAGGED = re.compile(r"^(?P<base>.+)_t(?P<time>\d+(?:\.\d+)?)$")


# ------------------------------------------------------------------ instruments
def _derived_label(construct: str) -> str:
    text = re.sub(r"\s*\([^()]*\)\s*$", "", construct).strip()
    return text[:1].upper() + text[1:] if text[:1].islower() else text


@functools.cache
def _instrument_labels() -> dict[str, str]:
    try:
        from .instruments.spec import available_specs, get_spec
    except ImportError:  # pragma: no cover - instruments always ship
        return {}
    out: dict[str, str] = {}
    for sid in available_specs():
        spec = get_spec(sid)
        abbr = spec.abbreviation or spec.id.upper()
        base = spec.label or _derived_label(spec.construct)
        for scale in spec.scales:
            if scale is spec.total:
                text = f"{base} ({abbr})"
            else:
                text = f"{scale.label or scale.name.replace('_', ' ').capitalize()} ({abbr})"
            out[f"{sid}_{scale.name}"] = text
        for comp in spec.composites:
            text = comp.label or comp.name.replace("_", " ").capitalize()
            out[f"{sid}_{comp.name}"] = f"{text} ({abbr})"
    return out


_SCORE_SUFFIXES = {"_band": ", category", "_n": ": items answered", "_prorated": ": prorated"}


def instrument_label(column: str) -> str | None:
    """The label an instrument spec gives a scored column (None if it is not one).

    Examples
    --------
    >>> instrument_label("cesd_total"), instrument_label("cesd_total_band")
    ('Depressive symptoms (CES-D)', 'Depressive symptoms (CES-D), category')
    >>> instrument_label("age") is None
    True
    """
    table = _instrument_labels()
    if column in table:
        return table[column]
    for suffix, text in _SCORE_SUFFIXES.items():
        if column.endswith(suffix) and column[: -len(suffix)] in table:
            return table[column[: -len(suffix)]] + text
    return None


# ------------------------------------------------------------------ the resolver
def _normal_code(value: Any) -> str:
    """A code as comparable text: ``1``, ``1.0`` and ``"1"`` all give ``"1"``."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if f != f:  # NaN
        return "nan"
    return str(int(f)) if f.is_integer() else repr(f)


def _codebook_missing(codebook: Any, name: str) -> set[str]:
    try:
        var = codebook.variable(name)
    except Exception:  # noqa: BLE001 - codebook without this variable or method
        return set()
    codes = getattr(var, "missing_codes", ()) or ()
    return {_normal_code(c) for c in codes}


@dataclass(frozen=True)
class Labels:
    """Resolve variable, value and term labels (see the module docstring).

    Parameters
    ----------
    variables : mapping, optional
        Explicit variable labels ``{name: label}``; also model ids and whole terms.
    values : mapping, optional
        Explicit value labels ``{name: {code: label}}``.
    codebook : Codebook or object with ``label``/``value_labels``, optional
        Where labels not given explicitly come from.
    """

    variables: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, Mapping[Any, str]] = field(default_factory=dict)
    codebook: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "variables", {str(k): str(v) for k, v in self.variables.items()})
        object.__setattr__(
            self, "values", {str(k): dict(v) for k, v in (self.values or {}).items()}
        )

    # -- variables and values -------------------------------------------------------
    def _codebook_label(self, name: str) -> str | None:
        if self.codebook is None:
            return None
        try:
            lab = self.codebook.label(name)
        except Exception:  # noqa: BLE001 - codebook without this variable
            return None
        return str(lab) if lab and str(lab) != name else None

    def variable(self, name: str) -> str:
        """Label of a variable (or model id): explicit, codebook, instrument, name."""
        name = str(name)
        if name in self.variables:
            return self.variables[name]
        lab = self._codebook_label(name) or instrument_label(name)
        if lab:
            return lab
        m = _LAGGED.match(name)
        if m:
            base = self.variable(m.group("base"))
            if base != m.group("base"):
                return f"{base}, time {m.group('time')}"
        fm = _FUNCTION.match(name)
        if fm:
            return f"{fm.group('fn')}({self.variable(fm.group('var'))})"
        return name

    def measurement(self, name: str) -> str | None:
        """The codebook's measurement level of a variable (``"nominal"``, ...), or None."""
        if self.codebook is None or not hasattr(self.codebook, "measurement"):
            return None
        try:
            return str(self.codebook.measurement(str(name)))
        except Exception:  # noqa: BLE001 - codebook without this variable
            return None

    def has_label(self, name: str) -> bool:
        """Whether ``name`` gets a label other than itself."""
        return self.variable(name) != str(name)

    def value_labels(self, name: str) -> dict[Any, str]:
        """``{code: label}`` of a variable: explicit ones, else the codebook's."""
        name = str(name)
        if name in self.values:
            return dict(self.values[name])
        return value_labels(self.codebook, name)

    def value(self, name: str, value: Any) -> str:
        """Label of one value of a variable (the value itself when unlabelled)."""
        return value_label(value, self.value_labels(name))

    def _levels(self, name: str) -> list[str]:
        """Labelled codes of a variable, without the codebook's missing-value codes."""
        skip = _codebook_missing(self.codebook, name) if name not in self.values else set()
        return [c for c in map(_normal_code, self.value_labels(name)) if c not in skip]

    def binary_levels(self, name: str) -> tuple[str, str] | None:
        """Labels of codes 1 and 0 of a labelled 0/1 variable (None otherwise).

        Examples
        --------
        >>> Labels(values={"sex": {0: "Male", 1: "Female"}}).binary_levels("sex")
        ('Female', 'Male')
        """
        if sorted(self._levels(name)) != ["0", "1"]:
            return None
        return self.value(name, 1), self.value(name, 0)

    def reference_level(self, variable: str, levels: Any = ()) -> str | None:
        """The reference level of a factor, given the levels that have coefficients.

        The labelled levels of the variable (explicit or codebook, without missing
        codes) minus ``levels``; None unless exactly one level remains.

        Examples
        --------
        >>> lab = Labels(values={"arm": {"CBT": "CBT", "MET": "MET", "TSF": "TSF"}})
        >>> lab.reference_level("arm", ["MET", "TSF"])
        'CBT'
        """
        seen = {_normal_code(v) for v in levels}
        rest = [c for c in self._levels(variable) if c not in seen]
        if len(rest) != 1:
            return None
        for code in self.value_labels(variable):
            if _normal_code(code) == rest[0]:
                return str(code)
        return rest[0]  # pragma: no cover - found above

    # -- model terms ----------------------------------------------------------------
    parse_term = staticmethod(parse_term)

    def term(self, term: str, reference: str | None = None) -> str:
        """Readable label of a model term.

        Parameters
        ----------
        term : str
            A coefficient name (patsy syntax).
        reference : str, optional
            The factor's reference level when the caller knows it (the term itself
            states it with ``Treatment(...)``).

        Examples
        --------
        >>> Labels().term("C(arm)[T.TSF]"), Labels().term("Intercept")
        ('arm: TSF', '(Intercept)')
        >>> Labels(variables={"month": "Month"}).term("C(arm)[T.TSF]:month")
        'arm: TSF × Month'
        """
        term = str(term)
        t = parse_term(term)
        if term in self.variables and (t.is_factor or t.parts):
            return self.variables[term]  # an explicit label of a whole dummy or product
        if t.is_intercept:
            return "(Intercept)"
        if t.parts:
            return " × ".join(self.term(p.text) for p in t.parts)
        if t.is_factor:
            # a factor term always has its variable and level set
            variable, level = cast(str, t.variable), cast(str, t.level)
            var = self.variable(variable)
            text = f"{var}: {self.value(variable, level)}"
            ref = t.reference or reference
            if t.coding == "treatment" and ref is not None:
                text += f" vs {self.value(variable, ref)}"
            elif t.coding == "sum":
                text += " (vs mean of levels)"
            return text
        binary = self.binary_levels(term)
        if binary is not None:
            return f"{self.variable(term)}: {binary[0]} vs {binary[1]}"
        return self.variable(term)

    # -- combination ----------------------------------------------------------------
    def merged(self, other: Labels | Mapping[str, Any] | None) -> Labels:
        """A resolver with ``other``'s explicit labels layered over these.

        The codebook is ``other``'s when it has one, else this resolver's.
        """
        if other is None:
            return self
        o = other if isinstance(other, Labels) else _from_mapping(other)
        return Labels(
            variables={**self.variables, **o.variables},
            values={**self.values, **o.values},
            codebook=o.codebook if o.codebook is not None else self.codebook,
        )


def _from_mapping(labels: Mapping[str, Any]) -> Labels:
    keys = set(labels)
    if (
        keys
        and keys <= {"variables", "values"}
        and all(isinstance(v, Mapping) for v in labels.values())
    ):
        return Labels(variables=labels.get("variables", {}), values=labels.get("values", {}))
    variables: dict[str, str] = {}
    values: dict[str, Mapping[Any, str]] = {}
    for k, v in labels.items():
        if isinstance(v, Mapping):
            values[str(k)] = v
        else:
            variables[str(k)] = str(v)
    return Labels(variables=variables, values=values)


def resolve_labels(
    labels: Labels | Mapping[str, Any] | None = None,
    codebook: Any = None,
    data: pd.DataFrame | None = None,
) -> Labels:
    """The label resolver for a function's ``labels=``, ``codebook=`` and data.

    ``codebook`` (a Codebook, its dict form or a JSON path) overrides the codebook of
    a :class:`Labels` passed as ``labels``; without either, the codebook attached to
    ``data`` is used.

    Raises
    ------
    ArgumentTypeError
        If ``labels`` is not a mapping or a :class:`Labels`.

    Examples
    --------
    >>> resolve_labels({"age": "Age, years"}).variable("age")
    'Age, years'
    >>> resolve_labels({"variables": {"x": "X"}, "values": {"x": {"1": "Yes"}}}).value("x", 1)
    'Yes'
    """
    from .errors import ArgumentTypeError

    if labels is None:
        base = Labels()
    elif isinstance(labels, Labels):
        base = labels
    elif isinstance(labels, Mapping):
        base = _from_mapping(labels)
    else:
        raise ArgumentTypeError(
            "`labels` must be a mapping {name: label} (or {name: {code: label}} for value "
            f"labels) or a Labels object; got {type(labels).__name__}."
        )
    cb = base.codebook
    if codebook is not None or cb is None:
        cb = resolve_codebook(codebook, data)
    return Labels(variables=base.variables, values=base.values, codebook=cb)


# ------------------------------------------------------------------ kept helpers
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


def variable_label(codebook: Any, name: str, labels: Any = None) -> str:
    """Label of a variable: explicit ``labels``, the codebook, an instrument spec, the name.

    ``labels`` may be a mapping or a :class:`Labels`.

    Examples
    --------
    >>> variable_label(None, "pda", {"pda": "Percent days abstinent"})
    'Percent days abstinent'
    >>> variable_label(None, "pda"), variable_label(None, "pacs_total")
    ('pda', 'Alcohol craving (PACS)')
    """
    if isinstance(labels, Labels):
        return labels.merged(Labels(codebook=codebook)).variable(name)
    return resolve_labels(labels or None, codebook).variable(name)


def value_labels(codebook: Any, name: str) -> dict:
    """Value labels of a variable (empty when there are none or no codebook).

    Examples
    --------
    >>> value_labels(None, "sex")
    {}
    """
    if codebook is None:
        return {}
    if isinstance(codebook, Labels):
        return codebook.value_labels(name)
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
        try:
            if key in vlabels:
                return str(vlabels[key])
        except TypeError:  # unhashable value
            break
    want = _normal_code(value)
    for key, lab in vlabels.items():
        if _normal_code(key) == want:
            return str(lab)
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
