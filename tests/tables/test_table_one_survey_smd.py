"""table_one(..., design=): weighted SMDs (R tableone's svy SMD) and ``tests=`` overrides.

Reference: tests/reference/survey_table_one_smd.R (tableone's svyStdDiff /
svyStdDiffMulti written out with survey::svyby, svymean, svyvar, svytable and
MASS::ginv, and svychisq(statistic = "Chisq")).
"""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, OptionError
from mutualaid_outcomes.models.survey import survey_design, survey_table
from mutualaid_outcomes.tables import table_one

CASES = {
    "awards": ["api00", "enroll", "meals_na", "sch_wide", "stype", "ell_cat"],
    "stype": ["api00", "meals_na", "awards", "ell_cat"],
}


@pytest.fixture(scope="module")
def api(test_data):
    """apistrat with the two derived columns the R script builds (same rules)."""
    df = test_data("survey_apistrat.csv")
    df["meals_na"] = df["meals"].where(df["snum"] % 7 != 0)
    cut = pd.cut(df["ell"], [-np.inf, 10, 30, np.inf], labels=["low", "mid", "high"])
    df["ell_cat"] = cut.astype(object).where(df["snum"] % 5 != 0)
    return df


@pytest.fixture(scope="module")
def design(api):
    return survey_design(api, weights="pw", strata="stype", fpc="fpc")


def _per_variable(table, column):
    return table.numbers.groupby("variable", sort=False)[column].first()


@pytest.mark.parametrize("by", list(CASES))
def test_smd_matches_tableone_formula_in_r(api, design, by, r_reference):
    variables = CASES[by]
    t = table_one(api, by=by, variables=variables, design=design)
    got = _per_variable(t, "smd")
    ref = r_reference("survey_table_one_smd", by=by, quantity="smd")
    assert len(ref) == len(variables)
    for _, row in ref.iterrows():
        assert got[row["variable"]] == pytest.approx(row["value"], rel=1e-8)
    assert t.body.loc["api00, M (SD)", "SMD"] == (f"{got['api00']:.3f}")


def test_smd_with_missing_values_uses_rs_svyvar(api, design, r_reference):
    # R svyvar(na.rm = TRUE) counts rows with a missing value in n / (n - 1); the SMD
    # follows R, so it differs from one built from the table's SD when values are missing
    t = table_one(api, by="awards", variables=["meals_na"], design=design)
    rows = t.numbers.set_index("group")
    naive = abs(rows.loc["No", "mean"] - rows.loc["Yes", "mean"]) / np.sqrt(
        (rows.loc["No", "sd"] ** 2 + rows.loc["Yes", "sd"] ** 2) / 2
    )
    ref = r_reference("survey_table_one_smd", by="awards", variable="meals_na")
    assert rows["smd"].iloc[0] == pytest.approx(ref["value"].iloc[0], rel=1e-8)
    assert abs(naive / ref["value"].iloc[0] - 1) > 1e-4


def test_smd_column_and_note(api, design):
    t = table_one(api, by="stype", variables=["api00", "awards", "ell_cat"], design=design)
    assert list(t.body.columns)[-2:] == ["p", "SMD"]
    assert t.body.loc["awards, n (%)", "SMD"] != ""  # a yes/no variable: one row
    first = list(t.body.index).index("ell_cat, n (%)")
    assert t.body["SMD"].iloc[first] != ""
    assert (t.body["SMD"].iloc[first + 1 :] == "").all()  # only on a variable's first row
    assert any("averaged over pairs" in n for n in t.footnotes)
    off = table_one(api, by="stype", variables=["api00"], design=design, smd=False)
    assert "SMD" not in off.body.columns and "smd" not in off.numbers.columns


def test_rao_scott_chisq_override_matches_r(api, design, r_reference):
    t = table_one(api, by="awards", variables=["stype", "ell_cat", "api00"], design=design,
                  tests={"stype": "rao_scott_chisq", "ell_cat": "rao_scott_chisq"})  # fmt: skip
    got = _per_variable(t, "p_value")
    ref = r_reference("survey_table_one_smd", by="awards", quantity="p_rao_scott_chisq")
    for var in ("stype", "ell_cat"):
        want = ref[ref["variable"] == var]["value"].iloc[0]
        assert got[var] == pytest.approx(want, rel=1e-8)
    assert t.body.loc["ell_cat, n (%)", "p"] == f"{got['ell_cat']:.3f}".lstrip("0")
    assert any("Rao-Scott adjusted chi-square" in n for n in t.footnotes)


def test_default_names_and_none_override(api, design):
    default = table_one(api, by="awards", variables=["sch_wide", "api00"], design=design)
    named = table_one(api, by="awards", variables=["sch_wide", "api00"], design=design,
                      tests={"sch_wide": "rao_scott", "api00": "wald"})  # fmt: skip
    pd.testing.assert_frame_equal(default.body, named.body)
    f_test = survey_table(design, "sch_wide", "awards").glance()["p_value"].iloc[0]
    assert _per_variable(named, "p_value")["sch_wide"] == pytest.approx(f_test, rel=1e-12)
    none = table_one(api, by="awards", variables=["sch_wide", "api00"], design=design,
                     tests={"api00": "none"})  # fmt: skip
    assert none.body.loc["api00, M (SD)", "p"] == ""
    assert np.isnan(_per_variable(none, "p_value")["api00"])
    assert none.body.loc["sch_wide, n (%)", "p"] == "<.001"


def test_small_groups_are_left_out_of_smds(api, design):
    # H and M have 50 schools each, E 100: with min_cell=60 only E is left, so no SMD
    t = table_one(api, by="stype", variables=["api00"], design=design, min_cell=60)
    assert t.body.loc["api00, M (SD)", "SMD"] == ""
    assert any("SMDs are not shown" in n for n in t.footnotes)
    # awards x stype: groups of 87 and 113 stay; a by with one small group drops it
    sub = api.assign(grp=np.where(api["snum"] % 10 == 0, "tiny", api["awards"]))
    d = survey_design(sub, weights="pw", strata="stype", fpc="fpc")
    small = int((sub["grp"] == "tiny").sum())
    t = table_one(sub, by="grp", variables=["api00"], design=d, min_cell=small + 1)
    assert any("left out: tiny" in n for n in t.footnotes)
    two = table_one(sub[sub["grp"] != "tiny"], by="grp", variables=["api00"],
                    design=survey_design(sub[sub["grp"] != "tiny"], weights="pw",
                                         strata="stype", fpc="fpc"))  # fmt: skip
    kept = _per_variable(t, "smd")["api00"]
    assert np.isfinite(kept)
    assert kept == pytest.approx(_per_variable(two, "smd")["api00"], rel=1e-12)


def test_unavailable_tests_are_refused(api, design):
    with pytest.raises(OptionError, match=r"tests\['api00'\]`='kruskal'.*svyranktest"):
        table_one(api, by="awards", variables=["api00"], design=design,
                  tests={"api00": "kruskal"})  # fmt: skip
    with pytest.raises(OptionError, match="'wald'.*'rao_scott'.*'rao_scott_chisq'"):
        table_one(api, by="awards", variables=["sch_wide"], design=design,
                  tests={"sch_wide": "chisq"})  # fmt: skip
    with pytest.raises(DataValidationError, match="summarised as continuous"):
        table_one(api, by="awards", variables=["api00"], design=design,
                  tests={"api00": "rao_scott"})  # fmt: skip
    with pytest.raises(DataValidationError, match="summarised as categorical"):
        table_one(api, by="awards", variables=["sch_wide"], design=design,
                  tests={"sch_wide": "wald"})  # fmt: skip
    with pytest.raises(DataValidationError, match="not among `variables`"):
        table_one(api, by="awards", variables=["api00"], design=design,
                  tests={"enroll": "wald"})  # fmt: skip
