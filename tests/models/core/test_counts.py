"""Bootstrap counts drawn in seeded blocks: independent of chunking and of threads."""

from __future__ import annotations

import numpy as np
import pytest

from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.models._core import counts
from mutualaid_outcomes.models.mediation.product import mediate

SEEDS = range(4)


def _naive(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Each resample's indices, from its block's generator, counted by bincount."""
    entropy = np.random.default_rng(seed).integers(0, 2**32, size=4, dtype=np.uint64)
    block = counts.block_size(n)
    out = np.empty((n_boot, n))
    for j in range(-(-n_boot // block)):
        # a block's indices are one call: uint16 draws are buffered across a call
        m = min(block, n_boot - j * block)
        idx = counts.block_generator(entropy, j).integers(0, n, size=(m, n), dtype=np.uint16)
        for i, row in enumerate(idx):
            out[j * block + i] = np.bincount(row, minlength=n)
    return out


def _mapped(n: int, n_boot: int, seed: int, chunk_size: int, n_threads: int) -> np.ndarray:
    out = np.full((n_boot, n), np.nan)

    def consume(start: int, c: np.ndarray) -> None:
        out[start : start + c.shape[0]] = c

    counts.map_bootstrap_counts(
        n,
        n_boot,
        np.random.default_rng(seed),
        consume,
        chunk_size=chunk_size,
        n_threads=n_threads,
    )
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_threads_and_chunks_give_the_naive_counts(seed):
    n = 40 + 613 * seed  # blocks of 3276 down to 69 resamples
    n_boot = 7000 if seed == 0 else 300 + 37 * seed
    ref = _naive(n, n_boot, seed)
    for chunk, threads in [(1, 1), (11, 2), (250, 3), (n_boot, 2)]:
        np.testing.assert_array_equal(_mapped(n, n_boot, seed, chunk, threads), ref)
    serial = np.concatenate(
        list(counts.iter_bootstrap_counts(n, n_boot, np.random.default_rng(seed), 17))
    )
    np.testing.assert_array_equal(serial, ref)
    assert (ref.sum(axis=1) == n).all()


def test_more_units_than_uint16_use_wide_indices():
    n = 70_000
    c = next(counts.iter_bootstrap_counts(n, 3, np.random.default_rng(5)))
    assert c.shape == (3, n)
    assert (c.sum(axis=1) == n).all()
    assert c[:, 65_536:].sum() > 0  # units beyond the uint16 range are drawn


def test_consume_errors_propagate():
    def consume(start: int, c: np.ndarray) -> None:
        if start > 0:
            raise ZeroDivisionError("boom")

    with pytest.raises(ZeroDivisionError, match="boom"):
        counts.map_bootstrap_counts(
            5000, 500, np.random.default_rng(1), consume, chunk_size=100, n_threads=2
        )


def test_n_threads_validated():
    with pytest.raises(DataValidationError, match="n_threads"):
        counts.map_bootstrap_counts(5, 10, np.random.default_rng(0), lambda s, c: None, n_threads=0)


def test_mediate_draws_do_not_depend_on_threads(monkeypatch):
    rng = np.random.default_rng(4)
    n = 400
    x = rng.normal(size=n)
    m = 0.4 * x[:, None] + rng.normal(size=(n, 2))
    import pandas as pd

    df = pd.DataFrame({"x": x, "m1": m[:, 0], "m2": m[:, 1], "c1": rng.normal(size=n)})
    df["y"] = 0.3 * df.m1 + 0.2 * df.m2 + 0.1 * df.x + rng.normal(size=n)
    draws = []
    for threads in (1, 2):
        monkeypatch.setattr(counts, "_MAX_THREADS", threads)
        monkeypatch.setattr(counts, "available_cores", lambda: 2)
        res = mediate(df, "x", ["m1", "m2"], "y", ["c1"], n_boot=1000, ci="bca", rng=9)
        draws.append(res.draws.to_numpy())
    np.testing.assert_array_equal(draws[0], draws[1])
