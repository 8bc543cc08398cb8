"""File formats known to the readers and writers, and path checks."""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ArgumentTypeError, DataFileNotFoundError, FileFormatError

__all__ = [
    "READ_FORMATS",
    "WRITE_FORMATS",
    "SIDECAR_SUFFIX",
    "check_path",
    "format_of",
    "sidecar_path",
]

#: Extension -> format name, for reading. Longer extensions are matched first.
READ_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "tsv",
    ".tsv.gz": "tsv",
    ".parquet": "parquet",
    ".xlsx": "xlsx",
    ".sav": "sav",
    ".zsav": "sav",
    ".por": "por",
    ".dta": "dta",
    ".sas7bdat": "sas7bdat",
    ".xpt": "xpt",
}

#: Extension -> format name, for writing.
WRITE_FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".sav": "sav",
    ".zsav": "sav",
    ".dta": "dta",
}

#: Suffix of the codebook file written next to CSV and Parquet files.
SIDECAR_SUFFIX = ".codebook.json"

_DESCRIPTIONS = {
    "csv": "CSV",
    "tsv": "tab-separated text",
    "parquet": "Parquet",
    "xlsx": "Excel workbook",
    "sav": "SPSS",
    "por": "SPSS portable",
    "dta": "Stata",
    "sas7bdat": "SAS",
    "xpt": "SAS transport (XPORT)",
}


def describe_format(fmt: str) -> str:
    return _DESCRIPTIONS.get(fmt, fmt)


def as_path(path: object, argument: str = "path") -> Path:
    if isinstance(path, (str, os.PathLike)):
        return Path(path)
    raise ArgumentTypeError(
        f"`{argument}` must be a file path (str or os.PathLike); got {type(path).__name__}."
    )


def _extension(p: Path, table: dict[str, str]) -> str | None:
    name = p.name.lower()
    for ext in sorted(table, key=len, reverse=True):
        if name.endswith(ext) and len(name) > len(ext):
            return ext
    return None


def format_of(
    p: Path, table: dict[str, str] = READ_FORMATS, action: str = "read"
) -> tuple[str, str]:
    """Return ``(extension, format)`` for ``p``, or raise FileFormatError listing the supported ones."""
    ext = _extension(p, table)
    if ext is None:
        supported = ", ".join(table)
        raise FileFormatError(
            f"Cannot {action} '{p}': unsupported file extension '{''.join(p.suffixes) or p.name}'. "
            f"Supported extensions: {supported}."
        )
    return ext, table[ext]


def check_path(path: object, argument: str = "path") -> Path:
    """Check that ``path`` names an existing file."""
    p = as_path(path, argument)
    if not p.exists():
        raise DataFileNotFoundError(f"Data file '{p}' does not exist (`{argument}`).")
    if not p.is_file():
        raise DataFileNotFoundError(f"'{p}' is not a file (`{argument}`).")
    return p


def sidecar_path(p: Path, table: dict[str, str] = READ_FORMATS) -> Path:
    """``data.csv`` -> ``data.codebook.json`` (also for ``data.csv.gz``, ``data.parquet``)."""
    ext = _extension(p, table) or p.suffix
    stem = p.name[: len(p.name) - len(ext)] if ext else p.name
    return p.with_name(stem + SIDECAR_SUFFIX)
