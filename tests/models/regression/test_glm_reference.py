"""fit_regression against R (tests/reference/regression.R -> regression.csv)."""

import re

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models.regression.glm import fit_regression

RTOL = 1e-6  # deterministic estimators (IRLS, Newton) against R run to full convergence
# MASS::theta.ml stops at eps = .Machine$double.eps^0.25 and evaluates the information one
# Newton step before its last update, so glm.nb's SE.theta is off by up to ~1e-4 relative;
# the information at the converged theta (theta_se_mle in the CSV) agrees to RTOL.
THETA_SE_GLMNB_RTOL = 1e-4
# pscl::zeroinfl maximises with optim(BFGS, reltol = 1e-8) and a numerical Hessian; our
# optimum has a log-likelihood at least as high, and the estimates differ by well under
# 1% of a standard error (the zero part of bioChemists is flat), the SEs by < 1e-3.
ZEROINFL_EST_SE_FRAC = 1e-2
ZEROINFL_SE_RTOL = 1e-3
ZEROINFL_LOGLIK_RTOL = 1e-9


@pytest.fixture(scope="module")
def ref(r_reference):
    """R values of tests/reference/regression.csv for one model and quantity."""
    table = r_reference("regression")

    def get(model, quantity):
        r = table[(table.model == model) & (table.quantity == quantity)]
        return pd.Series(r.value.to_numpy(), index=r.term.to_numpy())

    return get


_FACTORS = ("grp", "Eth", "Sex", "Age", "Lrn", "fem", "mar", "wool", "tension", "temp", "contact")


def r_to_py(term):
    """Map an R coefficient name to the patsy name ('grpb' -> 'grp[T.b]')."""
    prefix = ""
    for p, q in (("count_", ""), ("zero_", "zero_")):
        if term.startswith(p):
            term, prefix = term[len(p) :], q
    term = term.replace("(Intercept)", "Intercept")
    for f in _FACTORS:
        m = re.fullmatch(rf"{f}(\w+)", term)
        if m:
            return f"{prefix}{f}[T.{m.group(1)}]"
    return prefix + term


def _se(res):
    return pd.Series(np.sqrt(np.diag(res.vcov().to_numpy())), index=res.coef().index)


def _assert_close(got, ref, rtol, what):
    mapped = pd.Series(ref.to_numpy(), index=[r_to_py(t) for t in ref.index])
    assert set(mapped.index) <= set(got.index), (what, set(mapped.index) - set(got.index))
    np.testing.assert_allclose(
        got[mapped.index].to_numpy(), mapped.to_numpy(), rtol=rtol, err_msg=what
    )


@pytest.fixture(scope="module")
def sim(test_data):
    return test_data("regression_sim.csv")


GLM_CASES = [
    ("gaussian", "y_gauss", "gaussian", None, None),
    ("gaussian_w", "y_gauss", "gaussian", None, "w"),
    ("logit", "y_bin", "binomial", "logit", None),
    ("probit", "y_bin", "binomial", "probit", None),
    ("poisson", "y_count", "poisson", None, None),
    ("poisson_w", "y_count", "poisson", None, "w"),
    ("fractional", "y_frac", "fractional_logit", None, None),
    ("nb_sim", "y_nb", "negative_binomial", None, None),
    ("nb_w", "y_nb", "negative_binomial", None, "w"),
]


def _se_key(cov_type):
    """Quantity name of the SEs in regression.csv (model-based SEs are 'se_nonrobust')."""
    return "se_nonrobust" if cov_type == "model" else f"se_{cov_type}"


@pytest.mark.parametrize("model,y,family,link,weights", GLM_CASES, ids=[c[0] for c in GLM_CASES])
def test_glm_families_match_r(sim, model, y, family, link, weights, ref):
    res = fit_regression(
        sim, f"{y} ~ x1 + x2 + grp", family=family, link=link, weights=weights, cov_type="model"
    )
    _assert_close(res.coef(), ref(model, "coef"), RTOL, "coef")
    for ct in ("model", "HC0", "HC1", "HC2", "HC3"):
        r = ref(model, _se_key(ct))
        if len(r):
            _assert_close(_se(res.with_cov_type(ct)), r, RTOL, ct)
    for ct in ("HC0", "HC1"):
        rc = fit_regression(
            sim,
            f"{y} ~ x1 + x2 + grp",
            family=family,
            link=link,
            weights=weights,
            cluster="cluster",
            cluster_type=ct,
        )
        _assert_close(_se(rc), ref(model, f"se_cluster_{ct}"), RTOL, f"cluster {ct}")
        assert rc.glance().loc[0, "n_clusters"] == 40
    g = ref(model, "glance")
    gl = res.glance().iloc[0]
    if family == "negative_binomial":
        assert gl["theta"] == pytest.approx(ref(model, "theta")["theta"], rel=RTOL)
    for key in ("loglik", "aic", "bic", "deviance", "df_resid"):
        if np.isfinite(g[key]):
            assert gl[key] == pytest.approx(g[key], rel=RTOL), key
        else:  # quasi-likelihood: R reports NA
            assert np.isnan(gl[key]), key


def test_cluster_default_matches_vcovcl_defaults(sim, ref):
    # gaussian default = vcovCL on lm (type HC1); binomial default = vcovCL on glm (HC0)
    res = fit_regression(sim, "y_gauss ~ x1 + x2 + grp", cluster="cluster")
    assert res.cluster_type == "HC1"
    _assert_close(_se(res), ref("gaussian", "se_cluster_lm"), RTOL, "lm cluster")
    res = fit_regression(sim, "y_bin ~ x1 + x2 + grp", family="binomial", cluster="cluster")
    _assert_close(_se(res), ref("logit", "se_cluster_HC0"), RTOL, "glm cluster")


def test_public_glms_match_r(test_data, ref):
    infert = test_data("regression_infert.csv")
    res = fit_regression(infert, "case ~ spontaneous + induced + age", family="binomial")
    _assert_close(res.coef(), ref("logit_infert", "coef"), RTOL, "coef")
    _assert_close(_se(res), ref("logit_infert", "se_nonrobust"), RTOL, "se")
    rc = fit_regression(
        infert, "case ~ spontaneous + induced + age", family="binomial", cluster="stratum"
    )
    _assert_close(_se(rc), ref("logit_infert", "se_cluster_HC0"), RTOL, "cluster")
    warp = test_data("regression_warpbreaks.csv")
    res = fit_regression(warp, "breaks ~ wool + tension", family="poisson")
    _assert_close(res.coef(), ref("poisson_warp", "coef"), RTOL, "coef")
    for ct in ("model", "HC0", "HC3"):
        _assert_close(_se(res.with_cov_type(ct)), ref("poisson_warp", _se_key(ct)), RTOL, ct)


@pytest.mark.parametrize("model", ["nb_quine", "nb_sim"])
def test_negative_binomial_theta_matches_glm_nb(sim, model, test_data, ref):
    if model == "nb_quine":
        data = test_data("regression_quine.csv")
        res = fit_regression(data, "Days ~ Eth + Sex + Age + Lrn", family="negative_binomial")
    else:
        res = fit_regression(sim, "y_nb ~ x1 + x2 + grp", family="negative_binomial")
    _assert_close(res.coef(), ref(model, "coef"), RTOL, "coef")
    _assert_close(_se(res), ref(model, "se_nonrobust"), RTOL, "se")
    _assert_close(_se(res.with_cov_type("HC0")), ref(model, "se_HC0"), RTOL, "HC0")
    th = ref(model, "theta")
    gl = res.glance().iloc[0]
    assert gl["theta"] == pytest.approx(th["theta"], rel=RTOL)
    assert gl["theta_se"] == pytest.approx(th["theta_se_mle"], rel=RTOL)
    assert gl["theta_se"] == pytest.approx(th["theta_se"], rel=THETA_SE_GLMNB_RTOL)
    g = ref(model, "glance")
    assert gl["loglik"] == pytest.approx(g["loglik"], rel=RTOL)
    assert gl["aic"] == pytest.approx(g["aic"], rel=RTOL)
    assert gl["bic"] == pytest.approx(g["bic"], rel=RTOL)
    assert gl["converged"]


ZI_CASES = [("zip", "zip", None), ("zinb", "zinb", None), ("zinb1", "zinb", "~ ment")]


@pytest.mark.parametrize("model,family,zf", ZI_CASES, ids=[c[0] for c in ZI_CASES])
def test_zero_inflated_match_pscl(model, family, zf, test_data, ref):
    bio = test_data("regression_biochemists.csv")
    res = fit_regression(bio, "art ~ fem + mar + kid5 + phd + ment", family=family, zero_formula=zf)
    coef, se = ref(model, "coef"), ref(model, "se_nonrobust")
    names = [r_to_py(t) for t in coef.index]
    got_se = _se(res)[names].to_numpy()
    diff = np.abs(res.coef()[names].to_numpy() - coef.to_numpy())
    assert np.all(diff <= ZEROINFL_EST_SE_FRAC * se.to_numpy())
    np.testing.assert_allclose(got_se, se.to_numpy(), rtol=ZEROINFL_SE_RTOL)
    g = ref(model, "glance")
    gl = res.glance().iloc[0]
    assert gl["loglik"] == pytest.approx(g["loglik"], rel=ZEROINFL_LOGLIK_RTOL)
    assert gl["loglik"] >= g["loglik"] - 1e-7  # at least as good an optimum
    assert gl["aic"] == pytest.approx(g["aic"], rel=ZEROINFL_LOGLIK_RTOL)
    if family == "zinb":
        th = ref(model, "theta")
        assert gl["theta"] == pytest.approx(th["theta"], rel=ZEROINFL_SE_RTOL)
        # pscl reports SE(log theta); ours is SE(theta) = theta * SE(log theta)
        assert gl["theta_se"] / gl["theta"] == pytest.approx(th["theta_se"], rel=ZEROINFL_SE_RTOL)
    if model == "zip":
        # pscl's sandwich() for zip; (for zinb pscl's bread omits theta, so not comparable)
        hc0 = _se(res.with_cov_type("HC0"))[names].to_numpy()
        np.testing.assert_allclose(hc0, ref(model, "se_HC0").to_numpy(), rtol=2 * ZEROINFL_SE_RTOL)
    assert list(res.tidy()["term"][:6]) == [
        "Intercept",
        "fem[T.Women]",
        "mar[T.Single]",
        "kid5",
        "phd",
        "ment",
    ]


@pytest.mark.parametrize("model", ["clm_wine", "clm_sim"])
def test_ordinal_matches_clm(sim, model, test_data, ref):
    if model == "clm_wine":
        wine = test_data("regression_wine.csv")
        res = fit_regression(wine, "rating ~ temp + contact", family="ordinal_logit")
    else:
        res = fit_regression(sim, "y_ord ~ x1 + x2 + grp", family="ordinal_logit")
    # thresholds reported as clm's theta_j (logit P(Y <= j) = theta_j - x'b)
    _assert_close(res.coef(), ref(model, "coef"), RTOL, "coef")
    _assert_close(_se(res), ref(model, "se_nonrobust"), RTOL, "se")
    g = ref(model, "glance")
    assert res.glance().loc[0, "loglik"] == pytest.approx(g["loglik"], rel=RTOL)
    assert res.glance().loc[0, "aic"] == pytest.approx(g["aic"], rel=RTOL)


@pytest.mark.parametrize("model", ["poisson_off", "nb_off"])
def test_offset_matches_r(sim, model, ref):
    family = "poisson" if model == "poisson_off" else "negative_binomial"
    y = "y_count" if model == "poisson_off" else "y_nb"
    df = sim.assign(logw=np.log(sim["w"]))
    res = fit_regression(df, f"{y} ~ x1 + x2 + grp", family=family, offset="logw")
    _assert_close(res.coef(), ref(model, "coef"), RTOL, "coef")
    _assert_close(_se(res), ref(model, "se_nonrobust"), RTOL, "se")
    _assert_close(_se(res.with_cov_type("HC0")), ref(model, "se_HC0"), RTOL, "HC0")
    g = ref(model, "glance")
    assert res.glance().loc[0, "loglik"] == pytest.approx(g["loglik"], rel=RTOL)
    if model == "poisson_off":
        rc = fit_regression(
            df, f"{y} ~ x1 + x2 + grp", family=family, offset="logw", cluster="cluster"
        )
        _assert_close(_se(rc), ref(model, "se_cluster_HC0"), RTOL, "cluster")
    else:
        assert res.glance().loc[0, "theta"] == pytest.approx(ref(model, "theta")["theta"], rel=RTOL)
    # predictions are rates times exposure: doubling the exposure doubles the mean
    new = df.head(3)
    np.testing.assert_allclose(
        res.predict(new.assign(logw=new.logw + np.log(2))), 2 * res.predict(new), rtol=1e-12
    )


@pytest.fixture(scope="module")
def sample(test_data):
    d = test_data("regression_sample_pda.csv")
    return d


ARM = "C(arm, Treatment('MET'))"


def _arm(term):
    return {"(Intercept)": "Intercept", "armCBT": f"{ARM}[T.CBT]", "armTSF": f"{ARM}[T.TSF]"}[term]


def test_sample_cohort_fractional_and_poisson_match_r(sample, ref):
    from mutualaid_outcomes.errors import SmallSampleWarning

    m15 = sample[sample.month == 15]
    res = fit_regression(m15, f"pda ~ {ARM}", family="fractional_logit")
    coef = ref("sample_frac", "coef")
    np.testing.assert_allclose(res.coef()[[_arm(t) for t in coef.index]], coef, rtol=RTOL)
    hc0 = ref("sample_frac", "se_HC0")
    np.testing.assert_allclose(_se(res)[[_arm(t) for t in hc0.index]], hc0, rtol=RTOL)
    assert res.glance().loc[0, "n_dropped"] == m15["pda"].isna().sum()
    with pytest.warns(SmallSampleWarning, match="Only 9 clusters"):
        rc = fit_regression(m15, f"pda ~ {ARM}", family="fractional_logit", cluster="site")
    cl = ref("sample_frac", "se_cluster_HC0")
    np.testing.assert_allclose(_se(rc)[[_arm(t) for t in cl.index]], cl, rtol=RTOL)
    m3 = sample[sample.month == 3]
    res = fit_regression(m3, f"aa_meetings ~ {ARM}", family="poisson", cov_type="HC0")
    coef, hc0 = ref("sample_poisson", "coef"), ref("sample_poisson", "se_HC0")
    np.testing.assert_allclose(res.coef()[[_arm(t) for t in coef.index]], coef, rtol=RTOL)
    np.testing.assert_allclose(_se(res)[[_arm(t) for t in hc0.index]], hc0, rtol=RTOL)


def test_sample_cohort_nb_converges_where_glm_nb_fails(sample):
    # MASS::glm.nb diverges on this bimodal attendance distribution (theta.ml reaches
    # theta = 2e5, loglik -16293); the ML fit has theta ~ 0.49. Checked against
    # statsmodels' discrete NB2 maximised jointly over (beta, alpha) -- an independent
    # algorithm -- to its optimiser tolerance.
    import statsmodels.formula.api as smf

    m3 = sample[sample.month == 3].dropna(subset=["aa_meetings"])
    res = fit_regression(m3, f"aa_meetings ~ {ARM}", family="negative_binomial")
    nb = smf.negativebinomial(f"aa_meetings ~ {ARM}", m3).fit(disp=0, maxiter=500)
    g = res.glance().iloc[0]
    assert g["converged"]
    assert g["loglik"] == pytest.approx(nb.llf, rel=1e-10)
    assert g["loglik"] > -16293.0
    assert g["theta"] == pytest.approx(1 / nb.params["alpha"], rel=1e-5)
    np.testing.assert_allclose(res.coef(), nb.params.iloc[:3].to_numpy(), rtol=1e-6)


#: MASS::polr's covariance comes from optimHess (finite differences of its analytic
#: gradient), about 1e-6 relative from the exact Hessian; clm's is analytic
POLR_SE_RTOL = 1e-5


@pytest.mark.parametrize("model", ["clm_wine_w", "polr_wine_w"])
def test_weighted_ordinal_matches_polr_and_clm(model, test_data, r_reference):
    ref = r_reference("ordinal_weights", model=model)

    def values(quantity):
        rows = ref[ref["quantity"] == quantity]
        return pd.Series(rows["value"].to_numpy(), index=rows["term"].to_numpy())

    wine = test_data("regression_wine.csv")
    wine["w"] = 1 + np.arange(1, len(wine) + 1) % 3  # the weights of ordinal_weights.R
    res = fit_regression(wine, "rating ~ temp + contact", family="ordinal_logit", weights="w")
    coef = res.coef().to_numpy()
    np.testing.assert_allclose(coef, values("coef").to_numpy(), rtol=RTOL)
    se_tol = RTOL if model.startswith("clm") else POLR_SE_RTOL
    np.testing.assert_allclose(_se(res).to_numpy(), values("se_nonrobust").to_numpy(), rtol=se_tol)
    g = values("glance")
    assert res.glance().loc[0, "loglik"] == pytest.approx(g["loglik"], rel=RTOL)
    assert res.glance().loc[0, "aic"] == pytest.approx(g["aic"], rel=RTOL)
    assert res.nobs == len(wine)
    # whole-number weights are frequency weights: the same fit on the expanded rows
    long = wine.loc[wine.index.repeat(wine["w"])].reset_index(drop=True)
    expanded = fit_regression(long, "rating ~ temp + contact", family="ordinal_logit")
    np.testing.assert_allclose(coef, expanded.coef().to_numpy(), rtol=1e-6)
    np.testing.assert_allclose(_se(res).to_numpy(), _se(expanded).to_numpy(), rtol=1e-5)
