r"""Normal-theory (FIML) objective, analytic gradient, information matrices and scores.

The objective is the negative log-likelihood per observation,

.. math:: f(\theta) = -\ell(\theta) / N = \frac{1}{2N}\sum_g \sum_k n_{gk}
   \{p_k\log 2\pi + \log|\Sigma_{oo}| + \mathrm{tr}(\Sigma_{oo}^{-1}W_{gk})\},
   \qquad W = S_k + (\bar y_k - \mu_o)(\bar y_k - \mu_o)^\top,

summed over groups ``g`` and missing-data patterns ``k`` (one pattern for complete data,
where it equals lavaan's ``0.5 * F_ML`` plus a constant). Its gradient is
:math:`\sum_{gk}\frac{n}{2N}[\mathrm{tr}(G\,\partial\Sigma) + g^\top\partial\mu]` with
:math:`G = \Sigma_{oo}^{-1} - \Sigma_{oo}^{-1}W\Sigma_{oo}^{-1}` and
:math:`g = -2\Sigma_{oo}^{-1}(\bar y_k - \mu_o)`.

* expected information (per observation):
  :math:`\frac1N\sum n_k[\partial\mu_o^\top\Sigma_{oo}^{-1}\partial\mu_o +
  \tfrac12\mathrm{tr}(\Sigma_{oo}^{-1}\partial\Sigma_{oo}\Sigma_{oo}^{-1}\partial\Sigma_{oo})]`;
* observed information: the Hessian of :math:`f`, by Richardson differences of the
  analytic gradient with step :math:`10^{-6}` (as lavaan's ``lav_model_hessian``);
* casewise scores :math:`\partial\ell_i/\partial\theta` for the sandwich (MLR).

Examples
--------
>>> import numpy as np
>>> from mutualaid_outcomes.models.sem.syntax import parse_model
>>> from mutualaid_outcomes.models.sem.partable import build_partable
>>> from mutualaid_outcomes.models.sem.samplestats import group_stats
>>> from mutualaid_outcomes.models.sem.ram import RamModel
>>> X = np.random.default_rng(0).normal(size=(50, 2))
>>> st = group_stats(X)
>>> pt = build_partable(parse_model("x1 ~~ x2"), ["x1", "x2"])
>>> lik = Likelihood(RamModel(pt, [(st.mean, st.cov)]), [st])
>>> theta = np.array([st.cov[0, 1], st.cov[0, 0], st.cov[1, 1]])
>>> bool(np.abs(lik.gradient(theta)[1]).max() < 1e-12)
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .ram import RamModel
from .samplestats import LOG_2PI, GroupStats

__all__ = ["Likelihood", "HESSIAN_STEP"]

#: Step of the numerical Hessian (lavaan ``lav_model_hessian``: ``h = 1e-06``).
HESSIAN_STEP = 1e-6


def _chol_inv(a: np.ndarray) -> tuple[np.ndarray, float] | None:
    try:
        L = np.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        return None
    Li = np.linalg.inv(L)
    return Li.T @ Li, 2.0 * float(np.log(np.diag(L)).sum())


class _Batch:
    """Missing-data patterns of one group with the same number of observed variables.

    Stacked so that Cholesky factors and inverses are computed in one call.
    """

    def __init__(self, patterns) -> None:
        self.obs = np.array([p.obs for p in patterns])
        self.n = np.array([p.n for p in patterns], dtype=float)
        self.mean = np.array([p.mean for p in patterns])
        self.cov = np.array([p.cov for p in patterns])
        self.size = self.obs.shape[1]
        self.rr = self.obs[:, :, None]
        self.cc = self.obs[:, None, :]
        self.p_full = 0

    def flat_index(self, p: int) -> np.ndarray:
        """Positions of the observed blocks in a flattened ``(p, p)`` matrix."""
        if self.p_full != p:
            self._flat = (self.rr * p + self.cc).ravel()
            self.p_full = p
        return self._flat

    def inverses(self, sigma: np.ndarray):
        """``(inv, logdet)`` of the observed blocks, or ``None`` if one is not PD."""
        try:
            L = np.linalg.cholesky(sigma[self.rr, self.cc])
        except np.linalg.LinAlgError:
            return None
        Li = np.linalg.inv(L)
        inv = np.swapaxes(Li, 1, 2) @ Li
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        return inv, logdet


def _batches(patterns) -> list[_Batch]:
    sizes: dict[int, list] = {}
    for p in patterns:
        sizes.setdefault(p.obs.size, []).append(p)
    return [_Batch(v) for _, v in sorted(sizes.items())]


class Likelihood:
    """Objective, derivatives and information of a model on grouped data.

    Parameters
    ----------
    model : RamModel
        Numerical model.
    stats : sequence of GroupStats
        Data of every group.
    """

    def __init__(self, model: RamModel, stats: Sequence[GroupStats]):
        self.model = model
        self.stats = list(stats)
        self.N = float(sum(s.n for s in self.stats))
        self.batches = [_batches(st.patterns) for st in self.stats]

    # ------------------------------------------------------------------ values
    def m2ll_groups(self, theta: np.ndarray) -> np.ndarray:
        """``-2 log L`` of every group (``inf`` where an implied block is not PD)."""
        out = np.zeros(len(self.stats))
        for g, batches in enumerate(self.batches):
            imp = self.model.implied_group(theta, g)
            for b in batches:
                res = b.inverses(imp.sigma)
                if res is None:
                    out[g] = math.inf
                    break
                inv, logdet = res
                d = b.mean - imp.mu[b.obs]
                tr = np.einsum("kij,kji->k", inv, b.cov) + np.einsum("ki,kij,kj->k", d, inv, d)
                out[g] += float(b.n @ (b.size * LOG_2PI + logdet + tr))
        return out

    def objective(self, theta: np.ndarray) -> float:
        r""":math:`f(\theta) = -\log L / N`."""
        return float(self.m2ll_groups(theta).sum() / (2 * self.N))

    def gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Objective and its analytic gradient."""
        f = 0.0
        grad = np.zeros(self.model.q)
        for g, batches in enumerate(self.batches):
            imp = self.model.implied_group(theta, g)
            p = imp.sigma.shape[0]
            G = np.zeros((p, p))
            gm = np.zeros(p)
            for b in batches:
                res = b.inverses(imp.sigma)
                if res is None:
                    return math.inf, np.full(self.model.q, np.nan)
                inv, logdet = res
                d = b.mean - imp.mu[b.obs]
                W = b.cov + d[:, :, None] * d[:, None, :]
                iW = inv @ W
                f += float(b.n @ (b.size * LOG_2PI + logdet + np.einsum("kii->k", iW)))
                Gk = b.n[:, None, None] * (inv - iW @ inv)
                G += np.bincount(b.flat_index(p), Gk.ravel(), minlength=p * p).reshape(p, p)
                gk = -2.0 * b.n[:, None] * (inv @ d[:, :, None])[:, :, 0]
                gm += np.bincount(b.obs.ravel(), gk.ravel(), minlength=p)
            grad += self.model.gradient_group(imp, G, gm)
        return f / (2 * self.N), grad / (2 * self.N)

    # ------------------------------------------------------------------ information
    def expected_information(self, theta: np.ndarray) -> np.ndarray:
        """Expected (Fisher) information per observation, ``(q, q)``."""
        q = self.model.q
        info = np.zeros((q, q))
        for g, batches in enumerate(self.batches):
            imp = self.model.implied_group(theta, g)
            dsig, dmu = self.model.jacobian_group(theta, g, imp)
            for b in batches:
                res = b.inverses(imp.sigma)
                if res is None:
                    return np.full((q, q), np.nan)
                inv = res[0]
                ds = dsig[:, b.rr, b.cc]
                T = np.matmul(inv[None], ds)
                w = np.broadcast_to(b.n[None, :, None, None], T.shape)
                info += 0.5 * (T * w).reshape(q, -1) @ np.swapaxes(T, 2, 3).reshape(q, -1).T
                if self.model.meanstructure:
                    dm = dmu[:, b.obs]
                    M = np.matmul(dm[:, :, None, :], inv[None])[:, :, 0, :]
                    M = M * b.n[None, :, None]
                    info += M.reshape(q, -1) @ dm.reshape(q, -1).T
        return info / self.N

    def observed_information(self, theta: np.ndarray, h: float = HESSIAN_STEP) -> np.ndarray:
        """Hessian of :math:`f` by Richardson differences of the analytic gradient.

        ``H[:, j] = (g(x - 2h) - 8 g(x - h) + 8 g(x + h) - g(x + 2h)) / (12 h)``,
        symmetrised, as lavaan's ``lav_model_hessian`` (the default
        ``observed.information = "hessian"``).
        """
        q = self.model.q
        H = np.zeros((q, q))
        for j in range(q):
            cols = []
            for step in (-2 * h, -h, h, 2 * h):
                x = theta.copy()
                x[j] += step
                cols.append(self.gradient(x)[1])
            H[:, j] = (cols[0] - 8 * cols[1] + 8 * cols[2] - cols[3]) / (12 * h)
        return (H + H.T) / 2

    # ------------------------------------------------------------------ scores
    def casewise_scores(self, theta: np.ndarray) -> list[np.ndarray]:
        r"""Scores :math:`\partial\ell_i/\partial\theta` of every row, one array per group.

        Row order follows each group's data matrix.
        """
        out = []
        for g, st in enumerate(self.stats):
            imp = self.model.implied_group(theta, g)
            dsig, dmu = self.model.jacobian_group(theta, g, imp)
            sc = np.zeros((st.n, self.model.q))
            for pat in st.patterns:
                o = pat.obs
                inv = _chol_inv(imp.sigma[np.ix_(o, o)])[0]  # type: ignore[index]  # PD at a fit
                Y = st.X[np.ix_(pat.rows, o)] - imp.mu[o]
                Z = Y @ inv
                ds = dsig[:, o][:, :, o]
                quad = np.einsum("ni,kij,nj->nk", Z, ds, Z, optimize=True)
                tr = np.einsum("ij,kji->k", inv, ds)
                sc[pat.rows] = 0.5 * (quad - tr) + Z @ dmu[:, o].T
            out.append(sc)
        return out
