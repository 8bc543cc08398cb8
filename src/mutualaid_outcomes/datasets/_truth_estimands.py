"""Batch estimators of the sample cohort's newer true effects (used by :mod:`.truth`).

Each function takes one complete-data batch from :func:`._dgp.simulate_core` (and the
window outcomes) and returns population-type estimates; :func:`.truth.compute_truth`
averages them over batches. The quantities:

* moderated mediation of the network pathway by sex (PROCESS model 7, W = ``sex``)
  on the documented lagged mediation frame;
* mean AA meetings per wave in each true attendance-trajectory class;
* the lagged mediation model with questionnaire scores instead of latent mechanisms
  (measurement error), and the single-mediator self-efficacy model with the latent
  score and with the AASE confidence mean score;
* the within-person effect of a meeting yesterday on drinking today (person-by-interval
  fixed-effects logistic regression) and a population-averaged within/between split.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from ..instruments.scoring import score
from ..models._core.ols import fit_ols
from ._dgp import (
    ATTENDANCE_CLASSES,
    MECHANISMS,
    PRE_DAYS,
    WAVE_MONTHS,
    _day_interval,
    weekend_days,
)
from ._frames import _network_roster, measurement_latents
from ._items import INSTRUMENTS, generate_items, item_columns

__all__ = [
    "SCORED_MEDIATORS",
    "class_curve_estimates",
    "daily_estimates",
    "measurement_error_estimates",
    "moderated_mediation_estimates",
]

#: Questionnaire score measuring each mechanism in the scored mediation model (the
#: network mechanism by the roster's mean stance), as in notebook 03, section 4.
SCORED_MEDIATORS: dict[str, tuple[str, str]] = {
    "network": ("network", "mean_stance"),
    "efficacy": ("aase_conf", "aase_conf_total"),
    "motivation": ("socrates", "socrates_taking_steps"),
    "depression": ("cesd", "cesd_total"),
    "craving": ("pacs", "pacs_total"),
    "spirituality": ("rbb", "rbb_practices"),
}
_SINGLE_COVARIATES = ("pda_0", "tsf", "cbt", "sex", "age")
INSTRUMENTS_BY_PREFIX = {inst.prefix: inst for inst in INSTRUMENTS}


def _coef(design: np.ndarray, y: np.ndarray) -> np.ndarray:
    return fit_ols(design, y).beta


def moderated_mediation_estimates(
    x: np.ndarray, m9: np.ndarray, y: np.ndarray, cov: np.ndarray, female: np.ndarray
) -> dict[str, float]:
    """PROCESS model 7 for the network mediator with W = sex (already a covariate).

    ``network_9 ~ x + x:sex + covariates`` gives ``a1`` (men) and ``a3``; the outcome
    equation is the documented one (all six mediators), whose ``b[network]`` is the
    b-path. Index of moderated mediation = ``a3 * b``.
    """
    one = np.ones(x.size)
    a = _coef(np.column_stack([one, x, x * female, cov]), m9[:, 0])
    b = _coef(np.column_stack([one, x, m9, cov]), y)[2]
    return {
        "a[network|sex=0]": a[1],
        "a[network|sex=1]": a[1] + a[2],
        "a_x_sex[network]": a[2],
        "indirect[network|sex=0]": a[1] * b,
        "indirect[network|sex=1]": (a[1] + a[2]) * b,
        "index_moderated_mediation[network]": a[2] * b,
    }


def class_curve_estimates(core: dict[str, Any], win: dict[str, np.ndarray]) -> dict[str, float]:
    """Mean ``aa_meetings`` at each wave within each true attendance class."""
    est: dict[str, float] = {}
    cls = core["att_class"]
    for k, name in enumerate(ATTENDANCE_CLASSES):
        means = win["aa_meetings"][cls == k].mean(axis=0)
        for w, month in enumerate(WAVE_MONTHS):
            est[f"class_mean_meetings[{name},{month}]"] = float(means[w])
    return est


def _wave_scores(
    core: dict[str, Any], win: dict[str, np.ndarray], wave: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Complete questionnaire scores of every person at one wave (no item missingness)."""
    g_items, g_meas, g_net = rng.spawn(3)
    mech = core["mech"][:, wave, :]
    n = mech.shape[0]
    items: dict[str, np.ndarray] = {}
    for inst in INSTRUMENTS:
        key = inst.prefix.rstrip("_")
        if key not in {ins for ins, _ in SCORED_MEDIATORS.values()}:
            continue
        z = mech[:, MECHANISMS.index(inst.latent)]
        codes = generate_items(inst, z, g_items, win["aa_meetings"][:, wave])
        items.update(zip(item_columns(inst), codes.T))
    frame = pd.DataFrame(items)
    out = pd.DataFrame(index=frame.index)
    for m, (ins, col) in SCORED_MEDIATORS.items():
        if ins != "network":
            out[m] = score(frame, ins, missing="prorate", on_invalid="missing")[col].to_numpy()
    involvement = measurement_latents(core, win, g_meas)["involvement"][:, wave]
    roster = _network_roster(np.arange(n), np.zeros(n, np.int64), mech[:, 0], involvement, g_net)
    stance_sum = np.bincount(roster["id"], weights=roster["stance"], minlength=n)
    out["network"] = stance_sum / np.bincount(roster["id"], minlength=n)
    out["aase_conf_mean"] = frame[item_columns(INSTRUMENTS_BY_PREFIX["aase_conf_"])].mean(axis=1)
    return out[[*SCORED_MEDIATORS, "aase_conf_mean"]]


def measurement_error_estimates(
    core: dict[str, Any],
    win: dict[str, np.ndarray],
    ok: np.ndarray,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Mediation estimates with questionnaire scores in place of the latent mechanisms.

    ``ok`` marks the complete rows of the documented frame. Scored model (notebook 03):
    mediators = scores at month 9, covariates = PDA and scores at intake, TSF, CBT,
    sex, age. Single-mediator model (notebook 09): mediator = latent efficacy or the
    AASE confidence item mean at month 9, covariates :data:`_SINGLE_COVARIATES`.
    """
    g0, g9 = rng.spawn(2)
    s0 = _wave_scores(core, win, 0, g0).to_numpy()[ok, :-1]
    s9_all = _wave_scores(core, win, 3, g9).to_numpy()[ok]
    s9, aase_mean = s9_all[:, :-1], s9_all[:, -1]
    x = win["aa_meetings"][ok, 1].astype(float)
    y = win["pda"][ok, 5]
    tsf = (core["arm"][ok] == 0).astype(float)
    cbt = (core["arm"][ok] == 1).astype(float)
    female = core["female"][ok].astype(float)
    age = core["age"][ok].astype(float)
    pda0 = win["pda"][ok, 0]
    one = np.ones(x.size)
    est: dict[str, float] = {}
    cov = np.column_stack([pda0, s0, tsf, cbt, female, age])
    est["scored_total"] = _coef(np.column_stack([one, x, cov]), y)[1]
    outcome = _coef(np.column_stack([one, x, s9, cov]), y)
    est["scored_direct"] = outcome[1]
    for j, m in enumerate(SCORED_MEDIATORS):
        est[f"scored_a[{m}]"] = _coef(np.column_stack([one, x, cov]), s9[:, j])[1]
        est[f"scored_b[{m}]"] = outcome[2 + j]
        est[f"scored_indirect[{m}]"] = est[f"scored_a[{m}]"] * est[f"scored_b[{m}]"]
    est["scored_total_indirect"] = sum(est[f"scored_indirect[{m}]"] for m in SCORED_MEDIATORS)
    cov1 = np.column_stack([pda0, tsf, cbt, female, age])
    mediators = {"single": core["mech"][ok, 3, 1], "single_scored": aase_mean}
    est["single_total[efficacy]"] = _coef(np.column_stack([one, x, cov1]), y)[1]
    for prefix, med in mediators.items():
        a = _coef(np.column_stack([one, x, cov1]), med)[1]
        out = _coef(np.column_stack([one, x, med, cov1]), y)
        est[f"{prefix}_a[efficacy]"] = a
        est[f"{prefix}_b[efficacy]"] = out[2]
        est[f"{prefix}_indirect[efficacy]"] = a * out[2]
        est[f"{prefix}_direct[efficacy]"] = out[1]
    return est


def fe_logit(
    y: np.ndarray, X: np.ndarray, group: np.ndarray, *, tol: float = 1e-10
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed-effects (one intercept per group) logistic regression by Newton's method.

    Groups whose outcome is constant carry no information and are dropped. The group
    intercepts are profiled out with the Schur complement of their diagonal block.
    Returns the slopes and their covariance (inverse observed information of the
    slopes after profiling out the intercepts), as an ordinary logistic regression
    with one dummy per group gives them.
    """
    n_g = int(group.max()) + 1
    total = np.bincount(group, weights=y, minlength=n_g)
    size = np.bincount(group, minlength=n_g)
    keep = ((total > 0) & (total < size))[group]
    y, X, group = y[keep], X[keep], np.unique(group[keep], return_inverse=True)[1]
    n_g = int(group.max()) + 1
    mean_y = np.bincount(group, weights=y) / np.bincount(group)
    alpha = np.log(mean_y / (1.0 - mean_y))
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        p = expit(alpha[group] + X @ beta)
        w = p * (1.0 - p)
        r = y - p
        s_a = np.bincount(group, weights=r, minlength=n_g)
        h_a = np.bincount(group, weights=w, minlength=n_g)
        h_ab = np.column_stack(
            [np.bincount(group, weights=w * X[:, j], minlength=n_g) for j in range(X.shape[1])]
        )
        h_bb = (X * w[:, None]).T @ X - (h_ab / h_a[:, None]).T @ h_ab
        s_b = X.T @ r - h_ab.T @ (s_a / h_a)
        step_b = np.linalg.solve(h_bb, s_b)
        step_a = (s_a - h_ab @ step_b) / h_a
        beta += step_b
        alpha += step_a
        if np.max(np.abs(step_b)) < tol:
            break
    return beta, np.linalg.inv(h_bb)


def daily_estimates(core: dict[str, Any], days: int) -> dict[str, float]:
    """Within-person effect of a meeting yesterday on drinking today (follow-up days).

    Rows: follow-up days t = 0 .. days - 1 not in a controlled environment. Outcome:
    any drinks on day t; predictor: any meeting on day t - 1; covariate: weekend.
    ``within_logodds[meeting_prev_day]`` is the person-by-interval fixed-effects
    logistic coefficient; the population-averaged model is a pooled logistic
    regression on ``meeting_prev_day`` centred at the person mean (within) and the
    person mean (between), plus weekend.
    """
    n = core["drinks"].shape[0]
    cols = np.arange(PRE_DAYS, PRE_DAYS + days)
    drank = core["drinks"][:, cols] > 0
    prev = core["meetings"][:, cols - 1] > 0
    weekend = weekend_days(core["entry"], days)[:, cols]
    risk = ~core["controlled"][:, cols]
    interval = _day_interval(days)[cols]
    person = np.broadcast_to(np.arange(n)[:, None], drank.shape)
    group = person * 6 + interval[None, :]
    y, xp, xw = drank[risk].astype(float), prev[risk].astype(float), weekend[risk].astype(float)
    pid = person[risk]
    beta, _ = fe_logit(y, np.column_stack([xp, xw]), group[risk])
    pbar = (np.bincount(pid, weights=xp, minlength=n) / np.bincount(pid, minlength=n))[pid]
    design = np.column_stack([np.ones(y.size), xp - pbar, pbar, xw])
    pooled = _pooled_logit(y, design)
    return {
        "within_logodds[meeting_prev_day]": beta[0],
        "pa_within_logodds[meeting_prev_day]": pooled[1],
        "pa_between_logodds[meeting_prev_day]": pooled[2],
        "mean_drinking_day_followup": float(y.mean()),
    }


def _pooled_logit(y: np.ndarray, X: np.ndarray, *, tol: float = 1e-10) -> np.ndarray:
    """Ordinary logistic regression by iteratively reweighted least squares."""
    beta = np.zeros(X.shape[1])
    for _ in range(50):
        p = expit(X @ beta)
        w = p * (1.0 - p)
        step = np.linalg.solve((X * w[:, None]).T @ X, X.T @ (y - p))
        beta += step
        if np.max(np.abs(step)) < tol:
            break
    return beta


def extension_order() -> list[str]:
    """Keys of the batch estimates above, in the order of the truth table."""
    keys = [
        "a[network|sex=0]",
        "a[network|sex=1]",
        "a_x_sex[network]",
        "indirect[network|sex=0]",
        "indirect[network|sex=1]",
        "index_moderated_mediation[network]",
    ]
    keys += [f"class_mean_meetings[{c},{m}]" for c in ATTENDANCE_CLASSES for m in WAVE_MONTHS]
    keys += [f"scored_{p}[{m}]" for p in ("a", "b", "indirect") for m in SCORED_MEDIATORS]
    keys += ["scored_total_indirect", "scored_direct", "scored_total"]
    for prefix in ("single", "single_scored"):
        keys += [f"{prefix}_{p}[efficacy]" for p in ("a", "b", "indirect", "direct")]
    keys += ["single_total[efficacy]"]
    keys += [
        "within_logodds[meeting_prev_day]",
        "pa_within_logodds[meeting_prev_day]",
        "pa_between_logodds[meeting_prev_day]",
        "mean_drinking_day_followup",
    ]
    return keys


def extension_descriptions() -> dict[str, str]:
    """One-line description of every key of :func:`extension_order`."""
    d = {
        "a[network|sex=0]": "Conditional a-path for men (sex = 0): one meeting in months 0-3 -> "
        "latent network at month 9 in network_9 ~ attendance + attendance:sex + covariates",
        "a[network|sex=1]": "Conditional a-path for women (sex = 1), same model",
        "a_x_sex[network]": "Coefficient of attendance:sex in the network a-path model (a3)",
        "indirect[network|sex=0]": "Conditional indirect effect through network for men: "
        "a[network|sex=0] * b[network]",
        "indirect[network|sex=1]": "Conditional indirect effect through network for women: "
        "a[network|sex=1] * b[network]",
        "index_moderated_mediation[network]": "Index of moderated mediation of the network "
        "pathway by sex (PROCESS model 7, W = sex): a_x_sex[network] * b[network]",
        "scored_total_indirect": "Questionnaire-score model: sum of the six specific "
        "indirect effects",
        "scored_direct": "Questionnaire-score model: direct effect of one meeting",
        "scored_total": "Questionnaire-score model: total effect of one meeting (covariates "
        "include the intake scores, so it differs slightly from total)",
        "single_total[efficacy]": "Single-mediator efficacy model: total effect of one "
        "meeting on PDA at month 15 (covariates pda_0, TSF, CBT, sex, age)",
        "within_logodds[meeting_prev_day]": "Within-person log-odds ratio of drinking on day "
        "t after a meeting on day t-1, person-by-interval fixed-effects logistic regression "
        "with weekend (follow-up days not controlled)",
        "pa_within_logodds[meeting_prev_day]": "Population-averaged (pooled logistic) "
        "coefficient of the person-mean-centred meeting-yesterday indicator, with the "
        "person mean and weekend",
        "pa_between_logodds[meeting_prev_day]": "Population-averaged (pooled logistic) "
        "coefficient of the person's share of follow-up days preceded by a meeting day, "
        "same model",
        "mean_drinking_day_followup": "Share of follow-up days (not controlled) with any drinking",
    }
    for c in ATTENDANCE_CLASSES:
        for m in WAVE_MONTHS:
            d[f"class_mean_meetings[{c},{m}]"] = (
                f"Mean aa_meetings at month {m} in the true '{c}' attendance class"
            )
    for med, (_, col) in SCORED_MEDIATORS.items():
        d[f"scored_a[{med}]"] = (
            f"Questionnaire-score model: a-path, one meeting -> {col} at month 9 (score units)"
        )
        d[f"scored_b[{med}]"] = f"Questionnaire-score model: b-path of {col} at month 9"
        d[f"scored_indirect[{med}]"] = (
            f"Questionnaire-score model: indirect effect through {col} (attenuated by "
            "measurement error)"
        )
    for prefix, what in (("single", "latent efficacy"), ("single_scored", "AASE mean score")):
        d[f"{prefix}_a[efficacy]"] = f"Single-mediator model, {what}: a-path per meeting"
        d[f"{prefix}_b[efficacy]"] = f"Single-mediator model, {what}: b-path"
        d[f"{prefix}_indirect[efficacy]"] = f"Single-mediator model, {what}: indirect effect"
        d[f"{prefix}_direct[efficacy]"] = f"Single-mediator model, {what}: direct effect"
    return d
