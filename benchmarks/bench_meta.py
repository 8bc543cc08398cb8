"""Benchmark: meta-analysis against R metafor and statsmodels, in one run.

Times, on the BCG vaccine trials (k = 13) and on simulated meta-analyses (k = 200 and
k = 1000 studies, with two moderators for the meta-regression):

* a random-effects model (REML) with its Q-profile interval for tau^2;
* a DerSimonian-Laird and a Paule-Mandel model (also with statsmodels' combine_effects);
* a REML meta-regression with two moderators;
* leave-one-out, influence diagnostics and trim-and-fill on the REML model (k <= 200).

R is timed inside R (Rscript, metafor with the same tight convergence settings as the
reference tests); the pooled estimates of the three programs are compared in the same
run. Prints seconds and ratios (ours / peer).

Run: python benchmarks/bench_meta.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from statsmodels.stats.meta_analysis import combine_effects

from mutualaid_outcomes.models.meta import (
    effect_sizes,
    influence_diagnostics,
    leave_one_out,
    meta_analysis,
    trim_and_fill,
)

ROOT = Path(__file__).resolve().parents[1]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(metafor))
d <- read.csv("{path}")
ctl <- list(threshold = 1e-10, tol = 1e-13, maxiter = 10000)
tm <- function(name, expr, reps) {{
  t0 <- proc.time()[["elapsed"]]
  for (i in seq_len(reps)) val <- eval.parent(substitute(expr))
  cat("ELAPSED", name, (proc.time()[["elapsed"]] - t0) / reps, "\n")
  val
}}
r <- tm("reml", {{ f <- rma(yi, vi, data = d, method = "REML", control = ctl);
                   confint(f, control = list(tol = 1e-13)); f }}, {reps})
cat("EST reml", coef(r), "\n")
r <- tm("dl", rma(yi, vi, data = d, method = "DL"), {reps})
cat("EST dl", coef(r), "\n")
r <- tm("pm", rma(yi, vi, data = d, method = "PM", control = ctl), {reps})
cat("EST pm", coef(r), "\n")
r <- tm("metareg", rma(yi, vi, mods = ~ x1 + x2, data = d, method = "REML", control = ctl),
        {reps})
cat("EST metareg", coef(r)[2], "\n")
if ({reps_diag} > 0) {{
  f <- rma(yi, vi, data = d, method = "REML", control = ctl)
  tm("leave1out", leave1out(f), {reps_diag})
  tm("influence", influence(f), {reps_diag})
  tm("trimfill", trimfill(f, control = ctl), {reps_diag})
}}
"""


def simulate(k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=k), rng.binomial(1, 0.4, k).astype(float)
    v = rng.uniform(0.01, 0.3, k)
    y = 0.2 + 0.15 * x1 - 0.1 * x2 + rng.normal(0, np.sqrt(0.05), k) + rng.normal(0, np.sqrt(v))
    return pd.DataFrame({"yi": y, "vi": v, "x1": x1, "x2": x2})


def bcg() -> pd.DataFrame:
    raw = pd.read_csv(ROOT / "tests" / "data" / "meta_bcg.csv")
    raw = raw.assign(n1=raw.tpos + raw.tneg, n2=raw.cpos + raw.cneg)
    es = effect_sizes(raw, "RR", events1="tpos", n1="n1", events2="cpos", n2="n2")
    return es.assign(x1=es.ablat, x2=es.year)[["yi", "vi", "x1", "x2"]]


def timed(fn, reps: int):
    t0 = time.perf_counter()
    for _ in range(reps):
        val = fn()
    return (time.perf_counter() - t0) / reps, val


def ours(df: pd.DataFrame, reps: int, reps_diag: int) -> tuple[dict, dict]:
    times, est = {}, {}

    def reml():
        res = meta_analysis(df, method="REML")
        res.glance()  # includes the Q-profile interval
        return res

    times["reml"], res = timed(reml, reps)
    est["reml"] = res.coef().iloc[0]
    times["dl"], r = timed(lambda: meta_analysis(df, method="DL"), reps)
    est["dl"] = r.coef().iloc[0]
    times["pm"], r = timed(lambda: meta_analysis(df, method="PM"), reps)
    est["pm"] = r.coef().iloc[0]
    times["metareg"], r = timed(lambda: meta_analysis(df, moderators=["x1", "x2"]), reps)
    est["metareg"] = r.coef().iloc[1]
    if reps_diag:
        times["leave1out"], _ = timed(lambda: leave_one_out(res), reps_diag)
        times["influence"], _ = timed(lambda: influence_diagnostics(res), reps_diag)
        times["trimfill"], _ = timed(lambda: trim_and_fill(res), reps_diag)
    return times, est


def statsmodels_times(df: pd.DataFrame, reps: int) -> tuple[dict, dict]:
    y, v = df["yi"].to_numpy(), df["vi"].to_numpy()
    times, est = {}, {}
    for name, method in (("dl", "dl"), ("pm", "iterated")):

        def fit(method=method):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return combine_effects(y, v, method_re=method)

        times[name], r = timed(fit, reps)
        est[name] = float(r.mean_effect_re)
    return times, est


def r_times(df: pd.DataFrame, reps: int, reps_diag: int) -> tuple[dict, dict]:
    if shutil.which("Rscript") is None:
        return {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        df.to_csv(path, index=False)
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT.format(path=path.as_posix(), reps=reps, reps_diag=reps_diag))
        out = subprocess.run(["Rscript", str(script)], capture_output=True, text=True, check=False)
    times, est = {}, {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if parts and parts[0] == "ELAPSED":
            times[parts[1]] = float(parts[2])
        elif parts and parts[0] == "EST":
            est[parts[1]] = float(parts[2])
    if not times:
        print("metafor run failed:", out.stderr[-500:], file=sys.stderr)
    return times, est


def main() -> None:
    # metafor's leave1out/influence refit k models with k x k matrices (O(k^4) in all), so
    # the diagnostics are timed up to k = 200 only
    cases = [
        ("BCG trials, k = 13", bcg(), 20, 5),
        ("simulated, k = 200", simulate(200, 1), 5, 1),
        ("simulated, k = 1000", simulate(1000, 2), 2, 0),
    ]
    for name, df, reps, reps_diag in cases:
        t_ours, e_ours = ours(df, reps, reps_diag)
        t_r, e_r = r_times(df, reps, reps_diag)
        t_sm, e_sm = statsmodels_times(df, reps)
        print(f"\n{name}")
        print(
            f"{'task':<10} {'ours (s)':>10} {'metafor (s)':>12} {'ratio':>7} "
            f"{'statsmodels (s)':>16} {'ratio':>7}  max |diff| of estimates"
        )
        for task, t in t_ours.items():
            tr, ts = t_r.get(task, np.nan), t_sm.get(task, np.nan)
            diffs = [abs(e_ours[task] - e[task]) for e in (e_r, e_sm) if task in e]
            diff = f"{max(diffs):.1e}" if diffs else ""
            print(
                f"{task:<10} {t:>10.4f} {tr:>12.4f} {t / tr:>7.2f} {ts:>16.4f} "
                f"{t / ts:>7.2f}  {diff}"
            )


if __name__ == "__main__":
    main()
