"""Small mislabels: a gaussian model never speaks of separation; a labelled binary
outcome says which level is the event, and ``event_level=`` chooses it.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import mutualaid_outcomes as mo
from mutualaid_outcomes.errors import ConvergenceError, DataValidationError, DataWarning

N = 150


def _data() -> pd.DataFrame:
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"x": rng.normal(size=N), "z": rng.normal(size=N)})
    p = 1 / (1 + np.exp(-(0.3 + 0.8 * df["x"])))
    df["status"] = np.where(rng.uniform(size=N) < p, "relapse", "abstinent")
    return df


def _messages(record) -> list[str]:
    return [f"{w.category.__name__}: {w.message}" for w in record]


def test_gaussian_exact_fit_never_reports_separation():
    df = _data()
    df["y"] = 2 * df["x"] + 1
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = mo.fit_regression(df, "y ~ x")
    text = " ".join(_messages(rec) + res._notes() + [str(res.glance()["message"].iloc[0])])
    assert "eparation" not in text
    # what it says instead, as R summary.lm does
    assert any(issubclass(w.category, DataWarning) for w in rec)
    assert "perfect fit" in text
    assert not any(issubclass(w.category, RuntimeWarning) for w in rec)


def test_gaussian_failure_message_does_not_blame_separation():
    df = _data()
    df["x2"] = df["x"] + 1e-9 * np.cos(np.arange(N))
    df["y"] = df["x"] + df["z"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        try:
            mo.fit_regression(df, "y ~ x + x2 + z")
        except (ConvergenceError, DataValidationError) as exc:
            assert "separation" not in str(exc)


def test_survey_gaussian_exact_fit_never_reports_separation():
    df = _data()
    df["y"] = 2 * df["x"] + 1
    df["w"] = 1.0
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        mo.survey_glm(mo.survey_design(df, weights="w"), "y ~ x")
    assert not any("eparation" in m for m in _messages(rec))


def test_labelled_binary_outcome_states_the_event():
    res = mo.fit_regression(_data(), "status ~ x", family="binomial")
    assert res.glance()["event_level"].iloc[0] == "relapse"
    assert "Outcome coded 1 = 'relapse'." in res._notes()
    assert "relapse" in str(res.summary())


def test_event_level_chooses_the_event_and_mirrors_the_fit():
    df = _data()
    default = mo.fit_regression(df, "status ~ x", family="binomial")
    other = mo.fit_regression(df, "status ~ x", family="binomial", event_level="abstinent")
    assert other.glance()["event_level"].iloc[0] == "abstinent"
    assert "Outcome coded 1 = 'abstinent'." in other._notes()
    # logit(P(abstinent)) = -logit(P(relapse)): coefficients change sign, SEs do not
    np.testing.assert_allclose(other.coef(), -default.coef(), rtol=1e-9)
    np.testing.assert_allclose(np.diag(other.vcov()), np.diag(default.vcov()), rtol=1e-9)


def test_event_level_follows_categorical_order_and_numeric_codes():
    df = _data()
    df["cat"] = pd.Categorical(df["status"], categories=["relapse", "abstinent"])
    res = mo.fit_regression(df, "cat ~ x", family="binomial")
    assert res.glance()["event_level"].iloc[0] == "abstinent"
    df["y01"] = (df["status"] == "relapse").astype(int)
    coded = mo.fit_regression(df, "y01 ~ x", family="binomial")
    assert pd.isna(coded.glance()["event_level"].iloc[0])  # already 0/1: nothing to state
    flipped = mo.fit_regression(df, "y01 ~ x", family="binomial", event_level=0)
    np.testing.assert_allclose(flipped.coef(), -coded.coef(), rtol=1e-9)


def test_event_level_is_validated():
    df = _data()
    with pytest.raises(DataValidationError, match=r"`event_level` 'relapsed' is not a value"):
        mo.fit_regression(df, "status ~ x", family="binomial", event_level="relapsed")
    df["y"] = df["x"] * 2
    with pytest.raises(DataValidationError, match="`event_level` applies to family='binomial'"):
        mo.fit_regression(df, "y ~ z", event_level="relapse")
