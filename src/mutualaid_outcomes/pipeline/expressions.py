"""Expressions in an analysis spec: parsed against an allow-list, never handed to ``eval``.

A spec is data that colleagues pass around, so every expression in it (a ``[derive]``
column, a model's ``filter``, a formula term) is parsed with :mod:`ast` and checked
against an explicit allow-list before any data is read:

- column names (``Q('odd name')`` for names that are not identifiers), numbers,
  strings, ``True``/``False``/``None``;
- arithmetic ``+ - * / // % **``, comparisons ``== != < <= > >=``, ``in``/``not in`` a
  literal list, ``and``/``or``/``not`` and ``& | ~``;
- calls of a fixed table of functions: :data:`DERIVE_FUNCTIONS` in ``[derive]`` and
  ``filter``, :data:`FORMULA_FUNCTIONS` in formulas (``np.log`` and ``numpy.log`` are
  accepted spellings of ``log``).

Everything else is refused with a :class:`~mutualaid_outcomes.errors.SpecError` that
names the spec key, the expression and the refused token: attribute access,
subscripts, calls of anything else, names starting with ``_``, pandas' ``@`` locals,
backticks, lambdas, comprehensions, conditional expressions, ``:=``, f-strings,
exponents over :data:`MAX_CONSTANT_EXPONENT` and arithmetic on text or lists (which
could exhaust memory).

``[derive]`` and ``filter`` expressions are evaluated by
:func:`~mutualaid_outcomes.pipeline.evaluation.evaluate`, a small
evaluator over the checked tree (pandas ``eval``/``query`` are never called with a spec
string). A formula is parsed with patsy's own formula parser, every Python piece of it
is checked, and the formula handed to the model is rebuilt from the checked pieces
(:attr:`CheckedFormula.engine_text`; ``log(x)`` becomes ``np.log(x)``, the spelling the
formula engine resolves). Formulas typed in Python keep patsy's full power: they are
the user's own code, and only the pipeline spec is treated as untrusted.

Examples
--------
>>> import pandas as pd
>>> expr = check_expression("log(dose) * 2", key="derive.x")
>>> expr.columns
('dose',)
>>> from mutualaid_outcomes.pipeline.evaluation import evaluate
>>> evaluate(expr, pd.DataFrame({"dose": [1.0, 10.0]})).round(3).tolist()
[0.0, 4.605]
>>> check_expression("__import__('os').system('ls')", key="derive.x")
Traceback (most recent call last):
...
mutualaid_outcomes.errors.SpecError: derive.x: expression "__import__('os').system('ls')" is refused: ...
>>> check_formula("pda ~ C(arm) + log(age)", key="models[0].formula").engine_text
'pda ~ C(arm) + np.log(age)'
"""

from __future__ import annotations

import ast
import io
import operator
import tokenize
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .._validation import close_matches
from ..errors import SpecError

__all__ = [
    "CheckedExpression",
    "CheckedFormula",
    "DERIVE_FUNCTIONS",
    "FORMULA_FUNCTIONS",
    "MAX_CONSTANT_EXPONENT",
    "MAX_EXPRESSION_LENGTH",
    "NUMERIC_FUNCTIONS",
    "BINARY_OPERATORS",
    "function_name",
    "check_expression",
    "check_formula",
    "missing_columns",
]

ExpressionKind = Literal["derive", "filter", "formula"]

#: numpy functions usable everywhere; in formulas they are handed on as ``np.NAME``
NUMERIC_FUNCTIONS = frozenset(
    {
        "log",
        "log1p",
        "log2",
        "log10",
        "exp",
        "expm1",
        "sqrt",
        "abs",
        "floor",
        "ceil",
        "clip",
        "where",
        "minimum",
        "maximum",
    }
)

#: functions of ``[derive]`` and ``filter`` expressions
DERIVE_FUNCTIONS = NUMERIC_FUNCTIONS | {"round", "isna", "notna", "Q"}

#: patsy's formula functions and contrasts, plus the numeric functions
FORMULA_FUNCTIONS = NUMERIC_FUNCTIONS | {
    "C",
    "I",
    "Q",
    "bs",
    "cr",
    "cc",
    "te",
    "center",
    "standardize",
    "scale",
    "Treatment",
    "Sum",
    "Diff",
    "Helmert",
    "Poly",
}

#: a constant exponent larger than this is refused (``10 ** 10 ** 10`` would never finish)
MAX_CONSTANT_EXPONENT = 1000
#: longer expressions are refused (deeply nested input could exhaust the parser)
MAX_EXPRESSION_LENGTH = 2000

_NUMPY_MODULES = ("np", "numpy")
#: the arithmetic operators of spec expressions
BINARY_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.BitAnd: operator.and_,
    ast.BitOr: operator.or_,
    ast.BitXor: operator.xor,
}
_COMPARE_OPS = (ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn)
_UNARY_OPS = (ast.UAdd, ast.USub, ast.Not, ast.Invert)
_REFUSED_KINDS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.IfExp: "conditional expressions (use where(condition, a, b))",
    ast.NamedExpr: "assignment expressions",
    ast.JoinedStr: "f-strings",
    ast.Starred: "argument unpacking",
    ast.Dict: "dictionaries",
    ast.Set: "sets",
    ast.Slice: "slices",
}


@dataclass(frozen=True)
class CheckedExpression:
    """An expression that passed the allow-list.

    Attributes
    ----------
    text : str
        The expression as written in the spec.
    key : str
        The spec key it came from (for messages).
    kind : {"derive", "filter", "formula"}
        Which function table it was checked against.
    tree : ast.Expression
        The checked syntax tree (the only thing :func:`evaluate` reads).
    columns : tuple of str
        Column names it refers to, in order of first appearance.
    """

    text: str
    key: str
    kind: ExpressionKind
    tree: ast.Expression
    columns: tuple[str, ...]


@dataclass(frozen=True)
class CheckedFormula:
    """A model formula whose every Python piece passed the allow-list.

    Attributes
    ----------
    text : str
        The formula as written in the spec.
    key : str
        The spec key it came from.
    engine_text : str
        The formula rebuilt from the checked pieces, as handed to the formula engine
        (identical to ``text`` unless a numeric function was written without ``np.``).
    columns : tuple of str
        Column names it refers to, in order of first appearance.
    """

    text: str
    key: str
    engine_text: str
    columns: tuple[str, ...]


def _functions(kind: ExpressionKind) -> frozenset[str]:
    return FORMULA_FUNCTIONS if kind == "formula" else frozenset(DERIVE_FUNCTIONS)


def _refusal(key: str, text: str, tokens: list[str], kind: ExpressionKind) -> SpecError:
    allowed = ", ".join(sorted(_functions(kind)))
    hint = _CBIND_HINT if any(t.startswith("'cbind'") for t in tokens) else ""
    return SpecError(
        f'{key}: expression "{text}" is refused: {"; ".join(dict.fromkeys(tokens))}. '
        "A spec expression may use column names, numbers, strings, arithmetic, "
        f"comparisons, and/or/not and the functions {allowed}.{hint}"
    )


#: Binomial successes out of trials are a model option in a spec, not ``cbind()``.
_CBIND_HINT = (
    " For binomial successes out of trials, write the successes column as the outcome "
    'and give the trials column as the model option trials = "column".'
)


def _lexical_refusals(text: str) -> list[str]:
    """Tokens the Python parser would reject or misread: pandas' ``@`` and backticks."""
    out: list[str] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.OP and tok.string == "@":
                out.append("'@' (pandas local-variable references are not allowed)")
            elif tok.type == tokenize.ERRORTOKEN and tok.string == "`":
                out.append("'`' (backticks are not supported; write Q('column name'))")
    except (tokenize.TokenError, SyntaxError):
        pass  # ast.parse reports the syntax error
    return list(dict.fromkeys(out))


def function_name(func: ast.expr) -> str | None:
    """``log`` for ``log``, ``np.log`` and ``numpy.log``; None for anything else."""
    if isinstance(func, ast.Name):
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id in _NUMPY_MODULES
        and func.attr in NUMERIC_FUNCTIONS
    ):
        return func.attr
    return None


class _Checker:
    """Walks a parsed expression and records refused tokens and column names."""

    def __init__(self, text: str, kind: ExpressionKind) -> None:
        self.text = text
        self.kind = kind
        self.functions = _functions(kind)
        self.refused: list[str] = []
        self.columns: list[str] = []

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def refuse(self, node: ast.AST, reason: str) -> None:
        self.refused.append(f"'{self.segment(node)}' ({reason})")

    def visit(self, node: ast.AST) -> None:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is not None:
            method(node)
            return
        self.refuse(node, _REFUSED_KINDS.get(type(node), f"{type(node).__name__} is not allowed"))
        if isinstance(node, ast.JoinedStr):
            return
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.visit(child)

    def visit_Expression(self, node: ast.Expression) -> None:
        self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, (int, float, str, bool, type(None))):
            self.refuse(node, "only numbers, strings, True, False and None are allowed")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("_"):
            self.refuse(node, "names starting with '_' are not allowed")
        else:
            self.columns.append(node.id)

    def visit_List(self, node: ast.List | ast.Tuple) -> None:
        for elt in node.elts:
            self.visit(elt)

    visit_Tuple = visit_List

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if type(node.op) not in BINARY_OPERATORS:
            self.refuse(node, "operator not allowed")
        for side in (node.left, node.right):
            if isinstance(side, (ast.List, ast.Tuple)) or (
                isinstance(side, ast.Constant) and isinstance(side.value, str)
            ):
                self.refuse(side, "arithmetic on text or lists is not allowed")
        if isinstance(node.op, ast.Pow) and _constant_only(node.right):
            value = _constant_value(node.right)
            if value is None or abs(value) > MAX_CONSTANT_EXPONENT:
                self.refuse(node, f"constant exponents above {MAX_CONSTANT_EXPONENT}")
        self.visit(node.left)
        self.visit(node.right)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> None:
        if not isinstance(node.op, _UNARY_OPS):  # pragma: no cover - Python has no others
            self.refuse(node, "operator not allowed")
        self.visit(node.operand)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        for value in node.values:
            self.visit(value)

    def visit_Compare(self, node: ast.Compare) -> None:
        for op, right in zip(node.ops, node.comparators, strict=True):
            if not isinstance(op, _COMPARE_OPS):
                self.refuse(node, "'is' comparisons are not allowed; use isna()")
            if isinstance(op, (ast.In, ast.NotIn)) and not isinstance(right, (ast.List, ast.Tuple)):
                self.refuse(right, "'in' needs a literal list such as ['a', 'b']")
        self.visit(node.left)
        for right in node.comparators:
            self.visit(right)

    def visit_Call(self, node: ast.Call) -> None:
        name = function_name(node.func)
        if isinstance(node.func, ast.Name) and name not in self.functions:
            where = "formulas" if self.kind == "formula" else "[derive] and filter expressions"
            self.refuse(node.func, f"not a function of {where}")
        elif name is None:
            self.visit(node.func)  # refuses the attribute access or subscript
        if name == "Q" and not (
            len(node.args) == 1
            and not node.keywords
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            self.refuse(node, "Q() takes one column name in quotes")
        elif name == "Q":
            self.columns.append(node.args[0].value)  # type: ignore[attr-defined]
            return
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            if kw.arg is None:
                self.refuse(kw.value, "argument unpacking")
            elif kw.arg.startswith("_"):
                self.refuse(kw, "names starting with '_' are not allowed")
            self.visit(kw.value)


def _constant_only(node: ast.AST) -> bool:
    return not any(isinstance(n, (ast.Name, ast.Call)) for n in ast.walk(node))


def _constant_value(node: ast.AST) -> float | None:
    """Value of a constant-only numeric subtree, computed in floating point (never huge)."""
    try:
        return float(_float_eval(node))
    except (TypeError, ValueError, ArithmeticError, KeyError):
        return None


def _float_eval(node: ast.AST) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _float_eval(node.operand)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY_OPERATORS:
        left, right = _float_eval(node.left), _float_eval(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_CONSTANT_EXPONENT:
            raise ValueError("exponent too large")
        return float(BINARY_OPERATORS[type(node.op)](left, right))
    raise ValueError("not a numeric constant")


def _inspect(text: str, kind: ExpressionKind) -> tuple[ast.Expression | None, list[str], list[str]]:
    """Parse and walk ``text``: the tree (None if unparsable), refused tokens, columns.

    Raises
    ------
    SpecError
        If the text is not valid Python syntax (without the key; the caller adds it).
    """
    lexical = _lexical_refusals(text)
    if lexical:
        return None, lexical, []
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise SpecError(f'"{text}" is not a valid expression: {exc.msg}') from None
    except (RecursionError, MemoryError, ValueError):
        raise SpecError(f'"{text}" is nested too deeply to check') from None
    checker = _Checker(text.strip(), kind)
    checker.visit(tree)
    return tree, checker.refused, checker.columns


def _check_length(text: Any, key: str, what: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"{key}: must be a non-empty {what} string; got {text!r}.")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise SpecError(
            f"{key}: the {what} is {len(text)} characters long; at most "
            f"{MAX_EXPRESSION_LENGTH} are allowed."
        )
    return text


def check_expression(text: Any, *, key: str, kind: ExpressionKind = "derive") -> CheckedExpression:
    """Parse ``text`` and check it against the allow-list of ``kind``.

    Parameters
    ----------
    text : str
        The expression as written in the spec.
    key : str
        The spec key, used in messages (``"derive.pda_pct"``, ``"models[0].filter"``).
    kind : {"derive", "filter", "formula"}
        Which function table applies (``"formula"`` for one Python piece of a formula).

    Returns
    -------
    CheckedExpression

    Raises
    ------
    SpecError
        If the text is not a valid expression or uses anything outside the allow-list;
        the message names the key, the expression and every refused token.
    """
    text = _check_length(text, key, "expression")
    try:
        tree, refused, columns = _inspect(text, kind)
    except SpecError as exc:
        raise SpecError(f"{key}: {exc}.") from None
    if refused or tree is None:
        raise _refusal(key, text, refused, kind)
    return CheckedExpression(
        text=text, key=key, kind=kind, tree=tree, columns=tuple(dict.fromkeys(columns))
    )


def _line_offsets(code: bytes) -> list[int]:
    starts = [0]
    for line in code.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _engine_code(piece: CheckedExpression) -> str:
    """The piece with numeric functions spelt ``np.NAME`` (the name patsy resolves).

    Works on UTF-8 bytes, because :mod:`ast` offsets count bytes.
    """
    code = piece.text.strip().encode("utf-8")
    starts = _line_offsets(code)
    edits: list[tuple[int, int, bytes]] = []
    for node in ast.walk(piece.tree):
        if not isinstance(node, ast.Call):
            continue
        name = function_name(node.func)
        if name in NUMERIC_FUNCTIONS and name != "abs":
            func = node.func
            end_line = func.end_lineno or func.lineno
            end_col = func.end_col_offset or func.col_offset
            begin = starts[func.lineno - 1] + func.col_offset
            end = starts[end_line - 1] + end_col
            new = f"np.{name}".encode()
            if code[begin:end] != new:
                edits.append((begin, end, new))
    for begin, end, new in sorted(edits, reverse=True):
        code = code[:begin] + new + code[end:]
    return code.decode("utf-8")


def check_formula(text: Any, *, key: str) -> CheckedFormula:
    """Check every Python piece of a model formula against the allow-list.

    The formula is split with patsy's own parser, so the pieces checked are exactly the
    pieces the formula engine would evaluate.

    Raises
    ------
    SpecError
        If the formula cannot be parsed or a piece is refused.
    """
    from patsy import PatsyError
    from patsy.parse_formula import parse_formula

    text = _check_length(text, key, "formula")
    lexical = _lexical_refusals(text)
    if lexical:
        raise _refusal(key, text, lexical, "formula")
    try:
        tree = parse_formula(text)
    except PatsyError as exc:
        raise SpecError(f'{key}: "{text}" is not a valid formula: {exc.message}.') from None
    except (RecursionError, MemoryError):
        raise SpecError(f'{key}: "{text}" is nested too deeply to check.') from None
    pieces: list[tuple[int, int]] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.type == "PYTHON_EXPR":
            pieces.append((node.origin.start, node.origin.end))
        stack.extend(node.args)
    refused: list[str] = []
    checked: list[tuple[int, int, CheckedExpression]] = []
    for begin, end in sorted(pieces):
        code = text[begin:end]
        try:
            parsed, bad, columns = _inspect(code, "formula")
        except SpecError as exc:
            raise SpecError(f"{key}: {exc}.") from None
        refused += bad
        if parsed is not None and not bad:
            cols = tuple(dict.fromkeys(columns))
            checked.append((begin, end, CheckedExpression(code, key, "formula", parsed, cols)))
    if refused:
        raise _refusal(key, text, refused, "formula")
    engine = text
    for begin, end, piece in sorted(checked, key=lambda t: t[0], reverse=True):
        engine = engine[:begin] + _engine_code(piece) + engine[end:]
    columns = [c for _, _, piece in checked for c in piece.columns]
    return CheckedFormula(
        text=text, key=key, engine_text=engine, columns=tuple(dict.fromkeys(columns))
    )


def missing_columns(
    columns: tuple[str, ...] | list[str], available: Any, *, key: str, where: str
) -> list[str]:
    """Problems (one line each) for ``columns`` not among ``available``, with suggestions."""
    present = [str(c) for c in available]
    have = set(present)
    out = []
    for name in columns:
        if name in have:
            continue
        text = f"{key}: column '{name}' is not in {where}."
        sugg = close_matches(name, present)
        if sugg:
            text += " Did you mean " + " or ".join(repr(s) for s in sugg) + "?"
        out.append(text)
    return out
