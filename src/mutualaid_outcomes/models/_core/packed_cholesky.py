"""Cholesky factors and regression coefficients of many packed cross-product matrices.

Bootstrap and jackknife cross products come from :class:`.ols.Packer` as the
``q = d (d + 1) / 2`` distinct entries of each symmetric ``d x d`` matrix ``S``. Here a
batch of ``m`` of them is laid out *batch-last*, as a ``(q, m)`` array whose row
``pos(i, j)`` (``i <= j``, upper triangle by rows, the order of ``Packer``) holds entry
``(i, j)`` of every matrix. Each step of the factorisation and of the back substitutions
is then one numpy operation on contiguous rows of length ``m``; the Python loops run over
the ``d`` variables, never over the ``m`` systems, and no ``(m, d, d)`` matrices are built.

For a leading block of ``p`` variables, :meth:`PackedCholesky.factor` computes rows
``0..p-1`` of the upper Cholesky factor ``R`` of ``S`` (``R'R = S``) by outer-product
(right-looking) elimination, over *all* ``d`` columns: the columns beyond ``p`` are the
forward substitutions ``R[:p, :p]^{-T} S[:p, t]`` of the responses. The coefficients of
regressing variable ``t`` on the leading ``q <= p`` variables are then
``R[:q, :q]^{-1} R[:q, t]`` (:meth:`PackedCholesky.coefficients`, back substitution).

The collinearity rule is that of :mod:`.ols`: system ``s`` fails when a squared pivot
``R[k, k]^2`` is at most ``RIDGE_FLOOR * S[k, k]`` (the squared pivot of ``S`` scaled to
unit diagonal, i.e. ``1 - R^2`` of variable ``k`` on the variables before it, is below
``1e-10``) -- the same numbers :func:`.ols.sweep` divides by. A failed system carries on
with a unit pivot so that the batch stays finite; its results must be discarded.

Examples
--------
>>> import numpy as np
>>> from mutualaid_outcomes.models._core.ols import Packer
>>> rng = np.random.default_rng(0)
>>> z = rng.normal(size=(50, 3))
>>> packer = Packer(z)
>>> w = rng.poisson(1.0, size=(4, 50)).astype(float)
>>> chol = PackedCholesky(packer.d)
>>> r, ok = chol.factor(packer.packed_t @ w.T, p=3)
>>> beta = chol.coefficients(r, q=3, cols=[3], first=0)[:, 0, :]  # z2 on 1, z0, z1
>>> x1 = np.c_[np.ones(50), z[:, :2]]
>>> ref = np.linalg.lstsq(x1 * np.sqrt(w[1])[:, None], z[:, 2] * np.sqrt(w[1]), rcond=None)
>>> bool(np.allclose(beta[:, 1], ref[0]) and ok.all())
True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .ols import RIDGE_FLOOR

__all__ = ["PackedCholesky"]


class PackedCholesky:
    """Batched Cholesky factorisation and back substitution on packed ``(q, m)`` sums.

    Parameters
    ----------
    d : int
        Size of each symmetric matrix (``q = d (d + 1) / 2`` packed rows).
    """

    def __init__(self, d: int) -> None:
        self.d = d
        i = np.arange(d)
        # first packed row of matrix row i: rows 0..i-1 hold d, d-1, ... entries
        self._start = i * d - i * (i - 1) // 2

    def pos(self, i: int, j: int) -> int:
        """Packed row of entry ``(i, j)``, ``i <= j``."""
        return int(self._start[i]) + j - i

    def factor(
        self, cross_t: np.ndarray, p: int, *, overwrite: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Rows ``0..p-1`` of the upper Cholesky factor of every packed matrix.

        Parameters
        ----------
        cross_t : numpy.ndarray
            ``(q, m)`` packed matrices, batch last.
        p : int
            Leading variables to factorise (pivots checked by the collinearity rule).
        overwrite : bool
            Factorise ``cross_t`` in place (it must then be a C-contiguous float array)
            instead of a copy.

        Returns
        -------
        r : numpy.ndarray
            ``(q, m)``; for ``i < p``, row ``pos(i, j)`` holds ``R[i, j]`` for every
            ``j >= i`` (responses included). Rows of ``i >= p`` hold partly reduced
            entries and must not be used.
        ok : numpy.ndarray
            ``(m,)`` bool: the system passed the collinearity rule on every pivot.

        Notes
        -----
        Step ``k`` scales row ``k`` of the reduced matrix by ``1 / sqrt(pivot)`` (giving
        row ``k`` of ``R``) and subtracts ``R[k, i] R[k, j]`` from entry ``(i, j)`` of
        every later row ``i < p``. That is ``p^2 d / 2`` multiply-adds per system, the
        cost of LAPACK's factorisation plus forward substitution of the responses.
        """
        d, m = self.d, cross_t.shape[1]
        if overwrite:
            if not (cross_t.flags.c_contiguous and cross_t.dtype == np.float64):
                raise RuntimeError("in-place factorisation needs C-contiguous float64 sums")
            r = cross_t
        else:
            r = np.array(cross_t, dtype=float, order="C", copy=True)
        diag0 = r[self._start[:p]]  # fancy index: a copy of the original diagonal
        ok = np.ones(m, dtype=bool)
        tmp = np.empty((d, m))
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            for k in range(p):
                s = self._start[k]
                row = r[s : s + d - k]  # R[k, k:] once scaled
                good = row[0] > RIDGE_FLOOR * diag0[k]
                if not good.all():
                    ok &= good
                    row[0] = np.where(good, row[0], 1.0)
                row /= np.sqrt(row[0])
                for i in range(k + 1, p):
                    # reduced S[i, i:] -= R[k, i] * R[k, i:]
                    si = self._start[i]
                    w = tmp[: d - i]
                    np.multiply(row[i - k], row[i - k :], out=w)
                    np.subtract(r[si : si + d - i], w, out=r[si : si + d - i])
        return r, ok

    def coefficients(self, r: np.ndarray, q: int, cols: Sequence[int], first: int) -> np.ndarray:
        """Coefficients ``first..q-1`` of regressing each variable of ``cols`` on ``0..q-1``.

        Parameters
        ----------
        r : numpy.ndarray
            The factor from :meth:`factor` (with ``p >= q``).
        q : int
            The regressors are the leading variables ``0..q-1``.
        cols : sequence of int
            Response variables (each ``>= q``).
        first : int
            Lowest coefficient wanted (back substitution stops there).

        Returns
        -------
        numpy.ndarray
            ``(q - first, len(cols), m)``: entry ``[i - first, c, s]`` is the coefficient
            of variable ``i`` for response ``cols[c]`` in system ``s``.
        """
        m = r.shape[1]
        cols = list(cols)
        beta = np.empty((q - first, len(cols), m))
        run = cols == list(range(cols[0], cols[0] + len(cols)))
        # no floating-point guard needed: every pivot R[i, i] is positive (failed
        # pivots were replaced by 1), so the divisions are finite for finite sums
        for i in range(q - 1, first - 1, -1):
            s = self._start[i]
            if run:
                rhs = r[s + cols[0] - i : s + cols[-1] - i + 1]
            else:
                rhs = r[[s + c - i for c in cols]]
            if i < q - 1:
                known = beta[i + 1 - first :]  # (q - i - 1, len(cols), m)
                rhs = rhs - np.einsum("lm,lcm->cm", r[s + 1 : s + q - i], known)
            np.divide(rhs, r[s], out=beta[i - first])
        return beta
