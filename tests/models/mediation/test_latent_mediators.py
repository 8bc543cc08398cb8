"""mediate(..., indicators=...): latent mediators through the SEM code, checked against lavaan."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError, OptionError
from mutualaid_outcomes.models.mediation.product import mediate
from mutualaid_outcomes.models.sem import latent_mediation

RTOL = 1e-6  # deterministic quantities; lavaan polished to |gradient| < 1e-9
INDICATORS = {"support": ["s1", "s2", "s3"]}
# lavaan labels of tests/reference/sem_lavaan.R's latent_med model -> mediate()'s terms
LAVAAN = {
    "a": "a[support]",
    "b": "b[support]",
    "cp": "direct",
    "indirect": "indirect[support]",
    "total": "total",
}


@pytest.fixture(scope="module")
def med(test_data):
    return test_data("sem_latent_mediation.csv")


@pytest.fixture(scope="module")
def wald(med):
    # the default interval needs 5000 refits; a Monte Carlo interval keeps this fast and
    # leaves estimates and SEs (the lavaan comparison) unchanged
    return mediate(
        med, "x", ["support"], "y", ["c1"], indicators=INDICATORS, ci="monte_carlo",
        n_sims=1000, rng=11,
    )  # fmt: skip


def test_estimates_and_ses_equal_lavaan(wald, r_reference):
    ref = r_reference("sem_lavaan_params", model="latent_med").set_index("label")
    tidy = wald.tidy().set_index("term")
    for label, term in LAVAAN.items():
        assert tidy.loc[term, "estimate"] == pytest.approx(ref.loc[label, "est"], rel=RTOL)
        assert tidy.loc[term, "std_error"] == pytest.approx(ref.loc[label, "se"], rel=RTOL)


def test_coefficient_protocol(wald):
    assert wald.terms == tuple(wald.tidy()["term"])
    assert wald.terms[:3] == ("a[support]", "b[support]", "indirect[support]")
    assert list(wald.coef().index) == list(wald.terms)
    v = wald.vcov()
    assert list(v.index) == list(v.columns) == list(wald.terms)
    np.testing.assert_allclose(np.sqrt(np.diag(v)), wald.tidy()["std_error"], rtol=1e-12)
    assert wald.nobs == 300
    assert wald.df_resid is None
    g = wald.glance().iloc[0]
    assert g["n_boot"] == 1000 and g["ci"] == "monte_carlo" and g["seed"] == 11


@pytest.mark.parametrize(
    "ci,draws", [("percentile", {"n_boot": 60}), ("monte_carlo", {"n_sims": 500})]
)
@pytest.mark.filterwarnings("ignore::mutualaid_outcomes.errors.BootstrapWarning")
def test_same_numbers_as_the_sem_route(med, ci, draws):
    got = mediate(med, "x", ["support"], "y", ["c1"], indicators=INDICATORS, ci=ci, rng=5, **draws)
    want = latent_mediation(
        med, "x", ["support"], "y", indicators=INDICATORS, covariates=["c1"], ci=ci,
        n_boot=next(iter(draws.values())), rng=5,
    )  # fmt: skip
    pd.testing.assert_frame_equal(got.tidy(), want.tidy())
    pd.testing.assert_frame_equal(got.glance(), want.glance())


def test_observed_mediators_still_use_regressions(med):
    res = mediate(med, "x", ["s1"], "y", ["c1"], n_boot=500, ci="percentile", rng=1)
    assert "SEM" not in str(res.glance()["method"].iloc[0])


@pytest.mark.parametrize(
    "options,match",
    [
        ({"model": "serial"}, r"model='serial'.*latent mediators"),
        ({"outcome_family": "binomial", "outcome_link": "logit"}, r"outcome_family='binomial'"),
    ],
)
def test_refused_options(med, options, match):
    with pytest.raises(OptionError, match=match):
        mediate(
            med, "x", ["support"], "y", ["c1"], indicators=INDICATORS, ci="monte_carlo",
            n_sims=100, rng=1, **options,
        )  # fmt: skip


def test_indicators_for_an_unknown_mediator(med):
    with pytest.raises(DataValidationError, match=r"`indicators` names \['drive'\]"):
        mediate(
            med, "x", ["support"], "y", ["c1"], indicators={"drive": ["s1", "s2"]},
            ci="monte_carlo", n_sims=100, rng=1,
        )  # fmt: skip


def test_indicators_must_be_a_mapping(med):
    with pytest.raises(TypeError, match="`indicators`"):
        mediate(
            med, "x", ["support"], "y", ["c1"], indicators=["s1", "s2", "s3"],
            ci="monte_carlo", n_sims=100, rng=1,
        )  # fmt: skip
