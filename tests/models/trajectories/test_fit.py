"""fit_trajectories: results contract, classification output, recovery of a known model."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models.trajectories import (
    TRAJECTORY_GLANCE_COLUMNS,
    fit_trajectories,
    simulate_trajectories,
)
from mutualaid_outcomes.results import TIDY_COLUMNS


@pytest.fixture(scope="module")
def gauss(sim):
    df, cls = sim(np.random.default_rng(11), "gaussian", n=600)
    res = fit_trajectories(df, "id", "time", "y", 3, n_starts=10, rng=5)
    return df, cls, res


def test_contract(gauss):
    df, _, res = gauss
    tidy = res.tidy()
    assert list(tidy.columns[:7]) == list(TIDY_COLUMNS)
    assert list(tidy.columns[7:]) == ["class", "part"]
    assert list(res.glance().columns) == list(TRAJECTORY_GLANCE_COLUMNS)
    # coefficient protocol
    assert res.terms == tuple(tidy["term"])
    pd.testing.assert_series_equal(res.coef(), res.params, check_names=False)
    assert res.vcov().shape == (len(res.terms), len(res.terms))
    assert list(res.vcov().index) == list(res.terms)
    assert res.nobs == len(df) and res.df_resid is None
    np.testing.assert_allclose(tidy["std_error"], np.sqrt(np.diag(res.vcov())))
    text = str(res.summary())
    assert "Group-based trajectory model" in text and "AvePP" in text
    assert "<table" in res._repr_html_()
    with pytest.raises(Exception, match="exponentiate"):
        res.tidy(exponentiate=True)


def test_glance_conventions(gauss):
    _, _, res = gauss
    g = res.glance().iloc[0]
    k, ll, n, n_obs = g["df"], g["loglik"], g["n"], g["n_obs"]
    assert k == 3 * 3 + 1 + 2  # coefficients, common sigma, two membership logits
    assert g["aic"] == pytest.approx(-2 * ll + 2 * k)
    assert g["bic"] == pytest.approx(-2 * ll + k * np.log(n))
    assert g["aic_traj"] == pytest.approx(ll - k)
    assert g["bic_traj"] == pytest.approx(ll - 0.5 * k * np.log(n))
    assert g["bic_traj_obs"] == pytest.approx(ll - 0.5 * k * np.log(n_obs))
    assert g["converged"] and not g["possibly_local"]
    assert g["n_starts"] == 10 and g["n_starts_best"] >= 2 and g["seed"] == 5
    assert 0 < g["entropy"] <= 1
    assert g["smallest_class"] == pytest.approx(res.class_table()["share"].min())


def test_posterior_and_class_table(gauss):
    _, _, res = gauss
    post = res.posterior
    probs = post[[f"prob_class{k}" for k in (1, 2, 3)]].to_numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    np.testing.assert_array_equal(post["class"], probs.argmax(axis=1) + 1)
    tab = res.class_table()
    modal = probs.argmax(axis=1)
    for k in range(3):
        sel = modal == k
        assert tab.loc[k, "n_assigned"] == sel.sum()
        assert tab.loc[k, "avepp"] == pytest.approx(probs[sel, k].mean())
        pk = res.shares[k]
        odds = tab.loc[k, "avepp"] / (1 - tab.loc[k, "avepp"])
        assert tab.loc[k, "occ"] == pytest.approx(odds / (pk / (1 - pk)))
    # without covariates the estimated shares are the softmax of the membership logits
    logits = np.r_[0.0, res.params.filter(like="membership").to_numpy()]
    np.testing.assert_allclose(res.shares, np.exp(logits) / np.exp(logits).sum(), rtol=1e-6)
    assert res.assignments().loc[post[res.id].iloc[0]] == post["class"].iloc[0]


def test_parameter_recovery(gauss, ari, truth):
    """Shares, shapes and membership of a known 3-class model (N = 600, 6 waves, 10% missing)."""
    _, cls, res = gauss
    est = np.array(
        [
            [res.params[f"class{k}:{t}"] for t in ("(Intercept)", "time", "time^2")]
            for k in (1, 2, 3)
        ]
    )
    coefs = truth["coefs"]["gaussian"]  # classes already ordered by level, lowest first
    se = np.array(
        [[res.tidy().set_index("term").loc[f"class{k}:{t}", "std_error"]
          for t in ("(Intercept)", "time", "time^2")] for k in (1, 2, 3)]
    )  # fmt: skip
    z = np.abs(est - coefs) / se
    assert z.max() < 4, f"coefficient error (in SEs): {z.round(2)}"
    assert np.abs(res.shares - truth["shares"]).max() < 0.05
    assert res.params["sigma"] == pytest.approx(1.0, abs=0.05)
    index = ari(cls, res.posterior["class"].to_numpy())
    assert index > 0.95, f"adjusted Rand index {index:.3f}"


@pytest.mark.parametrize("family", ["poisson", "zip", "logit", "cnorm"])
def test_recovery_other_families(family, sim, ari, truth):
    n = 800 if family == "logit" else 500
    df, cls = sim(np.random.default_rng(3), family, n=n, sigma=8.0)
    kw = {"lower": 0.0, "upper": 100.0} if family == "cnorm" else {}
    res = fit_trajectories(df, "id", "time", "y", 3, family=family, n_starts=8, rng=2, **kw)
    coefs = truth["coefs"][family]
    tidy = res.tidy().set_index("term")
    for k in (1, 2, 3):
        for j, t in enumerate(("(Intercept)", "time", "time^2")):
            row = tidy.loc[f"class{k}:{t}"]
            assert abs(row["estimate"] - coefs[k - 1, j]) < 4.5 * row["std_error"], (k, t)
    assert np.abs(res.shares - truth["shares"]).max() < 0.06
    threshold = {"logit": 0.6, "cnorm": 0.9, "poisson": 0.8, "zip": 0.75}[family]
    assert ari(cls, res.posterior["class"].to_numpy()) > threshold
    if family == "zip":
        p = 1 / (1 + np.exp(-res.params.filter(like="zero").to_numpy()))
        assert np.all(np.abs(p - 0.2) < 0.12)


def test_reproducible_and_worker_independent(sim):
    df, _ = sim(np.random.default_rng(4), "poisson", n=200)
    a = fit_trajectories(df, "id", "time", "y", 2, family="poisson", n_starts=4, rng=9)
    b = fit_trajectories(df, "id", "time", "y", 2, family="poisson", n_starts=4, rng=9, n_jobs=2)
    pd.testing.assert_frame_equal(a.starts, b.starts)
    pd.testing.assert_series_equal(a.params, b.params)


def test_degree_per_class_and_covariates(sim):
    rng = np.random.default_rng(8)
    df, cls = sim(rng, "gaussian", n=500)
    x = rng.normal(size=500)
    df["x"] = x[df["id"]]
    # membership depends on x: regenerate classes with a strong covariate effect
    res = fit_trajectories(
        df, "id", "time", "y", 3, degree=[0, 2, 2], covariates="x", n_starts=6, rng=1
    )
    terms = res.terms
    assert "class1:time" not in terms and "class2:time^2" in terms
    assert "membership:class2:x" in terms and "membership:class3:x" in terms
    assert res.glance()["degree"].iloc[0] == "0,2,2"
    # x is unrelated to class here: its coefficients are near zero
    t = res.tidy().set_index("term")
    assert abs(t.loc["membership:class2:x", "statistic"]) < 4


def test_membership_covariate_recovered():
    rng = np.random.default_rng(21)
    n, times = 800, np.arange(5.0)
    x = rng.normal(size=n)
    p2 = 1 / (1 + np.exp(-(-0.2 + 1.0 * x)))
    cls = (rng.random(n) < p2).astype(int)
    y = np.where(cls[:, None] == 1, 5.0 + 0.5 * times, 1.0 + 0.0 * times)
    y = y + rng.normal(size=y.shape)
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 5), "t": np.tile(times, n), "y": y.ravel()})
    df["x"] = x[df["id"]] * 10 + 3  # a covariate on another scale
    res = fit_trajectories(df, "id", "t", "y", 2, degree=1, covariates=["x"], n_starts=4, rng=1)
    t = res.tidy().set_index("term")
    slope = t.loc["membership:class2:x"]
    intercept = t.loc["membership:class2:(Intercept)"]
    assert abs(slope["estimate"] - 0.1) < 3 * slope["std_error"]
    assert abs(intercept["estimate"] - (-0.2 - 0.3)) < 3 * intercept["std_error"]


def test_time_varying_covariate(sim):
    rng = np.random.default_rng(12)
    df, cls = sim(rng, "gaussian", n=400)
    df["w"] = rng.normal(size=len(df))
    effect = np.array([0.5, -1.0, 2.0])[cls[df["id"]]]
    df["y"] = df["y"] + effect * df["w"]
    res = fit_trajectories(df, "id", "time", "y", 3, tv_covariates=["w"], n_starts=6, rng=3)
    t = res.tidy().set_index("term")
    for k, e in zip((1, 2, 3), (0.5, -1.0, 2.0)):
        row = t.loc[f"class{k}:w"]
        assert abs(row["estimate"] - e) < 4 * row["std_error"]


def test_unbalanced_panels_and_missing_rows(sim):
    rng = np.random.default_rng(13)
    df, _ = sim(rng, "gaussian", n=300, missing=0.4)
    df.loc[df.sample(30, random_state=1).index, "y"] = np.nan
    before = df.copy()
    res = fit_trajectories(df, "id", "time", "y", 3, n_starts=5, rng=1)
    pd.testing.assert_frame_equal(df, before)  # caller's frame untouched
    g = res.glance().iloc[0]
    assert g["n_dropped"] == 30 and g["n_obs"] == len(df) - 30
    assert "30 excluded" in res.missing.describe()


def test_predict_and_observed_means(gauss):
    _, _, res = gauss
    pred = res.predict(times=[0.0, 2.5, 5.0])
    est = pred.pivot(index="time", columns="class", values="estimate")
    for k in (1, 2, 3):
        b = [res.params[f"class{k}:{t}"] for t in ("(Intercept)", "time", "time^2")]
        np.testing.assert_allclose(est[k], [b[0] + b[1] * t + b[2] * t * t for t in est.index])
    assert (pred["conf_low"] < pred["estimate"]).all() and (
        pred["estimate"] < pred["conf_high"]
    ).all()
    obs = res.observed_means()
    assert set(obs.columns) == {"class", "time", "n", "mean"}
    sub = res._panel
    modal = res.posterior["class"].to_numpy()[sub.person]
    sel = (modal == 2) & (sub.time == 3.0)
    row = obs[(obs["class"] == 2) & (obs["time"] == 3.0)].iloc[0]
    assert row["mean"] == pytest.approx(sub.y[sel].mean()) and row["n"] == sel.sum()


def test_simulate_trajectories_refit(gauss):
    _, _, res = gauss
    sim_df = simulate_trajectories(res, rng=3)
    refit = fit_trajectories(sim_df, "id", "time", "y", 3, n_starts=5, rng=1)
    z = (refit.params - res.params) / res.tidy().set_index("term")["std_error"]
    assert np.abs(z).max() < 4.5


def test_one_class_is_a_single_growth_curve(sim):
    import statsmodels.api as sm

    df, _ = sim(np.random.default_rng(6), "poisson", n=150)
    res = fit_trajectories(df, "id", "time", "y", 1, family="poisson", n_starts=7, rng=1)
    X = np.column_stack([np.ones(len(df)), df["time"], df["time"] ** 2])
    glm = sm.GLM(df["y"], X, family=sm.families.Poisson()).fit(tol=1e-12)
    np.testing.assert_allclose(res.params.to_numpy(), glm.params, rtol=1e-7)
    np.testing.assert_allclose(res.tidy()["std_error"], glm.bse, rtol=1e-6)
    assert res.loglik == pytest.approx(glm.llf, rel=1e-10)
    assert len(res.starts) == 1 and np.isnan(res.glance()["entropy"].iloc[0])
