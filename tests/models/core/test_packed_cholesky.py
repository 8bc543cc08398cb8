"""Batched Cholesky on packed, batch-last cross products against LAPACK and least squares."""

from __future__ import annotations

import numpy as np
import pytest

from mutualaid_outcomes.models._core.ols import RIDGE_FLOOR, Packer, sweep
from mutualaid_outcomes.models._core.packed_cholesky import PackedCholesky

# Both sides factorise the same well-conditioned matrices in float64 (a different order
# of operations only).
RTOL = 1e-10
SEEDS = range(5)


def _batch(seed: int, n: int, p: int, m: int) -> tuple[np.ndarray, np.ndarray, Packer]:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, p))
    z[:, 1:] += 0.5 * z[:, :1]  # correlated columns
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=m).astype(float)
    packer = Packer(z)
    return z, w, packer


@pytest.mark.parametrize("seed", SEEDS)
def test_factor_equals_lapack_cholesky_and_forward_substitution(seed):
    rng = np.random.default_rng(seed)
    n, p_all, m = int(rng.integers(30, 80)), int(rng.integers(2, 7)), 13
    _, w, packer = _batch(seed, n, p_all, m)
    d = packer.d
    p = int(rng.integers(1, d))
    chol = PackedCholesky(d)
    r, ok = chol.factor(packer.packed_t @ w.T, p)
    assert ok.all()
    s = packer.gram(w)
    for b in range(m):
        lower = np.linalg.cholesky(s[b, :p, :p])
        upper = np.zeros((p, d))
        upper[:, :p] = lower.T
        upper[:, p:] = np.linalg.solve(lower, s[b, :p, p:])
        got = np.array(
            [[r[chol.pos(i, j), b] if j >= i else 0.0 for j in range(d)] for i in range(p)]
        )
        np.testing.assert_allclose(got, upper, rtol=RTOL, atol=1e-10 * np.abs(upper).max())


@pytest.mark.parametrize("seed", SEEDS)
def test_coefficients_equal_weighted_least_squares(seed):
    rng = np.random.default_rng(10 + seed)
    n, p_all, m = int(rng.integers(30, 80)), int(rng.integers(3, 7)), 9
    z, w, packer = _batch(seed, n, p_all, m)
    d = packer.d
    q = int(rng.integers(1, d - 1))
    cols = sorted(rng.choice(np.arange(q, d), size=min(2, d - q), replace=False).tolist())
    first = int(rng.integers(0, q))
    chol = PackedCholesky(d)
    r, ok = chol.factor(packer.packed_t @ w.T, q)
    beta = chol.coefficients(r, q, cols, first)
    assert beta.shape == (q - first, len(cols), m) and ok.all()
    z1 = np.column_stack([np.ones(n), z])
    for b in range(m):
        sw = np.sqrt(w[b])[:, None]
        for c_i, c in enumerate(cols):
            ref = np.linalg.lstsq(z1[:, :q] * sw, z1[:, c] * sw[:, 0], rcond=None)[0]
            np.testing.assert_allclose(beta[:, c_i, b], ref[first:], rtol=RTOL, atol=1e-12)


def test_collinearity_rule_matches_the_sweep():
    rng = np.random.default_rng(3)
    n, m = 60, 40
    z = rng.normal(size=(n, 4))
    packer = Packer(z)
    w = rng.multinomial(n, np.full(n, 1.0 / n), size=m).astype(float)
    s = packer.gram(w)
    scale = np.logspace(-6, -14, m)
    # set entry (2, 2) so that 1 - R^2 of variable 2 on variables 0, 1 is ``scale``,
    # from 1e-6 down to 1e-14: the floor of the rule (1e-10) is crossed
    chol = PackedCholesky(packer.d)
    cross_t = packer.packed_t @ w.T
    for b in range(m):
        a = s[b, :2, :2]
        v = s[b, :2, 2]
        explained = v @ np.linalg.solve(a, v)
        total = explained / (1 - scale[b])
        cross_t[chol.pos(2, 2), b] = total
        s[b, 2, 2] = total
    _, ok = chol.factor(cross_t, 3)
    diag0 = np.diagonal(s, axis1=1, axis2=2).copy()
    ok_sweep = np.ones(m, dtype=bool)
    for k in range(3):
        sweep(s, k, diag0, ok_sweep, tail=True)
    np.testing.assert_array_equal(ok, ok_sweep)
    np.testing.assert_array_equal(ok, scale > RIDGE_FLOOR * 1.01)


def test_failed_systems_stay_finite_and_are_flagged():
    _, w, packer = _batch(1, 40, 3, 5)
    w[2] = 0.0  # an empty resample: zero matrix
    w[3] = 0.0
    w[3, :3] = 40.0 / 3  # three rows for four regressors: singular
    chol = PackedCholesky(packer.d)
    r, ok = chol.factor(packer.packed_t @ w.T, packer.d)
    assert ok.tolist() == [True, True, False, False, True]
    assert np.isfinite(r).all()
    beta = chol.coefficients(r, packer.d - 1, [packer.d - 1], 0)
    assert np.isfinite(beta).all()


def test_in_place_factorisation_needs_contiguous_floats():
    _, w, packer = _batch(2, 30, 2, 4)
    chol = PackedCholesky(packer.d)
    cross_t = packer.packed_t @ w.T
    r_copy, _ = chol.factor(cross_t, 2)
    r_same, _ = chol.factor(cross_t, 2, overwrite=True)
    assert r_same is cross_t
    np.testing.assert_array_equal(r_copy, r_same)
    with pytest.raises(RuntimeError, match="C-contiguous float64"):
        chol.factor(np.asfortranarray(packer.packed_t @ w.T), 2, overwrite=True)
