"""Regression tables in the layout of gtsummary's ``tbl_regression``.

:func:`regression_table` puts models side by side, each under a spanning header
with its own estimate and p-value columns. Factor terms are grouped under the
factor's label with a reference row ("CBT (ref.)", shown with an em dash) and one
indented row per level; a labelled 0/1 variable reads "Sex: Female vs Male". N and
events close each model's column. Each model may be exponentiated on its own; the
column header then names the ratio (OR, IRR, HR). Labels come from the one resolver
(:mod:`mutualaid_outcomes._labels`): ``labels=``, the codebook, instrument specs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._convergence import NONCONVERGENCE_MARK, nonconvergence, nonconvergence_note
from .._labels import Labels, resolve_labels
from .._validation import renamed
from ..disclosure import check_min_cell, count_text, small_levels
from ..errors import ArgumentTypeError, DataValidationError
from ..results import TidyProtocol
from .formatting import JournalStyle, format_ci, format_number, format_p, get_style
from .table import Table

__all__ = ["regression_table", "ratio_name", "model_rows"]

_GLANCE_ROWS = (("n", "N"), ("n_events", "Events"), ("n_clusters", "Clusters"))
_INTERCEPTS = ("Intercept", "const", "(Intercept)")
_DASH = "\u2014"
_RATIOS = {"OR": "odds ratio", "RR": "risk ratio", "IRR": "incidence rate ratio",
           "HR": "hazard ratio", "CI": "confidence interval"}  # fmt: skip


def _small_level_notes(named: list, terms: list[str], lab: Any, min_cell: int | None) -> list[str]:
    """A note naming factor levels with fewer than ``min_cell`` people (or none)."""
    if min_cell is None:
        return []
    found: dict[str, None] = {}
    for _, res in named:
        data = getattr(res, "_data", None)
        if not isinstance(data, pd.DataFrame):
            continue
        cols = [c for c in data.columns if any(str(c) in t for t in terms)]
        for col, level, _n in small_levels(data, cols, min_cell):
            found[f"{lab.variable(col)}: {lab.value(col, level)}"] = None
    if not found:
        return []
    return [
        f"Levels with fewer than {min_cell} participants (estimates rest on few people): "
        + "; ".join(found)
        + "."
    ]


def ratio_name(result: TidyProtocol) -> str:
    """Name of an exponentiated coefficient of ``result``: HR, OR, IRR or "Ratio".

    Examples
    --------
    >>> class R:
    ...     def glance(self):
    ...         return pd.DataFrame({"family": ["binomial"], "link": ["logit"]})
    >>> ratio_name(R())
    'OR'
    """
    name = type(result).__name__.lower()
    if "cox" in name or "finegray" in name or "hazard" in name:
        return "HR"
    try:
        gl = result.glance()
    except Exception:  # noqa: BLE001 - a result without glance gets the generic name
        return "Ratio"
    fam = str(gl["family"].iloc[0]).lower() if "family" in gl.columns else ""
    link = str(gl["link"].iloc[0]).lower() if "link" in gl.columns else ""
    if "binomial" in fam and link in ("logit", "", "nan"):
        return "OR"
    if "binomial" in fam and link == "log":
        return "RR"
    if fam.startswith(("poisson", "negbin", "negative")):
        return "IRR"
    return "Ratio"


@dataclass
class _Block:
    """Rows of one variable: a heading and level rows for factors, else one row."""

    label: str
    heading: bool = False
    rows: list[tuple[str, str | None]] = field(default_factory=list)  # (label, term)


def model_rows(terms: Sequence[str], lab: Labels, *, reference_rows: bool = True) -> list[_Block]:
    """Group coefficient names into the row blocks of a regression table.

    Factor dummies (``C(arm)[T.MET]``, ``arm[T.MET]``) of one variable form a block
    headed by the variable label, with the reference level first (term ``None``)
    when it is known (from ``Treatment('...')`` or the value labels); other terms
    get one row each (interactions "A × B", labelled binaries "Sex: Female vs Male").
    """
    parsed = [(term, lab.parse_term(term)) for term in terms]
    levels: dict[str, list[str]] = {}
    refs: dict[str, str | None] = {}
    for _, t in parsed:
        if t.is_factor and not t.parts and t.coding == "treatment":
            var = str(t.variable)
            levels.setdefault(var, []).append(str(t.level))
            refs[var] = refs.get(var) or t.reference
    for var in levels:
        refs[var] = refs[var] or lab.reference_level(var, levels[var])
    blocks: list[_Block] = []
    factors: dict[str, _Block] = {}
    for term, t in parsed:
        var = str(t.variable)
        if var in levels and not t.parts and t.is_factor:
            if not reference_rows:
                text = lab.term(term, reference=refs[var])
                blocks.append(_Block(text, rows=[(text, term)]))
                continue
            if var not in factors:
                factors[var] = _Block(lab.variable(var), heading=True)
                if refs[var] is not None:
                    factors[var].rows.append((f"{lab.value(var, refs[var])} (ref.)", None))
                blocks.append(factors[var])
            factors[var].rows.append((lab.value(var, t.level), term))
        else:
            blocks.append(_Block(lab.term(term), rows=[(lab.term(term), term)]))
    return blocks


def _variance_rows(
    named: list, st: JournalStyle, decimals: int
) -> tuple[list[str], list[list[str]], pd.DataFrame]:
    """Variance-component rows of mixed models (SD and correlation, as modelsummary).

    Results with a ``variance_components()`` method (columns ``group, term1, term2,
    variance, sd_or_corr``) contribute "group: SD (term)", "group: Corr (term1, term2)"
    and "Residual SD" rows, and a "Groups" count row; other models get empty cells.
    Also returns the full-precision values in the layout of broom.mixed's ``ran_pars``.
    """
    order: list[str] = []
    values: list[dict[str, float]] = []
    groups: list[str] = []
    frames = []
    for name, res in named:
        vc_fun = getattr(res, "variance_components", None)
        got: dict[str, float] = {}
        n_groups = ""
        if callable(vc_fun):
            vc = vc_fun()
            for _, r in vc.iterrows():
                grp, t1, t2 = str(r["group"]), str(r["term1"]), str(r["term2"])
                if grp == "Residual":
                    label, term = "Residual SD", "sd__Observation"
                elif t2:
                    label, term = f"{grp}: Corr ({t1}, {t2})", f"cor__{t1}.{t2}"
                else:
                    label, term = f"{grp}: SD ({t1})", f"sd__{t1}"
                got[label] = float(r["sd_or_corr"])
                order += [label] if label not in order else []
                frames.append(
                    pd.DataFrame(
                        {"term": [term], "group": [grp], "estimate": [got[label]],
                         "effect": ["ran_pars"], "model": [name]}
                    )
                )  # fmt: skip
            gl = res.glance()
            if "n_groups" in gl.columns and pd.notna(gl.loc[0, "n_groups"]):
                n_groups = str(int(gl.loc[0, "n_groups"]))
        values.append(got)
        groups.append(n_groups)
    if not order:
        return [], [], pd.DataFrame()
    index = ["Random effects", *order, "Groups"]
    rows = [["", ""] * len(named)]
    for label in order:
        rows.append(
            [
                v
                for got in values
                for v in (format_number(got[label], decimals, st.minus) if label in got else "", "")
            ]
        )
    rows.append([v for g in groups for v in (g, "")])
    return index, rows, pd.concat(frames, ignore_index=True)


def _named(results: Any) -> list[tuple[str, Any]]:
    if isinstance(results, Mapping):
        items = [(str(k), v) for k, v in results.items()]
    elif isinstance(results, Sequence) and not isinstance(results, str):
        items = [(f"Model {i + 1}", r) for i, r in enumerate(results)]
    else:
        items = [("Model 1", results)]
    if not items:
        raise DataValidationError("`results` is empty; pass at least one fitted result.")
    for name, r in items:
        if not (hasattr(r, "tidy") and hasattr(r, "glance")):
            raise ArgumentTypeError(
                f"`results` entry '{name}' is a {type(r).__name__}; expected a fitted result "
                "with tidy() and glance() (regression, GEE, mixed, Cox or mediation)."
            )
    return items


def _per_model(value: Any, n: int, name: str) -> list[bool]:
    if isinstance(value, (bool, np.bool_)):
        return [bool(value)] * n
    out = [bool(v) for v in value]
    if len(out) != n:
        raise DataValidationError(
            f"`{name}` has {len(out)} values for {n} results; give one bool or one per result."
        )
    return out


def _cells(
    td: pd.DataFrame, st: JournalStyle, decimals: int, show_ci: bool
) -> dict[str, tuple[str, str]]:
    out = {}
    for _, row in td.iterrows():
        est = format_number(row["estimate"], decimals, st.minus)
        if show_ci and np.isfinite(row.get("conf_low", np.nan)):
            est += " " + format_ci(row["conf_low"], row["conf_high"], st, decimals)
        out[str(row["term"])] = (est, format_p(row.get("p_value", np.nan), st))
    return out


@renamed(ci="show_ci")
def regression_table(
    results: TidyProtocol | Sequence[TidyProtocol] | Mapping[str, TidyProtocol],
    *,
    exponentiate: bool | Sequence[bool] = False,
    show_ci: bool = True,
    conf_level: float = 0.95,
    style: str = "apa",
    decimals: int = 2,
    codebook: Any = None,
    labels: Any = None,
    intercept: bool = False,
    reference_rows: bool = True,
    title: str = "",
    min_cell: int | None = None,
) -> Table:
    """Models side by side: estimate (CI) and p-value per model, with reference rows.

    Parameters
    ----------
    results : result, sequence of results, or mapping label -> result
        Fitted results with ``tidy()`` and ``glance()`` (regression, GEE, mixed,
        Cox, ...). Mapping keys are the model labels shown as spanning headers.
    exponentiate : bool or sequence of bool
        Exponentiate estimates (OR, IRR, HR); one value for all models or one per model.
    show_ci : bool
        Show the confidence interval.
    conf_level : float
        Confidence level.
    style : {"apa", "jama", "nejm"}
        Journal preset for p-values and intervals.
    decimals : int
        Decimals for estimates and limits.
    codebook : Codebook, optional
        Variable and value labels (overrides the one in ``labels``).
    labels : mapping or Labels, optional
        Variable labels, value labels and explicit term labels.
    intercept : bool
        Keep intercept rows (gtsummary drops them).
    reference_rows : bool
        Group factor levels under the factor with a reference row; with False each
        dummy is one row "Arm: MET vs CBT".
    title : str
        Caption.
    min_cell : int, optional
        Disclosure control (default none; the pipeline uses ``output.min_cell``): an
        N, event or cluster count below ``min_cell`` shows as ``<min_cell``, and factor
        levels held by fewer than ``min_cell`` people in a model's data are named in a
        note (their estimates are kept and rest on few people). Levels are found from
        the data the result keeps (regression and GEE results); other results are not
        checked for small levels.

    Returns
    -------
    Table
        ``numbers`` holds each model's ``tidy()`` rows (full precision) with a
        ``model`` column; with mixed models it also holds their variance components
        (``effect`` "ran_pars", ``group``, terms ``sd__x``/``cor__x.y`` as broom.mixed)
        and the fixed-effect rows get ``effect`` "fixed".

    Raises
    ------
    ArgumentTypeError
        If a result has no ``tidy()``/``glance()``.
    DataValidationError
        If ``results`` is empty or ``exponentiate`` has the wrong length.

    Notes
    -----
    A mixed model's variance components (the SD of each random effect, the
    correlations and, for a linear model, the residual SD) follow the coefficients under
    a "Random effects" heading, with the number of groups, as ``modelsummary`` and
    ``texreg`` show lme4 fits; they come from the result's ``variance_components()``.

    Examples
    --------
    >>> from mutualaid_outcomes.results import BaseResult, wald_table, glance_frame
    >>> class R(BaseResult):
    ...     def _tidy(self, conf_level):
    ...         return wald_table(["Intercept", "x", "C(arm, Treatment('A'))[T.B]"],
    ...                           [1.0, 0.5, 0.2], [0.2, 0.1, 0.1], conf_level)
    ...     def glance(self):
    ...         return glance_frame({"n": 100}, ["n"])
    >>> t = regression_table({"OLS": R()})
    >>> t.body.index.tolist()
    ['x', 'arm', 'A (ref.)', 'B', 'N']
    >>> t.body.iloc[0, 0]
    '0.50 [0.30, 0.70]'
    """
    st = get_style(style)
    min_cell = check_min_cell(min_cell)
    named = _named(results)
    expo = _per_model(exponentiate, len(named), "exponentiate")
    lab = resolve_labels(labels, codebook)
    tidies, order = [], []
    for (_, res), ex in zip(named, expo):
        td = res.tidy(conf_level=conf_level, exponentiate=ex)
        if not intercept:
            td = td[~td["term"].astype(str).isin(_INTERCEPTS)]
        tidies.append(td)
        order += [str(t) for t in td["term"] if str(t) not in order]
    blocks = model_rows(order, lab, reference_rows=reference_rows)
    ci = f" ({int(round(conf_level * 100))}% CI)" if show_ci else ""
    heads = [(ratio_name(res) if ex else "Estimate") + ci for (_, res), ex in zip(named, expo)]
    cells = [_cells(td, st, decimals, show_ci) for td in tidies]
    rows: list[list[str]] = []
    index: list[str] = []
    indent: dict[int, int] = {}
    heading: list[int] = []
    for b in blocks:
        if b.heading:
            heading.append(len(rows))
            index.append(b.label)
            rows.append(["", ""] * len(named))
        terms = {term for _, term in b.rows if term}
        for text, term in b.rows:
            if b.heading:
                indent[len(rows)] = 1
            index.append(text)
            line: list[str] = []
            for c in cells:
                if term:
                    line += list(c.get(term, ("", "")))
                else:  # the reference row: a dash in the models that have the factor
                    line += [_DASH if terms & set(c) else "", ""]
            rows.append(line)
    vc_index, vc_rows, vc_numbers = _variance_rows(named, st, decimals)
    if vc_rows:
        heading.append(len(rows))
        indent.update({len(rows) + i: 1 for i in range(1, len(vc_rows) - 1)})
        index += vc_index
        rows += vc_rows
    for key, text in _GLANCE_ROWS:
        vals = [res.glance() for _, res in named]
        got = [
            count_text(g.loc[0, key], min_cell)
            if key in g.columns and pd.notna(g.loc[0, key])
            else ""
            for g in vals
        ]
        if any(got):
            index.append(text)
            rows.append([v for g in got for v in (g, "")])
    body = pd.DataFrame(rows, index=index, columns=_header(named, heads, lab))
    notes = _table_notes(named, heads, lab, order, min_cell, reference_rows, blocks)
    numbers = pd.concat(
        [td.assign(model=name) for (name, _), td in zip(named, tidies)], ignore_index=True
    )
    if not vc_numbers.empty:
        numbers = pd.concat([numbers.assign(effect="fixed"), vc_numbers], ignore_index=True)
    return Table(
        body=body,
        title=title,
        footnotes=notes,
        stub_header="Characteristic",
        indent=indent,
        numbers=numbers,
        heading_rows=heading,
    )


def _header(named: list, heads: list[str], lab: Any) -> Any:
    """Column labels; a model that did not converge is marked next to its header."""
    mark = [f" {NONCONVERGENCE_MARK}" if nonconvergence(res) else "" for _, res in named]
    if len(named) == 1:
        return [h for head in heads for h in (head + mark[0], "p")]
    return pd.MultiIndex.from_tuples(
        [
            (lab.variable(name) + mk, h)
            for (name, _), head, mk in zip(named, heads, mark)
            for h in (head, "p")
        ]
    )


def _table_notes(
    named: list,
    heads: list[str],
    lab: Any,
    order: Any,
    min_cell: int | None,
    reference_rows: bool,
    blocks: list,
) -> list[str]:
    """Ratio abbreviations, the reference dash, small levels and non-convergence."""
    used = {h.split(" ")[0] for h in heads}
    notes = ["; ".join(f"{k} = {v}" for k, v in _RATIOS.items() if k in used)]
    notes = [n + "." for n in notes if n]
    if reference_rows and any(b.heading for b in blocks):
        notes.append(f"{_DASH} = reference category (ref.).")
    notes += _small_level_notes(named, order, lab, min_cell)
    multi = len(named) > 1
    unconverged = nonconvergence_note(
        [(lab.variable(name) if multi else "the model", res) for name, res in named]
    )
    if unconverged:
        notes.append(unconverged)
    return notes
