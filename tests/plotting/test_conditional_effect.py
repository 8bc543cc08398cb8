"""plot_conditional_effect and conditional_effect_data (simple slopes across a moderator)."""

import math
from dataclasses import replace

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.errors import (  # noqa: E402
    ArgumentTypeError,
    DataValidationError,
    OptionError,
)
from mutualaid_outcomes.models.regression import (  # noqa: E402
    fit_regression,
    johnson_neyman,
    simple_slopes,
)
from mutualaid_outcomes.models.survival import fit_cox  # noqa: E402
from mutualaid_outcomes.plotting import (  # noqa: E402
    conditional_effect_data,
    plot_conditional_effect,
)


@pytest.fixture(scope="module")
def jobs_fit(test_data):
    return fit_regression(test_data("jobs.csv"), "depress2 ~ econ_hard * age + sex")


@pytest.fixture(scope="module")
def jn(jobs_fit):
    return johnson_neyman(jobs_fit, "econ_hard", "age")


def test_data_follows_the_effect_and_bounds(jobs_fit, jn):
    data = conditional_effect_data(jn, n_points=101)
    assert len(data) == 101 and data["moderator_value"].is_monotonic_increasing
    lo, hi = jn.moderator_range
    width = hi - lo
    # the lower bound (about 4 years) lies within one range-width below the data: shown
    assert data["moderator_value"].iloc[0] == pytest.approx(jn.lower - 0.05 * width)
    assert data["moderator_value"].iloc[-1] == pytest.approx(hi + 0.05 * width)
    at = data["moderator_value"].to_numpy()[[10, 50, 90]]
    ss = simple_slopes(jobs_fit, "econ_hard", "age", at=at[1:2]).tidy()
    assert data["estimate"].iloc[50] == pytest.approx(ss.loc[0, "estimate"], rel=1e-12)
    assert data["conf_low"].iloc[50] == pytest.approx(ss.loc[0, "conf_low"], rel=1e-12)
    w = data["moderator_value"]
    np.testing.assert_array_equal(data["significant"], (w >= jn.lower) & (w <= jn.upper))
    np.testing.assert_array_equal(data["observed"], (w >= lo) & (w <= hi))
    assert data["jn_lower"].iloc[0] == jn.lower and data["jn_upper"].iloc[0] == jn.upper
    from_model = conditional_effect_data(jobs_fit, "econ_hard", "age", n_points=101)
    pd.testing.assert_frame_equal(from_model, data)


def test_span_and_level(jobs_fit, jn):
    data = conditional_effect_data(jn, span=(20, 60), n_points=3)
    np.testing.assert_allclose(data["moderator_value"], [20, 40, 60])
    d90 = conditional_effect_data(jobs_fit, "econ_hard", "age", conf_level=0.9, n_points=3)
    assert d90["conf_level"].iloc[0] == 0.9
    assert d90["jn_upper"].iloc[0] == pytest.approx(
        johnson_neyman(jobs_fit, "econ_hard", "age", conf_level=0.9).upper
    )


def test_plot_draws_curve_band_bounds_and_range(jn):
    fig, ax = plt.subplots()
    out = plot_conditional_effect(jn, ax=ax, labels={"age": "Age (years)"})
    assert out is ax
    data = conditional_effect_data(jn)
    line = [ln for ln in ax.get_lines() if ln.get_label() == "Conditional effect"][0]
    np.testing.assert_allclose(line.get_ydata(), data["estimate"])
    bounds = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    np.testing.assert_allclose(sorted(bounds), [jn.lower, jn.upper])
    labels = ax.get_legend_handles_labels()[1]
    assert {"95% CI", "Outside observed range", "Johnson-Neyman bound"} <= set(labels)
    assert ax.get_xlabel() == "Age (years)"
    assert ax.get_ylabel() == "Conditional effect of econ_hard"
    plt.close(fig)


def test_bad_input(jobs_fit, jn):
    with pytest.raises(OptionError, match="`focal` and `moderator` are required"):
        conditional_effect_data(jobs_fit)
    with pytest.raises(OptionError, match="`focal` and `moderator` are taken from"):
        conditional_effect_data(jn, "econ_hard", "age")
    with pytest.raises(OptionError, match="`conf_level` 0.9 differs"):
        conditional_effect_data(jn, conf_level=0.9)
    with pytest.raises(ArgumentTypeError, match="`result` must be a fitted model"):
        conditional_effect_data(pd.DataFrame({"a": [1]}))
    with pytest.raises(DataValidationError, match="`span` must be finite with low < high"):
        conditional_effect_data(jn, span=(5, 1))
    with pytest.raises(ArgumentTypeError, match="`span` must be two numbers"):
        conditional_effect_data(jn, span=3)
    with pytest.raises(DataValidationError, match="`n_points` must be an integer >= 2"):
        conditional_effect_data(jn, n_points=1)


def test_unknown_range_needs_span():
    rng = np.random.default_rng(11)
    d = pd.DataFrame({"x": rng.normal(size=300), "w": rng.uniform(0, 10, size=300)})
    d["days"] = rng.exponential(np.exp(-(0.3 * d.x * (d.w - 5) / 5)))
    d["event"] = 1
    jn_cox = johnson_neyman(fit_cox(d, "days", "event", formula="~ x * w"), "x", "w")
    assert jn_cox.moderator_range is None and jn_cox.quadratic[0] > 0
    # two bounds and no observed range: the span is the bounds widened by half their gap
    default = conditional_effect_data(jn_cox, n_points=3)
    gap = jn_cox.upper - jn_cox.lower
    np.testing.assert_allclose(
        default["moderator_value"],
        [jn_cox.lower - gap / 2, (jn_cox.lower + jn_cox.upper) / 2, jn_cox.upper + gap / 2],
    )
    no_bounds = replace(jn_cox, lower=math.nan, upper=math.nan, regions=())
    with pytest.raises(DataValidationError, match="`span` is required"):
        conditional_effect_data(no_bounds)
    data = conditional_effect_data(jn_cox, span=(0, 10), n_points=11)
    assert data["observed"].isna().all() and data["moderator_min"].isna().all()
    fig, ax = plt.subplots()
    plot_conditional_effect(jn_cox, ax=ax, span=(0, 10))
    assert not any("observed" in lab for lab in ax.get_legend_handles_labels()[1])
    plt.close(fig)
