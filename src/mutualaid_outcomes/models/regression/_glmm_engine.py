"""Laplace and adaptive Gauss-Hermite deviance of a GLMM with one grouping factor.

As lme4's ``glmer`` (Bates et al. 2015; lme4 vignette "PIRLS"): for given relative
covariance parameters ``theta`` and fixed effects ``beta``, penalised iteratively
reweighted least squares (PIRLS) finds the conditional modes ``u`` of the spherical
random effects (``b = Lambda(theta) u``, ``u ~ N(0, I)``) by minimising

    f(u) = -2 log p(y | u) + ||u||^2,

and the Laplace approximation to the deviance is ``f(u_hat) + log|L|^2`` with
``L L' = Lambda'Z'W Z Lambda + I`` at ``u_hat``. With one grouping factor both the
Newton system and ``L`` are block diagonal, so PIRLS runs on all groups at once
(per-group sums by ``bincount``, small ``q x q`` solves on the (q, q, G) layout of
:mod:`._mixed_engine`). Adaptive Gauss-Hermite quadrature with ``n_agq`` nodes replaces the
Laplace step for a scalar random effect (``q = 1``): each group's integral is evaluated
at ``u_hat + z_k / sqrt(H_g)``. Links: logit for the binomial, log for the Poisson
(canonical) and log for the negative binomial (NB2, size ``nb_theta``; not canonical).
The deviance is a function of ``(theta, beta)`` -- and of ``log(nb_theta)`` for the
negative binomial -- minimised jointly as lme4's second stage does.

Non-canonical link (negative binomial): PIRLS takes Newton steps with the observed
information, but ``L`` -- and so the Laplace log-determinant and the quadrature scale --
uses the expected (IRLS) weights, as lme4 does (its ``L`` holds the working weights
``mu_eta^2 / V(mu)``). The family's row quantities come from
:func:`.._core.families.nb2_log_parts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .._core.families import nb2_log_parts, nb2_theta_derivs
from ._mixed_engine import _bbsolve, _bchol, _bfsolve, make_lambda, theta_index

__all__ = ["GLMMData", "laplace_deviance", "laplace_gradient", "PIRLS_TOL"]

#: Convergence of PIRLS: largest Newton step in the spherical random effects.
PIRLS_TOL = 1e-11
MAX_PIRLS = 60


@dataclass(eq=False)
class GLMMData:
    """Rows of a GLMM on one grouping factor, with the warm start of PIRLS."""

    family: str  # "binomial", "poisson" or "negative_binomial"
    y: np.ndarray  # successes (binomial) or counts
    trials: np.ndarray  # binomial trials (ones for Bernoulli); ones for counts
    X: np.ndarray
    Z: np.ndarray
    codes: np.ndarray
    n_groups: int
    offset: np.ndarray
    const: float = 0.0  # sum of log normalising constants (binomial coefficients, log k!)
    u: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: Negative binomial size; set from a trailing ``log(nb_theta)`` parameter when the
    #: deviance is evaluated with one. The NB rows carry their own constants (const 0).
    nb_theta: float = 1.0

    def __post_init__(self) -> None:
        if self.family == "binomial":
            k, m = self.y, self.trials
            self.const = float(
                np.sum(special.gammaln(m + 1) - special.gammaln(k + 1) - special.gammaln(m - k + 1))
            )
        elif self.family == "poisson":
            self.const = -float(np.sum(special.gammaln(self.y + 1)))
        self.u = np.zeros((self.n_groups, self.Z.shape[1]))

    @property
    def q(self) -> int:
        return int(self.Z.shape[1])


def cond_loglik_rows(d: GLMMData, eta: np.ndarray) -> np.ndarray:
    """Row log-likelihood at linear predictor ``eta`` (binomial, Poisson: without constants)."""
    if d.family == "binomial":
        return np.asarray(d.y * eta - d.trials * np.logaddexp(0.0, eta))
    if d.family == "negative_binomial":
        return nb2_log_parts(d.y, eta, d.nb_theta).loglik
    return np.asarray(d.y * eta - np.exp(eta))


def score_weight(
    d: GLMMData, eta: np.ndarray, observed: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Score ``d loglik / d eta`` and working weight per row at ``eta``.

    The weight is the expected (IRLS) weight, or with ``observed`` the observed
    information ``-d score / d eta``; the two differ only for the negative binomial
    (canonical links: ``y - mu`` and ``V(mu)`` times trials).
    """
    if d.family == "binomial":
        mu = special.expit(eta)
        return d.y - d.trials * mu, d.trials * mu * (1.0 - mu)
    if d.family == "negative_binomial":
        nb = nb2_log_parts(d.y, eta, d.nb_theta)
        return nb.score, nb.observed if observed else nb.weight
    mu = np.exp(eta)
    return d.y - mu, mu


def var_deriv(d: GLMMData, eta: np.ndarray) -> np.ndarray:
    """Derivative of the working (expected) weight in ``eta``."""
    if d.family == "binomial":
        mu = special.expit(eta)
        return np.asarray(d.trials * mu * (1.0 - mu) * (1.0 - 2.0 * mu))
    if d.family == "negative_binomial":
        return nb2_log_parts(d.y, eta, d.nb_theta).weight_deriv
    return np.asarray(np.exp(eta))


def _gsum(d: GLMMData, v: np.ndarray) -> np.ndarray:
    return np.bincount(d.codes, weights=v, minlength=d.n_groups)


def _pirls(
    d: GLMMData, ZL: np.ndarray, fixed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Conditional modes ``u`` (G, q): Newton steps with per-group step halving.

    Returns ``u``, the Cholesky factors ``L`` (q, q, G) at ``u``, the per-group
    ``f_g(u)`` without constants and the linear predictor.
    """
    q, G = d.q, d.n_groups
    u = d.u.copy()
    eta = fixed + np.sum(ZL * u[d.codes], axis=1)
    fg = -2.0 * _gsum(d, cond_loglik_rows(d, eta)) + np.sum(u * u, axis=1)
    for _ in range(MAX_PIRLS):
        r, var = score_weight(d, eta, observed=True)
        grad = np.stack([_gsum(d, ZL[:, j] * r) for j in range(q)]) - u.T  # (q, G)
        H = np.empty((q, q, G))
        for i in range(q):
            for j in range(i + 1):
                H[i, j] = H[j, i] = _gsum(d, var * ZL[:, i] * ZL[:, j]) + (i == j)
        L = _bchol(H)
        step = _bbsolve(L, _bfsolve(L, grad[:, None, :]))[:, 0, :].T  # (G, q)
        scale = np.ones(G)
        for _half in range(30):
            u_new = u + scale[:, None] * step
            eta_new = fixed + np.sum(ZL * u_new[d.codes], axis=1)
            f_new = -2.0 * _gsum(d, cond_loglik_rows(d, eta_new)) + np.sum(u_new**2, axis=1)
            worse = f_new > fg + 1e-12 * np.abs(fg)
            if not np.any(worse):
                break
            scale = np.where(worse, scale / 2.0, scale)
        u, eta, fg = u_new, eta_new, f_new
        if np.max(np.abs(scale[:, None] * step), initial=0.0) < PIRLS_TOL:
            break
    _, var = score_weight(d, eta)
    H = np.empty((q, q, G))
    for i in range(q):
        for j in range(i + 1):
            H[i, j] = H[j, i] = _gsum(d, var * ZL[:, i] * ZL[:, j]) + (i == j)
    d.u = u
    return u, _bchol(H), fg, eta


def _unpack(params: np.ndarray, d: GLMMData) -> tuple[np.ndarray, np.ndarray, bool]:
    """Split ``params`` into ``theta`` and ``beta``; a trailing entry is ``log(nb_theta)``.

    The negative binomial size is set on ``d`` when ``params`` carries it; without it the
    deviance is evaluated at the size already on ``d`` (a fit at fixed ``nb_theta``).
    """
    q, p = d.q, d.X.shape[1]
    n_theta = q * (q + 1) // 2
    extra = len(params) - n_theta - p
    if extra not in (0, 1) or (extra == 1 and d.family != "negative_binomial"):
        raise ValueError("parameter vector has the wrong length")
    if extra:
        d.nb_theta = float(np.exp(params[-1]))
    return params[:n_theta], params[n_theta : n_theta + p], bool(extra)


def laplace_deviance(params: np.ndarray, d: GLMMData, n_agq: int = 1) -> float:
    """Laplace (``n_agq = 1``) or adaptive Gauss-Hermite deviance at ``(theta, beta)``.

    For the negative binomial ``params`` may end with ``log(nb_theta)`` (see
    :func:`_unpack`).
    """
    q = d.q
    theta, beta, _ = _unpack(params, d)
    lam = make_lambda(theta, q)
    ZL = d.Z @ lam
    fixed = d.offset + d.X @ beta
    u, L, fg, _ = _pirls(d, ZL, fixed)
    if n_agq <= 1:
        ldL2 = 2.0 * float(np.sum(np.log(np.diagonal(L, axis1=0, axis2=1))))
        return float(np.sum(fg) + ldL2 - 2.0 * d.const)
    return _agq_deviance(d, ZL[:, 0], fixed, u[:, 0], L[0, 0], fg, n_agq)


def laplace_gradient(params: np.ndarray, d: GLMMData) -> tuple[float, np.ndarray]:
    """Laplace deviance and its exact gradient in ``(theta, beta)`` (and ``log nb_theta``).

    With ``a_i = Lambda' z_i`` (row ``i`` of ``Z Lambda``), ``s_i`` the score and ``w_i``
    the working (expected) weight in ``eta``, ``H_g = sum_i w_i a_i a_i' + I`` and ``u_g``
    the conditional mode, the deviance is ``sum_g f_g(u_g) + log|H_g|``. Because the
    gradient of ``f_g`` in ``u`` vanishes at the mode, ``d f_g`` is the partial
    derivative; ``d log|H_g|`` is ``tr(H_g^-1 dH_g)``, where ``dH_g`` moves with
    ``Lambda`` and with the weights along ``d eta_i = x_i' d beta + e_i' u_g + a_i' d u_g``
    and ``d u_g`` follows from the implicit function theorem (``d u_g = -K_g^-1
    d(grad_u f_g / 2)``, ``K_g = sum_i o_i a_i a_i' + I`` with ``o_i = -d s_i / d eta``
    the observed information, equal to ``w_i`` for canonical links). Writing
    ``h_i = a_i' H_g^-1 a_i``, ``w'_i`` the derivative of the weight in ``eta`` and
    ``v_g = K_g^-1 sum_i h_i w'_i a_i``, every term is a row sum (see the code). The
    negative binomial size enters through the log-likelihood, the score and the weight
    (:func:`.._core.families.nb2_theta_derivs`); its derivative is taken in
    ``log(nb_theta)``. Checked against central differences of :func:`laplace_deviance`
    in the tests.
    """
    q = d.q
    n_theta = q * (q + 1) // 2
    theta, beta, with_nb = _unpack(params, d)
    ZL = d.Z @ make_lambda(theta, q)
    fixed = d.offset + d.X @ beta
    u, L, fg, eta = _pirls(d, ZL, fixed)
    dev = float(np.sum(fg) + 2.0 * np.sum(np.log(np.diagonal(L, axis1=0, axis2=1))))
    dev -= 2.0 * d.const
    r, w = score_weight(d, eta)
    o = score_weight(d, eta, observed=True)[1] if d.family == "negative_binomial" else w
    wd = var_deriv(d, eta)
    eye = np.broadcast_to(np.eye(q)[:, :, None], L.shape)
    Hinv = _bbsolve(L, _bfsolve(L, eye.copy()))  # (q, q, G)
    Hg = Hinv[:, :, d.codes]  # (q, q, n)
    Ha = np.einsum("jkn,nk->nj", Hg, ZL)  # H_g^-1 a_i  (n, q)
    h = np.sum(ZL * Ha, axis=1)
    c = np.stack([_gsum(d, h * wd * ZL[:, j]) for j in range(q)])  # (q, G)
    if o is w:
        v = np.einsum("jkg,kg->gj", Hinv, c)  # (G, q)
    else:
        K = np.empty_like(L)
        for i in range(q):
            for j in range(i + 1):
                K[i, j] = K[j, i] = _gsum(d, o * ZL[:, i] * ZL[:, j]) + (i == j)
        LK = _bchol(K)
        v = _bbsolve(LK, _bfsolve(LK, c[:, None, :]))[:, 0, :].T
    vr = v[d.codes]
    av = np.sum(ZL * vr, axis=1)
    grad_beta = d.X.T @ (-2.0 * r + h * wd - o * av)
    ur = u[d.codes]
    rows, cols = theta_index(q)
    grad_theta = np.empty(n_theta)
    for k, (rk, ck) in enumerate(zip(rows, cols, strict=True)):
        uc = ur[:, ck]
        row = -2.0 * r * uc + 2.0 * w * Ha[:, ck] + h * wd * uc + r * vr[:, ck] - uc * o * av
        grad_theta[k] = float(np.sum(d.Z[:, rk] * row))
    grad = [grad_theta, grad_beta]
    if with_nb:
        dll, ds, dw = nb2_theta_derivs(d.y, np.exp(eta), d.nb_theta)
        g_nb = float(np.sum(-2.0 * dll + h * dw + ds * av)) * d.nb_theta
        grad.append(np.array([g_nb]))
    return dev, np.concatenate(grad)


def _agq_deviance(
    d: GLMMData,
    zl: np.ndarray,
    fixed: np.ndarray,
    u: np.ndarray,
    Lg: np.ndarray,
    fg: np.ndarray,
    n_agq: int,
) -> float:
    """Adaptive Gauss-Hermite deviance for a scalar random effect (as lme4's glmer).

    ``-2 log L_g = log H_g - 2 log sum_k w_k exp(-(f_g(u_g + z_k s_g) - f_g(u_g)) / 2
    + z_k^2 / 2) + f_g(u_g)`` with ``s_g = 1 / sqrt(H_g)`` and ``(z_k, w_k)`` the
    Gauss-Hermite rule for the standard normal density (weights summing to one).
    """
    z, w = special.roots_hermitenorm(n_agq)
    w = w / np.sqrt(2.0 * np.pi)
    s = 1.0 / Lg  # Lg = sqrt(H_g)
    terms = np.empty((n_agq, d.n_groups))
    for k in range(n_agq):
        uk = u + z[k] * s
        eta = fixed + zl * uk[d.codes]
        fk = -2.0 * _gsum(d, cond_loglik_rows(d, eta)) + uk**2
        terms[k] = np.log(w[k]) - 0.5 * (fk - fg) + 0.5 * z[k] ** 2
    lse = special.logsumexp(terms, axis=0)
    return float(np.sum(2.0 * np.log(Lg) - 2.0 * lse + fg) - 2.0 * d.const)
