"""Publication tables of group-based trajectory models.

:func:`trajectory_table` lists one fitted model's parameters by class (the curve, the
residual SD or zero inflation) and its membership model; :func:`trajectory_fit_table`
puts models with different numbers of classes side by side (log-likelihood, BIC,
entropy, smallest class, bootstrap LRT), the table used to choose the number of
classes; :func:`trajectory_class_table` is Nagin's (2005) table of classification
adequacy (estimated and assigned shares, AvePP, OCC). All return a
:class:`~mutualaid_outcomes.tables.Table` (Word, LaTeX, HTML, Markdown, CSV).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from mutualaid_outcomes.models.trajectories import fit_trajectories
>>> rng = np.random.default_rng(1)
>>> n, t = 300, np.arange(5.0)
>>> high = rng.random(n) < 0.4
>>> y = np.where(high[:, None], 6 + 1.0 * t, 2 - 0.3 * t) + rng.normal(size=(n, 5))
>>> df = pd.DataFrame({"id": np.repeat(np.arange(n), 5), "month": np.tile(t, n),
...                    "score": y.ravel()})
>>> res = fit_trajectories(df, "id", "month", "score", 2, degree=1, n_starts=5, rng=1)
>>> trajectory_table(res).body.index[:3].tolist()
['Class 1 (57.7%)', 'Intercept', 'month']
>>> trajectory_class_table(res).columns
['Estimated share, %', 'Assigned, n (%)', 'AvePP', 'OCC']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._labels import variable_label
from .._validation import check_conf_level
from ..disclosure import SUPPRESSED, check_min_cell, count_text, small_text
from ..errors import ArgumentTypeError, DataValidationError
from ..models.trajectories.result import hidden_classes_note
from .formatting import format_ci, format_number, format_p, get_style
from .table import Table

if TYPE_CHECKING:
    from ..models.trajectories.compare import TrajectoryComparisonResult
    from ..models.trajectories.result import TrajectoryResult

__all__ = ["trajectory_table", "trajectory_fit_table", "trajectory_class_table"]

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_LINK = {
    "gaussian": "identity link",
    "cnorm": "latent (uncensored) scale",
    "poisson": "log link",
    "zip": "log link for the count part, logit for zero inflation",
    "logit": "logit link",
}


def _is_trajectory(obj: Any) -> bool:
    return type(obj).__name__ == "TrajectoryResult" and hasattr(obj, "class_table")


def _check_result(result: Any, argument: str = "result") -> None:
    if not _is_trajectory(result):
        raise ArgumentTypeError(
            f"`{argument}` must be a fitted trajectory model (fit_trajectories); got "
            f"{type(result).__name__}."
        )


def _term_label(term: str, res: Any, codebook: Any, labels: Mapping[str, str] | None) -> str:
    """Row label of a reported parameter (without its ``classK:`` prefix)."""
    if term == "(Intercept)":
        return "Intercept"
    if term == "sigma":
        return "Residual SD"
    if term.startswith("zero_"):
        return "Zero inflation (logit): " + _term_label(term[5:], res, codebook, labels)
    m = re.fullmatch(re.escape(res.time) + r"\^(\d+)", term)
    if m:
        return variable_label(codebook, res.time, labels) + m.group(1).translate(_SUPERSCRIPT)
    return variable_label(codebook, term, labels)


def _cells(r: pd.Series, st: Any, decimals: int) -> list[str]:
    return [
        format_number(r["estimate"], decimals, st.minus),
        format_number(r["std_error"], decimals, st.minus),
        format_ci(r["conf_low"], r["conf_high"], st, decimals),
        format_p(r["p_value"], st),
    ]


def trajectory_table(
    result: TrajectoryResult,
    *,
    conf_level: float = 0.95,
    style: str = "apa",
    decimals: int = 2,
    codebook: Any = None,
    labels: Mapping[str, str] | None = None,
    title: str = "",
    min_cell: int | None = None,
) -> Table:
    """Parameter table of a group-based trajectory model, by class.

    Parameters
    ----------
    result : TrajectoryResult
        A model from :func:`~mutualaid_outcomes.models.trajectories.fit_trajectories`.
    conf_level : float
        Confidence level of the Wald intervals.
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values and intervals.
    decimals : int
        Decimals of estimates, SEs and limits.
    codebook, labels : optional
        Variable labels (time, time-varying and membership covariates).
    title : str
        Caption.
    min_cell : int, optional
        Disclosure control (default none, ``docs/disclosure.md``): the share of a class
        with fewer than ``min_cell`` assigned persons (and of the class its size could
        be recovered from) is not shown, and a note names those classes.

    Returns
    -------
    Table
        A section row per class, ``"Class k (share)"``, over indented rows of its curve
        coefficients (raw time: intercept, time, time², time-varying covariates), its
        residual SD (``variance="group"``) or zero-inflation logit; a ``"Residual SD"``
        row for a common SD; then ``"Class membership (reference: class 1)"`` with the
        multinomial-logit coefficients of classes 2..K. ``numbers`` holds the tidy frame.

    Raises
    ------
    ArgumentTypeError
        ``result`` is not a trajectory model.
    """
    _check_result(result)
    conf_level = check_conf_level(conf_level)
    st = get_style(style)
    td = result.tidy(conf_level=conf_level)
    min_cell = check_min_cell(min_cell)
    tab = result.class_table(min_cell=min_cell)
    shares = tab["share"].to_numpy()
    ci_head = f"{int(round(conf_level * 100))}% CI"
    cols = ["Estimate", "SE", ci_head, "p"]
    rows: list[list[str]] = []
    index: list[str] = []
    indent: list[int] = []

    def section(name: str, part: pd.DataFrame, strip: str) -> None:
        if part.empty:
            return
        index.append(name)
        rows.append([""] * len(cols))
        for _, r in part.iterrows():
            indent.append(len(rows))
            index.append(_term_label(r["term"].removeprefix(strip), result, codebook, labels))
            rows.append(_cells(r, st, decimals))

    for k in range(1, result.n_groups + 1):
        part = td[(td["class"] == k) & (td["part"] != "membership")]
        share = f"{shares[k - 1]:.1%}" if np.isfinite(shares[k - 1]) else "share suppressed"
        section(f"Class {k} ({share})", part, f"class{k}:")
    shared = td[td["class"].isna() & (td["part"] != "membership")]
    section("All classes", shared, "")  # a common residual SD
    if result.n_groups > 1:
        index.append("Class membership (reference: class 1)")
        rows.append([""] * len(cols))
        for _, r in td[td["part"] == "membership"].iterrows():
            k, term = r["term"].removeprefix("membership:class").split(":", 1)
            indent.append(len(rows))
            index.append(f"Class {k}: {_term_label(term, result, codebook, labels)}")
            rows.append(_cells(r, st, decimals))
    g = result.glance().iloc[0]
    degs = sorted(set(result.degree))
    deg = str(degs[0]) if len(degs) == 1 else ", ".join(str(d) for d in result.degree)
    notes = [
        f"{result.n_groups}-class {result._spec.family.label} trajectory model "
        f"({_LINK.get(result.family, '')}), polynomial degree {deg} in "
        f"{variable_label(codebook, result.time, labels)} (raw time); N = "
        f"{count_text(result.n, min_cell)} persons, {count_text(result.nobs, min_cell)} "
        "observations.",
        f"Log-likelihood {format_number(g['loglik'], 1, st.minus)}; BIC "
        f"{format_number(g['bic'], 1, st.minus)}; entropy "
        f"{format_number(g['entropy'], 2, st.minus) if np.isfinite(g['entropy']) else 'n/a'}; "
        "class shares are estimated (mean posterior probability).",
        "SEs from the observed information; Wald intervals.",
    ]
    notes += [n for n in result._notes_ if "at a limit" in n or "not positive definite" in n]
    if tab["n_assigned"].isna().any():
        notes.append(hidden_classes_note(tab, int(min_cell)))  # type: ignore[arg-type]
    return Table(
        body=pd.DataFrame(rows, index=index, columns=cols),
        title=title,
        footnotes=notes,
        stub_header="Parameter",
        indent=indent,
        numbers=td,
    )


def _fit_rows(results: Any, min_cell: int | None = None) -> tuple[list[str], pd.DataFrame]:
    """Model names and a frame of their fit statistics (comparison table columns)."""
    if type(results).__name__ == "TrajectoryComparisonResult":
        t = results.table.copy()
        if min_cell is not None:  # a model not kept cannot be checked: hide its values
            for i, k in enumerate(t["n_groups"]):
                fit = results.fits.get(int(k))
                small = fit is None or fit.class_table(min_cell=min_cell)["n_assigned"].isna().any()
                if small:
                    t.loc[t.index[i], ["smallest_class", "min_avepp"]] = np.nan
        names = [f"{k} class" + ("es" if k != 1 else "") for k in t["n_groups"]]
        return names, t.reset_index(drop=True)
    if isinstance(results, Mapping):
        items = list(results.items())
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(f"Model {i + 1}", r) for i, r in enumerate(results)]
    else:
        items = [("Model 1", results)]
    if not items:
        raise DataValidationError("`results` is empty; pass at least one fitted trajectory model.")
    frames = []
    for name, r in items:
        _check_result(r, f"results['{name}']")
        frames.append(r.disclosed(min_cell)[0] if min_cell is not None else r.glance())
    t = pd.concat(frames, ignore_index=True)
    t["blrt_p_value"] = np.nan
    return [str(n) for n, _ in items], t


def trajectory_fit_table(
    results: TrajectoryComparisonResult
    | TrajectoryResult
    | Sequence[TrajectoryResult]
    | Mapping[str, TrajectoryResult],
    *,
    style: str = "apa",
    decimals: int = 2,
    title: str = "",
    min_cell: int | None = None,
) -> Table:
    """Fit statistics of trajectory models with different numbers of classes.

    Parameters
    ----------
    results : TrajectoryComparisonResult, TrajectoryResult, or a sequence or mapping of them
        The output of :func:`~mutualaid_outcomes.models.trajectories.compare_trajectories`
        (rows named ``"k classes"``), or fitted models (named by the mapping's keys).
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values.
    decimals : int
        Decimals of entropy and AvePP (log-likelihood, AIC and BIC get one decimal,
        the smallest class share one decimal of a percent).
    title : str
        Caption.
    min_cell : int, optional
        Disclosure control (default none): the smallest class share and minimum AvePP
        of a model whose smallest class has fewer than ``min_cell`` assigned persons are
        not shown.

    Returns
    -------
    Table
        One row per model: ``Log-likelihood``, ``Parameters``, ``AIC``, ``BIC``,
        ``Entropy``, ``Smallest class, %``, ``Min. AvePP`` and, when a bootstrap LRT
        was run, ``BLRT p``. ``numbers`` holds the full-precision statistics.

    Raises
    ------
    ArgumentTypeError
        An element is not a trajectory model.
    DataValidationError
        ``results`` is empty.
    """
    st = get_style(style)
    min_cell = check_min_cell(min_cell)
    names, t = _fit_rows(results, min_cell)

    def num(v: Any, d: int) -> str:
        return format_number(v, d, st.minus) if pd.notna(v) and np.isfinite(v) else "–"

    body = pd.DataFrame(
        {
            "Log-likelihood": [num(v, 1) for v in t["loglik"]],
            "Parameters": [str(int(v)) if pd.notna(v) else "–" for v in t["df"]],
            "AIC": [num(v, 1) for v in t["aic"]],
            "BIC": [num(v, 1) for v in t["bic"]],
            "Entropy": [num(v, decimals) for v in t["entropy"]],
            "Smallest class, %": [num(100 * v, 1) for v in t["smallest_class"]],
            "Min. AvePP": [num(v, decimals) for v in t["min_avepp"]],
        },
        index=names,
    )
    has_blrt = bool(t["blrt_p_value"].notna().any())
    if has_blrt:
        body["BLRT p"] = [format_p(p, st) if pd.notna(p) else "–" for p in t["blrt_p_value"]]
    notes = [
        "AIC = -2 log-likelihood + 2 parameters; BIC = -2 log-likelihood + parameters × "
        "log(persons); smaller is better. Entropy: relative entropy of the posterior "
        "class probabilities (1 = perfect separation). AvePP: average posterior "
        "probability of the persons assigned to a class (Nagin 2005 suggests > 0.7)."
    ]
    if has_blrt:
        n_boot = int(t["blrt_n_boot"].max())
        notes.append(
            f"BLRT: bootstrap likelihood-ratio test of k against k - 1 classes "
            f"({n_boot} bootstrap samples)."
        )
    local = [n for n, v in zip(names, t["possibly_local"]) if v is True or v == 1]
    if local:
        notes.append(
            "Best log-likelihood reached by a single random start (possibly a local "
            f"maximum): {', '.join(local)}."
        )
    if min_cell is not None and t["smallest_class"].isna().any():
        notes.append(
            f"Smallest class share and AvePP not shown where a class has fewer than "
            f"{min_cell} assigned persons."
        )
    return Table(body=body, title=title, footnotes=notes, stub_header="Model", numbers=t)


def trajectory_class_table(
    result: TrajectoryResult, *, decimals: int = 2, title: str = "", min_cell: int | None = None
) -> Table:
    """Classification adequacy of a trajectory model, one row per class (Nagin 2005).

    Parameters
    ----------
    result : TrajectoryResult
        A fitted model.
    decimals : int
        Decimals of AvePP and OCC.
    title : str
        Caption.
    min_cell : int, optional
        Disclosure control (default none, ``docs/disclosure.md``): every cell of a class
        with fewer than ``min_cell`` assigned persons is ``<min_cell``, and of the class
        its size could be recovered from, ``suppressed``.

    Returns
    -------
    Table
        Rows ``Class k``; columns ``Estimated share, %`` (mean posterior probability),
        ``Assigned, n (%)`` (modal class), ``AvePP`` (average posterior probability of
        the persons assigned to the class) and ``OCC`` (odds of correct classification).

    Raises
    ------
    ArgumentTypeError
        ``result`` is not a trajectory model.
    """
    _check_result(result)
    min_cell = check_min_cell(min_cell)
    full = result.class_table()
    tab = result.class_table(min_cell=min_cell)
    n = int(full["n_assigned"].sum())
    body = pd.DataFrame(
        {
            "Estimated share, %": [format_number(100 * v, 1) for v in tab["share"]],
            "Assigned, n (%)": [
                f"{int(c)} ({format_number(100 * c / n, 1)})" if pd.notna(c) else ""
                for c in tab["n_assigned"]
            ],
            "AvePP": [format_number(v, decimals) for v in tab["avepp"]],
            "OCC": [
                format_number(v, decimals if v < 100 else 0) if np.isfinite(v) else "–"
                for v in tab["occ"]
            ],
        },
        index=[f"Class {k}" for k in tab["class"]],
    )
    notes = [
        "AvePP: average posterior probability of the persons assigned to the class; OCC: "
        "odds of correct classification. Nagin (2005) suggests AvePP > 0.7 and OCC > 5.",
    ]
    hidden = tab["n_assigned"].isna().to_numpy()
    for i in np.flatnonzero(hidden):
        primary = full["n_assigned"].iloc[i] < int(min_cell)  # type: ignore[arg-type]
        body.iloc[i, :] = small_text(int(min_cell)) if primary else SUPPRESSED  # type: ignore[arg-type]
    if hidden.any():
        notes.append(hidden_classes_note(tab, int(min_cell)))  # type: ignore[arg-type]
    return Table(body=body, title=title, footnotes=notes, stub_header="Class", numbers=tab)
