"""Random-effect terms of ``fit_mixed`` on the rows used: levels, designs and checks.

Each term ``(expr | g)`` has a grouping factor ``g`` (one column, or the observed
combinations of several for ``a:b``), a dense per-row design ``Z_t`` (``n x q_t``, from
``expr``) and a lower-triangular relative covariance factor ``Lambda_t``. The terms are
ordered as lme4 orders them (by decreasing number of levels, ties in formula order), so
``theta`` and the variance components come in lme4's order. The model matrix of all
terms is sparse: row ``i`` has ``q_t`` entries in the block of its level of each term,
at columns ``offset_t + level_t(i) q_t + j`` (lme4's layout of ``Z``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from ...errors import DataValidationError
from .._core.design import Design, build_design
from ._mixed_engine import make_lambda, theta_index, theta_lower, theta_start
from ._mixed_formula import RandomTerm

__all__ = ["TermBlock", "ReStructure", "term_blocks", "check_term_sizes", "check_nesting"]


@dataclass(frozen=True, eq=False)
class TermBlock:
    """One random-effect term on the rows used."""

    term: RandomTerm
    codes: np.ndarray  # (n,) level of each row
    levels: pd.Index  # level labels (a MultiIndex for an interaction factor)
    Z: np.ndarray  # (n, q) design of the term
    design: Design

    @property
    def q(self) -> int:
        return int(self.Z.shape[1])

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def n_theta(self) -> int:
        return self.q * (self.q + 1) // 2


def _levels(clean: pd.DataFrame, factors: tuple[str, ...]) -> tuple[np.ndarray, pd.Index]:
    if len(factors) == 1:
        codes, uniq = pd.factorize(clean[factors[0]], sort=True)
        return codes, pd.Index(uniq, name=factors[0])
    mi = pd.MultiIndex.from_frame(clean[list(factors)])
    codes, uniq = mi.factorize(sort=True)
    return codes, pd.MultiIndex.from_tuples(list(uniq), names=list(factors))


def term_blocks(clean: pd.DataFrame, terms: list[RandomTerm]) -> list[TermBlock]:
    """Levels and designs of every term, in lme4's order; one-level factors refused."""
    blocks = []
    for t in terms:
        codes, levels = _levels(clean, t.factors)
        if len(levels) < 2:
            raise DataValidationError(
                f"The grouping factor '{t.group}' of the random-effect term "
                f"'({t.expr} | {t.group})' has a single level among the {len(clean)} rows "
                "used (a single group); a random effect needs a factor with several levels. "
                "Drop the term or use a factor with more levels."
            )
        Z, design = build_design(t.expr, clean, "formula")
        blocks.append(TermBlock(t, np.asarray(codes), levels, Z, design))
    order = sorted(range(len(blocks)), key=lambda i: -blocks[i].n_levels)
    return [blocks[i] for i in order]


def check_term_sizes(blocks: list[TermBlock], n: int, gaussian: bool) -> None:
    """lme4's ``check.nobs.vs.nlev`` and ``check.nobs.vs.nRE`` (both "stop" by default).

    As lme4, per term: a linear mixed model needs more rows than levels of each grouping
    factor and than random effects of each term (levels x q); a GLMM (no residual
    variance; lme4's ``allow.n = TRUE``) needs no fewer.
    """
    for b in blocks:
        n_re = b.n_levels * b.q
        if (n <= b.n_levels) if gaussian else (n < b.n_levels):
            raise DataValidationError(
                f"The grouping factor '{b.term.group}' has {b.n_levels} levels for {n} rows "
                f"used; {'with one row per level or fewer the random-effect and residual' if gaussian else 'with fewer rows than levels the random-effect'} "
                "variances are not identified (lme4's check.nobs.vs.nlev). Check the "
                "grouping columns."
            )
        if (n <= n_re) if gaussian else (n < n_re):
            raise DataValidationError(
                f"The {n} rows used are {'no more' if gaussian else 'fewer'} than the {n_re} "
                f"random effects of the term '({b.term.expr} | {b.term.group})' "
                f"({b.n_levels} levels x {b.q}); the random-effect and residual variances "
                "are not identified (lme4's check.nobs.vs.nRE). Use fewer random effects "
                "(e.g. a random intercept only)."
            )


#: Share of an inner factor's levels that sit in one level of an outer factor above which
#: the inner factor counts as meant to be nested (a crossed design has most levels in
#: several outer levels; a nested one all in one).
NESTED_SHARE = 0.5


def check_nesting(blocks: list[TermBlock], clean: pd.DataFrame) -> None:
    """Refuse a factor that is nested in another for most levels but not for all.

    With ``(1 | site) + (1 | id)`` lme4 treats ``id`` as nested in ``site`` only when
    every id occurs in one site; ids repeated across sites make the two factors
    (partly) crossed, so rows of different people with the same id share one random
    effect. Raised when at least :data:`NESTED_SHARE` of the levels of one single-column
    factor occur in one level of another but some occur in several. Ids renumbered
    1, 2, ... in every site look like a crossed design and cannot be told apart from
    one; write ``(1 | site/id)`` for those.
    """
    single = [b for b in blocks if len(b.term.factors) == 1]
    for inner in single:
        for outer in single:
            if inner is outer or outer.n_levels >= inner.n_levels:
                continue
            pairs = pd.DataFrame({"i": inner.codes, "o": outer.codes}).drop_duplicates()
            spread = pairs.groupby("i").size()
            repeated = spread[spread > 1]
            if len(repeated) == 0 or (spread == 1).mean() < NESTED_SHARE:
                continue
            a, b = outer.term.group, inner.term.group
            example = [inner.levels[i] for i in repeated.index[:3]]
            raise DataValidationError(
                f"'{b}' is nested in '{a}' for {int((spread == 1).sum())} of its "
                f"{inner.n_levels} levels, but {len(repeated)} levels (e.g. {example}) occur "
                f"in several levels of '{a}': the terms '(1 | {a}) + (1 | {b})' then give "
                f"rows in different '{a}' with the same '{b}' one random effect. If '{b}' "
                f"is numbered within '{a}', write '(1 | {a}/{b})'; if those are different "
                f"units, give them unique '{b}' values. (Units that moved between levels "
                f"of '{a}' are a partly crossed design that this check refuses.)"
            )


@dataclass(frozen=True, eq=False)
class ReStructure:
    """The sparse random-effects model matrix of several terms and ``Lambda(theta)``."""

    blocks: list[TermBlock]

    @cached_property
    def offsets(self) -> np.ndarray:
        sizes = [b.n_levels * b.q for b in self.blocks]
        return np.concatenate([[0], np.cumsum(sizes)]).astype(int)

    @property
    def n_re(self) -> int:
        return int(self.offsets[-1])

    @cached_property
    def nz_cols(self) -> np.ndarray:
        """(n, m) column of every nonzero of row i of ``Z`` (m = sum of q_t)."""
        cols = [
            self.offsets[t] + b.codes[:, None] * b.q + np.arange(b.q)[None, :]
            for t, b in enumerate(self.blocks)
        ]
        return np.concatenate(cols, axis=1)

    @cached_property
    def positions(self) -> np.ndarray:
        """First position of each term among the m nonzeros of a row."""
        return np.concatenate([[0], np.cumsum([b.q for b in self.blocks])]).astype(int)

    @cached_property
    def theta_slices(self) -> list[slice]:
        ends = np.cumsum([b.n_theta for b in self.blocks])
        return [slice(int(e - b.n_theta), int(e)) for e, b in zip(ends, self.blocks, strict=True)]

    @property
    def n_theta(self) -> int:
        return int(sum(b.n_theta for b in self.blocks))

    def theta_lower(self) -> np.ndarray:
        return np.concatenate([theta_lower(b.q) for b in self.blocks])

    def theta_start(self) -> np.ndarray:
        return np.concatenate([theta_start(b.q) for b in self.blocks])

    def lambdas(self, theta: np.ndarray) -> list[np.ndarray]:
        return [
            make_lambda(theta[s], b.q) for s, b in zip(self.theta_slices, self.blocks, strict=True)
        ]

    @cached_property
    def lambda_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, columns and theta positions of the nonzeros of ``Lambda``."""
        rows, cols, pos = [], [], []
        for t, (b, s) in enumerate(zip(self.blocks, self.theta_slices, strict=True)):
            r, c = theta_index(b.q)
            base = self.offsets[t] + np.arange(b.n_levels)[:, None] * b.q
            rows.append((base + r[None, :]).ravel())
            cols.append((base + c[None, :]).ravel())
            pos.append(np.tile(np.arange(s.start, s.stop), b.n_levels))
        return np.concatenate(rows), np.concatenate(cols), np.concatenate(pos)

    def lambda_matrix(self, theta: np.ndarray, dense: bool) -> Any:
        """Block-diagonal ``Lambda(theta)`` (``kron(I_levels, Lambda_t)`` per term)."""
        rows, cols, pos = self.lambda_index
        if dense:
            L = np.zeros((self.n_re, self.n_re))
            L[rows, cols] = theta[pos]
            return L
        return sparse.csc_matrix((theta[pos], (rows, cols)), shape=(self.n_re, self.n_re))

    def zl_values(self, theta: np.ndarray) -> np.ndarray:
        """(n, m) values of ``Z Lambda`` at :attr:`nz_cols`."""
        lams = self.lambdas(theta)
        return np.concatenate([b.Z @ lam for b, lam in zip(self.blocks, lams, strict=True)], axis=1)

    def zl(self, theta: np.ndarray) -> sparse.csr_matrix:
        """``Z Lambda(theta)`` as a sparse (n, Q) matrix."""
        vals = self.zl_values(theta)
        n, m = vals.shape
        indptr = np.arange(0, n * m + 1, m)
        return sparse.csr_matrix((vals.ravel(), self.nz_cols.ravel(), indptr), shape=(n, self.n_re))

    def diag_theta_mask(self) -> np.ndarray:
        """Which entries of theta are diagonal elements of a ``Lambda_t``."""
        out = []
        for b in self.blocks:
            rows, cols = theta_index(b.q)
            out.append(rows == cols)
        return np.concatenate(out)

    def split_u(self, u: np.ndarray) -> list[np.ndarray]:
        """Spherical effects (Q,) -> one (levels, q) array per term."""
        return [
            u[self.offsets[t] : self.offsets[t + 1]].reshape(b.n_levels, b.q)
            for t, b in enumerate(self.blocks)
        ]
