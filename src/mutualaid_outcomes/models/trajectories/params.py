"""Model structure and parameter layout of a trajectory mixture (internal).

Internally a fit is described by

* ``beta`` ``(K, p)``: trajectory coefficients of each class on the internal (scaled) design,
  zero where a class's polynomial is of lower degree than the largest one;
* ``anc`` ``(K,)``: the ancillary parameter of each class (``log sigma`` or the logit of the
  structural-zero probability; equal entries when the variance is common; zeros if the
  family has none);
* ``gamma`` ``(K, q)``: multinomial-logit membership coefficients, ``gamma[0] = 0``.

The flat parameter vector ``theta`` (used by Newton steps and the information matrix) holds,
in this order, class 1's active coefficients and its ancillary parameter, class 2's, ...,
then the common ``log sigma`` (``variance='common'``), then ``gamma`` of classes 2..K. The
reported parameters follow the same order.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .families import TrajectoryFamily

__all__ = ["Spec", "Params", "Layout"]


@dataclass(frozen=True, eq=False)
class Spec:
    """What is being fitted: family, number of classes, degrees, variance structure."""

    family: TrajectoryFamily
    n_groups: int
    degree: tuple[int, ...]
    shared_anc: bool
    lower: float | None
    upper: float | None
    n_tv: int  # time-varying covariates in the trajectories

    @property
    def max_degree(self) -> int:
        """Largest polynomial degree."""
        return max(self.degree)

    @property
    def p(self) -> int:
        """Columns of the internal trajectory design."""
        return self.max_degree + 1 + self.n_tv

    def active(self) -> np.ndarray:
        """``(K, p)`` mask of the design columns each class uses."""
        act = np.zeros((self.n_groups, self.p), dtype=bool)
        for k, d in enumerate(self.degree):
            act[k, : d + 1] = True
            act[k, self.max_degree + 1 :] = True
        return act


@dataclass(frozen=True, eq=False)
class Params:
    """Internal parameters (see the module docstring)."""

    beta: np.ndarray
    anc: np.ndarray
    gamma: np.ndarray

    def permuted(self, order: np.ndarray) -> Params:
        """Classes reordered as ``order``; ``gamma`` re-referenced to the new first class."""
        g = self.gamma[order]
        return Params(self.beta[order].copy(), self.anc[order].copy(), g - g[0])

    def with_(self, **kw: np.ndarray) -> Params:
        """A copy with some fields replaced."""
        return replace(self, **kw)


class Layout:
    """Map between :class:`Params` and the flat vector ``theta``.

    ``gidx[k, j]`` is the position in ``theta`` of class ``k``'s local parameter ``j``
    (``j < p``: design column ``j``; ``j == p``: the ancillary parameter), or -1 when the
    class does not use it. With a common variance every class's ancillary slot points to
    the same position. ``gam_idx[l]`` holds the positions of ``gamma[l + 1]``.
    """

    def __init__(self, spec: Spec, q: int) -> None:
        K, p = spec.n_groups, spec.p
        has_anc = spec.family.has_ancillary
        self.m = p + (1 if has_anc else 0)
        self.p, self.q, self.K = p, q, K
        self.has_anc = has_anc
        gidx = np.full((K, self.m), -1, dtype=np.int64)
        act = spec.active()
        pos = 0
        for k in range(K):
            for j in np.flatnonzero(act[k]):
                gidx[k, j] = pos
                pos += 1
            if has_anc and not spec.shared_anc:
                gidx[k, p] = pos
                pos += 1
        self.shared_pos = None
        if has_anc and spec.shared_anc:
            gidx[:, p] = pos
            self.shared_pos = pos
            pos += 1
        self.n_class = pos
        self.gam_idx = pos + np.arange((K - 1) * q).reshape(K - 1, q)
        self.n_params = pos + (K - 1) * q
        self.gidx = gidx
        self.valid = gidx >= 0

    def pack(self, params: Params) -> np.ndarray:
        """Flat vector ``theta``."""
        theta = np.empty(self.n_params)
        for k in range(self.K):
            v = self.valid[k]
            local = params.beta[k]
            if self.has_anc:
                local = np.append(local, params.anc[k])
            theta[self.gidx[k, v]] = local[v]
        theta[self.n_class :] = params.gamma[1:].ravel()
        return theta

    def unpack(self, theta: np.ndarray) -> Params:
        """Parameters from a flat vector."""
        beta = np.zeros((self.K, self.p))
        anc = np.zeros(self.K)
        for k in range(self.K):
            v = self.valid[k, : self.p]
            beta[k, v] = theta[self.gidx[k, : self.p][v]]
            if self.has_anc:
                anc[k] = theta[self.gidx[k, self.p]]
        gamma = np.zeros((self.K, self.q))
        gamma[1:] = theta[self.n_class :].reshape(self.K - 1, self.q)
        return Params(beta, anc, gamma)

    def class_params(self, k: int) -> int:
        """Number of free parameters of class ``k`` (a common variance counts for none)."""
        n = int(self.valid[k, : self.p].sum())
        if self.has_anc and self.shared_pos is None:
            n += 1
        return n
