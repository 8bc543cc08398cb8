"""survival_table against R survival 3.5.3 summary(survfit, times=) and quantile.survfit
(tests/reference/survival_km.R)."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes import kaplan_meier
from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError
from mutualaid_outcomes.tables import survival_table

RTOL = 1e-6  # deterministic
TIMES = [100, 200, 365, 500, 730]


@pytest.fixture(scope="module")
def km(test_data):
    lung = test_data("surv_lung.csv").assign(dead=lambda d: (d["status"] == 2).astype(int))
    return kaplan_meier(lung, "time", "dead", by="sex")


@pytest.fixture(scope="module")
def table(km):
    lab = {"variables": {"sex": "Sex"}, "values": {"sex": {1: "Male", 2: "Female"}}}
    return survival_table(km, times=TIMES, labels=lab, title="Table 3. Survival")


def test_survival_and_median_match_r(table, r_reference):
    ref = r_reference("survival_km")
    at = ref[(ref["case"] == "lung_sex_times") & ref["time"].isin(TIMES)]
    num = table.numbers
    checked = 0
    for _, r in at.iterrows():
        for stat in ("survival", "conf_low", "conf_high"):
            ours = num[(num.group.astype(str) == str(r["group"])) & (num.time == r["time"])
                       & (num.statistic == stat)]  # fmt: skip
            assert ours["value"].iloc[0] == pytest.approx(r[stat], rel=RTOL)
            checked += 1
    med = ref[(ref["case"] == "lung_sex_log") & (ref["kind"] == "quantile50")]
    for _, r in med.iterrows():
        for stat, col in (("median", "time"), ("median_low", "conf_low"),
                          ("median_high", "conf_high")):  # fmt: skip
            ours = num[(num.group.astype(str) == str(r["group"])) & (num.statistic == stat)]
            assert ours["value"].iloc[0] == pytest.approx(r[col], rel=RTOL, nan_ok=True)
            checked += 1
    assert checked == 2 * len(TIMES) * 3 + 2 * 3


def test_layout_and_cells(table):
    assert table.body.index.tolist() == ["Sex", "Male", "Female"]
    assert table.heading_rows == (0,) and table.indent == (1, 2)
    assert table.columns[0] == "Day 100, % (95% CI)"
    assert table.columns[-1] == "Median (95% CI), days"
    num = table.numbers
    s = num[(num.group == 1) & (num.time == 365)].set_index("statistic")["value"]
    want = f"{100 * s['survival']:.0f} [{100 * s['conf_low']:.0f}, {100 * s['conf_high']:.0f}]"
    assert table.body.loc["Male", "Day 365, % (95% CI)"] == want
    m = num[(num.group == 2) & (num.statistic.str.startswith("median"))]["value"].tolist()
    assert table.body.loc["Female", "Median (95% CI), days"] == (
        f"{m[0]:.0f} [{m[1]:.0f}, {m[2]:.0f}]"
    )


def test_beyond_follow_up_and_not_reached():
    df = pd.DataFrame({"t": [5.0, 8, 12, 20, 25, 30], "e": [1, 1, 0, 1, 0, 0],
                       "g": ["a", "a", "a", "b", "b", "b"]})  # fmt: skip
    t = survival_table(kaplan_meier(df, "t", "e", by="g"), times=[10, 28], style="jama")
    assert t.body.loc["a", "Day 28, % (95% CI)"] == "\u2014"  # after a's last time
    cell = t.body.loc["b", "Median (95% CI), days"]  # the curve stays at 2/3
    assert cell.startswith("NR (") and cell.endswith(" to NR)")
    assert "NR = not reached." in t.footnotes
    one = survival_table(kaplan_meier(df, "t", "e"), times=[10], median=False)
    assert one.body.index.tolist() == ["All participants"]


def test_bad_input(km):
    with pytest.raises(ArgumentTypeError, match="Kaplan-Meier"):
        survival_table(object(), times=[1])
    with pytest.raises(DataValidationError, match="nothing to show"):
        survival_table(km, median=False)
    with pytest.raises(DataValidationError, match="non-negative"):
        survival_table(km, times=[-1])
    with pytest.raises(ArgumentTypeError, match="numbers"):
        survival_table(km, times=["a"])
    assert np.isfinite(km.n)
