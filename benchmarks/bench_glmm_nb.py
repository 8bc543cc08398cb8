"""Time negative binomial fit_mixed against R lme4 ``glmer.nb`` in one run; print ratios.

Scenario: daily diaries, ``--people`` x ``--days`` person-days (default 1,000 x 30 =
30,000), drinks per day (overdispersed counts, NB size 1.5) on a meeting-day indicator and
a centred day index, with a random intercept (``(1 | id)``) or a correlated random
intercept and slope (``(1 + day | id)``), Laplace approximation. Timings are medians of
``--repeats`` runs (1 by default) of the whole public call; R is timed inside R
(``system.time`` around ``glmer.nb`` with its default controls; reading the CSV not
timed). Prints the largest relative difference of the fixed effects and of theta from
glmer.nb's, the ratios ours / glmer.nb and the load average (the machine may be shared).

Usage:  python benchmarks/bench_glmm_nb.py [--repeats 1] [--people 1000] [--days 30]
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
    "intercept": "drinks ~ meeting + day + (1 | id)",
    "slope": "drinks ~ meeting + day + (1 + day | id)",
}


def make_data(people: int, days: int, seed: int = 20261205) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = people * days
    idx = np.repeat(np.arange(people), days)
    day = np.tile((np.arange(days) - days / 2) / 10, people)
    meeting = rng.binomial(1, 0.3, n)
    b0 = rng.normal(0, 0.8, people)
    b1 = rng.normal(0, 0.2, people)
    mu = np.exp(0.5 - 0.4 * meeting - 0.1 * day + b0[idx] + b1[idx] * day)
    drinks = rng.negative_binomial(1.5, 1.5 / (1.5 + mu))
    return pd.DataFrame({"id": idx, "day": day, "meeting": meeting, "drinks": drinks})


R_SCRIPT = """
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2]); f <- as.formula(args[3])
tt <- numeric(reps)
for (r in seq_len(reps)) tt[r] <- system.time(fit <- glmer.nb(f, data = d))[["elapsed"]]
cat("time", median(tt), "\\n"); cat("coef", fixef(fit), "\\n")
cat("theta", getME(fit, "glmer.nb.theta"), "\\n")
"""


def time_r(path: Path, formula: str, repeats: int) -> dict[str, np.ndarray]:
    script = path.parent / "fit.R"
    script.write_text(R_SCRIPT)
    out = subprocess.run(
        ["Rscript", str(script), str(path), str(repeats), formula],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {ln.split()[0]: np.array(ln.split()[1:], dtype=float) for ln in out.splitlines()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--people", type=int, default=1000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    df = make_data(args.people, args.days)
    print(f"load average: {os.getloadavg()}; rows {len(df)}, people {args.people}")
    print(
        f"{'model':>10} {'ours s':>8} {'glmer.nb s':>10} {'ratio':>6}  "
        "max rel diff: fixed effects, theta"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df.to_csv(path, index=False)
        for name in args.models:
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                res = fit_mixed(df, MODELS[name], family="negative_binomial")
                times.append(time.perf_counter() - t0)
            ours = statistics.median(times)
            r = time_r(path, MODELS[name], args.repeats)
            r_time = float(r["time"][0])
            diff = np.max(np.abs(res.coef().to_numpy() / r["coef"] - 1))
            dth = abs(res.nb_theta / r["theta"][0] - 1)
            print(
                f"{name:>10} {ours:>8.2f} {r_time:>10.2f} {ours / r_time:>6.2f}  "
                f"{diff:.1e}, {dth:.1e}"
            )


if __name__ == "__main__":
    main()
