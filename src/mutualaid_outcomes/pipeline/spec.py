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

import typing
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..errors import DataFileNotFoundError, SpecError
from .design_step import DesignStep
from .expressions import check_expression
from .functions import DESIGN_FIRST, MODEL_FUNCTIONS, check_function_arguments
from .meta_steps import MetaStep
from .section_args import check_sections
from .sem_steps import SemStep
from .spec_rules import (
    check_instrument_id,
    check_output_name,
    derive_problems,
    link_problems,
    model_option_problems,
)

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef,import-not-found]

__all__ = [
    "AnalysisSpec",
    "DataSource",
    "InstrumentStep",
    "ModelStep",
    "TableStep",
    "SurvivalStep",
    "FigureStep",
    "OutputOptions",
    "CalendarStep",
    "MetaStep",
    "DesignStep",
    "SemStep",
    "MODEL_FUNCTIONS",
    "load_spec",
    "validate_spec",
]

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
    missing: Literal["published", "none", "prorate", "available"] = "published"
    on_invalid: Literal["raise", "missing"] = "raise"
    prefix: str | None = None

    @field_validator("instrument")
    @classmethod
    def _known_instrument(cls, v: str) -> str:
        return check_instrument_id(v)


class CalendarStep(_Strict):
    """Summarise the daily calendar in windows relative to each person's index date."""

    windows: dict[str, tuple[int, int]] = Field(default_factory=lambda: {"months_0_3": (0, 90)})
    sex: str | None = None
    heavy_threshold: tuple[float, float] = (5, 4)


RollingWindow = tuple[str, int] | tuple[str, int, Literal["sum", "any", "mean"]]


def _default_rolling() -> dict[str, RollingWindow]:
    return {"attended_30d": ("meetings", 30, "any")}


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
    rolling: dict[str, RollingWindow] = Field(default_factory=_default_rolling)
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
        "trajectories",
        "survey_glm",
    ]
    dataset: DatasetName = "data"
    filter: str | None = None

    @model_validator(mode="after")
    def _check_arguments(self) -> ModelStep:
        """The name is a plain file stem, the options fit the function, expressions pass."""
        problems = []
        try:
            check_output_name(self.name)
        except ValueError as exc:
            problems.append(f"name: {exc}")
        options = dict(self.model_extra or {})
        try:
            check_function_arguments(self.type, options)
        except ValueError as exc:
            problems.append(str(exc))
        problems += model_option_problems(options, f"model '{self.name}'")
        if self.filter is not None:
            try:
                check_expression(self.filter, key=f"model '{self.name}'.filter", kind="filter")
            except SpecError as exc:
                problems.append(str(exc))
        if problems:
            raise ValueError("\n    ".join(problems))
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The function arguments given in the spec."""
        return dict(self.model_extra or {})


class TableStep(_Strict):
    """A table: Table 1, a regression, mediation or survival table of named models.

    ``times`` are the follow-up times of a survival table's columns.
    """

    name: str
    type: Literal["table_one", "regression_table", "mediation_table", "survival_table"]
    dataset: DatasetName = "baseline"
    by: str | None = None
    variables: list[str] | None = None
    categorical: list[str] | None = None
    nonnormal: list[str] | None = None
    models: list[str] | None = None
    exponentiate: bool | list[bool] = False
    times: list[float] = Field(default_factory=list)
    design: bool = False
    title: str = ""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return check_output_name(v)


class FigureStep(_Strict):
    """A figure of a named model or of the data."""

    name: str
    type: Literal["km", "forest", "path_diagram", "trajectories", "calendar_strips", "sensitivity"]
    model: str | None = None
    dataset: DatasetName = "data"
    time: str | None = None
    value: str | None = None
    by: str | None = None
    exponentiate: bool = False
    labels: dict[str, str] = Field(default_factory=dict)
    title: str = ""

    @field_validator("name")
    @classmethod
    def _plain_name(cls, v: str) -> str:
        return check_output_name(v)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "group" in data:
            raise ValueError("`group` was renamed `by` (docs/conventions.md)")
        return data


class LabelsSection(_Strict):
    """Variable and value labels for every table, figure and the report.

    ``[labels.variables]`` maps a column (or model term) to its label;
    ``[labels.values.<column>]`` maps codes to value labels. They take precedence
    over the codebook and the instrument specs.
    """

    variables: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)


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
    labels: LabelsSection = Field(default_factory=LabelsSection)
    design: DesignStep | None = None
    meta: list[MetaStep] = Field(default_factory=list)
    sem: list[SemStep] = Field(default_factory=list)
    output: OutputOptions = Field(default_factory=OutputOptions)

    @field_validator("derive")
    @classmethod
    def _checked_derive(cls, v: dict[str, str]) -> dict[str, str]:
        problems = derive_problems(v)
        if problems:
            raise ValueError("\n    ".join(problems))
        return v

    @model_validator(mode="after")
    def _references(self) -> AnalysisSpec:
        """Names are unique; tables and figures name models they can show; datasets exist."""
        problems = link_problems(self)
        if problems:
            raise ValueError("\n    ".join(problems))
        return self

    @model_validator(mode="after")
    def _sections(self) -> AnalysisSpec:
        """[[meta]], [[sem]] and [design] fit the rest of the spec."""
        check_sections(self, typing.get_args(DatasetName), DESIGN_FIRST)
        return self


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = [f"Invalid analysis spec {source}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
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
