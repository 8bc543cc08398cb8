"""E-values (VanderWeele & Ding 2017).

The R package EValue is not packaged for Debian here (no r-cran-evalue), so the
checks use the paper's worked example and the closed-form definitions.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError, OptionError
from mutualaid_outcomes.models.causal.evalue import e_value, e_values


def test_published_example_breastfeeding():
    # VanderWeele & Ding (2017), Ann Intern Med 167:268: RR 3.9 (95% CI 1.8-8.7)
    # -> E-value 7.26 for the estimate and 3.0 for the lower limit
    ev = e_value(3.9, 1.8, 8.7)
    assert round(ev.e_value, 2) == 7.26
    assert round(ev.e_value_ci, 2) == 3.0
    tab = ev.table()
    assert math.isnan(tab.loc["e_value", "upper"])
    assert tab.loc["e_value", "lower"] == pytest.approx(3.0)


def test_rr_formula_and_protective_side():
    for rr in (1.2, 2.0, 10.73):
        assert e_value(rr).e_value == pytest.approx(rr + math.sqrt(rr * (rr - 1)), rel=1e-12)
    # RR < 1: invert first; the CI E-value uses the upper limit
    ev = e_value(0.5, 0.3, 0.8)
    assert ev.e_value == pytest.approx(2 + math.sqrt(2), rel=1e-12)
    assert ev.e_value_ci == pytest.approx(1.25 + math.sqrt(1.25 * 0.25), rel=1e-12)
    assert e_value(1.0).e_value == 1.0


def test_interval_including_null_gives_one():
    assert e_value(1.3, 0.9, 1.8).e_value_ci == 1.0
    assert e_value(0.8, 0.6, 1.1).e_value_ci == 1.0
    assert math.isnan(e_value(1.3).e_value_ci)


def test_odds_and_hazard_ratio_conversions():
    # common outcome: RR ~ sqrt(OR); rare: RR ~ OR
    assert e_value(2.25, measure="OR", rare=False).rr == pytest.approx(1.5)
    assert e_value(2.25, measure="OR", rare=True).rr == pytest.approx(2.25)
    hr = 2.0
    expected = (1 - 0.5 ** math.sqrt(hr)) / (1 - 0.5 ** math.sqrt(1 / hr))
    ev = e_value(hr, 1.5, 2.7, measure="HR", rare=False)
    assert ev.rr == pytest.approx(expected, rel=1e-12)
    assert ev.e_value == pytest.approx(expected + math.sqrt(expected * (expected - 1)))
    lo = (1 - 0.5 ** math.sqrt(1.5)) / (1 - 0.5 ** math.sqrt(1 / 1.5))
    assert ev.e_value_ci == pytest.approx(lo + math.sqrt(lo * (lo - 1)))
    assert e_value(3.6, 2.1, 6.2, measure="OR", rare=True).e_value == pytest.approx(
        e_value(3.6).e_value
    )


def test_smd_conversion():
    ev = e_value(0.5, 0.3, 0.7, measure="SMD")
    rr = math.exp(0.91 * 0.5)
    assert ev.rr == pytest.approx(rr)
    assert ev.e_value == pytest.approx(rr + math.sqrt(rr * (rr - 1)))
    rl = math.exp(0.91 * 0.3)
    assert ev.e_value_ci == pytest.approx(rl + math.sqrt(rl * (rl - 1)))
    assert e_value(-0.5, measure="SMD").e_value == pytest.approx(ev.e_value)


def test_shift_to_non_null_value():
    # E-value to move RR 2 to 1.5: apply the formula to 2 / 1.5
    r = 2 / 1.5
    assert e_value(2.0, true=1.5).e_value == pytest.approx(r + math.sqrt(r * (r - 1)))


def test_bad_input():
    with pytest.raises(OptionError, match="rare"):
        e_value(2.0, measure="OR")
    with pytest.raises(OptionError, match="measure"):
        e_value(2.0, measure="RD")
    with pytest.raises(DataValidationError, match="positive ratio"):
        e_value(-0.2)
    with pytest.raises(DataValidationError, match="bracket"):
        e_value(2.0, 2.5, 3.0)
    with pytest.raises(ArgumentTypeError):
        e_value("2")
    with pytest.raises(DataValidationError, match="finite"):
        e_value(float("inf"))


def test_e_values_from_fitted_result():
    from mutualaid_outcomes.models.regression.glm import fit_regression

    rng = np.random.default_rng(8)
    df = pd.DataFrame({"aa": rng.binomial(1, 0.5, 400), "sev": rng.normal(size=400)})
    df["abst"] = rng.binomial(1, 1 / (1 + np.exp(-(-0.3 + 0.9 * df["aa"] - 0.4 * df["sev"]))))
    res = fit_regression(df, "abst ~ aa + sev", family="binomial")
    out = e_values(res, measure="OR", rare=False)
    assert out["term"].tolist() == ["aa", "sev"]
    t = res.tidy(exponentiate=True).set_index("term")
    one = e_value(*t.loc["aa", ["estimate", "conf_low", "conf_high"]], measure="OR", rare=False)
    assert out.loc[0, "e_value"] == pytest.approx(one.e_value)
    assert out.loc[0, "e_value_ci"] == pytest.approx(one.e_value_ci)
    with pytest.raises(DataValidationError, match="terms"):
        e_values(res, measure="OR", rare=False, terms=["nope"])
