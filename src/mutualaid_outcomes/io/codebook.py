"""The codebook: variable labels, value labels, missing-value declarations, measurement.

A :class:`Codebook` describes the variables of one data set. :func:`read_data` builds
it from the file's own metadata (SPSS, Stata, SAS), from a ``<name>.codebook.json``
sidecar (CSV, TSV, Parquet, Excel) or from the declared ``missing_codes``, and
attaches it to the returned frame under ``df.attrs["mutualaid_codebook"]``.
:func:`get_codebook` retrieves it; :func:`set_codebook` attaches one to a new frame.

A codebook is immutable. Its content is kept in the JSON form given by
:meth:`Codebook.to_dict` (so that ``DataFrame.to_parquet`` can store the frame's
``attrs``); read it through the methods (:meth:`Codebook.label`,
:meth:`Codebook.variable`, ...) rather than by key.

Examples
--------
>>> import pandas as pd
>>> from mutualaid_outcomes.io import Codebook, Variable, get_codebook, set_codebook
>>> cb = Codebook([Variable("sex", label="Sex", value_labels={0: "male", 1: "female"},
...                         measurement="nominal")])
>>> df = set_codebook(pd.DataFrame({"sex": [0, 1, 1]}), cb)
>>> get_codebook(df).label("sex"), get_codebook(df).value_labels("sex")
('Sex', {0: 'male', 1: 'female'})
>>> get_codebook(df).label("age")  # not described: falls back to the name
'age'
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import pandas as pd

from .._validation import as_column_list, check_dataframe, close_matches
from ..errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataFileNotFoundError,
    DataValidationError,
    FileFormatError,
)
from ._variable import (  # the value codes and Variable, re-exported here
    MEASUREMENTS,
    Code,
    Measurement,
    Variable,
    _FrozenDict,
)
from ._variable import code_from_str as code_from_str
from ._variable import code_to_str as code_to_str
from ._variable import normalize_code as normalize_code

__all__ = [
    "CODEBOOK_ATTR",
    "MEASUREMENTS",
    "Code",
    "Measurement",
    "Variable",
    "Codebook",
    "get_codebook",
    "set_codebook",
    "infer_codebook",
]

#: Key of ``DataFrame.attrs`` under which the codebook is attached.
CODEBOOK_ATTR = "mutualaid_codebook"


class Codebook(dict[str, Any]):  # the JSON form {'variables': {...}}, for display
    """An immutable description of the variables of a data set.

    Parameters
    ----------
    variables : iterable of Variable, or mapping of name to Variable
        The variables, in column order.
    inferred : bool, default False
        ``True`` when the codebook was guessed from the data's dtypes
        (:func:`infer_codebook`) rather than read from a file or written by someone.

    Notes
    -----
    The object is a read-only ``dict`` holding the JSON form of
    :meth:`to_dict` (``{"variables": {...}}``), so that pandas can serialise the
    ``attrs`` of a frame that carries it. Use the methods to read it;
    ``name in codebook``, ``len(codebook)`` and ``iter(codebook)`` refer to variables.

    Examples
    --------
    >>> cb = Codebook([Variable("sex", "Sex", {0: "male", 1: "female"}, measurement="nominal"),
    ...                Variable("ddd", "Drinks per drinking day", missing_codes=(-9,))])
    >>> cb.names, "sex" in cb, len(cb)
    (['sex', 'ddd'], True, 2)
    >>> cb.to_frame()[["variable", "label", "measurement"]]
      variable                    label measurement
    0      sex                      Sex     nominal
    1      ddd  Drinks per drinking day       scale
    >>> Codebook.from_dict(cb.to_dict()) == cb
    True
    """

    __slots__ = ("_variables", "_inferred")

    def __init__(
        self,
        variables: Iterable[Variable] | Mapping[str, Variable] = (),
        *,
        inferred: bool = False,
    ) -> None:
        if isinstance(variables, Mapping):
            items = list(variables.values())
        elif isinstance(variables, (str, bytes)) or not isinstance(variables, Iterable):
            raise ArgumentTypeError(
                "`variables` must be an iterable of Variable objects; "
                f"got {type(variables).__name__}."
            )
        else:
            items = list(variables)
        vars_: dict[str, Variable] = {}
        for v in items:
            if not isinstance(v, Variable):
                raise ArgumentTypeError(
                    f"`variables` must contain Variable objects; got {type(v).__name__}."
                )
            if v.name in vars_:
                raise DataValidationError(f"The codebook describes '{v.name}' twice.")
            vars_[v.name] = v
        dict.__init__(self, variables={k: v.to_dict() for k, v in vars_.items()})
        self._variables = _FrozenDict(vars_)
        self._inferred = bool(inferred)

    # -- read-only dict -------------------------------------------------------------
    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("A Codebook is immutable; use .replace(), .merge() or .subset().")

    __setitem__ = __delitem__ = _readonly
    clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_codebook, (self._content(), self._inferred))

    def __copy__(self) -> Codebook:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Codebook:
        return self

    def __contains__(self, name: object) -> bool:
        return name in self._variables

    def __iter__(self) -> Iterator[str]:
        return iter(self._variables)

    def __len__(self) -> int:
        return len(self._variables)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Codebook):
            return self._variables == other._variables
        return dict.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __repr__(self) -> str:
        kind = "inferred " if self._inferred else ""
        shown = ", ".join(self.names[:6]) + (", ..." if len(self) > 6 else "")
        return f"<{kind}Codebook: {len(self)} variables ({shown})>"

    def _content(self) -> dict[str, Any]:
        return dict(dict.items(self))

    # -- access ---------------------------------------------------------------------
    @property
    def variables(self) -> Mapping[str, Variable]:
        """Read-only mapping of name to :class:`Variable`, in column order."""
        return self._variables

    @property
    def names(self) -> list[str]:
        """Variable names in order."""
        return list(self._variables)

    @property
    def inferred(self) -> bool:
        """Whether the codebook was guessed from dtypes rather than declared."""
        return self._inferred

    def variable(self, name: str) -> Variable:
        """Return the :class:`Variable` called ``name``.

        Raises
        ------
        ColumnNotFoundError
            If the codebook does not describe ``name`` (with close-match suggestions).
        """
        try:
            return self._variables[name]
        except (KeyError, TypeError):
            raise ColumnNotFoundError(_not_described([name], self.names)) from None

    def get(self, name: str, default: Any = None) -> Any:
        """Return the :class:`Variable` called ``name``, or ``default``."""
        return self._variables.get(name, default)

    def label(self, var: str) -> str:
        """Variable label of ``var``; its name when it has no label or is not described.

        Examples
        --------
        >>> Codebook([Variable("aa_meetings", "AA meetings (90 days)")]).label("aa_meetings")
        'AA meetings (90 days)'
        """
        v = self._variables.get(var)
        if v is None or not v.label:
            return str(var)
        return v.label

    def labels(self, columns: Sequence[str] | None = None) -> dict[str, str]:
        """``{name: label}`` for ``columns`` (default: every variable), names as fallback."""
        cols = self.names if columns is None else as_column_list(columns, "columns")
        return {c: self.label(c) for c in cols}

    def value_labels(self, var: str) -> dict[Code, str]:
        """``{code: label}`` for ``var`` (a new dict; empty when there are none)."""
        v = self._variables.get(var)
        return {} if v is None else dict(v.value_labels)

    def measurement(self, var: str) -> str:
        """Measurement level of ``var`` (``"scale"`` when not described)."""
        v = self._variables.get(var)
        return "scale" if v is None else v.measurement

    def missing_counts(self, var: str) -> dict[Code, int]:
        """``{code: count}`` of missing codes found in ``var`` when it was read."""
        v = self._variables.get(var)
        return {} if v is None else dict(v.missing_counts)

    # -- derived codebooks ----------------------------------------------------------
    def subset(self, columns: str | Sequence[str]) -> Codebook:
        """A codebook with only ``columns``, in that order.

        Raises
        ------
        ColumnNotFoundError
            If a name is not described, with close-match suggestions.
        """
        cols = as_column_list(columns, "columns")
        unknown = [c for c in cols if c not in self._variables]
        if unknown:
            raise ColumnNotFoundError(_not_described(unknown, self.names))
        return Codebook([self._variables[c] for c in cols], inferred=self._inferred)

    def replace(self, name: str, **changes: Any) -> Codebook:
        """A codebook in which variable ``name`` has some fields changed.

        Examples
        --------
        >>> cb = Codebook([Variable("x")]).replace("x", label="Exposure")
        >>> cb.label("x")
        'Exposure'
        """
        var = self.variable(name).replace(**changes)
        return Codebook(
            [var if k == name else v for k, v in self._variables.items()],
            inferred=self._inferred,
        )

    def merge(self, other: Codebook | Iterable[Variable]) -> Codebook:
        """A codebook with the variables of ``other`` added (replacing same-named ones)."""
        if isinstance(other, Codebook):
            new = dict(other.variables)
        else:
            new = {v.name: v for v in other}
        out = dict(self._variables)
        out.update(new)
        inferred = self._inferred and (other.inferred if isinstance(other, Codebook) else False)
        return Codebook(list(out.values()), inferred=inferred)

    def to_frame(self) -> pd.DataFrame:
        """One row per variable, as a DataFrame.

        Columns: variable, label, measurement, dtype, value_labels, missing_codes,
        missing_ranges, missing_counts, read_notes (the last five hold Python objects).
        """
        rows = [
            {
                "variable": v.name,
                "label": v.label,
                "measurement": v.measurement,
                "dtype": v.dtype,
                "value_labels": dict(v.value_labels),
                "missing_codes": list(v.missing_codes),
                "missing_ranges": list(v.missing_ranges),
                "missing_counts": dict(v.missing_counts),
                "read_notes": list(v.read_notes),
            }
            for v in self._variables.values()
        ]
        cols = [
            "variable",
            "label",
            "measurement",
            "dtype",
            "value_labels",
            "missing_codes",
            "missing_ranges",
            "missing_counts",
            "read_notes",
        ]
        return pd.DataFrame(rows, columns=cols)

    # -- serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The JSON form.

        ``{"variables": {name: {"label": str | None, "value_labels": {code: label},
        "missing_codes": [...], "missing_ranges": [[lo, hi], ...], "measurement":
        "nominal" | "ordinal" | "scale", "missing_counts": {code: int}, "dtype": str,
        "read_notes": [str, ...]}}}`` with codes written as strings in keys. ``dtype``
        and ``read_notes`` are optional (``read_notes`` is written only when there are notes).
        """
        return json.loads(json.dumps(self._content()))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Codebook:
        """Build a codebook from :meth:`to_dict` output (keys other than ``label`` optional).

        Raises
        ------
        FileFormatError
            If ``data`` does not have the ``{"variables": {...}}`` layout.
        """
        if isinstance(data, Codebook):
            return data
        if not isinstance(data, Mapping) or not isinstance(data.get("variables"), Mapping):
            raise FileFormatError(
                'A codebook must be a mapping {"variables": {name: {"label": ..., ...}}}; '
                f"got {type(data).__name__} with keys {list(data)[:5] if isinstance(data, Mapping) else []}."
            )
        return cls([Variable.from_dict(k, v) for k, v in data["variables"].items()])

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON form to ``path`` (UTF-8, indented) and return the path."""
        p = Path(path)
        p.write_text(
            json.dumps(self._content(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return p

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> Codebook:
        """Read a codebook written by :meth:`to_json` (or by hand in the same layout).

        Raises
        ------
        DataFileNotFoundError
            If the file does not exist.
        FileFormatError
            If it is not valid JSON in the codebook layout.
        """
        p = Path(path)
        if not p.is_file():
            raise DataFileNotFoundError(f"Codebook file '{p}' does not exist.")
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise FileFormatError(f"Codebook file '{p}' is not valid JSON: {err}") from err
        try:
            return cls.from_dict(data)
        except FileFormatError as err:
            raise FileFormatError(f"Codebook file '{p}': {err}") from err


def _rebuild_codebook(data: dict[str, Any], inferred: bool) -> Codebook:
    cb = Codebook.from_dict(data)
    return Codebook(list(cb.variables.values()), inferred=inferred) if inferred else cb


def _not_described(names: Sequence[str], present: Sequence[str]) -> str:
    text = f"The codebook does not describe {', '.join(repr(n) for n in names)}."
    hints = [f"{s!r} for {n!r}" for n in names[:10] for s in close_matches(str(n), present)[:1]]
    if hints:
        text += " Did you mean " + "; ".join(hints) + "?"
    return text


def guess_measurement(series: pd.Series, value_labels: Mapping[Code, str] | None = None) -> str:
    """Guess a measurement level from a column's dtype and values.

    Rules: booleans, strings and unordered categoricals are nominal; ordered
    categoricals ordinal; dates scale. A numeric column with value labels is
    nominal if it has at most three labelled codes and ordinal otherwise (rating
    scales); without labels it is nominal if it holds at most two distinct integer
    values and scale otherwise.

    Examples
    --------
    >>> guess_measurement(pd.Series([0, 1, 1])), guess_measurement(pd.Series([1.5, 2.0, 7.0]))
    ('nominal', 'scale')
    >>> guess_measurement(pd.Series([1, 2, 5]), {1: "never", 2: "rarely", 3: "sometimes",
    ...                                          4: "often", 5: "always"})
    'ordinal'
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "ordinal" if dtype.ordered else "nominal"
    if pd.api.types.is_bool_dtype(dtype):
        return "nominal"
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return "scale"
    if not pd.api.types.is_numeric_dtype(dtype):
        return "nominal"
    if value_labels:
        return "nominal" if len(value_labels) <= 3 else "ordinal"
    arr = series.to_numpy(dtype=float, na_value=np.nan)
    arr = arr[~np.isnan(arr)]
    if len(arr) == 0:
        return "scale"
    lo, hi = arr.min(), arr.max()
    two_values = lo == hi or bool(np.all((arr == lo) | (arr == hi)))
    if two_values and float(lo).is_integer() and float(hi).is_integer():
        return "nominal"
    return "scale"


def infer_codebook(data: pd.DataFrame) -> Codebook:
    """Guess a codebook from a frame's dtypes (no labels; measurement guessed).

    The result has ``inferred=True``. Categorical columns get value labels
    ``{category: category}``.

    Examples
    --------
    >>> cb = infer_codebook(pd.DataFrame({"arm": ["TSF", "CBT"], "pda": [0.5, 0.9]}))
    >>> cb.inferred, cb.measurement("arm"), cb.measurement("pda")
    (True, 'nominal', 'scale')
    """
    check_dataframe(data, "data", allow_empty=True)
    return Codebook(
        [
            Variable(
                name=str(col),
                measurement=guess_measurement(data[col]),  # type: ignore[arg-type]
                dtype=str(data[col].dtype),
            )
            for col in data.columns
        ],
        inferred=True,
    )


def get_codebook(data: pd.DataFrame) -> Codebook:
    """Return the codebook attached to ``data``, or one inferred from its dtypes.

    Parameters
    ----------
    data : pandas.DataFrame
        A frame, usually from :func:`read_data` or :func:`set_codebook`.

    Returns
    -------
    Codebook
        The attached codebook; if none is attached, :func:`infer_codebook(data)
        <infer_codebook>` (its ``inferred`` attribute is ``True``). A codebook stored
        as a plain dict (e.g. restored by ``pandas.read_parquet``) is converted.

    Raises
    ------
    ArgumentTypeError
        If ``data`` is not a DataFrame.

    Examples
    --------
    >>> get_codebook(pd.DataFrame({"x": [1.0, 2.5]})).inferred
    True
    """
    check_dataframe(data, "data", allow_empty=True)
    cb = data.attrs.get(CODEBOOK_ATTR)
    if isinstance(cb, Codebook):
        return cb
    if isinstance(cb, Mapping):
        try:
            return Codebook.from_dict(cb)
        except (FileFormatError, DataValidationError, ArgumentTypeError, ValueError):
            pass
    return infer_codebook(data)


def set_codebook(data: pd.DataFrame, codebook: Codebook | Mapping[str, Any]) -> pd.DataFrame:
    """Return a new frame (shallow copy of ``data``) with ``codebook`` attached.

    Parameters
    ----------
    data : pandas.DataFrame
        The frame; it is not modified.
    codebook : Codebook or dict
        A :class:`Codebook` or its :meth:`~Codebook.to_dict` form.

    Returns
    -------
    pandas.DataFrame
        A shallow copy whose ``attrs["mutualaid_codebook"]`` is the codebook.

    Raises
    ------
    ArgumentTypeError
        If ``data`` is not a DataFrame or ``codebook`` is not a codebook.

    Examples
    --------
    >>> df = pd.DataFrame({"x": [1, 2]})
    >>> out = set_codebook(df, Codebook([Variable("x", "Exposure")]))
    >>> CODEBOOK_ATTR in df.attrs, get_codebook(out).label("x")
    (False, 'Exposure')
    """
    check_dataframe(data, "data", allow_empty=True)
    if not isinstance(codebook, Codebook):
        if isinstance(codebook, Mapping):
            codebook = Codebook.from_dict(codebook)
        else:
            raise ArgumentTypeError(
                f"`codebook` must be a Codebook; got {type(codebook).__name__}."
            )
    out = data.copy(deep=False)
    out.attrs = {**data.attrs, CODEBOOK_ATTR: codebook}
    return out


@overload
def as_codebook(codebook: Any, data: pd.DataFrame) -> Codebook: ...
@overload
def as_codebook(codebook: Any, data: None = None) -> Codebook | None: ...
def as_codebook(codebook: Any, data: pd.DataFrame | None = None) -> Codebook | None:
    """Turn a ``codebook=`` argument into a :class:`Codebook`.

    Accepts a Codebook, its dict form or the path of a codebook JSON file. ``None``
    gives the codebook attached to ``data`` (inferred when none is attached) or,
    without ``data``, ``None``.

    Examples
    --------
    >>> as_codebook({"variables": {"x": {"label": "Exposure"}}}).label("x")
    'Exposure'
    """
    if codebook is None:
        return get_codebook(data) if data is not None else None
    if isinstance(codebook, Codebook):
        return codebook
    if isinstance(codebook, Mapping):
        return Codebook.from_dict(codebook)
    if isinstance(codebook, (str, os.PathLike)):
        return Codebook.from_json(codebook)
    raise ArgumentTypeError(
        "`codebook` must be a Codebook, its dict form, the path of a codebook JSON file "
        f"or None; got {type(codebook).__name__}."
    )
