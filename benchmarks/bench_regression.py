"""Time ``fit_regression`` against statsmodels' formula API and numpy lstsq in one run.

Data: ``--n`` rows (10^6 by default) with 10 numeric covariates; outcomes for the
gaussian, binomial (logit), Poisson and negative binomial families. For each family the
script times the whole public call of ours (``fit_regression(df, formula, family=...)``)
and of statsmodels (``smf.ols`` / ``smf.glm(...).fit()`` / ``smf.negativebinomial``'s GLM
counterpart ``smf.glm(family=NegativeBinomial(alpha))`` after estimating ``alpha`` with
``sm.NegativeBinomial``, see below), plus ``numpy.linalg.lstsq`` on a prebuilt design
for the gaussian model. Every timing is the median of ``--repeats`` runs after an untimed warm-up call on
2,000 rows (imports), as wall-clock seconds and as CPU seconds of the process; on a
shared machine the CPU ratio is the steadier one (run with ``OPENBLAS_NUM_THREADS=1``
so both sides use one core). Peak memory
is measured for each call in a fresh subprocess (tracemalloc peak of the call; numpy
reports its allocations to tracemalloc).

statsmodels has no one-call equivalent of ``MASS::glm.nb``; its closest formula-API
call, ``smf.negativebinomial(...).fit()`` (NB2 maximum likelihood of beta and alpha by
Newton), is what the NB ratio is against.

The largest relative difference between our coefficients and statsmodels' is printed
for each family, with the ratios ours / peer (below 1 means we are faster) and the load
average, since the machine may be shared.

Usage:  python benchmarks/bench_regression.py [--n 1000000] [--repeats 3] [--no-memory]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np
import pandas as pd

COVS = [f"x{j}" for j in range(1, 11)]
FAMILIES = ("gaussian", "binomial", "poisson", "negative_binomial")


def make_data(n: int, seed: int = 20240601) -> pd.DataFrame:
    """10 covariates (normal, binary, uniform) and one outcome per family."""
    rng = np.random.default_rng(seed)
    x = np.column_stack(
        [rng.normal(size=n) if j % 3 else rng.binomial(1, 0.4, n) for j in range(10)]
    ).astype(float)
    beta = np.linspace(-0.3, 0.3, 10)
    lp = (x - x.mean(axis=0)) @ beta
    df = pd.DataFrame(x, columns=COVS)
    df["y_gaussian"] = 1.0 + lp + rng.normal(size=n)
    df["y_binomial"] = rng.binomial(1, 1 / (1 + np.exp(-(-0.5 + lp))))
    df["y_poisson"] = rng.poisson(np.exp(0.5 + 0.5 * lp))
    mu = np.exp(0.5 + 0.5 * lp)
    df["y_negative_binomial"] = rng.negative_binomial(2.0, 2.0 / (2.0 + mu))
    return df


def formula(family: str) -> str:
    return f"y_{family} ~ " + " + ".join(COVS)


def ours(df: pd.DataFrame, family: str) -> np.ndarray:
    from mutualaid_outcomes.models.regression import fit_regression

    return fit_regression(df, formula(family), family=family).coef().to_numpy()


def statsmodels_fit(df: pd.DataFrame, family: str) -> np.ndarray:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if family == "gaussian":
            return np.asarray(smf.ols(formula(family), df).fit().params)
        if family == "negative_binomial":
            res = smf.negativebinomial(formula(family), df).fit(disp=0, method="newton")
            return np.asarray(res.params)[:-1]
        fam = sm.families.Binomial() if family == "binomial" else sm.families.Poisson()
        return np.asarray(smf.glm(formula(family), df, family=fam).fit().params)


def numpy_lstsq(df: pd.DataFrame, family: str) -> np.ndarray:
    X = np.column_stack([np.ones(len(df)), df[COVS].to_numpy()])
    return np.linalg.lstsq(X, df[f"y_{family}"].to_numpy(), rcond=None)[0]


RUNNERS = {"ours": ours, "statsmodels": statsmodels_fit, "numpy": numpy_lstsq}


def timed(fn, df, family, repeats):
    """Median wall-clock and CPU seconds of ``repeats`` calls (after a small warm-up call)."""
    fn(df.iloc[:2000], family)  # imports and first-call set-up are not timed
    wall, cpu, out = [], [], None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn(df, family)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu), out


def peak_memory(n: int, who: str, family: str) -> float:
    """tracemalloc peak (MB) of one call, in a fresh interpreter."""
    code = (
        "import sys, tracemalloc; sys.path.insert(0, 'benchmarks');"
        "import bench_regression as b;"
        f"df = b.make_data({n}); tracemalloc.start();"
        f"b.RUNNERS[{who!r}](df, {family!r});"
        "print(tracemalloc.get_traced_memory()[1] / 2**20)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--families", nargs="*", default=list(FAMILIES))
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    df = make_data(args.n)
    data_mb = df.memory_usage(deep=True).sum() / 2**20
    print(f"N = {args.n:,}, 10 covariates, data frame {data_mb:.0f} MB; medians of {args.repeats}")
    rows = []
    for family in args.families:
        t_ours, c_ours, b_ours = timed(ours, df, family, args.repeats)
        t_sm, c_sm, b_sm = timed(statsmodels_fit, df, family, args.repeats)
        row = {
            "family": family,
            "ours_s": t_ours,
            "statsmodels_s": t_sm,
            "ratio_sm": t_ours / t_sm,
            "ours_cpu_s": c_ours,
            "sm_cpu_s": c_sm,
            "cpu_ratio_sm": c_ours / c_sm,
            "max_rel_diff": float(np.max(np.abs(b_ours - b_sm) / np.abs(b_sm))),
        }
        if family == "gaussian":
            t_np, c_np, _ = timed(numpy_lstsq, df, family, args.repeats)
            row.update(numpy_s=t_np, ratio_numpy=t_ours / t_np, cpu_ratio_numpy=c_ours / c_np)
        if not args.no_memory:
            row["ours_peak_mb"] = peak_memory(args.n, "ours", family)
            row["statsmodels_peak_mb"] = peak_memory(args.n, "statsmodels", family)
        rows.append(row)
        print(pd.DataFrame([row]).round(3).to_string(index=False), flush=True)
    print()
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
