"""Publication tables of structural equation models: parameters and model fit.

:func:`sem_table` lists the parameters of one fitted model by section (measurement
model, structural paths, covariances, variances, intercepts, defined effects), with
estimate, SE, confidence interval, p-value and the completely standardised estimate;
:func:`sem_fit_table` puts the fit statistics of one or more models side by side. Both
return a :class:`~mutualaid_outcomes.tables.Table` (Word, LaTeX, HTML, Markdown, CSV).

Examples
--------
>>> import numpy as np, pandas as pd
>>> from mutualaid_outcomes.models.sem import fit_sem
>>> rng = np.random.default_rng(0)
>>> f = rng.normal(size=300)
>>> df = pd.DataFrame({f"x{i}": f + rng.normal(size=300) for i in (1, 2, 3, 4)})
>>> res = fit_sem(df, "f =~ x1 + x2 + x3 + x4")
>>> sem_table(res).body.index[:3].tolist()
['Measurement model', 'f → x2', 'f → x3']
>>> sem_fit_table(res).body.index[0]
'χ² (df)'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import pandas as pd

from .._labels import variable_label
from ..errors import ArgumentTypeError, DataValidationError
from .formatting import format_ci, format_number, format_p, get_style
from .table import Table

if TYPE_CHECKING:
    from ..models.sem.latent_mediation import LatentMediationResult
    from ..models.sem.results import SEMResult

__all__ = ["sem_table", "sem_fit_table"]

_SECTIONS = (
    ("=~", "Measurement model"),
    ("~", "Structural paths"),
    ("cov", "Covariances"),
    ("var", "Variances"),
    ("~1", "Intercepts and means"),
    (":=", "Defined effects"),
)


def _section(row: pd.Series) -> str:
    if row["op"] == "~~":
        return "var" if row["lhs"] == row["rhs"] else "cov"
    return str(row["op"])


def _is_sem(obj: Any) -> bool:
    return hasattr(obj, "parameters") and hasattr(obj, "fit_measures") and hasattr(obj, "tidy")


def _check_result(result: Any, argument: str = "result") -> None:
    if not (_is_sem(result) or _is_sem(getattr(result, "sem", None))):
        raise ArgumentTypeError(
            f"`{argument}` must be a fitted SEM result (fit_sem, cross_lagged_panel, "
            f"latent_growth or latent_mediation); got {type(result).__name__}."
        )


def _row_label(r: pd.Series, codebook: Any, labels: Mapping[str, str] | None) -> str:
    def lab(v: str) -> str:
        return variable_label(codebook, v, labels)

    op = r["op"]
    if op == "=~":
        return f"{lab(r['lhs'])} → {lab(r['rhs'])}"
    if op == "~":
        return f"{lab(r['lhs'])} ← {lab(r['rhs'])}"
    if op == "~~":
        return lab(r["lhs"]) if r["lhs"] == r["rhs"] else f"{lab(r['lhs'])} ↔ {lab(r['rhs'])}"
    if op == "~1":
        return lab(r["lhs"])
    return str(labels.get(r["lhs"], r["lhs"]) if labels else r["lhs"])


def sem_table(
    result: SEMResult | LatentMediationResult,
    *,
    conf_level: float = 0.95,
    style: str = "apa",
    decimals: int = 2,
    standardized: bool = True,
    fixed: bool = False,
    codebook: Any = None,
    labels: Mapping[str, str] | None = None,
    title: str = "",
) -> Table:
    """Parameter table of a structural equation model, by section.

    Parameters
    ----------
    result : SEMResult or LatentMediationResult
        A fitted model (a latent-mediation result shows its underlying SEM).
    conf_level : float
        Confidence level (bootstrap intervals when the model was bootstrapped).
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values and intervals.
    decimals : int
        Decimals of estimates, SEs and limits.
    standardized : bool
        Add the completely standardised estimate (lavaan ``std.all``).
    fixed : bool
        Also list fixed parameters (marker loadings, fixed covariates' moments).
    codebook, labels : optional
        Variable labels.
    title : str
        Caption.

    Returns
    -------
    Table
        Section rows (``"Measurement model"`` ...) followed by indented parameter rows;
        multi-group models repeat the sections per group.
    """
    _check_result(result)
    sem = cast("SEMResult", getattr(result, "sem", result))
    st = get_style(style)
    td = sem.tidy(conf_level=conf_level)
    if not fixed:
        td = td[(td["free"] > 0) | (td["op"] == ":=")]
    td = td.assign(section=td.apply(_section, axis=1))
    ci_head = f"{int(round(conf_level * 100))}% CI"
    cols = ["Estimate", "SE", ci_head, "p"] + (["Std."] if standardized else [])
    out_rows, index, indent = [], [], []
    groups = list(dict.fromkeys(td.loc[td["op"] != ":=", "group"]))
    multi = len(groups) > 1
    blocks = [(g, td[(td["group"] == g) & (td["op"] != ":=")]) for g in groups]
    blocks.append((None, td[td["op"] == ":="]))
    for g, block in blocks:
        for key, name in _SECTIONS:
            part = block[block["section"] == key]
            if part.empty:
                continue
            index.append(f"{name} ({g})" if multi and g is not None else name)
            out_rows.append([""] * len(cols))
            for _, r in part.iterrows():
                free = r["free"] > 0 or r["op"] == ":="
                cells = [
                    format_number(r["estimate"], decimals, st.minus),
                    format_number(r["std_error"], decimals, st.minus) if free else "",
                    format_ci(r["conf_low"], r["conf_high"], st, decimals) if free else "",
                    format_p(r["p_value"], st) if free else "",
                ]
                if standardized:
                    cells.append(format_number(r["std_all"], decimals, st.minus))
                indent.append(len(out_rows))
                index.append(_row_label(r, codebook, labels))
                out_rows.append(cells)
    body = pd.DataFrame(out_rows, index=index, columns=cols)
    info = sem.info
    notes = [
        f"{info['estimator']} estimation"
        + (" with full-information ML for missing data" if info["missing"] == "fiml" else "")
        + f"; N = {info['n']}; {info['cov_type']} SEs ({info['information']} information)."
    ]
    if info.get("n_boot"):
        notes.append(f"Intervals: {info['ci']} bootstrap with {info['n_boot']} resamples.")
    if standardized:
        notes.append("Std.: completely standardised estimate.")
    return Table(
        body=body, title=title, footnotes=notes, stub_header="Parameter", indent=indent, numbers=td
    )


def _named(results: Any) -> list[tuple[str, Any]]:
    if isinstance(results, Mapping):
        items = list(results.items())
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(f"Model {i + 1}", r) for i, r in enumerate(results)]
    else:
        items = [("Model 1", results)]
    if not items:
        raise DataValidationError("`results` is empty; pass at least one fitted SEM.")
    for name, r in items:
        _check_result(r, f"results['{name}']")
    return items


def sem_fit_table(
    results: SEMResult
    | LatentMediationResult
    | Sequence[SEMResult | LatentMediationResult]
    | Mapping[str, SEMResult | LatentMediationResult],
    *,
    decimals: int = 3,
    style: str = "apa",
    title: str = "",
) -> Table:
    """Fit statistics of one or more models side by side.

    Parameters
    ----------
    results : result, sequence of results, or mapping name -> result
        Fitted SEMs (or latent-mediation results).
    decimals : int
        Decimals of the fit indices (chi-square, AIC and BIC get one decimal).
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values.
    title : str
        Caption.

    Returns
    -------
    Table
        Rows ``χ² (df)``, ``p``, ``CFI``, ``TLI``, ``RMSEA [90% CI]``, ``SRMR``, ``AIC``,
        ``BIC``, ``N``; robust (MLR) models show the Yuan--Bentler scaled chi-square and
        scaled CFI/TLI/RMSEA (footnoted).
    """
    st = get_style(style)
    named = _named(results)
    rows = ["χ² (df)", "p", "CFI", "TLI", "RMSEA [90% CI]", "SRMR", "AIC", "BIC", "N"]
    cells: dict[str, list[str]] = {}
    scaled_any = False
    numbers = []
    for name, res in named:
        sem = getattr(res, "sem", res)
        fm = {**sem.info, **sem.fit_measures}
        scaled = np.isfinite(fm.get("scaling_factor", np.nan))
        scaled_any |= bool(scaled)
        sfx = "_scaled" if scaled else ""
        chisq = fm["chisq_scaled"] if scaled else fm["chisq"]
        p = fm["pvalue_scaled"] if scaled else fm["pvalue"]
        lo, hi = fm[f"rmsea{sfx}_ci_low"], fm[f"rmsea{sfx}_ci_high"]
        cells[name] = [
            f"{format_number(chisq, 1, st.minus)} ({int(fm['df'])})",
            format_p(p, st),
            format_number(fm[f"cfi{sfx}"], decimals, st.minus),
            format_number(fm[f"tli{sfx}"], decimals, st.minus),
            format_number(fm[f"rmsea{sfx}"], decimals, st.minus)
            + " "
            + format_ci(lo, hi, "apa", decimals),
            format_number(fm["srmr"], decimals, st.minus),
            format_number(fm["aic"], 1, st.minus),
            format_number(fm["bic"], 1, st.minus),
            str(int(fm["n"])),
        ]
        numbers.append({"model": name, **{k: v for k, v in fm.items() if np.isscalar(v)}})
    body = pd.DataFrame(cells, index=rows)
    notes = [
        "RMSEA with its 90% confidence interval; SRMR: standardised root mean square residual."
    ]
    if scaled_any:
        notes.append(
            "Robust (MLR) models: Yuan-Bentler scaled chi-square and scaled CFI, TLI and RMSEA."
        )
    return Table(
        body=body, title=title, footnotes=notes, stub_header="Fit", numbers=pd.DataFrame(numbers)
    )
