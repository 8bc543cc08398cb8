"""Time fit_gee against statsmodels GEE and R geepack in one run, and print the ratios.

Data: ``--people`` people (5,000 by default) with 5 waves each, a binary outcome, an
arm, a time trend and two covariates; a logistic GEE with an exchangeable working
correlation and robust (sandwich) SEs. Ours is the whole public call
``fit_gee(df, formula, id=..., time=..., family='binomial', cov_struct='exchangeable')``;
statsmodels is ``smf.gee(...).fit()``; geepack is ``geeglm(..., corstr = "exchangeable")``
timed inside R with ``system.time`` (reading the CSV not timed). Every timing is the
median of ``--repeats`` runs after an untimed warm-up. The largest relative difference
of the coefficients from geepack is printed (both iterate to their default tolerances),
with the ratios ours / peer (below 1 means we are faster) and the load average.

Usage:  python benchmarks/bench_gee.py [--people 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA = "y ~ arm + wave + x1 + x2"


def make_data(people: int, waves: int = 5, seed: int = 20240601) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(people), waves)
    wave = np.tile(np.arange(waves), people).astype(float)
    arm = np.repeat(rng.binomial(1, 0.5, people), waves).astype(float)
    u = np.repeat(rng.normal(0, 0.8, people), waves)
    x1 = rng.normal(size=pid.size)
    x2 = np.repeat(rng.normal(size=people), waves)
    eta = -0.5 + 0.4 * arm - 0.1 * wave + 0.3 * x1 - 0.2 * x2 + u
    y = rng.binomial(1, 1 / (1 + np.exp(-eta))).astype(float)
    return pd.DataFrame({"id": pid, "wave": wave, "arm": arm, "x1": x1, "x2": x2, "y": y})


def ours(df: pd.DataFrame) -> np.ndarray:
    from mutualaid_outcomes.models.regression import fit_gee

    res = fit_gee(df, FORMULA, id="id", time="wave", family="binomial", cov_struct="exchangeable")
    return res.coef().to_numpy()


def statsmodels_gee(df: pd.DataFrame) -> np.ndarray:
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.gee(
            FORMULA,
            "id",
            df,
            time=df["wave"].astype(int),
            family=sm.families.Binomial(),
            cov_struct=sm.cov_struct.Exchangeable(),
        )
        return np.asarray(model.fit().params)


def timed(fn, df: pd.DataFrame, repeats: int) -> tuple[float, np.ndarray]:
    fn(df.iloc[:500])  # warm-up: imports
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(df)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def geepack(df: pd.DataFrame, repeats: int) -> tuple[float, np.ndarray] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "gee.csv"
        df.to_csv(path, index=False)
        script = textwrap.dedent(
            f"""
            suppressMessages(library(geepack))
            d <- read.csv("{path}")
            tt <- numeric({repeats})
            for (i in seq_len({repeats})) {{
              tt[i] <- system.time(fit <- geeglm({FORMULA}, id = id, data = d,
                family = binomial, corstr = "exchangeable"))[["elapsed"]]
            }}
            cat(median(tt), coef(fit), sep = "\\n")
            """
        )
        out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    vals = [float(v) for v in out.stdout.split()]
    return vals[0], np.array(vals[1:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--people", type=int, default=5_000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    df = make_data(args.people)
    print(f"{args.people:,} people x 5 waves = {len(df):,} rows; medians of {args.repeats}")
    t_ours, b_ours = timed(ours, df, args.repeats)
    t_sm, b_sm = timed(statsmodels_gee, df, args.repeats)
    print(f"fit_gee (ours)        {t_ours:8.3f} s")
    print(f"statsmodels GEE       {t_sm:8.3f} s   ratio ours/statsmodels {t_ours / t_sm:.2f}")
    print(f"  max rel diff vs statsmodels {np.max(np.abs(b_ours - b_sm) / np.abs(b_sm)):.1e}")
    r = geepack(df, args.repeats)
    if r is None:
        print("geepack: Rscript not found")
    else:
        t_r, b_r = r
        print(f"geepack geeglm (R)    {t_r:8.3f} s   ratio ours/geepack {t_ours / t_r:.2f}")
        print(f"  max rel diff vs geepack {np.max(np.abs(b_ours - b_r) / np.abs(b_r)):.1e}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
