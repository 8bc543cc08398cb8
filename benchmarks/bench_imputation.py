"""Time impute() against statsmodels' MICEData on the sample cohort (same run, ratio printed).

Both run chained equations with predictive mean matching on the same frame (one row per
person: month-3 attendance, month-15 PDA, earlier PDA / PHDD / attendance waves and the
baseline covariates of the documented mediation model), ``m`` imputations of ``n_iter``
cycles each. statsmodels keeps one chain and saves a data set after every ``n_iter``
cycles (its documented usage); ours runs ``m`` independent chains.

Both sides run with one BLAS thread (``threadpoolctl``): chained equations are many small
regressions, and with the default pool the threads of both contend for the cores. An
earlier "4.6x" ratio from this script was an artefact of that contention (the timings
of both sides swung by up to 25x with machine load), not a property of the algorithms.

Run: python benchmarks/bench_imputation.py
"""

from __future__ import annotations

import time
import warnings

import pandas as pd
from statsmodels.imputation.mice import MICEData

from mutualaid_outcomes.datasets import load_sample, mediation_frame
from mutualaid_outcomes.models.missing.imputation import impute

M, N_ITER, REPEATS = 5, 10, 3


def cohort_frame() -> pd.DataFrame:
    waves = load_sample("waves")
    frame = mediation_frame(load_sample("latent"), waves, load_sample("participants"))
    frame = frame.drop(columns=["id", *[c for c in frame.columns if c.endswith("_9")]])
    wide = waves.pivot(index="id", columns="month", values=["pda", "phdd", "aa_meetings"])
    aux = {f"phdd_{mo}": wide[("phdd", mo)] for mo in (0, 3, 6, 9, 12)}
    aux.update({f"pda_{mo}": wide[("pda", mo)] for mo in (3, 6, 9, 12)})
    aux.update({f"aa_meetings_{mo}": wide[("aa_meetings", mo)] for mo in (6, 9, 12)})
    return pd.concat([frame, pd.DataFrame(aux).reset_index(drop=True)], axis=1)


def ours(df: pd.DataFrame) -> None:
    impute(df, m=M, max_iter=N_ITER, rng=1)


def statsmodels_mice(df: pd.DataFrame) -> None:
    data = MICEData(df)
    for _ in range(M):
        data.update_all(N_ITER)
        data.data.copy()


def best_of(fn, df: pd.DataFrame) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn(df)
        times.append(time.perf_counter() - t0)
    return min(times)


if __name__ == "__main__":
    df = cohort_frame()
    n_inc = int((df.isna().sum() > 0).sum())
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        t_ours = best_of(ours, df)
        t_sm = best_of(statsmodels_mice, df)
    print(f"{len(df)} rows, {df.shape[1]} columns ({n_inc} incomplete), m = {M}, n_iter = {N_ITER}")
    print(f"impute (ours)          {t_ours:8.3f} s")
    print(f"statsmodels MICEData   {t_sm:8.3f} s")
    print(f"ratio statsmodels / ours: {t_sm / t_ours:.2f}")
