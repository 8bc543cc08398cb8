"""Whether a fitted result converged, read from its ``glance()``, for tables and messages.

One rule for every output that shows a model: a result whose ``glance()`` has a
``converged`` column that is false did not converge. Tables mark it with
:data:`NONCONVERGENCE_MARK` next to its header and a note under the table; the command
line prints a warning. Results without a ``converged`` column (closed-form estimators)
are never marked.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["NONCONVERGENCE_MARK", "nonconvergence", "nonconvergence_note"]

#: the mark next to the header of a model that did not converge
NONCONVERGENCE_MARK = "\u2020"


def nonconvergence(result: Any) -> str | None:
    """None if ``result`` converged (or has no notion of it), else why it did not.

    The reason is ``glance()['message']`` when the result gives one.

    Examples
    --------
    >>> class R:
    ...     def glance(self):
    ...         return pd.DataFrame({"converged": [False], "message": ["IRLS: 25 steps"]})
    >>> nonconvergence(R())
    'IRLS: 25 steps'
    """
    glance = getattr(result, "glance", None)
    if glance is None:
        return None
    try:
        g = glance()
    except Exception:  # noqa: BLE001 - a result that cannot summarise itself is not marked here
        return None
    if not isinstance(g, pd.DataFrame) or "converged" not in g.columns or g.empty:
        return None
    flag = g["converged"].iloc[0]
    if pd.isna(flag) or bool(flag):
        return None
    message = g["message"].iloc[0] if "message" in g.columns else None
    text = str(message).strip() if isinstance(message, str) else ""
    return text or "the estimator stopped before its convergence criterion was met"


def nonconvergence_note(names_and_results: list[tuple[str, Any]]) -> str | None:
    """The note under a table: ``'† did not converge: model (reason); ...'`` or None.

    Examples
    --------
    >>> class R:
    ...     def glance(self):
    ...         return pd.DataFrame({"converged": [False], "message": [""]})
    >>> nonconvergence_note([("PDA", R())])
    '† did not converge: PDA (the estimator stopped before its convergence criterion was met); estimates may be unreliable.'
    """
    parts = []
    for name, result in names_and_results:
        why = nonconvergence(result)
        if why is not None:
            parts.append(f"{name} ({why})")
    if not parts:
        return None
    return (
        f"{NONCONVERGENCE_MARK} did not converge: {'; '.join(parts)}; estimates may be unreliable."
    )
