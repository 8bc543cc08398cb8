"""Love plots: covariate balance before and after propensity-score weighting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_columns, renamed
from ..errors import ArgumentTypeError, DataValidationError
from .style import OKABE_ITO

if TYPE_CHECKING:
    from ..models.causal._ps_result import PropensityResult, WeightKind

__all__ = ["love_plot_data", "love_plot"]


@renamed(balance="result")
def love_plot_data(
    result: PropensityResult | pd.DataFrame,
    *,
    kind: WeightKind = "ate",
    absolute: bool = True,
    labels: Mapping[str, str] | None = None,
    order: str = "unadjusted",
) -> pd.DataFrame:
    """The points a love plot draws.

    Parameters
    ----------
    result : PropensityResult or pandas.DataFrame
        A fitted propensity model (its ``balance(kind)`` is used) or a balance frame
        with ``covariate``, ``smd_unadjusted`` and ``smd_adjusted`` (and optionally
        ``contrast``).
    kind : str
        Weight kind passed to ``balance()`` for a propensity result.
    absolute : bool
        Plot absolute standardised mean differences.
    labels : mapping, optional
        Display labels for covariate columns.
    order : {'unadjusted', 'adjusted', 'original'}
        Sort covariates by their largest unadjusted or adjusted SMD (top = largest),
        or keep the frame's order.

    Returns
    -------
    pandas.DataFrame
        Long frame: ``contrast, covariate, label, sample`` (``'Unadjusted'`` or
        ``'Adjusted'``), ``smd``, ``y`` (row position, top = largest). With several
        contrasts, each covariate's row shows every contrast.

    Raises
    ------
    ArgumentTypeError
        ``result`` of another type.
    DataValidationError
        Unknown ``order``.

    Examples
    --------
    >>> bal = pd.DataFrame({"covariate": ["age", "female"], "smd_unadjusted": [0.3, -0.05],
    ...                     "smd_adjusted": [0.02, 0.01]})
    >>> love_plot_data(bal)[["covariate", "sample", "smd", "y"]]
      covariate      sample   smd  y
    0       age  Unadjusted  0.30  1
    1    female  Unadjusted  0.05  0
    2       age    Adjusted  0.02  1
    3    female    Adjusted  0.01  0
    """
    if hasattr(result, "balance") and callable(result.balance):
        frame = result.balance(kind)
    elif isinstance(result, pd.DataFrame):
        frame = result.copy()
    else:
        raise ArgumentTypeError(
            "`result` must be a PropensityResult or a balance DataFrame; got "
            f"{type(result).__name__}."
        )
    check_columns(frame, ["covariate", "smd_unadjusted", "smd_adjusted"], "result")
    if order not in ("unadjusted", "adjusted", "original"):
        raise DataValidationError(
            f"`order` must be one of 'unadjusted', 'adjusted', 'original'; got {order!r}."
        )
    if "contrast" not in frame:
        frame["contrast"] = ""
    long = []
    for col, sample in (("smd_unadjusted", "Unadjusted"), ("smd_adjusted", "Adjusted")):
        part = frame[["contrast", "covariate"]].copy()
        vals = frame[col].to_numpy(dtype=float)
        part["sample"] = sample
        part["smd"] = np.abs(vals) if absolute else vals
        long.append(part)
    out = pd.concat(long, ignore_index=True)
    covs = list(dict.fromkeys(frame["covariate"]))
    if order != "original":
        key = "smd_unadjusted" if order == "unadjusted" else "smd_adjusted"
        size = frame.assign(_a=frame[key].abs()).groupby("covariate", sort=False)["_a"].max()
        covs = sorted(covs, key=lambda c: -size[c])
    pos = {c: len(covs) - 1 - i for i, c in enumerate(covs)}
    out["y"] = out["covariate"].map(pos).astype(int)
    out.insert(2, "label", [(labels or {}).get(c, c) for c in out["covariate"]])
    return out


@renamed(balance="result")
def love_plot(
    result: PropensityResult | pd.DataFrame,
    ax: Any = None,
    *,
    kind: WeightKind = "ate",
    threshold: float | None = 0.1,
    absolute: bool = True,
    labels: Mapping[str, str] | None = None,
    order: str = "unadjusted",
) -> Any:
    """Draw a love plot of standardised mean differences before and after weighting.

    Parameters
    ----------
    result : PropensityResult or pandas.DataFrame
        See :func:`love_plot_data`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    kind, absolute, labels, order
        See :func:`love_plot_data`.
    threshold : float, optional
        Dashed reference line(s) at this SMD (0.1 by convention; Austin 2009).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> bal = pd.DataFrame({"covariate": ["age", "female"], "smd_unadjusted": [0.3, -0.05],
    ...                     "smd_adjusted": [0.02, 0.01]})
    >>> ax = love_plot(bal)
    >>> ax.get_xlabel()
    'Absolute standardised mean difference'
    """
    import matplotlib.pyplot as plt

    data = love_plot_data(result, kind=kind, absolute=absolute, labels=labels, order=order)
    n_rows = int(data["y"].max()) + 1
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 0.3 * n_rows + 1.2))
    styles = {"Unadjusted": (OKABE_ITO[1], "o"), "Adjusted": (OKABE_ITO[5], "s")}
    contrasts = list(dict.fromkeys(data["contrast"]))
    for sample, (color, marker) in styles.items():
        sub = data[data["sample"] == sample]
        ax.scatter(
            sub["smd"],
            sub["y"],
            marker=marker,
            s=18,
            label=sample,
            zorder=3,
            edgecolors=color,
            facecolors=color if sample == "Adjusted" else "none",
        )
    if len(contrasts) == 1:
        for y, g in data.groupby("y"):
            ax.plot(g["smd"], [y] * len(g), color="0.75", linewidth=0.8, zorder=1)
    ax.axvline(0.0, color="0.4", linewidth=0.8)
    if threshold is not None:
        ax.axvline(threshold, color="0.4", linestyle="--", linewidth=0.8)
        if not absolute:
            ax.axvline(-threshold, color="0.4", linestyle="--", linewidth=0.8)
    first = data.drop_duplicates("y").sort_values("y")
    ax.set_yticks(first["y"].to_numpy())
    ax.set_yticklabels(first["label"].tolist())
    ax.set_ylim(-0.7, n_rows - 0.3)
    ax.set_xlabel(
        "Absolute standardised mean difference" if absolute else "Standardised mean difference"
    )
    ax.legend(loc="lower right")
    return ax
