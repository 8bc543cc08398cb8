"""Survey estimators against R survey 4.1.1 (tests/reference/survey.R -> survey.csv).

Designs: apistrat (stratified, FPC), apiclus1 (one-stage cluster, with and without FPC),
apiclus2 (two-stage, FPC at both stages), JK1 replicate weights exported from
``as.svrepdesign``, a bootstrap set exported from R, JKn made here (deterministic, so it
must equal R's), NHANES (nest=TRUE, binary outcome with missing values) and a lonely-PSU
variant of NHANES under each rule.
"""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models.survey import (
    survey_design,
    survey_glm,
    survey_mean,
    survey_proportion,
    survey_quantile,
    survey_ratio,
    survey_table,
    survey_total,
    weighted_summary,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data"
DATA_README = DATA / "README.md"
REF = pd.read_csv(ROOT / "reference" / "survey.csv", comment="#")


def ref(case, quantity):
    """R values of one case and quantity, indexed by R's term names."""
    r = REF[(REF.case == case) & (REF.quantity == quantity)]
    assert not r.empty, (case, quantity)
    return pd.Series(r.value.to_numpy(float), index=r.term.to_numpy())


def read(name):
    return pd.read_csv(DATA / name)


RTOL = 1e-6  # deterministic quantities; R's IRLS run with epsilon = 1e-14
LIN = ["strat", "clus1", "clus2", "clus1nofpc"]
ALL = LIN + ["jk1", "boot", "jkn"]
CI = [
    ("logit", "logit"),
    ("beta", "beta"),
    ("mean", "wald"),
    ("asin", "asin"),
    ("xlogit", "xlogit"),
]


ATOL = 1e-12  # for quantities that are exactly 0 in R (SE of stratum shares) and ~1e-17 here


def close(got, want, rtol=RTOL):
    np.testing.assert_allclose(
        np.asarray(got, float), np.asarray(want, float), rtol=rtol, atol=ATOL
    )


@pytest.mark.parametrize("case", ALL)
def test_design_df(designs, case):
    assert designs[case].degf == ref(case, "degf").iloc[0]


@pytest.mark.parametrize("case", ALL)
def test_mean_total_ratio(designs, case):
    d = designs[case]
    t = survey_mean(d, ["api00", "enroll"], deff=True).tidy()
    close(t.estimate, ref(case, "mean_est"))
    close(t.std_error, ref(case, "mean_se"))
    t = survey_total(d, "enroll", deff=True).tidy()
    close(t.estimate, ref(case, "total_est"))
    close(t.std_error, ref(case, "total_se"))
    r = survey_ratio(d, "api_stu", "enroll", deff=True).tidy()
    close(r.estimate, ref(case, "ratio_est"))
    close(r.std_error, ref(case, "ratio_se"))
    if case in LIN:
        close(survey_mean(d, ["api00", "enroll"], deff=True).tidy().deff, ref(case, "mean_deff"))
        close(t.deff, ref(case, "total_deff"))
        close(r.deff, ref(case, "ratio_deff"))


@pytest.mark.parametrize("case", ALL)
def test_mean_of_categorical(designs, case):
    t = survey_mean(designs[case], "stype").tidy()
    assert list(t.term) == ["stype[E]", "stype[H]", "stype[M]"]
    close(t.estimate, ref(case, "mean_factor_est"))
    close(t.std_error, ref(case, "mean_factor_se"))


@pytest.mark.parametrize("case", ALL)
def test_domains(designs, case):
    d = designs[case]
    t = survey_mean(d, "api00", by="awards", deff=True).tidy()
    close(t.estimate, ref(case, "by_mean_est"))
    close(t.std_error, ref(case, "by_mean_se"))
    close(t.deff, ref(case, "by_mean_deff"), rtol=RTOL if case in LIN else 1e-6)
    t = survey_total(d, "enroll", by=["awards", "yr_rnd"]).tidy()
    # svyby orders domains with the first factor varying fastest; we sort by both columns
    r_est, r_se = ref(case, "by_total_est"), ref(case, "by_total_se")
    keys = [k.split(".") for k in r_est.index]
    got = t.set_index(["awards", "yr_rnd"])
    close(got.loc[[tuple(k) for k in keys], "estimate"], r_est)
    close(got.loc[[tuple(k) for k in keys], "std_error"], r_se)


@pytest.mark.parametrize("case", ALL)
def test_subset_keeps_design(designs, case):
    d = designs[case]
    ds = d.subset(d.data["awards"] == "Yes")
    t = survey_mean(ds, "api00").tidy()
    want = ref(case, "domain_mean")
    close([t.estimate[0], t.std_error[0]], want.iloc[:2])
    assert ds.degf == want.iloc[2]
    g = survey_glm(ds, "api00 ~ ell + meals")
    close(g.coef(), ref(case, "glm_domain_coef"))
    close(np.sqrt(np.diag(g.cov)), ref(case, "glm_domain_se"))
    assert g.df_resid == ref(case, "glm_domain_df").iloc[0]


@pytest.mark.parametrize("case", ALL)
@pytest.mark.parametrize("rname,method", CI)
def test_proportion_intervals(designs, case, rname, method):
    d = designs[case]
    t = survey_proportion(d, "sch_wide", level="Yes", ci=method).tidy()
    close(
        [t.estimate[0], t.conf_low[0], t.conf_high[0], t.std_error[0]], ref(case, f"prop_{rname}")
    )
    t = survey_proportion(d, "sch_wide", level="Yes", ci=method, by="stype").tidy()
    close(t.estimate, ref(case, f"by_prop_{rname}_est"))
    close(t.conf_low, ref(case, f"by_prop_{rname}_low"))
    close(t.conf_high, ref(case, f"by_prop_{rname}_high"))


@pytest.mark.parametrize("case", ALL)
def test_quantiles(designs, case):
    d = designs[case]
    t = survey_quantile(d, "api00", [0.25, 0.5, 0.9]).tidy()
    close(t.estimate, ref(case, "quantile_est"))
    close(t.std_error, ref(case, "quantile_se"))
    close(t.conf_low, ref(case, "quantile_low"))
    close(t.conf_high, ref(case, "quantile_high"))
    t = survey_quantile(d, "api00", 0.5, by="awards").tidy()
    close(t.estimate, ref(case, "by_quantile_est"))
    close(t.std_error, ref(case, "by_quantile_se"))
    close(t.conf_low, ref(case, "by_quantile_low"))
    close(t.conf_high, ref(case, "by_quantile_high"))


def _r_term(term):
    term = term.replace("(Intercept)", "Intercept")
    term = re.sub(r"^stype(\w)$", r"C(stype)[T.\1]", term)
    term = re.sub(r"^agecat(.+)$", r"C(agecat)[T.\1]", term)
    return term


GLMS = [
    ("gauss", "api00 ~ ell + meals + mobility", "gaussian"),
    ("logit", "sch_wide ~ ell + meals + C(stype)", "quasibinomial"),
    ("pois", "api_stu ~ meals + C(stype)", "quasipoisson"),
]


@pytest.mark.parametrize("case", ALL)
@pytest.mark.parametrize("name,formula,family", GLMS)
def test_glm(designs, case, name, formula, family):
    g = survey_glm(designs[case], formula, family=family)
    rc, rs = ref(case, f"glm_{name}_coef"), ref(case, f"glm_{name}_se")
    idx = [_r_term(t) for t in rc.index]
    assert sorted(idx) == sorted(g.terms)
    close(g.coef()[idx], rc)
    close(np.sqrt(np.diag(g.vcov().loc[idx, idx])), rs)
    if name != "pois":
        assert g.df_resid == ref(case, f"glm_{name}_df").iloc[0]
        assert g.tidy().p_value.notna().all()


@pytest.mark.parametrize("case", ALL)
def test_rao_scott_and_table(designs, case):
    res = survey_table(designs[case], "sch_wide", "stype")
    g = res.glance().iloc[0]
    close([g.statistic, g.ndf, g.ddf, g.p_value], ref(case, "chisq_F"))
    close(res.cells["count"], ref(case, "table"))
    assert res.counts().loc["Yes", "E"] == pytest.approx(ref(case, "table")["Yes:E"], rel=RTOL)


@pytest.mark.parametrize("case", ALL)
def test_table_one_rows(designs, case):
    d = designs[case]
    out = weighted_summary(d, ["api00", "sch_wide"], by="stype")
    api = out[out.variable == "api00"]
    close(api.sd.iloc[0] ** 2, ref(case, "svyvar").iloc[0])
    close(api.p_value.iloc[0], ref(case, "term_test")["p"])
    g = survey_glm(d, "api00 ~ C(stype)")
    w = g.wald_test(["C(stype)[T.H]", "C(stype)[T.M]"])
    close([w["statistic"], w["ndf"], w["ddf"], w["p_value"]], ref(case, "term_test"))
    close(out[out.variable == "sch_wide"].p_value.iloc[0], ref(case, "chisq_F").iloc[3])
    close(api["mean"].iloc[0], survey_mean(d, "api00").coef().iloc[0], rtol=1e-12)


@pytest.fixture(scope="module")
def dnh(nhanes):
    return survey_design(
        nhanes, weights="WTMEC2YR", strata="SDMVSTRA", cluster="SDMVPSU", nest=True
    )


@pytest.mark.parametrize("rname,method", CI[:4])
def test_nhanes_proportions(dnh, rname, method):
    assert dnh.degf == ref("nhanes", "degf").iloc[0]
    res = survey_proportion(dnh, "HI_CHOL", ci=method)
    t = res.tidy()
    close(
        [t.estimate[0], t.conf_low[0], t.conf_high[0], t.std_error[0]],
        ref("nhanes", f"prop_{rname}"),
    )
    assert res.glance().n_dropped[0] == 745  # missing HI_CHOL, reported not hidden
    t = survey_proportion(dnh, "HI_CHOL", ci=method, by="race").tidy()
    close(t.estimate, ref("nhanes", f"by_prop_{rname}_est"))
    close(t.conf_low, ref("nhanes", f"by_prop_{rname}_low"))
    close(t.conf_high, ref("nhanes", f"by_prop_{rname}_high"))


def test_nhanes_domain_means_glm_and_chisq(dnh):
    t = survey_mean(dnh, "HI_CHOL", by="race", deff=True).tidy()
    close(t.estimate, ref("nhanes", "by_mean_est"))
    close(t.std_error, ref("nhanes", "by_mean_se"))
    close(t.deff, ref("nhanes", "by_mean_deff"))
    g = survey_glm(dnh, "HI_CHOL ~ C(agecat) + RIAGENDR", family="binomial")
    rc = ref("nhanes", "glm_logit_coef")
    idx = [_r_term(x) for x in rc.index]
    close(g.coef()[idx], rc)
    close(np.sqrt(np.diag(g.vcov().loc[idx, idx])), ref("nhanes", "glm_logit_se"))
    assert g.df_resid == ref("nhanes", "glm_logit_df").iloc[0]
    gl = survey_table(dnh, "HI_CHOL", "race").glance().iloc[0]
    close([gl.statistic, gl.ndf, gl.ddf, gl.p_value], ref("nhanes", "chisq_F"))


@pytest.mark.parametrize("rule", ["adjust", "average", "remove", "certainty"])
def test_lonely_psu_rules(nhanes, rule):
    lon = nhanes[~((nhanes.SDMVSTRA == 83) & (nhanes.SDMVPSU == 2))]
    d = survey_design(
        lon, weights="WTMEC2YR", strata="SDMVSTRA", cluster="SDMVPSU", nest=True, lonely_psu=rule
    )
    m, t = survey_mean(d, "HI_CHOL").tidy(), survey_total(d, "HI_CHOL").tidy()
    close([m.estimate[0], m.std_error[0], t.estimate[0], t.std_error[0]], ref("lonely", rule))
    if rule != "certainty":
        r = survey_mean(d.as_replicate("JKn"), "HI_CHOL").tidy()
        close([r.estimate[0], r.std_error[0]], ref("lonely", f"jkn_{rule}"))


def test_jk1_made_here_equals_r_export(designs):
    mine = designs["clus1"].as_replicate("JK1")
    assert mine.scale == pytest.approx(ref("jk1", "design")["scale"], rel=1e-12)
    a = survey_mean(mine, ["api00", "enroll"]).tidy()
    b = survey_mean(designs["jk1"], ["api00", "enroll"]).tidy()
    close(a.std_error, b.std_error, rtol=1e-10)


def test_exported_data_documented():
    readme = (read("survey_apistrat.csv").shape, (DATA_README).read_text())
    assert readme[0] == (200, 15)
    for name in (
        "survey_apistrat.csv",
        "survey_apiclus1.csv",
        "survey_apiclus2.csv",
        "survey_nhanes.csv",
        "survey_apiclus1_jk1.csv",
        "survey_apistrat_boot.csv",
    ):
        assert name in readme[1]
