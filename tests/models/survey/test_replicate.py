"""Replicate-weight designs: construction from data, conversion, and bad input."""

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ArgumentTypeError, DataValidationError, DataWarning
from mutualaid_outcomes.models.survey import (
    replicate_design,
    survey_design,
    survey_mean,
    survey_total,
)
from mutualaid_outcomes.models.survey.replicate import replicate_vcov


@pytest.fixture(scope="module")
def paired():
    """30 strata with 2 PSUs each, 4 rows per PSU (the BRR layout)."""
    rng = np.random.default_rng(11)
    n_str, per = 30, 4
    psu = np.repeat(np.arange(2 * n_str), per)
    df = pd.DataFrame({"stratum": psu // 2, "psu": psu, "w": rng.uniform(1, 4, len(psu))})
    df["y"] = rng.normal(size=len(psu)) + rng.normal(size=2 * n_str)[psu]
    return df


def _lin(df, **kw):
    return survey_design(df, weights="w", strata="stratum", cluster="psu", **kw)


@pytest.mark.parametrize("kind,rho", [("BRR", 0.0), ("Fay", 0.3)])
def test_brr_fay_total_variance_equals_linearisation(paired, kind, rho):
    """With full orthogonal balance the BRR/Fay variance of a total is exactly the
    with-replacement linearisation variance sum_h (t_h1 - t_h2)^2."""
    lin = survey_total(_lin(paired), "y").tidy().std_error[0]
    rep = _lin(paired).as_replicate(kind, fay_rho=rho)
    assert rep.n_replicates == 32  # Sylvester order above 30 strata
    assert survey_total(rep, "y").tidy().std_error[0] == pytest.approx(lin, rel=1e-10)


def test_bootstrap_variance_agrees_with_linearisation_within_mc_error(paired):
    n_boot = 4000
    rep = _lin(paired).as_replicate("bootstrap", n_boot=n_boot, rng=20240611)
    v_rep = survey_mean(rep, "y").tidy().std_error[0] ** 2
    v_lin = survey_mean(_lin(paired), "y").tidy().std_error[0] ** 2
    mc_sd = np.sqrt(2 / (n_boot - 1))  # relative Monte Carlo SD of a variance from n_boot draws
    assert abs(v_rep / v_lin - 1) < 4 * mc_sd
    assert rep.seed == 20240611
    assert survey_mean(rep, "y").glance().seed[0] == 20240611


def test_bootstrap_is_reproducible_with_rng(paired):
    a = survey_mean(_lin(paired).as_replicate("bootstrap", n_boot=30, rng=5), "y").tidy()
    b = survey_mean(_lin(paired).as_replicate("bootstrap", n_boot=30, rng=5), "y").tidy()
    c = survey_mean(_lin(paired).as_replicate("bootstrap", n_boot=30, rng=6), "y").tidy()
    assert a.std_error[0] == b.std_error[0] != c.std_error[0]


def test_jackknife_degf_and_conversion_rules(paired):
    jkn = _lin(paired).as_replicate()
    assert jkn.type == "JKn" and jkn.n_replicates == 60
    assert jkn.degf == 30  # rank of the JKn weights minus 1 = PSUs - strata
    with pytest.raises(DataValidationError, match="type='JK1' is for unstratified designs"):
        _lin(paired).as_replicate("JK1")
    unstrat = survey_design(paired, weights="w", cluster="psu")
    assert unstrat.as_replicate().type == "JK1"
    with pytest.raises(DataValidationError, match="needs a stratified design"):
        unstrat.as_replicate("BRR")
    with pytest.raises(DataValidationError, match="from the full design"):
        unstrat.subset(paired["y"] > 0).as_replicate("JK1")


def test_brr_needs_two_psus_per_stratum(paired):
    three = paired.assign(stratum=paired["psu"] // 3)
    with pytest.raises(DataValidationError, match="exactly 2 PSUs per stratum"):
        _lin(three).as_replicate("BRR")


@pytest.fixture(scope="module")
def shipped(paired):
    """Replicate weights as a public-use file ships them (columns of the data)."""
    rep = _lin(paired).as_replicate("BRR")
    A = rep.psu_multipliers[rep.psu.codes] * rep.weights[:, None]
    cols = [f"rw{i}" for i in range(A.shape[1])]
    return pd.concat([paired, pd.DataFrame(A, columns=cols)], axis=1), cols, rep


def test_replicate_design_from_columns_matches_generated(shipped):
    df, cols, rep = shipped
    d = replicate_design(df, weights="w", replicate_weights=cols, type="BRR")
    assert d.scale == pytest.approx(1 / 32)
    a, b = survey_mean(d, "y").tidy(), survey_mean(rep, "y").tidy()
    assert a.std_error[0] == pytest.approx(b.std_error[0], rel=1e-12)
    m = replicate_design(
        df.assign(**{c: df[c] / df["w"] for c in cols}),
        weights="w",
        replicate_weights=cols,
        type="BRR",
        combined_weights=False,
    )
    assert survey_mean(m, "y").tidy().std_error[0] == pytest.approx(a.std_error[0], rel=1e-12)
    mse = replicate_design(df, weights="w", replicate_weights=cols, type="BRR", mse=True)
    assert survey_mean(mse, "y").tidy().std_error[0] >= a.std_error[0]


def test_replicate_weight_errors(shipped):
    df, cols, _ = shipped
    with pytest.raises(
        DataValidationError,
        match=r"`rscales` has 3 values but "
        r"`replicate_weights` names 32 columns \(rw0 \.\.\. rw31\)",
    ):
        replicate_design(df, weights="w", replicate_weights=cols, type="JKn", rscales=[1, 1, 1])
    with pytest.raises(DataValidationError, match="has 31 columns, but BRR replicates"):
        replicate_design(df, weights="w", replicate_weights=cols[:-1], type="BRR")
    with pytest.raises(DataValidationError, match="type='JKn' needs `rscales`"):
        replicate_design(df, weights="w", replicate_weights=cols, type="JKn")
    with pytest.raises(DataValidationError, match="type='Fay' needs `fay_rho`"):
        replicate_design(df, weights="w", replicate_weights=cols, type="Fay")
    with pytest.raises(ArgumentTypeError, match="must be a list of column names"):
        replicate_design(df, weights="w", replicate_weights="rw", type="BRR")
    bad = df.copy()
    bad.loc[[3, 9], "rw4"] = np.nan
    with pytest.raises(
        DataValidationError,
        match=r"column 'rw4' must be finite and >= 0; 2 "
        r"values.*rows 3, 9",
    ):
        replicate_design(bad, weights="w", replicate_weights=cols, type="BRR")
    with pytest.warns(DataWarning, match="`scale` not given for JK1"):
        replicate_design(df, weights="w", replicate_weights=cols, type="JK1")


def test_replicate_vcov_mean_or_mse():
    th = np.array([[1.0], [3.0]])
    assert replicate_vcov(th, np.array([1.0]), 1.0, np.ones(2), False)[0, 0] == 2.0
    assert replicate_vcov(th, np.array([1.0]), 1.0, np.ones(2), True)[0, 0] == 4.0


@pytest.mark.parametrize("kind", ["JKn", "bootstrap", "supplied"])
@pytest.mark.parametrize("family", ["binomial", "poisson"])
def test_replicate_glm_refits_equal_full_scoring_refits(kind, family):
    # Newton and chord passes from the full-sample fit reach the refits of full scoring
    # steps, in a domain and with incomplete rows, with replicate weights stored by PSU
    # (JKn, bootstrap) or supplied as columns (the R reference checks cover the designs)
    from mutualaid_outcomes.models._core.glm_chunked import irls_chunked
    from mutualaid_outcomes.models.survey import glm as survey_glm_module

    rng = np.random.default_rng(4)
    n = 1500
    df = pd.DataFrame(
        {
            "st": rng.integers(0, 5, n),
            "psu": rng.integers(0, 40, n),
            "w": rng.uniform(1, 3, n),
            "x": rng.normal(size=n),
            "z": rng.normal(size=n),
        }
    )
    df["y"] = (rng.uniform(size=n) < 1 / (1 + np.exp(-(0.3 + 0.8 * df.x)))).astype(float)
    df["c"] = rng.poisson(np.exp(0.2 + 0.3 * df.z))
    df.loc[rng.choice(n, 30, replace=False), "x"] = np.nan
    design = survey_design(df, weights="w", strata="st", cluster="psu", nest=True)
    extra = {"n_boot": 20, "rng": 2} if kind != "JKn" else {}
    rep = design.as_replicate("JKn" if kind == "JKn" else "bootstrap", **extra)
    if kind == "supplied":  # the same replicates as columns of the data
        cols = [f"r{j}" for j in range(rep.n_replicates)]
        df = df.assign(**dict(zip(cols, rep.weights_block(slice(None)).T)))
        rep = replicate_design(df, weights="w", replicate_weights=cols, type="bootstrap")
        assert rep.full is not None
    rep = rep.subset(df.z > -0.5)
    formula = "y ~ x + z" if family == "binomial" else "c ~ z + x"
    X, y, ok, _ = survey_glm_module._model_frame(rep, formula, family)
    beta = survey_glm_module.survey_glm(rep, formula, family=family).coef().to_numpy()
    new = survey_glm_module._fit_replicates(rep, X, y, ok, beta, family)
    okf = ok.astype(float)
    old = irls_chunked(
        X,
        y,
        lambda rows: rep.weights_block(rows) * okf[rows, None],
        family=family,
        link=survey_glm_module.LINK[family],
        start=beta,
    )
    assert new.converged.all() and old.converged.all()
    np.testing.assert_allclose(new.beta, old.beta, rtol=1e-8)
