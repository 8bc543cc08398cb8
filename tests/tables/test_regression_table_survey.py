"""regression_table renders survey_glm results with the design-based numbers R survey gives."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mutualaid_outcomes.models.survey import survey_design, survey_glm
from mutualaid_outcomes.tables import regression_table

RTOL = 1e-6  # deterministic quantities; R's svyglm was run with epsilon = 1e-14


@pytest.fixture(scope="module")
def strat(test_data):
    api = test_data("survey_apistrat.csv")
    return survey_design(api, weights="pw", strata="stype", fpc="fpc")


def _r(r_reference, quantity):
    rows = r_reference("survey", case="strat", quantity=quantity)
    return pd.Series(rows["value"].to_numpy(float), index=rows["term"].to_numpy())


def _r_term(name):
    return {"(Intercept)": "Intercept", "stypeH": "C(stype)[T.H]", "stypeM": "C(stype)[T.M]"}.get(
        name, name
    )


@pytest.fixture(scope="module")
def models(strat):
    return {
        "API (b)": survey_glm(strat, "api00 ~ ell + meals + mobility"),
        "School-wide target (OR)": survey_glm(
            strat, "sch_wide ~ ell + meals + C(stype)", family="binomial"
        ),
    }


@pytest.fixture(scope="module")
def table(models):
    return regression_table(models, exponentiate=[False, True])


@pytest.mark.parametrize(
    "model,kind,exponentiate",
    [("API (b)", "gauss", False), ("School-wide target (OR)", "logit", True)],
)
def test_numbers_are_r_survey_svyglm(table, r_reference, model, kind, exponentiate):
    num = table.numbers[table.numbers["model"] == model].set_index("term")
    coef, se = _r(r_reference, f"glm_{kind}_coef"), _r(r_reference, f"glm_{kind}_se")
    df = _r(r_reference, f"glm_{kind}_df").iloc[0]
    terms = [_r_term(t) for t in coef.index if t != "(Intercept)" or "Intercept" in num.index]
    want = coef.rename(index=_r_term).loc[terms]
    want_se = se.rename(index=_r_term).loc[terms]
    got = num.loc[terms]
    scale = np.exp if exponentiate else (lambda v: v)
    np.testing.assert_allclose(got["estimate"], scale(want), rtol=RTOL)
    np.testing.assert_allclose(got["std_error"], want_se, rtol=RTOL)
    # intervals: t with the design-based residual df (R's confint(svyglm) uses the same)
    half = stats.t.ppf(0.975, df) * want_se
    np.testing.assert_allclose(got["conf_low"], scale(want - half), rtol=RTOL)
    np.testing.assert_allclose(got["conf_high"], scale(want + half), rtol=RTOL)
    p = 2 * stats.t.sf(np.abs(want / want_se), df)
    np.testing.assert_allclose(got["p_value"], p, rtol=1e-5)


def test_cells_show_the_estimates_and_the_rows_used(table, models):
    text = table.body.to_string()
    api = models["API (b)"].tidy().set_index("term")
    assert f"{api.loc['meals', 'estimate']:.2f}".replace("-", "") in text.replace("−", "")
    odds = np.exp(models["School-wide target (OR)"].tidy().set_index("term").loc["meals"])
    assert f"{odds['estimate']:.2f}" in text
    # N is the number of rows with non-zero weight used by each model
    n_row = [i for i in table.body.index if str(i).strip().startswith("N")]
    assert n_row, table.body.index.tolist()
    cells = table.body.loc[n_row[0]].astype(str).tolist()
    assert "200" in " ".join(cells)


def test_replicate_design_result_renders(strat):
    rep = strat.as_replicate("JKn")
    res = survey_glm(rep, "api00 ~ ell + meals")
    table = regression_table({"JKn": res})
    num = table.numbers.set_index("term")
    np.testing.assert_allclose(num["estimate"], res.coef().loc[num.index], rtol=1e-12)
    np.testing.assert_allclose(
        num["std_error"], np.sqrt(np.diag(res.vcov().loc[num.index, num.index])), rtol=1e-12
    )
