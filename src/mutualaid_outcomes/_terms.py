"""Model coefficient names taken apart: :class:`Term` and :func:`parse_term`.

A coefficient name as patsy writes it -- ``C(arm, Treatment('CBT'))[T.MET]``,
``sex[T.1]``, ``C(arm)[T.MET]:month``, ``Intercept`` -- is parsed into the variable,
the level of a factor dummy, the reference level stated in the name, the coding
(treatment, sum or full) and, for an interaction, its parts. The label resolver
(:class:`mutualaid_outcomes._labels.Labels`) builds readable term labels from this,
and the regression tables group factor levels with it. Both names are re-exported by
:mod:`mutualaid_outcomes._labels`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Term", "parse_term"]

_INTERCEPTS = ("Intercept", "const", "(Intercept)")
_FACTOR = re.compile(
    r"^(?:C\((?P<cvar>[^,()]+)(?P<cargs>,.*)?\)|(?P<pvar>[A-Za-z_][\w.]*))"
    r"\[(?:(?P<code>[A-Za-z]+)\.)?(?P<level>.+)\]$"
)
_TREATMENT = re.compile(
    r"Treatment\(\s*(?:reference\s*=\s*)?(?P<ref>'[^']*'|\"[^\"]*\"|[^)\s]+)\s*\)"
)


@dataclass(frozen=True)
class Term:
    """A model coefficient name taken apart.

    Attributes
    ----------
    text : str
        The name as the model reports it.
    variable : str or None
        The data column (None for the intercept and for interactions).
    level : str or None
        The factor level of a dummy column (text as in the name).
    reference : str or None
        The reference level stated in the name (``Treatment('CBT')``).
    coding : str
        ``"treatment"``, ``"sum"`` or ``"full"`` for factor dummies; ``""`` otherwise.
    parts : tuple of Term
        The factors of an interaction ``a:b`` (empty otherwise).
    """

    text: str
    variable: str | None = None
    level: str | None = None
    reference: str | None = None
    coding: str = ""
    parts: tuple[Term, ...] = ()

    @property
    def is_factor(self) -> bool:
        """Whether the term is one level of a factor."""
        return self.level is not None

    @property
    def is_intercept(self) -> bool:
        """Whether the term is the intercept."""
        return self.text in _INTERCEPTS


def _split_top(text: str, sep: str = ":") -> list[str]:
    """Split at ``sep`` outside parentheses and brackets."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def _strip_quotes(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def parse_term(term: str) -> Term:
    """Take a patsy coefficient name apart (see :class:`Term`).

    Examples
    --------
    >>> t = parse_term("C(arm, Treatment('CBT'))[T.MET]")
    >>> (t.variable, t.level, t.reference, t.coding)
    ('arm', 'MET', 'CBT', 'treatment')
    >>> [p.variable for p in parse_term("C(arm)[T.MET]:month").parts]
    ['arm', 'month']
    >>> parse_term("indirect[network]").coding  # a bracketed name without a coding code
    'full'
    """
    term = str(term)
    if term in _INTERCEPTS:
        return Term(term)
    pieces = _split_top(term)
    if len(pieces) > 1:
        return Term(term, parts=tuple(parse_term(p) for p in pieces))
    m = _FACTOR.match(term)
    if m:
        var = (m.group("cvar") or m.group("pvar")).strip()
        code = m.group("code")
        ref = None
        args = m.group("cargs") or ""
        tm = _TREATMENT.search(args)
        if tm:
            ref = _strip_quotes(tm.group("ref"))
        coding = "full" if code is None else {"T": "treatment", "S": "sum"}.get(code, code.lower())
        return Term(term, variable=var, level=m.group("level"), reference=ref, coding=coding)
    return Term(term, variable=term)
