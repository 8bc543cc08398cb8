"""The newer truths (moderation by sex, attendance classes, questionnaire scores, daily
within-person effect) are recovered from the committed sample by simple estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from mutualaid_outcomes.datasets import (
    MEDIATION_COVARIATES,
    CohortParameters,
    compute_truth,
    load_sample,
    mediation_frame,
    sample_truth,
)
from mutualaid_outcomes.datasets._dgp import ATTENDANCE_CLASSES, PRE_DAYS, wave_days
from mutualaid_outcomes.datasets._truth_estimands import extension_order, fe_logit
from mutualaid_outcomes.errors import ArgumentTypeError

# Each estimate must lie within Z standard errors of its truth: 2.5 for single
# pre-stated comparisons, 3 for groups of a dozen correlated means (class curves).
Z_SINGLE = 2.5
Z_GROUP = 3.0


@pytest.fixture(scope="module")
def truth() -> pd.Series:
    return sample_truth().set_index("quantity")["value"]


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    f = mediation_frame(load_sample("latent"), load_sample("waves"), load_sample("participants"))
    return f.dropna()


def test_extension_rows_present_and_consistent(truth) -> None:
    stored = sample_truth().set_index("quantity")
    assert set(extension_order()) <= set(stored.index)
    assert (stored.loc[extension_order(), "mc_se"] > 0).all()
    b = truth["b[network]"]
    assert truth["index_moderated_mediation[network]"] == pytest.approx(
        truth["a_x_sex[network]"] * b
    )
    diff = truth["indirect[network|sex=1]"] - truth["indirect[network|sex=0]"]
    assert diff == pytest.approx(truth["index_moderated_mediation[network]"])
    # women's network a-path is structurally twice the men's: the index is clearly positive
    assert truth["index_moderated_mediation[network]"] > 0.3 * truth["indirect[network]"]
    shares = [truth[f"attendance_class_share[{c}]"] for c in ATTENDANCE_CLASSES]
    assert sum(shares) == pytest.approx(1.0)
    high = [truth[f"class_mean_meetings[high,{m}]"] for m in (3, 9, 15)]
    desc = [truth[f"class_mean_meetings[descending,{m}]"] for m in (3, 9, 15)]
    assert desc[0] > desc[1] > desc[2] and high[2] > 3 * desc[2]
    # measurement error attenuates the b-path and the indirect effect of efficacy
    assert truth["single_scored_indirect[efficacy]"] < truth["single_indirect[efficacy]"]
    assert truth["scored_total_indirect"] < truth["total_indirect"]
    assert truth["drink_logodds[meeting_prev_day]"] == CohortParameters().drink_prev_meeting


def test_compute_truth_extended_flag() -> None:
    short = compute_truth(1000, batch_size=1000, rng=3, extended=False)
    assert "index_moderated_mediation[network]" not in set(short["quantity"])
    with pytest.raises(ArgumentTypeError, match="`extended` must be True or False"):
        compute_truth(1000, batch_size=1000, extended="yes")


def test_attendance_class_shares_recovered(truth) -> None:
    lat = load_sample("latent")
    cls = lat.drop_duplicates("id")["attendance_class"]
    assert set(cls) == {1, 2, 3}
    n = cls.size
    for code, name in enumerate(ATTENDANCE_CLASSES, start=1):
        p = truth[f"attendance_class_share[{name}]"]
        se = np.sqrt(p * (1 - p) / n)
        assert abs((cls == code).mean() - p) < Z_SINGLE * se, name


def test_class_attendance_curves_recovered(truth) -> None:
    # months 0 and 3: nearly everyone's window is observed (drop-out before month 3 is
    # rare), so the class means of the observed values estimate the complete-data curve
    waves = load_sample("waves")
    cls = load_sample("latent")[["id", "month", "attendance_class"]]
    d = waves.merge(cls, on=["id", "month"]).dropna(subset=["aa_meetings"])
    for code, name in enumerate(ATTENDANCE_CLASSES, start=1):
        for month in (0, 3):
            x = d.loc[(d["attendance_class"] == code) & (d["month"] == month), "aa_meetings"]
            se = x.std(ddof=1) / np.sqrt(x.size)
            est = x.mean()
            assert abs(est - truth[f"class_mean_meetings[{name},{month}]"]) < Z_GROUP * se


def test_network_a_path_moderated_by_sex(frame, truth) -> None:
    x = frame[["attendance", *MEDIATION_COVARIATES]].assign(
        attendance_sex=frame["attendance"] * frame["sex"]
    )
    fit = sm.OLS(frame["network_9"], sm.add_constant(x)).fit(cov_type="HC3")
    est, se = fit.params["attendance_sex"], fit.bse["attendance_sex"]
    assert abs(est - truth["a_x_sex[network]"]) < Z_SINGLE * se
    assert est / se > 2  # the moderation is large enough to be seen in the sample
    men = fit.params["attendance"]
    assert abs(men - truth["a[network|sex=0]"]) < Z_SINGLE * fit.bse["attendance"]


def test_scored_efficacy_b_path_attenuated(frame, truth) -> None:
    waves = load_sample("waves")
    items = [f"aase_conf_{k}" for k in range(1, 21)]
    m9 = waves.loc[waves["month"] == 9, ["id", *items]]
    scored = m9.assign(eff_score=m9[items].mean(axis=1))[["id", "eff_score"]]
    d = frame.merge(scored, on="id").dropna()
    cov = ["attendance", "pda_0", "tsf", "cbt", "sex", "age"]
    for mediator, key in (("efficacy_9", "single_b"), ("eff_score", "single_scored_b")):
        fit = sm.OLS(d["pda_15"], sm.add_constant(d[[mediator, *cov]])).fit(cov_type="HC3")
        est, se = fit.params[mediator], fit.bse[mediator]
        assert abs(est - truth[f"{key}[efficacy]"]) < Z_SINGLE * se, mediator


def _daily_rows() -> pd.DataFrame:
    cal = load_sample("calendar").sort_values(["id", "day"])
    cal["prev_meeting"] = (cal.groupby("id")["meetings"].shift(1) > 0).astype(float)
    first = cal.groupby("id")["day"].transform("min") == cal["day"]
    cal = cal[~first & (cal["day"] >= 0) & ~cal["controlled"]]
    bounds = wave_days(455)
    interval = np.searchsorted(bounds[1:], cal["day"].to_numpy(), side="right") + 1
    weekday = cal["date"].dt.dayofweek.to_numpy()
    return pd.DataFrame(
        {
            "drank": (cal["drinks"].to_numpy() > 0).astype(float),
            "prev_meeting": cal["prev_meeting"].to_numpy(),
            "weekend": ((weekday == 4) | (weekday == 5)).astype(float),
            "group": cal["id"].to_numpy() * 6 + interval,
        }
    )


def test_fe_logit_matches_dummy_logit() -> None:
    rng = np.random.default_rng(4)
    group = np.repeat(np.arange(12), 40)
    x = rng.normal(size=(group.size, 2))
    y = (
        rng.random(group.size) < 1 / (1 + np.exp(-(0.5 * x[:, 0] - 0.3 * x[:, 1] + group % 3 - 1)))
    ).astype(float)
    beta, cov = fe_logit(y, x, group)
    dummies = (group[:, None] == np.arange(12)[None, :]).astype(float)
    ref = sm.Logit(y, np.column_stack([x, dummies])).fit(disp=0, tol=1e-12, maxiter=200)
    np.testing.assert_allclose(beta, ref.params[:2], rtol=1e-8)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), ref.bse[:2], rtol=1e-6)


def test_daily_within_person_effect_recovered(truth) -> None:
    d = _daily_rows()
    beta, cov = fe_logit(
        d["drank"].to_numpy(), d[["prev_meeting", "weekend"]].to_numpy(), d["group"].to_numpy()
    )
    se = float(np.sqrt(cov[0, 0]))
    assert abs(beta[0] - truth["within_logodds[meeting_prev_day]"]) < Z_SINGLE * se
    assert beta[0] / se < -5


def test_calendar_previous_day_is_the_day_before() -> None:
    # the previous-day indicator needs consecutive calendar days per person
    cal = load_sample("calendar")
    gaps = cal.sort_values(["id", "day"]).groupby("id")["day"].diff().dropna()
    assert (gaps == 1).all()
    assert cal["day"].min() == -PRE_DAYS
