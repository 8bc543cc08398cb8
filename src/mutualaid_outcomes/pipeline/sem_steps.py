"""The ``[[sem]]`` spec section: structural equation models in lavaan syntax.

Each ``[[sem]]`` entry fits :func:`~mutualaid_outcomes.models.sem.fit_sem` to one of the
spec's datasets; every key but ``name`` and ``dataset`` is a keyword of ``fit_sem``::

    [[sem]]
    name = "mechanisms"           # plain name: files sem_mechanisms_*.csv ...
    dataset = "data"              # a dataset of the spec (default the wave data)
    model = '''
        efficacy =~ eff1 + eff2 + eff3
        efficacy ~ a*aa_meetings
        pda ~ b*efficacy + aa_meetings
        indirect := a*b
    '''
    missing = "fiml"
    estimator = "MLR"

The model syntax is parsed when the spec is read (a syntax error names its line and
column at ``mutualaid validate``), and the variables it names are checked against the
dataset before anything is fitted. The syntax is read by the package's own lavaan
parser; it is never evaluated as Python. Outputs: ``tables/sem_NAME_tidy.csv`` and
``..._glance.csv`` (full precision), the parameter table ``tables/sem_NAME.EXT``, one
fit table of all SEMs ``tables/sem_fit.EXT`` and the path diagram
``figures/sem_NAME_path.EXT``. With ``n_boot`` the resamples are seeded from the
spec's seed (a stream separate from the ``[[models]]``'), recorded in the provenance.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..errors import MutualAidError, SpecError
from .report import ReportSection
from .section_args import column_problems, keyword_problems, plain_name
from .table_steps import spec_labels

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext

__all__ = ["SemStep", "fit_sems", "sem_columns"]

#: spawn key of the SEM seed stream (the [[models]] use the keys (0,), (1,), ...)
_SEM_STREAM = 20


class SemStep(BaseModel):
    """One ``[[sem]]`` entry (see the module docstring)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    dataset: str = "data"

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return plain_name(v)

    @model_validator(mode="after")
    def _check_keywords(self) -> SemStep:
        from ..models.sem import fit_sem
        from ..models.sem.syntax import parse_model

        where = f"sem '{self.name}'"
        problems = keyword_problems(fit_sem, self.options, where, skip=("data", "rng"))
        model = self.options.get("model")
        if isinstance(model, str):
            try:
                parse_model(model)
            except MutualAidError as exc:
                problems.append(f"{where}.model: {exc}")
        elif model is not None:
            problems.append(f"{where}.model must be lavaan model syntax (a string)")
        if problems:
            raise ValueError("\n    ".join(problems))
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``fit_sem`` given in the spec."""
        return dict(self.model_extra or {})


def sem_columns(step: SemStep) -> list[str]:
    """The observed variables of the model plus the ``group`` and ``cluster`` columns."""
    from ..models.sem.partable import _roles
    from ..models.sem.syntax import parse_model

    parsed = parse_model(step.options["model"])
    roles = _roles(parsed.statements, bool(step.options.get("fixed_x", True)))
    extra = [step.options.get(k) for k in ("group", "cluster")]
    return list(roles.ov) + [c for c in extra if isinstance(c, str)]


def _fit(step: SemStep, frame: pd.DataFrame, seed: int, where: str) -> Any:
    import numpy as np

    from ..models.sem import fit_sem

    problems = column_problems(sem_columns(step), frame.columns, f"{where}.model")
    if problems:
        raise SpecError("\n".join(problems))
    return fit_sem(frame, **step.options, rng=np.random.default_rng(seed))


def _path_diagram(result: Any, name: str, ctx: RunContext) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..plotting import plot_path_diagram, publication_style, save_figure

    style = ctx.spec.output.style
    with publication_style(style if style in ("apa", "jama") else "apa", columns=2):
        fig, ax = plt.subplots()
        plot_path_diagram(result, ax=ax)
        stem = ctx.tmp / "figures" / f"sem_{name}_path"
        written = save_figure(fig, stem, formats=tuple(ctx.spec.output.figure_formats))
        pngs = [w for w in written if w.suffix == ".png"] or save_figure(
            fig, stem.with_suffix(".png")
        )[:1]
        plt.close(fig)
    ctx.figures.extend(pngs)


def fit_sems(ctx: RunContext) -> None:
    """Fit every ``[[sem]]`` entry; write its tables and path diagram, then the fit table."""
    import numpy as np

    from ..tables import sem_fit_table, sem_table

    fitted = {}
    for i, step in enumerate(ctx.spec.sem):
        where = f"sem[{i}] ({step.name})"
        seq = np.random.SeedSequence(ctx.spec.seed, spawn_key=(_SEM_STREAM, i))
        seed = int(seq.generate_state(1)[0])
        ctx.seeds[f"sem:{step.name}"] = seed
        result = _fit(step, ctx.dataset(step.dataset, where), seed, where)
        fitted[step.name] = ctx.models[step.name] = result
        for part, frame in (("tidy", result.tidy()), ("glance", result.glance())):
            frame.to_csv(
                ctx.tmp / "tables" / f"sem_{step.name}_{part}.csv",
                index=False,
                float_format="%.10g",
            )
        table = sem_table(
            result,
            codebook=ctx.codebook,
            labels=dict(spec_labels(ctx).variables) or None,
            title=f"Structural equation model: {step.name}",
        )
        for ext in ctx.spec.output.table_formats:
            table.save(ctx.tmp / "tables" / f"sem_{step.name}.{ext}")
        _path_diagram(result, step.name, ctx)
        ctx.model_sections.append(
            ReportSection(
                title=f"Structural equation model: {step.name}",
                html_blocks=[table.to_html()],
                notes=list(result.notes),
                heading=False,
            )
        )
    if fitted:
        fit_table = sem_fit_table(fitted, title="Fit of the structural equation models")
        for ext in ctx.spec.output.table_formats:
            fit_table.save(ctx.tmp / "tables" / f"sem_fit.{ext}")
        ctx.table_sections.append(
            ReportSection(title=fit_table.title, html_blocks=[fit_table.to_html()], heading=False)
        )
