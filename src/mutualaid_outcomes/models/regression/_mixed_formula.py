"""lme4-style random-effect terms and ``cbind`` outcomes in mixed-model formulas."""

from __future__ import annotations

import re

from ...errors import OptionError

__all__ = ["parse_mixed_formula", "parse_cbind"]

_BAR = re.compile(r"\(\s*([^()|]*?)\s*(\|\|?)\s*([^()|]+?)\s*\)")
_CBIND = re.compile(r"^\s*cbind\(\s*([^,()]+?)\s*,\s*([^,()]+?)\s*\)\s*$")


def parse_mixed_formula(formula: str) -> tuple[str, str | None, str | None]:
    """Split ``"y ~ x + (1 + time | id)"`` into ``("y ~ x", "id", "1 + time")``.

    Formulas without a bar term come back unchanged with ``None, None``. One random-effect
    term on one grouping column is supported; nested (``site/id``), interaction
    (``site:id``), double-bar and several terms raise :class:`OptionError`.
    """
    terms = _BAR.findall(formula)
    if not terms:
        return formula, None, None
    if len(terms) > 1:
        raise OptionError(
            f"`formula` has {len(terms)} random-effect terms ({formula!r}); fit_mixed "
            "supports one term on one grouping column, e.g. '(1 + time | id)'. Crossed and "
            "nested random effects are not supported yet."
        )
    expr, bar, group = terms[0]
    if bar == "||" or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", group):
        raise OptionError(
            f"`formula`: the random-effect term '({expr} {bar} {group})' is not supported; "
            "use one grouping column with '|', e.g. '(1 + time | id)' (nested 'a/b', "
            "interactions 'a:b' and uncorrelated '||' terms are not supported yet)."
        )
    fixed = _BAR.sub("", formula)
    fixed = re.sub(r"\+\s*(?=\+|$)", "", fixed.strip()).strip()
    fixed = re.sub(r"~\s*\+", "~ ", fixed).rstrip("+ ").strip()
    if fixed.endswith("~"):
        fixed += " 1"
    return fixed, group, expr or "1"


def parse_cbind(lhs: str) -> tuple[str, str] | None:
    """``"cbind(s, f)"`` -> ``("s", "f")``; None for any other outcome."""
    m = _CBIND.match(lhs)
    return (m.group(1), m.group(2)) if m else None
