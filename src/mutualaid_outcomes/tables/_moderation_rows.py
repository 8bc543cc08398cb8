"""Row labels and footnotes of moderated mediation results in :func:`mediation_table`.

Kept apart from :mod:`.model_tables` so the table's own code stays unchanged but for one
call each: :func:`moderated_label` names the rows of
``mediate(..., moderator=...)`` (products with the moderator, the index of moderated
mediation, conditional indirect and direct effects, contrasts across moderator values),
and :func:`moderation_footnotes` adds the result's statements about the moderator.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["moderated_label", "moderation_footnotes"]

_PRODUCT = re.compile(
    r"^(?P<stem>(?P<kind>[ab])\[(?P<med>[^|\]]+)\]|direct):(?P<w>[^=]+)(=(?P<lev>.+))?$"
)
_CONDITIONAL = re.compile(r"^(?P<kind>index|indirect|contrast)\[(?P<chain>[^|]+)\|(?P<at>.+)\]$")
_DIRECT_AT = re.compile(r"^direct\[(?P<at>.+)\]$")


def _at_text(text: str, name: Callable[[str], str]) -> str:
    w, _, value = text.partition("=")
    return f"{name(w)} = {value}"


def moderated_label(term: str, name: Callable[[str], str], x_text: str, y_text: str) -> str | None:
    """Label of a moderated-mediation row, or None for any other term.

    ``name`` maps a column name to its display label.

    Examples
    --------
    >>> moderated_label("a[m]:w", str.upper, "X", "Y")
    'a path × W: X → M'
    >>> moderated_label("index[m|sex=1]", str.upper, "X", "Y")
    'Index of moderated mediation via M (SEX = 1 vs reference)'
    >>> moderated_label("indirect[m1->m2|w=0.5]", str.upper, "X", "Y")
    'Indirect via M1 → M2 at W = 0.5'
    >>> moderated_label("direct", str.upper, "X", "Y") is None
    True
    """
    m = _PRODUCT.match(term)
    if m:
        w = name(m.group("w")) + (f" = {m.group('lev')}" if m.group("lev") else "")
        if m.group("kind") == "a":
            return f"a path × {w}: {x_text} → {name(m.group('med'))}"
        if m.group("kind") == "b":
            return f"b path × {w}: {name(m.group('med'))} → {y_text}"
        return f"Direct effect × {w}"
    m = _CONDITIONAL.match(term)
    if m:
        chain = " → ".join(name(p) for p in m.group("chain").split("->"))
        at = m.group("at")
        if m.group("kind") == "index":
            return f"Index of moderated mediation via {chain} ({_at_text(at, name)} vs reference)"
        if m.group("kind") == "indirect":
            return f"Indirect via {chain} at {_at_text(at, name)}"
        hi, _, lo = at.partition(" minus ")
        return f"Contrast via {chain}: {_at_text(hi, name)} − {_at_text(lo, name)}"
    if term.startswith("index[") and term.endswith("]"):
        chain = " → ".join(name(p) for p in term[6:-1].split("->"))
        return f"Index of moderated mediation via {chain}"
    m = _DIRECT_AT.match(term)
    if m:
        return f"Direct effect at {_at_text(m.group('at'), name)}"
    return None


def moderation_footnotes(result: Any) -> list[str]:
    """The moderator statements of a moderated mediation result (empty for others)."""
    if not getattr(result, "moderator", None):
        return []
    keep = ("Moderator:", "No single index", "index[...]")
    return [n for n in getattr(result, "notes", ()) if str(n).startswith(keep)]
