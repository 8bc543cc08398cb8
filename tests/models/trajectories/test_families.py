"""Trajectory families: densities against scipy, derivatives against numerical ones."""

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.tools.numdiff import approx_fprime

from mutualaid_outcomes.models.trajectories.families import FAMILY_NAMES, Outcome, get_family

DERIV_RTOL = 1e-5  # central differences of the analytic first derivatives (step ~1e-6)


def _data(name, rng):
    if name in ("gaussian", "cnorm"):
        y = np.r_[0.0, 0.0, 1.3, 2.2, 4.0, 4.0]  # at both bounds of cnorm (0, 4)
    elif name == "logit":
        y = np.r_[0.0, 1.0, 1.0, 0.0, 1.0, 0.0]
    else:
        y = np.r_[0.0, 0.0, 1.0, 3.0, 7.0, 0.0]
    eta = rng.normal(0.5, 0.8, size=(len(y), 2))
    anc = np.array([-0.4, 0.3])
    return y, eta, anc


def _reference_logf(name, y, eta, anc):
    if name == "gaussian":
        return stats.norm.logpdf(y[:, None], eta, np.exp(anc))
    if name == "cnorm":
        s = np.exp(anc)
        inside = stats.norm.logpdf(y[:, None], eta, s)
        low = stats.norm.logcdf((0.0 - eta) / s)
        high = stats.norm.logsf((4.0 - eta) / s)
        return np.where(y[:, None] <= 0, low, np.where(y[:, None] >= 4, high, inside))
    if name == "poisson":
        return stats.poisson.logpmf(y[:, None], np.exp(eta))
    if name == "logit":
        return stats.bernoulli.logpmf(y[:, None], 1 / (1 + np.exp(-eta)))
    p = 1 / (1 + np.exp(-anc))
    pois = stats.poisson.pmf(y[:, None], np.exp(eta))
    return np.log(p * (y[:, None] == 0) + (1 - p) * pois)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_density_matches_scipy(name):
    rng = np.random.default_rng(1)
    y, eta, anc = _data(name, rng)
    fam = get_family(name)
    obs = Outcome(y, 0.0 if name == "cnorm" else None, 4.0 if name == "cnorm" else None)
    ref = _reference_logf(name, y, eta, anc)
    np.testing.assert_allclose(fam.loglik(obs, eta, anc), ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fam.derivs(obs, eta, anc).logf, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", FAMILY_NAMES)
def test_derivatives_match_numerical(name):
    rng = np.random.default_rng(2)
    y, eta, anc = _data(name, rng)
    fam = get_family(name)
    obs = Outcome(y, 0.0 if name == "cnorm" else None, 4.0 if name == "cnorm" else None)
    D = fam.derivs(obs, eta, anc)
    for i in range(len(y)):
        for k in range(2):

            def f(v, i=i, k=k):
                e = eta.copy()
                a = anc.copy()
                e[i, k], a[k] = v[0], v[1]
                return fam.loglik(obs, e, a)[i, k]

            def grad(v, i=i, k=k):
                e = eta.copy()
                a = anc.copy()
                e[i, k], a[k] = v[0], v[1]
                d = fam.derivs(obs, e, a)
                return np.array([d.d1[i, k], d.a1[i, k]])

            v0 = np.array([eta[i, k], anc[k]])
            g_num = approx_fprime(v0, f, centered=True)
            H_num = approx_fprime(v0, grad, centered=True)
            has_anc = fam.has_ancillary
            got = np.array([D.d1[i, k], D.a1[i, k] if has_anc else 0.0])
            np.testing.assert_allclose(got, g_num * [1, has_anc], rtol=DERIV_RTOL, atol=1e-7)
            H = np.array([[D.d2[i, k], D.c12[i, k]], [D.c12[i, k], D.a2[i, k]]])
            mask = np.array([[1, has_anc], [has_anc, has_anc]])
            np.testing.assert_allclose(H, H_num * mask, rtol=DERIV_RTOL, atol=1e-6)


def test_censored_normal_mean_by_integration():
    fam = get_family("cnorm")
    mu, s, lo, hi = 1.5, 2.0, 0.0, 4.0

    inside = integrate.quad(lambda x: x * stats.norm.pdf(x, mu, s), lo, hi)[0]
    ref = lo * stats.norm.cdf(lo, mu, s) + inside + hi * stats.norm.sf(hi, mu, s)
    got = fam.mean(np.array([[mu]]), np.array([np.log(s)]), lo, hi)[0, 0]
    assert got == pytest.approx(ref, rel=1e-9)


def test_zip_mean_and_simulation():
    fam = get_family("zip")
    rng = np.random.default_rng(3)
    eta = np.full(200_000, np.log(3.0))
    anc = np.full(200_000, 0.0)  # p = 0.5
    y = fam.simulate(eta, anc, None, None, rng)
    expected = fam.mean(eta[:1, None], anc[:1], None, None)[0, 0]
    assert expected == pytest.approx(1.5)
    # Monte Carlo: SD of the mean is about sqrt(Var / n) = 0.005
    assert y.mean() == pytest.approx(1.5, abs=0.025)
    assert np.mean(y == 0) == pytest.approx(0.5 + 0.5 * np.exp(-3), abs=0.005)
