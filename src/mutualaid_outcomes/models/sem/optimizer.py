"""Starting values and the optimiser (Fisher scoring, then Newton steps).

Starting values follow lavaan's ``start = "simple"`` rules with two refinements:
residual variances of observed variables half their sample (or EM) variance, free
loadings from covariance ratios with the marker indicator, factor variances from the
marker's covariances, regressions and covariances 0, observed intercepts the sample
means, latent means 0; user ``start()`` values take precedence.

The optimiser takes Fisher-scoring steps (the expected information as the metric) with
backtracking on the objective while they make progress, continues with BFGS updates of
that metric (superlinear convergence when the model fits poorly and the expected and
observed information differ), and finishes with Newton steps on the Hessian from central
differences of the analytic gradient, stopping when the largest step is below
``tol * (1 + |theta|)``. The final Newton steps give the tight convergence needed to
match lavaan to 1e-6 or better.

Examples
--------
>>> import numpy as np
>>> from mutualaid_outcomes.models.sem.syntax import parse_model
>>> from mutualaid_outcomes.models.sem.partable import build_partable
>>> from mutualaid_outcomes.models.sem.samplestats import group_stats
>>> from mutualaid_outcomes.models.sem.ram import RamModel
>>> from mutualaid_outcomes.models.sem.likelihood import Likelihood
>>> rng = np.random.default_rng(1)
>>> f = rng.normal(size=(300, 1))
>>> X = f @ np.array([[1.0, 0.8, 0.6]]) + rng.normal(scale=0.5, size=(300, 3))
>>> st = group_stats(X)
>>> pt = build_partable(parse_model("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])
>>> lik = Likelihood(RamModel(pt, [(st.mean, st.cov)]), [st])
>>> res = optimize(lik, start_values(pt, [st]))
>>> res.converged, bool(np.abs(res.gradient).max() < 1e-10)
(True, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .likelihood import Likelihood
from .partable import ParTable
from .samplestats import GroupStats

__all__ = ["start_values", "optimize", "fit_from_starts", "OptimizerOutput", "OPTIM_TOL"]

#: Default convergence tolerance on the largest parameter step (relative to 1 + |theta|).
OPTIM_TOL = 1e-11


@dataclass(frozen=True)
class OptimizerOutput:
    """Result of :func:`optimize`."""

    theta: np.ndarray
    objective: float
    gradient: np.ndarray
    converged: bool
    iterations: int
    message: str


def _loading_starts(pt: ParTable, g: int, cov: np.ndarray) -> dict[tuple[str, str], float]:
    ov = {v: k for k, v in enumerate(pt.ov_names)}
    rows = [r for r in pt.rows if r.group == g and r.op == "=~"]
    by_factor: dict[str, list] = {}
    for r in rows:
        by_factor.setdefault(r.lhs, []).append(r)
    out: dict[tuple[str, str], float] = {}
    for f, rs in by_factor.items():
        marker = next((r for r in rs if r.free == 0 and r.rhs in ov and r.value != 0), None)
        inds = [r.rhs for r in rs if r.rhs in ov]
        for r in rs:
            if r.free == 0 or r.rhs not in ov or marker is None or r.rhs == marker.rhs:
                out[(f, r.rhs)] = 1.0
                continue
            j, m = ov[r.rhs], ov[marker.rhs]
            ratios = [
                cov[j, ov[k]] / cov[m, ov[k]]
                for k in inds
                if k not in (r.rhs, marker.rhs) and abs(cov[m, ov[k]]) > 1e-8
            ]
            lam = float(np.median(ratios)) * marker.value if ratios else 1.0
            out[(f, r.rhs)] = float(np.clip(lam, -10, 10)) if np.isfinite(lam) else 1.0
        if marker is not None:
            m = ov[marker.rhs]
            vals = [
                cov[m, ov[k]] / (marker.value * out[(f, k)])
                for k in inds
                if k != marker.rhs and abs(out[(f, k)]) > 1e-8
            ]
            psi = float(np.median(vals)) if vals else cov[m, m] / 2 / marker.value**2
            out[(f, "")] = psi if np.isfinite(psi) and psi > 0.01 * cov[m, m] else 0.05
    return out


def start_values(pt: ParTable, stats: Sequence[GroupStats], simple: bool = False) -> np.ndarray:
    """Starting values of the free parameters (see the module notes).

    ``simple=True`` gives lavaan's ``start = "simple"`` values (loadings 1, latent
    variances 0.05), the fallback when the refined values do not lead to convergence.
    """
    theta = np.full(pt.n_free, np.nan)
    ov = {v: k for k, v in enumerate(pt.ov_names)}
    for g, st in enumerate(stats):
        lam = {} if simple else _loading_starts(pt, g, st.cov)
        for r in pt.rows:
            if r.group != g or r.free == 0 or not np.isnan(theta[r.free - 1]):
                continue
            if np.isfinite(r.start):
                val = r.start
            elif r.op == "=~":
                val = lam.get((r.lhs, r.rhs), 1.0)
            elif r.op == "~~" and r.lhs == r.rhs:
                if r.lhs in ov:
                    val = 0.5 * st.cov[ov[r.lhs], ov[r.lhs]]
                else:
                    val = lam.get((r.lhs, ""), 0.05)
            elif r.op == "~1":
                val = st.mean[ov[r.lhs]] if r.lhs in ov else 0.0
            else:
                val = 0.0
            theta[r.free - 1] = val
    return np.where(np.isnan(theta), 0.0, theta)


def _solve(info: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """Solve ``info @ step = grad`` (Cholesky; eigenvalue floor if not positive definite)."""
    info = (info + info.T) / 2
    try:
        L = np.linalg.cholesky(info)
        return np.linalg.solve(L.T, np.linalg.solve(L, grad))
    except np.linalg.LinAlgError:
        pass
    try:
        w, v = np.linalg.eigh(info)
    except np.linalg.LinAlgError:
        return grad
    floor = max(w.max(initial=0.0), 1e-300) * 1e-10
    w = np.where(w > floor, w, max(floor, abs(w.min(initial=0.0))) + floor)
    return v @ ((v.T @ grad) / w)


def _is_pd(a: np.ndarray) -> bool:
    try:
        np.linalg.cholesky((a + a.T) / 2)
    except np.linalg.LinAlgError:
        return False
    return True


def _central_hessian(lik: Likelihood, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
    q = theta.size
    H = np.zeros((q, q))
    for j in range(q):
        hj = h * max(1.0, abs(theta[j]))
        x1, x2 = theta.copy(), theta.copy()
        x1[j] += hj
        x2[j] -= hj
        H[:, j] = (lik.gradient(x1)[1] - lik.gradient(x2)[1]) / (2 * hj)
    return (H + H.T) / 2


def _line_search(lik, theta, f, g, step, accept_tiny):
    slope = float(g @ step)
    t = 1.0
    while t > 1e-12:
        new = theta - t * step
        f_new, g_new = lik.gradient(new)
        if math.isfinite(f_new) and (
            f_new <= f - 1e-4 * t * slope + 1e-13 * abs(f) or (accept_tiny and t == 1.0)
        ):
            return new, f_new, g_new, t
        t /= 2
    return None


def optimize(
    lik: Likelihood,
    theta0: np.ndarray,
    *,
    max_iter: int = 500,
    tol: float = OPTIM_TOL,
    newton: bool = True,
) -> OptimizerOutput:
    r"""Minimise :math:`f(\theta)` from ``theta0`` (see the module notes).

    Parameters
    ----------
    lik : Likelihood
        Objective and derivatives.
    theta0 : numpy.ndarray
        Starting values.
    max_iter : int
        Maximum number of iterations.
    tol : float
        Convergence tolerance on the largest relative step.
    newton : bool
        Finish with Newton steps on the exact Hessian (tight convergence); ``False``
        stops after the quasi-Newton phase at ``tol`` (bootstrap resamples).

    Returns
    -------
    OptimizerOutput

    Notes
    -----
    Three phases: Fisher scoring while the objective still drops by more than 1e-6
    (relative), quasi-Newton (BFGS updates of a metric that starts at the expected
    information) until steps are below 1e-7, then Newton steps with a central-difference
    Hessian of the analytic gradient until the step is below ``tol``.
    """
    theta = np.asarray(theta0, dtype=float).copy()
    f, g = lik.gradient(theta)
    if not math.isfinite(f):
        return OptimizerOutput(
            theta,
            f,
            g,
            False,
            0,
            "model-implied covariance matrix not positive definite at the starting values",
        )
    phase = "fisher"
    H = np.empty((0, 0))  # set in the first (Fisher) iteration
    bfgs_tol = 1e-10 if newton else tol
    for it in range(1, max_iter + 1):
        if phase == "fisher":
            H = lik.expected_information(theta)
        elif phase == "newton":
            H = _central_hessian(lik, theta)
            if not _is_pd(H):
                H = lik.expected_information(theta)
        step = _solve(H, g)
        tiny = phase == "newton" and np.max(np.abs(step) / (1 + np.abs(theta))) < 1e-6
        found = _line_search(lik, theta, f, g, step, tiny)
        if found is None:
            small = np.max(np.abs(step) / (1 + np.abs(theta))) < 1e-7
            return OptimizerOutput(theta, f, g, bool(small), it, "line search failed")
        new, f_new, g_new, t = found
        moved = float(np.max(np.abs(t * step) / (1.0 + np.abs(new))))
        if phase == "bfgs":
            s_vec, y_vec = new - theta, g_new - g
            sy = float(s_vec @ y_vec)
            if sy > 1e-300:
                Hs = H @ s_vec
                H = H - np.outer(Hs, Hs) / float(s_vec @ Hs) + np.outer(y_vec, y_vec) / sy
        drop = f - f_new
        theta, f, g = new, f_new, g_new
        if phase == "newton" and moved < tol:
            return OptimizerOutput(theta, f, g, True, it, "converged")
        if phase != "newton" and moved < bfgs_tol:
            if not newton:
                return OptimizerOutput(theta, f, g, True, it, "converged")
            phase = "newton"
        elif phase == "fisher" and drop < 1e-6 * max(1.0, abs(f)):
            phase = "bfgs"
    return OptimizerOutput(theta, f, g, False, max_iter, "maximum number of iterations reached")


def fit_from_starts(
    lik: Likelihood, pt: ParTable, stats: Sequence[GroupStats], theta0: np.ndarray, max_iter: int
) -> OptimizerOutput:
    """Optimise from ``theta0``, retrying from lavaan's simple starting values on failure.

    Keeps the converged (or, failing both, the better) solution.
    """
    res = optimize(lik, theta0, max_iter=max_iter)
    if res.converged:
        return res
    alt = optimize(lik, start_values(pt, stats, simple=True), max_iter=max_iter)
    if alt.converged or (math.isfinite(alt.objective) and alt.objective < res.objective):
        return alt
    return res
