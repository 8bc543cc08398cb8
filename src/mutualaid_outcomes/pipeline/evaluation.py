"""Evaluate checked ``[derive]`` and ``filter`` expressions over a data frame.

:func:`evaluate` walks the syntax tree that
:func:`~mutualaid_outcomes.pipeline.expressions.check_expression` accepted and
computes it with numpy and pandas operations; it never calls ``eval``, pandas
``eval``/``query`` or any function outside the fixed table. Semantics follow pandas'
expression language: arithmetic and comparisons work elementwise on columns,
``and``/``or``/``not`` combine True/False columns elementwise (``&``, ``|``, ``~``), and
``x in ['a', 'b']`` tests membership per row. Functions: ``log``, ``log1p``, ``log2``,
``log10``, ``exp``, ``expm1``, ``sqrt``, ``abs``, ``floor``, ``ceil``, ``minimum``,
``maximum`` (numpy), ``clip(x, lower, upper)``, ``where(condition, a, b)`` (missing
where the condition is missing), ``round(x, decimals)``, ``isna(x)``, ``notna(x)`` and
``Q('column name')``.

Examples
--------
>>> import pandas as pd
>>> from mutualaid_outcomes.pipeline.expressions import check_expression
>>> df = pd.DataFrame({"arm": ["AA", "CBT", "AA"], "days": [10, 0, 3]})
>>> evaluate(check_expression("arm in ['AA'] and days > 5", key="filter"), df).tolist()
[True, False, False]
>>> evaluate(check_expression("where(days > 5, days * 2, 0)", key="derive.x"), df).tolist()
[20, 0, 0]
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ..errors import SpecError
from .expressions import (
    BINARY_OPERATORS,
    NUMERIC_FUNCTIONS,
    CheckedExpression,
    function_name,
    missing_columns,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["evaluate"]


def _where(cond: Any, a: Any, b: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(cond, pd.Series):
        known = cond.notna()
        picked = np.where(cond.where(known, False).astype(bool), a, b)
        out = pd.Series(picked, index=cond.index)
        return out.where(known) if not bool(known.all()) else out
    return a if cond else b


def _clip(x: Any, lower: Any = None, upper: Any = None) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(x, pd.Series):
        return x.clip(lower=lower, upper=upper)
    return np.clip(x, lower, upper)


def _round(x: Any, decimals: int = 0) -> Any:
    import numpy as np

    if not isinstance(decimals, int) or isinstance(decimals, bool):
        raise TypeError("round(x, decimals): decimals must be a whole number")
    return np.round(x, decimals)


def _evaluator_functions() -> dict[str, Callable[..., Any]]:
    import numpy as np
    import pandas as pd

    table: dict[str, Callable[..., Any]] = {
        name: getattr(np, name) for name in NUMERIC_FUNCTIONS - {"where", "clip"}
    }
    table.update(where=_where, clip=_clip, round=_round, isna=pd.isna, notna=pd.notna)
    return table


class _Evaluator:
    def __init__(self, data: pd.DataFrame, expr: CheckedExpression) -> None:
        self.data = data
        self.expr = expr
        self.functions = _evaluator_functions()

    def column(self, name: str) -> Any:
        if name not in self.data.columns:
            problems = missing_columns(
                (name,), self.data.columns, key=self.expr.key, where="the data"
            )
            raise SpecError(problems[0])
        return self.data[name]

    def eval(self, node: ast.AST) -> Any:  # noqa: PLR0911 - one branch per node kind
        if isinstance(node, ast.Expression):
            return self.eval(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.column(node.id)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.eval(e) for e in node.elts]
        if isinstance(node, ast.BinOp):
            left, right = self.eval(node.left), self.eval(node.right)
            if isinstance(node.op, ast.Pow) and isinstance(left, int) and isinstance(right, int):
                left = float(left)  # Python integers would grow without bound
            return BINARY_OPERATORS[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            value = self.eval(node.operand)
            if isinstance(node.op, ast.USub):
                return -value
            if isinstance(node.op, ast.UAdd):
                return +value
            return _logical_not(value)
        if isinstance(node, ast.BoolOp):
            values = [self.eval(v) for v in node.values]
            combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
            out = _as_logical(values[0])
            for v in values[1:]:
                out = combine(out, _as_logical(v))
            return out
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise SpecError(  # pragma: no cover - the checker refuses every other node
            f"{self.expr.key}: cannot evaluate '{ast.dump(node)}'."
        )

    def compare(self, node: ast.Compare) -> Any:
        left = self.eval(node.left)
        result: Any = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self.eval(right_node)
            if isinstance(op, (ast.In, ast.NotIn)):
                part = _isin(left, right)
                part = _logical_not(part) if isinstance(op, ast.NotIn) else part
            else:
                part = _COMPARE[type(op)](left, right)
            result = part if result is None else operator.and_(result, part)
            left = right
        return result

    def call(self, node: ast.Call) -> Any:
        # the allow-list checker refused every call whose function has no plain name
        name = cast(str, function_name(node.func))
        if name == "Q":
            return self.column(node.args[0].value)  # type: ignore[attr-defined]
        args = [self.eval(a) for a in node.args]
        kwargs = {kw.arg: self.eval(kw.value) for kw in node.keywords if kw.arg is not None}
        return self.functions[name](*args, **kwargs)


_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


def _isin(left: Any, values: list[Any]) -> Any:
    import pandas as pd

    if isinstance(left, pd.Series):
        return left.isin(values)
    return left in values


def _as_logical(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.Series) and not (
        pd.api.types.is_bool_dtype(value.dtype) or (isinstance(value.dtype, pd.BooleanDtype))
    ):
        raise TypeError(f"and/or/not need True/False values; got a column of type {value.dtype}")
    return value


def _logical_not(value: Any) -> Any:
    import pandas as pd

    if isinstance(value, pd.Series):
        return ~_as_logical(value)
    return not value


def evaluate(expr: CheckedExpression, data: pd.DataFrame) -> Any:
    """Evaluate a checked ``[derive]`` or ``filter`` expression over the columns of ``data``.

    Returns
    -------
    pandas.Series or scalar
        A Series aligned with ``data`` (a scalar when no column is involved).

    Raises
    ------
    SpecError
        If a column is missing (with close-match suggestions) or the evaluation fails
        (the message names the key and the expression).
    """
    if expr.kind == "formula":
        raise SpecError(f"{expr.key}: a formula piece is evaluated by the formula engine.")
    try:
        return _Evaluator(data, expr).eval(expr.tree)
    except SpecError:
        raise
    except Exception as exc:  # noqa: BLE001 - numpy and pandas raise many types
        raise SpecError(f'{expr.key}: expression "{expr.text}" failed: {exc}') from None
