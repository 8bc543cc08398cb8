"""The scoring engine: one pure function applying an :class:`InstrumentSpec` to item data.

Examples
--------
>>> import pandas as pd
>>> from mutualaid_outcomes.instruments import score
>>> df = pd.DataFrame({f"phq9_{i}": [1, 3] for i in range(1, 10)})
>>> out = score(df, "phq9")
>>> out[["phq9_total", "phq9_total_band"]]
   phq9_total phq9_total_band
0         9.0            mild
1        27.0          severe
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, cast

import numpy as np
import pandas as pd

from .._validation import check_columns, check_dataframe, check_option
from ..errors import ArgumentTypeError, DataValidationError
from ._items import ScaleSums, invalid_mask, item_matrix, scan_items, sums_exact
from ._scales import Subscale
from ._whole import item_arrays, whole_plan, whole_sums
from .spec import Band, InstrumentSpec, available_specs, get_spec

__all__ = ["score", "list_instruments", "resolve_item_columns"]

MissingRule = Literal["published", "none", "prorate", "available"]
OnInvalid = Literal["raise", "missing"]
_MISSING = ("published", "none", "prorate", "available")
_ON_INVALID = ("raise", "missing")
_MAX_SHOWN = 10
_FEW_BANDS = 8  # up to this many bands, one comparison per band beats a binary search


def resolve_item_columns(
    spec: InstrumentSpec,
    data: pd.DataFrame,
    items: str | Sequence[str] | Mapping[int, str] | None = None,
) -> list[str]:
    """Map the spec's items (in spec order) to columns of ``data``.

    Parameters
    ----------
    spec : InstrumentSpec
        The instrument.
    data : pandas.DataFrame
        The item data.
    items : str, sequence of str, mapping or None
        ``None`` uses the spec's default prefix; a string is a prefix (columns
        ``{prefix}{item number}``); a list gives one column per item in spec order;
        a mapping gives ``{spec item number: column}`` for every item.

    Returns
    -------
    list of str
        One column per spec item, in spec order.

    Raises
    ------
    DataValidationError
        If a list has the wrong number of columns or a mapping does not cover the items.
    ColumnNotFoundError
        If a named column is not in ``data``.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.instruments.spec import get_spec
    >>> df = pd.DataFrame({f"q{i}": [0] for i in range(1, 10)})
    >>> resolve_item_columns(get_spec("phq9"), df, "q")[:3]
    ['q1', 'q2', 'q3']
    """
    if items is None or isinstance(items, str):
        cols = spec.default_columns(items)
        return check_columns(data, cols, "items")
    if isinstance(items, Mapping):
        keys = list(items)
        bad_keys = [k for k in keys if k not in set(spec.items)]
        if bad_keys:
            raise DataValidationError(
                f"`items` mapping has key(s) {bad_keys} that are not item numbers of "
                f"'{spec.id}' (items {min(spec.items)}..{max(spec.items)})."
            )
        absent = [i for i in spec.items if i not in items]
        if absent:
            raise DataValidationError(
                f"`items` mapping must give a column for every item of '{spec.id}' "
                f"({spec.n_items} items); no column for item(s) {absent}."
            )
        cols = [items[i] for i in spec.items]
        bad = [c for c in cols if not isinstance(c, str)]
        if bad:
            raise ArgumentTypeError(f"`items` mapping values must be column names; got {bad!r}.")
        return check_columns(data, cols, "items")
    if isinstance(items, (list, tuple, pd.Index, np.ndarray)):
        cols = list(items)
        if len(cols) != spec.n_items:
            raise DataValidationError(
                f"`items` lists {len(cols)} columns but '{spec.id}' has {spec.n_items} items; "
                "give one column per item in spec order (or a mapping {item number: column})."
            )
        if len(set(cols)) != len(cols):
            raise DataValidationError("`items` lists a column more than once.")
        return check_columns(data, cols, "items")
    raise ArgumentTypeError(
        "`items` must be None, a prefix string, a list of columns or a mapping "
        f"{{item number: column}}; got {type(items).__name__}."
    )


def _show(value: object) -> str:
    """Readable form of an offending answer (4.0 -> '4', 'refused' -> "'refused'")."""
    if hasattr(value, "item"):
        value = value.item()  # numpy scalar -> Python
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def _invalid_message(
    spec: InstrumentSpec, cols: list[str], data: pd.DataFrame, bad: np.ndarray
) -> str:
    parts = []
    for j in np.flatnonzero(bad.any(axis=0)):
        rows = np.flatnonzero(bad[:, j])
        raw = data[cols[j]].iloc[rows]
        vals = list(dict.fromkeys(_show(v) for v in raw))
        lo, hi = spec.item_range(spec.items[j])
        allowed = (
            f"one of {list(spec.item_values[spec.items[j]])}"
            if spec.items[j] in spec.item_values
            else f"{lo:g}..{hi:g}"
        )
        pos = ", ".join(str(int(r)) for r in rows[:_MAX_SHOWN])
        more = f" (+{len(rows) - _MAX_SHOWN} more)" if len(rows) > _MAX_SHOWN else ""
        parts.append(
            f"'{cols[j]}' (item {spec.items[j]}, allowed {allowed}): {len(rows)} value(s) "
            f"{', '.join(vals[:_MAX_SHOWN])} at row position(s) {pos}{more}"
        )
    return (
        f"Invalid answers for '{spec.id}' (out of range, not an allowed code, or non-numeric): "
        + "; ".join(parts)
        + ". Recode them, declare them as special codes in the spec, or pass "
        "on_invalid='missing' to treat them as missing (they are then counted)."
    )


def _band_labels(scores: np.ndarray, bands: Sequence[Band]) -> pd.Categorical:
    """Band of each score: ``[lower_i, lower_{i+1})``, the last closed; NaN and out of range -1.

    With a few bands the band number is the count of later lower bounds reached (one
    comparison per band, cheaper than a binary search per score); the codes are valid
    by construction.
    """
    labels = [b.label for b in bands]
    ok = scores >= bands[0].lower  # False for NaN
    ok &= scores <= bands[-1].upper
    idx: np.ndarray
    if len(bands) <= _FEW_BANDS:
        idx = np.zeros(len(scores), dtype=np.int8)
        for b in bands[1:]:
            idx += scores >= b.lower
    else:
        lowers = np.array([b.lower for b in bands])
        idx = np.searchsorted(lowers, scores, side="right") - 1
    codes = np.where(ok, idx, -1)
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True, validate=False)


def _allowed_missing(sc: Subscale, missing: str, m: int) -> int:
    """How many of the scale's ``m`` items may be missing under the ``missing`` rule."""
    if missing == "published":
        return sc.max_missing if sc.max_missing is not None else 0
    if missing == "none":
        return 0
    if missing == "prorate":
        return m - int(np.ceil(m / 2))
    return m - 1  # available


def _scale_values(sc: Subscale, sums: ScaleSums, answered: np.ndarray, missing: str) -> np.ndarray:
    """The scale's score of every row from its item sums, before the missing-item rules."""
    m = len(sc.items)
    plain = sums.plain
    with np.errstate(invalid="ignore", divide="ignore"):
        complete = answered == m
        mean = plain / answered
        if sc.method == "sum":
            # complete rows keep the exact sum (m * mean can be off by an ulp and
            # move an integer score across a cut-point)
            prorated = plain if missing == "available" else mean * m
            return np.where(complete, plain, prorated)
        if sc.method == "mean":
            return mean
        if sc.method == "mean_times_k":
            return mean * float(cast(float, sc.k))  # validated with the spec
        # weighted
        w = np.asarray(sc.weights, dtype=float)
        wx = cast(np.ndarray, sums.weighted)
        if missing == "available":
            return wx
        return np.where(complete, wx, wx / cast(np.ndarray, sums.weight_answered) * w.sum())


def _item_sums(
    spec: InstrumentSpec, data: pd.DataFrame, cols: list[str], on_invalid: str
) -> tuple[dict[str, ScaleSums], np.ndarray, np.ndarray | None]:
    """Each scale's sums, missing items per row and the invalid-answer mask (or None).

    Whole-number instruments are summed straight from the frame's columns
    (:func:`~._whole.whole_sums`); any other spec, column type or an invalid answer takes
    the item-block route, which names invalid answers or sets them missing.
    """
    plan = whole_plan(spec)
    arrays = item_arrays(data, cols) if plan is not None else None
    if plan is not None and arrays is not None:
        found = whole_sums(plan, arrays)
        if found is not None:
            return found[0], found[1], None
    values, nonnum = item_matrix(spec, data, cols)
    if not sums_exact(spec):
        values = np.asfortranarray(values)  # sums add the items in order, column by column
    with np.errstate(invalid="ignore"):  # an infinite answer: NaN sums, then named below
        sums, n_missing, invalid = scan_items(spec, values)
    bad = None
    if nonnum is not None or invalid:
        bad = invalid_mask(spec, values) if nonnum is None else nonnum | invalid_mask(spec, values)
    if bad is not None and bad.any():
        if on_invalid == "raise":
            raise DataValidationError(_invalid_message(spec, cols, data, bad))
        sums, n_missing, _ = scan_items(spec, np.where(bad, np.nan, values))
    return sums, n_missing, bad


def score(
    data: pd.DataFrame,
    instrument: str | InstrumentSpec,
    items: str | Sequence[str] | Mapping[int, str] | None = None,
    *,
    missing: MissingRule = "published",
    on_invalid: OnInvalid = "raise",
) -> pd.DataFrame:
    """Score an instrument from item-level data.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per questionnaire (person x wave). Not modified.
    instrument : str or InstrumentSpec
        A shipped spec id (see :func:`list_instruments`) or a user spec.
    items : str, sequence of str, mapping or None
        Where the items are: ``None`` uses the spec's default prefix, a string is
        another prefix (``{prefix}{item}``), a list names one column per item in spec
        order, a mapping gives ``{spec item number: column}``.
    missing : {'published', 'none', 'prorate', 'available'}
        Missing-item rule. ``'published'``: the spec's rule per scale (``max_missing``;
        scales without a published rule need every item) and the instrument-level rule
        (``max_missing_total``). ``'none'``: any missing item makes the scale missing.
        ``'prorate'``: score when at least half of the scale's items are answered.
        ``'available'``: score from whatever items are answered (at least one), with
        no proration of sums.
    on_invalid : {'raise', 'missing'}
        Out-of-range, not-allowed or non-numeric answers raise
        :class:`~mutualaid_outcomes.errors.DataValidationError` (listing columns, row
        positions and the offending values), or with ``'missing'`` are set to missing
        and counted in the column ``{id}_n_invalid`` and in ``result.attrs``.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``. For each scale ``s`` (total, subscales): ``{id}_{s}``
        (float), ``{id}_{s}_n`` (items answered), ``{id}_{s}_prorated`` (True when the
        score rests on fewer than all of the scale's items), and ``{id}_{s}_band``
        (ordered categorical) where the spec has cut-points. Composites give
        ``{id}_{name}`` (and a band). ``{id}_n_invalid`` counts answers set to missing
        by ``on_invalid='missing'``. ``attrs`` holds ``instrument``, ``missing``,
        ``n_invalid`` and ``invalid_by_column``.

    Raises
    ------
    DataValidationError
        Invalid answers (with ``on_invalid='raise'``) or a list/mapping of the wrong size.
    ColumnNotFoundError
        A named or derived item column is not in ``data``.
    SpecError
        An unknown instrument id.
    OptionError
        An unknown ``missing`` or ``on_invalid`` option.

    Notes
    -----
    Special codes are mapped first, then answers are validated, then reverse-keyed items
    are recoded ``item_min + item_max - x``. For a scale with ``m`` items of which
    ``a`` are answered and at most the allowed number missing:

    * ``sum``: the plain sum when every item is answered (computed exactly, so an
      integer score on a cut-point keeps its band), else ``m * mean(answered)`` (the
      prorated sum; with ``missing='available'`` the plain sum of answered items);
    * ``mean``: ``mean(answered)``; ``mean_times_k``: ``k * mean(answered)``;
    * ``weighted``: ``sum(w) * sum(w x) / sum(w answered)`` (plain ``sum(w x)`` with
      ``'available'``).

    Composites are ``(sum_j c_j * scale_j + offset) * multiplier``. Bands are applied
    as half-open intervals ``[lower_i, lower_{i+1})`` (the last closed at its upper
    bound), so prorated non-integer scores fall into a band. Computation is vectorised
    over rows: the items are read once, in cache-sized row chunks, to check the
    answers, key the items and add up every scale, and the answer-by-answer check
    that names invalid answers runs only when there are some. Whole-number answers
    ``lo..hi`` with ``lo >= 0`` are read from the frame's own columns without a copy,
    a missing answer counting as a power-of-two sentinel below every sum, so that one
    matrix product per chunk gives each scale's sum and its missing items exactly.
    Sums of whole-number answers are exact in any order; other sums add the items in
    item order.

    Examples
    --------
    CES-D with reverse-keyed items 4, 8, 12, 16 (an answer of 2 scores 3 - 2 = 1) and
    one missing answer, prorated to 20 x mean = 20 x 1:

    >>> import numpy as np, pandas as pd
    >>> row = {f"cesd_{i}": 2 if i in (4, 8, 12, 16) else 1 for i in range(1, 21)}
    >>> row["cesd_20"] = np.nan
    >>> out = score(pd.DataFrame([row]), "cesd")
    >>> out[["cesd_total", "cesd_total_n", "cesd_total_prorated"]]
       cesd_total  cesd_total_n  cesd_total_prorated
    0        20.0            19                 True

    Columns under other names, given as a mapping:

    >>> df = pd.DataFrame({"craving_q1": [2], "craving_q2": [3], "craving_q3": [1],
    ...                    "craving_q4": [0], "craving_q5": [4]})
    >>> score(df, "pacs", items={i: f"craving_q{i}" for i in range(1, 6)})["pacs_total"]
    0    10.0
    Name: pacs_total, dtype: float64
    """
    spec = get_spec(instrument)
    data = check_dataframe(data, "data", allow_empty=True)
    check_option(missing, _MISSING, "missing")
    check_option(on_invalid, _ON_INVALID, "on_invalid")
    cols = resolve_item_columns(spec, data, items)

    sums, n_missing, bad = _item_sums(spec, data, cols, on_invalid)
    n_rows = len(data)
    instrument_ok = np.ones(n_rows, dtype=bool)
    if missing == "published" and spec.max_missing_total is not None:
        instrument_ok = n_missing <= spec.max_missing_total

    out: dict[str, object] = {}
    scale_scores: dict[str, np.ndarray] = {}
    for sc in spec.scales:
        m = len(sc.items)
        answered = m - sums[sc.name].n_missing
        allowed = _allowed_missing(sc, missing, m)
        ok = instrument_ok & (answered >= 1) & ((m - answered) <= allowed)
        s = np.where(ok, _scale_values(sc, sums[sc.name], answered, missing), np.nan)
        name = f"{spec.id}_{sc.name}"
        scale_scores[sc.name] = s
        out[name] = s
        out[f"{name}_n"] = answered
        out[f"{name}_prorated"] = ok & (answered < m)
        if sc.bands:
            out[f"{name}_band"] = _band_labels(s, sc.bands)
    for comp in spec.composites:
        total = np.zeros(n_rows)
        for term, coef in comp.terms:
            total = total + coef * scale_scores[term]
        s = (total + comp.offset) * comp.multiplier
        scale_scores[comp.name] = s
        name = f"{spec.id}_{comp.name}"
        out[name] = s
        if comp.bands:
            out[f"{name}_band"] = _band_labels(s, comp.bands)
    if bad is None or not bad.any():
        out[f"{spec.id}_n_invalid"] = np.zeros(n_rows, dtype=np.int64)
        by_column = np.zeros(len(cols), dtype=np.int64)
    else:
        out[f"{spec.id}_n_invalid"] = bad.sum(axis=1).astype(np.int64)
        by_column = bad.sum(axis=0)
    result = pd.DataFrame(out, index=data.index)
    result.attrs = {
        "instrument": spec.id,
        "missing": missing,
        "on_invalid": on_invalid,
        "n_invalid": int(by_column.sum()),
        "invalid_by_column": {cols[j]: int(by_column[j]) for j in np.flatnonzero(by_column)},
    }
    return result


def list_instruments() -> pd.DataFrame:
    """The shipped instruments with their item counts, scales, ranges and citations.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, name, construct, n_items, subscales, range, prefix, citation,
        fully_verified`` (False when the spec lists details that could not be checked
        against a public copy of its source; see the spec's ``unverified`` and ``notes``).

    Examples
    --------
    >>> tab = list_instruments()
    >>> int(tab.set_index("id").loc["audit", "n_items"])
    10
    """
    rows = []
    for sid in available_specs():
        s = get_spec(sid)
        rows.append(
            {
                "id": s.id,
                "name": s.name,
                "construct": s.construct,
                "n_items": s.n_items,
                "subscales": ", ".join(s.scale_names),
                "range": f"{s.min:g}-{s.max:g}",
                "prefix": s.prefix,
                "citation": s.citation,
                "fully_verified": not s.unverified,
            }
        )
    return pd.DataFrame(rows)
