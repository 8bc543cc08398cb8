"""Tests of the sensitivity plot and its data companion."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mutualaid_outcomes.errors import (  # noqa: E402
    ArgumentTypeError,
    ColumnNotFoundError,
    OptionError,
)
from mutualaid_outcomes.models.mediation.causal import causal_mediation  # noqa: E402
from mutualaid_outcomes.plotting.sensitivity import (  # noqa: E402
    plot_sensitivity,
    sensitivity_data,
)


@pytest.fixture(scope="module")
def sens():
    rng = np.random.default_rng(3)
    n = 500
    t = rng.integers(0, 2, n).astype(float)
    m = 0.5 * t + rng.normal(size=n)
    y = 0.4 * m + 0.2 * t + rng.normal(size=n)
    df = pd.DataFrame({"t": t, "m": m, "y": y})
    fit = causal_mediation(
        df, "t", ["m"], "y", interaction=True, method="quasi_bayesian", n_sims=500, rng=1
    )
    return fit.sensitivity()


def test_data_companion_from_result(sens):
    data = sensitivity_data(sens)
    assert list(data.columns) == ["effect", "rho", "acme", "conf_low", "conf_high", "rho_at_zero"]
    assert (data["effect"] == "acme_control").all()
    assert data["rho"].is_monotonic_increasing and len(data) == 181
    assert data["rho_at_zero"].iloc[0] == pytest.approx(sens.rho_at_zero("acme_control"))
    treated = sensitivity_data(sens, effect="acme_treated")
    assert treated["rho_at_zero"].iloc[0] == pytest.approx(sens.rho_at_zero("acme_treated"))


def test_data_companion_from_frame_interpolates_root(sens):
    frame = sens.frame[sens.frame["effect"] == "acme_control"]
    data = sensitivity_data(frame.drop(columns="effect").iloc[::-1])
    # linear interpolation on a 0.01 grid of a smooth curve: close to the exact root
    assert data["rho_at_zero"].iloc[0] == pytest.approx(sens.rho_at_zero("acme_control"), abs=1e-3)


def test_plot_draws_on_given_axes(sens):
    fig, ax = plt.subplots()
    out = plot_sensitivity(sens, ax=ax, effect="acme_treated")
    assert out is ax
    data = sensitivity_data(sens, effect="acme_treated")
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_xdata(), data["rho"])
    np.testing.assert_allclose(line.get_ydata(), data["acme"])
    # zero line and root line
    assert len(ax.get_lines()) == 3
    assert ax.get_lines()[2].get_xdata()[0] == pytest.approx(data["rho_at_zero"].iloc[0])
    assert "acme_treated" in ax.get_ylabel()
    plt.close(fig)


def test_plot_creates_axes_when_none(sens):
    ax = plot_sensitivity(sens.frame)
    assert ax.get_xlabel().startswith("Sensitivity parameter")
    plt.close(ax.figure)


def test_bad_input(sens):
    with pytest.raises(ArgumentTypeError):
        sensitivity_data([1, 2, 3])
    with pytest.raises(ColumnNotFoundError, match="conf_low"):
        sensitivity_data(pd.DataFrame({"rho": [0.0], "acme": [0.0]}))
    with pytest.raises(OptionError, match="effect"):
        sensitivity_data(sens, effect="total")
