"""read_data overhead against plain pyreadstat / pandas on a large generated file.

Run: python benchmarks/bench_io.py [n_rows] [n_cols]

Each reader is timed in the same run (best of 3); the ratio is our time divided by
the peer's. read_data does more work (user-missing handling, per-code counts, the
codebook), so a ratio somewhat above 1 is expected.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from mutualaid_outcomes.io import read_data


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(n_rows: int = 200_000, n_cols: int = 60) -> None:
    rng = np.random.default_rng(20240601)
    data = {f"item_{j + 1}": rng.integers(0, 5, n_rows).astype(float) for j in range(n_cols)}
    df = pd.DataFrame(data)
    # about 2% sentinel codes
    for col in df.columns:
        idx = rng.random(n_rows) < 0.02
        df.loc[idx, col] = rng.choice([98.0, 99.0], idx.sum())
    labels = {c: {0: "never", 1: "rarely", 2: "sometimes", 3: "often", 4: "always"} for c in df}
    missing = {c: [98, 99] for c in df}
    with tempfile.TemporaryDirectory() as tmp:
        sav = Path(tmp) / "big.sav"
        csv = Path(tmp) / "big.csv"
        pyreadstat.write_sav(df, sav, variable_value_labels=labels, missing_ranges=missing)
        df.to_csv(csv, index=False)
        subset = [f"item_{j}" for j in (1, 7, 30)]
        cases = [
            (
                "sav, all columns",
                lambda: read_data(sav),
                lambda: pyreadstat.read_sav(sav),
            ),
            (
                "sav, 3 columns",
                lambda: read_data(sav, columns=subset),
                lambda: pyreadstat.read_sav(sav, usecols=subset),
            ),
            (
                "csv + sentinels",
                lambda: read_data(csv, missing_codes=[98, 99]),
                lambda: pd.read_csv(csv, na_values=["98", "99"]),
            ),
            (
                "csv, 3 columns",
                lambda: read_data(csv, columns=subset, missing_codes=[98, 99]),
                lambda: pd.read_csv(csv, usecols=subset, na_values=["98", "99"]),
            ),
        ]
        print(f"{n_rows} rows x {n_cols} columns")
        print(f"{'case':<20} {'read_data (s)':>14} {'peer (s)':>10} {'ratio':>7}")
        for name, ours, peer in cases:
            t_ours = best_of(ours)
            t_peer = best_of(peer)
            print(f"{name:<20} {t_ours:14.3f} {t_peer:10.3f} {t_ours / t_peer:7.2f}")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    main(*args)
