"""Vectorised sums of rows within groups (clusters, strata, domains).

A :class:`GroupIndex` holds integer codes ``0..G-1`` for the rows of a data set and a
sparse ``G x n`` indicator matrix, so that the totals of an ``n x p`` matrix within
each group are one sparse product (``O(n p)``, no Python loop over groups). It is the
building block of the design-based variance of :mod:`mutualaid_outcomes.models.survey`.

Examples
--------
>>> import numpy as np
>>> g = GroupIndex.from_codes(np.array([0, 1, 0, 2]))
>>> g.sums(np.array([[1.0], [2.0], [3.0], [4.0]])).ravel().tolist()
[4.0, 2.0, 4.0]
>>> g.counts.tolist()
[2, 1, 1]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

__all__ = ["GroupIndex", "factorize_rows"]


def factorize_rows(*columns: np.ndarray | pd.Series) -> tuple[np.ndarray, int]:
    """Codes ``0..G-1`` of the distinct combinations of ``columns``, in order of appearance.

    Examples
    --------
    >>> codes, G = factorize_rows(np.array(["a", "b", "a"]), np.array([1, 1, 1]))
    >>> codes.tolist(), G
    ([0, 1, 0], 2)
    """
    if len(columns) == 1:
        codes, uniq = pd.factorize(pd.Series(columns[0]), sort=False)
        return codes.astype(np.int64), len(uniq)
    frame = pd.DataFrame({i: pd.Series(c).to_numpy() for i, c in enumerate(columns)})
    codes = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    # ngroup numbers groups in order of first appearance when sort=False
    return codes.astype(np.int64), int(codes.max()) + 1 if len(codes) else 0


@dataclass(frozen=True)
class GroupIndex:
    """Integer group codes of ``n`` rows and their sparse indicator matrix."""

    codes: np.ndarray
    n_groups: int
    indicator: sparse.csr_matrix

    @classmethod
    def from_codes(cls, codes: np.ndarray, n_groups: int | None = None) -> GroupIndex:
        """Build from codes ``0..G-1`` (``G`` inferred when not given)."""
        codes = np.asarray(codes, dtype=np.int64)
        G = int(codes.max()) + 1 if n_groups is None else int(n_groups)
        n = len(codes)
        ind = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(G, n), dtype=float)
        return cls(codes, G, ind)

    @property
    def counts(self) -> np.ndarray:
        """Rows per group."""
        return np.bincount(self.codes, minlength=self.n_groups)

    def sums(self, values: np.ndarray) -> np.ndarray:
        """Column totals of ``values`` (``n`` or ``n x p``) within each group (``G x p``)."""
        v = np.asarray(values, dtype=float)
        if v.ndim == 1:
            v = v[:, None]
        return np.asarray(self.indicator @ v)
