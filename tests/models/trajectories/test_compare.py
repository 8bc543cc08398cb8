"""compare_trajectories: criteria table, BLRT (serial, joblib-free fake client, Dask)."""

import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, ConvergenceWarning, DataValidationError
from mutualaid_outcomes.models.trajectories import compare_trajectories


class SerialClient:
    """The two methods run_replicates uses of a Dask client, run in this process."""

    def map(self, func, *iterables, pure=False):
        return [func(*args) for args in zip(*iterables)]

    def gather(self, futures):
        return list(futures)

    def nthreads(self):
        return {"worker": 1}


@pytest.fixture(scope="module")
def two_class():
    rng = np.random.default_rng(3)
    n, t = 200, np.arange(5.0)
    hi = rng.random(n) < 0.4
    y = rng.poisson(np.exp(np.where(hi[:, None], 1.5 + 0.1 * t, -0.5 + 0.0 * t)))
    return pd.DataFrame({"id": np.repeat(np.arange(n), 5), "t": np.tile(t, n), "y": y.ravel()})


@pytest.fixture(scope="module")
def compared(two_class):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 3 classes on 2-class data
        return compare_trajectories(
            two_class, "id", "t", "y", 3, degree=1, family="poisson", n_starts=4, n_boot=9,
            boot_starts=2, rng=4,
        )  # fmt: skip


def test_table(compared):
    t = compared.table
    assert t["n_groups"].tolist() == [1, 2, 3]
    assert t["df"].tolist() == [2, 5, 8]
    for k in (1, 2, 3):
        g = compared.fits[k].glance().iloc[0]
        row = t[t["n_groups"] == k].iloc[0]
        for c in ("loglik", "bic", "aic", "smallest_class"):
            assert row[c] == g[c]
    assert np.isnan(t.loc[0, "blrt_p_value"]) and t.loc[0, "blrt_n_boot"] == 0
    g = compared.glance().iloc[0]
    assert g["best_bic"] == 2 and g["n_boot"] == 9 and g["seed"] == 4
    tidy = compared.tidy()
    assert tidy["term"].tolist() == ["1 classes", "2 classes", "3 classes"]
    np.testing.assert_allclose(tidy["estimate"], t["loglik"])


def test_blrt(compared):
    t = compared.table.set_index("n_groups")
    lr = 2 * (compared.fits[2].loglik - compared.fits[1].loglik)
    assert t.loc[2, "blrt_statistic"] == pytest.approx(lr)
    reps = compared.blrt_replicates
    b2 = reps[reps["n_groups"] == 2]["statistic"].to_numpy()
    assert len(b2) == 9 and t.loc[2, "blrt_n_boot"] == 9
    # two well-separated classes: no bootstrap LR under one class comes close
    assert t.loc[2, "blrt_p_value"] == pytest.approx(1 / 10)
    assert np.all(b2 < lr / 10)
    b3 = reps[reps["n_groups"] == 3]["statistic"].to_numpy()
    p3 = (1 + np.sum(b3 >= t.loc[3, "blrt_statistic"])) / 10
    assert t.loc[3, "blrt_p_value"] == pytest.approx(p3)


def test_blrt_same_on_any_backend(two_class):
    kw = dict(degree=1, family="poisson", n_starts=3, n_boot=4, boot_starts=2, rng=8)
    a = compare_trajectories(two_class, "id", "t", "y", [1, 2], **kw)
    b = compare_trajectories(two_class, "id", "t", "y", [1, 2], client=SerialClient(), **kw)
    pd.testing.assert_frame_equal(a.blrt_replicates, b.blrt_replicates)
    pd.testing.assert_frame_equal(a.table, b.table)


def test_blrt_on_dask(two_class):
    distributed = pytest.importorskip("dask.distributed")
    kw = dict(degree=1, family="poisson", n_starts=2, n_boot=3, boot_starts=1, rng=2)
    ref = compare_trajectories(two_class, "id", "t", "y", [1, 2], **kw)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        got = compare_trajectories(two_class, "id", "t", "y", [1, 2], client=client, **kw)
    pd.testing.assert_frame_equal(got.blrt_replicates, ref.blrt_replicates)


def test_compare_bad_input(two_class):
    with pytest.raises(ArgumentTypeError, match="`degree` of compare_trajectories"):
        compare_trajectories(two_class, "id", "t", "y", 2, degree=[1, 2], family="poisson")
    with pytest.raises(DataValidationError, match="repeated values"):
        compare_trajectories(two_class, "id", "t", "y", [1, 1], family="poisson")
    with pytest.raises(ArgumentTypeError, match="`n_groups` must be an integer K"):
        compare_trajectories(two_class, "id", "t", "y", "3", family="poisson")
    with pytest.raises(DataValidationError, match="`n_boot` must be an integer >= 0"):
        compare_trajectories(two_class, "id", "t", "y", 2, family="poisson", n_boot=-1)


def test_failed_k_is_reported_not_raised():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"id": np.repeat(np.arange(40), 3), "t": np.tile([0.0, 1.0, 2.0], 40)})
    df["y"] = rng.normal(size=len(df))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = compare_trajectories(
            df, "id", "t", "y", [1, 5], degree=1, variance="group", n_starts=3, rng=1
        )
    row = res.table.set_index("n_groups").loc[5]
    assert np.isnan(row["loglik"]) and "None of the 3 starts" in row["message"]
    assert 5 not in res.fits


@pytest.mark.slow
def test_bic_selects_true_number_of_classes(sim):
    """BIC picks the true 3 classes in most of 10 simulated data sets (N = 400)."""
    rng = np.random.default_rng(99)
    picked = []
    for _ in range(10):
        df, _ = sim(rng, "gaussian", n=400, sigma=1.5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = compare_trajectories(df, "id", "time", "y", 5, n_starts=8, rng=rng)
        picked.append(int(res.glance()["best_bic"].iloc[0]))
    print(f"BIC choices over 10 data sets (truth 3): {picked}")
    assert sum(k == 3 for k in picked) >= 8, picked
