"""reliability() against R psych 2.2.9 (tests/reference/reliability.R -> reliability.csv)."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ColumnNotFoundError,
    DataValidationError,
    EstimationError,
    OptionError,
)
from mutualaid_outcomes.instruments import reliability
from mutualaid_outcomes.instruments.reliability import GLANCE_COLUMNS
from mutualaid_outcomes.results import TIDY_COLUMNS

#: closed-form statistics (alpha, item-total correlations, if-deleted values, Feldt CI)
#: are deterministic functions of the covariance matrix: 1e-6 relative as required.
RTOL = 1e-6
#: omega total rests on a minres factor solution; psych stops its L-BFGS-B search about
#: 1e-6 short of the optimum (largest gap where a uniqueness sits at psych's 0.005 bound,
#: USJudgeRatings), so omega total agrees to 1e-5 relative and loadings to 1e-4 absolute.
OMEGA_RTOL = 1e-5
LOADING_ATOL = 1e-4

DATASETS = {
    "attitude": ("attitude.csv", None),
    "usjudge": ("usjudge.csv", None),
    "bfi_conscientiousness": ("bfi_conscientiousness.csv", ["C4", "C5"]),
}


@pytest.fixture(scope="module")
def fit(test_data):
    """``fit(ds)``: a data set and its reliability() result (computed once)."""

    @functools.cache
    def get(ds):
        fname, rev = DATASETS[ds]
        data = test_data(fname)
        return data, reliability(data, list(data.columns), reverse=rev)

    return get


@pytest.fixture(scope="module")
def ref_value(r_reference):
    """``ref_value(ds, statistic, item)``: one value of tests/reference/reliability.csv."""
    table = r_reference("reliability", keep_default_na=False)

    def get(ds, stat, item=""):
        r = table[(table.dataset == ds) & (table.statistic == stat) & (table.item == item)]
        assert len(r) == 1, (ds, stat, item)
        return float(r.value.iloc[0])

    return get


@pytest.mark.parametrize("ds", list(DATASETS))
def test_scale_statistics_match_psych(ds, fit, ref_value):
    _, res = fit(ds)
    assert res.n == ref_value(ds, "n")
    pairs = {
        "raw_alpha": res.alpha,
        "std_alpha": res.std_alpha,
        "g6_smc": res.g6_smc,
        "average_r": res.average_r,
        "ase": res.alpha_se,
        "mean": res.mean,
        "sd": res.sd,
    }
    for stat, mine in pairs.items():
        assert mine == pytest.approx(ref_value(ds, stat), rel=RTOL), stat
    tidy = res.tidy().set_index("term")
    assert tidy.loc["alpha", "conf_low"] == pytest.approx(ref_value(ds, "feldt_lower"), rel=RTOL)
    assert tidy.loc["alpha", "conf_high"] == pytest.approx(ref_value(ds, "feldt_upper"), rel=RTOL)
    assert tidy.loc["alpha_duhachek", "conf_low"] == pytest.approx(
        ref_value(ds, "duhachek_lower"), rel=RTOL
    )
    assert tidy.loc["alpha_duhachek", "conf_high"] == pytest.approx(
        ref_value(ds, "duhachek_upper"), rel=RTOL
    )
    assert tidy.loc["omega_total", "estimate"] == pytest.approx(
        ref_value(ds, "omega_total"), rel=OMEGA_RTOL
    )


@pytest.mark.parametrize("ds", list(DATASETS))
def test_item_statistics_match_psych(ds, fit, ref_value):
    _, res = fit(ds)
    items = res.item_stats.set_index("item")
    cols = {
        "raw_r": "raw_r",
        "std_r": "std_r",
        "r_cor": "r_cor",
        "r_drop": "r_drop",
        "item_mean": "mean",
        "item_sd": "sd",
        "alpha_if_deleted": "alpha_if_deleted",
        "std_alpha_if_deleted": "std_alpha_if_deleted",
        "g6_if_deleted": "g6_if_deleted",
        "average_r_if_deleted": "average_r_if_deleted",
    }
    for item in items.index:
        for stat, col in cols.items():
            assert items.loc[item, col] == pytest.approx(ref_value(ds, stat, item), rel=RTOL), (
                item,
                stat,
            )
        assert items.loc[item, "loading"] == pytest.approx(
            ref_value(ds, "omega_loading", item), abs=LOADING_ATOL
        )


def test_listwise_deletion_is_reported(fit):
    data, res = fit("bfi_conscientiousness")
    complete = int(data.notna().all(axis=1).sum())
    assert res.n == complete
    g = res.glance()
    assert list(g.columns) == list(GLANCE_COLUMNS)
    assert g.loc[0, "n_dropped"] == len(data) - complete > 0
    assert "excluded for missing values" in res.summary().as_text()


def test_result_contract(fit):
    data, res = fit("attitude")
    t = res.tidy(conf_level=0.9)
    assert list(t.columns)[:7] == list(TIDY_COLUMNS)
    assert t.term.tolist() == [
        "alpha",
        "alpha_duhachek",
        "std_alpha",
        "g6_smc",
        "average_r",
        "omega_total",
    ]
    narrow = t.set_index("term").loc["alpha"]
    wide = res.tidy(conf_level=0.99).set_index("term").loc["alpha"]
    assert wide.conf_low < narrow.conf_low < narrow.estimate < narrow.conf_high < wide.conf_high
    with pytest.raises(OptionError):
        res.tidy(exponentiate=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.alpha = 0.5  # type: ignore[misc]
    assert "<table" in res._repr_html_()


def test_recovers_population_alpha_in_simulation():
    # tau-equivalent items: loading 1, error variance 1, k = 6 -> alpha = omega = 6/7
    rng = np.random.default_rng(2024)
    f = rng.normal(size=20_000)
    df = pd.DataFrame({f"x{j}": f + rng.normal(size=f.size) for j in range(6)})
    res = reliability(df, list(df.columns))
    assert res.alpha == pytest.approx(6 / 7, abs=0.005)
    assert res.omega_total == pytest.approx(6 / 7, abs=0.005)
    lo, hi = res.feldt_ci()
    assert lo < 6 / 7 < hi


def test_bad_input(test_data):
    data = test_data("attitude.csv")
    before = data.copy(deep=True)
    reliability(data, list(data.columns), reverse=["critical"])
    pd.testing.assert_frame_equal(data, before)
    with pytest.raises(DataValidationError, match="at least two columns"):
        reliability(data, ["rating"])
    with pytest.raises(ColumnNotFoundError, match="'ratng'"):
        reliability(data, ["ratng", "learning"])
    with pytest.raises(DataValidationError, match="`reverse` names"):
        reliability(data, ["rating", "learning"], reverse=["raises"])
    bad = data.assign(rating=data.rating.astype(str))
    with pytest.raises(DataValidationError, match="numeric"):
        reliability(bad, ["rating", "learning"])
    flat = data.assign(rating=1.0)
    with pytest.raises(DataValidationError, match="no variance"):
        reliability(flat, ["rating", "learning", "raises"])
    with pytest.raises(EstimationError, match="at least 3 complete rows"):
        reliability(data.head(2), ["rating", "learning"])


# ---- use="pairwise": psych::alpha's default with missing items ----------------------


def _holed_attitude(data: pd.DataFrame) -> pd.DataFrame:
    """attitude with the cells tests/reference/reliability_pairwise.R sets missing."""
    out = data.astype(float)
    i = np.arange(1, len(out) + 1)
    for j, col in enumerate(out.columns, start=1):
        out.loc[(i * 3 + j * 5) % 7 == 0, col] = np.nan
    return out


PAIRWISE = {
    "bfi_conscientiousness": (lambda d: d, ["C4", "C5"]),
    "attitude_holes": (_holed_attitude, None),
}


@pytest.mark.parametrize("ds", list(PAIRWISE))
def test_pairwise_matches_psych_alpha_default(ds, test_data, r_reference):
    table = r_reference("reliability_pairwise", keep_default_na=False, dataset=ds)

    def ref(stat, item=""):
        row = table[(table.statistic == stat) & (table.item == item)]
        assert len(row) == 1, (stat, item)
        return float(row.value.iloc[0])

    make, rev = PAIRWISE[ds]
    fname = "attitude.csv" if ds == "attitude_holes" else "bfi_conscientiousness.csv"
    data = make(test_data(fname))
    res = reliability(data, list(data.columns), reverse=rev, use="pairwise")
    # every row answers some item, so n is psych's n (all rows)
    assert res.n == ref("n") and res.missing_report.n_dropped == 0
    scale = {"raw_alpha": res.alpha, "std_alpha": res.std_alpha, "g6_smc": res.g6_smc,
             "average_r": res.average_r, "ase": res.alpha_se, "mean": res.mean, "sd": res.sd}  # fmt: skip
    for stat, mine in scale.items():
        assert mine == pytest.approx(ref(stat), rel=RTOL), stat
    lo, hi = res.feldt_ci()
    assert (lo, hi) == pytest.approx((ref("feldt_lower"), ref("feldt_upper")), rel=RTOL)
    assert res.omega_total == pytest.approx(ref("omega_total"), rel=OMEGA_RTOL)
    items = res.item_stats.set_index("item")
    cols = {"item_n": "n", "raw_r": "raw_r", "std_r": "std_r", "r_cor": "r_cor",
            "r_drop": "r_drop", "item_mean": "mean", "item_sd": "sd",
            "alpha_if_deleted": "alpha_if_deleted",
            "std_alpha_if_deleted": "std_alpha_if_deleted", "g6_if_deleted": "g6_if_deleted",
            "average_r_if_deleted": "average_r_if_deleted"}  # fmt: skip
    for item in items.index:
        for stat, col in cols.items():
            assert items.loc[item, col] == pytest.approx(ref(stat, item), rel=RTOL), (item, stat)
        assert items.loc[item, "loading"] == pytest.approx(
            ref("omega_loading", item), abs=LOADING_ATOL
        )
    if ds == "attitude_holes":  # every row misses one item: listwise has nothing left
        assert ref("n_complete") == 0
        with pytest.raises(EstimationError):
            reliability(data, list(data.columns))


def test_pairwise_drops_and_reports_unanswered_rows(test_data):
    data = test_data("attitude.csv").astype(float)
    holed = pd.concat([data, pd.DataFrame(np.nan, index=[99], columns=data.columns)])
    before = holed.copy(deep=True)
    res = reliability(holed, list(data.columns), use="pairwise")
    pd.testing.assert_frame_equal(holed, before)
    full = reliability(data, list(data.columns))
    assert res.n == len(data) and res.glance().loc[0, "n_dropped"] == 1
    # without missing cells pairwise = listwise
    assert res.alpha == pytest.approx(full.alpha, rel=1e-12)
    assert res.omega_total == pytest.approx(full.omega_total, rel=1e-10)
    with pytest.raises(OptionError, match="`use` must be one of"):
        reliability(data, list(data.columns), use="complete")
    few = data.copy()
    few.loc[2:, "rating"] = np.nan  # rating answered in 2 rows only
    with pytest.raises(EstimationError, match="rows answering both 'rating' and"):
        reliability(few, list(data.columns), use="pairwise")
