"""The sample cohort's data frames, built from the simulated arrays of :mod:`._dgp`.

:func:`~mutualaid_outcomes.datasets.simulate_cohort` calls these in turn: participants,
latent scores, waves (calendar outcomes, then item responses with survey missingness),
the daily calendar and the important-people roster.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ._cohort import ARMS
from ._dgp import MECHANISMS, PRE_DAYS, WAVE_MONTHS
from ._items import INSTRUMENTS, generate_items, item_columns

__all__ = [
    "MEASUREMENT_LATENTS",
    "WAVE_OUTCOMES",
    "calendar_frame",
    "item_responses",
    "latent_frame",
    "measurement_latents",
    "network_frame",
    "participants_frame",
    "waves_frame",
]

#: Latent scores that drive instruments but are not mechanisms of change.
MEASUREMENT_LATENTS: tuple[str, ...] = (
    "involvement",
    "service",
    "temptation",
    "quality_of_life",
    "consequences",
    "hazardous_drinking",
)
WAVE_OUTCOMES: tuple[str, ...] = ("pda", "ddd", "phdd", "aa_meetings", "aa_days_pct")
_P_ITEM_BLANK = 0.02
_P_ITEM_SENTINEL = 0.004
_P_FORM_SKIPPED = 0.01


def measurement_latents(
    core: dict[str, np.ndarray], win: dict[str, np.ndarray], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Latent scores behind the non-mechanism instruments, shape (n, 6 waves)."""
    mech = core["mech"]
    n = mech.shape[0]
    net, eff, dep, crav, spir = (mech[:, :, i] for i in (0, 1, 3, 4, 5))
    att = (np.log1p(win["aa_meetings"]) - 1.5) / 1.2
    weekly = (np.log1p(win["total_drinks"] / 90.0 * 7.0) - 2.5) / 1.2
    involvement = 0.8 * att + 0.3 * spir + 0.2 * net + rng.normal(0.0, 0.5, (n, 6))
    return {
        "involvement": involvement,
        "service": 0.8 * involvement - 0.5 + rng.normal(0.0, 0.5, (n, 6)),
        "temptation": 0.7 * crav - 0.3 * eff + rng.normal(0.0, 0.4, (n, 6)),
        "quality_of_life": -0.45 * dep + 0.25 * net + 0.2 * eff + rng.normal(0.0, 0.5, (n, 6)),
        "consequences": 0.8 * weekly + 0.3 * dep + rng.normal(0.0, 0.4, (n, 6)),
        "hazardous_drinking": 0.9 * weekly + rng.normal(0.0, 0.3, (n, 6)),
    }


def _ids_months(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.arange(1, n + 1, dtype=np.int64), np.asarray(WAVE_MONTHS, dtype=np.int64)


def participants_frame(
    core: dict[str, np.ndarray], last: np.ndarray, index_date: np.ndarray
) -> pd.DataFrame:
    """One row per person: ``id, trial, site, arm, sex, age, index_date, last_month``."""
    ids, months = _ids_months(last.size)
    return pd.DataFrame(
        {
            "id": ids,
            "trial": np.where(core["outpatient"], "outpatient", "aftercare"),
            "site": core["site"].astype(np.int64),
            "arm": np.asarray(ARMS)[core["arm"]],
            "sex": core["female"].astype(np.int64),
            "age": core["age"].astype(np.int64),
            "index_date": pd.to_datetime(index_date).astype("datetime64[ns]"),
            "last_month": months[last],
        }
    )


def latent_frame(core: dict[str, np.ndarray], meas: dict[str, np.ndarray]) -> pd.DataFrame:
    """True latent scores per person and wave (complete, before attrition).

    Also the person's true attendance-trajectory class (``attendance_class``, codes
    1 low, 2 descending, 3 high), repeated on each of the person's rows.
    """
    n = core["mech"].shape[0]
    ids, months = _ids_months(n)
    latent = {"id": np.repeat(ids, 6), "month": np.tile(months, n)}
    for i, name in enumerate(MECHANISMS):
        latent[name] = core["mech"][:, :, i].ravel()
    for name in MEASUREMENT_LATENTS:
        latent[name] = meas[name].ravel()
    # true attendance-trajectory class, codes 1-3 (ATTENDANCE_CLASSES order), per person
    latent["attendance_class"] = np.repeat(core["att_class"].astype(np.int64) + 1, 6)
    return pd.DataFrame(latent)


def waves_frame(
    core: dict[str, np.ndarray],
    win: dict[str, np.ndarray],
    assessed: np.ndarray,
    last: np.ndarray,
    index_date: np.ndarray,
    items: dict[str, np.ndarray],
) -> pd.DataFrame:
    """One row per person and wave: interview date, calendar-derived outcomes and items.

    Outcomes are missing for windows after the last interview (calendar not covered);
    ``items`` come from :func:`item_responses`.
    """
    n = assessed.shape[0]
    ids, months = _ids_months(n)
    covered = np.arange(6)[None, :] <= last[:, None]  # calendar window observed
    interview = index_date[:, None] + core["wave_days"][None, :].astype("timedelta64[D]")
    interview = np.where(assessed, interview, np.datetime64("NaT"))
    waves: dict[str, Any] = {
        "id": np.repeat(ids, 6),
        "month": np.tile(months, n),
        "assessed": assessed.ravel().astype(np.int64),
        "interview_date": pd.to_datetime(interview.ravel()).astype("datetime64[ns]"),
    }
    for key in WAVE_OUTCOMES:
        vals = np.where(covered, win[key].astype(float), np.nan)
        waves[key] = vals.ravel()
    return pd.DataFrame({**waves, **items})


def item_responses(
    core: dict[str, np.ndarray],
    win: dict[str, np.ndarray],
    meas: dict[str, np.ndarray],
    assessed: np.ndarray,
    g_items: np.random.Generator,
    g_miss: np.random.Generator,
    sentinel_codes: bool,
) -> dict[str, np.ndarray]:
    """Every instrument's item columns, one value per person and wave, with survey missingness.

    Missingness: skipped forms, blank items and sentinel answers (the raw codes 8 and 9
    with ``sentinel_codes``, else NaN); nothing is recorded at waves not assessed.
    """
    rows_assessed = assessed.ravel()
    n_rows = rows_assessed.size
    columns: dict[str, np.ndarray] = {}
    for inst in INSTRUMENTS:
        z = (
            meas[inst.latent]
            if inst.latent in meas
            else core["mech"][:, :, MECHANISMS.index(inst.latent)]
        )
        codes = generate_items(inst, z.ravel(), g_items, win["aa_meetings"].ravel())
        skipped = g_miss.random(n_rows) < _P_FORM_SKIPPED
        blank = g_miss.random(codes.shape) < _P_ITEM_BLANK
        sentinel = g_miss.random(codes.shape) < _P_ITEM_SENTINEL
        which = np.where(g_miss.random(codes.shape) < 0.4, 8.0, 9.0)
        codes = np.where(sentinel, which if sentinel_codes else np.nan, codes)
        codes[blank | skipped[:, None] | ~rows_assessed[:, None]] = np.nan
        for j, col in enumerate(item_columns(inst)):
            columns[col] = codes[:, j]
    return columns


def calendar_frame(
    core: dict[str, np.ndarray], last: np.ndarray, index_date: np.ndarray
) -> pd.DataFrame:
    """Daily calendar of the observed days (up to the day before the last interview)."""
    ids, _ = _ids_months(last.size)
    end_col = PRE_DAYS + core["wave_days"][last]  # exclusive column
    n_days = core["drinks"].shape[1]
    observed = np.arange(n_days)[None, :] < end_col[:, None]
    pid, col = np.nonzero(observed)
    day = col - PRE_DAYS
    return pd.DataFrame(
        {
            "id": ids[pid],
            "date": pd.to_datetime(index_date[pid] + day.astype("timedelta64[D]")).astype(
                "datetime64[ns]"
            ),
            "day": day.astype(np.int64),
            "drinks": core["drinks"][pid, col].astype(float),
            "meetings": core["meetings"][pid, col].astype(np.int64),
            "controlled": core["controlled"][pid, col],
        }
    )


def network_frame(
    core: dict[str, np.ndarray],
    meas: dict[str, np.ndarray],
    assessed: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Important-people roster at the assessed waves."""
    n = assessed.shape[0]
    ids, months = _ids_months(n)
    a_idx = np.flatnonzero(assessed.ravel())
    return _network_roster(
        np.repeat(ids, 6)[a_idx],
        np.tile(months, n)[a_idx],
        core["mech"][:, :, 0].ravel()[a_idx],
        meas["involvement"].ravel()[a_idx],
        rng,
    )


def _network_roster(
    ids: np.ndarray,
    months: np.ndarray,
    network: np.ndarray,
    involvement: np.ndarray,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Important-people roster, one row per member, for the given person-waves."""
    size = 1 + rng.binomial(11, expit(-0.4 + 0.3 * network))
    rows = np.repeat(np.arange(ids.size), size)
    first = np.cumsum(size) - size
    member = np.arange(rows.size) - np.repeat(first, size) + 1
    net = network[rows]
    inv = involvement[rows]
    in_aa = rng.random(rows.size) < expit(-2.0 + 0.9 * net + 0.5 * inv)
    rel = rng.choice([2, 3, 4, 6], size=rows.size, p=[0.4, 0.35, 0.12, 0.13])
    spouse = (member == 1) & (rng.random(rows.size) < 0.45)
    rel = np.where(spouse, 1, rel)
    rel = np.where(in_aa & ~spouse & (rng.random(rows.size) < 0.6), 5, rel)
    z = 0.9 * net + 1.5 * in_aa + rng.logistic(0.0, 1.0, rows.size)
    drinker = np.where(z > 1.0, 0, np.where(z < -1.6, 2, 1))
    drinker = np.where(rng.random(rows.size) < 0.06, 3, drinker)
    z2 = (
        0.7 * net
        + 0.8 * (drinker == 0)
        + 1.2 * in_aa
        - 0.8 * (drinker == 2)
        + rng.logistic(0.0, 1.0, rows.size)
    )
    stance = np.where(z2 > 0.0, 1, np.where(z2 < -2.2, -1, 0))
    base_p = np.array([np.nan, 0.9, 0.35, 0.25, 0.5, 0.3, 0.15])[rel]
    p_contact = expit(np.log(base_p / (1 - base_p)) + rng.normal(0.0, 0.7, rows.size))
    contact = rng.binomial(90, p_contact)
    return pd.DataFrame(
        {
            "id": ids[rows],
            "month": months[rows],
            "member": member.astype(np.int64),
            "relationship": rel.astype(np.int64),
            "contact_days": contact.astype(np.int64),
            "drinker_type": drinker.astype(np.int64),
            "stance": stance.astype(np.int64),
            "in_aa": in_aa.astype(np.int64),
        }
    )
