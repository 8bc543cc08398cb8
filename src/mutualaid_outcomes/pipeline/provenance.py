"""Provenance of an analysis run: versions, platform, input hashes, spec, seeds and times."""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ..errors import DataFileNotFoundError

__all__ = ["sha256_file", "package_versions", "collect_provenance", "write_provenance"]

_DEPENDENCIES = (
    "mutualaid_outcomes",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "patsy",
    "matplotlib",
    "pyreadstat",
    "pyarrow",
    "python-docx",
    "pydantic",
    "typer",
)


def sha256_file(path: str | Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 hex digest of a file, read in chunks.

    Examples
    --------
    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"abc")
    >>> sha256_file(f.name)[:16]
    'ba7816bf8f01cfea'
    >>> os.unlink(f.name)
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileNotFoundError(f"Cannot hash '{path}': no such file.")
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(chunk_size), b""):
            h.update(block)
    return h.hexdigest()


def package_versions(names: Iterable[str] = _DEPENDENCIES) -> dict[str, str | None]:
    """Installed versions of the package and its dependencies (None when absent).

    Examples
    --------
    >>> "numpy" in package_versions()
    True
    """
    out: dict[str, str | None] = {}
    for n in names:
        try:
            out[n] = version(n)
        except PackageNotFoundError:
            out[n] = None
    return out


def collect_provenance(
    *,
    inputs: Iterable[str | Path],
    spec: Mapping[str, Any],
    seeds: Mapping[str, Any],
    started: datetime,
    finished: datetime | None = None,
    outputs: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Assemble the provenance record of a run.

    Parameters
    ----------
    inputs : iterable of path
        Every input file; each is hashed with SHA-256.
    spec : mapping
        The resolved analysis specification (defaults filled in).
    seeds : mapping
        Seeds used per step.
    started, finished : datetime
        Start and end times (UTC).
    outputs : mapping, optional
        Output file -> SHA-256, so a rerun can be compared byte for byte.

    Returns
    -------
    dict
        JSON-serialisable record.
    """
    return {
        "package": "mutualaid_outcomes",
        "versions": package_versions(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "inputs": {str(p): sha256_file(p) for p in inputs},
        "spec": json.loads(json.dumps(spec, default=str)),
        "seeds": dict(seeds),
        "started": started.astimezone(timezone.utc).isoformat(),
        "finished": (finished or datetime.now(timezone.utc)).astimezone(timezone.utc).isoformat(),
        "outputs": dict(outputs or {}),
    }


def write_provenance(record: Mapping[str, Any], path: str | Path) -> Path:
    """Write a provenance record as indented, key-sorted JSON."""
    path = Path(path)
    path.write_text(
        json.dumps(record, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    return path
