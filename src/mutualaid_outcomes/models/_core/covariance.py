"""Sandwich covariance matrices from a bread and per-observation scores.

With bread ``B`` (inverse information, unscaled) and score contributions ``u_i``
(rows of ``U``):

* ``nonrobust``: ``scale * B``;
* ``HC0``: ``B (sum_i u_i u_i') B``; ``HC1`` multiplies by ``n / (n - k)``;
  ``HC2`` / ``HC3`` divide ``u_i`` by ``sqrt(1 - h_i)`` / ``(1 - h_i)`` (``h_i`` the
  weighted hat values), as R ``sandwich::vcovHC``;
* ``cluster``: ``B (sum_g U_g U_g') B`` with ``U_g`` the summed scores of cluster ``g``,
  times ``G / (G - 1)`` (R ``sandwich::vcovCL`` with ``cadjust = TRUE`` and its default
  ``type = "HC0"`` for glm objects) and, with ``cluster_hc1``, also ``(n - 1) / (n - k)``
  (``type = "HC1"``, vcovCL's default for lm objects and Stata's ``vce(cluster)``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ...errors import DataValidationError, OptionError

CovType = Literal["nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster"]
COV_TYPES: tuple[str, ...] = ("nonrobust", "HC0", "HC1", "HC2", "HC3", "cluster")


def cluster_sums(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Sum score rows within clusters (``codes`` are 0..G-1)."""
    G = int(codes.max()) + 1
    out = np.zeros((G, scores.shape[1]))
    np.add.at(out, codes, scores)
    return out


def sandwich_vcov(
    bread: np.ndarray,
    scores: np.ndarray,
    cov_type: str,
    *,
    scale: float = 1.0,
    hat: np.ndarray | None = None,
    clusters: np.ndarray | None = None,
    n_params: int | None = None,
    cluster_adjust: bool = True,
    cluster_hc1: bool = False,
) -> np.ndarray:
    """Covariance of the estimates for ``cov_type`` (see the module docstring)."""
    n = scores.shape[0]
    k = bread.shape[0] if n_params is None else n_params
    if cov_type == "nonrobust":
        return scale * bread
    if cov_type in ("HC0", "HC1", "HC2", "HC3"):
        U = scores
        if cov_type in ("HC2", "HC3"):
            if hat is None:
                raise OptionError(
                    f"`cov_type='{cov_type}'` needs hat values, which this model family "
                    "does not define; use 'HC0', 'HC1' or cluster-robust errors."
                )
            one_h = 1.0 - hat
            if np.any(one_h <= 1e-12):
                raise DataValidationError(
                    f"`cov_type='{cov_type}'` is undefined: {int(np.sum(one_h <= 1e-12))} "
                    "observations have leverage 1; use 'HC0' or 'HC1'."
                )
            U = U / (np.sqrt(one_h) if cov_type == "HC2" else one_h)[:, None]
        meat = U.T @ U
        v = bread @ meat @ bread
        if cov_type == "HC1":
            v = v * n / (n - k)
        return v
    if cov_type == "cluster":
        if clusters is None:
            raise OptionError("`cov_type='cluster'` needs `cluster=` (a column name).")
        S = cluster_sums(scores, clusters)
        G = S.shape[0]
        v = bread @ (S.T @ S) @ bread
        if cluster_adjust:
            v = v * (G / (G - 1))
        if cluster_hc1:
            v = v * ((n - 1) / (n - k))
        return v
    raise OptionError(
        "`cov_type` must be one of "
        + ", ".join(repr(c) for c in COV_TYPES)
        + f"; got {cov_type!r}."
    )
