"""Forest plots of effects from tidy frames (hazard ratios, odds ratios, indirect effects)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, renamed
from ..errors import DataValidationError

__all__ = ["forest_data", "plot_forest"]


@renamed(effects="result")
def forest_data(
    result: Any,
    *,
    terms: Sequence[str] | None = None,
    exponentiate: bool = False,
    conf_level: float = 0.95,
    labels: Mapping[str, str] | None = None,
    codebook: Any = None,
    drop_intercept: bool = True,
) -> pd.DataFrame:
    """The rows a forest plot draws.

    Parameters
    ----------
    result : result or pandas.DataFrame
        A fitted result (its ``tidy()`` is used) or a tidy frame with ``term``,
        ``estimate``, ``conf_low`` and ``conf_high``; a ``model`` column, if present,
        is kept for grouped forests.
    terms : sequence of str, optional
        Terms to show, in order; default all.
    exponentiate : bool
        Passed to ``tidy()`` for results (ratios).
    conf_level : float
        Passed to ``tidy()`` for results.
    labels, codebook : optional
        Row labels.
    drop_intercept : bool
        Leave out intercept rows.

    Returns
    -------
    pandas.DataFrame
        Columns term, label, estimate, conf_low, conf_high, y (row position, top = largest).

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["a", "b"], "estimate": [1.2, 0.8],
    ...                      "conf_low": [1.0, 0.6], "conf_high": [1.5, 1.1]})
    >>> forest_data(tidy)[["term", "y"]].values.tolist()
    [['a', 1], ['b', 0]]
    """
    from ..tables.model_tables import term_label

    if isinstance(result, pd.DataFrame):
        frame = result.copy()
    elif hasattr(result, "tidy"):
        frame = result.tidy(conf_level=conf_level, exponentiate=exponentiate)
    else:
        raise DataValidationError(
            f"`result` must be a fitted result or a tidy DataFrame; got {type(result).__name__}."
        )
    check_columns(frame, ["term", "estimate", "conf_low", "conf_high"], "result")
    if drop_intercept:
        frame = frame[~frame["term"].isin(["Intercept", "(Intercept)", "const"])]
    if terms is not None:
        missing = [t for t in terms if t not in set(frame["term"])]
        if missing:
            raise DataValidationError(
                f"`terms` {missing} are not in the effects; available: {frame['term'].tolist()}."
            )
        frame = frame.set_index("term").loc[list(terms)].reset_index()
    keep = ["term", "estimate", "conf_low", "conf_high"] + (["model"] if "model" in frame else [])
    out = frame[keep].reset_index(drop=True).copy()
    out.insert(1, "label", [term_label(t, codebook=codebook, labels=labels) for t in out["term"]])
    out["y"] = np.arange(len(out))[::-1]
    return out


@renamed(effects="result")
def plot_forest(
    result: Any,
    ax: Any = None,
    *,
    exponentiate: bool = False,
    reference: float | None = None,
    log_scale: bool | None = None,
    xlabel: str | None = None,
    annotate: bool = True,
    decimals: int = 2,
    **kwargs: Any,
) -> Any:
    """Draw a forest plot of estimates with confidence intervals.

    Parameters
    ----------
    result : result or tidy DataFrame
        See :func:`forest_data`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    exponentiate : bool
        Ratios (reference line at 1, log scale by default).
    reference : float, optional
        Position of the no-effect line; 1 for ratios, 0 otherwise.
    log_scale : bool, optional
        Log x axis; default ``exponentiate``.
    xlabel : str, optional
        X-axis label.
    annotate : bool
        Print "estimate [low, high]" at the right of each row.
    decimals : int
        Decimals of the annotation.
    **kwargs
        Passed to :func:`forest_data`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    import matplotlib.pyplot as plt

    data = forest_data(result, exponentiate=exponentiate, **kwargs)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.35 * len(data) + 1.2))
    ref = reference if reference is not None else (1.0 if exponentiate else 0.0)
    log = exponentiate if log_scale is None else log_scale
    xerr = np.vstack([data["estimate"] - data["conf_low"], data["conf_high"] - data["estimate"]])
    ax.errorbar(
        data["estimate"],
        data["y"],
        xerr=xerr,
        fmt="s",
        color="black",
        ecolor="black",
        capsize=2,
        markersize=4,
        linewidth=1,
    )
    ax.axvline(ref, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(data["y"].to_numpy())
    ax.set_yticklabels(data["label"].tolist())
    if log:
        ax.set_xscale("log")
        lo = float(min(data["conf_low"].min(), ref))
        hi = float(max(data["conf_high"].max(), ref))
        nice = np.array([0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 4, 5, 10, 20, 50, 100])
        ticks = nice[(nice >= lo / 1.5) & (nice <= hi * 1.5)]
        if len(ticks) >= 2:
            ax.minorticks_off()
            ax.set_xticks(ticks)
            ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlabel(xlabel or ("Ratio (95% CI)" if exponentiate else "Estimate (95% CI)"))
    if annotate:
        for _, r in data.iterrows():
            ax.annotate(
                f"{r['estimate']:.{decimals}f} [{r['conf_low']:.{decimals}f}, {r['conf_high']:.{decimals}f}]",
                xy=(1.02, r["y"]),
                xycoords=("axes fraction", "data"),
                va="center",
                fontsize="small",
            )
    ax.set_ylim(-0.7, len(data) - 0.3)
    return ax
