"""table_one(..., design=): a weighted Table 1 from a complex-survey design."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError
from mutualaid_outcomes.models.survey import (
    survey_design,
    survey_glm,
    survey_mean,
    survey_table,
    weighted_summary,
)
from mutualaid_outcomes.tables import table_one


@pytest.fixture(scope="module")
def api(test_data):
    return test_data("survey_apistrat.csv")


@pytest.fixture(scope="module")
def design(api):
    return survey_design(api, weights="pw", strata="stype", fpc="fpc")


@pytest.fixture(scope="module")
def table(api, design):
    return table_one(
        api, by="awards", variables=["api00", "enroll", "sch_wide"], nonnormal=["enroll"],
        design=design, labels={"api00": "API 2000"}, title="Schools",
    )  # fmt: skip


def test_headers_are_unweighted_counts(table, api):
    counts = api["awards"].value_counts()
    assert list(table.body.columns) == [
        f"Overall (n = {len(api)})", f"No (n = {counts['No']})", f"Yes (n = {counts['Yes']})",
        "p", "SMD",
    ]  # fmt: skip


def test_cells_are_the_design_based_estimates(table, design, r_reference):
    mean = survey_mean(design, "api00").coef().iloc[0]
    ref = r_reference("survey", case="strat", quantity="mean_est")
    assert mean == pytest.approx(ref[ref.term == "api00"]["value"].iloc[0], rel=1e-6)
    sd = np.sqrt(r_reference("survey", case="strat", quantity="svyvar")["value"].iloc[0])
    assert table.body.loc["API 2000, M (SD)"].iloc[0] == f"{mean:.1f} ({sd:.1f})"
    by = survey_mean(design, "api00", by="awards").tidy().set_index("awards")["estimate"]
    assert table.body.loc["API 2000, M (SD)"].iloc[2].startswith(f"{by['Yes']:.1f} (")
    # a yes/no column is one row (its "Yes" level): unweighted n, weighted percentage
    no_award = design.data["awards"] == "No"
    share = survey_mean(design.subset(no_award.to_numpy()), "sch_wide").tidy()
    n_yes = int((no_award & (design.data["sch_wide"] == "Yes")).sum())
    pct = share.set_index("term").loc["sch_wide[Yes]", "estimate"] * 100
    assert table.body.loc["sch_wide, n (%)"].iloc[1] == f"{n_yes} ({pct:.1f}%)"


def test_p_values_are_design_based(table, design):
    p_cat = survey_table(design, "sch_wide", "awards").glance()["p_value"].iloc[0]
    assert p_cat < 0.001 and table.body.loc["sch_wide, n (%)", "p"] == "<.001"
    wald = survey_glm(design, "api00 ~ C(awards)").wald_test(["C(awards)[T.Yes]"])
    assert table.body.loc["API 2000, M (SD)", "p"] == f"{wald['p_value']:.3f}".lstrip("0")
    notes = " ".join(table.footnotes)
    assert "unweighted" in notes and "Rao-Scott" in notes and "Wald" in notes


def test_numbers_are_the_unrounded_weighted_summary(table, design):
    want = weighted_summary(design, ["api00", "enroll", "sch_wide"], by="awards")
    numbers = table.numbers.reset_index(drop=True)
    pd.testing.assert_frame_equal(numbers.drop(columns="smd"), want)
    assert numbers.groupby("variable")["smd"].nunique().eq(1).all()  # one SMD per variable


def test_median_rows_for_nonnormal(table):
    assert "enroll, Mdn [Q1, Q3]" in table.body.index


def test_small_counts_are_suppressed(api, design):
    t = table_one(api, by="stype", variables=["awards"], design=design, min_cell=60)
    assert "<60" in t.body.to_string()
    assert any("suppressed" in n for n in t.footnotes)


def test_design_must_be_built_on_data(api, design):
    with pytest.raises(DataValidationError, match="build it from the same data frame"):
        table_one(api.iloc[:50], by="stype", variables=["api00"], design=design)
    with pytest.raises(ArgumentTypeError, match="`design` must be a survey design"):
        table_one(api, by="stype", variables=["api00"], design={"weights": "pw"})
