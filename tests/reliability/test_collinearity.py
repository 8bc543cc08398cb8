"""Nearly collinear designs warn, name the columns involved and set ``glance()['collinear']``.

Before, a design whose columns were collinear up to noise of 1e-4 was fitted silently
(coefficients of +-117 with SEs of 836 on data where the truth is 1) and nothing in
``glance()`` said why. The check is Belsley's scaled condition number (columns scaled to
unit length, the intercept included) against ``COLLINEARITY_THRESHOLD = 1e4``; the
columns named are those whose variance-decomposition proportion on the smallest singular
value exceeds 0.5. Exact collinearity is refused with the columns involved named (R would
report NA for the aliased coefficients).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mutualaid_outcomes as mo
from mutualaid_outcomes.errors import DataValidationError, DataWarning

N = 200


def _data(noise: float | None = 1e-4) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"x": rng.normal(size=N), "z": rng.normal(size=N)})
    df["age"] = rng.uniform(18, 80, N)
    df["id"] = np.repeat(np.arange(N // 4), 4)
    if noise is not None:
        df["x2"] = df["x"] + noise * rng.normal(size=N)
    df["y"] = df["x"] + 0.5 * df["z"] + rng.normal(size=N)
    return df


def _belsley_kappa(X: np.ndarray) -> float:
    """Independent route: eigenvalues of the scaled cross-product matrix."""
    Xs = X / np.sqrt((X**2).sum(axis=0))
    ev = np.linalg.eigvalsh(Xs.T @ Xs)
    return float(np.sqrt(ev.max() / ev.min()))


def test_near_collinear_regression_warns_and_flags():
    df = _data()
    with pytest.warns(DataWarning, match=r"nearly collinear.*\['x', 'x2'\]") as rec:
        res = mo.fit_regression(df, "y ~ z + x + x2")
    msg = " ".join(str(w.message) for w in rec if issubclass(w.category, DataWarning))
    assert "'z'" not in msg and "Intercept" not in msg  # only the columns involved
    g = res.glance().iloc[0]
    assert bool(g["collinear"]) is True
    assert g["condition_number"] > 1e4
    assert any("Nearly collinear" in n for n in res._notes())
    assert "Nearly collinear" in str(res.summary())


def test_condition_number_matches_an_independent_computation():
    df = _data()
    X = np.column_stack([np.ones(N), df["z"], df["x"], df["x2"]])
    with pytest.warns(DataWarning):
        res = mo.fit_regression(df, "y ~ z + x + x2")
    kappa = res.glance()["condition_number"].iloc[0]
    # eigenvalues of X'X square the condition number: agreement to ~1e-6 relative
    assert kappa == pytest.approx(_belsley_kappa(X), rel=1e-5)


def test_well_conditioned_designs_do_not_warn():
    df = _data(noise=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        res = mo.fit_regression(df, "y ~ x + z")
        # an uncentred cubic in age (scaled condition number about 300) is not flagged
        cubic = mo.fit_regression(df, "y ~ age + I(age**2) + I(age**3)")
    g = res.glance().iloc[0]
    assert bool(g["collinear"]) is False and g["condition_number"] < 10
    assert 30 < cubic.glance()["condition_number"].iloc[0] < 1e4


def test_a_flagged_fit_is_never_silent():
    """With warnings as errors, a nearly collinear fit cannot pass unnoticed."""
    df = _data(noise=1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        with pytest.raises(DataWarning, match="nearly collinear"):
            mo.fit_regression(df, "y ~ x + x2 + z")


@pytest.mark.parametrize(
    "fit",
    [
        lambda d: mo.fit_gee(d, "y ~ x + x2", id="id"),
        lambda d: mo.meta_analysis(d.assign(vi=0.05), "y", "vi", moderators=["x", "x2"]),
    ],
    ids=["gee", "meta"],
)
def test_other_models_on_the_shared_design_warn_too(fit):
    with pytest.warns(DataWarning, match=r"nearly collinear.*\['x', 'x2'\]"):
        fit(_data())


def test_mixed_model_glance_flags_it():
    df = _data(noise=None)
    rng = np.random.default_rng(9)
    df["x2"] = df["x"] + 1e-3 * rng.normal(size=N)  # scaled condition number about 2e3
    df["x3"] = df["x"] + 1e-6 * rng.normal(size=N)
    res = mo.fit_mixed(df, "y ~ x + z", id="id")
    assert bool(res.glance()["collinear"].iloc[0]) is False
    with pytest.warns(DataWarning, match=r"nearly collinear.*\['x', 'x3'\]"):
        flagged = mo.fit_mixed(df, "y ~ x + x3", id="id", max_iter=50)
    g = flagged.glance().iloc[0]
    assert bool(g["collinear"]) is True and g["condition_number"] > 1e4


def test_exact_collinearity_is_refused_naming_the_columns():
    df = _data(noise=None)
    df["x2"] = 2 * df["x"]
    with pytest.raises(DataValidationError, match=r"collinear.*involves \['x', 'x2'\]"):
        mo.fit_regression(df, "y ~ z + x + x2")
