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

As in R forestploter, a figure made by :func:`plot_forest` is sized to its rows (0.26 in
per row) and to its text: row labels on the left; on the right a column with
"estimate (low, high)" headed by the measure ("HR (95% CI)") and optional text columns
of the frame such as N and events. The ratio axis is labelled with the model's measure
("Hazard ratio (95% CI)", from :func:`~mutualaid_outcomes._labels.ratio_label`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._labels import ratio_label, resolve_labels
from .._validation import check_columns, renamed
from ..disclosure import check_min_cell, count_text
from ..errors import ArgumentTypeError, DataValidationError
from ..results import TidyProtocol
from ._layout import fit_figure, text_width_inches

__all__ = ["forest_data", "plot_forest", "fit_counts", "ROW_KINDS"]

#: row kinds understood by :func:`plot_forest` (see the module docstring)
ROW_KINDS: tuple[str, ...] = ("effect", "study", "summary", "prediction", "header", "note")
_OPTIONAL = ("model", "label", "kind", "weight", "group", "n", "n_events")
#: headers of the text columns known by name
_COLUMN_HEADERS = {"n": "N", "n_events": "Events", "weight": "Weight (%)"}
_ABBREVIATIONS = {
    "Hazard ratio": "HR",
    "Odds ratio": "OR",
    "Risk ratio": "RR",
    "Rate ratio": "IRR",
    "Subdistribution hazard ratio": "sHR",
}
ROW_INCHES = 0.26


@renamed(effects="result")
def forest_data(
    result: TidyProtocol | pd.DataFrame,
    *,
    terms: Sequence[str] | None = None,
    exponentiate: bool = False,
    conf_level: float = 0.95,
    labels: Mapping[str, Any] | None = None,
    codebook: Any = None,
    drop_intercept: bool = True,
    min_cell: int | None = None,
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
        Row labels. Factor dummies name their reference level when it is known
        ("Arm: TSF vs CBT"), as in :func:`~mutualaid_outcomes.tables.regression_table`.
    drop_intercept : bool
        Leave out intercept rows.
    min_cell : int, optional
        Disclosure control (default none; the pipeline uses ``output.min_cell``): ``n``
        and ``n_events`` below ``min_cell`` (zero included) become missing, and their
        text columns read ``"<min_cell"``
        (:func:`~mutualaid_outcomes.disclosure.count_text`).

    Returns
    -------
    pandas.DataFrame
        Columns term, label, estimate, conf_low, conf_high, the optional columns present,
        ``n_text`` and ``n_events_text`` (the counts as printed) when there are counts,
        and y (row position, top = largest). For a fitted result, ``n`` is its number
        of people (``n_ids`` when the model has several rows per person, else
        ``nobs``) and ``n_events`` its number of events when it has one (Cox,
        Fine-Gray); a frame's own ``n`` and ``n_events`` columns are kept as given.

    Raises
    ------
    DataValidationError
        A ``result`` that is neither a fitted result nor a tidy frame, missing
        columns, unknown row kinds or ``terms``.

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["a", "b"], "estimate": [1.2, 0.8],
    ...                      "conf_low": [1.0, 0.6], "conf_high": [1.5, 1.1]})
    >>> forest_data(tidy)[["term", "y"]].values.tolist()
    [['a', 1], ['b', 0]]
    >>> counts = tidy.assign(n=[250, 40], n_events=[31, 6])
    >>> forest_data(counts, min_cell=11)[["n_text", "n_events_text"]].values.tolist()
    [['250', '31'], ['40', '<11']]
    """
    min_cell = check_min_cell(min_cell)
    if isinstance(result, pd.DataFrame):
        frame = result.copy()
    elif hasattr(result, "tidy"):
        frame = result.tidy(conf_level=conf_level, exponentiate=exponentiate)
        for column, count in fit_counts(result).items():
            if column not in frame and count is not None:
                frame[column] = count
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
        explicit = resolve_labels(labels).variables
        names = [explicit.get(str(t), g) for t, g in zip(out["term"], given)]
    else:
        names = _term_labels(out["term"].astype(str).tolist(), labels, codebook)
    out.insert(1, "label", names)
    for c in ("n", "n_events"):
        if c in out:
            values = pd.to_numeric(out[c], errors="coerce").astype(float)
            out[f"{c}_text"] = [
                count_text(v, min_cell) if np.isfinite(v) else _cell(given)
                for v, given in zip(values, out[c])
            ]
            if min_cell is not None:
                out[c] = values.where(values >= min_cell)
    out["y"] = np.arange(len(out))[::-1]
    return out


def fit_counts(result: TidyProtocol | pd.DataFrame) -> dict[str, float | None]:
    """The ``n`` (people) and ``n_events`` of a fitted result, None where it has none.

    ``n`` is ``n_ids`` when finite (several rows per person, e.g. a time-varying Cox
    model), else ``nobs`` (the coefficient protocol); ``n_events`` is the result's
    ``n_events`` attribute.

    Examples
    --------
    >>> class Fit:
    ...     nobs, n_ids, n_events = 1200, 300, 87
    >>> fit_counts(Fit())
    {'n': 300.0, 'n_events': 87.0}
    """

    def number(name: str) -> float | None:
        try:  # a result without coefficients raises NotImplementedError for `nobs`
            f = float(getattr(result, name))
        except (AttributeError, NotImplementedError, TypeError, ValueError):
            return None
        return f if np.isfinite(f) else None

    n = number("n_ids")
    return {"n": n if n is not None else number("nobs"), "n_events": number("n_events")}


def _term_labels(terms: list[str], labels: Any, codebook: Any) -> list[str]:
    """Row labels of model terms: explicit labels first, then the tables' term rows.

    Factor dummies get "Variable: level vs reference" with the reference level found
    from the other levels shown (:func:`~mutualaid_outcomes.tables.regression_tables.model_rows`).
    """
    from ..tables.regression_tables import model_rows

    lab = resolve_labels(labels, codebook)
    named = {
        term: text
        for block in model_rows(terms, lab, reference_rows=False)
        for text, term in block.rows
        if term is not None
    }
    return [lab.variables.get(t) or named.get(t) or lab.term(t) for t in terms]


def _measure(result: Any, exponentiate: bool, conf_level: float) -> tuple[str, str]:
    """Axis label and column header: ("Hazard ratio (95% CI)", "HR (95% CI)")."""
    ci = f"({conf_level * 100:g}% CI)"
    if not exponentiate:
        return f"Estimate {ci}", f"Estimate {ci}"
    name = ratio_label(None if isinstance(result, pd.DataFrame) else result)
    return f"{name} {ci}", f"{_ABBREVIATIONS.get(name, name)} {ci}"


def _check_columns_arg(columns: Any, data: pd.DataFrame) -> dict[str, str]:
    if columns is None:
        return {}
    if isinstance(columns, str) or not isinstance(columns, (Mapping, Sequence)):
        raise ArgumentTypeError(
            f"`columns` must be a list of column names or a {{column: header}} mapping; "
            f"got {columns!r}."
        )
    cols = dict(columns) if isinstance(columns, Mapping) else {c: None for c in columns}
    missing = [c for c in cols if c not in data]
    if missing:
        raise DataValidationError(
            f"`columns` {missing} are not columns of the forest data; available: "
            f"{[c for c in data.columns if c not in ('y', 'kind')]}."
        )
    return {c: h or _COLUMN_HEADERS.get(c, c) for c, h in cols.items()}


@renamed(effects="result")
def plot_forest(
    result: TidyProtocol | pd.DataFrame,
    ax: Any = None,
    *,
    exponentiate: bool = False,
    reference: float | None = None,
    log_scale: bool | None = None,
    xlabel: str | None = None,
    annotate: bool = True,
    columns: Sequence[str] | Mapping[str, str] | None = None,
    decimals: int = 2,
    **kwargs: Any,
) -> Any:
    """Draw a forest plot of estimates with confidence intervals.

    Parameters
    ----------
    result : result or tidy DataFrame
        See :func:`forest_data`.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure sized to the rows and text is made when omitted.
    exponentiate : bool
        Ratios (reference line at 1, log scale by default).
    reference : float, optional
        Position of the no-effect line; 1 for ratios, 0 otherwise.
    log_scale : bool, optional
        Log x axis; default ``exponentiate``.
    xlabel : str, optional
        X-axis label; default the measure with the interval level, "Hazard ratio
        (95% CI)" for a Cox model, "Odds ratio (95% CI)" for a logistic one,
        "Estimate (95% CI)" without ``exponentiate``.
    annotate : bool
        Print "estimate (low, high)" at the right of each row, headed "HR (95% CI)".
    columns : list of str or mapping, optional
        Further text columns of the forest data to print at the right, e.g.
        ``["n", "n_events"]`` (headed "N" and "Events") or ``{"n": "Patients"}``. A
        fitted result supplies ``n`` and ``n_events`` itself (see :func:`forest_data`);
        counts below ``min_cell`` print as ``"<min_cell"``.
    decimals : int
        Decimals of the annotation.
    **kwargs
        Passed to :func:`forest_data` (``terms``, ``labels``, ``codebook``,
        ``conf_level``, ``drop_intercept``, ``min_cell``).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    DataValidationError
        ``columns`` naming columns the data do not have.

    Examples
    --------
    >>> tidy = pd.DataFrame({"term": ["aa", "age"], "estimate": [0.6, 1.01],
    ...     "conf_low": [0.45, 0.99], "conf_high": [0.8, 1.03], "n": [1516, 1516]})
    >>> ax = plot_forest(tidy, exponentiate=True, columns=["n"])
    >>> ax.get_xlabel()
    'Ratio (95% CI)'
    >>> [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    ['N', 'Ratio (95% CI)']
    """
    data = forest_data(result, exponentiate=exponentiate, **kwargs)
    cols = _check_columns_arg(columns, data)
    axis_label, header = _measure(result, exponentiate, kwargs.get("conf_level", 0.95))
    if xlabel is not None and isinstance(result, pd.DataFrame):
        header = xlabel  # a frame does not say its measure; the caller's label does
    own = ax is None
    if own:
        ax = _new_forest_axes(data, len(data), bool(cols) or annotate)
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
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
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
    ax.set_xlabel(xlabel or axis_label)
    headed = bool(cols) or annotate
    _text_columns(ax, data, cols, header if annotate else None, decimals)
    ax.set_ylim(-0.7, len(data) - 0.3 + (0.9 if headed else 0))
    if own:
        fit_figure(ax.figure)
    return ax


def _new_forest_axes(data: pd.DataFrame, n_rows: int, headed: bool) -> Any:
    """A figure whose plot area is 2.6 in wide and ROW_INCHES per row high."""
    import matplotlib.pyplot as plt

    label_w = max((text_width_inches(t, 9) for t in data["label"]), default=1.0)
    height = ROW_INCHES * (n_rows + (1 if headed else 0)) + 0.2
    fig = plt.figure(figsize=(label_w + 2.6 + 3.0, height + 0.7))
    w, h = fig.get_size_inches()
    return fig.add_axes((label_w / w + 0.2 / w, 0.6 / h, 2.6 / w, height / h))


#: tick sets for log ratio axes, coarsest first; the first giving 3+ ticks is used
_RATIO_TICK_SETS = (
    (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100),
    (0.1, 0.25, 0.5, 1, 2, 4, 10),
    (0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4),
    (0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2),
    (0.8, 0.85, 0.9, 0.95, 1, 1.05, 1.1, 1.15, 1.2, 1.25),
    (0.9, 0.95, 0.98, 1, 1.02, 1.05, 1.1),
)


def ratio_ticks(ax: Any, lo: float, hi: float) -> list[float]:
    """Readable ticks (0.5, 1, 2 ... or 0.8, 0.9, 1, 1.1 ...) on a log x axis spanning lo..hi.

    The coarsest set with at least three ticks inside ``[lo, hi]`` widened by 10% is
    used; tick labels are plain numbers (never ``10^0``) and the axis is widened to
    show every tick. Returns the ticks.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> _, ax = plt.subplots()
    >>> ax.set_xscale("log")
    >>> ratio_ticks(ax, 0.87, 1.17), ratio_ticks(ax, 0.3, 2.2)
    ([0.8, 0.9, 1.0, 1.25], [0.5, 1.0, 2.0])
    """
    ticks: list[float] = []
    for candidates in _RATIO_TICK_SETS:
        arr = np.asarray(candidates, dtype=float)
        inside = arr[(arr >= lo / 1.1) & (arr <= hi * 1.1)]
        if len(inside) >= 3:
            ticks = inside.tolist()
            break
    if not ticks:
        ticks = [float(t) for t in np.unique(np.round([lo, 1.0, hi], 2))]
    ax.minorticks_off()
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlim(min(lo, ticks[0]) / 1.05, max(hi, ticks[-1]) * 1.05)
    return ticks


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


def _interval_text(r: pd.Series, decimals: int) -> str:
    if not np.isfinite(r["estimate"]) and not np.isfinite(r["conf_low"]):
        return ""
    text = f"({r['conf_low']:.{decimals}f}, {r['conf_high']:.{decimals}f})"
    if np.isfinite(r["estimate"]):
        text = f"{r['estimate']:.{decimals}f} " + text
    return text


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return f"{int(value)}"
    if isinstance(value, (float, np.floating)):
        return f"{value:.1f}"
    return str(value)


def _text_columns(
    ax: Any, data: pd.DataFrame, cols: dict[str, str], header: str | None, decimals: int
) -> None:
    """Text columns at the right of the plot: ``cols`` then the estimate column.

    Columns are placed from their text widths (inches, converted to axes fractions),
    right-aligned for counts and left-aligned for the estimate, with bold headers on a
    row above the top row.
    """
    has_weight = "weight" in data and data["weight"].notna().any() and header is not None
    columns: list[tuple[str, list[str], str]] = [
        (h, [_cell(v) for v in data[f"{c}_text" if f"{c}_text" in data else c]], "right")
        for c, h in cols.items()
    ]
    if header is not None:
        texts = [_interval_text(r, decimals) for _, r in data.iterrows()]
        if has_weight and "weight" not in cols:
            columns.append(("Weight (%)", [_cell(round(w, 1)) for w in data["weight"]], "right"))
        columns.append((header, texts, "left"))
    if not columns:
        return
    fig = ax.figure
    ax_w = ax.get_position().width * fig.get_figwidth()
    x = 1.04
    top = len(data)
    for head, cells, align in columns:
        width = max(text_width_inches(t, 9) for t in [head, *cells]) / ax_w
        at = x + width if align == "right" else x
        kw = {"xycoords": ("axes fraction", "data"), "va": "center", "ha": align}
        ax.annotate(head, xy=(at, top), fontweight="bold", fontsize="small", **kw)
        for y, text in zip(data["y"], cells):
            ax.annotate(text, xy=(at, y), fontsize="small", **kw)
        x += width + 0.08
