"""Layout of structural equation model path diagrams (used by :mod:`.path_diagram`).

Structural variables (those in regressions, and all latent variables) are placed in
layers from left to right by their longest regression path from an exogenous variable;
indicators of a latent variable sit in a row next to it (below for latent variables in
the lower half, above otherwise); a measurement-only model (CFA) puts the factors in a
row with their indicators underneath.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["sem_edges"]


def _depths(nodes: list[str], regs: list[tuple[str, str]]) -> dict[str, int]:
    parents: dict[str, list[str]] = {n: [] for n in nodes}
    for lhs, rhs in regs:
        if lhs in parents and rhs in parents and lhs != rhs:
            parents[lhs].append(rhs)
    depth: dict[str, int] = {}

    def visit(n: str, seen: frozenset) -> int:
        if n in depth:
            return depth[n]
        if n in seen:  # feedback loop: stop the recursion
            return 0
        d = 0
        for p in parents[n]:
            d = max(d, visit(p, seen | {n}) + 1)
        depth[n] = d
        return d

    for n in nodes:
        visit(n, frozenset())
    return depth


def _positions(td: pd.DataFrame) -> tuple[dict[str, tuple[float, float]], set[str]]:
    meas = td[td["op"] == "=~"]
    lv = list(dict.fromkeys(meas["lhs"]))
    regs = td[td["op"] == "~"]
    struct = list(dict.fromkeys(list(regs["lhs"]) + list(regs["rhs"])))
    loads: dict[str, list[str]] = {}
    for f, v in zip(meas["lhs"], meas["rhs"]):
        loads.setdefault(v, []).append(f)
    n_ind = meas.groupby("lhs").size().to_dict()
    # an indicator sits next to its "home" factor: the one with the fewest indicators
    home = {v: min(fs, key=lambda f: (n_ind[f], lv.index(f))) for v, fs in loads.items()}
    pos: dict[str, tuple[float, float]] = {}
    if not struct:
        xs = np.linspace(0.1, 0.9, len(lv)) if len(lv) > 1 else np.array([0.5])
        for f, x in zip(lv, xs):
            pos[f] = (float(x), 0.7)
    else:
        depth = _depths(struct, list(zip(regs["lhs"], regs["rhs"])))
        top = max(depth.values()) or 1
        layers: dict[int, list[str]] = {}
        for n in struct:
            layers.setdefault(depth[n], []).append(n)
        for d, members in layers.items():
            ys = np.linspace(0.8, 0.2, len(members)) if len(members) > 1 else np.array([0.5])
            for n, y in zip(members, ys):
                pos[n] = (0.05 + 0.9 * d / top, float(y))
    n_placed_ind = sum(1 for v in home if v not in lv)
    step = min(0.22, max(0.85 / max(n_placed_ind, 1), 0.05))
    pending = [f for f in lv if f not in pos]
    for f in [f for f in lv if f in pos]:
        _place_indicators(f, pos, home, lv, step, below=not struct or pos[f][1] < 0.5)
    for k, f in enumerate(pending):
        placed = [pos[v] for v, fs in loads.items() if f in fs and v in pos]
        if placed:
            px, py = zip(*placed)
            up = float(np.mean(py)) >= 0.5
            pos[f] = (float(np.mean(px)), (max(py) + 0.35) if up else (min(py) - 0.35))
        else:
            pos[f] = (0.1 + 0.8 * k / max(len(pending) - 1, 1), -0.2)
        _place_indicators(f, pos, home, lv, step, below=pos[f][1] < 0.5)
    return pos, set(lv)


def _place_indicators(f, pos, home, lv, step, below) -> None:
    mine = [v for v, h in home.items() if h == f and v not in pos and v not in lv]
    if not mine:
        return
    fx, fy = pos[f]
    dy = -0.35 if below else 0.35
    xs = fx + step * (np.arange(len(mine)) - (len(mine) - 1) / 2)
    for v, x in zip(mine, xs):
        pos[v] = (float(x), fy + dy)


def _curvature(kind: str, p0, p1, others) -> float:
    """Arc of an edge (matplotlib ``arc3`` rad).

    Covariances bulge away from the centre of the diagram; other edges bend when their
    straight line would pass through a node.
    """
    (x0, y0), (x1, y1) = p0, p1
    dx, dy = x1 - x0, y1 - y0
    mid = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    if kind == "covariance":
        rad = 0.35
    else:
        seg = np.array([dx, dy])
        length2 = float(seg @ seg) or 1.0
        hit = False
        for q in others:
            t = float(((np.asarray(q) - (x0, y0)) @ seg) / length2)
            if 0.05 < t < 0.95 and np.hypot(*(np.asarray(q) - (x0 + t * dx, y0 + t * dy))) < 0.04:
                hit = True
                break
        if not hit:
            return 0.0
        rad = 0.3
    offset = rad * np.array([dy, -dx])
    return rad if float(offset @ (mid - 0.5)) >= 0 else -rad


def sem_edges(
    tidy: pd.DataFrame,
    *,
    labels: Mapping[str, str] | None = None,
    standardized: bool = False,
    covariances: bool = True,
) -> pd.DataFrame:
    """Edges of an SEM path diagram with node coordinates and shapes.

    Parameters
    ----------
    tidy : pandas.DataFrame
        ``SEMResult.tidy()`` of a single-group model (first group if several).
    labels : mapping, optional
        Display labels of variables.
    standardized : bool
        Show completely standardised estimates.
    covariances : bool
        Draw covariances among structural variables and among latent variables.

    Returns
    -------
    pandas.DataFrame
        One row per edge: ``term, kind`` (``"loading"``, ``"regression"``,
        ``"covariance"``), ``source, target, source_shape, target_shape``
        (``"ellipse"`` for latent, ``"box"`` for observed variables), ``estimate,
        conf_low, conf_high, std_all, value`` (the number drawn), ``x0, y0, x1, y1`` and
        ``curve`` (the arc of the edge, matplotlib ``arc3`` radius; 0 for straight).
    """
    if "group" in tidy and tidy["group"].nunique() > 1:
        tidy = tidy[tidy["group"] == tidy["group"].iloc[0]]
    pos, lv = _positions(tidy)
    name = (labels or {}).get
    rows = []
    for _, r in tidy.iterrows():
        op = r["op"]
        if op == "=~":
            src, dst, kind = r["lhs"], r["rhs"], "loading"
        elif op == "~":
            src, dst, kind = r["rhs"], r["lhs"], "regression"
        elif op == "~~" and covariances and r["lhs"] != r["rhs"]:
            src, dst, kind = r["lhs"], r["rhs"], "covariance"
        else:
            continue
        if src not in pos or dst not in pos:
            continue
        if kind == "covariance" and not (r.get("free", 1) > 0):
            continue
        (x0, y0), (x1, y1) = pos[src], pos[dst]
        others = [p for n, p in pos.items() if n not in (src, dst)]
        rows.append(
            {
                "term": r["term"],
                "kind": kind,
                "source": name(src, src),
                "target": name(dst, dst),
                "source_shape": "ellipse" if src in lv else "box",
                "target_shape": "ellipse" if dst in lv else "box",
                "estimate": float(r["estimate"]),
                "conf_low": float(r["conf_low"]),
                "conf_high": float(r["conf_high"]),
                "std_all": float(r["std_all"]),
                "value": float(r["std_all"] if standardized else r["estimate"]),
                "x0": x0,
                "y0": y0,
                "x1": x1,
                "y1": y1,
                "curve": _curvature(kind, (x0, y0), (x1, y1), others),
            }
        )
    return pd.DataFrame(rows)
