"""Stage 4 of a run: code participation from the daily calendar.

Builds the ``analysis`` dataset (calendar windows per person, from
``[calendar_summary]``) and the ``relapse`` and ``counting_process`` datasets (time to
relapse with time-varying attendance, from ``[survival]``).
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext
    from .spec import CalendarStep, SurvivalStep

__all__ = ["code_participation"]


def _person_facts(ctx: RunContext) -> tuple[pd.Series | None, pd.Series | None]:
    """Sex (``"male"``/``"female"``) and index date per person, from the participants."""
    participants = ctx.datasets.get("participants")
    sex = index_date = None
    if participants is not None:
        pidx = participants.set_index(ctx.spec.id)
        if "sex" in pidx:
            sex = pidx["sex"].map({0: "male", 1: "female"})
        if "index_date" in pidx:
            index_date = pidx["index_date"]
    return sex, index_date


def _calendar_summary(ctx: RunContext, calendar: pd.DataFrame, cs: CalendarStep) -> None:
    from ..participation import summarize_calendar

    spec = ctx.spec
    sex, index_date = _person_facts(ctx)
    summ = summarize_calendar(
        calendar,
        id=spec.id,
        meetings="meetings" if "meetings" in calendar else None,
        windows={k: (v[0], v[1]) for k, v in cs.windows.items()},
        sex=sex,
        controlled="controlled" if "controlled" in calendar else None,
        index_date=index_date,
        heavy_threshold=(cs.heavy_threshold[0], cs.heavy_threshold[1]),
    )
    participants = ctx.datasets.get("participants")
    if participants is not None:
        summ = summ.merge(participants, on=spec.id, how="left")
    ctx.datasets["analysis"] = summ


def _survival(ctx: RunContext, calendar: pd.DataFrame, sv: SurvivalStep) -> None:
    from ..participation import relapse_times
    from ..prep.counting_process import to_counting_process

    spec = ctx.spec
    sex, index_date = _person_facts(ctx)
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
    participants = ctx.datasets.get("participants")
    if participants is not None:
        extra_frames.append(participants)
    if sv.baseline_covariates:
        data = ctx.data
        first = data[spec.time].min()
        base = data.loc[data[spec.time] == first, [spec.id, *sv.baseline_covariates]]
        extra_frames.append(base.rename(columns={c: f"{c}_0" for c in sv.baseline_covariates}))
    for extra in extra_frames:
        relapse = relapse.merge(extra, on=spec.id, how="left")
        counting = counting.merge(extra, on=spec.id, how="left")
    ctx.datasets.update(relapse=relapse, counting_process=counting)
    ctx.data_notes.append(
        f"Survival ({sv.definition}): {int(relapse['event'].sum())} events among "
        f"{len(relapse)} participants; {n_no_follow} participants without follow-up "
        f"days are excluded; counting process: {cp.n_rows_unmerged} daily intervals "
        f"merged to {cp.n_rows}."
        + (f" ({len(caught)} data warning(s) while building it; see below.)" if caught else "")
    )
    ctx.data_warnings += [f"Survival data: {w.message}" for w in caught]


def code_participation(ctx: RunContext) -> None:
    """Summarise the calendar and build the survival datasets the spec asks for.

    Nothing happens without a ``[calendar]`` data source; ``[calendar_summary]`` sets
    the ``analysis`` dataset and ``[survival]`` the ``relapse`` and
    ``counting_process`` datasets (people without follow-up days are excluded and
    counted in the report).
    """
    calendar = ctx.datasets.get("calendar")
    if calendar is None:
        return
    if ctx.spec.calendar_summary is not None:
        _calendar_summary(ctx, calendar, ctx.spec.calendar_summary)
    if ctx.spec.survival is not None:
        _survival(ctx, calendar, ctx.spec.survival)
