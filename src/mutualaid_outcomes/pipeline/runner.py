"""Run an analysis spec: load, score, derive, code, fit, tabulate, plot, report.

A run is a fixed sequence of stages (:data:`STAGES`), each a function of the
:class:`~mutualaid_outcomes.pipeline.context.RunContext` that the earlier stages
filled in:

1. :func:`~mutualaid_outcomes.pipeline.sources.load_data` -- read the data sources
   (every missing or unreadable file is reported at once);
2. :func:`~mutualaid_outcomes.pipeline.checks.check_columns` -- every column the spec
   names, checked against the columns its dataset will have (computed on empty copies
   of the data, so nothing is fitted);
3. :func:`~mutualaid_outcomes.pipeline.variables.score_instruments`;
4. :func:`~mutualaid_outcomes.pipeline.variables.derive_variables`;
5. :func:`~mutualaid_outcomes.pipeline.participation.code_participation` -- calendar
   summaries and the survival datasets;
6. :func:`~mutualaid_outcomes.pipeline.checks.check_references` -- the same checks on
   the real datasets, before anything is fitted;
7. :func:`~mutualaid_outcomes.pipeline.design_step.build_design` -- the survey design
   of ``[design]`` (its columns checked, the design built; nothing is fitted);
8. :func:`~mutualaid_outcomes.pipeline.fitting.fit_models`, then the ``[[meta]]``
   (:func:`~mutualaid_outcomes.pipeline.meta_steps.run_meta_analyses`) and ``[[sem]]``
   (:func:`~mutualaid_outcomes.pipeline.sem_steps.fit_sems`) sections;
9. :func:`~mutualaid_outcomes.pipeline.table_steps.make_tables`;
10. :func:`~mutualaid_outcomes.pipeline.figure_steps.make_figures`;
11. :func:`write_report` -- the HTML report, the resolved spec and the provenance.

The first seven stages are :data:`PREPARE`, which is all ``mutualaid validate`` runs.
A run writes into a build folder beside the output folder and renames it into place
only when every stage has finished (:mod:`~mutualaid_outcomes.pipeline.output_folder`),
so an interrupted or failed run never leaves a half-written output that looks complete
and never touches the previous output.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..disclosure import suppress_text
from ..errors import MutualAidError, OutputWriteError, RunInterrupted
from .checks import check_columns, check_references
from .context import RunContext
from .design_step import build_design
from .figure_steps import figure_caption, make_figures
from .fitting import fit_models
from .meta_steps import run_meta_analyses
from .output_folder import (
    OutputLock,
    OutputPlan,
    commit_output,
    discard_build_folder,
    held_interrupts,
    os_cause,
    plan_output,
    start_build_folder,
)
from .participation import code_participation
from .progress import step_progress
from .provenance import collect_provenance, sha256_file, write_provenance
from .report import ReportSection, render_report
from .sem_steps import fit_sems
from .sources import SAMPLE_FILES, input_paths, load_data
from .spec import AnalysisSpec, load_spec
from .table_steps import make_tables
from .variables import derive_variables, score_instruments

__all__ = [
    "RunResult",
    "run_analysis",
    "run_spec_file",
    "check_analysis",
    "check_spec_file",
    "write_report",
    "STAGES",
    "PREPARE",
    "SAMPLE_FILES",
]


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    out_dir : Path
        The output folder.
    models : dict
        Fitted results by model name.
    tables : dict
        :class:`~mutualaid_outcomes.tables.Table` objects by name.
    files : dict
        Output file (relative path) -> SHA-256.
    provenance : dict
        The provenance record written to ``provenance.json``.
    """

    out_dir: Path
    models: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)


def write_report(ctx: RunContext) -> None:
    """Write ``report.html``, ``spec.resolved.json`` and ``provenance.json``.

    The provenance lists the SHA-256 of every output written before it, so a rerun
    can be compared file by file.
    """
    spec = ctx.spec
    sections = [
        ReportSection(
            title="Data",
            notes=ctx.data_notes + ctx.score_notes,
            warnings=list(dict.fromkeys(ctx.data_warnings)),
        )
    ]
    sections += ctx.table_sections + ctx.model_sections
    for section in sections:  # counts of rows or people in notes (disclosure control)
        section.notes = [suppress_text(n, spec.output.min_cell) for n in section.notes]
        section.warnings = [suppress_text(w, spec.output.min_cell) for w in section.warnings]
    if ctx.figures:
        titles = {f.name: figure_caption(f, ctx) for f in spec.figures}
        captions = [titles.get(Path(p).stem, Path(p).stem) for p in ctx.figures]
        sections.append(
            ReportSection(title="Figures", figures=list(ctx.figures), captions=captions)
        )
    finished = datetime.now(timezone.utc)
    files = {
        str(p.relative_to(ctx.tmp)): sha256_file(p)
        for p in sorted(ctx.tmp.rglob("*"))
        if p.is_file() and p.name != "INCOMPLETE"
    }
    resolved = spec.model_dump(mode="json")
    prov = collect_provenance(
        inputs=ctx.inputs,
        spec={"resolved": resolved, "as_written": ctx.raw_spec or resolved},
        seeds=ctx.seeds,
        started=ctx.started,
        finished=finished,
        outputs=files,
    )
    write_provenance(prov, ctx.tmp / "provenance.json")
    (ctx.tmp / "spec.resolved.json").write_text(
        json.dumps(resolved, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    footer = (
        f"mutualaid_outcomes {prov['versions'].get('mutualaid_outcomes')}; seed {spec.seed}; "
        f"disclosure control: "
        + (f"counts below {spec.output.min_cell} suppressed" if spec.output.min_cell else "off")
        + ". No participant-level rows are included in this report."
    )
    render_report(spec.title, sections, footer=footer, path=ctx.tmp / "report.html")
    ctx.files = files
    ctx.provenance = prov


#: the stages that prepare the data and check the spec against it; nothing is fitted
#: or written (``mutualaid validate`` runs exactly these)
PREPARE: tuple[tuple[str, Callable[[RunContext], None]], ...] = (
    ("load data", load_data),
    ("check spec", check_columns),
    ("score instruments", score_instruments),
    ("derive variables", derive_variables),
    ("code participation", code_participation),
    ("check references", check_references),
    ("survey design", build_design),
)

#: the stages of a run, in order: (progress label, stage function)
STAGES: tuple[tuple[str, Callable[[RunContext], None]], ...] = PREPARE + (
    ("models", fit_models),
    ("meta-analyses", run_meta_analyses),
    ("structural equation models", fit_sems),
    ("tables", make_tables),
    ("figures", make_figures),
    ("report", write_report),
)


def _run_stages(ctx: RunContext, stages: Sequence[tuple[str, Any]], progress: bool | None) -> None:
    """Run ``stages`` in order; ``ctx.stage`` names the one running."""
    with step_progress([label for label, _ in stages], enabled=progress) as advance:
        for label, stage in stages:
            ctx.stage = label
            stage(ctx)
            advance()


def _interrupted(plan: OutputPlan, stage: str, left: str | None) -> str:
    before = (
        f"'{plan.out_dir}' was not changed; it still holds the previous output."
        if plan.existed
        else f"'{plan.out_dir}' was not created."
    )
    return f"Interrupted during '{stage}'. {before} " + (
        left or "The unfinished output was removed."
    )


def _failed(exc: BaseException, stage: str, left: str | None) -> BaseException:
    """Turn an operating-system error into an OutputWriteError; name what was left."""
    if isinstance(exc, OSError) and not isinstance(exc, MutualAidError):
        where = f" '{exc.filename}'" if exc.filename else ""
        exc = OutputWriteError(
            f"The run stopped during '{stage}': {os_cause(exc)}{where}. "
            "The output folder was not changed. " + (left or "The unfinished output was removed."),
            errno=exc.errno,
            filename=exc.filename,
        )
    elif left:
        exc.add_note(left)
    return exc


def run_analysis(
    spec: AnalysisSpec,
    out_dir: str | Path,
    *,
    base_dir: str | Path = ".",
    overwrite: bool = False,
    raw_spec: dict[str, Any] | None = None,
    progress: bool | None = None,
    spec_file: str | Path | None = None,
) -> RunResult:
    """Run a validated analysis spec and write the output folder.

    Parameters
    ----------
    spec : AnalysisSpec
        The validated specification.
    out_dir : path
        Output folder; must not exist unless ``overwrite``.
    base_dir : path
        Folder that relative data paths are resolved against (the spec's folder).
    overwrite : bool
        Replace an existing output folder that a previous run wrote (see Notes).
    raw_spec : dict, optional
        The spec as written, recorded in the provenance next to the resolved one.
    progress : bool, optional
        Show progress bars; default only when attached to a terminal.
    spec_file : path, optional
        The spec's file; a folder holding it is never replaced.

    Returns
    -------
    RunResult

    Raises
    ------
    OutputFolderError
        If ``out_dir`` names a file, exists without ``overwrite``, may not be replaced
        (it holds the spec or an input, files the package did not write, or is the
        current or home folder), or another run is writing to it.
    OutputWriteError
        If the output cannot be written (read-only location, disk full); the message
        names the operating system's cause.
    SpecError
        If the spec does not fit its data (every problem listed), before anything is
        fitted.
    RunInterrupted
        On Ctrl-C; the message says what was left where.

    Notes
    -----
    The rules for the output folder are those of
    :mod:`~mutualaid_outcomes.pipeline.output_folder`: the run builds in a folder beside
    ``out_dir`` and renames it into place after every stage of :data:`STAGES` has
    succeeded; a failed or interrupted run removes it.
    """
    base = Path(base_dir)
    inputs = input_paths(spec, base) + ([Path(spec_file)] if spec_file else [])
    plan = plan_output(out_dir, overwrite=overwrite, inputs=inputs)
    with OutputLock(plan.target):
        ctx = RunContext(
            spec=spec,
            base_dir=base,
            tmp=start_build_folder(plan.target),
            raw_spec=raw_spec,
            started=datetime.now(timezone.utc),
            seeds={"spec_seed": spec.seed},
        )
        try:
            _run_stages(ctx, STAGES, progress)
        except KeyboardInterrupt:
            left = discard_build_folder(ctx.tmp)
            raise RunInterrupted(_interrupted(plan, ctx.stage, left)) from None
        except BaseException as exc:
            left = discard_build_folder(ctx.tmp)
            raise _failed(exc, ctx.stage, left) from (exc if isinstance(exc, OSError) else None)
        with held_interrupts() as received:
            commit_output(ctx.tmp, plan, ctx.provenance)
        if received:
            raise RunInterrupted(
                f"Interrupted as the run finished; '{plan.out_dir}' holds the complete new output."
            )
    return RunResult(
        out_dir=plan.out_dir,
        models=ctx.models,
        tables=ctx.tables,
        files=ctx.files,
        provenance=ctx.provenance,
    )


def check_analysis(
    spec: AnalysisSpec, *, base_dir: str | Path = ".", progress: bool | None = None
) -> RunContext:
    """Run the :data:`PREPARE` stages: everything a run checks before it fits anything.

    Reads the data, scores the instruments, derives the columns and codes participation,
    and checks every column the spec names; nothing is fitted and nothing is written.

    Returns
    -------
    RunContext
        The prepared datasets.

    Raises
    ------
    SpecError
        Listing every problem found.
    """
    with tempfile.TemporaryDirectory(prefix="mutualaid-validate-") as scratch:
        ctx = RunContext(spec=spec, base_dir=Path(base_dir), tmp=Path(scratch))
        _run_stages(ctx, PREPARE, progress)
    return ctx


def check_spec_file(path: str | Path, *, progress: bool | None = None) -> RunContext:
    """Load a TOML spec and run every check a run makes before fitting (``validate``)."""
    spec, _ = load_spec(path)
    return check_analysis(spec, base_dir=Path(path).resolve().parent, progress=progress)


def run_spec_file(
    path: str | Path, out_dir: str | Path, *, overwrite: bool = False, progress: bool | None = None
) -> RunResult:
    """Load, validate and run a TOML analysis spec (data paths relative to the spec file)."""
    spec, raw = load_spec(path)
    return run_analysis(
        spec,
        out_dir,
        base_dir=Path(path).resolve().parent,
        overwrite=overwrite,
        raw_spec=raw,
        progress=progress,
        spec_file=Path(path),
    )
