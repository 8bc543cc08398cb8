"""Time instrument scoring and reliability against peers in one run.

* score(): CES-D (20 items, reverse-keying, published missing rule) on 200,000 rows
  versus a hand-written pandas implementation of the same rule.
* reliability(): Cronbach's alpha on 50,000 x 20 items versus pingouin.cronbach_alpha
  (alpha and its CI only; ours also computes item statistics and omega total).

Run: python benchmarks/bench_instruments.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from mutualaid_outcomes.instruments import reliability, score


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
    x = rng.integers(0, 4, size=(200_000, 20)).astype(float)
    x[rng.random(x.shape) < 0.03] = np.nan
    df = pd.DataFrame(x, columns=[f"cesd_{i}" for i in range(1, 21)])
    ours = best_of(lambda: score(df, "cesd"))
    peer = best_of(lambda: pandas_cesd(df))
    diff = np.nanmax(np.abs(score(df, "cesd")["cesd_total"] - pandas_cesd(df)))
    print(f"score(cesd) 200k rows: ours {ours:.3f}s, pandas {peer:.3f}s, ratio {ours / peer:.2f}")
    print(f"  max |difference| = {diff:.2e}")

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
