"""Instrument specifications: frozen, declarative descriptions of how a questionnaire is scored.

An :class:`InstrumentSpec` records everything the scoring engine needs: the items and
their order, the response range (with per-item exceptions), reverse-keyed items, the
scales (total and subscales) with their scoring method and published missing-item rule,
composite scores built from other scales, cut-points with labels, norms, special codes
("don't know", "not applicable") and the citation of the scoring source.

Specs are data. The shipped ones live in ``instruments/specs/<id>.toml`` and are read
with :func:`load_spec`; users can build their own in code or from their own TOML file.

Examples
--------
>>> from mutualaid_outcomes.instruments.spec import InstrumentSpec, Subscale
>>> spec = InstrumentSpec(
...     id="mood3", name="Three-item mood check", construct="mood",
...     items=(1, 2, 3), min=0, max=3, reverse=(3,),
...     total=Subscale("total", (1, 2, 3), method="sum", max_missing=1),
...     prefix="mood_", citation="Local questionnaire.")
>>> spec.n_items, spec.scale_names
(3, ('total',))
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import DataFileNotFoundError, FileFormatError, SpecError
from ._scales import Band, Composite, SpecialCode, Subscale
from ._spec_checks import validate_spec

if sys.version_info >= (3, 11):  # pragma: no cover - depends on interpreter
    import tomllib
else:  # pragma: no cover - depends on interpreter
    import tomli as tomllib

__all__ = [
    "Band",
    "Subscale",
    "Composite",
    "SpecialCode",
    "InstrumentSpec",
    "load_spec",
    "get_spec",
    "available_specs",
    "spec_from_dict",
]


@dataclass(frozen=True)
class InstrumentSpec:
    """A frozen, declarative description of how an instrument is scored.

    Parameters
    ----------
    id : str
        Short identifier (``"cesd"``).
    name, construct : str
        Full name and what it measures.
    abbreviation : str
        Short name used in labels (``"CES-D"``); default the upper-cased ``id``.
    label : str
        Display label of what the total score measures (``"Depressive symptoms"``);
        default ``construct`` without its parenthesised qualifier, capitalised. Scored
        columns are labelled ``"<label> (<abbreviation>)"`` in tables and figures.
    items : tuple of int
        Item numbers in administration order.
    min, max : float
        Default response range (inclusive) of every item.
    reverse : tuple of int
        Reverse-keyed items, scored ``item_min + item_max - x``.
    total : Subscale, optional
        The total score.
    subscales : tuple of Subscale
        Subscales.
    composites : tuple of Composite
        Scores derived from other scales.
    item_ranges : mapping int -> (min, max)
        Per-item ranges overriding ``min``/``max``.
    item_values : mapping int -> tuple of float
        Per-item sets of allowed codes (e.g. AUDIT items 9-10: 0, 2, 4).
    integer_codes : bool
        Whether answers must be whole numbers.
    max_missing_total : int, optional
        Instrument-level rule: if more than this many items are missing, no scale is scored.
    special_codes : tuple of SpecialCode
        Codes mapped to a value or to missing before range checks.
    prefix : str
        Default item column prefix; columns are ``{prefix}{item}``.
    citation : str
        The scoring source.
    norms : str
        Published norms or reference values, where public.
    notes : str
        Anything a user should know, including details that could not be verified.
    unverified : tuple of str
        Scoring details that could not be confirmed against a public copy of the source.
    """

    id: str
    name: str
    construct: str
    items: tuple[int, ...]
    min: float
    max: float
    reverse: tuple[int, ...] = ()
    total: Subscale | None = None
    subscales: tuple[Subscale, ...] = ()
    composites: tuple[Composite, ...] = ()
    item_ranges: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    item_values: Mapping[int, tuple[float, ...]] = field(default_factory=dict)
    integer_codes: bool = True
    max_missing_total: int | None = None
    special_codes: tuple[SpecialCode, ...] = ()
    prefix: str = ""
    citation: str = ""
    norms: str = ""
    notes: str = ""
    unverified: tuple[str, ...] = ()
    abbreviation: str = ""
    label: str = ""

    def __post_init__(self) -> None:
        validate_spec(self)

    # convenience ---------------------------------------------------------------
    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.items)

    @property
    def scales(self) -> tuple[Subscale, ...]:
        """Total (if any) followed by the subscales."""
        return ((self.total,) if self.total is not None else ()) + tuple(self.subscales)

    @property
    def scale_names(self) -> tuple[str, ...]:
        """Names of scales and composites in output order."""
        return tuple(s.name for s in self.scales) + tuple(c.name for c in self.composites)

    def item_range(self, item: int) -> tuple[float, float]:
        """Response range of one item."""
        if item in self.item_values:
            vals = self.item_values[item]
            return (float(min(vals)), float(max(vals)))
        if item in self.item_ranges:
            lo, hi = self.item_ranges[item]
            return (float(lo), float(hi))
        return (float(self.min), float(self.max))

    def default_columns(self, prefix: str | None = None) -> list[str]:
        """Item column names ``{prefix}{item}``."""
        p = self.prefix if prefix is None else prefix
        return [f"{p}{i}" for i in self.items]

    def with_special_codes(self, codes: Mapping[float | str, float | str | None]) -> InstrumentSpec:
        """A copy of the spec with extra special codes (e.g. a survey's sentinel codes).

        Parameters
        ----------
        codes : mapping
            ``{code: value}`` where value is a number (score given to the code) or
            ``None`` / ``"missing"`` (treated as missing). Codes already in the spec are
            replaced.

        Returns
        -------
        InstrumentSpec

        Examples
        --------
        >>> spec = get_spec("phq9").with_special_codes({8: "missing", 9: "missing"})
        >>> [c.code for c in spec.special_codes]
        [8, 9]
        """
        new = []
        for code, value in codes.items():
            if isinstance(value, str):
                if value != "missing":
                    raise SpecError(
                        f"`codes` value for {code!r} must be a number, None or 'missing'; "
                        f"got {value!r}."
                    )
                value = None
            new.append(SpecialCode(code, value))
        keep = tuple(c for c in self.special_codes if c.code not in codes)
        return replace(self, special_codes=keep + tuple(new))


# ---------------------------------------------------------------------------------
# reading specs from dictionaries / TOML
# ---------------------------------------------------------------------------------

_TOP_KEYS = {f.name for f in fields(InstrumentSpec)}
_SCALE_KEYS = {f.name for f in fields(Subscale)}
_COMP_KEYS = {"name", "terms", "offset", "multiplier", "bands", "label"}


def _bands(raw: Any, key: str) -> tuple[Band, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise SpecError(f"`{key}` must be a list of {{lower, upper, label}} tables.")
    out = []
    for i, b in enumerate(raw):
        if not isinstance(b, Mapping) or set(b) != {"lower", "upper", "label"}:
            raise SpecError(
                f"`{key}[{i}]` must have exactly the keys 'lower', 'upper', 'label'; got {b!r}."
            )
        out.append(Band(float(b["lower"]), float(b["upper"]), str(b["label"])))
    return tuple(out)


def _scale(raw: Any, key: str) -> Subscale:
    if not isinstance(raw, Mapping):
        raise SpecError(f"`{key}` must be a table.")
    unknown = set(raw) - _SCALE_KEYS
    if unknown:
        raise SpecError(
            f"`{key}` has unknown key(s) {sorted(unknown)}; allowed: {sorted(_SCALE_KEYS)}."
        )
    if "name" not in raw or "items" not in raw:
        raise SpecError(f"`{key}` needs 'name' and 'items'.")
    items = raw["items"]
    if not isinstance(items, list) or not all(isinstance(i, int) for i in items):
        raise SpecError(f"`{key}.items` must be a list of integers.")
    weights = raw.get("weights")
    return Subscale(
        name=str(raw["name"]),
        items=tuple(items),
        method=raw.get("method", "sum"),
        k=raw.get("k"),
        weights=tuple(float(w) for w in weights) if weights is not None else None,
        max_missing=raw.get("max_missing"),
        bands=_bands(raw.get("bands"), f"{key}.bands"),
        label=str(raw.get("label", "")),
    )


def _composite(raw: Any, key: str) -> Composite:
    if not isinstance(raw, Mapping):
        raise SpecError(f"`{key}` must be a table.")
    unknown = set(raw) - _COMP_KEYS
    if unknown:
        raise SpecError(
            f"`{key}` has unknown key(s) {sorted(unknown)}; allowed: {sorted(_COMP_KEYS)}."
        )
    terms = raw.get("terms")
    if not isinstance(terms, Mapping) or not terms:
        raise SpecError(f"`{key}.terms` must be a table {{scale = weight}}.")
    return Composite(
        name=str(raw.get("name", "")),
        terms=tuple((str(k), float(v)) for k, v in terms.items()),
        offset=float(raw.get("offset", 0.0)),
        multiplier=float(raw.get("multiplier", 1.0)),
        bands=_bands(raw.get("bands"), f"{key}.bands"),
        label=str(raw.get("label", "")),
    )


def _int_keyed(raw: Any, key: str) -> dict[int, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise SpecError(f"`{key}` must be a table keyed by item number.")
    out = {}
    for k, v in raw.items():
        try:
            out[int(k)] = tuple(float(x) for x in v)
        except (TypeError, ValueError):
            raise SpecError(
                f"`{key}` entry {k!r} = {v!r} is not item number -> list of numbers."
            ) from None
    return out


def spec_from_dict(raw: Mapping[str, Any]) -> InstrumentSpec:
    """Build an :class:`InstrumentSpec` from a parsed TOML/JSON dictionary.

    A dictionary with ``extends = "<shipped spec id>"`` starts from that shipped spec
    and replaces only the top-level keys it gives (for example another ``id``, ``name``
    and response range for a different form of the same questionnaire).

    Raises
    ------
    SpecError
        Naming the offending key when the dictionary is not a valid spec, or an
        ``extends`` id that is not a shipped spec.

    Examples
    --------
    >>> spec_from_dict({"id": "x", "name": "X", "construct": "c", "items": [1, 2],
    ...                 "min": 0, "max": 1, "total": {"name": "total", "items": [1, 2]}}).n_items
    2

    The PHQ-9 scored with answers coded 1-4 instead of 0-3 (scales keep their items):

    >>> phq = spec_from_dict({"extends": "phq9", "id": "phq9_1to4", "min": 1, "max": 4})
    >>> (phq.id, phq.min, phq.max, phq.total.items == get_spec("phq9").total.items)
    ('phq9_1to4', 1, 4, True)
    >>> spec_from_dict({"id": "x", "name": "X", "construct": "c", "items": [1, 2],
    ...                 "min": 0, "max": 1, "totl": {}})
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.SpecError: Spec has unknown key(s) ['totl']; allowed keys: ...
    """
    if not isinstance(raw, Mapping):
        raise SpecError("A spec must be a table (mapping).")
    raw = _resolve_extends(raw)
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise SpecError(
            f"Spec has unknown key(s) {sorted(unknown)}; allowed keys: {sorted(_TOP_KEYS)}."
        )
    for req in ("id", "name", "construct", "items", "min", "max"):
        if req not in raw:
            raise SpecError(f"Spec is missing the required key '{req}'.")
    items = raw["items"]
    if isinstance(items, Mapping) and set(items) == {"first", "last"}:
        items = list(range(int(items["first"]), int(items["last"]) + 1))
    if not isinstance(items, list) or not all(isinstance(i, int) for i in items):
        raise SpecError("`items` must be a list of integers or {first = a, last = b}.")
    subs = raw.get("subscales", [])
    if not isinstance(subs, list):
        raise SpecError("`subscales` must be an array of tables ([[subscales]]).")
    comps = raw.get("composites", [])
    if not isinstance(comps, list):
        raise SpecError("`composites` must be an array of tables ([[composites]]).")
    specials = []
    for i, sc in enumerate(raw.get("special_codes", [])):
        if not isinstance(sc, Mapping) or "code" not in sc:
            raise SpecError(f"`special_codes[{i}]` must be a table with 'code' and 'value'.")
        value = sc.get("value", "missing")
        if isinstance(value, str):
            if value != "missing":
                raise SpecError(
                    f"`special_codes[{i}].value` must be a number or 'missing'; got {value!r}."
                )
            value = None
        specials.append(SpecialCode(sc["code"], value, str(sc.get("label", ""))))
    try:
        return InstrumentSpec(
            id=str(raw["id"]),
            name=str(raw["name"]),
            construct=str(raw["construct"]),
            items=tuple(items),
            min=raw["min"],
            max=raw["max"],
            reverse=tuple(raw.get("reverse", ())),
            total=_scale(raw["total"], "total") if "total" in raw else None,
            subscales=tuple(_scale(s, f"subscales[{i}]") for i, s in enumerate(subs)),
            composites=tuple(_composite(c, f"composites[{i}]") for i, c in enumerate(comps)),
            item_ranges=_int_keyed(raw.get("item_ranges"), "item_ranges"),
            item_values=_int_keyed(raw.get("item_values"), "item_values"),
            integer_codes=bool(raw.get("integer_codes", True)),
            max_missing_total=raw.get("max_missing_total"),
            special_codes=tuple(specials),
            prefix=str(raw.get("prefix", "")),
            citation=str(raw.get("citation", "")),
            norms=str(raw.get("norms", "")),
            notes=str(raw.get("notes", "")),
            unverified=tuple(str(u) for u in raw.get("unverified", ())),
            abbreviation=str(raw.get("abbreviation", "")),
            label=str(raw.get("label", "")),
        )
    except TypeError as exc:  # e.g. wrong value types inside dataclasses
        raise SpecError(f"Spec '{raw.get('id')}' has a value of the wrong type: {exc}.") from None


def _resolve_extends(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """Merge ``raw`` over the shipped spec it ``extends`` (which may extend another)."""
    if "extends" not in raw:
        return raw
    base_id = raw["extends"]
    if not isinstance(base_id, str):
        raise SpecError(f"`extends` must be a shipped spec id (str); got {base_id!r}.")
    base = _resolve_extends(_shipped_raw(base_id, "`extends`"))
    return {**base, **{k: v for k, v in raw.items() if k != "extends"}}


def _shipped_raw(spec_id: str, argument: str) -> dict[str, Any]:
    """The parsed TOML of a shipped spec; ``argument`` names the caller's argument."""
    ids = available_specs()
    if spec_id not in ids:
        raise SpecError(
            f"{argument} '{spec_id}' is not a shipped spec; available: {', '.join(ids)}."
        )
    root = resources.files("mutualaid_outcomes.instruments") / "specs"
    return tomllib.loads((root / f"{spec_id}.toml").read_text(encoding="utf-8"))


def load_spec(path: str | Path) -> InstrumentSpec:
    """Read an instrument spec from a TOML file.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.toml`` file with the keys of :class:`InstrumentSpec`; scales are tables
        ``[total]`` and arrays ``[[subscales]]``, ``[[composites]]``. A file may instead
        give ``extends = "<shipped id>"`` and only the keys that differ (see
        :func:`spec_from_dict`).

    Returns
    -------
    InstrumentSpec

    Raises
    ------
    DataFileNotFoundError
        If the file does not exist.
    FileFormatError
        If it is not valid TOML.
    SpecError
        If the content is not a valid spec (the message names the key).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = '''id = "mood3"
    ... name = "Three-item mood check"
    ... construct = "mood"
    ... items = [1, 2, 3]
    ... min = 0
    ... max = 3
    ... reverse = [3]
    ... [total]
    ... name = "total"
    ... items = [1, 2, 3]
    ... '''
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "mood3.toml"
    >>> _ = p.write_text(text)
    >>> load_spec(p).reverse
    (3,)
    """
    p = Path(path)
    if not p.is_file():
        raise DataFileNotFoundError(f"Spec file '{p}' does not exist.")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FileFormatError(f"Spec file '{p.name}' is not valid TOML: {exc}.") from None
    return spec_from_dict(raw)


_CACHE: dict[str, InstrumentSpec] = {}


def available_specs() -> list[str]:
    """Ids of the shipped instrument specs, sorted.

    Examples
    --------
    >>> "cesd" in available_specs()
    True
    """
    root = resources.files("mutualaid_outcomes.instruments") / "specs"
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def get_spec(instrument: str | InstrumentSpec) -> InstrumentSpec:
    """Return a shipped spec by id, or the spec itself if one is given.

    Raises
    ------
    SpecError
        If the id is unknown (the message lists the available ids).

    Examples
    --------
    >>> get_spec("phq9").n_items
    9
    """
    if isinstance(instrument, InstrumentSpec):
        return instrument
    if not isinstance(instrument, str):
        from ..errors import ArgumentTypeError

        raise ArgumentTypeError(
            f"`instrument` must be a spec id (str) or an InstrumentSpec; got {type(instrument).__name__}."
        )
    if instrument not in _CACHE:
        _CACHE[instrument] = spec_from_dict(_shipped_raw(instrument, "`instrument`"))
    return _CACHE[instrument]
