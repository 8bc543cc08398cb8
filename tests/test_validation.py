import inspect

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes._rng import check_rng, seed_of, spawn_rngs
from mutualaid_outcomes._validation import (
    check_binary,
    check_columns,
    check_conf_level,
    check_cov_type,
    check_data_first,
    check_dataframe,
    check_option,
    check_positive_int,
    listwise_delete,
    renamed,
)
from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    EstimationError,
    MutualAidError,
    OptionError,
)


@pytest.fixture
def df():
    return pd.DataFrame({"job_seek": [1.0, 2.0, np.nan], "treat": [0, 1, 1], "y": [1.0, np.nan, 2]})


def test_error_hierarchy():
    assert issubclass(ColumnNotFoundError, KeyError)
    assert issubclass(DataValidationError, ValueError)
    assert issubclass(OptionError, MutualAidError)


def test_check_columns_suggests(df):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'job_seek'"):
        check_columns(df, ["treat", "job_sek"], "mediators")
    with pytest.raises(ColumnNotFoundError, match=r"\['a', 'b'\]"):
        check_columns(df, ["a", "b"], "covariates")
    assert check_columns(df, "treat", "exposure") == ["treat"]


def test_check_columns_rejects_non_strings(df):
    with pytest.raises(ArgumentTypeError, match="covariates"):
        check_columns(df, [1, 2], "covariates")


def test_check_dataframe():
    with pytest.raises(ArgumentTypeError, match="data"):
        check_dataframe([1, 2])
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.raises(DataValidationError, match="duplicated"):
        check_dataframe(dup)
    with pytest.raises(DataValidationError, match="no rows"):
        check_dataframe(pd.DataFrame({"a": []}))


def test_check_option_message():
    with pytest.raises(OptionError, match="`ci` must be one of 'bca', 'percentile'; got 'bc'"):
        check_option("bc", ("bca", "percentile"), "ci")


def test_numeric_checks():
    with pytest.raises(DataValidationError):
        check_conf_level(1.5)
    with pytest.raises(ArgumentTypeError):
        check_conf_level("0.95")
    with pytest.raises(DataValidationError, match="n_boot"):
        check_positive_int(0, "n_boot")
    with pytest.raises(ArgumentTypeError):
        check_positive_int(2.5, "n_boot")


def test_check_binary():
    s = check_binary(pd.Series([0, 1, np.nan], name="event"), "event")
    assert s.dtype == float
    with pytest.raises(DataValidationError, match=r"\[2\]"):
        check_binary(pd.Series([0, 2], name="event"), "event")
    with pytest.raises(DataValidationError, match="non-numeric"):
        check_binary(pd.Series(["yes", "no"], name="event"), "event")


def test_listwise_delete_reports_and_does_not_mutate(df):
    before = df.copy()
    clean, rep = listwise_delete(df, ["job_seek", "y", "treat"])
    pd.testing.assert_frame_equal(df, before)
    assert len(clean) == 1 and rep.n_dropped == 2
    assert rep.missing_by_column == {"job_seek": 1, "y": 1, "treat": 0}
    assert "Used 1 of 3 rows" in rep.describe()
    with pytest.raises(EstimationError, match="No rows"):
        listwise_delete(pd.DataFrame({"a": [np.nan]}), ["a"])


def test_rng_handling():
    g = np.random.default_rng(3)
    assert check_rng(g) is g
    assert check_rng(5).random() == np.random.default_rng(5).random()
    assert seed_of(5) == 5 and seed_of(g) is None
    with pytest.raises(ArgumentTypeError, match="rng"):
        check_rng(np.random.RandomState(1))
    with pytest.raises(ArgumentTypeError):
        check_rng(-1)
    kids = spawn_rngs(check_rng(1), 2)
    assert kids[0].random() != kids[1].random()


def test_renamed_refuses_old_keywords_and_passes_new_ones():
    @renamed(group="by", small_sample="cov_type='bias_reduced'")
    def f(data, by=None, *, cov_type=None):
        """Doc."""
        return data, by, cov_type

    assert f(1, "arm") == (1, "arm", None)
    assert f(1, by="arm", cov_type="model") == (1, "arm", "model")
    with pytest.raises(TypeError, match="f\\(\\) got the keyword `group`, which was renamed `by`"):
        f(1, group="arm")
    with pytest.raises(ArgumentTypeError, match="renamed cov_type='bias_reduced'"):
        f(1, small_sample="mancl_derouen")
    assert f.__doc__ == "Doc." and list(inspect.signature(f).parameters) == [
        "data",
        "by",
        "cov_type",
    ]


def test_check_cov_type_names_the_replacement():
    assert check_cov_type("robust", ("model", "robust")) == "robust"
    with pytest.raises(OptionError, match="`cov_type='naive'` was renamed 'model'"):
        check_cov_type("naive", ("model", "robust"))
    with pytest.raises(OptionError, match="pass `cluster=`"):
        check_cov_type("cluster", ("model", "robust"))
    with pytest.raises(OptionError, match="must be one of 'model', 'robust'; got 'HC9'"):
        check_cov_type("HC9", ("model", "robust"))


def test_check_data_first():
    frame = pd.DataFrame({"y": [1.0]})
    check_data_first(frame, "y ~ 1", "fit")
    with pytest.raises(ArgumentTypeError, match="takes the data first"):
        check_data_first("y ~ 1", frame, "fit")
