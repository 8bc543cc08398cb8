"""fit_trajectories on bad input: clear errors, or flagged results, never a silent bad fit."""

import warnings

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.models.trajectories import fit_trajectories


@pytest.fixture(scope="module")
def panel(sim):
    df, _ = sim(np.random.default_rng(1), "poisson", n=120)
    return df


def fit(df, n_groups=2, **kw):
    kw.setdefault("family", "poisson")
    kw.setdefault("n_starts", 3)
    kw.setdefault("rng", 1)
    return fit_trajectories(df, "id", "time", "y", n_groups, **kw)


def test_non_integer_counts(panel):
    df = panel.assign(y=panel["y"] + 0.5)
    for family in ("poisson", "zip"):
        with pytest.raises(DataValidationError, match="non-negative whole numbers"):
            fit(df, family=family)
    with pytest.raises(DataValidationError, match="non-negative whole numbers"):
        fit(panel.assign(y=-panel["y"] - 1))


def test_cnorm_values_outside_bounds(panel):
    df = panel.assign(y=panel["y"] * 10.0)
    with pytest.raises(DataValidationError, match=r"\[lower, upper\].*above `upper`"):
        fit(df, family="cnorm", lower=0.0, upper=20.0)
    with pytest.raises(OptionError, match="needs `lower` and/or `upper`"):
        fit(df, family="cnorm")
    with pytest.raises(DataValidationError, match="must be below `upper`"):
        fit(df, family="cnorm", lower=5.0, upper=1.0)
    with pytest.raises(OptionError, match="applies to family='cnorm'"):
        fit(df, family="gaussian", lower=0.0)


def test_logit_needs_binary(panel):
    with pytest.raises(DataValidationError, match="coded 0/1"):
        fit(panel, family="logit")
    with pytest.raises(OptionError, match="`family` must be one of"):
        fit(panel, family="binomial")


def test_time_not_numeric(panel):
    df = panel.assign(time=panel["time"].map(lambda t: f"wave {int(t)}"))
    with pytest.raises(DataValidationError, match="`time` \\('time'\\) must be numeric"):
        fit(df)
    dates = panel.assign(time=pd.Timestamp("2024-01-01") + pd.to_timedelta(panel["time"], "D"))
    with pytest.raises(DataValidationError, match="Convert dates to elapsed time"):
        fit(dates)


def test_duplicated_id_time(panel):
    df = pd.concat([panel, panel.iloc[[0, 5]]], ignore_index=True)
    with pytest.raises(DataValidationError, match=r"4 rows sharing an \(`id`, `time`\) pair"):
        fit(df)


def test_too_few_distinct_times(panel):
    df = panel[panel["time"] < 2]
    with pytest.raises(DataValidationError, match="2 distinct values.*degree-2.*at least 3"):
        fit(df)


def test_short_panels_are_kept_and_counted(sim):
    df, _ = sim(np.random.default_rng(2), "gaussian", n=300)
    # 40 persons keep only their first two waves (fewer than 3 for a quadratic)
    short_ids = np.arange(40)
    drop = df["id"].isin(short_ids) & (df["time"] > 1)
    df = df[~drop]
    res = fit_trajectories(df, "id", "time", "y", 3, n_starts=4, rng=1)
    g = res.glance().iloc[0]
    assert g["n"] == 300  # nobody dropped
    n_short = int((df.groupby("id").size() < 3).sum())
    assert g["n_persons_short"] == n_short >= 40
    assert f"{n_short} of 300 persons have fewer than 3 waves" in g["message"]


def test_mostly_short_panels_warn(sim):
    df, _ = sim(np.random.default_rng(3), "gaussian", n=200)
    df = df[(df["time"] < 2) | (df["id"] < 50)]
    with pytest.warns(DataWarning, match="fewer than 3 waves"):
        fit_trajectories(df, "id", "time", "y", 2, n_starts=3, rng=1)


def test_class_emptying_every_start_is_an_error():
    # one homogeneous group of 40 persons: five classes with class-specific variance
    # cannot all stay in use
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"id": np.repeat(np.arange(40), 3), "time": np.tile([0.0, 1.0, 2.0], 40)})
    df["y"] = rng.normal(size=len(df))
    with pytest.raises(EstimationError, match="None of the 4 starts kept all 5 classes"):
        fit_trajectories(df, "id", "time", "y", 5, degree=1, variance="group", n_starts=4, rng=1)


def test_degenerate_starts_are_discarded_and_counted(sim):
    df, _ = sim(np.random.default_rng(5), "gaussian", n=60, n_waves=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = fit_trajectories(df, "id", "time", "y", 4, variance="group", n_starts=10, rng=2)
    st = res.starts
    g = res.glance().iloc[0]
    assert g["n_starts_degenerate"] == (st["status"] == "degenerate").sum()
    assert not st.loc[st["status"] == "degenerate", "best"].any()
    assert (st.loc[st["status"] == "degenerate", "message"] != "").all()


def test_single_start_found_once_is_flagged(sim):
    # 4 logit classes on 150 persons: a rugged likelihood. With rng=3 the two starts end
    # at different maxima (-452.99 and -452.09); with rng=1 both reach -452.09.
    df, _ = sim(np.random.default_rng(6), "logit", n=150)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = fit_trajectories(df, "id", "time", "y", 4, family="logit", n_starts=2, rng=3)
    g = res.glance().iloc[0]
    assert g["n_starts_best"] == 1 and g["possibly_local"]
    assert any(
        issubclass(w.category, ConvergenceWarning) and "local maximum" in str(w.message)
        for w in rec
    )
    assert any("only 1 of 2 starts" in n for n in res._notes())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        agreed = fit_trajectories(df, "id", "time", "y", 4, family="logit", n_starts=2, rng=1)
    g = agreed.glance().iloc[0]
    assert g["n_starts_best"] == 2 and not g["possibly_local"]
    # one class: a single start, not flagged as possibly local
    one = fit_trajectories(df, "id", "time", "y", 1, family="logit", n_starts=5, rng=1)
    g = one.glance().iloc[0]
    assert g["n_starts"] == 1 and not g["possibly_local"]


def test_separation_flagged():
    # "always" and "never" attenders: each class's probability sits at 1 or 0, the
    # likelihood rises towards that boundary and the logit coefficients diverge
    n, t = 100, np.arange(5.0)
    y = np.where(np.arange(n)[:, None] < 40, 1.0, 0.0) * np.ones((n, 5))
    df = pd.DataFrame({"id": np.repeat(np.arange(n), 5), "time": np.tile(t, n), "y": y.ravel()})
    with pytest.warns(ConvergenceWarning, match="fitted values at a limit"):
        res = fit_trajectories(
            df, "id", "time", "y", 2, degree=1, family="logit", n_starts=3, rng=1
        )
    msg = res.glance()["message"].iloc[0]
    assert "Class 1 has fitted values at a limit" in msg and "Class 2" in msg
    # the membership part is still estimable: shares 0.6 / 0.4
    assert res.loglik == pytest.approx(60 * np.log(0.6) + 40 * np.log(0.4), abs=1e-6)


@pytest.mark.parametrize(
    "kw, exc, match",
    [
        ({"n_groups": 0}, DataValidationError, "`n_groups` must be an integer >= 1"),
        ({"n_groups": 2.5}, ArgumentTypeError, "`n_groups` must be an integer"),
        ({"degree": 7}, DataValidationError, "between 0 and 5"),
        ({"degree": [1, 2, 3]}, DataValidationError, "one degree per class \\(2\\)"),
        ({"degree": "2"}, ArgumentTypeError, "`degree` must be an integer"),
        ({"variance": "group"}, OptionError, "`variance` applies to the normal families"),
        ({"family": "gaussian", "variance": "pooled"}, OptionError, "`variance` must be one of"),
        ({"n_starts": 0}, DataValidationError, "`n_starts` must be an integer >= 1"),
        ({"tol": 0.0}, DataValidationError, "`tol` must be in \\(0, 1\\)"),
        ({"rng": "seed"}, ArgumentTypeError, "`rng` must be"),
        ({"covariates": ["nope"]}, ColumnNotFoundError, "`covariates` names column 'nope'"),
        ({"tv_covariates": "tim"}, ColumnNotFoundError, "Did you mean 'time'"),
    ],
)
def test_argument_errors(panel, kw, exc, match):
    n_groups = kw.pop("n_groups", 2)
    with pytest.raises(exc, match=match):
        fit(panel, n_groups, **kw)


def test_covariate_must_be_time_stable(panel):
    df = panel.assign(x=np.arange(len(panel), dtype=float))
    with pytest.raises(DataValidationError, match="must be time-stable.*'x' \\(120 persons\\)"):
        fit(df, covariates=["x"])


def test_persons_missing_covariates_are_excluded_and_reported(panel):
    rng = np.random.default_rng(8)
    x = rng.normal(size=120)
    x[:10] = np.nan
    df = panel.assign(x=x[panel["id"]])
    res = fit(df, covariates=["x"])
    g = res.glance().iloc[0]
    assert g["n"] == 110 and g["n_persons_dropped"] == 10
    rows = int(panel["id"].lt(10).sum())
    assert g["n_dropped"] == rows
    assert res.missing.missing_by_column["x"] == rows
    assert "10 persons excluded for missing `covariates`" in g["message"]


def test_not_a_dataframe():
    with pytest.raises(ArgumentTypeError, match="`data` must be a pandas DataFrame"):
        fit_trajectories([[1, 2]], "id", "time", "y", 2)


def test_too_few_persons():
    df = pd.DataFrame({"id": [1, 1, 1, 2, 2, 2], "time": [0, 1, 2] * 2, "y": [1, 2, 3, 2, 3, 4]})
    with pytest.raises(DataValidationError, match="2 persons cannot support 2 classes"):
        fit_trajectories(df, "id", "time", "y", 2, degree=1)


def test_max_iter_reached_is_flagged(panel):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = fit(panel, family="poisson", max_iter=1, n_starts=2)
    assert any(
        issubclass(w.category, ConvergenceWarning) and "did not converge" in str(w.message)
        for w in rec
    )
    g = res.glance().iloc[0]
    assert not g["converged"] and "did not converge" in g["message"]
    assert (res.starts["status"] == "max_iter").all()
