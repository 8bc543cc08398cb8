"""Time instrument scoring and reliability against peers in one run.

* score(): CES-D (20 items, reverse-keying, range checks, published missing rule with
  proration, cut-point bands) on 1,000,000 rows, versus a plain numpy sum of the item
  block (``np.nansum(data[items].to_numpy(), axis=1)``: no reverse-keying, checks or
  missing rule; the floor for any scoring) and a hand-written pandas implementation of
  the same rule. Both item layouts are timed: one 2-D block (a frame built from an
  array) and one array per column (a frame read from a file). CPU seconds, medians of
  REPEATS alternating runs; the machine is shared.
* reliability(): Cronbach's alpha on 50,000 x 20 items versus pingouin.cronbach_alpha
  (alpha and its CI only; ours also computes item statistics and omega total).

Run: python benchmarks/bench_instruments.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from mutualaid_outcomes.instruments import reliability, score

REPEATS = 7
N_ROWS = 1_000_000


def cpu_medians(fns, repeat=REPEATS):
    """Median CPU seconds of each function, the functions run in turn ``repeat`` times."""
    times = [[] for _ in fns]
    for _ in range(repeat):
        for t, fn in zip(times, fns):
            t0 = time.process_time()
            fn()
            t.append(time.process_time() - t0)
    return [float(np.median(t)) for t in times]


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def pandas_cesd(df: pd.DataFrame) -> pd.Series:
    x = df.copy()
    for i in (4, 8, 12, 16):
        x[f"cesd_{i}"] = 3 - x[f"cesd_{i}"]
    n_ans = x.notna().sum(axis=1)
    return (x.mean(axis=1) * 20).where(20 - n_ans <= 4)


def main() -> None:
    rng = np.random.default_rng(11)
    x = rng.integers(0, 4, size=(N_ROWS, 20)).astype(float)
    x[rng.random(x.shape) < 0.03] = np.nan
    cols = [f"cesd_{i}" for i in range(1, 21)]
    layouts = {
        "one 2-D block": pd.DataFrame(x, columns=cols),
        "one array per column": pd.DataFrame({c: x[:, j] for j, c in enumerate(cols)}),
    }
    for layout, df in layouts.items():
        ours, numpy_sum, pandas_rule = cpu_medians(
            [
                lambda df=df: score(df, "cesd"),
                lambda df=df: np.nansum(df[cols].to_numpy(dtype=float), axis=1),
                lambda df=df: pandas_cesd(df),
            ]
        )
        diff = np.nanmax(np.abs(score(df, "cesd")["cesd_total"] - pandas_cesd(df)))
        print(
            f"score(cesd) {N_ROWS:,} rows x 20 items, {layout}: ours {ours:.3f} CPU s, "
            f"numpy sum {numpy_sum:.3f} s (ratio {ours / numpy_sum:.2f}), "
            f"pandas {pandas_rule:.3f} s (ratio {ours / pandas_rule:.2f}); "
            f"max |difference from pandas| = {diff:.1e}"
        )

    f = rng.normal(size=50_000)
    items = pd.DataFrame({f"x{j}": f + rng.normal(size=f.size) for j in range(20)})
    cols = list(items.columns)
    ours = best_of(lambda: reliability(items, cols))
    try:
        import pingouin as pg
    except ImportError:  # pragma: no cover - optional peer
        print(f"reliability 50k x 20: ours {ours:.3f}s (pingouin not installed)")
        return
    peer = best_of(lambda: pg.cronbach_alpha(items))
    a_pg = pg.cronbach_alpha(items)[0]
    a_us = reliability(items, cols).alpha
    print(
        f"reliability 50k x 20: ours {ours:.3f}s, pingouin {peer:.3f}s, ratio {ours / peer:.2f}; "
        f"|alpha difference| = {abs(a_pg - a_us):.2e}"
    )


if __name__ == "__main__":
    main()
