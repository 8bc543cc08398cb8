"""Locating an interaction among a model's terms; moderator values; J-N root algebra.

Internals of :mod:`.simple_slopes`. A fitted result is read only through the coefficient
protocol (``terms``, ``coef()``, ``vcov()``) and, where it keeps them, the rows the model
used (``_data``, kept by regression and GEE results).
"""

from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import close_matches
from ...errors import ArgumentTypeError, DataValidationError, DataWarning


# -- locating the interaction ----------------------------------------------------------
@dataclass(frozen=True)
class Interaction:
    """Where the focal effect and its interaction sit among the model's terms."""

    focal: str
    moderator: str
    kind: str  # "continuous", "binary" or "categorical"
    product: dict[str, str]  # continuous/binary: {"": term}; categorical: {level: term}
    column: str  # the data column behind the moderator
    frame: pd.Series | None  # moderator values of the rows the model used
    reference: str | None = None  # reference level of a categorical moderator


def model_rows(result: Any, column: str) -> pd.Series | None:
    """The moderator column of the rows the model used, if the result keeps them."""
    frame = getattr(result, "_data", None)
    if isinstance(frame, pd.DataFrame) and column in frame.columns:
        return frame[column]
    return None


def _split_product(term: str) -> list[str]:
    """Split ``'a:b[T.x]'`` at colons outside brackets and parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in term:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == ":" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    return [*parts, cur]


def _level_of(part: str, moderator: str) -> str | None:
    """The level in ``'W[T.level]'`` or ``'C(W)[T.level]'``; None if another variable."""
    name = re.escape(moderator)
    m = re.fullmatch(rf"(?:{name}|C\(\s*{name}\s*\))\[T\.(.*)\]", part)
    return m.group(1) if m else None


def _check_name(value: Any, argument: str) -> str:
    if not isinstance(value, str) or not value:
        raise ArgumentTypeError(
            f"`{argument}` must be a column name (a non-empty str); got {value!r}."
        )
    return value


def locate(result: Any, focal: Any, moderator: Any) -> Interaction:
    """Find ``focal`` and its product term(s) with ``moderator`` among ``result.terms``.

    A product ``focal:W`` or ``W:focal`` makes a continuous (or, with two observed
    values, binary) moderator; products with ``W[T.level]`` or ``C(W)[T.level]`` a
    categorical one. Raises on names not in the model, a missing product or a moderator
    equal to the focal predictor; warns when ``focal`` enters further products.
    """
    focal = _check_name(focal, "focal")
    moderator = _check_name(moderator, "moderator")
    terms = tuple(result.terms)
    if focal == moderator:
        raise DataValidationError(
            f"`moderator` is identical to `focal` ('{focal}'); the moderator must be a "
            "different variable that interacts with the focal predictor."
        )
    if focal not in terms:
        hint = close_matches(focal, terms)
        raise DataValidationError(
            f"`focal` '{focal}' is not a coefficient of the model; the focal predictor must "
            f"be a single numeric term. Terms: {list(terms)}"
            + (f"; did you mean {hint}?" if hint else ".")
        )
    column = re.sub(r"^C\(\s*(\w+)\s*\)$", r"\1", moderator)
    split = {t: _split_product(t) for t in terms}
    in_model = any(
        p == moderator or _level_of(p, moderator) is not None for ps in split.values() for p in ps
    )
    if not in_model:
        hint = close_matches(moderator, terms)
        raise DataValidationError(
            f"`moderator` '{moderator}' is not in the model; terms: {list(terms)}"
            + (f"; did you mean {hint}?" if hint else ".")
        )
    product: dict[str, str] = {}
    for t, parts in split.items():
        if len(parts) != 2 or focal not in parts:
            continue
        other = parts[1 - parts.index(focal)]
        if other == moderator:
            product[""] = t
        elif (level := _level_of(other, moderator)) is not None:
            product[level] = t
    if not product:
        raise DataValidationError(
            f"the model has no interaction term '{focal}:{moderator}' between `focal` and "
            f"`moderator`; fit it with '{focal} * {moderator}' in the formula."
        )
    extra = [
        t for t, ps in split.items() if len(ps) > 1 and focal in ps and t not in product.values()
    ]
    if extra:
        warnings.warn(
            f"`focal` '{focal}' also enters the product terms {extra}; the conditional effects "
            "are at zero of the other variables in those terms.",
            DataWarning,
            stacklevel=3,
        )
    rows = model_rows(result, column)
    if "" in product:
        kind = "continuous"
        if rows is not None and rows.dropna().nunique() == 2:
            kind = "binary"
        return Interaction(focal, moderator, kind, product, column, rows)
    reference = None
    if rows is not None:
        levels = [str(v) for v in pd.unique(rows.dropna())]
        missing = [lv for lv in levels if lv not in product]
        reference = missing[0] if len(missing) == 1 else None
    return Interaction(focal, moderator, "categorical", product, column, rows, reference)


# -- conditional effects ---------------------------------------------------------------
def combinations(result: Any, inter: Interaction, weights: list[dict[str, float]]):
    """Estimates and covariance of the linear combinations ``weights`` of the coefficients."""
    b = result.coef()
    V = result.vcov().loc[b.index, b.index].to_numpy(dtype=float)
    C = np.zeros((len(weights), len(b)))
    pos = {t: i for i, t in enumerate(b.index)}
    for r, w in enumerate(weights):
        for term, value in w.items():
            C[r, pos[term]] = value
    return C @ b.to_numpy(dtype=float), C @ V @ C.T


def continuous_at(inter: Interaction, at: Any) -> tuple[np.ndarray, str]:
    rows = inter.frame
    if at is None:
        if rows is None:
            raise DataValidationError(
                f"`at` is required: the result does not keep the rows the model used, so the "
                f"mean and SD of `moderator` '{inter.moderator}' are unknown; pass "
                "moderator values, e.g. at=[1, 2, 3]."
            )
        w = rows.to_numpy(dtype=float)
        if inter.kind == "binary":
            return np.unique(w), "levels"
        m, s = float(np.mean(w)), float(np.std(w, ddof=1))
        return np.array([m - s, m, m + s]), "mean and +/- 1 SD"
    values = np.atleast_1d(np.asarray(at, dtype=object))
    try:
        out = values.astype(float)
    except (TypeError, ValueError):
        raise DataValidationError(
            f"`at` must be numeric values of the continuous `moderator` '{inter.moderator}'; "
            f"got {list(values)}."
        ) from None
    if out.size == 0 or not np.all(np.isfinite(out)):
        raise DataValidationError(f"`at` must be one or more finite numbers; got {list(values)}.")
    if rows is not None:
        lo, hi = float(rows.min()), float(rows.max())
        outside = [float(v) for v in out if v < lo or v > hi]
        if outside:
            warnings.warn(
                f"`at` values {outside} are outside the observed range of `moderator` "
                f"'{inter.moderator}' [{lo:.6g}, {hi:.6g}]: extrapolation.",
                DataWarning,
                stacklevel=3,
            )
    return out, "user"


def categorical_at(inter: Interaction, at: Any) -> tuple[list[str], str]:
    levels = list(inter.product)
    ref = inter.reference if inter.reference is not None else "(reference)"
    valid = [ref, *levels]
    if at is None:
        return valid, "levels"
    values = [at] if isinstance(at, str) or np.ndim(at) == 0 else list(at)
    bad = [v for v in values if str(v) not in valid]
    if bad or not values:
        raise DataValidationError(
            f"`at` must be levels of the categorical `moderator` '{inter.moderator}': "
            f"{valid}; got {bad or values}."
        )
    return [str(v) for v in values], "user"


def effect_label(inter: Interaction, value: Any) -> str:
    shown = f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)
    return f"{inter.focal} | {inter.moderator} = {shown}"


def critical_quantile(conf_level: float, df: float | None) -> float:
    dist = stats.t(df) if df is not None and math.isfinite(df) else stats.norm
    return float(dist.ppf(0.5 + conf_level / 2))


def jn_regions(a: float, b: float, c: float) -> tuple[tuple[float, float], ...]:
    """Intervals of ``w`` where ``a w^2 + b w + c >= 0`` (the effect is significant)."""
    inf = math.inf
    if a == 0.0:
        if b == 0.0:
            return ((-inf, inf),) if c >= 0 else ()
        root = -c / b
        return ((root, inf),) if b > 0 else ((-inf, root),)
    disc = b * b - 4 * a * c
    if disc <= 0:
        return ((-inf, inf),) if a > 0 else ()
    s = math.sqrt(disc)
    # numerically stable roots (no cancellation in -b +/- s)
    qq = -0.5 * (b + math.copysign(s, b))
    r1, r2 = sorted((qq / a, c / qq))
    return ((-inf, r1), (r2, inf)) if a > 0 else ((r1, r2),)


def describe_regions(regions: tuple[tuple[float, float], ...], moderator: str) -> str:
    if not regions:
        return "nowhere"
    parts = []
    for lo, hi in regions:
        if math.isinf(lo) and math.isinf(hi):
            return "everywhere"
        if math.isinf(lo):
            parts.append(f"{moderator} <= {hi:.6g}")
        elif math.isinf(hi):
            parts.append(f"{moderator} >= {lo:.6g}")
        else:
            parts.append(f"{lo:.6g} <= {moderator} <= {hi:.6g}")
    return " or ".join(parts)
