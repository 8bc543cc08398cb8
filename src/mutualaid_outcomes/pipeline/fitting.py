"""Stage 5 of a run: fit the ``[[models]]`` and write their tidy and glance tables."""

from __future__ import annotations

import inspect
import time
import warnings
from typing import TYPE_CHECKING, Any

from .._convergence import NONCONVERGENCE_MARK, nonconvergence
from ..disclosure import suppress_text
from ..errors import ConvergenceWarning, SpecError
from .design_step import first_argument
from .evaluation import evaluate
from .expressions import check_expression, check_formula, missing_columns
from .functions import resolve_function, takes_rng
from .problems import problem_list
from .report import ReportSection
from .spec_rules import is_formula_option, option_columns

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext
    from .spec import ModelStep

__all__ = ["fit_models", "model_arguments"]


def _model_frame(ctx: RunContext, i: int, m: ModelStep) -> pd.DataFrame:
    """The dataset a model is fitted to, after its ``filter``.

    The filter is checked and evaluated by the pipeline's own evaluator; rows where it
    is missing are dropped (as pandas ``query`` does).
    """
    where = f"models[{i}] ({m.name})"
    frame = ctx.dataset(m.dataset, where)
    if m.filter:
        checked = check_expression(m.filter, key=f"{where}.filter", kind="filter")
        mask = evaluate(checked, frame)
        if not _is_logical(mask):
            raise SpecError(
                f"{where}.filter '{m.filter}' must give True or False for each row; "
                f"got {getattr(mask, 'dtype', type(mask).__name__)}."
            )
        frame = frame.loc[mask.fillna(False).astype(bool)]
    return frame


def _is_logical(mask: object) -> bool:
    import pandas as pd

    return isinstance(mask, pd.Series) and (
        pd.api.types.is_bool_dtype(mask.dtype) or isinstance(mask.dtype, pd.BooleanDtype)
    )


def model_arguments(where: str, m: ModelStep, frame: pd.DataFrame) -> dict[str, Any]:
    """The step's options as handed to the model function.

    Formula options are rebuilt from their checked pieces
    (:attr:`~mutualaid_outcomes.pipeline.expressions.CheckedFormula.engine_text`), and
    every column a formula or a column option names must be a column of ``frame``, so
    no name in a spec is ever looked up anywhere but the data.

    Raises
    ------
    SpecError
        If a formula is refused or names a column that is not in ``frame``.
    """
    options = dict(m.options)
    problems: list[str] = []
    available = f"dataset '{m.dataset}'"
    for key, value in options.items():
        if is_formula_option(key) and value is not None:
            checked = check_formula(value, key=f"{where}.{key}")
            problems += missing_columns(
                checked.columns, frame.columns, key=f"{where}.{key}", where=available
            )
            options[key] = checked.engine_text
        elif (names := option_columns(key, value, options)) is not None:
            problems += missing_columns(names, frame.columns, key=f"{where}.{key}", where=available)
    if problems:
        raise SpecError(problem_list(problems, "columns"))
    return options


def published(fitted: Any, min_cell: int | None) -> tuple[Any, Any, Any]:
    """The ``tidy()``, ``glance()`` and ``summary()`` of a model as a run publishes them.

    Under ``min_cell`` (:mod:`mutualaid_outcomes.disclosure`): counts below it in the
    tidy and glance frames are blanked, Kaplan-Meier medians and cumulative incidences
    of small groups or reached with fewer than ``min_cell`` at risk are blanked (any
    ``tidy`` that takes ``min_cell``), the sizes of small latent classes are hidden (a
    result's ``disclosed(min_cell)``), and counts in the notes are replaced by
    ``<min_cell``.
    """
    from ..disclosure import suppress_frame, suppress_text

    summary = fitted.summary()
    if min_cell is None:
        return fitted.tidy(), fitted.glance(), summary
    survival = "min_cell" in inspect.signature(fitted.tidy).parameters
    tidy = fitted.tidy(min_cell=min_cell) if survival else fitted.tidy()
    tidy = suppress_frame(tidy, min_cell)
    if hasattr(fitted, "disclosed"):  # latent classes: sizes of small classes
        raw_glance, notes = fitted.disclosed(min_cell)
        summary.notes = tuple(notes)
    else:
        raw_glance = fitted.glance()
    glance = suppress_frame(raw_glance, min_cell)
    summary.tidy = tidy if survival else suppress_frame(summary.tidy, min_cell)
    summary.glance = glance
    summary.notes = tuple(suppress_text(n, min_cell) for n in summary.notes)
    return tidy, glance, summary


def report_summary(summary: Any, fitted: Any, ctx: RunContext) -> Any:
    """The summary as the report shows it: labelled terms, the spec's journal preset.

    Coefficient and effect names go through the run's label resolver (the spec's
    ``[labels]`` over the codebook and the instrument specs), as in the tables;
    p-values follow ``output.style``. The ``tidy`` CSV files keep the names.
    """
    from ..tables.term_labels import result_term_labels
    from .table_steps import spec_labels

    terms = list(summary.tidy["term"]) if "term" in summary.tidy.columns else []
    labels = result_term_labels(fitted, terms, spec_labels(ctx)) if terms else {}
    return summary.relabelled(labels, style=ctx.spec.output.style)


def labelled_tidy(tidy: Any, fitted: Any, ctx: RunContext) -> Any:
    """The tidy frame with a ``label`` column after ``term`` (names kept for matching)."""
    from ..tables.term_labels import result_term_labels
    from .table_steps import spec_labels

    if "term" not in tidy.columns or "label" in tidy.columns:
        return tidy
    labels = result_term_labels(fitted, list(tidy["term"]), spec_labels(ctx))
    out = tidy.copy()
    out.insert(
        int(out.columns.get_loc("term")) + 1, "label", [labels[str(t)] for t in tidy["term"]]
    )
    return out


def fit_models(ctx: RunContext) -> None:
    """Fit every model of the spec, each with its own seed.

    Each function is called as ``func(dataset, **options, rng=generator)``: the
    options are the step's keys, already checked against the function's signature,
    and ``rng`` is passed to the functions that take one. The seeds come from ``numpy.random.SeedSequence(spec.seed).spawn(n_models)`` in
    spec order, so adding a model at the end leaves the earlier models' numbers
    unchanged. Each model's ``tidy()`` and ``glance()`` go to
    ``tables/model_NAME_tidy.csv`` (with a ``label`` column of readable term labels
    next to the coefficient names) and ``..._glance.csv``; warnings raised while
    fitting are listed in the model's report section.
    """
    import numpy as np

    spec = ctx.spec
    child_seeds = np.random.SeedSequence(spec.seed).spawn(max(len(spec.models), 1))
    for i, m in enumerate(spec.models):
        frame = _model_frame(ctx, i, m)
        func = resolve_function(m.type)
        seed = int(child_seeds[i].generate_state(1)[0])
        ctx.seeds[m.name] = seed
        options = model_arguments(f"models[{i}] ({m.name})", m, frame)
        if takes_rng(m.type):
            options["rng"] = np.random.default_rng(seed)
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fitted = func(first_argument(ctx, m.type, frame), **options)
        elapsed = time.perf_counter() - t0
        ctx.models[m.name] = fitted
        tidy, glance, summary = published(fitted, spec.output.min_cell)
        summary = report_summary(summary, fitted, ctx)
        tidy = labelled_tidy(tidy, fitted, ctx)
        for part, table in (("tidy", tidy), ("glance", glance)):
            table.to_csv(
                ctx.tmp / "tables" / f"model_{m.name}_{part}.csv",
                index=False,
                float_format="%.10g",
            )
        msgs = sorted({str(w.message) for w in caught})
        why = nonconvergence(fitted)
        if why is not None:  # also on the console, not only in the report
            warnings.warn(
                f"Model {m.name} did not converge ({why}); its tables mark it with "
                f"{NONCONVERGENCE_MARK}.",
                ConvergenceWarning,
                stacklevel=2,
            )
        ctx.model_sections.append(
            ReportSection(
                title=f"Model: {m.name} ({m.type})",
                html_blocks=[summary.as_html()],
                notes=[f"Fitted in {elapsed:.1f} s."]
                + [suppress_text(f"Warning: {w}", spec.output.min_cell) for w in msgs],
            )
        )
