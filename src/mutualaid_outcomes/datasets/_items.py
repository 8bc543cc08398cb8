"""Item-level instruments of the sample cohort: layout, codes, labels and generation.

Items are generated from latent scores with a graded (cumulative logit) response
model: for item ``j`` with loading ``l_j`` and ordered thresholds ``t_jc``,
``P(code >= c) = expit(l_j * z - t_jc)``. Negatively worded items have a negative
loading, so their raw codes fall as the latent rises (before reverse-keying).
Item parameters are fixed constants of the data-generating process (drawn once from
a generator seeded by the instrument name), not part of the cohort's randomness.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

__all__ = ["INSTRUMENTS", "SENTINELS", "Instrument", "generate_items", "item_columns"]

#: Sentinel codes used in the raw item data: 8 = don't know, 9 = refused.
SENTINELS: dict[int, str] = {8: "Don't know", 9: "Refused"}

_YES_NO = {0: "No", 1: "Yes"}
_AASE = {0: "Not at all", 1: "Not very", 2: "Moderately", 3: "Very", 4: "Extremely"}
_SOCRATES = {
    1: "No! Strongly disagree",
    2: "No. Disagree",
    3: "? Undecided or unsure",
    4: "Yes. Agree",
    5: "YES! Strongly agree",
}
_CESD = {
    0: "Rarely or none of the time (less than 1 day)",
    1: "Some or a little of the time (1-2 days)",
    2: "Occasionally or a moderate amount of time (3-4 days)",
    3: "Most or all of the time (5-7 days)",
}
_FIVE = {1: "1 (lowest anchor)", 2: "2", 3: "3", 4: "4", 5: "5 (highest anchor)"}
_PACS = {0: "0 (lowest anchor)", 1: "1", 2: "2", 3: "3", 4: "4", 5: "5", 6: "6 (highest anchor)"}
_AUDIT = {0: "0 (lowest anchor)", 1: "1", 2: "2", 3: "3", 4: "4 (highest anchor)"}
_AUDIT_9_10 = {0: "No", 2: "Yes, but not in the last year", 4: "Yes, during the last year"}
_AAS_2 = {
    0: "None",
    1: "1-5 meetings",
    2: "6-15 meetings",
    3: "16-30 meetings",
    4: "31-60 meetings",
    5: "More than 60 meetings",
}
#: Upper meeting counts of the banded AAS attendance item (aas_2, past 90 days).
AAS_2_BANDS = (0, 5, 15, 30, 60)
_RBB_1 = {1: "Atheist", 2: "Agnostic", 3: "Unsure", 4: "Spiritual", 5: "Religious"}
_RBB_FREQ = {
    0: "Never",
    1: "Rarely",
    2: "Once a month or less",
    3: "About twice a month",
    4: "About once a week",
    5: "Several times a week",
    6: "Once a day",
    7: "More than once a day",
}
_RBB_ITEMS = (
    "Self-description (atheist ... religious)",
    "Past 90 days: thought about God",
    "Past 90 days: prayed",
    "Past 90 days: meditated",
    "Past 90 days: attended worship services",
    "Past 90 days: read or studied scriptures or holy writings",
    "Past 90 days: had direct experiences of God",
)
_AAS_ITEMS = (
    "Considers self a member of AA",
    "AA meetings attended in the past 90 days (banded)",
    "Has an AA sponsor now",
    "Has ever been an AA sponsor",
    "Has had a spiritual awakening",
    "Has celebrated an AA sobriety birthday",
    "Has read AA literature in the past 90 days",
    "Has done AA service in the past 90 days",
    "Has called an AA member for help in the past 90 days",
)


@dataclass(frozen=True)
class Instrument:
    """Layout of one instrument in the sample's wave data."""

    prefix: str
    n_items: int
    codes: tuple[int, ...]
    latent: str
    title: str
    value_labels: dict[int, str]
    negative: tuple[int, ...] = ()
    center: float = 0.0
    loading: tuple[float, float] = (1.3, 2.2)


INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument("aas_", 9, (0, 1), "involvement", "AA Affiliation Scale", _YES_NO, center=0.3),
    Instrument("aai_", 13, (0, 1), "involvement", "AA Involvement", _YES_NO, center=0.6),
    Instrument("sos_", 12, (1, 2, 3, 4, 5), "service", "Service to Others in Sobriety", _FIVE),
    Instrument(
        "socrates_", 19, (1, 2, 3, 4, 5), "motivation", "SOCRATES 8A", _SOCRATES, center=-1.0
    ),
    Instrument(
        "aase_conf_",
        20,
        (0, 1, 2, 3, 4),
        "efficacy",
        "AASE confidence",
        _AASE,
        center=-0.3,
    ),
    Instrument(
        "aase_temp_", 20, (0, 1, 2, 3, 4), "temptation", "AASE temptation", _AASE, center=0.3
    ),
    Instrument("pacs_", 5, tuple(range(7)), "craving", "PACS", _PACS, center=0.5),
    Instrument(
        "cesd_", 20, (0, 1, 2, 3), "depression", "CES-D", _CESD, negative=(4, 8, 12, 16), center=1.0
    ),
    Instrument(
        "whoqol_",
        26,
        (1, 2, 3, 4, 5),
        "quality_of_life",
        "WHOQOL-BREF",
        _FIVE,
        negative=(3, 4, 26),
        center=-0.8,
    ),
    Instrument(
        "rbb_",
        7,
        tuple(range(8)),
        "spirituality",
        "Religious Background and Behaviors",
        _RBB_FREQ,
        center=0.3,
    ),
    Instrument("drinc_", 50, (0, 1), "consequences", "DrInC-2L", _YES_NO, center=0.8),
    Instrument("audit_", 10, (0, 1, 2, 3, 4), "hazardous_drinking", "AUDIT", _AUDIT, center=0.0),
)


def item_columns(inst: Instrument) -> list[str]:
    """Column names of an instrument's items."""
    return [f"{inst.prefix}{j}" for j in range(1, inst.n_items + 1)]


def item_codes(inst: Instrument, item: int) -> tuple[int, ...]:
    """Valid (non-missing) codes of one item."""
    if inst.prefix == "audit_" and item in (9, 10):
        return (0, 2, 4)
    if inst.prefix == "aas_" and item == 2:
        return tuple(range(6))
    if inst.prefix == "rbb_" and item == 1:
        return (1, 2, 3, 4, 5)
    return inst.codes


def item_value_labels(inst: Instrument, item: int) -> dict[int, str]:
    """Value labels of one item (without the sentinel codes)."""
    if inst.prefix == "audit_" and item in (9, 10):
        return dict(_AUDIT_9_10)
    if inst.prefix == "aas_" and item == 2:
        return dict(_AAS_2)
    if inst.prefix == "rbb_" and item == 1:
        return dict(_RBB_1)
    return dict(inst.value_labels)


def item_label(inst: Instrument, item: int) -> str:
    """Variable label of one item."""
    if inst.prefix == "aas_":
        return f"AAS {item}: {_AAS_ITEMS[item - 1]}"
    if inst.prefix == "rbb_":
        return f"RBB {item}: {_RBB_ITEMS[item - 1]}"
    note = " (reverse-keyed)" if item in inst.negative else ""
    return f"{inst.title} item {item}{note}"


def _item_parameters(inst: Instrument) -> tuple[np.ndarray, np.ndarray]:
    """Fixed loadings (items) and thresholds (items x categories - 1)."""
    g = np.random.default_rng(zlib.crc32(inst.prefix.encode()))
    lo, hi = inst.loading
    loading = g.uniform(lo, hi, inst.n_items)
    for j in inst.negative:
        loading[j - 1] = -loading[j - 1]
    k = len(inst.codes)
    # negatively worded items mirror the instrument's response distribution
    difficulty = g.normal(0.0, 0.5, inst.n_items) + inst.center * np.sign(loading)
    if k == 2:
        steps = np.zeros(1)
    else:
        steps = np.linspace(-1.0, 1.0, k - 1) * 0.55 * (k - 1)
    thresholds = difficulty[:, None] + steps[None, :]
    return loading, thresholds


def generate_items(
    inst: Instrument, z: np.ndarray, rng: np.random.Generator, meetings: np.ndarray
) -> np.ndarray:
    """Raw item codes (rows x items, float) generated from latent scores ``z``."""
    loading, thresholds = _item_parameters(inst)
    eps = rng.logistic(0.0, 1.0, (z.shape[0], inst.n_items))
    star = z[:, None] * loading[None, :] + eps
    counts = (star[:, :, None] > thresholds[None, :, :]).sum(axis=2)
    codes = np.asarray(inst.codes, dtype=float)[counts]
    if inst.prefix == "audit_":
        # items 9 and 10 have three response codes 0, 2, 4
        codes[:, 8:10] = 2.0 * (counts[:, 8:10] >= 3) + 2.0 * (counts[:, 8:10] >= 4)
    if inst.prefix == "aas_":
        codes[:, 1] = np.searchsorted(np.asarray(AAS_2_BANDS), meetings, side="left")
    if inst.prefix == "rbb_":
        codes[:, 0] = 1.0 + np.minimum(counts[:, 0] * 5 // 8, 4)
    return codes
