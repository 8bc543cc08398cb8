"""The batched bootstrap of ``mediate`` against a plain per-resample implementation.

Randomised small data sets (several seeds, parallel and serial models, one to three
mediators, zero to two covariates): every bootstrap draw of every path equals the
least-squares fit of the resampled rows (``numpy.linalg.lstsq`` on the repeated rows)
for the same resample counts, and the batched normal-equation solves agree with the
sweep they replaced, including which resamples fail the collinearity rule.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models._core import bootstrap as bs
from mutualaid_outcomes.models.mediation import _product_engine as pe
from mutualaid_outcomes.models.mediation.product import mediate

# Both sides solve the same well-conditioned least-squares problems in float64; they
# differ only by rounding (sums in another order, LU against QR).
RTOL = 1e-10
SEEDS = [0, 1, 2, 3]


def _data(seed: int, n: int, k: int, n_cov: int) -> tuple[pd.DataFrame, list, list]:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, n_cov))
    x = rng.normal(size=n) + (c[:, 0] if n_cov else 0.0)
    m = 0.4 * x[:, None] + rng.normal(size=(n, k))
    if n_cov:
        m += 0.2 * c[:, :1]
    y = m @ rng.uniform(-0.5, 0.5, k) + 0.2 * x + rng.normal(size=n)
    meds = [f"m{j + 1}" for j in range(k)]
    covs = [f"c{j + 1}" for j in range(n_cov)]
    df = pd.DataFrame(np.column_stack([x, m, c, y]), columns=["x", *meds, *covs, "y"])
    return df, meds, covs


def _coef(rows: pd.DataFrame, response: str, regressors: list[str]) -> pd.Series:
    x1 = np.column_stack([np.ones(len(rows)), rows[regressors].to_numpy()])
    beta = np.linalg.lstsq(x1, rows[response].to_numpy(), rcond=None)[0]
    return pd.Series(beta[1:], index=regressors)


def _reference_paths(rows: pd.DataFrame, meds: list, covs: list, model: str) -> dict:
    """Every path of one resample, each equation fitted on its own."""
    out = {}
    for j, mj in enumerate(meds):
        earlier = meds[:j] if model == "serial" else []
        fit = _coef(rows, mj, ["x", *earlier, *covs])
        out[f"a[{mj}]"] = fit["x"]
        for mi in earlier:
            out[f"d[{mi}->{mj}]"] = fit[mi]
    fit = _coef(rows, "y", ["x", *meds, *covs])
    out.update({f"b[{mj}]": fit[mj] for mj in meds})
    out["direct"] = fit["x"]
    return out


@pytest.mark.filterwarnings("ignore::mutualaid_outcomes.errors.BootstrapWarning")
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("model", ["parallel", "serial"])
def test_every_draw_equals_per_resample_least_squares(seed, model):
    rng = np.random.default_rng(100 + seed)
    k, n_cov = int(rng.integers(1, 4)), int(rng.integers(0, 3))
    n, n_boot = int(rng.integers(40, 90)), 30
    df, meds, covs = _data(seed, n, k, n_cov)
    res = mediate(df, "x", meds, "y", covs, model=model, n_boot=n_boot, ci="percentile", rng=seed)
    counts = bs.bootstrap_counts(n, n_boot, np.random.default_rng(seed)).astype(int)
    for b in range(n_boot):
        rows = df.iloc[np.repeat(np.arange(n), counts[b])]
        for term, value in _reference_paths(rows, meds, covs, model).items():
            assert res.draws.iloc[b][term] == pytest.approx(value, rel=RTOL, abs=1e-12)


def _cross_products(seed: int, spec: pe.Spec, n: int, m: int) -> tuple[pe.Engine, np.ndarray]:
    """Packed cross products of ``m`` resamples; resamples 0 and 1 are degenerate."""
    rng = np.random.default_rng(seed)
    d = 2 + spec.n_cov + spec.k
    z = rng.normal(size=(n, d))
    if spec.outcome_family == "logit":
        z[:, -1] = rng.integers(0, 2, n)
    counts = bs.bootstrap_counts(n, m, rng)
    # resample 0 draws only rows where the exposure is constant, resample 1 only rows
    # where the first mediator is: the collinearity rule must reject (at least) the first
    # in both implementations
    size = d + 2
    for b, col in ((0, 0), (1, 1 + spec.n_cov)):
        rows = np.arange(b * size, (b + 1) * size)
        z[rows, col] = 0.5
        counts[b] = 0.0
        counts[b, rows] = n / size
    zs, _, sd = pe.standardise(z, center_last=spec.outcome_family != "logit")
    engine = pe.Engine(spec, zs, sd)
    return engine, counts @ engine.packer.packed


@pytest.mark.parametrize(
    ("seed", "model", "family"),
    list(itertools.product(SEEDS, ["parallel", "serial"], ["gaussian", "logit"])),
)
def test_batched_solves_equal_the_sweep(seed, model, family):
    k = 1 + seed % 3
    spec = pe.make_spec(model, [f"m{j}" for j in range(k)], seed % 3, family)
    engine, cross = _cross_products(seed, spec, 60, 25)
    fast = engine._solve_paths(cross)
    sweep, ok = engine._sweep_paths(cross)
    assert not ok[0] and ok[2:].all()
    np.testing.assert_array_equal(np.isnan(fast).all(axis=1), ~ok)
    np.testing.assert_allclose(fast, sweep, rtol=RTOL, atol=1e-12)


def test_not_positive_definite_batch_falls_back_to_the_sweep():
    spec = pe.make_spec("parallel", ["m0", "m1"], 1, "gaussian")
    engine, cross = _cross_products(5, spec, 50, 8)
    cross[3] = 0.0  # an empty resample: not positive definite, Cholesky fails
    fast = engine._solve_paths(cross)
    sweep, ok = engine._sweep_paths(cross)
    assert not ok[3] and np.isnan(fast[3]).all()
    np.testing.assert_allclose(fast, sweep, rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_reused_count_buffer_gives_the_same_stream(seed):
    n, n_boot = 29 + 57 * seed, 83 + 5 * seed
    fresh = np.concatenate(
        list(bs.iter_bootstrap_counts(n, n_boot, np.random.default_rng(seed), chunk_size=13))
    )
    reused = np.concatenate(
        [
            c.copy()
            for c in bs.iter_bootstrap_counts(
                n, n_boot, np.random.default_rng(seed), chunk_size=13, reuse=True
            )
        ]
    )
    np.testing.assert_array_equal(fresh, reused)
    assert (reused.sum(axis=1) == n).all()
