"""Important People roster indices (hand-computed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import ColumnNotFoundError, DataValidationError, OptionError
from mutualaid_outcomes.instruments import NETWORK_COLUMNS, network_indices


def roster() -> pd.DataFrame:
    # person 1 at month 0: 4 members ; person 1 at month 3: 1 member ; person 2: 2 members
    return pd.DataFrame(
        {
            "id": [1, 1, 1, 1, 1, 2, 2],
            "month": [0, 0, 0, 0, 3, 0, 0],
            "member": [1, 2, 3, 4, 1, 1, 2],
            "relationship": ["spouse", "friend", "friend", "sibling", "spouse", "parent", "friend"],
            "contact_days": [90, 10, 30, 5, 80, 60, 2],
            "drinker_type": [2, 0, 2, 3, 0, 0, 1],
            "stance": [-1, 1, 0, 1, 1, 1, np.nan],
            "in_aa": [0, 1, 0, 0, 1, 1, 0],
        }
    )


def test_long_roster_indices_by_month():
    out = network_indices(roster(), by="month")
    assert list(out.columns) == ["id", "month", *NETWORK_COLUMNS]
    p1 = out[(out.id == 1) & (out.month == 0)].iloc[0]
    assert p1.network_size == 4
    assert p1.n_heavy == 2 and p1.pct_heavy == pytest.approx(50.0)
    assert p1.n_abstainers == 1 and p1.pct_abstainers == pytest.approx(25.0)
    assert p1.n_drinker_unknown == 1
    assert p1.n_aa == 1 and p1.pct_aa == pytest.approx(25.0)
    assert p1.n_support_drinking == 1 and p1.pct_support_drinking == pytest.approx(25.0)
    assert p1.n_support_abstinence == 2 and p1.pct_support_abstinence == pytest.approx(50.0)
    # mean stance (-1 + 1 + 0 + 1) / 4 = 0.25
    assert p1.mean_stance == pytest.approx(0.25)
    p2 = out[out.id == 2].iloc[0]
    # stance known for one member only: mean over known = 1 ; pct over size 2 = 50
    assert p2.network_size == 2 and p2.mean_stance == 1 and p2.pct_support_abstinence == 50


def test_wide_roster_matches_long():
    long = roster()
    long = long[long.month == 0]
    wide = long.pivot(index="id", columns="member", values=["drinker_type", "stance", "in_aa"])
    wide.columns = [f"{a}_{b}" for a, b in wide.columns]
    wide = wide.reset_index()
    out_w = network_indices(wide, layout="wide")
    out_l = network_indices(long.drop(columns="month"))
    pd.testing.assert_frame_equal(out_w, out_l, check_dtype=False)


def test_wide_roster_empty_network_and_custom_names():
    wide = pd.DataFrame(
        {"pid": [1, 2], "dt_1": [2, np.nan], "st_1": [-1, np.nan], "aa_1": [0, np.nan]}
    )
    out = network_indices(wide, id="pid", drinker_type="dt", stance="st", in_aa="aa", layout="wide")
    assert out["network_size"].tolist() == [1, 0]
    assert out.loc[1, ["pct_heavy", "mean_stance"]].isna().all()
    assert out.loc[0, "pct_support_drinking"] == 100


def test_bad_codes_duplicates_and_columns():
    r = roster()
    r.loc[2, "drinker_type"] = 5
    with pytest.raises(
        DataValidationError, match=r"'drinker_type' must hold codes \[0, 1, 2, 3\].*position\(s\) 2"
    ):
        network_indices(r, by="month")
    r = roster()
    r["stance"] = r["stance"].astype(object)
    r.loc[1, "stance"] = "supportive"
    with pytest.raises(DataValidationError, match="'supportive'"):
        network_indices(r, by="month")
    with pytest.raises(DataValidationError, match=r"duplicated \(id, member\)"):
        network_indices(roster())  # months not given: member numbers repeat
    with pytest.raises(ColumnNotFoundError, match="in_aa"):
        network_indices(roster().drop(columns="in_aa"), by="month")
    with pytest.raises(ColumnNotFoundError, match="no wide columns named 'in_aa_1'"):
        network_indices(
            pd.DataFrame({"id": [1], "drinker_type_1": [0], "stance_1": [0]}), layout="wide"
        )
    with pytest.raises(OptionError, match="`layout`"):
        network_indices(roster(), layout="tall")


def test_roster_not_mutated():
    r = roster()
    before = r.copy(deep=True)
    network_indices(r, by="month")
    pd.testing.assert_frame_equal(r, before)
