"""read_data overhead against plain pyreadstat / pandas on a large generated file.

Run: python benchmarks/bench_io.py [n_rows] [n_cols]

Each reader is timed in the same run (best of 3); the ratio is our time divided by
the peer's. read_data does more work (user-missing handling, per-code counts, the
codebook, the type decision for text columns under the reading rule, exact
identifiers, a check for rows longer than the header), so a ratio somewhat above 1
is expected. write_data also writes the codebook sidecar with the data file's
checksum and fsyncs both files before replacing the old ones.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from mutualaid_outcomes.io import read_data, write_data


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
        # an R export: identifiers, a fellowship column holding "NA" (a value) and
        # numbers with NA tokens (missing)
        r_csv = Path(tmp) / "r_export.csv"
        r_df = pd.DataFrame(
            {
                "id": np.arange(1, n_rows + 1),
                "fellowship": rng.choice(["AA", "NA", "CA"], n_rows),
                **{c: df[c] for c in list(df.columns)[:10]},
            }
        )
        r_df = r_df.astype({"item_1": object})
        r_df.loc[rng.random(n_rows) < 0.05, "item_1"] = "NA"
        r_df.to_csv(r_csv, index=False)
        out_csv = Path(tmp) / "written.csv"
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
            (
                "csv, R export",
                lambda: read_data(r_csv),
                lambda: pd.read_csv(r_csv),
            ),
            (
                "write csv",
                lambda: write_data(df, out_csv),
                lambda: df.to_csv(out_csv, index=False),
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
