"""Power by simulation: closed forms, the R score-test reference, budget errors, contract."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mutualaid_outcomes.datasets import sample_cohort_mediation_data
from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    OptionError,
)
from mutualaid_outcomes.models.power import (
    POWER_GLANCE_COLUMNS,
    PowerBudgetError,
    PowerResult,
    power_mediation,
    power_survival,
    schoenfeld_events,
    score_test_statistic,
)
from mutualaid_outcomes.results import TIDY_COLUMNS

#: The score statistic is a closed-form sum; R and we differ only by floating-point order.
SCORE_RTOL = 1e-10

#: Monte Carlo tolerance in SEs: a 4-SE band is exceeded by chance with probability 6e-5.
MC_Z = 4.0

#: Schoenfeld's formula is a first-order approximation (local alternative, expected rather
#: than realised events). For |log HR| = 0.29 and 100-600 events its error in power is
#: below 0.02 (Schoenfeld 1983, table 1 comparisons), so we allow that on top of MC error.
SCHOENFELD_APPROX = 0.02

#: The joint-significance closed form treats var(X) as fixed at p(1-p); with a random
#: binary X the noncentrality varies by O(1/sqrt(n)), shifting power by well under 0.01.
RANDOM_X_APPROX = 0.01


def _t_power(ncp: float, df: int, alpha: float = 0.05) -> float:
    crit = stats.t.isf(alpha / 2, df)
    return float(stats.nct.sf(crit, df, ncp) + stats.nct.cdf(-crit, df, ncp))


# --------------------------------------------------------------------------- R reference


def test_score_statistic_matches_r_coxph(r_reference):
    data = r_reference("power_score_test_data")
    ref = r_reference("power_score_test")
    assert len(ref) == 4
    for row in ref.itertuples():
        d = data[data["dataset"] == row.dataset]
        z = score_test_statistic(
            d["time"].to_numpy(),
            d["event"].to_numpy().astype(bool),
            d["start"].fillna(np.inf).to_numpy(),
        )
        assert z**2 == pytest.approx(row.score_chisq, rel=SCORE_RTOL)
        # the score at beta = 0 points towards the maximum partial likelihood estimate
        assert np.sign(z) == np.sign(row.coef)


# --------------------------------------------------------------------------- closed forms


def test_schoenfeld_events_by_hand():
    # (1.959964 + 0.841621)^2 / (0.25 * log(0.7)^2) = 7.848879 / 0.0318065 = 246.77
    z = 1.959963984540054 + 0.8416212335729143
    assert schoenfeld_events(0.7) == pytest.approx(z**2 / (0.25 * math.log(0.7) ** 2), rel=1e-12)
    assert schoenfeld_events(0.7, p_exposed=0.3) > schoenfeld_events(0.7)
    with pytest.raises(DataValidationError, match="differ from 1"):
        schoenfeld_events(1.0)


def test_survival_power_agrees_with_schoenfeld():
    hr = 0.75
    res = power_survival([400, 800, 1200], hazard_ratio=hr, event_prob=0.5, n_sims=1500, rng=11)
    tab = res.tidy()
    for row in tab.itertuples():
        # Schoenfeld: power = Phi(sqrt(D p (1-p)) |log HR| - z_{1-alpha/2}) at D events
        predicted = stats.norm.cdf(
            math.sqrt(row.mean_events * 0.25) * abs(math.log(hr)) - stats.norm.isf(0.025)
        )
        assert abs(row.estimate - predicted) < MC_Z * row.std_error + SCHOENFELD_APPROX
    assert tab["estimate"].is_monotonic_increasing
    # events: 0.5 (1 - 0.5) + 0.5 (1 - 0.5^0.75) = 0.4027 per person
    expected_rate = 0.5 * 0.5 + 0.5 * (1 - 0.5**hr)
    assert tab["mean_events"].to_numpy() / tab["n"].to_numpy() == pytest.approx(
        expected_rate, abs=0.01
    )


@pytest.mark.parametrize("exposure", ["binary", "time_varying"])
def test_survival_type_one_error(exposure):
    res = power_survival(300, hazard_ratio=1.0, event_prob=0.5, dropout=0.3, exposure=exposure,
                         n_sims=1500, rng=4)  # fmt: skip
    p = res.tidy()["estimate"][0]
    assert abs(p - 0.05) < MC_Z * math.sqrt(0.05 * 0.95 / 1500)


def test_time_varying_exposure_has_less_power_than_exposure_from_entry():
    kw = {"hazard_ratio": 0.6, "event_prob": 0.5, "n_sims": 600, "rng": 1}
    fixed = power_survival(300, **kw).power.iloc[0, 0]
    tv = power_survival(300, exposure="time_varying", **kw).power.iloc[0, 0]
    # exposure starts part-way through follow-up: fewer exposed person-time, less power
    se = math.sqrt(0.25 / 600) * math.sqrt(2)
    assert tv < fixed - MC_Z * se


def test_joint_significance_power_matches_product_of_t_powers():
    a, b = 0.25, 0.2
    res = power_mediation([150, 300, 600], a=a, b=b, n_sims=3000, rng=2)
    for row in res.tidy().itertuples():
        n = row.n
        # a-path: X binary p = .5, var(X) = .25, mediator residual SD 1 -> ncp a sqrt(n/4)
        # b-path: var(M | X) = 1, outcome residual SD 1 -> ncp b sqrt(n); the estimates of
        # a and b are independent, so the joint power is the product
        predicted = _t_power(a * math.sqrt(n * 0.25), n - 2) * _t_power(b * math.sqrt(n), n - 3)
        assert abs(row.estimate - predicted) < MC_Z * row.std_error + RANDOM_X_APPROX


def test_joint_significance_type_one_error_is_at_most_alpha():
    # a = 0, b large: the joint test rejects about alpha * power_b ~= alpha
    res = power_mediation(400, a=0.0, b=0.5, n_sims=2000, rng=6)
    p = res.power.iloc[0, 0]
    assert p < 0.05 + MC_Z * math.sqrt(0.05 * 0.95 / 2000)
    assert p > 0.05 - MC_Z * math.sqrt(0.05 * 0.95 / 2000)


def test_monte_carlo_and_bootstrap_tests_close_to_joint_significance():
    # The same seed gives the same simulated data sets for every test. The three tests
    # differ by a few per cent in power at these sizes (MacKinnon et al. 2002); allow
    # MC error of a difference of proportions (<= 4 * sqrt(2 * .25 / n_sims)) plus 0.05.
    kw = {"a": 0.3, "b": 0.3}
    js = power_mediation(120, n_sims=400, rng=3, **kw).power.iloc[0, 0]
    mc = power_mediation(120, n_sims=400, rng=3, test="monte_carlo", **kw).power.iloc[0, 0]
    assert abs(mc - js) < MC_Z * math.sqrt(0.5 / 400) + 0.05
    boot = power_mediation(120, n_sims=120, rng=3, test="percentile", n_boot=300, **kw)
    pb = boot.power.iloc[0, 0]
    assert abs(pb - js) < MC_Z * math.sqrt(0.25 / 120 + 0.25 / 400) + 0.05
    assert boot.glance()["test"][0] == "percentile"


def test_two_parallel_mediators_and_covariates():
    res = power_mediation(
        [200],
        a=[0.3, 0.0],
        b=[0.3, 0.3],
        n_covariates=2,
        covariate_effect=0.5,
        mediator_corr=0.3,
        exposure_type="continuous",
        n_sims=400,
        rng=9,
    )
    tab = res.tidy()
    assert tab["term"].tolist() == ["indirect[m1]", "indirect[m2]"]
    p1, p2 = tab["estimate"]
    assert p1 > 0.9  # a sqrt(n) = 4.2 and b sqrt(n) = 4.2 -> power ~0.98 each
    assert p2 < 0.05 + MC_Z * math.sqrt(0.05 * 0.95 / 400)  # null second effect


def test_generator_option_with_missing_rows():
    def gen(n, rng):
        x = rng.binomial(1, 0.5, n).astype(float)
        m = 0.5 * x + rng.normal(size=n)
        y = 0.5 * m + rng.normal(size=n)
        y[rng.random(n) < 0.2] = np.nan
        return pd.DataFrame({"arm": x, "network": m, "pda": y})

    res = power_mediation(
        [100], generator=gen, exposure="arm", mediators="network", outcome="pda",
        n_sims=50, rng=1,
    )  # fmt: skip
    tab = res.tidy()
    assert tab["term"].tolist() == ["indirect[network]"]
    assert 70 < tab["mean_n_used"][0] < 90  # about 20% of rows incomplete
    n_used = tab["mean_n_used"][0]
    predicted = _t_power(0.5 * math.sqrt(n_used / 4), n_used - 2) * _t_power(
        0.5 * math.sqrt(n_used), n_used - 3
    )
    # sizes vary around n_used between replicates: allow 0.03 on top of MC error
    assert abs(tab["estimate"][0] - predicted) < MC_Z * tab["std_error"][0] + 0.03
    assert any("complete rows" in note for note in res.notes)


def test_sample_cohort_generator():
    res = power_mediation(
        [80],
        generator=sample_cohort_mediation_data,
        exposure="attendance",
        mediators=["network_9"],
        outcome="pda_15",
        n_sims=5,
        rng=1,
    )
    tab = res.tidy()
    assert tab["n_sims"][0] == 5
    assert 0 < tab["mean_n_used"][0] <= 80  # drop-out leaves fewer complete rows
    assert 0.0 <= tab["estimate"][0] <= 1.0


# --------------------------------------------------------------------------- budget


def test_budget_error_reports_projection_and_achievable_mcse():
    with pytest.raises(PowerBudgetError, match=r"projected to take .* s on 1 worker") as err:
        power_mediation([100, 200], a=0.3, b=0.3, test="percentile", n_boot=1000,
                        target_mcse=0.002, max_seconds=0.5, rng=1)  # fmt: skip
    msg = str(err.value)
    assert "target_mcse=0.002" in msg
    assert "Monte Carlo SE of at most" in msg
    assert "max_seconds=0.5" in msg
    assert isinstance(err.value, DataValidationError)


def test_budget_error_survival():
    with pytest.raises(PowerBudgetError, match=r"n_sims=200000"):
        power_survival([5000], hazard_ratio=0.8, event_prob=0.3, n_sims=200_000,
                       max_seconds=1, rng=1)  # fmt: skip


def test_budget_error_when_the_pilot_alone_overruns():
    calls = []

    def slow(n, rng):
        time.sleep(0.05)
        calls.append(n)
        x = rng.normal(size=n)
        return pd.DataFrame({"x": x, "m": x + rng.normal(size=n), "y": rng.normal(size=n)})

    with pytest.raises(PowerBudgetError, match=r"projected to take .* more than max_seconds=0.1"):
        power_mediation([50, 60, 70], generator=slow, mediators="m", n_sims=1000,
                        max_seconds=0.1, rng=1)  # fmt: skip
    # the pilot stops at the first size once the budget is spent
    assert set(calls) == {50}


def test_budget_pilot_does_not_change_results():
    kw = {"hazard_ratio": 0.7, "event_prob": 0.4, "n_sims": 60, "rng": 3}
    plain = power_survival([100, 200], **kw)
    budgeted = power_survival([100, 200], max_seconds=600, **kw)
    np.testing.assert_array_equal(plain.rejections, budgeted.rejections)


def test_target_mcse_sets_n_sims():
    res = power_survival(100, hazard_ratio=0.7, event_prob=0.4, target_mcse=0.05, rng=1)
    assert res.n_sims == 100  # 0.25 / 0.05^2
    assert res.glance()["max_mcse"][0] <= 0.05
    with pytest.raises(DataValidationError, match="either `n_sims` or `target_mcse`"):
        power_survival(100, hazard_ratio=0.7, event_prob=0.4, n_sims=10, target_mcse=0.05)


# --------------------------------------------------------------------------- contract


def test_result_contract_and_wilson_interval():
    res = power_survival([100, 200], hazard_ratio=0.6, event_prob=0.5, n_sims=100, rng=2)
    assert isinstance(res, PowerResult)
    tab = res.tidy()
    assert list(tab.columns[:7]) == list(TIDY_COLUMNS)
    assert list(tab.columns[7:]) == ["n", "n_sims", "n_failed", "mean_events"]
    p = tab["estimate"].to_numpy()
    np.testing.assert_allclose(tab["std_error"], np.sqrt(p * (1 - p) / 100), rtol=1e-14)
    # Wilson interval against statsmodels
    from statsmodels.stats.proportion import proportion_confint

    k = np.round(p * 100).astype(int)
    low, high = proportion_confint(k, 100, alpha=0.05, method="wilson")
    np.testing.assert_allclose(tab["conf_low"], low, rtol=1e-12)
    np.testing.assert_allclose(tab["conf_high"], high, rtol=1e-12)
    wide = res.tidy(conf_level=0.99)
    assert (wide["conf_high"] - wide["conf_low"] > tab["conf_high"] - tab["conf_low"]).all()
    g = res.glance()
    assert list(g.columns) == list(POWER_GLANCE_COLUMNS)
    assert g["seed"][0] == 2 and g["n_sims"][0] == 100 and g["n_grid"][0] == 2
    g2 = power_mediation(50, n_sims=20, rng=np.random.default_rng(1)).glance()
    assert list(g2.columns) == list(POWER_GLANCE_COLUMNS)
    assert np.isnan(g2["seed"][0])
    assert "Power by simulation" in res.summary().as_text()
    with pytest.raises(OptionError, match="exponentiate"):
        res.tidy(exponentiate=True)
    assert res.smallest_n(0.01) == 100
    assert res.smallest_n(0.9999) is None
    with pytest.raises(ColumnNotFoundError):
        res.smallest_n(0.8, term="nope")


def test_results_are_reproducible():
    a = power_mediation([60, 80], n_sims=30, rng=5, test="monte_carlo")
    b = power_mediation([60, 80], n_sims=30, rng=5, test="monte_carlo")
    np.testing.assert_array_equal(a.rejections, b.rejections)


# --------------------------------------------------------------------------- bad input


def test_bad_inputs():
    with pytest.raises(DataValidationError, match="`n` must be an integer >= 10"):
        power_mediation([5, 100], n_sims=10)
    with pytest.raises(DataValidationError, match="more than once"):
        power_mediation([100, 100], n_sims=10)
    with pytest.raises(ArgumentTypeError, match="`n` must be an integer or a sequence"):
        power_mediation("100", n_sims=10)
    with pytest.raises(OptionError, match="`test` must be one of"):
        power_mediation(100, test="bca")
    with pytest.raises(DataValidationError, match="one path per mediator"):
        power_mediation(100, a=[0.3, 0.2], b=0.3)
    with pytest.raises(DataValidationError, match="`alpha` must lie in"):
        power_mediation(100, alpha=0.7)
    with pytest.raises(ArgumentTypeError, match="`generator` must be a callable"):
        power_mediation(100, generator="cohort", mediators="m")
    with pytest.raises(ColumnNotFoundError, match="lacks column"):
        power_mediation(
            50, generator=lambda n, g: pd.DataFrame({"x": g.normal(size=n)}), mediators="m",
            n_sims=5,
        )  # fmt: skip
    with pytest.raises(ArgumentTypeError, match="must return a pandas DataFrame"):
        power_mediation(50, generator=lambda n, g: g.normal(size=n), mediators="m", n_sims=5)
    with pytest.raises(DataValidationError, match="exactly one of `event_prob`"):
        power_survival(100, 0.7)
    with pytest.raises(DataValidationError, match="exactly one of `event_prob`"):
        power_survival(100, 0.7, event_prob=0.3, baseline_hazard=0.1)
    with pytest.raises(DataValidationError, match="`dropout` must lie in"):
        power_survival(100, 0.7, event_prob=0.3, dropout=1.0)
    with pytest.raises(OptionError, match="`exposure` must be one of"):
        power_survival(100, 0.7, event_prob=0.3, exposure="dose")
    with pytest.raises(DataValidationError, match="`hazard_ratio`"):
        power_survival(100, -0.7, event_prob=0.3)
    with pytest.raises(DataValidationError, match="`max_seconds`"):
        power_survival(100, 0.7, event_prob=0.3, max_seconds=0)
