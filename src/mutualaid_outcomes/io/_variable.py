"""Value codes and the :class:`Variable` description a :class:`~.codebook.Codebook` holds.

A :class:`Variable` records one column's label, value labels, missing-value declarations
(codes and ranges), measurement level and storage type. Codes are normalised by
:func:`normalize_code` (integral numbers become ``int``, so ``1``, ``1.0`` and ``"1"`` in
a numeric variable are one code) and written to JSON by :func:`code_to_str` /
:func:`code_from_str`. Everything here is re-exported by :mod:`mutualaid_outcomes.io.codebook`.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

import numpy as np

from .._validation import check_option
from ..errors import (
    ArgumentTypeError,
    DataValidationError,
    FileFormatError,
)

__all__ = [
    "MEASUREMENTS",
    "Code",
    "Measurement",
    "Variable",
    "normalize_code",
    "code_to_str",
    "code_from_str",
]

Measurement: TypeAlias = Literal["nominal", "ordinal", "scale"]
#: Allowed measurement levels.
MEASUREMENTS: tuple[str, ...] = ("nominal", "ordinal", "scale")

#: A value code: an int (integral numbers), a float, or a string (string variables,
#: and Stata/SAS extended missing codes written ``".a"`` ... ``".z"``).
Code: TypeAlias = int | float | str

_INT_RE = re.compile(r"^[+-]?\d+$")
_STRING_DTYPES = ("object", "string", "str")


class _FrozenDict(dict):
    """A read-only dict (JSON-serialisable, picklable)."""

    __slots__ = ()

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("Codebook entries are read-only; build a new one with .replace().")

    __setitem__ = __delitem__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (dict(self),))

    def __copy__(self) -> _FrozenDict:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _FrozenDict:
        return self


def normalize_code(value: Any) -> Code:
    """Return a code as a plain Python int, float or str.

    Integral numbers become ``int`` (SPSS stores ``1`` as ``1.0``), so a code reads
    the same whichever file it came from.

    Examples
    --------
    >>> normalize_code(np.float64(99.0)), normalize_code(2.5), normalize_code(".a")
    (99, 2.5, '.a')
    """
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if math.isfinite(f) and f.is_integer():
            return int(f)
        return f
    if isinstance(value, str):
        return value
    raise ArgumentTypeError(
        f"A value code must be a number or a string; got {type(value).__name__} ({value!r})."
    )


def code_to_str(code: Code) -> str:
    """Write a code as the JSON key used by :meth:`Codebook.to_dict`.

    Examples
    --------
    >>> code_to_str(99), code_to_str(2.5), code_to_str(".a")
    ('99', '2.5', '.a')
    """
    code = normalize_code(code)
    return code if isinstance(code, str) else repr(code)


def code_from_str(text: str, string_variable: bool = False) -> Code:
    """Read a code written by :func:`code_to_str`.

    Numeric-looking keys become numbers unless the variable holds strings. Text
    that Python reads as a non-finite float (``"NaN"``, ``"nan"``, ``"inf"``) stays
    text: it is a missing token, not a number.

    Examples
    --------
    >>> code_from_str("99"), code_from_str("-9.5"), code_from_str(".a"), code_from_str("1", True)
    (99, -9.5, '.a', '1')
    >>> code_from_str("nan"), code_from_str("NA")
    ('nan', 'NA')
    """
    text = str(text)
    if string_variable:
        return text
    s = text.strip()
    if _INT_RE.match(s):
        return int(s)
    try:
        value = float(s)
    except ValueError:
        return text
    return normalize_code(value) if math.isfinite(value) else text


def _is_string_dtype(dtype: str | None) -> bool:
    return dtype is not None and dtype.split("[")[0] in _STRING_DTYPES


@dataclass(frozen=True)
class Variable:
    """What the codebook knows about one variable.

    Parameters
    ----------
    name : str
        Column name.
    label : str or None
        Variable label (``None`` if there is none).
    value_labels : mapping
        ``{code: label}``.
    missing_codes : sequence
        Discrete codes declared missing (e.g. ``[-9, 97, 98, 99]``; Stata and SAS
        extended missing values as ``".a"`` ... ``".z"``, ``"._"``).
    missing_ranges : sequence of (lo, hi)
        Closed ranges declared missing (SPSS ``MISSING VALUES x (LO THRU -1)``).
    measurement : {"nominal", "ordinal", "scale"}
        Level of measurement.
    missing_counts : mapping
        ``{code: count}``: how many values of each missing code were found (and set
        to NaN) when the data were read.
    dtype : str or None
        pandas dtype of the column when the codebook was made.
    read_notes : sequence of str
        How the column was read, when a reader decided something a user may want
        to override: missing tokens such as ``"NA"`` read as missing (numeric
        columns) or kept as values (text columns), identifiers kept exact. Each
        note says how to change the decision.

    Examples
    --------
    >>> v = Variable("q1", label="Drank today", value_labels={1.0: "Yes", 0: "No"})
    >>> v.value_labels
    {1: 'Yes', 0: 'No'}
    >>> v.replace(label="Any drinking").label
    'Any drinking'
    """

    name: str
    label: str | None = None
    value_labels: Mapping[Code, str] = field(default_factory=dict)
    missing_codes: tuple[Code, ...] = ()
    missing_ranges: tuple[tuple[float, float], ...] = ()
    measurement: Measurement = "scale"
    missing_counts: Mapping[Code, int] = field(default_factory=dict)
    dtype: str | None = None
    read_notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ArgumentTypeError(
                f"A variable name must be a non-empty string; got {self.name!r}."
            )
        if self.label is not None and not isinstance(self.label, str):
            raise ArgumentTypeError(
                f"The label of '{self.name}' must be a string or None; got {self.label!r}."
            )
        check_option(self.measurement, MEASUREMENTS, f"measurement of '{self.name}'")
        if not isinstance(self.value_labels, Mapping):
            raise ArgumentTypeError(
                f"`value_labels` of '{self.name}' must be a mapping {{code: label}}; "
                f"got {type(self.value_labels).__name__}."
            )
        labels = _FrozenDict((normalize_code(k), str(v)) for k, v in self.value_labels.items())
        codes: Iterable[Any] = self.missing_codes
        if isinstance(codes, (str, numbers.Number)):  # one code given without a tuple
            codes = (codes,)
        codes_t = tuple(dict.fromkeys(normalize_code(c) for c in codes))
        ranges = []
        for r in self.missing_ranges:
            try:
                lo, hi = r
                lo_f, hi_f = float(lo), float(hi)
            except (TypeError, ValueError):
                raise DataValidationError(
                    f"Missing ranges of '{self.name}' must be (lo, hi) pairs of numbers; got {r!r}."
                ) from None
            if lo_f > hi_f:
                raise DataValidationError(
                    f"Missing range ({lo}, {hi}) of '{self.name}' has lo > hi."
                )
            ranges.append((normalize_code(lo_f), normalize_code(hi_f)))
        counts = _FrozenDict((normalize_code(k), int(v)) for k, v in self.missing_counts.items())
        object.__setattr__(self, "value_labels", labels)
        object.__setattr__(self, "missing_codes", codes_t)
        object.__setattr__(self, "missing_ranges", tuple(ranges))
        object.__setattr__(self, "missing_counts", counts)
        if self.dtype is not None:
            object.__setattr__(self, "dtype", str(self.dtype))
        notes = self.read_notes
        if isinstance(notes, str):
            notes = (notes,)
        if not all(isinstance(n, str) for n in notes):
            raise ArgumentTypeError(
                f"`read_notes` of '{self.name}' must be a sequence of strings; got {notes!r}."
            )
        object.__setattr__(self, "read_notes", tuple(notes))

    def replace(self, **changes: Any) -> Variable:
        """Return a copy with some fields changed."""
        return replace(self, **changes)

    @property
    def has_missing_declarations(self) -> bool:
        """Whether any missing code or range is declared."""
        return bool(self.missing_codes or self.missing_ranges)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this variable (see :meth:`Codebook.to_dict`)."""
        out: dict[str, Any] = {
            "label": self.label,
            "value_labels": {code_to_str(k): v for k, v in self.value_labels.items()},
            "missing_codes": list(self.missing_codes),
            "missing_ranges": [[lo, hi] for lo, hi in self.missing_ranges],
            "measurement": self.measurement,
            "missing_counts": {code_to_str(k): v for k, v in self.missing_counts.items()},
        }
        if self.dtype is not None:
            out["dtype"] = self.dtype
        if self.read_notes:
            out["read_notes"] = list(self.read_notes)
        return out

    @classmethod
    def from_dict(cls, name: str, data: Mapping[str, Any]) -> Variable:
        """Build a variable from its JSON form; keys other than ``label`` are optional."""
        if not isinstance(data, Mapping):
            raise FileFormatError(
                f"Codebook entry for '{name}' must be an object with a 'label' key; "
                f"got {type(data).__name__}."
            )
        dtype = data.get("dtype")
        is_str = _is_string_dtype(dtype)
        vl = data.get("value_labels") or {}
        mc = data.get("missing_counts") or {}
        if not isinstance(vl, Mapping) or not isinstance(mc, Mapping):
            raise FileFormatError(
                f"Codebook entry for '{name}': 'value_labels' and 'missing_counts' must be "
                "objects keyed by code."
            )
        codes = data.get("missing_codes") or []
        if isinstance(codes, (str, int, float)):
            codes = [codes]
        if is_str:
            codes = [str(c) for c in codes]
        else:  # "99" written as text still means the number 99
            codes = [code_from_str(c) if isinstance(c, str) else c for c in codes]
        return cls(
            name=str(name),
            label=data.get("label"),
            value_labels={code_from_str(k, is_str): v for k, v in vl.items()},
            missing_codes=tuple(codes),
            missing_ranges=tuple(tuple(r) for r in (data.get("missing_ranges") or [])),
            measurement=data.get("measurement") or "scale",
            missing_counts={code_from_str(k, is_str): v for k, v in mc.items()},
            dtype=dtype,
            read_notes=tuple(data.get("read_notes") or ()),
        )
