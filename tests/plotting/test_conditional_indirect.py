"""Tests of plot_conditional_indirect / conditional_indirect_data and of the moderated rows
of mediation_table."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.errors import ArgumentTypeError  # noqa: E402
from mutualaid_outcomes.models.mediation.product import mediate  # noqa: E402
from mutualaid_outcomes.plotting.conditional_indirect import (  # noqa: E402
    conditional_indirect_data,
    plot_conditional_indirect,
)
from mutualaid_outcomes.tables import mediation_table  # noqa: E402


@pytest.fixture(scope="module")
def sim(test_data) -> pd.DataFrame:
    return test_data("moderated_mediation_sim.csv")


@pytest.fixture(scope="module")
def res(sim):
    return mediate(sim, "x", ["m1", "m2"], "y", moderator="w", moderated_paths=["a"],
                   ci="percentile", n_boot=2000, rng=3)  # fmt: skip


def test_data_matches_conditional_effects(res, sim):
    data = conditional_indirect_data(res, n_points=7)
    assert len(data) == 14 and set(data["chain"]) == {"m1", "m2"}
    w = data.loc[data.chain == "m1", "moderator_value"].to_numpy()
    assert w[0] == pytest.approx(sim["w"].min()) and w[-1] == pytest.approx(sim["w"].max())
    c = res.coef()
    expected = (c["a[m1]"] + c["a[m1]:w"] * w) * c["b[m1]"]
    np.testing.assert_allclose(data.loc[data.chain == "m1", "estimate"], expected, rtol=1e-10)
    low, high = np.percentile(
        (res.path_draws[:, 0, None] + res.path_draws[:, 1, None] * (w - sim["w"].mean()))
        * res.path_draws[:, 4, None],
        [2.5, 97.5],
        axis=0,
    )
    assert res.layout.spec.path_slots[4][:2] == ("b", 0)
    np.testing.assert_allclose(data.loc[data.chain == "m1", "conf_low"], low, rtol=1e-10)
    np.testing.assert_allclose(data.loc[data.chain == "m1", "conf_high"], high, rtol=1e-10)


def test_plot_returns_axes_and_draws_bands(res):
    fig, ax = plt.subplots()
    out = plot_conditional_indirect(res, ax, n_points=9, labels={"w": "Severity"})
    assert out is ax and ax.get_xlabel() == "Severity"
    assert len(ax.lines) == 3  # two chains + zero line
    plt.close(fig)


def test_categorical_moderator_points(test_data):
    jobs = test_data("jobs.csv")
    r = mediate(jobs, "treat", ["job_seek"], "depress2", moderator="educ",
                moderated_paths=["a"], ci="percentile", n_boot=1000, rng=1)  # fmt: skip
    data = conditional_indirect_data(r)
    assert data["moderator_value"].tolist() == sorted(jobs["educ"].unique())
    ax = plot_conditional_indirect(r)
    assert [t.get_text() for t in ax.get_xticklabels()] == data["moderator_value"].tolist()
    plt.close(ax.figure)


def test_rejects_unmoderated_result(sim):
    plain = mediate(sim, "x", ["m1"], "y", n_boot=1000, rng=1)
    with pytest.raises(ArgumentTypeError, match="`result` must be a moderated"):
        conditional_indirect_data(plain)


def test_mediation_table_index_and_conditional_rows(res):
    t = mediation_table(res, labels={"w": "Severity"})
    rows = t.body.index.tolist()
    assert "Index of moderated mediation via m1" in rows
    assert any(r.startswith("Indirect via m1 at Severity = ") for r in rows)
    assert "a path × Severity: x → m1" in rows
    assert any(str(f).startswith("index[...] is the index") for f in t.footnotes)
