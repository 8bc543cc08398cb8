"""survey_design(): construction, domains and bad input."""

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
from mutualaid_outcomes.models.survey import survey_design, survey_mean


@pytest.fixture
def small():
    return pd.DataFrame(
        {
            "stratum": [1, 1, 1, 1, 2, 2, 2, 2],
            "psu": [1, 1, 2, 2, 1, 1, 2, 2],
            "w": [10.0, 10, 12, 12, 8, 8, 9, 9],
            "N": [40, 40, 40, 40, 30, 30, 30, 30],
            "y": [1.0, 2, 3, 4, 5, 6, 7, 8],
        }
    )


def test_structure_and_df(small):
    d = survey_design(small, weights="w", strata="stratum", cluster="psu", nest=True)
    assert (d.n_psu, d.n_strata, d.degf, d.n_rows) == (4, 2, 2, 8)
    assert "stratified (2 strata)" in repr(d)


def test_data_not_modified_or_copied(small):
    before = small.copy()
    d = survey_design(small, weights="w", strata="stratum", cluster="psu", nest=True)
    survey_mean(d.subset(small["y"] > 2), "y")
    pd.testing.assert_frame_equal(small, before)
    assert d.data is small


def test_ids_repeated_across_strata_need_nest(small):
    with pytest.raises(
        DataValidationError,
        match=r"`cluster` ids in column 'psu' repeat across "
        r"strata of 'stratum'.*pass nest=True",
    ):
        survey_design(small, weights="w", strata="stratum", cluster="psu")


@pytest.mark.parametrize("bad,what", [(np.nan, "missing"), (0.0, "> 0"), (-1.0, "> 0")])
def test_bad_weights_name_column_and_rows(small, bad, what):
    df = small.copy()
    df.loc[5, "w"] = bad
    with pytest.raises(
        DataValidationError, match=rf"`weights` column 'w'.*{what}.*rows 5 \(index 5\)"
    ):
        survey_design(df, weights="w", strata="stratum", cluster="psu", nest=True)


def test_missing_cluster_and_strata_values(small):
    df = small.copy()
    df.loc[2, "psu"] = np.nan
    with pytest.raises(DataValidationError, match=r"`cluster` column 'psu' has 1 missing.*rows 2"):
        survey_design(df, weights="w", strata="stratum", cluster="psu", nest=True)
    df = small.copy()
    df.loc[7, "stratum"] = np.nan
    with pytest.raises(DataValidationError, match=r"`strata` column 'stratum' has 1 missing"):
        survey_design(df, weights="w", strata="stratum", cluster="psu", nest=True)


def test_lonely_psu_fail_names_stratum_and_rows(small):
    df = small[~((small.stratum == 2) & (small.psu == 2))]
    with pytest.raises(DataValidationError, match=r"single PSU \(\[2\]\): rows 4, 5.*lonely_psu="):
        survey_design(df, weights="w", strata="stratum", cluster="psu", nest=True)
    d = survey_design(
        df, weights="w", strata="stratum", cluster="psu", nest=True, lonely_psu="remove"
    )
    assert d.n_psu == 3


def test_lonely_psu_option_checked(small):
    with pytest.raises(OptionError, match="`lonely_psu` must be one of 'fail', 'adjust'"):
        survey_design(small, weights="w", cluster="psu", lonely_psu="scale")


def test_fpc_smaller_than_sample(small):
    df = small.assign(N=1.5)  # population sizes of 1.5 PSUs, 2 sampled
    df.loc[:, "N"] = [1.5] * 4 + [30] * 4
    with pytest.raises(
        DataValidationError,
        match=r"`fpc` column 'N' implies a population "
        r"smaller than the sample.*stratum 1 has 2 sampled units",
    ):
        survey_design(df, weights="w", strata="stratum", cluster="psu", nest=True, fpc="N")


def test_fpc_mixing_sizes_and_fractions(small):
    df = small.assign(N=[0.5] * 4 + [30] * 4)
    with pytest.raises(DataValidationError, match="population sizes .* or sampling fractions"):
        survey_design(df, weights="w", strata="stratum", cluster="psu", nest=True, fpc="N")


def test_fpc_varying_within_stratum(small):
    df = small.assign(N=[40, 40, 41, 41, 30, 30, 30, 30])
    with pytest.raises(DataValidationError, match=r"`fpc` column 'N' varies within stratum 1"):
        survey_design(df, weights="w", strata="stratum", cluster="psu", nest=True, fpc="N")


def test_fpc_as_fraction_equals_population_size(small):
    a = survey_design(small, weights="w", strata="stratum", cluster="psu", nest=True, fpc="N")
    frac = small.assign(f=2 / small["N"])
    b = survey_design(frac, weights="w", strata="stratum", cluster="psu", nest=True, fpc="f")
    sa, sb = survey_mean(a, "y").tidy(), survey_mean(b, "y").tidy()
    assert sa.std_error[0] == pytest.approx(sb.std_error[0], rel=1e-12)


def test_census_stratum_adds_no_variance(small):
    # both PSUs of every stratum sampled from populations of 2: variance 0
    d = survey_design(
        small.assign(N=2), weights="w", strata="stratum", cluster="psu", nest=True, fpc="N"
    )
    assert survey_mean(d, "y").tidy().std_error[0] == 0.0


def test_single_psu_design(small):
    with pytest.raises(DataValidationError, match="single primary sampling unit"):
        survey_design(small.assign(one=1), weights="w", cluster="one")


def test_unknown_columns_and_types(small):
    with pytest.raises(ColumnNotFoundError, match="Did you mean 'psu'"):
        survey_design(small, weights="w", cluster="pus")
    with pytest.raises(ArgumentTypeError, match="`data` must be a pandas DataFrame"):
        survey_design(small.to_numpy(), weights="w")
    with pytest.raises(ArgumentTypeError, match="`nest` must be True or False"):
        survey_design(small, weights="w", cluster="psu", nest="yes")


def test_no_weights_warns_equal_probability(small):
    with pytest.warns(DataWarning, match="every row has weight 1"):
        d = survey_design(small, cluster="psu", strata="stratum", nest=True)
    assert np.all(d.weights == 1)


def test_weights_from_fpc_without_weights():
    df = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "N": 12, "y": [1.0, 2, 3, 4, 5, 6]})
    d = survey_design(df, cluster="psu", fpc="N")
    np.testing.assert_allclose(d.weights, 4.0)


class TestSubset:
    def test_subset_keeps_rows_and_psus(self, small):
        d = survey_design(small, weights="w", strata="stratum", cluster="psu", nest=True)
        s = d.subset("y > 2")
        assert s.n_rows == 8 and s.in_domain.sum() == 6
        assert s.degf == 1  # 3 PSUs minus 2 strata among rows in the subset
        assert s.subset(small["y"] < 8).in_domain.sum() == 5

    def test_subset_never_drops_rows_before_variance(self):
        """A PSU without domain members still counts: dropping rows would change the SE."""
        df = pd.DataFrame(
            {
                "stratum": np.repeat([1, 2], 6),
                "psu": np.repeat(np.arange(6), 2),
                "w": np.linspace(1, 3, 12),
                "y": np.arange(12.0) ** 1.5,
            }
        )
        d = survey_design(df, weights="w", strata="stratum", cluster="psu")
        keep = df["psu"] != 0  # the domain has no member in PSU 0
        dom = survey_mean(d.subset(keep), "y").tidy().std_error[0]
        naive = (
            survey_mean(survey_design(df[keep], weights="w", strata="stratum", cluster="psu"), "y")
            .tidy()
            .std_error[0]
        )
        assert dom != pytest.approx(naive, rel=1e-3)
        by = survey_mean(d, "y", by="stratum").tidy()
        sub = survey_mean(d.subset("stratum == 1"), "y").tidy()
        assert by.std_error[0] == pytest.approx(sub.std_error[0], rel=1e-12)

    def test_bad_masks(self, small):
        d = survey_design(small, weights="w", strata="stratum", cluster="psu", nest=True)
        with pytest.raises(DataValidationError, match="selects no rows"):
            d.subset(small["y"] > 100)
        with pytest.raises(DataValidationError, match="one value per row"):
            d.subset(np.array([True, False]))
        with pytest.raises(DataValidationError, match="expression 'nope >' failed"):
            d.subset("nope >")
        with pytest.raises(ArgumentTypeError, match="must be boolean"):
            d.subset(np.arange(8))


def test_multistage_recursion_matches_hand_computation():
    """Two stages with FPC: V = V1 + sum_i (n1/N1) V2_i (Cochran's two-stage formula)."""
    df = pd.DataFrame(
        {
            "psu": [1, 1, 1, 2, 2, 2, 3, 3, 3],
            "ssu": [1, 2, 3, 1, 2, 3, 1, 2, 3],
            "N1": 10,
            "N2": 6,
            "y": [2.0, 4, 3, 8, 7, 9, 5, 5, 6],
        }
    )
    d = survey_design(df, cluster=["psu", "ssu"], fpc=["N1", "N2"])
    w = 10 / 3 * 6 / 3
    t = survey_mean(d, "y")
    total_se = np.sqrt(d.weights.sum() ** 2) * t.tidy().std_error[0]
    z = w * (df.y - df.y.mean())  # influence times N of the mean
    T = z.groupby(df.psu).sum().to_numpy()
    v1 = (1 - 3 / 10) * 3 / 2 * np.sum((T - T.mean()) ** 2)
    v2 = sum(
        (3 / 10) * (1 - 3 / 6) * 3 / 2 * np.sum((g - g.mean()) ** 2) for _, g in z.groupby(df.psu)
    )
    assert total_se == pytest.approx(np.sqrt(v1 + v2), rel=1e-12)
