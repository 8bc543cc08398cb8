"""run_replicates: independent streams keyed by replicate index, identical on every backend."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError
from mutualaid_outcomes.models.power import power_mediation, power_survival
from mutualaid_outcomes.parallel import (
    n_workers,
    replicate_seed,
    root_seed_sequence,
    run_replicates,
)

# A picklable function that worker processes can import by reference: test-module
# functions are not importable by workers under pytest's importlib import mode.
_draw = functools.partial(np.random.Generator.normal, size=3)


def _stack(results: list[np.ndarray]) -> np.ndarray:
    return np.vstack(results)


def test_streams_are_spawn_children_of_the_seed():
    got = _stack(run_replicates(_draw, 6, rng=123))
    expected = np.vstack(
        [np.random.default_rng(s).normal(size=3) for s in np.random.SeedSequence(123).spawn(6)]
    )
    np.testing.assert_array_equal(got, expected)
    # replicates differ from each other (independent streams, not one stream reused)
    assert len({tuple(r) for r in got}) == 6


def test_replicate_seed_matches_spawn_without_mutating_root():
    root = np.random.SeedSequence(9)
    kids = np.random.SeedSequence(9).spawn(5)
    for i, kid in enumerate(kids):
        assert replicate_seed(root, i).generate_state(4).tolist() == kid.generate_state(4).tolist()
    assert root.n_children_spawned == 0


@pytest.mark.parametrize("batch_size", [1, 4, 100])
def test_batch_size_does_not_change_results(batch_size):
    ref = _stack(run_replicates(_draw, 10, rng=5))
    got = _stack(run_replicates(_draw, 10, rng=5, batch_size=batch_size))
    np.testing.assert_array_equal(got, ref)


def test_joblib_two_workers_bit_identical():
    ref = _stack(run_replicates(_draw, 25, rng=7))
    got = _stack(run_replicates(_draw, 25, rng=7, n_jobs=2, batch_size=3))
    np.testing.assert_array_equal(got, ref)


def test_generator_seed_is_reproducible_and_advances():
    a = _stack(run_replicates(_draw, 4, rng=np.random.default_rng(1)))
    b = _stack(run_replicates(_draw, 4, rng=np.random.default_rng(1)))
    np.testing.assert_array_equal(a, b)
    g = np.random.default_rng(1)
    first = _stack(run_replicates(_draw, 4, rng=g))
    second = _stack(run_replicates(_draw, 4, rng=g))
    assert not np.array_equal(first, second)


def test_seed_sequence_used_as_root():
    seq = np.random.SeedSequence(44)
    np.testing.assert_array_equal(
        _stack(run_replicates(_draw, 3, rng=seq)), _stack(run_replicates(_draw, 3, rng=44))
    )
    assert root_seed_sequence(seq) is seq


def test_bad_arguments():
    with pytest.raises(ArgumentTypeError, match="`func` must be callable"):
        run_replicates(3, 2, rng=1)
    with pytest.raises(DataValidationError, match="`n_sims` must be an integer >= 1; got 0"):
        run_replicates(_draw, 0, rng=1)
    with pytest.raises(ArgumentTypeError, match="`n_sims` must be an integer"):
        run_replicates(_draw, 2.5, rng=1)
    with pytest.raises(ArgumentTypeError, match="`n`, which was renamed `n_sims`"):
        run_replicates(_draw, n=2, rng=1)
    with pytest.raises(ArgumentTypeError, match="`n_jobs` must be a non-zero integer"):
        run_replicates(_draw, 2, rng=1, n_jobs=0)
    with pytest.raises(DataValidationError, match="`batch_size` must be an integer >= 1"):
        run_replicates(_draw, 2, rng=1, batch_size=0)
    with pytest.raises(ArgumentTypeError, match="`client` must be a dask.distributed.Client"):
        run_replicates(_draw, 2, rng=1, client="tcp://localhost:8786")
    with pytest.raises(ArgumentTypeError, match="`rng` must be"):
        run_replicates(_draw, 2, rng=np.random.RandomState(1))
    with pytest.raises(ArgumentTypeError, match="non-negative"):
        run_replicates(_draw, 2, rng=-1)


def test_results_returned_in_replicate_order():
    # each replicate returns its own spawn key; order must follow the index, not completion
    out = run_replicates(lambda g: g.bit_generator.seed_seq.spawn_key, 12, rng=3, n_jobs=2)
    assert out == [(i,) for i in range(12)]


# --------------------------------------------------------------------------- Dask


@pytest.fixture(scope="module")
def dask_client():
    # only the Dask tests are skipped without dask; the rest of this module still runs
    distributed = pytest.importorskip(
        "dask.distributed",
        reason="dask[distributed] is not installed; the Dask backend is an optional extra",
    )
    # In-process workers start in well under a second; benchmarks/bench_scale.py checks the
    # same bit-identity on a cluster of worker processes (processes=True).
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_dask_bit_identical(dask_client):
    ref = _stack(run_replicates(_draw, 30, rng=11))
    got = _stack(run_replicates(_draw, 30, rng=11, client=dask_client, batch_size=4))
    np.testing.assert_array_equal(got, ref)
    assert n_workers(client=dask_client) == 2


def test_power_functions_identical_across_backends(dask_client):
    kw = {"a": 0.3, "b": 0.3, "n_sims": 40, "rng": 8, "test": "monte_carlo"}
    serial = power_mediation([60, 90], **kw)
    joblib2 = power_mediation([60, 90], n_jobs=2, **kw)
    dask = power_mediation([60, 90], client=dask_client, **kw)
    np.testing.assert_array_equal(serial.rejections, joblib2.rejections)
    np.testing.assert_array_equal(serial.rejections, dask.rejections)
    assert (serial.glance()["backend"][0], joblib2.glance()["backend"][0]) == (
        "serial",
        "joblib-loky",
    )
    assert dask.glance()["backend"][0] == "dask"

    skw = {"hazard_ratio": 0.7, "event_prob": 0.4, "n_sims": 40, "rng": 2}
    s1 = power_survival([100, 150], exposure="time_varying", **skw)
    s2 = power_survival([100, 150], exposure="time_varying", n_jobs=2, batch_size=7, **skw)
    s3 = power_survival([100, 150], exposure="time_varying", client=dask_client, **skw)
    pd_cols = ["n", "estimate", "mean_events"]
    assert s1.tidy()[pd_cols].equals(s2.tidy()[pd_cols])
    assert s1.tidy()[pd_cols].equals(s3.tidy()[pd_cols])
