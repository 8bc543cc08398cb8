"""The one GLM fitter (models/_core/glm.py): IRLS against statsmodels, batches, separation."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import optimize, special

from mutualaid_outcomes.models._core.glm import (
    SEPARATION_EPS,
    boundary_rows,
    deviance,
    fit_glm,
    information,
    irls,
    logit_one_step_jackknife,
)
from mutualaid_outcomes.models._core.glm_chunked import irls_chunked
from mutualaid_outcomes.models._core.glm_refit import LINK_OF, common_start_step, refit_near

# Both fits run to full convergence (our step criterion 1e-10; statsmodels' deviance
# criterion 1e-14); what remains is rounding and statsmodels' last partial step, which for
# Fisher scoring with a non-canonical link (probit, NB log) converges linearly.
RTOL = 1e-7


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(21)
    n = 400
    x = np.column_stack([np.ones(n), rng.normal(size=n), rng.binomial(1, 0.5, n)])
    eta = x @ np.array([-0.2, 0.7, 0.4])
    return {
        "x": x,
        "bin": rng.binomial(1, special.expit(eta)).astype(float),
        "count": rng.poisson(np.exp(eta)).astype(float),
        "nb": rng.negative_binomial(2.0, 2.0 / (2.0 + np.exp(eta))).astype(float),
        "w": rng.uniform(0.5, 2, n),
        "off": rng.normal(0, 0.2, n),
    }


def _sm(family, link):
    links = sm.families.links
    return {
        ("binomial", "logit"): sm.families.Binomial(),
        ("binomial", "probit"): sm.families.Binomial(link=links.Probit()),
        ("poisson", "log"): sm.families.Poisson(),
        ("negative_binomial", "log"): sm.families.NegativeBinomial(alpha=0.5),
        ("gaussian", "identity"): sm.families.Gaussian(),
    }[(family, link)]


CASES = [
    ("binomial", "logit", "bin"),
    ("binomial", "probit", "bin"),
    ("poisson", "log", "count"),
    ("negative_binomial", "log", "nb"),
    ("gaussian", "identity", "count"),
]


@pytest.mark.parametrize("family,link,y", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_matches_statsmodels_glm(data, family, link, y):
    x, yv, w, off = data["x"], data[y], data["w"], data["off"]
    theta = 2.0 if family == "negative_binomial" else None
    fit = fit_glm(x, yv, w, family=family, link=link, offset=off, theta=theta)
    ref = sm.GLM(yv, x, family=_sm(family, link), var_weights=w, offset=off).fit(
        tol=1e-14, atol=1e-14, rtol=1e-14, maxiter=500
    )
    assert fit.converged and not fit.separated
    np.testing.assert_allclose(fit.beta, ref.params, rtol=RTOL)
    info = information(x, fit.eta, w, family=family, link=link, theta=theta)
    np.testing.assert_allclose(np.linalg.inv(info), ref.cov_params() / ref.scale, rtol=1e-6)
    dev = deviance(yv, fit.eta, w, family=family, link=link, theta=theta)
    assert dev == pytest.approx(ref.deviance, rel=1e-9)


def test_batch_equals_single_fits(data):
    x, y = data["x"], data["bin"]
    rng = np.random.default_rng(1)
    counts = rng.multinomial(len(y), np.full(len(y), 1 / len(y)), size=4).astype(float)
    for link in ("logit", "probit"):
        batch = irls(x, y, counts, family="binomial", link=link, start=np.zeros(3))
        assert batch.ok.all()
        for s in range(4):
            one = fit_glm(x, y, counts[s], family="binomial", link=link, start=np.zeros(3))
            np.testing.assert_allclose(batch.beta[s], one.beta, rtol=1e-12)
            assert batch.n_iter[s] == one.n_iter


def test_ridge_penalty_maximises_the_penalised_likelihood(data):
    x, y = data["x"], data["bin"]
    lam = np.array([0.0, 5.0, 5.0])
    fit = fit_glm(x, y, family="binomial", link="logit", start=np.zeros(3), penalty=lam)

    def negloglik(b):
        eta = x @ b
        return -np.sum(y * eta - np.logaddexp(0, eta)) + 0.5 * np.sum(lam * b**2)

    ref = optimize.minimize(negloglik, np.zeros(3), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(fit.beta, ref, rtol=1e-6)
    assert abs(fit.beta[1]) < abs(fit_glm(x, y, family="binomial", link="logit").beta[1])


def _quasi_separated(n=120, seed=4):
    rng = np.random.default_rng(seed)
    g = rng.binomial(1, 0.3, n).astype(float)
    x = np.column_stack([np.ones(n), rng.normal(size=n), g])
    y = rng.binomial(1, 0.5, n).astype(float)
    y[g == 1] = 1.0  # everyone in group g has the outcome
    return x, y


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_separation_is_detected_and_never_converges(link):
    x, y = _quasi_separated()
    fit = fit_glm(x, y, family="binomial", link=link)
    assert not fit.converged
    assert fit.n_boundary == int(x[:, 2].sum())  # exactly the rows of the separating group
    assert np.all(np.isfinite(fit.beta))
    complete = fit_glm(x[:, :2], (x[:, 1] > 0).astype(float), family="binomial", link=link)
    assert complete.n_boundary == len(y) and not complete.converged


def test_separation_test_is_r_glm_fit_rule():
    # "fitted probabilities numerically 0 or 1": within 10 machine epsilons
    assert SEPARATION_EPS == pytest.approx(2.220446e-15, rel=1e-6)
    eta = np.array([[0.0, 33.0, -34.0, 40.0]])
    w = np.array([[1.0, 1.0, 1.0, 0.0]])  # the last row has no weight in this fit
    assert boundary_rows(eta, w, "binomial", "logit").tolist() == [1]
    assert boundary_rows(eta, w, "poisson", "log").tolist() == [0]
    assert boundary_rows(
        np.array([[7.5, 8.0]]), np.ones((1, 2)), "binomial", "probit"
    ).tolist() == [1]


def test_batch_flags_separated_resamples():
    x, y = _quasi_separated()
    j = int(np.flatnonzero(x[:, 2] == 1)[0])
    y[j] = 0.0  # one non-event in the group: the full data are not separated ...
    w = np.ones((2, len(y)))
    w[1, j] = 0.0  # ... but a resample without that row is
    res = irls(x, y, w, family="binomial", link="logit", start=np.zeros(3), max_iter=50)
    assert res.ok.tolist() == [True, False]
    assert res.separated.tolist() == [False, True]
    assert res.converged.tolist() == [True, False]


def test_one_step_jackknife_approximates_leave_one_out(data):
    x, y = data["x"], data["bin"]
    beta = fit_glm(x, y, family="binomial", link="logit").beta
    jack = logit_one_step_jackknife(x, y, beta)
    for i in (0, 7, 123):
        keep = np.arange(len(y)) != i
        exact = fit_glm(x[keep], y[keep], family="binomial", link="logit").beta
        # one Newton step from the full fit: error O(1/n^2) against a change O(1/n)
        assert np.max(np.abs(jack[i] - exact)) < 0.05 * np.max(np.abs(exact - beta)) + 1e-12
    groups = np.arange(len(y)) % 10
    assert logit_one_step_jackknife(x, y, beta, groups).shape == (10, 3)


# irls_chunked has no theta (negative binomial is not needed by its callers)
CASES_CHUNKED = [c for c in CASES if c[0] != "negative_binomial"]


@pytest.mark.parametrize("n_fits", [1, 6])
@pytest.mark.parametrize(
    "family,link,y", CASES_CHUNKED, ids=[f"{c[0]}-{c[1]}" for c in CASES_CHUNKED]
)
def test_chunked_entry_point_is_the_same_fitter(data, family, link, y, n_fits):
    # irls_chunked only forms the sums over row chunks: same iterates, steps and flags
    x, yv = data["x"], data[y]
    rng = np.random.default_rng(5)
    w = rng.uniform(0.5, 2, size=(n_fits, len(yv)))
    ref = irls(x, yv, w, family=family, link=link)
    for start in (None, ref.beta[0] * 0.9):
        ref = irls(x, yv, w, family=family, link=link, start=start)
        fit = irls_chunked(
            x, yv, lambda rows: w.T[rows], family=family, link=link, start=start, chunk_rows=97
        )
        np.testing.assert_allclose(fit.beta, ref.beta, rtol=1e-10)
        assert fit.converged.all() and ref.converged.all()
        np.testing.assert_array_equal(fit.n_iter, ref.n_iter)


def test_chunked_entry_point_flags_separation():
    x, y = _quasi_separated()
    j = int(np.flatnonzero(x[:, 2] == 1)[0])
    y[j] = 0.0
    w = np.ones((len(y), 2))
    w[j, 1] = 0.0
    res = irls_chunked(
        x, y, lambda rows: w[rows], family="binomial", link="logit", max_iter=50, chunk_rows=50
    )
    assert res.separated.tolist() == [False, True]
    assert res.converged.tolist() == [True, False]
    assert res.n_boundary[1] == int(x[:, 2].sum()) - 1


CANONICAL_PAIRS = {("binomial", "logit"), ("poisson", "log"), ("gaussian", "identity")}
CANONICAL_CHUNKED = [c for c in CASES_CHUNKED if (c[0], c[1]) in CANONICAL_PAIRS]


@pytest.mark.parametrize("factored", [False, True])
@pytest.mark.parametrize("family,link,y", CANONICAL_CHUNKED, ids=[c[0] for c in CANONICAL_CHUNKED])
def test_refits_near_a_common_fit_reach_the_scoring_solution(data, family, link, y, factored):
    # Newton then chord passes from one step off a nearby point: the same roots as full
    # scoring steps, within the convergence rule (estimates within tol / 10 of the root)
    x, yv = data["x"], data[y]
    rng = np.random.default_rng(11)
    n = len(yv)
    groups = rng.integers(0, 20, n)
    mult = rng.poisson(1.0, size=(20, 8)).astype(float) + 0.2
    a = rng.uniform(0.5, 2, n)
    w = a[:, None] * mult[groups]
    ref = irls_chunked(x, yv, lambda rows: w[rows], family=family, link=link)
    full = irls(x, yv, a[None, :], family=family, link=link).beta[0]
    start, info = common_start_step(x, yv, lambda rows: w[rows], full, family=family)
    assert info.shape == (8, x.shape[1], x.shape[1])
    fit = refit_near(
        x,
        yv,
        lambda rows: w[rows],
        family=family,
        start=start,
        factored=(a, groups, mult) if factored else None,
    )
    np.testing.assert_allclose(fit.beta, ref.beta, rtol=1e-8, atol=1e-12)
    assert fit.converged.all()
    np.testing.assert_array_equal(fit.n_boundary, ref.n_boundary)


@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_refits_do_not_depend_on_the_number_of_threads(monkeypatch, family):
    # blocks of rows are summed in block order whatever thread computed them
    import mutualaid_outcomes.models._core.glm_refit as glm_refit

    monkeypatch.setattr(glm_refit, "BLOCK_ROWS", 97)
    rng = np.random.default_rng(8)
    n = 1000
    x = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    eta = x @ np.array([-0.3, 0.6, -0.4])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(float)
    if family == "poisson":
        y = rng.poisson(np.exp(eta)).astype(float)
    groups = rng.integers(0, 25, n)
    mult = rng.poisson(1.0, size=(25, 12)).astype(float)
    a = rng.uniform(0.5, 2, n)
    w = a[:, None] * mult[groups]
    full = irls(x, y, a[None, :], family=family, link=LINK_OF[family]).beta[0]
    start, _ = common_start_step(x, y, lambda rows: w[rows], full, family=family)
    fits = [
        refit_near(
            x,
            y,
            lambda rows: w[rows],
            family=family,
            start=start,
            factored=(a, groups, mult),
            n_workers=k,
        )
        for k in (1, 3)
    ]
    np.testing.assert_array_equal(fits[0].beta, fits[1].beta)
    np.testing.assert_array_equal(fits[0].n_iter, fits[1].n_iter)
    ref = irls_chunked(x, y, lambda rows: w[rows], family=family, link=LINK_OF[family])
    np.testing.assert_allclose(fits[0].beta, ref.beta, rtol=1e-8, atol=1e-12)


def test_refit_steps_that_shrink_slowly_get_a_new_hessian_and_count_steps():
    # far from the roots (a start at zero) the Newton passes repeat until the steps
    # contract; every fit converges to the full scoring solution
    rng = np.random.default_rng(3)
    n = 600
    x = np.column_stack([np.ones(n), rng.normal(size=n)])
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(1.0 + 1.5 * x[:, 1])))).astype(float)
    w = rng.uniform(0.5, 1.5, size=(n, 4))
    ref = irls_chunked(x, y, lambda rows: w[rows], family="binomial", link="logit")
    fit = refit_near(x, y, lambda rows: w[rows], family="binomial", start=np.zeros((4, 2)))
    np.testing.assert_allclose(fit.beta, ref.beta, rtol=1e-8)
    assert fit.converged.all() and (fit.n_iter >= 4).all()


def test_refits_hand_separated_fits_to_full_scoring():
    x, y = _quasi_separated()
    j = int(np.flatnonzero(x[:, 2] == 1)[0])
    y[j] = 0.0
    w = np.ones((len(y), 2))
    w[j, 1] = 0.0
    ref = irls_chunked(x, y, lambda rows: w[rows], family="binomial", link="logit", max_iter=50)
    start = np.tile(ref.beta[0], (2, 1))
    res = refit_near(x, y, lambda rows: w[rows], family="binomial", start=start, max_iter=50)
    assert res.separated.tolist() == [False, True]
    assert res.converged.tolist() == [True, False]
    assert res.n_boundary[1] == int(x[:, 2].sum()) - 1
