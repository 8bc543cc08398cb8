"""Estimated trajectory classes of a fitted group-based trajectory model.

:func:`plot_trajectory_classes` draws each class's estimated mean trajectory with its
pointwise confidence band and the observed class means, with a legend labelled by class
share; :func:`trajectory_classes_data` returns the frame it draws. (For observed means by
a known grouping, such as trial arm, see :mod:`.trajectories`.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._labels import resolve_codebook, variable_label
from .._validation import check_conf_level, check_option
from ..disclosure import check_min_cell
from ..errors import ArgumentTypeError
from ..models.trajectories.result import hidden_classes_note
from .style import OKABE_ITO

if TYPE_CHECKING:
    from ..models.trajectories.result import TrajectoryResult

__all__ = ["trajectory_classes_data", "plot_trajectory_classes"]

DATA_COLUMNS = (
    "class",
    "label",
    "share",
    "kind",
    "time",
    "estimate",
    "conf_low",
    "conf_high",
    "n",
)


def _check_result(result: Any) -> None:
    needed = ("predict", "observed_means", "shares", "n_groups")
    if not all(hasattr(result, a) for a in needed):
        raise ArgumentTypeError(
            "`result` must be a fitted trajectory model (the result of fit_trajectories); "
            f"got {type(result).__name__}."
        )


def trajectory_classes_data(
    result: TrajectoryResult,
    *,
    conf_level: float = 0.95,
    n_points: int = 50,
    observed: Literal["modal", "posterior"] | None = "modal",
    min_cell: int | None = None,
) -> pd.DataFrame:
    """The curves, bands and observed means that :func:`plot_trajectory_classes` draws.

    Parameters
    ----------
    result : TrajectoryResult
        A fitted trajectory model.
    conf_level : float
        Confidence level of the bands.
    n_points : int
        Points along each estimated curve.
    observed : {"modal", "posterior"} or None
        Observed class means by modal class, posterior-weighted, or none.
    min_cell : int, optional
        Disclosure control (default none, ``docs/disclosure.md``): an observed mean of
        fewer than ``min_cell`` persons (or summed weights) is left out, and the share
        of a class with fewer than ``min_cell`` assigned persons (or of the class its
        size could be recovered from) is NaN, its label ``"Class k"``.

    Returns
    -------
    pandas.DataFrame
        Columns ``class, label, share, kind, time, estimate, conf_low, conf_high, n``;
        ``kind`` is ``"fitted"`` (estimated curve, ``n`` empty) or ``"observed"`` (class
        mean at an observed time, no interval, ``n`` persons or summed weights). ``label``
        is ``"Class k (s%)"`` with ``s`` the estimated share.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.trajectories import fit_trajectories
    >>> rng = np.random.default_rng(5)
    >>> n, t = 120, np.arange(4.0)
    >>> y = np.where(rng.random(n)[:, None] < 0.5, 1.0, 4.0) + 0.5 * t + rng.normal(size=(n, 4))
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "wave": np.tile(t, n), "y": y.ravel()})
    >>> res = fit_trajectories(df, "id", "wave", "y", 2, degree=1, n_starts=3, rng=1)
    >>> d = trajectory_classes_data(res, n_points=5)
    >>> d.groupby(["class", "kind"]).size().tolist()
    [5, 4, 5, 4]
    """
    _check_result(result)
    conf_level = check_conf_level(conf_level)
    if observed is not None:
        check_option(observed, ("modal", "posterior"), "observed")
    fitted = result.predict(conf_level=conf_level, n_points=n_points).assign(
        kind="fitted", n=float("nan")
    )
    parts = [fitted]
    if observed is not None:
        obs = result.observed_means(weighting=observed).rename(columns={"mean": "estimate"})
        parts.append(obs.assign(kind="observed", conf_low=float("nan"), conf_high=float("nan")))
    out = pd.concat(parts, ignore_index=True)
    min_cell = check_min_cell(min_cell)
    if min_cell is not None:
        few = (out["kind"] == "observed") & (out["n"] < min_cell)
        out = out[~few].reset_index(drop=True)
    tab = result.class_table(min_cell=min_cell)
    shares = dict(zip(tab["class"].astype(int), tab["share"].astype(float)))
    out["share"] = out["class"].map(shares)
    out["label"] = [
        f"Class {k} ({shares[k]:.1%})" if np.isfinite(shares[k]) else f"Class {k}"
        for k in out["class"]
    ]
    return out.loc[:, list(DATA_COLUMNS)]


def plot_trajectory_classes(
    result: TrajectoryResult,
    ax: Any = None,
    *,
    conf_level: float = 0.95,
    n_points: int = 50,
    observed: Literal["modal", "posterior"] | None = "modal",
    band: bool = True,
    codebook: Any = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    min_cell: int | None = None,
) -> Any:
    """Plot the estimated trajectory of each class with confidence bands and observed means.

    Parameters
    ----------
    result : TrajectoryResult
        A fitted trajectory model.
    ax : matplotlib Axes, optional
        Axes to draw on (a new figure when omitted).
    conf_level : float
        Confidence level of the bands.
    n_points : int
        Points along each curve.
    observed : {"modal", "posterior"} or None
        Observed class means to overlay (markers), or none.
    band : bool
        Draw the confidence bands.
    codebook : Codebook, optional
        Variable labels for the axes.
    xlabel, ylabel : str, optional
        Axis labels (default: the codebook labels or the column names).
    min_cell : int, optional
        Disclosure control (see :func:`trajectory_classes_data`); a note names the
        classes whose share is not shown.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.trajectories import fit_trajectories
    >>> rng = np.random.default_rng(5)
    >>> n, t = 120, np.arange(4.0)
    >>> y = np.where(rng.random(n)[:, None] < 0.5, 1.0, 4.0) + 0.5 * t + rng.normal(size=(n, 4))
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(n), 4), "wave": np.tile(t, n), "y": y.ravel()})
    >>> res = fit_trajectories(df, "id", "wave", "y", 2, degree=1, n_starts=3, rng=1)
    >>> ax = plot_trajectory_classes(res)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Class 1 (50.8%)', 'Class 2 (49.2%)']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt

    d = trajectory_classes_data(
        result, conf_level=conf_level, n_points=n_points, observed=observed, min_cell=min_cell
    )
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, (_, s) in enumerate(d.groupby("class", sort=True)):
        color = OKABE_ITO[i % len(OKABE_ITO)]
        fit = s[s["kind"] == "fitted"]
        ax.plot(fit["time"], fit["estimate"], color=color, label=fit["label"].iloc[0])
        if band:
            ax.fill_between(
                fit["time"], fit["conf_low"], fit["conf_high"], color=color, alpha=0.2, linewidth=0
            )
        obs = s[s["kind"] == "observed"]
        if len(obs):
            ax.plot(obs["time"], obs["estimate"], linestyle="none", marker="o", color=color)
    cb = resolve_codebook(codebook, None)
    ax.set_xlabel(xlabel or variable_label(cb, result.time))
    ax.set_ylabel(ylabel or variable_label(cb, result.outcome))
    ax.legend(title="Trajectory class")
    tab = result.class_table(min_cell=min_cell)
    if tab["n_assigned"].isna().any():
        ax.text(0.98, 0.02, hidden_classes_note(tab, int(min_cell)), transform=ax.transAxes,  # type: ignore[arg-type]
                ha="right", va="bottom", fontsize="x-small")  # fmt: skip
    return ax
