"""Time the SEM module against R lavaan 0.6.14 in one run and print the ratios.

1. A three-wave random-intercept cross-lagged panel model (two variables) on 5,000 people
   with 20% of person-waves missing, fitted by FIML: ``cross_lagged_panel(...,
   random_intercepts=True)`` (long-to-wide reshaping, estimation, observed-information SEs,
   chi-square and fit indices including the baseline model) versus ``lavaan::sem(...,
   missing = "ml")`` plus ``fitMeasures()`` on the same wide data. Target: under 5 s.
2. 1,000 bootstrap resamples of a latent-mediator model (exposure -> latent mediator with
   three indicators -> outcome, one covariate; N = 300, tests/data/sem_latent_mediation.csv):
   ``latent_mediation(..., n_boot=1000)`` versus ``lavaan::sem(..., se = "bootstrap",
   bootstrap = 1000)`` and ``parameterEstimates(boot.ci.type = "perc")``. Target: under 60 s.

R is timed inside R (``proc.time()``, excluding start-up and data reading). The machine may
be shared: each timing is printed with its CPU seconds (``time.process_time()``; user +
system in R) and the 1-minute load average (``os.getloadavg()``, as ``uptime``) taken when
it finished.

Usage:  python benchmarks/bench_sem.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from mutualaid_outcomes.models.sem import cross_lagged_panel, latent_mediation
from mutualaid_outcomes.models.sem.builders import _riclpm_syntax, panel_wide

ROOT = Path(__file__).resolve().parents[1]
MED = ROOT / "tests" / "data" / "sem_latent_mediation.csv"
TARGET_PANEL = 5.0
TARGET_BOOT = 60.0


def make_panel(n: int = 5000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ri = rng.multivariate_normal([0, 0], [[1.0, -0.4], [-0.4, 1.0]], size=n)
    wx, wy = rng.normal(size=n), rng.normal(size=n)
    rows = []
    for t, month in enumerate((0, 6, 12)):
        if t:
            wx, wy = (
                0.4 * wx - 0.15 * wy + rng.normal(scale=0.8, size=n),
                -0.2 * wx + 0.35 * wy + rng.normal(scale=0.8, size=n),
            )
        rows.append(
            pd.DataFrame(
                {
                    "id": np.arange(n),
                    "month": month,
                    "attend": 2 + ri[:, 0] + wx,
                    "drinks": 3 + ri[:, 1] + wy,
                }
            )
        )
    long = pd.concat(rows, ignore_index=True)
    return long[rng.random(len(long)) > 0.2].reset_index(drop=True)


def best_of(fn, repeats: int) -> tuple[float, float, float]:
    """Best wall-clock seconds, the CPU seconds of that run and the load average after it."""
    best = (float("inf"), float("nan"), float("nan"))
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < best[0]:
            best = (wall, cpu, os.getloadavg()[0])
    return best


def _load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def run_r(script: str) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(script)
    out = subprocess.run(["Rscript", fh.name], capture_output=True, text=True, check=True).stdout
    values = {}
    for line in out.splitlines():
        if line.startswith(("TIME ", "CPU ")):
            kind, key, val = line.split()
            values[key if kind == "TIME" else f"{key}_cpu"] = float(val)
    return values


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer resamples and repeats")
    args = parser.parse_args()
    n_boot = 200 if args.quick else 1000
    repeats = 1 if args.quick else 3

    long = make_panel()
    wide, _, cols = panel_wide(long, "id", "month", ["attend", "drinks"])
    syntax = _riclpm_syntax(cols, [], False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cross_lagged_panel(long, "id", "month", ["attend", "drinks"], random_intercepts=True)
        t_panel = best_of(
            lambda: cross_lagged_panel(
                long, "id", "month", ["attend", "drinks"], random_intercepts=True
            ).glance(),
            repeats,
        )
        t_boot = best_of(
            lambda: latent_mediation(
                pd.read_csv(MED),
                "x",
                ["support"],
                "y",
                indicators={"support": ["s1", "s2", "s3"]},
                covariates=["c1"],
                n_boot=n_boot,
                rng=1,
            ).tidy(),
            1,
        )

    times_r: dict[str, float] = {}
    if shutil.which("Rscript"):
        tmp = Path(tempfile.mkdtemp())
        wide.to_csv(tmp / "wide.csv", index=False)
        script = textwrap.dedent(
            f"""
            suppressPackageStartupMessages(library(lavaan))
            wide <- read.csv("{tmp / "wide.csv"}")
            med <- read.csv("{MED}")
            model <- "{syntax}"
            best <- Inf
            cpu <- function(p) p[["user.self"]] + p[["sys.self"]]
            for (i in seq_len({repeats})) {{
              p0 <- proc.time()
              fit <- sem(model, data = wide, missing = "ml")
              fm <- fitMeasures(fit)
              p1 <- proc.time()
              if (p1[["elapsed"]] - p0[["elapsed"]] < best) {{
                best <- p1[["elapsed"]] - p0[["elapsed"]]
                best_cpu <- cpu(p1) - cpu(p0)
              }}
            }}
            cat("TIME panel", best, "\\n")
            cat("CPU panel", best_cpu, "\\n")
            med_model <- "
              support =~ s1 + s2 + s3
              support ~ a*x + c1
              y ~ b*support + cp*x + c1
              ind := a*b
              total_ind := ind
              total := cp + total_ind
            "
            set.seed(1)
            p0 <- proc.time()
            fb <- sem(med_model, data = med, se = "bootstrap", bootstrap = {n_boot})
            pe <- parameterEstimates(fb, boot.ci.type = "perc")
            p1 <- proc.time()
            cat("TIME boot", p1[["elapsed"]] - p0[["elapsed"]], "\\n")
            cat("CPU boot", cpu(p1) - cpu(p0), "\\n")
            """
        )
        times_r = run_r(script)
        r_load = _load()

    print("RI-CLPM, 3 waves x 2 variables, N = 5,000, 20% missing waves, FIML")
    print(
        f"  mutualaid_outcomes: {t_panel[0]:7.2f} s   cpu {t_panel[1]:6.2f} s   "
        f"load {t_panel[2]:.2f}   (target < {TARGET_PANEL:.0f} s)"
    )
    if "panel" in times_r:
        print(
            f"  lavaan 0.6.14:      {times_r['panel']:7.2f} s   cpu {times_r['panel_cpu']:6.2f} s"
            f"   {r_load} (after the R run)   ratio ours/lavaan = "
            f"{t_panel[0] / times_r['panel']:.2f} (cpu {t_panel[1] / times_r['panel_cpu']:.2f})"
        )
    print(f"Latent-mediator bootstrap, N = 300, {n_boot} resamples")
    print(
        f"  mutualaid_outcomes: {t_boot[0]:7.2f} s   cpu {t_boot[1]:6.2f} s   "
        f"load {t_boot[2]:.2f}   (target < {TARGET_BOOT:.0f} s for 1,000)"
    )
    if "boot" in times_r:
        print(
            f"  lavaan 0.6.14:      {times_r['boot']:7.2f} s   cpu {times_r['boot_cpu']:6.2f} s"
            f"   {r_load} (after the R run)   ratio ours/lavaan = "
            f"{t_boot[0] / times_r['boot']:.2f} (cpu {t_boot[1] / times_r['boot_cpu']:.2f})"
        )


if __name__ == "__main__":
    main()
