"""The committed sample files: determinism, schema, missingness and the loader."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mutualaid_outcomes.datasets import (
    MECHANISMS,
    SAMPLE_NAMES,
    SAMPLE_SEED,
    load_sample,
    simulate_cohort,
    write_sample_files,
)
from mutualaid_outcomes.datasets._items import INSTRUMENTS, item_codes, item_columns
from mutualaid_outcomes.errors import ArgumentTypeError, OptionError

GENERATED = (
    "participants.csv",
    "waves.csv",
    "waves.sav",
    "calendar.csv.gz",
    "network.csv.gz",
    "latent.csv.gz",
    "codebook.json",
    "TRUTH.md",
    "README.md",
)


@pytest.fixture(scope="module")
def waves() -> pd.DataFrame:
    return load_sample("waves")


@pytest.fixture(scope="module")
def raw_waves() -> pd.DataFrame:
    return load_sample("waves", raw=True)


@pytest.fixture(scope="module")
def participants() -> pd.DataFrame:
    return load_sample("participants")


@pytest.fixture(scope="module")
def calendar() -> pd.DataFrame:
    return load_sample("calendar")


# --- determinism ---------------------------------------------------------------------


def test_regenerated_files_are_byte_identical(tmp_path: Path, paths) -> None:
    written = write_sample_files(tmp_path, rng=SAMPLE_SEED)
    assert sorted(p.name for p in written) == sorted(GENERATED)
    for name in GENERATED:
        new = (tmp_path / name).read_bytes()
        old = (paths.sample / name).read_bytes()
        assert new == old, f"{name} differs from the committed file"


def test_simulate_cohort_matches_committed_files(participants, waves, calendar) -> None:
    cohort = simulate_cohort(rng=SAMPLE_SEED)
    pd.testing.assert_frame_equal(cohort.participants, participants)
    pd.testing.assert_frame_equal(cohort.waves, waves, check_exact=False, rtol=1e-9)
    pd.testing.assert_frame_equal(cohort.calendar, calendar)
    pd.testing.assert_frame_equal(cohort.network, load_sample("network"))
    pd.testing.assert_frame_equal(
        cohort.latent, load_sample("latent"), check_exact=False, rtol=1e-9
    )


def test_same_seed_same_cohort_other_seed_differs() -> None:
    a = simulate_cohort(40, rng=3)
    b = simulate_cohort(40, rng=np.random.default_rng(3))
    c = simulate_cohort(40, rng=4)
    pd.testing.assert_frame_equal(a.waves, b.waves)
    pd.testing.assert_frame_equal(a.calendar, b.calendar)
    assert not a.calendar["drinks"].equals(c.calendar["drinks"])


def test_sizes_within_limits(paths) -> None:
    assert (paths.sample / "calendar.csv.gz").stat().st_size < 5_000_000
    total = sum((paths.sample / n).stat().st_size for n in GENERATED)
    assert total < 15_000_000


# --- schema ----------------------------------------------------------------------------


def test_participants_schema(participants) -> None:
    assert list(participants.columns) == [
        "id",
        "trial",
        "site",
        "arm",
        "sex",
        "age",
        "index_date",
        "last_month",
    ]
    assert len(participants) == 1726
    assert participants["id"].is_unique
    assert set(participants["arm"]) == {"TSF", "CBT", "MET"}
    counts = participants["arm"].value_counts()
    assert counts.max() - counts.min() <= 1
    assert set(participants["sex"]) == {0, 1}
    assert participants["age"].between(18, 75).all()
    assert participants["site"].between(1, 9).all()
    assert pd.api.types.is_datetime64_any_dtype(participants["index_date"])
    outpatient = participants["trial"] == "outpatient"
    assert participants.loc[outpatient, "site"].le(5).all()
    assert participants.loc[~outpatient, "site"].ge(6).all()


def test_waves_schema(waves, participants) -> None:
    assert len(waves) == 6 * len(participants)
    months = waves.groupby("id")["month"].apply(tuple)
    assert (months == (0, 3, 6, 9, 12, 15)).all()
    for col in ("pda", "ddd", "phdd", "aa_meetings", "aa_days_pct"):
        assert col in waves.columns
    assert waves["pda"].dropna().between(0, 1).all()
    assert waves["phdd"].dropna().between(0, 1).all()
    assert waves["aa_days_pct"].dropna().between(0, 100).all()
    assert (waves["ddd"].dropna() >= 1).all()
    # ddd is missing exactly when there were no drinking days at risk
    no_drinking = waves["pda"].eq(1)
    assert waves.loc[no_drinking, "ddd"].isna().all()
    for inst in INSTRUMENTS:
        for j, col in enumerate(item_columns(inst), start=1):
            values = set(waves[col].dropna().unique())
            assert values <= set(item_codes(inst, j)), col
    assert set(waves["audit_9"].dropna().unique()) == {0.0, 2.0, 4.0}
    assert len([c for c in waves.columns if c.startswith("aai_")]) == 13
    assert waves.loc[waves["assessed"] == 0, "interview_date"].isna().all()
    assert waves.loc[waves["assessed"] == 1, "interview_date"].notna().all()


def test_raw_sentinels_declared_and_counted(raw_waves, waves, paths) -> None:
    codebook = json.loads((paths.sample / "codebook.json").read_text())["variables"]
    total = 0
    for inst in INSTRUMENTS:
        for col in item_columns(inst):
            entry = codebook[col]
            assert entry["missing_codes"] == [8, 9]
            assert entry["value_labels"]["9"] == "Refused"
            found = {
                str(k): int(v) for k, v in raw_waves[col].value_counts().items() if k in (8, 9)
            }
            assert entry["missing_counts"] == found, col
            total += sum(found.values())
            # the cleaned frame has NaN exactly where the raw one has a sentinel or blank
            sentinel = raw_waves[col].isin([8, 9]).to_numpy(dtype=bool)
            assert waves[col].isna().to_numpy()[sentinel].all()
    assert total > 100
    for name, entry in codebook.items():
        assert set(entry) == {
            "label",
            "value_labels",
            "missing_codes",
            "missing_ranges",
            "measurement",
            "missing_counts",
        }, name
        assert entry["measurement"] in {"nominal", "ordinal", "scale"}
    assert codebook["sex"]["value_labels"] == {"0": "Male", "1": "Female"}


def test_sav_matches_csv(raw_waves, paths) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    df, meta = pyreadstat.read_sav(str(paths.sample / "waves.sav"), user_missing=True)
    assert list(df.columns) == list(raw_waves.columns)
    items = [c for inst in INSTRUMENTS for c in item_columns(inst)]
    np.testing.assert_array_equal(
        df[items].to_numpy(dtype=float), raw_waves[items].to_numpy(dtype=float, na_value=np.nan)
    )
    assert meta.missing_ranges["cesd_1"] == [{"lo": 8.0, "hi": 8.0}, {"lo": 9.0, "hi": 9.0}]
    assert meta.variable_value_labels["cesd_1"][9.0] == "Refused"
    assert meta.column_names_to_labels["pda"].startswith("Proportion of days abstinent")
    cleaned, _ = pyreadstat.read_sav(str(paths.sample / "waves.sav"))
    # read without user-missing values, every declared sentinel becomes NaN
    assert not cleaned[items].isin([8, 9]).any().any()


def test_calendar_schema(calendar, participants) -> None:
    assert list(calendar.columns) == ["id", "date", "day", "drinks", "meetings", "controlled"]
    assert calendar["drinks"].dtype == np.float64
    assert (calendar["drinks"] >= 0).all()
    assert (calendar["meetings"] >= 0).all()
    assert calendar["controlled"].dtype == bool
    assert not calendar.duplicated(["id", "day"]).any()
    assert calendar["day"].min() == -90
    assert calendar["day"].max() == 454
    index = calendar["id"].map(participants.set_index("id")["index_date"])
    assert (calendar["date"] - index).dt.days.eq(calendar["day"]).all()
    assert (calendar.loc[calendar["controlled"], "drinks"] == 0).all()
    # the calendar runs until the day before the last interview
    last_day = calendar.groupby("id")["day"].max()
    last_month = participants.set_index("id")["last_month"]
    expected = np.round(last_month * 455 / 15).astype(int) - 1
    pd.testing.assert_series_equal(last_day, expected.reindex(last_day.index), check_names=False)


def test_network_schema() -> None:
    net = load_sample("network")
    assert list(net.columns) == [
        "id",
        "month",
        "member",
        "relationship",
        "contact_days",
        "drinker_type",
        "stance",
        "in_aa",
    ]
    assert net["contact_days"].between(0, 90).all()
    assert set(net["drinker_type"]) <= {0, 1, 2, 3}
    assert set(net["stance"]) <= {-1, 0, 1}
    assert set(net["in_aa"]) <= {0, 1}
    assert (net["member"] == net.groupby(["id", "month"]).cumcount() + 1).all()
    # higher latent network -> more abstainers, AA members and supportive stances
    lat = load_sample("latent")[["id", "month", "network"]]
    flags = net.assign(abst=net["drinker_type"].eq(0), aa=net["in_aa"], support=net["stance"].eq(1))
    per = flags.groupby(["id", "month"])[["abst", "aa", "support"]].mean()
    per = per.join(lat.set_index(["id", "month"]))
    for col in ("abst", "aa", "support"):
        assert per[col].corr(per["network"]) > 0.2, col


# --- wave outcomes agree with the calendar ----------------------------------------------


def test_wave_outcomes_recomputed_from_calendar(calendar, waves, participants) -> None:
    sex = calendar["id"].map(participants.set_index("id")["sex"])
    cal = calendar.assign(thr=np.where(sex == 1, 4, 5))
    rows = []
    for month in (0, 3, 9, 15):
        d = round(month * 455 / 15)
        win = cal[(cal["day"] >= d - 90) & (cal["day"] < d)]
        risk = win[~win["controlled"]]
        g = risk.groupby("id")
        out = pd.DataFrame(
            {
                "pda": g["drinks"].apply(lambda s: (s == 0).mean()),
                "phdd": (risk["drinks"] >= risk["thr"]).groupby(risk["id"]).mean(),
                "ddd": risk[risk["drinks"] > 0].groupby("id")["drinks"].mean(),
                "aa_meetings": win.groupby("id")["meetings"].sum().astype(float),
                "aa_days_pct": win.groupby("id")["meetings"].apply(lambda s: 100 * (s > 0).mean()),
                "n_days": win.groupby("id").size(),
            }
        )
        out = out[out["n_days"] == 90].drop(columns="n_days")
        out["month"] = month
        rows.append(out.reset_index())
    ours = pd.concat(rows).set_index(["id", "month"]).sort_index()
    theirs = waves.set_index(["id", "month"]).loc[ours.index, ours.columns]
    pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-12)
    # windows not covered by the calendar have missing outcomes
    covered = waves.set_index(["id", "month"])["pda"].notna().groupby("month").sum()
    assert covered.loc[15] == len(ours.xs(15, level="month"))


# --- attrition and survey missingness ----------------------------------------------------


def test_attrition_share_and_pattern(waves) -> None:
    assessed = waves.pivot(index="id", columns="month", values="assessed")
    missing_15 = 1 - assessed[15].mean()
    assert 0.20 <= missing_15 <= 0.40
    assert assessed[0].all()
    # intermittent: a missed wave followed by a completed one
    a = assessed.to_numpy()
    intermittent = ((a[:, 1:-1] == 0) & (a[:, 2:] == 1)).any(axis=1)
    assert 0.02 < intermittent.mean() < 0.30


def test_attrition_depends_on_drinking(waves) -> None:
    wide = waves.pivot(index="id", columns="month", values=["assessed", "phdd"])
    d = pd.DataFrame(
        {"missing_15": 1 - wide[("assessed", 15)], "phdd_0": wide[("phdd", 0)]}
    ).dropna()
    fit = sm.Logit(d["missing_15"], sm.add_constant(d[["phdd_0"]])).fit(disp=0)
    assert fit.params["phdd_0"] > 0
    assert fit.tvalues["phdd_0"] > 2.5


def test_item_missingness_a_few_percent(waves) -> None:
    done = waves[waves["assessed"] == 1]
    items = [c for inst in INSTRUMENTS for c in item_columns(inst)]
    share = done[items].isna().to_numpy().mean()
    assert 0.01 < share < 0.06
    assert waves.loc[waves["assessed"] == 0, items].isna().all().all()


# --- items follow their latent scores ----------------------------------------------------


def _sum(df: pd.DataFrame, prefix: str, n: int, reverse=(), low=0, high=0) -> pd.Series:
    cols = [f"{prefix}{j}" for j in range(1, n + 1)]
    x = df[cols].copy()
    for j in reverse:
        x[f"{prefix}{j}"] = low + high - x[f"{prefix}{j}"]
    return x.mean(axis=1, skipna=True)


def test_item_scores_track_latent_scores(waves) -> None:
    lat = load_sample("latent").set_index(["id", "month"])
    w = waves[waves["assessed"] == 1].set_index(["id", "month"])
    lat = lat.loc[w.index]
    checks = {
        "motivation": _sum(w, "socrates_", 19),
        "efficacy": _sum(w, "aase_conf_", 20),
        "temptation": _sum(w, "aase_temp_", 20),
        "craving": _sum(w, "pacs_", 5),
        "depression": _sum(w, "cesd_", 20, reverse=(4, 8, 12, 16), low=0, high=3),
        "quality_of_life": _sum(w, "whoqol_", 26, reverse=(3, 4, 26), low=1, high=5),
        "spirituality": _sum(w, "rbb_", 7),
        "involvement": _sum(w, "aai_", 13),
        "service": _sum(w, "sos_", 12),
        "consequences": _sum(w, "drinc_", 50),
        "hazardous_drinking": _sum(w, "audit_", 8),
    }
    for latent, score in checks.items():
        r = score.corr(lat[latent])
        assert r > 0.75, (latent, r)
    # reverse-worded items correlate negatively with their latent before reverse-keying
    for j in (4, 8, 12, 16):
        assert w[f"cesd_{j}"].corr(lat["depression"]) < -0.3
    assert w["cesd_1"].corr(lat["depression"]) > 0.3
    for j in (3, 4, 26):
        assert w[f"whoqol_{j}"].corr(lat["quality_of_life"]) < -0.2


def test_latent_frame_complete() -> None:
    lat = load_sample("latent")
    assert lat.shape == (1726 * 6, 15)
    assert not lat.isna().any().any()
    assert set(MECHANISMS) <= set(lat.columns)
    # the true attendance class is a person-level constant coded 1-3
    assert set(lat["attendance_class"]) == {1, 2, 3}
    assert (lat.groupby("id")["attendance_class"].nunique() == 1).all()


# --- loader -------------------------------------------------------------------------------


def test_load_sample_returns_copies() -> None:
    a = load_sample("participants")
    a.loc[0, "age"] = -1
    a["new"] = 1
    b = load_sample("participants")
    assert b.loc[0, "age"] != -1
    assert "new" not in b.columns


def test_load_sample_codebook_and_truth() -> None:
    cb = load_sample("codebook")
    from mutualaid_outcomes.io.codebook import Codebook

    assert isinstance(cb, Codebook)
    truth = load_sample("truth")
    assert {"quantity", "value", "mc_se", "kind", "description"} <= set(truth.columns)


def test_load_sample_unknown_name() -> None:
    with pytest.raises(OptionError, match="'participants', 'waves', 'calendar'") as err:
        load_sample("wave")
    assert "got 'wave'" in str(err.value)
    with pytest.raises(ArgumentTypeError, match="raw"):
        load_sample("waves", raw="yes")
    assert set(SAMPLE_NAMES) == {
        "participants",
        "waves",
        "calendar",
        "network",
        "latent",
        "codebook",
        "truth",
    }


def test_load_sample_outside_repository(tmp_path: Path) -> None:
    code = (
        "from mutualaid_outcomes.datasets import load_sample, sample_truth;"
        "w = load_sample('waves');"
        "print(w.shape[0], w['interview_date'].dtype, len(sample_truth()) > 20)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert out.stdout.split() == ["10356", "datetime64[ns]", "True"]
