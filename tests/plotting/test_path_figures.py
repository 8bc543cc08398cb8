"""Mediation path diagrams: letters, labels on their own arrows, distinct ports, effects box."""

import itertools

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.models.mediation.product import mediate  # noqa: E402
from mutualaid_outcomes.plotting import (  # noqa: E402
    path_diagram_data,
    path_effects_data,
    plot_path_diagram,
)
from mutualaid_outcomes.plotting._mediation_diagram import estimate_text  # noqa: E402


def _tidy(k: int, serial: bool = False) -> pd.DataFrame:
    ms = [f"m{i + 1}" for i in range(k)]
    terms = [f"a[{m}]" for m in ms] + [f"b[{m}]" for m in ms]
    if serial:
        terms += [f"d[{x}->{y}]" for x, y in itertools.combinations(ms, 2)]
    terms += [f"indirect[{m}]" for m in ms] + ["total_indirect", "direct", "total"]
    est = np.linspace(0.1, 0.5, len(terms))
    return pd.DataFrame(
        {"term": terms, "estimate": est, "conf_low": est - 0.05, "conf_high": est + 0.05}
    )


def _segments_cross(p, q):
    (x1, y1, x2, y2), (x3, y3, x4, y4) = p, q

    def orient(ax, ay, bx, by, cx, cy):
        return np.sign((bx - ax) * (cy - ay) - (by - ay) * (cx - ax))

    return (
        orient(x1, y1, x2, y2, x3, y3) * orient(x1, y1, x2, y2, x4, y4) < 0
        and orient(x3, y3, x4, y4, x1, y1) * orient(x3, y3, x4, y4, x2, y2) < 0
    )


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 6])
def test_parallel_arrows_have_own_ports_and_never_cross(k):
    d = path_diagram_data(_tidy(k))
    assert len(d) == 2 * k + 1
    starts = list(zip(d["px0"].round(6), d["py0"].round(6)))
    ends = list(zip(d["px1"].round(6), d["py1"].round(6)))
    assert len(set(starts)) == len(starts) and len(set(ends)) == len(ends)
    segs = d[["px0", "py0", "px1", "py1"]].to_numpy()
    for i, j in itertools.combinations(range(len(segs)), 2):
        assert not _segments_cross(segs[i], segs[j]), (d["term"][i], d["term"][j])


@pytest.mark.parametrize("k", [1, 3, 6])
def test_each_label_sits_on_its_own_arrow_and_labels_do_not_overlap(k):
    d = path_diagram_data(_tidy(k))
    for r in d.itertuples():
        # the label centre lies on the segment of its arrow
        cross = (r.px1 - r.px0) * (r.label_y - r.py0) - (r.py1 - r.py0) * (r.label_x - r.px0)
        assert abs(cross) < 1e-9
        assert min(r.px0, r.px1) - 1e-9 <= r.label_x <= max(r.px0, r.px1) + 1e-9
    ax = plot_path_diagram(_tidy(k))
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = set(d["text"])
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text() in texts]
    assert len(boxes) == len(d)
    for b1, b2 in itertools.combinations(boxes, 2):
        assert not b1.overlaps(b2)
    plt.close(fig)


def test_letters_and_texts_follow_hayes():
    d = path_diagram_data(_tidy(3, serial=True)).set_index("term")
    assert d.loc["a[m2]", "letter"] == "a₂" and d.loc["b[m3]", "letter"] == "b₃"
    assert d.loc["d[m1->m3]", "letter"] == "d₃₁" and d.loc["direct", "letter"] == "c′"
    r = d.loc["a[m1]"]
    assert r["text"] == "a₁ = " + estimate_text(r.estimate, r.conf_low, r.conf_high, 2).replace(
        " [", "\n[", 1
    )
    # the chain's skip path arcs over the middle mediator
    assert d.loc["d[m1->m3]", "curve"] != 0 and d.loc["d[m1->m2]", "curve"] == 0
    assert d.loc["d[m1->m3]", "label_y"] > d.loc["d[m1->m2]", "label_y"]


def test_small_estimates_keep_two_significant_digits():
    assert estimate_text(0.000289, 0.00017, 0.00042, 2) == "0.00029 [0.00017, 0.00042]"
    assert estimate_text(0.23, 0.16, 0.3, 2) == "0.23 [0.16, 0.30]"
    assert estimate_text(-0.012, -0.0002, 0.0004, 2) == "−0.012 [0.000, 0.000]"


def test_effects_box_lists_indirect_effects_with_labels():
    e = path_effects_data(_tidy(2), labels={"m1": "Network", "m2": "Self-efficacy"})
    assert e["label"].tolist() == [
        "Indirect via Network",
        "Indirect via Self-efficacy",
        "Total indirect",
        "Direct (c′)",
        "Total (c)",
    ]
    ax = plot_path_diagram(_tidy(2), labels={"m1": "Network"})
    drawn = [t.get_text() for t in ax.texts]
    assert "Indirect via Network" in drawn and "Network" in drawn
    value = estimate_text(*e.loc[0, ["estimate", "conf_low", "conf_high"]], 2)
    assert value in drawn
    plt.close(ax.figure)


def test_exposure_and_outcome_named_from_the_result_columns():
    g = np.random.default_rng(4)
    n = 200
    x = g.normal(size=n)
    m = 0.5 * x + g.normal(size=n)
    y = 0.4 * m + 0.1 * x + g.normal(size=n)
    fit = mediate(
        pd.DataFrame({"aa": x, "net": m, "pda": y}),
        "aa",
        ["net"],
        "pda",
        n_boot=500,
        ci="percentile",
        rng=1,
    )
    labels = {"aa": "AA meetings", "net": "Network", "pda": "Percent days abstinent"}
    d = path_diagram_data(fit, labels=labels)
    assert set(d["source"]) | set(d["target"]) == set(labels.values())
    assert d.set_index("term").loc["a[net]", "estimate"] == pytest.approx(
        fit.tidy().set_index("term").loc["a[net]", "estimate"]
    )


def test_effects_box_uses_one_number_of_decimals_for_its_column():
    # indirect effects of very different sizes (0.0096 and 0.9): one rule per column,
    # as in the mediation table, not two significant digits row by row
    tidy = _tidy(2)
    est = {"indirect[m1]": 0.0096, "indirect[m2]": 0.069, "total_indirect": 0.079}
    for term, value in est.items():
        row = tidy["term"] == term
        tidy.loc[row, ["estimate", "conf_low", "conf_high"]] = [value, value - 0.03, value + 0.03]
    ax = plot_path_diagram(tidy)
    box = [t.get_text() for t in ax.texts if t.get_text()[:1].isdigit() and "[" in t.get_text()]
    assert len(box) == 5
    assert "0.010 [−0.020, 0.040]" in box
    numbers = [
        x for v in box for x in v.replace("[", " ").replace("]", " ").replace(",", " ").split()
    ]
    assert len(numbers) == 15 and all(len(x.split(".")[1]) == 3 for x in numbers)
    plt.close(ax.figure)
