"""Identification, Heywood cases, data problems and option validation in fit_sem."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    DataWarning,
    OptionError,
)
from mutualaid_outcomes.models.sem import (
    HeywoodWarning,
    IdentificationError,
    ModelSyntaxError,
    fit_sem,
)

HS = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"


def _exact_data(cov: np.ndarray, n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Data whose ML sample covariance is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, cov.shape[0]))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(Z.T @ Z / n)).T
    X = Z @ np.linalg.cholesky(cov).T
    return pd.DataFrame(X, columns=[f"x{i + 1}" for i in range(cov.shape[0])])


def test_syntax_error_and_unknown_variable(hs):
    with pytest.raises(ModelSyntaxError, match=r"line 2, column 16: a term is missing"):
        fit_sem(hs, "visual =~ x1 + x2 + x3\ntextual =~ x4 ++ x5")
    with pytest.raises(ColumnNotFoundError, match=r"'x10' .* did you mean 'x1'"):
        fit_sem(hs, "visual =~ x1 + x2 + x10")


def test_t_rule(hs):
    with pytest.raises(IdentificationError, match=r"4 free parameters but only 3 sample moments"):
        fit_sem(hs, "f =~ x1 + x2")


def test_rank_deficient_model_names_the_parameters(hs):
    with pytest.raises(IdentificationError, match=r"rank\s+deficient.*f =~ x1.*f ~~ f"):
        fit_sem(hs, "f =~ NA*x1 + x2 + x3 + x4")


def test_heywood_case_is_flagged():
    r = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    df = _exact_data(r)
    with pytest.warns(HeywoodWarning, match=r"x1 ~~ x1 = -0\.28"):
        res = fit_sem(df, "f =~ x1 + x2 + x3")
    assert bool(res.glance().loc[0, "heywood"])
    assert any("Heywood" in n for n in res.notes)
    assert res.coef()["x1 ~~ x1"] == pytest.approx(1 - 0.64 / 0.5, rel=1e-8)


def test_non_positive_definite_sample_covariance(hs):
    df = hs.assign(x10=hs["x1"] + hs["x2"])
    with pytest.raises(DataValidationError, match=r"not positive definite.*\['x1', 'x2', 'x10'\]"):
        fit_sem(df, "f =~ x1 + x2 + x10 + x3")


def test_ordinal_indicators_are_refused_few_valued_ones_warned(hs):
    df = hs.assign(x1=pd.Categorical(hs["x1"].round(), ordered=True))
    with pytest.raises(DataValidationError, match=r"ordered categoricals.*cat.codes"):
        fit_sem(df, HS)
    df2 = hs.assign(x2=(hs["x2"] > hs["x2"].median()).astype(int))
    with pytest.warns(DataWarning, match=r"'x2' \(2 values\) .* treated as continuous"):
        fit_sem(df2, HS)


def test_fiml_drops_all_missing_rows_and_reports(hs):
    extra = pd.DataFrame(np.nan, index=range(3), columns=hs.columns)
    df = pd.concat([hs, extra], ignore_index=True)
    df.loc[:9, "x1"] = np.nan
    res = fit_sem(df, HS, missing="fiml")
    g = res.glance().iloc[0]
    assert g["n"] == 301 and g["n_dropped"] == 3
    assert any("3 rows with no observed value" in n for n in res.notes)
    listwise = fit_sem(df, HS)
    assert listwise.glance().loc[0, "n"] == 291


def test_fiml_with_fixed_covariate_drops_rows_missing_it(med):
    df = med.copy()
    df.loc[:4, "c1"] = np.nan
    df.loc[5:20, "s2"] = np.nan
    res = fit_sem(df, "support =~ s1 + s2 + s3\nsupport ~ x + c1\ny ~ support + x", missing="fiml")
    assert res.glance().loc[0, "n"] == 295
    assert any("missing exogenous covariates" in n for n in res.notes)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"missing": "ml"}, OptionError, r"`missing` must be one of 'listwise', 'fiml'"),
        ({"estimator": "WLSMV"}, OptionError, r"`estimator` must be one of 'ML', 'MLR'"),
        ({"cov_type": "HC3"}, OptionError, r"`cov_type` must be one of"),
        ({"ci": "bca"}, OptionError, r"without bootstrap"),
        ({"n_boot": -1}, ArgumentTypeError, r"`n_boot` must be an integer >= 0"),
        ({"group_equal": ["loadings"]}, DataValidationError, r"`group_equal` needs `group`"),
        ({"conf_level": 95}, DataValidationError, r"`conf_level` must be strictly between"),
        ({"group": "schol"}, ColumnNotFoundError, r"Did you mean 'school'"),
    ],
)
def test_option_validation(hs, kwargs, error, match):
    with pytest.raises(error, match=match):
        fit_sem(hs, HS, **kwargs)


def test_data_must_be_a_frame_and_is_not_modified(hs):
    with pytest.raises(ArgumentTypeError, match="`data` must be a pandas DataFrame"):
        fit_sem(hs.to_numpy(), HS)
    before = hs.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit_sem(hs, HS, missing="fiml")
    pd.testing.assert_frame_equal(hs, before)


def test_zero_variance_variable(hs):
    with pytest.raises(DataValidationError, match=r"\['x3'\] have no variance"):
        fit_sem(hs.assign(x3=1.0), HS)


def test_non_convergence_is_reported(hs):
    from mutualaid_outcomes.errors import ConvergenceWarning

    with pytest.warns(ConvergenceWarning, match="did not converge"):
        res = fit_sem(hs, HS, max_iter=2)
    g = res.glance().iloc[0]
    assert not g["converged"] and np.isnan(g["chisq"]) and np.isnan(g["cfi"])
    td = res.tidy()
    assert td.loc[td["free"] > 0, "std_error"].isna().all()
    assert (td.loc[td["free"] == 0, "std_error"] == 0).all()
