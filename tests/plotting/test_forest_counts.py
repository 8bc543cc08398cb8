"""Forest plots: N and events from the fitted results, with the disclosure rule applied."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes import fit_regression  # noqa: E402
from mutualaid_outcomes._labels import Labels  # noqa: E402
from mutualaid_outcomes.errors import DataValidationError  # noqa: E402
from mutualaid_outcomes.models.survival.cox import fit_cox  # noqa: E402
from mutualaid_outcomes.models.survival.cox_time_varying import (  # noqa: E402
    fit_cox_time_varying,
)
from mutualaid_outcomes.plotting import forest_data, plot_forest  # noqa: E402


@pytest.fixture(scope="module")
def frame():
    g = np.random.default_rng(17)
    n = 300
    x = g.normal(size=n)
    arm = g.choice(["CBT", "MET", "TSF"], n)
    t = g.exponential(np.exp(-0.4 * x))
    c = g.exponential(1.5, n)
    y = (g.random(n) < 1 / (1 + np.exp(-0.5 * x))).astype(float)
    return pd.DataFrame(
        {"time": np.minimum(t, c), "event": (t <= c).astype(int), "x": x, "arm": arm, "y": y}
    )


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def test_cox_forest_takes_n_and_events_from_the_fit(frame):
    cox = fit_cox(frame, "time", "event", formula="C(arm) + x")
    data = forest_data(cox, exponentiate=True)
    assert (data["n"] == len(frame)).all()
    assert (data["n_events"] == frame["event"].sum()).all()
    ax = plot_forest(cox, exponentiate=True, columns=["n", "n_events"])
    texts = _texts(ax)
    assert texts.count(str(len(frame))) == 3 and texts.count(str(frame["event"].sum())) == 3
    assert {"N", "Events"} <= set(texts)
    plt.close(ax.figure)


def test_factor_rows_name_their_reference_level(frame):
    cox = fit_cox(frame, "time", "event", formula="C(arm) + x")
    lab = Labels(
        variables={"arm": "Arm", "x": "Exposure"},
        values={"arm": {"CBT": "CBT", "MET": "MET", "TSF": "TSF"}},
    )
    labels = forest_data(cox, labels=lab)["label"].tolist()
    assert labels == ["Arm: MET vs CBT", "Arm: TSF vs CBT", "Exposure"]
    # an explicit label of a whole term still wins
    given = {"C(arm)[T.TSF]": "Twelve-step facilitation"}
    assert forest_data(cox, labels=given)["label"].tolist()[1] == "Twelve-step facilitation"


def test_time_varying_cox_counts_people_not_rows(frame):
    # two intervals per person: N is the number of people, as R's coxph "n" with id
    first = frame.assign(id=np.arange(len(frame)), start=0.0, stop=frame["time"] / 2, event=0)
    second = frame.assign(id=np.arange(len(frame)), start=frame["time"] / 2, stop=frame["time"])
    long = pd.concat([first, second], ignore_index=True)
    fit = fit_cox_time_varying(long, "id", "start", "stop", "event", ["x"])
    data = forest_data(fit, exponentiate=True)
    assert data["n"].tolist() == [len(frame)]
    assert data["n_events"].tolist() == [frame["event"].sum()]


def test_regression_forest_has_n_but_no_events(frame):
    logit = fit_regression(frame, "y ~ x + C(arm)", family="binomial")
    data = forest_data(logit, exponentiate=True)
    assert (data["n"] == len(frame)).all()
    assert "n_events" not in data


def test_a_frame_keeps_its_own_counts(frame):
    tidy = pd.DataFrame(
        {"term": ["a", "b"], "estimate": [1.1, 0.9], "conf_low": [0.9, 0.7],
         "conf_high": [1.3, 1.2], "n": [120, 95], "n_events": [40, 22]}
    )  # fmt: skip
    data = forest_data(tidy)
    assert data["n"].tolist() == [120, 95] and data["n_text"].tolist() == ["120", "95"]


def test_min_cell_hides_small_subgroup_counts(frame):
    # a subgroup with fewer than 11 events: its count must not be printed or returned
    small = frame[frame["arm"] == "TSF"].copy()
    events = small.index[small["event"] == 1]
    small.loc[events[9:], "event"] = 0
    rows = []
    for name, sub in [("All", frame), ("TSF only", small)]:
        fit = fit_cox(sub, "time", "event", ["x"])
        rows.append(
            fit.tidy(exponentiate=True).assign(label=name, n=fit.nobs, n_events=fit.n_events)
        )
    tidy = pd.concat(rows, ignore_index=True)
    assert tidy["n_events"].tolist()[1] == 9
    data = forest_data(tidy, min_cell=11)
    assert data["n_events_text"].tolist() == [str(frame["event"].sum()), "<11"]
    assert np.isnan(data["n_events"].iloc[1]) and data["n_events"].iloc[0] > 11
    ax = plot_forest(tidy, exponentiate=True, columns=["n", "n_events"], min_cell=11)
    texts = _texts(ax)
    assert "<11" in texts and "9" not in texts
    plt.close(ax.figure)
    # the same rule on a fitted result's own counts
    fit = fit_cox(small, "time", "event", ["x"])
    assert forest_data(fit, min_cell=11)["n_events_text"].tolist() == ["<11"]
    assert forest_data(fit, min_cell=None)["n_events_text"].tolist() == ["9"]


def test_min_cell_is_checked(frame):
    cox = fit_cox(frame, "time", "event", ["x"])
    with pytest.raises(DataValidationError, match="`min_cell` must be an integer >= 2"):
        forest_data(cox, min_cell=1)


def test_mediation_effects_with_bracketed_names_are_drawn():
    """Effect names such as ``indirect[m]`` look like factor dummies without a coding."""
    from mutualaid_outcomes.models.mediation.product import mediate

    rng = np.random.default_rng(3)
    x = rng.normal(size=200)
    m = 0.5 * x + rng.normal(size=200)
    y = 0.4 * m + 0.2 * x + rng.normal(size=200)
    d = pd.DataFrame({"x": x, "m": m, "y": y})
    fit = mediate(d, exposure="x", mediators=["m"], outcome="y", n_boot=200, rng=1)
    terms = ["indirect[m]", "direct", "total"]
    data = forest_data(fit, terms=terms)
    assert data["term"].tolist() == terms
    assert data["label"].notna().all()
    ax = plot_forest(fit, terms=terms, labels={"indirect[m]": "Indirect via m"})
    assert "Indirect via m" in [t.get_text() for t in ax.get_yticklabels()]
    plt.close(ax.figure)
