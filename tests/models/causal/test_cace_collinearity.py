"""``cace``: the intention-to-treat design is checked for collinearity like every model.

A singular design (assignment and covariates) is refused naming the columns of the
dependency; a nearly collinear one warns and is flagged in ``glance()`` with its
scaled condition number, checked against Belsley's number computed here directly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, DataWarning
from mutualaid_outcomes.models.causal.iv import CACE_GLANCE_COLUMNS, cace

#: deterministic linear algebra on a well-conditioned design: agreement to rounding
RTOL = 1e-6
N = 400


def belsley(X: np.ndarray) -> float:
    """Scaled condition number: singular values of X with unit-length columns."""
    sv = np.linalg.svd(X / np.linalg.norm(X, axis=0), compute_uv=False)
    return float(sv[0] / sv[-1])


def frame(noise: float | None) -> pd.DataFrame:
    rng = np.random.default_rng(20261205)
    z = rng.binomial(1, 0.5, N)
    complier = rng.binomial(1, 0.6, N)
    d = z * complier
    c1 = rng.normal(size=N)
    c2 = rng.normal(size=N) if noise is None else c1 + noise * rng.normal(size=N)
    y = 0.5 * d + 0.3 * c1 + rng.normal(size=N)
    return pd.DataFrame({"tsf": z, "attended": d, "pda": y, "c1": c1, "c2": c2})


def test_cace_glance_reports_the_condition_number():
    df = frame(None)
    res = cace(df, "pda", "attended", "tsf", ["c1", "c2"])
    g = res.glance()
    assert list(g.columns) == list(CACE_GLANCE_COLUMNS)
    X = np.column_stack([np.ones(N), df[["tsf", "c1", "c2"]].to_numpy(float)])
    assert g["condition_number"].iloc[0] == pytest.approx(belsley(X), rel=RTOL)
    assert not g["collinear"].iloc[0]


def test_cace_flags_near_collinear_covariates():
    df = frame(3e-5)
    with pytest.warns(DataWarning, match=r"assignment/covariates.*nearly collinear.*'c1', 'c2'"):
        res = cace(df, "pda", "attended", "tsf", ["c1", "c2"])
    g = res.glance().iloc[0]
    assert g["collinear"] and g["condition_number"] > 1e4
    assert any("Nearly collinear" in n for n in res.summary().notes)


def test_cace_refuses_exactly_collinear_covariates_naming_the_dependency():
    df = frame(None).assign(c2=lambda d: 2 * d["c1"] + 1)
    with pytest.raises(DataValidationError, match=r"singular.*dependency involves.*'c1', 'c2'"):
        cace(df, "pda", "attended", "tsf", ["c1", "c2"])
