"""Time instrument scoring and reliability against peers in one run.

* score(): CES-D (20 items, reverse-keying, range checks, published missing rule with
  proration, cut-point bands) on 1,000,000 rows, versus a plain numpy sum of the items:
  ``np.nansum(block, axis=1)`` over the 2-D item block taken without a copy (the strict
  peer: no reverse-keying, checks or missing rule; the floor for any scoring), the same
  sum after ``data[items].to_numpy()`` (which copies the items out of the frame) and a
  hand-written pandas implementation of the same rule. Three frame layouts: a frame
  built from a 2-D array (one row-major block under pandas 2, which keeps the array;
  pandas 3 copies it into a column-major block), one built from a dict of arrays (one
  column-major block) and one array per column (after ``pd.concat(axis=1)`` or
  ``assign``). CPU seconds, medians of REPEATS alternating runs, with the load
  average; the machine is shared.
* reliability(): Cronbach's alpha on 50,000 x 20 items versus pingouin.cronbach_alpha
  (alpha and its CI only; ours also computes item statistics and omega total).

Run: python benchmarks/bench_instruments.py
"""

from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from mutualaid_outcomes.instruments import reliability, score
from mutualaid_outcomes.instruments._whole import _block_view, item_arrays

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


def score_layouts(x: np.ndarray, cols: list[str]) -> dict[str, pd.DataFrame]:
    """The same answers in the three column layouts pandas produces."""
    return {
        "frame from a 2-D array": pd.DataFrame(x, columns=cols),
        "frame from a dict of arrays": pd.DataFrame({c: x[:, j] for j, c in enumerate(cols)}),
        "one array per column": pd.concat(
            [pd.DataFrame({c: x[:, j].copy()}) for j, c in enumerate(cols)], axis=1
        ),
    }


def bench_score(rng: np.random.Generator) -> None:
    x = rng.integers(0, 4, size=(N_ROWS, 20)).astype(float)
    x[rng.random(x.shape) < 0.03] = np.nan
    cols = [f"cesd_{i}" for i in range(1, 21)]
    print(f"load average before: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    for layout, df in score_layouts(x, cols).items():
        arrays = item_arrays(df, cols)
        view = _block_view(arrays) if arrays is not None else None
        # the strict peer sums the frame's own 2-D block when it has one, else the array
        # the frame was built from (a frame of separate columns has no 2-D block)
        block = view if view is not None else x
        ours, strict, frame_sum, pandas_rule = cpu_medians(
            [
                lambda df=df: score(df, "cesd"),
                lambda block=block: np.nansum(block, axis=1),
                lambda df=df: np.nansum(df[cols].to_numpy(dtype=float), axis=1),
                lambda df=df: pandas_cesd(df),
            ]
        )
        diff = np.nanmax(np.abs(score(df, "cesd")["cesd_total"] - pandas_cesd(df)))
        print(
            f"score(cesd) {N_ROWS:,} rows x 20 items, {layout} "
            f"(items read as one 2-D view: {'yes' if view is not None else 'no'}): "
            f"ours {ours:.3f} CPU s; zero-copy np.nansum {strict:.3f} s (ratio "
            f"{ours / strict:.2f}, target <= 2); np.nansum(data[items].to_numpy()) "
            f"{frame_sum:.3f} s ({ours / frame_sum:.2f}); pandas {pandas_rule:.3f} s "
            f"({ours / pandas_rule:.2f}); max |difference from pandas| = {diff:.1e}"
        )
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    rng = np.random.default_rng(11)
    bench_score(rng)
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
