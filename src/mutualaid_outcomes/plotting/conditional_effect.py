"""Conditional effect of a focal predictor across a moderator, with Johnson-Neyman bounds.

:func:`plot_conditional_effect` draws ``b_X + b_XW w`` against the moderator ``w`` with its
pointwise confidence band, zero, the Johnson-Neyman bounds as vertical lines and the
values of ``w`` outside the observed range shaded (Bauer & Curran 2005, Figure 2; the
"Johnson-Neyman plot" of R ``interactions::johnson_neyman``).
:func:`conditional_effect_data` returns the frame it draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np
import pandas as pd

from .._validation import check_conf_level, check_positive_int
from ..errors import ArgumentTypeError, DataValidationError, OptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..models.regression.simple_slopes import JohnsonNeymanResult
    from ..results import CoefficientProtocol

__all__ = ["conditional_effect_data", "plot_conditional_effect"]

_PAD = 0.05  # fraction of the observed range added on each side of the grid


class _Shade(TypedDict):
    """Style of the bands outside the observed moderator range."""

    color: str
    alpha: float
    linewidth: float
    zorder: float


def _johnson_neyman(
    result: Any, focal: str | None, moderator: str | None, conf_level: float | None
) -> Any:
    """The Johnson-Neyman result behind the plot (computed from a fitted model if needed)."""
    if callable(getattr(result, "conditional_effect", None)) and hasattr(result, "regions"):
        if focal is not None or moderator is not None:
            raise OptionError(
                "`focal` and `moderator` are taken from the Johnson-Neyman result; pass them "
                "only with a fitted model."
            )
        if conf_level is not None and check_conf_level(conf_level) != result.conf_level:
            raise OptionError(
                f"`conf_level` {conf_level} differs from the Johnson-Neyman result's "
                f"{result.conf_level}; recompute it with johnson_neyman(..., "
                f"conf_level={conf_level}) or pass the fitted model."
            )
        return result
    if not hasattr(result, "coef") or not hasattr(result, "terms"):
        raise ArgumentTypeError(
            "`result` must be a fitted model with coefficients (with `focal` and "
            "`moderator`) or a result of johnson_neyman(); got "
            f"{type(result).__name__}."
        )
    if focal is None or moderator is None:
        raise OptionError("`focal` and `moderator` are required with a fitted model.")
    from ..models.regression.simple_slopes import johnson_neyman

    return johnson_neyman(
        result, focal, moderator, conf_level=0.95 if conf_level is None else conf_level
    )


def _span(jn: Any, span: Any) -> tuple[float, float]:
    if span is not None:
        try:
            lo, hi = (float(v) for v in span)
        except (TypeError, ValueError):
            raise ArgumentTypeError(
                f"`span` must be two numbers (low, high); got {span!r}."
            ) from None
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise DataValidationError(f"`span` must be finite with low < high; got {span!r}.")
        return lo, hi
    bounds = [b for b in (jn.lower, jn.upper) if math.isfinite(b)]
    if jn.moderator_range is None:
        if len(bounds) == 2:
            width = bounds[1] - bounds[0]
            return bounds[0] - 0.5 * width, bounds[1] + 0.5 * width
        raise DataValidationError(
            "`span` is required: the observed range of the moderator is unknown (the model "
            "result does not keep its rows); pass span=(low, high)."
        )
    lo, hi = jn.moderator_range
    width = hi - lo
    lo, hi = lo - _PAD * width, hi + _PAD * width
    # show a bound that lies beyond the data, if it is not far beyond
    for b in bounds:
        if lo - width <= b < lo:
            lo = b - _PAD * width
        elif hi < b <= hi + width:
            hi = b + _PAD * width
    return lo, hi


def conditional_effect_data(
    result: JohnsonNeymanResult | CoefficientProtocol,
    focal: str | None = None,
    moderator: str | None = None,
    *,
    conf_level: float | None = None,
    n_points: int = 200,
    span: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """The frame :func:`plot_conditional_effect` draws.

    Parameters
    ----------
    result : fitted result or JohnsonNeymanResult
        A result of :func:`~mutualaid_outcomes.models.regression.johnson_neyman`, or a
        fitted model with coefficients together with ``focal`` and ``moderator``.
    focal, moderator : str, optional
        The focal predictor and the continuous moderator (only with a fitted model).
    conf_level : float, optional
        Level of the band and of the bounds; 0.95 for a fitted model; must equal the
        level of a Johnson-Neyman result when one is given.
    n_points : int
        Grid points along the moderator.
    span : (float, float), optional
        Range of the moderator to draw. Default: the observed range widened by 5% on
        each side, and further to include a Johnson-Neyman bound lying within one
        range-width beyond the data. Required when the observed range is unknown and
        there are not two bounds.

    Returns
    -------
    pandas.DataFrame
        One row per grid value: ``focal``, ``moderator``, ``moderator_value``,
        ``estimate``, ``std_error``, ``conf_low``, ``conf_high``, ``significant``,
        ``observed`` (inside the observed range; NaN when unknown), and the constants
        ``jn_lower``, ``jn_upper`` (NaN when absent), ``moderator_min``,
        ``moderator_max`` and ``conf_level``.

    Raises
    ------
    ArgumentTypeError
        ``result`` is neither; ``span`` not two numbers.
    OptionError
        ``focal``/``moderator`` missing with a model or given with a Johnson-Neyman
        result; ``conf_level`` differing from the Johnson-Neyman result's.
    DataValidationError
        ``span`` not increasing, or needed but missing; as
        :func:`~mutualaid_outcomes.models.regression.johnson_neyman` for a model.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.regression import fit_regression
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "w": rng.normal(size=200)})
    >>> d["y"] = 0.5 * d.x + 0.4 * d.x * d.w + rng.normal(size=200)
    >>> f = conditional_effect_data(fit_regression(d, "y ~ x * w"), "x", "w", n_points=5)
    >>> f[["moderator_value", "estimate", "significant"]].round(2)
       moderator_value  estimate  significant
    0            -4.01     -0.78         True
    1            -2.16     -0.14        False
    2            -0.32      0.50         True
    3             1.53      1.14         True
    4             3.38      1.78         True
    """
    jn = _johnson_neyman(result, focal, moderator, conf_level)
    n_points = check_positive_int(n_points, "n_points", minimum=2)
    lo, hi = _span(jn, span)
    grid = np.linspace(lo, hi, n_points)
    curve = jn.conditional_effect(grid)
    out = curve[["moderator_value", "estimate", "std_error", "conf_low", "conf_high"]].copy()
    out.insert(0, "moderator", jn.moderator)
    out.insert(0, "focal", jn.focal)
    out["significant"] = curve["significant"].to_numpy()
    rng = jn.moderator_range
    out["observed"] = np.nan if rng is None else (grid >= rng[0]) & (grid <= rng[1])
    out["jn_lower"] = jn.lower
    out["jn_upper"] = jn.upper
    out["moderator_min"] = np.nan if rng is None else rng[0]
    out["moderator_max"] = np.nan if rng is None else rng[1]
    out["conf_level"] = jn.conf_level
    return out


def plot_conditional_effect(
    result: JohnsonNeymanResult | CoefficientProtocol,
    ax: Axes | None = None,
    *,
    focal: str | None = None,
    moderator: str | None = None,
    conf_level: float | None = None,
    n_points: int = 200,
    span: tuple[float, float] | None = None,
    labels: Mapping[str, str] | None = None,
) -> Axes:
    """Plot the conditional effect of ``focal`` across ``moderator`` with J-N bounds.

    Draws the effect ``b_X + b_XW w`` (linear-predictor scale), its pointwise confidence
    band, a horizontal line at zero, each Johnson-Neyman bound inside the drawn span as
    a dashed vertical line, and shades the moderator values outside the observed range.

    Parameters
    ----------
    result : fitted result or JohnsonNeymanResult
        As :func:`conditional_effect_data`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure's axes by default.
    focal, moderator, conf_level, n_points, span
        As :func:`conditional_effect_data`.
    labels : mapping, optional
        Display labels ``{column: label}`` for the focal predictor and the moderator.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ArgumentTypeError, OptionError, DataValidationError
        As :func:`conditional_effect_data`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.regression import fit_regression, johnson_neyman
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.normal(size=200), "w": rng.normal(size=200)})
    >>> d["y"] = 0.5 * d.x + 0.4 * d.x * d.w + rng.normal(size=200)
    >>> ax = plot_conditional_effect(johnson_neyman(fit_regression(d, "y ~ x * w"), "x", "w"))
    >>> ax.get_ylabel()
    'Conditional effect of x'
    """
    data = conditional_effect_data(
        result, focal, moderator, conf_level=conf_level, n_points=n_points, span=span
    )
    labels = dict(labels or {})
    x_name, w_name = data["focal"].iloc[0], data["moderator"].iloc[0]
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    w = data["moderator_value"].to_numpy(float)
    level = f"{100 * float(data['conf_level'].iloc[0]):g}%"
    ax.fill_between(
        w,
        data["conf_low"].to_numpy(float),
        data["conf_high"].to_numpy(float),
        color="0.8",
        linewidth=0,
        label=f"{level} CI",
    )
    ax.plot(w, data["estimate"].to_numpy(float), color="black", label="Conditional effect")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    lo, hi = float(data["moderator_min"].iloc[0]), float(data["moderator_max"].iloc[0])
    if np.isfinite(lo):
        shade: _Shade = {"color": "#56B4E9", "alpha": 0.15, "linewidth": 0, "zorder": 0}
        if w[0] < lo:
            ax.axvspan(w[0], lo, label="Outside observed range", **shade)
        if w[-1] > hi:
            ax.axvspan(hi, w[-1], label=None if w[0] < lo else "Outside observed range", **shade)
    first = True
    for col in ("jn_lower", "jn_upper"):
        b = float(data[col].iloc[0])
        if np.isfinite(b) and w[0] <= b <= w[-1]:
            ax.axvline(
                b,
                color="#D55E00",
                linestyle="--",
                linewidth=1,
                label="Johnson-Neyman bound" if first else None,
            )
            first = False
    ax.set_xlim(w[0], w[-1])
    ax.set_xlabel(labels.get(w_name, w_name))
    ax.set_ylabel(f"Conditional effect of {labels.get(x_name, x_name)}")
    ax.legend(frameon=False, fontsize="small")
    return ax
