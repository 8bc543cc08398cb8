"""The one least-squares fitter (models/_core/ols.py) against statsmodels and lstsq."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from mutualaid_outcomes.errors import EstimationError
from mutualaid_outcomes.models._core.ols import (
    REFINE_BELOW,
    RIDGE_FLOOR,
    Packer,
    fit_ols,
    fit_ols_batched,
    group_sum,
    solve_batched,
    solve_normal,
)

# Normal equations on unit-diagonal cross products of well-conditioned designs lose a few
# digits at most against statsmodels' pinv/QR solution.
RTOL = 1e-10


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 200
    x = np.column_stack(
        [np.ones(n), rng.normal(size=n), rng.binomial(1, 0.4, n), rng.normal(3, 2, n)]
    )
    y = x @ np.array([1.0, 0.5, -0.3, 0.2]) + rng.normal(size=n)
    w = rng.uniform(0.5, 2.0, n)
    return x, y, w


def test_single_fit_matches_statsmodels(data):
    x, y, w = data
    fit = fit_ols(x, y)
    ref = sm.OLS(y, x).fit()
    np.testing.assert_allclose(fit.beta, ref.params, rtol=RTOL)
    np.testing.assert_allclose(fit.std_errors, ref.bse, rtol=RTOL)
    assert fit.df_resid == ref.df_resid
    assert fit.sigma2 == pytest.approx(ref.scale, rel=RTOL)
    wfit = fit_ols(x, y, w)
    wref = sm.WLS(y, x, weights=w).fit()
    np.testing.assert_allclose(wfit.beta, wref.params, rtol=RTOL)
    # frequency weights: df = sum(w) - p (statsmodels' GLM freq_weights convention)
    assert wfit.df_resid == pytest.approx(w.sum() - 4)
    np.testing.assert_allclose(wfit.rss, np.sum(w * (y - x @ wref.params) ** 2), rtol=RTOL)


def test_several_responses(data):
    x, y, _ = data
    ys = np.column_stack([y, 2 * y + 1, x[:, 1]])
    fit = fit_ols(x, ys)
    assert fit.beta.shape == (4, 3) and fit.std_errors.shape == (4, 3)
    for j in range(3):
        one = fit_ols(x, ys[:, j])
        np.testing.assert_allclose(fit.beta[:, j], one.beta, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(fit.std_errors[:, j], one.std_errors, rtol=1e-12, atol=1e-14)


def test_collinear_design_is_an_error(data):
    x, y, _ = data
    bad = np.column_stack([x, 2 * x[:, 1] - x[:, 2]])
    with pytest.raises(EstimationError, match="my model is singular or nearly so"):
        fit_ols(bad, y, what="my model")
    const = np.column_stack([x, np.zeros(len(y))])
    with pytest.raises(EstimationError, match="1 - R\\^2"):
        fit_ols(const, y)


def test_ill_conditioned_design_is_refined():
    rng = np.random.default_rng(3)
    n = 500
    x1 = rng.normal(size=n)
    x2 = x1 + 1e-4 * rng.normal(size=n)  # 1 - R^2 ~ 1e-8: between the two thresholds
    x = np.column_stack([np.ones(n), x1, x2])
    y = 1 + x1 - x2 + rng.normal(size=n)
    fit = fit_ols(x, y)
    assert RIDGE_FLOOR < fit.min_pivot < REFINE_BELOW
    ref = np.linalg.lstsq(x, y, rcond=None)[0]
    np.testing.assert_allclose(fit.beta, ref, rtol=1e-12)


def test_batched_fits_equal_single_fits(data):
    x, y, _ = data
    rng = np.random.default_rng(2)
    counts = rng.multinomial(len(y), np.full(len(y), 1 / len(y)), size=5).astype(float)
    beta, sigma, ok = fit_ols_batched(x, y, counts)
    assert ok.all()
    for s in range(5):
        one = fit_ols(x, y, counts[s])
        np.testing.assert_allclose(beta[s], one.beta, rtol=RTOL)
        assert sigma[s] == pytest.approx(np.sqrt(one.sigma2), rel=RTOL)


def test_batched_failures_are_flagged(data):
    x, y, _ = data
    w = np.ones((3, len(y)))
    w[1, x[:, 2] == 1] = 0.0  # the binary column is constant zero in this resample
    w[2, 4:] = 0.0  # four rows for four coefficients: no residual degrees of freedom
    beta, sigma, ok = fit_ols_batched(x, y, w)
    assert ok.tolist() == [True, False, False]
    assert np.isnan(beta[1]).all() and np.isnan(beta[2]).all()


def test_solve_normal_and_batched_agree():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(50, 3))
    a = z.T @ z
    b = rng.normal(size=3)
    beta, inv, piv = solve_normal(a, b)
    np.testing.assert_allclose(beta, np.linalg.solve(a, b), rtol=1e-12)
    np.testing.assert_allclose(inv @ a, np.eye(3), atol=1e-12)
    assert 0 < piv <= 1
    x, ok = solve_batched(np.stack([a, np.ones((3, 3))]), np.stack([b, b]))
    assert ok.tolist() == [True, False]
    np.testing.assert_allclose(x[0], beta, rtol=1e-12)
    assert (x[1] == 0).all()
    assert solve_normal(np.zeros((2, 2)), np.ones(2))[2] == 0.0


def test_packer_and_group_sum():
    rng = np.random.default_rng(8)
    z = rng.normal(size=(12, 2))
    w = rng.integers(0, 3, size=(4, 12)).astype(float)
    packer = Packer(z)
    z1 = np.column_stack([np.ones(12), z])
    for s in range(4):
        np.testing.assert_allclose(packer.gram(w)[s], (z1 * w[s][:, None]).T @ z1, rtol=1e-13)
    np.testing.assert_allclose(Packer(z1, intercept=False).packed, packer.packed)
    groups = np.array([0, 1, 2] * 4)
    np.testing.assert_allclose(
        group_sum(z, groups, 3), [z[groups == g].sum(axis=0) for g in range(3)]
    )
