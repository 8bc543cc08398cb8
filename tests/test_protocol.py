"""The coefficient protocol and the names of the results contract, for every result class.

Every result with coefficients exposes ``terms``, ``coef()``, ``vcov()``, ``nobs`` and
``df_resid`` (docs/conventions.md) consistently with its own ``tidy()`` and ``glance()``;
every other result raises ``NotImplementedError`` naming its class. Every result class
subclasses ``BaseResult`` and its name ends in ``Result``; every renamed keyword of a
public function names an argument that exists.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import warnings

import numpy as np
import pandas as pd
import pytest

import mutualaid_outcomes
from mutualaid_outcomes.errors import MutualAidWarning
from mutualaid_outcomes.results import BaseResult

#: results whose tidy() rows are Wald statistics of coef() and sqrt(diag(vcov()))
WALD = {
    "regression",
    "gee",
    "mixed",
    "cox",
    "cox_tv",
    "fine_gray",
    "iv",
    "cace",
    "propensity",
    "ame",
    "pooled",
}


@pytest.fixture(scope="module")
def frames():
    rng = np.random.default_rng(20240611)
    n = 240
    x = rng.normal(size=n)
    z = rng.binomial(1, 0.5, n)
    d = 0.8 * z + 0.5 * x + rng.normal(size=n)
    m = 0.5 * z + rng.normal(size=n)
    y = 0.3 * m + 0.2 * z + 0.4 * d + rng.normal(size=n)
    t = rng.exponential(1 / np.exp(0.5 * x))
    c = rng.exponential(2, n)
    cross = pd.DataFrame(
        {
            "x": x,
            "z": z,
            "d": d,
            "m": m,
            "y": y,
            "yb": (y > 0).astype(int),
            "time": np.minimum(t, c),
            "event": (t <= c).astype(int),
            "cause": np.where(t <= c, rng.integers(1, 3, n), 0),
            "site": np.repeat(np.arange(24), n // 24),
        }
    )
    ids = np.repeat(np.arange(80), 3)
    long = pd.DataFrame({"id": ids, "wave": np.tile([0, 1, 2], 80), "x": rng.normal(size=240)})
    long["y"] = 1 + 0.3 * long["x"] + np.repeat(rng.normal(size=80), 3) + rng.normal(size=240)
    counting = pd.DataFrame(
        {
            "id": [1, 1, 2, 3, 3, 4, 5, 5, 6, 7, 8, 8],
            "start": [0, 2, 0, 0, 1, 0, 0, 3, 0, 0, 0, 4],
            "stop": [2, 5, 4, 1, 6, 3, 3, 7, 8, 5, 4, 9],
            "event": [0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1],
            "x": [0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1],
        }
    )
    return cross, long, counting


@pytest.fixture(scope="module")
def results(frames):
    """One fitted result of every class with coefficients."""
    import mutualaid_outcomes as ma

    cross, long, counting = frames
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MutualAidWarning)
        reg = ma.fit_regression(cross, "yb ~ x + z", family="binomial")
        imputed = [ma.fit_regression(cross.sample(frac=1, random_state=i), "y ~ x") for i in (1, 2)]
        med = ma.mediate(cross, "z", ["m"], "y", ["x"], n_boot=200, ci="percentile", rng=1)
        out = {
            "regression": reg,
            "gee": ma.fit_gee(long, "y ~ x", id="id", time="wave", cov_struct="exchangeable"),
            "mixed": ma.fit_mixed(long, "y ~ x", id="id"),
            "cox": ma.fit_cox(cross, "time", "event", ["x", "z"]),
            "cox_tv": ma.fit_cox_time_varying(counting, "id", "start", "stop", "event", ["x"]),
            "fine_gray": ma.fit_fine_gray(cross, "time", "cause", ["x"], cause=1),
            "iv": ma.fit_iv(cross, "y", "d", "z", cov_type="HC1"),
            "cace": ma.cace(cross, "y", "d", "z"),
            "propensity": ma.propensity_scores(cross, "z", ["x"]),
            "ame": reg.marginal_effects(),
            "pooled": ma.pool(imputed),
            "mediation": med,
            "causal_mediation": ma.causal_mediation(
                cross, "z", ["m"], "y", ["x"], n_boot=200, rng=1
            ),
        }
    return out


@pytest.mark.parametrize(
    "kind",
    [
        "regression",
        "gee",
        "mixed",
        "cox",
        "cox_tv",
        "fine_gray",
        "iv",
        "cace",
        "propensity",
        "ame",
        "pooled",
        "mediation",
        "causal_mediation",
    ],
)
def test_coefficient_protocol(results, kind):
    res = results[kind]
    terms = res.terms
    assert isinstance(terms, tuple) and terms and all(isinstance(t, str) for t in terms)
    coef = res.coef()
    assert isinstance(coef, pd.Series) and tuple(coef.index) == terms
    vcov = res.vcov()
    assert isinstance(vcov, pd.DataFrame)
    assert tuple(vcov.index) == terms and tuple(vcov.columns) == terms
    np.testing.assert_allclose(vcov.to_numpy(), vcov.to_numpy().T, rtol=1e-10, atol=1e-14)
    assert isinstance(res.nobs, int) and res.nobs == int(res.glance()["n"].iloc[0])
    assert res.df_resid is None or (isinstance(res.df_resid, float) and res.df_resid > 0)
    # copies: changing what the protocol returned does not change the result
    coef.iloc[0] = 1e9
    vcov.iloc[0, 0] = -1.0
    assert res.coef().iloc[0] != 1e9 and res.vcov().iloc[0, 0] != -1.0
    tidy = res.tidy().set_index("term")
    np.testing.assert_allclose(tidy.loc[list(terms), "estimate"], res.coef(), rtol=1e-12)
    if kind in WALD:
        se = np.sqrt(np.diag(res.vcov().to_numpy()))
        np.testing.assert_allclose(tidy.loc[list(terms), "std_error"], se, rtol=1e-12)
    else:  # simulation-based: vcov() is the covariance of the draws, std_error their SD
        draws = res.draws
        sd = np.nanstd(np.asarray(draws, dtype=float), axis=0, ddof=1)
        np.testing.assert_allclose(np.sqrt(np.diag(res.vcov().to_numpy())), sd, rtol=1e-10)


def test_df_resid_says_t_or_z(results):
    assert results["iv"].df_resid == results["iv"].nobs - len(results["iv"].terms)
    assert results["cace"].df_resid > 0
    for kind in ("regression", "gee", "mixed", "cox", "fine_gray", "propensity", "mediation"):
        assert results[kind].df_resid is None, kind


def test_results_without_coefficients_say_so(frames):
    import mutualaid_outcomes as ma

    cross, _, _ = frames
    km = ma.kaplan_meier(cross, "time", "event", by="z")
    others = [
        km,
        km.logrank(),
        ma.cumulative_incidence(cross, "time", "cause", by="z"),
        ma.gray_test(cross, "time", "cause", "z"),
        ma.fit_cox(cross, "time", "event", ["x"]).check_proportional_hazards(),
        ma.e_value(2.0, 1.5, 2.7),
        ma.reliability(cross[["x", "y", "d"]], ["x", "y", "d"]),
    ]
    for res in others:
        name = type(res).__name__
        for member in ("coef", "vcov"):
            with pytest.raises(NotImplementedError, match=f"{name} has no coefficients"):
                getattr(res, member)()
        for member in ("terms", "nobs", "df_resid"):
            with pytest.raises(NotImplementedError, match=f"{name} has no coefficients"):
                getattr(res, member)
        assert list(res.tidy().columns[:7]) == [
            "term",
            "estimate",
            "std_error",
            "statistic",
            "p_value",
            "conf_low",
            "conf_high",
        ]
        assert len(res.glance()) == 1


def _modules():
    for info in pkgutil.walk_packages(mutualaid_outcomes.__path__, "mutualaid_outcomes."):
        if ".pipeline" in info.name or info.name.endswith(".cli"):
            continue
        yield importlib.import_module(info.name)


def test_every_result_class_follows_the_contract():
    found = set()
    for module in _modules():
        for name, obj in vars(module).items():
            if not inspect.isclass(obj) or obj.__module__ != module.__name__:
                continue
            if issubclass(obj, BaseResult):
                assert name.endswith("Result"), f"{module.__name__}.{name}"
                found.add(name)
            else:
                assert not name.endswith("Result") or name == "RunResult", name
    assert {"EValueResult", "SensitivityResult", "LogRankResult"} <= found
    assert {"ProportionalHazardsResult", "PooledResult", "CoxResult"} <= found


def test_renamed_keywords_point_at_existing_arguments():
    seen = 0
    for module in _modules():
        for name, obj in vars(module).items():
            table = getattr(obj, "__renamed__", None)
            if not callable(obj) or table is None or name.startswith("_"):
                continue
            params = inspect.signature(obj).parameters
            for old, new in table.items():
                seen += 1
                assert old not in params, (name, old)
                if new.isidentifier():
                    assert new in params, (name, new)
                with pytest.raises(TypeError, match=f"`{old}`"):
                    obj(**{old: None})
    assert seen >= 30
