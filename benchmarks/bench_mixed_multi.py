"""Time fit_mixed with several random-effect terms against R lme4 in one run; print ratios.

Scenarios (simulated, seeded): crossed random intercepts of people and items,
``y ~ x + (1 | id) + (1 | item)`` (``--people`` x ``--items``, every person answering
every item once; with more than 1,000 random effects in all the sparse LU path is
used); nested sites and people, ``y ~ x + time + (1 | site/id)`` (``--sites`` sites of
40 people, 6 waves each); and the binary crossed model
``y ~ x + (1 | id) + (1 | item)`` with ``glmer`` (Laplace). Timings are medians of
``--repeats`` runs (1 by default) of the whole public call; R is timed inside R
(``system.time`` around ``lmer``/``glmer`` with lme4's default controls; reading the
CSV not timed). Prints the largest relative difference of the fixed effects and the
variance-component SDs from lme4's, the ratios ours / lme4 and the load average.

Usage:  python benchmarks/bench_mixed_multi.py [--repeats 1] [--people 400] [--items 20]
                                               [--sites 25]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mutualaid_outcomes.models.regression.mixed import fit_mixed


def crossed(n_people: int, n_items: int, seed: int = 20261205) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n_people), n_items)
    item = np.tile(np.arange(n_items), n_people)
    x = rng.normal(size=len(pid))
    eta = 0.3 * x + rng.normal(0, 1.0, n_people)[pid] + rng.normal(0, 0.5, n_items)[item]
    y = eta + rng.normal(0, 1.0, len(pid))
    yb = (rng.random(len(pid)) < 1 / (1 + np.exp(-eta))).astype(int)
    return pd.DataFrame({"id": pid, "item": item, "x": x, "y": y, "yb": yb})


def nested(n_sites: int, per_site: int = 40, waves: int = 6, seed: int = 20261206) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_people = n_sites * per_site
    site = np.repeat(np.arange(n_sites), per_site * waves)
    pid = np.repeat(np.arange(n_people), waves) % per_site  # numbered within site
    person = np.repeat(np.arange(n_people), waves)
    time_ = np.tile(np.arange(waves, dtype=float), n_people)
    x = rng.normal(size=len(site))
    y = (
        1 + 0.4 * x + 0.1 * time_ + rng.normal(0, 0.7, n_sites)[site]
        + rng.normal(0, 1.2, n_people)[person] + rng.normal(0, 1.0, len(site))
    )  # fmt: skip
    return pd.DataFrame({"site": site, "id": pid, "time": time_, "x": x, "y": y})


MODELS = {
    "crossed_lmm": ("crossed", "y ~ x + (1 | id) + (1 | item)", "gaussian"),
    "nested_lmm": ("nested", "y ~ x + time + (1 | site/id)", "gaussian"),
    "crossed_glmm": ("crossed", "yb ~ x + (1 | id) + (1 | item)", "binomial"),
}

R_SCRIPT = textwrap.dedent(
    """
    suppressPackageStartupMessages(library(lme4))
    args <- commandArgs(trailingOnly = TRUE)
    d <- read.csv(args[1]); reps <- as.integer(args[2]); f <- as.formula(args[3])
    tt <- numeric(reps)
    for (r in seq_len(reps)) tt[r] <- system.time(
      fit <- if (args[4] == "gaussian") lmer(f, data = d) else
        glmer(f, data = d, family = binomial))[["elapsed"]]
    vc <- as.data.frame(VarCorr(fit))
    cat("time", median(tt), "\\n")
    cat("coef", fixef(fit), "\\n")
    cat("sd", vc$sdcor, "\\n")
    """
)


def time_r(df: pd.DataFrame, formula: str, family: str, repeats: int) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df.to_csv(path, index=False)
        script = Path(tmp) / "fit.R"
        script.write_text(R_SCRIPT)
        out = subprocess.run(
            ["Rscript", str(script), str(path), str(repeats), formula, family],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    vals = {line.split()[0]: np.array(line.split()[1:], dtype=float) for line in out.splitlines()}
    return float(vals.pop("time")[0]), vals


def time_ours(df: pd.DataFrame, formula: str, family: str, repeats: int) -> tuple[float, dict]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = fit_mixed(df, formula, family=family)
        times.append(time.perf_counter() - t0)
    # lme4 orders the fixed effects as written; ours puts the intercept first too
    est = {"coef": res.coef().to_numpy(), "sd": res.variance_components()["sd_or_corr"].to_numpy()}
    return statistics.median(times), est


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--people", type=int, default=400)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--sites", type=int, default=25)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()}")
    data = {"crossed": crossed(args.people, args.items), "nested": nested(args.sites)}
    print(
        f"{'model':>14} {'rows':>7} {'ours s':>8} {'lme4 s':>8} {'ratio':>6}  max rel diff (coef / sd)"
    )
    for name in args.models:
        kind, formula, family = MODELS[name]
        df = data[kind]
        ours, est = time_ours(df, formula, family, args.repeats)
        r_time, r_est = time_r(df, formula, family, args.repeats)
        diffs = " / ".join(f"{np.max(np.abs(est[k] / r_est[k] - 1)):.1e}" for k in ("coef", "sd"))
        print(f"{name:>14} {len(df):>7} {ours:>8.2f} {r_time:>8.2f} {ours / r_time:>6.2f}  {diffs}")


if __name__ == "__main__":
    main()
