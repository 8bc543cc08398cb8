"""Bootstrap (and jackknife) refits of a structural equation model.

Resamples are drawn with the package's helpers in :mod:`..._core.bootstrap`: multinomial
counts of units within each group (rows, or whole clusters for a cluster bootstrap), the
same counts weighting every variable of a row. Each resample is summarised by weighted
missing-data patterns (the partition of the full data is reused), exogenous covariates
are re-fixed at the resample's moments (as lavaan's bootstrap does) and the model is
refitted from the full-sample estimates by Fisher scoring and quasi-Newton steps to a
relative step of :data:`BOOT_TOL`. Resamples that fail to converge are recorded as NaN.

The BCa acceleration uses leave-one-out (leave-one-cluster-out) refits.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np

from ..._rng import spawn_rngs
from ...errors import BootstrapWarning
from .._core import bootstrap as bs
from .likelihood import Likelihood
from .optimizer import optimize
from .partable import ParTable
from .ram import RamModel
from .samplestats import GroupStats, Pattern

__all__ = ["bootstrap_draws", "jackknife_draws", "BOOT_TOL"]

#: Convergence tolerance of bootstrap refits (largest relative parameter step): far below
#: the Monte Carlo error of bootstrap quantiles.
BOOT_TOL = 1e-7


def _weighted_stats(st: GroupStats, w: np.ndarray, meanstructure: bool) -> GroupStats:
    patterns = []
    for pat in st.patterns:
        ww = w[pat.rows]
        keep = ww > 0
        n = float(ww.sum())
        if n <= 0:
            continue
        Y = st.X[np.ix_(pat.rows[keep], pat.obs)]
        wk = ww[keep]
        mean = wk @ Y / n
        Yc = Y - mean
        cov = (Yc * wk[:, None]).T @ Yc / n
        patterns.append(Pattern(pat.obs, pat.rows[keep], n, mean, cov))
    X = st.X
    mask = ~np.isnan(X)
    Xz = np.where(mask, X, 0.0)
    cnt = w @ mask
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (w @ Xz) / cnt
    Xc = np.where(mask, X - mean, 0.0)
    cov = (Xc * w[:, None]).T @ Xc / np.maximum((w[:, None] * mask).T @ mask, 1e-300)
    return GroupStats(
        st.label, X, int(round(w.sum())), tuple(patterns), mean, cov, st.complete, np.nan
    )


def _refit(base: RamModel, stats: list[GroupStats], theta0: np.ndarray, extra: Callable):
    model = base.with_moments([(s.mean, s.cov) for s in stats])
    lik = Likelihood(model, stats)
    res = optimize(lik, theta0, newton=False, tol=BOOT_TOL, max_iter=200)
    if not res.converged:
        return None
    return np.concatenate([res.theta, extra(res.theta)])


def _units(st: GroupStats, cluster: np.ndarray | None) -> tuple[np.ndarray, int]:
    if cluster is None:
        return np.arange(st.n), st.n
    return bs.cluster_codes(cluster)


def bootstrap_draws(
    pt: ParTable,
    stats: Sequence[GroupStats],
    clusters: Sequence[np.ndarray | None],
    theta: np.ndarray,
    extra: Callable[[np.ndarray], np.ndarray],
    n_boot: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``(n_boot, q + k)`` bootstrap estimates of the free parameters and ``extra(theta)``.

    Units are resampled within each group; with several groups each group draws from
    its own child generator (``rng.spawn``).
    """
    gens = [rng] if len(stats) == 1 else spawn_rngs(rng, len(stats))
    codes = [_units(st, cl) for st, cl in zip(stats, clusters)]
    counts = [bs.bootstrap_counts(n_units, n_boot, gen) for (_, n_units), gen in zip(codes, gens)]
    width = theta.size + extra(theta).size
    out = np.full((n_boot, width), np.nan)
    base = RamModel(pt, [(s.mean, s.cov) for s in stats])
    for b in range(n_boot):
        rs = []
        for st, (code, _), cnt in zip(stats, codes, counts):
            rs.append(_weighted_stats(st, cnt[b][code], pt.meanstructure))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                draw = _refit(base, rs, theta, extra)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError):
            draw = None
        if draw is not None:
            out[b] = draw
    failed = int(np.isnan(out[:, 0]).sum()) if width else 0
    if failed:
        warnings.warn(
            f"{failed} of {n_boot} bootstrap resamples did not converge and were dropped "
            "from the intervals.",
            BootstrapWarning,
            stacklevel=3,
        )
    return out


def jackknife_draws(
    pt: ParTable,
    stats: Sequence[GroupStats],
    clusters: Sequence[np.ndarray | None],
    theta: np.ndarray,
    extra: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Leave-one-unit-out estimates (units: rows or clusters, over all groups)."""
    codes = [_units(st, cl) for st, cl in zip(stats, clusters)]
    base = RamModel(pt, [(s.mean, s.cov) for s in stats])
    rows = []
    for g, (code, n_units) in enumerate(codes):
        for u in range(n_units):
            rs = []
            for h, st in enumerate(stats):
                w = np.ones(st.n)
                if h == g:
                    w[code == u] = 0.0
                rs.append(_weighted_stats(st, w, pt.meanstructure))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                draw = _refit(base, rs, theta, extra)
            rows.append(
                draw if draw is not None else np.full(theta.size + extra(theta).size, np.nan)
            )
    return np.vstack(rows)
