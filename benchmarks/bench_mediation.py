"""Time mutualaid_outcomes.mediate against pingouin, statsmodels and R lavaan in one run.

Data: N = 1,726 (the size of Project MATCH), three parallel mediators, five covariates.
Prints seconds per bootstrap resample for each implementation and the ratios, then times
N = 200,000 with 2,000 resamples and reports its peak memory (measured in a fresh
subprocess with tracemalloc and the resident-set high-water mark).

With ``--moderated`` it times the moderated model instead (PROCESS model 7: a moderator
on the three a paths, four covariates) beside pingouin (no moderation: it has none) and
R lavaan with ``:=`` definitions of the three indices of moderated mediation.

Usage:  python benchmarks/bench_mediation.py [--quick] [--moderated]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mutualaid_outcomes.models.mediation.product import mediate

N = 1726
MEDIATORS = ["m1", "m2", "m3"]
COVARIATES = ["c1", "c2", "c3", "c4", "c5"]


def make_data(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, 5))
    x = rng.poisson(15, n) + 3 * c[:, 0]
    m = 0.02 * x[:, None] + 0.2 * c[:, :3] + rng.normal(size=(n, 3))
    y = m @ np.array([0.3, 0.2, -0.15]) + 0.01 * x + c @ np.full(5, 0.1) + rng.normal(size=n)
    df = pd.DataFrame(c, columns=COVARIATES)
    df.insert(0, "x", x.astype(float))
    for j, name in enumerate(MEDIATORS):
        df[name] = m[:, j]
    df["y"] = y
    return df


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def cpu_median(fn, repeats: int) -> float:
    """Median CPU seconds (process time: all threads of this process) of ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def time_ours(df: pd.DataFrame, mediators: list[str], n_boot: int, ci: str, repeats: int = 10):
    mediate(df, "x", mediators, "y", COVARIATES, n_boot=500, ci="percentile", rng=0)  # warm-up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return best_of(
            lambda: mediate(
                df, "x", mediators, "y", COVARIATES, n_boot=n_boot, ci=ci, rng=1
            ).tidy(),
            repeats,
        )


def time_pingouin(df: pd.DataFrame, n_boot: int):
    import pingouin as pg

    return best_of(
        lambda: pg.mediation_analysis(
            data=df, x="x", m=MEDIATORS, y="y", covar=COVARIATES, n_boot=n_boot, seed=1
        ),
        2,
    )


def time_statsmodels(df: pd.DataFrame, n_rep: int):
    import statsmodels.api as sm
    from statsmodels.stats.mediation import Mediation

    def run():
        exog_out = sm.add_constant(df[["x", "m1", *COVARIATES]])
        exog_med = sm.add_constant(df[["x", *COVARIATES]])
        out = sm.OLS(df["y"], exog_out)
        med = sm.OLS(df["m1"], exog_med)
        Mediation(out, med, "x", "m1").fit(method="bootstrap", n_rep=n_rep, rng=1)

    return best_of(run, 1)


LAVAAN_SCRIPT = """
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{path}")
model <- '
  m1 ~ a1*x + c1 + c2 + c3 + c4 + c5
  m2 ~ a2*x + c1 + c2 + c3 + c4 + c5
  m3 ~ a3*x + c1 + c2 + c3 + c4 + c5
  y ~ x + b1*m1 + b2*m2 + b3*m3 + c1 + c2 + c3 + c4 + c5
  m1 ~~ m2
  m1 ~~ m3
  m2 ~~ m3
  ind1 := a1*b1
  ind2 := a2*b2
  ind3 := a3*b3
'
set.seed(1)
t <- system.time(fit <- sem(model, data = d, se = "bootstrap", bootstrap = {n_boot}))
cat(sprintf("ELAPSED %.4f\\n", t[["elapsed"]]))
"""


def time_lavaan(df: pd.DataFrame, n_boot: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df.to_csv(path, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(LAVAAN_SCRIPT.format(path=path.as_posix(), n_boot=n_boot))
        out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("ELAPSED"):
            return float(line.split()[1])
    print("lavaan run failed:", out.stderr[-500:], file=sys.stderr)
    return None


BIG_SCRIPT = """
import resource, time, tracemalloc, warnings
import sys
sys.path.insert(0, {bench_dir!r})
from bench_mediation import make_data, COVARIATES, MEDIATORS
from mutualaid_outcomes.models.mediation.product import mediate
df = make_data({n}, seed=3)
tracemalloc.start()
t0 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    res = mediate(df, "x", MEDIATORS, "y", COVARIATES, n_boot={n_boot}, ci="{ci}", rng=1)
    res.tidy()
elapsed = time.perf_counter() - t0
_, peak = tracemalloc.get_traced_memory()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"RESULT {{elapsed:.3f}} {{peak / 2**20:.1f}} {{rss / 1024:.1f}}")
"""


def time_big(n: int, n_boot: int, ci: str) -> tuple[float, float, float]:
    code = BIG_SCRIPT.format(
        bench_dir=str(Path(__file__).resolve().parent), n=n, n_boot=n_boot, ci=ci
    )
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    line = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT")][0]
    elapsed, peak, rss = (float(v) for v in line.split()[1:])
    return elapsed, peak, rss


LAVAAN_MODERATED = """
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{path}")
d$xw <- d$x * d$w
model <- '
  m1 ~ a1*x + w + a31*xw + c2 + c3 + c4 + c5
  m2 ~ a2*x + w + a32*xw + c2 + c3 + c4 + c5
  m3 ~ a3*x + w + a33*xw + c2 + c3 + c4 + c5
  y ~ x + b1*m1 + b2*m2 + b3*m3 + c2 + c3 + c4 + c5
  m1 ~~ m2 + m3
  m2 ~~ m3
  index1 := a31*b1
  index2 := a32*b2
  index3 := a33*b3
'
set.seed(1)
t <- system.time(fit <- sem(model, data = d, se = "bootstrap", bootstrap = {n_boot}))
cat(sprintf("ELAPSED %.4f\\n", t[["elapsed"]]))
"""


def moderated_data(n: int) -> pd.DataFrame:
    df = make_data(n)
    df["w"] = 0.5 * df["c1"] + np.random.default_rng(1).normal(size=n)
    return df


def time_moderated(df: pd.DataFrame, n_boot: int, ci: str, repeats: int = 5):
    kw = dict(moderator="w", moderated_paths=["a"], ci=ci)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mediate(df, "x", MEDIATORS, "y", COVARIATES[1:], n_boot=500, rng=0, **kw)  # warm-up
        return best_of(
            lambda: mediate(
                df, "x", MEDIATORS, "y", COVARIATES[1:], n_boot=n_boot, rng=1, **kw
            ).tidy(),
            repeats,
        )


def time_lavaan_moderated(df: pd.DataFrame, n_boot: int) -> float | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df.to_csv(path, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(LAVAAN_MODERATED.format(path=path.as_posix(), n_boot=n_boot))
        out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith("ELAPSED"):
            return float(line.split()[1])
    print("lavaan run failed:", out.stderr[-500:], file=sys.stderr)
    return None


def main_moderated(quick: bool) -> None:
    df = moderated_data(N)
    n_ours = 10000
    best, med = time_moderated(df, n_ours, "bca")
    best_u, med_u = time_ours(df, MEDIATORS, n_ours, "bca")
    n_pg = 200 if quick else 1000
    best_pg, med_pg = time_pingouin(df, n_pg)
    n_lav = 100 if quick else 500
    lav = time_lavaan_moderated(df, n_lav)
    rows = [
        ("ours, moderated a paths (model 7), BCa", n_ours, best, med),
        ("ours, same model without moderator, BCa", n_ours, best_u, med_u),
        ("pingouin 0.7 mediation_analysis (no moderation)", n_pg, best_pg, med_pg),
    ]
    if lav is not None:
        rows.append(("R lavaan bootstrap with := indices (R-internal timer)", n_lav, lav, lav))
    print(f"N = {N}, 3 parallel mediators, moderator on the a paths; best (median)")
    print(f"{'implementation':55s} {'resamples':>9s} {'seconds':>9s} {'ms/resample':>12s}")
    for name, b, best_t, med_t in rows:
        print(f"{name:55s} {b:9d} {best_t:9.3f} {1000 * best_t / b:12.4f}  [{med_t:.3f}]")
    ours = best / n_ours
    print(f"\n10,000 BCa resamples, moderated: {best:.3f} s (target < 1 s)")
    print(f"ratio moderated / unmoderated (ours): {best / best_u:8.2f}x")
    print(f"ratio pingouin (no moderation) / ours moderated: {best_pg / n_pg / ours:8.1f}x")
    if lav is not None:
        print(f"ratio lavaan moderated / ours moderated: {lav / n_lav / ours:8.1f}x")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer peer resamples")
    parser.add_argument("--moderated", action="store_true", help="time the moderated model")
    args = parser.parse_args(argv)
    if args.moderated:
        main_moderated(args.quick)
        return
    df = make_data(N)
    rows = []

    n_ours = 10000
    best, med = time_ours(df, MEDIATORS, n_ours, "bca")
    ours = best / n_ours
    rows.append(("ours, 3 mediators, BCa", n_ours, best, med))
    best_p, med_p = time_ours(df, MEDIATORS, n_ours, "percentile")
    rows.append(("ours, 3 mediators, percentile", n_ours, best_p, med_p))
    try:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            best_t1, med_t1 = time_ours(df, MEDIATORS, n_ours, "bca")
        rows.append(("ours, 3 mediators, BCa, BLAS limited to 1 thread", n_ours, best_t1, med_t1))
    except ImportError:
        pass
    best_1, med_1 = time_ours(df, ["m1"], n_ours, "bca")
    ours_one = best_1 / n_ours
    rows.append(("ours, 1 mediator, BCa", n_ours, best_1, med_1))

    n_pg = 200 if args.quick else 1000
    best_pg, med_pg = time_pingouin(df, n_pg)
    rows.append(("pingouin 0.7 mediation_analysis, 3 mediators", n_pg, best_pg, med_pg))

    n_sm = 20 if args.quick else 100
    best_sm, med_sm = time_statsmodels(df, n_sm)
    rows.append(("statsmodels Mediation, 1 mediator", n_sm, best_sm, med_sm))

    n_lav = 100 if args.quick else 500
    lav = time_lavaan(df, n_lav)
    if lav is not None:
        rows.append(("R lavaan bootstrap (R-internal timer), 3 mediators", n_lav, lav, lav))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cpu_ours = cpu_median(
            lambda: mediate(df, "x", MEDIATORS, "y", COVARIATES, n_boot=n_ours, ci="bca", rng=1),
            10,
        )
        import pingouin as pg

        cpu_pg = cpu_median(
            lambda: pg.mediation_analysis(
                data=df, x="x", m=MEDIATORS, y="y", covar=COVARIATES, n_boot=n_pg, seed=1
            ),
            3,
        )

    print(f"N = {N}, 3 parallel mediators, 5 covariates; best of repeats (median in brackets)")
    print(f"{'implementation':55s} {'resamples':>9s} {'seconds':>9s} {'ms/resample':>12s}")
    for name, b, best_t, med_t in rows:
        print(f"{name:55s} {b:9d} {best_t:9.3f} {1000 * best_t / b:12.4f}  [{med_t:.3f}]")
    print()
    print(
        f"10,000 BCa resamples: {best:.3f} s wall (best); CPU median of 10: {cpu_ours:.3f} s "
        f"(target 0.25 s); load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"CPU per resample, pingouin / ours (median of 3 / of 10): "
        f"{cpu_pg / n_pg / (cpu_ours / n_ours):8.1f}x"
    )
    print(
        f"ratio pingouin / ours (per resample, 3 mediators): {best_pg / n_pg / ours:8.1f}x "
        "(target >= 20x)"
    )
    print(f"ratio statsmodels / ours (per resample, 1 mediator): {best_sm / n_sm / ours_one:8.1f}x")
    if lav is not None:
        print(f"ratio lavaan / ours (per resample, 3 mediators): {lav / n_lav / ours:8.1f}x")

    n_big, b_big = 200_000, 2000
    for ci in ("percentile", "bca"):
        elapsed, peak, rss = time_big(n_big, b_big, ci)
        print(
            f"N = {n_big:,}, {b_big} {ci} resamples: {elapsed:.2f} s, peak traced memory "
            f"{peak:.0f} MiB, peak RSS {rss:.0f} MiB (limit 2048 MiB)"
        )


if __name__ == "__main__":
    main()
