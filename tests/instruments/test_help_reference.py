"""Scoring against scores computed independently by a study team: the HELP trial.

``tests/data/help_instruments.csv`` holds the item answers and the study's own scored
totals of the InDUC, the CES-D and SOCRATES for 1,472 interviews of 470 people
(mosaicData::HELPfull; written by ``tests/reference/help_instruments_data.py``). Scores
are integers computed from integers, so agreement must be exact, missingness included.
"""

from __future__ import annotations

import dataclasses
import string

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.instruments import score
from mutualaid_outcomes.instruments.spec import get_spec
from mutualaid_outcomes.participation import code_attendance

INDUC_ITEMS = {i: f"M{i}" for i in range(1, 51)}
CESD_ITEMS = [f"F1{c}" for c in string.ascii_uppercase[:20]]
SOCRATES_ITEMS = [f"R1{c}" for c in string.ascii_uppercase[:19]]

#: the study's variable for each of our scale names
INDUC_SCALES = {
    "physical": "PHYS",
    "interpersonal": "INTER",
    "intrapersonal": "INTRA",
    "impulse_control": "IMPUL",
    "social_responsibility": "SR",
    "total": "INDTOT",
}


@pytest.fixture(scope="module")
def help_data(test_data) -> pd.DataFrame:
    """HELP trial items and the study team's scores (tests/data/help_instruments.csv)."""
    return test_data("help_instruments.csv")


def assert_same(ours: pd.Series, theirs: pd.Series) -> int:
    """Equal values where both are present and the same missing pattern; returns n."""
    ours = ours.astype(float)
    theirs = theirs.astype(float)
    np.testing.assert_array_equal(ours.isna().to_numpy(), theirs.isna().to_numpy())
    both = ours.notna()
    np.testing.assert_array_equal(ours[both].to_numpy(), theirs[both].to_numpy())
    return int(both.sum())


def test_help_file_is_what_the_readme_says(help_data):
    assert help_data.shape == (1472, 106)
    assert help_data["ID"].nunique() == 470
    assert not help_data.duplicated(["ID", "TIME"]).any()
    items = help_data[list(INDUC_ITEMS.values())].stack().dropna()  # pandas 3's stack keeps NaN
    assert set(items.unique()) == {0, 1, 2, 3}


@pytest.mark.parametrize("scale", list(INDUC_SCALES))
def test_induc_key_reproduces_the_study_scores(scale, help_data):
    out = score(help_data, "induc_2r", items=INDUC_ITEMS)
    n = assert_same(out[f"induc_2r_{scale}"], help_data[INDUC_SCALES[scale]])
    assert n >= 1427  # every complete record; 1,427 have all 50 items
    # no proration: every scored value rests on all of the scale's items
    assert not out[f"induc_2r_{scale}_prorated"].any()


def test_induc_total_is_the_five_subscales_and_excludes_the_control_items(help_data):
    out = score(help_data, "induc_2r", items=INDUC_ITEMS)
    subs = out[[f"induc_2r_{s}" for s in INDUC_SCALES if s != "total"]].sum(axis=1, min_count=5)
    assert_same(out["induc_2r_total"], subs)
    control = help_data[[f"M{i}" for i in (5, 15, 25, 35, 45)]].sum(axis=1, min_count=5)
    assert_same(out["induc_2r_control"], control)


def test_user_spec_dropping_items_reproduces_the_study_short_scores(help_data):
    """HELP also scored the scales without item 23 (fights) and 48 (injured)."""
    spec = get_spec("induc_2r")
    drop = {23, 48}

    def without(scale):
        return dataclasses.replace(scale, items=tuple(i for i in scale.items if i not in drop))

    short = dataclasses.replace(
        spec,
        id="induc_short",
        total=without(spec.total),
        subscales=tuple(without(s) for s in spec.subscales),
    )
    out = score(help_data, short, items=INDUC_ITEMS)
    assert_same(out["induc_short_physical"], help_data["PHYS2"])
    assert_same(out["induc_short_impulse_control"], help_data["IMPUL2"])
    assert_same(out["induc_short_total"], help_data["INDTOT2"])


def test_drinc_shares_the_induc_key():
    drinc, induc = get_spec("drinc_2r"), get_spec("induc_2r")
    assert [(s.name, s.items) for s in drinc.scales] == [(s.name, s.items) for s in induc.scales]
    for lifetime in ("drinc", "induc"):
        spec = get_spec(lifetime)
        assert (spec.min, spec.max) == (0, 1)
        assert [(s.name, s.items) for s in spec.scales] == [(s.name, s.items) for s in induc.scales]


def test_lifetime_yes_no_form_rejects_frequency_codes(help_data):
    with pytest.raises(DataValidationError, match=r"M\d+"):
        score(help_data, "induc", items=INDUC_ITEMS)


def test_cesd_complete_records_match_exactly(help_data):
    out = score(help_data, "cesd", items=CESD_ITEMS)
    complete = help_data[CESD_ITEMS].notna().all(axis=1)
    assert complete.sum() == 1439
    np.testing.assert_array_equal(
        out.loc[complete, "cesd_total"].to_numpy(), help_data.loc[complete, "CES_D"].to_numpy()
    )


def test_cesd_missing_items_study_sums_answered_items_we_prorate(help_data):
    """The study totalled the answered items (24 records miss 1-2 items); our default
    prorates, and ``missing='available'`` reproduces the study's rule exactly."""
    published = score(help_data, "cesd", items=CESD_ITEMS)
    available = score(help_data, "cesd", items=CESD_ITEMS, missing="available")
    assert assert_same(available["cesd_total"], help_data["CES_D"]) == 1463
    answered = help_data[CESD_ITEMS].notna().sum(axis=1)
    partial = answered.between(16, 19)
    assert partial.sum() == 24
    expected = help_data.loc[partial, "CES_D"] * 20 / answered[partial]
    np.testing.assert_allclose(published.loc[partial, "cesd_total"], expected, rtol=1e-12)
    assert published.loc[partial, "cesd_total_prorated"].all()


@pytest.mark.parametrize(
    ("scale", "column"),
    [("recognition", "RAW_RE"), ("ambivalence", "RAW_AM"), ("taking_steps", "RAW_TS")],
)
def test_socrates_raw_scores_match(scale, column, help_data):
    out = score(help_data, "socrates", items=SOCRATES_ITEMS)
    complete = help_data[SOCRATES_ITEMS].notna().all(axis=1) & help_data[column].notna()
    assert complete.sum() >= 1456
    np.testing.assert_array_equal(
        out.loc[complete, f"socrates_{scale}"].to_numpy(),
        help_data.loc[complete, column].to_numpy(),
    )


def test_attendance_codes_of_a_real_survey(help_data):
    """E9A: any AA/NA/self-help in 6 months; E9B: how often (1 daily ... 5 once a month)."""
    freq = help_data["E9B"].astype("Float64")
    freq = freq.where(~(help_data["E9A"] == 0), 0)  # skipped follow-up for non-attenders
    data = pd.DataFrame({"freq": freq.astype(float)})
    before = data.copy()
    mapping = {
        0: "never",
        1: "daily",
        2: "2-3 times a week",
        3: "weekly",
        4: "every 2 weeks",
        5: "monthly",
    }
    out = code_attendance(data, "freq", mapping=mapping)
    pd.testing.assert_frame_equal(data, before)
    assert len(out) == len(help_data) and out.index.equals(help_data.index)
    # 11 attenders did not say how often: missing, not dropped and not zero
    unknown = (help_data["E9A"] == 1) & help_data["E9B"].isna()
    assert unknown.sum() == 11
    assert out.loc[unknown, "meetings_per_month"].isna().all()
    assert (out.loc[help_data["E9A"] == 0, "meetings_per_month"] == 0).all()
    counts = out["dose_band"].value_counts()
    assert counts["none"] == (help_data["E9A"] == 0).sum() == 425
    assert int(out["any_attendance"].sum()) == help_data["E9B"].notna().sum() == 1036
