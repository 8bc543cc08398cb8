"""Mediation path diagrams for parallel and serial models."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns
from ..errors import DataValidationError

__all__ = ["path_diagram_data", "plot_path_diagram"]

_TERM = re.compile(r"^(?P<kind>[abd])\[(?P<inner>.+)\]$")


def _tidy_of(result: Any, conf_level: float) -> pd.DataFrame:
    if hasattr(result, "tidy"):
        return result.tidy(conf_level=conf_level)
    if isinstance(result, pd.DataFrame):
        return result
    raise DataValidationError(
        f"`result` must be a mediation result or its tidy frame; got {type(result).__name__}."
    )


def path_diagram_data(
    result: Any,
    *,
    exposure: str = "Exposure",
    outcome: str = "Outcome",
    labels: Mapping[str, str] | None = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """Edges of a mediation path diagram with their coordinates and estimates.

    Parameters
    ----------
    result : mediation result or tidy DataFrame
        Terms ``a[m]``, ``b[m]``, optional ``d[m1->m2]`` and ``direct``.
    exposure, outcome : str
        Node labels of the exposure and outcome.
    labels : mapping, optional
        Labels for mediator names.
    conf_level : float
        Passed to ``tidy()``.

    Returns
    -------
    pandas.DataFrame
        One row per edge: term, source, target, estimate, conf_low, conf_high,
        x0, y0, x1, y1 (node centres in a unit box).

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["a[m]", "b[m]", "direct"], "estimate": [0.5, 0.4, 0.1],
    ...                      "conf_low": [0.3, 0.2, -0.1], "conf_high": [0.7, 0.6, 0.3]})
    >>> path_diagram_data(tidy)[["source", "target"]].values.tolist()
    [['Exposure', 'm'], ['m', 'Outcome'], ['Exposure', 'Outcome']]
    """
    tidy = _tidy_of(result, conf_level)
    check_columns(tidy, ["term", "estimate", "conf_low", "conf_high"], "result")
    mediators: list[str] = []
    serial = False
    for term in tidy["term"]:
        m = _TERM.match(str(term))
        if not m:
            continue
        if m.group("kind") == "d":
            serial = True
            for part in m.group("inner").split("->"):
                if part not in mediators:
                    mediators.append(part)
        elif m.group("inner") not in mediators:
            mediators.append(m.group("inner"))
    if not mediators:
        raise DataValidationError(
            "`result` has no a[...] or b[...] path terms; a path diagram needs a "
            "product-of-coefficients mediation result."
        )
    k = len(mediators)
    pos: dict[str, tuple[float, float]] = {exposure: (0.0, 0.0), outcome: (1.0, 0.0)}
    if serial:
        xs = np.linspace(0.25, 0.75, k) if k > 1 else np.array([0.5])
        for m, x in zip(mediators, xs):
            pos[m] = (float(x), 0.75)
    else:
        ys = np.linspace(0.4, 0.4 + 0.27 * (k - 1), k) if k > 1 else np.array([0.75])
        for m, y in zip(mediators, ys[::-1]):
            pos[m] = (0.5, float(y))
    rows = []
    name = (labels or {}).get
    for _, r in tidy.iterrows():
        term = str(r["term"])
        m = _TERM.match(term)
        if term == "direct":
            src, dst = exposure, outcome
        elif m and m.group("kind") == "a":
            src, dst = exposure, m.group("inner")
        elif m and m.group("kind") == "b":
            src, dst = m.group("inner"), outcome
        elif m and m.group("kind") == "d":
            src, dst = m.group("inner").split("->")
        else:
            continue
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        rows.append(
            {
                "term": term,
                "source": name(src, src),
                "target": name(dst, dst),
                "estimate": float(r["estimate"]),
                "conf_low": float(r["conf_low"]),
                "conf_high": float(r["conf_high"]),
                "x0": x0,
                "y0": y0,
                "x1": x1,
                "y1": y1,
            }
        )
    return pd.DataFrame(rows)


def plot_path_diagram(
    result: Any,
    ax: Any = None,
    *,
    exposure: str = "Exposure",
    outcome: str = "Outcome",
    labels: Mapping[str, str] | None = None,
    decimals: int = 2,
    conf_level: float = 0.95,
) -> Any:
    """Draw a mediation path diagram with coefficients and confidence intervals.

    Parameters
    ----------
    result : mediation result or tidy DataFrame
        See :func:`path_diagram_data`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    exposure, outcome : str
        Node labels.
    labels : mapping, optional
        Mediator labels (e.g. from the codebook).
    decimals : int
        Decimals of the edge labels.
    conf_level : float
        Confidence level of the intervals shown.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    edges = path_diagram_data(
        result, exposure=exposure, outcome=outcome, labels=labels, conf_level=conf_level
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    nodes = {}
    for _, e in edges.iterrows():
        nodes[e["source"]] = (e["x0"], e["y0"])
        nodes[e["target"]] = (e["x1"], e["y1"])
    # node boxes first (lower zorder, so they are positioned before the arrows are
    # drawn); arrows are clipped at the boxes' outlines, whatever their size
    boxes = {}
    for name, (x, y) in nodes.items():
        boxes[name] = ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize="small",
            zorder=2,
            bbox={"boxstyle": "square,pad=0.4", "facecolor": "white", "edgecolor": "black"},
        )
    for _, e in edges.iterrows():
        ax.annotate(
            "",
            xy=(e["x1"], e["y1"]),
            xytext=(e["x0"], e["y0"]),
            zorder=3,
            arrowprops={
                "arrowstyle": "-|>",
                "color": "black",
                "linewidth": 1,
                "patchA": boxes[e["source"]].get_bbox_patch(),
                "patchB": boxes[e["target"]].get_bbox_patch(),
                "shrinkA": 1,
                "shrinkB": 1,
            },
        )
        # a-path labels sit nearer the mediator, b-path labels nearer the mediator too,
        # so that labels of different mediators do not overlap
        frac = {"a": 0.62, "b": 0.38}.get(e["term"][:1], 0.5) if "[" in e["term"] else 0.5
        mx = e["x0"] + frac * (e["x1"] - e["x0"])
        my = e["y0"] + frac * (e["y1"] - e["y0"])
        dy = {"direct": -0.07}.get(e["term"], 0.09 if e["term"].startswith("d[") else 0.0)
        ax.text(
            mx,
            my + dy,
            f"{e['estimate']:.{decimals}f}\n[{e['conf_low']:.{decimals}f}, {e['conf_high']:.{decimals}f}]",
            ha="center",
            va="center",
            fontsize="x-small",
            zorder=4,
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )
    top = max(y for _, y in nodes.values())
    ax.set_xlim(-0.15, 1.15)
    ax.set_ylim(-0.2, top + 0.15)
    ax.set_axis_off()
    return ax
