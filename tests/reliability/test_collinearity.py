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


# -- every model with a linear predictor: one check, one warning, glance keys ---------------


def _survival_data(noise: float | None = 1e-4) -> pd.DataFrame:
    df = _data(noise)
    rng = np.random.default_rng(11)
    df["time"] = rng.exponential(scale=np.exp(-0.3 * df["x"]), size=N).round(3) + 0.01
    df["status"] = rng.choice([0, 1, 2], size=N, p=[0.3, 0.5, 0.2])
    df["event"] = (df["status"] == 1).astype(int)
    df["treated"] = (df["x"] + rng.normal(size=N) > 0).astype(int)
    df["w"] = rng.normal(size=N)  # instrument
    df["d"] = df["w"] + 0.5 * df["x"] + rng.normal(size=N)  # instrumented exposure
    df["m"] = 0.5 * df["treated"] + rng.normal(size=N)
    # a third covariate with a large mean: harmless for the shift-invariant Cox likelihoods
    df["year"] = 2010 + rng.normal(size=N)
    return df


FITTERS = {
    "gee": lambda d, c: mo.fit_gee(d, "y ~ " + " + ".join(c), id="id"),
    "cox": lambda d, c: mo.fit_cox(d, "time", "event", c),
    "fine_gray": lambda d, c: mo.fit_fine_gray(d, "time", "status", c, cause=1),
    "iv": lambda d, c: mo.fit_iv(d, "y", "d", "w", c),
    "propensity": lambda d, c: mo.propensity_scores(d, "treated", c),
}


@pytest.mark.parametrize("name", list(FITTERS))
def test_model_warns_once_and_glance_flags(name):
    df = _survival_data()
    with pytest.warns(DataWarning) as rec:
        res = FITTERS[name](df, ["x", "x2"])
    flagged = [w for w in rec if "nearly collinear" in str(w.message)]
    assert len(flagged) == 1, [str(w.message) for w in rec]
    assert "['x', 'x2']" in str(flagged[0].message)
    assert flagged[0].filename == __file__  # points at the caller's line
    g = res.glance().iloc[0]
    assert bool(g["collinear"]) is True and g["condition_number"] > 1e4
    assert "Nearly collinear" in str(res.summary())


@pytest.mark.parametrize("name", list(FITTERS))
def test_model_well_conditioned_is_not_flagged(name):
    df = _survival_data(noise=None)
    covs = ["x", "z"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        res = FITTERS[name](df, covs)
    g = res.glance().iloc[0]
    assert bool(g["collinear"]) is False and 1 <= g["condition_number"] < 100


@pytest.mark.parametrize("name", ["cox", "fine_gray"])
def test_shift_invariant_models_condition_on_centred_covariates(name):
    """Two covariates with means of 2010 look collinear uncentred, but not to a Cox fit."""
    df = _survival_data(noise=None)
    df["year2"] = 2010 + np.random.default_rng(3).normal(size=N)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        res = FITTERS[name](df, ["year", "year2"])
    X = df[["year", "year2"]].to_numpy()
    Xc = X - X.mean(axis=0)
    kappa = res.glance()["condition_number"].iloc[0]
    assert kappa == pytest.approx(_belsley_kappa(Xc), rel=1e-5)
    assert _belsley_kappa(X) > 1e3  # what an uncentred check would have reported


def test_gee_condition_number_matches_an_independent_computation():
    df = _data()
    X = np.column_stack([np.ones(N), df["x"], df["x2"]])
    with pytest.warns(DataWarning):
        res = mo.fit_gee(df, "y ~ x + x2", id="id")
    assert res.glance()["condition_number"].iloc[0] == pytest.approx(_belsley_kappa(X), rel=1e-5)
    assert any("Nearly collinear" in n for n in res._notes())


@pytest.mark.parametrize(
    "fit",
    [
        lambda d: mo.mediate(
            d, "treated", ["m"], "y", ["x", "x2"], n_boot=20, ci="percentile", rng=1
        ),
        lambda d: mo.causal_mediation(d, "treated", ["m"], "y", ["x", "x2"], n_boot=20, rng=1),
    ],
    ids=["mediate", "causal_mediation"],
)
def test_mediation_input_check_warns_once(fit):
    with pytest.warns(DataWarning) as rec:
        fit(_survival_data())
    flagged = [w for w in rec if "nearly collinear" in str(w.message)]
    assert len(flagged) == 1 and "['x', 'x2']" in str(flagged[0].message)
    assert flagged[0].filename == __file__


@pytest.mark.parametrize("name", ["cox", "fine_gray"])
def test_exact_collinearity_in_survival_models_is_refused_naming_the_columns(name):
    """Before, fit_cox returned SEs of about 6e6 and fit_fine_gray a bare LinAlgError."""
    df = _survival_data(noise=None)
    df["x2"] = 2 * df["x"]
    with pytest.raises(DataValidationError, match=r"collinear.*involves \['x', 'x2'\]"):
        FITTERS[name](df, ["x", "x2", "z"])


def test_tall_designs_take_the_gram_route_with_the_same_answer():
    """Above GRAM_MIN_ROWS rows the eigenvalues of X'X replace the QR (several times faster)."""
    from mutualaid_outcomes.models._core.design import (
        GRAM_MIN_ROWS,
        check_conditioning,
        scaled_condition,
    )

    rng = np.random.default_rng(2)
    X = rng.normal(size=(GRAM_MIN_ROWS + 1, 4))
    X[:, 3] = X[:, 2] + 1e-4 * rng.normal(size=len(X))
    exact, cols = scaled_condition(X, list("abcd"))
    with pytest.warns(DataWarning, match=r"\['c', 'd'\]"):
        kappa, flagged = check_conditioning(X, list("abcd"), "covariates")
    assert kappa == pytest.approx(exact, rel=1e-6) and list(flagged) == cols == ["c", "d"]
    X[:, 3] = 2 * X[:, 2]  # exactly singular: the exact route decides
    with pytest.raises(DataValidationError, match=r"involves \['c', 'd'\]"):
        check_conditioning(X, list("abcd"), "covariates", refuse_exact=True)
