"""Benchmark: design-based estimation on a 1,000,000-row survey, beside R survey.

Design: 100 strata x 20 PSUs (2,000 PSUs), 500 respondents per PSU, sampling weights,
10 analysis domains and 10 covariates; bootstrap replicate weights (80 replicates).
Timed, in this process and in R (Rscript, timed inside R with system.time on the same
data written to a temporary CSV file), each in the same run:

* a mean by 10 domains (svyby(~y, ~domain, design, svymean));
* a 10-covariate linear model (svyglm(y ~ x1 + ... + x10));
* the same logistic model (quasibinomial);
* each with linearisation and with the 80 bootstrap replicate weights (R makes its own
  80 replicates with as.svrepdesign; the replicates differ but the work is the same).

Run:  python benchmarks/bench_survey.py [--rows 1000000] [--no-r]
Prints one line per task: wall-clock seconds here and in R with their ratio, then the
CPU seconds of each (less sensitive to a shared machine's load) with their ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mutualaid_outcomes.models.survey import survey_design, survey_glm, survey_mean

N_STRATA, PSU_PER_STRATUM, N_REP, N_DOMAINS, N_COV = 100, 20, 80, 10, 10


def make_data(n: int, seed: int = 20240611) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_psu = N_STRATA * PSU_PER_STRATUM
    psu = np.sort(rng.integers(0, n_psu, n))
    stratum = psu // PSU_PER_STRATUM
    psu_effect = rng.normal(0, 0.5, n_psu)[psu]
    df = pd.DataFrame(
        {
            "stratum": stratum,
            "psu": psu,
            "w": rng.uniform(50, 150, n) * (1 + stratum % 3),
            "domain": rng.integers(0, N_DOMAINS, n),
        }
    )
    X = rng.normal(size=(n, N_COV))
    for j in range(N_COV):
        df[f"x{j + 1}"] = X[:, j]
    lin = X @ np.linspace(0.3, -0.3, N_COV) + psu_effect
    df["y"] = 2 + lin + rng.normal(size=n)
    df["yb"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-(lin - 0.5)))).astype(float)
    return df


def timed(fn, repeat: int = 1) -> tuple[float, float, object]:
    """Best wall-clock seconds, the CPU seconds of that run, and the result."""
    best, cpu, out = np.inf, np.nan, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t0
        if wall < best:
            best, cpu = wall, time.process_time() - c0
    return best, cpu, out


R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
cpu <- c()
tm <- function(expr) {
  st <- system.time(expr)
  cpu[length(cpu) + 1] <<- unname(st[["user.self"]] + st[["sys.self"]])
  unname(st[["elapsed"]])
}
res <- c()
res["design"] <- tm(des <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = d))
res["mean_by_lin"] <- tm(svyby(~y, ~domain, des, svymean))
f <- as.formula(paste("y ~", paste0("x", 1:10, collapse = " + ")))
fb <- as.formula(paste("yb ~", paste0("x", 1:10, collapse = " + ")))
res["glm_gauss_lin"] <- tm(svyglm(f, des))
res["glm_logit_lin"] <- tm(svyglm(fb, des, family = quasibinomial()))
set.seed(1)
res["replicates"] <- tm(rep <- as.svrepdesign(des, type = "bootstrap", replicates = 80))
res["mean_by_rep"] <- tm(svyby(~y, ~domain, rep, svymean))
res["glm_gauss_rep"] <- tm(svyglm(f, rep))
res["glm_logit_rep"] <- tm(svyglm(fb, rep, family = quasibinomial()))
write.csv(data.frame(task = names(res), seconds = res, cpu = cpu), args[2], row.names = FALSE)
"""


def run_r(df: pd.DataFrame) -> dict[str, tuple[float, float]]:
    if shutil.which("Rscript") is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        data, out, script = (Path(tmp) / n for n in ("d.csv", "out.csv", "bench.R"))
        df.to_csv(data, index=False)
        script.write_text(R_SCRIPT)
        print("  running R survey on the same data ...", flush=True)
        subprocess.run(["Rscript", str(script), str(data), str(out)], check=True)
        r = pd.read_csv(out)
    return {t: (s, c) for t, s, c in zip(r.task, r.seconds, r.cpu)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS threads here (threadpoolctl), e.g. 1 on a busy machine",
    )
    args = ap.parse_args()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads)
    df = make_data(args.rows)
    covs = " + ".join(f"x{j + 1}" for j in range(N_COV))
    ours: dict[str, tuple[float, float]] = {}

    def step(name, fn, repeat=1):
        wall, cpu, out = timed(fn, repeat)
        ours[name] = (wall, cpu)
        print(f"  here: {name:<16}{wall:8.2f} s (CPU {cpu:.2f} s)", flush=True)
        return out

    des = step("design", lambda: survey_design(df, weights="w", strata="stratum", cluster="psu"))
    step("mean_by_lin", lambda: survey_mean(des, "y", by="domain"), 3)
    step("glm_gauss_lin", lambda: survey_glm(des, f"y ~ {covs}"), 3)
    step("glm_logit_lin", lambda: survey_glm(des, f"yb ~ {covs}", family="binomial"))
    rep = step("replicates", lambda: des.as_replicate("bootstrap", n_boot=N_REP, rng=1))
    step("mean_by_rep", lambda: survey_mean(rep, "y", by="domain"), 3)
    step("glm_gauss_rep", lambda: survey_glm(rep, f"y ~ {covs}"))
    step("glm_logit_rep", lambda: survey_glm(rep, f"yb ~ {covs}", family="binomial"))
    theirs = {} if args.no_r else run_r(df)
    print(
        f"{args.rows:,} rows, {N_STRATA} strata, {N_STRATA * PSU_PER_STRATUM} PSUs, "
        f"{N_REP} bootstrap replicates, {N_DOMAINS} domains, {N_COV} covariates"
    )
    print(f"load average (1, 5, 15 min): {os.getloadavg()}")
    print(
        f"{'task':<16}{'here (s)':>10}{'R (s)':>10}{'R / here':>10}"
        f"{'here CPU':>10}{'R CPU':>10}{'ratio':>8}"
    )
    for task, (sec, cpu) in ours.items():
        r, rc = theirs.get(task, (np.nan, np.nan))
        print(
            f"{task:<16}{sec:>10.2f}{r:>10.2f}{r / sec:>10.1f}"
            f"{cpu:>10.2f}{rc:>10.2f}{rc / cpu:>8.1f}"
        )


if __name__ == "__main__":
    main()
