"""A gaussian GEE whose outcome the predictors fit exactly fails fast and says why.

Before, residuals of exactly zero made the scale 0 and the standardised residuals behind
the working correlation 0/0: the scoring loop ran its 200 iterations on NaN with
RuntimeWarnings (about 35 s on 2 000 rows) and returned NaN estimates. The test is R
``summary.lm``'s "essentially perfect fit" (residual variance below 1e-30 times the
mean square of the fitted values).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd
import pytest

import mutualaid_outcomes as mo
from mutualaid_outcomes.errors import DataValidationError


def _panel(n_id: int = 500, waves: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    n = n_id * waves
    df = pd.DataFrame(
        {"id": np.repeat(np.arange(n_id), waves), "wave": np.tile(np.arange(waves), n_id)}
    )
    df["x"] = rng.normal(size=n)
    df["z"] = rng.normal(size=n)
    return df


@pytest.mark.parametrize("cov_struct", ["exchangeable", "ar1", "independence", "unstructured"])
def test_exact_gaussian_fit_is_refused_fast_without_runtime_warnings(cov_struct):
    df = _panel()
    df["y"] = 1.0 + 2.0 * df["x"] - 0.5 * df["z"]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(
            DataValidationError, match="Essentially perfect fit.*predictor in disguise"
        ):
            mo.fit_gee(df, "y ~ x + z", id="id", time="wave", cov_struct=cov_struct)
    # a guard against the old 200 iterations on NaN, not a benchmark: generous bound
    assert time.perf_counter() - start < 5


def test_a_nearly_exact_but_noisy_fit_is_still_estimated():
    df = _panel(n_id=100)
    rng = np.random.default_rng(4)
    df["y"] = 1.0 + 2.0 * df["x"] + 1e-6 * rng.normal(size=len(df))
    res = mo.fit_gee(df, "y ~ x", id="id")
    est = res.tidy().set_index("term")["estimate"]
    assert est["x"] == pytest.approx(2.0, abs=1e-6)
    assert bool(res.glance()["converged"].iloc[0])
    assert np.isfinite(res.tidy()["std_error"]).all()


def test_other_families_are_unaffected_by_the_gaussian_test():
    df = _panel(n_id=100)
    df["k"] = np.random.default_rng(5).poisson(np.exp(0.2 * df["x"]))
    res = mo.fit_gee(df, "k ~ x", id="id", family="poisson")
    assert np.isfinite(res.tidy()["estimate"]).all()
