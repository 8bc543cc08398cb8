"""The scoring engine: item resolution, invalid answers, special codes, methods, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    OptionError,
    SpecError,
)
from mutualaid_outcomes.instruments import (
    Band,
    Composite,
    InstrumentSpec,
    SpecialCode,
    Subscale,
    get_spec,
    list_instruments,
    score,
)

PHQ = [0, 1, 2, 3, 1, 0, 2, 1, 0]  # total 10


def phq_frame(n: int = 3, prefix: str = "phq9_") -> pd.DataFrame:
    rows = [{f"{prefix}{i}": v for i, v in enumerate(PHQ, 1)} for _ in range(n)]
    return pd.DataFrame(rows)


def small_spec(**kw) -> InstrumentSpec:
    base = dict(
        id="demo",
        name="Demo",
        construct="demo",
        items=(1, 2, 3, 4),
        min=0,
        max=3,
        total=Subscale("total", (1, 2, 3, 4)),
        prefix="q",
    )
    base.update(kw)
    return InstrumentSpec(**base)


# --------------------------------------------------------------------- item resolution
def test_prefix_list_and_mapping_give_the_same_scores():
    df = phq_frame(prefix="dep")
    by_prefix = score(df, "phq9", items="dep")
    by_list = score(df, "phq9", items=[f"dep{i}" for i in range(1, 10)])
    by_map = score(df, "phq9", items={i: f"dep{i}" for i in range(1, 10)})
    pd.testing.assert_frame_equal(by_prefix, by_list)
    pd.testing.assert_frame_equal(by_prefix, by_map)
    assert (by_prefix["phq9_total"] == 10).all()


def test_mapping_in_any_key_order_maps_items_correctly():
    df = pd.DataFrame({"a": [3], "b": [0], "c": [0], "d": [0]})
    spec = small_spec(reverse=(1,))
    # item 1 is column 'a' (reversed: 3 -> 0), the others 0: total 0
    out = score(df, spec, items={4: "d", 3: "c", 2: "b", 1: "a"})
    assert out.loc[0, "demo_total"] == 0


def test_wrong_number_of_items_in_list():
    df = phq_frame()
    with pytest.raises(DataValidationError, match="lists 8 columns but 'phq9' has 9 items"):
        score(df, "phq9", items=[f"phq9_{i}" for i in range(1, 9)])


def test_too_few_item_columns_for_prefix():
    df = phq_frame().drop(columns="phq9_9")
    with pytest.raises(ColumnNotFoundError, match="phq9_9"):
        score(df, "phq9")


def test_mapping_naming_a_missing_column():
    df = phq_frame()
    mapping = {i: f"phq9_{i}" for i in range(1, 10)}
    mapping[9] = "phq9_nine"
    with pytest.raises(ColumnNotFoundError, match="'phq9_nine'.*Did you mean 'phq9_9'"):
        score(df, "phq9", items=mapping)


def test_mapping_missing_items_or_unknown_keys():
    df = phq_frame()
    with pytest.raises(DataValidationError, match=r"no column for item\(s\) \[9\]"):
        score(df, "phq9", items={i: f"phq9_{i}" for i in range(1, 9)})
    bad = {i: f"phq9_{i}" for i in range(1, 10)} | {10: "phq9_1"}
    with pytest.raises(DataValidationError, match=r"key\(s\) \[10\]"):
        score(df, "phq9", items=bad)


def test_items_of_wrong_type():
    with pytest.raises(ArgumentTypeError, match="`items` must be None"):
        score(phq_frame(), "phq9", items=9)


# --------------------------------------------------------------------- invalid answers
def test_strings_such_as_refused_raise_with_column_position_and_value():
    df = phq_frame(4).astype(object)
    df["name"] = ["Ann", "Bob", "Cy", "Di"]  # other columns never appear in messages
    df.loc[2, "phq9_4"] = "refused"
    with pytest.raises(DataValidationError) as info:
        score(df, "phq9")
    msg = str(info.value)
    assert "'phq9_4'" in msg and "'refused'" in msg and "row position(s) 2" in msg
    assert "Bob" not in msg and "Cy" not in msg


def test_out_of_range_lists_all_offending_columns_and_positions():
    df = phq_frame(5).astype(float)
    df.index = [10, 11, 12, 13, 14]  # positions, not labels, are reported
    df.loc[11, "phq9_1"] = 4
    df.loc[14, "phq9_1"] = -1
    df.loc[12, "phq9_7"] = 1.5  # not a whole number
    with pytest.raises(DataValidationError) as info:
        score(df, "phq9")
    msg = str(info.value)
    assert "'phq9_1' (item 1, allowed 0..3): 2 value(s) 4, -1 at row position(s) 1, 4" in msg
    assert "'phq9_7'" in msg and "1.5" in msg


def test_on_invalid_missing_counts_and_reports():
    df = phq_frame(3).astype(object)
    df.loc[0, "phq9_1"] = "refused"
    df.loc[1, "phq9_2"] = 7
    df.loc[1, "phq9_3"] = 9
    out = score(df, "phq9", on_invalid="missing", missing="available")
    assert out["phq9_n_invalid"].tolist() == [1, 2, 0]
    assert out.attrs["n_invalid"] == 3
    assert out.attrs["invalid_by_column"] == {"phq9_1": 1, "phq9_2": 1, "phq9_3": 1}
    # row 0 loses item 1 (0): sum stays 10 ; row 1 loses items 2 and 3 (1 + 2): 7
    assert out["phq9_total"].tolist() == [10, 7, 10]
    assert out["phq9_total_n"].tolist() == [8, 7, 9]


# ----------------------------------------------------------------------- special codes
def test_special_codes_map_to_missing_or_value():
    spec = small_spec(
        special_codes=(
            SpecialCode(9, None, "refused"),
            SpecialCode(8, 0, "not applicable"),
            SpecialCode("DK", None, "don't know"),
        ),
        total=Subscale("total", (1, 2, 3, 4), max_missing=2),
    )
    df = pd.DataFrame(
        {"q1": [1, 1, 1], "q2": [2, 9, "DK"], "q3": [3, 8, 3], "q4": [0, 0, 0]}, dtype=object
    )
    out = score(df, spec)
    # row 0: 1+2+3+0 = 6 ; row 1: 9 -> missing, 8 -> 0: (1+0+0)/3*4 = 4/3 ; row 2: (1+3+0)/3*4
    assert out["demo_total"].tolist() == pytest.approx([6, 4 / 3, 16 / 3])
    assert out["demo_total_n"].tolist() == [4, 3, 3]
    assert out["demo_n_invalid"].tolist() == [0, 0, 0]


def test_sample_style_sentinels_are_invalid_without_special_codes():
    df = phq_frame(2)
    df.loc[1, "phq9_5"] = 8
    with pytest.raises(DataValidationError, match="phq9_5"):
        score(df, "phq9")
    spec = get_spec("phq9").with_special_codes({8: "missing", 9: "missing"})
    out = score(df, spec, missing="available")
    # row 1 loses item 5 (answer 1): 10 - 1 = 9, with no invalid answers
    assert out["phq9_total"].tolist() == [10, 9]
    assert out["phq9_n_invalid"].tolist() == [0, 0]
    with pytest.raises(SpecError, match="must be a number, None or 'missing'"):
        get_spec("phq9").with_special_codes({8: "skip"})


# ------------------------------------------------------------------------------ methods
def test_weighted_and_mean_times_k_and_composites():
    spec = small_spec(
        total=Subscale(
            "total", (1, 2, 3, 4), method="weighted", weights=(1, 2, 3, 4), max_missing=1
        ),
        subscales=(Subscale("pair", (1, 2), method="mean_times_k", k=10),),
        composites=(Composite("diff", (("total", 1.0), ("pair", -1.0)), offset=1, multiplier=2),),
    )
    df = pd.DataFrame({"q1": [1, 1], "q2": [2, np.nan], "q3": [3, 3], "q4": [0, 0]})
    out = score(df, spec)
    # row 0: 1*1 + 2*2 + 3*3 + 4*0 = 14 ; pair = 1.5 * 10 = 15 ; diff = (14 - 15 + 1) * 2 = 0
    # row 1: answered weights 1+3+4 = 8, sum w x = 1 + 9 = 10 -> 10 / 8 * 10 = 12.5 ;
    #        pair = 1 * 10 (one of two answered, published rule for pair = complete) -> NaN
    assert out.loc[0, "demo_total"] == 14
    assert out.loc[0, "demo_pair"] == 15
    assert out.loc[0, "demo_diff"] == 0
    assert out.loc[1, "demo_total"] == pytest.approx(12.5)
    assert np.isnan(out.loc[1, "demo_pair"]) and np.isnan(out.loc[1, "demo_diff"])


def test_complete_sum_is_exact_so_an_integer_on_a_cut_point_keeps_its_band():
    # 13 answers summing to 15: 13 * (15 / 13) is 14.999999999999998 in floating point,
    # which would fall below a cut-point at 15 if complete sums were computed as m x mean.
    items = tuple(range(1, 14))
    spec = InstrumentSpec(
        id="thirteen",
        name="Thirteen",
        construct="c",
        items=items,
        min=0,
        max=3,
        prefix="s",
        total=Subscale(
            "total", items, max_missing=2, bands=(Band(0, 14, "low"), Band(15, 39, "high"))
        ),
    )
    df = pd.DataFrame([dict(zip([f"s{i}" for i in items], [3] * 5 + [0] * 8))])
    out = score(df, spec)
    assert out.loc[0, "thirteen_total"] == 15.0  # exact, not approximately
    assert out.loc[0, "thirteen_total_band"] == "high"
    assert not out.loc[0, "thirteen_total_prorated"]


# -------------------------------------------------------------------- general behaviour
def test_result_aligned_to_index_and_input_not_mutated():
    df = phq_frame(3).astype(object)
    df.index = ["a", "b", "c"]
    df.loc["b", "phq9_2"] = "refused"
    before = df.copy(deep=True)
    out = score(df, "phq9", on_invalid="missing")
    pd.testing.assert_frame_equal(df, before)
    assert list(out.index) == ["a", "b", "c"]
    assert np.isnan(out.loc["b", "phq9_total"])


def test_unknown_instrument_and_bad_options():
    with pytest.raises(SpecError, match="'phq10' is not a shipped spec; available: .*phq9"):
        score(phq_frame(), "phq10")
    with pytest.raises(OptionError, match="`missing` must be one of"):
        score(phq_frame(), "phq9", missing="mean")
    with pytest.raises(OptionError, match="`on_invalid` must be one of"):
        score(phq_frame(), "phq9", on_invalid="drop")
    with pytest.raises(ArgumentTypeError, match="`data` must be a pandas DataFrame"):
        score(PHQ, "phq9")


def test_empty_frame_gives_empty_result_with_columns():
    out = score(phq_frame(1).iloc[:0], "phq9")
    assert len(out) == 0 and "phq9_total" in out.columns


def test_vectorised_on_many_rows():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, size=(20_000, 20)).astype(float)
    x[rng.random(x.shape) < 0.05] = np.nan
    df = pd.DataFrame(x, columns=[f"cesd_{i}" for i in range(1, 21)])
    out = score(df, "cesd")
    # direct recomputation of the published rule for a few rows
    rev = x.copy()
    rev[:, [3, 7, 11, 15]] = 3 - rev[:, [3, 7, 11, 15]]
    n_ans = (~np.isnan(rev)).sum(axis=1)
    expect = np.where(20 - n_ans <= 4, np.nanmean(rev, axis=1) * 20, np.nan)
    np.testing.assert_allclose(out["cesd_total"].to_numpy(), expect, rtol=1e-12)


def test_list_instruments_table():
    tab = list_instruments()
    assert list(tab.columns) == [
        "id",
        "name",
        "construct",
        "n_items",
        "subscales",
        "range",
        "prefix",
        "citation",
        "fully_verified",
    ]
    assert tab["citation"].str.len().min() > 20
    row = tab.set_index("id").loc["urica"]
    assert row["n_items"] == 32 and "readiness" in row["subscales"]
