"""The ``[[meta]]`` spec section: meta-analyses of study-level data.

Each ``[[meta]]`` entry reads a study-level file, optionally computes effect sizes,
fits :func:`~mutualaid_outcomes.models.meta.meta_analysis` and writes its results::

    [[meta]]
    name = "bcg"                  # plain name: files meta_bcg_*.csv, meta_bcg.docx ...
    path = "bcg_trials.csv"       # one row per study, relative to the spec file
    study = "author"              # every other key is a keyword of meta_analysis()
    method = "REML"
    test = "knha"
    moderators = ["ablat"]
    exponentiate = true           # table and forest plot on the ratio scale
    [meta.effect_sizes]           # optional: the keywords of effect_sizes()
    measure = "RR"
    events1 = "tpos"
    n1 = "n_vaccinated"
    events2 = "cpos"
    n2 = "n_control"

Outputs: ``tables/meta_NAME_tidy.csv`` and ``..._glance.csv`` (full precision), the
meta-analysis table ``tables/meta_NAME.EXT`` in every ``output.table_formats`` and the
forest plot ``figures/meta_NAME_forest.EXT`` (studies and pooled effect; the
coefficients of a meta-regression). The keys are checked against the
functions' signatures when the spec is read (``mutualaid validate``); the columns they
name are checked against the file before anything is fitted. No key holds an
expression: every value is a column name, a number or one of a fixed set of words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from ..errors import SpecError
from .report import ReportSection
from .section_args import StudyFile, column_problems, keyword_problems, plain_name

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext

__all__ = ["MetaStep", "run_meta_analyses", "meta_columns"]

#: keys of a [[meta]] entry that are not keywords of meta_analysis()
_OWN_KEYS = ("name", "path", "effect_sizes", "exponentiate")
#: keywords of effect_sizes() / meta_analysis() that name columns
_ES_COLUMNS = (
    "events1",
    "n1",
    "events2",
    "n2",
    "time1",
    "time2",
    "mean1",
    "sd1",
    "mean2",
    "sd2",
    "r",
    "n",
)
_MA_COLUMNS = ("effect", "variance", "se", "by", "study", "moderators")


class MetaStep(BaseModel):
    """One ``[[meta]]`` entry (see the module docstring)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    path: str
    effect_sizes: dict[str, Any] | None = None
    exponentiate: bool = False

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return plain_name(v)

    @model_validator(mode="after")
    def _check_keywords(self) -> MetaStep:
        from ..models.meta import effect_sizes, meta_analysis

        where = f"meta '{self.name}'"
        problems = keyword_problems(meta_analysis, self.options, where, skip=("data",))
        if self.effect_sizes is not None:
            problems += keyword_problems(
                effect_sizes, self.effect_sizes, f"{where}.effect_sizes", skip=("data",)
            )
        if problems:
            raise ValueError("\n    ".join(problems))
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``meta_analysis`` given in the spec."""
        return dict(self.model_extra or {})


def meta_columns(step: MetaStep) -> list[str]:
    """Every column of the study file that the entry names (before effect sizes)."""
    es = step.effect_sizes
    names = [v for k, v in (es or {}).items() if k in _ES_COLUMNS and isinstance(v, str)]
    produced = set(es.get("names", ("yi", "vi"))) if es is not None else set()
    opts = dict(step.options)
    opts.setdefault("effect", "yi")
    if "variance" not in opts and "se" not in opts:
        opts["variance"] = "vi"
    for key in _MA_COLUMNS:
        value = opts.get(key)
        values = [value] if isinstance(value, str) else list(value or [])
        names += [v for v in values if v not in produced]
    return names


def _read(step: MetaStep, ctx: RunContext, where: str) -> pd.DataFrame:
    from .sources import load_source

    frame, path = load_source(StudyFile(step.path), ctx.base_dir)
    ctx.inputs.append(path)
    problems = column_problems(meta_columns(step), frame.columns, where)
    if problems:
        raise SpecError("\n".join(problems))
    return frame


def _fit(step: MetaStep, frame: pd.DataFrame) -> Any:
    from ..models.meta import effect_sizes, meta_analysis

    if step.effect_sizes is not None:
        opts = dict(step.effect_sizes)
        frame = effect_sizes(frame, opts.pop("measure"), **opts)
    return meta_analysis(frame, **step.options)


def _forest(result: Any, step: MetaStep, ctx: RunContext) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from ..plotting import plot_forest, plot_meta_forest, publication_style, save_figure

    style = ctx.spec.output.style
    with publication_style(style if style in ("apa", "jama") else "apa", columns=2):
        fig, ax = plt.subplots()
        if result.intercept_only:
            plot_meta_forest(result, ax=ax, exponentiate=step.exponentiate)
        else:  # a meta-regression: its coefficients
            plot_forest(result, ax=ax, exponentiate=step.exponentiate)
        stem = ctx.tmp / "figures" / f"meta_{step.name}_forest"
        written = save_figure(fig, stem, formats=tuple(ctx.spec.output.figure_formats))
        pngs = [w for w in written if w.suffix == ".png"] or save_figure(
            fig, stem.with_suffix(".png")
        )[:1]
        plt.close(fig)
    ctx.figures.extend(pngs)


def run_meta_analyses(ctx: RunContext) -> None:
    """Fit every ``[[meta]]`` entry and write its tables and forest plot."""
    from ..tables import meta_table

    for i, step in enumerate(ctx.spec.meta):
        where = f"meta[{i}] ({step.name})"
        try:
            result = _fit(step, _read(step, ctx, where))
        except SpecError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            raise SpecError(f"{where}: {exc}") from exc
        ctx.models[step.name] = result
        for part, frame in (("tidy", result.tidy()), ("glance", result.glance())):
            frame.to_csv(
                ctx.tmp / "tables" / f"meta_{step.name}_{part}.csv",
                index=False,
                float_format="%.10g",
            )
        from .table_steps import spec_labels

        lab = spec_labels(ctx)
        table = meta_table(
            result,
            exponentiate=step.exponentiate,
            style=ctx.spec.output.style,
            labels=dict(lab.variables) or None,
            title=f"Meta-analysis: {step.name}",
        )
        for ext in ctx.spec.output.table_formats:
            table.save(ctx.tmp / "tables" / f"meta_{step.name}.{ext}")
        _forest(result, step, ctx)
        ctx.model_sections.append(
            ReportSection(
                title=f"Meta-analysis: {step.name}",
                html_blocks=[
                    table.to_html(),
                    _labelled_summary(result, lab, ctx.spec.output.style).as_html(),
                ],
                heading=False,
            )
        )


def _labelled_summary(result: Any, lab: Any, style: str) -> Any:
    """The summary with the run's term labels (moderators) and journal preset."""
    from ..tables.term_labels import result_term_labels

    summary = result.summary()
    terms = list(summary.tidy["term"]) if "term" in summary.tidy.columns else []
    return summary.relabelled(result_term_labels(result, terms, lab), style=style)
