"""Meta-analysis figures: the forest plot with study rows and pooled diamonds, the funnel plot.

:func:`plot_meta_forest` builds the rows with :func:`meta_forest_data` (studies with their
weights, pooled diamond, prediction interval, subgroup blocks and heterogeneity notes) and
draws them with the general forest plot, :func:`~mutualaid_outcomes.plotting.plot_forest`.
:func:`plot_funnel` draws effects against their standard errors with the pseudo-confidence
region around the pooled effect, and the studies added by trim-and-fill as open circles.
Both take the results of :func:`~mutualaid_outcomes.models.meta.meta_analysis` (and
:func:`~mutualaid_outcomes.models.meta.trim_and_fill` for the funnel plot).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..tables.formatting import format_number, format_p
from .forest import plot_forest, ratio_ticks

if TYPE_CHECKING:
    from ..models.meta.results import MetaResult
    from ..models.meta.trimfill import TrimFillResult

__all__ = ["meta_forest_data", "plot_meta_forest", "funnel_data", "plot_funnel", "MEASURE_LABELS"]

#: axis labels of the effect measures (the ratio label is used when exponentiated)
MEASURE_LABELS: dict[str, tuple[str, str]] = {
    "RR": ("Log risk ratio", "Risk ratio"),
    "OR": ("Log odds ratio", "Odds ratio"),
    "IRR": ("Log incidence rate ratio", "Incidence rate ratio"),
    "RD": ("Risk difference", "Risk difference"),
    "MD": ("Mean difference", "Mean difference"),
    "SMD": ("Standardised mean difference (Hedges' g)", "SMD"),
    "COR": ("Correlation", "Correlation"),
    "ZCOR": ("Fisher's z", "Fisher's z"),
}


def _check(result: Any) -> Any:
    if not hasattr(result, "subgroup_results") or not hasattr(result, "studies"):
        raise OptionError(
            f"Expected the result of meta_analysis(); got {type(result).__name__}. For the "
            "coefficients of other models use plot_forest()."
        )
    return result


def _model_label(result: Any) -> str:
    kind = "RE model" if result.is_random else "FE model"
    return f"{kind} ({result.method}{', Knapp-Hartung' if result.test == 'knha' else ''})"


def _heterogeneity_note(result: Any, decimals: int) -> str:
    g = result.glance().iloc[0]
    parts = []
    if result.is_random:
        parts.append(f"τ² = {format_number(g['tau2'], decimals + 1)}")
    parts += [
        f"I² = {format_number(g['i2'], 1)}%",
        f"Q = {format_number(g['q'], decimals)} (df = {int(g['q_df'])}, p {_p_text(g['q_p'])})",
    ]
    return "Heterogeneity: " + "; ".join(parts)


def _p_text(p: float) -> str:
    text = format_p(p, "nejm")
    return f"< {text[1:]}" if text.startswith("<") else f"= {text}"


def _study_rows(studies: pd.DataFrame) -> list[dict]:
    return [
        {
            "term": s["study"],
            "label": s["study"],
            "estimate": s["estimate"],
            "conf_low": s["conf_low"],
            "conf_high": s["conf_high"],
            "kind": "study",
            "weight": s["weight"],
        }
        for _, s in studies.iterrows()
    ]


def _summary_row(result: Any, level: float, term: str, label: str) -> dict:
    t = result.tidy(conf_level=level).iloc[0]
    return {
        "term": term,
        "label": f"{label} (k = {result.nobs})",
        "estimate": t["estimate"],
        "conf_low": t["conf_low"],
        "conf_high": t["conf_high"],
        "kind": "summary",
    }


def meta_forest_data(
    result: MetaResult,
    *,
    exponentiate: bool = False,
    conf_level: float | None = None,
    prediction: bool = True,
    heterogeneity: bool = True,
    decimals: int = 2,
) -> pd.DataFrame:
    """The rows a meta-analysis forest plot draws.

    Parameters
    ----------
    result : MetaResult
        A model without moderators (with or without subgroups).
    exponentiate : bool
        Back-transform to ratios (RR, OR, IRR).
    conf_level : float, optional
        Level of the intervals; default the model's.
    prediction : bool
        Add the prediction interval row (random-effects models).
    heterogeneity : bool
        Add notes with tau^2, I^2 and Q, and the test of subgroup differences.
    decimals : int
        Decimals in the notes.

    Returns
    -------
    pandas.DataFrame
        Columns ``term, label, estimate, conf_low, conf_high, kind, weight, group``
        (``kind`` as in :func:`~mutualaid_outcomes.plotting.plot_forest`); study rows
        carry the weights (percent) of the overall model; with subgroups, each block is a
        header, its studies and the subgroup's own pooled estimate.

    Raises
    ------
    OptionError
        For a meta-regression (plot its coefficients with ``plot_forest(result)``), a
        result that is not a meta-analysis, or ``exponentiate=True`` for a difference
        measure.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.meta import meta_analysis
    >>> df = pd.DataFrame({"yi": [-0.89, -1.59, -1.35, -0.22], "vi": [0.33, 0.19, 0.42, 0.05]})
    >>> meta_forest_data(meta_analysis(df))["kind"].tolist()
    ['study', 'study', 'study', 'study', 'summary', 'prediction', 'note']
    """
    result = _check(result)
    if not result.intercept_only:
        raise OptionError(
            "meta_forest_data() draws the studies and pooled effect of a model without "
            "moderators; plot meta-regression coefficients with plot_forest(result)."
        )
    result._check_exponentiate(exponentiate)
    level = result.conf_level if conf_level is None else conf_level
    studies = result.studies(level)
    rows: list[dict] = []
    for name, sub in result.subgroups:
        block = _study_rows(studies[studies["group"] == name])
        summary = _summary_row(
            sub, level, f"{result.by}={name}", f"{_model_label(sub)} for subgroup"
        )
        start = len(rows)
        rows.append({"term": f"header[{name}]", "label": f"{result.by} = {name}", "kind": "header"})
        rows += [*block, summary]
        if heterogeneity and sub.nobs > 1:
            rows.append(
                {
                    "term": f"note[{name}]",
                    "kind": "note",
                    "label": _heterogeneity_note(sub, decimals),
                }
            )
        for r in rows[start:]:
            r["group"] = name
    if not result.subgroups:
        rows += _study_rows(studies)
    rows.append(_summary_row(result, level, "overall", _model_label(result)))
    if prediction and result.is_random:
        p = result.predict(conf_level=level).iloc[0]
        rows.append(
            {
                "term": "prediction",
                "label": f"{round(100 * level)}% prediction interval",
                "estimate": np.nan,
                "conf_low": p["pi_low"],
                "conf_high": p["pi_high"],
                "kind": "prediction",
            }
        )
    if heterogeneity:
        rows.append(
            {"term": "note", "label": _heterogeneity_note(result, decimals), "kind": "note"}
        )
        if result.subgroups:
            g = result.glance().iloc[0]
            rows.append(
                {
                    "term": "note[subgroups]",
                    "kind": "note",
                    "label": (
                        f"Test for subgroup differences: Q = {format_number(g['q_between'], decimals)} "
                        f"(df = {int(g['q_between_df'])}, p {_p_text(g['q_between_p'])})"
                    ),
                }
            )
    cols = ["term", "label", "estimate", "conf_low", "conf_high", "kind", "weight", "group"]
    out = pd.DataFrame(rows).reindex(columns=cols)
    for col in ("estimate", "conf_low", "conf_high", "weight"):
        out[col] = out[col].astype(float)
    if exponentiate:
        for col in ("estimate", "conf_low", "conf_high"):
            out[col] = np.exp(out[col])
    return out


def plot_meta_forest(
    result: MetaResult,
    ax: Any = None,
    *,
    exponentiate: bool = False,
    conf_level: float | None = None,
    prediction: bool = True,
    heterogeneity: bool = True,
    xlabel: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotate: bool = True,
    decimals: int = 2,
) -> Any:
    """Forest plot of a meta-analysis: studies, pooled diamond, prediction interval, subgroups.

    Parameters
    ----------
    result : MetaResult
        A model without moderators (with or without ``by`` subgroups).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    exponentiate : bool
        Ratios on a log axis with the reference line at 1 (RR, OR, IRR).
    conf_level : float, optional
        Level of the intervals; default the model's.
    prediction, heterogeneity : bool
        Show the prediction interval row and the heterogeneity notes.
    xlabel : str, optional
        Default from the measure, e.g. "Risk ratio (95% CI)".
    labels : mapping, optional
        Replacement labels for rows, by study label.
    annotate : bool
        Print "estimate [low, high] weight%" right of each row.
    decimals : int
        Decimals of the annotations.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The rows are :func:`meta_forest_data`; drawing is done by
    :func:`~mutualaid_outcomes.plotting.plot_forest`. Study intervals are
    ``y_i +- z sqrt(v_i)``; square areas are proportional to the study weights.
    """
    data = meta_forest_data(
        result,
        exponentiate=exponentiate,
        conf_level=conf_level,
        prediction=prediction,
        heterogeneity=heterogeneity,
        decimals=decimals,
    )
    level = result.conf_level if conf_level is None else conf_level
    if xlabel is None:
        names = MEASURE_LABELS.get(result.measure or "", ("Effect", "Ratio"))
        xlabel = f"{names[1] if exponentiate else names[0]} ({round(100 * level)}% CI)"
    return plot_forest(
        data,
        ax=ax,
        exponentiate=exponentiate,
        xlabel=xlabel,
        annotate=annotate,
        decimals=decimals,
        drop_intercept=False,
        labels=labels,
    )


def funnel_data(
    result: MetaResult | TrimFillResult, *, conf_level: float = 0.95, exponentiate: bool = False
) -> pd.DataFrame:
    """The points and pseudo-confidence limits a funnel plot draws.

    Parameters
    ----------
    result : MetaResult or TrimFillResult
        A meta-analysis (for a meta-regression the residuals are plotted, centred at 0)
        or a trim-and-fill result (filled studies included and marked).
    conf_level : float
        Level of the pseudo-confidence region.
    exponentiate : bool
        Back-transform effects and limits (ratio measures).

    Returns
    -------
    pandas.DataFrame
        One row per study: ``study, estimate`` (effect, or residual), ``std_error,
        filled, center, pseudo_low, pseudo_high`` (``center +- z * std_error``).

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.meta import meta_analysis
    >>> df = pd.DataFrame({"yi": [0.8, 0.6, 0.5, 0.3], "vi": [0.2, 0.12, 0.09, 0.02]})
    >>> funnel_data(meta_analysis(df, method="FE"))[["estimate", "pseudo_low"]].round(3)
       estimate  pseudo_low
    0       0.8      -0.480
    1       0.6      -0.282
    2       0.5      -0.191
    3       0.3       0.120
    """
    if not hasattr(result, "studies"):
        raise OptionError(
            f"Expected the result of meta_analysis() or trim_and_fill(); got "
            f"{type(result).__name__}."
        )
    from scipy import stats

    studies = result.studies()
    intercept_only = getattr(result, "intercept_only", True)
    x = studies["estimate"] if intercept_only else studies["residual"]
    center = studies["fitted"] if intercept_only else 0.0
    z = float(stats.norm.isf((1 - conf_level) / 2))
    out = pd.DataFrame(
        {
            "study": studies["study"],
            "estimate": x,
            "std_error": studies["std_error"],
            "filled": studies["filled"].astype(bool),
            "center": center,
        }
    )
    out["pseudo_low"] = out["center"] - z * out["std_error"]
    out["pseudo_high"] = out["center"] + z * out["std_error"]
    if exponentiate:
        if hasattr(result, "_check_exponentiate"):
            result._check_exponentiate(True)
        for col in ("estimate", "center", "pseudo_low", "pseudo_high"):
            out[col] = np.exp(out[col])
    return out


def plot_funnel(
    result: MetaResult | TrimFillResult,
    ax: Any = None,
    *,
    conf_level: float = 0.95,
    exponentiate: bool = False,
    xlabel: str | None = None,
) -> Any:
    """Funnel plot: effects against standard errors, with the pseudo-confidence region.

    Parameters
    ----------
    result : MetaResult or TrimFillResult
        See :func:`funnel_data`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is made when omitted.
    conf_level : float
        Level of the pseudo-confidence region (dashed lines).
    exponentiate : bool
        Ratios on a log axis.
    xlabel : str, optional
        X-axis label; default from the measure.

    Returns
    -------
    matplotlib.axes.Axes

    Notes
    -----
    The standard error runs downwards from 0, as in metafor's ``funnel()``; filled
    studies of a trim-and-fill result are drawn as open circles.
    """
    import matplotlib.pyplot as plt
    from scipy import stats

    data = funnel_data(result, conf_level=conf_level, exponentiate=exponentiate)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    center = float(data["center"].iloc[0]) if len(data) else 0.0
    se_max = float(data["std_error"].max()) * 1.05
    z = float(stats.norm.isf((1 - conf_level) / 2))
    se_grid = np.array([0.0, se_max])
    c_lin = np.log(center) if exponentiate else center
    for sign in (-1, 1):
        xs = c_lin + sign * z * se_grid
        ax.plot(np.exp(xs) if exponentiate else xs, se_grid, "--", color="grey", linewidth=0.8)
    ax.plot([center, center], [0, se_max], color="grey", linewidth=0.8)
    obs, fill = data[~data["filled"]], data[data["filled"]]
    ax.scatter(obs["estimate"], obs["std_error"], color="black", s=18, zorder=3)
    if len(fill):
        ax.scatter(
            fill["estimate"],
            fill["std_error"],
            facecolors="white",
            edgecolors="black",
            s=18,
            zorder=3,
        )
    ax.set_ylim(se_max, 0)
    if exponentiate:
        ax.set_xscale("log")
        lo = float(min(data["estimate"].min(), np.exp(c_lin - z * se_max)))
        hi = float(max(data["estimate"].max(), np.exp(c_lin + z * se_max)))
        ratio_ticks(ax, lo, hi)
    names = MEASURE_LABELS.get(getattr(result, "measure", None) or "", ("Effect", "Ratio"))
    intercept_only = getattr(result, "intercept_only", True)
    default = (names[1] if exponentiate else names[0]) if intercept_only else "Residual"
    ax.set_xlabel(xlabel or default)
    ax.set_ylabel("Standard error")
    return ax
