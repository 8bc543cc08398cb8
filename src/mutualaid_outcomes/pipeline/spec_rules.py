"""Rules a spec must meet before any data is read: names, expressions, references.

These checks need no data and no fitting, so they run while the spec is validated
(:func:`~mutualaid_outcomes.pipeline.spec.validate_spec`); the checks that need the
columns of the data run at the start of a run (:mod:`~mutualaid_outcomes.pipeline.checks`).

- Output names (tables, figures, models) are plain file stems: letters, digits, ``_``,
  ``.`` and ``-``, not starting with a dot, without ``..``, at most
  :data:`MAX_NAME_LENGTH` characters and not a device name reserved on Windows, so an
  output file can never land outside the output folder.
- Every expression (``[derive]``, ``filter``, formula options) passes the allow-list of
  :mod:`~mutualaid_outcomes.pipeline.expressions`; every other free-text model option
  is a plain word.
- References between sections resolve: tables and figures name models that exist and
  are of a kind they can show, and every step's ``dataset`` is one the spec builds.

Examples
--------
>>> check_output_name("table1")
'table1'
>>> check_output_name("../../etc/passwd")
Traceback (most recent call last):
...
ValueError: '../../etc/passwd' is not a plain file name: ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .._validation import close_matches
from ..errors import SpecError
from .expressions import check_expression, check_formula

if TYPE_CHECKING:
    from .spec import AnalysisSpec

__all__ = [
    "COLUMN_OPTIONS",
    "MAX_NAME_LENGTH",
    "check_output_name",
    "check_instrument_id",
    "is_formula_option",
    "model_option_problems",
    "option_columns",
    "derive_problems",
    "link_problems",
]

#: model options whose values name columns of the model's dataset
COLUMN_OPTIONS = frozenset(
    {
        "id",
        "time",
        "cluster",
        "by",
        "exposure",
        "mediators",
        "outcome",
        "covariates",
        "moderator",
        "instruments",
        "duration",
        "event",
        "start",
        "stop",
        "strata",
        "weights",
        "offset",
        "trials",
    }
)
MAX_NAME_LENGTH = 100
_STEM = re.compile(r"[A-Za-z0-9_.-]+")
_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.+-]*")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"}
    | {f"com{i}" for i in range(1, 10)}
    | {f"lpt{i}" for i in range(1, 10)}
)
#: what each figure and table kind can show: kind -> model types
_SHOWS: dict[str, frozenset[str]] = {
    "figure km": frozenset({"kaplan_meier"}),
    "figure sensitivity": frozenset({"causal_mediation"}),
    "figure path_diagram": frozenset({"mediation", "lagged_mediation"}),
    "table mediation_table": frozenset({"mediation", "lagged_mediation", "causal_mediation"}),
    "table survival_table": frozenset({"kaplan_meier"}),
}
_NO_COEFFICIENTS = frozenset({"kaplan_meier"})
_NEEDS_MODEL = frozenset(_SHOWS) | {"figure forest"}
_NEEDS = {
    "calendar": "a [calendar] data source",
    "participants": "a [participants] data source",
    "analysis": "a [calendar] data source and a [calendar_summary] section",
    "relapse": "a [calendar] data source and a [survival] section",
    "counting_process": "a [calendar] data source and a [survival] section",
}


def check_output_name(name: Any) -> str:
    """Return ``name`` if it is a plain file stem, else raise ``ValueError`` saying why."""
    if not isinstance(name, str):
        raise ValueError(f"must be a text name; got {type(name).__name__}")
    why = ""
    if not name:
        why = "it is empty"
    elif not _STEM.fullmatch(name):
        bad = sorted({c for c in name if not _STEM.fullmatch(c)})
        why = f"it contains {', '.join(repr(c) for c in bad)}"
    elif name.startswith("."):
        why = "it starts with a dot"
    elif ".." in name:
        why = "it contains '..'"
    elif len(name) > MAX_NAME_LENGTH:
        why = f"it is longer than {MAX_NAME_LENGTH} characters"
    elif name.split(".")[0].lower() in _WINDOWS_DEVICES:
        why = "it is a device name reserved on Windows"
    if why:
        raise ValueError(
            f"{name!r} is not a plain file name: {why}. Names of tables, figures and models "
            "become file names inside the output folder, so they may use only letters, "
            "digits, '_', '.' and '-', may not start with a dot or contain '..'."
        )
    return name


def check_instrument_id(instrument: Any) -> str:
    """Return a shipped instrument id, or raise ``ValueError`` with close matches."""
    from ..instruments import available_specs

    ids = available_specs()
    if instrument in ids:
        return str(instrument)
    text = f"unknown instrument {instrument!r}"
    sugg = close_matches(str(instrument), ids)
    if sugg:
        text += "; did you mean " + " or ".join(repr(s) for s in sugg) + "?"
    raise ValueError(text + " (`mutualaid instruments` lists them all)")


def is_formula_option(name: str) -> bool:
    """True for options that hold a model formula (``formula``, ``re_formula``, ...)."""
    return name == "formula" or name.endswith("_formula")


def _words(value: Any) -> Iterable[Any]:
    return value if isinstance(value, (list, tuple)) else [value]


def option_columns(key: str, value: Any, options: Mapping[str, Any]) -> list[str] | None:
    """The columns a model option names, or None for an option that names none.

    ``indicators`` (latent mediators of ``mediate``) names its indicator columns, and
    the latent mediators it defines are not columns, so ``mediators`` leaves them out.
    """
    latent = options.get("indicators")
    if key == "indicators" and isinstance(latent, Mapping):
        return [c for cols in latent.values() for c in _words(cols) if isinstance(c, str)]
    if key not in COLUMN_OPTIONS or value is None:
        return None
    names = [v for v in _words(value) if isinstance(v, str)]
    if key == "mediators" and isinstance(latent, Mapping):
        names = [n for n in names if n not in latent]
    return names


def model_option_problems(options: Mapping[str, Any], where: str) -> list[str]:
    """Problems with a model step's options that need no data.

    Formula options pass the allow-list; column options are names (text, or lists of
    text); every other text option is a plain word (``"exchangeable"``, ``"logit"``).
    """
    problems: list[str] = []
    for key, value in options.items():
        if is_formula_option(key) and value is not None:
            try:
                check_formula(value, key=f"{where}.{key}")
            except SpecError as exc:
                problems.append(str(exc))
        elif key in COLUMN_OPTIONS:
            bad = [v for v in _words(value) if not isinstance(v, str)]
            if bad:
                problems.append(f"{where}.{key}: must name columns (text); got {bad!r}")
        else:
            odd = [v for v in _words(value) if isinstance(v, str) and not _PLAIN_WORD.fullmatch(v)]
            if odd:
                problems.append(
                    f"{where}.{key}: {odd[0]!r} is not a plain word (letters, digits, "
                    "'_', '.', '+', '-')"
                )
    return problems


def derive_problems(derive: Mapping[str, Any]) -> list[str]:
    """Problems with the ``[derive]`` names and expressions (all of them)."""
    problems: list[str] = []
    for name, expr in derive.items():
        if not name.isidentifier() or name.startswith("_"):
            problems.append(
                f"derive.{name}: a new column needs a plain name (letters, digits and '_', "
                "not starting with '_' or a digit)"
            )
        try:
            check_expression(expr, key=f"derive.{name}", kind="derive")
        except SpecError as exc:
            problems.append(str(exc))
    return problems


def _dataset_problem(spec: AnalysisSpec, where: str, dataset: str) -> str | None:
    available = {
        "calendar": spec.calendar is not None,
        "participants": spec.participants is not None,
        "analysis": spec.calendar is not None and spec.calendar_summary is not None,
        "relapse": spec.calendar is not None and spec.survival is not None,
        "counting_process": spec.calendar is not None and spec.survival is not None,
    }
    if not available.get(dataset, True):
        return f"{where} uses dataset '{dataset}', which needs {_NEEDS[dataset]}"
    return None


def _model_ref(kinds: Mapping[str, str], where: str, what: str, name: str) -> str | None:
    """Problem if model ``name`` does not exist or cannot be shown by ``what``."""
    if name not in kinds:
        return f"{where} names unknown model '{name}'; defined: {list(kinds)}"
    allowed = _SHOWS.get(what)
    if allowed is not None and kinds[name] not in allowed:
        return (
            f"{where}: a {what.split()[1]} {what.split()[0]} shows a model of type "
            f"{' or '.join(sorted(allowed))}; '{name}' is a {kinds[name]} model"
        )
    if what in ("table regression_table", "figure forest") and kinds[name] in _NO_COEFFICIENTS:
        return f"{where}: '{name}' is a {kinds[name]} model, which has no coefficients to show"
    return None


def _repeated(names: list[str]) -> list[str]:
    return sorted({n for n in names if names.count(n) > 1})


def link_problems(spec: AnalysisSpec) -> list[str]:
    """Problems with references between sections and with repeated output names."""
    problems: list[str] = []
    kinds = {m.name: m.type for m in spec.models}
    for section, names in (
        ("model", [m.name for m in spec.models]),
        ("table", [t.name for t in spec.tables]),
        ("figure", [f.name for f in spec.figures]),
    ):
        dup = _repeated(names)
        if dup:
            problems.append(f"{section} names must be unique; repeated: {dup}")
    model_files = {f"model_{m}_{part}" for m in kinds for part in ("tidy", "glance")}
    for i, t in enumerate(spec.tables):
        where = f"tables[{i}] ({t.name})"
        if t.name in model_files:
            problems.append(f"{where}: the name '{t.name}' is the file of a model's own table")
        for m in t.models or []:
            problems.append(_model_ref(kinds, f"{where}.models", f"table {t.type}", m) or "")
        if t.type != "table_one":
            continue
        problems.append(_dataset_problem(spec, where, t.dataset) or "")
    for i, f in enumerate(spec.figures):
        where = f"figures[{i}] ({f.name})"
        if f.model is None and f"figure {f.type}" in _NEEDS_MODEL:
            problems.append(f"{where}: needs `model`, the name of a model in this spec")
        if f.type == "trajectories" and not (f.time and f.value):
            problems.append(f"{where}: trajectories need `time` and `value`")
        if f.model is not None:
            problems.append(_model_ref(kinds, f"{where}.model", f"figure {f.type}", f.model) or "")
        if f.type == "trajectories":
            problems.append(_dataset_problem(spec, where, f.dataset) or "")
        if f.type == "calendar_strips":
            problems.append(_dataset_problem(spec, where, "calendar") or "")
    for i, step in enumerate(spec.models):
        problems.append(_dataset_problem(spec, f"models[{i}] ({step.name})", step.dataset) or "")
    return [p for p in problems if p]
