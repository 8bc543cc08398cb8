"""Weighted least squares and the traces of the projection matrix P used by meta-analysis.

With weights ``w`` (a diagonal matrix ``W``) and a full-rank design ``X`` (k x p),
metafor's estimators are written in terms of

    A = (X' W X)^-1,      P = W - W X A X' W.

Forming ``P`` costs O(k^2) memory and O(k^3) time per evaluation. Every quantity the
estimators need reduces to sums over studies and p x p products:

* ``y' P y = sum_i w_i e_i^2`` and ``y' P P y = sum_i (w_i e_i)^2`` with the WLS
  residuals ``e = y - X A X' W y``;
* ``tr(P) = sum_i w_i - sum_i w_i^2 h_i`` with ``h_i = x_i' A x_i``;
* ``sum_ij P_ij^2 a_i b_j = sum_i a_i b_i (w_i^2 - 2 w_i^3 h_i)
  + tr(A X' D_a X A X' D_b X)`` with ``D_a = diag(w^2 a)``, which gives
  ``tr(P P)`` (``a = b = 1``), ``tr(P V P V)`` (``a = b = v``) and ``tr(P V P)``
  (``a = 1, b = v``).

So each fit is O(k p^2), which keeps leave-one-out and influence diagnostics on large
meta-analyses fast. The identities are checked against the dense matrices in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["WLSFit", "wls", "sum_p2"]


@dataclass(frozen=True)
class WLSFit:
    """A weighted least-squares fit and the pieces of ``P`` built from it."""

    w: np.ndarray  # weights, length k
    X: np.ndarray  # design, k x p
    beta: np.ndarray  # coefficients, length p
    A: np.ndarray  # (X'WX)^-1, p x p
    resid: np.ndarray  # y - X beta
    h: np.ndarray  # x_i' A x_i

    @property
    def rss(self) -> float:
        """``y' P y``: the weighted residual sum of squares."""
        return float(np.sum(self.w * self.resid**2))

    @property
    def ppy(self) -> float:
        """``y' P P y``."""
        return float(np.sum((self.w * self.resid) ** 2))

    @property
    def trace_p(self) -> float:
        """``tr(P)``."""
        return float(np.sum(self.w) - np.sum(self.w**2 * self.h))

    @property
    def diag_p(self) -> np.ndarray:
        """Diagonal of ``P``."""
        return self.w - self.w**2 * self.h

    @property
    def hat(self) -> np.ndarray:
        """Diagonal of the hat matrix ``X A X' W``."""
        return self.w * self.h


def wls(y: np.ndarray, X: np.ndarray, w: np.ndarray) -> WLSFit:
    """Weighted least squares by a QR decomposition of ``sqrt(W) X`` (as metafor's ``.invcalc``).

    Examples
    --------
    >>> X = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> fit = wls(np.array([1.0, 3.0, 5.0, 7.0]), X, np.ones(4))
    >>> np.round(fit.beta, 6).tolist()
    [1.0, 2.0]
    """
    if X.shape[1] == 1 and np.all(X == 1.0):  # intercept only: weighted mean
        sum_w = float(np.sum(w))
        mean = float(np.sum(w * y)) / sum_w
        A = np.array([[1.0 / sum_w]])
        return WLSFit(
            w=w, X=X, beta=np.array([mean]), A=A, resid=y - mean, h=np.full(len(y), 1.0 / sum_w)
        )
    sw = np.sqrt(w)
    r: np.ndarray = np.linalg.qr(sw[:, None] * X, mode="r")  # type: ignore[assignment]
    r_inv = _upper_inverse(r)
    A = r_inv @ r_inv.T
    beta = A @ (X.T @ (w * y))
    resid = y - X @ beta
    h = np.sum((X @ r_inv) ** 2, axis=1)
    return WLSFit(w=w, X=X, beta=beta, A=A, resid=resid, h=h)


def _upper_inverse(r: np.ndarray) -> np.ndarray:
    """Inverse of a small upper-triangular matrix by back substitution.

    Plain numpy rows: for the few coefficients of a meta-regression this avoids the
    per-call overhead of LAPACK routines, which dominates leave-one-out refits.
    """
    p = r.shape[0]
    inv = np.zeros_like(r)
    for i in range(p - 1, -1, -1):
        inv[i, i] = 1.0 / r[i, i]
        for j in range(i + 1, p):
            inv[i, j] = -(r[i, i + 1 : j + 1] @ inv[i + 1 : j + 1, j]) / r[i, i]
    return inv


def sum_p2(fit: WLSFit, a: np.ndarray | float = 1.0, b: np.ndarray | float = 1.0) -> float:
    """``sum_ij P_ij^2 a_i b_j`` for ``P`` of ``fit`` (see the module docstring).

    ``a = b = 1`` gives ``tr(P P)``; ``a = b = v`` gives ``tr(P V P V)``; ``a = 1, b = v``
    gives ``tr(P V P)``.
    """
    w, X, A, h = fit.w, fit.X, fit.A, fit.h
    k = len(w)
    a = np.broadcast_to(np.asarray(a, dtype=float), (k,))
    b = np.broadcast_to(np.asarray(b, dtype=float), (k,))
    diag = float(np.sum(a * b * (w**2 - 2 * w**3 * h)))
    Ga = X.T @ ((w**2 * a)[:, None] * X)
    Gb = X.T @ ((w**2 * b)[:, None] * X)
    cross = float(np.trace(A @ Ga @ A @ Gb))
    return diag + cross
