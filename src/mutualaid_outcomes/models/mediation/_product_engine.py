"""The product-of-coefficients engine behind :func:`.product.mediate`.

:class:`Spec` lays out the equations of a parallel or serial mediation model over one
standardised data matrix; :class:`Engine` fits them on the full data (normal equations of
:mod:`.._core.ols`, logistic outcome by :mod:`.._core.glm`) and for every bootstrap or
jackknife resample at once from packed cross products (:class:`.._core.ols.Packer`,
:class:`.._core.packed_cholesky.PackedCholesky`; :func:`.._core.ols.sweep` is kept as the
reference the tests compare with).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ...errors import EstimationError
from ...parallel import blas_single_thread
from .._core import bootstrap as bs
from .._core.glm import information, irls, logit_one_step_jackknife
from .._core.ols import (
    REFINE_BELOW,
    RIDGE_FLOOR,
    Packer,
    group_sum,
    solve_normal,
    sweep,
)
from .._core.packed_cholesky import PackedCholesky

__all__ = ["Engine", "Spec", "make_spec", "standardise"]


# Counts (resamples x units) per matrix product: 8 MB, so the count buffer (reused) stays
# in cache between being filled and being multiplied.
_CHUNK_ELEMENTS = 1 << 20


#: Scoring steps of a logistic outcome fit (full data and every resample).
_LOGIT_MAX_ITER = 50


@dataclass(frozen=True)
class Spec:
    """Positions of variables and the path/term layout of a mediation model."""

    k: int
    n_cov: int
    model: str
    outcome_family: str
    mediators: tuple[str, ...]
    d_pairs: tuple[tuple[int, int], ...]
    chains: tuple[tuple[int, ...], ...]

    # Columns of Z1 = [1, x, covariates..., m_0..m_{k-1}, y]: every equation's regressors
    # are a leading block, so the sweeps run over pivots 0, 1, 2, ... in order.
    def m_col(self, j: int) -> int:
        return 2 + self.n_cov + j

    @property
    def cov_cols(self) -> list[int]:
        return list(range(2, 2 + self.n_cov))

    @property
    def y_col(self) -> int:
        return 2 + self.k + self.n_cov

    def mediator_equation(self, j: int) -> tuple[list[int], int]:
        earlier = [self.m_col(i) for i in range(j)] if self.model == "serial" else []
        return [1, *earlier, *self.cov_cols], self.m_col(j)

    def outcome_equation(self) -> tuple[list[int], int]:
        return [1, *[self.m_col(i) for i in range(self.k)], *self.cov_cols], self.y_col

    @property
    def path_names(self) -> list[str]:
        med = self.mediators
        return (
            [f"a[{m}]" for m in med]
            + [f"d[{med[i]}->{med[j]}]" for i, j in self.d_pairs]
            + [f"b[{m}]" for m in med]
            + ["direct"]
        )

    @property
    def indirect_names(self) -> list[str]:
        return ["indirect[" + "->".join(self.mediators[i] for i in c) + "]" for c in self.chains]

    @property
    def term_names(self) -> list[str]:
        ind = self.indirect_names
        inner = [n[len("indirect[") : -1] for n in ind]
        contrasts = [f"contrast[{inner[i]}-{inner[j]}]" for i, j in self._contrast_pairs]
        paths = self.path_names
        return paths[:-1] + ind + ["total_indirect", "direct", "total", "prop_mediated"] + contrasts

    @property
    def _contrast_pairs(self) -> list[tuple[int, int]]:
        return list(itertools.combinations(range(len(self.chains)), 2))

    @property
    def wald_terms(self) -> set[str]:
        """Terms that are single coefficients or sums of them (normal-theory p-values)."""
        return set(self.path_names) | {"total"}

    def effects(self, paths: np.ndarray) -> np.ndarray:
        """Map ``(m, n_paths)`` path coefficients to ``(m, n_terms)`` effects."""
        k, nd = self.k, len(self.d_pairs)
        a = paths[:, :k]
        d = {pair: paths[:, k + i] for i, pair in enumerate(self.d_pairs)}
        b = paths[:, k + nd : 2 * k + nd]
        c = paths[:, 2 * k + nd]
        ind = []
        for chain in self.chains:
            val = a[:, chain[0]] * b[:, chain[-1]]
            for i, j in itertools.pairwise(chain):
                val = val * d[(i, j)]
            ind.append(val)
        ind_arr = np.column_stack(ind)
        total_ind = ind_arr.sum(axis=1)
        total = total_ind + c
        with np.errstate(divide="ignore", invalid="ignore"):
            prop = total_ind / total
        contrasts = [ind_arr[:, i] - ind_arr[:, j] for i, j in self._contrast_pairs]
        cols = [paths[:, :-1], ind_arr, np.column_stack([total_ind, c, total, prop])]
        if contrasts:
            cols.append(np.column_stack(contrasts))
        return np.column_stack(cols)


def make_spec(model: str, mediators: list[str], n_cov: int, outcome_family: str) -> Spec:
    k = len(mediators)
    if model == "serial":
        pairs = tuple(itertools.combinations(range(k), 2))
        chains = tuple(c for r in range(1, k + 1) for c in itertools.combinations(range(k), r))
    else:
        pairs = ()
        chains = tuple((j,) for j in range(k))
    return Spec(k, n_cov, model, outcome_family, tuple(mediators), pairs, chains)


def standardise(z: np.ndarray, center_last: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = z.mean(axis=0)
    sd = z.std(axis=0)
    if not center_last:
        mean[-1], sd[-1] = 0.0, 1.0
    return (z - mean) / sd, mean, sd


class Engine:
    """Plug-in fit, batched bootstrap and jackknife for one mediation specification."""

    def __init__(self, spec: Spec, zs: np.ndarray, sd: np.ndarray) -> None:
        self.spec = spec
        self.zs = zs
        self.n = zs.shape[0]
        self.packer = Packer(zs)
        self.chol = PackedCholesky(self.packer.d)
        med_eqs = [spec.mediator_equation(j) for j in range(spec.k)]
        self.logit = spec.outcome_family == "logit"
        self.equations = med_eqs if self.logit else [*med_eqs, spec.outcome_equation()]
        out_regs, _ = spec.outcome_equation()
        self.x1_out = np.column_stack([np.ones(self.n), zs[:, [r - 1 for r in out_regs]]])
        self.y = zs[:, spec.y_col - 1]
        # scale factor per path: sd(response) / sd(regressor)
        s = np.concatenate([[1.0], sd])  # indexed like Z1
        f = [s[spec.m_col(j)] / s[1] for j in range(spec.k)]
        f += [s[spec.m_col(j)] / s[spec.m_col(i)] for i, j in spec.d_pairs]
        f += [s[spec.y_col] / s[spec.m_col(j)] for j in range(spec.k)]
        f += [s[spec.y_col] / s[1]]
        self.factor = np.array(f)
        self.beta_out: np.ndarray | None = None

    def _paths(self, coefs: list[np.ndarray], out_coef: np.ndarray) -> np.ndarray:
        spec = self.spec
        a = [coefs[j][:, 1] for j in range(spec.k)]
        d = [coefs[j][:, 2 + i] for i, j in spec.d_pairs]
        b = [out_coef[:, 2 + j] for j in range(spec.k)]
        c = [out_coef[:, 1]]
        return np.column_stack(a + d + b + c) * self.factor

    def _sweep_paths(self, cross: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Paths (original units) of every packed cross-product row by sweeping.

        Sweeping the intercept, exposure and covariates leaves the mediator equations of
        the parallel model in the mediator columns; sweeping mediator ``j`` next gives the
        serial equation of mediator ``j + 1``; after all mediators the outcome column holds
        the outcome equation. Outcome paths are NaN for a logistic outcome.
        """
        spec = self.spec
        k = spec.k
        s = self.packer.unpack(cross)
        d0 = np.diagonal(s, axis1=1, axis2=2).copy()
        ok = np.ones(s.shape[0], dtype=bool)
        for piv in [0, 1, *spec.cov_cols]:
            sweep(s, piv, d0, ok, tail=True)
        mcol = [spec.m_col(j) for j in range(k)]
        a: list[np.ndarray] = [np.empty(0)] * k
        d: dict[tuple[int, int], np.ndarray] = {}
        if spec.model == "serial":
            for j in range(k):
                a[j] = s[:, 1, mcol[j]].copy()
                for i in range(j):
                    d[(i, j)] = s[:, mcol[i], mcol[j]].copy()
                sweep(s, mcol[j], d0, ok, tail=True)
        else:
            for j in range(k):
                a[j] = s[:, 1, mcol[j]].copy()
            if not self.logit:
                for j in range(k):
                    sweep(s, mcol[j], d0, ok, tail=True)
        nan = np.full(s.shape[0], np.nan)
        if self.logit:
            b = [nan] * k
            c = nan
        else:
            b = [s[:, mcol[j], spec.y_col] for j in range(k)]
            c = s[:, 1, spec.y_col]
        paths = np.column_stack(a + [d[p] for p in spec.d_pairs] + b + [c]) * self.factor
        paths[~ok] = np.nan
        return paths, ok

    def _solve_paths(self, cross: np.ndarray) -> np.ndarray:
        """Paths (original units) of every packed cross-product row ``(m, q)``.

        :meth:`_paths_t` on the transposed (batch-last) layout.
        """
        return self._paths_t(np.array(np.atleast_2d(cross).T, order="C"))

    def _paths_t(self, cross_t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Paths (original units) of every column of batch-last cross products ``(q, m)``.

        The same regressions as :meth:`_sweep_paths`, read from one Cholesky factor per
        resample (:class:`.._core.packed_cholesky.PackedCholesky`): the factor of the
        block of regressors ``[1, x, covariates, mediators]`` (only the mediator
        equations' block for a logistic outcome of the parallel model), carried across
        the response columns, gives every equation by back substitution -- the parallel
        mediator equations share their block and are solved together. Its squared
        pivots are what the sweep divides by, so the same resamples fail the
        collinearity rule. ``cross_t`` is overwritten; the ``(m, n_paths)`` paths are
        written into ``out`` when given.
        """
        spec = self.spec
        k, p0 = spec.k, 2 + spec.n_cov
        m = cross_t.shape[1]
        p = p0 if (self.logit and spec.model == "parallel") else p0 + k
        r, ok = self.chol.factor(cross_t, p, overwrite=True)
        mcol = [spec.m_col(j) for j in range(k)]
        d: dict[tuple[int, int], np.ndarray] = {}
        if spec.model == "serial":
            a = []
            for j in range(k):
                beta = self.chol.coefficients(r, p0 + j, [mcol[j]], 1)[:, 0]
                a.append(beta[0])
                for i in range(j):
                    d[(i, j)] = beta[p0 + i - 1]
        else:
            a = list(self.chol.coefficients(r, p0, mcol, 1)[0])
        if self.logit:
            b, c = [], None
        else:
            beta = self.chol.coefficients(r, p0 + k, [spec.y_col], 1)[:, 0]
            b = [beta[p0 + j - 1] for j in range(k)]
            c = beta[0]
        paths = np.empty((m, self.factor.size)) if out is None else out
        cols = a + [d[pair] for pair in spec.d_pairs] + b + ([] if c is None else [c])
        for j, col in enumerate(cols):
            np.multiply(col, self.factor[j], out=paths[:, j])
        paths[:, len(cols) :] = np.nan  # outcome paths of a logistic outcome
        paths[~ok] = np.nan
        return paths

    # full data ---------------------------------------------------------------------
    def fit(self) -> tuple[np.ndarray, np.ndarray]:
        """Plug-in paths and their normal-theory covariance (scaled units -> original)."""
        spec = self.spec
        coefs, covs, rhss = [], [], []
        # Normal equations from the full-data cross products of the standardised columns
        # (small p x p Cholesky; no multi-threaded BLAS call). Ill-conditioned systems
        # (some 1 - R^2 below 1e-6) are re-solved by least squares on the data.
        s0 = self.packer.unpack(self.packer.total())[0]
        for j, (regs, resp) in enumerate(self.equations):
            idx = np.array([0, *regs])
            a = s0[np.ix_(idx, idx)]
            rhs = s0[idx, resp]
            name = spec.mediators[j] if j < spec.k else "the outcome"
            beta, inv, piv = solve_normal(a, rhs)
            if piv < RIDGE_FLOOR:
                raise EstimationError(
                    f"The regression for {name} is singular or nearly so (collinear "
                    "regressors among the exposure, mediators and covariates); remove "
                    "redundant covariates."
                )
            if piv < REFINE_BELOW:
                x1 = np.column_stack([np.ones(self.n), self.zs[:, idx[1:] - 1]])
                beta = np.linalg.lstsq(x1, self.zs[:, resp - 1], rcond=None)[0]
            coefs.append(beta[None, :])
            rhss.append(rhs)
            rss = max(s0[resp, resp] - rhs @ beta, 0.0)
            df = self.n - len(idx)
            covs.append(rss / df * inv if df > 0 else np.full_like(inv, np.nan))
        if self.logit:
            res = irls(
                self.x1_out,
                self.y,
                np.ones((1, self.n)),
                family="binomial",
                link="logit",
                start=np.zeros(len(self.x1_out[0])),
                max_iter=_LOGIT_MAX_ITER,
            )
            if not res.ok[0]:
                raise EstimationError(
                    "The logistic outcome model did not converge on the full data "
                    "(perfect separation or collinearity)."
                )
            beta = res.beta
            self.beta_out = beta[0]
            info = information(self.x1_out, self.x1_out @ beta[0], family="binomial", link="logit")
            out_coef, out_cov = beta, np.linalg.inv(info)
        else:
            out_coef, out_cov = coefs[-1], covs[-1]
        paths = self._paths(coefs[: spec.k], out_coef)[0]
        # covariance of the path vector in scaled units
        k, nd = spec.k, len(spec.d_pairs)
        npath = 2 * k + nd + 1
        v = np.zeros((npath, npath))
        # positions (equation, coefficient index) of each path
        pos = [(j, 1) for j in range(k)]
        pos += [(j, 2 + i) for i, j in spec.d_pairs]
        pos += [(k, 2 + j) for j in range(k)] + [(k, 1)]
        eq_cov = covs[: spec.k] + [out_cov]
        for p1, (e1, c1) in enumerate(pos):
            for p2, (e2, c2) in enumerate(pos):
                if e1 == e2:
                    v[p1, p2] = eq_cov[e1][c1, c2]
                elif spec.model == "parallel" and e1 < k and e2 < k:
                    # same regressors in every mediator equation: Cov = sigma_12 (X'X)^-1
                    # residual cross product: y1'y2 - y1'X (X'X)^-1 X'y2
                    r1, r2 = self.equations[e1][1], self.equations[e2][1]
                    b2 = coefs[e2][0]
                    s12 = s0[r1, r2] - rhss[e1] @ b2
                    s11 = s0[r1, r1] - rhss[e1] @ coefs[e1][0]
                    v[p1, p2] = s12 / s11 * eq_cov[e1][c1, c2]
        v = v * np.outer(self.factor, self.factor)
        return paths, v

    # batches -----------------------------------------------------------------------
    def paths_from_weights(self, cross: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """Paths for packed cross products ``cross`` (m, q); ``weights`` (m, n) for logit."""
        paths = self._solve_paths(cross)
        ok = ~np.isnan(paths[:, : self.spec.k]).any(axis=1)
        if self.logit:
            if weights is None or self.beta_out is None:  # internal invariant
                raise RuntimeError("logit outcome paths need resampling weights and a start")
            res = irls(
                self.x1_out,
                self.y,
                weights,
                family="binomial",
                link="logit",
                start=self.beta_out,
                max_iter=_LOGIT_MAX_ITER,
            )
            self._put_logit(paths, res.beta)
            paths[~(ok & res.ok)] = np.nan
        return paths

    def _put_logit(self, paths: np.ndarray, beta: np.ndarray) -> None:
        k, nd = self.spec.k, len(self.spec.d_pairs)
        paths[:, k + nd : 2 * k + nd] = beta[:, 2 : 2 + k] * self.factor[k + nd : 2 * k + nd]
        paths[:, -1] = beta[:, 1] * self.factor[-1]

    def bootstrap(
        self, n_boot: int, rng: np.random.Generator, codes: np.ndarray | None, n_groups: int
    ) -> np.ndarray:
        """Paths of ``n_boot`` joint resamples of rows (or whole clusters).

        Cross products of all resamples are one product of the packed row-wise products
        with the count matrix, ``units' @ counts'`` (``(d(d+1)/2, n) @ (n, B)``, batch
        last), done in cache-sized chunks of counts; the paths of each chunk are solved
        at once (:meth:`_paths_t`). Chunks run on up to two threads
        (:func:`.._core.counts.map_bootstrap_counts`); the draws do not depend on the
        number of threads.
        """
        units_t = self._units_t(codes, n_groups)
        n_units = units_t.shape[1]
        chunk = max(1, _CHUNK_ELEMENTS // n_units)
        if self.logit:
            out = []
            for counts in bs.iter_bootstrap_counts(n_units, n_boot, rng, chunk_size=chunk):
                weights = counts if codes is None else counts[:, codes]
                out.append(self.paths_from_weights((units_t @ counts.T).T, weights))
            return np.concatenate(out)
        paths = np.empty((n_boot, self.factor.size))
        # Entry (y, y) (the last) is never used by the paths, and without clusters entry
        # (1, 1) (the first) is the number of rows, n, in every resample: the product
        # forms only the rows in between (64 of 66 with three mediators, five covariates).
        q = units_t.shape[0]
        lo = 1 if codes is None else 0
        inner = np.ascontiguousarray(units_t[lo : q - 1])

        def consume(start: int, counts: np.ndarray) -> None:
            cross_t = np.empty((q, counts.shape[0]))
            np.matmul(inner, counts.T, out=cross_t[lo : q - 1])
            if lo:
                cross_t[0] = n_units
            cross_t[q - 1] = 0.0
            self._paths_t(cross_t, out=paths[start : start + counts.shape[0]])

        # Chunks of counts are drawn, multiplied and solved on two threads (numpy releases
        # the GIL in all three); one BLAS thread each: the products are cache-sized and a
        # BLAS thread per core on top would oversubscribe shared cores.
        with blas_single_thread():
            bs.map_bootstrap_counts(n_units, n_boot, rng, consume, chunk_size=chunk)
        return paths

    def _units_t(self, codes: np.ndarray | None, n_groups: int) -> np.ndarray:
        """Packed products ``(q, units)`` of the rows, or summed within clusters."""
        if codes is None:
            return self.packer.packed_t
        return np.ascontiguousarray(group_sum(self.packer.packed, codes, n_groups).T)

    def jackknife(self, codes: np.ndarray | None, n_groups: int) -> np.ndarray:
        units_t = self._units_t(codes, n_groups)
        total = self.packer.total()[:, None]
        n_units = units_t.shape[1]
        step = max(1, (1 << 22) // units_t.shape[0])
        out = []
        for start in range(0, n_units, step):
            out.append(self._paths_t(total - units_t[:, start : start + step]))
        paths = np.concatenate(out)
        if self.logit:
            if self.beta_out is None:  # internal invariant
                raise RuntimeError("logit outcome jackknife needs the full-data fit")
            jb = logit_one_step_jackknife(self.x1_out, self.y, self.beta_out, codes)
            ok = ~np.isnan(paths[:, : self.spec.k]).any(axis=1)
            self._put_logit(paths, jb)
            paths[~ok] = np.nan
        return paths
