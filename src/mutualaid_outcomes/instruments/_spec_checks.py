"""Validation of an instrument spec: one check per field, run when the spec is built.

:func:`validate_spec` is called by ``InstrumentSpec.__post_init__`` and raises
:class:`~mutualaid_outcomes.errors.SpecError` naming the spec, the field and what is
allowed.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..errors import SpecError
from ._scales import METHODS, Band, Subscale

if TYPE_CHECKING:
    from .spec import InstrumentSpec

__all__ = ["validate_spec"]


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(float(x))


def validate_spec(spec: InstrumentSpec) -> None:
    """Raise :class:`SpecError` for the first field of ``spec`` that is not valid."""
    where = f"InstrumentSpec '{spec.id}'"
    if not isinstance(spec.id, str) or not spec.id:
        raise SpecError("`id` must be a non-empty string.")
    _check_item_list(spec, where)
    _check_item_options(spec, where)
    if spec.total is None and not spec.subscales:
        raise SpecError(f"{where}: define `total` or at least one entry in `subscales`.")
    names: list[str] = []
    for sc in spec.scales:
        key = "total" if sc is spec.total else f"subscales.{sc.name}"
        _check_scale(spec, where, key, sc)
        names.append(sc.name)
    for comp in spec.composites:
        key = f"composites.{comp.name}"
        if not comp.terms:
            raise SpecError(f"{where}: `{key}.terms` is empty.")
        unknown = [t for t, _ in comp.terms if t not in names]
        if unknown:
            raise SpecError(
                f"{where}: `{key}.terms` names scale(s) {unknown}; defined before it: {names}."
            )
        _check_bands(where, key, comp.bands)
        names.append(comp.name)
    if len(set(names)) != len(names):
        raise SpecError(f"{where}: scale and composite names must be unique; got {names}.")
    if spec.max_missing_total is not None and not (
        isinstance(spec.max_missing_total, numbers.Integral)
        and 0 <= spec.max_missing_total < spec.n_items
    ):
        raise SpecError(
            f"{where}: `max_missing_total` must be an integer in 0..{spec.n_items - 1}; "
            f"got {spec.max_missing_total!r}."
        )
    for sc_code in spec.special_codes:
        if sc_code.value is not None and not _is_number(sc_code.value):
            raise SpecError(
                f"{where}: `special_codes` value for code {sc_code.code!r} must be a number "
                "or 'missing'."
            )


def _check_item_list(spec: InstrumentSpec, where: str) -> None:
    """``items``: distinct integers; ``min`` < ``max``, both finite."""
    if not spec.items:
        raise SpecError(f"{where}: `items` must list at least one item number.")
    bad = [i for i in spec.items if not isinstance(i, numbers.Integral) or isinstance(i, bool)]
    if bad:
        raise SpecError(f"{where}: `items` must be integers; got {bad!r}.")
    if len(set(spec.items)) != len(spec.items):
        dup = sorted({i for i in spec.items if list(spec.items).count(i) > 1})
        raise SpecError(f"{where}: `items` has duplicated item numbers {dup}.")
    if not (_is_number(spec.min) and _is_number(spec.max)) or spec.min >= spec.max:
        raise SpecError(
            f"{where}: `min` and `max` must be finite numbers with min < max; "
            f"got min={spec.min!r}, max={spec.max!r}."
        )


def _check_known(spec: InstrumentSpec, where: str, key: str, items: Sequence[int]) -> None:
    """Every item named by field ``key`` is one of ``spec.items``."""
    item_set = set(spec.items)
    unknown = [i for i in items if i not in item_set]
    if unknown:
        raise SpecError(
            f"{where}: `{key}` names item(s) {unknown} that are not in `items` "
            f"({min(spec.items)}..{max(spec.items)})."
        )


def _check_item_options(spec: InstrumentSpec, where: str) -> None:
    """``reverse``, ``item_ranges`` and ``item_values`` name known items with valid values."""
    _check_known(spec, where, "reverse", spec.reverse)
    for item, rng in spec.item_ranges.items():
        _check_known(spec, where, "item_ranges", [item])
        if len(rng) != 2 or not all(_is_number(v) for v in rng) or rng[0] >= rng[1]:
            raise SpecError(
                f"{where}: `item_ranges` for item {item} must be [min, max]; got {rng!r}."
            )
    for item, vals in spec.item_values.items():
        _check_known(spec, where, "item_values", [item])
        if not vals or not all(_is_number(v) for v in vals):
            raise SpecError(
                f"{where}: `item_values` for item {item} must list numbers; got {vals!r}."
            )


def _check_scale(spec: InstrumentSpec, where: str, key: str, sc: Subscale) -> None:
    """One scale (``total`` or a subscale): items, method, weights, max_missing, bands."""
    if not isinstance(sc, Subscale):
        raise SpecError(f"{where}: `{key}` must be a Subscale; got {type(sc).__name__}.")
    if not sc.items:
        raise SpecError(f"{where}: `{key}.items` is empty.")
    _check_known(spec, where, f"{key}.items", sc.items)
    if len(set(sc.items)) != len(sc.items):
        raise SpecError(f"{where}: `{key}.items` lists an item twice.")
    if sc.method not in METHODS:
        raise SpecError(
            f"{where}: `{key}.method` must be one of {', '.join(map(repr, METHODS))}; "
            f"got {sc.method!r}."
        )
    if sc.method == "mean_times_k" and not _is_number(sc.k):
        raise SpecError(f"{where}: `{key}.k` must be a number when method is 'mean_times_k'.")
    if sc.method == "weighted":
        if sc.weights is None or len(sc.weights) != len(sc.items):
            raise SpecError(
                f"{where}: `{key}.weights` must give one weight per item "
                f"({len(sc.items)}) when method is 'weighted'."
            )
        if not all(_is_number(w) for w in sc.weights):
            raise SpecError(f"{where}: `{key}.weights` must be finite numbers.")
    if sc.max_missing is not None and (
        not isinstance(sc.max_missing, numbers.Integral)
        or sc.max_missing < 0
        or sc.max_missing >= len(sc.items)
    ):
        raise SpecError(
            f"{where}: `{key}.max_missing` must be an integer in 0..{len(sc.items) - 1}; "
            f"got {sc.max_missing!r}."
        )
    _check_bands(where, key, sc.bands)


def _check_bands(where: str, key: str, bands: Sequence[Band]) -> None:
    prev = None
    for b in bands:
        if not (_is_number(b.lower) and _is_number(b.upper)) or b.lower > b.upper:
            raise SpecError(f"{where}: `{key}.bands` entry {b!r} must have lower <= upper.")
        if prev is not None and b.lower <= prev.upper:
            raise SpecError(f"{where}: `{key}.bands` must be increasing and non-overlapping.")
        prev = b
