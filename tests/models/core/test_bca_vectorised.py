"""Vectorised BCa limits against numpy.quantile and a column-by-column implementation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import stats

from mutualaid_outcomes.errors import BootstrapWarning
from mutualaid_outcomes.models._core import bootstrap as bs


@pytest.mark.parametrize("seed", range(6))
def test_sorted_quantiles_equal_numpy_quantile_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        size, k = int(rng.integers(1, 400)), int(rng.integers(1, 5))
        x = rng.normal(size=(k, size)) * 10 ** rng.uniform(-3, 3)
        n_nan = rng.integers(0, size, size=k) if seed % 2 else np.zeros(k, dtype=int)
        for j in range(k):
            x[j, : n_nan[j]] = np.nan
        levels = rng.uniform(size=(k, 2))
        levels[rng.uniform(size=(k, 2)) < 0.1] = 1.0
        levels[rng.uniform(size=(k, 2)) < 0.1] = 0.0
        got = bs.sorted_quantiles(np.sort(x, axis=1), size - n_nan, levels)
        for j in range(k):
            ref = np.quantile(x[j][~np.isnan(x[j])], levels[j])
            np.testing.assert_array_equal(got[j], ref)


def _bca_by_column(draws, estimate, jackknife, conf_level):
    """The column loop the vectorised limits replaced."""
    z0 = bs.bias_correction(draws, estimate)
    acc = np.nan_to_num(bs.jackknife_acceleration(jackknife), nan=0.0)
    alpha = (1 - conf_level) / 2
    z = stats.norm.ppf([alpha, 1 - alpha])
    low, high = np.full(draws.shape[1], np.nan), np.full(draws.shape[1], np.nan)
    for j in np.flatnonzero(np.isfinite(z0)):
        col = draws[:, j][~np.isnan(draws[:, j])]
        zz = z0[j] + z
        denom = 1 - acc[j] * zz
        if np.any(denom <= 0):
            continue
        levels = stats.norm.cdf(z0[j] + zz / denom)
        low[j], high[j] = np.quantile(col, np.clip(levels, 0.0, 1.0))
    return low, high


@pytest.mark.parametrize("seed", range(4))
def test_bca_limits_equal_the_column_loop(seed):
    rng = np.random.default_rng(seed)
    b, k = 3000, 6
    draws = rng.gamma(2.0 + seed, size=(b, k)) * rng.uniform(0.5, 2, k)
    draws[rng.uniform(size=b) < 0.02] = np.nan  # failed resamples
    estimate = np.nanmedian(draws, axis=0) * rng.uniform(0.9, 1.1, k)
    jack = rng.gamma(2.0, size=(80, k))
    jack[:, 1] = 1.0  # identical leave-one-out values: acceleration 0
    estimate[2] = np.nanmax(draws[:, 2]) + 1.0  # every draw below: limits NaN
    jack[:, 3] = np.r_[np.zeros(79), 1e6]  # huge acceleration: undefined level
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BootstrapWarning)
        low, high = bs.bca_interval(draws, estimate, jack, 0.95)
    ref_low, ref_high = _bca_by_column(draws, estimate, jack, 0.95)
    np.testing.assert_array_equal(low, ref_low)
    np.testing.assert_array_equal(high, ref_high)
    assert np.isnan(low[2]) and np.isfinite(low[[0, 1, 4, 5]]).all()
