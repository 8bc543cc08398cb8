"""The whole-number route of score() against the frozen previous implementation.

Whole-number instruments are summed straight from the frame's columns with missing
answers as a sentinel (instruments/_whole.py). Randomized frames in every column layout
pandas produces (one row-major block, one column-major block, one array per column, the
items inside a wider block, integer, float32 and mixed column types), across chunk
boundaries, with every missing-item rule, uneven item ranges, reverse-keyed items in
several groups and invalid answers of every kind must give exactly the previous frames
and the same errors.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mutualaid_outcomes.errors import DataValidationError
from mutualaid_outcomes.instruments import score
from mutualaid_outcomes.instruments._whole import _block_view, item_arrays, whole_plan, whole_sums
from mutualaid_outcomes.instruments.spec import Band, Composite, InstrumentSpec, Subscale, get_spec

RULES = ("published", "none", "prorate", "available")


def _load_previous():
    name = "previous_scoring"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "reference" / f"{name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
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


ITEMS = tuple(range(1, 15))
UNEVEN = InstrumentSpec(
    id="uneven",
    name="Items with uneven ranges",
    construct="test",
    items=ITEMS,
    min=0,
    max=3,
    item_ranges={2: (1, 5), 5: (1, 5), 9: (0, 6), 13: (2, 4)},
    reverse=(2, 4, 5, 9, 12),
    max_missing_total=6,
    total=Subscale("total", ITEMS, max_missing=3, bands=(Band(0, 9, "low"), Band(10, 60, "high"))),
    subscales=(
        Subscale("a", (1, 2, 3, 4, 5), max_missing=1),
        Subscale("b", (9, 5, 12, 6), method="mean", max_missing=1),
        Subscale("c", (13, 14, 7), method="mean_times_k", k=2.5, max_missing=1),
        Subscale("d", (8, 10, 11), bands=tuple(Band(i, i + 0.5, f"d{i}") for i in range(10))),
    ),
    composites=(Composite("ab", (("a", 1.0), ("b", -2.0)), offset=1.0, multiplier=0.5),),
    prefix="u_",
    citation="Simulated.",
)


def _answers(spec, rng, n, p_missing):
    cols = spec.default_columns()
    x = np.empty((n, len(cols)))
    for j, item in enumerate(spec.items):
        lo, hi = spec.item_range(item)
        x[:, j] = rng.integers(int(lo), int(hi) + 1, n)
    x[rng.random(x.shape) < p_missing] = np.nan
    return x, cols


def _layouts(x, cols, rng):
    """The same answers in the column layouts pandas produces."""
    n = len(x)
    wide = np.column_stack([rng.random(n), x, rng.random(n)])
    within = pd.DataFrame(wide, columns=["before", *cols, "after"]).assign(
        person=np.arange(n), wave="w1"
    )
    per_column = pd.DataFrame(index=range(n))
    for j, c in enumerate(cols):
        per_column = per_column.assign(**{c: x[:, j].copy()})
    rows = pd.DataFrame(np.ascontiguousarray(x), columns=cols)
    return {
        "row-major block": rows,
        "rows reversed": rows.iloc[::-1],
        "every third row": rows.iloc[1::3],
        "column-major block": pd.DataFrame(np.asfortranarray(x), columns=cols),
        "one array per column": per_column,
        "items inside a wider block": within,
    }


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("instrument", ["cesd", "uneven", "phq9"])
def test_layouts_and_rules_identical(instrument, seed):
    spec = UNEVEN if instrument == "uneven" else get_spec(instrument)
    rng = np.random.default_rng(seed)
    n = 8192 * 2 + 37 if seed == 0 else int(rng.integers(1, 3000))
    x, cols = _answers(spec, rng, n, p_missing=float(rng.choice([0.0, 0.05, 0.3])))
    plan = whole_plan(spec)
    for layout, df in _layouts(x, cols, rng).items():
        assert whole_sums(plan, item_arrays(df, cols)) is not None  # the route under test
        for rule in RULES if layout == "one array per column" else ("published", "prorate"):
            assert_same(df, spec, missing=rule)
    lows = np.array([spec.item_range(item)[0] for item in spec.items])
    whole = np.where(np.isnan(x), lows, x)
    ints = pd.DataFrame(whole.astype(np.int64), columns=cols)
    assert_same(ints, spec)
    assert_same(ints.astype(np.int8).assign(**{cols[0]: x[:, 0]}), spec)  # mixed types
    assert_same(pd.DataFrame(x.astype(np.float32), columns=cols), spec, missing="available")


@pytest.mark.parametrize(
    "value", [99.0, -1.0, -1e6, -np.inf, np.inf, 0.5, -0.5, 2.5, 1.0, 5.0], ids=lambda v: f"{v:g}"
)
@pytest.mark.parametrize("layout", ["row-major block", "one array per column"])
def test_invalid_answers_same_errors(value, layout):
    rng = np.random.default_rng(7)
    x, cols = _answers(UNEVEN, rng, 9000, p_missing=0.1)
    x[8500, 12] = value  # item 13 (range 2..4): also 1, 2.5 and 5 are invalid there
    x[3, 1] = value if value not in (1.0, 2.5, 5.0) else 0.0  # item 2 (range 1..5)
    df = _layouts(x, cols, rng)[layout]
    with pytest.raises(DataValidationError) as old:
        previous.score(df, UNEVEN)
    with pytest.raises(DataValidationError) as new:
        score(df, UNEVEN)
    assert str(new.value) == str(old.value)
    out = assert_same(df, UNEVEN, on_invalid="missing")
    assert out.attrs["n_invalid"] == 2


def test_plan_only_for_plain_whole_numbers():
    assert whole_plan(get_spec("cesd")) is not None
    assert whole_plan(get_spec("audit")) is None  # items 9-10 allowed codes 0, 2, 4
    assert whole_plan(get_spec("cesd").with_special_codes({8: "missing"})) is None
    signed = InstrumentSpec(
        id="signed",
        name="Signed",
        construct="test",
        items=(1, 2),
        min=-3,
        max=3,
        total=Subscale("total", (1, 2)),
    )
    assert whole_plan(signed) is None  # a negative minimum: no sentinel below the answers
    huge = InstrumentSpec(
        id="huge",
        name="Huge",
        construct="test",
        items=(1, 2),
        min=0,
        max=2.0**50,
        total=Subscale("total", (1, 2)),
    )
    assert whole_plan(huge) is None  # sums would leave the exact integers
    plan = whole_plan(get_spec("cesd"))
    assert plan.sentinel == 64.0  # the smallest power of two above the largest sum, 60
    assert whole_plan(get_spec("cesd")) is plan  # kept for the (immutable) spec object
    assert whole_plan(huge) is None


def test_block_view_only_over_one_array():
    rng = np.random.default_rng(3)
    x, cols = _answers(get_spec("cesd"), rng, 50, p_missing=0.1)
    layouts = _layouts(x, cols, rng)
    for layout in ("row-major block", "column-major block", "items inside a wider block"):
        view = _block_view(item_arrays(layouts[layout], cols))
        assert view is not None and not view.flags.writeable
        np.testing.assert_array_equal(view, x)
        assert np.shares_memory(view, layouts[layout][cols[0]].to_numpy())
    assert _block_view(item_arrays(layouts["one array per column"], cols)) is None
    shuffled = layouts["row-major block"]
    assert _block_view(item_arrays(shuffled, cols[::2] + cols[1::2])) is None
    assert item_arrays(shuffled.astype({cols[3]: "Float64"}), cols) is None
