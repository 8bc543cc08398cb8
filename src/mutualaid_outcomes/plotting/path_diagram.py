"""Path diagrams: mediation models (parallel and serial) and structural equation models.

Mediation results (terms ``a[m]``, ``b[m]``, ``d[m1->m2]``, ``direct``) are drawn with the
exposure on the left, the mediators in the middle and the outcome on the right.
Structural equation models (:func:`~mutualaid_outcomes.models.sem.fit_sem` and the
builders; a latent-mediation result draws its underlying SEM) are laid out by
:mod:`._sem_layout`: latent variables as ellipses, observed variables as boxes, loadings
and regressions as arrows, covariances as curved double-headed arrows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns
from ..errors import DataValidationError
from ._sem_layout import sem_edges

__all__ = ["path_diagram_data", "plot_path_diagram"]

_TERM = re.compile(r"^(?P<kind>[abd])\[(?P<inner>.+)\]$")


def _sem_of(result: Any) -> Any:
    """The SEM behind ``result`` (itself, or a latent-mediation result's ``.sem``)."""
    sem = getattr(result, "sem", result)
    return sem if hasattr(sem, "parameters") and hasattr(sem, "fit_measures") else None


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
    standardized: bool = False,
    covariances: bool = True,
) -> pd.DataFrame:
    """Edges of a path diagram with their coordinates and estimates.

    Parameters
    ----------
    result : mediation result, SEM result or tidy DataFrame
        A mediation result (terms ``a[m]``, ``b[m]``, optional ``d[m1->m2]`` and
        ``direct``) or a fitted structural equation model.
    exposure, outcome : str
        Node labels of the exposure and outcome (mediation diagrams).
    labels : mapping, optional
        Labels for mediator (or, for an SEM, variable) names.
    conf_level : float
        Passed to ``tidy()``.
    standardized : bool
        SEM diagrams: show completely standardised estimates.
    covariances : bool
        SEM diagrams: draw covariances among structural and latent variables.

    Returns
    -------
    pandas.DataFrame
        One row per edge: term, source, target, estimate, conf_low, conf_high,
        x0, y0, x1, y1 (node centres in a unit box); SEM diagrams add ``kind``
        (loading, regression, covariance), ``source_shape`` / ``target_shape``
        (``"ellipse"`` for latent, ``"box"`` for observed variables), ``std_all`` and
        ``value`` (the number drawn).

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["a[m]", "b[m]", "direct"], "estimate": [0.5, 0.4, 0.1],
    ...                      "conf_low": [0.3, 0.2, -0.1], "conf_high": [0.7, 0.6, 0.3]})
    >>> path_diagram_data(tidy)[["source", "target"]].values.tolist()
    [['Exposure', 'm'], ['m', 'Outcome'], ['Exposure', 'Outcome']]
    """
    sem = _sem_of(result)
    if sem is not None:
        return sem_edges(
            sem.tidy(conf_level=conf_level),
            labels=labels,
            standardized=standardized,
            covariances=covariances,
        )
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
    standardized: bool = False,
    covariances: bool = True,
) -> Any:
    """Draw a path diagram: mediation model with CIs, or a structural equation model.

    Parameters
    ----------
    result : mediation result, SEM result or tidy DataFrame
        See :func:`path_diagram_data`.
    ax : matplotlib Axes, optional
        Axes to draw on.
    exposure, outcome : str
        Node labels (mediation diagrams).
    labels : mapping, optional
        Mediator (or variable) labels, e.g. from the codebook.
    decimals : int
        Decimals of the edge labels.
    conf_level : float
        Confidence level of the intervals shown (mediation diagrams).
    standardized, covariances : bool
        SEM diagrams: standardised estimates; draw covariances.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    edges = path_diagram_data(
        result,
        exposure=exposure,
        outcome=outcome,
        labels=labels,
        conf_level=conf_level,
        standardized=standardized,
        covariances=covariances,
    )
    sem = "kind" in edges.columns
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5) if sem else (7, 4))
    boxes = _draw_nodes(edges, ax)
    for _, e in edges.iterrows():
        cov = sem and e["kind"] == "covariance"
        rad = float(e["curve"]) if sem else 0.0
        ax.annotate(
            "",
            xy=(e["x1"], e["y1"]),
            xytext=(e["x0"], e["y0"]),
            zorder=3,
            arrowprops={
                "arrowstyle": "<|-|>" if cov else "-|>",
                "color": "black",
                "linewidth": 1,
                "connectionstyle": f"arc3,rad={rad}",
                "patchA": boxes[e["source"]].get_bbox_patch(),
                "patchB": boxes[e["target"]].get_bbox_patch(),
                "shrinkA": 1,
                "shrinkB": 1,
            },
        )
        _edge_label(ax, e, decimals, sem)
    xs = [v for c in ("x0", "x1") for v in edges[c]]
    ys = [v for c in ("y0", "y1") for v in edges[c]]
    if sem:
        ax.set_xlim(min(xs) - 0.1, max(xs) + 0.1)
        ax.set_ylim(min(ys) - 0.15, max(ys) + 0.15)
    else:
        ax.set_xlim(-0.15, 1.15)
        ax.set_ylim(-0.2, max(ys) + 0.15)
    ax.set_axis_off()
    return ax


def _draw_nodes(edges: pd.DataFrame, ax: Any) -> dict[str, Any]:
    """Node boxes (ellipses for latent variables) first, so arrows clip at their outlines."""
    nodes: dict[str, tuple[float, float, str]] = {}
    for _, e in edges.iterrows():
        nodes[e["source"]] = (e["x0"], e["y0"], e.get("source_shape", "box"))
        nodes[e["target"]] = (e["x1"], e["y1"], e.get("target_shape", "box"))
    boxes = {}
    for name, (x, y, shape) in nodes.items():
        style = "ellipse,pad=0.3" if shape == "ellipse" else "square,pad=0.4"
        boxes[name] = ax.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize="small",
            zorder=2,
            bbox={"boxstyle": style, "facecolor": "white", "edgecolor": "black"},
        )
    return boxes


def _edge_label(ax: Any, e: pd.Series, decimals: int, sem: bool) -> None:
    if sem:
        # labels of crossing cross-lagged paths must not coincide: 40% along regressions,
        # 60% along loadings (where indicators spread out), on the arc of curved edges
        frac = {"loading": 0.6, "regression": 0.4}.get(e["kind"], 0.5)
        text = f"{e['value']:.{decimals}f}"
        dxe, dye = e["x1"] - e["x0"], e["y1"] - e["y0"]
        bend = 2 * frac * (1 - frac) * float(e["curve"])
        mx = e["x0"] + frac * dxe + bend * dye
        my = e["y0"] + frac * dye - bend * dxe
        dy = 0.0
    else:
        # a-path labels sit nearer the mediator, b-path labels nearer the mediator too,
        # so that labels of different mediators do not overlap
        frac = {"a": 0.62, "b": 0.38}.get(e["term"][:1], 0.5) if "[" in e["term"] else 0.5
        dy = {"direct": -0.07}.get(e["term"], 0.09 if e["term"].startswith("d[") else 0.0)
        text = (
            f"{e['estimate']:.{decimals}f}\n[{e['conf_low']:.{decimals}f}, "
            f"{e['conf_high']:.{decimals}f}]"
        )
        mx = e["x0"] + frac * (e["x1"] - e["x0"])
        my = e["y0"] + frac * (e["y1"] - e["y0"])
    ax.text(
        mx,
        my + dy,
        text,
        ha="center",
        va="center",
        fontsize="x-small",
        zorder=4,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
    )
