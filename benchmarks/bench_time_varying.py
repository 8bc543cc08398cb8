"""Time-varying Cox pipeline on a full-size cohort: daily calendar -> counting process -> Cox.

Ours: ``to_counting_process`` (vectorised 30-day rolling window, merging of identical
consecutive days) and ``fit_cox_time_varying`` (Efron ties, robust SEs by id).
Peer: the lifelines route, i.e. the same daily covariate computed with pandas,
``lifelines.utils.to_long_format`` + ``add_covariate_to_timeline`` and
``CoxTimeVaryingFitter`` (Efron ties). Both run in this process on the same data;
the script prints the timings, their ratio and the two hazard ratios.

Run: python benchmarks/bench_time_varying.py [--n 1726]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd


def load_data(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Daily calendar (days -90..454) and first-heavy-day outcomes for ``n`` people."""
    from mutualaid_outcomes.participation.relapse import relapse_times

    try:
        from mutualaid_outcomes.datasets import load_sample

        cal = load_sample("calendar")
        part = load_sample("participants")
        source = "sample cohort (src/mutualaid_outcomes/datasets/sample)"
    except Exception:  # the committed sample may not be available in a checkout
        from mutualaid_outcomes.datasets.simulate import simulate_cohort

        coh = simulate_cohort(n, rng=20240601)
        cal, part = coh.calendar, coh.participants
        source = "simulate_cohort(rng=20240601)"
    ids = part["id"].to_numpy()[:n]
    cal = cal[cal["id"].isin(ids)]
    rel = relapse_times(
        cal,
        id="id",
        date="day",
        drinks="drinks",
        definition="first_heavy",
        sex=part.set_index("id")["sex"],
        index_date=pd.Series(0, index=ids),
    )
    rel = rel.dropna(subset=["duration"])[["id", "duration", "event"]]
    print(
        f"data: {source}; {cal['id'].nunique()} people, {len(cal)} calendar rows, "
        f"{len(rel)} with follow-up, {int(rel['event'].sum())} events"
    )
    return cal[["id", "day", "meetings"]].reset_index(drop=True), rel.reset_index(drop=True)


def ours(cal: pd.DataFrame, rel: pd.DataFrame):
    from mutualaid_outcomes.models.survival.cox_time_varying import fit_cox_time_varying
    from mutualaid_outcomes.prep.counting_process import to_counting_process

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cp = to_counting_process(
            cal,
            rel,
            id="id",
            time="day",
            duration="duration",
            event="event",
            rolling={"any30": ("meetings", 30, "any")},
            entry=0,
        )
    res = fit_cox_time_varying(cp.data, "id", "start", "stop", "event", ["any30"])
    return cp, res


def lifelines_route(cal: pd.DataFrame, rel: pd.DataFrame):
    from lifelines import CoxTimeVaryingFitter
    from lifelines.utils import add_covariate_to_timeline, to_long_format

    c = cal.sort_values(["id", "day"])
    # any meeting on days t-30 .. t-1 (pandas rolling window, shifted by one day)
    m = c.groupby("id")["meetings"].transform(
        lambda s: s.rolling(30, min_periods=1).sum().shift(1, fill_value=0)
    )
    c = c.assign(any30=(m > 0).astype(float))
    cv = c.loc[c["day"] >= 0, ["id", "day", "any30"]]
    cv = cv[cv["id"].isin(rel["id"])]
    base = to_long_format(rel.copy(), duration_col="duration")
    long = add_covariate_to_timeline(base, cv, id_col="id", duration_col="day", event_col="event")
    long = long[long["stop"] > long["start"]]
    ctv = CoxTimeVaryingFitter()
    ctv.fit(long, id_col="id", event_col="event", start_col="start", stop_col="stop")
    return long, ctv


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1726)
    args = ap.parse_args()
    cal, rel = load_data(args.n)

    t0 = time.perf_counter()
    cp, res = ours(cal, rel)
    t_ours = time.perf_counter() - t0
    hr = float(res.tidy(exponentiate=True)["estimate"].iloc[0])
    print(
        f"ours     : {t_ours:8.2f} s  rows {cp.n_rows_unmerged} -> {cp.n_rows} after merging; "
        f"HR(any30) = {hr:.4f}"
    )

    t0 = time.perf_counter()
    long, ctv = lifelines_route(cal, rel)
    t_ll = time.perf_counter() - t0
    hr_ll = float(np.exp(ctv.params_.iloc[0]))
    print(f"lifelines: {t_ll:8.2f} s  rows {len(long)}; HR(any30) = {hr_ll:.4f}")
    print(
        f"ratio lifelines / ours = {t_ll / t_ours:.1f}x; "
        f"log-HR difference = {abs(np.log(hr) - np.log(hr_ll)):.2e}"
    )


if __name__ == "__main__":
    main()
