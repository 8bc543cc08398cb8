"""The ``[design]`` spec section: the complex-survey design of a dataset.

``[design]`` describes how the rows of one dataset were sampled; its keys other than
``dataset`` are the keywords of :func:`~mutualaid_outcomes.models.survey.survey_design`::

    [design]
    dataset = "baseline"          # the dataset the design describes (default)
    weights = "sampling_weight"
    strata = "stratum"
    cluster = "psu"
    nest = true
    lonely_psu = "adjust"

A section with ``replicate_weights`` describes a replicate-weight design instead (as
public-use files ship them); its keys are then the keywords of
:func:`~mutualaid_outcomes.models.survey.replicate_design`::

    [design]
    weights = "pw"
    replicate_weights = ["repw1", "repw2", "repw3"]
    type = "JK1"
    scale = 0.933

The design is built once, after the data are loaded, derived and coded, and used by

* ``[[tables]]`` of type ``table_one`` with ``design = true``: a weighted Table 1
  (weighted percentages, means and SDs with unweighted counts, design-based p-values;
  :func:`~mutualaid_outcomes.tables.table_one` with ``design=``);
* ``[[models]]`` of type ``survey_glm``: :func:`~mutualaid_outcomes.models.survey.survey_glm`
  is called with the design in place of the data (its other keys, ``formula`` and
  ``family``, are its keywords as usual).

Both must use the design's dataset, and a ``survey_glm`` model takes no ``filter``:
dropping rows would remove sampling units from the variance (use a domain variable in
the formula instead). The keys are checked against ``survey_design``'s signature when
the spec is read and the columns they name against the dataset before anything is
fitted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, model_validator

from ..errors import SpecError
from .functions import DESIGN_FIRST
from .section_args import column_problems, keyword_problems

if TYPE_CHECKING:
    import pandas as pd

    from .context import RunContext

__all__ = ["DesignStep", "DESIGN_MODELS", "build_design", "first_argument", "design_columns"]

#: model types whose function takes the survey design in place of the data
DESIGN_MODELS = DESIGN_FIRST

#: keywords of survey_design() and replicate_design() that name columns
_COLUMN_KEYS = ("weights", "strata", "cluster", "fpc", "replicate_weights")


class DesignStep(BaseModel):
    """The ``[design]`` section (see the module docstring)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    dataset: str = "baseline"

    @model_validator(mode="after")
    def _check_keywords(self) -> DesignStep:
        problems = keyword_problems(self.builder, self.options, "design", skip=("data",))
        reps = self.options.get("replicate_weights")
        if reps is not None and (
            isinstance(reps, str) or not all(isinstance(c, str) for c in reps) or not reps
        ):
            problems.append(
                "design.replicate_weights must be a list of column names, e.g. "
                f'["repw1", "repw2"]; got {reps!r}'
            )
        if problems:
            raise ValueError("\n    ".join(problems))
        return self

    @property
    def builder(self) -> Callable[..., Any]:
        """The design constructor: ``replicate_design`` with ``replicate_weights``.

        Without ``replicate_weights``: ``survey_design``.
        """
        from ..models.survey import replicate_design, survey_design

        return replicate_design if "replicate_weights" in self.options else survey_design

    @property
    def options(self) -> dict[str, Any]:
        """The keyword arguments of ``survey_design`` given in the spec."""
        return dict(self.model_extra or {})


def design_columns(step: DesignStep) -> list[str]:
    """Every column the design names."""
    out: list[str] = []
    for key in _COLUMN_KEYS:
        value = step.options.get(key)
        out += [value] if isinstance(value, str) else [v for v in value or [] if v]
    return out


def build_design(ctx: RunContext) -> None:
    """Build the survey design of ``[design]`` (nothing when the spec has none)."""
    step = ctx.spec.design
    if step is None:
        return
    where = f"design (dataset '{step.dataset}')"
    frame = ctx.dataset(step.dataset, "design")
    problems = column_problems(design_columns(step), frame.columns, where)
    if problems:
        raise SpecError("\n".join(problems))
    try:
        ctx.design = step.builder(frame, **step.options)
    except (ValueError, TypeError, KeyError) as exc:
        raise SpecError(f"{where}: {exc}") from exc
    ctx.data_notes.append(f"Survey design of the '{step.dataset}' dataset: {ctx.design!r}.")


def first_argument(ctx: RunContext, kind: str, frame: pd.DataFrame) -> Any:
    """What a model function gets first: the survey design for ``DESIGN_MODELS``, else the data."""
    if kind not in DESIGN_MODELS:
        return frame
    if ctx.design is None:  # pragma: no cover - the spec validator requires [design]
        raise SpecError(f"model type '{kind}' needs a [design] section.")
    return ctx.design
