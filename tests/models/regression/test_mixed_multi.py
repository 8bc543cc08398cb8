"""fit_mixed with several random-effect terms (nested, crossed, interaction factors)
against R lme4 (tests/reference/mixed_multi.R -> mixed_multi.csv), and bad input."""

import re
import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, OptionError
from mutualaid_outcomes.models.regression.mixed import fit_mixed
from mutualaid_outcomes.tables import regression_table

RTOL = 1e-6  # linear mixed models: fixed effects, SEs, log-likelihood, AIC/BIC
# Variance components and conditional modes: as tests/models/regression/test_mixed.py,
# the optimum in theta is located to ~1e-7 relative by both optimisers.
VARCOMP_RTOL = 2e-6
GLMM_RTOL = 1e-5  # GLMM fixed effects, SDs/correlations, theta (as test_glmm.py)
# GLMM SEs come from the finite-difference Hessian of the deviance (lme4's deriv12,
# step 1e-4), as in test_glmm.py.
HESSIAN_SE_RTOL = 1e-4
LOGLIK_ATOL = 1e-6
# VerbAgg: the Laplace log-likelihood is flat in the fixed effects at the 1e-9 level;
# lme4's bobyqa, Nelder-Mead and nlopt BOBYQA restarted from its optimum (all at
# tolerances near 1e-12) move the intercept (-0.0866, SE 0.63) by up to 1.1e-5 while the
# log-likelihood changes by < 1e-8 (ours is 7e-9 above the best of them). Fixed effects
# are therefore compared to 1e-5 relative plus 1e-4 of their standard error.
COEF_SE_FRACTION = 1e-4
# Conditional modes of the Pixel model: lme4's modes of one dog move by 3.4e-6 relative
# with theta along a flat direction of the REML criterion (log-likelihoods agree to 5e-12).
RANEF_RTOL = 5e-6
# VerbAgg conditional modes: along the same flat direction the item modes shift with the
# intercept (by up to 1e-5 between lme4's optimisers), so they are compared to 2e-5
# absolute (modes range over +-2).
GLMM_RANEF_ATOL = 2e-5
# VerbAgg with a random slope of situ by id: the SEs of the intercept and Anger differ
# from vcov(glmer) by up to 1.7e-4 relative (the other four by < 5e-5). Both are
# finite-difference Hessians (lme4's deriv12 over all parameters at its optimum; ours
# differences the exact gradient in beta), taken at optima that differ along the flat
# direction above; not resolved further, hence a looser bound for this model only.
SLOPE_SE_RTOL = 3e-4

LMM = {
    "penicillin": ("mixed_penicillin.csv", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    "pastes": ("mixed_pastes.csv", "strength ~ 1 + (1 | batch/cask)"),
    "cake": ("mixed_cake.csv", "angle ~ C(recipe) + ctemp + (1 | recipe:replicate)"),
    "pixel": ("mixed_pixel.csv", "pixel ~ day + day2 + (day | dog) + (1 | dog:side)"),
}
GLMM = {
    "verbagg_crossed": "r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item)",
    "verbagg_slope": "r2 ~ Anger + Gender + btype + situ + (1 + situ | id) + (1 | item)",
}
# lme4 names the inner factor of 'batch/cask' 'cask:batch' (levels 'a:A').
R_GROUP = {"batch:cask": "cask:batch"}


def _load(test_data, file):
    d = test_data(file)
    if "temp" in d:
        d["ctemp"] = (d["temp"] - 200) / 10
    if "day" in d:
        d["day2"] = d["day"] ** 2 / 10
    return d


@pytest.fixture(scope="module")
def ref(r_reference):
    table = r_reference("mixed_multi")

    def get(model, quantity):
        r = table[(table.model == model) & (table.quantity == quantity)]
        return pd.Series(r.value.to_numpy(), index=r.term.to_numpy())

    return get


def _r_ranef(res, ref, model):
    """Our conditional modes in the order of lme4's ranef() rows."""
    r = ref(model, "ranef")
    ours = []
    for key in r.index:
        grp, var, level = key.split("|")
        term = next(t for t in res.re_terms if R_GROUP.get(t.group, t.group) == grp)
        col = next(
            c
            for c in term.ranef.columns
            if re.sub(r"\[T\.(.*)\]", r"\1", c).replace("Intercept", "(Intercept)") == var
        )
        labels = level.split(":")
        if grp in R_GROUP.values():
            labels = labels[::-1]
        idx = term.ranef.index
        if isinstance(idx, pd.MultiIndex):
            pos = [i for i, tup in enumerate(idx) if [str(x) for x in tup] == labels]
        else:
            pos = [i for i, x in enumerate(idx) if str(x) == labels[0]]
        ours.append(term.ranef[col].iloc[pos[0]])
    return np.array(ours), r.to_numpy()


@pytest.mark.parametrize("tag", ["reml", "ml"])
@pytest.mark.parametrize("name", list(LMM))
def test_lmm_matches_lmer(name, tag, test_data, ref):
    file, formula = LMM[name]
    d = _load(test_data, file)
    model = f"{name}_{tag}"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_mixed(d, formula, reml=tag == "reml")
    np.testing.assert_allclose(res.coef(), ref(model, "coef"), rtol=RTOL)
    np.testing.assert_allclose(np.sqrt(np.diag(res.vcov())), ref(model, "se"), rtol=RTOL)
    vc = res.variance_components()
    np.testing.assert_allclose(vc["variance"], ref(model, "vcov"), rtol=VARCOMP_RTOL)
    np.testing.assert_allclose(vc["sd_or_corr"], ref(model, "sdcor"), rtol=VARCOMP_RTOL)
    groups = [R_GROUP.get(g, g) for g in vc["group"]]
    assert groups == [k.split("|")[0] for k in ref(model, "vcov").index]
    gl = res.glance().iloc[0]
    g_ref = ref(model, "glance")
    for key in ("loglik", "aic", "bic"):
        assert gl[key] == pytest.approx(g_ref[key], rel=RTOL), key
    assert gl["sigma"] == pytest.approx(g_ref["sigma"], rel=VARCOMP_RTOL)
    assert gl["n"] == g_ref["n"] and gl["converged"] and not gl["singular"]
    ng = ref(model, "ngrps")
    assert {R_GROUP.get(t.group, t.group): t.n_levels for t in res.re_terms} == dict(ng.astype(int))
    ours, theirs = _r_ranef(res, ref, model)
    np.testing.assert_allclose(ours, theirs, rtol=RANEF_RTOL, atol=1e-9 * np.abs(theirs).max())
    head = d.head(6)
    np.testing.assert_allclose(res.predict(head), ref(model, "predict_marginal"), rtol=RTOL)
    np.testing.assert_allclose(
        res.predict(head, level="conditional"), ref(model, "predict_conditional"), rtol=RTOL
    )


def test_level_specific_prediction(test_data, ref):
    d = _load(test_data, "mixed_pastes.csv")
    res = fit_mixed(d, LMM["pastes"][1])
    np.testing.assert_allclose(
        res.predict(d.head(6), level="batch"), ref("pastes_reml", "predict_batch"), rtol=RTOL
    )
    both = res.predict(d.head(6), level=["batch", "batch:cask"])
    np.testing.assert_allclose(both, res.predict(d.head(6), level="conditional"), rtol=1e-12)
    new = pd.DataFrame({"batch": ["A", "Z"], "cask": ["a", "a"]})
    pred = res.predict(new, level="conditional")
    assert pred.iloc[1] == pytest.approx(float(res.coef()["Intercept"]))  # new level: zero
    with pytest.raises(OptionError, match="`level` must be"):
        res.predict(d, level="cask")
    with pytest.raises(DataValidationError, match="lacks the grouping column"):
        res.predict(d.drop(columns="cask"), level="conditional")


def test_results_per_term(test_data):
    d = _load(test_data, "mixed_pastes.csv")
    res = fit_mixed(d, LMM["pastes"][1])
    assert set(res.ranef_by_group) == {"batch", "batch:cask"}
    assert res.ranef_by_group["batch:cask"].index.names == ["batch", "cask"]
    assert list(res.ranef.columns) == ["group", "level", "term", "estimate"]
    assert len(res.ranef) == 10 + 30
    assert res.singular_terms == ()
    gl = res.glance().iloc[0]
    assert gl["n_groups"] == 30
    tab = regression_table({"pastes": res})
    text = tab.as_text() if hasattr(tab, "as_text") else str(tab)
    assert "batch:cask: SD (Intercept)" in text and "batch: SD (Intercept)" in text
    assert "Residual SD" in text
    assert "batch:cask: Intercept SD" in res.summary().as_text()
    # one grouping column through the formula is the single-factor engine, with an
    # interaction factor too; both agree with the general engine on the same model
    single = fit_mixed(d, "strength ~ 1 + (1 | batch:cask)")
    assert single.ranef.index.names == ["batch", "cask"]


def test_single_factor_paths_agree(test_data):
    """The batched one-factor engine and the several-term engine give the same fit."""
    d = _load(test_data, "mixed_pastes.csv")
    one = fit_mixed(d, "strength ~ 1 + (1 | batch:cask)")
    from mutualaid_outcomes.models.regression import _mixed_sparse as msp
    from mutualaid_outcomes.models.regression._mixed_formula import parse_random_terms
    from mutualaid_outcomes.models.regression._mixed_terms import ReStructure, term_blocks

    _, terms = parse_random_terms("y ~ (1 | batch:cask)")
    re = ReStructure(term_blocks(d, terms))
    X = np.ones((len(d), 1))
    st = msp.MultiStats.build(re, X, d["strength"].to_numpy(float))
    fit = msp.sparse_pls(np.array(one.theta), st, True)
    assert -0.5 * fit.deviance == pytest.approx(one.glance().loc[0, "loglik"], rel=1e-12)


def test_singular_term_flagged():
    rng = np.random.default_rng(5)
    n_site, n_id, n_obs = 6, 8, 4
    site = np.repeat(np.arange(n_site), n_id * n_obs)
    pid = np.repeat(np.arange(n_site * n_id), n_obs)
    y = np.repeat(rng.normal(0, 1, n_site * n_id), n_obs) + rng.normal(0, 1, len(pid))
    df = pd.DataFrame({"site": site, "id": pid % n_id, "y": y})  # no site variance
    with pytest.warns(Warning, match="[Ss]ingular"):
        res = fit_mixed(df, "y ~ 1 + (1 | site/id)")
    assert res.singular_terms == ("site",)
    assert res.glance().loc[0, "singular"]
    assert "'site'" in res.glance().loc[0, "message"] or "site" in res.glance().loc[0, "message"]


def test_bad_input(test_data):
    d = _load(test_data, "mixed_penicillin.csv")
    with pytest.raises(DataValidationError, match="'sample' .* single level"):
        fit_mixed(d[d["sample"] == "A"], "diameter ~ 1 + (1 | plate) + (1 | sample)")
    with pytest.raises(DataValidationError, match="'plate:sample' has 144 levels for 144 rows"):
        fit_mixed(d, "diameter ~ 1 + (1 | plate/sample)")
    # lme4 refuses as many random effects as rows in one term: 24 plates x 6 effects
    with pytest.raises(DataValidationError, match="check.nobs.vs.nRE"):
        dummies = pd.get_dummies(d["sample"], prefix="s", dtype=float)
        f = "diameter ~ 1 + (1 + s_B + s_C + s_D + s_E + s_F | plate) + (1 | sample)"
        fit_mixed(pd.concat([d, dummies], axis=1), f)
    # ids numbered within sites for most people, but two ids shared by two sites
    rng = np.random.default_rng(3)
    site = np.repeat(np.arange(5), 40)
    pid = np.repeat(np.arange(50), 4)
    pid[pid == 9] = 10  # person 10 of site 1 and person 9 of site 0 share an id
    df = pd.DataFrame({"site": site, "id": pid, "y": rng.normal(size=200)})
    with pytest.raises(DataValidationError, match="'id' is nested in 'site' for 48 of its 49"):
        fit_mixed(df, "y ~ 1 + (1 | site) + (1 | id)")
    fit_mixed(df, "y ~ 1 + (1 | site/id)")  # declared nesting: site:id levels, no error
    with pytest.raises(OptionError, match="mixes '/' and ':'"):
        fit_mixed(d, "diameter ~ 1 + (1 | plate/sample:x)")
    with pytest.raises(OptionError, match="several random-effect terms on the grouping"):
        fit_mixed(d, "diameter ~ 1 + (1 | plate) + (1 | plate)")
    with pytest.raises(OptionError, match="single scalar random effect"):
        fit_mixed(
            d.assign(k=(d["diameter"] > 23).astype(int)),
            "k ~ 1 + (1 | plate) + (1 | sample)",
            family="binomial",
            n_agq=5,
        )


@pytest.mark.parametrize(
    "model", ["verbagg_crossed", pytest.param("verbagg_slope", marks=pytest.mark.slow)]
)
def test_glmm_matches_glmer(model, test_data, ref):
    d = test_data("glmm_verbagg100.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = fit_mixed(d, GLMM[model], family="binomial")
    names = [
        "Intercept",
        "Anger",
        "Gender[T.M]",
        "btype[T.scold]",
        "btype[T.shout]",
        "situ[T.self]",
    ]
    se = np.sqrt(np.diag(res.vcov().loc[names, names]))
    diff = np.abs(res.coef()[names].to_numpy() - ref(model, "coef").to_numpy())
    assert np.all(diff <= GLMM_RTOL * np.abs(ref(model, "coef").to_numpy()) + COEF_SE_FRACTION * se)
    se_rtol = SLOPE_SE_RTOL if model == "verbagg_slope" else HESSIAN_SE_RTOL
    np.testing.assert_allclose(se, ref(model, "se"), rtol=se_rtol)
    vc = res.variance_components()
    np.testing.assert_allclose(vc["sd_or_corr"], ref(model, "sdcor"), rtol=GLMM_RTOL)
    gl = res.glance().iloc[0]
    r_ll = ref(model, "glance")["loglik"]
    assert gl["loglik"] >= r_ll - LOGLIK_ATOL  # ours the same or the better maximum
    assert gl["loglik"] == pytest.approx(r_ll, abs=1e-4)
    assert gl["method"] == "Laplace" and gl["converged"]
    ours, theirs = _r_ranef(res, ref, model)
    np.testing.assert_allclose(ours, theirs, rtol=GLMM_RTOL, atol=GLMM_RANEF_ATOL)
    pred = res.predict(d.head(6), level="conditional")
    np.testing.assert_allclose(pred, ref(model, "predict_conditional"), rtol=GLMM_RTOL)


@pytest.mark.parametrize("path", ["schur", "superlu"])
def test_factorisation_paths_match_lmer(path, monkeypatch, test_data, ref):
    """Schur complement and SuperLU factorisations (used for larger models) on Penicillin."""
    from mutualaid_outcomes.models.regression import _mixed_sparse as msp

    monkeypatch.setattr(msp, "SMALL_DENSE_RE", 0)  # never the small dense path
    if path == "superlu":
        monkeypatch.setattr(msp, "DENSE_MAX_RE", 0)
    d = _load(test_data, "mixed_penicillin.csv")
    res = fit_mixed(d, LMM["penicillin"][1])
    np.testing.assert_allclose(res.coef(), ref("penicillin_reml", "coef"), rtol=RTOL)
    np.testing.assert_allclose(
        np.sqrt(np.diag(res.vcov())), ref("penicillin_reml", "se"), rtol=RTOL
    )
    vc = res.variance_components()["variance"]
    np.testing.assert_allclose(vc, ref("penicillin_reml", "vcov"), rtol=VARCOMP_RTOL)
    loglik = res.glance().loc[0, "loglik"]
    assert loglik == pytest.approx(ref("penicillin_reml", "glance")["loglik"], rel=RTOL)
