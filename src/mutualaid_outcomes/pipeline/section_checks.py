"""Column checks of the ``[design]``, ``[[sem]]`` and ``[[meta]]`` sections before fitting.

Part of the ``check references`` stage (and so of ``mutualaid validate``): every column
the sections name is looked up in the dataset it will be read from -- the design's and
each SEM's dataset, each meta-analysis's study file -- and every missing one is reported,
with close matches, before anything is fitted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import MutualAidError
from .design_step import design_columns
from .meta_steps import meta_columns
from .section_args import StudyFile, column_problems
from .sem_steps import sem_columns

if TYPE_CHECKING:
    from .context import RunContext

__all__ = ["section_problems"]


def section_problems(ctx: RunContext) -> list[str]:
    """Every column of a section that its data do not have (one line each)."""
    from .sources import load_source

    spec = ctx.spec
    problems: list[str] = []
    if spec.design is not None:
        frame = ctx.datasets.get(spec.design.dataset)
        if frame is not None:
            problems += column_problems(
                design_columns(spec.design),
                frame.columns,
                f"design (dataset '{spec.design.dataset}')",
            )
    for i, s in enumerate(spec.sem):
        frame = ctx.datasets.get(s.dataset)
        if frame is not None:
            problems += column_problems(sem_columns(s), frame.columns, f"sem[{i}] ({s.name}).model")
    for i, m in enumerate(spec.meta):
        where = f"meta[{i}] ({m.name})"
        try:
            frame, _ = load_source(StudyFile(m.path), ctx.base_dir)
        except MutualAidError as exc:
            problems.append(f"{where}.path: {exc}")
            continue
        problems += column_problems(meta_columns(m), frame.columns, where)
    return problems
