"""fit_gee against R geepack (tests/reference/gee.R -> gee.csv), statsmodels and bad input."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    EstimationError,
    OptionError,
    SmallSampleWarning,
)
from mutualaid_outcomes.models.regression.gee import GEE_GLANCE_COLUMNS, fit_gee
from mutualaid_outcomes.results import TIDY_COLUMNS

# Same estimating equations and moment estimators as geepack, both iterated to
# convergence (geepack epsilon = 1e-12, ours 1e-10 on the parameter change).
RTOL = 1e-6


@pytest.fixture(scope="module")
def ref(r_reference):
    """R values of tests/reference/gee.csv for one model and quantity."""
    table = r_reference("gee")

    def get(model, quantity):
        r = table[(table.model == model) & (table.quantity == quantity)]
        return pd.Series(r.value.to_numpy(), index=r.term.to_numpy())

    return get


def _py(term):
    return (
        term.replace("(Intercept)", "Intercept")
        .replace("treatP", "treat[T.P]")
        .replace("sexM", "sex[T.M]")
    )


@pytest.fixture(scope="module")
def ohio(test_data):
    d = test_data("gee_ohio.csv")
    return d.assign(wave=d.age + 3)


@pytest.fixture(scope="module")
def dropout(test_data):
    d = test_data("regression_gee_dropout.csv")
    return d.assign(wave=d.month // 3 + 1)


@pytest.fixture(scope="module")
def resp(test_data):
    d = test_data("gee_respiratory.csv")
    return d.assign(pid=d.center * 1000 + d.id)


CASES = [(f"ohio_{cs}", cs) for cs in ("independence", "exchangeable", "ar1", "unstructured")]
CASES += [(f"resp_{cs}", cs) for cs in ("exchangeable", "ar1")]
CASES += [
    (f"drop_{f}_{cs}", cs)
    for f in ("gauss", "bin", "pois")
    for cs in ("independence", "exchangeable", "ar1")
]


@pytest.mark.parametrize("model,cs", CASES, ids=[c[0] for c in CASES])
def test_matches_geepack(model, cs, ohio, dropout, resp, ref):
    if model.startswith("ohio"):
        res = fit_gee(
            ohio, "resp ~ age + smoke", id="id", time="wave", family="binomial", cov_struct=cs
        )
    elif model.startswith("resp"):
        res = fit_gee(
            resp,
            "outcome ~ treat + sex + age + baseline",
            id="pid",
            time="visit",
            family="binomial",
            cov_struct=cs,
        )
    else:
        fam = model.split("_")[1]
        y, family = {
            "gauss": ("y", "gaussian"),
            "bin": ("yb", "binomial"),
            "pois": ("yc", "poisson"),
        }[fam]
        res = fit_gee(
            dropout, f"{y} ~ arm + x + month", id="id", time="wave", family=family, cov_struct=cs
        )
    coef = ref(model, "coef")
    names = [_py(t) for t in coef.index]
    np.testing.assert_allclose(res.coef()[names], coef.to_numpy(), rtol=RTOL)
    se = pd.Series(np.sqrt(np.diag(res.vcov())), index=res.coef().index)[names]
    np.testing.assert_allclose(se, ref(model, "se_robust").to_numpy(), rtol=RTOL)
    naive = res.with_cov_type("model")
    se_n = pd.Series(np.sqrt(np.diag(naive.vcov())), index=res.coef().index)[names]
    np.testing.assert_allclose(se_n, ref(model, "se_naive").to_numpy(), rtol=RTOL)
    alpha = ref(model, "alpha")
    if len(alpha):
        np.testing.assert_allclose(res.working_correlation, alpha.to_numpy(), rtol=RTOL)
    g = ref(model, "glance")
    gl = res.glance().iloc[0]
    assert gl["scale"] == pytest.approx(g["scale"], rel=RTOL)
    assert gl["qic"] == pytest.approx(g["qic"], rel=RTOL)
    assert gl["qicu"] == pytest.approx(g["qicu"], rel=RTOL)
    assert gl["quasi_loglik"] == pytest.approx(g["quasi"], rel=RTOL)
    assert gl["n_clusters"] == g["n_clusters"] and gl["n"] == g["n"]
    assert gl["converged"]


def test_dropout_cohort_has_small_clusters(dropout):
    sizes = dropout.groupby("id").size()
    assert (sizes == 2).sum() > 20 and (sizes == 1).sum() > 10


def test_ar1_spacing_in_time_units(dropout):
    # months are 3 x the visit index: alpha per month = alpha per visit ** (1/3)
    by_visit = fit_gee(dropout, "y ~ arm + x + month", id="id", time="wave", cov_struct="ar1")
    by_month = fit_gee(dropout, "y ~ arm + x + month", id="id", time="month", cov_struct="ar1")
    np.testing.assert_allclose(by_month.coef(), by_visit.coef(), rtol=1e-8)
    a_m = by_month.working_correlation.iloc[0]
    assert a_m**3 == pytest.approx(by_visit.working_correlation.iloc[0], rel=1e-8)


def test_ar1_pairs_and_negative_correlation():
    # every cluster has two visits one unit apart and negatively correlated errors:
    # AR(1) and exchangeable then coincide, and alpha < 0 is estimated
    rng = np.random.default_rng(8)
    G = 300
    u = rng.normal(size=G)
    e = np.column_stack([u, -u]) * 0.8 + rng.normal(0, 0.6, (G, 2))
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(G), 2),
            "t": np.tile([0, 1], G),
            "x": rng.normal(size=2 * G),
        }
    )
    df["y"] = 1 + 0.5 * df["x"] + e.ravel()
    ar = fit_gee(df, "y ~ x", id="id", time="t", cov_struct="ar1")
    ex = fit_gee(df, "y ~ x", id="id", time="t", cov_struct="exchangeable")
    assert ar.working_correlation.iloc[0] < -0.3
    assert ar.working_correlation.iloc[0] == pytest.approx(ex.working_correlation.iloc[0], rel=1e-8)
    np.testing.assert_allclose(ar.coef(), ex.coef(), rtol=1e-8)
    np.testing.assert_allclose(ar.vcov(), ex.vcov(), rtol=1e-8)


def test_bias_reduced_matches_statsmodels(dropout):
    res = fit_gee(
        dropout,
        "yb ~ arm + x + month",
        id="id",
        time="wave",
        family="binomial",
        cov_struct="independence",
        cov_type="bias_reduced",
    )
    assert res.cov_type == "bias_reduced"
    sm_res = sm.GEE.from_formula(
        "yb ~ arm + x + month",
        groups="id",
        data=dropout,
        family=sm.families.Binomial(),
        cov_struct=sm.cov_struct.Independence(),
    ).fit(cov_type="bias_reduced", ctol=1e-12)
    np.testing.assert_allclose(res.coef(), sm_res.params, rtol=1e-8)
    np.testing.assert_allclose(res.vcov().to_numpy(), sm_res.cov_params().to_numpy(), rtol=1e-6)
    robust = res.with_cov_type("robust")
    assert np.all(np.diag(res.vcov()) > np.diag(robust.vcov()))


def test_contract(dropout):
    before = dropout.copy()
    res = fit_gee(dropout, "yc ~ arm + x", id="id", family="poisson")
    pd.testing.assert_frame_equal(dropout, before)
    assert tuple(res.tidy().columns) == TIDY_COLUMNS
    assert tuple(res.glance().columns) == GEE_GLANCE_COLUMNS
    rr = res.tidy(exponentiate=True)
    np.testing.assert_allclose(rr["estimate"], np.exp(res.coef()))
    assert "<table" in res.summary().as_html()
    p = res.predict(dropout.head(4))
    np.testing.assert_allclose(p, np.exp(res.predict(dropout.head(4), type="link")))
    other = res.with_cov_type("model")
    assert other.cov_type == "model" and res.cov_type == "robust"
    with pytest.raises(OptionError, match="`cov_type='naive'` was renamed 'model'"):
        res.with_cov_type("naive")


def test_unstructured_names(ohio):
    res = fit_gee(
        ohio, "resp ~ smoke", id="id", time="age", family="binomial", cov_struct="unstructured"
    )
    assert list(res.working_correlation.index)[:2] == ["alpha[-2,-1]", "alpha[-2,0]"]
    assert np.isnan(res.glance().loc[0, "alpha"])


def test_missing_rows_reported(dropout):
    df = dropout.copy()
    df.loc[[0, 5], "x"] = np.nan
    df.loc[[7], "month"] = np.nan
    res = fit_gee(df, "y ~ arm + x", id="id", time="month", cov_struct="ar1")
    assert res.glance().loc[0, "n_dropped"] == 3
    assert res.missing.missing_by_column["month"] == 1


def test_bad_input(dropout):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'arm'"):
        fit_gee(dropout, "y ~ armm", id="id")
    with pytest.raises(ColumnNotFoundError, match="`id`"):
        fit_gee(dropout, "y ~ arm", id="idd")
    with pytest.raises(ArgumentTypeError, match="`groups`, which was renamed `id`"):
        fit_gee(dropout, "y ~ arm", groups="id")
    with pytest.raises(ArgumentTypeError, match="renamed cov_type='bias_reduced'"):
        fit_gee(dropout, "y ~ arm", id="id", small_sample="mancl_derouen")
    with pytest.raises(ArgumentTypeError, match="takes the data first"):
        fit_gee("y ~ arm", dropout, id="id")
    with pytest.raises(DataValidationError, match="single cluster"):
        fit_gee(dropout.assign(one=1), "y ~ arm", id="one")
    with pytest.raises(DataValidationError, match="repeating a"):
        fit_gee(dropout.assign(t=0), "y ~ arm", id="id", time="t")
    with pytest.raises(DataValidationError, match="coded 0/1"):
        fit_gee(dropout, "yc ~ arm", id="id", family="binomial")
    with pytest.raises(DataValidationError, match="No cluster has two"):
        fit_gee(dropout.drop_duplicates("id"), "y ~ arm", id="id", cov_struct="ar1")
    with pytest.raises(OptionError, match="cov_struct"):
        fit_gee(dropout, "y ~ arm", id="id", cov_struct="toeplitz")
    with pytest.raises(EstimationError, match="No rows"):
        fit_gee(dropout.assign(y=np.nan), "y ~ arm", id="id")
    small = dropout[dropout.id <= 6]
    with pytest.warns(SmallSampleWarning, match="cov_type=.bias_reduced."):
        fit_gee(small, "y ~ arm", id="id")


def test_sample_cohort_pda_matches_geepack(test_data, ref):
    d = test_data("regression_sample_pda.csv")
    arm = "C(arm, Treatment('MET'))"
    for cs in ("exchangeable", "ar1"):
        model = f"sample_pda_{cs}"
        res = fit_gee(
            d.assign(wave=d.month // 3 + 1),
            f"pda ~ {arm} + month",
            id="id",
            time="wave",
            cov_struct=cs,
        )
        names = ["Intercept", f"{arm}[T.CBT]", f"{arm}[T.TSF]", "month"]
        np.testing.assert_allclose(res.coef()[names], ref(model, "coef").to_numpy(), rtol=RTOL)
        se = pd.Series(np.sqrt(np.diag(res.vcov())), index=res.coef().index)[names]
        np.testing.assert_allclose(se, ref(model, "se_robust").to_numpy(), rtol=RTOL)
        np.testing.assert_allclose(
            res.working_correlation, ref(model, "alpha").to_numpy(), rtol=RTOL
        )
        g = res.glance().iloc[0]
        assert g["n_dropped"] == d["pda"].isna().sum() and g["n"] == ref(model, "glance")["n"]
        assert g["qic"] == pytest.approx(ref(model, "glance")["qic"], rel=RTOL)


def test_marginal_effects_match_cluster_robust_glm(dropout):
    # independence GEE = GLM; its robust covariance is the cluster sandwich without the
    # G / (G - 1) factor, so the AME SEs differ by exactly sqrt(G / (G - 1))
    from mutualaid_outcomes.models.regression.glm import fit_regression

    gee = fit_gee(
        dropout, "yb ~ arm + x + month", id="id", family="binomial", cov_struct="independence"
    )
    glm = fit_regression(
        dropout, "yb ~ arm + x + month", family="binomial", cluster="id", cluster_type="HC0"
    )
    a, b = gee.marginal_effects().tidy(), glm.marginal_effects().tidy()
    G = gee.n_clusters
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-8)
    np.testing.assert_allclose(a["std_error"] * np.sqrt(G / (G - 1)), b["std_error"], rtol=1e-6)
    assert list(a["term"]) == ["arm", "x", "month"]


def test_non_convergence_recorded_and_warned(dropout, monkeypatch):
    from mutualaid_outcomes.errors import ConvergenceWarning
    from mutualaid_outcomes.models.regression import _gee_solver

    monkeypatch.setattr(_gee_solver, "GEE_MAXITER", 1)
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = fit_gee(dropout, "y ~ arm + x", id="id", time="wave", cov_struct="ar1")
    g = res.glance().iloc[0]
    assert not g["converged"] and "not converged after 1 iterations" in g["message"]


def test_sandwiches_against_per_cluster_loop(dropout):
    """Batched padded computation vs a plain loop over clusters of unequal size."""
    from scipy import special

    res = fit_gee(
        dropout,
        "yb ~ arm + x + month",
        id="id",
        time="wave",
        family="binomial",
        cov_struct="ar1",
        cov_type="bias_reduced",
    )
    a = res.working_correlation.iloc[0]
    b = res.coef().to_numpy()
    p = len(b)
    A = np.zeros((p, p))
    meat_r = np.zeros((p, p))
    meat_md = np.zeros((p, p))
    parts = []
    for _, g in dropout.sort_values(["id", "wave"]).groupby("id"):
        X = np.column_stack([np.ones(len(g)), g[["arm", "x", "month"]].to_numpy(float)])
        mu = special.expit(X @ b)
        s = np.sqrt(mu * (1 - mu))
        D = (s[:, None]) * X  # dmu/deta / sd = sd for the logit link
        r = (g["yb"].to_numpy() - mu) / s
        t = g["wave"].to_numpy(float)
        R = a ** np.abs(t[:, None] - t[None, :])
        Ri = np.linalg.inv(R)
        A += D.T @ Ri @ D
        parts.append((D, Ri, r))
    Ainv = np.linalg.inv(A)
    for D, Ri, r in parts:
        u = D.T @ Ri @ r
        meat_r += np.outer(u, u)
        H = D @ Ainv @ D.T @ Ri
        u_md = D.T @ Ri @ np.linalg.solve(np.eye(len(r)) - H, r)
        meat_md += np.outer(u_md, u_md)
    np.testing.assert_allclose(res.vcov().to_numpy(), Ainv @ meat_md @ Ainv, rtol=1e-8)
    robust = res.with_cov_type("robust").vcov().to_numpy()
    np.testing.assert_allclose(robust, Ainv @ meat_r @ Ainv, rtol=1e-8)
    naive = res.with_cov_type("model").vcov().to_numpy()
    np.testing.assert_allclose(naive, res.scale * Ainv, rtol=1e-8)
