"""Path diagrams: mediation models (parallel and serial) and structural equation models.

Mediation results (terms ``a[m]``, ``b[m]``, ``d[m1->m2]``, ``direct``) are drawn with the
exposure on the left, the mediators in the middle and the outcome on the right, each
arrow labelled with its letter, estimate and interval, and the indirect effects listed
in a box underneath (layout in :mod:`._mediation_diagram`).
Structural equation models (:func:`~mutualaid_outcomes.models.sem.fit_sem` and the
builders; a latent-mediation result draws its underlying SEM) are laid out by
:mod:`._sem_layout`: latent variables as ellipses, observed variables as boxes, loadings
and regressions as arrows, covariances as curved double-headed arrows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .._labels import variable_label
from .._validation import check_columns
from ..errors import DataValidationError
from ..results import TidyProtocol
from ._layout import fit_figure
from ._mediation_diagram import (
    assign_ports,
    draw_mediation,
    effects_table,
    estimate_text,
    letter,
    mediation_layout,
    wrap,
)
from ._sem_layout import sem_edges

__all__ = ["path_diagram_data", "path_effects_data", "plot_path_diagram"]

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


def _mediation_parts(tidy: pd.DataFrame) -> tuple[list[str], bool]:
    mediators: list[str] = []
    serial = False
    for term in tidy["term"]:
        m = _TERM.match(str(term))
        if not m:
            continue
        parts = m.group("inner").split("->") if m.group("kind") == "d" else [m.group("inner")]
        serial = serial or m.group("kind") == "d"
        mediators += [p for p in parts if p not in mediators]
    if not mediators:
        raise DataValidationError(
            "`result` has no a[...] or b[...] path terms; a path diagram needs a "
            "product-of-coefficients mediation result."
        )
    return mediators, serial


def _names(
    result: Any,
    mediators: list[str],
    exposure: str | None,
    outcome: str | None,
    labels: Mapping[str, str] | None,
    codebook: Any,
) -> tuple[dict[str, str], str, str]:
    """Node names from the resolver; keys are mediator columns and the two role keys."""
    x_col, y_col = getattr(result, "exposure", None), getattr(result, "outcome", None)
    x_name = exposure or (variable_label(codebook, x_col, labels) if x_col else "Exposure")
    y_name = outcome or (variable_label(codebook, y_col, labels) if y_col else "Outcome")
    names = {m: wrap(variable_label(codebook, m, labels)) for m in mediators}
    names[_X], names[_Y] = wrap(x_name), wrap(y_name)
    return names, x_name, y_name


_X, _Y = "\x00exposure", "\x00outcome"
_FRACTION = {"a": 0.62, "b": 0.38, "d": 0.5}


def path_diagram_data(
    result: TidyProtocol | pd.DataFrame,
    *,
    exposure: str | None = None,
    outcome: str | None = None,
    labels: Mapping[str, str] | None = None,
    codebook: Any = None,
    conf_level: float = 0.95,
    decimals: int = 2,
    standardized: bool = False,
    covariances: bool = True,
) -> pd.DataFrame:
    """Edges of a path diagram with their coordinates, letters and label texts.

    Parameters
    ----------
    result : mediation result, SEM result or tidy DataFrame
        A mediation result (terms ``a[m]``, ``b[m]``, optional ``d[m1->m2]`` and
        ``direct``) or a fitted structural equation model.
    exposure, outcome : str, optional
        Node labels of the exposure and outcome (mediation diagrams); default the
        label of the result's exposure and outcome columns (``labels``, then the
        codebook), or "Exposure" and "Outcome" for a tidy frame.
    labels : mapping, optional
        Labels for variable (mediator, exposure, outcome) names.
    codebook : Codebook, optional
        Variable labels.
    conf_level : float
        Passed to ``tidy()``.
    decimals : int
        Decimals of the edge labels (more for estimates smaller than ``10**-decimals``).
    standardized : bool
        SEM diagrams: show completely standardised estimates.
    covariances : bool
        SEM diagrams: draw covariances among structural and latent variables.

    Returns
    -------
    pandas.DataFrame
        One row per edge: term, source, target, estimate, conf_low, conf_high,
        x0, y0, x1, y1 (node centres). Mediation diagrams add ``letter`` (a₁, b₁,
        d₂₁, c′), ``text`` (the label drawn), px0, py0, px1, py1 (where the arrow
        leaves and enters its boxes; inches), label_x, label_y and ``curve`` (arc of
        the arrow). SEM diagrams add ``kind`` (loading, regression, covariance),
        ``source_shape`` / ``target_shape`` (``"ellipse"`` for latent, ``"box"`` for
        observed variables), ``std_all`` and ``value`` (the number drawn).

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["a[m]", "b[m]", "direct"], "estimate": [0.5, 0.4, 0.1],
    ...                      "conf_low": [0.3, 0.2, -0.1], "conf_high": [0.7, 0.6, 0.3]})
    >>> d = path_diagram_data(tidy)
    >>> d[["source", "target", "letter"]].values.tolist()
    [['Exposure', 'm', 'a₁'], ['m', 'Outcome', 'b₁'], ['Exposure', 'Outcome', 'c′']]
    >>> print(d["text"].iloc[0])
    a₁ = 0.50
    [0.30, 0.70]
    """
    sem = _sem_of(result)
    if sem is not None:
        return sem_edges(
            sem.tidy(conf_level=conf_level),
            labels=labels,
            standardized=standardized,
            covariances=covariances,
        )
    return _mediation_edges(result, exposure, outcome, labels, codebook, conf_level, decimals)[0]


def path_effects_data(
    result: TidyProtocol | pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    codebook: Any = None,
    conf_level: float = 0.95,
) -> pd.DataFrame:
    """The effects listed in the box under a mediation path diagram.

    Returns
    -------
    pandas.DataFrame
        term, label ("Indirect via Network", "Total indirect", "Direct (c′)",
        "Total (c)"), estimate, conf_low, conf_high; one row per specific indirect
        effect (each chain of a serial model), then the total indirect, direct and
        total effects present in the result.

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["a[m]", "b[m]", "indirect[m]", "direct", "total"],
    ...     "estimate": [0.5, 0.4, 0.2, 0.1, 0.3], "conf_low": [0.3, 0.2, 0.1, -0.1, 0.1],
    ...     "conf_high": [0.7, 0.6, 0.3, 0.3, 0.5]})
    >>> path_effects_data(tidy, labels={"m": "Network"})["label"].tolist()
    ['Indirect via Network', 'Direct (c′)', 'Total (c)']
    """
    tidy = _tidy_of(result, conf_level)
    check_columns(tidy, ["term", "estimate", "conf_low", "conf_high"], "result")
    mediators, _ = _mediation_parts(tidy)
    names = {m: variable_label(codebook, m, labels) for m in mediators}
    return effects_table(tidy, mediators, names)


def _mediation_edges(
    result: Any,
    exposure: str | None,
    outcome: str | None,
    labels: Mapping[str, str] | None,
    codebook: Any,
    conf_level: float,
    decimals: int,
) -> tuple[pd.DataFrame, dict[str, tuple[float, float, float, float]]]:
    """Edges (see :func:`path_diagram_data`) and node boxes keyed by display name."""
    tidy = _tidy_of(result, conf_level)
    check_columns(tidy, ["term", "estimate", "conf_low", "conf_high"], "result")
    mediators, serial = _mediation_parts(tidy)
    names, _, _ = _names(result, mediators, exposure, outcome, labels, codebook)
    boxes = mediation_layout(mediators, serial, names, _X, _Y)
    ends, rows = [], []
    for _, r in tidy.iterrows():
        term = str(r["term"])
        m = _TERM.match(term)
        if term == "direct":
            src, dst = _X, _Y
        elif m and m.group("kind") == "a":
            src, dst = _X, m.group("inner")
        elif m and m.group("kind") == "b":
            src, dst = m.group("inner"), _Y
        elif m and m.group("kind") == "d":
            src, dst = m.group("inner").split("->")
        else:
            continue
        ends.append((src, dst))
        rows.append((term, r))
    skips = {
        i: ("top", "top")
        for i, (src, dst) in enumerate(ends)
        if src in mediators and dst in mediators and mediators.index(dst) - mediators.index(src) > 1
    }
    ports = assign_ports(ends, boxes, skips)
    out = []
    for i, ((src, dst), (term, r), port) in enumerate(zip(ends, rows, ports)):
        px0, py0, px1, py1 = port
        curve = 0.0
        if i in skips:
            curve = -0.35
        frac = _FRACTION.get(term[:1], 0.5) if term != "direct" else 0.5
        if serial and term[:1] in "ab" and term != "direct":
            # a labels at 3/4 and b labels at 9/20 of the height of the mediator row:
            # two rows of labels that cannot meet where a and b arrows cross
            frac = 0.75 if term[:1] == "a" else 0.45
        lx, ly = px0 + frac * (px1 - px0), py0 + frac * (py1 - py0)
        if curve:  # midpoint of the quadratic arc (matplotlib arc3)
            lx, ly = lx + 0.5 * curve * (py1 - py0), ly - 0.5 * curve * (px1 - px0)
        let = letter(term, mediators)
        est = estimate_text(r["estimate"], r["conf_low"], r["conf_high"], decimals)
        out.append(
            {
                "term": term,
                "source": names[src].replace("\n", " "),
                "target": names[dst].replace("\n", " "),
                "estimate": float(r["estimate"]),
                "conf_low": float(r["conf_low"]),
                "conf_high": float(r["conf_high"]),
                "x0": boxes[src][0],
                "y0": boxes[src][1],
                "x1": boxes[dst][0],
                "y1": boxes[dst][1],
                "letter": let,
                "text": f"{let} = {est.replace(' [', chr(10) + '[', 1)}",
                "px0": px0,
                "py0": py0,
                "px1": px1,
                "py1": py1,
                "label_x": lx,
                "label_y": ly,
                "curve": curve,
            }
        )
    return pd.DataFrame(out), {names[k]: v for k, v in boxes.items()}


def plot_path_diagram(
    result: TidyProtocol | pd.DataFrame,
    ax: Any = None,
    *,
    exposure: str | None = None,
    outcome: str | None = None,
    labels: Mapping[str, str] | None = None,
    codebook: Any = None,
    decimals: int = 2,
    conf_level: float = 0.95,
    effects: bool = True,
    standardized: bool = False,
    covariances: bool = True,
) -> Any:
    """Draw a path diagram: mediation model with CIs, or a structural equation model.

    Parameters
    ----------
    result : mediation result, SEM result or tidy DataFrame
        See :func:`path_diagram_data`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure sized to the diagram is made when omitted. A
        mediation diagram is laid out in inches: on a given Axes it is drawn with
        equal aspect, so give it room (about 2.5 in per mediator row pair).
    exposure, outcome : str, optional
        Node labels (mediation diagrams); default from ``labels`` / the codebook.
    labels : mapping, optional
        Variable labels (mediators, exposure, outcome, SEM variables).
    codebook : Codebook, optional
        Variable labels.
    decimals : int
        Decimals of the edge labels.
    conf_level : float
        Confidence level of the intervals shown (mediation diagrams).
    effects : bool
        Mediation diagrams: list the indirect, direct and total effects with their
        intervals in a box under the diagram (:func:`path_effects_data`).
    standardized, covariances : bool
        SEM diagrams: standardised estimates; draw covariances.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    Mediation diagrams follow Hayes (2022, PROCESS): paths a (exposure to mediator),
    b (mediator to outcome), d (mediator to later mediator, serial models) and c′
    (direct), each labelled on its own arrow with its estimate and interval.

    References
    ----------
    Hayes, A. F. (2022). *Introduction to mediation, moderation, and conditional
    process analysis* (3rd ed.). Guilford Press.

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["a[m]", "b[m]", "indirect[m]", "direct"],
    ...     "estimate": [0.5, 0.4, 0.2, 0.1], "conf_low": [0.3, 0.2, 0.1, -0.1],
    ...     "conf_high": [0.7, 0.6, 0.3, 0.3]})
    >>> ax = plot_path_diagram(tidy, labels={"m": "Network support"})
    >>> "Network support" in [t.get_text() for t in ax.texts]
    True
    """
    if _sem_of(result) is not None:
        return _plot_sem(result, ax, labels, decimals, conf_level, standardized, covariances)
    edges, boxes = _mediation_edges(
        result, exposure, outcome, labels, codebook, conf_level, decimals
    )
    table = path_effects_data(result, labels=labels, codebook=codebook, conf_level=conf_level)
    if not effects:
        table = table.iloc[0:0]
    x0 = min(x - w / 2 for x, _, w, _ in boxes.values()) - 0.1
    x1 = max(x + w / 2 for x, _, w, _ in boxes.values()) + 0.1
    y1 = max(y + h / 2 for _, y, _, h in boxes.values()) + 0.2
    arcs = edges[edges["curve"] != 0]
    if len(arcs):
        y1 = max(y1, float(arcs["label_y"].max()) + 0.25)
    y0 = min(y - h / 2 for _, y, _, h in boxes.values()) - 0.3 - 0.19 * (len(table) + 2)
    own = ax is None
    if own:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(x1 - x0 + 0.2, y1 - y0 + 0.2))
        w, h = fig.get_size_inches()
        ax = fig.add_axes((0.1 / w, 0.1 / h, (x1 - x0) / w, (y1 - y0) / h))
    pos = ax.get_position()
    room = (pos.width * ax.figure.get_figwidth(), pos.height * ax.figure.get_figheight())
    scale = min(1.0, room[0] / (x1 - x0), room[1] / (y1 - y0))
    draw_mediation(ax, edges, boxes, table, decimals=decimals, conf_level=conf_level, scale=scale)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    if own:
        fit_figure(ax.figure)
    return ax


def _plot_sem(
    result: Any,
    ax: Any,
    labels: Mapping[str, str] | None,
    decimals: int,
    conf_level: float,
    standardized: bool,
    covariances: bool,
) -> Any:
    import matplotlib.pyplot as plt

    edges = path_diagram_data(
        result,
        labels=labels,
        conf_level=conf_level,
        standardized=standardized,
        covariances=covariances,
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 5))
    boxes = _draw_nodes(edges, ax)
    for _, e in edges.iterrows():
        cov = e["kind"] == "covariance"
        ax.annotate(
            "",
            xy=(e["x1"], e["y1"]),
            xytext=(e["x0"], e["y0"]),
            zorder=3,
            arrowprops={
                "arrowstyle": "<|-|>" if cov else "-|>",
                "color": "black",
                "linewidth": 1,
                "connectionstyle": f"arc3,rad={float(e['curve'])}",
                "patchA": boxes[e["source"]].get_bbox_patch(),
                "patchB": boxes[e["target"]].get_bbox_patch(),
                "shrinkA": 1,
                "shrinkB": 1,
            },
        )
        _edge_label(ax, e, decimals)
    xs = [v for c in ("x0", "x1") for v in edges[c]]
    ys = [v for c in ("y0", "y1") for v in edges[c]]
    ax.set_xlim(min(xs) - 0.1, max(xs) + 0.1)
    ax.set_ylim(min(ys) - 0.15, max(ys) + 0.15)
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


def _edge_label(ax: Any, e: pd.Series, decimals: int) -> None:
    # labels of crossing cross-lagged paths must not coincide: 40% along regressions,
    # 60% along loadings (where indicators spread out), on the arc of curved edges
    frac = {"loading": 0.6, "regression": 0.4}.get(e["kind"], 0.5)
    text = f"{e['value']:.{decimals}f}"
    dxe, dye = e["x1"] - e["x0"], e["y1"] - e["y0"]
    bend = 2 * frac * (1 - frac) * float(e["curve"])
    mx = e["x0"] + frac * dxe + bend * dye
    my = e["y0"] + frac * dye - bend * dxe
    ax.text(
        mx,
        my,
        text,
        ha="center",
        va="center",
        fontsize="x-small",
        zorder=4,
        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
    )
