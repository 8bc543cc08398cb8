r"""Parser of lavaan model syntax.

Supported (lavaan 0.6 syntax): ``=~`` (measurement), ``~`` (regression), ``~~``
(variance / covariance), ``~ 1`` (intercepts and means), ``:=`` (defined parameters),
``==`` between labels or between a label and a number (equality constraints), modifiers
``a*x`` (label), ``0.5*x`` / ``-1*x`` (fixed value), ``NA*x`` (free), ``start(0.5)*x``,
``label("a")*x`` and per-group vectors ``c(a1, a2)*x`` / ``c(1, NA)*x``; several
left-hand variables (``y1 + y2 ~ x``); comments after ``#`` or ``!``; statements
separated by new lines or ``;``; a statement continues on the next line when the line
ends with ``+`` or ``*`` or when the next line has no operator.

Not supported (a :class:`~mutualaid_outcomes.models.sem.ModelSyntaxError` says so):
formative indicators ``<~``, thresholds ``|``, scaling factors ``~*~``, inequality
constraints ``<`` / ``>``, non-linear ``==`` constraints and multilevel blocks.

Examples
--------
>>> m = parse_model("f =~ x1 + a*x2 + x3\ny ~ f + c(b1, b2)*z\nind := a*b1")
>>> [(s.lhs, s.op, [t.name for t in s.rhs]) for s in m.statements]
[(('f',), '=~', ['x1', 'x2', 'x3']), (('y',), '~', ['f', 'z']), (('ind',), ':=', [])]
>>> m.statements[1].rhs[1].labels
('b1', 'b2')
>>> m.statements[2].expression
'a*b1'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import ArgumentTypeError
from ._errors import ModelSyntaxError

__all__ = ["Term", "Statement", "ParsedModel", "parse_model"]

_OPERATORS = ("=~", "~~", ":=", "==", "<~", "~*~", "~", "<", ">", "|", "%")
_UNSUPPORTED = {
    "<~": "formative indicators ('<~') are not supported",
    "~*~": "scaling factors ('~*~') are only used for ordinal indicators, which are not supported",
    "|": "thresholds ('|') are only used for ordinal indicators, which are not supported",
    "<": "inequality constraints ('<') are not supported",
    ">": "inequality constraints ('>') are not supported",
    "%": "the '%' operator is not supported",
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*|\.[A-Za-z_][A-Za-z0-9_.]*")
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@dataclass(frozen=True)
class Term:
    """One right-hand term with its modifiers (one entry per group in the tuples).

    ``fixed[g]`` is a fixed value or ``None`` (free, also for ``NA``); ``labels[g]`` a
    label or ``None``; ``start[g]`` a starting value or ``None``. The tuples have length
    1 when the modifier applies to every group. ``free_forced`` marks ``NA*x``.
    """

    name: str
    fixed: tuple[float | None, ...] | None = None
    labels: tuple[str | None, ...] | None = None
    start: tuple[float | None, ...] | None = None
    free_forced: tuple[bool, ...] | None = None
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class Statement:
    """One formula: left-hand names, operator, right-hand terms (or an expression)."""

    lhs: tuple[str, ...]
    op: str
    rhs: tuple[Term, ...]
    expression: str = ""
    line: int = 0
    column: int = 0


@dataclass(frozen=True)
class ParsedModel:
    """The statements of a model, in the order written."""

    statements: tuple[Statement, ...]
    text: str


class _Line:
    """A logical line: text plus the (line, column) of every character."""

    def __init__(self) -> None:
        self.chars: list[str] = []
        self.pos: list[tuple[int, int]] = []

    def add(self, text: str, line: int, col0: int) -> None:
        for i, ch in enumerate(text):
            self.chars.append(ch)
            self.pos.append((line, col0 + i))

    @property
    def text(self) -> str:
        return "".join(self.chars)


def _error(message: str, line: int, column: int, source: str) -> ModelSyntaxError:
    lines = source.splitlines() or [""]
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    caret = " " * max(column - 1, 0) + "^"
    return ModelSyntaxError(
        f"Model syntax error at line {line}, column {column}: {message}.\n  {shown}\n  {caret}"
    )


def _has_operator(text: str) -> bool:
    return any(op in text for op in ("=~", "~", ":=", "==", "<", ">", "|", "%"))


def _logical_lines(text: str) -> list[_Line]:
    out: list[_Line] = []
    pending: _Line | None = None
    for lineno, raw in enumerate(text.split("\n"), start=1):
        cut = len(raw)
        for mark in ("#", "!"):
            k = raw.find(mark)
            if k >= 0 and not (mark == "!" and raw[k : k + 2] == "!="):
                cut = min(cut, k)
        raw = raw[:cut]
        col = 1
        for piece in raw.split(";"):
            body = piece.strip()
            start = col + (len(piece) - len(piece.lstrip()))
            col += len(piece) + 1
            if not body:
                continue
            if pending is not None and (
                pending.text.rstrip().endswith(("+", "*")) or not _has_operator(body)
            ):
                pending.add(" " + body, lineno, start - 1)
                continue
            if pending is not None:
                out.append(pending)
            pending = _Line()
            pending.add(body, lineno, start)
    if pending is not None:
        out.append(pending)
    return out


def _find_operator(text: str) -> tuple[str, int] | None:
    """First operator at parenthesis depth 0, scanning left to right (longest match)."""
    depth = 0
    ordered = sorted(_OPERATORS, key=len, reverse=True)
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            for op in ordered:
                if text.startswith(op, i):
                    return op, i
    return None


def _split_plus(text: str, offset: int) -> list[tuple[str, int]]:
    """Split on top-level '+' (not inside parentheses, not a number's sign)."""
    parts: list[tuple[str, int]] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "+" and depth == 0:
            prev = text[:i].rstrip()
            if re.search(r"\d[eE]$", prev):
                continue
            if prev.endswith(("*", "(", ",")) or prev == "":
                if prev == "" and i == 0:
                    parts.append(("", offset + i))
                    start = i + 1
                continue
            parts.append((text[start:i], offset + start))
            start = i + 1
    parts.append((text[start:], offset + start))
    return parts


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str, line: _Line, index: int) -> ModelSyntaxError:
        index = min(max(index, 0), len(line.pos) - 1) if line.pos else 0
        ln, col = line.pos[index] if line.pos else (1, 1)
        return _error(message, ln, col, self.source)

    def names(self, line: _Line, text: str, offset: int, what: str) -> tuple[str, ...]:
        out = []
        for part, pos in _split_plus(text, offset):
            stripped = part.strip()
            lead = pos + len(part) - len(part.lstrip())
            if not stripped:
                raise self.fail(f"expected a variable name on the {what}", line, lead)
            if not _NAME.fullmatch(stripped):
                raise self.fail(
                    f"{stripped!r} is not a valid variable name on the {what} (names start "
                    "with a letter or '_' and contain letters, digits, '_' and '.')",
                    line,
                    lead,
                )
            out.append(stripped)
        return tuple(out)

    def modifier(self, line: _Line, text: str, offset: int) -> dict[str, tuple]:
        t = text.strip()
        lead = offset + len(text) - len(text.lstrip())
        m = re.fullmatch(r"(start|label|equal|c)\s*\((.*)\)", t, flags=re.S)
        if m:
            kind, inner = m.group(1), m.group(2)
            items = [s.strip() for s in inner.split(",")] if inner.strip() else []
            if not items:
                raise self.fail(f"'{kind}()' needs at least one value", line, lead)
            if kind == "start":
                return {"start": tuple(self.number(line, s, lead) for s in items)}
            if kind in ("label", "equal"):
                labs = tuple(s.strip("\"'") for s in items)
                for s in labs:
                    if not _NAME.fullmatch(s):
                        raise self.fail(f"{s!r} is not a valid label", line, lead)
                return {"labels": labs}
            fixed: list[float | None] = []
            labels: list[str | None] = []
            forced: list[bool] = []
            for s in items:
                s2 = s.strip("\"'")
                if s2 == "NA":
                    entry: tuple[float | None, str | None, bool] = (None, None, True)
                elif _NUMBER.fullmatch(s2):
                    entry = (float(s2), None, False)
                elif _NAME.fullmatch(s2):
                    entry = (None, s2, False)
                else:
                    raise self.fail(f"{s!r} is not a number, NA or a label in c()", line, lead)
                fixed.append(entry[0])
                labels.append(entry[1])
                forced.append(entry[2])
            out: dict[str, tuple] = {"free_forced": tuple(forced)}
            if any(v is not None for v in fixed) or any(forced):
                out["fixed"] = tuple(fixed)
            if any(v is not None for v in labels):
                out["labels"] = tuple(labels)
            return out
        if t == "NA":
            return {"fixed": (None,), "free_forced": (True,)}
        if _NUMBER.fullmatch(t):
            return {"fixed": (float(t),), "free_forced": (False,)}
        if _NAME.fullmatch(t):
            return {"labels": (t,)}
        raise self.fail(
            f"{t!r} is not a valid modifier (use a number, NA, a label, c(...), start(...) "
            "or label(...))",
            line,
            lead,
        )

    def number(self, line: _Line, text: str, index: int) -> float | None:
        s = text.strip()
        if s == "NA":
            return None
        if not _NUMBER.fullmatch(s):
            raise self.fail(f"{s!r} is not a number", line, index)
        return float(s)

    def term(self, line: _Line, text: str, offset: int, op: str) -> Term:
        pieces: list[tuple[str, int]] = []
        depth = 0
        start = 0
        for i, ch in enumerate(text):
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            elif ch == "*" and depth == 0:
                pieces.append((text[start:i], offset + start))
                start = i + 1
        pieces.append((text[start:], offset + start))
        name_text, name_pos = pieces[-1]
        name = name_text.strip()
        lead = name_pos + len(name_text) - len(name_text.lstrip())
        if len(name.split()) > 1:
            first = name.split()[0]
            gap = lead + len(first) + len(name[len(first) :]) - len(name[len(first) :].lstrip())
            raise self.fail(
                f"'{first}' is followed by '{name.split()[1]}' without '+' or an operator",
                line,
                gap,
            )
        if not name:
            raise self.fail("expected a variable name after the modifier", line, lead)
        if not (_NAME.fullmatch(name) or (name == "1" and op == "~")):
            raise self.fail(
                f"{name!r} is not a valid variable name"
                + (" (an intercept is written '~ 1')" if _NUMBER.fullmatch(name) else ""),
                line,
                lead,
            )
        mods: dict[str, tuple] = {}
        for ptext, ppos in pieces[:-1]:
            if not ptext.strip():
                raise self.fail("empty modifier before '*'", line, ppos)
            for key, value in self.modifier(line, ptext, ppos).items():
                mods[key] = value
        ln, col = line.pos[min(lead, len(line.pos) - 1)]
        return Term(name=name, line=ln, column=col, **mods)

    def statement(self, line: _Line) -> Statement:
        text = line.text
        found = _find_operator(text)
        if found is None:
            raise self.fail(
                "no operator found (expected one of '=~', '~', '~~', ':=', '==')", line, 0
            )
        op, k = found
        if op in _UNSUPPORTED:
            raise self.fail(_UNSUPPORTED[op], line, k)
        lhs_text, rhs_text = text[:k], text[k + len(op) :]
        rhs_off = k + len(op)
        ln, col = line.pos[0]
        if not lhs_text.strip():
            raise self.fail(f"nothing on the left of '{op}'", line, k)
        if not rhs_text.strip():
            raise self.fail(f"nothing on the right of '{op}'", line, k + len(op) - 1)
        if op in (":=", "=="):
            name = lhs_text.strip()
            if not _NAME.fullmatch(name):
                raise self.fail(f"{name!r} is not a valid parameter name", line, 0)
            return Statement((name,), op, (), rhs_text.strip(), ln, col)
        lhs = self.names(line, lhs_text, 0, f"left of '{op}'")
        terms = []
        for part, pos in _split_plus(rhs_text, rhs_off):
            if not part.strip():
                raise self.fail(f"a term is missing on the right of '{op}'", line, pos + len(part))
            terms.append(self.term(line, part, pos, op))
        return Statement(lhs, op, tuple(terms), "", ln, col)

    def parse(self) -> ParsedModel:
        statements = [self.statement(line) for line in _logical_lines(self.source)]
        if not statements:
            raise ModelSyntaxError("`model` has no statements; give lavaan model syntax.")
        return ParsedModel(tuple(statements), self.source)


def parse_model(model: str) -> ParsedModel:
    """Parse lavaan model syntax into statements.

    Parameters
    ----------
    model : str
        lavaan model syntax.

    Returns
    -------
    ParsedModel

    Raises
    ------
    ArgumentTypeError
        If ``model`` is not a string.
    ModelSyntaxError
        On a syntax error, with the line and column and a caret under the position.

    Examples
    --------
    >>> parse_model("y ~ x + 1").statements[0].rhs[1].name
    '1'
    >>> parse_model("f =~ x1 +")
    Traceback (most recent call last):
    ...
    mutualaid_outcomes.models.sem._errors.ModelSyntaxError: Model syntax error at line 1, column 9: a term is missing on the right of '=~'.
      f =~ x1 +
              ^
    """
    if not isinstance(model, str):
        raise ArgumentTypeError(
            f"`model` must be lavaan model syntax (a string); got {type(model).__name__}."
        )
    return _Parser(model.replace("\r\n", "\n")).parse()
