"""Time mutualaid_outcomes.causal_mediation against statsmodels' Mediation in one run.

Data: N = 1,726 (the size of Project MATCH), binary exposure, normal mediator, binary
outcome (logit model), five covariates. Both programs run 1,000 quasi-Bayesian
simulations of the same logit-outcome model. Prints CPU seconds (process time) and
wall seconds, the median of the repeats, the load average, and the same-run ratio.

R ``mediation::mediate`` is not timed: the package is not installable on the project
machines (see tests/reference/causal_mediation_jobs.R).

Usage:  python benchmarks/bench_causal_mediation.py [--repeats 10] [--sims 1000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
import pandas as pd

from mutualaid_outcomes.models.mediation.causal import causal_mediation

N = 1726
COVARIATES = ["c1", "c2", "c3", "c4", "c5"]


def make_data(n: int = N, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, 5))
    t = rng.integers(0, 2, n).astype(float)
    m = 0.4 * t + c @ np.array([0.2, -0.1, 0.1, 0.0, 0.05]) + rng.normal(size=n)
    eta = -0.5 + 0.3 * t + 0.6 * m + c @ np.full(5, 0.1)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    df = pd.DataFrame(c, columns=COVARIATES)
    df.insert(0, "t", t)
    df["m"] = m
    df["y"] = y
    return df


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median CPU seconds and median wall seconds of ``repeats`` calls."""
    cpu, wall = [], []
    for _ in range(repeats):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return statistics.median(cpu), statistics.median(wall)


def run_ours(df: pd.DataFrame, n_sims: int) -> None:
    causal_mediation(
        df,
        "t",
        ["m"],
        "y",
        COVARIATES,
        outcome_family="binomial",
        outcome_link="logit",
        method="quasi_bayesian",
        n_sims=n_sims,
        rng=1,
    ).tidy()


def run_statsmodels(df: pd.DataFrame, n_sims: int) -> None:
    import statsmodels.api as sm
    from statsmodels.stats.mediation import Mediation

    exog_out = sm.add_constant(df[["t", "m", *COVARIATES]])
    exog_med = sm.add_constant(df[["t", *COVARIATES]])
    out = sm.GLM(df["y"], exog_out, family=sm.families.Binomial())
    med = sm.OLS(df["m"], exog_med)
    Mediation(out, med, "t", "m").fit(method="parametric", n_rep=n_sims, rng=1).summary()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--sims", type=int, default=1000)
    args = parser.parse_args(argv)
    df = make_data()
    warnings.simplefilter("ignore")
    run_ours(df, 100)  # warm-up (imports, caches)
    run_statsmodels(df, 10)
    load = os.getloadavg()[0]
    ours_cpu, ours_wall = timed(lambda: run_ours(df, args.sims), args.repeats)
    sm_reps = max(3, args.repeats // 3)
    sm_cpu, sm_wall = timed(lambda: run_statsmodels(df, args.sims), sm_reps)
    print(
        f"N = {N}, logit outcome, normal mediator, {args.sims} quasi-Bayesian simulations; "
        f"load average {load:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    print(f"{'implementation':42s} {'repeats':>7s} {'CPU s':>8s} {'wall s':>8s}  (medians)")
    print(f"{'ours causal_mediation':42s} {args.repeats:7d} {ours_cpu:8.3f} {ours_wall:8.3f}")
    print(f"{'statsmodels Mediation (parametric)':42s} {sm_reps:7d} {sm_cpu:8.3f} {sm_wall:8.3f}")
    print(
        f"ratio statsmodels / ours: CPU {sm_cpu / ours_cpu:6.1f}x, wall "
        f"{sm_wall / ours_wall:6.1f}x (target >= 20x)"
    )


if __name__ == "__main__":
    main()
