"""Kaplan-Meier and cumulative-incidence figures: ticks, labels, at-risk rows, p-values."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.datasets import load_sample  # noqa: E402
from mutualaid_outcomes.errors import (  # noqa: E402
    ArgumentTypeError,
    DataValidationError,
    OptionError,
)
from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence  # noqa: E402
from mutualaid_outcomes.models.survival.kaplan_meier import kaplan_meier  # noqa: E402
from mutualaid_outcomes.plotting import (  # noqa: E402
    at_risk_table_data,
    cumulative_incidence_data,
    km_median_data,
    km_plot_data,
    plot_cumulative_incidence,
    plot_km,
)
from mutualaid_outcomes.plotting._time_axis import round_time_ticks  # noqa: E402
from mutualaid_outcomes.plotting.survival import p_value_text  # noqa: E402

ROUND_STEPS = {1, 2, 2.5, 5}


def _is_round_step(step: float) -> bool:
    mantissa = step / 10 ** np.floor(np.log10(step))
    return any(np.isclose(mantissa, s) for s in ROUND_STEPS)


@pytest.fixture(scope="module")
def data():
    g = np.random.default_rng(5)
    n = 300
    arm = g.choice(["CBT", "MET", "TSF"], n)
    sex = g.integers(0, 2, n)
    t = np.ceil(g.exponential(np.where(arm == "TSF", 260, 180)))
    c = g.integers(30, 457, n)
    cause = np.where(t <= c, g.choice([1, 2], n, p=[0.8, 0.2]), 0)
    return pd.DataFrame(
        {"days": np.minimum(t, c), "event": (t <= c).astype(int), "cause": cause}
        | {"arm": arm, "sex": sex}
    )


@pytest.fixture(scope="module")
def codebook():
    return load_sample("codebook")


@pytest.fixture(scope="module")
def km(data):
    return kaplan_meier(data, "days", "event", by="arm")


@pytest.mark.parametrize(
    ("tmax", "unit"), [(455, None), (455, "days"), (3.7, None), (14.9, "months"), (2200, None)]
)
def test_automatic_ticks_are_round_multiples_from_zero(tmax, unit):
    ticks = round_time_ticks(tmax, unit)
    assert ticks[0] == 0 and 3 <= len(ticks) <= 6 and ticks[-1] <= tmax
    steps = np.diff(ticks)
    assert np.allclose(steps, steps[0])
    if unit == "months":
        assert steps[0] in (1, 2, 3, 6, 12)
    else:
        assert _is_round_step(steps[0])


def test_km_ticks_legend_and_at_risk_rows_from_codebook(km, codebook):
    ax = plot_km(km, codebook=codebook, time_unit="days", pval=True, median_lines=True)
    ticks = ax.get_xticks().tolist()
    assert ticks == [0, 100, 200, 300, 400]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "100", "200", "300", "400"]
    names = ["Cognitive-Behavioural Coping Skills", "Motivational Enhancement"]
    names += ["Twelve-Step Facilitation"]
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == names
    assert legend.get_title().get_text() == "Randomised treatment arm"
    assert ax.get_xlabel() == "Time (days)"
    table = ax.child_axes[0]
    assert [t.get_text() for t in table.get_yticklabels()] == names
    # at-risk counts drawn are R's summary(fit, times)$n.risk: follow-up >= t
    risk = at_risk_table_data(km, ticks, codebook=codebook)
    assert risk["label"].unique().tolist() == names
    drawn = [int(t.get_text()) for t in table.texts]
    assert drawn == risk["n_risk"].tolist()
    plt.close(ax.figure)


def test_at_risk_counts_are_follow_up_at_least_t(km, data):
    risk = at_risk_table_data(km, [0, 100, 200, 300, 400])
    for arm, sub in data.groupby("arm"):
        got = risk[risk["group"] == arm]["n_risk"].tolist()
        assert got == [int((sub["days"] >= t).sum()) for t in (0, 100, 200, 300, 400)]


def test_km_months_display_converts_times_and_ticks(km, data):
    step = km_plot_data(km, time_unit="days", display_unit="months")
    assert step["time"].max() == pytest.approx(data["days"].max() / (365.25 / 12))
    ax = plot_km(km, time_unit="days", display_unit="months", at_risk=True)
    assert ax.get_xlabel() == "Time (months)"
    assert ax.get_xticks().tolist() == [0, 3, 6, 9, 12]
    risk = at_risk_table_data(km, [0, 3, 6, 9, 12], time_unit="days", display_unit="months")
    direct = at_risk_table_data(km, [t * 365.25 / 12 for t in (0, 3, 6, 9, 12)])
    assert risk["n_risk"].tolist() == direct["n_risk"].tolist()
    assert risk["time"].tolist()[:5] == [0, 3, 6, 9, 12]
    plt.close(ax.figure)


def test_km_labels_argument_and_duration_label(data):
    km = kaplan_meier(data, "days", "event", by="sex")
    labels = {"sex": {0: "Male", 1: "Female"}, "days": "Days to first heavy drinking day"}
    ax = plot_km(km, labels=labels, time_unit="days", at_risk=False)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Male", "Female"]
    assert ax.get_xlabel() == "Days to first heavy drinking day"
    assert km_plot_data(km, labels=labels)["label"].unique().tolist() == ["Male", "Female"]
    ax2 = plot_km(km, labels=labels, xlabel="Follow-up (days)", at_risk=False)
    assert ax2.get_xlabel() == "Follow-up (days)"
    plt.close("all")


def test_km_pvalue_text_is_the_logrank_p(km):
    ax = plot_km(km, pval=True, at_risk=False)
    p = km.logrank().p_value
    assert p_value_text(p) in [t.get_text() for t in ax.texts]
    plt.close(ax.figure)


def test_median_lines_mark_the_median_survival(km):
    med = km_median_data(km)
    expected = km.median_survival().set_index("group")["median"]
    assert med.set_index("group")["median"].to_dict() == expected.to_dict()
    ax = plot_km(km, median_lines=True, at_risk=False)
    verticals = {
        line.get_xdata()[0]
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and line.get_xdata()[0] == line.get_xdata()[1]
    }
    assert verticals == {m for m in expected if np.isfinite(m)}
    plt.close(ax.figure)


def test_km_colours_follow_groups_between_figures(data):
    km = kaplan_meier(data, "days", "event", by="arm")
    ci = cumulative_incidence(data, "days", "cause", by="arm")
    ax1 = plot_km(km, at_risk=False)
    ax2 = plot_cumulative_incidence(ci, causes=[1])
    c1 = [line.get_color() for line in ax1.get_legend().get_lines()]
    c2 = [line.get_color() for line in ax2.get_legend().get_lines()]
    assert c1 == c2 and len(set(c1)) == 3
    plt.close("all")


def test_cumulative_incidence_names_causes_and_at_risk(data, codebook):
    ci = cumulative_incidence(data, "days", "cause", by="sex")
    labels = {"cause": {1: "Relapse", 2: "Death"}}
    d = cumulative_incidence_data(ci, labels=labels, codebook=codebook)
    assert set(d["cause_label"]) == {"Relapse", "Death"}
    assert set(d["group_label"]) == {"Male", "Female"}
    ax = plot_cumulative_incidence(ci, labels=labels, codebook=codebook, at_risk=True, pval=True)
    legend_texts = [
        t.get_text() for leg in ax.findobj(matplotlib.legend.Legend) for t in leg.get_texts()
    ]
    assert {"Male", "Female", "Relapse", "Death"} <= set(legend_texts)
    assert any("Gray's test" in t.get_text() for t in ax.texts)
    table = ax.child_axes[0]
    assert [t.get_text() for t in table.get_yticklabels()] == ["Male", "Female"]
    risk = ci.at_risk([0, 100, 200])
    for sex, sub in data.groupby("sex"):
        got = risk[risk["group"] == sex]["n_risk"].tolist()
        assert got == [int((sub["days"] >= t).sum()) for t in (0, 100, 200)]
        ev = risk[risk["group"] == sex]["n_event"].tolist()
        assert ev == [int(((sub["days"] <= t) & (sub["cause"] > 0)).sum()) for t in (0, 100, 200)]
    plt.close("all")


def test_given_ax_is_used_and_returned(km):
    fig, ax = plt.subplots()
    size = fig.get_size_inches().tolist()
    assert plot_km(km, ax=ax) is ax
    assert fig.get_size_inches().tolist() == size  # a caller's figure is not resized
    plt.close(fig)


def test_bad_arguments_name_the_argument(km):
    with pytest.raises(OptionError, match="time_unit"):
        plot_km(km, time_unit="fortnights")
    with pytest.raises(OptionError, match="display_unit"):
        km_plot_data(km, display_unit="months")
    with pytest.raises(DataValidationError, match="times"):
        plot_km(km, times=[0, 200, 100])
    with pytest.raises(ArgumentTypeError, match="labels"):
        plot_km(km, labels=["a", "b"])
    with pytest.raises(OptionError, match="pval"):
        plot_km(km.table, pval=True)
    plt.close("all")


def test_cumulative_incidence_curves_run_to_the_last_time_of_their_group():
    tab = pd.DataFrame(
        {
            "cause": [1, 1, 2, 2],
            "time": [3.0, 5.0, 12.0, 41.0],
            "cif": [0.1, 0.2, 0.1, 0.4],
        }
    )
    d = cumulative_incidence_data(tab)
    ends = d.groupby("cause")["time"].max()
    assert ends.tolist() == [41.0, 41.0]
    assert d[d["cause"] == 1]["cif"].tolist() == [0.0, 0.1, 0.2, 0.2]
