r"""The engine of moderated (conditional process) mediation behind :func:`.product.mediate`.

:class:`ModSpec` lays out the equations of a parallel or serial mediation model in which a
moderator ``W`` (``q`` columns: one for a numeric moderator, ``L - 1`` indicators for a
categorical one) modifies some of the paths ``a`` (exposure -> mediator), ``b``
(mediator -> outcome) and ``c`` (direct effect), and maps path coefficients to the
conditional effects, indices of moderated mediation and contrasts.

All columns are mean-centred before products are formed; because every effect of interest
is a derivative (the conditional effect of ``X`` on ``M`` at ``W = w`` is
:math:`a_1 + a_3 (w - \bar w)` in the centred parameterisation), the conditional effects
do not depend on the centring, and the lower-order paths reported for the user's
parameterisation (``center=False``: effect at ``W = 0``, as R ``lm(m ~ x * w)``) are
linear maps of the centred ones.

:class:`ModEngine` fits all equations from packed cross products
(:class:`.._core.ols.Packer`), for the full data and for every bootstrap or jackknife
resample at once (:func:`.._core.ols.solve_batched`; no loop over resamples).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from ...errors import EstimationError
from .._core import bootstrap as bs
from .._core.ols import RIDGE_FLOOR, Packer, chol_ok, group_sum, solve_batched, solve_normal

__all__ = ["ModSpec", "ModEngine", "build_columns"]

# Counts (resamples x units) per matrix product; bounds memory at ~64 MB per chunk.
_CHUNK_ELEMENTS = 8 << 20


@dataclass(frozen=True)
class ModSpec:
    """Equations and path layout of a moderated mediation model.

    Columns of the data matrix ``Z`` (all mean-centred; ``Z1 = [1, Z]`` is indexed from 1):
    ``x``, ``w`` (q), ``xw`` (q, when an a- or the c-path is moderated), covariates,
    ``m_0 .. m_{k-1}``, ``m_j w`` (q each, for every mediator whose b-path is moderated),
    ``y``.
    """

    k: int
    q: int
    n_cov: int
    model: str
    mediators: tuple[str, ...]
    a_mod: tuple[bool, ...]
    b_mod: tuple[bool, ...]
    c_mod: bool
    w_in_covs: bool = False  # the moderator is also a covariate (its column serves as W)

    # -- column layout ------------------------------------------------------------------
    @property
    def has_xw(self) -> bool:
        return any(self.a_mod) or self.c_mod

    @property
    def w_cols(self) -> list[int]:
        return list(range(2, 2 + self.q))

    @property
    def xw_cols(self) -> list[int]:
        start = 2 + self.q
        return list(range(start, start + self.q)) if self.has_xw else []

    @property
    def cov_cols(self) -> list[int]:
        start = 2 + self.q + len(self.xw_cols)
        return list(range(start, start + self.n_cov))

    def m_col(self, j: int) -> int:
        return 2 + self.q + len(self.xw_cols) + self.n_cov + j

    def mw_cols(self, j: int) -> list[int]:
        if not self.b_mod[j]:
            return []
        start = self.m_col(self.k) + self.q * sum(self.b_mod[:j])
        return list(range(start, start + self.q))

    @property
    def y_col(self) -> int:
        return self.m_col(self.k) + self.q * sum(self.b_mod)

    # -- equations: (regressor columns of Z1 without the intercept, response column) ---
    def mediator_equation(self, j: int) -> tuple[list[int], int]:
        regs = [1]
        if self.a_mod[j]:
            regs += ([] if self.w_in_covs else self.w_cols) + self.xw_cols
        if self.model == "serial":
            regs += [self.m_col(i) for i in range(j)]
        return regs + self.cov_cols, self.m_col(j)

    def outcome_equation(self) -> tuple[list[int], int]:
        regs = [1]
        if (any(self.b_mod) or self.c_mod) and not self.w_in_covs:
            regs += self.w_cols
        if self.c_mod:
            regs += self.xw_cols
        regs += [self.m_col(j) for j in range(self.k)]
        for j in range(self.k):
            regs += self.mw_cols(j)
        return regs + self.cov_cols, self.y_col

    @property
    def equations(self) -> list[tuple[list[int], int]]:
        return [self.mediator_equation(j) for j in range(self.k)] + [self.outcome_equation()]

    # -- paths: (equation, regressor column) of each path coefficient -----------------
    @property
    def d_pairs(self) -> list[tuple[int, int]]:
        return list(itertools.combinations(range(self.k), 2)) if self.model == "serial" else []

    @property
    def chains(self) -> list[tuple[int, ...]]:
        if self.model == "serial":
            return [
                c for r in range(1, self.k + 1) for c in itertools.combinations(range(self.k), r)
            ]
        return [(j,) for j in range(self.k)]

    @property
    def path_slots(self) -> list[tuple[str, int, int, int]]:
        """``(kind, mediator or pair index, moderator column or -1, position)`` per path.

        ``position`` is the index of the coefficient in its equation (0 = intercept).
        """
        slots: list[tuple[str, int, int, int]] = []
        for j in range(self.k):
            regs = [0, *self.mediator_equation(j)[0]]
            slots.append(("a", j, -1, regs.index(1)))
            if self.a_mod[j]:
                slots += [("a", j, col_i, regs.index(c)) for col_i, c in enumerate(self.xw_cols)]
        for p, (i, j) in enumerate(self.d_pairs):
            regs = [0, *self.mediator_equation(j)[0]]
            slots.append(("d", p, -1, regs.index(self.m_col(i))))
        out = [0, *self.outcome_equation()[0]]
        for j in range(self.k):
            slots.append(("b", j, -1, out.index(self.m_col(j))))
            slots += [("b", j, col_i, out.index(c)) for col_i, c in enumerate(self.mw_cols(j))]
        slots.append(("c", 0, -1, out.index(1)))
        if self.c_mod:
            slots += [("c", 0, col_i, out.index(c)) for col_i, c in enumerate(self.xw_cols)]
        return slots

    def path_equation(self, kind: str, idx: int) -> int:
        if kind == "a":
            return idx
        if kind == "d":
            return self.d_pairs[idx][1]
        return self.k

    # -- effects ------------------------------------------------------------------------
    def split(self, paths: np.ndarray) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
        """``{(kind, index): (base (m,), slopes on W (m, q))}`` from ``(m, n_paths)`` paths."""
        out: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}
        m = paths.shape[0]
        for s, (kind, idx, col, _) in enumerate(self.path_slots):
            key = (kind, idx)
            if key not in out:
                out[key] = (paths[:, s], np.zeros((m, self.q)))
            if col >= 0:
                out[key][1][:, col] = paths[:, s]
        return out

    def chain_kind(self, chain: tuple[int, ...]) -> str:
        """``'none'``, ``'linear'`` (one end moderated: an index exists) or ``'quadratic'``."""
        n = int(self.a_mod[chain[0]]) + int(self.b_mod[chain[-1]])
        return ("none", "linear", "quadratic")[n]

    def conditional(self, paths: np.ndarray, u: np.ndarray) -> dict[str, np.ndarray]:
        """Conditional effects at centred moderator rows ``u`` (n_at, q).

        Returns ``{"indirect": (m, n_chains, n_at), "direct": (m, n_at),
        "index": (m, n_chains, q)}`` (index NaN for chains without a single index).
        """
        parts = self.split(paths)

        def at(kind: str, i: int) -> np.ndarray:
            base, slope = parts[(kind, i)]
            return base[:, None] + slope @ u.T

        m = paths.shape[0]
        ind = np.empty((m, len(self.chains), len(u)))
        index = np.full((m, len(self.chains), self.q), np.nan)
        for c, chain in enumerate(self.chains):
            dprod = np.ones(m)
            for i, j in itertools.pairwise(chain):
                dprod = dprod * parts[("d", self.d_pairs.index((i, j)))][0]
            ind[:, c] = at("a", chain[0]) * at("b", chain[-1]) * dprod[:, None]
            a0, a3 = parts[("a", chain[0])]
            b0, b3 = parts[("b", chain[-1])]
            if self.chain_kind(chain) == "linear":
                slope = a3 * b0[:, None] if self.a_mod[chain[0]] else a0[:, None] * b3
                index[:, c] = slope * dprod[:, None]
        return {"indirect": ind, "direct": at("c", 0), "index": index}


def _solve_many(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`solve_batched` for several right-hand sides ``b`` (m, p, r) at once."""
    eye = np.eye(a.shape[1])
    scale = np.sqrt(np.diagonal(a, axis1=1, axis2=2))
    good = np.all(scale > 0, axis=1) & np.all(np.isfinite(scale), axis=1)
    scale = np.where(good[:, None], scale, 1.0)
    a_s = a / (scale[:, :, None] * scale[:, None, :])
    a_s = np.where(good[:, None, None], a_s, eye)
    ok = good & chol_ok(a_s)
    a_s = np.where(ok[:, None, None], a_s, eye)
    x = np.linalg.solve(a_s, b / scale[:, :, None]) / scale[:, :, None]
    x[~ok] = 0.0
    return x, ok


def build_columns(
    x: np.ndarray, w: np.ndarray, covs: np.ndarray, m: np.ndarray, y: np.ndarray, spec: ModSpec
) -> tuple[np.ndarray, np.ndarray]:
    """The centred data matrix ``Z`` in :class:`ModSpec` order, and the centre of ``w``."""
    xc = x - x.mean()
    wc = w - w.mean(axis=0)
    cols = [xc[:, None], wc]
    if spec.has_xw:
        cols.append(xc[:, None] * wc)
    cols.append(covs - covs.mean(axis=0))
    mc = m - m.mean(axis=0)
    cols.append(mc)
    for j in range(spec.k):
        if spec.b_mod[j]:
            cols.append(mc[:, [j]] * wc)
    cols.append((y - y.mean())[:, None])
    return np.column_stack(cols), w.mean(axis=0)


class ModEngine:
    """Plug-in fit, batched bootstrap and jackknife of a :class:`ModSpec` model."""

    def __init__(self, spec: ModSpec, z: np.ndarray) -> None:
        self.spec = spec
        self.z = z
        self.n = z.shape[0]
        self.packer = Packer(z)
        self.slots = spec.path_slots
        self.eqs = spec.equations

    def _paths(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Path coefficients ``(m, n_paths)`` from unpacked cross products ``(m, d, d)``.

        Equations with the same regressors (parallel mediators) share one factorisation:
        their responses are solved together.
        """
        m = s.shape[0]
        ok = np.ones(m, dtype=bool)
        coefs: list[np.ndarray] = [np.empty(0)] * len(self.eqs)
        groups: dict[tuple[int, ...], list[int]] = {}
        for e, (regs, _) in enumerate(self.eqs):
            groups.setdefault(tuple(regs), []).append(e)
        for shared, members in groups.items():
            idx = np.array([0, *shared])
            resp = [self.eqs[e][1] for e in members]
            a = s[:, idx[:, None], idx[None, :]]
            if len(members) == 1:
                beta, good = solve_batched(a, s[:, idx, resp[0]])
                coefs[members[0]] = beta
            else:
                beta, good = _solve_many(a, s[:, idx[:, None], np.array(resp)[None, :]])
                for r, e in enumerate(members):
                    coefs[e] = beta[:, :, r]
            ok &= good
        spec = self.spec
        paths = np.column_stack(
            [coefs[spec.path_equation(kind, i)][:, pos] for kind, i, _, pos in self.slots]
        )
        paths[~ok] = np.nan
        return paths, ok

    def fit(self) -> tuple[np.ndarray, np.ndarray]:
        """Plug-in paths and their normal-theory covariance (for Monte Carlo draws).

        Within an equation the covariance is ``s^2 (X'X)^{-1}``; between two equations
        with the same regressors (parallel mediators) ``s_12 (X'X)^{-1}``; zero otherwise.
        """
        s0 = self.packer.unpack(self.packer.total())[0]
        betas, invs, rss = [], [], []
        for e, (regs, resp) in enumerate(self.eqs):
            idx = np.array([0, *regs])
            beta, inv, piv = solve_normal(s0[np.ix_(idx, idx)], s0[idx, resp])
            if piv < RIDGE_FLOOR:
                name = self.spec.mediators[e] if e < self.spec.k else "the outcome"
                raise EstimationError(
                    f"The regression for {name} is singular or nearly so (collinear "
                    "regressors among the exposure, moderator, products, mediators and "
                    "covariates); remove redundant covariates."
                )
            x1 = np.column_stack([np.ones(self.n), self.z[:, idx[1:] - 1]])
            beta = np.linalg.lstsq(x1, self.z[:, resp - 1], rcond=None)[0]
            betas.append(beta)
            invs.append(inv)
            rss.append(self.z[:, resp - 1] - x1 @ beta)
        spec = self.spec
        paths = np.array([betas[spec.path_equation(k, i)][pos] for k, i, _, pos in self.slots])
        npath = len(self.slots)
        v = np.zeros((npath, npath))
        for p1, (k1, i1, _, c1) in enumerate(self.slots):
            e1 = spec.path_equation(k1, i1)
            for p2, (k2, i2, _, c2) in enumerate(self.slots):
                e2 = spec.path_equation(k2, i2)
                if e1 == e2 or self.eqs[e1][0] == self.eqs[e2][0]:
                    df = self.n - len(self.eqs[e1][0]) - 1
                    s12 = rss[e1] @ rss[e2] / df if df > 0 else np.nan
                    v[p1, p2] = s12 * invs[e1][c1, c2]
        return paths, v

    def bootstrap(
        self, n_boot: int, rng: np.random.Generator, codes: np.ndarray | None, n_groups: int
    ) -> np.ndarray:
        """Paths of ``n_boot`` joint resamples of rows (or whole clusters)."""
        if codes is None:
            units_t = self.packer.packed_t
        else:
            units_t = np.ascontiguousarray(group_sum(self.packer.packed, codes, n_groups).T)
        chunk = max(1, _CHUNK_ELEMENTS // units_t.shape[1])
        out = []
        for counts in bs.iter_bootstrap_counts(units_t.shape[1], n_boot, rng, chunk_size=chunk):
            cross = (units_t @ counts.T).T  # all resamples' cross products in one BLAS call
            out.append(self._paths(self.packer.unpack(cross))[0])
        return np.concatenate(out)

    def jackknife(self, codes: np.ndarray | None, n_groups: int) -> np.ndarray:
        """Leave-one-out (leave-one-cluster-out) paths for the BCa acceleration."""
        units = (
            self.packer.packed if codes is None else group_sum(self.packer.packed, codes, n_groups)
        )
        total = self.packer.total()
        step = max(1, (1 << 22) // units.shape[1])
        out = [
            self._paths(self.packer.unpack(total - units[i : i + step]))[0]
            for i in range(0, units.shape[0], step)
        ]
        return np.concatenate(out)
