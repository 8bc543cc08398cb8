"""Hand-worked examples of each shipped instrument's published scoring rules.

Expected values are computed by hand in the comments (not by calling the engine).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.instruments import score


def one_row(prefix: str, values: list[float]) -> pd.DataFrame:
    return pd.DataFrame([{f"{prefix}{i}": v for i, v in enumerate(values, start=1)}])


# ----------------------------------------------------------------------------------- CES-D
CESD = [1, 0, 2, 3, 0, 1, 1, 2, 0, 1, 2, 0, 1, 1, 0, 3, 1, 2, 0, 1]


def test_cesd_reverse_keying_and_cut_point():
    # non-reversed items: 1+0+2+0+1+1+0+1+2+1+1+0+1+2+0+1 = 14
    # reversed items 4, 8, 12, 16: 3-3=0, 3-2=1, 3-0=3, 3-3=0 -> 4 ; total 18 >= 16
    out = score(one_row("cesd_", CESD), "cesd")
    assert out.loc[0, "cesd_total"] == 18
    assert out.loc[0, "cesd_total_band"] == "at or above cut-off (16)"
    assert out.loc[0, "cesd_total_n"] == 20
    assert not out.loc[0, "cesd_total_prorated"]


def test_cesd_missing_rule_prorates_up_to_four_missing():
    vals = [float(v) for v in CESD]
    for i in (2, 5, 9, 15):  # items answered 0: remaining 16 items still sum to 18
        vals[i - 1] = np.nan
    out = score(one_row("cesd_", vals), "cesd")
    # prorated: 18 / 16 answered * 20 items = 22.5
    assert out.loc[0, "cesd_total"] == pytest.approx(22.5)
    assert out.loc[0, "cesd_total_prorated"]
    assert out.loc[0, "cesd_total_n"] == 16
    vals[0] = np.nan  # five missing: not scored
    out = score(one_row("cesd_", vals), "cesd")
    assert np.isnan(out.loc[0, "cesd_total"])
    assert pd.isna(out.loc[0, "cesd_total_band"])
    assert not out.loc[0, "cesd_total_prorated"]


def test_cesd_missing_none_requires_all_items():
    vals = [float(v) for v in CESD]
    vals[1] = np.nan
    assert np.isnan(score(one_row("cesd_", vals), "cesd", missing="none").loc[0, "cesd_total"])


# ----------------------------------------------------------------------------------- PHQ-9
def test_phq9_total_and_bands():
    # 0+1+2+3+1+0+2+1+0 = 10 -> moderate (10-14)
    out = score(one_row("phq9_", [0, 1, 2, 3, 1, 0, 2, 1, 0]), "phq9")
    assert out.loc[0, "phq9_total"] == 10
    assert out.loc[0, "phq9_total_band"] == "moderate"
    # band edges: totals 4, 5, 15, 20 built from item patterns
    rows = pd.DataFrame(
        [
            {f"phq9_{i}": v for i, v in enumerate([1, 1, 1, 1, 0, 0, 0, 0, 0], 1)},  # 4
            {f"phq9_{i}": v for i, v in enumerate([1, 1, 1, 1, 1, 0, 0, 0, 0], 1)},  # 5
            {f"phq9_{i}": v for i, v in enumerate([3, 3, 3, 3, 3, 0, 0, 0, 0], 1)},  # 15
            {f"phq9_{i}": v for i, v in enumerate([3, 3, 3, 3, 3, 3, 2, 0, 0], 1)},  # 20
        ]
    )
    out = score(rows, "phq9")
    assert out["phq9_total"].tolist() == [4, 5, 15, 20]
    assert list(out["phq9_total_band"]) == ["minimal", "mild", "moderately severe", "severe"]


def test_phq9_missing_options():
    vals = [1.0, 1, 1, 2, 2, np.nan, 0, 0, 0]  # 8 answered, sum 7
    df = one_row("phq9_", vals)
    assert np.isnan(score(df, "phq9").loc[0, "phq9_total"])  # no published rule
    assert score(df, "phq9", missing="available").loc[0, "phq9_total"] == 7
    # prorate: 7 / 8 * 9 = 7.875
    assert score(df, "phq9", missing="prorate").loc[0, "phq9_total"] == pytest.approx(7.875)
    # prorate needs at least ceil(9 / 2) = 5 answered
    five = one_row("phq9_", [1.0, 1, 1, 1, 1, np.nan, np.nan, np.nan, np.nan])
    four = one_row("phq9_", [1.0, 1, 1, 1, np.nan, np.nan, np.nan, np.nan, np.nan])
    assert score(five, "phq9", missing="prorate").loc[0, "phq9_total"] == pytest.approx(9.0)
    assert np.isnan(score(four, "phq9", missing="prorate").loc[0, "phq9_total"])


# ----------------------------------------------------------------------------------- AUDIT
def test_audit_items_9_10_coded_0_2_4_and_zones():
    # 4+3+2+1+0+1+2+3 + 4 + 2 = 22 -> zone IV (20-40)
    out = score(one_row("audit_", [4, 3, 2, 1, 0, 1, 2, 3, 4, 2]), "audit")
    assert out.loc[0, "audit_total"] == 22
    assert out.loc[0, "audit_total_band"] == "zone IV (possible dependence)"
    rows = pd.DataFrame(
        [
            {f"audit_{i}": v for i, v in enumerate([2, 2, 1, 1, 1, 0, 0, 0, 0, 0], 1)},  # 7
            {f"audit_{i}": v for i, v in enumerate([2, 2, 1, 1, 1, 1, 0, 0, 0, 0], 1)},  # 8
            {f"audit_{i}": v for i, v in enumerate([4, 4, 4, 3, 0, 0, 0, 0, 0, 0], 1)},  # 15
            {f"audit_{i}": v for i, v in enumerate([4, 4, 4, 4, 0, 0, 0, 0, 0, 0], 1)},  # 16
            {f"audit_{i}": v for i, v in enumerate([4, 4, 4, 3, 0, 0, 0, 0, 4, 0], 1)},  # 19
        ]
    )
    out = score(rows, "audit")
    assert out["audit_total"].tolist() == [7, 8, 15, 16, 19]
    assert list(out["audit_total_band"]) == [
        "zone I (low risk)",
        "zone II (hazardous)",
        "zone II (hazardous)",
        "zone III (harmful)",
        "zone III (harmful)",
    ]


def test_audit_item_9_rejects_code_3():
    with pytest.raises(
        DataValidationError, match=r"'audit_9' \(item 9, allowed one of \[0\.0, 2\.0, 4\.0\]\)"
    ):
        score(one_row("audit_", [1, 1, 1, 1, 1, 1, 1, 1, 3, 0]), "audit")


# -------------------------------------------------------------------------------- SOCRATES
def test_socrates_subscale_sums():
    vals = [(i % 5) + 1 for i in range(1, 20)]  # 2,3,4,5,1,2,3,4,5,1,2,3,4,5,1,2,3,4,5
    out = score(one_row("socrates_", vals), "socrates")
    # recognition 1,3,7,10,12,15,17: 2+4+3+1+3+1+3 = 17
    assert out.loc[0, "socrates_recognition"] == 17
    # ambivalence 2,6,11,16: 3+2+2+2 = 9
    assert out.loc[0, "socrates_ambivalence"] == 9
    # taking steps 4,5,8,9,13,14,18,19: 5+1+4+5+4+5+4+5 = 33
    assert out.loc[0, "socrates_taking_steps"] == 33


# ----------------------------------------------------------------------------------- URICA
def test_urica_means_and_readiness_ignore_filler_items():
    vals = [0] * 32
    for i in (1, 5, 11, 13, 23, 26, 29):
        vals[i - 1] = 1
    vals[0] = 3  # PC mean = (3 + 6 * 1) / 7 = 9/7
    for i in (2, 8, 12, 15, 19, 21, 24):
        vals[i - 1] = 4  # C mean 4
    for i in (3, 7, 10, 14, 17, 25, 30):
        vals[i - 1] = 5  # A mean 5
    for i in (6, 16, 18, 22, 27, 28, 32):
        vals[i - 1] = 3  # M mean 3
    for i in (4, 9, 20, 31):
        vals[i - 1] = 5  # fillers: not scored
    out = score(one_row("urica_", vals), "urica")
    assert out.loc[0, "urica_precontemplation"] == pytest.approx(9 / 7)
    assert out.loc[0, "urica_contemplation"] == 4
    # readiness = 4 + 5 + 3 - 9/7 = 75/7
    assert out.loc[0, "urica_readiness"] == pytest.approx(75 / 7)
    # a missing filler item does not affect any score
    vals2 = [float(v) for v in vals]
    vals2[3] = np.nan
    out2 = score(one_row("urica_", vals2), "urica")
    assert out2.loc[0, "urica_readiness"] == pytest.approx(75 / 7)


# ----------------------------------------------------------------------------------- BIS-11
def test_bis11_reverse_keys_and_second_order_factors():
    out = score(one_row("bis11_", [1] * 30), "bis11")
    # 11 reverse-keyed items score 1 + 4 - 1 = 4; the other 19 score 1: 19 + 44 = 63
    assert out.loc[0, "bis11_total"] == 63
    assert out.loc[0, "bis11_total_band"] == "below 72"
    # attentional 5,6,9,11,20,24,26,28 with 9, 20 reversed: 6 * 1 + 2 * 4 = 14
    assert out.loc[0, "bis11_attentional"] == 14
    # motor: 10 items at 1 + item 30 reversed (4) = 14
    assert out.loc[0, "bis11_motor"] == 14
    # non-planning: reversed 1,7,8,10,12,13,15,29 (8 x 4) + 14, 18, 27 (3 x 1) = 35
    assert out.loc[0, "bis11_nonplanning"] == 35
    # self-control 1,7,8,12,13 reversed + 14: 5 * 4 + 1 = 21
    assert out.loc[0, "bis11_self_control"] == 21


# ------------------------------------------------------------------------------ Brief COPE
def test_brief_cope_two_item_subscales():
    vals = [((i - 1) % 4) + 1 for i in range(1, 29)]  # 1,2,3,4,1,2,3,4,...
    out = score(one_row("brief_cope_", vals), "brief_cope")
    assert out.loc[0, "brief_cope_self_distraction"] == 1 + 3  # items 1, 19
    assert out.loc[0, "brief_cope_active_coping"] == 2 + 3  # items 2, 7
    assert out.loc[0, "brief_cope_denial"] == 3 + 4  # items 3, 8
    assert out.loc[0, "brief_cope_substance_use"] == 4 + 3  # items 4, 11
    assert out.loc[0, "brief_cope_humor"] == 2 + 4  # items 18, 28
    assert out.loc[0, "brief_cope_religion"] == 2 + 3  # items 22, 27
    assert "brief_cope_total" not in out.columns


# ----------------------------------------------------------------------------- WHOQOL-BREF
def whoqol_row() -> list[float]:
    vals = [3.0] * 26
    # physical 3,4,10,15,16,17,18 = 2,1,4,5,3,4,4 ; reversed 3 -> 4, 4 -> 5
    for i, v in zip((3, 4, 10, 15, 16, 17, 18), (2, 1, 4, 5, 3, 4, 4)):
        vals[i - 1] = v
    vals[26 - 1] = 1  # reversed -> 5
    vals[20 - 1], vals[21 - 1], vals[22 - 1] = 3, np.nan, 5
    return vals


def test_whoqol_domains_transform_and_social_rule():
    out = score(one_row("whoqol_", whoqol_row()), "whoqol_bref")
    # physical: (4+5+4+5+3+4+4)/7 * 4 = 116/7 ; 0-100: (116/7 - 4) * 100/16 = 550/7
    assert out.loc[0, "whoqol_bref_physical"] == pytest.approx(116 / 7)
    assert out.loc[0, "whoqol_bref_physical_100"] == pytest.approx(550 / 7)
    # psychological: 5,6,7,11,19 = 3 and 26 -> 5: (15 + 5)/6 * 4 = 40/3
    assert out.loc[0, "whoqol_bref_psychological"] == pytest.approx(40 / 3)
    # social with item 21 missing (allowed: at most 1): (3 + 5)/2 * 4 = 16 -> 75
    assert out.loc[0, "whoqol_bref_social"] == pytest.approx(16)
    assert out.loc[0, "whoqol_bref_social_100"] == pytest.approx(75)
    assert out.loc[0, "whoqol_bref_social_prorated"]
    # environment: all 3 -> 12 -> (12 - 4) * 6.25 = 50
    assert out.loc[0, "whoqol_bref_environment_100"] == pytest.approx(50)
    assert out.loc[0, "whoqol_bref_overall_qol"] == 3


def test_whoqol_social_domain_needs_two_of_three_items():
    vals = whoqol_row()
    vals[20 - 1] = np.nan  # now 2 of 3 social items missing
    out = score(one_row("whoqol_", vals), "whoqol_bref")
    assert np.isnan(out.loc[0, "whoqol_bref_social"])
    assert np.isnan(out.loc[0, "whoqol_bref_social_100"])
    assert out.loc[0, "whoqol_bref_physical"] == pytest.approx(116 / 7)


def test_whoqol_discards_assessment_with_more_than_20_percent_missing():
    vals = whoqol_row()  # item 21 missing already
    for i in (1, 2, 3, 5, 8):  # one more per domain: six of 26 missing (> 20%)
        vals[i - 1] = np.nan
    out = score(one_row("whoqol_", vals), "whoqol_bref")
    domains = ["physical", "psychological", "social", "environment"]
    assert out[[f"whoqol_bref_{d}" for d in domains]].isna().all(axis=None)
    # five missing is allowed: put item 1 back
    vals[0] = 3.0
    out = score(one_row("whoqol_", vals), "whoqol_bref")
    # physical without item 3: (5+4+5+3+4+4)/6 * 4 = 50/3
    assert out.loc[0, "whoqol_bref_physical"] == pytest.approx(50 / 3)


# -------------------------------------------------------------------------------- AASE
@pytest.mark.parametrize("kind", ["conf", "temp"])
def test_aase_subscale_means(kind):
    vals = [2] * 20
    for i in (3, 6, 14, 16, 18):
        vals[i - 1] = 4
    out = score(one_row(f"aase_{kind}_", vals), f"aase_{kind}")
    assert out.loc[0, f"aase_{kind}_negative_affect"] == 4
    assert out.loc[0, f"aase_{kind}_social_positive"] == 2
    # total = (5 * 4 + 15 * 2) / 20 = 2.5 ; as a sum 50 (0-80 metric)
    assert out.loc[0, f"aase_{kind}_total"] == pytest.approx(2.5)
    assert out.loc[0, f"aase_{kind}_total_sum"] == 50


def test_aase_one_to_five_export_is_rejected_not_silently_shifted():
    # a 1-5 survey export has 5s that are out of the published 0-4 range
    vals = [5] * 20
    with pytest.raises(DataValidationError, match="aase_conf_1"):
        score(one_row("aase_conf_", vals), "aase_conf")


# ----------------------------------------------------------------------- participation
def test_participation_counts():
    # AAS: 1 + 3 (banded meetings) + 1 + 0 + 1 + 0 + 1 + 1 + 0 = 8
    assert score(one_row("aas_", [1, 3, 1, 0, 1, 0, 1, 1, 0]), "aas").loc[0, "aas_total"] == 8
    with pytest.raises(DataValidationError, match=r"'aas_2' \(item 2, allowed 0\.\.5\)"):
        score(one_row("aas_", [1, 6, 1, 0, 1, 0, 1, 1, 0]), "aas")
    # AAI: count of 13 dichotomised items with 7 endorsed
    aai = [1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0]
    assert score(one_row("aai_", aai), "aai").loc[0, "aai_total"] == 7
    # MM-HAS active involvement: 4 of 9 activities
    mm = [1, 1, 0, 0, 1, 0, 0, 1, 0]
    assert score(one_row("mmhas_", mm), "mmhas").loc[0, "mmhas_total"] == 4
    # SOS: 11 * 3 + 5 = 38 (below 40); 10 * 3 + 5 + 5 = 40 (high helping)
    sos = score(
        pd.concat([one_row("sos_", [5] + [3] * 11), one_row("sos_", [5, 5] + [3] * 10)]),
        "sos",
    )
    assert sos["sos_total"].tolist() == [38, 40]
    assert list(sos["sos_total_band"]) == ["below high helping", "high helping"]


def test_pacs_and_rbb():
    assert score(one_row("pacs_", [1, 2, 3, 4, 5]), "pacs").loc[0, "pacs_total"] == 15
    with pytest.raises(DataValidationError, match="pacs_5"):
        score(one_row("pacs_", [1, 2, 3, 4, 7]), "pacs")
    # RBB: item 1 (self-description) not scored; 7 + 6 + 0 + 1 + 2 + 3 = 19
    assert score(one_row("rbb_", [5, 7, 6, 0, 1, 2, 3]), "rbb").loc[0, "rbb_practices"] == 19


def test_bdi2_bands():
    rows = pd.concat(
        [
            one_row("bdi2_", [1] * 13 + [0] * 8),  # 13 minimal
            one_row("bdi2_", [1] * 14 + [0] * 7),  # 14 mild
            one_row("bdi2_", [1] * 21),  # 21 moderate
            one_row("bdi2_", [3] * 10 + [0] * 11),  # 30 severe
        ],
        ignore_index=True,
    )
    out = score(rows, "bdi2")
    assert out["bdi2_total"].tolist() == [13, 14, 21, 30]
    assert list(out["bdi2_total_band"]) == ["minimal", "mild", "moderate", "severe"]


@pytest.mark.parametrize("sid", ["drinc", "induc", "drinc_2r", "induc_2r"])
def test_consequences_total_excludes_control_scale(sid):
    # key as reproduced on the HELP study's scored InDUC data (test_help_reference.py)
    vals = [0] * 50
    for i in (1, 8, 11, 13, 24, 29, 33, 48):  # physical items
        vals[i - 1] = 1
    for i in (5, 15):  # two control items ("I have enjoyed drinking", ...)
        vals[i - 1] = 1
    out = score(one_row("drinc_" if sid.startswith("drinc") else "induc_", vals), sid)
    assert out.loc[0, f"{sid}_physical"] == 8
    assert out.loc[0, f"{sid}_control"] == 2
    assert out.loc[0, f"{sid}_interpersonal"] == 0
    assert out.loc[0, f"{sid}_total"] == 8  # 45 problem items only
