r"""Modification indices (score tests for parameters not in the model; lavaan ``modindices()``).

Candidates (lavaan ``lav_partable_full``): cross-loadings of every factor on every
indicator not involved in a regression, covariances among indicators, among exogenous
covariates and among latent variables, regressions among the variables of the structural
part, intercepts (with a mean structure), plus every fixed parameter of the model. For a
candidate :math:`\gamma` with per-observation gradient :math:`g = \partial f/\partial\gamma`
(:math:`f = -\ell/N`) and expected information :math:`I` of the model extended by all
candidates,

.. math:: MI = N g^2 / V, \quad V = I_{\gamma\gamma} - I_{\gamma\theta} I_{\theta\theta}^{-1}
          I_{\theta\gamma}, \qquad EPC = -g / V,

and the standardised EPC scales the EPC as :func:`~.standardize.std_all` scales an
estimate. Candidates with :math:`V < \epsilon^{1/3}` (not identified when freed) are
dropped, as in lavaan. Agrees with lavaan 0.6.14 ``modindices()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from .likelihood import Likelihood
from .partable import ParRow, ParTable
from .ram import RamModel

if TYPE_CHECKING:
    from .results import SEMResult

__all__ = ["modification_indices", "candidate_rows"]


def _key(lhs: str, op: str, rhs: str, g: int) -> tuple:
    if op == "~~":
        a, b = sorted((lhs, rhs))
        return (a, op, b, g)
    return (lhs, op, rhs, g)


def candidate_rows(pt: ParTable) -> list[tuple[str, str, str, int]]:
    """All candidate parameters (lhs, op, rhs, group) in lavaan's order."""
    rows = pt.parameters
    lv = list(pt.lv_names)
    ov = list(pt.ov_names)
    ov_x = list(pt.ov_x)
    nox = [v for v in ov if v not in ov_x]
    ind = {r.rhs for r in rows if r.op == "=~"} - set(lv)
    eqs = list(
        dict.fromkeys([r.lhs for r in rows if r.op == "~"] + [r.rhs for r in rows if r.op == "~"])
    )
    other = [v for v in ov if v not in ind]
    out = []
    for g in range(pt.n_groups):
        out += [(f, "=~", v, g) for f in lv for v in nox if v not in eqs]
        for i, a in enumerate(nox):
            for b in nox[i:]:
                if a in other or b in other:
                    continue
                out.append((a, "~~", b, g))
        for i, a in enumerate(ov_x):
            out += [(a, "~~", b, g) for b in ov_x[i:]]
        for i, a in enumerate(lv):
            out += [(a, "~~", b, g) for b in lv[i:]]
        for y in eqs:
            out += [(y, "~", x, g) for x in eqs if x != y and not (y in ind and x in lv)]
        if pt.meanstructure:
            out += [(v, "~1", "", g) for v in ov + lv]
    return out


def _extended(pt: ParTable, theta: np.ndarray, values: np.ndarray):
    """Parameter table with every fixed row and every new candidate freed."""
    rows = []
    extra_rows: list[tuple[ParRow, float]] = []
    q = pt.n_free
    seen = set()
    for r, v in zip(pt.rows, values):
        if r.op == ":=":
            continue
        seen.add(_key(r.lhs, r.op, r.rhs, r.group))
        if r.free:
            rows.append(r)
        else:
            extra_rows.append((r, v))
    for lhs, op, rhs, g in candidate_rows(pt):
        if _key(lhs, op, rhs, g) not in seen:
            seen.add(_key(lhs, op, rhs, g))
            extra_rows.append((ParRow(lhs, op, rhs, g, False, 0, 0.0, ""), 0.0))
    ext = []
    for k, (r, _) in enumerate(extra_rows):
        ext.append(ParRow(r.lhs, r.op, r.rhs, r.group, False, q + k + 1, float("nan"), ""))
    vals = np.concatenate([theta, [v for _, v in extra_rows]])
    table = ParTable(
        tuple(rows + ext),
        pt.ov_names,
        pt.lv_names,
        pt.ov_x,
        pt.n_groups,
        q + len(ext),
        pt.meanstructure,
    )
    return table, vals, [r for r, _ in extra_rows]


def _std_factor(res: Any, r: ParRow) -> float:
    """Factor turning a raw value of row ``r`` into its std.all value."""
    model = res._state["model"]
    sd = res._state["sds"][r.group]
    resid = res._state["resid"]
    idx = model.index
    with np.errstate(divide="ignore", invalid="ignore"):
        if r.op == "=~":
            return sd[idx[r.lhs]] / sd[idx[r.rhs]]
        if r.op == "~":
            return sd[idx[r.rhs]] / sd[idx[r.lhs]]
        if r.op == "~1":
            return 1.0 / sd[idx[r.lhs]]
        if r.lhs == r.rhs:
            return 1.0 / sd[idx[r.lhs]] ** 2
        a = resid.get((r.group, r.lhs), np.nan)
        b = resid.get((r.group, r.rhs), np.nan)
        return 1.0 / (a * b)


def modification_indices(
    result: SEMResult, *, minimum: float = 0.0, sort: bool = True
) -> pd.DataFrame:
    """Modification indices of a fitted :class:`~.results.SEMResult` (see module notes)."""
    state = result._state
    pt: ParTable = state["pt"]
    lik: Likelihood = state["lik"]
    theta = state["theta"]
    values = result.parameters["estimate"].to_numpy(float)
    table, vals, extra = _extended(pt, theta, values)
    model = RamModel(table, lik.model.moments)
    ext_lik = Likelihood(model, lik.stats)
    info = ext_lik.expected_information(vals)
    grad = ext_lik.gradient(vals)[1]
    q = pt.n_free
    I22 = info[:q, :q]
    I12 = info[q:, :q]
    V = np.diag(info[q:, q:]) - np.einsum("ij,ij->i", I12 @ np.linalg.inv(I22), I12)
    g = grad[q:]
    ok = V >= np.finfo(float).eps ** (1 / 3)
    N = lik.N
    with np.errstate(divide="ignore", invalid="ignore"):
        mi = np.where(ok, N * g**2 / V, np.nan)
        epc = np.where(ok, -g / V, np.nan)
    groups = result.info["group_labels"]
    out = pd.DataFrame(
        {
            "lhs": [r.lhs for r in extra],
            "op": [r.op for r in extra],
            "rhs": [r.rhs for r in extra],
            "group": [groups[r.group] if len(groups) > 1 else 1 for r in extra],
            "mi": mi,
            "p_value": stats.chi2.sf(mi, 1),
            "epc": epc,
            "sepc_all": [e * _std_factor(result, r) for e, r in zip(epc, extra)],
        }
    )
    out = out[np.isfinite(out["mi"]) & (out["mi"] > minimum if minimum > 0 else True)]
    if sort:
        out = out.sort_values("mi", ascending=False, kind="stable")
    return out.reset_index(drop=True)
