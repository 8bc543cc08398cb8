"""Layout and drawing of mediation path diagrams (parallel mediators and serial chains).

The diagram is laid out in inches, as in Hayes' PROCESS figures:

* **parallel** (k mediators): the exposure on the left and the outcome on the right on
  one line (the direct path c′), the mediators in a column half-way between them, the
  first ``ceil(k / 2)`` above that line and the rest below it, 0.8 in apart;
* **serial** (a chain M1 -> M2 -> ...): the mediators in a row above the exposure and
  outcome; paths between neighbours are straight, paths that skip a mediator arc
  above the row.

Every arrow leaves and enters its boxes at its own point: the arrows on one side of a
box are spread evenly along that side in the order of the boxes they come from or go
to, so that no two arrows meet at one point. Each arrow carries its letter (a₁, b₁,
d₂₁, c′), estimate and interval in a label placed on the arrow, near the mediator for a
and b paths (where the arrows are furthest apart). The indirect effects (specific,
total), the direct and the total effect with their intervals are listed in a box under
the diagram.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ._layout import text_width_inches

__all__ = ["mediation_layout", "effects_table", "draw_mediation", "letter", "wrap"]

_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_TERM = re.compile(r"^(?P<kind>[abd])\[(?P<inner>.+)\]$")
NODE_FONT = 9.0
LABEL_FONT = 7.5
ROW = 0.8  # inches between mediator rows


def letter(term: str, mediators: list[str]) -> str:
    """Hayes' letter of a path term: a₁, b₂, d₂₁ (M1 -> M2), c′ (direct).

    Examples
    --------
    >>> letter("a[m2]", ["m1", "m2"]), letter("d[m1->m2]", ["m1", "m2"]), letter("direct", [])
    ('a₂', 'd₂₁', 'c′')
    """
    if term == "direct":
        return "c′"
    m = _TERM.match(term)
    if not m:
        return term
    if m.group("kind") == "d":
        src, dst = m.group("inner").split("->")
        idx = f"{mediators.index(dst) + 1}{mediators.index(src) + 1}"
    else:
        idx = str(mediators.index(m.group("inner")) + 1)
    return f"{m.group('kind')}{idx.translate(_SUB)}"


def places(x: float, decimals: int) -> int:
    """Decimals that show ``x`` to at least two significant digits (at most 8).

    Examples
    --------
    >>> places(0.23, 2), places(0.0122, 2), places(-0.00029, 2), places(0.0, 2)
    (2, 3, 5, 2)
    """
    if not np.isfinite(x) or x == 0 or abs(x) >= 10 ** -(decimals - 1):
        return decimals
    return min(8, max(decimals, decimals - 1 - int(math.floor(math.log10(abs(x))))))


def number(x: float, d: int) -> str:
    """``x`` with ``d`` decimals and a true minus sign."""
    if not np.isfinite(x):
        return "NA"
    text = f"{x:.{d}f}"
    if float(text) == 0:
        text = text.lstrip("-")  # no "-0.000"
    return text.replace("-", "−")


def estimate_text(est: float, lo: float, hi: float, decimals: int) -> str:
    """Text like "0.23 [0.16, 0.30]", to two significant digits of the estimate."""
    d = places(est, decimals)
    return f"{number(est, d)} [{number(lo, d)}, {number(hi, d)}]"


def column_places(estimates: Any, decimals: int) -> int:
    """One number of decimals for a column of estimates (one rule per column).

    The most any estimate needs for two significant digits, but no more than
    ``decimals + 1`` unless every estimate needs more (all tiny effects).

    Examples
    --------
    >>> column_places([0.069, 0.0096, 0.18, 0.90], 2), column_places([0.0003, 0.0005], 2)
    (3, 5)
    """
    need = [places(float(e), decimals) for e in estimates] or [decimals]
    return min(max(need), max(decimals + 1, min(need)))


def wrap(text: str, width: int = 22) -> str:
    return "\n".join(textwrap.wrap(str(text), width)) or str(text)


def mediation_layout(
    mediators: list[str], serial: bool, names: Mapping[str, str], exposure: str, outcome: str
) -> dict[str, tuple[float, float, float, float]]:
    """Node boxes ``{node: (x, y, width, height)}`` in inches (centres and sizes).

    Node keys are the mediator columns and the strings ``exposure`` and ``outcome``.
    """

    def size(label: str) -> tuple[float, float]:
        lines = label.count("\n") + 1
        return text_width_inches(label, NODE_FONT) + 0.25, 0.18 * lines + 0.16

    k = len(mediators)
    wx, hx = size(names[exposure])
    wy, hy = size(names[outcome])
    med_sizes = {m: size(names[m]) for m in mediators}
    wm = max(w for w, _ in med_sizes.values())
    gap = 1.9  # room for an a or b label between a box and the mediator column
    boxes: dict[str, tuple[float, float, float, float]] = {}
    if not serial:
        xm = wx / 2 + gap + wm / 2
        n_up = math.ceil(k / 2)
        ys = [ROW * (n_up - i) for i in range(n_up)] + [-ROW * (j + 1) for j in range(k - n_up)]
        if k == 1:
            ys = [ROW * 1.2]
        for m, y in zip(mediators, ys):
            boxes[m] = (xm, y, wm, med_sizes[m][1])
        x_out = 2 * xm
    else:
        step = max(wm + 1.2, 2.0)
        x_first = wx / 2 + 1.2 + wm / 2
        for i, m in enumerate(mediators):
            boxes[m] = (x_first + i * step, ROW * 2.5, wm, med_sizes[m][1])
        x_out = x_first + (k - 1) * step + wm / 2 + 1.2 + wy / 2
    boxes[exposure] = (0.0, 0.0, wx, hx)
    boxes[outcome] = (x_out, 0.0, wy, hy)
    return boxes


def _side(box: tuple[float, float, float, float], other: tuple[float, float]) -> str:
    x, y, w, h = box
    dx, dy = other[0] - x, other[1] - y
    if abs(dx) / (w / 2) >= abs(dy) / (h / 2):
        return "right" if dx > 0 else "left"
    return "top" if dy > 0 else "bottom"


_NORMAL = {"right": 0.0, "top": math.pi / 2, "left": math.pi, "bottom": -math.pi / 2}


def assign_ports(
    edges: list[tuple[str, str]],
    boxes: dict[str, tuple[float, float, float, float]],
    force: Mapping[int, tuple[str, str]] | None = None,
) -> list[tuple[float, float, float, float]]:
    """Start and end point of each edge, spread along the sides of the boxes.

    The arrows on one side of a box are spread evenly along it in counter-clockwise
    order of the direction to the box at their other end, so arrows fanning out of a
    side never cross where they leave it. ``force`` maps an edge index to the (source
    side, target side) to use instead of the side facing the other box (arcs leave
    and enter from the top).
    """
    force = force or {}
    slots: dict[tuple[str, str], list[tuple[float, int, int]]] = {}
    for i, (src, dst) in enumerate(edges):
        for end, node, other in ((0, src, dst), (1, dst, src)):
            x, y = boxes[node][:2]
            ox, oy = boxes[other][:2]
            side = force[i][end] if i in force else _side(boxes[node], (ox, oy))
            turn = math.atan2(oy - y, ox - x) - _NORMAL[side]
            turn = (turn + math.pi) % (2 * math.pi) - math.pi  # counter-clockwise angle
            slots.setdefault((node, side), []).append((turn, i, end))
    points: dict[tuple[int, int], tuple[float, float]] = {}
    for (node, side), items in slots.items():
        x, y, w, h = boxes[node]
        items.sort()
        n = len(items)
        for rank, (_, i, end) in enumerate(items):
            t = 0.8 * ((rank + 1) / (n + 1) - 0.5)  # counter-clockwise along the side
            points[(i, end)] = {
                "right": (x + w / 2, y + t * h),
                "top": (x - t * w, y + h / 2),
                "left": (x - w / 2, y - t * h),
                "bottom": (x + t * w, y - h / 2),
            }[side]
    return [(*points[(i, 0)], *points[(i, 1)]) for i in range(len(edges))]


def effects_table(
    tidy: pd.DataFrame, mediators: list[str], names: Mapping[str, str]
) -> pd.DataFrame:
    """Rows of the effects box: specific indirect effects, total indirect, direct, total."""
    rows = []
    for _, r in tidy.iterrows():
        term = str(r["term"])
        m = re.match(r"^indirect\[(.+)\]$", term)
        if m:
            chain = m.group(1).split("->")
            if not all(c in names for c in chain):
                continue
            text = "Indirect via " + " → ".join(names[c].replace("\n", " ") for c in chain)
        elif term in ("total_indirect", "direct", "total"):
            text = {"total_indirect": "Total indirect", "direct": "Direct (c′)"}.get(
                term, "Total (c)"
            )
            if term == "total_indirect" and len(mediators) == 1:
                continue
        else:
            continue
        rows.append(
            {
                "term": term,
                "label": text,
                "estimate": float(r["estimate"]),
                "conf_low": float(r["conf_low"]),
                "conf_high": float(r["conf_high"]),
            }
        )
    return pd.DataFrame(rows, columns=["term", "label", "estimate", "conf_low", "conf_high"])


def draw_mediation(
    ax: Any,
    edges: pd.DataFrame,
    nodes: dict[str, tuple[float, float, float, float]],
    effects: pd.DataFrame,
    *,
    decimals: int,
    conf_level: float,
    scale: float = 1.0,
) -> None:
    """Draw boxes, arrows with their labels, and the effects box on ``ax`` (inches).

    ``scale`` (at most 1) shrinks the fonts when the Axes is smaller than the layout,
    so that text keeps its place in the boxes.
    """
    from matplotlib.patches import FancyArrowPatch, Rectangle

    for name, (x, y, w, h) in nodes.items():
        ax.add_patch(
            Rectangle((x - w / 2, y - h / 2), w, h, facecolor="white", edgecolor="black", lw=1)
        )
        ax.text(x, y, name, ha="center", va="center", fontsize=NODE_FONT * scale, zorder=3)
    for _, e in edges.iterrows():
        ax.add_patch(
            FancyArrowPatch(
                (e["px0"], e["py0"]),
                (e["px1"], e["py1"]),
                arrowstyle="-|>,head_length=5,head_width=2.5",
                connectionstyle=f"arc3,rad={e['curve']}",
                color="black",
                lw=0.9,
                shrinkA=0,
                shrinkB=0,
                zorder=2,
            )
        )
        ax.text(
            e["label_x"],
            e["label_y"],
            e["text"],
            ha="center",
            va="center",
            fontsize=LABEL_FONT * scale,
            zorder=4,
            linespacing=1.1,
            bbox={"boxstyle": "round,pad=0.12", "facecolor": "white", "edgecolor": "none"},
        )
    _effects_box(ax, nodes, effects, decimals, conf_level, scale)


def _effects_box(
    ax: Any, nodes: dict, effects: pd.DataFrame, decimals: int, conf_level: float, scale: float
) -> None:
    if effects.empty:
        return
    bottom = min(y - h / 2 for _, y, _, h in nodes.values())
    left = min(x - w / 2 for x, _, w, _ in nodes.values())
    lines = [f"Effects of the exposure ({conf_level * 100:g}% CI)"]
    width = max(text_width_inches(t, LABEL_FONT) for t in effects["label"]) + 0.3
    d = column_places(effects["estimate"], decimals)  # one rule for the whole column
    values = [
        f"{number(r.estimate, d)} [{number(r.conf_low, d)}, {number(r.conf_high, d)}]"
        for r in effects.itertuples()
    ]
    y = bottom - 0.45
    ax.text(left, y, lines[0], fontsize=(LABEL_FONT + 0.5) * scale, fontweight="bold", va="top")
    for label, value in zip(effects["label"], values):
        y -= 0.19
        ax.text(left + 0.1, y, label, fontsize=LABEL_FONT * scale, va="top")
        ax.text(left + 0.1 + width, y, value, fontsize=LABEL_FONT * scale, va="top")
