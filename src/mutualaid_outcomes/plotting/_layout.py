"""Fit a figure made by a plot function around everything drawn on it.

Figures whose size depends on their content (a number-at-risk table with long group
names, a legend beside the curves, a forest plot's text columns, a path diagram's
effect box) are first drawn on a provisional figure; :func:`fit_figure` then grows or
shrinks the figure so that every artist fits with a small margin while the axes keep
their size in inches. Only figures created by the plot function itself are resized; an
``ax`` passed by the caller is never moved.
"""

from __future__ import annotations

from typing import Any

__all__ = ["fit_figure", "text_width_inches"]


def fit_figure(fig: Any, pad: float = 0.08) -> None:
    """Resize ``fig`` to its tight bounding box plus ``pad`` inches; axes keep their size."""
    renderer = fig.canvas.get_renderer()
    bbox = fig.get_tightbbox(renderer)  # inches
    if bbox is None:
        return
    old_w, old_h = fig.get_size_inches()
    new_w, new_h = bbox.width + 2 * pad, bbox.height + 2 * pad
    shift_x, shift_y = pad - bbox.x0, pad - bbox.y0
    boxes = []
    for ax in fig.axes:
        if ax.get_axes_locator() is not None:  # inset axes follow their parent
            continue
        pos = ax.get_position()
        boxes.append(
            (
                ax,
                (
                    (pos.x0 * old_w + shift_x) / new_w,
                    (pos.y0 * old_h + shift_y) / new_h,
                    pos.width * old_w / new_w,
                    pos.height * old_h / new_h,
                ),
            )
        )
    fig.set_size_inches(new_w, new_h)
    for ax, box in boxes:
        ax.set_position(box)


def text_width_inches(text: str, fontsize: float) -> float:
    """Width of ``text`` (one line, matplotlib's default font) in inches.

    Examples
    --------
    >>> 0.2 < text_width_inches("Hazard ratio", 10) < 1.2
    True
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    lines = str(text).split("\n") or [""]
    widths = [
        TextToPath().get_text_width_height_descent(
            line, FontProperties(size=fontsize), ismath="$" in line
        )[0]
        for line in lines
    ]
    return max(widths) / 72.0
