"""Run an analysis spec: load, score, derive, code, fit, tabulate, plot, report.

A run is a fixed sequence of stages (:data:`STAGES`), each a function of the
:class:`~mutualaid_outcomes.pipeline.context.RunContext` that the earlier stages
filled in:

1. :func:`~mutualaid_outcomes.pipeline.sources.load_data` -- read the data sources;
2. :func:`~mutualaid_outcomes.pipeline.variables.score_instruments`;
3. :func:`~mutualaid_outcomes.pipeline.variables.derive_variables`;
4. :func:`~mutualaid_outcomes.pipeline.participation.code_participation` -- calendar
   summaries and the survival datasets;
5. :func:`~mutualaid_outcomes.pipeline.design_step.build_design` -- the survey design
   of ``[design]``;
6. :func:`~mutualaid_outcomes.pipeline.fitting.fit_models`, then the ``[[meta]]``
   (:func:`~mutualaid_outcomes.pipeline.meta_steps.run_meta_analyses`) and ``[[sem]]``
   (:func:`~mutualaid_outcomes.pipeline.sem_steps.fit_sems`) sections;
7. :func:`~mutualaid_outcomes.pipeline.table_steps.make_tables`;
8. :func:`~mutualaid_outcomes.pipeline.figure_steps.make_figures`;
9. :func:`write_report` -- the HTML report, the resolved spec and the provenance.

The run writes into a temporary folder beside the output folder and renames it into
place only when every stage has finished, so an interrupted run never leaves a
half-written report that looks complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import SpecError
from .context import RunContext
from .design_step import build_design
from .figure_steps import make_figures
from .fitting import fit_models
from .meta_steps import run_meta_analyses
from .participation import code_participation
from .progress import step_progress
from .provenance import collect_provenance, sha256_file, write_provenance
from .report import ReportSection, render_report
from .sem_steps import fit_sems
from .sources import SAMPLE_FILES, load_data
from .spec import AnalysisSpec, load_spec
from .table_steps import make_tables
from .variables import derive_variables, score_instruments

__all__ = ["RunResult", "run_analysis", "run_spec_file", "write_report", "STAGES", "SAMPLE_FILES"]


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
    sections = [ReportSection(title="Data", notes=ctx.data_notes + ctx.score_notes)]
    sections += ctx.table_sections + ctx.model_sections
    if ctx.figures:
        sections.append(ReportSection(title="Figures", figures=list(ctx.figures)))
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


#: the stages of a run, in order: (progress label, stage function)
STAGES: tuple[tuple[str, Callable[[RunContext], None]], ...] = (
    ("load data", load_data),
    ("score instruments", score_instruments),
    ("derive variables", derive_variables),
    ("code participation", code_participation),
    ("survey design", build_design),
    ("models", fit_models),
    ("meta-analyses", run_meta_analyses),
    ("structural equation models", fit_sems),
    ("tables", make_tables),
    ("figures", make_figures),
    ("report", write_report),
)


def _start_folder(out_dir: Path) -> Path:
    """Create the unfinished output folder beside ``out_dir``, marked INCOMPLETE."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.incomplete-", dir=out_dir.parent))
    (tmp / "tables").mkdir()
    (tmp / "figures").mkdir()
    (tmp / "INCOMPLETE").write_text(
        "This folder is an unfinished run; its contents are not a complete analysis.\n"
    )
    return tmp


def run_analysis(
    spec: AnalysisSpec,
    out_dir: str | Path,
    *,
    base_dir: str | Path = ".",
    overwrite: bool = False,
    raw_spec: dict[str, Any] | None = None,
    progress: bool | None = None,
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
        Replace an existing output folder.
    raw_spec : dict, optional
        The spec as written, recorded in the provenance next to the resolved one.
    progress : bool, optional
        Show progress bars; default only when attached to a terminal.

    Returns
    -------
    RunResult

    Raises
    ------
    SpecError
        If the output folder exists and ``overwrite`` is False, or a step refers to
        columns or data sets that are not there.

    Notes
    -----
    The stages run in the order of :data:`STAGES`; the folder is renamed into place
    only after every stage has succeeded.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not overwrite:
        raise SpecError(
            f"Output folder '{out_dir}' already exists; choose another with --out or pass "
            "--overwrite to replace it."
        )
    started = datetime.now(timezone.utc)
    ctx = RunContext(
        spec=spec,
        base_dir=Path(base_dir),
        tmp=_start_folder(out_dir),
        raw_spec=raw_spec,
        started=started,
        seeds={"spec_seed": spec.seed},
    )
    with step_progress([label for label, _ in STAGES], enabled=progress) as advance:
        for _, stage in STAGES:
            stage(ctx)
            advance()
    (ctx.tmp / "INCOMPLETE").unlink()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    ctx.tmp.rename(out_dir)
    return RunResult(
        out_dir=out_dir,
        models=ctx.models,
        tables=ctx.tables,
        files=ctx.files,
        provenance=ctx.provenance,
    )


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
    )
