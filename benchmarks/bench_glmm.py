"""Time binomial fit_mixed against R lme4 ``glmer`` in one run and print the ratios.

Scenario: daily diaries, 2,000 people x 50 days = 100,000 person-days, a binary outcome
(any drinking) on a meeting-day indicator and a centred day index, with a random
intercept (``(1 | id)``) and a correlated random intercept and slope
(``(1 + day | id)``), Laplace approximation. Timings are medians of ``--repeats`` runs
(1 by default) of the whole public call; R is timed inside R (``system.time`` around
``glmer`` with its default control; reading the CSV not timed). Prints the largest
relative difference of the fixed effects from glmer's, the ratios ours / glmer and the
load average (the machine may be shared). Targets: under 10 s (intercept) and 30 s
(slope) on 2 cores.

Usage:  python benchmarks/bench_glmm.py [--repeats 1] [--people 2000] [--days 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mutualaid_outcomes.models.regression.mixed import fit_mixed

MODELS = {
    "intercept": ("drink ~ meeting + day + (1 | id)", "drink ~ meeting + day + (1 | id)"),
    "slope": ("drink ~ meeting + day + (1 + day | id)", "drink ~ meeting + day + (1 + day | id)"),
}


def make_data(people: int, days: int, seed: int = 20261205) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = people * days
    idx = np.repeat(np.arange(people), days)
    day = np.tile((np.arange(days) - days / 2) / 10, people)
    meeting = rng.binomial(1, 0.3, n)
    b0 = rng.normal(0, 1.0, people)
    b1 = rng.normal(0, 0.3, people)
    eta = -1.0 - 0.6 * meeting + 0.1 * day + b0[idx] + b1[idx] * day
    drink = (rng.uniform(size=n) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"id": idx, "day": day, "meeting": meeting, "drink": drink})


R_SCRIPT = """
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2]); f <- as.formula(args[3])
tt <- numeric(reps)
for (r in seq_len(reps)) tt[r] <- system.time(fit <- glmer(f, data = d, family = binomial))[["elapsed"]]
cat("time", median(tt), "\\n"); cat("coef", fixef(fit), "\\n")
"""


def time_r(path: Path, formula: str, repeats: int) -> tuple[float, np.ndarray]:
    script = path.parent / "fit.R"
    script.write_text(R_SCRIPT)
    out = subprocess.run(
        ["Rscript", str(script), str(path), str(repeats), formula],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    vals = {ln.split()[0]: np.array(ln.split()[1:], dtype=float) for ln in out.splitlines()}
    return float(vals["time"][0]), vals["coef"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--people", type=int, default=2000)
    ap.add_argument("--days", type=int, default=50)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    df = make_data(args.people, args.days)
    print(f"load average: {os.getloadavg()}; rows {len(df)}, people {args.people}")
    print(f"{'model':>10} {'ours s':>8} {'glmer s':>8} {'ratio':>6}  max rel diff of fixed effects")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df.to_csv(path, index=False)
        for name in args.models:
            ours_f, r_f = MODELS[name]
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                res = fit_mixed(df, ours_f, family="binomial")
                times.append(time.perf_counter() - t0)
            ours = statistics.median(times)
            r_time, r_coef = time_r(path, r_f, args.repeats)
            diff = np.max(np.abs(res.coef().to_numpy() / r_coef - 1))
            print(f"{name:>10} {ours:>8.2f} {r_time:>8.2f} {ours / r_time:>6.2f}  {diff:.1e}")


if __name__ == "__main__":
    main()
