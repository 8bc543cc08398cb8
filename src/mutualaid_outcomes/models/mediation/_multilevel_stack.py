"""Stacked data and REML information for the 1-1-1 multilevel mediation model.

Bauer, Preacher & Gil (2006) write the mediator and the outcome equations as one mixed
model: each person-day appears twice (a mediator row and an outcome row), selection
dummies ``sm``/``sy`` switch the equations' fixed and random effects on and off, and the
random effects of both equations share one unstructured covariance matrix, which holds
``cov(a_j, b_j)``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..regression._mixed_engine import group_stats
from ..regression.mixed import MixedResult, fit_mixed


@dataclass(frozen=True)
class StackedDesign:
    """The stacked frame and the names of its fixed- and random-effect columns."""

    frame: pd.DataFrame
    fixed: list[str]
    random: list[str]
    id: str


def stack(
    data: pd.DataFrame,
    *,
    id: str,
    m_fixed: dict[str, str],
    y_fixed: dict[str, str],
    m_random: list[str],
    y_random: list[str],
    m: str,
    y: str,
    y_scale: float,
) -> StackedDesign:
    """Two rows per person-day; response ``m`` or ``y / y_scale``.

    ``m_fixed``/``y_fixed`` map stacked column names to the source columns (``""`` for the
    equation's intercept); ``m_random``/``y_random`` name the stacked columns that also
    get person-level random effects.
    """
    n = len(data)
    parts = {"_row": np.r_[np.arange(n), np.arange(n)], id: np.r_[data[id], data[id]]}
    sm = np.r_[np.ones(n), np.zeros(n)]
    sy = 1.0 - sm
    parts["_response"] = np.r_[data[m].to_numpy(float), data[y].to_numpy(float) / y_scale]
    for name, src in m_fixed.items():
        parts[name] = sm if src == "" else np.r_[data[src].to_numpy(float), np.zeros(n)]
    for name, src in y_fixed.items():
        parts[name] = sy if src == "" else np.r_[np.zeros(n), data[src].to_numpy(float)]
    frame = pd.DataFrame(parts)
    return StackedDesign(frame, [*m_fixed, *y_fixed], [*m_random, *y_random], id)


def _group_arrays(design: StackedDesign) -> tuple[np.ndarray, ...]:
    """Per-person ``Z'Z``, ``Z'X`` (stacks over persons), ``X'X`` and the rows per person."""
    f = design.frame
    codes, uniq = pd.factorize(f[design.id], sort=True)
    X = f[design.fixed].to_numpy(float)
    Z = f[design.random].to_numpy(float)
    st = group_stats(codes, X, Z, np.zeros(len(f)), len(uniq))
    return st.ZtZ, st.ZtX, st.XtX, np.bincount(codes).astype(float)


def _elementary(q: int) -> np.ndarray:
    """``dPsi / dtheta_r`` for ``theta = vech(Psi)`` (row-wise lower triangle): (k, q, q)."""
    rows, cols = np.tril_indices(q)
    E = np.zeros((len(rows), q, q))
    E[np.arange(len(rows)), rows, cols] = 1.0
    E[np.arange(len(rows)), cols, rows] = 1.0
    return E


def reml_covariance(design: StackedDesign, psi: np.ndarray, sigma2: float) -> np.ndarray:
    """Inverse expected REML information of ``(vech(Psi), sigma^2)``.

    ``I_rs = tr(P V_r P V_s) / 2`` with ``P = W - W X C X'W``, ``W = V^-1``,
    ``C = (X'WX)^-1`` and ``V_r = dV/dtheta_r`` (Harville 1977). Per person
    ``V = sigma^2 I + Z Psi Z'``, so ``W = (I - Z H Z') / sigma^2`` with
    ``H = Psi (sigma^2 I + Z'Z Psi)^-1`` (Woodbury, valid for a singular ``Psi``), and
    every trace reduces to ``q x q`` and ``q x p`` products of the per-person sufficient
    statistics ``Z'Z`` and ``Z'X``: with ``A = Z'WZ``, ``B = Z'WX``, ``V_r = Z E_r Z'``
    for the ``Psi`` parameters and ``V_sigma = I``, ``tr(W V_r W V_s) = tr(E_r A E_s A)``,
    ``X'W V_r W V_s W X = B'E_r A E_s B`` and ``X'W V_r W X = B'E_r B`` (the ``sigma^2``
    rows use ``Z'W^2Z``, ``Z'W^2X``, ``X'W^2X``, ``X'W^3X`` and ``tr(W^2)``). The cost
    is ``O(G q^3 + G q^2 p)``, independent of the number of days per person.
    """
    ZZ, ZX, XX, n_g = _group_arrays(design)
    q = psi.shape[0]
    s2 = float(sigma2)
    # H = Psi (s2 I + M Psi)^-1 = (s2 I + Psi M)^-1 Psi, symmetric
    H = np.linalg.solve(s2 * np.eye(q)[None] + psi[None] @ ZZ, np.broadcast_to(psi, ZZ.shape))
    H = 0.5 * (H + np.swapaxes(H, 1, 2))
    HM = H @ ZZ
    MH = np.swapaxes(HM, 1, 2)
    A = (ZZ - MH @ ZZ) / s2
    B = (ZX - MH @ ZX) / s2
    HZX = H @ ZX
    HMHZX = HM @ HZX
    XWX = (XX - np.einsum("gqp,gqr->pr", ZX, HZX)) / s2
    ZW2Z = (ZZ - 2 * MH @ ZZ + MH @ MH @ ZZ) / s2**2
    ZW2X = (ZX - 2 * MH @ ZX + MH @ MH @ ZX) / s2**2
    XW2X = (XX - np.einsum("gqp,gqr->pr", ZX, 2 * HZX - HMHZX)) / s2**2
    XW3X = (XX - np.einsum("gqp,gqr->pr", ZX, 3 * HZX - 3 * HMHZX + HM @ HMHZX)) / s2**3
    HMHM = HM @ HM
    tr_W2 = float(np.sum(n_g) - 2 * np.trace(HM, axis1=1, axis2=2).sum()) / s2**2
    tr_W2 += float(np.trace(HMHM, axis1=1, axis2=2).sum()) / s2**2
    C = np.linalg.inv(XWX)
    E = _elementary(q)
    D = B @ C @ np.swapaxes(B, 1, 2)  # B C B' per person
    t1 = np.einsum("rab,scd,gbc,gda->rs", E, E, A, A, optimize=True)
    t2 = np.einsum("rab,scd,gbc,gda->rs", E, E, A, D, optimize=True)
    Mr = np.einsum("gap,rab,gbs->rps", B, E, B, optimize=True)
    CM = C[None] @ Mr
    t3 = np.einsum("rpq,sqp->rs", CM, CM)
    k = len(E) + 1
    info = np.zeros((k, k))
    info[:-1, :-1] = t1 - 2 * t2 + t3
    Q = ZW2X @ C @ np.swapaxes(B, 1, 2)  # Z'W^2X C B' per person
    CMs = C @ XW2X
    info[:-1, -1] = (
        np.einsum("rab,ba->r", E, ZW2Z.sum(axis=0))
        - 2 * np.einsum("rab,ba->r", E, Q.sum(axis=0))
        + np.einsum("rpq,qp->r", CM, CMs)
    )
    info[-1, :-1] = info[:-1, -1]
    info[-1, -1] = tr_W2 - 2 * np.trace(C @ XW3X) + np.trace(CMs @ CMs)
    return np.linalg.inv(0.5 * info)


def vech_index(q: int, i: int, j: int) -> int:
    """Position of ``Psi[i, j]`` (``i >= j``) in the row-wise lower-triangle vector."""
    rows, cols = np.tril_indices(q)
    hit = np.flatnonzero((rows == max(i, j)) & (cols == min(i, j)))
    return int(hit[0])


RANDOM_LABELS = {
    "sm": "m_intercept",
    "sm_xw": "a",
    "sy": "y_intercept",
    "sy_mw": "b",
    "sy_xw": "direct_within",
}
WITHIN_SOURCES = {"a": "sm_xw", "b": "sy_mw", "direct_within": "sy_xw"}


def fit_stacked(
    wb: pd.DataFrame, covs: list[str], slopes: list[str], fm: MixedResult, fy: MixedResult
) -> dict:
    """The stacked model: its within paths and ``cov(a_j, b_j)``.

    The between paths come from the separately fitted equations ``fm`` (mediator) and
    ``fy`` (outcome), whose residual variances give ``k = sigma_Y / sigma_M``.
    """
    k = float(np.sqrt(fy.sigma2 / fm.sigma2))
    m_fixed = {"sm": "", "sm_xw": "_xw", "sm_xb": "_xb", **{f"sm{c}": c for c in covs}}
    y_fixed = {"sy": "", "sy_mw": "_mw", "sy_xw": "_xw", "sy_xb": "_xb"}
    y_fixed.update({f"sy{c}": c for c in covs})
    m_random = ["sm"] + (["sm_xw"] if "a" in slopes else [])
    y_random = ["sy"] + (["sy_mw"] if "b" in slopes else [])
    y_random += ["sy_xw"] if "direct" in slopes else []
    design = stack(
        wb, id="_id", m_fixed=m_fixed, y_fixed=y_fixed, m_random=m_random,
        y_random=y_random, m="_m", y="_y", y_scale=k,
    )  # fmt: skip
    formula = "_response ~ 0 + " + " + ".join(design.fixed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and singularity go to glance()
        st = fit_mixed(
            design.frame, formula, id="_id", re_formula="~ 0 + " + " + ".join(design.random)
        )
    beta = st.coef()
    scale = pd.Series([k if t in y_fixed else 1.0 for t in beta.index], index=beta.index)
    beta_o, V_o = beta * scale, st.vcov() * np.outer(scale, scale)
    src = list(WITHIN_SOURCES.values())
    names = [*WITHIN_SOURCES, "a_between", "b_between", "direct_between"]
    est = [*beta_o.loc[src], fm.coef()["_xb"], fy.coef()["_mb"], fy.coef()["_xb"]]
    cov = np.zeros((6, 6))
    cov[:3, :3] = V_o.loc[src, src].to_numpy()
    cov[3, 3] = fm.vcov().loc["_xb", "_xb"]
    cov[4:, 4:] = fy.vcov().loc[["_mb", "_xb"], ["_mb", "_xb"]].to_numpy()
    rnames = list(st.cov_re.index)
    rs = np.array([k if r.startswith("sy") else 1.0 for r in rnames])
    psi = st.cov_re.to_numpy()
    labels = [RANDOM_LABELS[r] for r in rnames]
    cov_ab = (0.0, 0.0)
    if "sm_xw" in rnames and "sy_mw" in rnames:
        i, j = rnames.index("sm_xw"), rnames.index("sy_mw")
        theta_cov = reml_covariance(design, psi, st.sigma2)
        pos = vech_index(len(rnames), i, j)
        cov_ab = (k * psi[i, j], k * float(np.sqrt(theta_cov[pos, pos])))
    return {
        "paths": pd.Series(np.asarray(est, dtype=float), index=names, name="estimate"),
        "paths_cov": pd.DataFrame(cov, index=names, columns=names),
        "cov_ab": cov_ab,
        "random_effects": pd.DataFrame(psi * np.outer(rs, rs), index=labels, columns=labels),
        "sigma2_mediator": float(st.sigma2),
        "sigma2_outcome": float(st.sigma2 * k**2),
        "k": k,
        "stacked": st,
    }
