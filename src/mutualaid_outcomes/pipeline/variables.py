"""Stages 2 and 3 of a run: score the instruments, then derive new variables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .evaluation import evaluate
from .expressions import check_expression

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext
    from .spec import InstrumentStep

__all__ = [
    "score_instruments",
    "derive_variables",
    "score_step",
    "add_columns",
    "derive_column",
    "baseline_rows",
]


def score_step(data: pd.DataFrame, step: InstrumentStep) -> pd.DataFrame:
    """The score columns of one ``[[instruments]]`` step (``prefix`` applied)."""
    from ..instruments import score

    items: str | list[str] | dict[int, str] | None = (
        {int(k): v for k, v in step.items.items()} if isinstance(step.items, dict) else step.items
    )
    scores = score(
        data, step.instrument, items=items, missing=step.missing, on_invalid=step.on_invalid
    )
    if step.prefix:
        scores = scores.rename(
            columns=lambda c, s=step: (
                s.prefix + c[len(s.instrument) :] if c.startswith(s.instrument) else c
            )
        )
    return scores


def add_columns(data: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """``data`` with the columns of ``new`` added (replacing columns of the same name)."""
    import pandas as pd

    return pd.concat([data.drop(columns=[c for c in new if c in data]), new], axis=1)


def score_instruments(ctx: RunContext) -> None:
    """Score each ``[[instruments]]`` step and put the scores into the wave data.

    A score column already in the data is replaced; ``prefix`` renames the score
    columns (``cesd_total`` -> ``PREFIX_total``).
    """
    data = ctx.data
    for step in ctx.spec.instruments:
        scores = score_step(data, step)
        data = add_columns(data, scores)
        ctx.score_notes.append(f"{step.instrument}: {', '.join(scores.columns)}")
    ctx.datasets["data"] = data


def derive_column(data: pd.DataFrame, name: str, expr: str) -> pd.DataFrame:
    """``data`` with the ``[derive]`` column ``name`` added.

    The expression is checked against the allow-list and evaluated by the pipeline's
    own evaluator (:mod:`~mutualaid_outcomes.pipeline.evaluation`), never by ``eval``.
    """
    checked = check_expression(expr, key=f"derive.{name}", kind="derive")
    return data.assign(**{name: evaluate(checked, data)})


def baseline_rows(data: pd.DataFrame, time: str) -> pd.DataFrame:
    """The rows of the first wave (all rows when the data has no ``time`` column)."""
    return data.loc[data[time] == data[time].min()] if time in data else data


def derive_variables(ctx: RunContext) -> None:
    """Add the ``[derive]`` columns (expressions over the scored wave data).

    Also sets the ``baseline`` dataset: the rows of the first wave (all rows when the
    data has no ``time`` column).
    """
    data = ctx.data
    for name, expr in ctx.spec.derive.items():
        data = derive_column(data, name, expr)
        ctx.score_notes.append(f"derived {name} = {expr}")
    ctx.datasets["data"] = data
    ctx.datasets["baseline"] = baseline_rows(data, ctx.spec.time)
