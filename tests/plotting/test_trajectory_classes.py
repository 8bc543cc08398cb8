"""plot_trajectory_classes and its data companion."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, OptionError
from mutualaid_outcomes.models.trajectories import fit_trajectories
from mutualaid_outcomes.plotting.trajectory_classes import (
    plot_trajectory_classes,
    trajectory_classes_data,
)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def res():
    rng = np.random.default_rng(5)
    n, t = 300, np.array([0.0, 1.0, 3.0, 6.0])
    hi = rng.random(n) < 0.35
    lam = np.exp(np.where(hi[:, None], 1.5 - 0.1 * t, 0.2 + 0.05 * t))
    y = rng.poisson(lam)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "month": np.tile(t, n), "aa": y.ravel()})
    return fit_trajectories(
        df, "id", "month", "aa", 2, degree=1, family="poisson", n_starts=3, rng=1
    )


def test_data_companion(res):
    d = trajectory_classes_data(res, n_points=7, conf_level=0.9)
    assert list(d.columns) == [
        "class", "label", "share", "kind", "time", "estimate", "conf_low", "conf_high", "n"
    ]  # fmt: skip
    fit = d[d["kind"] == "fitted"]
    pred = res.predict(conf_level=0.9, n_points=7)
    np.testing.assert_allclose(fit["estimate"], pred["estimate"])
    np.testing.assert_allclose(fit["conf_low"], pred["conf_low"])
    # the curve is exp(b0 + b1 t) of the class's raw-time coefficients
    b0, b1 = res.params["class2:(Intercept)"], res.params["class2:month"]
    c2 = fit[fit["class"] == 2]
    np.testing.assert_allclose(c2["estimate"], np.exp(b0 + b1 * c2["time"]))
    obs = d[d["kind"] == "observed"]
    ref = res.observed_means()
    np.testing.assert_allclose(obs["estimate"], ref["mean"])
    assert obs["time"].unique().tolist() == [0.0, 1.0, 3.0, 6.0]
    assert obs["conf_low"].isna().all() and fit["n"].isna().all()
    shares = res.shares
    assert d.loc[d["class"] == 1, "label"].iloc[0] == f"Class 1 ({shares[0]:.1%})"
    none = trajectory_classes_data(res, observed=None)
    assert (none["kind"] == "fitted").all()


def test_posterior_weighted_means(res):
    d = trajectory_classes_data(res, observed="posterior")
    obs = d[(d["kind"] == "observed") & (d["class"] == 1) & (d["time"] == 0.0)].iloc[0]
    panel = res._panel
    w = res.posterior["prob_class1"].to_numpy()[panel.person]
    sel = panel.time == 0.0
    assert obs["estimate"] == pytest.approx(np.sum(w[sel] * panel.y[sel]) / np.sum(w[sel]))
    assert obs["n"] == pytest.approx(np.sum(w[sel]))


def test_plot(res):
    fig, ax = plt.subplots()
    out = plot_trajectory_classes(res, ax=ax, xlabel="Months", ylabel="AA meetings")
    assert out is ax
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [f"Class {k} ({s:.1%})" for k, s in zip((1, 2), res.shares)]
    assert len(ax.collections) == 2  # one confidence band per class
    assert len(ax.lines) == 4  # curve and observed means per class
    assert ax.get_xlabel() == "Months" and ax.get_ylabel() == "AA meetings"
    ax2 = plot_trajectory_classes(res, band=False, observed=None)
    assert len(ax2.collections) == 0 and len(ax2.lines) == 2
    assert ax2.get_xlabel() == "month"


def test_plot_bad_input(res):
    with pytest.raises(ArgumentTypeError, match="fitted trajectory model"):
        trajectory_classes_data(pd.DataFrame())
    with pytest.raises(OptionError, match="`observed` must be one of"):
        trajectory_classes_data(res, observed="mean")
