"""Stacked data and REML information for the 1-1-1 multilevel mediation model.

Bauer, Preacher & Gil (2006) write the mediator and the outcome equations as one mixed
model: each person-day appears twice (a mediator row and an outcome row), selection
dummies ``sm``/``sy`` switch the equations' fixed and random effects on and off, and the
random effects of both equations share one unstructured covariance matrix, which holds
``cov(a_j, b_j)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


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


def _padded(design: StackedDesign) -> tuple[np.ndarray, ...]:
    f = design.frame
    codes, _ = pd.factorize(f[design.id], sort=True)
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    sizes = np.bincount(codes)
    G, T = len(sizes), int(sizes.max())
    pos = np.arange(len(codes)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    X = np.zeros((G, T, len(design.fixed)))
    Z = np.zeros((G, T, len(design.random)))
    y = np.zeros((G, T))
    mask = np.zeros((G, T), dtype=bool)
    X[codes, pos] = f[design.fixed].to_numpy(float)[order]
    Z[codes, pos] = f[design.random].to_numpy(float)[order]
    y[codes, pos] = f["_response"].to_numpy(float)[order]
    mask[codes, pos] = True
    return X, Z, y, mask


def _theta_to(theta: np.ndarray, q: int) -> tuple[np.ndarray, float]:
    psi = np.zeros((q, q))
    il = np.tril_indices(q)
    psi[il] = theta[:-1]
    psi = psi + np.tril(psi, -1).T
    return psi, float(theta[-1])


def reml_loglik(theta: np.ndarray, arrays: tuple[np.ndarray, ...], q: int) -> float:
    """REML log-likelihood at ``theta = (vech(Psi) lower by rows, sigma^2)``.

    Padded rows get variance 1 and zero design, so they add nothing.
    """
    X, Z, y, mask = arrays
    psi, s2 = _theta_to(theta, q)
    T = y.shape[1]
    V = np.einsum("gtq,qr,gsr->gts", Z, psi, Z)
    V += np.where(mask, s2, 1.0)[:, :, None] * np.eye(T)[None]
    chol = np.linalg.cholesky(V)
    logdet = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum()
    Vi_X = np.linalg.solve(V, X)
    Vi_y = np.linalg.solve(V, y[..., None])[..., 0]
    XtViX = np.einsum("gtp,gtq->pq", X, Vi_X)
    XtViy = np.einsum("gtp,gt->p", X, Vi_y)
    beta = np.linalg.solve(XtViX, XtViy)
    r = y - np.einsum("gtp,p->gt", X, beta)
    Vi_r = np.linalg.solve(V, r[..., None])[..., 0]
    quad = float(np.sum(r * Vi_r))
    n, p = int(mask.sum()), X.shape[2]
    _, logdet_x = np.linalg.slogdet(XtViX)
    return -0.5 * (logdet + logdet_x + quad + (n - p) * np.log(2 * np.pi))


def reml_covariance(design: StackedDesign, psi: np.ndarray, sigma2: float) -> np.ndarray:
    """Inverse expected REML information of ``(vech(Psi), sigma^2)``.

    ``I_rs = tr(P V_r P V_s) / 2`` with ``P = W - W X (X'WX)^-1 X'W``, ``W = V^-1`` and
    ``V_r = dV/dtheta_r`` (Harville 1977), summed over persons block by block.
    """
    X, Z, y, mask = _padded(design)
    q = psi.shape[0]
    T = y.shape[1]
    V = np.einsum("gtq,qr,gsr->gts", Z, psi, Z)
    V += np.where(mask, sigma2, 1.0)[:, :, None] * np.eye(T)[None]
    W = np.linalg.inv(V)
    W = W * (mask[:, :, None] & mask[:, None, :])  # padded rows carry no information
    WX = W @ X
    C = np.linalg.inv(np.einsum("gtp,gtq->pq", X, WX))
    derivs = []
    for r, c in zip(*np.tril_indices(q)):
        E = np.zeros((q, q))
        E[r, c] = E[c, r] = 1.0
        derivs.append(np.einsum("gtq,qr,gsr->gts", Z, E, Z))
    derivs.append(np.broadcast_to(mask[:, :, None] * np.eye(T)[None], W.shape))
    WD = [W @ D for D in derivs]  # W V_r, per person
    M = [np.einsum("gtp,gts,gsq->pq", WX, D, WX) for D in derivs]  # X'W V_r W X
    k = len(derivs)
    info = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1):
            t1 = np.einsum("gts,gst->", WD[i], WD[j])
            t2 = np.einsum("gtp,gts,gsq->pq", WX, derivs[i] @ WD[j], WX)
            info[i, j] = info[j, i] = 0.5 * (
                t1 - 2 * np.trace(C @ t2) + np.trace(C @ M[i] @ C @ M[j])
            )
    return np.linalg.inv(info)


def vech_index(q: int, i: int, j: int) -> int:
    """Position of ``Psi[i, j]`` (``i >= j``) in the row-wise lower-triangle vector."""
    rows, cols = np.tril_indices(q)
    hit = np.flatnonzero((rows == max(i, j)) & (cols == min(i, j)))
    return int(hit[0])
