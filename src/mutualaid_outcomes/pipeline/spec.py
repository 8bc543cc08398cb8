"""The analysis specification (a TOML file) and its validation.

A spec names the data, the instruments to score, the participation coding, the
models, tables and figures, the seed and the output options. It is validated in
full before any work starts: unknown keys, wrong types, unknown model options and
option values outside a model's allowed set are reported with the key path.

Examples
--------
>>> spec = AnalysisSpec.model_validate({
...     "title": "Minimal", "seed": 1,
...     "data": {"path": "sample:waves"},
...     "tables": [{"name": "t1", "type": "table_one", "by": "arm", "variables": ["age"]}],
... })
>>> spec.tables[0].by
'arm'
"""

from __future__ import annotations

import importlib
import inspect
import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import DataFileNotFoundError, SpecError

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = [
    "AnalysisSpec",
    "DataSource",
    "InstrumentStep",
    "ModelStep",
    "TableStep",
    "SurvivalStep",
    "FigureStep",
    "OutputOptions",
    "MODEL_FUNCTIONS",
    "load_spec",
    "validate_spec",
]

#: model type -> (module, function, name of the data argument)
MODEL_FUNCTIONS: dict[str, tuple[str, str]] = {
    "regression": ("mutualaid_outcomes.models.regression.glm", "fit_regression"),
    "gee": ("mutualaid_outcomes.models.regression.gee", "fit_gee"),
    "mixed": ("mutualaid_outcomes.models.regression.mixed", "fit_mixed"),
    "mediation": ("mutualaid_outcomes.models.mediation.product", "mediate"),
    "lagged_mediation": ("mutualaid_outcomes.models.mediation.lagged", "lagged_mediation"),
    "causal_mediation": ("mutualaid_outcomes.models.mediation.causal", "causal_mediation"),
    "kaplan_meier": ("mutualaid_outcomes.models.survival.kaplan_meier", "kaplan_meier"),
    "cox": ("mutualaid_outcomes.models.survival.cox", "fit_cox"),
    "cox_time_varying": ("mutualaid_outcomes.models.survival.cox_time_varying", "fit_cox_time_varying"),
}

#: arguments filled by the runner, never by the spec
_RUNNER_ARGS = {"data", "panel", "rng", "daily"}

DatasetName = Literal[
    "data", "participants", "calendar", "baseline", "analysis", "relapse", "counting_process"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataSource(_Strict):
    """Where a data set comes from.

    ``path`` is a file path (relative to the spec file) or ``sample:NAME`` for a
    file of the bundled sample cohort (``sample:waves``, ``sample:participants``,
    ``sample:calendar``).
    """

    path: str
    missing_codes: list[float] | dict[str, list[float]] | None = None
    columns: list[str] | None = None


class InstrumentStep(_Strict):
    """Score one instrument; ``items`` is a prefix, a list, or a mapping item number -> column."""

    instrument: str
    items: str | list[str] | dict[str, str] | None = None
    missing: str = "published"
    on_invalid: Literal["raise", "missing"] = "raise"
    prefix: str | None = None


class CalendarStep(_Strict):
    """Summarise the daily calendar in windows relative to each person's index date."""

    windows: dict[str, tuple[int, int]] = Field(default_factory=lambda: {"months_0_3": (0, 90)})
    sex: str | None = None
    heavy_threshold: tuple[float, float] = (5, 4)


class SurvivalStep(_Strict):
    """Time to relapse from the daily calendar, with time-varying attendance.

    Builds the ``relapse`` dataset (one row per person: duration, event) with
    :func:`~mutualaid_outcomes.participation.relapse_times` and the
    ``counting_process`` dataset with
    :func:`~mutualaid_outcomes.prep.counting_process.to_counting_process`.
    ``rolling`` maps a new column to ``[calendar column, window days, "sum"|"any"|"mean"]``;
    ``baseline_covariates`` are wave columns at the first wave, merged as ``NAME_0``.
    """

    definition: Literal["first_drink", "first_heavy", "consecutive_heavy", "heavy_in_window"] = (
        "first_heavy"
    )
    k: int | None = None
    window_days: int | None = None
    rolling: dict[str, tuple[str, int] | tuple[str, int, Literal["sum", "any", "mean"]]] = Field(
        default_factory=lambda: {"attended_30d": ("meetings", 30, "any")}
    )
    baseline_covariates: list[str] = Field(default_factory=list)


class ModelStep(BaseModel):
    """A model: ``type`` picks the function, other keys are its arguments.

    ``dataset`` names the frame the model is fitted to (default the scored wave
    data); ``filter`` is an optional pandas query applied first (e.g. ``"month == 0"``).
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    type: Literal[
        "regression",
        "gee",
        "mixed",
        "mediation",
        "lagged_mediation",
        "causal_mediation",
        "kaplan_meier",
        "cox",
        "cox_time_varying",
    ]
    dataset: DatasetName = "data"
    filter: str | None = None

    @model_validator(mode="after")
    def _check_arguments(self) -> ModelStep:
        options = dict(self.model_extra or {})
        check_function_arguments(self.type, options)
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The function arguments given in the spec."""
        return dict(self.model_extra or {})


class TableStep(_Strict):
    """A table: Table 1, a regression table of named models, or a mediation table."""

    name: str
    type: Literal["table_one", "regression_table", "mediation_table"]
    dataset: DatasetName = "baseline"
    by: str | None = None
    variables: list[str] | None = None
    categorical: list[str] | None = None
    nonnormal: list[str] | None = None
    models: list[str] | None = None
    exponentiate: bool | list[bool] = False
    title: str = ""


class FigureStep(_Strict):
    """A figure of a named model or of the data."""

    name: str
    type: Literal["km", "forest", "path_diagram", "trajectories", "calendar_strips", "sensitivity"]
    model: str | None = None
    dataset: DatasetName = "data"
    time: str | None = None
    value: str | None = None
    group: str | None = None
    exponentiate: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    title: str = ""


class OutputOptions(_Strict):
    """Output formats, journal style and disclosure control (on by default)."""

    min_cell: int | None = 11
    style: Literal["apa", "jama", "nejm"] = "apa"
    table_formats: list[Literal["csv", "html", "docx", "tex", "md"]] = [
        "csv",
        "html",
        "docx",
        "tex",
    ]
    figure_formats: list[Literal["pdf", "png", "svg"]] = ["pdf", "png"]

    @field_validator("min_cell")
    @classmethod
    def _min_cell(cls, v: int | None) -> int | None:
        if v is not None and v < 2:
            raise ValueError("must be at least 2 (or omitted to switch disclosure control off)")
        return v


class AnalysisSpec(_Strict):
    """A whole analysis."""

    title: str
    seed: int = Field(ge=0)
    data: DataSource
    participants: DataSource | None = None
    calendar: DataSource | None = None
    id: str = "id"
    time: str = "month"
    instruments: list[InstrumentStep] = Field(default_factory=list)
    derive: dict[str, str] = Field(default_factory=dict)
    calendar_summary: CalendarStep | None = None
    survival: SurvivalStep | None = None
    models: list[ModelStep] = Field(default_factory=list)
    tables: list[TableStep] = Field(default_factory=list)
    figures: list[FigureStep] = Field(default_factory=list)
    output: OutputOptions = Field(default_factory=OutputOptions)

    @model_validator(mode="after")
    def _cross_references(self) -> AnalysisSpec:
        names = [m.name for m in self.models]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"model names must be unique; repeated: {dup}")
        known = set(names)
        for i, t in enumerate(self.tables):
            for m in t.models or []:
                if m not in known:
                    raise ValueError(
                        f"tables[{i}].models names unknown model '{m}'; defined: {names}"
                    )
        for i, f in enumerate(self.figures):
            if f.model is not None and f.model not in known:
                raise ValueError(
                    f"figures[{i}].model names unknown model '{f.model}'; defined: {names}"
                )
        needs_calendar = {"calendar", "relapse", "counting_process", "analysis"}
        for i, m in enumerate(self.models):
            if m.dataset in needs_calendar and self.calendar is None:
                raise ValueError(
                    f"models[{i}] uses dataset '{m.dataset}', which needs a [calendar] data source"
                )
            if m.dataset in ("relapse", "counting_process") and self.survival is None:
                raise ValueError(
                    f"models[{i}] uses dataset '{m.dataset}', which needs a [survival] section"
                )
            if m.dataset == "analysis" and self.calendar_summary is None:
                raise ValueError(
                    f"models[{i}] uses dataset 'analysis', which needs a [calendar_summary] section"
                )
        return self


def _resolve_function(kind: str) -> Any:
    module, func = MODEL_FUNCTIONS[kind]
    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:  # pragma: no cover - all shipped
        raise SpecError(
            f"model type '{kind}' is not available in this installation: {exc}"
        ) from None


def check_function_arguments(kind: str, options: dict[str, Any]) -> None:
    """Check spec options against the model function's signature and Literal types.

    Raises ``ValueError`` (turned into a :class:`SpecError` naming the key by
    :func:`validate_spec`).
    """
    func = _resolve_function(kind)
    sig = inspect.signature(func)
    params = {n: p for n, p in sig.parameters.items() if n not in _RUNNER_ARGS}
    allowed = sorted(params)
    unknown = sorted(set(options) - set(params))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for model type '{kind}'; allowed: {allowed}")
    required = [
        n
        for n, p in params.items()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    missing = [n for n in required if n not in options]
    if missing:
        raise ValueError(f"missing required option(s) {missing} for model type '{kind}'")
    try:
        hints = typing.get_type_hints(func)
    except Exception:  # noqa: BLE001 - unresolvable annotations: skip literal checks
        hints = {}
    for key, value in options.items():
        choices = _literal_choices(hints.get(key))
        if choices and isinstance(value, str) and value not in choices:
            raise ValueError(
                f"option '{key}' of model type '{kind}' must be one of {sorted(choices)}; got '{value}'"
            )


def _literal_choices(hint: Any) -> set[Any]:
    if hint is None:
        return set()
    origin = typing.get_origin(hint)
    if origin is Literal:
        return set(typing.get_args(hint))
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        out: set[Any] = set()
        for a in typing.get_args(hint):
            if typing.get_origin(a) is Literal:
                out |= set(typing.get_args(a))
            elif a is str:
                return set()  # free strings allowed
        return out
    return set()


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = [f"Invalid analysis spec {source}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        got = err.get("input")
        shown = ""
        if err["type"] not in ("missing", "extra_forbidden") and not isinstance(got, (dict, list)):
            shown = f" (got {got!r})"
        lines.append(f"  - {loc}: {msg}{shown}")
    return "\n".join(lines)


def validate_spec(raw: dict[str, Any], source: str = "") -> AnalysisSpec:
    """Validate a parsed spec and return it, or raise :class:`SpecError` naming every bad key.

    Examples
    --------
    >>> validate_spec({"title": "x", "seed": 1, "data": {"path": "a.csv"}, "colour": 1})
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.errors.SpecError: Invalid analysis spec :
      - colour: unknown key
    """
    try:
        return AnalysisSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_format_errors(exc, source)) from None


def load_spec(path: str | Path) -> tuple[AnalysisSpec, dict[str, Any]]:
    """Read and validate a TOML analysis spec.

    Returns
    -------
    tuple
        The validated spec and the raw parsed mapping.

    Raises
    ------
    DataFileNotFoundError
        If the file does not exist.
    SpecError
        If the TOML cannot be parsed or the spec is invalid.
    """
    path = Path(path)
    if not path.is_file():
        raise DataFileNotFoundError(f"Analysis spec '{path}' does not exist.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"Analysis spec '{path}' is not valid TOML: {exc}") from None
    return validate_spec(raw, f"'{path}'"), raw
