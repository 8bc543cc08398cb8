"""The logit-normal quadrature of ``causal_mediation`` against the rule it replaced.

``E[expit(c + s Z)]`` is now Gauss-Hermite for spreads ``s`` up to about 1.1 (the
trapezoid rule above, with a step 0.6 / s), to an absolute error of 1e-10, and evaluates ``expit`` as
``a / (a + v)``. Checked against the previous
trapezoid implementation, kept here verbatim, and against a much finer trapezoid rule;
whole analyses (logit outcome, quasi-Bayesian and bootstrap) give the same estimates
and the same draws as with the previous quadrature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from mutualaid_outcomes.models.mediation import _causal_engine as engine
from mutualaid_outcomes.models.mediation import _logit_normal as quadrature
from mutualaid_outcomes.models.mediation.causal import causal_mediation

# The new rule targets 1e-10 absolute error (engine.QUADRATURE_ATOL; the previous
# trapezoid rule 1e-12).
ATOL_RULE = engine.QUADRATURE_ATOL
# Required agreement of whole analyses between the old and the new quadrature.
ATOL_OLD_NEW = 1e-8
# Draws behind intervals evaluate the integrals in single precision (rounding about
# 1e-7 per person and draw, averaged in double precision): draws and interval limits
# agree with the double-precision values to this, far inside their Monte Carlo error.
ATOL_SINGLE_DRAWS = 1e-6
# ... and the proportions mediated (ratios over the total effect, near zero in some draws)
# to this relative error.
RTOL_SINGLE_RATIOS = 1e-4


def _old_expect(centre: np.ndarray, spread: np.ndarray, *, single: bool = False) -> np.ndarray:
    """The trapezoid loop used before (one expit per node, always in double precision)."""
    z, w = engine.logit_normal_nodes(float(np.max(np.abs(spread))))
    out = np.zeros_like(centre)
    for z_k, w_k in zip(z, w):
        out += w_k * special.expit(centre + spread * z_k)
    return out


def _old_means(base, shifts, spread, weights=None):
    """Means over persons from the previous per-person values, in double precision."""
    out = np.empty(shifts.shape)
    for j in range(shifts.shape[1]):
        e = _old_expect((np.asarray(base, float) + shifts[:, j : j + 1]).T, spread)
        out[:, j] = e.mean(axis=0) if weights is None else (e * weights.T).sum(axis=0)
    return out


def _fine(centre: np.ndarray, s: float) -> np.ndarray:
    """Trapezoid rule with a step 0.1 / s (at most 0.02) over +-12: error far below 1e-14."""
    h = min(0.02, 0.1 / s)
    k = int(np.ceil(12 / h))
    z = np.arange(-k, k + 1) * h
    w = h * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return special.expit(centre[:, None] + s * z[None, :]) @ w


@pytest.mark.parametrize(
    "s",
    [
        1e-6,
        0.01,
        0.049,
        0.05,
        0.051,
        0.13,
        0.3,
        0.47,
        0.6,
        0.74,
        0.8,
        0.96,
        1.08,
        1.3,
        1.45,
        1.46,
        2.0,
        3.7,
        6.0,
    ],
)
def test_rule_is_accurate_for_every_spread(s):
    c = np.linspace(-30.0, 30.0, 241)
    got = engine.logit_normal_expect(c[:, None], np.array([s]))[:, 0]
    np.testing.assert_allclose(got, _fine(c, s), rtol=0, atol=ATOL_RULE)
    np.testing.assert_allclose(got, _old_expect(c[:, None], np.array([s]))[:, 0], atol=ATOL_RULE)


@pytest.mark.parametrize("s", [1e-6, 0.049, 0.3, 0.6, 0.74, 1.08, 1.45, 1.9, 2.0, 2.05, 4.0])
def test_single_precision_rule_is_accurate(s):
    c = np.linspace(-30.0, 30.0, 241)
    z, w = engine.logit_normal_rule(s, single=True)
    assert z.size % 2 == 0 or z.size == engine.logit_normal_nodes(s)[0].size
    got = special.expit(c[:, None] + s * z[None, :]) @ w
    np.testing.assert_allclose(got, _fine(c, s), rtol=0, atol=engine.QUADRATURE_ATOL_SINGLE)
    assert z.size <= engine.logit_normal_rule(s)[0].size


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_batches_of_draws_agree_with_the_old_rule(seed):
    rng = np.random.default_rng(seed)
    n, s = 57, 23
    spread = rng.uniform(0.0, [0.3, 0.8, 1.5, 4.0][seed], s) * rng.choice([-1, 1], s)
    centre = rng.normal(0.0, 4.0, (n, s))
    new = engine.logit_normal_expect(centre, spread)
    np.testing.assert_allclose(new, _old_expect(centre, spread), rtol=0, atol=ATOL_OLD_NEW)
    # the rule for the largest spread serves every column: compare one column alone
    j = int(np.argmin(np.abs(spread)))
    alone = engine.logit_normal_expect(centre[:, j : j + 1], spread[j : j + 1])[:, 0]
    np.testing.assert_allclose(new[:, j], alone, rtol=0, atol=ATOL_RULE)


def test_extreme_centres_stay_finite():
    centre = np.array([[-5000.0, -800.0, -40.0, 0.0, 40.0, 800.0, 5000.0]]).T
    out = engine.logit_normal_expect(centre, np.array([0.7]))[:, 0]
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, _old_expect(centre, np.array([0.7]))[:, 0], atol=1e-15)
    assert out[0] < 1e-130 and out[-1] == pytest.approx(1.0, abs=1e-15)


@pytest.fixture(scope="module")
def logit_data() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 400
    c = rng.normal(size=n)
    t = rng.integers(0, 2, n).astype(float)
    m = 0.5 * t + 0.3 * c + rng.normal(size=n)
    y = rng.uniform(size=n) < special.expit(-0.3 + 0.4 * t + 0.7 * m + 0.2 * c)
    return pd.DataFrame({"t": t, "m": m, "c": c, "y": y.astype(float)})


@pytest.mark.parametrize(
    ("method", "interaction"),
    [("quasi_bayesian", False), ("quasi_bayesian", True), ("bootstrap", False)],
)
def test_whole_analysis_matches_the_old_quadrature(logit_data, monkeypatch, method, interaction):
    kw = dict(
        outcome_family="binomial",
        outcome_link="logit",
        method=method,
        interaction=interaction,
        rng=3,
    )
    kw["n_sims" if method == "quasi_bayesian" else "n_boot"] = 500
    new = causal_mediation(logit_data, "t", ["m"], "y", ["c"], **kw)
    monkeypatch.setattr(engine, "logit_normal_means", _old_means)
    old = causal_mediation(logit_data, "t", ["m"], "y", ["c"], **kw)
    ratio = np.array([t.startswith("prop_mediated") for t in new.terms])
    np.testing.assert_allclose(new.draws[:, ~ratio], old.draws[:, ~ratio], atol=ATOL_SINGLE_DRAWS)
    np.testing.assert_allclose(new.draws[:, ratio], old.draws[:, ratio], rtol=RTOL_SINGLE_RATIOS)
    a, b = new.tidy(), old.tidy()
    np.testing.assert_allclose(a["estimate"], b["estimate"], atol=ATOL_OLD_NEW)
    rows = a["term"].str.startswith("prop_mediated").to_numpy()
    for col in ("conf_low", "conf_high"):
        np.testing.assert_allclose(a[col][~rows], b[col][~rows], atol=ATOL_SINGLE_DRAWS)
        np.testing.assert_allclose(a[col][rows], b[col][rows], rtol=RTOL_SINGLE_RATIOS)


# ---------------------------------------------------------------------------
# means over persons (the path the estimands take)
# ---------------------------------------------------------------------------


def _fine_means(base, shifts, spread, weights=None):
    out = np.empty(shifts.shape)
    for i in range(base.shape[0]):
        for j in range(shifts.shape[1]):
            e = _fine(base[i] + shifts[i, j], abs(float(spread[i])))
            out[i, j] = e.mean() if weights is None else e @ weights[i]
    return out


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_means_match_a_fine_rule(seed, weighted):
    rng = np.random.default_rng(seed)
    s, n = 17, 40
    spread = np.sort(rng.uniform(0.0, [0.8, 1.6, 5.0][seed], s)) * rng.choice([-1, 1], s)
    base = rng.normal(0.0, 3.0, (s, n))
    shifts = rng.normal(0.0, 1.0, (s, 2))
    weights = rng.uniform(size=(s, n)) if weighted else None
    if weighted:
        weights /= weights.sum(axis=1, keepdims=True)
    ref = _fine_means(base, shifts, spread, weights)
    got = engine.logit_normal_means(base, shifts, spread, weights)
    np.testing.assert_allclose(got, ref, rtol=0, atol=ATOL_RULE)
    got32 = engine.logit_normal_means(base.astype(np.float32), shifts, spread, weights)
    np.testing.assert_allclose(got32, ref, rtol=0, atol=ATOL_SINGLE_DRAWS)


def test_means_of_extreme_centres_take_the_general_path():
    base = np.array([[-900.0, -60.0, 0.0, 35.0, 60.0, 900.0]])
    shifts = np.array([[0.0, 1.5]])
    spread = np.array([0.7])
    ref = _fine_means(np.clip(base, -700, 700), shifts, spread)
    for dtype in (np.float64, np.float32):
        got = engine.logit_normal_means(base.astype(dtype), shifts, spread)
        np.testing.assert_allclose(got, ref, rtol=0, atol=ATOL_RULE)


def test_draw_values_do_not_depend_on_order_blocks_or_threads(logit_data, monkeypatch):
    rng = np.random.default_rng(11)
    x = np.column_stack([np.ones(len(logit_data)), logit_data["c"]])
    design = engine.Design(
        t=logit_data["t"].to_numpy(),
        m=logit_data["m"].to_numpy(),
        y=logit_data["y"].to_numpy(),
        c=x[:, 1:],
        mediator_model="linear",
        outcome_model="logit",
        interaction=True,
    )
    s = 301
    bm = np.array([0.1, 0.5, 0.3]) + rng.normal(0, 0.05, (s, 3))
    by = np.array([-0.3, 0.4, 0.7, 0.1, 0.2]) + rng.normal(0, 0.3, (s, 5))
    sigma = np.full(s, 1.0)
    ref = engine.ikt_effects(bm, by, sigma, design, None, 0.0, 1.0, single=True, threads=1)
    two = engine.ikt_effects(bm, by, sigma, design, None, 0.0, 1.0, single=True, threads=2)
    np.testing.assert_array_equal(two, ref)
    perm = rng.permutation(s)
    shuffled = engine.ikt_effects(bm[perm], by[perm], sigma, design, None, 0.0, 1.0, single=True)
    np.testing.assert_array_equal(shuffled, ref[perm])
    monkeypatch.setattr(engine, "_BLOCK", 5000)  # blocks of 3 draws
    small = engine.ikt_effects(bm, by, sigma, design, None, 0.0, 1.0, single=True, threads=2)
    np.testing.assert_array_equal(small, ref)
    double = engine.ikt_effects(bm, by, sigma, design, None, 0.0, 1.0)
    ratio = np.array([t.startswith("prop_mediated") for t in engine.IKT_TERMS])
    np.testing.assert_allclose(ref[:, ~ratio], double[:, ~ratio], atol=ATOL_SINGLE_DRAWS)


def test_single_precision_draws_with_large_uncentred_covariates(monkeypatch):
    # a calendar year and a day count: large values whose effects cancel against the
    # intercept. Covariates are centred before the single-precision pass, so the draws
    # take the fast path (not the double-precision fallback for extreme centres) and
    # agree with double precision.
    rng = np.random.default_rng(5)
    n = 600
    year = rng.integers(2015, 2025, n) + rng.uniform(size=n)
    days = rng.uniform(40_000.0, 46_000.0, n)
    t = rng.integers(0, 2, n).astype(float)
    m = 0.5 * t + 0.2 * (year - 2020) + rng.normal(size=n)
    eta = -0.3 + 0.4 * t + 0.7 * m + 1.0 * (year - 2020) + 0.002 * (days - 43_000)
    y = (rng.uniform(size=n) < special.expit(eta)).astype(float)
    df = pd.DataFrame({"t": t, "m": m, "y": y, "year": year, "days": days})
    kw = dict(outcome_family="binomial", outcome_link="logit", rng=2)
    kw.update(method="quasi_bayesian", n_sims=500)
    general = []
    real_general = quadrature._means_general

    def spy(*args):
        general.append(args[0].dtype)
        return real_general(*args)

    monkeypatch.setattr(quadrature, "_means_general", spy)
    new = causal_mediation(df, "t", ["m"], "y", ["year", "days"], **kw)
    assert general == []
    monkeypatch.setattr(engine, "logit_normal_means", _old_means)
    old = causal_mediation(df, "t", ["m"], "y", ["year", "days"], **kw)
    ratio = np.array([t.startswith("prop_mediated") for t in new.terms])
    np.testing.assert_allclose(new.draws[:, ~ratio], old.draws[:, ~ratio], atol=ATOL_SINGLE_DRAWS)
    np.testing.assert_allclose(new.draws[:, ratio], old.draws[:, ratio], rtol=RTOL_SINGLE_RATIOS)
    np.testing.assert_allclose(new.tidy()["estimate"], old.tidy()["estimate"], atol=ATOL_OLD_NEW)
