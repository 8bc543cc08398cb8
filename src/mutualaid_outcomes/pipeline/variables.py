"""Stages 2 and 3 of a run: score the instruments, then derive new variables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import SpecError

if TYPE_CHECKING:
    from .context import RunContext

__all__ = ["score_instruments", "derive_variables"]


def score_instruments(ctx: RunContext) -> None:
    """Score each ``[[instruments]]`` step and put the scores into the wave data.

    A score column already in the data is replaced; ``prefix`` renames the score
    columns (``cesd_total`` -> ``PREFIX_total``).
    """
    import pandas as pd

    from ..instruments import score

    data = ctx.data
    for step in ctx.spec.instruments:
        items: str | list[str] | dict[int, str] | None = (
            {int(k): v for k, v in step.items.items()}
            if isinstance(step.items, dict)
            else step.items
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
        data = pd.concat([data.drop(columns=[c for c in scores if c in data]), scores], axis=1)
        ctx.score_notes.append(f"{step.instrument}: {', '.join(scores.columns)}")
    ctx.datasets["data"] = data


def derive_variables(ctx: RunContext) -> None:
    """Add the ``[derive]`` columns (pandas expressions over the scored wave data).

    Also sets the ``baseline`` dataset: the rows of the first wave (all rows when the
    data has no ``time`` column).
    """
    data = ctx.data
    for name, expr in ctx.spec.derive.items():
        try:
            data = data.assign(**{name: data.eval(expr)})
        except Exception as exc:  # noqa: BLE001 - pandas raises many types
            raise SpecError(f"derive.{name}: expression '{expr}' failed: {exc}") from None
        ctx.score_notes.append(f"derived {name} = {expr}")
    ctx.datasets["data"] = data
    time = ctx.spec.time
    ctx.datasets["baseline"] = data.loc[data[time] == data[time].min()] if time in data else data
