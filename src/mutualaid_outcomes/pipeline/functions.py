"""The model functions a spec can call, and the check of a model step's options.

``MODEL_FUNCTIONS`` maps a model step's ``type`` to the public function it calls.
Every one follows docs/conventions.md: the data frame is its first argument, named
``data``, and randomness enters through the keyword ``rng``. The runner passes the
step's dataset as ``data`` and a generator seeded from the spec's seed as ``rng``; a
step's other keys are the function's own keyword names, checked against its signature
(unknown or missing arguments) and its ``Literal`` type hints (values outside the
allowed set) before any work starts.
"""

from __future__ import annotations

import importlib
import inspect
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any, Literal

from ..errors import SpecError

__all__ = [
    "MODEL_FUNCTIONS",
    "DESIGN_FIRST",
    "resolve_function",
    "spec_parameters",
    "takes_rng",
    "parameter_hints",
    "option_hints",
    "check_function_arguments",
]

#: model type -> (module, function)
MODEL_FUNCTIONS: dict[str, tuple[str, str]] = {
    "regression": ("mutualaid_outcomes.models.regression.glm", "fit_regression"),
    "gee": ("mutualaid_outcomes.models.regression.gee", "fit_gee"),
    "mixed": ("mutualaid_outcomes.models.regression.mixed", "fit_mixed"),
    "mediation": ("mutualaid_outcomes.models.mediation.product", "mediate"),
    "lagged_mediation": ("mutualaid_outcomes.models.mediation.lagged", "lagged_mediation"),
    "causal_mediation": ("mutualaid_outcomes.models.mediation.causal", "causal_mediation"),
    "kaplan_meier": ("mutualaid_outcomes.models.survival.kaplan_meier", "kaplan_meier"),
    "cox": ("mutualaid_outcomes.models.survival.cox", "fit_cox"),
    "cox_time_varying": (
        "mutualaid_outcomes.models.survival.cox_time_varying",
        "fit_cox_time_varying",
    ),
    "trajectories": ("mutualaid_outcomes.models.trajectories.fit", "fit_trajectories"),
    "survey_glm": ("mutualaid_outcomes.models.survey.glm", "survey_glm"),
}

#: model types whose function takes the survey design of ``[design]`` first, in place
#: of the data (docs/survey.md); the runner passes the design built from the data
DESIGN_FIRST = frozenset({"survey_glm"})


def resolve_function(kind: str) -> Callable[..., Any]:
    """The model function of a model step's ``type``."""
    module, func = MODEL_FUNCTIONS[kind]
    try:
        return getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as exc:  # pragma: no cover - all shipped
        raise SpecError(
            f"model type '{kind}' is not available in this installation: {exc}"
        ) from None


def spec_parameters(kind: str) -> dict[str, inspect.Parameter]:
    """The arguments a spec sets for a model type: all but ``data`` (first) and ``rng``.

    Raises
    ------
    SpecError
        If the function does not take ``data`` first (a function registered against
        docs/conventions.md).
    """
    params = list(inspect.signature(resolve_function(kind)).parameters.values())
    first = "design" if kind in DESIGN_FIRST else "data"
    if not params or params[0].name != first:
        raise SpecError(
            f"model type '{kind}' calls a function whose first argument is not `data`; "
            "every model function takes the data frame first (docs/conventions.md)."
        )
    return {p.name: p for p in params[1:] if p.name != "rng"}


def takes_rng(kind: str) -> bool:
    """True when the model type's function takes an ``rng`` (the runner seeds it)."""
    return "rng" in inspect.signature(resolve_function(kind)).parameters


def check_function_arguments(kind: str, options: dict[str, Any]) -> None:
    """Check spec options against the model function's signature and Literal types.

    Raises ``ValueError`` (turned into a :class:`SpecError` naming the key by
    :func:`~mutualaid_outcomes.pipeline.spec.validate_spec`).
    """
    func = resolve_function(kind)
    params = spec_parameters(kind)
    allowed = sorted(params)
    unknown = sorted(set(options) - set(params))
    renames = dict(getattr(func, "__renamed__", {}))
    old = [f"'{k}' was renamed '{renames[k]}'" for k in unknown if k in renames]
    if old:
        raise ValueError(f"option(s) of model type '{kind}': {'; '.join(old)} (see CHANGELOG.md)")
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
    hints = option_hints(kind)
    for key, value in options.items():
        choices = _literal_choices(hints.get(key))
        if choices and isinstance(value, str) and value not in choices:
            raise ValueError(
                f"option '{key}' of model type '{kind}' must be one of {sorted(choices)}; got '{value}'"
            )


def parameter_hints(func: Callable[..., Any], names: Iterable[str]) -> dict[str, Any]:
    """The evaluated annotations of the parameters ``names`` of ``func``.

    Only these annotations are evaluated, each on its own, in the namespace of the
    module that defines ``func`` (``typing.get_type_hints`` evaluates them all, so a
    name imported only for type checkers -- a result class in the return annotation,
    say -- would make it fail for every parameter). A parameter whose annotation does
    not resolve at run time is left out, as is one without an annotation.
    """
    target = inspect.unwrap(func)
    annotations = inspect.get_annotations(target)
    namespace = getattr(target, "__globals__", {})
    out: dict[str, Any] = {}
    for name in names:
        if name not in annotations:
            continue
        holder = types.SimpleNamespace(__annotations__={name: annotations[name]})
        try:
            out[name] = typing.get_type_hints(holder, globalns=namespace)[name]
        except Exception:  # noqa: BLE001 - a type-checking-only name: no run-time check
            continue
    return out


def option_hints(kind: str) -> dict[str, Any]:
    """The evaluated annotations of the options a spec sets for a model type."""
    return parameter_hints(resolve_function(kind), spec_parameters(kind))


def _literal_choices(hint: Any) -> set[Any]:
    if hint is None:
        return set()
    origin = typing.get_origin(hint)
    if origin is Literal:
        return set(typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        out: set[Any] = set()
        for a in typing.get_args(hint):
            if typing.get_origin(a) is Literal:
                out |= set(typing.get_args(a))
            elif a is str:
                return set()  # free strings allowed
        return out
    return set()
