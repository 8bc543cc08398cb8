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

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from .._core.glm import information, irls
from .._core.ols import fit_ols_batched
from ._logit_normal import (
    QUADRATURE_ATOL,
    QUADRATURE_ATOL_SINGLE,
    logit_normal_expect,
    logit_normal_means,
    logit_normal_nodes,
    logit_normal_rule,
)

__all__ = [
    "Design",
    "fit_weighted",
    "ikt_effects",
    "vanderweele_effects",
    "IKT_TERMS",
    "VW_TERMS",
    "FOUR_WAY_TERMS",
    "QUADRATURE_ATOL",
    "QUADRATURE_ATOL_SINGLE",
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
    # probit outcome (a logit outcome with a normal mediator takes logit_normal_means)
    return special.ndtr((a + slope * mu) / np.sqrt(1 + (slope * sigma) ** 2))


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
    on up to ``threads`` threads (the caller holds BLAS to one thread:
    :func:`...parallel.blas_single_thread`); every draw's value is computed alone, so the
    result does not depend on the blocks or the threads.
    ``single=True`` evaluates the logit-normal integrals of a logit outcome with a
    normal mediator in single precision (averaged in double precision; see
    :func:`logit_normal_means`), for the draws behind intervals.
    """
    s = bm.shape[0]
    if design.mediator_model == "linear" and design.outcome_model == "logit" and s > 1:
        # draws in order of their largest spread, so that each quadrature rule serves
        # one run of draws (a draw's values do not depend on the order)
        slope = np.abs(by[:, 2])
        if design.interaction:
            slope = np.maximum(np.abs(by[:, 2] + by[:, 3] * t0), np.abs(by[:, 2] + by[:, 3] * t1))
        order = np.argsort(slope * np.abs(sigma), kind="stable")
        if (order != np.arange(s)).any():
            w_ord = None if weights is None else weights[order]
            res = ikt_effects(
                bm[order], by[order], sigma[order], design, w_ord, t0, t1,
                single=single, threads=threads,
            )  # fmt: skip
            out = np.empty_like(res)
            out[order] = res
            return out
    out = np.empty((s, len(IKT_TERMS)))
    per = max(1, _BLOCK // (design.n * 4))
    n_blocks = max(-(-s // per), min(threads, s))
    edges = np.linspace(0, s, n_blocks + 1).astype(int)
    logit_normal = design.mediator_model == "linear" and design.outcome_model == "logit"
    c, c_mean = design.c, None
    if logit_normal:
        # centred covariates: the person parts stay of the order of the effects, so single
        # precision does not round away large covariate values (a calendar year, say);
        # the means go into the per-draw constants, in double precision
        c_mean = c.mean(axis=0) if c.size else np.zeros(c.shape[1])
        c = (c - c_mean).astype(np.float32 if single else np.float64)

    def job(k: int) -> None:
        lo, hi = edges[k], edges[k + 1]
        wb = None if weights is None else weights[lo:hi]
        blk = (bm[lo:hi], by[lo:hi], sigma[lo:hi], c, c_mean, wb)
        out[lo:hi] = _ikt_block(*blk, design, t0, t1)

    if threads > 1 and n_blocks > 1:
        with ThreadPoolExecutor(min(threads, n_blocks)) as pool:
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
    c_mean: np.ndarray | None,
    weights: np.ndarray | None,
    design: Design,
    t0: float,
    t1: float,
) -> np.ndarray:
    """:func:`ikt_effects` for one block of draws.

    ``c`` (float32 or float64) sets the precision of the per-person values; for a logit
    outcome with a normal mediator it is centred at ``c_mean``.
    """
    wn = None if weights is None else weights / weights.sum(axis=1, keepdims=True)
    if design.mediator_model == "linear" and design.outcome_model == "logit":
        e = _logit_normal_means_of(bm, by, sigma, c, c_mean, wn, design, (t0, t1))
    else:
        e = _means_of(bm, by, sigma, c, wn, design, (t0, t1))
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


def _logit_normal_means_of(bm, by, sigma, c, c_mean, wn, design, ts) -> dict:
    """``E[Y(t, M(t'))]`` averaged over persons, logit outcome and normal mediator.

    centre(t, t') = (c - cbar)'(theta + slope_t gamma) + [theta_0 + theta_t t
    + cbar'(theta + slope_t gamma) + slope_t (gamma_0 + gamma_t t')]: one person part
    per t (in the precision of ``c``), the bracket per draw in double precision.
    """
    ys = design.y_cov_start
    e = {}
    for t in ts:
        slope = by[:, 2] + (by[:, 3] * t if design.interaction else 0.0)
        coef = by[:, ys:] + slope[:, None] * bm[:, 2:]
        person = coef.astype(c.dtype) @ c.T  # draws x persons
        at_mean = by[:, 0] + by[:, 1] * t + coef @ c_mean
        shifts = np.column_stack([at_mean + slope * (bm[:, 0] + bm[:, 1] * tp) for tp in ts])
        means = logit_normal_means(person, shifts, slope * sigma, wn)
        for j, tp in enumerate(ts):
            e[(t, tp)] = means[:, j]
    return e


def _means_of(bm, by, sigma, c, wn, design, ts) -> dict:
    """``E[Y(t, M(t'))]`` averaged over persons, every other pair of models."""
    ys = design.y_cov_start
    # draws x rows, passed on as transposed (rows x draws) views
    base_m = (bm[:, 0][:, None] + bm[:, 2:] @ c.T).T
    base_y = (by[:, 0][:, None] + by[:, ys:] @ c.T).T
    e = {}
    for t in ts:
        slope = by[:, 2] + (by[:, 3] * t if design.interaction else 0.0)
        a = base_y + by[:, 1] * t
        for tp in ts:
            v = _expect_outcome(a, slope, base_m + bm[:, 1] * tp, sigma, design)
            e[(t, tp)] = v.mean(axis=0) if wn is None else (v * wn.T).sum(axis=0)
    return e


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
