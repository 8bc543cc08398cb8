"""Stage 6 of a run: the ``[[tables]]``, each made by the handler of its ``type``.

``TABLE_HANDLERS`` maps a table step's ``type`` to a small function
``handler(step, ctx, where) -> Table``. A new table kind is one handler here and one
value in :class:`~mutualaid_outcomes.pipeline.spec.TableStep`'s ``type``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..disclosure import suppress_text
from ..errors import SpecError
from .report import ReportSection

if TYPE_CHECKING:
    from .context import RunContext
    from .spec import TableStep

__all__ = ["TABLE_HANDLERS", "make_tables"]

TableHandler = Callable[["TableStep", "RunContext", str], Any]


def spec_labels(ctx: RunContext) -> Any:
    """The label resolver of a run: the spec's ``[labels]`` over the codebook."""
    from .._labels import resolve_labels

    return resolve_labels(ctx.spec.labels.model_dump(), ctx.codebook)


def _table_one(t: TableStep, ctx: RunContext, where: str) -> Any:
    from ..tables import table_one

    return table_one(
        ctx.dataset(t.dataset, where),
        codebook=ctx.codebook,
        labels=spec_labels(ctx),
        by=t.by,
        variables=t.variables,
        categorical=t.categorical,
        nonnormal=t.nonnormal,
        style=ctx.spec.output.style,
        min_cell=ctx.spec.output.min_cell,
        title=t.title or "Table 1. Participant characteristics",
        design=ctx.design if t.design else None,
    )


def _regression_table(t: TableStep, ctx: RunContext, where: str) -> Any:
    from ..tables import regression_table

    if not t.models:
        raise SpecError(f"{where}: `models` must list at least one model name.")
    return regression_table(
        {n: ctx.models[n] for n in t.models},
        exponentiate=t.exponentiate,
        style=ctx.spec.output.style,
        codebook=ctx.codebook,
        labels=spec_labels(ctx),
        title=t.title,
        min_cell=ctx.spec.output.min_cell,
    )


def _mediation_table(t: TableStep, ctx: RunContext, where: str) -> Any:
    from ..tables import mediation_table

    if not t.models or len(t.models) != 1:
        raise SpecError(f"{where}: a mediation table takes exactly one model name.")
    return mediation_table(
        ctx.models[t.models[0]],
        style=ctx.spec.output.style,
        title=t.title,
        codebook=ctx.codebook,
        labels=spec_labels(ctx),
        min_cell=ctx.spec.output.min_cell,
    )


def _survival_table(t: TableStep, ctx: RunContext, where: str) -> Any:
    from ..tables import survival_table

    if not t.models or len(t.models) != 1:
        raise SpecError(f"{where}: a survival table takes exactly one model name.")
    return survival_table(
        ctx.models[t.models[0]],
        times=t.times,
        style=ctx.spec.output.style,
        title=t.title,
        codebook=ctx.codebook,
        labels=spec_labels(ctx),
        min_cell=ctx.spec.output.min_cell,
    )


#: table step ``type`` -> handler(step, ctx, where) -> Table
TABLE_HANDLERS: dict[str, TableHandler] = {
    "table_one": _table_one,
    "regression_table": _regression_table,
    "mediation_table": _mediation_table,
    "survival_table": _survival_table,
}


def numbered(table: Any, number: int) -> Any:
    """The table with ``"Table <number>. "`` before a title that has no number.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.tables import Table
    >>> body = pd.DataFrame({"n": ["1"]}, index=["a"])
    >>> numbered(Table(body=body, title="Models"), 2).title
    'Table 2. Models'
    >>> numbered(Table(body=body, title="Table 4. Models"), 2).title
    'Table 4. Models'
    """
    from ..tables.table import split_title

    label, caption = split_title(table.title or "")
    if label or not caption:
        return table
    return replace(table, title=f"Table {number}. {caption}")


def make_tables(ctx: RunContext) -> None:
    """Make every table of the spec and save it in each of ``output.table_formats``.

    A title without a number gets the table's position in the spec ("Table 3. ...").
    The report shows each table under its own numbered caption, without a heading
    that would repeat it.
    """
    formats = list(ctx.spec.output.table_formats)
    for i, t in enumerate(ctx.spec.tables):
        table = TABLE_HANDLERS[t.type](t, ctx, f"tables[{i}] ({t.name})")
        table = numbered(table, i + 1)
        if ctx.spec.output.min_cell is not None:
            table = replace(
                table,
                footnotes=[suppress_text(n, ctx.spec.output.min_cell) for n in table.footnotes],
            )
        ctx.tables[t.name] = table
        for ext in formats:
            table.save(ctx.tmp / "tables" / f"{t.name}.{ext}")
        ctx.table_sections.append(
            ReportSection(title=table.title or t.name, html_blocks=[table.to_html()], heading=False)
        )
