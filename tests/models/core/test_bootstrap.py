"""Tests of the resampling helpers and interval functions in models._bootstrap."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from mutualaid_outcomes.errors import BootstrapWarning, DataValidationError
from mutualaid_outcomes.models._core import bootstrap as bs


def _textbook_bca(draws, estimate, jackknife, conf_level):
    """Slow, loop-based BCa following Efron & Tibshirani (1993), eqs. 14.9-14.15."""
    b = len(draws)
    below = 0.0
    for v in draws:
        if v < estimate:
            below += 1.0
        elif v == estimate:
            below += 0.5
    z0 = stats.norm.ppf(below / b)
    jbar = sum(jackknife) / len(jackknife)
    num = sum((jbar - j) ** 3 for j in jackknife)
    den = 6.0 * sum((jbar - j) ** 2 for j in jackknife) ** 1.5
    a = num / den
    out = []
    for alpha in ((1 - conf_level) / 2, (1 + conf_level) / 2):
        z = stats.norm.ppf(alpha)
        level = stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z)))
        # type-7 quantile: h = (B - 1) p, interpolate between order statistics
        srt = sorted(draws)
        h = (b - 1) * level
        lo = math.floor(h)
        hi = min(lo + 1, b - 1)
        out.append(srt[lo] + (h - lo) * (srt[hi] - srt[lo]))
    return out


def test_bca_matches_textbook_implementation():
    rng = np.random.default_rng(11)
    x = rng.lognormal(size=60)
    idx = rng.integers(0, 60, size=(3000, 60))
    stat_fns = [np.mean, np.median, lambda v, axis=None: np.var(v, axis=axis)]
    draws = np.column_stack([f(x[idx], axis=1) for f in stat_fns])
    est = np.array([f(x) for f in stat_fns])
    loo = np.array([np.delete(x, i) for i in range(60)])
    jack = np.column_stack([f(loo, axis=1) for f in stat_fns])
    low, high = bs.bca_interval(draws, est, jack, 0.9)
    for j in range(3):
        ref = _textbook_bca(list(draws[:, j]), est[j], list(jack[:, j]), 0.9)
        assert low[j] == pytest.approx(ref[0], rel=1e-12)
        assert high[j] == pytest.approx(ref[1], rel=1e-12)


def test_bca_reduces_to_percentile_without_bias_or_skew():
    # symmetric draws centred on the estimate, symmetric jackknife: z0 = 0, a = 0
    draws = np.linspace(-3, 3, 2001)[:, None]
    jack = np.array([-1.0, 0.0, 1.0])[:, None]
    low, high = bs.bca_interval(draws, np.array([0.0]), jack, 0.95)
    plow, phigh = bs.percentile_interval(draws, 0.95)
    np.testing.assert_allclose([low[0], high[0]], [plow[0], phigh[0]], rtol=1e-12)


def test_acceleration_formula_and_sign():
    jack = np.array([[1.0], [2.0], [6.0]])
    dev = jack.mean() - jack[:, 0]
    expected = (dev**3).sum() / (6 * (dev**2).sum() ** 1.5)
    assert bs.jackknife_acceleration(jack)[0] == pytest.approx(expected, rel=1e-14)
    # empirical influence values of boot::empinf(type="jack") are (n - 1) * dev;
    # the factor cancels in sum(L^3) / (6 sum(L^2)^1.5)
    L = 2 * dev
    assert bs.jackknife_acceleration(jack)[0] == pytest.approx(
        (L**3).sum() / (6 * (L**2).sum() ** 1.5), rel=1e-14
    )


def test_bias_correction_counts_half_of_ties():
    draws = np.array([[1.0], [2.0], [2.0], [3.0]])
    # (1 below + 0.5 * 2 ties) / 4 = 0.5 -> z0 = 0
    assert bs.bias_correction(draws, np.array([2.0]))[0] == pytest.approx(0.0)


def test_bca_degenerate_cases_warn():
    draws = np.ones((2000, 1))
    with pytest.warns(BootstrapWarning, match="one side of the estimate"):
        low, high = bs.bca_interval(draws, np.array([0.0]), np.arange(5.0)[:, None], 0.95)
    assert np.isnan(low[0]) and np.isnan(high[0])
    rng = np.random.default_rng(0)
    draws = rng.normal(size=(2000, 1))
    with pytest.warns(BootstrapWarning, match="identical leave-one-out"):
        low, high = bs.bca_interval(draws, np.array([0.0]), np.ones((10, 1)), 0.95)
    plow, phigh = bs.percentile_interval(draws, 0.95)
    z0 = bs.bias_correction(draws, np.array([0.0]))[0]
    expected = stats.norm.cdf(2 * z0 + stats.norm.ppf(0.025))
    assert low[0] == pytest.approx(np.quantile(draws[:, 0], expected))


def test_bca_shape_mismatch_raises():
    with pytest.raises(DataValidationError, match="must match"):
        bs.bca_interval(np.zeros((10, 2)), np.zeros(3), np.zeros((5, 2)), 0.95)


def test_percentile_interval_ignores_failed_rows():
    draws = np.arange(1.0, 101.0)[:, None].repeat(2, axis=1)
    draws[::10, 1] = np.nan
    low, high = bs.percentile_interval(draws, 0.9)
    assert low[0] == pytest.approx(np.quantile(np.arange(1.0, 101.0), 0.05))
    kept = draws[~np.isnan(draws[:, 1]), 1]
    assert high[1] == pytest.approx(np.quantile(kept, 0.95))


def test_bootstrap_counts_are_multinomial():
    rng = np.random.default_rng(5)
    n, b = 50, 20000
    counts = bs.bootstrap_counts(n, b, rng)
    assert counts.shape == (b, n)
    assert np.all(counts.sum(axis=1) == n)
    # each count ~ Binomial(n, 1/n): mean 1, variance (1 - 1/n); covariance -1/n
    assert counts.mean() == pytest.approx(1.0, abs=4 * math.sqrt((1 - 1 / n) / (b * n)))
    var = counts.var(axis=0).mean()
    assert var == pytest.approx(1 - 1 / n, rel=0.03)


def test_count_stream_does_not_depend_on_chunk_size():
    a = np.concatenate(list(bs.iter_bootstrap_counts(30, 500, np.random.default_rng(1), 7)))
    b = np.concatenate(list(bs.iter_bootstrap_counts(30, 500, np.random.default_rng(1), 500)))
    np.testing.assert_array_equal(a, b)


def test_cluster_resample_indices_take_whole_clusters():
    cluster = np.array([10, 10, 10, 20, 20, 30, 40, 40, 40, 40])
    out = bs.cluster_resample_indices(cluster, 200, np.random.default_rng(3))
    assert len(out) == 200
    sizes = {10: 3, 20: 2, 30: 1, 40: 4}
    for idx in out:
        labels, counts = np.unique(cluster[idx], return_counts=True)
        for lab, cnt in zip(labels, counts):
            assert cnt % sizes[lab] == 0
        drawn = sum(cnt // sizes[lab] for lab, cnt in zip(labels, counts))
        assert drawn == 4


def test_resample_indices_reproducible():
    a = bs.resample_indices(20, 5, np.random.default_rng(9))
    b = bs.resample_indices(20, 5, np.random.default_rng(9))
    np.testing.assert_array_equal(a, b)
    assert a.min() >= 0 and a.max() < 20


def test_monte_carlo_draws_moments_and_interval():
    rng = np.random.default_rng(4)
    cov = np.array([[0.04, 0.01], [0.01, 0.09]])
    d = bs.monte_carlo_draws(np.array([1.0, 2.0]), cov, 200000, rng)
    np.testing.assert_allclose(d.mean(axis=0), [1.0, 2.0], atol=0.003)
    # SE of a sample covariance ~ sqrt((s11 s22 + s12^2) / N) <= 1.5e-4 here; allow 4 SE
    np.testing.assert_allclose(np.cov(d.T), cov, atol=6e-4)
    low, high = bs.monte_carlo_interval(np.array([0.0]), np.array([[1.0]]), n_draws=200000, rng=rng)
    assert low[0] == pytest.approx(-1.959964, abs=0.02)
    assert high[0] == pytest.approx(1.959964, abs=0.02)
    with pytest.raises(DataValidationError, match="positive semi-definite"):
        bs.monte_carlo_draws(np.zeros(2), np.array([[1.0, 2.0], [2.0, 1.0]]), 5, rng)


def test_check_n_boot_warns_for_small_counts():
    with pytest.warns(BootstrapWarning, match="at least 1000"):
        bs.check_n_boot(999, "bca")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert bs.check_n_boot(999, "percentile") == 999
    with pytest.warns(BootstrapWarning, match="at least 500"):
        bs.check_n_boot(100, "percentile")
