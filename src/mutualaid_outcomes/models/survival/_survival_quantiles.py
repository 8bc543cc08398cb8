"""Quantiles of a survival curve as R survival's ``quantile.survfit`` finds them."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["findq"]


def _approx_const_right(xk: np.ndarray, p: float) -> int:
    """Index i (0-based) of R ``approx(xk, seq_along(xk), p, method="constant", f=1)``."""
    if len(xk) == 0 or p < xk[0] or p > xk[-1]:
        return -1
    i = int(np.searchsorted(xk, p, side="left"))
    return i


def findq(x: np.ndarray, y: np.ndarray, p: float, tol: float) -> float:
    """R survival's internal ``findq``: the time at which ``y`` (1 - S) reaches ``p``."""
    ok = ~np.isnan(y)
    x, y = x[ok], y[ok]
    if len(y) == 0 or y.max() < p:
        return np.nan
    xmax = x[-1]
    keep = ~pd.Series(y).duplicated().to_numpy()
    x, y = x[keep], y[keep]
    i1 = _approx_const_right(y + tol, p)
    i2 = _approx_const_right(y - tol, p)
    if i1 < 0:
        return np.nan
    if p == 0:
        return float(x[0])
    if abs(p - y[-1]) < tol:
        return float((x[i1] + xmax) / 2)
    if i2 < 0:
        return np.nan
    return float((x[i1] + x[i2]) / 2)
