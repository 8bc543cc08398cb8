"""SEM path diagrams: latent variables as ellipses, observed as boxes (plot_path_diagram)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.models.sem import fit_sem, latent_mediation  # noqa: E402
from mutualaid_outcomes.plotting.path_diagram import (  # noqa: E402
    path_diagram_data,
    plot_path_diagram,
)

DATA = Path(__file__).resolve().parents[1] / "data"
PD = """
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
"""


@pytest.fixture(scope="module")
def pd_fit():
    return fit_sem(pd.read_csv(DATA / "sem_political_democracy.csv"), PD)


def test_sem_edges_kinds_shapes_and_values(pd_fit):
    e = path_diagram_data(pd_fit)
    assert set(e["kind"]) == {"loading", "regression"}
    assert len(e) == 11 + 3
    lat = e[e["kind"] == "loading"]
    assert (lat["source_shape"] == "ellipse").all() and (lat["target_shape"] == "box").all()
    reg = e.set_index("term").loc["dem65 ~ dem60"]
    assert (reg["source"], reg["target"]) == ("dem60", "dem65")
    assert reg["value"] == pytest.approx(pd_fit.coef()["dem65 ~ dem60"])
    # exogenous factor left of the outcome factors; indicators off the structural row
    x = dict(zip(e["source"], e["x0"])) | dict(zip(e["target"], e["x1"]))
    assert x["ind60"] < x["dem60"] < x["dem65"]
    # the ind60 -> dem65 path would cross dem60: it is drawn as an arc
    assert e.set_index("term").loc["dem65 ~ ind60", "curve"] != 0
    std = path_diagram_data(pd_fit, standardized=True).set_index("term")
    assert std.loc["dem65 ~ dem60", "value"] == pytest.approx(std.loc["dem65 ~ dem60", "std_all"])


def test_covariances_and_labels():
    hs = pd.read_csv(DATA / "sem_holzinger_swineford.csv")
    res = fit_sem(hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6")
    e = path_diagram_data(res, labels={"visual": "Visual ability"})
    cov = e[e["kind"] == "covariance"]
    assert len(cov) == 1 and cov["source"].iloc[0] == "Visual ability"
    assert cov["curve"].iloc[0] != 0
    assert len(path_diagram_data(res, covariances=False)) == 6


def test_plot_draws_ellipses_for_latent_variables(pd_fit):
    fig, ax = plt.subplots()
    out = plot_path_diagram(pd_fit, ax=ax)
    assert out is ax
    styles = {
        t.get_text(): type(t.get_bbox_patch().get_boxstyle()).__name__
        for t in ax.texts
        if t.get_bbox_patch() is not None and t.get_text() in {"ind60", "x1"}
    }
    assert styles == {"ind60": "Ellipse", "x1": "Square"}
    plt.close(fig)


def test_latent_mediation_result_draws_its_sem():
    med = pd.read_csv(DATA / "sem_latent_mediation.csv")
    res = latent_mediation(med, "x", ["support"], "y", indicators={"support": ["s1", "s2", "s3"]})
    e = path_diagram_data(res)
    assert {"support"} == set(e.loc[e["source_shape"] == "ellipse", "source"])
    assert "y ~ support" in set(e["term"])
    ax = plot_path_diagram(res)
    assert ax.get_xlim()[0] < 0.1
    plt.close(ax.figure)
