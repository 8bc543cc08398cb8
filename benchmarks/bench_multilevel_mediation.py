"""Time multilevel_mediation against the same fits in R lme4 in one run; print ratios.

Scenarios (``tests/reference/multilevel_mediation_data.py``):

* ``gaussian``: ``simulate(persons, days)``; ours is the whole public call (two separate
  REML equations, the stacked Bauer-Preacher-Gil model, the REML information of
  ``cov(a_j, b_j)`` and 2,000 Monte Carlo draws); R is the three ``lmer`` fits of
  ``tests/reference/multilevel_mediation.R`` with lme4's default optimiser (R has no
  ``cov(a_j, b_j)`` SE or Monte Carlo step, so the ratio flatters R).
* ``binomial``: ``simulate_binary(persons, days)``; ours is the whole public call with
  ``outcome_family="binomial"``; R is ``lmer`` (a-path) plus ``glmer`` (b-path).

R is timed inside R (``system.time`` around the fits; reading the CSV not timed). Every
timing is the median of ``--repeats`` runs. The script prints the ratio ours / R
(below 1: we are faster), the largest relative difference of the indirect-effect point
estimates from R's (R at lme4's default tolerances here, so differences up to ~1e-3
for glmer reflect R's looser convergence; the tight comparisons are in
tests/reference/multilevel_mediation*.R), and the load average, since the machine may
be shared.

Usage:  python benchmarks/bench_multilevel_mediation.py [--repeats 3]
                                                       [--sizes 80x10 1000x14]
"""

from __future__ import annotations

import argparse
import importlib.util
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

from mutualaid_outcomes.models.mediation.multilevel import multilevel_mediation

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "mlm_data", ROOT / "tests" / "reference" / "multilevel_mediation_data.py"
)
mlm_data = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mlm_data)

R_SCRIPT = textwrap.dedent(
    """
    suppressPackageStartupMessages(library(lme4))
    args <- commandArgs(trailingOnly = TRUE)
    d <- read.csv(args[1]); reps <- as.integer(args[2]); family <- args[3]
    d$xb <- ave(d$meeting, d$id); d$xw <- d$meeting - d$xb
    d$mb <- ave(d$craving, d$id); d$mw <- d$craving - d$mb
    fit_all <- function() {
      fm <- lmer(craving ~ xw + xb + (1 + xw | id), d, REML = TRUE)
      if (family == "binomial") {
        fy <- glmer(drank ~ mw + mb + xw + xb + (1 + mw | id), d, family = binomial)
        return(c(fixef(fm)[["xw"]] * fixef(fy)[["mw"]], fixef(fm)[["xb"]] * fixef(fy)[["mb"]]))
      }
      fy <- lmer(drinks ~ mw + mb + xw + xb + (1 + mw | id), d, REML = TRUE)
      k <- sigma(fy) / sigma(fm); n <- nrow(d); zero <- rep(0, n)
      s <- data.frame(id = c(d$id, d$id), z = c(d$craving, d$drinks),
                      sm = rep(c(1, 0), each = n), sy = rep(c(0, 1), each = n),
                      sm_xw = c(d$xw, zero), sm_xb = c(d$xb, zero), sy_mw = c(zero, d$mw),
                      sy_xw = c(zero, d$xw), sy_xb = c(zero, d$xb))
      s$w <- ifelse(s$sm == 1, 1, 1 / k^2)
      fit <- lmer(z ~ 0 + sm + sm_xw + sm_xb + sy + sy_mw + sy_xw + sy_xb +
                    (0 + sm + sm_xw + sy + sy_mw | id), data = s, weights = w, REML = TRUE)
      re <- VarCorr(fit)$id
      c(fixef(fit)[["sm_xw"]] * fixef(fit)[["sy_mw"]] + re["sm_xw", "sy_mw"],
        fixef(fm)[["xb"]] * fixef(fy)[["mb"]])
    }
    tt <- numeric(reps)
    for (r in seq_len(reps)) tt[r] <- system.time(est <- fit_all())[["elapsed"]]
    cat("time", median(tt), "\\n")
    cat("est", est, "\\n")
    """
)


def time_ours(d: pd.DataFrame, family: str, repeats: int) -> tuple[float, np.ndarray]:
    outcome = "drank" if family == "binomial" else "drinks"
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = multilevel_mediation(
                d, "meeting", "craving", outcome, id="id", random_slopes=["a", "b"],
                outcome_family=family, n_sims=2000, rng=1,
            )  # fmt: skip
        times.append(time.perf_counter() - t0)
    tab = res.tidy().set_index("term")
    return statistics.median(times), tab.loc[["indirect_within", "indirect_between"]][
        "estimate"
    ].to_numpy()


def time_r(d: pd.DataFrame, family: str, repeats: int) -> tuple[float, np.ndarray]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        d.to_csv(path, index=False)
        script = Path(tmp) / "fit.R"
        script.write_text(R_SCRIPT)
        out = subprocess.run(
            ["Rscript", str(script), str(path), str(repeats), family],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    vals = {line.split()[0]: np.array(line.split()[1:], dtype=float) for line in out.splitlines()}
    return float(vals["time"][0]), vals["est"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", nargs="+", default=["80x10", "1000x14"])
    args = ap.parse_args()
    print(f"load average: {os.getloadavg()}")
    print(
        f"{'family':>9} {'persons':>8} {'days':>5} {'ours s':>8} {'R s':>8} {'ratio':>6}  "
        "max rel diff of the indirect effects vs R"
    )
    for family in ("gaussian", "binomial"):
        for size in args.sizes:
            persons, days = (int(v) for v in size.split("x"))
            sim = mlm_data.simulate_binary if family == "binomial" else mlm_data.simulate
            d = sim(persons, days, seed=7)
            ours, est = time_ours(d, family, args.repeats)
            r_time, r_est = time_r(d, family, args.repeats)
            diff = np.max(np.abs(est / r_est - 1))
            print(
                f"{family:>9} {persons:>8} {days:>5} {ours:>8.3f} {r_time:>8.3f} "
                f"{ours / r_time:>6.2f}  {diff:.1e}"
            )


if __name__ == "__main__":
    main()
