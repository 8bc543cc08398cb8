"""Parameter recovery on simulated data with known truth (complements the lavaan checks).

Tolerances are in standard errors of the estimates: |estimate - truth| < 4 SE (a false
alarm has probability about 6e-5 per comparison).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.models.sem import cross_lagged_panel, fit_sem

N_SE = 4.0


def _riclpm_long(n: int, rng: np.random.Generator, p_missing: float) -> pd.DataFrame:
    ri = rng.multivariate_normal([0, 0], [[1.0, -0.3], [-0.3, 0.8]], size=n)
    wx, wy = rng.normal(size=n), rng.normal(size=n)
    rows = []
    for t, month in enumerate((0, 6, 12)):
        if t:
            wx, wy = (
                0.4 * wx - 0.2 * wy + rng.normal(scale=0.8, size=n),
                0.15 * wx + 0.3 * wy + rng.normal(scale=0.8, size=n),
            )
        rows.append(
            pd.DataFrame(
                {"id": np.arange(n), "month": month, "x": 2 + ri[:, 0] + wx, "y": 1 + ri[:, 1] + wy}
            )
        )
    long = pd.concat(rows, ignore_index=True)
    return long[rng.random(len(long)) > p_missing]


def test_riclpm_recovers_within_person_effects_with_missing_waves():
    long = _riclpm_long(3000, np.random.default_rng(20240620), 0.2)
    res = cross_lagged_panel(long, "id", "month", ["x", "y"], random_intercepts=True)
    td = res.tidy().set_index("term")
    truth = {
        "w_x_t6 ~ w_x_t0": 0.4,
        "w_x_t6 ~ w_y_t0": -0.2,
        "w_y_t6 ~ w_x_t0": 0.15,
        "w_y_t12 ~ w_y_t6": 0.3,
        "ri_x ~~ ri_y": -0.3,
        "ri_y ~~ ri_y": 0.8,
    }
    for term, value in truth.items():
        assert abs(td.loc[term, "estimate"] - value) < N_SE * td.loc[term, "std_error"], term
    assert res.glance().loc[0, "pvalue"] > 1e-4  # correctly specified model


def test_fiml_is_unbiased_under_mar_where_listwise_is_not():
    rng = np.random.default_rng(7)
    n = 4000
    f = rng.normal(size=n)
    df = pd.DataFrame({f"x{i}": 1.0 + 0.8 * f + rng.normal(scale=0.6, size=n) for i in (1, 2, 3)})
    df["x4"] = 2.0 + 0.7 * f + rng.normal(scale=0.6, size=n)
    df.loc[df["x1"] > 1.5, "x4"] = np.nan  # missing at random (depends on observed x1)
    model = "f =~ x1 + x2 + x3 + x4\nx4 ~ 1"
    fiml = fit_sem(df, model, missing="fiml").tidy().set_index("term")
    listwise = fit_sem(df, model).tidy().set_index("term")
    est, se = fiml.loc["x4 ~1", "estimate"], fiml.loc["x4 ~1", "std_error"]
    assert abs(est - 2.0) < N_SE * se
    assert abs(listwise.loc["x4 ~1", "estimate"] - 2.0) > 10 * listwise.loc["x4 ~1", "std_error"]


@pytest.mark.parametrize("estimator", ["ML", "MLR"])
def test_cfa_loadings_recovered(estimator):
    rng = np.random.default_rng(3)
    n = 2000
    f = rng.normal(size=(n, 2)) @ np.linalg.cholesky([[1.0, 0.4], [0.4, 1.0]]).T
    lam = [1.0, 0.7, 1.3]
    df = pd.DataFrame(
        {f"a{i}": lam[i] * f[:, 0] + rng.standard_t(5, size=n) * 0.5 for i in range(3)}
        | {f"b{i}": lam[i] * f[:, 1] + rng.standard_t(5, size=n) * 0.5 for i in range(3)}
    )
    res = fit_sem(df, "A =~ a0 + a1 + a2\nB =~ b0 + b1 + b2", estimator=estimator)
    td = res.tidy().set_index("term")
    for term, value in {"A =~ a1": 0.7, "A =~ a2": 1.3, "B =~ b2": 1.3, "A ~~ B": 0.4}.items():
        assert abs(td.loc[term, "estimate"] - value) < N_SE * td.loc[term, "std_error"], term
