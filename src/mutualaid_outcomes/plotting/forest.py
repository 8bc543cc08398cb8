"""Forest plots of effects from tidy frames (hazard ratios, odds ratios, indirect effects).

Rows are drawn by kind, given by an optional ``kind`` column of the frame (meta-analysis
forest plots, :func:`~mutualaid_outcomes.plotting.meta.plot_meta_forest`, build such frames):

``"effect"`` (default)
    square marker and confidence interval;
``"study"``
    square marker with area proportional to the ``weight`` column, and its interval;
``"summary"``
    a diamond spanning the interval (a pooled estimate);
``"prediction"``
    a line with end ticks, no marker (a prediction interval);
``"header"``, ``"note"``
    text only (a subgroup heading in bold; heterogeneity statistics in italics).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_columns, renamed
from ..errors import DataValidationError

__all__ = ["forest_data", "plot_forest", "ROW_KINDS"]

#: row kinds understood by :func:`plot_forest` (see the module docstring)
ROW_KINDS: tuple[str, ...] = ("effect", "study", "summary", "prediction", "header", "note")
_OPTIONAL = ("model", "label", "kind", "weight", "group")


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
        ``estimate``, ``conf_low`` and ``conf_high``. Optional columns are kept: ``model``
        (grouped forests), ``label`` (row labels), ``kind`` (how a row is drawn, one of
        :data:`ROW_KINDS`), ``weight`` (marker size of study rows) and ``group``.
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
        Columns term, label, estimate, conf_low, conf_high, the optional columns present,
        and y (row position, top = largest).

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
    if "kind" in frame:
        bad = sorted(set(frame["kind"]) - set(ROW_KINDS))
        if bad:
            raise DataValidationError(
                f"`result` has row kinds {bad}; use {', '.join(map(repr, ROW_KINDS))}."
            )
    if drop_intercept:
        frame = frame[~frame["term"].isin(["Intercept", "(Intercept)", "const"])]
    if terms is not None:
        missing = [t for t in terms if t not in set(frame["term"])]
        if missing:
            raise DataValidationError(
                f"`terms` {missing} are not in the effects; available: {frame['term'].tolist()}."
            )
        frame = frame.set_index("term").loc[list(terms)].reset_index()
    keep = ["term", "estimate", "conf_low", "conf_high"] + [c for c in _OPTIONAL if c in frame]
    out = frame[keep].reset_index(drop=True).copy()
    if "label" in out:
        given = out.pop("label").astype(str)
        names = [labels[t] if labels and t in labels else g for t, g in zip(out["term"], given)]
    else:
        names = [term_label(t, codebook=codebook, labels=labels) for t in out["term"]]
    out.insert(1, "label", names)
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
    kind = data["kind"] if "kind" in data else pd.Series("effect", index=data.index)
    _draw_effects(ax, data[kind == "effect"])
    _draw_studies(ax, data[kind == "study"])
    _draw_summaries(ax, data[kind == "summary"])
    _draw_predictions(ax, data[kind == "prediction"])
    ax.axvline(ref, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks(data["y"].to_numpy())
    ax.set_yticklabels(data["label"].tolist())
    for tick, k in zip(ax.get_yticklabels(), kind):
        if k in ("header", "summary"):
            tick.set_fontweight("bold")
        elif k == "note":
            tick.set_fontstyle("italic")
    if log:
        ax.set_xscale("log")
        lo = float(min(data["conf_low"].min(), ref))
        hi = float(max(data["conf_high"].max(), ref))
        ratio_ticks(ax, lo, hi)
    ax.set_xlabel(xlabel or ("Ratio (95% CI)" if exponentiate else "Estimate (95% CI)"))
    if annotate:
        _annotate(ax, data, decimals)
    ax.set_ylim(-0.7, len(data) - 0.3)
    return ax


def ratio_ticks(ax: Any, lo: float, hi: float) -> None:
    """Readable ticks (0.1, 0.2, 0.5, 1, 2, 5 ...) on a log-scale x axis spanning lo..hi."""
    nice = np.array([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100])
    ticks = nice[(nice >= lo / 1.5) & (nice <= hi * 1.5)]
    if len(ticks) >= 2:
        ax.minorticks_off()
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])


def _draw_effects(ax: Any, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    xerr = np.vstack([rows["estimate"] - rows["conf_low"], rows["conf_high"] - rows["estimate"]])
    ax.errorbar(
        rows["estimate"],
        rows["y"],
        xerr=xerr,
        fmt="s",
        color="black",
        ecolor="black",
        capsize=2,
        markersize=4,
        linewidth=1,
    )


def _draw_studies(ax: Any, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    ax.hlines(rows["y"], rows["conf_low"], rows["conf_high"], color="black", linewidth=1)
    w = rows["weight"].to_numpy(dtype=float) if "weight" in rows else np.ones(len(rows))
    w = np.where(np.isfinite(w), w, 0.0)
    size = 10 + 90 * w / w.max() if w.max() > 0 else np.full(len(rows), 20.0)
    ax.scatter(rows["estimate"], rows["y"], s=size, marker="s", color="black", zorder=3)


def _draw_summaries(ax: Any, rows: pd.DataFrame) -> None:
    for _, r in rows.iterrows():
        xs = [r["conf_low"], r["estimate"], r["conf_high"], r["estimate"]]
        ys = [r["y"], r["y"] + 0.3, r["y"], r["y"] - 0.3]
        ax.fill(xs, ys, color="black", zorder=3)


def _draw_predictions(ax: Any, rows: pd.DataFrame) -> None:
    if rows.empty:
        return
    ax.hlines(rows["y"], rows["conf_low"], rows["conf_high"], color="black", linewidth=1)
    ends = np.concatenate([rows["conf_low"], rows["conf_high"]])
    ax.plot(ends, np.concatenate([rows["y"], rows["y"]]), "|", color="black", markersize=6)


def _annotate(ax: Any, data: pd.DataFrame, decimals: int) -> None:
    has_weight = "weight" in data and data["weight"].notna().any()
    for _, r in data.iterrows():
        if not np.isfinite(r["estimate"]) and not np.isfinite(r["conf_low"]):
            continue
        text = f"[{r['conf_low']:.{decimals}f}, {r['conf_high']:.{decimals}f}]"
        if np.isfinite(r["estimate"]):
            text = f"{r['estimate']:.{decimals}f} " + text
        if has_weight and np.isfinite(r.get("weight", np.nan)):
            text += f"  {r['weight']:.1f}%"
        ax.annotate(
            text,
            xy=(1.02, r["y"]),
            xycoords=("axes fraction", "data"),
            va="center",
            fontsize="small",
        )
