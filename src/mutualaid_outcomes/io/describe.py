"""A codebook summary of a data frame (no participant values, only counts and labels)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .._validation import check_dataframe
from .codebook import Codebook, as_codebook, code_to_str, guess_measurement

__all__ = ["describe_data", "DESCRIBE_COLUMNS"]

#: Columns of the frame returned by :func:`describe_data`.
DESCRIBE_COLUMNS: tuple[str, ...] = (
    "variable",
    "label",
    "type",
    "measurement",
    "n",
    "n_missing",
    "value_labels",
    "missing_codes",
    "missing_codes_found",
    "read_notes",
)


def _fmt_number(x: float) -> str:
    return code_to_str(x)


def describe_data(
    data: pd.DataFrame,
    *,
    codebook: Codebook | Mapping[str, Any] | str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Summarise each column: label, type, counts, value labels and missing codes found.

    Parameters
    ----------
    data : pandas.DataFrame
        The data (not modified).
    codebook : Codebook, dict or path, optional
        Default: the codebook attached to ``data`` (inferred if there is none).

    Returns
    -------
    pandas.DataFrame
        One row per column of ``data`` with the columns :data:`DESCRIBE_COLUMNS`:
        ``variable``, ``label`` (the name when unlabelled), ``type`` (pandas dtype),
        ``measurement``, ``n`` (non-missing values), ``n_missing``, ``value_labels``
        (``"0 = male; 1 = female"``), ``missing_codes`` (declared codes and ranges)
        ``missing_codes_found`` (``"99: 3; -9: 1"``, counts found when the data
        were read) and ``read_notes`` (how the reader decided missing tokens such as
        ``NA`` for the column, and how to override it).

    Raises
    ------
    ArgumentTypeError
        If ``data`` is not a DataFrame or ``codebook`` has the wrong type.

    Notes
    -----
    Only counts, labels and declared codes are shown, never data values.

    Examples
    --------
    >>> from mutualaid_outcomes.io import Codebook, Variable
    >>> df = pd.DataFrame({"sex": [0, 1, None], "pda": [0.5, 0.9, 1.0]})
    >>> cb = Codebook([Variable("sex", "Sex", {0: "male", 1: "female"}, missing_codes=(9,),
    ...                         measurement="nominal", missing_counts={9: 1})])
    >>> describe_data(df, codebook=cb)[["variable", "label", "n", "n_missing", "value_labels",
    ...                        "missing_codes_found"]]
      variable label  n  n_missing         value_labels missing_codes_found
    0      sex   Sex  2          1  0 = male; 1 = female                9: 1
    1      pda   pda  3          0
    """
    check_dataframe(data, "data", allow_empty=True)
    cb = as_codebook(codebook, data)
    n_missing = data.isna().sum()
    rows = []
    for col in data.columns:
        var = cb.get(col)
        s = data[col]
        if var is None:
            label, measurement, vl, declared, found = str(col), guess_measurement(s), "", "", ""
            notes = ""
        else:
            label = var.label or str(col)
            measurement = var.measurement
            vl = "; ".join(f"{code_to_str(k)} = {v}" for k, v in var.value_labels.items())
            parts = [code_to_str(c) for c in var.missing_codes]
            parts += [f"{_fmt_number(lo)} to {_fmt_number(hi)}" for lo, hi in var.missing_ranges]
            declared = ", ".join(parts)
            found = "; ".join(
                f"{code_to_str(k)}: {n}" for k, n in var.missing_counts.items() if n > 0
            )
            notes = "; ".join(var.read_notes)
        nm = int(n_missing[col])
        rows.append(
            {
                "variable": str(col),
                "label": label,
                "type": str(s.dtype),
                "measurement": measurement,
                "n": int(len(s) - nm),
                "n_missing": nm,
                "value_labels": vl,
                "missing_codes": declared,
                "missing_codes_found": found,
                "read_notes": notes,
            }
        )
    return pd.DataFrame(rows, columns=list(DESCRIBE_COLUMNS))
