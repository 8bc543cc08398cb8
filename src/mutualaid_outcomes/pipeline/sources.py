"""Stage 1 of a run: read the data sources of a spec and their codebooks."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..errors import DataFileNotFoundError, SpecError
from .problems import problem_list

if TYPE_CHECKING:
    import pandas as pd

    from ..datasets.loader import SampleName
    from .context import RunContext
    from .section_args import StudyFile
    from .spec import AnalysisSpec, DataSource

__all__ = [
    "SAMPLE_FILES",
    "source_path",
    "source_problems",
    "input_paths",
    "load_source",
    "load_data",
]

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


def source_path(src: DataSource | StudyFile, base: Path) -> Path:
    """The file a data source reads: a sample file, or ``path`` resolved against ``base``."""
    if src.path.startswith("sample:"):
        return _sample_path(src.path.split(":", 1)[1])
    path = Path(src.path).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _sources(spec: AnalysisSpec) -> list[tuple[str, DataSource | StudyFile]]:
    from .section_args import StudyFile

    named: list[tuple[str, DataSource | StudyFile | None]] = [
        ("data", spec.data),
        ("participants", spec.participants),
        ("calendar", spec.calendar),
    ]
    named += [(f"meta[{i}]", StudyFile(m.path)) for i, m in enumerate(spec.meta)]
    return [(k, v) for k, v in named if v is not None]


def input_paths(spec: AnalysisSpec, base: Path) -> list[Path]:
    """Every input file of a spec whose path can be resolved (for the output-folder rules)."""
    out = []
    for _, src in _sources(spec):
        try:
            out.append(source_path(src, base))
        except SpecError:
            continue
    return out


def source_problems(spec: AnalysisSpec, base: Path) -> list[str]:
    """Every data source that does not name an existing, readable file (one line each)."""
    problems = []
    for key, src in _sources(spec):
        try:
            path = source_path(src, base)
        except SpecError as exc:
            problems.append(f"{key}.path: {exc}")
            continue
        if not path.exists():
            problems.append(
                f"{key}.path: data file '{src.path}' (resolved to '{path}') does not exist"
            )
        elif not path.is_file():
            problems.append(f"{key}.path: '{src.path}' (resolved to '{path}') is not a file")
        else:
            try:
                with path.open("rb") as fh:
                    fh.read(1)
            except OSError as exc:
                problems.append(
                    f"{key}.path: data file '{path}' cannot be read: {exc.strerror or exc}"
                )
    return problems


def load_source(src: DataSource | StudyFile, base: Path) -> tuple[pd.DataFrame, Path]:
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
    path = source_path(src, base)
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
    problems = source_problems(spec, ctx.base_dir)
    if problems:
        raise SpecError(problem_list(problems, "data source"))
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
        missing = [
            f"{key}: has no id column '{spec.id}' (set `id` at the top of the spec)"
            for key, frame in (("data", data), ("participants", participants))
            if spec.id not in frame.columns
        ]
        if missing:
            raise SpecError(problem_list(missing, "data source"))
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
