"""Coverage of 95% bootstrap intervals for indirect effects (percentile and BCa).

Two studies, each printing the share of replicates whose interval covers the truth,
with its binomial Monte Carlo SE (target 93-97% for a 95% interval):

* ``linear``: a known linear data-generating process -- three parallel mediators, two
  covariates, N = 300, true a = (0.4, 0.3, -0.3), b = (0.3, 0.25, 0.3), direct 0.1,
  non-normal (centred exponential) errors in the mediator equations.
* ``cohort``: the sample cohort's data-generating process
  (``mutualaid_outcomes.datasets.simulate_cohort``, N = 1,726, complete follow-up), the
  documented lagged model (attendance at month 3 -> six latent mechanisms at month 9 ->
  PDA at month 15, with the documented covariates); truth = the documented population
  values of ``sample_truth()``.

Percentile and BCa limits come from the same resamples of each replicate.

Usage:  python benchmarks/coverage_mediation.py --study linear --reps 1000 --n-boot 1000
        python benchmarks/coverage_mediation.py --study cohort --reps 500 --n-boot 1000
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import time
import warnings

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from mutualaid_outcomes.models._core import bootstrap as bs
from mutualaid_outcomes.models.mediation.product import mediate

A_TRUE = np.array([0.4, 0.3, -0.3])
B_TRUE = np.array([0.3, 0.25, 0.3])
MECHANISMS = ["network", "efficacy", "motivation", "depression", "craving", "spirituality"]


def _linear_replicate(seed: np.random.SeedSequence, n: int, n_boot: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    c = rng.normal(size=(n, 2))
    x = rng.normal(size=n) + 0.4 * c[:, 0]
    e = rng.exponential(size=(n, 3)) - 1.0
    m = x[:, None] * A_TRUE + 0.3 * c[:, [0]] - 0.2 * c[:, [1]] + e
    y = 0.1 * x + m @ B_TRUE + 0.2 * c[:, 1] + rng.normal(size=n)
    df = pd.DataFrame(
        {"x": x, "m1": m[:, 0], "m2": m[:, 1], "m3": m[:, 2], "c1": c[:, 0], "c2": c[:, 1], "y": y}
    )
    res = mediate(df, "x", ["m1", "m2", "m3"], "y", ["c1", "c2"], n_boot=n_boot, rng=rng)
    truth = {f"indirect[m{j + 1}]": A_TRUE[j] * B_TRUE[j] for j in range(3)}
    truth["total_indirect"] = float(A_TRUE @ B_TRUE)
    return _covered(res, truth)


def _cohort_replicate(
    seed: np.random.SeedSequence, n: int, n_boot: int, truth: dict[str, float]
) -> dict[str, float]:
    from mutualaid_outcomes.datasets import simulate_cohort
    from mutualaid_outcomes.datasets._dgp import CohortParameters
    from mutualaid_outcomes.datasets.truth import mediation_frame

    params = dataclasses.replace(CohortParameters(), drop_intercept=(-50.0,) * 5, p_missed_wave=0.0)
    rng = np.random.default_rng(seed)
    cohort = simulate_cohort(n, rng=rng, parameters=params)
    frame = mediation_frame(cohort.latent, cohort.waves, cohort.participants)
    covs = ["pda_0", *[f"{m}_0" for m in MECHANISMS], "tsf", "cbt", "sex", "age"]
    res = mediate(
        frame, "attendance", [f"{m}_9" for m in MECHANISMS], "pda_15", covs, n_boot=n_boot, rng=rng
    )
    renamed = {f"indirect[{m}_9]": truth[f"indirect[{m}]"] for m in MECHANISMS}
    renamed["total_indirect"] = truth["total_indirect"]
    return _covered(res, renamed)


def _covered(res, truth: dict[str, float]) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bca = res.tidy().set_index("term")
    plow, phigh = bs.percentile_interval(res.draws.to_numpy(), 0.95)
    perc = pd.DataFrame({"low": plow, "high": phigh}, index=list(res.terms))
    out = {}
    for term, value in truth.items():
        out[f"bca|{term}"] = float(bca.loc[term, "conf_low"] <= value <= bca.loc[term, "conf_high"])
        out[f"percentile|{term}"] = float(perc.loc[term, "low"] <= value <= perc.loc[term, "high"])
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--study", choices=["linear", "cohort"], default="linear")
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--n-boot", type=int, default=1000)
    parser.add_argument("--n", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20240501)
    args = parser.parse_args(argv)
    seeds = np.random.SeedSequence(args.seed).spawn(args.reps)
    t0 = time.perf_counter()
    if args.study == "linear":
        n = args.n or 300
        rows = Parallel(n_jobs=args.jobs)(
            delayed(_linear_replicate)(s, n, args.n_boot) for s in seeds
        )
    else:
        from mutualaid_outcomes.datasets import sample_truth

        n = args.n or 1726
        t = sample_truth().set_index("quantity")["value"].to_dict()
        rows = Parallel(n_jobs=args.jobs)(
            delayed(_cohort_replicate)(s, n, args.n_boot, t) for s in seeds
        )
    elapsed = time.perf_counter() - t0
    cov = pd.DataFrame(rows).mean()
    reps = len(rows)
    print(f"study={args.study} N={n} replicates={reps} n_boot={args.n_boot} ({elapsed:.0f} s)")
    print(f"{'interval':11s} {'effect':28s} {'coverage':>9s} {'MC SE':>7s}")
    for key, value in cov.items():
        kind, term = key.split("|")
        se = math.sqrt(value * (1 - value) / reps)
        print(f"{kind:11s} {term:28s} {100 * value:8.1f}% {100 * se:6.1f}%")


if __name__ == "__main__":
    main()
