"""Read a REDCap records export together with its data dictionary.

REDCap (Research Electronic Data Capture) exports records as CSV ("raw" codes) and
describes every field in a data dictionary CSV with the columns ``Variable / Field
Name``, ``Form Name``, ``Section Header``, ``Field Type``, ``Field Label``,
``Choices, Calculations, OR Slider Labels``, ``Field Note``, ``Text Validation Type
OR Show Slider Number``, ``Text Validation Min``, ``Text Validation Max``, ... (the
snake_case names of the API metadata export, ``field_name``, ``form_name``,
``field_type``, ``field_label``, ``select_choices_or_calculations``,
``text_validation_type_or_show_slider_number``, are accepted too).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .._validation import close_matches
from ..errors import ArgumentTypeError, ColumnNotFoundError, DataValidationError, FileFormatError
from ._formats import check_path
from ._missing import check_strict_labels, to_categoricals
from ._text_files import default_index, ragged_error
from ._textcols import (
    NA_TOKENS,
    Kind,
    TextDecision,
    classify_text,
    exact_integers,
    is_identifier_name,
    token_note,
)
from .codebook import Code, Codebook, Variable, normalize_code, set_codebook

__all__ = ["read_redcap", "parse_choices"]

_DICT_COLUMNS = {
    "field_name": ("Variable / Field Name", "field_name"),
    "form_name": ("Form Name", "form_name"),
    "field_type": ("Field Type", "field_type"),
    "field_label": ("Field Label", "field_label"),
    "choices": ("Choices, Calculations, OR Slider Labels", "select_choices_or_calculations"),
    "validation": (
        "Text Validation Type OR Show Slider Number",
        "text_validation_type_or_show_slider_number",
    ),
}
_REQUIRED = ("field_name", "form_name", "field_type", "field_label")

_SYSTEM_FIELDS = {
    "redcap_event_name": ("Event", "nominal"),
    "redcap_repeat_instrument": ("Repeat instrument", "nominal"),
    "redcap_repeat_instance": ("Repeat instance", "scale"),
    "redcap_data_access_group": ("Data access group", "nominal"),
    "redcap_survey_identifier": ("Survey identifier", "nominal"),
    "redcap_arm": ("Arm", "nominal"),
}
_COMPLETE_LABELS = {0: "Incomplete", 1: "Unverified", 2: "Complete"}
_NUMERIC_VALIDATION = re.compile(r"^(integer|number.*|float)$")
_DATE_VALIDATION = re.compile(r"^(date|datetime)_.*$")
_CHOICE_SPLIT = re.compile(r"\s*\|\s*")
_INT_TEXT = re.compile(r"^\s*[+-]?\d+\s*$")


def parse_choices(text: str) -> dict[Code, str]:
    """Parse a REDCap choices string ``"1, Yes | 0, No"`` into ``{code: label}``.

    Codes that are integers become ints; a label may itself contain commas.

    Examples
    --------
    >>> parse_choices("1, Open meeting | 2, Closed meeting | 3, Step study, weekly")
    {1: 'Open meeting', 2: 'Closed meeting', 3: 'Step study, weekly'}
    >>> parse_choices("A, Sponsor | B, Home group")
    {'A': 'Sponsor', 'B': 'Home group'}
    """
    out: dict[Code, str] = {}
    if not isinstance(text, str) or not text.strip():
        return out
    for part in _CHOICE_SPLIT.split(text.strip()):
        if not part:
            continue
        code, sep, label = part.partition(",")
        if not sep:
            raise FileFormatError(f"REDCap choice {part!r} has no 'code, label' form.")
        code = code.strip()
        out[_code(code)] = label.strip()
    return out


def _code(text: str) -> Code:
    t = text.strip()
    if re.fullmatch(r"[+-]?\d+", t):
        return int(t)
    try:
        return normalize_code(float(t))
    except ValueError:
        return t


def _checkbox_column(field: str, code: Code) -> str:
    return f"{field}___{re.sub(r'[^0-9a-z_]', '_', str(code).lower())}"


def _read_header(p: Path, encoding: str | None) -> list[str]:
    try:
        with open(p, encoding=encoding or "utf-8-sig", newline="") as fh:
            row = next(csv.reader(fh), None)
    except UnicodeDecodeError as err:
        raise FileFormatError(
            f"Could not decode '{p}' with encoding {encoding or 'utf-8'!r}; pass `encoding`."
        ) from err
    if not row:
        raise FileFormatError(f"'{p}' is empty: it has no header row.")
    row[0] = row[0].lstrip("\ufeff")
    seen: dict[str, int] = {}
    for c in row:
        seen[c] = seen.get(c, 0) + 1
    dup = [f"'{k}' ({n} times)" for k, n in seen.items() if n > 1]
    if dup:
        raise DataValidationError(f"'{p}' has duplicate column names: {', '.join(dup)}.")
    return row


def _read_strings(p: Path, encoding: str | None, width: int | None = None) -> pd.DataFrame:
    """Every cell as text, only empty cells missing; rows longer than the header raise."""
    enc = encoding or "utf-8-sig"
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], encoding=enc)
    except Exception as err:
        ragged = ragged_error(p, "csv", enc, width) if width else None
        if ragged is not None:
            raise ragged from err
        raise FileFormatError(
            f"Could not read '{p}' as CSV ({type(err).__name__}: {err})."
        ) from err
    if width and (not default_index(df) or len(df.columns) != width):
        ragged = ragged_error(p, "csv", enc, width)
        if ragged is not None:
            raise ragged
    return df


def _read_dictionary(p: Path, encoding: str | None) -> pd.DataFrame:
    header = _read_header(p, encoding)
    raw = _read_strings(p, encoding).fillna("")
    rename = {}
    for key, names in _DICT_COLUMNS.items():
        for n in names:
            if n in header:
                rename[n] = key
                break
    missing = [_DICT_COLUMNS[k][0] for k in _REQUIRED if k not in rename.values()]
    if missing:
        raise FileFormatError(
            f"'{p}' is not a REDCap data dictionary: column(s) {missing} are missing "
            f"(found {header[:8]}{' ...' if len(header) > 8 else ''})."
        )
    d = raw.rename(columns=rename)
    for key in ("choices", "validation"):
        if key not in d.columns:
            d[key] = ""
    d = d[list(_DICT_COLUMNS)].copy()
    d = d.apply(lambda c: c.str.strip())
    d["field_type"] = d["field_type"].str.lower()
    d["validation"] = d["validation"].str.lower()
    dup = d["field_name"][d["field_name"].duplicated()].unique().tolist()
    if dup:
        raise FileFormatError(f"Data dictionary '{p}' defines field(s) {dup} more than once.")
    return d


def _missing_arg(
    missing_codes: Any, columns: Sequence[str], records: Path
) -> dict[str, list[Code]]:
    if missing_codes is None:
        return {}

    def as_list(v: Any, arg: str) -> list[Code]:
        if isinstance(v, (str, int, float)) and not isinstance(v, bool):
            return [normalize_code(v)]
        if isinstance(v, (list, tuple, set)):
            return [normalize_code(x) for x in v]
        raise ArgumentTypeError(f"`{arg}` must be a list of codes; got {type(v).__name__}.")

    if isinstance(missing_codes, Mapping):
        unknown = [k for k in missing_codes if k not in set(columns)]
        if unknown:
            hints = [f"{s!r} for {k!r}" for k in unknown for s in close_matches(k, columns)[:1]]
            raise ColumnNotFoundError(
                f"`missing_codes` names {unknown}, not columns of '{records}'."
                + (" Did you mean " + "; ".join(hints) + "?" if hints else "")
            )
        return {k: as_list(v, f"missing_codes['{k}']") for k, v in missing_codes.items()}
    codes = as_list(missing_codes, "missing_codes")
    return {c: codes for c in columns}


def _bad_positions(mask: pd.Series) -> str:
    pos = [int(i) + 1 for i in mask.to_numpy().nonzero()[0][:5]]
    more = ", ..." if int(mask.sum()) > 5 else ""
    return ", ".join(map(str, pos)) + more


def read_redcap(
    records_csv: str | os.PathLike[str],
    dictionary_csv: str | os.PathLike[str],
    *,
    missing_codes: Sequence[Code] | Mapping[str, Sequence[Code]] | None = None,
    strict_labels: bool = False,
    convert_categoricals: bool = False,
    encoding: str | None = None,
) -> pd.DataFrame:
    r"""Read a REDCap records export (raw codes) and its data dictionary.

    Parameters
    ----------
    records_csv : str or os.PathLike
        The records export ("CSV / Microsoft Excel (raw data)").
    dictionary_csv : str or os.PathLike
        The project's data dictionary CSV.
    missing_codes : list or dict, optional
        Codes meaning missing (e.g. REDCap missing-data codes ``["UNK", "NASK"]`` or
        sentinels ``[-9, 99]``), for every field (list) or per field (dict). Matching
        values become NaN and are counted in the codebook.
    strict_labels : bool, default False
        Raise if a dropdown/radio/yes-no value is not one of its choices.
    convert_categoricals : bool, default False
        Replace choice codes by their labels (pandas Categoricals).
    encoding : str, optional
        Encoding of both files (default UTF-8, with or without byte-order mark).

    Returns
    -------
    pandas.DataFrame
        One row per row of the export, in long form (events and repeating
        instruments as rows, identified by ``redcap_event_name``,
        ``redcap_repeat_instrument`` and ``redcap_repeat_instance``), with a
        :class:`Codebook` attached: field labels as variable labels, choices as
        value labels, checkbox columns ``field___code`` as 0/1 variables labelled
        ``"Field label: choice label"``.

    Raises
    ------
    DataFileNotFoundError
        If a file does not exist.
    FileFormatError
        If the dictionary lacks the REDCap columns or a file cannot be parsed.
    DataValidationError
        If the export's columns do not match the dictionary (both lists are
        given), a numeric or date field holds values that are neither numbers nor
        declared missing codes (rows are given by position), a file has duplicate
        column names, or ``strict_labels`` finds values outside the choices.

    Notes
    -----
    Types follow the dictionary: ``dropdown``, ``radio``, ``yesno`` (1 Yes, 0 No),
    ``truefalse`` (1 True, 0 False), ``checkbox``, ``calc``, ``slider`` and text
    fields validated as integer or number are numeric; ``date_*``/``datetime_*``
    fields are datetimes; other text is kept as text (the record id becomes an
    integer when every id is a plain integer without leading zeros). Form-status
    fields ``<form>_complete`` get the labels 0 Incomplete, 1 Unverified,
    2 Complete. Descriptive fields hold no data and are ignored. Checkbox columns
    are matched case-insensitively, with characters other than letters, digits and
    ``_`` in codes replaced by ``_``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from mutualaid_outcomes.io import get_codebook
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "dict.csv").write_text(
    ...     '"Variable / Field Name","Form Name","Field Type","Field Label",'
    ...     '"Choices, Calculations, OR Slider Labels"\n'
    ...     'record_id,intake,text,Record ID,\n'
    ...     'sex,intake,radio,Sex,"0, Male | 1, Female"\n'
    ...     'support,intake,checkbox,Recovery supports,"1, Sponsor | 2, Home group"\n')
    >>> _ = (tmp / "rec.csv").write_text(
    ...     "record_id,sex,support___1,support___2,intake_complete\n1,0,1,0,2\n2,1,1,1,2\n")
    >>> df = read_redcap(tmp / "rec.csv", tmp / "dict.csv")
    >>> cb = get_codebook(df)
    >>> cb.value_labels("sex"), cb.label("support___2")
    ({0: 'Male', 1: 'Female'}, 'Recovery supports: Home group')
    """
    rec_p = check_path(records_csv, "records_csv")
    dict_p = check_path(dictionary_csv, "dictionary_csv")
    for name, flag in (
        ("strict_labels", strict_labels),
        ("convert_categoricals", convert_categoricals),
    ):
        if not isinstance(flag, bool):
            raise ArgumentTypeError(f"`{name}` must be True or False; got {flag!r}.")
    dd = _read_dictionary(dict_p, encoding)
    header = _read_header(rec_p, encoding)
    raw = _read_strings(rec_p, encoding, len(header))
    expected, record_id = _expected_columns(dd, header, rec_p, dict_p)
    missing_by_col = _missing_arg(missing_codes, header, rec_p)

    columns: dict[str, pd.Series] = {}
    variables: list[Variable] = []
    problems: list[str] = []
    for col in header:
        spec = _field_spec(col, expected.get(col.lower()), record_id)
        codes = missing_by_col.get(col, [])
        s, counts, notes, problem = _convert_field(col, raw[col], spec["kind"], codes)
        if problem:
            problems.append(problem)
        columns[col] = s
        variables.append(
            Variable(
                name=col,
                label=spec["label"],
                value_labels=spec["value_labels"],
                missing_codes=tuple(codes) + tuple(k for k in counts if k not in codes),
                measurement=spec["measurement"],
                missing_counts=counts,
                read_notes=tuple(notes),
            )
        )
    if problems:
        raise DataValidationError(
            f"'{rec_p}': " + "; ".join(problems) + ". Export raw codes (not labels) and declare "
            "missing-data codes such as 'UNK' in `missing_codes`."
        )
    df = pd.DataFrame(columns, index=raw.index)
    cb = Codebook([v.replace(dtype=str(df[v.name].dtype)) for v in variables])
    if strict_labels:
        check_strict_labels(df, cb, str(rec_p))
    if convert_categoricals:
        df = to_categoricals(df, cb, str(rec_p))
    return set_codebook(df, cb)


def _expected_columns(
    dd: pd.DataFrame, header: list[str], rec_p: Path, dict_p: Path
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """Columns the dictionary implies (lower-case name -> info), and the record id field.

    Raises DataValidationError when the export and the dictionary do not match.
    """
    forms = list(dict.fromkeys(f for f in dd["form_name"] if f))
    expected: dict[str, dict[str, Any]] = {}
    missing_fields: list[str] = []
    lower_cols = {c.lower(): c for c in header}
    record_id = dd["field_name"].iloc[0] if len(dd) else None
    for row in dd.itertuples(index=False):
        ftype = row.field_type
        if ftype == "descriptive":
            continue
        if ftype == "checkbox":
            choices = parse_choices(row.choices)
            if not choices:
                raise FileFormatError(
                    f"Checkbox field '{row.field_name}' in '{dict_p}' has no choices."
                )
            cols = {_checkbox_column(row.field_name, c): (c, lab) for c, lab in choices.items()}
            absent = [c for c in cols if c not in lower_cols]
            if len(absent) == len(cols):
                missing_fields.append(row.field_name)
            else:
                missing_fields.extend(absent)
            for col, (code, lab) in cols.items():
                expected[col] = {"kind": "checkbox", "row": row, "code": code, "choice": lab}
        else:
            expected[row.field_name.lower()] = {"kind": "field", "row": row}
            if row.field_name.lower() not in lower_cols:
                missing_fields.append(row.field_name)
    for form in forms:
        expected.setdefault(f"{form}_complete".lower(), {"kind": "complete", "form": form})
        expected.setdefault(f"{form}_timestamp".lower(), {"kind": "timestamp", "form": form})
    extra = [c for c in header if c.lower() not in expected and c.lower() not in _SYSTEM_FIELDS]
    if extra or missing_fields:
        parts = []
        if extra:
            parts.append(f"columns of '{rec_p}' not in the dictionary: {extra}")
        if missing_fields:
            parts.append(f"fields of '{dict_p}' missing from the records: {missing_fields}")
        raise DataValidationError(
            "The REDCap export does not match its data dictionary; "
            + "; ".join(parts)
            + ". Export the records and the dictionary of the same project version, "
            "with all instruments."
        )
    return expected, record_id


def _field_spec(col: str, info: dict[str, Any] | None, record_id: str | None) -> dict[str, Any]:
    """Label, value labels, measurement and kind (number, datetime, id, text) of a column."""
    spec: dict[str, Any] = {
        "label": None,
        "value_labels": {},
        "measurement": "nominal",
        "kind": "text",
    }
    if col.lower() in _SYSTEM_FIELDS:
        spec["label"], spec["measurement"] = _SYSTEM_FIELDS[col.lower()]
        spec["kind"] = "number" if col.lower() == "redcap_repeat_instance" else "text"
    elif info is None:  # pragma: no cover - excluded by the match check
        pass
    elif info["kind"] == "checkbox":
        spec["label"] = f"{info['row'].field_label}: {info['choice']}"
        spec["value_labels"] = {0: "Unchecked", 1: "Checked"}
        spec["kind"] = "number"
    elif info["kind"] == "complete":
        spec.update(
            label=f"{info['form']} complete?",
            value_labels=dict(_COMPLETE_LABELS),
            kind="number",
            measurement="ordinal",
        )
    elif info["kind"] == "timestamp":
        spec.update(label=f"{info['form']} survey timestamp", kind="datetime", measurement="scale")
    else:
        spec.update(_dictionary_field(info["row"], col == record_id))
    return spec


def _dictionary_field(row: Any, is_record_id: bool) -> dict[str, Any]:
    """The spec of a field the dictionary describes, from its type and validation."""
    out: dict[str, Any] = {"label": row.field_label or None}
    ftype = row.field_type
    if ftype in ("dropdown", "radio"):
        labels = parse_choices(row.choices)
        numeric = all(not isinstance(k, str) for k in labels)
        out.update(
            value_labels=labels,
            kind="number" if numeric else "text",
            measurement="nominal" if len(labels) <= 3 else "ordinal",
        )
    elif ftype == "yesno":
        out.update(value_labels={1: "Yes", 0: "No"}, kind="number")
    elif ftype == "truefalse":
        out.update(value_labels={1: "True", 0: "False"}, kind="number")
    elif ftype in ("calc", "slider"):
        out.update(kind="number", measurement="scale")
    elif ftype == "text" and _NUMERIC_VALIDATION.match(row.validation):
        kind = "integer" if row.validation == "integer" else "number"
        out.update(kind=kind, measurement="scale")
    elif ftype == "text" and _DATE_VALIDATION.match(row.validation):
        out.update(kind="datetime", measurement="scale")
    elif is_record_id:
        out["kind"] = "id"
    return out


def _convert_field(
    col: str, s: pd.Series, kind: str, codes: Sequence[Code]
) -> tuple[pd.Series, dict[Code, int], list[str], str | None]:
    """Set missing codes and tokens aside, then convert one column of text.

    Text codes (``"UNK"``) are matched on the text; numeric codes (``-9``) on the
    converted numbers of number fields (so ``"-9.0"`` matches too) and on the text
    of text fields. NA-like tokens are missing in number and date fields only.
    Returns the column, the codes found, notes for the codebook and a problem.
    """
    text_codes = [c for c in codes if isinstance(c, str)]
    num_codes: list[Code] = [c for c in codes if not isinstance(c, str)]
    counts: dict[Code, int] = {c: int((s == c).sum()) for c in text_codes}
    s = s.mask(s.isin(text_codes))
    if kind in ("text", "id") or not num_codes:
        for c in num_codes:
            counts[c] = int((s == str(c)).sum())
        s = s.mask(s.isin([str(c) for c in num_codes]))
    notes: list[str] = []
    if kind == "id":
        decision = classify_text(s)
        if decision.kind == "integer":
            missing = s.isna() | s.isin(list(decision.missing))
            out, note = exact_integers(col, s, missing, identifier=True)
            counts.update(decision.missing)
            notes = [n for n in (token_note(col, decision), note) if n]
            return out, counts, notes, None
    if kind in ("text", "id"):
        return s, counts, notes, None
    present = s.dropna()
    tokens = {str(k): int(n) for k, n in present[present.isin(NA_TOKENS)].value_counts().items()}
    if tokens:
        what: Kind = "date" if kind == "datetime" else "number"
        notes.append(token_note(col, TextDecision(what, missing=tokens)) or "")
        counts.update(tokens)
        s = s.mask(s.isin(list(tokens)))
    return _convert_values(col, s, kind, num_codes, counts, notes)


def _convert_values(
    col: str,
    s: pd.Series,
    kind: str,
    num_codes: list[Code],
    counts: dict[Code, int],
    notes: list[str],
) -> tuple[pd.Series, dict[Code, int], list[str], str | None]:
    """Convert a number, integer or date field; numeric codes apply to the numbers."""
    if kind == "datetime":
        conv = pd.to_datetime(s, errors="coerce", format="ISO8601")
    else:
        conv = pd.to_numeric(s, errors="coerce")
    bad = s.notna() & conv.isna()
    problem = None
    if bad.any():
        what = "numbers" if kind != "datetime" else "dates (YYYY-MM-DD)"
        problem = f"'{col}': {int(bad.sum())} value(s) are not {what} (rows {_bad_positions(bad)})"
        return s, counts, notes, problem
    if kind == "datetime":
        return conv, counts, notes, None
    is_int = s.dropna().map(lambda v: bool(_INT_TEXT.match(str(v)))).all()
    if (kind == "integer" or is_identifier_name(col)) and is_int:
        out, note = exact_integers(col, s, s.isna())
        if note:
            notes.append(note)
    else:
        out = conv.astype(float)
    for c in num_codes:
        hit = (out == c).fillna(False).astype(bool)
        counts[c] = int(hit.sum())
        out = out.mask(hit)
    return out, counts, notes, problem
