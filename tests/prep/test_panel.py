import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    DataWarning,
    EstimationError,
)
from mutualaid_outcomes.prep.panel import LaggedPanel, lagged_panel, wave_suffix

MONTHS = [0, 3, 6, 9, 12, 15]


@pytest.fixture
def cohort():
    """Six waves, 40 people, some drop-out and some item non-response."""
    rng = np.random.default_rng(20240501)
    n = 40
    rows = []
    for i in range(n):
        last = 15 if i % 5 else MONTHS[i % 4 + 1]  # every fifth person drops out early
        for m in MONTHS:
            if m > last:
                continue
            rows.append(
                {
                    "id": i + 1,
                    "month": m,
                    "arm": ["TSF", "CBT", "MET"][i % 3],
                    "age": 30 + i,
                    "aa_meetings": float(rng.poisson(5)),
                    "cesd": float(rng.integers(0, 40)),
                    "pda": float(rng.uniform()),
                }
            )
    df = pd.DataFrame(rows)
    # two missing values: person 2's cesd at 9 and person 7's pda at 15
    df.loc[(df.id == 2) & (df.month == 9), "cesd"] = np.nan
    df.loc[(df.id == 7) & (df.month == 15), "pda"] = np.nan
    return df


def _expected_wide(df, spec):
    """Independent construction with pandas pivot."""
    wide = df.pivot(index="id", columns="month")
    out = pd.DataFrame(index=wide.index)
    for col, t in spec:
        out[f"{col}_t{t}"] = wide[(col, t)] if (col, t) in wide.columns else np.nan
    return out.dropna()


def test_kelly_design_matches_pivot(cohort):
    before = cohort.copy()
    p = lagged_panel(
        cohort,
        id="id",
        time="month",
        variables={"aa_meetings": 3, "cesd": 9, "pda": 15},
        baseline=["cesd", "pda"],
        invariant=["arm", "age"],
    )
    pd.testing.assert_frame_equal(cohort, before)  # caller's frame untouched
    assert isinstance(p, LaggedPanel)
    assert list(p.frame.columns) == [
        "id",
        "arm",
        "age",
        "cesd_t0",
        "pda_t0",
        "aa_meetings_t3",
        "cesd_t9",
        "pda_t15",
    ]
    spec = [("cesd", 0), ("pda", 0), ("aa_meetings", 3), ("cesd", 9), ("pda", 15)]
    exp = _expected_wide(cohort, spec)
    got = p.frame.set_index("id")[exp.columns]
    pd.testing.assert_frame_equal(got, exp, check_names=False)
    # invariant columns come from the first row
    first = cohort.sort_values("month").groupby("id").first()
    assert (p.frame.set_index("id")["arm"] == first.loc[got.index, "arm"]).all()
    assert p.frame["age"].dtype == cohort["age"].dtype


def test_steps_account_for_everyone(cohort):
    p = lagged_panel(
        cohort,
        id="id",
        time="month",
        variables={"aa_meetings": 3, "cesd": 9, "pda": 15},
        baseline=["pda"],
    )
    n_ids = cohort.id.nunique()
    assert p.n_input == n_ids
    assert p.steps["n_dropped"].sum() == p.n_dropped == n_ids - p.n
    assert len(p.dropped) == p.n_dropped
    assert set(p.dropped["id"]).isdisjoint(p.frame["id"])
    # person 2 leaves at the cesd-at-9 value step, person 7 at the pda-at-15 value step
    d = p.dropped.set_index("id")
    assert d.loc[2, "reason"] == "missing value" and d.loc[2, "column"] == "cesd"
    assert d.loc[7, "reason"] == "missing value" and d.loc[7, "time"] == 15
    # drop-outs before month 15 leave at a "missing wave row" step
    last = cohort.groupby("id")["month"].max()
    early = set(last[last < 9].index)
    assert early <= set(d.index[d.reason == "missing wave row"])
    # n_before/n_after chain
    s = p.steps
    assert (s["n_before"] - s["n_dropped"] == s["n_after"]).all()
    assert (s["n_after"].iloc[:-1].to_numpy() == s["n_before"].iloc[1:].to_numpy()).all()
    text = p.describe()
    assert f"{p.n} of {n_ids} people kept" in text
    assert "<table" in p._repr_html_()


def test_dropna_false_keeps_everyone(cohort):
    p = lagged_panel(cohort, id="id", time="month", variables={"cesd": 9}, dropna=False)
    assert p.n == cohort.id.nunique()
    assert p.n_dropped == 0 and len(p.dropped) == 0
    assert p.steps["n_missing"].sum() == p.frame["cesd_t9"].isna().sum()


def test_names_lookup(cohort):
    p = lagged_panel(cohort, id="id", time="month", variables={"pda": [0, 15]})
    assert p.name("pda", 15) == "pda_t15"
    assert p.name("pda", 15.0) == "pda_t15"
    with pytest.raises(KeyError, match="not requested"):
        p.name("pda", 3)


def test_wave_suffix():
    assert wave_suffix(3) == "t3"
    assert wave_suffix(1.5) == "t1_5"
    assert wave_suffix("base") == "tbase"


def test_lags_stacked(cohort):
    p = lagged_panel(
        cohort, id="id", time="month", lags={"aa_meetings": 0, "pda": [-3, 3]}, invariant="arm"
    )
    assert list(p.frame.columns) == ["id", "origin", "arm", "pda_lag3", "aa_meetings", "pda_lead3"]
    # default origins: every wave with t-3 and t+3 observed
    assert sorted(p.frame["origin"].unique()) == [3, 6, 9, 12]
    wide = cohort.set_index(["id", "month"])
    for _, row in p.frame.sample(10, random_state=1).iterrows():
        i, t = row["id"], row["origin"]
        assert row["aa_meetings"] == wide.loc[(i, t), "aa_meetings"]
        assert row["pda_lead3"] == wide.loc[(i, t + 3), "pda"]
        assert row["pda_lag3"] == wide.loc[(i, t - 3), "pda"]
    assert p.n_input == cohort.id.nunique() * 4
    assert p.steps["n_dropped"].sum() == p.n_dropped
    assert set(p.steps["origin"]) == {3, 6, 9, 12}


def test_lags_explicit_origins(cohort):
    p = lagged_panel(cohort, id="id", time="month", lags={"pda": 6}, origins=[0, 9])
    assert sorted(p.frame["origin"].unique()) == [0, 9]
    with pytest.raises(DataValidationError, match="do not occur"):
        lagged_panel(cohort, id="id", time="month", lags={"pda": 6}, origins=[12])


def test_duplicate_rows(cohort):
    bad = pd.concat([cohort, cohort.iloc[[5]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"2 rows sharing an \(id, time\) pair"):
        lagged_panel(bad, id="id", time="month", variables={"pda": 3})


def test_unknown_time(cohort):
    with pytest.raises(DataValidationError, match=r"month=4.*waves present: \[0, 3, 6, 9"):
        lagged_panel(cohort, id="id", time="month", variables={"pda": 4})
    with pytest.raises(DataValidationError, match="baseline_time"):
        lagged_panel(cohort, id="id", time="month", baseline="pda", baseline_time=1)


def test_missing_columns(cohort):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'cesd'"):
        lagged_panel(cohort, id="id", time="month", variables={"cesdd": 3})
    with pytest.raises(ColumnNotFoundError, match="`time`"):
        lagged_panel(cohort, id="id", time="wave", variables={"pda": 3})
    with pytest.raises(ColumnNotFoundError, match="`invariant`"):
        lagged_panel(cohort, id="id", time="month", variables={"pda": 3}, invariant="sexx")


def test_bad_arguments(cohort):
    with pytest.raises(ArgumentTypeError, match="mapping"):
        lagged_panel(cohort, id="id", time="month", variables=["pda"])
    with pytest.raises(DataValidationError, match="not both"):
        lagged_panel(cohort, id="id", time="month", variables={"pda": 3}, lags={"pda": 3})
    with pytest.raises(DataValidationError, match="Nothing requested"):
        lagged_panel(cohort, id="id", time="month")
    with pytest.raises(DataValidationError, match="cannot also be requested"):
        lagged_panel(cohort, id="id", time="month", variables={"month": 3})
    na_time = cohort.copy()
    na_time.loc[0, "month"] = np.nan
    with pytest.raises(DataValidationError, match="missing values"):
        lagged_panel(na_time, id="id", time="month", variables={"pda": 3})


def test_all_dropped(cohort):
    df = cohort.copy()
    df.loc[df.month == 15, "pda"] = np.nan
    with pytest.raises(EstimationError, match="No people remain.*'pda'"):
        lagged_panel(df, id="id", time="month", variables={"pda": 15})


def test_varying_invariant_warns(cohort):
    df = cohort.copy()
    df.loc[(df.id == 1) & (df.month == 3), "arm"] = "XXX"
    with pytest.warns(DataWarning, match="'arm' in 1 people"):
        p = lagged_panel(df, id="id", time="month", variables={"pda": 3}, invariant="arm")
    assert p.frame.set_index("id").loc[1, "arm"] == "TSF"


def test_sample_cohort_recovers_attendance_to_mechanism_effects(paths):
    """Kelly et al. (2012) design on the sample cohort: attendance at month 3 -> latent
    mechanism at month 9, adjusting for month-0 PDA and mechanisms, arm, sex and age.

    The documented a-paths (src/mutualaid_outcomes/datasets/sample/truth.json) are population least-squares
    coefficients. Six intervals are checked at once, so each uses the Bonferroni level
    1 - 0.01 / 6 (family-wise 1%: several such families are checked on the one fixed
    sample across the suite, and complete-case selection by drinking-dependent drop-out
    before month 3 adds a little bias); the truth's Monte Carlo SE (<= 1.1e-4) is small
    against the estimates' SEs (~1.2e-3).
    """
    import json

    from mutualaid_outcomes.models.regression.glm import fit_regression

    waves = pd.read_csv(paths.sample / "waves.csv", usecols=["id", "month", "aa_meetings", "pda"])
    latent = pd.read_csv(paths.sample / "latent.csv.gz")
    people = pd.read_csv(paths.sample / "participants.csv", usecols=["id", "arm", "sex", "age"])
    truth = {
        q["quantity"]: q["value"]
        for q in json.loads((paths.sample / "truth.json").read_text())["quantities"]
    }
    mech = ["network", "efficacy", "motivation", "depression", "craving", "spirituality"]
    long = waves.merge(latent[["id", "month", *mech]], on=["id", "month"], how="outer").merge(
        people, on="id"
    )
    base = " + ".join(f"{m}_t0" for m in mech)
    level = 1 - 0.01 / len(mech)
    for m in mech:
        panel = lagged_panel(
            long,
            id="id",
            time="month",
            variables={"aa_meetings": 3, m: 9},
            baseline=["pda", *mech],
            invariant=["arm", "sex", "age"],
        )
        assert panel.n + panel.n_dropped == long["id"].nunique()
        res = fit_regression(
            panel.frame,
            f"{m}_t9 ~ aa_meetings_t3 + pda_t0 + {base} + C(arm, Treatment('MET')) + sex + age",
            cov_type="HC3",
        )
        row = res.tidy(conf_level=level).set_index("term").loc["aa_meetings_t3"]
        assert row["conf_low"] < truth[f"a[{m}]"] < row["conf_high"], m


def test_labelled_waves():
    long = pd.DataFrame(
        {
            "id": [1, 1, 2, 2],
            "wave": ["intake", "followup", "intake", "followup"],
            "y": [1.0, 2.0, 3.0, np.nan],
        }
    )
    p = lagged_panel(long, id="id", time="wave", variables={"y": ["intake", "followup"]})
    assert list(p.frame.columns) == ["id", "y_tintake", "y_tfollowup"]
    assert p.frame.to_dict("list") == {"id": [1], "y_tintake": [1.0], "y_tfollowup": [2.0]}
    assert p.dropped.loc[0, "reason"] == "missing value"


def test_labelled_waves_invariant_from_first_wave():
    long = pd.DataFrame(
        {
            "id": [1, 1],
            "wave": pd.Categorical(["post", "pre"], categories=["pre", "post"]),
            "age": [41, 40],
            "y": [2.0, 1.0],
        }
    )
    with pytest.warns(DataWarning):
        p = lagged_panel(long, id="id", time="wave", variables={"y": "post"}, invariant="age")
    assert p.frame.loc[0, "age"] == 40  # from the 'pre' row, the first category
