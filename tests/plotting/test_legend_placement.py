"""Legends of survival figures never cover a curve, a p-value or a note.

The curves are rebuilt here from the figures' ``*_data()`` frames (step functions drawn
``where="post"``), independently of the plotting code, and the legend's bounding box is
checked against them in display coordinates.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.path import Path  # noqa: E402

from mutualaid_outcomes.errors import OptionError  # noqa: E402
from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence  # noqa: E402
from mutualaid_outcomes.models.survival.kaplan_meier import kaplan_meier  # noqa: E402
from mutualaid_outcomes.plotting import (  # noqa: E402
    cumulative_incidence_data,
    km_plot_data,
    plot_cumulative_incidence,
    plot_km,
)


def _frame(n_groups: int, seed: int = 3) -> pd.DataFrame:
    """Groups with clearly different hazards, so the curves fan out over the plot."""
    g = np.random.default_rng(seed)
    n = 80
    group = np.repeat([f"Group {k + 1}" for k in range(n_groups)], n)
    scale = np.repeat(np.linspace(60, 400, n_groups), n)
    t = np.ceil(g.exponential(scale))
    c = g.integers(100, 450, n * n_groups)
    cause = np.where(t <= c, g.choice([1, 2], n * n_groups, p=[0.85, 0.15]), 0)
    return pd.DataFrame(
        {"days": np.minimum(t, c), "event": (t <= c).astype(int), "cause": cause, "arm": group}
    )


def _step_paths(ax, frame: pd.DataFrame, value: str, key: str = "group") -> list[Path]:
    """Each curve of ``frame`` as the step path it is drawn with, in display units."""
    paths = []
    for _, s in frame.groupby(key, sort=False):
        x, y = s["time"].to_numpy(float), s[value].to_numpy(float)
        xs, ys = np.repeat(x, 2)[1:], np.repeat(y, 2)[:-1]  # steps-post vertices
        paths.append(Path(ax.transData.transform(np.column_stack([xs, ys]))))
    return paths


def _band_paths(ax, frame: pd.DataFrame, key: str = "group") -> list[Path]:
    """Each confidence band of ``frame`` as a closed step polygon, in display units."""
    paths = []
    for _, s in frame.groupby(key, sort=False):
        s = s[s["conf_low"].notna() & s["conf_high"].notna()]
        if len(s) < 2:
            continue
        x = s["time"].to_numpy(float)
        lo, hi = s["conf_low"].to_numpy(float), s["conf_high"].to_numpy(float)
        xs = np.repeat(x, 2)[1:]
        upper = np.column_stack([xs, np.repeat(hi, 2)[:-1]])
        lower = np.column_stack([xs, np.repeat(lo, 2)[:-1]])[::-1]
        ring = ax.transData.transform(np.vstack([upper, lower, upper[:1]]))
        paths.append(Path(ring, closed=True))
    return paths


def _legend_box(ax):
    leg = ax.get_legend()
    assert leg is not None
    return leg.get_window_extent(ax.figure.canvas.get_renderer())


def _covers(ax, frame: pd.DataFrame, value: str) -> bool:
    """Whether the legend box meets a curve, a confidence band or a text of ``ax``."""
    box = _legend_box(ax)
    if any(p.intersects_bbox(box, filled=False) for p in _step_paths(ax, frame, value)):
        return True
    if any(p.intersects_bbox(box, filled=True) for p in _band_paths(ax, frame)):
        return True
    renderer = ax.figure.canvas.get_renderer()
    return any(t.get_window_extent(renderer).overlaps(box) for t in ax.texts)


@pytest.mark.parametrize("n_groups", [4, 6])
def test_km_legend_with_four_or_more_groups_is_beside_the_curves(n_groups):
    km = kaplan_meier(_frame(n_groups), "days", "event", by="arm")
    ax = plot_km(km, time_unit="days", pval=True)
    ax.figure.canvas.draw()
    box, plot_area = _legend_box(ax), ax.get_window_extent()
    assert box.x0 >= plot_area.x1  # outside, on the right
    assert len(ax.get_legend().get_texts()) == n_groups
    assert not _covers(ax, km_plot_data(km, time_unit="days"), "survival")
    # the figure grew to hold the legend: nothing is cut off at the right edge
    assert box.x1 <= ax.figure.bbox.x1
    plt.close(ax.figure)


@pytest.mark.parametrize("n_groups", [2, 3])
def test_km_legend_with_few_groups_covers_no_curve_and_no_text(n_groups):
    km = kaplan_meier(_frame(n_groups, seed=11), "days", "event", by="arm")
    ax = plot_km(km, time_unit="days", pval=True, median_lines=True)
    ax.figure.canvas.draw()
    assert not _covers(ax, km_plot_data(km, time_unit="days"), "survival")
    plt.close(ax.figure)


def test_km_legend_positions_top_right_none_and_inside():
    km = kaplan_meier(_frame(4), "days", "event", by="arm")
    ax = plot_km(km, legend="top", at_risk=False)
    box, plot_area = _legend_box(ax), ax.get_window_extent()
    assert box.y0 >= plot_area.y1
    plt.close(ax.figure)
    ax = plot_km(km, legend="right", at_risk=False)
    assert _legend_box(ax).x0 >= ax.get_window_extent().x1
    plt.close(ax.figure)
    ax = plot_km(km, legend="none", at_risk=False)
    assert ax.get_legend() is None
    plt.close(ax.figure)
    ax = plot_km(km, legend="inside", at_risk=False)
    box, plot_area = _legend_box(ax), ax.get_window_extent()
    assert plot_area.x0 <= box.x0 and box.x1 <= plot_area.x1
    plt.close(ax.figure)


def test_cumulative_incidence_legend_with_many_groups_is_beside_the_curves():
    ci = cumulative_incidence(_frame(5), "days", "cause", by="arm")
    ax = plot_cumulative_incidence(ci, causes=[1], time_unit="days", pval=True)
    ax.figure.canvas.draw()
    assert _legend_box(ax).x0 >= ax.get_window_extent().x1
    data = cumulative_incidence_data(ci, causes=[1], time_unit="days")
    assert not _covers(ax, data, "cif")
    plt.close(ax.figure)


def test_cumulative_incidence_legend_avoids_the_gray_p_value():
    ci = cumulative_incidence(_frame(2, seed=8), "days", "cause", by="arm")
    ax = plot_cumulative_incidence(ci, causes=[1], time_unit="days", pval=True)
    ax.figure.canvas.draw()
    data = cumulative_incidence_data(ci, causes=[1], time_unit="days")
    assert not _covers(ax, data, "cif")
    plt.close(ax.figure)


def test_a_legend_forced_inside_six_groups_is_caught_covering_them():
    # the check above can fail: matplotlib's best place inside still covers bands here
    km = kaplan_meier(_frame(6), "days", "event", by="arm")
    ax = plot_km(km, time_unit="days", legend="inside")
    ax.figure.canvas.draw()
    assert _covers(ax, km_plot_data(km, time_unit="days"), "survival")
    plt.close(ax.figure)


def test_unknown_legend_position_is_refused():
    km = kaplan_meier(_frame(2), "days", "event", by="arm")
    with pytest.raises(OptionError, match="`legend` must be one of 'auto', 'inside'"):
        plot_km(km, legend="bottom")
    ci = cumulative_incidence(_frame(2), "days", "cause", by="arm")
    with pytest.raises(OptionError, match="`legend` must be one of"):
        plot_cumulative_incidence(ci, legend="outside")
    plt.close("all")
