"""Reading and writing labelled data: codebooks, readers, REDCap, writers, summaries.

:func:`read_data` and :func:`read_redcap` return a DataFrame with a :class:`Codebook`
attached (``get_codebook(df)``); :func:`write_data` writes the labels back where the
format can hold them; :func:`describe_data` summarises a frame column by column.

Examples
--------
>>> import pandas as pd
>>> from mutualaid_outcomes.io import describe_data
>>> describe_data(pd.DataFrame({"x": [1.0, None]}))[["variable", "n", "n_missing"]]
  variable  n  n_missing
0        x  1          1
"""

from __future__ import annotations

from ._atomic import DataWriteError
from ._textcols import NA_TOKENS
from .codebook import (
    CODEBOOK_ATTR,
    MEASUREMENTS,
    Codebook,
    Variable,
    get_codebook,
    guess_measurement,
    infer_codebook,
    set_codebook,
)
from .describe import DESCRIBE_COLUMNS, describe_data
from .readers import SUPPORTED_READ_EXTENSIONS, read_data
from .redcap import parse_choices, read_redcap
from .writers import SUPPORTED_WRITE_EXTENSIONS, write_data

__all__ = [
    "CODEBOOK_ATTR",
    "MEASUREMENTS",
    "Codebook",
    "Variable",
    "get_codebook",
    "set_codebook",
    "infer_codebook",
    "guess_measurement",
    "read_data",
    "read_redcap",
    "parse_choices",
    "write_data",
    "describe_data",
    "DESCRIBE_COLUMNS",
    "SUPPORTED_READ_EXTENSIONS",
    "SUPPORTED_WRITE_EXTENSIONS",
    "DataWriteError",
    "NA_TOKENS",
]
