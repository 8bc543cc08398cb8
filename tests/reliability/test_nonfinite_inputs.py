"""Infinite and absurdly large values are refused by every model, naming column and rows.

Before this check, ``inf`` in an outcome gave "produced non-finite estimates" (or
statsmodels' "first guess on the deviance function returned a nan"), ``1e200`` in a
covariate was reported as "collinear", and the models disagreed on what they said.
Now the shared validation (``_validation.check_finite``, called by ``listwise_delete``
and by the survival and survey fitters) raises a ``DataValidationError`` that names the
column, the number of rows and their positions, and never shows a value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import mutualaid_outcomes as mo
from mutualaid_outcomes.errors import DataValidationError

N = 80
BAD_ROWS = (3, 17)


def _cohort() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    df = pd.DataFrame(
        {
            "id": np.repeat(np.arange(N // 4), 4),
            "x": rng.normal(size=N),
            "z": rng.normal(size=N),
            "treat": rng.integers(0, 2, N),
            "w": rng.uniform(0.5, 2.0, N),
            "days": rng.uniform(30, 90, N),
        }
    )
    df["m"] = 0.5 * df["treat"] + rng.normal(size=N)
    df["y"] = df["x"] + 0.4 * df["m"] + rng.normal(size=N)
    df["count"] = rng.poisson(2, N)
    df["time"] = rng.exponential(5, N)
    df["event"] = rng.integers(0, 2, N)
    df["cause"] = rng.integers(0, 3, N)
    df["vi"] = rng.uniform(0.01, 0.1, N)
    return df


def _spoil(column: str, value: float) -> pd.DataFrame:
    df = _cohort()
    df[column] = df[column].astype(float)
    df.loc[list(BAD_ROWS), column] = value
    return df


FITS = {
    "regression": lambda d: mo.fit_regression(d, "y ~ x + z"),
    "regression_weights": lambda d: mo.fit_regression(d, "y ~ x", weights="w"),
    "poisson_offset": lambda d: mo.fit_regression(d, "count ~ x", family="poisson", offset="days"),
    "gee": lambda d: mo.fit_gee(d, "y ~ x + z", id="id"),
    "mixed": lambda d: mo.fit_mixed(d, "y ~ x + z", id="id"),
    "cox": lambda d: mo.fit_cox(d, "time", "event", ["x", "z"]),
    "fine_gray": lambda d: mo.fit_fine_gray(d, "time", "cause", ["x", "z"]),
    "mediate": lambda d: mo.mediate(d, "treat", "m", "y", ["z"], ci="percentile", n_boot=50),
    "causal_mediation": lambda d: mo.causal_mediation(
        d, "treat", "m", "y", ["z"], n_boot=20, rng=1
    ),
    "propensity": lambda d: mo.propensity_scores(d, "treat", ["x", "z"]),
    "iv": lambda d: mo.fit_iv(d, "y", "m", "treat", ["z"]),
    "meta": lambda d: mo.meta_analysis(d, "x", "vi"),
    "survey": lambda d: mo.survey_glm(mo.survey_design(d, weights="w"), "y ~ x + z"),
}

# (model, the column spoilt): outcomes, covariates, weights, offsets, exposure times
CASES = [
    ("regression", "y"),
    ("regression", "x"),
    ("regression_weights", "w"),
    ("poisson_offset", "days"),
    ("gee", "y"),
    ("gee", "z"),
    ("mixed", "y"),
    ("mixed", "x"),
    ("cox", "time"),
    ("cox", "x"),
    ("fine_gray", "time"),
    ("fine_gray", "z"),
    ("mediate", "m"),
    ("mediate", "y"),
    ("causal_mediation", "y"),
    ("propensity", "x"),
    ("iv", "y"),
    ("meta", "x"),
    ("meta", "vi"),
    ("survey", "y"),
]


@pytest.mark.filterwarnings("ignore::mutualaid_outcomes.errors.BootstrapWarning")
@pytest.mark.parametrize(("model", "column"), CASES)
@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e200, -3e15])
def test_every_model_refuses_nonfinite_or_absurd_values(model, column, value):
    df = _spoil(column, value)
    with pytest.raises(DataValidationError) as info:
        FITS[model](df)
    msg = str(info.value)
    assert "2 rows" in msg and "positions 3, 17" in msg, msg
    assert "infinite" in msg or "larger than 1e+15" in msg, msg


@pytest.mark.filterwarnings("ignore::mutualaid_outcomes.errors.BootstrapWarning")
@pytest.mark.parametrize("model", ["regression", "cox", "mediate", "meta"])
def test_the_message_names_the_column_and_no_values(model):
    column = {"regression": "x", "cox": "x", "mediate": "m", "meta": "x"}[model]
    df = _spoil(column, np.inf)
    with pytest.raises(DataValidationError, match=rf"'{column}'|{column}") as info:
        FITS[model](df)
    msg = str(info.value)
    # no raw value of any column (the other values in the spoilt rows) is shown
    for c in {"y", "z", "m", "time"} - {column}:
        for r in BAD_ROWS:
            v = df.loc[r, c]
            assert f"{v:.4g}" not in msg


def test_clean_data_still_fit():
    df = _cohort()
    for model in ("regression", "gee", "cox", "meta", "survey"):
        FITS[model](df)


def test_identifier_columns_may_hold_long_numeric_ids():
    df = _cohort()
    df["id"] = df["id"].astype("int64") + 10**16
    res = mo.fit_gee(df, "y ~ x", id="id")
    assert res.glance()["n_clusters"].iloc[0] == N // 4
    res = mo.fit_regression(df, "y ~ x", cluster="id")
    assert res.glance()["n"].iloc[0] == N


def test_threshold_is_documented_and_inclusive():
    from mutualaid_outcomes._validation import MAX_ABS_VALUE, check_finite

    ok = pd.DataFrame({"x": [MAX_ABS_VALUE, -MAX_ABS_VALUE, np.nan]})
    check_finite(ok, ["x"])  # at the limit and missing values are fine
    with pytest.raises(DataValidationError, match=r"column 'x' has values larger than 1e\+15"):
        check_finite(pd.DataFrame({"x": [0.0, np.nextafter(MAX_ABS_VALUE, np.inf)]}), ["x"])


def test_many_rows_are_summarised():
    from mutualaid_outcomes._validation import check_finite

    df = pd.DataFrame({"y": np.full(20, np.inf)})
    with pytest.raises(
        DataValidationError, match=r"20 rows \(0-based positions 0, 1, 2, 3, 4 and 15 more\)"
    ):
        check_finite(df, ["y"], "formula")
