r"""Standard errors and test statistics: model-based, sandwich (MLR) and Yuan--Bentler.

* Model-based covariance of the estimates: :math:`\hat V = I(\hat\theta)^{-1}/N` with
  :math:`I` the expected or the observed information per observation.
* Huber--White sandwich (lavaan ``se = "robust.huber.white"``, the SEs of
  ``estimator = "MLR"``): :math:`\hat V = I^{-1} B_0 I^{-1}/N` with the observed
  information :math:`I` and :math:`B_0 = N^{-1}\sum_i s_i s_i^\top` from the casewise
  scores :math:`s_i = \partial\ell_i/\partial\theta`; with clusters the scores are first
  summed within clusters and :math:`B_0` multiplied by :math:`G/(G-1)` per group (lavaan
  ``robust.cluster``).
* Likelihood-ratio statistic :math:`T = -2(\ell - \ell_{h1})` against the saturated model,
  with :math:`df = \sum_g\{p_g(p_g+1)/2 + p_g[\text{means}] - \text{fixed.x moments}\} - q`.
* Yuan--Bentler scaled statistic, Mplus variant (lavaan ``"yuan.bentler.mplus"``, the
  test of ``estimator = "MLR"``): :math:`T/c` with
  :math:`c = \{\sum_g \mathrm{tr}(B_{1g}A_{1g}^{-1}) - \mathrm{tr}(B_0 I^{-1})\}/df`,
  where :math:`A_{1g}` and :math:`B_{1g}` are the observed and first-order information of
  the saturated model at its estimates (sample or EM moments), with the rows of exogenous
  covariates removed; for complete data :math:`B_{1g} = A_{1g}\Gamma_g A_{1g}` with
  lavaan's fixed-x :math:`\Gamma_g` (the fourth-moment matrix of the residuals of the
  endogenous variables on the covariates).

Validated against lavaan 0.6.14 (``tests/reference/sem_lavaan.R``).

References
----------
Yuan, K.-H. & Bentler, P. M. (2000). Three likelihood-based methods for mean and
covariance structure analysis with nonnormal missing data. *Sociological Methodology*,
30, 165-200.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .likelihood import Likelihood
from .samplestats import GroupStats

__all__ = [
    "ChiSquareTest",
    "vcov_from_information",
    "robust_vcov",
    "lr_test",
    "yb_trace",
    "degrees_of_freedom",
    "h1_observed",
    "h1_chain_information",
]


@dataclass(frozen=True)
class ChiSquareTest:
    """Likelihood-ratio test with optional scaling."""

    chisq: float
    df: int
    scaling_factor: float = float("nan")
    trace_h1: float = float("nan")
    trace_h0: float = float("nan")

    @property
    def chisq_scaled(self) -> float:
        """:math:`T / c`."""
        return self.chisq / self.scaling_factor


def degrees_of_freedom(stats: Sequence[GroupStats], n_x: int, meanstructure: bool, q: int) -> int:
    """Moments minus free parameters (fixed exogenous moments excluded, as lavaan)."""
    total = 0
    for st in stats:
        p = st.p
        total += p * (p + 1) // 2 + (p if meanstructure else 0)
        total -= n_x * (n_x + 1) // 2 + (n_x if meanstructure else 0)
    return total - q


def vcov_from_information(info: np.ndarray, N: float) -> np.ndarray:
    """:math:`I^{-1}/N` (raises ``numpy.linalg.LinAlgError`` if singular)."""
    return np.linalg.inv(info) / N


def _cluster_sum(sc: np.ndarray, cluster: np.ndarray | None) -> tuple[np.ndarray, float]:
    if cluster is None:
        return sc, 1.0
    _, codes = np.unique(cluster, return_inverse=True)
    codes = codes.ravel()
    G = int(codes.max()) + 1
    out = np.zeros((G, sc.shape[1]))
    np.add.at(out, codes, sc)
    return out, G / (G - 1) if G > 1 else np.nan


def meat(scores: Sequence[np.ndarray], clusters: Sequence[np.ndarray | None], N: float):
    """:math:`B_0` per observation from casewise scores (cluster-summed when given)."""
    q = scores[0].shape[1]
    B = np.zeros((q, q))
    for sc, cl in zip(scores, clusters):
        s, factor = _cluster_sum(sc, cl)
        B += factor * (s.T @ s)
    return B / N


def robust_vcov(info: np.ndarray, B0: np.ndarray, N: float) -> np.ndarray:
    """Sandwich :math:`I^{-1} B_0 I^{-1} / N`."""
    inv = np.linalg.inv(info)
    return inv @ B0 @ inv / N


def lr_test(lik: Likelihood, theta: np.ndarray, df: int) -> ChiSquareTest:
    """Likelihood-ratio statistic against the saturated model (negative values set to 0)."""
    m2ll = lik.m2ll_groups(theta)
    h1 = np.array([st.h1_m2ll for st in lik.stats])
    return ChiSquareTest(float(max((m2ll - h1).sum(), 0.0)), int(df))


# ---------------------------------------------------------------------- saturated model
def _vech_index(p: int) -> tuple[np.ndarray, np.ndarray]:
    i, j = np.triu_indices(p)
    return i, j


def _keep(p: int, x_idx: Sequence[int], meanstructure: bool) -> np.ndarray:
    i, j = _vech_index(p)
    xs = set(x_idx)
    cov_keep = np.array([not (a in xs and b in xs) for a, b in zip(i, j)], dtype=bool)
    if meanstructure:
        return np.concatenate([np.array([k not in xs for k in range(p)]), cov_keep])
    return cov_keep


def _basis_trace(B: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``T[e, f] = tr(E_e B E_f C)`` over the vech basis ``E_e`` (symmetric ``B``, ``C``)."""
    i, j = _vech_index(B.shape[0])
    w = np.where(i == j, 0.5, 1.0)
    T = (
        B[np.ix_(j, i)] * C[np.ix_(i, j)]
        + B[np.ix_(j, j)] * C[np.ix_(i, i)]
        + B[np.ix_(i, i)] * C[np.ix_(j, j)]
        + B[np.ix_(i, j)] * C[np.ix_(j, i)]
    )
    return T * np.outer(w, w)


def _h1_expected(S: np.ndarray, meanstructure: bool) -> np.ndarray:
    """Information of the saturated model at the sample moments (complete data)."""
    Si = np.linalg.inv(S)
    I22 = 0.5 * _basis_trace(Si, Si)
    if not meanstructure:
        return I22
    p = S.shape[0]
    out = np.zeros((p + I22.shape[0], p + I22.shape[0]))
    out[:p, :p] = Si
    out[p:, p:] = I22
    return out


def _gamma(X: np.ndarray, x_idx: Sequence[int], meanstructure: bool, cluster) -> np.ndarray:
    n, p = X.shape
    i, j = _vech_index(p)
    Yc = X - X.mean(axis=0)
    if len(x_idx):
        nx = [k for k in range(p) if k not in x_idx]
        Z1 = np.column_stack([np.ones(n), X[:, x_idx]])
        coef, *_ = np.linalg.lstsq(Z1, X[:, nx], rcond=None)
        Yhat = X.copy()
        Yhat[:, nx] = Z1 @ coef
        Hc = Yhat - Yhat.mean(axis=0)
        Z = Yc[:, i] * Yc[:, j] - Hc[:, i] * Hc[:, j]
        if meanstructure:
            Z = np.column_stack([X - Yhat, Z])
    else:
        Z = Yc[:, i] * Yc[:, j]
        if meanstructure:
            Z = np.column_stack([X, Z])
    Zc = Z - Z.mean(axis=0)
    Zc, factor = _cluster_sum(Zc, cluster)
    return factor * (Zc.T @ Zc) / n


def h1_observed(
    st: GroupStats,
    meanstructure: bool,
    mu: np.ndarray | None = None,
    sigma: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Observed information and casewise scores of the saturated model.

    In ``(mu, vech sigma)`` coordinates, per observation, at ``mu``/``sigma`` (default: its
    own estimates) (lavaan ``lav_mvnorm_missing_information_observed_samplestats`` and
    ``lav_mvnorm_missing_scores_mu_vech_sigma``; one pattern for complete data).
    """
    p = st.p
    i, j = _vech_index(p)
    w = np.where(i == j, 0.5, 1.0)
    mu = st.mean if mu is None else mu
    sigma = st.cov if sigma is None else sigma
    n_mu = p if meanstructure else 0
    dim = n_mu + i.size
    A = np.zeros((dim, dim))
    scores = np.zeros((st.n, dim))
    for pat in st.patterns:
        o = pat.obs
        oo = np.ix_(o, o)
        inv = np.zeros((p, p))
        inv[oo] = np.linalg.inv(sigma[oo])
        d = np.zeros(p)
        d[o] = pat.mean - mu[o]
        W = np.zeros((p, p))
        W[oo] = pat.cov + np.outer(d[o], d[o])
        sig_o = np.zeros((p, p))
        sig_o[oo] = sigma[oo]
        C = inv @ (2 * W - sig_o) @ inv
        A[n_mu:, n_mu:] += pat.n * 0.5 * _basis_trace(inv, C)
        if meanstructure:
            a = inv @ d
            row = (a[i][:, None] * inv[j, :] + a[j][:, None] * inv[i, :]) * w[:, None]
            A[:p, :p] += pat.n * inv
            A[p:, :p] += pat.n * row
            A[:p, p:] += pat.n * row.T
        Zf = np.zeros((pat.rows.size, p))
        Zf[:, o] = (st.X[np.ix_(pat.rows, o)] - mu[o]) @ inv[oo]
        sc_cov = (Zf[:, i] * Zf[:, j] - inv[i, j]) * np.where(i == j, 0.5, 1.0)
        scores[pat.rows] = np.column_stack([Zf, sc_cov]) if meanstructure else sc_cov
    return A / st.n, scores


def yb_trace(
    lik: Likelihood,
    info: np.ndarray,
    scores: Sequence[np.ndarray],
    clusters: Sequence[np.ndarray | None],
    x_idx: Sequence[int],
    meanstructure: bool,
    fiml: bool = False,
) -> tuple[float, float]:
    """``(trace_h1, trace_h0)`` of the Mplus-variant Yuan--Bentler scaling.

    With ``fiml`` (lavaan ``missing = "ml"``) the saturated-model terms always come from
    the casewise scores and observed information of the missing-data likelihood, even when
    no value is missing (as lavaan, which sets its missing-data flag from the option).
    """
    N = lik.N
    tr_h1 = 0.0
    for st, cl in zip(lik.stats, clusters):
        keep = _keep(st.p, x_idx, meanstructure)
        if not fiml:
            A1 = _h1_expected(st.cov, meanstructure)
            Gam = _gamma(st.X, list(x_idx), meanstructure, cl)
            tr_h1 += float(np.sum(A1[np.ix_(keep, keep)] * Gam[np.ix_(keep, keep)]))
        else:
            A1, sc = h1_observed(st, meanstructure)
            s, factor = _cluster_sum(sc, cl)
            B1 = factor * (s.T @ s) / st.n
            A1k = A1[np.ix_(keep, keep)]
            tr_h1 += float(np.trace(np.linalg.solve(A1k, B1[np.ix_(keep, keep)])))
    B0 = meat(scores, clusters, N)
    tr_h0 = float(np.trace(np.linalg.solve(info, B0)))
    return tr_h1, tr_h0


def h1_chain_information(lik: Likelihood, theta: np.ndarray) -> np.ndarray:
    r"""Information of lavaan's ``observed.information = "h1"``.

    :math:`\sum_g (N_g/N)\Delta_g^\top A_{1g}\Delta_g` with the saturated model's observed information at the model-implied
    moments (no second-derivative term of :math:`\Sigma(\theta)`). lavaan uses it for the
    scaled test when ``cluster`` is given with ``estimator = "ML"``.
    """
    q = lik.model.q
    E = np.zeros((q, q))
    for g, st in enumerate(lik.stats):
        imp = lik.model.implied_group(theta, g)
        dsig, dmu = lik.model.jacobian_group(theta, g, imp)
        i, j = _vech_index(st.p)
        ms = lik.model.meanstructure
        D = np.hstack([dmu, dsig[:, i, j]]) if ms else dsig[:, i, j]
        A1, _ = h1_observed(st, ms, imp.mu, imp.sigma)
        E += st.n / lik.N * (D @ A1 @ D.T)
    return E
