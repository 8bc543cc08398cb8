"""Run an analysis spec: load, score, code, fit, tabulate, plot, report, record provenance.

The run writes into a temporary folder beside the output folder and renames it into
place only when every step has finished, so an interrupted run never leaves a
half-written report that looks complete.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time as _time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import import_module, resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataFileNotFoundError, SpecError
from .progress import step_progress
from .provenance import collect_provenance, sha256_file, write_provenance
from .report import ReportSection, render_report
from .spec import MODEL_FUNCTIONS, AnalysisSpec, DataSource, load_spec

__all__ = ["RunResult", "run_analysis", "run_spec_file", "SAMPLE_FILES"]

#: bundled sample data sets usable as ``sample:NAME`` in a spec
SAMPLE_FILES = {
    "waves": "waves.csv",
    "participants": "participants.csv",
    "calendar": "calendar.csv.gz",
    "network": "network.csv.gz",
}


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


def _sample_path(name: str) -> Path:
    if name not in SAMPLE_FILES:
        raise SpecError(
            f"`path` 'sample:{name}' names no sample data set; use one of "
            + ", ".join(f"'sample:{k}'" for k in SAMPLE_FILES)
            + "."
        )
    ref = resources.files("mutualaid_outcomes.datasets.sample") / SAMPLE_FILES[name]
    return Path(str(ref))


def _load_source(src: DataSource, base: Path) -> tuple[pd.DataFrame, Path]:
    from ..io import read_data

    if src.path.startswith("sample:"):
        from ..datasets import load_sample

        name = src.path.split(":", 1)[1]
        path = _sample_path(name)
        frame = load_sample(name)
        if src.columns:
            from .._validation import check_columns

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


def _call(func: Callable[..., Any], frame: pd.DataFrame, options: dict[str, Any], rng: Any) -> Any:
    import inspect

    params = inspect.signature(func).parameters
    kwargs = dict(options)
    if "rng" in params:
        kwargs["rng"] = rng
    first = next(iter(params))
    if first in ("data", "panel", "daily"):
        return func(frame, **kwargs)
    # functions whose first argument is a formula take data by keyword
    return func(data=frame, **kwargs)


def _save_table(table: Any, stem: str, formats: list[str], tmp: Path) -> list[Path]:
    out = []
    for ext in formats:
        path = tmp / "tables" / f"{stem}.{ext}"
        table.save(path)
        out.append(path)
    return out


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
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from .. import plotting, tables

    out_dir = Path(out_dir)
    base_dir = Path(base_dir)
    if out_dir.exists() and not overwrite:
        raise SpecError(
            f"Output folder '{out_dir}' already exists; choose another with --out or pass "
            "--overwrite to replace it."
        )
    started = datetime.now(timezone.utc)
    root_seq = np.random.SeedSequence(spec.seed)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.incomplete-", dir=out_dir.parent))
    (tmp / "tables").mkdir()
    (tmp / "figures").mkdir()
    (tmp / "INCOMPLETE").write_text(
        "This folder is an unfinished run; its contents are not a complete analysis.\n"
    )
    result = RunResult(out_dir=out_dir)
    inputs: list[Path] = []
    seeds: dict[str, Any] = {"spec_seed": spec.seed}
    sections: list[ReportSection] = []
    style = spec.output.style
    # the folder is renamed into place only after every step has succeeded
    steps = ["load data", "score instruments", "calendar", "models", "tables", "figures", "report"]
    with step_progress(steps, enabled=progress) as advance:
        # ---------------------------------------------------------------- data
        data, p = _load_source(spec.data, base_dir)
        inputs.append(p)
        participants = calendar = None
        if spec.participants is not None:
            participants, p = _load_source(spec.participants, base_dir)
            inputs.append(p)
        if spec.calendar is not None:
            calendar, p = _load_source(spec.calendar, base_dir)
            inputs.append(p)
        codebook = _codebook_of(spec.data, data)
        if participants is not None:
            pcb = _codebook_of(spec.participants, participants)
            codebook = codebook.merge([pcb.variable(n) for n in pcb.names if n not in codebook])
            extra = [c for c in participants.columns if c not in data.columns or c == spec.id]
            data = data.merge(participants[extra], on=spec.id, how="left", validate="m:1")
        data_notes = [
            f"{len(data)} rows and {data.shape[1]} columns in the wave data"
            + (f"; {data[spec.id].nunique()} participants." if spec.id in data else ".")
        ]
        advance()
        # ------------------------------------------------------------ instruments
        from ..instruments import score

        score_notes = []
        for step in spec.instruments:
            items = step.items
            if isinstance(items, dict):
                items = {int(k): v for k, v in items.items()}
            scores = score(
                data, step.instrument, items=items, missing=step.missing, on_invalid=step.on_invalid
            )
            if step.prefix:
                scores = scores.rename(
                    columns=lambda c, s=step: (
                        s.prefix + c[len(s.instrument) :] if c.startswith(s.instrument) else c
                    )
                )
            data = pd.concat([data.drop(columns=[c for c in scores if c in data]), scores], axis=1)
            score_notes.append(f"{step.instrument}: {', '.join(scores.columns)}")
        for name, expr in spec.derive.items():
            try:
                data = data.assign(**{name: data.eval(expr)})
            except Exception as exc:  # noqa: BLE001 - pandas raises many types
                raise SpecError(f"derive.{name}: expression '{expr}' failed: {exc}") from None
            score_notes.append(f"derived {name} = {expr}")
        advance()
        # ------------------------------------------------------------- calendar
        analysis = None
        counting = None
        relapse = None
        sex = index_date = None
        if calendar is not None:
            from ..participation import summarize_calendar

            sex = index_date = None
            if participants is not None:
                pidx = participants.set_index(spec.id)
                if "sex" in pidx:
                    sex = pidx["sex"].map({0: "male", 1: "female"})
                if "index_date" in pidx:
                    index_date = pidx["index_date"]
            if spec.calendar_summary is not None:
                cs = spec.calendar_summary
                summ = summarize_calendar(
                    calendar,
                    id=spec.id,
                    meetings="meetings" if "meetings" in calendar else None,
                    windows={k: tuple(v) for k, v in cs.windows.items()},
                    sex=sex,
                    controlled="controlled" if "controlled" in calendar else None,
                    index_date=index_date,
                    heavy_threshold=tuple(cs.heavy_threshold),
                )
                analysis = summ
                if participants is not None:
                    analysis = summ.merge(participants, on=spec.id, how="left")
        if calendar is not None and spec.survival is not None:
            from ..prep.counting_process import to_counting_process
            from ..participation import relapse_times

            sv = spec.survival
            relapse = relapse_times(
                calendar,
                id=spec.id,
                definition=sv.definition,
                k=sv.k,
                window_days=sv.window_days,
                sex=sex,
                index_date=index_date,
            )
            usable = relapse["duration"].notna() & (relapse["duration"] > 0)
            n_no_follow = int((~usable).sum())
            relapse = relapse.loc[usable]
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                cp = to_counting_process(
                    calendar,
                    relapse[[spec.id, "duration", "event"]],
                    id=spec.id,
                    time="day",
                    duration="duration",
                    event="event",
                    rolling={k: tuple(v) for k, v in sv.rolling.items()},
                    entry=0,
                )
            counting = cp.data
            extra_frames = []
            if participants is not None:
                extra_frames.append(participants)
            if sv.baseline_covariates:
                first = data[spec.time].min()
                base = data.loc[data[spec.time] == first, [spec.id, *sv.baseline_covariates]]
                extra_frames.append(
                    base.rename(columns={c: f"{c}_0" for c in sv.baseline_covariates})
                )
            for extra in extra_frames:
                relapse = relapse.merge(extra, on=spec.id, how="left")
                counting = counting.merge(extra, on=spec.id, how="left")
            data_notes.append(
                f"Survival ({sv.definition}): {int(relapse['event'].sum())} events among "
                f"{len(relapse)} participants; {n_no_follow} participants without follow-up "
                f"days are excluded; counting process: {cp.n_rows_unmerged} daily intervals "
                f"merged to {cp.n_rows}."
                + (f" ({len(caught)} data warning(s) while building it.)" if caught else "")
            )
        advance()
        first_time = data[spec.time].min() if spec.time in data else None
        baseline = data.loc[data[spec.time] == first_time] if first_time is not None else data
        datasets = {
            "data": data,
            "participants": participants,
            "calendar": calendar,
            "baseline": baseline,
            "analysis": analysis,
            "counting_process": counting,
            "relapse": relapse,
        }

        def get_dataset(name: str, where: str) -> pd.DataFrame:
            frame = datasets.get(name)
            if frame is None:
                raise SpecError(f"{where}: dataset '{name}' is not available in this spec.")
            return frame

        # --------------------------------------------------------------- models
        model_sections = []
        child_seeds = root_seq.spawn(max(len(spec.models), 1))
        for i, m in enumerate(spec.models):
            frame = get_dataset(m.dataset, f"models[{i}] ({m.name})")
            if m.filter:
                try:
                    frame = frame.query(m.filter)
                except Exception as exc:  # noqa: BLE001 - pandas raises many types
                    raise SpecError(
                        f"models[{i}] ({m.name}).filter '{m.filter}' could not be applied: {exc}"
                    ) from None
            module, fname = MODEL_FUNCTIONS[m.type]
            func = getattr(import_module(module), fname)
            seed = int(child_seeds[i].generate_state(1)[0])
            seeds[m.name] = seed
            t0 = _time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                fitted = _call(func, frame, m.options, np.random.default_rng(seed))
            elapsed = _time.perf_counter() - t0
            result.models[m.name] = fitted
            tidy = fitted.tidy()
            tidy.to_csv(
                tmp / "tables" / f"model_{m.name}_tidy.csv", index=False, float_format="%.10g"
            )
            fitted.glance().to_csv(
                tmp / "tables" / f"model_{m.name}_glance.csv", index=False, float_format="%.10g"
            )
            msgs = sorted({str(w.message) for w in caught})
            model_sections.append(
                ReportSection(
                    title=f"Model: {m.name} ({m.type})",
                    html_blocks=[fitted.summary().as_html()],
                    notes=[f"Fitted in {elapsed:.1f} s."] + [f"Warning: {w}" for w in msgs],
                )
            )
        advance()
        # --------------------------------------------------------------- tables
        table_sections = []
        for i, t in enumerate(spec.tables):
            where = f"tables[{i}] ({t.name})"
            if t.type == "table_one":
                frame = get_dataset(t.dataset, where)
                table = tables.table_one(
                    frame,
                    codebook=codebook,
                    by=t.by,
                    variables=t.variables,
                    categorical=t.categorical,
                    nonnormal=t.nonnormal,
                    style=style,
                    min_cell=spec.output.min_cell,
                    title=t.title or "Table 1. Participant characteristics",
                )
            elif t.type == "regression_table":
                if not t.models:
                    raise SpecError(f"{where}: `models` must list at least one model name.")
                table = tables.regression_table(
                    {n: result.models[n] for n in t.models},
                    exponentiate=t.exponentiate,
                    style=style,
                    codebook=codebook,
                    title=t.title,
                )
            else:
                if not t.models or len(t.models) != 1:
                    raise SpecError(f"{where}: a mediation table takes exactly one model name.")
                table = tables.mediation_table(
                    result.models[t.models[0]], style=style, title=t.title, codebook=codebook
                )
            result.tables[t.name] = table
            _save_table(table, t.name, list(spec.output.table_formats), tmp)
            table_sections.append(
                ReportSection(title=t.title or t.name, html_blocks=[table.to_html()])
            )
        advance()
        # -------------------------------------------------------------- figures
        figure_section = ReportSection(title="Figures")
        with plotting.publication_style(style if style in ("apa", "jama") else "apa", columns=2):
            for i, f in enumerate(spec.figures):
                where = f"figures[{i}] ({f.name})"
                model = result.models.get(f.model) if f.model else None
                fig, ax = plt.subplots()
                if f.type == "km":
                    plotting.plot_km(model, ax=ax)
                elif f.type == "forest":
                    plotting.plot_forest(
                        model, ax=ax, exponentiate=f.exponentiate, labels=f.labels or None
                    )
                elif f.type == "path_diagram":
                    plotting.plot_path_diagram(
                        model,
                        ax=ax,
                        labels=f.labels or None,
                        exposure=f.labels.get("exposure", "Exposure"),
                        outcome=f.labels.get("outcome", "Outcome"),
                    )
                elif f.type == "trajectories":
                    if not (f.time and f.value):
                        raise SpecError(f"{where}: trajectories need `time` and `value`.")
                    plotting.plot_trajectories(
                        get_dataset(f.dataset, where),
                        f.time,
                        f.value,
                        f.group,
                        ax=ax,
                        codebook=codebook,
                        ylabel=f.labels.get(f.value),
                    )
                elif f.type == "calendar_strips":
                    plotting.plot_calendar_strips(
                        get_dataset("calendar", where), ax=ax, rng=spec.seed
                    )
                else:
                    from ..plotting.sensitivity import plot_sensitivity

                    plot_sensitivity(model.sensitivity(), ax=ax)
                if f.title:
                    ax.set_title(f.title)
                written = plotting.save_figure(
                    fig, tmp / "figures" / f.name, formats=tuple(spec.output.figure_formats)
                )
                plt.close(fig)
                pngs = [w for w in written if w.suffix == ".png"]
                if not pngs:
                    png = plotting.save_figure(fig, tmp / "figures" / f"{f.name}.png")[0]
                    pngs = [png]
                figure_section.figures.extend(pngs)
        advance()
        # --------------------------------------------------------------- report
        sections.append(ReportSection(title="Data", notes=data_notes + score_notes))
        sections += table_sections + model_sections
        if figure_section.figures:
            sections.append(figure_section)
        finished = datetime.now(timezone.utc)
        files = {
            str(p.relative_to(tmp)): sha256_file(p)
            for p in sorted(tmp.rglob("*"))
            if p.is_file() and p.name != "INCOMPLETE"
        }
        resolved = spec.model_dump(mode="json")
        prov = collect_provenance(
            inputs=inputs,
            spec={"resolved": resolved, "as_written": raw_spec or resolved},
            seeds=seeds,
            started=started,
            finished=finished,
            outputs=files,
        )
        write_provenance(prov, tmp / "provenance.json")
        (tmp / "spec.resolved.json").write_text(
            json.dumps(resolved, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        footer = (
            f"mutualaid_outcomes {prov['versions'].get('mutualaid_outcomes')}; seed {spec.seed}; "
            f"disclosure control: "
            + (f"counts below {spec.output.min_cell} suppressed" if spec.output.min_cell else "off")
            + ". No participant-level rows are included in this report."
        )
        render_report(spec.title, sections, footer=footer, path=tmp / "report.html")
        advance()
    (tmp / "INCOMPLETE").unlink()
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    result.files = files
    result.provenance = prov
    return result


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
