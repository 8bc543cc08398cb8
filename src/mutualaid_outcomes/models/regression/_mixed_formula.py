"""lme4-style random-effect terms and ``cbind`` outcomes in mixed-model formulas."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ...errors import OptionError

__all__ = ["RandomTerm", "parse_random_terms", "parse_mixed_formula", "parse_cbind"]

_BAR = re.compile(r"\(\s*([^()|]*?)\s*(\|\|?)\s*([^()|]+?)\s*\)")
_CBIND = re.compile(r"^\s*cbind\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*$")
_NAME = r"[A-Za-z_][A-Za-z0-9_.]*"


@dataclass(frozen=True)
class RandomTerm:
    """One random-effect term: ``expr`` (``"1 + time"``) varying over ``factors``.

    ``factors`` has one column for ``(1 | id)`` and several for an interaction grouping
    factor ``(1 | site:id)``, whose levels are the observed combinations.
    """

    expr: str
    factors: tuple[str, ...]

    @property
    def group(self) -> str:
        """Name of the grouping factor, e.g. ``"site:id"``."""
        return ":".join(self.factors)

    @property
    def re_formula(self) -> str:
        return f"~ {self.expr}"


def _expand_group(expr: str, bar: str, group: str) -> list[RandomTerm]:
    """``a/b/c`` -> ``a``, ``a:b``, ``a:b:c`` (lme4's nesting); ``a:b`` -> one term."""
    text = f"({expr} {bar} {group})"
    if bar == "||":
        raise OptionError(
            f"`formula`: the uncorrelated random-effect term '{text}' ('||') is not "
            "supported; use correlated random effects, e.g. '(1 + time | id)'."
        )
    parts = [p.strip() for p in group.split("/")]
    factors = [tuple(f.strip() for f in p.split(":")) for p in parts]
    if not all(f and all(re.fullmatch(_NAME, x) for x in f) for f in factors):
        raise OptionError(
            f"`formula`: the grouping factor of '{text}' is not supported; use column "
            "names, nested 'site/id' or an interaction 'id:interval', e.g. '(1 | site/id)'."
        )
    if len(parts) > 1 and not all(len(f) == 1 for f in factors):
        raise OptionError(
            f"`formula`: '{text}' mixes '/' and ':'; write the nested terms out, e.g. "
            "'(1 | site) + (1 | site:id)'."
        )
    if len(parts) == 1:
        return [RandomTerm(expr or "1", factors[0])]
    names = [f[0] for f in factors]
    return [RandomTerm(expr or "1", tuple(names[: i + 1])) for i in range(len(names))]


def parse_random_terms(formula: str) -> tuple[str, list[RandomTerm]]:
    """Split ``"y ~ x + (1 | site/id)"`` into ``("y ~ x", [terms])``.

    Nested factors expand as in lme4 (``(1 | site/id)`` is ``(1 | site) + (1 | site:id)``);
    an interaction ``(1 | id:interval)`` is one grouping factor. A formula without
    random-effect terms comes back unchanged with an empty list. Two terms on the same
    grouping factor (e.g. lme4's ``(1 | id) + (0 + time | id)``) raise :class:`OptionError`.
    """
    found = _BAR.findall(formula)
    terms: list[RandomTerm] = []
    for expr, bar, group in found:
        terms.extend(_expand_group(expr, bar, group))
    groups = [t.group for t in terms]
    dup = sorted({g for g in groups if groups.count(g) > 1})
    if dup:
        raise OptionError(
            f"`formula` has several random-effect terms on the grouping factor(s) {dup}; "
            "put all random effects of one factor in one term, e.g. '(1 + time | id)'."
        )
    if not found:
        return formula, terms
    fixed = _BAR.sub("", formula)
    fixed = re.sub(r"\+\s*(?=\+|$)", "", fixed.strip()).strip()
    fixed = re.sub(r"~\s*\+", "~ ", fixed).rstrip("+ ").strip()
    fixed = re.sub(r"\+\s*\+", "+", fixed)
    if fixed.endswith("~"):
        fixed += " 1"
    return fixed, terms


def parse_mixed_formula(formula: str) -> tuple[str, str | None, str | None]:
    """Split ``"y ~ x + (1 + time | id)"`` into ``("y ~ x", "id", "1 + time")``.

    For formulas with exactly one random-effect term on one plain column; formulas
    without a bar term come back unchanged with ``None, None``.
    """
    fixed, terms = parse_random_terms(formula)
    if not terms:
        return formula, None, None
    if len(terms) > 1 or len(terms[0].factors) > 1:
        raise OptionError(f"`formula` has several or interaction random-effect terms: {formula!r}.")
    return fixed, terms[0].group, terms[0].expr


def parse_cbind(lhs: str) -> tuple[str, str] | None:
    """``"cbind(s, f)"`` -> ``("s", "f")``; None for any other outcome."""
    m = _CBIND.match(lhs)
    return (m.group(1), m.group(2)) if m else None
