"""Numerical engine of :mod:`mutualaid_outcomes.models.mediation.causal`.

* batched weighted fits of the mediator and outcome models (the package's least squares
  and IRLS fitters of :mod:`.._core`), one fit per row of a weight matrix, so that
  bootstrap and jackknife replicates are computed without a Python loop over resamples;
* the potential-outcome expectations ``E[Y(t, M(t'))]`` by exact integration over the
  mediator distribution (closed forms, Gauss-Hermite quadrature or a two-point sum),
  vectorised over coefficient draws;
* VanderWeele's controlled and natural effects and the four-way decomposition.

Everything here works on arrays; validation happens in the public module.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import special, stats

from ...parallel import blas_single_thread
from .._core.glm import information, irls
from .._core.ols import fit_ols_batched

__all__ = [
    "Design",
    "fit_weighted",
    "ikt_effects",
    "vanderweele_effects",
    "IKT_TERMS",
    "VW_TERMS",
    "FOUR_WAY_TERMS",
    "logit_normal_nodes",
    "logit_normal_rule",
    "logit_normal_expect",
]

#: Imai-Keele-Tingley estimands, in output order.
IKT_TERMS: tuple[str, ...] = (
    "acme_control",
    "acme_treated",
    "acme_average",
    "ade_control",
    "ade_treated",
    "ade_average",
    "total",
    "prop_mediated_control",
    "prop_mediated_treated",
    "prop_mediated_average",
)
#: VanderWeele's controlled and natural effects.
VW_TERMS: tuple[str, ...] = ("cde", "pnde", "tnde", "pnie", "tnie")
#: VanderWeele's four-way decomposition of the total effect.
FOUR_WAY_TERMS: tuple[str, ...] = ("cde", "intref", "intmed", "pie")

#: Truncation of the standard normal mediator residual in the logit-outcome integral
#: (the normal mass beyond 9 SD is below 1e-18).
Z_MAX = 9.0


def logit_normal_nodes(spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Trapezoid nodes and weights for E[expit(c + spread * Z)], Z ~ N(0, 1).

    The integrand is analytic in the strip ``|Im z| < pi / |spread|`` (the poles of
    expit), so the trapezoid rule with step ``h`` has error about
    ``exp(-2 pi^2 / (|spread| h))`` times the growth of the Gaussian factor in that strip
    (Trefethen & Weideman 2014). ``h = 0.6 / |spread|`` (at most 0.7) keeps it below
    1e-11 for every c in [-30, 30] at spreads 0.8 to 8, checked against a 1e-15 rule
    (``h = 0.715 / |spread|``, used before, reached 3e-10 near 1.1).
    :func:`logit_normal_rule` uses it for spreads above about 1.45.
    """
    h = min(0.7, 0.6 / max(abs(float(spread)), 1e-12))
    k = int(np.ceil(Z_MAX / h))
    z = np.arange(-k, k + 1) * h
    w = h * np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
    return z, w


#: Target absolute error of every E[expit(c + s Z)]. The estimands are averages and
#: differences of these expectations (probabilities), so 1e-10 keeps them far inside the
#: 1e-6 relative agreement asked of deterministic quantities even for effects of 1e-3.
QUADRATURE_ATOL = 1e-10

#: Gauss-Hermite nodes that bring the error of E[expit(c + s Z)] below 1e-11 for every
#: c in [-30, 30] at s = 0.05, 0.10, ..., 1.45 (found against a 1e-15 trapezoid rule;
#: one node is added as a margin, for QUADRATURE_ATOL). Beyond that the trapezoid rule
#: needs fewer nodes.
_GH_NODES = (
    4, 5, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 20, 21, 23, 25,
    27, 29, 31, 33, 35, 37, 39, 42, 44,
)  # fmt: skip
_GH_STEP = 0.05
#: Gauss-Hermite weights below this are dropped (the integrand is bounded by 1).
_GH_WEIGHT_FLOOR = 1e-17


@functools.lru_cache(maxsize=64)
def _gauss_hermite(k: int) -> tuple[np.ndarray, np.ndarray]:
    z, w = hermegauss(k)
    w = w / np.sqrt(2 * np.pi)
    keep = w > _GH_WEIGHT_FLOOR
    return z[keep], w[keep]


def _rule_key(spread: float) -> int:
    """Which rule serves ``|spread|``: Gauss-Hermite nodes (> 0) or a trapezoid bin (<= 0).

    The key depends on the spread alone, so a draw gets the same rule in whatever batch
    of draws it is evaluated.
    """
    s = abs(float(spread))
    return _bin_key(max(0, int(np.ceil(s / _GH_STEP - 1e-9)) - 1))


@functools.lru_cache(maxsize=1024)
def _bin_key(i: int) -> int:
    if i < len(_GH_NODES):
        k = _GH_NODES[i] + 1
        if k < logit_normal_nodes((i + 1) * _GH_STEP)[0].size:
            return k
    return -i


def _rule_of_key(key: int) -> tuple[np.ndarray, np.ndarray]:
    # a trapezoid bin takes the rule of its largest spread (a finer step for the rest)
    return _gauss_hermite(key) if key > 0 else logit_normal_nodes((1 - key) * _GH_STEP)


def logit_normal_rule(spread: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[expit(c + spread * Z)], Z ~ N(0, 1), error below 1e-10.

    Gauss-Hermite (probabilists' weight) with the number of nodes taken from a table
    indexed by ``|spread|`` while it needs fewer nodes than the trapezoid rule of
    :func:`logit_normal_nodes`, that rule (at the upper end of the table's 0.05-wide bin
    of ``|spread|``) otherwise. Gauss-Hermite error falls like
    ``exp(-2 (pi / |spread|) sqrt(K))`` (poles of expit at distance ``pi / |spread|``), so
    it is much cheaper for small spreads (5 nodes at 0.05, 14 at 0.6 against 31) and
    the trapezoid rule, whose node count grows only linearly, wins above about 1.45.
    """
    return _rule_of_key(_rule_key(spread))


# Elements of the (nodes, rows, draws) work array of logit_normal_expect: small enough
# to stay in cache.
_NODE_BLOCK = 1 << 17


def logit_normal_expect(
    centre: np.ndarray, spread: np.ndarray, *, single: bool = False
) -> np.ndarray:
    """E[expit(centre + spread * Z)], Z ~ N(0, 1), for ``(n, S)`` centres, ``(S,)`` spreads.

    Each column is integrated with the rule its own spread needs
    (:func:`logit_normal_rule`), columns sharing a rule together, so a few large spreads
    do not raise the cost of the rest and a column's value does not depend on the other
    columns. With ``a = exp(c)`` and ``v_k = exp(-s z_k)``,
    ``expit(c + s z_k) = a / (a + v_k)``: one exponential per (row, draw) and an addition
    and a division per node; the weighted sum over nodes is a matrix-vector product.
    Centres are clipped to ``+-(L - max|s z|)``, ``L`` = 700 (88 in single precision),
    where expit is 1 or below 1e-20 either way, so that ``a`` stays finite.

    ``single=True`` evaluates the nodes in single precision (relative rounding error
    about 1e-7 per value) and returns float32; callers average in double precision.
    Used for the draws behind intervals only, never for point estimates.
    """
    dtype = np.float32 if single else np.float64
    # work on draws x rows (each draw's values contiguous); a transposed view of a
    # draws-major array, as ikt_effects passes, is used without a copy
    ct = np.ascontiguousarray(np.asarray(centre, dtype=dtype).T)
    spread = np.asarray(spread, dtype=float)
    out = np.empty(ct.shape, dtype=dtype)
    if ct.size == 0:
        return out.T
    keys = np.array([_rule_key(v) for v in spread])
    for key in np.unique(keys):
        rule = _rule_of_key(int(key))
        if keys[0] == key and (keys == key).all():
            _expect_draws(ct, spread, rule, out)
        else:
            rows = np.flatnonzero(keys == key)
            part = np.empty((rows.size, ct.shape[1]), dtype=dtype)
            _expect_draws(ct[rows], spread[rows], rule, part)
            out[rows] = part
    return out.T


def _expect_draws(
    centre: np.ndarray, spread: np.ndarray, rule: tuple[np.ndarray, np.ndarray], out: np.ndarray
) -> None:
    """:func:`logit_normal_expect` for draws (rows of ``centre``, ``(S, n)``) that share
    one rule, into ``out``."""
    z, w = rule
    single = out.dtype == np.float32
    reach = float(np.max(np.abs(spread))) * float(np.max(np.abs(z)))
    # centres are clipped at +-(limit - reach); the clip is harmless while
    # limit - 2 * reach stays large (expit is then 0 or 1 to working precision)
    limit, reach_max = (88.0, 20.0) if single else (700.0, 200.0)
    if not np.isfinite(reach) or reach > reach_max:
        acc = np.zeros(centre.shape)
        for z_k, w_k in zip(z, w):
            acc += w_k * special.expit(centre + spread[:, None] * z_k)
        out[...] = acc
        return
    lim = limit - reach
    if centre.max() > lim or centre.min() < -lim:
        centre = np.clip(centre, -lim, lim)
    dtype = out.dtype
    a = np.exp(centre)
    v = np.exp(-np.multiply.outer(z, spread)).astype(dtype)[:, :, None]  # (K, S, 1)
    w = w.astype(dtype)
    s, n = centre.shape
    k = z.size
    per = max(1, _NODE_BLOCK // max(1, n * k))
    work = np.empty((k, min(per, s), n), dtype=dtype)
    for lo in range(0, s, per):
        hi = min(s, lo + per)
        t = work[:, : hi - lo]
        ab = a[lo:hi]
        np.add(ab, v[:, lo:hi], out=t)
        np.divide(ab, t, out=t)
        # weighted sum over the nodes: one matrix-vector product per block of draws
        np.dot(w, t.reshape(k, -1), out=out[lo:hi].reshape(-1))


# Largest number of (row, draw, node) evaluations held in memory at once.
_BLOCK = 4_000_000
# Scoring steps of one resampling refit (a separated replicate costs no more than this)
_IRLS_MAX_ITER = 50


@dataclass(frozen=True, eq=False)
class Design:
    """Arrays of one causal mediation model (after listwise deletion).

    Mediator model columns: ``[1, t, C]``; outcome model columns:
    ``[1, t, m, (t * m), C]`` (the product only with ``interaction``).
    """

    t: np.ndarray
    m: np.ndarray
    y: np.ndarray
    c: np.ndarray
    mediator_model: str
    outcome_model: str
    interaction: bool

    @property
    def n(self) -> int:
        return int(self.t.size)

    @property
    def x_m(self) -> np.ndarray:
        return np.column_stack([np.ones(self.n), self.t, self.c])

    @property
    def x_y(self) -> np.ndarray:
        cols = [np.ones(self.n), self.t, self.m]
        if self.interaction:
            cols.append(self.t * self.m)
        return np.column_stack([*cols, self.c])

    @property
    def y_cov_start(self) -> int:
        """Index of the first covariate column in the outcome model."""
        return 4 if self.interaction else 3


# ---------------------------------------------------------------------------
# fitting
# ---------------------------------------------------------------------------


def _cdf(eta: np.ndarray, link: str) -> np.ndarray:
    if link == "logit":
        return special.expit(eta)
    if link == "probit":
        return special.ndtr(eta)
    return eta


def fit_weighted(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, family: str, start: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit one model per row of the weight matrix ``w`` (``(S, n)``).

    Linear models by the package's batched least squares (:func:`.._core.ols.fit_ols_batched`),
    binary models (``family`` 'logit' or 'probit') by its IRLS (:func:`.._core.glm.irls`,
    at most 50 steps from ``start``, zeros by default). Returns ``beta`` ``(S, p)``,
    ``sigma`` ``(S,)`` (residual SE with ``sum(w) - p`` degrees of freedom for linear
    models, NaN otherwise) and a success mask: a fit fails when its design is collinear,
    it does not converge, or it is separated (resampling replicates are then dropped).
    """
    if family == "linear":
        return fit_ols_batched(x, y, w)
    if start is None:
        start = np.zeros(x.shape[1])
    res = irls(x, y, w, family="binomial", link=family, start=start, max_iter=_IRLS_MAX_ITER)
    return res.beta, np.full(w.shape[0], np.nan), res.ok


def vcov(x: np.ndarray, y: np.ndarray, beta: np.ndarray, sigma: float, family: str) -> np.ndarray:
    """Model-based covariance matrix (R's ``vcov`` of ``lm`` / ``glm``)."""
    if family == "linear":
        return sigma**2 * np.linalg.inv(x.T @ x)
    return np.linalg.inv(information(x, x @ beta, family="binomial", link=family))


# ---------------------------------------------------------------------------
# Imai-Keele-Tingley estimands
# ---------------------------------------------------------------------------


def _expect_outcome(
    a: np.ndarray, slope: np.ndarray, mu: np.ndarray, sigma: np.ndarray, design: Design
) -> np.ndarray:
    """E over the mediator of the outcome mean function, per (row, draw).

    ``a``: outcome linear predictor without the mediator part (n, S); ``slope``:
    coefficient of the mediator at this treatment value (S,); ``mu``: mediator linear
    predictor (n, S); ``sigma``: mediator residual SD (S,).
    """
    out_link = design.outcome_model
    if design.mediator_model != "linear":
        p = _cdf(mu, design.mediator_model)
        return p * _cdf(a + slope, out_link) + (1 - p) * _cdf(a, out_link)
    if out_link == "linear":
        return a + slope * mu
    if out_link == "probit":
        return special.ndtr((a + slope * mu) / np.sqrt(1 + (slope * sigma) ** 2))
    # logit outcome, normal mediator: quadrature in the standardised residual
    single = a.dtype == np.float32
    return logit_normal_expect(a + slope * mu, slope * sigma, single=single)


def ikt_effects(
    bm: np.ndarray,
    by: np.ndarray,
    sigma: np.ndarray,
    design: Design,
    weights: np.ndarray | None,
    t0: float,
    t1: float,
    *,
    single: bool = False,
    threads: int = 1,
) -> np.ndarray:
    """The ten IKT estimands (columns in :data:`IKT_TERMS` order) for each draw.

    ``bm`` (S, pm) and ``by`` (S, py) are coefficient draws, ``sigma`` (S,) the mediator
    residual SD (ignored for binary mediators), ``weights`` (S, n) averaging weights
    (bootstrap counts) or None for the plain sample mean.

    Draws are processed in blocks (at most :data:`_BLOCK` values per potential outcome),
    on up to ``threads`` threads with one BLAS thread each; every draw's value is
    computed alone, so the result does not depend on the blocks or the threads.
    ``single=True`` evaluates the logit-normal integrals of a logit outcome with a
    normal mediator in single precision (averaged in double precision; see
    :func:`logit_normal_expect`), for the draws behind intervals.
    """
    s = bm.shape[0]
    out = np.empty((s, len(IKT_TERMS)))
    per = max(1, _BLOCK // (design.n * 4))
    n_blocks = max(-(-s // per), min(threads, s))
    edges = np.linspace(0, s, n_blocks + 1).astype(int)
    single = single and design.mediator_model == "linear" and design.outcome_model == "logit"
    c = design.c.astype(np.float32) if single else design.c

    def job(k: int) -> None:
        lo, hi = edges[k], edges[k + 1]
        wb = None if weights is None else weights[lo:hi]
        out[lo:hi] = _ikt_block(bm[lo:hi], by[lo:hi], sigma[lo:hi], c, wb, design, t0, t1)

    if threads > 1 and n_blocks > 1:
        with blas_single_thread(), ThreadPoolExecutor(min(threads, n_blocks)) as pool:
            list(pool.map(job, range(n_blocks)))
    else:
        for k in range(n_blocks):
            job(k)
    return out


def _ikt_block(
    bm: np.ndarray,
    by: np.ndarray,
    sigma: np.ndarray,
    c: np.ndarray,
    weights: np.ndarray | None,
    design: Design,
    t0: float,
    t1: float,
) -> np.ndarray:
    """:func:`ikt_effects` for one block of draws; ``c`` (float32 or float64) sets the
    precision of the per-person values."""
    dtype = c.dtype
    bm_, by_ = bm.astype(dtype, copy=False), by.astype(dtype, copy=False)
    ys = design.y_cov_start
    # draws x rows, passed on as transposed (rows x draws) views
    base_m = (bm_[:, 0][:, None] + bm_[:, 2:] @ c.T).T
    base_y = (by_[:, 0][:, None] + by_[:, ys:] @ c.T).T
    if weights is not None:
        wn = (weights / weights.sum(axis=1, keepdims=True)).T

    def mean_of(e: np.ndarray) -> np.ndarray:
        if weights is None:
            return e.mean(axis=0, dtype=np.float64)
        return (e * wn).sum(axis=0)

    e = {}
    for t in (t0, t1):
        slope = by_[:, 2] + (by_[:, 3] * t if design.interaction else 0.0)
        a = base_y + by_[:, 1] * t
        for tp in (t0, t1):
            mu = base_m + bm_[:, 1] * tp
            e[(t, tp)] = mean_of(_expect_outcome(a, slope, mu, sigma, design))
    d0 = e[(t0, t1)] - e[(t0, t0)]
    d1 = e[(t1, t1)] - e[(t1, t0)]
    z0 = e[(t1, t0)] - e[(t0, t0)]
    z1 = e[(t1, t1)] - e[(t0, t1)]
    tau = e[(t1, t1)] - e[(t0, t0)]
    with np.errstate(divide="ignore", invalid="ignore"):
        n0, n1 = d0 / tau, d1 / tau
    return np.column_stack(
        [d0, d1, (d0 + d1) / 2, z0, z1, (z0 + z1) / 2, tau, n0, n1, (n0 + n1) / 2]
    )


# ---------------------------------------------------------------------------
# VanderWeele
# ---------------------------------------------------------------------------


def _log_mgf_mediator(k: np.ndarray, mu: np.ndarray, sigma: np.ndarray, mediator_model: str):
    """Return log E[exp(k M)] for M normal(mu, sigma^2) or Bernoulli(F(mu))."""
    if mediator_model == "linear":
        return k * mu + 0.5 * k**2 * sigma**2
    p = _cdf(mu, mediator_model)
    return np.log1p(p * np.expm1(k))


def _mean_mediator(mu: np.ndarray, mediator_model: str) -> np.ndarray:
    return mu if mediator_model == "linear" else _cdf(mu, mediator_model)


def vanderweele_effects(
    bm: np.ndarray,
    by: np.ndarray,
    sigma: np.ndarray,
    design: Design,
    weights: np.ndarray | None,
    t0: float,
    t1: float,
    m_value: float,
) -> np.ndarray:
    """VanderWeele's effects, evaluated at the (weighted) covariate means.

    Columns ``cde, pnde, tnde, pnie, tnie`` then the four-way ``cde, intref, intmed, pie``.

    Linear outcome: differences of means. Logit outcome: the natural and controlled
    effects on the log odds-ratio scale and the four-way components on the excess
    relative risk scale, both under the rare-outcome approximation
    ``P(Y = 1 | t, m, c) ~ exp(linear predictor)``.
    """
    if weights is None:
        cbar = design.c.mean(axis=0)[None, :] if design.c.size else np.zeros((1, 0))
        cbar = np.broadcast_to(cbar, (bm.shape[0], design.c.shape[1]))
    else:
        wn = weights / weights.sum(axis=1, keepdims=True)
        cbar = wn @ design.c
    ys = design.y_cov_start
    th0, th1, th2 = by[:, 0], by[:, 1], by[:, 2]
    th3 = by[:, 3] if design.interaction else np.zeros_like(th0)
    lin_y = th0 + (cbar * by[:, ys:]).sum(axis=1)
    lin_m = bm[:, 0] + (cbar * bm[:, 2:]).sum(axis=1)
    dt = t1 - t0

    def mu(tp):
        return lin_m + bm[:, 1] * tp

    if design.outcome_model == "linear":

        def e(t, tp):  # E[Y(t, M(tp)) | c]
            return lin_y + th1 * t + (th2 + th3 * t) * _mean_mediator(mu(tp), design.mediator_model)

        def e_m(t):  # E[Y(t, m*) | c]
            return lin_y + th1 * t + (th2 + th3 * t) * m_value

        pnde = e(t1, t0) - e(t0, t0)
        tnde = e(t1, t1) - e(t0, t1)
        pnie = e(t0, t1) - e(t0, t0)
        tnie = e(t1, t1) - e(t1, t0)
        cde = e_m(t1) - e_m(t0)
        intref = pnde - cde
        intmed = tnie - pnie
        return np.column_stack([cde, pnde, tnde, pnie, tnie, cde, intref, intmed, pnie])

    # logistic outcome, rare-outcome approximation: log P = linear predictor
    def logp(t, tp):
        return (
            lin_y + th1 * t + _log_mgf_mediator(th2 + th3 * t, mu(tp), sigma, design.mediator_model)
        )

    def logp_m(t):
        return lin_y + th1 * t + (th2 + th3 * t) * m_value

    pnde = logp(t1, t0) - logp(t0, t0)
    tnde = logp(t1, t1) - logp(t0, t1)
    pnie = logp(t0, t1) - logp(t0, t0)
    tnie = logp(t1, t1) - logp(t1, t0)
    cde = (th1 + th3 * m_value) * dt
    base = logp(t0, t0)
    err_cde = np.exp(logp_m(t1) - base) - np.exp(logp_m(t0) - base)
    err_intref = np.expm1(pnde) - err_cde
    err_pie = np.expm1(pnie)
    err_total = np.expm1(logp(t1, t1) - base)
    err_intmed = err_total - err_cde - err_intref - err_pie
    return np.column_stack([cde, pnde, tnde, pnie, tnie, err_cde, err_intref, err_intmed, err_pie])


def logit_normal_mean(a: float, b: float, mu: float, sigma: float) -> float:
    """E[expit(a + b M)], M ~ N(mu, sigma^2), by the module's quadrature (for tests)."""
    centre = np.array([[a + b * mu]])
    return float(logit_normal_expect(centre, np.array([b * sigma]))[0, 0])


def probit_normal_mean(a: float, b: float, mu: float, sigma: float) -> float:
    """E[Phi(a + b M)], M ~ N(mu, sigma^2), in closed form (for tests)."""
    return float(stats.norm.cdf((a + b * mu) / np.sqrt(1 + (b * sigma) ** 2)))
