"""Time the Cox engine against lifelines and R survival in one run, and print the ratios.

Scenarios (6 covariates, Efron ties, as ``coxph``'s default):

* ``fit_cox`` on simulated right-censored data with day-level (heavily tied) and
  continuous (untied) event times, N = 10^4 and 10^5 (and 10^6 with ``--big``);
* ``fit_cox`` with a cluster-robust variance (``cluster=``, R ``+ cluster(cl)``) at
  N = 10^5 with day-level times;
* ``fit_cox_time_varying`` with robust SEs by person on the sample cohort's daily
  counting-process data (one row per person-day at risk, about 360,000 rows);
* peak memory of ``fit_cox`` at N = 10^6 in a fresh subprocess (tracemalloc peak and
  the resident-set high-water mark before and after the fit).

Every timing is the median of ``--repeats`` runs (3 by default) of the whole public call;
R is timed inside R with ``system.time`` on the same data (written to a temporary CSV,
reading not timed). A run that takes longer than ``--budget`` seconds is not repeated.
The script prints the estimates' largest relative difference from R (R runs with its
default convergence, ``eps = 1e-9``; the R reference tests use 1e-12), the ratios
ours / peer (below 1 means we are faster), the growth of our time from 10^4 to 10^6
and the load average, since the machine may be shared.

Usage:  python benchmarks/bench_survival.py [--big] [--repeats 3] [--budget 120]
                                            [--skip ours:continuous:100000 ...]
"""

from __future__ import annotations

import argparse
import importlib.util
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

COVS = ["x1", "x2", "x3", "x4", "x5", "x6"]
BETA = np.array([0.3, -0.5, 0.2, 0.4, 0.01, -0.1])
TV_COVS = ["a30", "m7", "phdd0"]


def make_data(n: int, times: str, seed: int = 20240601) -> pd.DataFrame:
    """Right-censored cohort: 2 binary, 2 normal, an age and a count covariate."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [
            rng.normal(size=n),
            rng.binomial(1, 0.5, n),
            rng.normal(size=n),
            rng.binomial(1, 0.3, n),
            np.round(rng.uniform(18, 80, n), 1),
            rng.poisson(3, n),
        ]
    ).astype(float)
    lp = (x - x.mean(axis=0)) @ BETA
    t = rng.exponential(365 * np.exp(-lp))
    c = rng.uniform(0, 730, n)
    time_ = np.minimum(t, c)
    if times == "day":
        time_ = np.ceil(time_)
    df = pd.DataFrame(x, columns=COVS)
    df.insert(0, "event", (t <= c).astype(int))
    df.insert(0, "time", time_)
    df["cl"] = rng.integers(0, max(n // 5, 1), n)
    return df


def daily_counting_process() -> pd.DataFrame:
    """The sample cohort as one (start, stop] row per person-day at risk."""
    from mutualaid_outcomes import datasets
    from mutualaid_outcomes.participation import relapse
    from mutualaid_outcomes.prep.counting_process import to_counting_process

    cal = datasets.load_sample("calendar")
    part = datasets.load_sample("participants")
    waves = datasets.load_sample("waves")
    ids = part["id"].to_numpy()
    rel = relapse.relapse_times(
        cal,
        id="id",
        date="day",
        drinks="drinks",
        definition="first_heavy",
        sex=part.set_index("id")["sex"],
        index_date=pd.Series(0, index=ids),
    ).dropna(subset=["duration"])
    phdd0 = waves.loc[waves["month"] == 0, ["id", "phdd"]].rename(columns={"phdd": "phdd0"})
    c = cal.loc[cal["id"].isin(rel["id"]), ["id", "day", "meetings"]].merge(phdd0, on="id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp = to_counting_process(
            c,
            rel,
            id="id",
            time="day",
            duration="duration",
            event="event",
            covariates=["phdd0"],
            rolling={"a30": ("meetings", 30, "any"), "m7": ("meetings", 7, "sum")},
            entry=0,
            merge=False,
        )
    return cp.data[["id", "start", "stop", "event", *TV_COVS]].dropna().reset_index(drop=True)


# ----------------------------------------------------------------------------- timing


def timed_runs(fn, repeats: int, budget: float) -> tuple[float, int, object]:
    """Median seconds of up to ``repeats`` runs (fewer when a run exceeds ``budget``)."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = fn()
        times.append(time.perf_counter() - t0)
        if times[-1] > budget:
            break
    return statistics.median(times), len(times), out


def ours_fit(df: pd.DataFrame, kind: str):
    from mutualaid_outcomes.models.survival.cox import fit_cox
    from mutualaid_outcomes.models.survival.cox_time_varying import fit_cox_time_varying

    if kind == "tv":
        return lambda: fit_cox_time_varying(
            df, "id", "start", "stop", "event", TV_COVS, cov_type="robust"
        )
    cluster = "cl" if kind == "cluster" else None
    return lambda: fit_cox(df, "time", "event", COVS, cluster=cluster)


def lifelines_fit(df: pd.DataFrame, kind: str):
    if kind == "tv":
        from lifelines import CoxTimeVaryingFitter

        sub = df[["id", "start", "stop", "event", *TV_COVS]]
        return lambda: CoxTimeVaryingFitter().fit(
            sub, id_col="id", event_col="event", start_col="start", stop_col="stop"
        )
    from lifelines import CoxPHFitter

    cols = ["time", "event", *COVS] + (["cl"] if kind == "cluster" else [])
    sub = df[cols]
    kw = {"cluster_col": "cl"} if kind == "cluster" else {}
    return lambda: CoxPHFitter().fit(sub, duration_col="time", event_col="event", **kw)


R_TEMPLATE = textwrap.dedent(
    """
    suppressPackageStartupMessages(library(survival))
    d <- read.csv("{path}")
    f <- {formula}
    tt <- numeric(0)
    for (i in seq_len({repeats})) {{
      tt[i] <- system.time(fit <- coxph(f, data = d, ties = "efron"))[["elapsed"]]
      if (tt[i] > {budget}) break
    }}
    cat("TIMES", tt, "\\n")
    cat("COEF", sprintf("%.17g", coef(fit)), "\\n")
    cat("SE", sprintf("%.17g", sqrt(diag(fit$var))), "\\n")
    cat("CONC", sprintf("%.17g", fit$concordance[["concordance"]]), "\\n")
    cat("VERSION", R.version$major, R.version$minor, as.character(packageVersion("survival")), "\\n")
    """
)


def r_fit(df: pd.DataFrame, kind: str, repeats: int, budget: float) -> dict | None:
    """Time coxph inside R; returns times, coefficients, SEs and concordance."""
    if shutil.which("Rscript") is None:
        return None
    if kind == "tv":
        formula = "Surv(start, stop, event) ~ " + " + ".join(TV_COVS) + " + cluster(id)"
    else:
        formula = "Surv(time, event) ~ " + " + ".join(COVS)
        formula += " + cluster(cl)" if kind == "cluster" else ""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        df.to_csv(path, index=False, float_format="%.17g")
        script = R_TEMPLATE.format(path=path, formula=formula, repeats=repeats, budget=budget)
        out = subprocess.run(
            ["Rscript", "-e", script], capture_output=True, text=True, check=True
        ).stdout
    res = {}
    for line in out.splitlines():
        key, *vals = line.split()
        res[key] = vals if key == "VERSION" else np.array(vals, dtype=float)
    return res


def agreement(ours, r: dict | None) -> str:
    if r is None:
        return "R not run"
    tidy = ours.tidy()
    d_coef = np.max(np.abs(tidy["estimate"].to_numpy() / r["COEF"] - 1))
    d_se = np.max(np.abs(tidy["std_error"].to_numpy() / r["SE"] - 1))
    d_c = abs(float(ours.glance()["concordance"].iloc[0]) / r["CONC"][0] - 1)
    return f"max rel. diff vs R: coef {d_coef:.1e}, SE {d_se:.1e}, concordance {d_c:.1e}"


# ----------------------------------------------------------------------------- report


def run_scenario(label, df, kind, args, rows) -> float | None:
    key_n = len(df)
    results = {}
    for peer in ("ours", "lifelines", "R"):
        tag = f"{peer}:{label.split()[0]}:{key_n}"
        if tag in args.skip or peer in args.skip:
            results[peer] = None
            continue
        if peer == "R":
            r = r_fit(df, kind, args.repeats, args.budget)
            results[peer] = None if r is None else (float(np.median(r["TIMES"])), len(r["TIMES"]))
            results["_r"] = r
            continue
        if peer == "lifelines" and importlib.util.find_spec("lifelines") is None:
            results[peer] = None  # lifelines is a test extra (it pins pandas < 3)
            continue
        fn = ours_fit(df, kind) if peer == "ours" else lifelines_fit(df, kind)
        sec, k, out = timed_runs(fn, args.repeats, args.budget)
        results[peer] = (sec, k)
        if peer == "ours":
            results["_ours"] = out
    rows.append((label, key_n, results))
    _print_row(label, key_n, results)
    ours = results["ours"]
    return None if ours is None else ours[0]


def _fmt(t) -> str:
    if t is None:
        return "       --     "
    sec, k = t
    return f"{sec:9.2f} s ({k})"


def _print_row(label, n, res) -> None:
    o, ll, r = res["ours"], res["lifelines"], res["R"]
    ratio_ll = f"{o[0] / ll[0]:6.2f}" if o and ll else "    --"
    ratio_r = f"{o[0] / r[0]:6.2f}" if o and r else "    --"
    print(
        f"{label:<30} {n:>9,} {_fmt(o)} {_fmt(ll)} {_fmt(r)}   {ratio_ll}   {ratio_r}",
        flush=True,
    )
    if o and res.get("_r") is not None:
        print(f"{'':<41}{agreement(res['_ours'], res['_r'])}", flush=True)


MEMORY_SCRIPT = textwrap.dedent(
    """
    import resource, sys, time, tracemalloc, warnings
    sys.path.insert(0, {bench_dir!r})
    from bench_survival import make_data, COVS
    from mutualaid_outcomes.models.survival.cox import fit_cox

    def high_water():
        # VmHWM starts afresh at exec; ru_maxrss may carry the parent's peak over
        try:
            with open("/proc/self/status") as fh:
                for line in fh:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    df = make_data(int(sys.argv[1]), sys.argv[2])
    rss0 = high_water()
    tracemalloc.start()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_cox(df, "time", "event", COVS)
    sec = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    rss1 = high_water()
    print(sec, peak, rss0, rss1, df.memory_usage().sum())
    """
)


def memory(n: int, times: str) -> None:
    script = MEMORY_SCRIPT.format(bench_dir=str(Path(__file__).resolve().parent))
    out = subprocess.run(
        [sys.executable, "-c", script, str(n), times], capture_output=True, text=True, check=True
    ).stdout.split()
    sec, peak, rss0, rss1, data = (float(v) for v in out)
    print(
        f"memory, fit_cox N = {n:,} ({times} times): tracemalloc peak {peak / 2**20:7.1f} MiB; "
        f"peak RSS {rss0 / 2**20:.0f} MiB with the data -> {rss1 / 2**20:.0f} MiB after the "
        f"fit (+{(rss1 - rss0) / 2**20:.0f}); input frame {data / 2**20:.0f} MiB; "
        f"{sec:.1f} s with tracing"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true", help="add N = 10^6 and the memory check")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget", type=float, default=120.0, help="seconds; no repeat above")
    ap.add_argument("--skip", nargs="*", default=[], help="peer or peer:scenario:n, e.g. R")
    ap.add_argument("--only", nargs="*", default=None, help="day, continuous, cluster, tv")
    ap.add_argument("--sizes", type=int, nargs="*", default=None, help="override the N grid")
    args = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}; {os.cpu_count()} cores")
    print(f"medians of {args.repeats} (number of runs in brackets); ratio = ours / peer")
    head = f"{'scenario':<30} {'N':>9} {'ours':>14} {'lifelines':>14} {'R coxph':>14}"
    print(head + "   /lifel.   /R")
    sizes = args.sizes or [10_000, 100_000] + ([1_000_000] if args.big else [])
    rows: list = []
    growth: dict[str, dict[int, float]] = {}
    for times in ("day", "continuous"):
        label = f"{times} fit_cox"
        if args.only is not None and times not in args.only:
            continue
        for n in sizes:
            t = run_scenario(label, make_data(n, times), "plain", args, rows)
            growth.setdefault(times, {})[n] = t
    if args.only is None or "cluster" in args.only:
        run_scenario("cluster fit_cox robust", make_data(100_000, "day"), "cluster", args, rows)
    if args.only is None or "tv" in args.only:
        run_scenario("tv fit_cox_time_varying", daily_counting_process(), "tv", args, rows)
    for times, g in growth.items():
        ns = sorted(n for n, t in g.items() if t)
        steps = [f"x{g[b] / g[a]:.1f} for N x{b // a}" for a, b in zip(ns, ns[1:])]
        print(f"growth of ours, {times} times: " + ", ".join(steps))
    if args.big and "memory" not in args.skip:
        for times in ("day", "continuous"):
            if f"memory:{times}" not in args.skip:
                memory(1_000_000, times)
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
