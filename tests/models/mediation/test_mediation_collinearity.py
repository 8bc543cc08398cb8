"""Collinearity of mediation designs: refused when singular, flagged in glance() when near.

``mediate`` (plain and moderated) and ``causal_mediation`` check every equation they fit
with the shared ``check_conditioning`` rule and report the largest scaled condition
number as ``glance()["condition_number"]`` with ``glance()["collinear"]``. The numbers
are checked against Belsley's scaled condition number computed here directly from the
singular values of each equation's design (columns scaled to unit length).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, DataWarning
from mutualaid_outcomes.models.mediation import causal_mediation, mediate

#: the small resample counts keep the tests fast; their intervals are not checked here
pytestmark = pytest.mark.filterwarnings("ignore::mutualaid_outcomes.errors.BootstrapWarning")

#: deterministic linear algebra on well-conditioned designs: agreement to rounding
RTOL = 1e-6
N = 300


def belsley(X: np.ndarray) -> float:
    """Scaled condition number: singular values of X with unit-length columns."""
    Xs = X / np.linalg.norm(X, axis=0)
    sv = np.linalg.svd(Xs, compute_uv=False)
    return float(sv[0] / sv[-1])


def frame(noise: float | None) -> pd.DataFrame:
    """x -> m -> y with covariates c1 and c2; c2 is c1 plus ``noise`` (None: independent)."""
    rng = np.random.default_rng(20261205)
    x = rng.normal(size=N)
    c1 = rng.normal(size=N)
    c2 = rng.normal(size=N) if noise is None else c1 + noise * rng.normal(size=N)
    m = 0.5 * x + 0.2 * c1 + rng.normal(size=N)
    y = 0.4 * m + 0.2 * x + 0.1 * c1 + rng.normal(size=N)
    w = rng.normal(size=N)
    return pd.DataFrame({"x": x, "c1": c1, "c2": c2, "m": m, "y": y, "w": w})


def design(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return np.column_stack([np.ones(len(df)), df[cols].to_numpy(float)])


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def test_mediate_glance_reports_the_worst_equation_of_a_well_conditioned_model():
    df = frame(None)
    res = quiet(mediate, df, "x", ["m"], "y", ["c1", "c2"], n_boot=200, rng=1)
    g = res.glance().iloc[0]
    outcome = belsley(design(df, ["x", "c1", "c2", "m"]))
    mediator = belsley(design(df, ["x", "c1", "c2"]))
    assert outcome >= mediator
    assert g["condition_number"] == pytest.approx(outcome, rel=RTOL)
    assert not g["collinear"]


def test_mediate_flags_near_collinear_covariates():
    df = frame(3e-5)
    with pytest.warns(DataWarning, match=r"outcome model.*nearly collinear.*'c1', 'c2'"):
        res = mediate(df, "x", ["m"], "y", ["c1", "c2"], n_boot=200, rng=1)
    g = res.glance().iloc[0]
    assert g["collinear"] and g["condition_number"] > 1e4
    assert g["condition_number"] == pytest.approx(
        belsley(design(df, ["x", "c1", "c2", "m"])), rel=1e-4
    )
    assert any("Nearly collinear" in n and "outcome model" in n for n in res.notes)


def test_mediate_refuses_exactly_collinear_covariates_naming_them():
    df = frame(None).assign(c2=lambda d: 2 * d["c1"] + 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)  # not "nearly" collinear: refused
        with pytest.raises(DataValidationError, match=r"singular.*'c1', 'c2'"):
            mediate(df, "x", ["m"], "y", ["c1", "c2"], n_boot=200, rng=1)


def test_moderated_mediation_takes_the_worst_of_its_equations():
    # PROCESS model 7: the product x:w enters the mediator model only
    df = frame(None)
    res = quiet(
        mediate, df, "x", ["m"], "y", ["c1"], moderator="w", moderated_paths=["a"],
        n_boot=200, rng=1,
    )  # fmt: skip
    g = res.glance().iloc[0]
    c = df[["x", "w", "c1", "m"]] - df[["x", "w", "c1", "m"]].mean()
    one = np.ones(N)
    mediator = belsley(np.column_stack([one, c["x"], c["w"], c["x"] * c["w"], c["c1"]]))
    outcome = belsley(np.column_stack([one, c["x"], c["c1"], c["m"]]))
    assert g["condition_number"] == pytest.approx(max(mediator, outcome), rel=RTOL)
    assert not g["collinear"]
    # a moderator that nearly copies the exposure: only the mediator model holds both
    near = df.assign(w=df["x"] + 3e-5 * np.random.default_rng(3).normal(size=N))
    with pytest.warns(DataWarning, match=r"mediator 'm' are nearly collinear.*'x', 'w'"):
        res = mediate(
            near, "x", ["m"], "y", ["c1"], moderator="w", moderated_paths=["a"],
            n_boot=200, rng=1,
        )  # fmt: skip
    assert bool(res.glance()["collinear"].iloc[0])
    assert any("model of mediator 'm'" in n for n in res.notes)


def test_causal_mediation_glance_and_flags():
    df = frame(None)
    res = quiet(causal_mediation, df, "x", "m", "y", ["c1", "c2"], n_boot=100, rng=1)
    g = res.glance().iloc[0]
    assert g["condition_number"] == pytest.approx(
        belsley(design(df, ["x", "m", "c1", "c2"])), rel=RTOL
    )
    assert not g["collinear"]
    near = frame(3e-5)
    with pytest.warns(DataWarning, match=r"outcome model.*nearly collinear"):
        res = causal_mediation(near, "x", "m", "y", ["c1", "c2"], n_boot=100, rng=1)
    assert bool(res.glance()["collinear"].iloc[0])
    assert res.glance()["condition_number"].iloc[0] > 1e4
    exact = df.assign(c2=lambda d: d["c1"] - 3)
    with pytest.raises(DataValidationError, match=r"mediator model.*singular.*'c1', 'c2'"):
        quiet(causal_mediation, exact, "x", "m", "y", ["c1", "c2"], n_boot=100, rng=1)
