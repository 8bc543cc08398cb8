"""Forest plot: sized to its rows, measure-labelled ratio axis, N/events columns."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes import fit_regression  # noqa: E402
from mutualaid_outcomes._labels import ratio_label  # noqa: E402
from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError  # noqa: E402
from mutualaid_outcomes.models.survival.cox import fit_cox  # noqa: E402
from mutualaid_outcomes.plotting import forest_data, plot_forest  # noqa: E402
from mutualaid_outcomes.plotting.forest import ROW_INCHES  # noqa: E402


@pytest.fixture(scope="module")
def frame():
    g = np.random.default_rng(3)
    n = 400
    x = g.normal(size=n)
    arm = g.choice(["CBT", "TSF"], n)
    t = g.exponential(np.exp(-0.4 * x))
    c = g.exponential(2.0, n)
    y = (g.random(n) < 1 / (1 + np.exp(-0.5 * x))).astype(float)
    return pd.DataFrame(
        {"time": np.minimum(t, c), "event": (t <= c).astype(int), "x": x, "arm": arm, "y": y}
    )


def _bold(ax):
    return [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]


def test_cox_forest_axis_and_column_name_the_hazard_ratio(frame):
    cox = fit_cox(frame, "time", "event", ["x"])
    ax = plot_forest(cox, exponentiate=True)
    assert ax.get_xlabel() == "Hazard ratio (95% CI)"
    assert _bold(ax) == ["HR (95% CI)"]
    est = cox.tidy(exponentiate=True).iloc[0]
    want = f"{est.estimate:.2f} ({est.conf_low:.2f}, {est.conf_high:.2f})"
    assert want in [t.get_text() for t in ax.texts]
    plt.close(ax.figure)


def test_logistic_forest_is_labelled_odds_ratio_and_ticks_are_plain(frame):
    fit = fit_regression(frame, "y ~ x + arm", family="binomial")
    ax = plot_forest(fit, exponentiate=True, conf_level=0.9)
    assert ax.get_xlabel() == "Odds ratio (90% CI)"
    assert _bold(ax) == ["OR (90% CI)"]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels and all(lab.replace(".", "").isdigit() for lab in labels)
    lo, hi = ax.get_xlim()
    assert all(lo <= t <= hi for t in ax.get_xticks())
    plt.close(ax.figure)


@pytest.mark.parametrize(
    ("family", "link", "name"),
    [
        ("binomial", "logit", "Odds ratio"),
        ("binomial", "log", "Risk ratio"),
        ("poisson", "log", "Rate ratio"),
        ("negative_binomial", "log", "Rate ratio"),
        ("gaussian", "identity", "Ratio"),
    ],
)
def test_ratio_label_by_family(family, link, name):
    fit = type("RegressionResult", (), {"family": family, "link": link})()
    assert ratio_label(fit) == name


def test_figure_height_grows_with_rows():
    def tidy(k):
        return pd.DataFrame(
            {
                "term": [f"t{i}" for i in range(k)],
                "estimate": np.linspace(0.8, 1.2, k),
                "conf_low": np.linspace(0.6, 1.0, k),
                "conf_high": np.linspace(1.0, 1.5, k),
            }
        )

    heights = []
    for k in (2, 6, 20):
        ax = plot_forest(tidy(k), exponentiate=True)
        heights.append(ax.get_position().height * ax.figure.get_figheight())
        plt.close(ax.figure)
    per_row = np.diff(heights) / np.diff([2, 6, 20])
    np.testing.assert_allclose(per_row, ROW_INCHES, rtol=1e-6)


def test_count_columns_are_drawn_with_headers():
    tidy = pd.DataFrame(
        {
            "term": ["all", "men", "women"],
            "estimate": [0.9, 0.8, 1.1],
            "conf_low": [0.7, 0.6, 0.7],
            "conf_high": [1.1, 1.05, 1.6],
            "n": [300, 200, 100],
            "n_events": [120.0, 90.0, 30.0],
        }
    )
    data = forest_data(tidy)
    assert data["n"].tolist() == [300, 200, 100] and data["n_events"].tolist() == [120, 90, 30]
    ax = plot_forest(tidy, exponentiate=True, columns={"n": "Patients", "n_events": "Events"})
    assert _bold(ax) == ["Patients", "Events", "Ratio (95% CI)"]
    texts = [t.get_text() for t in ax.texts]
    assert {"300", "200", "100", "120", "90", "30"} <= set(texts)
    ax2 = plot_forest(tidy, columns=["n"], annotate=False)
    assert _bold(ax2) == ["N"]
    with pytest.raises(DataValidationError, match="`columns` \\['events'\\]"):
        plot_forest(tidy, columns=["events"])
    with pytest.raises(ArgumentTypeError, match="`columns`"):
        plot_forest(tidy, columns="n")
    plt.close("all")


def test_given_axes_keep_their_figure_size(frame):
    fig, ax = plt.subplots(figsize=(4, 3))
    assert plot_forest(fit_cox(frame, "time", "event", ["x"]), ax=ax, exponentiate=True) is ax
    assert fig.get_size_inches().tolist() == [4, 3]
    plt.close(fig)
