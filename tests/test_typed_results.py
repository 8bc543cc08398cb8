"""Public functions take typed results, not ``Any``.

Every public function and method of the package (a name in the ``__all__`` of a module
whose dotted path has no private part) that takes a fitted result -- a parameter named
``result``, ``results`` or ``fit`` -- annotates it with the result classes it accepts,
the coefficient protocol or a union of them. ``Any`` is refused anywhere in such an
annotation (``Any``, ``Sequence[Any]``, ``Any | None``), except as a callable's
signature (``fit: Callable[..., Any]`` takes a function, not a result).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import typing
from collections.abc import Callable, Iterator

import pytest

import mutualaid_outcomes

RESULT_PARAMETERS = ("result", "results", "fit")


def _public_modules() -> Iterator[str]:
    yield mutualaid_outcomes.__name__
    for info in pkgutil.walk_packages(mutualaid_outcomes.__path__, "mutualaid_outcomes."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            yield info.name


def _public_callables() -> Iterator[tuple[str, Callable[..., object]]]:
    seen: set[int] = set()
    for name in _public_modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr, None)
            if not getattr(obj, "__module__", "").startswith("mutualaid_outcomes"):
                continue
            members: list[tuple[str, object]] = [(f"{name}.{attr}", obj)]
            if inspect.isclass(obj):
                members = [
                    (f"{name}.{attr}.{k}", v)
                    for k, v in vars(obj).items()
                    if inspect.isfunction(v) and (not k.startswith("_") or k == "__init__")
                ]
            for qual, fn in members:
                if inspect.isfunction(fn) and id(fn) not in seen:
                    seen.add(id(fn))
                    yield qual, fn


def _mentions_any(annotation: object) -> bool:
    """Whether ``Any`` is (part of) the type, outside the signature of a ``Callable``."""
    if isinstance(annotation, str):
        tree = ast.parse(annotation, mode="eval").body
        return _ast_mentions_any(tree)
    if annotation is typing.Any:
        return True
    origin = typing.get_origin(annotation)
    if origin is not None and getattr(origin, "__name__", "") == "Callable":
        return False
    return any(_mentions_any(a) for a in typing.get_args(annotation))


def _ast_mentions_any(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "Any"
    if isinstance(node, ast.Attribute):
        return node.attr == "Any"
    if isinstance(node, ast.Subscript):
        base = node.value
        base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        if base_name == "Callable":
            return False
        return _ast_mentions_any(node.value) or _ast_mentions_any(node.slice)
    if isinstance(node, ast.Tuple):
        return any(_ast_mentions_any(e) for e in node.elts)
    if isinstance(node, ast.BinOp):
        return _ast_mentions_any(node.left) or _ast_mentions_any(node.right)
    return False


def untyped_result_parameters() -> list[str]:
    """``module.function(parameter: annotation)`` for each offending parameter."""
    out = []
    for qual, fn in _public_callables():
        for p in inspect.signature(fn).parameters.values():
            if p.name not in RESULT_PARAMETERS:
                continue
            if p.annotation is inspect.Parameter.empty or _mentions_any(p.annotation):
                out.append(f"{qual}({p.name}: {p.annotation})")
    return out


def test_public_functions_take_typed_results():
    found = untyped_result_parameters()
    assert not found, "public functions taking a result annotated Any:\n" + "\n".join(found)


def test_the_check_sees_public_functions_and_any():
    names = {q.rsplit(".", 1)[1] for q, _ in _public_callables()}
    assert {"forest_data", "regression_table", "pool", "plot_km", "simple_slopes"} <= names
    assert _mentions_any("Any") and _mentions_any("Sequence[Any] | None")
    assert _mentions_any("Mapping[str, Any]")
    assert not _mentions_any("Callable[..., Any] | None")
    assert not _mentions_any("CoefficientProtocol | pd.DataFrame")
    assert _mentions_any(typing.Union[typing.Any, None]) and not _mentions_any(int)  # noqa: UP007


def _model_kinds() -> list[str]:
    from mutualaid_outcomes.pipeline.functions import MODEL_FUNCTIONS

    return sorted(MODEL_FUNCTIONS)


@pytest.mark.parametrize("kind", _model_kinds())
def test_pipeline_reads_the_annotation_of_every_option_of_a_model_function(kind):
    """The annotations of the options a spec sets resolve at run time.

    Result classes in annotations are imported for type checkers only; the pipeline
    evaluates only the options' annotations, so its ``Literal`` checks still run.
    """
    from mutualaid_outcomes.pipeline.functions import option_hints, spec_parameters

    params = spec_parameters(kind)
    hints = option_hints(kind)
    assert set(hints) == {n for n, p in params.items() if p.annotation is not p.empty}


def test_pipeline_reads_the_annotations_of_section_functions():
    from mutualaid_outcomes.models.meta import meta_analysis
    from mutualaid_outcomes.models.sem import fit_sem
    from mutualaid_outcomes.pipeline.functions import parameter_hints

    for func in (meta_analysis, fit_sem):
        params = inspect.signature(func).parameters
        hints = parameter_hints(func, params)
        assert set(hints) == {n for n, p in params.items() if p.annotation is not p.empty}


def test_pipeline_refuses_a_bad_literal_option_of_mediation():
    # mediate's return annotation names a class imported for type checkers only; that
    # used to make the pipeline skip every Literal check of the mediation model type
    from mutualaid_outcomes.pipeline.functions import check_function_arguments

    options = {"exposure": "x", "mediators": ["m"], "outcome": "y", "ci": "bc"}
    with pytest.raises(ValueError, match=r"option 'ci' of model type 'mediation' must be one"):
        check_function_arguments("mediation", options)
