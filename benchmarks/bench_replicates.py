"""Time replicate workers: serial, joblib and Dask, and the BLAS-thread effect, in one run.

Workload: ``power_mediation`` with the Monte Carlo test (many small least-squares fits per
replicate) at n = 200 and 400, ``--n-sims`` replicates per sample size. Timed:

* the replicate loop with the BLAS pool at its default size (``threadpool_limits``
  lifted for the comparison by calling the replicate function directly) and with one
  BLAS thread, as :func:`mutualaid_outcomes.parallel.run_replicates` now runs it;
* ``n_jobs=1`` (serial), ``n_jobs=-1`` (joblib/loky on :func:`available_cores` workers)
  and a local Dask cluster with that many single-threaded workers.

Results are identical for every backend (checked); the script prints wall-clock seconds,
the speed-up over serial and the load average (the machine may be shared, in which case
the attainable speed-up is below the number of workers).

Usage:  python benchmarks/bench_replicates.py [--n-sims 400] [--no-dask]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np

from mutualaid_outcomes.models.power import power_mediation
from mutualaid_outcomes.parallel import available_cores, blas_single_thread


def run(n_sims: int, **kw) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = power_mediation(
            [200, 400], a=0.3, b=0.3, test="monte_carlo", n_draws=1000, n_sims=n_sims, rng=3, **kw
        )
    return time.perf_counter() - t0, res.tidy()["estimate"].to_numpy()


def blas_effect(reps: int) -> tuple[float, float]:
    """Seconds for ``reps`` small OLS problems with the default BLAS pool and with one thread."""
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(300, 6)) for _ in range(reps)]

    def work() -> None:
        for x in xs:
            np.linalg.solve(x.T @ x, x.T @ x[:, 0])
            (x @ x.T)[:50, :50].sum()

    t0 = time.perf_counter()
    work()
    t_default = time.perf_counter() - t0
    with blas_single_thread():
        t0 = time.perf_counter()
        work()
        t_one = time.perf_counter() - t0
    return t_default, t_one


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-sims", type=int, default=400)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    cores = available_cores()
    print(f"load average before: {os.getloadavg()}; available cores: {cores}")
    t_def, t_one = blas_effect(2000)
    print(
        f"2000 small OLS problems: default BLAS pool {t_def:.2f} s, one thread {t_one:.2f} s "
        f"(ratio {t_def / t_one:.2f})"
    )
    run(20)  # warm-up (imports)
    rows = []
    t_serial, est = run(args.n_sims)
    rows.append(("serial (n_jobs=1)", t_serial))
    run(20, n_jobs=-1)  # start the loky workers (reused by the timed call)
    t_job, est_job = run(args.n_sims, n_jobs=-1)
    assert np.array_equal(est, est_job), "joblib results differ from serial"
    rows.append((f"joblib (n_jobs=-1, {cores} workers)", t_job))
    if not args.no_dask:
        from dask.distributed import Client, LocalCluster

        with LocalCluster(n_workers=cores, threads_per_worker=1, processes=True) as cluster:
            with Client(cluster) as client:
                run(20, client=client)  # workers import the package
                t_dask, est_dask = run(args.n_sims, client=client)
        assert np.array_equal(est, est_dask), "Dask results differ from serial"
        rows.append((f"Dask LocalCluster ({cores} x 1 thread)", t_dask))
    print(f"power_mediation, Monte Carlo test, n = 200 and 400, {args.n_sims} replicates each")
    for name, t in rows:
        print(f"  {name:40s} {t:8.2f} s   speed-up {t_serial / t:5.2f}x")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
