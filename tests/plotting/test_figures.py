import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mutualaid_outcomes.errors import DataValidationError, FileFormatError, OptionError
from mutualaid_outcomes.plotting import (
    at_risk_table_data,
    calendar_strip_data,
    cumulative_incidence_data,
    forest_data,
    km_plot_data,
    path_diagram_data,
    plot_calendar_strips,
    plot_cumulative_incidence,
    plot_forest,
    plot_km,
    plot_path_diagram,
    plot_trajectories,
    publication_style,
    save_figure,
    trajectory_data,
)
from mutualaid_outcomes.results import BaseResult, glance_frame, wald_table


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _km_table(durations, events, group):
    """A survfit-style table built with lifelines (an independent implementation)."""
    lifelines = pytest.importorskip(
        "lifelines",
        reason="lifelines, the independent cross-check, is not installed (it requires pandas<3)",
    )
    rows = []
    for g in sorted(set(group)):
        sel = group == g
        kmf = lifelines.KaplanMeierFitter().fit(durations[sel], events[sel])
        et = kmf.event_table.iloc[1:] if kmf.event_table.index[0] == 0 else kmf.event_table
        sf = kmf.survival_function_.iloc[:, 0]
        ci = kmf.confidence_interval_
        for t, r in et.iterrows():
            rows.append(
                dict(
                    group=g,
                    time=float(t),
                    n_risk=int(r["at_risk"]),
                    n_event=int(r["observed"]),
                    n_censor=int(r["censored"]),
                    survival=float(sf.loc[t]),
                    conf_low=float(ci.loc[t].iloc[0]),
                    conf_high=float(ci.loc[t].iloc[1]),
                )
            )
    return pd.DataFrame(rows)


@pytest.fixture
def km():
    g = np.random.default_rng(11)
    n = 120
    group = np.where(g.random(n) < 0.5, "TSF", "CBT")
    t = np.ceil(g.exponential(np.where(group == "TSF", 200, 120)))
    c = g.integers(50, 400, n)
    return np.minimum(t, c), (t <= c).astype(int), group


def test_at_risk_numbers_equal_lifelines_at_ticks(km):
    durations, events, group = km
    table = _km_table(durations, events, group)
    ticks = [0, 50, 100, 200, 300]
    ours = at_risk_table_data(table, ticks)
    for g in ("TSF", "CBT"):
        sel = group == g
        for t in ticks:
            expected = int((durations[sel] >= t).sum())
            got = int(ours[(ours.group == g) & (ours.time == t)]["n_risk"].iloc[0])
            assert got == expected
            ev = int(ours[(ours.group == g) & (ours.time == t)]["n_event"].iloc[0])
            assert ev == int(events[sel][durations[sel] <= t].sum())


def test_km_plot_data_and_render(km):
    durations, events, group = km
    table = _km_table(durations, events, group)
    step = km_plot_data(table)
    assert (step.groupby("group")["survival"].first() == 1.0).all()
    assert (step.groupby("group")["survival"].apply(lambda s: s.is_monotonic_decreasing)).all()
    ax = plot_km(
        table,
        times=[0, 100, 200, 300],
        median_lines=True,
        show_events=True,
        labels={"TSF": "Twelve-step facilitation", "CBT": "Cognitive-behavioural"},
    )
    assert len(ax.child_axes) == 1  # the at-risk table
    texts = [t.get_text() for t in ax.child_axes[0].texts]
    assert len(texts) == 2 * 4
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Twelve-step facilitation" in legend


def test_forest_rows_equal_tidy_rows():
    class Cox(BaseResult):
        def _tidy(self, conf_level):
            return wald_table(["aa_days", "C(arm)[T.TSF]"], [-0.3, 0.1], [0.1, 0.2], conf_level)

        def glance(self):
            return glance_frame({"n": 10}, ["n"])

    res = Cox()
    data = forest_data(res, exponentiate=True)
    tidy = res.tidy(exponentiate=True)
    np.testing.assert_allclose(data["estimate"], tidy["estimate"])
    np.testing.assert_allclose(data["conf_low"], tidy["conf_low"])
    assert data["label"].tolist() == ["aa_days", "arm: TSF"]
    ax = plot_forest(res, exponentiate=True)
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["aa_days", "arm: TSF"]
    with pytest.raises(DataValidationError, match="not in the effects"):
        forest_data(res, terms=["nope"])


def test_path_diagram_parallel_and_serial():
    par = pd.DataFrame(
        {
            "term": ["a[net]", "a[se]", "b[net]", "b[se]", "indirect[net]", "direct"],
            "estimate": [0.5, 0.3, 0.4, 0.2, 0.2, 0.1],
            "conf_low": [0.3, 0.1, 0.2, 0.0, 0.1, -0.1],
            "conf_high": [0.7, 0.5, 0.6, 0.4, 0.3, 0.3],
        }
    )
    e = path_diagram_data(par, labels={"net": "Network"})
    assert len(e) == 5 and "Network" in set(e.source) | set(e.target)
    ser = pd.concat(
        [
            par,
            pd.DataFrame(
                {"term": ["d[net->se]"], "estimate": [0.25], "conf_low": [0.1], "conf_high": [0.4]}
            ),
        ]
    )
    e2 = path_diagram_data(ser)
    row = e2[e2.term == "d[net->se]"].iloc[0]
    assert (row.source, row.target) == ("net", "se")
    ax = plot_path_diagram(ser)
    assert any("0.25" in t.get_text() for t in ax.texts)
    with pytest.raises(DataValidationError, match="path terms"):
        path_diagram_data(
            pd.DataFrame({"term": ["x"], "estimate": [1.0], "conf_low": [0.0], "conf_high": [2.0]})
        )


def test_trajectories_use_codebook_labels():
    class CB:
        def label(self, name):
            return {"pda": "Percent days abstinent", "month": "Month", "arm": "Arm"}.get(name)

        def value_labels(self, name):
            return {"arm": {1: "TSF", 2: "CBT"}}.get(name, {})

    g = np.random.default_rng(2)
    df = pd.DataFrame(
        {"month": np.repeat([0, 3, 6], 40), "arm": np.tile([1, 2], 60), "pda": g.random(120)}
    )
    data = trajectory_data(df, "month", "pda", "arm")
    sub = df[(df.month == 3) & (df.arm == 1)]["pda"]
    row = data[(data.time == 3) & (data.group == 1)].iloc[0]
    assert row["mean"] == pytest.approx(sub.mean())
    assert row["n"] == len(sub)
    ax = plot_trajectories(df, "month", "pda", "arm", codebook=CB())
    assert ax.get_ylabel() == "Percent days abstinent" and ax.get_xlabel() == "Month"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["TSF", "CBT"]


def test_calendar_strips_are_deidentified():
    g = np.random.default_rng(3)
    daily = pd.DataFrame(
        {
            "id": np.repeat([101, 202, 303], 30),
            "day": np.tile(np.arange(30), 3),
            "drinks": g.poisson(1, 90),
            "meetings": g.integers(0, 2, 90),
        }
    )
    data = calendar_strip_data(daily, n=2, rng=1)
    assert set(data.participant) == {1, 2}
    assert not set(data.columns) & {"id"}
    again = calendar_strip_data(daily, n=2, rng=1)
    pd.testing.assert_frame_equal(data, again)
    ax = plot_calendar_strips(daily, ids=[202])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Participant 1"]
    with pytest.raises(DataValidationError, match="not in `data`"):
        calendar_strip_data(daily, ids=[999])


def test_cumulative_incidence_data():
    tab = pd.DataFrame(
        {
            "group": ["a", "a"],
            "cause": ["relapse", "relapse"],
            "time": [2.0, 4.0],
            "cif": [0.1, 0.3],
            "conf_low": [0.0, 0.1],
            "conf_high": [0.2, 0.5],
        }
    )
    d = cumulative_incidence_data(tab)
    assert d["cif"].tolist() == [0.0, 0.1, 0.3]
    ax = plot_cumulative_incidence(tab)
    assert ax.get_ylabel() == "Cumulative incidence"


def test_publication_style_and_save(tmp_path):
    with publication_style("jama", columns=2):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [0, 1])
        assert fig.get_size_inches()[0] == pytest.approx(7.0)
    files = save_figure(fig, tmp_path / "fig")
    assert sorted(p.suffix for p in files) == [".pdf", ".png"]
    with Image.open(tmp_path / "fig.png") as im:
        dpi = im.info.get("dpi", (0, 0))[0]
    assert dpi == pytest.approx(300, abs=1)
    assert (tmp_path / "fig.pdf").read_bytes()[:4] == b"%PDF"
    with pytest.raises(FileFormatError, match="dpi"):
        save_figure(fig, tmp_path / "x.png", dpi=72)
    with pytest.raises(FileFormatError, match="unsupported"):
        save_figure(fig, tmp_path / "x.bmp")
    with pytest.raises(OptionError, match="preset"):
        with publication_style("lancet"):
            pass
