"""Survey estimators: the results contract, options and bad input."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    OptionError,
)
from mutualaid_outcomes.models.survey import (
    survey_design,
    survey_mean,
    survey_proportion,
    survey_quantile,
    survey_ratio,
    survey_total,
)
from mutualaid_outcomes.models.survey.quantile import weighted_quantile_math
from mutualaid_outcomes.models.survey.results import SURVEY_GLANCE_COLUMNS
from mutualaid_outcomes.results import TIDY_COLUMNS


@pytest.fixture(scope="module")
def sim():
    rng = np.random.default_rng(7)
    n_psu = 40
    psu = np.repeat(np.arange(n_psu), 25)
    df = pd.DataFrame(
        {
            "stratum": psu % 4,
            "psu": psu,
            "w": rng.uniform(1, 5, len(psu)),
            "sex": rng.choice(["F", "M"], len(psu)),
            "days": rng.gamma(2, 5, len(psu)),
        }
    )
    df["attends"] = (rng.uniform(size=len(psu)) < 0.3 + 0.2 * (df.sex == "F")).astype(int)
    df.loc[[3, 50, 400], "days"] = np.nan
    return df


@pytest.fixture(scope="module")
def design(sim):
    return survey_design(sim, weights="w", strata="stratum", cluster="psu")


def test_contract_and_coefficient_protocol(design):
    res = survey_mean(design, ["days", "attends"], by="sex")
    t = res.tidy()
    assert list(t.columns[:7]) == list(TIDY_COLUMNS)
    assert list(t.term) == ["F:days", "F:attends", "M:days", "M:attends"]
    assert list(res.glance().columns) == list(SURVEY_GLANCE_COLUMNS)
    assert res.terms == tuple(t.term)
    pd.testing.assert_index_equal(res.vcov().index, res.coef().index)
    assert res.nobs == 997 and res.df_resid is None
    assert res.glance().n_dropped[0] == 3  # missing days, reported
    assert any("3 rows with missing values" in n for n in res._notes())
    assert "Survey mean" in str(res.summary())
    with pytest.raises(OptionError, match="not meaningful"):
        res.tidy(exponentiate=True)


def test_domain_covariance_and_design_df(design):
    res = survey_mean(design, "days", by="sex", df="design")
    assert res.df_resid == design.degf == 36
    wide = res.tidy(conf_level=0.9)
    z = survey_mean(design, "days", by="sex").tidy(conf_level=0.9)
    assert (wide.conf_high - wide.conf_low > z.conf_high - z.conf_low).all()
    with pytest.raises(OptionError, match="`df` must be one of 'normal', 'design'"):
        survey_mean(design, "days", df="t")


def test_total_of_categorical_counts_population(design, sim):
    t = survey_total(design, "sex").tidy()
    assert t.estimate.sum() == pytest.approx(sim.w.sum())


def test_ratio_errors(design, sim):
    with pytest.raises(DataValidationError, match="must be numeric columns"):
        survey_ratio(design, "sex", "days")
    zero = survey_design(sim.assign(z=0.0), weights="w", strata="stratum", cluster="psu")
    with pytest.raises(DataValidationError, match="total of `denominator` \\('z'\\) is zero"):
        survey_ratio(zero, "days", "z")


def test_proportion_options(design):
    a = survey_proportion(design, "attends")
    b = survey_proportion(design, "sex", level="F")
    c = survey_proportion(design, "sex")
    assert list(c.tidy().term) == ["sex[F]", "sex[M]"]
    assert c.tidy().estimate.sum() == pytest.approx(1.0)
    assert b.tidy().estimate[0] == pytest.approx(c.tidy().estimate[0])
    t90, t95 = a.tidy(conf_level=0.9), a.tidy()
    assert t90.conf_low[0] > t95.conf_low[0] and np.isnan(t95.p_value[0])
    with pytest.raises(DataValidationError, match="must be coded 0/1"):
        survey_proportion(design, "days")
    with pytest.raises(OptionError, match="`ci` must be one of 'logit', 'beta'"):
        survey_proportion(design, "attends", ci="wilson")


def test_proportion_korn_graubard_reduces_to_clopper_pearson():
    """With an SRS-like design the effective n is n, and the limits are Clopper-Pearson."""
    from scipy import stats

    df = pd.DataFrame({"id": np.arange(50), "w": 1.0, "y": [1] * 7 + [0] * 43})
    d = survey_design(df, weights="w", cluster="id")
    t = survey_proportion(d, "y", ci="beta").tidy()
    # svymean's variance is p(1-p)/(n-1) here, so n_eff = n - 1; t-ratio = 1 (df = n - 1)
    n_eff = 49
    lo = stats.beta.ppf(0.025, 0.14 * n_eff, 0.86 * n_eff + 1)
    assert t.conf_low[0] == pytest.approx(lo, rel=1e-10)


def test_quantile_rule_and_errors(design):
    x = np.array([1.0, 2, 3, 4])
    assert weighted_quantile_math(x, np.ones(4), 0.5) == 2.0  # exact tie: lower value
    assert weighted_quantile_math(x, np.ones(4), 0.51) == 3.0
    res = survey_quantile(design, "days", [0.25, 0.75], by="sex")
    t = res.tidy()
    assert list(t.term) == ["F:days[0.25]", "F:days[0.75]", "M:days[0.25]", "M:days[0.75]"]
    assert (t.conf_low <= t.estimate).all() and (t.estimate <= t.conf_high).all()
    assert (res.tidy(conf_level=0.8).std_error != t.std_error).any()  # Woodruff SE per level
    with pytest.raises(DataValidationError, match=r"`quantiles` must be in \[0, 1\]"):
        survey_quantile(design, "days", 1.5)
    with pytest.raises(DataValidationError, match="must be numeric"):
        survey_quantile(design, "sex")


def test_bad_design_and_columns(design):
    with pytest.raises(ArgumentTypeError, match="`design` must be a SurveyDesign"):
        survey_mean(pd.DataFrame({"a": [1]}), "a")
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'days'"):
        survey_mean(design, "dayz")
    with pytest.raises(ColumnNotFoundError, match="`by`"):
        survey_mean(design, "days", by="sx")


def test_recovers_population_mean():
    """Unequal-probability cluster sample: the weighted mean is near the population mean,
    the unweighted one is biased; the CI covers the truth."""
    rng = np.random.default_rng(42)
    pop_psu = 400
    size = rng.integers(20, 60, pop_psu)
    mean_psu = 10 + 0.5 * size + rng.normal(0, 1, pop_psu)
    truth = np.sum(size * mean_psu) / size.sum()
    p_sel = size / size.sum() * 80  # PPS selection of about 80 PSUs
    chosen = np.flatnonzero(rng.uniform(size=pop_psu) < p_sel)
    rows = [
        pd.DataFrame({"psu": g, "w": 1 / p_sel[g], "y": mean_psu[g] + rng.normal(0, 2, size[g])})
        for g in chosen
    ]
    df = pd.concat(rows, ignore_index=True)
    t = survey_mean(survey_design(df, weights="w", cluster="psu"), "y").tidy()
    assert t.conf_low[0] < truth < t.conf_high[0]
    assert abs(df.y.mean() - truth) > 2 * t.std_error[0]
