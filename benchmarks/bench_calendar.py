"""Benchmark: summarize_calendar against a vectorised pandas groupby (and a per-person apply).

Part 1 uses the sample cohort's calendar (src/mutualaid_outcomes/datasets/sample/
calendar.csv.gz; 1,726 people, about 455 days each), or simulates 1,726 people x 455
days when it is absent. The fair peer is a plain vectorised pandas
``groupby(["id", "window"]).sum()`` of the core sums (days observed and at risk, total
drinks, drinking / heavy / meeting days, total meetings): the ratio against it is the
one to quote. Both are timed in CPU seconds, alternating, and the medians of REPEATS
runs are compared (the machine is shared; CPU time is less disturbed by other load than
wall time). The per-person ``groupby.apply`` that computes every quantity (runs,
first-drink days ...) is run once on the first CHECKED people, only to check agreement
of all quantities (it takes about 0.4 s a person); its time measures the cost of a Python
call per person, not our speed (earlier versions of this script reported it as a "150x"
speed-up, which overstated the gain).

Part 2 (``--scale``) simulates 100,000 people x 365 days (36.5 million rows, sorted by
person and date as calendar files are) and runs each side in a fresh process, reporting
CPU seconds, the peak memory allocated during the call (tracemalloc) and the process's
resident-set high-water mark before and after the call.

Run: python benchmarks/bench_calendar.py [--scale] [--repeats N]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mutualaid_outcomes.participation import relapse_times, summarize_calendar

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "mutualaid_outcomes" / "datasets" / "sample"
REPEATS = 5
CHECKED = 200  # people checked against the per-person apply
WINDOWS = [(0, 90), (90, 180)]
THRESHOLDS = (5.0, 4.0)  # male, female
COMPARED = [
    "days_observed",
    "days_at_risk",
    "total_drinks",
    "drinking_days",
    "heavy_days",
    "pda",
    "ddd",
    "phdd",
    "longest_abstinent_run",
    "first_drink_day",
    "first_drink_event",
    "first_heavy_day",
    "first_heavy_event",
    "meeting_days",
    "total_meetings",
    "pct_days_attending",
]


def simulated_calendar(n_people: int = 1726, n_days: int = 455, seed: int = 20240) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(1, n_people + 1), n_days)
    day = np.tile(np.arange(n_days), n_people)
    start = np.repeat(rng.integers(0, 700, n_people), n_days)
    p_drink = np.repeat(rng.beta(1, 3, n_people), n_days)
    drinking = rng.random(pid.size) < p_drink
    drinks = np.where(drinking, rng.poisson(5, pid.size) + 1, 0).astype(float)
    drinks[rng.random(pid.size) < 0.01] = np.nan
    meetings = rng.poisson(np.repeat(rng.gamma(1, 0.5, n_people), n_days))
    return pd.DataFrame(
        {
            "id": pid,
            "date": pd.Timestamp("2021-01-01") + pd.to_timedelta(start + day, unit="D"),
            "day": day,
            "drinks": drinks,
            "meetings": meetings,
            "controlled": rng.random(pid.size) < 0.01,
            "sex": np.repeat(rng.integers(0, 2, n_people), n_days),
        }
    )


def load_calendar() -> tuple[pd.DataFrame, pd.Series | None, str]:
    """The calendar, the index date per id (None = first calendar day) and a description."""
    path = SAMPLE / "calendar.csv.gz"
    part_path = SAMPLE / "participants.csv"
    if not (path.exists() and part_path.exists()):
        return simulated_calendar(), None, "simulated 1,726 people x 455 days"
    cal = pd.read_csv(path, parse_dates=["date"])
    part = pd.read_csv(part_path, parse_dates=["index_date"])
    cal = cal.merge(part[["id", "sex"]], on="id", how="left", validate="many_to_one")
    cal["controlled"] = cal["controlled"].astype(bool)
    return cal, part.set_index("id")["index_date"], f"sample cohort {path.relative_to(ROOT)}"


def vectorised_core_sums(cal: pd.DataFrame) -> pd.DataFrame:
    """The core per-person, per-window sums by one vectorised pandas groupby."""
    win = pd.Series(np.nan, index=cal.index)
    for j, (start, end) in enumerate(WINDOWS):
        win[(cal["day"] >= start) & (cal["day"] < end)] = j
    thr = np.where(cal["sex"] == 1, THRESHOLDS[1], THRESHOLDS[0])
    rec = cal["drinks"].notna()
    risk = rec & ~cal["controlled"].astype(bool)
    frame = pd.DataFrame(
        {
            "id": cal["id"],
            "window": win,
            "days_observed": rec | cal["controlled"].astype(bool),
            "days_at_risk": risk,
            "total_drinks": cal["drinks"].where(risk, 0.0),
            "drinking_days": risk & (cal["drinks"] > 0),
            "heavy_days": risk & (cal["drinks"] >= thr),
            "meeting_days": cal["meetings"] > 0,
            "total_meetings": cal["meetings"],
        }
    ).dropna(subset=["window"])
    return frame.groupby(["id", "window"], sort=True).sum()


def naive_summary(cal: pd.DataFrame) -> pd.DataFrame:
    """One person at a time with ordinary pandas operations (groupby-apply)."""

    def one_person(g: pd.DataFrame) -> pd.DataFrame:
        g = g.sort_values("day")
        thr = THRESHOLDS[1] if g["sex"].iloc[0] == 1 else THRESHOLDS[0]
        rows = []
        for start, end in WINDOWS:
            w = g[(g["day"] >= start) & (g["day"] < end)]
            rec = w["drinks"].notna()
            risk = w[rec & ~w["controlled"]]
            n_risk = len(risk)
            drinking = risk[risk["drinks"] > 0]
            heavy = risk[risk["drinks"] >= thr]
            full = w.set_index("day").reindex(range(start, end))
            abst = (full["drinks"] == 0) & (full["controlled"] == False)  # noqa: E712
            run_id = (~abst).cumsum()
            runs = abst.groupby(run_id).sum()
            last = risk["day"].max() if n_risk else np.nan
            m = w["meetings"]
            rows.append(
                {
                    "days_observed": int((rec | w["controlled"]).sum()),
                    "days_at_risk": n_risk,
                    "total_drinks": risk["drinks"].sum(),
                    "drinking_days": len(drinking),
                    "heavy_days": len(heavy),
                    "pda": (risk["drinks"] == 0).mean() if n_risk else np.nan,
                    "ddd": drinking["drinks"].mean() if len(drinking) else np.nan,
                    "phdd": len(heavy) / n_risk if n_risk else np.nan,
                    "longest_abstinent_run": int(runs.max()) if len(runs) else 0,
                    "first_drink_day": drinking["day"].min() if len(drinking) else last,
                    "first_drink_event": int(len(drinking) > 0),
                    "first_heavy_day": heavy["day"].min() if len(heavy) else last,
                    "first_heavy_event": int(len(heavy) > 0),
                    "meeting_days": int((m > 0).sum()),
                    "total_meetings": m.sum(),
                    "pct_days_attending": 100 * (m > 0).sum() / m.notna().sum()
                    if m.notna().any()
                    else np.nan,
                }
            )
        return pd.DataFrame(rows)

    return cal.groupby("id").apply(one_person, include_groups=False).reset_index(drop=True)


def naive_relapse(cal: pd.DataFrame, k: int) -> pd.DataFrame:
    """k consecutive heavy days, one person at a time (groupby-apply with a rolling sum)."""

    def one_person(g: pd.DataFrame) -> pd.Series:
        thr = THRESHOLDS[1] if g["sex"].iloc[0] == 1 else THRESHOLDS[0]
        g = g[g["day"] >= 0].set_index("day").sort_index()
        at_risk = g["drinks"].notna() & ~g["controlled"]
        if not at_risk.any():
            return pd.Series({"duration": np.nan, "event": 0})
        full = g.reindex(range(int(g.index.max()) + 1))
        heavy = ((full["drinks"] >= thr) & (full["controlled"] == False)).astype(int)  # noqa: E712
        met = heavy.rolling(k).sum() == k
        if met.any():
            return pd.Series({"duration": float(met.idxmax() + 1), "event": 1})
        return pd.Series({"duration": float(at_risk[at_risk].index.max() + 1), "event": 0})

    return cal.groupby("id").apply(one_person, include_groups=False).reset_index(drop=True)


def cpu_seconds(fn) -> tuple[float, object]:
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def main(repeats: int = REPEATS) -> None:
    cal, index_date, source = load_calendar()
    # day 0 = the index date (default: each person's first calendar day)
    day0 = (
        cal.groupby("id")["date"].transform("min")
        if index_date is None
        else cal["id"].map(index_date)
    )
    cal = cal.assign(day=(cal["date"] - day0).dt.days)
    n_people = cal["id"].nunique()
    print(f"data: {source}: {n_people} people, {len(cal):,} rows; windows {WINDOWS}")

    def ours_fn():
        return summarize_calendar(
            cal,
            meetings="meetings",
            windows=WINDOWS,
            sex="sex",
            controlled="controlled",
            index_date=index_date,
        )

    t_ours, t_core = [], []
    for _ in range(repeats):  # alternate, so both see the same machine load
        t, ours = cpu_seconds(ours_fn)
        t_ours.append(t)
        t, core = cpu_seconds(lambda: vectorised_core_sums(cal))
        t_core.append(t)
    # the per-person apply takes about 0.4 s a person: check agreement on CHECKED people
    checked = cal[cal["id"].isin(np.unique(cal["id"])[:CHECKED])]
    t_naive, naive = cpu_seconds(lambda: naive_summary(checked))
    ours_checked = ours[ours["id"].isin(checked["id"])]

    worst = 0.0
    for col in COMPARED:
        a = ours_checked[col].to_numpy(dtype=float)
        b = naive[col].to_numpy(dtype=float)
        same_nan = np.array_equal(np.isnan(a), np.isnan(b))
        diff = np.nanmax(np.abs(a - b) / np.maximum(1.0, np.abs(b))) if len(a) else 0.0
        if not same_nan or diff > 1e-9:
            raise SystemExit(f"MISMATCH in {col}: max relative difference {diff:.3g}")
        worst = max(worst, float(np.nan_to_num(diff)))
    print(
        f"agreement with the per-person apply: {len(COMPARED)} quantities x "
        f"{len(ours_checked):,} rows ({CHECKED} people), max rel diff {worst:.1e}"
    )
    core_diff = abs(float(core["total_drinks"].sum()) - float(np.nansum(ours["total_drinks"])))
    print(f"vectorised groupby: total drinks agree (difference {core_diff:.1e})")
    m_ours, m_core = float(np.median(t_ours)), float(np.median(t_core))
    print(f"CPU seconds, median of {repeats} alternating runs:")
    print(f"  summarize_calendar (all quantities):    {m_ours:8.3f} s")
    print(f"  vectorised pandas groupby (core sums):  {m_core:8.3f} s")
    print(f"  ratio ours / vectorised groupby: {m_ours / m_core:.2f} (below 1: we are faster)")
    print(f"  pandas groupby-apply, {CHECKED} people (agreement check only): {t_naive:8.3f} s")

    k = 3
    t_rel, rel = cpu_seconds(
        lambda: relapse_times(
            cal,
            definition="consecutive_heavy",
            k=k,
            sex="sex",
            controlled="controlled",
            index_date=index_date,
        )
    )
    t_rel_naive, rel_naive = cpu_seconds(lambda: naive_relapse(checked, k))
    rel = rel[rel["id"].isin(checked["id"])]
    same = np.array_equal(rel["event"].to_numpy(), rel_naive["event"].to_numpy()) and np.allclose(
        rel["duration"], rel_naive["duration"], equal_nan=True
    )
    if not same:
        raise SystemExit("MISMATCH in relapse_times(consecutive_heavy)")
    print(f"relapse ({k} consecutive heavy days): {int(rel['event'].sum())} events, agreement ok")
    print(f"relapse_times (vectorised, all {n_people} people): {t_rel:8.3f} s")
    print(f"pandas groupby-apply ({CHECKED} people, agreement check only): {t_rel_naive:8.3f} s")


SCALE_SCRIPT = textwrap.dedent(
    """
    import resource, sys, time, tracemalloc
    import numpy as np, pandas as pd
    sys.path.insert(0, sys.argv[3])
    from bench_calendar import WINDOWS, vectorised_core_sums
    from mutualaid_outcomes.participation import summarize_calendar

    n_people, n_days, side = int(sys.argv[1]), 365, sys.argv[2]
    rng = np.random.default_rng(7)
    n = n_people * n_days
    pid = np.repeat(np.arange(1, n_people + 1), n_days)
    day = np.tile(np.arange(n_days), n_people)
    drinks = rng.poisson(4.0, n).astype(float)
    drinks[rng.random(n) < 0.7] = 0.0
    drinks[rng.random(n) < 0.01] = np.nan
    cal = pd.DataFrame({
        "id": pid,
        "date": pd.Timestamp("2021-01-01") + pd.to_timedelta(day, unit="D"),
        "day": day,
        "drinks": drinks,
        "meetings": rng.poisson(0.5, n),
        "controlled": rng.random(n) < 0.01,
        "sex": np.repeat(rng.integers(0, 2, n_people), n_days),
    })
    del pid, day, drinks
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    t0 = time.process_time()
    if side == "ours":
        out = summarize_calendar(cal, meetings="meetings", windows=WINDOWS, sex="sex",
                                 controlled="controlled")
    else:
        out = vectorised_core_sums(cal)
    seconds = time.process_time() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(seconds, peak / 1e9, rss_before / 1e6, rss_after / 1e6, len(cal), len(out))
    """
)


def scale(n_people: int = 100_000, repeats: int = 3) -> None:
    """ours vs the vectorised groupby on n_people x 365 days, each run in a fresh process."""
    here = str(Path(__file__).resolve().parent)
    runs: dict[str, list[list[float]]] = {"ours": [], "groupby": []}
    for _ in range(repeats):
        for side in runs:
            res = subprocess.run(
                [sys.executable, "-c", SCALE_SCRIPT, str(n_people), side, here],
                capture_output=True,
                text=True,
                check=True,
            )
            runs[side].append([float(v) for v in res.stdout.split()])
    n_rows = int(runs["ours"][0][4])
    print(f"scale: {n_people:,} people x 365 days ({n_rows:,} rows), median of {repeats} runs")
    for side, rows in runs.items():
        sec, peak, rss0, rss1 = (float(np.median([r[i] for r in rows])) for i in range(4))
        print(
            f"  {side:8s} {sec:7.2f} CPU s; peak allocated during the call {peak:5.2f} GB; "
            f"RSS high-water {rss0:5.2f} GB before, {rss1:5.2f} GB after"
        )
    ratio = np.median([r[0] for r in runs["ours"]]) / np.median([r[0] for r in runs["groupby"]])
    print(f"  ratio ours / vectorised groupby: {ratio:.2f} (below 1: we are faster)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", action="store_true", help="also run 100,000 x 365 days")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    main(args.repeats)
    if args.scale:
        scale()
