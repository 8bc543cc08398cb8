"""Stage 1 of a run: read the data sources of a spec and their codebooks."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..errors import DataFileNotFoundError, SpecError

if TYPE_CHECKING:
    import pandas as pd

    from ..datasets.loader import SampleName
    from .context import RunContext
    from .spec import DataSource

__all__ = ["SAMPLE_FILES", "load_source", "load_data"]

#: bundled sample data sets usable as ``sample:NAME`` in a spec
SAMPLE_FILES = {
    "waves": "waves.csv",
    "participants": "participants.csv",
    "calendar": "calendar.csv.gz",
    "network": "network.csv.gz",
}


def _sample_path(name: str) -> Path:
    if name not in SAMPLE_FILES:
        raise SpecError(
            f"`path` 'sample:{name}' names no sample data set; use one of "
            + ", ".join(f"'sample:{k}'" for k in SAMPLE_FILES)
            + "."
        )
    ref = resources.files("mutualaid_outcomes.datasets.sample") / SAMPLE_FILES[name]
    return Path(str(ref))


def load_source(src: DataSource, base: Path) -> tuple[pd.DataFrame, Path]:
    """Read one data source; return the frame and the file it came from.

    ``sample:NAME`` reads a file of the bundled sample cohort; any other path is
    resolved against ``base`` (the spec's folder) and read with
    :func:`~mutualaid_outcomes.io.read_data`.
    """
    from ..io import read_data

    if src.path.startswith("sample:"):
        from .._validation import check_columns
        from ..datasets import load_sample

        name = src.path.split(":", 1)[1]
        path = _sample_path(name)
        frame = load_sample(cast("SampleName", name))  # a name of SAMPLE_FILES
        if src.columns:
            check_columns(frame, src.columns, "data.columns")
            frame = frame[src.columns]
        return frame, path
    path = Path(src.path)
    if not path.is_absolute():
        path = (base / path).resolve()
    if not path.exists():
        raise DataFileNotFoundError(
            f"Data file '{src.path}' (resolved to '{path}') does not exist."
        )
    frame = read_data(path, columns=src.columns, missing_codes=src.missing_codes)
    return frame, path


def _codebook_of(src: DataSource, frame: pd.DataFrame) -> Any:
    """The codebook of a data source: the sample's own, or the one read with the file."""
    from ..io import get_codebook

    if src.path.startswith("sample:"):
        from ..datasets import load_sample

        cb = load_sample("codebook")
        return cb.subset([c for c in frame.columns if c in cb])
    return get_codebook(frame)


def load_data(ctx: RunContext) -> None:
    """Read the wave data, participants and calendar; merge participants into the waves.

    Sets the ``data``, ``participants`` and ``calendar`` datasets and the run's codebook,
    and records every input file for the provenance.
    """
    spec = ctx.spec
    data, path = load_source(spec.data, ctx.base_dir)
    ctx.inputs.append(path)
    participants = calendar = None
    if spec.participants is not None:
        participants, path = load_source(spec.participants, ctx.base_dir)
        ctx.inputs.append(path)
    if spec.calendar is not None:
        calendar, path = load_source(spec.calendar, ctx.base_dir)
        ctx.inputs.append(path)
    codebook = _codebook_of(spec.data, data)
    if participants is not None and spec.participants is not None:
        pcb = _codebook_of(spec.participants, participants)
        codebook = codebook.merge([pcb.variable(n) for n in pcb.names if n not in codebook])
        extra = [c for c in participants.columns if c not in data.columns or c == spec.id]
        data = data.merge(participants[extra], on=spec.id, how="left", validate="m:1")
    ctx.codebook = codebook
    ctx.datasets.update(data=data, participants=participants, calendar=calendar)
    ctx.data_notes.append(
        f"{len(data)} rows and {data.shape[1]} columns in the wave data"
        + (f"; {data[spec.id].nunique()} participants." if spec.id in data else ".")
    )
