"""Observed information: analytic score and Hessian against numerical derivatives.

Two independent checks:
* the analytic score and Hessian of :mod:`.information` against central differences of
  the log-likelihood in the internal parametrisation, at a point off the optimum;
* the reported standard errors (raw-time coefficients, sigma, membership logits) against
  the inverse of a numerical Hessian of a log-likelihood written here from scratch with
  scipy.stats, in the reported parametrisation.
"""

import zlib

import numpy as np
import pytest
from scipy import special, stats
from statsmodels.tools.numdiff import approx_fprime, approx_hess

from mutualaid_outcomes.models.trajectories import fit_trajectories
from mutualaid_outcomes.models.trajectories.information import observed

HESS_RTOL = 1e-4  # numerical second derivatives (approx_hess) are accurate to ~1e-6..1e-5
SE_RTOL = 1e-4
NUM_STEP = 3e-3  # finite-difference step of the independent Hessian, in SEs (error ~1e-6)
pytestmark = pytest.mark.filterwarnings(
    "ignore::mutualaid_outcomes.errors.ConvergenceWarning"  # local-optimum notes of small fits
)

CASES = {
    "gaussian_group_cov_tv": dict(
        family="gaussian", variance="group", covariates=["x"], tv_covariates=["w"], degree=[2, 1, 2]
    ),
    "gaussian_common": dict(family="gaussian", variance="common", degree=2),
    "cnorm_common": dict(family="cnorm", variance="common", lower=0.0, upper=100.0, degree=2),
    "cnorm_group_cov": dict(
        family="cnorm", variance="group", lower=0.0, upper=100.0, covariates=["x"], degree=1
    ),
    "poisson_cov": dict(family="poisson", covariates=["x"], degree=2),
    "zip_tv": dict(family="zip", tv_covariates=["w"], degree=2),
    "logit": dict(family="logit", degree=2),
}


def _case_data(sim, name, kw):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    n = 300 if kw["family"] == "logit" else 200  # smaller binary panels: boundary optima
    df, _ = sim(rng, kw["family"], n=n, sigma=8.0 if kw["family"] == "cnorm" else 1.0)
    n = df["id"].max() + 1
    df["x"] = rng.normal(size=n)[df["id"]]
    df["w"] = rng.normal(size=len(df))
    return df


@pytest.fixture(scope="module")
def fits():
    return {}


def _fit(sim, name, fits):
    if name not in fits:
        kw = CASES[name]
        df = _case_data(sim, name, kw)
        fits[name] = (df, fit_trajectories(df, "id", "time", "y", 3, n_starts=6, rng=3, **kw))
    return fits[name]


@pytest.mark.parametrize("name", list(CASES))
def test_analytic_hessian_matches_numerical(name, sim, fits):
    _, res = _fit(sim, name, fits)
    panel, spec, lay = res._panel, res._spec, res._layout
    rng = np.random.default_rng(7)
    theta = lay.pack(res._internal) + rng.normal(scale=0.02, size=lay.n_params)

    def ll(th):
        return observed(panel, spec, lay, lay.unpack(th)).loglik

    o = observed(panel, spec, lay, lay.unpack(theta), derivatives=2)
    g_num = approx_fprime(theta, ll, centered=True)
    H_num = approx_hess(theta, ll)
    scale = np.max(np.abs(H_num))
    np.testing.assert_allclose(o.grad, g_num, rtol=1e-5, atol=1e-5 * scale)
    np.testing.assert_allclose(o.hess, H_num, rtol=HESS_RTOL, atol=HESS_RTOL * scale)


def _independent_loglik(theta, res, df):
    """Mixture log-likelihood in the reported parametrisation, from scipy.stats."""
    names = list(res.params.index)
    val = dict(zip(names, theta))
    K = res.n_groups
    t = df["time"].to_numpy()
    y = df["y"].to_numpy()
    comp = np.zeros((len(df), K))
    for k in range(1, K + 1):
        eta = np.zeros(len(df))
        for j in range(res.degree[k - 1] + 1):
            term = "(Intercept)" if j == 0 else ("time" if j == 1 else f"time^{j}")
            eta += val[f"class{k}:{term}"] * t**j
        for c in res.tv_covariates:
            eta += val[f"class{k}:{c}"] * df[c].to_numpy()
        sig = val.get(f"class{k}:sigma", val.get("sigma"))
        if res.family == "gaussian":
            comp[:, k - 1] = stats.norm.logpdf(y, eta, sig)
        elif res.family == "cnorm":
            inside = stats.norm.logpdf(y, eta, sig)
            low = stats.norm.logcdf((res.lower - eta) / sig)
            high = stats.norm.logsf((res.upper - eta) / sig)
            comp[:, k - 1] = np.where(y <= res.lower, low, np.where(y >= res.upper, high, inside))
        elif res.family == "poisson":
            comp[:, k - 1] = stats.poisson.logpmf(y, np.exp(eta))
        elif res.family == "logit":
            comp[:, k - 1] = stats.bernoulli.logpmf(y, special.expit(eta))
        else:
            p = special.expit(val[f"class{k}:zero_(Intercept)"])
            comp[:, k - 1] = np.log(p * (y == 0) + (1 - p) * stats.poisson.pmf(y, np.exp(eta)))
    persons, codes = np.unique(df["id"].to_numpy(), return_inverse=True)
    per = np.stack([np.bincount(codes, weights=comp[:, k]) for k in range(K)], axis=1)
    first = np.unique(codes, return_index=True)[1]
    Z = np.ones((len(persons), 1))
    zn = ["(Intercept)"]
    for c in res.covariates:
        Z = np.column_stack([Z, df[c].to_numpy()[first]])
        zn.append(c)
    lin = np.zeros((len(persons), K))
    for k in range(2, K + 1):
        lin[:, k - 1] = Z @ np.array([val[f"membership:class{k}:{c}"] for c in zn])
    logpi = lin - special.logsumexp(lin, axis=1, keepdims=True)
    return float(special.logsumexp(per + logpi, axis=1).sum())


SE_CASES = ["gaussian_group_cov_tv", "cnorm_common", "poisson_cov", "zip_tv", "logit"]


@pytest.mark.parametrize("name", SE_CASES)
def test_reported_se_match_independent_numerical_hessian(name, sim, fits):
    df, res = _fit(sim, name, fits)
    theta = res.params.to_numpy()
    ll = _independent_loglik(theta, res, df)
    assert ll == pytest.approx(res.loglik, rel=1e-10)
    # steps on each parameter's own scale (its SE): approx_hess's default, proportional to
    # |theta|, is too coarse for an intercept of 90 on a 0-100 scale and too fine for logits
    step = NUM_STEP * res.tidy()["std_error"].to_numpy()
    H = approx_hess(theta, lambda th: _independent_loglik(th, res, df), epsilon=step)
    se_num = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose(res.tidy()["std_error"].to_numpy(), se_num, rtol=SE_RTOL)
    np.testing.assert_allclose(
        res.vcov().to_numpy(), np.linalg.inv(-H), rtol=1e-3, atol=1e-4 * se_num.max() ** 2
    )
