"""Where the legend of a curve figure goes, so that it never covers a curve.

Survival and cumulative-incidence figures name their groups in a legend. Inside the
plot area a legend can hide the very curves it names (matplotlib's ``loc="best"`` only
minimises the overlap, and ignores texts such as the p-value). As survminer puts its
legend outside the panel (``legend = "top"`` or ``"right"``), :func:`place_legend`
offers these positions:

``"auto"`` (default)
    Inside the plot area at matplotlib's best place when there are at most three
    entries and the legend then meets no curve, confidence band or text of the axes;
    otherwise beside the plot area on the right.
``"inside"``
    Inside at matplotlib's best place, whatever it covers.
``"right"``
    Beside the plot area, top-aligned with it.
``"top"``
    Above the plot area, entries side by side (up to three per row).
``"none"``
    No legend.

:func:`legend_overlaps` is the check ``"auto"`` uses: whether the legend's bounding box
meets a labelled curve (drawn as its steps for step curves), a filled confidence band or
a text of the axes.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._validation import check_option

__all__ = [
    "LEGEND_POSITIONS",
    "LegendPosition",
    "place_legend",
    "legend_overlaps",
    "curve_paths",
    "band_paths",
]

LegendPosition = Literal["auto", "inside", "right", "top", "none"]
#: values of the ``legend`` argument of the survival figures
LEGEND_POSITIONS: tuple[str, ...] = ("auto", "inside", "right", "top", "none")
#: largest number of entries ``"auto"`` tries to fit inside the plot area
MAX_INSIDE = 3


def _stepped(x: np.ndarray, y: np.ndarray, drawstyle: str) -> tuple[np.ndarray, np.ndarray]:
    """The vertices a step line is drawn through (``steps-post``, ``-pre``, ``-mid``)."""
    if len(x) < 2 or not drawstyle.startswith("steps"):
        return x, y
    if drawstyle in ("steps", "steps-pre"):
        xs, ys = np.repeat(x, 2)[:-1], np.repeat(y, 2)[1:]
    elif drawstyle == "steps-mid":
        mid = (x[:-1] + x[1:]) / 2
        xs = np.concatenate([[x[0]], np.repeat(mid, 2), [x[-1]]])
        ys = np.repeat(y, 2)
    else:  # steps-post
        xs, ys = np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1]
    return xs, ys


def curve_paths(ax: Any) -> list[Any]:
    """The labelled lines of ``ax`` as paths in display coordinates (steps drawn out)."""
    from matplotlib.path import Path

    paths = []
    for line in ax.get_lines():
        if str(line.get_label()).startswith("_") or line.get_linestyle() in ("None", "none", ""):
            continue
        x = np.asarray(line.get_xdata(), dtype=float)
        y = np.asarray(line.get_ydata(), dtype=float)
        xs, ys = _stepped(x, y, line.get_drawstyle())
        ok = np.isfinite(xs) & np.isfinite(ys)
        if ok.sum() < 1:
            continue
        xy = line.get_transform().transform(np.column_stack([xs[ok], ys[ok]]))
        paths.append(Path(xy))
    return paths


def band_paths(ax: Any) -> list[Any]:
    """The filled regions of ``ax`` (confidence bands) as paths in display coordinates."""
    out = []
    for coll in ax.collections:
        if not coll.get_visible():
            continue
        transform = coll.get_transform()
        out += [transform.transform_path(p) for p in coll.get_paths() if len(p.vertices)]
    return out


def legend_overlaps(ax: Any, legend: Any, pad: float = 3.0) -> bool:
    """Whether ``legend``'s box (grown by ``pad`` points) meets a curve, band or text.

    Curves are the labelled lines of ``ax`` (drawn as their steps), bands its filled
    regions and texts its annotations (a p-value, a note).
    """
    renderer = ax.figure.canvas.get_renderer()
    box = legend.get_window_extent(renderer).padded(pad * ax.figure.dpi / 72.0)
    if any(p.intersects_bbox(box, filled=False) for p in curve_paths(ax)):
        return True
    if any(p.intersects_bbox(box, filled=True) for p in band_paths(ax)):
        return True
    return any(t.get_visible() and t.get_window_extent(renderer).overlaps(box) for t in ax.texts)


def place_legend(
    ax: Any, *, position: str = "auto", title: str | None = None, n_entries: int | None = None
) -> Any:
    """Draw the legend of ``ax`` at ``position`` (see the module docstring); return it.

    Call it after the curves, the axis limits and any texts are drawn. Returns None for
    ``position="none"``.

    Raises
    ------
    OptionError
        For a ``position`` not in :data:`LEGEND_POSITIONS`.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> for k in range(5):
    ...     _ = ax.plot([0, 1], [k, k + 1], label=f"group {k}")
    >>> leg = place_legend(ax)
    >>> bool(leg.get_bbox_to_anchor().x0 >= ax.get_window_extent().x1)  # beside the plot
    True
    >>> plt.close(fig)
    """
    position = check_option(position, LEGEND_POSITIONS, "legend")
    if position == "none":
        return None
    handles, _ = ax.get_legend_handles_labels()
    n = len(handles) if n_entries is None else n_entries
    kw: dict[str, Any] = {"title": title, "frameon": False}
    if position in ("auto", "inside"):
        legend = ax.legend(loc="best", **kw)
        if position == "inside" or (n <= MAX_INSIDE and not legend_overlaps(ax, legend)):
            return legend
        legend.remove()
    if position == "top":
        legend = ax.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncol=min(max(n, 1), 3), **kw)
    else:
        legend = ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), **kw)
    legend.set_clip_on(False)  # so that tight layouts count it
    return legend
