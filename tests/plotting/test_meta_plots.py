"""Meta-analysis forest and funnel plots: the *_data companions and what is drawn."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, OptionError
from mutualaid_outcomes.models.meta import effect_sizes, meta_analysis, trim_and_fill
from mutualaid_outcomes.plotting import (
    forest_data,
    funnel_data,
    meta_forest_data,
    plot_forest,
    plot_funnel,
    plot_meta_forest,
)

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    raw = pd.read_csv(DATA / "meta_bcg.csv")
    raw = raw.assign(n1=raw.tpos + raw.tneg, n2=raw.cpos + raw.cneg)
    return effect_sizes(raw, "RR", events1="tpos", n1="n1", events2="cpos", n2="n2")


def test_forest_rows_are_the_studies_and_pooled_effect(bcg):
    res = meta_analysis(bcg, study="author")
    data = meta_forest_data(res, exponentiate=True)
    studies = res.studies()
    rows = data[data["kind"] == "study"]
    np.testing.assert_allclose(rows["estimate"], np.exp(studies["estimate"]))
    np.testing.assert_allclose(rows["conf_low"], np.exp(studies["conf_low"]))
    np.testing.assert_allclose(rows["weight"], studies["weight"])
    assert rows["weight"].sum() == pytest.approx(100)
    pooled = data.set_index("term").loc["overall"]
    tidy = res.tidy(exponentiate=True).iloc[0]
    assert pooled["estimate"] == pytest.approx(tidy["estimate"])
    assert pooled["kind"] == "summary"
    pi = data.set_index("term").loc["prediction"]
    g = res.glance().iloc[0]
    assert pi["conf_low"] == pytest.approx(np.exp(g["pi_low"]))
    assert pi["conf_high"] == pytest.approx(np.exp(g["pi_high"]))
    note = data.set_index("term").loc["note", "label"]
    assert "I² = 92.2%" in note and "df = 12" in note
    ax = plot_meta_forest(res, exponentiate=True)
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Aronson" and labels[13] == "RE model (REML) (k = 13)"
    assert ax.get_xlabel() == "Risk ratio (95% CI)"


def test_forest_subgroup_blocks(bcg):
    res = meta_analysis(bcg, study="author", by="alloc")
    data = meta_forest_data(res, heterogeneity=False)
    headers = data[data["kind"] == "header"]["label"].tolist()
    assert headers == ["alloc = alternate", "alloc = random", "alloc = systematic"]
    sub = data[data["kind"] == "summary"].set_index("term")
    for level, fit in res.subgroups:
        assert sub.loc[f"alloc={level}", "estimate"] == pytest.approx(fit.coef().iloc[0])
        block = data[(data["group"] == level) & (data["kind"] == "study")]
        assert len(block) == fit.nobs
    assert "prediction" in set(data["term"])
    with_notes = meta_forest_data(res)
    assert with_notes["label"].str.startswith("Test for subgroup differences").any()
    plot_meta_forest(res)


def test_forest_bad_input(bcg):
    with pytest.raises(OptionError, match="meta-regression coefficients with plot_forest"):
        meta_forest_data(meta_analysis(bcg, moderators=["ablat"]))
    with pytest.raises(OptionError, match="Expected the result of meta_analysis"):
        meta_forest_data(bcg)
    smd = pd.DataFrame({"yi": [0.1, 0.3, 0.2], "vi": [0.01, 0.02, 0.03]})
    with pytest.raises(OptionError, match="not meaningful"):
        meta_forest_data(meta_analysis(smd, measure="SMD"), exponentiate=True)
    with pytest.raises(DataValidationError, match="row kinds"):
        forest_data(
            pd.DataFrame(
                {
                    "term": ["a"],
                    "estimate": [1.0],
                    "conf_low": [0.5],
                    "conf_high": [2.0],
                    "kind": ["diamond"],
                }
            )
        )


def test_plot_forest_draws_kinds_from_a_frame():
    frame = pd.DataFrame(
        {
            "term": ["s1", "s2", "pooled", "pi"],
            "estimate": [0.2, 0.4, 0.3, np.nan],
            "conf_low": [0.0, 0.1, 0.2, -0.1],
            "conf_high": [0.4, 0.7, 0.4, 0.7],
            "kind": ["study", "study", "summary", "prediction"],
            "weight": [60.0, 40.0, np.nan, np.nan],
        }
    )
    data = forest_data(frame)
    assert data["kind"].tolist() == ["study", "study", "summary", "prediction"]
    ax = plot_forest(frame)
    assert len(ax.patches) == 1  # the diamond
    assert [t.get_text() for t in ax.get_yticklabels()] == ["s1", "s2", "pooled", "pi"]


def test_funnel_data_and_plot(bcg):
    res = meta_analysis(bcg, study="author")
    data = funnel_data(res)
    est = res.coef().iloc[0]
    np.testing.assert_allclose(data["center"], est)
    np.testing.assert_allclose(data["std_error"], np.sqrt(bcg["vi"]))
    np.testing.assert_allclose(
        data["pseudo_high"] - data["center"], 1.959964 * data["std_error"], rtol=1e-6
    )
    assert not data["filled"].any()
    tf = trim_and_fill(res)
    filled = funnel_data(tf)
    assert filled["filled"].sum() == tf.k0 == 1
    np.testing.assert_allclose(filled["center"], tf.filled.coef().iloc[0])
    ax = plot_funnel(tf, exponentiate=True)
    assert ax.get_xscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo > hi == 0  # standard error runs downwards from 0
    assert sum(len(c.get_offsets()) for c in ax.collections) == 14
    reg = meta_analysis(bcg, moderators=["ablat"])
    resid = funnel_data(reg)
    np.testing.assert_allclose(resid["estimate"], reg.studies()["residual"])
    assert (resid["center"] == 0).all()
    assert plot_funnel(reg).get_xlabel() == "Residual"
    with pytest.raises(OptionError, match="Expected the result"):
        funnel_data(bcg)
