"""Checks shared by the spec sections that call one public function with their keys.

The ``[[meta]]``, ``[design]`` and ``[[sem]]`` sections hand their keys to a public
function as keyword arguments (the keys *are* its keyword names, docs/conventions.md).
:func:`keyword_problems` checks them against the function's signature and its
``Literal`` type hints when the spec is read, so ``mutualaid validate`` reports an
unknown key, a missing required one or a value outside the allowed set before any
data are read. :func:`plain_name` is the rule for names that become file stems.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from .functions import _literal_choices, parameter_hints

__all__ = ["keyword_problems", "plain_name", "column_problems", "check_sections", "StudyFile"]


@dataclass(frozen=True)
class StudyFile:
    """A file a section reads on its own (a ``[[meta]]`` study file), read like a data source."""

    path: str
    columns: list[str] | None = None
    missing_codes: list[float] | None = None


_STEM = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def plain_name(value: str) -> str:
    """``value`` if it is a plain file stem (letters, digits, ``_ . -``, no leading dot).

    Raises
    ------
    ValueError
        Naming the rule (pydantic turns it into a spec error at the key).
    """
    if not _STEM.match(value) or ".." in value:
        raise ValueError(
            f"'{value}' is not a plain name: use letters, digits, '_', '.' and '-' only, "
            "not starting with '.' and without '..' (it becomes a file name)"
        )
    return value


def keyword_problems(
    func: Callable[..., Any], options: dict[str, Any], where: str, *, skip: Iterable[str]
) -> list[str]:
    """Problems of ``options`` as keyword arguments of ``func`` (empty when none).

    ``skip`` names the parameters the pipeline fills itself (the data, ``rng``).
    """
    params = {n: p for n, p in inspect.signature(func).parameters.items() if n not in set(skip)}
    problems = []
    for key in sorted(set(options) - set(params)):
        close = difflib.get_close_matches(key, list(params), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        problems.append(
            f"{where}: unknown key '{key}'{hint}; the keys are the keyword arguments of "
            f"{func.__name__}(): {sorted(params)}"
        )
    for name, p in params.items():
        if p.default is inspect.Parameter.empty and name not in options:
            problems.append(f"{where}: required key '{name}' is missing ({func.__name__}())")
    hints = parameter_hints(func, options)
    for key, value in options.items():
        choices = _literal_choices(hints.get(key))
        if choices and isinstance(value, str) and value not in choices:
            problems.append(f"{where}.{key} must be one of {sorted(choices)}; got '{value}'")
    return problems


def column_problems(names: Iterable[str | None], columns: Iterable[str], where: str) -> list[str]:
    """One problem per name that is not a column, with the closest column names."""
    have = [str(c) for c in columns]
    out = []
    for name in names:
        if name is None or name in have:
            continue
        close = difflib.get_close_matches(name, have, n=3)
        hint = f"; did you mean {close}?" if close else ""
        out.append(f"{where}: column '{name}' is not in the data{hint}")
    return out


def check_sections(spec: Any, datasets: Iterable[str], design_models: Iterable[str]) -> None:
    """The ``[design]``, ``[[meta]]`` and ``[[sem]]`` sections fit the rest of the spec.

    * ``[[sem]]`` and ``[design]`` name datasets the spec can build;
    * ``survey_glm`` models and ``table_one`` tables with ``design = true`` need a
      ``[design]`` and must use its dataset; ``survey_glm`` models take no ``filter``;
    * ``design = true`` only on ``table_one`` tables;
    * names are unique across ``[[models]]``, ``[[meta]]`` and ``[[sem]]``, and no table
      takes the file name of a ``[[meta]]`` or ``[[sem]]`` table.

    Raises
    ------
    ValueError
        Listing every problem (pydantic turns it into a spec error).
    """
    known = list(datasets)
    design = spec.design
    problems = []
    names = [m.name for m in spec.models] + [m.name for m in spec.meta] + [s.name for s in spec.sem]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        problems.append(
            f"names of [[models]], [[meta]] and [[sem]] must be unique; repeated: {dup}"
        )
    section_files = {f"meta_{m.name}" for m in spec.meta} | {f"sem_{s.name}" for s in spec.sem}
    section_files |= {"sem_fit"} if spec.sem else set()
    for i, t in enumerate(spec.tables):
        if t.name in section_files:
            problems.append(
                f"tables[{i}]: the name '{t.name}' is the file of a [[meta]] or [[sem]] table"
            )
    for i, s in enumerate(spec.sem):
        if s.dataset not in known:
            problems.append(f"sem[{i}].dataset '{s.dataset}' is not one of {known}")
    if design is not None and design.dataset not in known:
        problems.append(f"design.dataset '{design.dataset}' is not one of {known}")
    for i, m in enumerate(spec.models):
        if m.type not in set(design_models):
            continue
        if design is None:
            problems.append(f"models[{i}] ({m.name}) is a {m.type} model, which needs a [design]")
        elif m.dataset != design.dataset:
            problems.append(
                f"models[{i}] ({m.name}) uses dataset '{m.dataset}' but the [design] describes "
                f"'{design.dataset}'; set dataset = '{design.dataset}'"
            )
        if m.filter:
            problems.append(
                f"models[{i}] ({m.name}): a {m.type} model takes no `filter` (dropping rows "
                "removes sampling units from the variance); model the subgroup in the formula"
            )
    for i, t in enumerate(spec.tables):
        if not t.design:
            continue
        if t.type != "table_one":
            problems.append(f"tables[{i}] ({t.name}): `design` applies to table_one tables only")
        elif design is None:
            problems.append(
                f"tables[{i}] ({t.name}) sets design = true but the spec has no [design]"
            )
        elif t.dataset != design.dataset:
            problems.append(
                f"tables[{i}] ({t.name}) uses dataset '{t.dataset}' but the [design] describes "
                f"'{design.dataset}'"
            )
    if problems:
        raise ValueError("\n    ".join(problems))
