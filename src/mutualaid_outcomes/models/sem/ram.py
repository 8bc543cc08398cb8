r"""Model-implied moments in the RAM (reticular action model) representation.

Variables are ordered observed first, then latent (:math:`m = p + q`). Per group,

* :math:`A` (:math:`m\times m`): ``A[i, j]`` is the effect of variable ``j`` on ``i``
  (loadings ``f =~ x`` give ``A[x, f]``; regressions ``y ~ x`` give ``A[y, x]``);
* :math:`S` (symmetric): variances and (residual) covariances (``~~``);
* :math:`M`: intercepts and means (``~ 1``).

With :math:`B = (I - A)^{-1}` and :math:`F = [I_p\ 0]`,

.. math::
   \Sigma = F B S B^\top F^\top, \qquad \mu = F B M .

Derivatives (McArdle & McDonald 1984; von Oertzen & Brick 2014):
:math:`\partial\Sigma/\partial S_{ij} = FB(E_{ij}+E_{ji})B^\top F^\top`,
:math:`\partial\Sigma/\partial A_{ij} = FBE_{ij}BSB^\top F^\top + (\cdot)^\top`,
:math:`\partial\mu/\partial A_{ij} = FBE_{ij}BM`, :math:`\partial\mu/\partial M_i = FBe_i`.
Entries sharing a parameter (equality constraints) add up.

The LISREL matrices lavaan uses internally give the same :math:`\Sigma` and :math:`\mu`.

Examples
--------
>>> import numpy as np
>>> from mutualaid_outcomes.models.sem.syntax import parse_model
>>> from mutualaid_outcomes.models.sem.partable import build_partable
>>> pt = build_partable(parse_model("f =~ x1 + x2"), ["x1", "x2"])
>>> model = RamModel(pt, [(np.zeros(2), np.eye(2))])
>>> sigma, mu = model.implied(np.array([0.5, 0.2, 0.3, 1.0]))[0][:2]
>>> np.round(sigma, 3).tolist()
[[1.2, 0.5], [0.5, 0.55]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .partable import ParTable

__all__ = ["RamModel", "Implied"]

_A, _S, _M = 0, 1, 2


@dataclass(frozen=True)
class Implied:
    """Model-implied moments of one group and the intermediate matrices."""

    sigma: np.ndarray
    mu: np.ndarray
    B: np.ndarray
    sigma_all: np.ndarray
    mu_all: np.ndarray
    group: int = 0


@dataclass
class _GroupEntries:
    kind: np.ndarray
    i: np.ndarray
    j: np.ndarray
    par: np.ndarray
    value: np.ndarray
    row: np.ndarray


class RamModel:
    """The numerical model: parameter table mapped onto RAM matrices, group by group.

    Parameters
    ----------
    pt : ParTable
        Parameter table.
    moments : sequence of (mean, cov)
        Sample (or EM) moments of every group, used for the fixed values of exogenous
        covariates (``fixed.x``) and, without a mean structure, as the implied mean.
    """

    def __init__(self, pt: ParTable, moments: Sequence[tuple[np.ndarray, np.ndarray]]):
        self.pt = pt
        self.p = len(pt.ov_names)
        self.m = self.p + len(pt.lv_names)
        self.q = pt.n_free
        self.n_groups = pt.n_groups
        self.meanstructure = pt.meanstructure
        self.index = {v: k for k, v in enumerate(pt.ov_names + pt.lv_names)}
        self.moments = [(np.asarray(a, float), np.asarray(b, float)) for a, b in moments]
        self.entries = [self._entries(g) for g in range(self.n_groups)]
        self._cache: dict[int, tuple] = {}

    def _entries(self, g: int) -> _GroupEntries:
        idx = self.index
        ov = {v: k for k, v in enumerate(self.pt.ov_names)}
        mean, cov = self.moments[g]
        kind, ii, jj, par, val, rows = [], [], [], [], [], []
        for r_id, r in enumerate(self.pt.rows):
            if r.group != g or r.op == ":=":
                continue
            value = r.value
            if r.exo:
                value = mean[ov[r.lhs]] if r.op == "~1" else cov[ov[r.lhs], ov[r.rhs]]
            if r.op == "=~":
                k, i, j = _A, idx[r.rhs], idx[r.lhs]
            elif r.op == "~":
                k, i, j = _A, idx[r.lhs], idx[r.rhs]
            elif r.op == "~~":
                k, i, j = _S, idx[r.lhs], idx[r.rhs]
            elif r.op == "~1":
                k, i, j = _M, idx[r.lhs], 0
            else:  # pragma: no cover - defensive
                continue
            kind.append(k)
            ii.append(i)
            jj.append(j)
            par.append(r.free - 1)
            val.append(value)
            rows.append(r_id)
        return _GroupEntries(
            np.array(kind, dtype=int),
            np.array(ii, dtype=int),
            np.array(jj, dtype=int),
            np.array(par, dtype=int),
            np.array(val, dtype=float),
            np.array(rows, dtype=int),
        )

    def with_moments(self, moments: Sequence[tuple[np.ndarray, np.ndarray]]) -> RamModel:
        """A copy of the model with other sample moments.

        The fixed exogenous values (and, without a mean structure, the implied means) come
        from ``moments``; the parameter layout is shared.
        """
        new = object.__new__(RamModel)
        new.__dict__.update(self.__dict__)
        new.moments = [(np.asarray(a, float), np.asarray(b, float)) for a, b in moments]
        new._cache = {}
        if self.pt.ov_x:
            new.entries = [new._entries(g) for g in range(self.n_groups)]
        return new

    def _base(self, g: int) -> tuple:
        cached = self._cache.get(g)
        if cached is None:
            e = self.entries[g]
            fixed = e.par < 0
            A = np.zeros((self.m, self.m))
            S = np.zeros((self.m, self.m))
            M = np.zeros(self.m)
            for k, i, j, v in zip(e.kind[fixed], e.i[fixed], e.j[fixed], e.value[fixed]):
                if k == _A:
                    A[i, j] = v
                elif k == _S:
                    S[i, j] = S[j, i] = v
                else:
                    M[i] = v
            free = ~fixed
            sel = {k: free & (e.kind == k) for k in (_A, _S, _M)}
            idx = {k: (e.i[sel[k]], e.j[sel[k]], e.par[sel[k]]) for k in sel}
            cached = (A, S, M, idx)
            self._cache[g] = cached
        return cached

    def matrices(self, theta: np.ndarray, g: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The ``A``, ``S`` and ``M`` matrices of group ``g`` at ``theta``."""
        A0, S0, M0, idx = self._base(g)
        A, S, M = A0.copy(), S0.copy(), M0.copy()
        i, j, k = idx[_A]
        A[i, j] = theta[k]
        i, j, k = idx[_S]
        S[i, j] = theta[k]
        S[j, i] = theta[k]
        i, _, k = idx[_M]
        M[i] = theta[k]
        return A, S, M

    def gradient_group(self, imp: Implied, G: np.ndarray, gm: np.ndarray) -> np.ndarray:
        r"""Chain rule from moment derivatives to parameters.

        Given a function :math:`h` of the implied moments with
        :math:`dh = \mathrm{tr}(G\,d\Sigma) + g_\mu^\top d\mu` (``G`` symmetric), returns
        :math:`\partial h/\partial\theta` for group ``imp``'s parameters.
        """
        _, _, _, idx = self._base(imp.group)
        p = self.p
        FB = imp.B[:p, :]
        GFB = G @ FB
        q = self.q
        out = np.zeros(q)
        i, j, k = idx[_S]
        if k.size:
            GS = FB.T @ GFB
            out += np.bincount(k, GS[i, j] * np.where(i == j, 1.0, 2.0), minlength=q)
        i, j, k = idx[_A]
        if k.size:
            GA = 2.0 * (FB.T @ G) @ imp.sigma_all[:p, :]
            vals = GA[i, j]
            if self.meanstructure:
                vals = vals + (FB.T @ gm)[i] * imp.mu_all[j]
            out += np.bincount(k, vals, minlength=q)
        i, _, k = idx[_M]
        if k.size and self.meanstructure:
            out += np.bincount(k, (FB.T @ gm)[i], minlength=q)
        return out

    def implied_group(self, theta: np.ndarray, g: int) -> Implied:
        """Implied moments of group ``g``."""
        A, S, M = self.matrices(theta, g)
        B = np.linalg.inv(np.eye(self.m) - A)
        sigma_all = B @ S @ B.T
        sigma_all = (sigma_all + sigma_all.T) / 2
        mu_all = B @ M
        p = self.p
        mu = mu_all[:p] if self.meanstructure else self.moments[g][0]
        return Implied(sigma_all[:p, :p], mu, B, sigma_all, mu_all, g)

    def implied(self, theta: np.ndarray) -> list[tuple]:
        """``[(sigma, mu, Implied), ...]`` for every group."""
        out = []
        for g in range(self.n_groups):
            imp = self.implied_group(theta, g)
            out.append((imp.sigma, imp.mu, imp))
        return out

    def jacobian_group(self, theta: np.ndarray, g: int, imp: Implied | None = None):
        r"""Derivatives of the implied moments of group ``g``.

        Returns
        -------
        dsigma : numpy.ndarray
            ``(q, p, p)``: :math:`\partial\Sigma/\partial\theta_k`.
        dmu : numpy.ndarray
            ``(q, p)``: :math:`\partial\mu/\partial\theta_k` (zero without a mean structure).
        """
        if imp is None:
            imp = self.implied_group(theta, g)
        e = self.entries[g]
        free = e.par >= 0
        p, q = self.p, self.q
        FB = imp.B[:p, :]
        kind, i, j, par = e.kind[free], e.i[free], e.j[free], e.par[free]
        u = FB[:, i].T
        v = np.zeros_like(u)
        s = kind == _S
        v[s] = FB[:, j[s]].T * np.where(i[s] == j[s], 0.5, 1.0)[:, None]
        a = kind == _A
        v[a] = imp.sigma_all[j[a], :p]
        inc = np.zeros((q, par.size))
        inc[par, np.arange(par.size)] = 1.0
        sa = s | a
        outer = u[sa][:, :, None] * v[sa][:, None, :]
        dsig = (inc[:, sa] @ outer.reshape(int(sa.sum()), p * p)).reshape(q, p, p)
        dsig = dsig + dsig.transpose(0, 2, 1)
        dmu = np.zeros((q, p))
        if self.meanstructure:
            w = np.zeros_like(u)
            w[a] = u[a] * imp.mu_all[j[a]][:, None]
            mm = kind == _M
            w[mm] = u[mm]
            dmu = inc @ w
        return dsig, dmu
