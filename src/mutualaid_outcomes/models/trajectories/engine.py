"""EM with Newton polishing for trajectory mixtures (internal).

One start runs EM (Dempster, Laird & Rubin 1977) until the log-likelihood gains less
than ``NEWTON_SWITCH`` (relative) per iteration, then Newton-Raphson on the observed
log-likelihood with the analytic information of :mod:`.information`, with step halving.
Newton stops when the Newton decrement ``g' (-H)^{-1} g / 2`` (the log-likelihood still
to be gained, to second order) is below ``tol``. Where the observed information is not
negative definite, EM continues and Newton is tried again later; if it never applies, EM
stops when an iteration gains less than ``tol`` (relative) and the result says so.

The M-step is closed form for the normal family (weighted least squares per class and
the weighted residual variance, per class or pooled), and one damped Newton step on the
expected complete-data log-likelihood for the others (a generalised EM step; step
halving keeps it monotone). Membership coefficients are updated by Newton on the
multinomial-logit part (closed form without covariates).

Every step works on arrays over observations, persons and classes at once.

References
----------
Dempster AP, Laird NM, Rubin DB (1977). Maximum likelihood from incomplete data via the
EM algorithm. *Journal of the Royal Statistical Society B* 39:1-38.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from .information import _membership_hessian, complete_class_derivs, log_prior, observed
from .panel import Panel
from .params import Layout, Params, Spec

__all__ = ["StartFit", "fit_from", "screen", "m_step", "direction", "degeneracy"]

NEWTON_SWITCH = 1e-3  # relative EM gain per iteration below which Newton is tried
NEWTON_RETRY = 10  # EM iterations before Newton is tried again after it failed
NEWTON_MAX = 60  # Newton iterations per attempt
NEWTON_ATTEMPTS = 5  # failed Newton attempts after which EM runs to its own criterion
DAMPING = 1e-4  # Levenberg shift, relative to the largest curvature, where -H is not PD
MIN_CLASS_PERSONS = 1.0  # a class whose expected size falls below one person has emptied
SIGMA_FLOOR = 1e-3  # residual SD below this fraction of the outcome's SD: a collapsed class


@dataclass(frozen=True, eq=False)
class StartFit:
    """Outcome of one start: final parameters, log-likelihood and status."""

    params: Params
    loglik: float
    status: str  # "converged", "em_only", "max_iter", "degenerate", "screened", "abandoned"
    n_iter: int
    message: str = ""

    @property
    def usable(self) -> bool:
        """Whether the start was run to the end with all classes in use."""
        return self.status not in ("degenerate", "screened", "abandoned")


def direction(g: np.ndarray, H: np.ndarray) -> tuple[np.ndarray, bool]:
    """Ascent direction ``(-H)^{-1} g``; damped (Levenberg) when ``-H`` is not positive definite.

    Returns the direction and whether ``-H`` was positive definite.
    """
    A = -H
    try:
        L = np.linalg.cholesky(A)
        return np.linalg.solve(L.T, np.linalg.solve(L, g)), True
    except np.linalg.LinAlgError:
        pass
    e, V = np.linalg.eigh(A)
    lam = max(0.0, -float(e.min())) + DAMPING * max(1.0, float(np.abs(e).max()))
    return V @ ((V.T @ g) / (e + lam)), False


def degeneracy(
    spec: Spec, layout: Layout, params: Params, tau: np.ndarray, sd_y: float
) -> str | None:
    """Why a solution is degenerate (an emptied or collapsed class), or ``None``."""
    n_k = tau.sum(axis=0)
    for k in np.flatnonzero(n_k < MIN_CLASS_PERSONS):
        return f"class {k + 1} emptied (expected size {n_k[k]:.2g} persons)"
    if spec.family.ancillary == "log_sigma" and not spec.shared_anc:
        sig = np.exp(params.anc)
        for k in np.flatnonzero(sig < SIGMA_FLOOR * sd_y):
            return f"class {k + 1} collapsed (residual SD {sig[k]:.2g})"
        for c in range(layout.K):
            if n_k[c] < layout.class_params(c):
                return (
                    f"class {c + 1} has fewer expected members ({n_k[c]:.2g}) than "
                    f"parameters ({layout.class_params(c)})"
                )
    if not np.all(np.isfinite(params.beta)) or not np.all(np.isfinite(params.anc)):
        return "non-finite estimates"
    return None


def _update_gamma(Z: np.ndarray, tau: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    K = tau.shape[1]
    if K == 1:
        return gamma
    if Z.shape[1] == 1:
        n_k = np.maximum(tau.sum(axis=0), 1e-300)
        g = np.zeros_like(gamma)
        g[:, 0] = np.log(n_k / n_k[0])
        return g

    def objective(gm: np.ndarray) -> float:
        return float(np.sum(tau * log_prior(Z, gm)))

    cur, val = gamma.copy(), objective(gamma)
    for _ in range(25):
        pi = np.exp(log_prior(Z, cur))
        grad = ((tau - pi)[:, 1:].T @ Z).ravel()
        step, _ = direction(grad, _membership_hessian(Z, pi))
        t = 1.0
        while t > 1e-8:
            cand = cur.copy()
            cand[1:] += t * step.reshape(K - 1, -1)
            new = objective(cand)
            if new >= val:
                break
            t /= 2
        else:
            break
        gain = new - val
        cur, val = cand, new
        if gain < 1e-12 * (1 + abs(val)):
            break
    return cur


def _gaussian_m_step(panel: Panel, spec: Spec, params: Params, w: np.ndarray) -> Params:
    X, y = panel.Xu, panel.obs.y[:, 0]
    act = spec.active()
    XtWX = np.stack([(X * w[:, k : k + 1]).T @ X for k in range(spec.n_groups)])
    XtWy = (w * y[:, None]).T @ X
    for k in range(spec.n_groups):
        off = ~act[k]
        XtWX[k][off, :] = 0.0
        XtWX[k][:, off] = 0.0
        XtWX[k][off, off] = 1.0
        XtWy[k][off] = 0.0
    try:
        beta = np.linalg.solve(XtWX, XtWy[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        beta = np.einsum("kpq,kq->kp", np.linalg.pinv(XtWX), XtWy)
    r2 = (y[:, None] - X @ beta.T) ** 2
    if spec.shared_anc:
        s2 = np.full(spec.n_groups, np.sum(w * r2) / panel.n_obs)
    else:
        s2 = np.sum(w * r2, axis=0) / np.maximum(np.sum(w, axis=0), 1e-300)
    return Params(beta, 0.5 * np.log(np.maximum(s2, 1e-300)), params.gamma)


def _newton_class_step(
    panel: Panel, spec: Spec, layout: Layout, params: Params, w: np.ndarray
) -> tuple[Params, np.ndarray | None]:
    Q, g, H = complete_class_derivs(panel, spec, layout, params, w)
    step, _ = direction(g, H)
    theta = layout.pack(params)
    nc = layout.n_class
    t = 1.0
    while t > 1e-8:
        cand = theta.copy()
        cand[:nc] += t * step
        new = layout.unpack(cand).with_(gamma=params.gamma)
        logf = spec.family.loglik(panel.obs, panel.Xu @ new.beta.T, new.anc)
        q = float(np.sum(w * logf))
        if np.isfinite(q) and q >= Q:
            return new, logf
        t /= 2
    return params, None


def m_step(
    panel: Panel, spec: Spec, layout: Layout, params: Params, tau: np.ndarray
) -> tuple[Params, np.ndarray | None]:
    """One M-step given posterior probabilities ``tau`` (persons x classes).

    Returns the new parameters and, when it has them, the log-densities there.
    """
    gamma = _update_gamma(panel.Z, tau, params.gamma)
    w = panel.row_weights(tau)
    if spec.family.name == "gaussian":
        return _gaussian_m_step(panel, spec, params, w).with_(gamma=gamma), None
    out, logf = _newton_class_step(panel, spec, layout, params, w)
    return out.with_(gamma=gamma), logf


def _newton(
    panel: Panel, spec: Spec, layout: Layout, params: Params, tol: float, sd_y: float
) -> tuple[Params, float, str, int]:
    """Newton on the observed log-likelihood: (params, loglik, outcome, iterations)."""
    theta = layout.pack(params)
    for it in range(1, NEWTON_MAX + 1):
        o = observed(panel, spec, layout, params, derivatives=2)
        grad, hess = cast(np.ndarray, o.grad), cast(np.ndarray, o.hess)  # derivatives=2
        if not (np.all(np.isfinite(grad)) and np.all(np.isfinite(hess))):
            return params, o.loglik, "failed", it
        step, pd = direction(grad, hess)
        decrement = float(grad @ step) / 2
        if pd and decrement < tol:
            return params, o.loglik, "converged", it
        t = 1.0
        while t > 1e-10:
            cand = layout.unpack(theta + t * step)
            oc = observed(panel, spec, layout, cand)
            if np.isfinite(oc.loglik) and oc.loglik >= o.loglik:
                break
            t /= 2
        else:
            # no ascent at machine precision: at the optimum if the decrement is tiny
            outcome = "converged" if pd and decrement < 1e-6 else "failed"
            return params, o.loglik, outcome, it
        theta, params = theta + t * step, cand
        if degeneracy(spec, layout, params, oc.tau, sd_y):
            return params, oc.loglik, "degenerate", it
    return params, observed(panel, spec, layout, params).loglik, "failed", NEWTON_MAX


def fit_from(
    panel: Panel,
    spec: Spec,
    layout: Layout,
    params: Params,
    *,
    max_iter: int,
    tol: float,
    sd_y: float,
) -> StartFit:
    """Run EM then Newton from ``params`` (see the module docstring)."""
    o = observed(panel, spec, layout, params)
    ll_prev = o.loglik
    retry_at = 0
    failures = 0
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        params, logf = m_step(panel, spec, layout, params, o.tau)
        o = observed(panel, spec, layout, params, logf=logf)
        why = degeneracy(spec, layout, params, o.tau, sd_y)
        if why:
            return StartFit(params, o.loglik, "degenerate", n_iter, why)
        gain = o.loglik - ll_prev
        ll_prev = o.loglik
        scale = 1.0 + abs(o.loglik)
        if gain < NEWTON_SWITCH * scale and n_iter >= retry_at and failures < NEWTON_ATTEMPTS:
            new, ll, outcome, k = _newton(panel, spec, layout, params, tol, sd_y)
            n_iter += k
            if outcome == "converged":
                return StartFit(new, ll, "converged", n_iter)
            if outcome == "degenerate":
                why = degeneracy(spec, layout, new, observed(panel, spec, layout, new).tau, sd_y)
                return StartFit(new, ll, "degenerate", n_iter, why or "")
            if ll > o.loglik:
                params = new
                o = observed(panel, spec, layout, params)
                ll_prev = o.loglik
            retry_at = n_iter + NEWTON_RETRY
            failures += 1
        elif failures and abs(gain) < tol * scale:
            return StartFit(
                params,
                o.loglik,
                "em_only",
                n_iter,
                "the observed information is not negative definite at the EM solution",
            )
    return StartFit(
        params, o.loglik, "max_iter", n_iter, f"no convergence in {max_iter} iterations"
    )


def screen(
    panel: Panel, spec: Spec, layout: Layout, params: Params, *, n_iter: int, sd_y: float
) -> StartFit:
    """``n_iter`` EM iterations from ``params`` (the first stage of a start).

    Returns status ``"screened"`` (to be ranked and possibly continued by :func:`fit_from`)
    or ``"degenerate"``.
    """
    o = observed(panel, spec, layout, params)
    for it in range(1, n_iter + 1):
        params, logf = m_step(panel, spec, layout, params, o.tau)
        o = observed(panel, spec, layout, params, logf=logf)
        why = degeneracy(spec, layout, params, o.tau, sd_y)
        if why:
            return StartFit(params, o.loglik, "degenerate", it, why)
    return StartFit(params, o.loglik, "screened", n_iter)
