"""Conditional indirect effects across a moderator, with the bootstrap band.

:func:`plot_conditional_indirect` draws, for each mediator chain of a moderated mediation
result (:func:`~mutualaid_outcomes.models.mediation.mediate` with ``moderator``), the
conditional indirect effect against the moderator with its pointwise bootstrap (or Monte
Carlo) interval -- a line and band for a numeric moderator, points with error bars at the
levels of a categorical one (Hayes 2022, ch. 11-12). :func:`conditional_indirect_data`
returns the frame it draws, computed from the result's stored path draws (no refit).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_conf_level, check_positive_int
from ..errors import ArgumentTypeError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..models.mediation._moderated import ModeratedMediationResult

__all__ = ["conditional_indirect_data", "plot_conditional_indirect"]

_TERM = re.compile(r"^indirect\[(?P<chain>.+)\|(?P<w>[^=]+)=(?P<value>.+)\]$")


def conditional_indirect_data(
    result: ModeratedMediationResult, *, conf_level: float | None = None, n_points: int = 50
) -> pd.DataFrame:
    """Conditional indirect effects of every moderated chain across the moderator.

    Parameters
    ----------
    result : ModeratedMediationResult
        From :func:`~mutualaid_outcomes.models.mediation.mediate` with ``moderator``.
    conf_level : float, optional
        Confidence level of the band (default: the result's).
    n_points : int
        Grid points over the observed range of a continuous moderator (the levels of a
        categorical moderator and the two values of a binary one are used as they are).

    Returns
    -------
    pandas.DataFrame
        Columns ``chain, moderator, moderator_value, estimate, conf_low, conf_high,
        conf_level, categorical`` (``categorical`` true when the values are levels or
        the two values of a binary moderator, drawn as points); one row per chain and
        moderator value.

    Raises
    ------
    ArgumentTypeError
        ``result`` has no ``conditional_effects`` (not a moderated mediation result).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.mediation import mediate
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"x": rng.normal(size=300), "w": rng.normal(size=300)})
    >>> d["m"] = (0.4 + 0.3 * d.w) * d.x + rng.normal(size=300)
    >>> d["y"] = 0.5 * d.m + rng.normal(size=300)
    >>> res = mediate(d, "x", ["m"], "y", moderator="w", moderated_paths=["a"],
    ...               ci="percentile", n_boot=1000, rng=1)
    >>> conditional_indirect_data(res, n_points=5)["moderator_value"].round(2).tolist()
    [-3.9, -2.39, -0.89, 0.61, 2.12]
    """
    if not callable(getattr(result, "conditional_effects", None)):
        raise ArgumentTypeError(
            "`result` must be a moderated mediation result (mediate(..., moderator=...)); "
            f"got {type(result).__name__}."
        )
    n_points = check_positive_int(n_points, "n_points", minimum=2)
    level = result.conf_level if conf_level is None else check_conf_level(conf_level)
    if result.layout is None:
        raise ArgumentTypeError(
            "`result` keeps no moderator layout; fit it with mediate(..., moderator=...)."
        )
    coding = result.layout.coding
    points = coding.kind != "continuous"  # levels or the two values of a binary moderator
    if coding.levels is not None:
        grid: list[Any] = list(coding.levels)
    elif coding.kind == "binary":
        grid = list(coding.observed)
    else:
        grid = list(np.linspace(coding.low, coding.high, n_points))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        tab = result.conditional_effects(at=grid, conf_level=level, contrasts=False)
    rows = []
    shown = {f"{v:.6g}" if isinstance(v, float) else str(v): v for v in grid}
    for _, r in tab.iterrows():
        m = _TERM.match(str(r["term"]))
        if m is None:
            continue
        rows.append(
            {
                "chain": m.group("chain"),
                "moderator": result.moderator,
                "moderator_value": shown[m.group("value")],
                "estimate": r["estimate"],
                "conf_low": r["conf_low"],
                "conf_high": r["conf_high"],
                "conf_level": level,
                "categorical": points,
            }
        )
    return pd.DataFrame(rows)


def plot_conditional_indirect(
    result: ModeratedMediationResult,
    ax: Axes | None = None,
    *,
    conf_level: float | None = None,
    n_points: int = 50,
    labels: Mapping[str, str] | None = None,
) -> Axes:
    """Plot conditional indirect effects across the moderator with the bootstrap band.

    Parameters
    ----------
    result : ModeratedMediationResult
        As :func:`conditional_indirect_data`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure's axes by default.
    conf_level, n_points
        As :func:`conditional_indirect_data`.
    labels : mapping, optional
        Display labels ``{column: label}`` for the moderator and the mediators.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.mediation import mediate
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"x": rng.normal(size=300), "w": rng.normal(size=300)})
    >>> d["m"] = (0.4 + 0.3 * d.w) * d.x + rng.normal(size=300)
    >>> d["y"] = 0.5 * d.m + rng.normal(size=300)
    >>> res = mediate(d, "x", ["m"], "y", moderator="w", moderated_paths=["a"],
    ...               ci="percentile", n_boot=1000, rng=1)
    >>> plot_conditional_indirect(res).get_xlabel()
    'w'
    """
    data = conditional_indirect_data(result, conf_level=conf_level, n_points=n_points)
    lab = dict(labels or {})
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    level = f"{100 * float(data['conf_level'].iloc[0]):g}% CI" if len(data) else ""
    for i, (chain, part) in enumerate(data.groupby("chain", sort=False)):
        name = " \u2192 ".join(lab.get(m, m) for m in str(chain).split("->"))
        color = f"C{i}"
        est = part["estimate"].to_numpy(float)
        lo, hi = part["conf_low"].to_numpy(float), part["conf_high"].to_numpy(float)
        if bool(part["categorical"].iloc[0]):
            pos = np.arange(len(part)) + 0.1 * i
            ax.errorbar(pos, est, yerr=[est - lo, hi - est], fmt="o", color=color,
                        capsize=3, label=f"via {name}")  # fmt: skip
            ax.set_xticks(np.arange(len(part)))
            ax.set_xticklabels([str(v) for v in part["moderator_value"]])
        else:
            w = part["moderator_value"].to_numpy(float)
            ax.fill_between(w, lo, hi, color=color, alpha=0.2, linewidth=0)
            ax.plot(w, est, color=color, label=f"via {name} ({level})")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    ax.set_xlabel(lab.get(result.moderator, result.moderator))
    ax.set_ylabel("Conditional indirect effect")
    ax.legend(frameon=False)
    return ax
