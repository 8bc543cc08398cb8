"""Scale: speed-up of simulation work with workers, and memory of a 1,000,000-row bootstrap.

Part 1 times two power-by-simulation workloads serially and on 2 joblib (loky) worker
processes -- and on a 2-process local Dask cluster when dask.distributed is installed --
checks that every backend returns bit-identical results, and prints the speed-up
(serial time / parallel time) and the parallel efficiency (speed-up / workers). The serial
run is timed twice: with the default BLAS threads and limited to one BLAS thread (what
each loky worker gets), so the speed-up is not flattered by a handicapped serial run.
Worker start-up is excluded (one warm-up call per backend) and printed separately. Each
timing is the best of REPEATS interleaved rounds, and a pure-Python CPU-bound loop
calibrates the speed-up attainable on the machine at the time (other processes' load
shows up there too).

Part 2 runs mediate() on N = 1,000,000 rows (single mediator, percentile bootstrap) in a
fresh subprocess per setting and reports the peak memory traced by tracemalloc during the
call and the process's resident-set high-water mark (ru_maxrss) before and after, for
several n_boot: the bootstrap works through the resamples in chunks, so memory should not
grow with n_boot.

Usage:  python benchmarks/bench_scale.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import textwrap
import time

import numpy as np

from mutualaid_outcomes.models.power import power_mediation, power_survival

WORKERS = 2
REPEATS = 3

MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys, time, tracemalloc, warnings
    import numpy as np, pandas as pd
    from mutualaid_outcomes.models.mediation.product import mediate

    n, n_boot = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    x = rng.binomial(1, 0.5, n).astype(float)
    m = 0.3 * x + rng.normal(size=n)
    y = 0.3 * m + 0.1 * x + rng.normal(size=n)
    df = pd.DataFrame({"x": x, "m": m, "y": y})
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mediate(df, "x", "m", "y", n_boot=n_boot, ci="percentile", rng=1)
    seconds = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    est = float(res.coef()["indirect[m]"])
    print(seconds, peak, rss_before * 1024, rss_after * 1024, est, df.memory_usage().sum())
    """
)


try:  # installed with scikit-learn (a dependency of the bench extra's pingouin)
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - then the serial run keeps the default BLAS threads
    from contextlib import nullcontext

    def threadpool_limits(limits: int):
        return nullcontext()


def _busy(k: int) -> int:
    total = 0
    for i in range(k):
        total += i * i
    return total


def calibration(quick: bool) -> float:
    """Speed-up of a pure-Python CPU-bound loop: the best any workload can get right now."""
    from joblib import Parallel, delayed

    k = 2_000_000 if quick else 6_000_000
    t_serial = t_par = np.inf
    for _ in range(REPEATS):
        t_serial = min(t_serial, timed(lambda: [_busy(k) for _ in range(2 * WORKERS)])[0])
        t_par = min(
            t_par,
            timed(
                lambda: Parallel(n_jobs=WORKERS, backend="loky")(
                    delayed(_busy)(k) for _ in range(2 * WORKERS)
                )
            )[0],
        )
    return t_serial / t_par


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def speedup(quick: bool) -> None:
    workloads = {
        "power_mediation (percentile bootstrap, n_boot=500, n=200/400)": lambda **kw: (
            power_mediation(
                [200, 400],
                a=0.25,
                b=0.25,
                test="percentile",
                n_boot=500,
                n_sims=20 if quick else 80,
                rng=1,
                **kw,
            )
        ),
        "power_survival (time-varying attendance, n=2000/4000)": lambda **kw: power_survival(
            [2000, 4000],
            hazard_ratio=0.8,
            event_prob=0.4,
            exposure="time_varying",
            n_sims=200 if quick else 1000,
            rng=1,
            **kw,
        ),
    }
    load = os.getloadavg()[0]
    print(f"Part 1: speed-up with workers (machine has {os.cpu_count()} cores)")
    print(f"  1-minute load average at start: {load:.1f}")
    if load > (os.cpu_count() or 1) - 0.5:
        print(
            "  WARNING: other processes are using the cores; wall-clock speed-ups are understated"
        )
    client = cluster = None
    try:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(
            n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    except ImportError:
        print("  dask.distributed not installed: Dask backend skipped")
    # worker start-up, excluded from the timings below
    t_loky, _ = timed(lambda: power_survival(100, 0.8, event_prob=0.4, n_sims=20, n_jobs=WORKERS))
    print(f"  loky worker start-up (first call): {t_loky:.2f} s")
    ideal = calibration(quick)
    print(
        f"  calibration: a pure-Python CPU-bound loop gets {ideal:.2f}x (best of {REPEATS}) "
        f"with {WORKERS} loky "
        "workers on this machine now (the attainable speed-up; 2.00x on idle cores)"
    )
    if client is not None:
        t_dask, _ = timed(
            lambda: power_survival(100, 0.8, event_prob=0.4, n_sims=20, client=client)
        )
        print(f"  Dask first call (cluster already running): {t_dask:.2f} s")
    for name, run in workloads.items():
        t_serial, ref = timed(run)
        best = {"serial (1 BLAS thread)": np.inf, "joblib loky, 2 workers": np.inf}
        if client is not None:
            best["Dask LocalCluster, 2 procs"] = np.inf
        # interleaved rounds, best of each: other processes' load hits every backend alike
        for _ in range(REPEATS):
            with threadpool_limits(1):
                t, _ = timed(run)
            best["serial (1 BLAS thread)"] = min(best["serial (1 BLAS thread)"], t)
            t, par = timed(lambda: run(n_jobs=WORKERS))  # noqa: B023
            assert np.array_equal(ref.rejections, par.rejections), "joblib results differ"
            best["joblib loky, 2 workers"] = min(best["joblib loky, 2 workers"], t)
            if client is not None:
                t, dres = timed(lambda: run(client=client))  # noqa: B023
                assert np.array_equal(ref.rejections, dres.rejections), "Dask results differ"
                best["Dask LocalCluster, 2 procs"] = min(best["Dask LocalCluster, 2 procs"], t)
        print(f"\n  {name}: {ref.n_sims} replicates x {len(ref.n_grid)} sizes (best of {REPEATS})")
        print(f"    serial (default BLAS threads) {t_serial:7.2f} s   (one run)")
        print(f"    serial (1 BLAS thread)        {best['serial (1 BLAS thread)']:7.2f} s")
        base = min(t_serial, best["serial (1 BLAS thread)"])
        for label, t in best.items():
            if label.startswith("serial"):
                continue
            ratio = base / t
            print(
                f"    {label:<29} {t:7.2f} s   speed-up {ratio:4.2f}x   "
                f"efficiency {ratio / WORKERS:5.1%}   (vs the faster serial run; "
                f"{ratio / ideal:5.1%} of the calibration)"
            )
        print("    results bit-identical across serial, joblib and Dask: yes")
    if client is not None:
        client.close()
        cluster.close()


def memory(quick: bool) -> None:
    settings = [(100_000, 200), (100_000, 1000)] if quick else [
        (250_000, 1000),
        (1_000_000, 200),
        (1_000_000, 1000),
    ]  # fmt: skip
    print("\nPart 2: mediate(), single mediator, percentile bootstrap; fresh process per row")
    print(
        f"  {'N':>9} {'n_boot':>6} {'seconds':>8} {'traced peak MB':>15} {'bytes/row':>9} "
        f"{'maxrss before MB':>17} {'maxrss after MB':>16} {'data MB':>8}"
    )
    for n, n_boot in settings:
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_SCRIPT, str(n), str(n_boot)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        seconds, peak, rss0, rss1, _, data_bytes = (float(v) for v in out)
        print(
            f"  {n:>9,} {n_boot:>6} {seconds:8.1f} {peak / 2**20:15.0f} {peak / n:9.0f} "
            f"{rss0 / 2**20:17.0f} {rss1 / 2**20:16.0f} {data_bytes / 2**20:8.0f}"
        )
    n_big, b_big = settings[-1]
    naive = n_big * b_big * 8 / 2**20
    print(
        f"  For scale: holding all {b_big} resamples' row indices at once (int64) would take "
        f"{naive:,.0f} MB at N = {n_big:,} (arithmetic, not run)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    speedup(args.quick)
    memory(args.quick)


if __name__ == "__main__":
    main()
