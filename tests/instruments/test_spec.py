"""Instrument specs: validation (errors name the key), TOML loading, shipped specs."""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataFileNotFoundError, FileFormatError, SpecError
from mutualaid_outcomes.instruments import (
    Band,
    Composite,
    InstrumentSpec,
    Subscale,
    available_specs,
    get_spec,
    load_spec,
    score,
)
from mutualaid_outcomes.instruments.spec import spec_from_dict

# naming convention: spec id -> default item prefix (and item count where fixed)
CONVENTIONS = {
    "aas": ("aas_", 9),
    "aai": ("aai_", None),
    "mmhas": ("mmhas_", None),
    "sos": ("sos_", 12),
    "socrates": ("socrates_", 19),
    "urica": ("urica_", 32),
    "aase_conf": ("aase_conf_", 20),
    "aase_temp": ("aase_temp_", 20),
    "pacs": ("pacs_", 5),
    "cesd": ("cesd_", 20),
    "phq9": ("phq9_", 9),
    "bdi2": ("bdi2_", 21),
    "bis11": ("bis11_", 30),
    "brief_cope": ("brief_cope_", 28),
    "rbb": ("rbb_", None),
    "whoqol_bref": ("whoqol_", 26),
    "induc": ("induc_", 50),
    "drinc": ("drinc_", 50),
    "induc_2r": ("induc_", 50),
    "drinc_2r": ("drinc_", 50),
    "audit": ("audit_", 10),
}


def base(**kw):
    d = dict(
        id="x",
        name="X",
        construct="c",
        items=(1, 2, 3),
        min=0,
        max=3,
        total=Subscale("total", (1, 2, 3)),
    )
    d.update(kw)
    return d


@pytest.mark.parametrize("sid", sorted(CONVENTIONS))
def test_shipped_spec_matches_conventions_and_cites_source(sid):
    spec = get_spec(sid)
    prefix, n = CONVENTIONS[sid]
    assert spec.id == sid
    assert spec.prefix == prefix
    if n is not None:
        assert spec.n_items == n
        assert spec.items == tuple(range(1, n + 1))
    assert len(spec.citation) > 40 and re.search(r"\(?(19|20)\d\d\)?", spec.citation)
    assert spec.notes
    # every scale uses only declared items
    for scale in spec.scales:
        assert set(scale.items) <= set(spec.items)


def test_all_shipped_specs_listed():
    assert set(available_specs()) == set(CONVENTIONS)


def test_shipped_specs_score_a_neutral_row():
    for sid in available_specs():
        spec = get_spec(sid)
        row = {c: spec.item_range(i)[0] for c, i in zip(spec.default_columns(), spec.items)}
        out = score(pd.DataFrame([row]), sid)
        assert out.filter(regex=r"_n_invalid$").iloc[0, 0] == 0
        assert out[[f"{sid}_{s.name}" for s in spec.scales]].notna().all(axis=None), sid


def test_specific_published_facts():
    assert get_spec("cesd").reverse == (4, 8, 12, 16)
    assert get_spec("bis11").reverse == (1, 7, 8, 9, 10, 12, 13, 15, 20, 29, 30)
    assert get_spec("whoqol_bref").reverse == (3, 4, 26)
    assert get_spec("whoqol_bref").max_missing_total == 5
    urica = get_spec("urica")
    scored = sorted(i for s in urica.scales for i in s.items)
    assert sorted(set(range(1, 33)) - set(scored)) == [4, 9, 20, 31]
    for sid in ("drinc", "induc", "drinc_2r", "induc_2r"):
        spec = get_spec(sid)
        assert len(spec.total.items) == 45
        control = next(s for s in spec.subscales if s.name == "control")
        assert control.items == (5, 15, 25, 35, 45)
        assert sorted(spec.total.items + control.items) == list(range(1, 51))
        sizes = {s.name: len(s.items) for s in spec.subscales}
        assert sizes == {
            "physical": 8,
            "interpersonal": 10,
            "intrapersonal": 8,
            "impulse_control": 12,
            "social_responsibility": 7,
            "control": 5,
        }
    cope = get_spec("brief_cope")
    assert len(cope.subscales) == 14 and all(len(s.items) == 2 for s in cope.subscales)
    assert sorted(i for s in cope.subscales for i in s.items) == list(range(1, 29))
    assert get_spec("audit").item_values[9] == (0.0, 2.0, 4.0)


# ---------------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("kw", "pattern"),
    [
        ({"items": ()}, "`items` must list at least one"),
        ({"items": (1, 1, 2)}, r"duplicated item numbers \[1\]"),
        ({"min": 3, "max": 1}, "`min` and `max`"),
        ({"reverse": (4,)}, r"`reverse` names item\(s\) \[4\]"),
        ({"total": Subscale("total", (1, 2, 5))}, r"`total.items` names item\(s\) \[5\]"),
        ({"total": Subscale("total", (1, 2), method="median")}, "`total.method` must be one of"),
        ({"total": Subscale("total", (1, 2), method="mean_times_k")}, "`total.k`"),
        (
            {"total": Subscale("total", (1, 2), method="weighted", weights=(1.0,))},
            "`total.weights` must give one weight per item",
        ),
        ({"total": Subscale("total", (1, 2), max_missing=2)}, r"`total.max_missing` must be"),
        ({"total": None}, "define `total` or at least one"),
        (
            {"composites": (Composite("c", (("nope", 1.0),)),)},
            r"`composites.c.terms` names scale\(s\) \['nope'\]",
        ),
        (
            {"total": Subscale("total", (1, 2), bands=(Band(0, 3, "a"), Band(3, 6, "b")))},
            "`total.bands` must be increasing",
        ),
        ({"max_missing_total": 3}, "`max_missing_total`"),
        ({"item_ranges": {2: (3, 1)}}, "`item_ranges` for item 2"),
    ],
)
def test_invalid_specs_raise_naming_the_key(kw, pattern):
    with pytest.raises(SpecError, match=pattern):
        InstrumentSpec(**base(**kw))


def test_spec_is_frozen_and_replace_revalidates():
    spec = InstrumentSpec(**base())
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.min = 1  # type: ignore[misc]
    with pytest.raises(SpecError, match="reverse"):
        dataclasses.replace(spec, reverse=(9,))


def test_dict_errors_name_keys():
    good = {
        "id": "x",
        "name": "X",
        "construct": "c",
        "items": [1, 2],
        "min": 0,
        "max": 1,
        "total": {"name": "total", "items": [1, 2]},
    }
    assert spec_from_dict(good).n_items == 2
    with pytest.raises(SpecError, match="missing the required key 'max'"):
        spec_from_dict({k: v for k, v in good.items() if k != "max"})
    with pytest.raises(SpecError, match=r"`total` has unknown key\(s\) \['itemz'\]"):
        spec_from_dict(good | {"total": {"name": "total", "itemz": [1]}})
    with pytest.raises(
        SpecError, match=r"`special_codes\[0\].value` must be a number or 'missing'"
    ):
        spec_from_dict(good | {"special_codes": [{"code": 9, "value": "skip"}]})
    with pytest.raises(SpecError, match=r"`subscales\[0\]` needs 'name' and 'items'"):
        spec_from_dict(good | {"subscales": [{"name": "a"}]})


def test_load_spec_from_toml(tmp_path):
    text = """
id = "local4"
name = "Local four-item scale"
construct = "craving"
prefix = "lc"
items = {first = 1, last = 4}
min = 1
max = 5
reverse = [4]
citation = "Local."
special_codes = [{code = 9, value = "missing", label = "refused"}, {code = 8, value = 1}]

[total]
name = "total"
items = [1, 2, 3, 4]
method = "mean"
max_missing = 1
bands = [{lower = 1, upper = 2.99, label = "low"}, {lower = 3, upper = 5, label = "high"}]
"""
    path = tmp_path / "local4.toml"
    path.write_text(text)
    spec = load_spec(path)
    assert spec.items == (1, 2, 3, 4) and spec.reverse == (4,)
    assert spec.special_codes[0].value is None and spec.special_codes[1].value == 1
    df = pd.DataFrame({"lc1": [5, 2], "lc2": [4, 9], "lc3": [3, 2], "lc4": [1, 8]})
    out = score(df, spec)
    # row 0: 5, 4, 3, 6-1=5 -> mean 17/4 = 4.25 (high)
    # row 1: 2, missing, 2, 8 -> 1 -> 6-1 = 5 -> (2+2+5)/3 = 3 (high)
    assert out["local4_total"].tolist() == pytest.approx([4.25, 3.0])
    assert list(out["local4_total_band"]) == ["high", "high"]


def test_load_spec_errors(tmp_path):
    with pytest.raises(DataFileNotFoundError, match="does not exist"):
        load_spec(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("id = \n")
    with pytest.raises(FileFormatError, match="not valid TOML"):
        load_spec(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('id = "w"\nname = "W"\nconstruct = "c"\nitems = [1, 2]\nmin = 0\nmax = 1\n')
    with pytest.raises(SpecError, match="define `total`"):
        load_spec(wrong)


def test_extends_starts_from_a_shipped_spec_and_rejects_unknown_ids():
    five = spec_from_dict({"extends": "pacs", "id": "pacs_local", "max": 5})
    assert (five.id, five.max, five.items) == ("pacs_local", 5, get_spec("pacs").items)
    with pytest.raises(SpecError, match="`extends` 'pacs2' is not a shipped spec"):
        spec_from_dict({"extends": "pacs2", "id": "x"})
    with pytest.raises(SpecError, match="`extends` must be a shipped spec id"):
        spec_from_dict({"extends": 3, "id": "x"})
