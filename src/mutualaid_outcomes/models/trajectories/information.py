r"""Log-likelihood, score and observed information of a trajectory mixture, analytically.

For person ``i`` with observations ``j`` and classes ``k``,

.. math::

    \ell_i = \log \sum_k \exp(a_{ik}), \qquad
    a_{ik} = \log \pi_{ik}(\gamma) + \sum_j \log f_k(y_{ij}; \theta_k),

with posterior probabilities :math:`\tau_{ik} = \exp(a_{ik} - \ell_i)`. Writing
:math:`s_{ik} = \partial a_{ik} / \partial \theta` (all parameters),

.. math::

    \nabla \ell_i = \sum_k \tau_{ik} s_{ik}, \qquad
    \nabla^2 \ell_i = \sum_k \tau_{ik} \left(\nabla^2 a_{ik} + s_{ik} s_{ik}'\right)
                       - \nabla \ell_i \nabla \ell_i'

(Louis 1982, applied person by person). The class blocks of :math:`s_{ik}` and
:math:`\nabla^2 a_{ik}` are sums over the person's observations of the family's
derivatives (:mod:`.families`) times the design row; the membership block is
:math:`(\delta_{kl} - \pi_{il}) z_i` and
:math:`-(\mathrm{diag}\,\pi_i - \pi_i \pi_i') \otimes z_i z_i'`. Everything is computed
with array operations over persons and classes (persons in chunks to bound memory).
The analytic Hessian is checked in the tests against central differences of the
log-likelihood (``statsmodels.tools.numdiff.approx_hess``).

References
----------
Louis TA (1982). Finding the observed information matrix when using the EM algorithm.
*Journal of the Royal Statistical Society B* 44:226-233.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .panel import Panel
from .params import Layout, Params, Spec

__all__ = ["Observed", "observed", "log_prior", "complete_class_derivs", "class_loglik"]

CHUNK_ELEMENTS = 4_000_000  # persons x classes x parameters held at once in the Hessian


class Observed(NamedTuple):
    """Log-likelihood with posterior probabilities, and optionally score and Hessian."""

    loglik: float
    tau: np.ndarray
    loglik_i: np.ndarray
    grad: np.ndarray | None
    hess: np.ndarray | None


def logsumexp_rows(a: np.ndarray) -> np.ndarray:
    """``log sum_k exp(a[:, k])`` (faster than scipy's general routine for small ``K``)."""
    m = a.max(axis=1)
    m = np.where(np.isfinite(m), m, 0.0)
    return m + np.log(np.exp(a - m[:, None]).sum(axis=1))


def _posterior(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log sum_k exp(J[:, k])`` and the row-normalised ``exp(J)``, with one ``exp``."""
    m = J.max(axis=1)
    m = np.where(np.isfinite(m), m, 0.0)
    E = J - m[:, None]
    np.exp(E, out=E)
    s = E.sum(axis=1)
    E /= s[:, None]
    return m + np.log(s), E


def log_prior(Z: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """``log pi_ik``, ``(N, K)``: multinomial logit with class 1 as reference."""
    if Z.shape[1] == 1 and np.all(Z[:, 0] == 1.0):
        lin = gamma[:, 0][None, :]
        return np.broadcast_to(lin - logsumexp_rows(lin)[:, None], (Z.shape[0], gamma.shape[0]))
    lin = Z @ gamma.T
    return lin - logsumexp_rows(lin)[:, None]


def class_loglik(panel: Panel, spec: Spec, params: Params) -> np.ndarray:
    """Per-person class log-likelihoods ``sum_j log f_k(y_ij)``, ``(N, K)``."""
    eta = panel.Xu @ params.beta.T
    logf = spec.family.loglik(panel.obs, eta, params.anc)
    return panel.person_sum(logf)


def _local_obs_scores(panel: Panel, d1: np.ndarray, a1: np.ndarray, has_anc: bool) -> np.ndarray:
    L = d1[:, :, None] * panel.Xu[:, None, :]
    if has_anc:
        L = np.concatenate([L, a1[:, :, None]], axis=2)
    return L


def _local_hessian(
    X: np.ndarray, w: np.ndarray, d2: np.ndarray, c12: np.ndarray, a2: np.ndarray, has_anc: bool
) -> np.ndarray:
    """Weighted complete-data Hessian of each class, ``(K, m, m)``."""
    wd = w * d2
    Hb = np.stack([(X * wd[:, k : k + 1]).T @ X for k in range(w.shape[1])])
    if not has_anc:
        return Hb
    K, p = Hb.shape[0], Hb.shape[1]
    H = np.zeros((K, p + 1, p + 1))
    H[:, :p, :p] = Hb
    cross = (w * c12).T @ X
    H[:, :p, p] = cross
    H[:, p, :p] = cross
    H[:, p, p] = np.sum(w * a2, axis=0)
    return H


def _scatter_vec(layout: Layout, local: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros(size)
    for k in range(layout.K):
        v = layout.valid[k]
        np.add.at(out, layout.gidx[k, v], local[k, v])
    return out


def _scatter_mat(layout: Layout, local: np.ndarray, size: int) -> np.ndarray:
    out = np.zeros((size, size))
    for k in range(layout.K):
        v = layout.valid[k]
        idx = layout.gidx[k, v]
        out[np.ix_(idx, idx)] += local[k][np.ix_(v, v)]
    return out


def complete_class_derivs(
    panel: Panel, spec: Spec, layout: Layout, params: Params, w: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """Weighted complete-data objective ``Q`` of the class parameters, its gradient and Hessian.

    ``w`` ``(n_rows, K)`` are the posterior weights of the panel's distinct rows.
    Gradient and Hessian are over the first ``layout.n_class`` entries of ``theta``.
    """
    eta = panel.Xu @ params.beta.T
    D = spec.family.derivs(panel.obs, eta, params.anc)
    Q = float(np.sum(w * D.logf))
    g_loc = np.einsum("nk,np->kp", w * D.d1, panel.Xu)
    if layout.has_anc:
        g_loc = np.concatenate([g_loc, np.sum(w * D.a1, axis=0)[:, None]], axis=1)
    H_loc = _local_hessian(panel.Xu, w, D.d2, D.c12, D.a2, layout.has_anc)
    n = layout.n_class
    return Q, _scatter_vec(layout, g_loc, n), _scatter_mat(layout, H_loc, n)


def _membership_hessian(Z: np.ndarray, pi: np.ndarray) -> np.ndarray:
    """``-sum_i (diag pi_i - pi_i pi_i') (x) z_i z_i'`` over classes 2..K."""
    P = pi[:, 1:]
    K1, q = P.shape[1], Z.shape[1]
    ZZ = np.einsum("np,nq->npq", Z, Z)
    diag = np.einsum("nl,npq->lpq", P, ZZ)
    H = np.einsum("nl,nm,npq->lmpq", P, P, ZZ)  # H[l, m] = -(delta_lm pi_l - pi_l pi_m) z z'
    for lidx in range(K1):
        H[lidx, lidx] -= diag[lidx]
    return H.transpose(0, 2, 1, 3).reshape(K1 * q, K1 * q)


def observed(
    panel: Panel,
    spec: Spec,
    layout: Layout,
    params: Params,
    *,
    derivatives: int = 0,
    logf: np.ndarray | None = None,
) -> Observed:
    """Observed log-likelihood; with ``derivatives`` 1 or 2 also its score and Hessian in ``theta``.

    ``logf`` (observations x classes), when given, are the log-densities at ``params``
    (already computed by an M-step) and are reused.
    """
    fam = spec.family
    if derivatives == 0:
        if logf is None:
            logf = fam.loglik(panel.obs, panel.Xu @ params.beta.T, params.anc)
        A = panel.person_sum(logf)
    else:
        eta = panel.Xu @ params.beta.T
        D = fam.derivs(panel.obs, eta, params.anc, second=derivatives >= 2)
        A = panel.person_sum(D.logf)
    lp = log_prior(panel.Z, params.gamma)
    ll_i, tau = _posterior(A + lp)
    ll = float(ll_i.sum())
    if derivatives == 0:
        return Observed(ll, tau, ll_i, None, None)
    K, P, Z = layout.K, layout.n_params, panel.Z
    pi = np.exp(lp)
    S_loc = panel.person_sum(_local_obs_scores(panel, D.d1, D.a1, layout.has_anc))
    grad = _scatter_vec(layout, np.einsum("nk,nkm->km", tau, S_loc), P)
    if K > 1:
        grad[layout.n_class :] = ((tau - pi)[:, 1:].T @ Z).ravel()
    if derivatives == 1:
        return Observed(ll, tau, ll_i, grad, None)
    w = panel.row_weights(tau)
    H = _scatter_mat(layout, _local_hessian(panel.Xu, w, D.d2, D.c12, D.a2, layout.has_anc), P)
    if K > 1:
        g0 = layout.n_class
        H[g0:, g0:] += _membership_hessian(Z, pi)
    H += _louis_term(layout, S_loc, tau, pi, Z)
    return Observed(ll, tau, ll_i, grad, (H + H.T) / 2)


def _louis_term(
    layout: Layout, S_loc: np.ndarray, tau: np.ndarray, pi: np.ndarray, Z: np.ndarray
) -> np.ndarray:
    """``sum_i [sum_k tau_ik s_ik s_ik' - g_i g_i']`` with full-length per-class scores."""
    N, K = tau.shape
    P = layout.n_params
    out = np.zeros((P, P))
    chunk = max(1, CHUNK_ELEMENTS // max(1, K * P))
    for a in range(0, N, chunk):
        b = min(N, a + chunk)
        S = np.zeros((b - a, K, P))
        for k in range(K):
            v = layout.valid[k]
            S[:, k, layout.gidx[k, v]] = S_loc[a:b, k][:, v]
            for lidx in range(K - 1):
                coef = float(k == lidx + 1) - pi[a:b, lidx + 1]
                S[:, k, layout.gam_idx[lidx]] = coef[:, None] * Z[a:b]
        t = tau[a:b]
        G = np.einsum("nk,nkp->np", t, S)
        R = (S * np.sqrt(t)[:, :, None]).reshape(-1, P)
        out += R.T @ R - G.T @ G
    return out
