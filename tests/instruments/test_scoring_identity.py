"""score() returns exactly what the previous column-by-column implementation did.

The previous engine is kept frozen in tests/reference/previous_scoring.py. Every shipped
instrument, every missing-item rule, invalid answers (raised with the same message or set
missing), special codes, mixed column types and a user spec with fractional answers and
weighted, mean and composite scales are compared with ``check_exact=True``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.instruments import list_instruments, score
from mutualaid_outcomes.instruments.spec import Band, Composite, InstrumentSpec, Subscale, get_spec

ROOT = Path(__file__).resolve().parents[2]
RULES = ("published", "none", "prorate", "available")


def _load_previous():
    name = "previous_scoring"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "tests" / "reference" / f"{name}.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


previous = _load_previous()


def assert_same(data, instrument, **kwargs):
    old = previous.score(data, instrument, **kwargs)
    new = score(data, instrument, **kwargs)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert new.attrs == old.attrs
    return new


def random_answers(spec, rng, n=400, p_missing=0.1):
    data = {}
    for item, col in zip(spec.items, spec.default_columns()):
        lo, hi = spec.item_range(item)
        if item in spec.item_values:
            v = rng.choice(np.asarray(spec.item_values[item], dtype=float), n)
        else:
            v = rng.integers(int(lo), int(hi) + 1, n).astype(float)
        v[rng.random(n) < p_missing] = np.nan
        data[col] = v
    return pd.DataFrame(data)


@pytest.mark.parametrize("instrument", list(list_instruments()["id"]))
def test_shipped_instruments_identical(instrument):
    spec = get_spec(instrument)
    rng = np.random.default_rng(sum(map(ord, instrument)))
    df = random_answers(spec, rng)
    for rule in RULES:
        assert_same(df, instrument, missing=rule)
    # the item block as one C-ordered array (the zero-copy route) and reversed columns
    block = pd.DataFrame(np.ascontiguousarray(df.to_numpy()), columns=df.columns)
    assert_same(block, instrument)
    assert_same(df[df.columns[::-1]], instrument)
    # invalid answers: out of range and not whole numbers
    bad = df.copy()
    lo, hi = spec.item_range(spec.items[-1])
    bad.iloc[3, 0] = 99.0
    bad.iloc[7, -1] = lo + 0.5
    out = assert_same(bad, instrument, on_invalid="missing")
    assert out.attrs["n_invalid"] >= 1
    with pytest.raises(DataValidationError) as old:
        previous.score(bad, instrument)
    with pytest.raises(DataValidationError) as new:
        score(bad, instrument)
    assert str(new.value) == str(old.value)


def test_mixed_and_text_columns_identical():
    spec = get_spec("cesd")
    df = random_answers(spec, np.random.default_rng(4))
    mixed = df.assign(cesd_1=df["cesd_1"].fillna(0).astype(int), cesd_2=df["cesd_2"].astype(object))
    mixed.loc[2, "cesd_2"] = "refused"
    mixed.loc[5, "cesd_3"] = np.nan
    assert_same(mixed, "cesd", on_invalid="missing")
    assert_same(df.astype("Float64"), "cesd")
    assert_same(df.iloc[:0], "cesd")
    coded = spec.with_special_codes({8: "missing", 9: 0, "refused": "missing"})
    codes = df.fillna(8.0)
    codes.iloc[::7, 4] = 9.0
    assert_same(codes, coded)
    assert_same(mixed, coded, on_invalid="missing")


def test_fractional_user_spec_identical():
    items = tuple(range(1, 13))
    spec = InstrumentSpec(
        id="vas",
        name="Visual analogue items",
        construct="test",
        items=items,
        min=0,
        max=10,
        reverse=(2, 5, 11),
        integer_codes=False,
        max_missing_total=5,
        total=Subscale(
            "total",
            items,
            max_missing=3,
            bands=(Band(0, 40.5, "low"), Band(40.6, 120, "high")),
        ),
        subscales=(
            Subscale(
                "a",
                (1, 3, 5, 7, 9, 11),
                method="weighted",
                weights=(0.3, 1.7, 2.1, 0.9, 1.1, 0.37),
                max_missing=2,
            ),
            Subscale("b", (12, 2, 4, 6), method="mean", max_missing=1),
            Subscale("c", (8, 10, 12), method="mean_times_k", k=3.3, max_missing=1),
        ),
        composites=(Composite("ab", (("a", 1.3), ("b", -0.7)), offset=0.1, multiplier=2.5),),
        prefix="vas_",
        citation="Simulated.",
    )
    rng = np.random.default_rng(9)
    x = rng.random((3000, 12)) * 10
    x[rng.random(x.shape) < 0.12] = np.nan
    df = pd.DataFrame(x, columns=spec.default_columns())
    for rule in RULES:
        assert_same(df, spec, missing=rule)
    assert_same(pd.DataFrame(x.astype(np.float32), columns=df.columns), spec)
    assert_same(df, spec, items={i: f"vas_{i}" for i in items})
    signed = InstrumentSpec(
        id="signed",
        name="Signed items",
        construct="test",
        items=(1, 2, 3, 4),
        min=-3,
        max=3,
        reverse=(2,),
        total=Subscale("total", (1, 2, 3, 4), max_missing=1),
        citation="Simulated.",
    )
    y = rng.integers(-3, 4, (500, 4)).astype(float)
    y[rng.random(y.shape) < 0.1] = np.nan
    assert_same(pd.DataFrame(y, columns=signed.default_columns()), signed, missing="prorate")
