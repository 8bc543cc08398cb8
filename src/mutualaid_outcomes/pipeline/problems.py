"""One message for many problems, so a spec's author can fix them all in one pass."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["problem_list"]


def problem_list(problems: Sequence[str], what: str = "") -> str:
    """Join problems into one message: a count line, then one bullet per problem.

    Examples
    --------
    >>> print(problem_list(["a: missing", "b: missing"], "spec"))
    The analysis spec has 2 problems (spec):
      - a: missing
      - b: missing
    """
    unique = list(dict.fromkeys(problems))
    n = len(unique)
    head = f"The analysis spec has {n} problem{'s' if n != 1 else ''}"
    head += f" ({what}):" if what else ":"
    return "\n".join([head, *(f"  - {p}" for p in unique)])
