"""Core data-generating process of the sample cohort (latent scale, complete data).

Everything here is vectorised over people and days. The public entry point is
:func:`mutualaid_outcomes.datasets.simulate_cohort`; :func:`simulate_core` is shared
with the large-sample truth computation in :mod:`mutualaid_outcomes.datasets.truth`, as is
:func:`attrition` (who is assessed at each wave).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import expit

__all__ = [
    "ATTENDANCE_CLASSES",
    "MECHANISMS",
    "WAVE_MONTHS",
    "PRE_DAYS",
    "WINDOW",
    "CohortParameters",
    "attrition",
    "simulate_core",
    "wave_days",
    "weekend_days",
    "window_outcomes",
]

#: Latent mechanisms of behaviour change, in this order everywhere.
MECHANISMS: tuple[str, ...] = (
    "network",
    "efficacy",
    "motivation",
    "depression",
    "craving",
    "spirituality",
)
#: Latent classes of meeting attendance over the six intervals, in code order 1, 2, 3.
ATTENDANCE_CLASSES: tuple[str, ...] = ("low", "descending", "high")
#: Assessment waves (months after the index date).
WAVE_MONTHS: tuple[int, ...] = (0, 3, 6, 9, 12, 15)
#: Days of calendar recorded before the index date (the baseline Form-90 window).
PRE_DAYS = 90
#: Length of the window before each wave from which wave outcomes are computed.
WINDOW = 90
#: First calendar date of the cohort's recruitment period and its length in days.
RECRUIT_START = np.datetime64("1991-01-02")
RECRUIT_DAYS = 1360

_BASE_CORR = np.array(
    [
        # net   eff   mot   dep   crav  spir
        [1.00, 0.30, 0.10, -0.20, -0.20, 0.20],
        [0.30, 1.00, 0.10, -0.35, -0.45, 0.15],
        [0.10, 0.10, 1.00, 0.15, 0.15, 0.15],
        [-0.20, -0.35, 0.15, 1.00, 0.35, -0.10],
        [-0.20, -0.45, 0.15, 0.35, 1.00, -0.10],
        [0.20, 0.15, 0.15, -0.10, -0.10, 1.00],
    ]
)


def _t(*values: float) -> tuple[float, ...]:
    return tuple(float(v) for v in values)


@dataclass(frozen=True)
class CohortParameters:
    """Structural parameters of the sample cohort's data-generating process.

    The defaults generate the committed sample files; ``src/mutualaid_outcomes/datasets/sample/TRUTH.md``
    writes every equation out. Six-element tuples follow :data:`MECHANISMS`
    (network, efficacy, motivation, depression, craving, spirituality); five-element
    tuples follow the follow-up intervals ending at months 3, 6, 9, 12 and 15.

    Attributes
    ----------
    p_outpatient : float
        Share of the outpatient trial (952 of 1,726 in Project MATCH).
    p_female : float
        Share of women.
    eng_intercept : tuple of float
        Log-odds of attending at all during an interval (baseline window, then the
        five follow-up intervals).
    eng_tsf : tuple of float
        Added log-odds of attending at all for the TSF arm in each follow-up interval.
    att_intercept : tuple of float
        Daily log-odds of attending a meeting for a person attending in that interval.
    att_tsf : tuple of float
        Added daily log-odds for the TSF arm in each follow-up interval.
    att_sd_interval : float
        SD of the person-by-interval attendance deviation.
    p_double_meeting : float
        Probability that an attendance day has two meetings.
    class_shares : tuple of float
        Probabilities of the latent attendance classes :data:`ATTENDANCE_CLASSES`
        (low, descending, high), drawn independently of everything else.
    class_engage : tuple of tuple of float
        Per class, the added log-odds of attending at all in each of the six intervals
        (baseline window, then the five follow-up intervals).
    class_daily : tuple of tuple of float
        Per class, the added daily log-odds of attending for a person attending in
        that interval.
    mech_rho : tuple of float
        Autoregression of each mechanism from one wave to the next.
    mech_attend : tuple of float
        Effect of 10 meetings in the 90-day window before a wave on each mechanism
        at that wave (the structural a-paths; for men).
    mech_attend_female : tuple of float
        Added effect of 10 meetings for women (moderation of the a-paths by sex).
    mech_shift : tuple of float
        Change of each mechanism during treatment (interval to month 3).
    mech_sd : tuple of float
        SD of each mechanism's unique innovation.
    mech_common_sd : float
        SD of the innovation shared by all mechanisms (loadings ``mech_common``).
    mech_common : tuple of float
        Loadings of the shared innovation.
    drink_intercept : tuple of float
        Daily log-odds of drinking at all: baseline window, then follow-up.
    drink_mech : tuple of float
        Effect of each mechanism on the daily log-odds of drinking.
    drink_attend : float
        Direct effect of 10 meetings in the current interval on the daily log-odds of
        drinking.
    drink_weekend : float
        Added log-odds of drinking on Fridays and Saturdays.
    drink_prev_meeting : float
        Within-person effect of a meeting on the previous calendar day on the
        log-odds of drinking (day t - 1 meeting -> day t drinking).
    quantity_log_mean : tuple of float
        Log mean drinks above one on a drinking day: baseline window, follow-up.
    quantity_shape : float
        Gamma shape of the day-to-day quantity variation (negative binomial counts).
    heavy_log_hazard : float
        Log cumulative daily hazard of the first heavy drinking day after treatment.
    heavy_log_hazard_treatment : float
        Added log hazard during the first 84 days (active treatment).
    heavy_log_hr_attend : float
        Log hazard ratio of any meeting in the past 30 days (time-varying).
    heavy_log_hr_phdd0 : float
        Log hazard ratio per unit of baseline proportion of heavy drinking days.
    p_controlled : float
        Probability of one controlled-environment stay during follow-up.
    drop_intercept : tuple of float
        Log-odds of dropping out before each follow-up wave.
    drop_phdd : float
        Effect of the proportion of heavy drinking days in the previous window on
        the log-odds of dropping out.
    p_missed_wave : float
        Probability of missing a follow-up interview without dropping out.
    """

    p_outpatient: float = 952 / 1726
    p_female: float = 0.25
    eng_intercept: tuple[float, ...] = _t(-0.4, 0.7, 0.3, 0.0, -0.2, -0.3)
    eng_tsf: tuple[float, ...] = _t(1.0, 0.7, 0.5, 0.4, 0.4)
    att_intercept: tuple[float, ...] = _t(-2.2, -1.5, -1.7, -1.9, -2.0, -2.1)
    att_tsf: tuple[float, ...] = _t(0.5, 0.3, 0.2, 0.2, 0.2)
    att_sd_interval: float = 0.5
    p_double_meeting: float = 0.08
    class_shares: tuple[float, ...] = _t(0.45, 0.30, 0.25)
    class_engage: tuple[tuple[float, ...], ...] = (
        _t(-1.5, -2.0, -2.4, -2.7, -2.9, -3.0),
        _t(0.3, 1.5, 1.0, 0.2, -0.5, -1.0),
        _t(0.8, 2.0, 2.2, 2.4, 2.5, 2.6),
    )
    class_daily: tuple[tuple[float, ...], ...] = (
        _t(-0.5, -0.5, -0.5, -0.5, -0.5, -0.5),
        _t(0.0, 0.3, 0.1, -0.2, -0.4, -0.5),
        _t(0.2, 0.6, 0.7, 0.8, 0.8, 0.8),
    )
    mech_rho: tuple[float, ...] = _t(0.7, 0.6, 0.5, 0.6, 0.55, 0.8)
    mech_attend: tuple[float, ...] = _t(0.12, 0.08, 0.03, -0.05, -0.06, 0.10)
    mech_attend_female: tuple[float, ...] = _t(0.12, 0.0, 0.0, 0.0, 0.0, 0.0)
    mech_shift: tuple[float, ...] = _t(0.1, 0.4, -0.1, -0.3, -0.4, 0.05)
    mech_sd: tuple[float, ...] = _t(0.5, 0.55, 0.6, 0.55, 0.6, 0.4)
    mech_common_sd: float = 0.3
    mech_common: tuple[float, ...] = _t(0.5, 1.0, 0.3, -0.8, -0.8, 0.3)
    drink_intercept: tuple[float, ...] = _t(0.7, -1.9)
    drink_mech: tuple[float, ...] = _t(-0.35, -0.45, -0.15, 0.25, 0.35, -0.10)
    drink_attend: float = -0.08
    drink_weekend: float = 0.4
    drink_prev_meeting: float = -0.5
    quantity_log_mean: tuple[float, ...] = _t(np.log(10.0), np.log(5.0))
    quantity_shape: float = 3.0
    heavy_log_hazard: float = float(np.log(0.0022))
    heavy_log_hazard_treatment: float = -0.4
    heavy_log_hr_attend: float = float(np.log(0.6))
    heavy_log_hr_phdd0: float = 1.5
    p_controlled: float = 0.07
    drop_intercept: tuple[float, ...] = _t(-3.6, -3.4, -3.4, -3.4, -3.2)
    drop_phdd: float = 2.5
    p_missed_wave: float = 0.05
    base_corr: tuple[tuple[float, ...], ...] = field(
        default=tuple(tuple(float(x) for x in row) for row in _BASE_CORR), repr=False
    )


def wave_days(days: int) -> np.ndarray:
    """Day of each wave relative to the index date: ``round(month * days / 15)``.

    Examples
    --------
    >>> wave_days(455).tolist()
    [0, 91, 182, 273, 364, 455]
    """
    return np.round(np.asarray(WAVE_MONTHS) * days / 15).astype(np.int64)


def _day_interval(days: int) -> np.ndarray:
    """Interval index of every calendar day: 0 before the index date, k = 1..5 after."""
    d = wave_days(days)
    t = np.arange(-PRE_DAYS, days)
    k = np.searchsorted(d[1:], t, side="right") + 1
    k[t < 0] = 0
    return k


def window_outcomes(
    drinks: np.ndarray,
    meetings: np.ndarray,
    controlled: np.ndarray,
    threshold: np.ndarray,
    start: int,
) -> dict[str, np.ndarray]:
    """Wave outcomes of one 90-day window starting at calendar column ``start``.

    Days in a controlled environment are not at risk (excluded from the PDA, PHDD
    and DDD denominators); AA days are counted over all 90 days.
    """
    sl = slice(start, start + WINDOW)
    dr = drinks[:, sl]
    risk = ~controlled[:, sl]
    n_risk = risk.sum(axis=1)
    drinking = (dr > 0) & risk
    n_drink = drinking.sum(axis=1)
    heavy = (dr >= threshold[:, None]) & risk
    with np.errstate(invalid="ignore", divide="ignore"):
        pda = np.where(n_risk > 0, (risk & (dr == 0)).sum(axis=1) / n_risk, np.nan)
        phdd = np.where(n_risk > 0, heavy.sum(axis=1) / n_risk, np.nan)
        ddd = np.where(n_drink > 0, (dr * drinking).sum(axis=1) / n_drink, np.nan)
    mt = meetings[:, sl]
    return {
        "pda": pda,
        "ddd": ddd,
        "phdd": phdd,
        "aa_meetings": mt.sum(axis=1).astype(np.int64),
        "aa_days_pct": 100.0 * (mt > 0).sum(axis=1) / WINDOW,
        "total_drinks": dr.sum(axis=1),
    }


def simulate_core(
    n: int, days: int, params: CohortParameters, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Simulate baseline data, latent mechanisms and complete daily calendars.

    Returns a dict of arrays; calendar arrays have shape ``(n, PRE_DAYS + days)``
    with column ``j`` holding day ``j - PRE_DAYS``. Each stage draws from its own
    stream (spawned from ``rng`` in a fixed order), so the stages below can change
    without shifting the random numbers of the others. Stages added later draw from
    streams spawned after the first six (the attendance class from the seventh).
    """
    g_base, g_att, g_mech, g_drink, g_heavy, g_ctrl = rng.spawn(6)
    (g_class,) = rng.spawn(1)
    kday = _day_interval(days)
    dwave = wave_days(days)
    start = dwave - WINDOW + PRE_DAYS  # calendar column of each window's first day
    base = _baseline(n, params, g_base)
    base["att_class"] = g_class.choice(len(params.class_shares), n, p=params.class_shares)
    meetings, win_meet = _attendance(base, params, kday, start, g_att)
    mech = _mechanisms(base, win_meet, params, g_mech)
    controlled = _controlled_stays(n, days, params, g_ctrl)
    drinks = _daily_drinking(
        base, mech, win_meet, meetings, controlled, params, kday, days, g_drink
    )
    threshold = np.where(base["female"] == 1, 4, 5)
    phdd0 = window_outcomes(drinks, meetings, controlled, threshold, int(start[0]))["phdd"]
    past30, first_heavy = _first_heavy_day(
        meetings, drinks, controlled, threshold, phdd0, params, days, g_heavy
    )
    return {
        "n": np.asarray(n),
        **{key: value for key, value in base.items() if key != "m0"},
        "mech": mech,
        "meetings": meetings,
        "drinks": drinks,
        "controlled": controlled,
        "threshold": threshold,
        "window_start": start,
        "wave_days": dwave,
        "past30": past30,
        "first_heavy": first_heavy,
        "phdd0": phdd0,
    }


def _baseline(n: int, p: CohortParameters, g: np.random.Generator) -> dict[str, np.ndarray]:
    """Site, arm, sex, age, entry day, severity, baseline mechanisms, drinking and AA traits."""
    outpatient = g.random(n) < p.p_outpatient
    site = np.where(outpatient, g.integers(1, 6, n), g.integers(6, 10, n))
    arm = g.permutation(np.resize(np.array([0, 1, 2]), n))  # 0 TSF, 1 CBT, 2 MET
    female = (g.random(n) < p.p_female).astype(np.int64)
    age = np.clip(np.round(g.normal(40.0, 11.0, n)), 18, 75).astype(np.int64)
    entry = g.integers(0, RECRUIT_DAYS, n)
    severity = g.normal(0.0, 1.0, n) + 0.3 * (~outpatient)
    chol = np.linalg.cholesky(np.asarray(p.base_corr))
    m0 = g.standard_normal((n, 6)) @ chol.T
    m0 += np.outer(severity, [-0.3, -0.3, 0.3, 0.25, 0.4, 0.0])
    m0[:, 3] += 0.3 * female
    theta = 0.8 * severity + g.normal(0.0, 0.7, n)
    propensity = (
        0.35 * m0[:, 5]
        + 0.2 * m0[:, 2]
        + 0.25 * severity
        + 0.3 * (~outpatient)
        + g.normal(0.0, 0.8, n)
    )
    return {
        "outpatient": outpatient,
        "site": site,
        "arm": arm,
        "female": female,
        "age": age,
        "entry": entry,
        "severity": severity,
        "theta": theta,
        "propensity": propensity,
        "m0": m0,
    }


def _attendance(
    base: dict[str, np.ndarray],
    p: CohortParameters,
    kday: np.ndarray,
    start: np.ndarray,
    g: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Daily AA meetings (engaged in an interval? then daily attendance) and window sums."""
    n, n_days = base["arm"].size, kday.size
    tsf = (base["arm"] == 0).astype(float)
    lin_eng = np.empty((n, 6))
    lin_day = np.empty((n, 6))
    lin_eng[:, 0] = p.eng_intercept[0]
    lin_day[:, 0] = p.att_intercept[0]
    for k in range(1, 6):
        lin_eng[:, k] = p.eng_intercept[k] + p.eng_tsf[k - 1] * tsf
        lin_day[:, k] = p.att_intercept[k] + p.att_tsf[k - 1] * tsf
    lin_eng += np.asarray(p.class_engage)[base["att_class"]]
    lin_day += np.asarray(p.class_daily)[base["att_class"]]
    lin_eng += 1.2 * base["propensity"][:, None]
    lin_day += 0.6 * base["propensity"][:, None] + g.normal(0.0, p.att_sd_interval, (n, 6))
    engaged = g.random((n, 6)) < expit(lin_eng)
    p_att = np.where(engaged, expit(lin_day), 0.0)
    u = g.random((n, n_days))
    attend = u < p_att[:, kday]
    double = g.random((n, n_days)) < p.p_double_meeting
    meetings = (attend.astype(np.int16) * (1 + double)).astype(np.int16)
    win_meet = np.stack([meetings[:, s : s + WINDOW].sum(axis=1) for s in start], axis=1)
    return meetings, win_meet.astype(float)


def _mechanisms(
    base: dict[str, np.ndarray], win_meet: np.ndarray, p: CohortParameters, g: np.random.Generator
) -> np.ndarray:
    """Latent mechanisms, person x wave x mechanism: AR(1) driven by recent meetings."""
    n = win_meet.shape[0]
    mech = np.empty((n, 6, 6))
    mech[:, 0, :] = base["m0"]
    rho = np.asarray(p.mech_rho)
    # person-specific a-paths: men mech_attend, women mech_attend + mech_attend_female
    a = np.asarray(p.mech_attend) + np.outer(base["female"], p.mech_attend_female)
    for w in range(1, 6):
        common = g.normal(0.0, p.mech_common_sd, n)
        unique = g.standard_normal((n, 6)) * np.asarray(p.mech_sd)
        shift = np.asarray(p.mech_shift) if w == 1 else 0.0
        mech[:, w, :] = (
            rho * mech[:, w - 1, :]
            + shift
            + (win_meet[:, w] / 10.0)[:, None] * a
            + np.outer(common, p.mech_common)
            + unique
        )
    mech[:, 1:, 3] += 0.1 * base["female"][:, None]
    return mech


def _controlled_stays(n: int, days: int, p: CohortParameters, g: np.random.Generator) -> np.ndarray:
    """Days in a controlled environment (one stay of 5-30 days for some people, follow-up only)."""
    n_days = PRE_DAYS + days
    has_stay = g.random(n) < p.p_controlled
    s0 = g.integers(1, max(days - 30, 2), n) + PRE_DAYS
    length = g.integers(5, 31, n)
    col = np.arange(n_days)[None, :]
    return has_stay[:, None] & (col >= s0[:, None]) & (col < (s0 + length)[:, None])


def _daily_drinking(
    base: dict[str, np.ndarray],
    mech: np.ndarray,
    win_meet: np.ndarray,
    meetings: np.ndarray,
    controlled: np.ndarray,
    p: CohortParameters,
    kday: np.ndarray,
    days: int,
    g: np.random.Generator,
) -> np.ndarray:
    """Drinks per day: drinking days by interval, weekday and yesterday's meeting.

    Quantities are gamma-Poisson. A meeting on day t - 1 adds ``drink_prev_meeting``
    to the log-odds of drinking on day t (the first calendar day has no previous day).
    """
    n, n_days = controlled.shape
    female = base["female"]
    interval_lin = np.empty((n, 6))
    interval_qty = np.empty((n, 6))
    for w in range(6):
        lin0 = p.drink_intercept[0] if w == 0 else p.drink_intercept[1]
        qbase = p.quantity_log_mean[0] if w == 0 else p.quantity_log_mean[1]
        interval_lin[:, w] = (
            lin0
            + base["theta"]
            + mech[:, w, :] @ np.asarray(p.drink_mech)
            + (p.drink_attend * win_meet[:, w] / 10.0 if w > 0 else 0.0)
        )
        interval_qty[:, w] = (
            qbase
            + 0.35 * base["severity"]
            + 0.2 * mech[:, w, 4]
            - 0.15 * mech[:, w, 1]
            - 0.3 * female
        )
    interval_lin += g.normal(0.0, 0.5, (n, 6))
    interval_qty += g.normal(0.0, 0.3, (n, 6))
    weekend = weekend_days(base["entry"], days)
    prev_meeting = np.zeros((n, n_days), dtype=bool)
    prev_meeting[:, 1:] = meetings[:, :-1] > 0
    p_drink = expit(
        interval_lin[:, kday] + p.drink_weekend * weekend + p.drink_prev_meeting * prev_meeting
    )
    drinking = g.random((n, n_days)) < p_drink
    mu = np.exp(interval_qty)[:, kday]
    lam = g.gamma(p.quantity_shape, mu / p.quantity_shape)
    drinks = np.where(drinking, 1 + np.minimum(g.poisson(lam), 39), 0).astype(np.int16)
    drinks[controlled] = 0
    return drinks


def _first_heavy_day(
    meetings: np.ndarray,
    drinks: np.ndarray,
    controlled: np.ndarray,
    threshold: np.ndarray,
    phdd0: np.ndarray,
    p: CohortParameters,
    days: int,
    g: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """First heavy drinking day from a discrete-time cloglog hazard; calendars made consistent.

    Returns the past-30-day attendance indicator and the first heavy day (``days`` when
    censored). ``drinks`` is edited in place: no heavy day before the event, a heavy day
    on it.
    """
    n, n_days = meetings.shape
    any_meet = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(meetings > 0, axis=1)], 1)
    tcol = np.arange(PRE_DAYS, n_days)
    past30 = (any_meet[:, tcol] - any_meet[:, tcol - 30]) > 0  # days t-30 .. t-1
    t = np.arange(days)
    lin_h = (
        p.heavy_log_hazard
        + p.heavy_log_hazard_treatment * (t < 84)[None, :]
        + p.heavy_log_hr_attend * past30
        + p.heavy_log_hr_phdd0 * phdd0[:, None]
    )
    hazard = -np.expm1(-np.exp(lin_h))
    hazard[controlled[:, PRE_DAYS:]] = 0.0
    event = g.random((n, days)) < hazard
    has_event = event.any(axis=1)
    first_heavy = np.where(has_event, event.argmax(axis=1), days)

    follow = drinks[:, PRE_DAYS:]  # view
    thr = threshold[:, None]
    before = t[None, :] < first_heavy[:, None]
    too_heavy = before & (follow >= thr)
    if too_heavy.any():
        highs = np.broadcast_to(thr, follow.shape)[too_heavy]
        follow[too_heavy] = g.integers(1, highs)
    on_event = t[None, :] == first_heavy[:, None]
    light = on_event & (follow < thr)
    if light.any():
        extra = g.poisson(2.0, int(light.sum()))
        follow[light] = np.broadcast_to(thr, follow.shape)[light] + extra
    return past30, first_heavy


def weekend_days(entry: np.ndarray, days: int) -> np.ndarray:
    """Friday or Saturday indicator of every calendar day, shape ``(n, PRE_DAYS + days)``."""
    epoch_day = (RECRUIT_START - np.datetime64("1970-01-01")).astype(np.int64)
    dow = (epoch_day + entry[:, None] + np.arange(-PRE_DAYS, days)[None, :] + 3) % 7
    return (dow == 4) | (dow == 5)  # Friday, Saturday (Monday = 0)


def all_window_outcomes(core: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Wave outcomes for all six windows: arrays of shape ``(n, 6)``."""
    per = [
        window_outcomes(
            core["drinks"], core["meetings"], core["controlled"], core["threshold"], int(s)
        )
        for s in core["window_start"]
    ]
    return {key: np.stack([w[key] for w in per], axis=1) for key in per[0]}


def attrition(phdd: np.ndarray, params: CohortParameters, rng: np.random.Generator) -> np.ndarray:
    """Assessed indicator (n, 6): monotone drop-out plus intermittently missed waves."""
    n = phdd.shape[0]
    assessed = np.zeros((n, 6), dtype=bool)
    assessed[:, 0] = True
    dropped = np.zeros(n, dtype=bool)
    prev = np.nan_to_num(phdd, nan=0.0)
    for k in range(1, 6):
        p_drop = expit(params.drop_intercept[k - 1] + params.drop_phdd * prev[:, k - 1])
        dropped |= rng.random(n) < p_drop
        missed = rng.random(n) < params.p_missed_wave
        assessed[:, k] = ~dropped & ~missed
    return assessed
