"""Time fit_mixed against statsmodels MixedLM and R lme4 ``lmer`` in one run; print ratios.

Scenario: a random intercept and slope for time, ``y ~ x + time + (1 + time | id)``,
REML, 10 measurements per person, at 5,000 and 50,000 persons (50,000 and 500,000 rows).
Every timing is the median of ``--repeats`` runs (3 by default) of the whole public
call; R is timed inside R (``system.time`` around ``lmer``, reading the CSV not timed),
with lme4's default optimiser and tolerances. statsmodels runs once at 5,000 persons
only (it takes minutes; ``--sm-big`` adds 50,000). The script prints the largest relative
difference of the fixed effects, SEs and variance components from R's, the ratios
ours / peer (below 1 means we are faster) and the load average, since the machine may
be shared.

Usage:  python benchmarks/bench_mixed.py [--repeats 3] [--groups 5000 50000] [--sm-big]
                                         [--no-statsmodels]
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


def make_data(n_groups: int, n_per: int = 10, seed: int = 20261205) -> pd.DataFrame:
    """Balanced panel with a correlated random intercept and slope."""
    rng = np.random.default_rng(seed)
    n = n_groups * n_per
    cov = np.array([[4.0, 0.3], [0.3, 0.25]])
    b = rng.multivariate_normal([0, 0], cov, size=n_groups)
    idx = np.repeat(np.arange(n_groups), n_per)
    time_ = np.tile(np.arange(n_per, dtype=float), n_groups)
    x = rng.normal(size=n)
    y = 1 + 0.5 * x + 0.2 * time_ + b[idx, 0] + b[idx, 1] * time_ + rng.normal(0, 1.5, n)
    return pd.DataFrame({"id": idx, "time": time_, "x": x, "y": y})


def time_ours(df: pd.DataFrame, repeats: int) -> tuple[float, dict[str, np.ndarray]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fit_mixed(df, "y ~ x + time", id="id", re_formula="~ time")
        times.append(time.perf_counter() - t0)
    est = {
        "coef": res.coef().to_numpy(),
        "se": np.sqrt(np.diag(res.vcov().to_numpy())),
        "vc": res.variance_components()["variance"].to_numpy(),
    }
    return statistics.median(times), est


def time_statsmodels(df: pd.DataFrame) -> float:
    import statsmodels.formula.api as smf

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        smf.mixedlm("y ~ x + time", df, groups=df["id"], re_formula="~time").fit(reml=True)
    return time.perf_counter() - t0


R_SCRIPT = textwrap.dedent(
    """
    suppressPackageStartupMessages(library(lme4))
    args <- commandArgs(trailingOnly = TRUE)
    d <- read.csv(args[1]); reps <- as.integer(args[2])
    tt <- numeric(reps)
    for (r in seq_len(reps)) tt[r] <- system.time(
      fit <- lmer(y ~ x + time + (1 + time | id), data = d, REML = TRUE))[["elapsed"]]
    vc <- as.data.frame(VarCorr(fit))
    cat("time", median(tt), "\\n")
    cat("coef", fixef(fit), "\\n")
    cat("se", sqrt(diag(as.matrix(vcov(fit)))), "\\n")
    cat("vc", vc$vcov, "\\n")
    """
)


def time_r(df: pd.DataFrame, repeats: int) -> tuple[float, dict[str, np.ndarray]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df.to_csv(path, index=False)
        script = Path(tmp) / "fit.R"
        script.write_text(R_SCRIPT)
        out = subprocess.run(
            ["Rscript", str(script), str(path), str(repeats)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    vals = {line.split()[0]: np.array(line.split()[1:], dtype=float) for line in out.splitlines()}
    return float(vals.pop("time")[0]), vals


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--groups", type=int, nargs="+", default=[5000, 50000])
    ap.add_argument("--sm-big", action="store_true")
    ap.add_argument("--no-statsmodels", action="store_true")
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()}")
    print(
        f"{'groups':>8} {'rows':>8} {'ours s':>8} {'lmer s':>8} {'ratio':>6} "
        f"{'MixedLM s':>10} {'ratio':>7}  max rel diff vs lmer (coef / se / varcomp)"
    )
    for g in args.groups:
        df = make_data(g)
        ours, est = time_ours(df, args.repeats)
        r_time, r_est = time_r(df, args.repeats)
        run_sm = not args.no_statsmodels and (g <= 5000 or args.sm_big)
        sm = time_statsmodels(df) if run_sm else float("nan")
        diffs = " / ".join(
            f"{np.max(np.abs(est[k] / r_est[k] - 1)):.1e}" for k in ("coef", "se", "vc")
        )
        print(
            f"{g:>8} {len(df):>8} {ours:>8.3f} {r_time:>8.3f} {ours / r_time:>6.2f} "
            f"{sm:>10.2f} {ours / sm:>7.3f}  {diffs}"
        )


if __name__ == "__main__":
    main()
