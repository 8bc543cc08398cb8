"""Checks of a spec against its data, run before anything is fitted.

Two stages of a run (and all of ``mutualaid validate``):

- :func:`check_columns` runs right after the data are read. It works on empty
  (zero-row) copies of the data, so it costs nothing: it scores each instrument and
  evaluates each ``[derive]`` expression on them to learn the columns those steps will
  create, then checks every column a step names -- instrument items, derive inputs,
  the calendar columns the participation coding reads, model roles, formula and filter
  columns, table and figure columns -- against the columns its dataset will have.
- :func:`check_references` runs after participation coding, before the models, and
  checks the same references against the real datasets, including ``analysis``,
  ``relapse`` and ``counting_process``, which exist only from then on.

Every problem is collected and reported in one :class:`~mutualaid_outcomes.errors.SpecError`,
with close-match suggestions for misspelt columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import MutualAidError, SpecError
from .evaluation import evaluate
from .expressions import check_expression, check_formula, missing_columns
from .problems import problem_list
from .section_checks import section_problems
from .spec_rules import is_formula_option, option_columns
from .variables import add_columns, baseline_rows, score_step

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext
    from .spec import AnalysisSpec, InstrumentStep

__all__ = ["check_columns", "check_references", "reference_problems"]

#: datasets built by participation coding, checkable only after it ran
_LATE = frozenset({"analysis", "relapse", "counting_process"})
_WHERE = {
    "data": "the wave data (after scoring and [derive])",
    "baseline": "the baseline rows (after scoring and [derive])",
}


def _expected_items(step: InstrumentStep) -> list[str]:
    from ..instruments import get_spec

    if isinstance(step.items, list):
        return list(step.items)
    if isinstance(step.items, dict):
        return list(step.items.values())
    return list(get_spec(step.instrument).default_columns(step.items))


def _score_columns(data: pd.DataFrame, i: int, step: InstrumentStep, problems: list[str]) -> Any:
    """The (empty) score columns of a step; a problem is recorded if the items are absent."""
    import pandas as pd

    where = f"instruments[{i}] ({step.instrument})"
    try:
        return score_step(data, step)
    except MutualAidError as exc:
        problems.append(f"{where}: {exc}")
    try:  # the columns the step would make, so later steps are checked all the same
        items = pd.DataFrame({c: pd.Series(dtype=float) for c in _expected_items(step)})
        return score_step(items, step)
    except (MutualAidError, ValueError, KeyError):
        return None


def _derived(data: pd.DataFrame, spec: AnalysisSpec, problems: list[str]) -> pd.DataFrame:
    import pandas as pd

    for name, expr in spec.derive.items():
        key = f"derive.{name}"
        try:
            checked = check_expression(expr, key=key, kind="derive")
        except SpecError as exc:
            problems.append(str(exc))
            continue
        absent = missing_columns(
            checked.columns,
            data.columns,
            key=key,
            where="the wave data at this point (after scoring and the [derive] lines above)",
        )
        if absent:
            problems += absent
            data = data.assign(**{name: pd.Series(dtype=float)})
            continue
        try:
            data = data.assign(**{name: evaluate(checked, data)})
        except SpecError as exc:
            problems.append(str(exc))
            data = data.assign(**{name: pd.Series(dtype=float)})
    return data


def _participation_problems(spec: AnalysisSpec, frames: dict[str, Any]) -> list[str]:
    """Columns the calendar summary and the survival datasets read."""
    problems: list[str] = []
    calendar = frames.get("calendar")
    if calendar is None or (spec.calendar_summary is None and spec.survival is None):
        return problems
    needed = [spec.id, "date", "drinks"]
    if spec.survival is not None:
        needed += ["day"] + [v[0] for v in spec.survival.rolling.values()]
    problems += missing_columns(
        list(dict.fromkeys(needed)), calendar.columns, key="calendar", where="the calendar data"
    )
    participants = frames.get("participants")
    if participants is not None:
        problems += missing_columns(
            [spec.id], participants.columns, key="participants", where="the participant data"
        )
    if spec.survival is not None and spec.survival.baseline_covariates:
        problems += missing_columns(
            [spec.time, *spec.survival.baseline_covariates],
            frames["data"].columns,
            key="survival.baseline_covariates",
            where=_WHERE["data"],
        )
    return problems


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def _model_problems(i: int, m: Any, columns: Any, where_data: str) -> list[str]:
    where = f"models[{i}] ({m.name})"
    problems: list[str] = []
    if m.filter:
        try:
            cols = check_expression(m.filter, key=f"{where}.filter", kind="filter").columns
            problems += missing_columns(cols, columns, key=f"{where}.filter", where=where_data)
        except SpecError as exc:
            problems.append(str(exc))
    for key, value in m.options.items():
        if is_formula_option(key) and value is not None:
            try:
                cols = check_formula(value, key=f"{where}.{key}").columns
            except SpecError as exc:
                problems.append(str(exc))
                continue
        elif (names := option_columns(key, value, m.options)) is not None:
            cols = tuple(names)
        else:
            continue
        problems += missing_columns(cols, columns, key=f"{where}.{key}", where=where_data)
    return problems


def reference_problems(
    spec: AnalysisSpec, frames: dict[str, Any], skip: frozenset[str] = frozenset()
) -> list[str]:
    """Every column named by a model, table or figure that its dataset does not have.

    Datasets in ``skip`` (or not built) are left out.
    """
    problems: list[str] = []

    def usable(name: str) -> Any:
        frame = frames.get(name)
        return None if name in skip or frame is None else frame.columns

    for i, m in enumerate(spec.models):
        columns = usable(m.dataset)
        if columns is not None:
            where_data = _WHERE.get(m.dataset, f"dataset '{m.dataset}'")
            problems += _model_problems(i, m, columns, where_data)
    for i, t in enumerate(spec.tables):
        columns = usable(t.dataset) if t.type == "table_one" else None
        if columns is None:
            continue
        where = f"tables[{i}] ({t.name})"
        for key in ("by", "variables", "categorical", "nonnormal"):
            problems += missing_columns(
                _names(getattr(t, key)),
                columns,
                key=f"{where}.{key}",
                where=_WHERE.get(t.dataset, f"dataset '{t.dataset}'"),
            )
    for i, f in enumerate(spec.figures):
        columns = usable(f.dataset) if f.type == "trajectories" else None
        if columns is None:
            continue
        where = f"figures[{i}] ({f.name})"
        for key in ("time", "value", "by"):
            problems += missing_columns(
                _names(getattr(f, key)),
                columns,
                key=f"{where}.{key}",
                where=_WHERE.get(f.dataset, f"dataset '{f.dataset}'"),
            )
    return problems


def check_columns(ctx: RunContext) -> None:
    """Check every column the spec names against the columns its datasets will have.

    Runs on zero-row copies of the loaded data: the instruments are scored and the
    ``[derive]`` expressions evaluated on them to learn the columns they create.
    Nothing in ``ctx`` is changed.

    Raises
    ------
    SpecError
        Listing every problem found.
    """
    spec = ctx.spec
    frames: dict[str, Any] = {
        k: v.iloc[:0] for k, v in ctx.datasets.items() if v is not None and k != "baseline"
    }
    problems: list[str] = []
    data = frames["data"]
    for i, step in enumerate(spec.instruments):
        scores = _score_columns(data, i, step, problems)
        if scores is not None:
            data = add_columns(data, scores)
    data = _derived(data, spec, problems)
    frames.update(data=data, baseline=baseline_rows(data, spec.time))
    problems += _participation_problems(spec, frames)
    problems += reference_problems(spec, frames, skip=_LATE)
    if problems:
        raise SpecError(problem_list(problems, "checked against the data"))


def check_references(ctx: RunContext) -> None:
    """Check the columns named by every step against the real datasets.

    Models, tables, figures, ``[design]`` and ``[[sem]]`` against their datasets;
    ``[[meta]]`` against its study files.

    Raises
    ------
    SpecError
        Listing every problem found.
    """
    problems = reference_problems(ctx.spec, dict(ctx.datasets))
    problems += section_problems(ctx)
    if problems:
        raise SpecError(problem_list(problems, "checked against the data"))
