import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, ColumnNotFoundError, DataValidationError
from mutualaid_outcomes.models._core.contingency import fisher_exact, fisher_monte_carlo
from mutualaid_outcomes.tables import suppress_cells, table_one

# Deterministic statistics computed the same way in base R: agreement is exact up to
# floating-point summation order (and, for Fisher's test, the order of the network sum).
REL_TOL = 1e-8

# Scenarios of tests/reference/table_one.R: (rows of jobs, by, continuous, nonnormal,
# categorical, test overrides)
SCENARIOS = {
    "treat": (None, "treat", ["age", "econ_hard"], ["depress1"], ["sex", "marital"], {}),
    "income": (None, "income", ["age", "econ_hard"], ["depress1"], ["sex"], {}),
    "treat_overrides": (
        None,
        "treat",
        ["age", "econ_hard"],
        ["depress1"],
        ["marital", "educ"],
        {"age": "student_t", "econ_hard": "t_test", "depress1": "wilcoxon", "marital": "fisher"},
    ),
    "income_overrides": (None, "income", ["age"], ["depress1"], [], {"age": "welch_anova"}),
    "small": (80, "treat", ["age"], ["depress1"], ["sex", "marital", "educ"], {}),
    "small_income": (120, "income", ["age"], [], ["sex", "marital"], {}),
}


@pytest.fixture(scope="module")
def jobs(test_data):
    return test_data("jobs.csv")


@pytest.fixture(scope="module")
def reference(r_reference):
    return r_reference("table_one", keep_default_na=False)


def _run(jobs, scenario):
    rows, by, cont, nonnormal, cat, overrides = SCENARIOS[scenario]
    data = jobs if rows is None else jobs.iloc[:rows]
    return table_one(
        data,
        by=by,
        variables=cont + nonnormal + cat,
        categorical=cat,
        nonnormal=nonnormal,
        overall=False,
        tests=overrides or True,
        rng=1,
    )


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_table_one_matches_r(jobs, reference, scenario):
    """Summaries, SMDs, the test chosen for each variable and its p-value, as in R."""
    t = _run(jobs, scenario)
    ours = t.numbers.copy()
    ours["group"] = ours["group"].astype(str)
    ref = reference[reference["scenario"] == scenario]
    checked = 0
    for _, r in ref.iterrows():
        sel = ours[
            (ours["variable"] == r["variable"])
            & (ours["statistic"] == r["statistic"])
            & (ours["group"] == str(r["group"]))
            & (ours["level"].astype(str) == str(r["level"]))
        ]
        assert len(sel) == 1, (r["variable"], r["statistic"], r["group"], r["level"])
        value = float(sel["value"].iloc[0])
        if r["test"] == "fisher_mc":
            # Monte Carlo p-values (ours: 9,999 tables; R: 1e5): within four Monte Carlo
            # standard errors of ours, and never below our resolution 1 / 10,000
            p = float(r["value"])
            assert abs(value - p) <= 4 * np.sqrt(max(p, 1e-4) / 9_999) + 1e-4
        else:
            assert value == pytest.approx(float(r["value"]), rel=REL_TOL)
        if r["statistic"] == "p_value":
            chosen = ours[(ours["variable"] == r["variable"]) & (ours["statistic"] == "test")]
            assert chosen["value"].iloc[0] == r["test"], r["variable"]
        checked += 1
    assert checked == len(ref) > 10


def test_fisher_exact_matches_r(r_reference):
    ref = r_reference("table_one_fisher")
    for _, r in ref.iterrows():
        table = np.array([[int(v) for v in row.split(",")] for row in r["table"].split("/")])
        assert fisher_exact(table) == pytest.approx(r["p_value"], rel=REL_TOL), r["table"]


def test_fisher_gives_up_on_huge_tables_and_falls_back_to_monte_carlo():
    big = np.array([[270, 130, 70, 30, 2], [265, 135, 65, 33, 1], [268, 128, 72, 31, 3]])
    assert fisher_exact(big) is None
    p = fisher_monte_carlo(big, 2000, np.random.default_rng(3))
    # R 4.2 fisher.test(workspace = 2e8) on this table: 0.991030816601
    assert abs(p - 0.991030816601) < 4 * np.sqrt(0.01 / 2000) + 1 / 2001


def test_tests_are_named_per_row(jobs):
    t = _run(jobs, "small")
    p_col = t.columns.index("p")
    marks = {t.body.index[i]: m for (i, j), m in t.markers.items() if j == p_col}
    notes = t.marked_notes
    assert notes[marks["age, M (SD)"]] == "Welch's t test."
    assert notes[marks["depress1, Mdn [Q1, Q3]"]] == "Kruskal\u2013Wallis test."
    assert notes[marks["marital, n (%)"]] == "Fisher's exact test."
    assert notes[marks["sex, n (%)"]].startswith("Pearson's chi-square test with Yates")
    # markers are assigned in order of first use, one per test
    assert sorted(notes) == ["a", "b", "c", "d"]


def test_dichotomous_variables_take_one_row():
    df = pd.DataFrame(
        {
            "arm": ["A"] * 4 + ["B"] * 4,
            "female": [0, 1, 1, 1, 0, 0, 1, 0],
            "smoker": [True, False, True, True, False, False, False, True],
            "employed": ["yes", "no", "yes", "yes", "no", "no", "yes", "no"],
            "site": ["x", "y", "x", "y", "x", "y", "x", "y"],
        }
    )
    t = table_one(df, by="arm", labels={"female": "Female"}, tests=False, smd=False)
    assert list(t.body.index) == [
        "Female, n (%)",
        "smoker, n (%)",
        "employed, n (%)",
        "site, n (%)",
        "x",
        "y",
    ]
    assert t.body.loc["Female, n (%)", "A (n = 4)"] == "3 (75.0)"
    # a labelled 0/1 variable shows its labelled level
    lab = {"variables": {"female": "Sex"}, "values": {"female": {0: "Male", 1: "Female"}}}
    t2 = table_one(df, by="arm", variables=["female"], labels=lab, tests=False, smd=False)
    assert list(t2.body.index) == ["Sex: Female, n (%)"]


def test_two_valued_columns_are_dichotomous_rows_with_hand_counted_numbers():
    # gtsummary's rule: 0/1 numbers (even all 0), logicals (even all false, or with
    # missing values) and yes/no-labelled codes take one "n (%)" row; counts by hand.
    df = pd.DataFrame(
        {
            "g": ["a"] * 5 + ["b"] * 5,
            "x01": [0, 1, 1, 0, 1, 0, 0, 0, 1, np.nan],  # a: 3/5, b: 1/4, all: 4/9
            "lgna": pd.array([True, False, True, None, False, False, False, True, True, True]),
            "zeros": [0.0] * 10,
            "none_true": [False] * 10,
            "yn12": [1, 2, 1, 2, 2, 1, 1, 1, 2, 2],  # 1 = Yes: a: 2/5, b: 3/5
            "sex0": [0] * 10,  # labelled 0/1 with nobody coded 1
            "mf12": [1, 2, 1, 2, 2, 1, 1, 1, 2, 2],  # two labelled levels, not yes/no
        }
    )
    values = {
        "yn12": {1: "Yes", 2: "No"},
        "sex0": {0: "Male", 1: "Female"},
        "mf12": {1: "Female", 2: "Male"},
    }
    t = table_one(df, by="g", labels={"values": values, "variables": {}}, smd=False)
    cols = ["Overall (n = 10)", "a (n = 5)", "b (n = 5)"]
    cell = lambda row: t.body.loc[row, cols].tolist()  # noqa: E731
    assert cell("x01, n (%)") == ["4 (44.4)", "3 (60.0)", "1 (25.0)"]
    assert cell("lgna, n (%)") == ["5 (55.6)", "2 (50.0)", "3 (60.0)"]  # of 9 non-missing
    assert cell("zeros, n (%)") == ["0 (0.0)", "0 (0.0)", "0 (0.0)"]
    assert cell("none_true, n (%)") == ["0 (0.0)", "0 (0.0)", "0 (0.0)"]
    assert cell("yn12, n (%)") == ["5 (50.0)", "2 (40.0)", "3 (60.0)"]
    assert cell("sex0: Female, n (%)") == ["0 (0.0)", "0 (0.0)", "0 (0.0)"]
    # a two-level factor that is not yes/no keeps a row per level (as gtsummary)
    assert "mf12, n (%)" in t.body.index and "Female" in t.body.index
    assert "0" not in t.body.index and "0.0 (0.0)" not in t.body.to_numpy()
    # a constant column has nothing to test
    assert t.body.loc["zeros, n (%)", "p"] == ""
    # the Fisher p-value of x01 is the one of its 2 x 2 table
    from scipy.stats import fisher_exact as scipy_fisher

    p = scipy_fisher([[2, 3], [3, 1]]).pvalue
    assert t.body.loc["x01, n (%)", "p"] == f"{p:.3f}".lstrip("0")


def test_means_of_proportions_take_two_decimals():
    df = pd.DataFrame(
        {
            "g": ["a"] * 5 + ["b"] * 5,
            "pda": [0.1, 0.25, 0.3, 0.5, 0.9, 0.05, 0.15, 0.2, 0.35, 0.4],
            "age": [30.0, 41, 52, 33, 44, 25, 36, 47, 38, 29],
        }
    )
    t = table_one(df, by="g", nonnormal=None, tests=False, smd=False)
    sd = lambda x: float(np.std(x, ddof=1))  # noqa: E731
    a, b = df.pda[:5], df.pda[5:]
    assert t.body.loc["pda, M (SD)", "a (n = 5)"] == f"0.41 ({sd(a):.2f})"  # 2.05 / 5
    assert t.body.loc["pda, M (SD)", "b (n = 5)"] == f"0.23 ({sd(b):.2f})"  # 1.15 / 5
    assert t.body.loc["pda, M (SD)", "Overall (n = 10)"] == f"0.32 ({sd(df.pda):.2f})"
    assert t.body.loc["age, M (SD)", "a (n = 5)"] == "40.0 (8.8)"  # not a proportion: one decimal
    med = table_one(df, by="g", nonnormal=["pda"], tests=False, smd=False)
    assert med.body.loc["pda, Mdn [Q1, Q3]", "a (n = 5)"] == "0.30 [0.25, 0.50]"
    # more decimals asked for are kept
    three = table_one(df, by="g", decimals=3, tests=False, smd=False)
    assert three.body.loc["pda, M (SD)", "a (n = 5)"].startswith("0.410 (")


def test_presets_name_the_statistics(jobs):
    t = table_one(jobs, by="treat", variables=["age", "depress1", "sex"], nonnormal=["depress1"],
                  style="jama")  # fmt: skip
    assert list(t.body.index) == ["age, Mean (SD)", "depress1, Median (IQR)", "sex, No. (%)"]
    cell = t.body.loc["depress1, Median (IQR)", "Overall (n = 899)"]
    assert " to " in cell and cell.endswith(")")
    assert t.body.loc["age, Mean (SD)", "p"].startswith(".")


def test_overall_column_optional_and_headers(jobs):
    t = table_one(jobs, by="treat", variables=["age"], overall=False)
    assert t.columns == ["0 (n = 299)", "1 (n = 600)", "p", "SMD"]
    t = table_one(jobs, by="treat", variables=["age"], tests=False, smd=False)
    assert t.columns == ["Overall (n = 899)", "0 (n = 299)", "1 (n = 600)"]


def test_table_one_does_not_mutate_and_counts_missing(jobs):
    df = jobs[["treat", "age", "sex"]].copy()
    df.loc[:4, "age"] = np.nan
    df.loc[5, "treat"] = np.nan
    before = df.copy()
    t = table_one(df, by="treat", categorical=["sex"])
    pd.testing.assert_frame_equal(df, before)
    assert "Missing" in t.body.index
    assert any("1 participants with missing treat" in f for f in t.footnotes)
    miss = t.numbers[(t.numbers.level == "Missing") & (t.numbers.group == "Overall")]
    assert int(miss["value"].iloc[0]) == 5


def test_disclosure_control_masks_small_cells(jobs):
    t = table_one(jobs, by="treat", variables=["marital"], min_cell=11)
    widowed = t.body.loc["widowed"]
    assert widowed.iloc[1] == "<11"  # 6 people in the control group
    # secondary suppression: the other arm's cell would reveal it via the overall count
    assert widowed.iloc[2] == "suppressed"
    assert any("suppressed" in f for f in t.footnotes)
    shown = " ".join(t.body.to_numpy().ravel())
    assert " 6 (" not in shown


def test_suppress_cells_primary_and_secondary():
    m = suppress_cells(np.array([[40, 25, 15], [5, 20, 10], [35, 5, 5]]), 11, has_total=True)
    assert m[1, 0] and m[2, 1] and m[2, 2]
    # no single suppressed cell per row or per level remains
    assert all(r.sum() != 1 for r in m)


def test_codebook_labels_used():
    class CB:
        def label(self, name):
            return {"age": "Age, years", "arm": "Arm"}.get(name)

        def value_labels(self, name):
            return {"arm": {1: "TSF", 2: "CBT"}}.get(name, {})

    df = pd.DataFrame({"arm": [1, 1, 2, 2, 2], "age": [30.0, 32, 41, 39, 45]})
    t = table_one(df, by="arm", codebook=CB(), tests=False, smd=False)
    assert "Age, years, M (SD)" in t.body.index
    assert any(c.startswith("TSF (n = 2)") for c in t.body.columns)


def test_bad_input(jobs):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'treat'"):
        table_one(jobs, by="tret")
    with pytest.raises(DataValidationError, match="at least two"):
        table_one(jobs.assign(one=1), by="one", variables=["age"])
    with pytest.raises(DataValidationError, match="both"):
        table_one(jobs, by="treat", categorical=["age"], nonnormal=["age"])
    with pytest.raises(DataValidationError, match="compares two groups"):
        table_one(jobs, by="income", variables=["age"], tests={"age": "t_test"})
    with pytest.raises(DataValidationError, match="categorical variables"):
        table_one(jobs, by="treat", variables=["age"], tests={"age": "fisher"})
    with pytest.raises(DataValidationError, match="not among `variables`"):
        table_one(jobs, by="treat", variables=["age"], tests={"sex": "chisq"})
    with pytest.raises(ArgumentTypeError, match="`tests` must be"):
        table_one(jobs, by="treat", variables=["age"], tests="fisher")
