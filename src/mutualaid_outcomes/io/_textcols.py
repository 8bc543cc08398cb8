"""Which cells of a text file are missing, and what type each text column becomes.

The reading rule for CSV, TSV and Excel files:

* only empty cells are missing by default;
* a token that statistical programs write for a missing value (:data:`NA_TOKENS`:
  R's ``NA``, SAS's and Stata's ``.``, SQL's ``NULL``, Python's ``None``, Excel's
  ``#N/A``, ...) is missing only in a column whose other values are all numbers,
  true/false or dates; in a text column it is a value (``NA`` is Narcotics
  Anonymous in a ``fellowship`` column);
* declared text missing codes (``"refused"``) are set aside in the same way before
  the column's type is decided, so ``"refused"`` and ``-9`` in one column are both
  missing when both are declared;
* identifier columns (:func:`is_identifier_name`) and integers beyond 2**53 never
  pass through float: they become nullable ``Int64`` when they have missing values,
  and text when they do not fit in int64 or carry leading zeros.

Every decision is described in the column's ``read_notes`` in the codebook.
"""

from __future__ import annotations

import datetime as _dt
import numbers
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

__all__ = [
    "NA_TOKENS",
    "TextDecision",
    "classify_text",
    "convert_text",
    "exact_integers",
    "is_identifier_name",
    "needs_exact_integers",
    "token_note",
]

#: Text that R, SAS, Stata, SPSS, Excel, databases and pandas write for a missing value.
#: Such a token is missing only in a column that is otherwise numeric, true/false or dates.
NA_TOKENS: frozenset[str] = frozenset(
    {
        "NA",
        "N/A",
        "n/a",
        "#N/A",
        "#N/A N/A",
        "#NA",
        "NULL",
        "null",
        "NaN",
        "-NaN",
        "nan",
        "-nan",
        "None",
        "<NA>",
        "-1.#IND",
        "-1.#QNAN",
        "1.#IND",
        "1.#QNAN",
        ".",
    }
)

#: Largest integer every value up to which a double holds exactly.
FLOAT_EXACT_MAX = 2**53
_INT64_MAX = 2**63 - 1

_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")
_LEADING_ZERO = re.compile(r"^\s*[+-]?0\d")
_BOOL_TEXT = frozenset({"True", "False", "TRUE", "FALSE", "true", "false"})
_DATE_TEXT = re.compile(
    r"^\s*(\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|\d{1,2}[A-Za-z]{3}\d{2,4}(:\d{1,2}:\d{2}(:\d{2})?)?)\s*$"
)
_ID_WORDS = frozenset(
    {
        "id",
        "ids",
        "pid",
        "uid",
        "ptid",
        "subjid",
        "subjectid",
        "recordid",
        "caseid",
        "studyid",
        "participantid",
        "personid",
        "guid",
        "uuid",
        "mrn",
    }
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

Kind = Literal["integer", "number", "bool", "date", "text"]


def is_identifier_name(name: object) -> bool:
    """Whether a column name reads as an identifier (``id``, ``record_id``, ``subjectID``).

    Examples
    --------
    >>> [is_identifier_name(n) for n in ("id", "record_id", "subjectID", "paid", "valid")]
    [True, True, True, False, False]
    """
    text = str(name)
    if text.lower().replace("_", "").replace("-", "") in _ID_WORDS:
        return True
    parts = [p.lower() for p in re.split(r"[^A-Za-z0-9]+", _CAMEL.sub("_", text)) if p]
    return bool(parts) and (parts[0] in _ID_WORDS or parts[-1] in _ID_WORDS)


@dataclass
class TextDecision:
    """How one text column is read: its kind, and the tokens set missing or kept."""

    kind: Kind
    missing: dict[str, int] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    note: str | None = None


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _all_match(text: pd.Series, pattern: re.Pattern[str]) -> bool:
    """Whether every string matches; a sample first, as most columns fail early."""
    if not len(text):
        return True
    head = text.iloc[:64]
    if not bool(head.str.fullmatch(pattern.pattern).all()):
        return False
    return bool(text.str.fullmatch(pattern.pattern).all())


def _kind_of_text(text: pd.Series) -> Kind:
    """The kind shared by distinct strings (a CSV column).

    Python's own ``int``/``float`` conversions only decide the kind (they are
    fast); the values are parsed later by pandas' parser.
    """
    if not len(text):
        return "text"
    try:
        text.astype("int64")
        return "integer"
    except OverflowError:
        if _all_match(text, _INT_TEXT):
            return "integer"  # beyond int64: kept exact as text later
    except (ValueError, TypeError):
        pass
    try:
        text.astype("float64")
        return "number"
    except (ValueError, TypeError, OverflowError):
        pass
    if bool(text.isin(_BOOL_TEXT).all()):
        return "bool"
    if _all_match(text, _DATE_TEXT):
        return "date"
    return "text"


def _kind_of(values: list[Any]) -> Kind:
    """The kind shared by distinct values (text, numbers or Excel cell objects)."""
    texts = pd.Series([v for v in values if isinstance(v, str)], dtype=object)
    others = [v for v in values if not isinstance(v, str)]
    if not others:
        return _kind_of_text(texts)
    text_kind = _kind_of_text(texts) if len(texts) else None
    if all(_is_number(v) for v in others):
        if text_kind in (None, "integer") and all(isinstance(v, numbers.Integral) for v in others):
            return "integer"
        if text_kind in (None, "integer", "number"):
            return "number"
    if all(isinstance(v, (bool, np.bool_)) for v in others) and text_kind in (None, "bool"):
        return "bool"
    dates = (_dt.date, _dt.datetime, pd.Timestamp)
    if all(isinstance(v, dates) for v in others) and text_kind in (None, "date"):
        return "date"
    return "text"


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(k): int(n) for k, n in values.value_counts(sort=False).items()}


def classify_text(s: pd.Series, declared: Collection[str] = ()) -> TextDecision:
    """Decide how the text (or mixed) column ``s`` is read.

    ``declared`` holds the column's text missing codes; they and the tokens of
    :data:`NA_TOKENS` are set aside before the type is decided. Declared codes are
    missing whatever the type; tokens only when the rest is numbers, true/false or
    dates (and at least one such value exists).
    """
    present = s.dropna().astype(object)
    declared_set = {str(c) for c in declared}
    is_code = present.isin(declared_set)
    is_token = present.isin(NA_TOKENS) & ~is_code
    codes = _counts(present[is_code]) if bool(is_code.any()) else {}
    tokens = _counts(present[is_token]) if bool(is_token.any()) else {}
    rest = pd.unique(present[~(is_code | is_token)].to_numpy())
    if pd.api.types.infer_dtype(rest, skipna=False) == "string":
        kind = _kind_of_text(pd.Series(rest, dtype=object))
    else:
        kind = _kind_of(list(rest))
    if kind == "text":
        return TextDecision("text", missing=codes, kept=tokens)
    return TextDecision(kind, missing={**codes, **tokens}, kept={})


def token_note(name: str, decision: TextDecision, declared: Collection[str] = ()) -> str | None:
    """The codebook note for a column whose missing tokens were decided, or None."""
    declared_set = {str(c) for c in declared}
    found = {k: n for k, n in decision.missing.items() if k not in declared_set}
    what = {"integer": "numbers", "number": "numbers", "bool": "true/false", "date": "dates"}
    if found:
        listed = ", ".join(f"{k!r} ({n})" for k, n in found.items())
        return (
            f"read {listed} as missing: the other values are {what[decision.kind]}; "
            f"to keep them, the column would have to be text"
        )
    if decision.kept:
        listed = ", ".join(f"{k!r} ({n})" for k, n in decision.kept.items())
        example = next(iter(decision.kept))
        return (
            f"kept {listed} as text values: the column holds text; to read them as missing "
            f"pass missing_codes={{{name!r}: [{example!r}]}}"
        )
    return None


def needs_exact_integers(name: str, values: pd.Series, identifier: bool = False) -> bool:
    """Whether integers with missing values must stay integers (not float).

    True for identifier columns and for magnitudes beyond 2**53, where a double
    would merge distinct values.
    """
    if identifier or is_identifier_name(name):
        return True
    if len(values) == 0:
        return False
    big = values.abs() > FLOAT_EXACT_MAX if values.dtype.kind in "iu" else None
    if big is None:
        arr = pd.to_numeric(values, errors="coerce")
        big = arr.abs() > FLOAT_EXACT_MAX
    return bool(big.fillna(False).any())


def _has_leading_zeros(present: pd.Series) -> bool:
    if not len(present):
        return False
    text = np.char.lstrip(present.to_numpy(dtype=str), " +-")
    return bool((np.char.startswith(text, "0") & (np.char.str_len(text) > 1)).any())


def exact_integers(
    name: str, s: pd.Series, missing: pd.Series, identifier: bool = False
) -> tuple[pd.Series, str | None]:
    """Convert integer text (``missing`` cells aside) without passing through float.

    Returns the new column and a note: ``int64`` when nothing is missing;
    ``Int64`` when something is and the column is an identifier or holds
    integers beyond 2**53; ``float64`` otherwise (exact below 2**53, as before).
    Identifiers with leading zeros, and integers beyond int64, stay text.
    ``identifier`` marks the column as an identifier whatever its name.
    """
    identifier = identifier or is_identifier_name(name)
    present = s[~missing].astype(object)
    keep_text = s.where(~missing)
    if identifier and _has_leading_zeros(present):
        return keep_text, "kept as text: some identifiers have leading zeros"
    try:
        values = present.astype("int64")  # Python's int: exact
    except (OverflowError, ValueError):
        return keep_text, "kept as text: integers beyond the int64 range"
    if not bool(missing.any()):
        return pd.Series(values.to_numpy(), index=s.index, name=s.name), None
    out = pd.Series(pd.array([pd.NA] * len(s), dtype="Int64"), index=s.index, name=s.name)
    out[~missing] = values.to_numpy()
    if needs_exact_integers(name, values, identifier):
        return out, "integers with missing values kept exact (nullable Int64)"
    return out.astype("float64"), None


def convert_text(
    name: str,
    s: pd.Series,
    decision: TextDecision,
    reparse: Callable[[str, list[str]], pd.Series],
) -> tuple[pd.Series, TextDecision, str | None]:
    """Apply ``decision`` to column ``s``.

    Returns the new column, the decision as applied (a number column whose values
    the file reader cannot parse stays text) and an extra note.
    ``reparse(name, tokens)`` parses the column again with ``tokens`` as missing,
    with pandas' own number parser, so floats are the ones ``read_csv`` gives.
    """
    aside = list(decision.missing)
    missing = s.isna() | s.isin(aside)
    if decision.kind == "text":
        return (s.mask(s.isin(aside)) if aside else s), decision, None
    if decision.kind == "integer":
        out, note = exact_integers(name, s, missing)
        return out, decision, note
    if decision.kind == "date":
        out = s.mask(missing)
        others = out.dropna()
        if len(others) and not others.map(lambda v: isinstance(v, str)).any():
            out = pd.to_datetime(out)
        return out, decision, None
    out = reparse(name, aside)
    if decision.kind == "number" and not pd.api.types.is_numeric_dtype(out.dtype):
        codes = {k: n for k, n in decision.missing.items() if k not in NA_TOKENS}
        tokens = {k: n for k, n in decision.missing.items() if k in NA_TOKENS}
        text = TextDecision("text", missing=codes, kept=tokens)
        return s.mask(s.isin(list(codes))), text, "kept as text: not every number could be parsed"
    return out, decision, None
