"""Fast paths of the regression core against simple reference implementations.

Randomised small problems (several seeds each): the direct gaussian least squares, the
alternating negative binomial fit, the tabulated theta score, the ``X'X`` screen of the
design check, the per-fit information matrices of small IRLS batches and the blocked
bootstrap counts, each compared with the plain computation it replaces.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special

from mutualaid_outcomes.models._core import families
from mutualaid_outcomes.models._core.bootstrap import iter_bootstrap_counts
from mutualaid_outcomes.models._core.counts import block_generator, block_size
from mutualaid_outcomes.models._core.design import _gram_screen, scaled_condition
from mutualaid_outcomes.models._core.glm import irls

SEEDS = [0, 1, 2, 3, 4]
# Deterministic least squares / likelihood solutions, both sides converged: agreement to
# rounding of well-conditioned problems.
RTOL = 1e-8
# Joint maximisation by BFGS stops at a gradient tolerance of 1e-12 on the mean
# log-likelihood, so its estimates carry about 1e-7 relative error.
RTOL_OPTIM = 1e-5


def _design(rng: np.random.Generator, n: int, p: int) -> np.ndarray:
    return np.column_stack([np.ones(n), rng.normal(size=(n, p - 1))])


@pytest.mark.parametrize("seed", SEEDS)
def test_gaussian_direct_path_matches_lstsq(seed):
    rng = np.random.default_rng(seed)
    n, p = 60 + 10 * seed, 4
    X = _design(rng, n, p)
    y = X @ rng.normal(size=p) + rng.normal(size=n)
    w = rng.uniform(0.2, 3.0, n)
    off = rng.normal(size=n)
    fit, info = families._fit_gaussian(y, X, w, off)
    sw = np.sqrt(w)
    ref = np.linalg.lstsq(X * sw[:, None], (y - off) * sw, rcond=None)[0]
    np.testing.assert_allclose(fit.beta, ref, rtol=RTOL)
    np.testing.assert_allclose(info, (X * w[:, None]).T @ X, rtol=1e-12)
    np.testing.assert_allclose(fit.mu, X @ ref + off, rtol=RTOL)


@pytest.mark.parametrize("seed", SEEDS)
def test_theta_score_by_table_matches_direct_sums(seed):
    rng = np.random.default_rng(seed)
    n = 300
    mu = np.exp(rng.normal(0.5, 0.5, n))
    y = rng.negative_binomial(1.5, 1.5 / (1.5 + mu)).astype(float)
    w = rng.uniform(0.5, 2.0, n)
    theta, se, ok = families.theta_ml(y, mu, w)
    assert ok

    def score(th):
        return np.sum(
            w
            * (
                special.digamma(th + y)
                - special.digamma(th)
                + np.log(th)
                + 1
                - np.log(th + mu)
                - (y + th) / (mu + th)
            )
        )

    root = optimize.brentq(score, 1e-3, 1e3, xtol=1e-14, rtol=1e-14)
    np.testing.assert_allclose(theta, root, rtol=RTOL)
    assert np.isfinite(se) and se > 0


def _nb_joint_mle(X, y):
    """Joint maximum likelihood of (beta, log theta) for NB2 by BFGS."""

    def nll_sum(par):
        beta, th = par[:-1], np.exp(par[-1])
        mu = np.exp(X @ beta)
        ll = (
            special.gammaln(th + y)
            - special.gammaln(th)
            + th * np.log(th)
            + special.xlogy(y, mu)
            - (th + y) * np.log(th + mu)
        )
        return -np.mean(ll)

    start = np.zeros(X.shape[1] + 1)
    res = optimize.minimize(nll_sum, start, method="BFGS", options={"gtol": 1e-12})
    return res.x[:-1], np.exp(res.x[-1])


@pytest.mark.parametrize("seed", SEEDS)
def test_negative_binomial_alternation_reaches_joint_mle(seed):
    rng = np.random.default_rng(seed)
    n = 400
    X = _design(rng, n, 3)
    mu = np.exp(X @ np.array([0.5, 0.3, -0.2]))
    y = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    fit, theta, _, converged, _, _ = families._fit_negative_binomial(y, X, np.ones(n), "log", None)
    assert converged and fit.converged
    beta_ref, theta_ref = _nb_joint_mle(X, y)
    np.testing.assert_allclose(fit.beta, beta_ref, rtol=RTOL_OPTIM, atol=1e-6)
    np.testing.assert_allclose(theta, theta_ref, rtol=RTOL_OPTIM)


@pytest.mark.parametrize("seed", SEEDS)
def test_gram_screen_matches_qr_condition_number(seed):
    rng = np.random.default_rng(seed)
    X = _design(rng, 200, 5)
    X[:, 2] = X[:, 1] + (0.05 + 0.1 * seed) * X[:, 2]  # moderately correlated columns
    X[:, 3] *= 10.0**seed  # very different column scales
    kappa = _gram_screen(X)
    ref, _ = scaled_condition(X, [f"c{j}" for j in range(5)])
    assert kappa is not None
    np.testing.assert_allclose(kappa, ref, rtol=1e-8)


def test_gram_screen_defers_near_and_exact_collinearity_to_qr():
    rng = np.random.default_rng(9)
    X = _design(rng, 100, 3)
    near = np.column_stack([X, X[:, 1] + 1e-6 * rng.normal(size=100)])
    exact = np.column_stack([X, X[:, 1] + X[:, 2]])
    assert _gram_screen(near) is None
    assert _gram_screen(exact) is None
    assert _gram_screen(np.column_stack([X, np.zeros(100)])) is None


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_small_batches_match_packed_batches(seed, family):
    rng = np.random.default_rng(seed)
    n = 150
    X = _design(rng, n, 3)
    eta = X @ np.array([-0.2, 0.4, 0.3])
    y = rng.binomial(1, special.expit(eta)) if family == "binomial" else rng.poisson(np.exp(eta))
    link = "logit" if family == "binomial" else "log"
    w = rng.multinomial(n, np.full(n, 1 / n), size=6).astype(float)
    packed = irls(X, y.astype(float), w, family=family, link=link)  # 6 fits: packed path
    for i in range(6):
        single = irls(X, y.astype(float), w[i : i + 1], family=family, link=link)
        np.testing.assert_allclose(single.beta[0], packed.beta[i], rtol=RTOL)
        assert single.n_iter[0] == packed.n_iter[i]


@pytest.mark.parametrize("seed", SEEDS)
def test_blocked_bootstrap_counts_are_the_drawn_indices_counted(seed):
    n, n_boot = 37 + 101 * seed, 50 + 7 * seed
    counts = np.concatenate(
        list(iter_bootstrap_counts(n, n_boot, np.random.default_rng(seed), chunk_size=11))
    )
    # the stream: four words from the caller's generator seed one generator per block
    entropy = np.random.default_rng(seed).integers(0, 2**32, size=4, dtype=np.uint64)
    block = block_size(n)
    rows = []
    for j in range(-(-n_boot // block)):
        m = min(block, n_boot - j * block)
        rows.append(block_generator(entropy, j).integers(0, n, size=(m, n), dtype=np.uint16))
    idx = np.concatenate(rows)
    ref = np.stack([np.bincount(row, minlength=n) for row in idx]).astype(float)
    np.testing.assert_array_equal(counts, ref)
