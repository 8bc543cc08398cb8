"""A linear mixed model whose outcome is fitted exactly is refused at once, not optimised."""

import time

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, EstimationError
from mutualaid_outcomes.models.regression.mixed import fit_mixed


def _panel(n_groups: int = 40, n_per: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(n_groups), n_per),
            "x": rng.normal(size=n_groups * n_per),
        }
    )
    df["person"] = np.repeat(rng.normal(size=n_groups), n_per)
    return df


@pytest.mark.parametrize("outcome", ["fixed_only", "with_random_intercept"])
def test_exact_fit_raises_fast(outcome):
    df = _panel()
    df["y"] = 1 + 2 * df["x"] + (df["person"] if outcome == "with_random_intercept" else 0)
    start = time.perf_counter()
    with pytest.raises(EstimationError, match="reproduced exactly.*residual variance is zero"):
        fit_mixed(df, "y ~ x", id="id")
    assert time.perf_counter() - start < 5


def test_more_random_effects_than_rows_raises():
    df = _panel(n_per=2).assign(time=lambda d: d.groupby("id").cumcount())
    df["y"] = df["x"] + np.random.default_rng(1).normal(size=len(df))
    with pytest.raises(DataValidationError, match="random effects.*not\\s+identified"):
        fit_mixed(df, "y ~ x", id="id", re_formula="~ time")
