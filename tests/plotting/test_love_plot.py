"""Love plots of covariate balance."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.errors import ArgumentTypeError, ColumnNotFoundError  # noqa: E402
from mutualaid_outcomes.models.causal.propensity import propensity_scores  # noqa: E402
from mutualaid_outcomes.plotting.balance import love_plot, love_plot_data  # noqa: E402


@pytest.fixture(scope="module")
def ps():
    rng = np.random.default_rng(12)
    n = 500
    d = pd.DataFrame(
        {
            "severity": rng.normal(size=n),
            "age": rng.normal(40, 10, n),
            "site": rng.choice(["a", "b", "c"], n),
        }
    )
    d["attends"] = rng.binomial(1, 1 / (1 + np.exp(-(0.9 * d["severity"]))))
    return propensity_scores(d, "attends", ["severity", "age", "site"])


def test_data_from_result_matches_balance(ps):
    data = love_plot_data(ps, kind="ate")
    bal = ps.balance("ate")
    assert len(data) == 2 * len(bal)
    unadj = data[data["sample"] == "Unadjusted"].set_index("covariate")["smd"]
    np.testing.assert_allclose(
        unadj[bal["covariate"]], bal["smd_unadjusted"].abs().to_numpy(), rtol=1e-12
    )
    # ordered by unadjusted imbalance: severity (the confounder) on top
    top = data.loc[data["y"].idxmax(), "covariate"]
    assert top == "severity"
    assert set(data["y"]) == set(range(len(bal)))


def test_signed_and_labels(ps):
    data = love_plot_data(ps, absolute=False, labels={"severity": "Severity"}, order="original")
    assert (data["smd"] < 0).any() or (data["smd"] > 0).all()
    assert "Severity" in set(data["label"])
    assert data.loc[data["covariate"] == "severity", "y"].iloc[0] == len(data) // 2 - 1


def test_plot_draws_points_and_threshold(ps):
    fig, ax = plt.subplots()
    out = love_plot(ps, ax=ax, kind="overlap", threshold=0.1)
    assert out is ax
    data = love_plot_data(ps, kind="overlap")
    offsets = np.vstack([c.get_offsets() for c in ax.collections])
    assert offsets.shape[0] == len(data)
    np.testing.assert_allclose(np.sort(offsets[:, 0]), np.sort(data["smd"].to_numpy()))
    xs = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert 0.1 in xs
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "severity" in labels
    plt.close(fig)


def test_bad_input():
    with pytest.raises(ArgumentTypeError, match="balance"):
        love_plot_data([1, 2])
    with pytest.raises(ColumnNotFoundError):
        love_plot_data(pd.DataFrame({"covariate": ["a"], "smd": [0.1]}))


def test_multinomial_contrasts_share_rows():
    rng = np.random.default_rng(4)
    n = 600
    d = pd.DataFrame({"severity": rng.normal(size=n), "female": rng.binomial(1, 0.3, n)})
    u = d["severity"] + rng.logistic(size=n)
    d["dose"] = np.where(u > 1, "high", np.where(u > -0.5, "some", "none"))
    ps = propensity_scores(
        d, "dose", ["severity", "female"], method="multinomial", reference="none"
    )
    data = love_plot_data(ps, kind="overlap")
    assert set(data["contrast"]) == {"high vs none", "some vs none"}
    assert len(data) == 2 * 2 * 2  # contrasts x covariates x samples
    assert data.groupby("covariate")["y"].nunique().eq(1).all()
    fig, ax = plt.subplots()
    love_plot(ps, ax=ax, kind="overlap")
    assert sum(len(c.get_offsets()) for c in ax.collections) == len(data)
    plt.close(fig)
