"""Tests of multiple imputation by chained equations (models/imputation.py)."""

from __future__ import annotations

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
from mutualaid_outcomes.models.missing.imputation import ImputedData, impute
from mutualaid_outcomes.models.missing.pooling import fit_imputed
from mutualaid_outcomes.models.regression.glm import fit_regression

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*keep their missing values:mutualaid_outcomes.errors.DataWarning"
)


# Monte Carlo tolerance: the mean (over imputations) of the mean imputed value differs
# from mice's by its Monte Carlo SE sqrt(sd_R^2 / n_R + sd_py^2 / n_py); 4 SEs keeps the
# false-alarm rate of the 6 comparisons below ~4e-4 while detecting a shift of about
# 0.35 SD of the imputed-mean distribution (e.g. a wrong conditional model).
MC_Z = 4.0
N_IMP_DISTRIBUTION = 150


@pytest.fixture(scope="module")
def nhanes(test_data) -> pd.DataFrame:
    return test_data("mice_nhanes.csv")


def small_frame(seed: int = 0, n: int = 120) -> pd.DataFrame:
    gen = np.random.default_rng(seed)
    x = gen.normal(size=n)
    z = 0.5 * x + gen.normal(size=n)
    y = 1 + 0.5 * x + 0.7 * z + gen.normal(size=n)
    b = (gen.random(n) < 1 / (1 + np.exp(-(x + z)))).astype(float)
    df = pd.DataFrame({"x": x, "z": z, "y": y, "b": b, "label": [f"p{i}" for i in range(n)]})
    df.loc[gen.random(n) < 0.3, "y"] = np.nan
    df.loc[gen.random(n) < 0.2, "b"] = np.nan
    return df


# --------------------------------------------------------------------------- against mice


@pytest.mark.parametrize("method", ["pmm", "norm"])
def test_imputed_means_match_mice_within_mc_error(
    nhanes: pd.DataFrame, method: str, r_reference
) -> None:
    ref = r_reference("mice_impute_nhanes")
    ref = ref[ref["method"] == method].set_index("variable")
    imp = impute(nhanes, m=N_IMP_DISTRIBUTION, max_iter=10, method=method, rng=20240917)
    miss = nhanes.isna()
    for var in ["bmi", "hyp", "chl"]:
        means = np.array([f.loc[miss[var], var].mean() for f in imp.completed])
        r = ref.loc[var]
        se_mean = np.sqrt(
            r["sd_of_means"] ** 2 / r["n_imputations"] + means.var(ddof=1) / len(means)
        )
        assert abs(means.mean() - r["mean_of_means"]) < MC_Z * se_mean, var
        # spread of the imputed means (between-imputation variability): SE of an SD is
        # about sd / sqrt(2 (k - 1))
        sd = means.std(ddof=1)
        se_sd = np.sqrt(
            r["sd_of_means"] ** 2 / (2 * (r["n_imputations"] - 1)) + sd**2 / (2 * (len(means) - 1))
        )
        assert abs(sd - r["sd_of_means"]) < MC_Z * se_sd, var


def test_pmm_imputes_observed_values_only(nhanes: pd.DataFrame) -> None:
    imp = impute(nhanes, m=3, max_iter=3, rng=1)
    for frame in imp:
        for var in ["bmi", "hyp", "chl"]:
            assert set(frame[var]) <= set(nhanes[var].dropna())
            assert not frame[var].isna().any()


# --------------------------------------------------------------------------- recovery


def _mar_replicate(gen: np.random.Generator, n: int) -> pd.DataFrame:
    # y missing with a probability rising with the auxiliary z (MAR given z);
    # the analysis model y ~ x leaves z out, so complete cases are biased.
    x = gen.normal(size=n)
    z = 0.5 * x + gen.normal(size=n)
    y = 1 + 0.5 * x + 0.7 * z + gen.normal(size=n)
    y[gen.random(n) < 1 / (1 + np.exp(-(-1 + 1.5 * z)))] = np.nan
    return pd.DataFrame({"x": x, "z": z, "y": y})


TRUE_SLOPE = 0.5 + 0.7 * 0.5  # slope of y on x: 0.5 + 0.7 cov(x, z) / var(x)


def _recovery(n_rep: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    mi, cc, covered = [], [], []
    for _ in range(n_rep):
        df = _mar_replicate(gen, n)
        res = fit_imputed(
            impute(df, m=5, max_iter=5, method="norm", rng=gen), fit_regression, "y ~ x"
        )
        row = res.tidy().set_index("term").loc["x"]
        mi.append(row["estimate"])
        covered.append(row["conf_low"] <= TRUE_SLOPE <= row["conf_high"])
        cc.append(fit_regression(df, "y ~ x").coef()["x"])
    return np.array(mi), np.array(cc), np.array(covered)


def test_parameter_recovery_mar() -> None:
    # 40 replicates of n = 300 with ~35% of y missing. MC SE of the mean MI estimate is
    # about 0.1 / sqrt(40) = 0.016; complete-case bias is about -0.086 (5 MC SEs).
    mi, cc, covered = _recovery(40, 300, seed=11)
    se = mi.std(ddof=1) / np.sqrt(len(mi))
    assert abs(mi.mean() - TRUE_SLOPE) < 3 * se
    assert abs(cc.mean() - TRUE_SLOPE) > abs(mi.mean() - TRUE_SLOPE)
    assert cc.mean() - TRUE_SLOPE < -3 * cc.std(ddof=1) / np.sqrt(len(cc))
    # coverage of nominal 95% intervals; binomial SE at 40 replicates is 3.4%
    assert covered.mean() >= 0.85


@pytest.mark.slow
def test_parameter_recovery_mar_large() -> None:
    # 300 replicates: MC SE of coverage 1.3%, of the mean estimate ~0.006.
    mi, _, covered = _recovery(300, 300, seed=12)
    se = mi.std(ddof=1) / np.sqrt(len(mi))
    assert abs(mi.mean() - TRUE_SLOPE) < 3 * se
    assert 0.92 <= covered.mean() <= 0.98


# --------------------------------------------------------------------------- behaviour


def test_structure_report_and_trace() -> None:
    df = small_frame()
    imp = impute(df, columns=["x", "z", "y", "b"], m=3, max_iter=4, rng=5)
    assert isinstance(imp, ImputedData)
    assert len(imp) == 3
    rep = imp.report.set_index("column")
    assert rep.loc["y", "n_missing"] == int(df["y"].isna().sum())
    assert rep.loc["x", "method"] == ""
    assert rep.loc["y", "pct_missing"] == pytest.approx(100 * df["y"].isna().mean())
    assert imp.method == {"y": "pmm", "b": "pmm"}
    assert imp.predictors["y"] == ("x", "z", "b")
    assert imp.visit_sequence == ("y", "b")
    assert len(imp.trace) == 3 * 4 * 2
    assert list(imp.trace.columns) == ["imputation", "iteration", "column", "mean", "sd"]
    last = imp.trace[(imp.trace["iteration"] == 4) & (imp.trace["column"] == "y")]
    miss = df["y"].isna()
    for k, frame in enumerate(imp.completed, start=1):
        expect = frame.loc[miss, "y"].mean()
        assert last.loc[last["imputation"] == k, "mean"].item() == pytest.approx(expect)
    # observed values and other columns are unchanged
    for frame in imp:
        pd.testing.assert_series_equal(frame.loc[~miss, "y"], df.loc[~miss, "y"])
        pd.testing.assert_series_equal(frame["label"], df["label"])
        assert not frame[["y", "b"]].isna().any().any()
    long = imp.long(include_original=True)
    assert long[".imp"].tolist() == [k for k in range(4) for _ in range(len(df))]
    assert "ImputedData" in repr(imp)


def test_logreg_and_norm_methods() -> None:
    df = small_frame()
    imp = impute(df, columns=["x", "z", "y", "b"], m=2, max_iter=3, method={"b": "logreg"}, rng=2)
    assert imp.method == {"y": "pmm", "b": "logreg"}
    for frame in imp:
        assert set(frame["b"].unique()) <= {0.0, 1.0}
    imp2 = impute(df, columns=["x", "z", "y"], m=2, max_iter=2, method="norm", rng=2)
    # norm draws from a continuous distribution: new values appear
    assert not set(imp2.complete(1)["y"]) <= set(df["y"].dropna())


@pytest.mark.parametrize("method", ["pmm", "norm", "logreg"])
def test_constant_observed_column_imputes_the_constant(method: str) -> None:
    df = small_frame()
    df["c"] = 1.0
    df.loc[::5, "c"] = np.nan
    imp = impute(df, columns=["x", "z", "c"], m=2, max_iter=2, method={"c": method}, rng=1)
    assert (imp.complete(2)["c"] == 1.0).all()


def test_boolean_column_uses_logreg_and_stays_boolean() -> None:
    df = small_frame()
    df["flag"] = pd.array(df["b"].map({1.0: True, 0.0: False}), dtype="boolean")
    imp = impute(df, columns=["x", "z", "flag"], m=2, max_iter=2, rng=3)
    assert imp.method == {"flag": "logreg"}
    assert imp.complete(1)["flag"].dtype == bool


def test_reproducible_and_independent_streams() -> None:
    df = small_frame()
    a = impute(df, columns=["x", "z", "y"], m=3, max_iter=3, rng=9)
    b = impute(df, columns=["x", "z", "y"], m=5, max_iter=3, rng=9)
    for i in (1, 2, 3):
        # imputation i uses child stream i whatever m is
        pd.testing.assert_frame_equal(a.complete(i), b.complete(i))
    assert not a.complete(1).equals(a.complete(2))
    assert a.seed == 9
    c = impute(df, columns=["x", "z", "y"], m=3, max_iter=3, rng=np.random.default_rng(9))
    assert c.seed is None


def test_does_not_mutate_input() -> None:
    df = small_frame()
    before = df.copy()
    imp = impute(df, columns=["x", "z", "y"], m=2, max_iter=2, rng=1)
    pd.testing.assert_frame_equal(df, before)
    frame = imp.complete(1)
    frame.loc[:, "y"] = 0.0
    assert not (imp.complete(1)["y"] == 0.0).all()


def test_predictors_restrict_model() -> None:
    df = small_frame()
    imp = impute(df, columns=["x", "z", "y"], m=2, max_iter=2, predictors={"y": ["z"]}, rng=1)
    assert imp.predictors["y"] == ("z",)


# --------------------------------------------------------------------------- bad input


def test_no_missing_values_is_an_error() -> None:
    df = small_frame()
    with pytest.raises(DataValidationError, match="nothing to impute"):
        impute(df, columns=["x", "z"], m=2, rng=1)


def test_method_for_complete_column_warns_and_is_ignored() -> None:
    df = small_frame()
    with pytest.warns(DataWarning, match=r"without missing values; ignored"):
        imp = impute(df, columns=["x", "z", "y"], m=2, max_iter=1, method={"x": "norm"}, rng=1)
    assert imp.method == {"y": "pmm"}
    assert any("ignored" in n for n in imp.notes)


def test_incomplete_column_left_out_warns() -> None:
    df = small_frame()
    with pytest.warns(DataWarning, match=r"keep their missing values: \['b'\]"):
        imp = impute(df, columns=["x", "z", "y"], m=2, max_iter=1, rng=1)
    assert imp.complete(1)["b"].isna().sum() == df["b"].isna().sum()


@pytest.mark.parametrize("m", [0, 1])
def test_m_below_two(m: int) -> None:
    with pytest.raises(DataValidationError, match=r"`m` must be an integer >= 2"):
        impute(small_frame(), columns=["x", "y"], m=m)


def test_m_wrong_type() -> None:
    with pytest.raises(ArgumentTypeError, match="`m`"):
        impute(small_frame(), columns=["x", "y"], m=2.5)  # type: ignore[arg-type]


def test_all_missing_column() -> None:
    df = small_frame()
    df["empty"] = np.nan
    with pytest.raises(DataValidationError, match=r"\['empty'\] are missing in all 120 rows"):
        impute(df, columns=["x", "y", "empty"], m=2)


def test_non_numeric_column_without_method() -> None:
    df = small_frame()
    df.loc[0, "label"] = None
    with pytest.raises(DataValidationError, match=r"non-numeric: 'label' \((object|str)\)"):
        impute(df, columns=["x", "y", "label"], m=2)


def test_default_columns_skip_non_numeric() -> None:
    imp = impute(small_frame(), m=2, max_iter=1, rng=1)
    assert "label" not in set(imp.report["column"])


def test_unknown_method_and_columns() -> None:
    df = small_frame()
    with pytest.raises(OptionError, match="`method` must be one of 'pmm', 'norm', 'logreg'"):
        impute(df, columns=["x", "y"], m=2, method="mean")  # type: ignore[arg-type]
    with pytest.raises(OptionError, match=r"`method\['y'\]` must be one of"):
        impute(df, columns=["x", "y"], m=2, method={"y": "cart"})  # type: ignore[dict-item]
    with pytest.raises(OptionError, match="not in `columns`"):
        impute(df, columns=["x", "y"], m=2, method={"z": "pmm"})
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'y'"):
        impute(df, columns=["x", "Y"], m=2)
    with pytest.raises(ArgumentTypeError, match="`method` must be a string"):
        impute(df, columns=["x", "y"], m=2, method=3)  # type: ignore[arg-type]


def test_logreg_on_non_binary_column() -> None:
    with pytest.raises(DataValidationError, match="'logreg' needs a 0/1 column; 'y'"):
        impute(small_frame(), columns=["x", "y"], m=2, method="logreg")


def test_bad_predictors_and_iterations_and_rng() -> None:
    df = small_frame()
    with pytest.raises(OptionError, match=r"`predictors\['y'\]` must name other columns"):
        impute(df, columns=["x", "y"], m=2, predictors={"y": ["y"]})
    with pytest.raises(OptionError, match="`predictors` names column 'q'"):
        impute(df, columns=["x", "y"], m=2, predictors={"q": ["x"]})
    with pytest.raises(DataValidationError, match="`max_iter`"):
        impute(df, columns=["x", "y"], m=2, max_iter=0)
    with pytest.raises(ArgumentTypeError, match="`n_iter`, which was renamed `max_iter`"):
        impute(df, columns=["x", "y"], m=2, n_iter=3)
    with pytest.raises(ArgumentTypeError, match="`rng`"):
        impute(df, columns=["x", "y"], m=2, rng="seed")  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="more than once"):
        impute(df, columns=["x", "y", "x"], m=2)


def test_too_few_observed_values() -> None:
    df = small_frame()
    df["rare"] = np.nan
    df.loc[0, "rare"] = 1.0
    with pytest.raises(DataValidationError, match="'rare' has only 1 observed value"):
        impute(df, columns=["x", "rare"], m=2)


def test_complete_index_checked() -> None:
    imp = impute(small_frame(), columns=["x", "y"], m=2, max_iter=1, rng=1)
    with pytest.raises(DataValidationError, match=r"`i` must be in 1..2"):
        imp.complete(0)
    with pytest.raises(ArgumentTypeError):
        imp.complete("1")  # type: ignore[arg-type]
