"""Names and colours of the groups of a figure (curves, at-risk rows, legend entries).

Every figure that draws groups of a ``by`` column names them the same way and gives the
same group the same colour, so a Kaplan-Meier figure, a cumulative-incidence figure and a
trajectory figure of the same arms match:

* **names**: ``labels[group]`` (a label given for the value itself), else
  ``labels[by][group]`` (value labels given for the column), else the codebook's value
  labels of ``by``, else the value (``1.0`` prints as ``1``);
* **colours**: the Okabe-Ito palette in the order of the sorted groups, unless
  ``colors`` maps a group (or its name) to a colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._labels import value_label, value_labels, variable_label
from ..errors import ArgumentTypeError
from .style import OKABE_ITO

__all__ = ["group_names", "group_colors", "by_label", "check_labels"]


def check_labels(labels: Any) -> Mapping[Any, Any] | None:
    """Validate a figure's ``labels`` argument (None or a mapping)."""
    if labels is None or isinstance(labels, Mapping):
        return labels
    raise ArgumentTypeError(
        "`labels` must be a mapping ({value or column: label}, or {column: {code: label}}); "
        f"got {type(labels).__name__}."
    )


def _lookup(mapping: Mapping[Any, Any], value: Any) -> str | None:
    """A label stored under ``value`` as given, as text or as a whole number (or None)."""
    keys: list[Any] = [value, str(value)]
    try:
        f = float(value)
        if f.is_integer():
            keys += [int(f), f, str(int(f))]
    except (TypeError, ValueError):
        pass
    for key in keys:
        try:
            found = mapping.get(key)
        except TypeError:  # unhashable
            continue
        if found is not None and not isinstance(found, Mapping):
            return str(found)
    return None


def group_names(
    groups: Sequence[Any],
    by: str | None,
    labels: Mapping[Any, Any] | None = None,
    codebook: Any = None,
) -> list[str]:
    """Display names of ``groups`` (see the module docstring for the order of sources).

    Examples
    --------
    >>> group_names([0, 1], "sex", {"sex": {0: "Male", 1: "Female"}})
    ['Male', 'Female']
    >>> group_names(["CBT", "TSF"], "arm", {"TSF": "Twelve-step facilitation"})
    ['CBT', 'Twelve-step facilitation']
    >>> group_names([1.0, 2.0], None)
    ['1', '2']
    """
    labels = check_labels(labels) or {}
    given = labels.get(by) if by is not None else None
    vlabels = dict(given) if isinstance(given, Mapping) else value_labels(codebook, by or "")
    out = []
    for g in groups:
        name = _lookup(labels, g)
        out.append(name if name is not None else value_label(g, vlabels))
    return out


def group_colors(
    groups: Sequence[Any], names: Sequence[str], colors: Mapping[Any, str] | None = None
) -> list[str]:
    """Colour of each group: ``colors[group]`` or ``colors[name]``, else the palette.

    Examples
    --------
    >>> group_colors(["a", "b"], ["A", "B"], {"B": "red"})
    ['#000000', 'red']
    """
    if colors is not None and not isinstance(colors, Mapping):
        raise ArgumentTypeError(
            f"`colors` must be a mapping {{group: colour}}; got {type(colors).__name__}."
        )
    out = []
    for i, (g, name) in enumerate(zip(groups, names)):
        c = None
        if colors:
            c = colors.get(g, colors.get(name, colors.get(str(g))))
        out.append(c or OKABE_ITO[i % len(OKABE_ITO)])
    return out


def by_label(by: str | None, labels: Mapping[Any, Any] | None, codebook: Any) -> str | None:
    """Legend title: the variable label of ``by`` (None without ``by``).

    Examples
    --------
    >>> by_label("arm", {"arm": "Treatment arm"}, None), by_label(None, None, None)
    ('Treatment arm', None)
    """
    if by is None:
        return None
    strings = {str(k): v for k, v in (labels or {}).items() if isinstance(v, str)}
    return variable_label(codebook, by, strings or None)
