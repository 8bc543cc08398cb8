"""Disclosure control (``min_cell``) covers every output it claims to.

A cohort with a fellowship of 3 people (CA) next to two large ones is run through a
spec with Table 1, a regression table, a Kaplan-Meier figure, a survival table, a
group-based trajectory model whose second class is the 3 CA people, a mediation model of
8 people with its table, a trajectories figure, calendar strips and the report. No
output file, figure data or captured log may reveal a count below ``min_cell`` (11), the
size or share of the small class, or one of the three CA event times. Unit tests check
each rule.
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes import kaplan_meier
from mutualaid_outcomes.pipeline.runner import run_spec_file
from mutualaid_outcomes.plotting import plot_km
from mutualaid_outcomes.plotting.incidence import cumulative_incidence_data
from mutualaid_outcomes.plotting.survival import (
    at_risk_table_data,
    km_median_data,
    km_plot_data,
)
from mutualaid_outcomes.tables import regression_table, survival_table, table_one

MIN_CELL = 11
#: the three CA participants' follow-up times (all events): no other time has decimals
CA_TIMES = (17.375, 33.625, 41.875)
#: ways those times could be printed (full, 2 and 1 decimals)
CA_TEXTS = ("17.375", "17.38", "33.625", "33.62", "33.63", "41.875", "41.88", "41.9")

SPEC = """\
title = "Disclosure check"
seed = 5

[data]
path = "data/cohort.csv"

[calendar]
path = "data/calendar.csv"

[[models]]
name = "outcome"
type = "regression"
formula = "y ~ age + C(fellowship)"

[[models]]
name = "km"
type = "kaplan_meier"
duration = "days"
event = "relapsed"
by = "fellowship"

[[models]]
name = "classes"
type = "trajectories"
dataset = "calendar"
id = "id"
time = "day"
outcome = "drinks"
n_groups = 2
degree = 1
n_starts = 3

[[models]]
name = "med"
type = "mediation"
filter = "id <= 8"
exposure = "female"
mediators = ["age"]
outcome = "y"
n_boot = 200
ci = "percentile"

[[tables]]
name = "table1"
type = "table_one"
dataset = "data"
by = "fellowship"
variables = ["age", "female", "sponsor", "y"]

[[tables]]
name = "table2"
type = "regression_table"
models = ["outcome"]

[[tables]]
name = "survival"
type = "survival_table"
models = ["km"]
times = [30.0, 90.0]

[[tables]]
name = "mediation"
type = "mediation_table"
models = ["med"]

[[figures]]
name = "km_curves"
type = "km"
model = "km"

[[figures]]
name = "drinking"
type = "trajectories"
dataset = "calendar"
time = "day"
value = "drinks"
by = "fellowship"

[[figures]]
name = "strips"
type = "calendar_strips"

[output]
table_formats = ["csv", "html", "md", "tex", "docx"]
figure_formats = ["png"]
"""


def cohort() -> pd.DataFrame:
    """AA 40, NA 30, CA 3 people; every CA person is female, has a sponsor and relapsed."""
    rng = np.random.default_rng(20261205)
    sizes = {"AA": 40, "NA": 30, "CA": 3}
    fellowship = np.repeat(list(sizes), list(sizes.values()))
    n = len(fellowship)
    big = fellowship != "CA"
    days = np.where(big, rng.integers(1, 365, n), 0).astype(float)
    days[~big] = CA_TIMES
    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "fellowship": fellowship,
            "age": rng.integers(20, 70, n),
            "female": np.where(big, rng.integers(0, 2, n), 1),
            "sponsor": np.where(big, rng.choice(["yes", "no", "unsure"], n), "yes"),
            "days": days,
            "relapsed": np.where(big, rng.integers(0, 2, n), 1),
        }
    )
    frame["y"] = (1.0 + 0.02 * frame["age"] + rng.normal(0, 1, n)).round(3)
    return frame


#: days of the calendar; the CA people drink far more, so they form a class of 3
DAYS = 6
#: the small class's share (3 of 73) as the outputs would print it
CA_SHARE_TEXTS = ("4.1%", "0.041", "0.0410958", "4.11")


def calendar() -> pd.DataFrame:
    """Daily drinks and meetings; CA's 3 people drink about 12 a day, the others about 1."""
    base = cohort()
    rng = np.random.default_rng(7)
    rows = base.loc[base.index.repeat(DAYS), ["id", "fellowship"]].reset_index(drop=True)
    rows["day"] = np.tile(np.arange(DAYS), len(base))
    ca = (rows["fellowship"] == "CA").to_numpy()
    level = np.where(ca, 12.0, 1.0 + 0.1 * rows["day"])
    rows["drinks"] = (level + rng.normal(0, 0.7, len(rows))).clip(0).round(2)
    rows["meetings"] = rng.integers(0, 2, len(rows))
    return rows


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    proj = tmp_path_factory.mktemp("disclosure")
    (proj / "data").mkdir()
    cohort().to_csv(proj / "data" / "cohort.csv", index=False)
    calendar().to_csv(proj / "data" / "calendar.csv", index=False)
    (proj / "analysis.toml").write_text(SPEC, encoding="utf-8")
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    console = io.StringIO()
    try:
        with contextlib.redirect_stdout(console), contextlib.redirect_stderr(console):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = run_spec_file(proj / "analysis.toml", proj / "out", progress=True)
    finally:
        root.removeHandler(handler)
    records += [console.getvalue()] + [str(w.message) for w in caught]
    return result, records


def _text(path: Path) -> str:
    if path.suffix == ".docx":
        with zipfile.ZipFile(path) as z:
            xml = z.read("word/document.xml").decode("utf-8")
        return re.sub(r"<[^>]+>", " ", xml)
    if path.suffix == ".png":
        return ""
    return path.read_text(encoding="utf-8")


def _all_text(run) -> dict[str, str]:
    result, records = run
    out = {p.relative_to(result.out_dir).as_posix(): _text(p)
           for p in sorted(result.out_dir.rglob("*")) if p.is_file()}  # fmt: skip
    out["<log, console and warnings>"] = "\n".join(records)
    return out


def test_no_output_reveals_a_ca_event_time(run):
    texts = _all_text(run)
    for name, text in texts.items():
        for t in CA_TEXTS:
            assert t not in text, f"{name} shows a CA event time ({t})"


def test_no_output_reveals_the_size_of_the_small_class(run):
    classes = run[0].models["classes"].class_table()
    assert sorted(classes["n_assigned"]) == [3, 70]  # the fixture does make a class of 3
    texts = _all_text(run)
    for name, text in texts.items():
        for t in CA_SHARE_TEXTS:
            assert t not in text, f"{name} shows the small class's share ({t})"
    glance = pd.read_csv(run[0].out_dir / "tables" / "model_classes_glance.csv")
    cols = ["smallest_class", "smallest_class_assigned", "min_avepp"]
    assert glance[cols].isna().all(axis=None)
    assert "Class sizes below 11" in (run[0].out_dir / "report.html").read_text()


def test_mediation_table_hides_a_small_n(run):
    text = (run[0].out_dir / "tables" / "mediation.md").read_text()
    assert "N = <11" in text
    glance = pd.read_csv(run[0].out_dir / "tables" / "model_med_glance.csv")
    assert glance["n"].isna().all()


def test_data_figures_hide_small_groups_and_individual_calendars(run):
    from mutualaid_outcomes.plotting import calendar_strip_data, trajectory_data
    from mutualaid_outcomes.plotting.trajectory_classes import trajectory_classes_data

    cal = calendar()
    traj = trajectory_data(cal, "day", "drinks", "fellowship", min_cell=MIN_CELL)
    assert "CA" not in set(traj["group"]) and (traj["n"].dropna() >= MIN_CELL).all()
    assert calendar_strip_data(cal, min_cell=MIN_CELL).empty
    d = trajectory_classes_data(run[0].models["classes"], min_cell=MIN_CELL)
    assert d["share"].isna().all()  # the class of 3, and the other by complement
    assert not d["label"].str.contains("%").any()
    assert (d.loc[d["kind"] == "observed", "n"] >= MIN_CELL).all()


def test_no_group_size_or_cell_count_below_min_cell(run):
    texts = _all_text(run)
    for name, text in texts.items():
        # "n = 3", "(n = 7)", "N = 3"
        for m in re.finditer(r"\b[nN] = (\d+)\b", text):
            assert int(m.group(1)) >= MIN_CELL, f"{name}: '{m.group(0)}'"
    body = pd.read_csv(run[0].out_dir / "tables" / "table1.csv", index_col=0, dtype=str)
    for cell in body.fillna("").to_numpy().ravel():
        m = re.match(r"^(\d+) \(", cell)
        assert m is None or int(m.group(1)) >= MIN_CELL, f"table1 cell '{cell}'"


def test_ca_group_size_cannot_be_recovered_from_other_headers(run):
    body = pd.read_csv(run[0].out_dir / "tables" / "table1.csv", index_col=0, dtype=str)
    heads = [c for c in body.columns if "(n" in c]
    shown = {h.split(" (")[0]: int(h.split("= ")[1][:-1]) for h in heads if "= " in h}
    assert "CA" not in shown
    # Overall and the other groups are never all shown (their difference is CA's size)
    assert not {"Overall", "AA", "NA"} <= set(shown)


def test_model_files_hide_small_counts_and_the_ca_median(run):
    tables = run[0].out_dir / "tables"
    tidy = pd.read_csv(tables / "model_km_tidy.csv")
    ca = tidy[tidy["term"] == "median[CA]"]
    assert ca[["estimate", "conf_low", "conf_high"]].isna().all(axis=None)
    for f in tables.glob("model_*_glance.csv"):
        g = pd.read_csv(f)
        for c in ("n", "n_dropped", "n_events"):
            if c in g:
                v = g[c].dropna()
                assert (v == 0).all() or (v >= MIN_CELL).all() or v.empty, f"{f.name}: {c}"


def test_regression_table_names_the_small_level(run):
    text = (run[0].out_dir / "tables" / "table2.md").read_text()
    assert "fewer than 11 participants" in text and "CA" in text


def test_survival_table_and_report_leave_ca_out(run):
    body = pd.read_csv(run[0].out_dir / "tables" / "survival.csv", index_col=0, dtype=str)
    assert "CA" not in body.index
    html = (run[0].out_dir / "report.html").read_text()
    assert "Not shown (fewer than 11 people): CA." in html


def test_figure_data_hide_ca_and_small_at_risk_counts(run):
    km = run[0].models["km"]
    curves = km_plot_data(km, min_cell=MIN_CELL)
    assert "CA" not in set(curves["group"]) and "censored" not in curves
    assert not np.isin(np.round(curves["time"], 3), CA_TIMES).any()
    risk = at_risk_table_data(km, [0, 100, 200, 300, 400], min_cell=MIN_CELL)
    assert "CA" not in set(risk["group"])
    assert (risk["n_risk"].dropna() >= MIN_CELL).all()
    assert (risk["n_event"].dropna() >= MIN_CELL).all()
    assert set(risk.loc[risk["n_risk"].isna(), "n_risk_text"]) <= {"<11"}
    med = km_median_data(km, min_cell=MIN_CELL)
    assert "CA" not in set(med["group"])


# ----------------------------------------------------------------------------------
# one unit test per rule


def test_zero_and_small_cells_get_complementary_suppression():
    from mutualaid_outcomes.disclosure import suppress_counts

    # group of 40: 0 in "unsure" is primary; the next-smallest cell hides it
    mask = suppress_counts([[25, 15, 0]], MIN_CELL)
    assert mask.tolist() == [[False, True, True]]
    # no row or level with exactly one hidden cell remains
    m = suppress_counts([[50, 30, 8], [30, 20, 3], [20, 10, 5]], MIN_CELL, has_total=True)
    assert all(r.sum() != 1 for r in m) and all(c.sum() != 1 for c in m.T)


def test_table_one_hides_a_small_group_and_its_zero_cells():
    df = cohort()
    t = table_one(df, by="fellowship", variables=["female", "sponsor"], min_cell=MIN_CELL)
    cols = list(t.body.columns)
    ca = next(c for c in cols if c.startswith("CA"))
    assert ca == "CA (n <11)"
    assert sum("suppressed" in c or "<11" in c for c in cols) >= 2
    assert not (t.body[ca].str.match(r"^\d")).any()
    assert "0 (0.0)" not in " ".join(t.body.to_numpy().ravel())
    hidden = t.numbers[(t.numbers.group == ca) & (t.numbers.statistic == "n")]
    assert hidden["value"].isna().all()


def test_table_one_hides_summaries_of_small_groups():
    t = table_one(cohort(), by="fellowship", variables=["age"], min_cell=MIN_CELL, tests=False)
    ca = next(c for c in t.body.columns if c.startswith("CA"))
    assert t.body[ca].iloc[0] == "<11"


def test_km_curve_stops_where_few_remain_at_risk():
    km = kaplan_meier(cohort(), "days", "relapsed", by="fellowship")
    curves = km_plot_data(km, min_cell=MIN_CELL)
    for g in ("AA", "NA"):
        last = curves[curves["group"] == g]["time"].max()
        at = km.at_risk([last])
        assert int(at.loc[at["group"] == g, "n_risk"].iloc[0]) >= MIN_CELL
        full = km.table[km.table["group"] == g]["time"].max()
        assert last < full


def test_km_tidy_and_quantiles_suppress_small_groups():
    km = kaplan_meier(cohort(), "days", "relapsed", by="fellowship")
    tidy = km.tidy(min_cell=MIN_CELL)
    assert tidy.loc[tidy["term"] == "median[CA]", "estimate"].isna().all()
    assert km.tidy().loc[lambda d: d["term"] == "median[CA]", "estimate"].notna().all()
    q = km.quantile([0.25, 0.5], min_cell=MIN_CELL)
    assert q.loc[q["group"] == "CA", ["time", "conf_low", "conf_high"]].isna().all(axis=None)


def test_survival_table_leaves_small_group_out_with_a_note():
    km = kaplan_meier(cohort(), "days", "relapsed", by="fellowship")
    t = survival_table(km, times=[30], min_cell=MIN_CELL)
    assert "CA" not in t.body.index
    assert any("fewer than 11 people): CA" in n for n in t.footnotes)


def test_plot_km_draws_no_small_group_and_writes_less_than_in_the_risk_table():
    import matplotlib.pyplot as plt

    km = kaplan_meier(cohort(), "days", "relapsed", by="fellowship")
    ax = plot_km(km, min_cell=MIN_CELL, times=[0, 100, 200, 300, 400])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "CA" not in labels
    texts = [t.get_text() for t in ax.child_axes[0].texts]
    assert "<11" in texts
    assert all(t == "<11" or int(t) >= MIN_CELL for t in texts)
    plt.close(ax.figure)


def test_cumulative_incidence_data_leave_small_group_out():
    from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence

    ci = cumulative_incidence(cohort(), "days", "relapsed", by="fellowship")
    data = cumulative_incidence_data(ci, min_cell=MIN_CELL)
    assert "CA" not in set(data["group"])
    assert not np.isin(np.round(data["time"], 3), CA_TIMES).any()


def test_regression_table_notes_small_levels():
    from mutualaid_outcomes import fit_regression

    fit = fit_regression(cohort(), "y ~ age + C(fellowship)")
    t = regression_table(fit, min_cell=MIN_CELL)
    assert any("fewer than 11 participants" in n and "CA" in n for n in t.footnotes)
    assert not any("fewer than" in n for n in regression_table(fit).footnotes)


def test_counts_in_notes_are_replaced():
    from mutualaid_outcomes.disclosure import suppress_text

    assert suppress_text("2 participants with missing arm are excluded.", 11) == (
        "<11 participants with missing arm are excluded."
    )


def test_figures_with_every_group_hidden_draw_only_the_note():
    import matplotlib.pyplot as plt

    from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence
    from mutualaid_outcomes.plotting import plot_cumulative_incidence

    small = cohort()[lambda d: d["fellowship"] == "CA"]
    ax = plot_km(kaplan_meier(small, "days", "relapsed", by="fellowship"), min_cell=MIN_CELL)
    assert [t.get_text() for t in ax.texts] == ["Not shown (fewer than 11 people): CA."]
    assert not ax.lines
    plt.close(ax.figure)
    ci = cumulative_incidence(small, "days", "relapsed", by="fellowship")
    ax = plot_cumulative_incidence(ci, min_cell=MIN_CELL, at_risk=True)
    assert "Not shown (fewer than 11 people): CA." in [t.get_text() for t in ax.texts]
    plt.close(ax.figure)


def test_cumulative_incidence_tidy_stops_where_the_figure_stops():
    from mutualaid_outcomes.models.survival.competing_risks import cumulative_incidence

    ci = cumulative_incidence(cohort(), "days", "relapsed", by="fellowship")
    full = ci.tidy().set_index("term")
    shown = ci.tidy(min_cell=MIN_CELL).set_index("term")
    assert full.loc["cif[CA, 1]", "estimate"] == 1.0  # three events of three people
    assert shown.loc["cif[CA, 1]", ["estimate", "std_error", "conf_low", "conf_high"]].isna().all()
    curves = cumulative_incidence_data(ci, min_cell=MIN_CELL)
    for g in ("AA", "NA"):
        last = curves[curves["group"] == g].sort_values("time").iloc[-1]
        assert shown.loc[f"cif[{g}, 1]", "estimate"] == pytest.approx(last["cif"], rel=1e-12)
        assert shown.loc[f"cif[{g}, 1]", "estimate"] < full.loc[f"cif[{g}, 1]", "estimate"]


def test_table_one_tests_and_smds_leave_small_groups_out():
    df = cohort()
    # without the overall column AA and NA show their sizes and every count of these two
    # variables, so their comparisons reveal nothing hidden
    t = table_one(
        df, by="fellowship", variables=["age", "female"], min_cell=MIN_CELL, overall=False
    )
    big = table_one(
        df[df["fellowship"] != "CA"], by="fellowship", variables=["age", "female"], overall=False
    )
    assert t.body["p"].tolist() == big.body["p"].tolist()
    assert t.body["SMD"].tolist() == big.body["SMD"].tolist()
    assert (t.body["p"] != "").all()
    assert any("left out: CA" in n for n in t.footnotes)
    # with every group but one too small, no test or SMD is shown
    two = df[df["fellowship"] != "NA"].assign(
        fellowship=lambda d: d["fellowship"].where(d["fellowship"] == "CA", "AA")
    )
    t2 = table_one(two, by="fellowship", variables=["age"], min_cell=MIN_CELL)
    assert set(t2.body["p"]) == {""} and set(t2.body["SMD"]) == {""}
    assert any("fewer than two groups" in n for n in t2.footnotes)
    nums = t2.numbers
    assert not nums["statistic"].isin(["p_value", "smd"]).any()


def _two_by_two(a: int) -> pd.DataFrame:
    """Arm A (60 people) holds ``a`` of the 40 with the trait, arm B (70) the rest."""
    arm = ["A"] * 60 + ["B"] * 70
    trait = [1] * a + [0] * (60 - a) + [1] * (40 - a) + [0] * (30 + a)
    return pd.DataFrame({"arm": arm, "trait": np.where(np.array(trait) == 1, "yes", "no")})


def test_table_one_withholds_tests_and_smds_that_would_give_a_hidden_count_back():
    # A's count is below 11 and B's is suppressed (overall 40 minus A's): one unknown. The
    # SMD is monotone in it, so shown next to the hidden cells it would give A's count back.
    full = [table_one(_two_by_two(a), by="arm").body["SMD"].iloc[0] for a in range(11)]
    assert len(set(full)) == 11  # each possible hidden count has its own SMD
    for a in (0, 3, 10):
        t = table_one(_two_by_two(a), by="arm", min_cell=MIN_CELL)
        row = t.body.iloc[0]
        assert row["A (n = 60)"] == "<11" and row["B (n = 70)"] == "suppressed"
        assert row["p"] == "" and row["SMD"] == ""
        assert not t.numbers["statistic"].isin(["p_value", "smd", "test"]).any()
        assert any("p-values and SMDs are not shown for trait" in n for n in t.footnotes)
    # a variable whose compared counts are all shown keeps its comparison
    df = _two_by_two(3).assign(age=np.arange(130) % 50 + 20.0)
    t = table_one(df, by="arm", variables=["age", "trait"], min_cell=MIN_CELL)
    assert t.body.loc["age, M (SD)", "p"] != "" and t.body.loc["age, M (SD)", "SMD"] != ""
    assert t.body["p"].iloc[1] == ""
    # with NA's size hidden, female's NA count is suppressed: withheld; age's SMD does
    # not depend on counts and stays
    t = table_one(cohort(), by="fellowship", variables=["age", "female"], min_cell=MIN_CELL)
    assert "NA (n suppressed)" in t.body.columns
    assert t.body.loc["female, n (%)", "NA (n suppressed)"] == "suppressed"
    assert t.body.loc["female, n (%)", "p"] == "" and t.body.loc["female, n (%)", "SMD"] == ""
    assert t.body.loc["age, M (SD)", "p"] != "" and t.body.loc["age, M (SD)", "SMD"] != ""


def test_survey_table_one_hides_small_headers_missing_counts_and_summaries():
    import mutualaid_outcomes as mo

    df = cohort()
    df["w"] = np.random.default_rng(1).uniform(0.5, 2, len(df))
    df.loc[[0, 1, 5], "age"] = np.nan  # 3 missing ages, all in AA
    design = mo.survey_design(df, weights="w")
    t = table_one(df, by="fellowship", variables=["age", "sponsor"], design=design,
                  min_cell=MIN_CELL)  # fmt: skip
    cols = list(t.body.columns)
    assert "CA (n <11)" in cols and "NA (n suppressed)" in cols
    assert "Overall (n = 73)" in cols  # the overall n alone does not give CA's size
    ca = t.body["CA (n <11)"]
    assert not ca.str.match(r"^\d").any()  # no summary, count or percentage of CA
    assert set(t.body.loc["Missing, n"].drop(["p", "SMD"])) <= {"<11", "suppressed"}
    assert set(t.body["p"]) == {""}
    assert any("p-values are not shown" in n for n in t.footnotes)
    assert any("SMDs compare" in n and "left out: CA" in n for n in t.footnotes)
    nums = t.numbers
    assert (
        nums.loc[nums["group"] == "CA", ["n", "n_weighted", "mean", "percent"]]
        .isna()
        .all(axis=None)
    )
    assert nums["p_value"].isna().all()
    shown = table_one(df, by="fellowship", variables=["age"], design=design)
    assert "CA (n = 3)" in shown.body.columns  # without min_cell nothing changes


def test_trajectory_tables_and_figure_hide_small_class_sizes(run):
    from mutualaid_outcomes.plotting.trajectory_classes import plot_trajectory_classes
    from mutualaid_outcomes.tables import (
        trajectory_class_table,
        trajectory_fit_table,
        trajectory_table,
    )

    res = run[0].models["classes"]
    small = int(res.class_table()["n_assigned"].idxmin())
    ct = trajectory_class_table(res, min_cell=MIN_CELL)
    assert set(ct.body.iloc[small]) == {"<11"}
    assert set(ct.body.iloc[1 - small]) == {"suppressed"}  # 70 = 73 - 3 by subtraction
    assert ct.numbers["n_assigned"].isna().all()
    tt = trajectory_table(res, min_cell=MIN_CELL)
    heads = [i for i in tt.body.index if re.match(r"Class \d+ \(", i)]
    assert heads and all("share suppressed" in h for h in heads)
    assert any("Class sizes below 11" in n for n in tt.footnotes)
    ft = trajectory_fit_table([res], min_cell=MIN_CELL)
    assert ft.body.loc["Model 1", "Smallest class, %"] == "–"
    assert "%" in trajectory_table(res).body.index[0]  # unchanged without min_cell
    ax = plot_trajectory_classes(res, min_cell=MIN_CELL)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Class 1", "Class 2"]
    assert any("Class sizes below 11" in t.get_text() for t in ax.texts)
    import matplotlib.pyplot as plt

    plt.close(ax.figure)


def test_trajectory_and_calendar_figures_name_what_they_leave_out():
    import matplotlib.pyplot as plt

    from mutualaid_outcomes.plotting import plot_calendar_strips, plot_trajectories

    cal = calendar()
    ax = plot_trajectories(cal, "day", "drinks", "fellowship", min_cell=MIN_CELL)
    assert "CA" not in [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t.get_text() for t in ax.texts] == ["Not shown (fewer than 11 people): CA."]
    plt.close(ax.figure)
    ax = plot_calendar_strips(cal, min_cell=MIN_CELL, rng=1)
    assert not ax.collections and not ax.lines
    assert "individual participants' daily records" in ax.texts[0].get_text()
    plt.close(ax.figure)


def test_mediation_table_writes_a_small_n_as_less_than():
    from mutualaid_outcomes import mediate
    from mutualaid_outcomes.tables import mediation_table

    small = cohort().head(8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = mediate(small, "female", ["age"], "y", n_boot=200, ci="percentile", rng=1)
    assert "N = <11." in mediation_table(fit, min_cell=MIN_CELL).footnotes
    assert "N = 8." in mediation_table(fit).footnotes


def test_trajectory_fit_table_of_a_comparison_hides_a_small_smallest_class():
    from mutualaid_outcomes.models.trajectories import compare_trajectories
    from mutualaid_outcomes.tables import trajectory_fit_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp_ = compare_trajectories(calendar(), "id", "day", "drinks", [1, 2], degree=1,
                                    n_starts=2, rng=1)  # fmt: skip
    assert trajectory_fit_table(cmp_).body.loc["2 classes", "Smallest class, %"] == "4.1"
    t = trajectory_fit_table(cmp_, min_cell=MIN_CELL)
    assert t.body.loc["2 classes", ["Smallest class, %", "Min. AvePP"]].tolist() == ["–", "–"]
    assert t.body.loc["1 class", "Smallest class, %"] == "100.0"
    assert t.numbers.loc[1, ["smallest_class", "min_avepp"]].isna().all()
