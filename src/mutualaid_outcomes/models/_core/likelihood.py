"""Likelihood-based families: beta, zero-inflated Poisson / NB, ordinal (cumulative link).

Each is fitted with statsmodels (quasi-Newton, then Newton polishing) and
returned as a :class:`~mutualaid_outcomes.models._core.families.Fit` on the reported
parametrisation (R's): zero-inflated models report the count part first, then
the zero part (pscl order) and ``log(theta)``; ordinal models report thresholds
``theta_j`` with ``logit P(Y <= j) = theta_j - x'beta`` (ordinal::clm), not
statsmodels' first threshold plus log increments. Covariances on the reported
scale use the Jacobian ``J`` of the map: ``B_rep = J B J'`` and ``U_rep = U J^{-1}``,
which carries every sandwich form over exactly.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import special
from statsmodels.discrete.count_model import (
    ZeroInflatedNegativeBinomialP,
    ZeroInflatedPoisson,
)
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.othermod.betareg import BetaModel
from statsmodels.tools.numdiff import approx_fprime

from ...errors import ConvergenceError, DataValidationError
from .families import Fit, _catch, _link

GRAD_TOL = 1e-4  # max |score| accepted as converged (log-likelihood scale)


def _score_hessian(model: Any) -> Any:
    """Hessian as the central-difference Jacobian of the analytic score (symmetrised).

    statsmodels 0.15's analytic ``hessian`` of the zero-inflated models is inaccurate
    (its inverse gives SEs up to 10% too small against pscl::zeroinfl and against
    numerical differentiation), so those models use this instead.
    """

    def hess(p: np.ndarray) -> np.ndarray:
        H = approx_fprime(p, model.score, centered=True)
        return (H + H.T) / 2

    return hess


def _ml(
    model: Any, start: np.ndarray | None, notes: list[str], hess: Any = None
) -> tuple[np.ndarray, bool, int]:
    hess = model.hessian if hess is None else hess
    with _catch(notes), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r1 = model.fit(start_params=start, method="bfgs", maxiter=5000, disp=0, gtol=1e-9)
        params = np.asarray(r1.params, dtype=float)
        n_iter = int(r1.mle_retvals.get("iterations", 0))
        # Newton polishing with step halving.
        ll = model.loglike(params)
        for _ in range(50):
            try:
                step = np.linalg.solve(hess(params), -np.asarray(model.score(params)))
            except (np.linalg.LinAlgError, ValueError):  # pragma: no cover
                notes.append("Newton polishing failed; quasi-Newton estimates used")
                break
            t = 1.0
            while t > 1e-4:
                cand = params + t * step
                ll_c = model.loglike(cand)
                if np.isfinite(ll_c) and ll_c >= ll - 1e-12:
                    break
                t /= 2
            else:
                break
            gain = ll_c - ll
            params, ll = cand, ll_c
            n_iter += 1
            if np.max(np.abs(t * step)) < 1e-10 or (gain < 1e-12 and np.max(np.abs(step)) < 1e-6):
                break
    if not np.all(np.isfinite(params)):
        raise ConvergenceError(
            "The likelihood maximisation produced non-finite estimates; simplify the model."
        )
    grad = np.asarray(model.score(params), dtype=float)
    converged = bool(np.max(np.abs(grad)) < GRAD_TOL)
    if not converged:
        notes.append(f"largest score component {np.max(np.abs(grad)):.2e} at the optimum")
    return params, converged, n_iter


def _finish(
    model: Any,
    hess: Any,
    internal: np.ndarray,
    reported: np.ndarray,
    J: np.ndarray,
    names: list[str],
    n_coef: int,
    converged: bool,
    n_iter: int,
    notes: list[str],
    extras: dict[str, float],
    predictor: Any,
) -> Fit:
    H = np.asarray(hess(internal), dtype=float)
    S = np.asarray(model.score_obs(internal), dtype=float)
    try:
        B = np.linalg.inv(-H)
    except np.linalg.LinAlgError:
        raise ConvergenceError(
            "The information matrix is singular at the estimates; the model is not identified "
            "(collinear predictors, or too few distinct outcome values)."
        ) from None
    if np.any(np.diag(B) <= 0):
        converged = False
        notes.append("information matrix not positive definite at the estimates")
    Jinv = np.linalg.inv(J)
    return Fit(
        params=reported,
        names=names,
        n_coef=n_coef,
        bread=J @ B @ J.T,
        scores=S @ Jinv,
        hat=None,
        scale=1.0,
        loglik=float(model.loglike(internal)),
        deviance=float(-2 * model.loglike(internal)),
        n_params_ic=len(internal),
        converged=converged,
        n_iter=n_iter,
        message="; ".join(dict.fromkeys(notes)),
        extras=extras,
        predictor=predictor,
    )


def fit_beta(y: np.ndarray, X: np.ndarray, link: str, names: list[str]) -> Fit:
    """Beta regression with constant precision (mean link ``link``, log precision)."""
    notes: list[str] = []
    model = BetaModel(y, X, link=_link(link))
    params, converged, n_iter = _ml(model, None, notes)
    k = X.shape[1]
    J = np.eye(len(params))
    hess = model.hessian
    lk = _link(link)

    def predictor(mats: dict[str, np.ndarray], p: np.ndarray, kind: str) -> np.ndarray:
        e = mats["X"] @ p[:k]
        return e if kind == "link" else lk.inverse(e)

    return _finish(
        model,
        hess,
        params,
        params.copy(),
        J,
        [*names, "log(phi)"],
        k,
        converged,
        n_iter,
        notes,
        {"precision": float(np.exp(params[k]))},
        predictor,
    )


def fit_zero_inflated(
    y: np.ndarray,
    X: np.ndarray,
    Z: np.ndarray,
    dist: str,
    names: list[str],
    zero_names: list[str],
    offset: np.ndarray | None = None,
) -> Fit:
    """Zero-inflated Poisson (``dist='zip'``) or NB2 (``'zinb'``) with a logit zero part."""
    notes: list[str] = []
    if dist == "zip":
        model = ZeroInflatedPoisson(y, X, exog_infl=Z, inflation="logit", offset=offset)
    else:
        model = ZeroInflatedNegativeBinomialP(
            y, X, exog_infl=Z, inflation="logit", p=2, offset=offset
        )
    hess = _score_hessian(model)
    params, converged, n_iter = _ml(model, None, notes, hess)
    kz, kx = Z.shape[1], X.shape[1]
    # internal order: zero part, count part, [alpha]; reported: count, zero, [log(theta)]
    order = list(range(kz, kz + kx)) + list(range(kz))
    m = len(params)
    J = np.zeros((m, m))
    for r, c in enumerate(order):
        J[r, c] = 1.0
    reported = params[order]
    out_names = list(names) + [f"zero_{z}" for z in zero_names]
    extras: dict[str, float] = {}
    if dist == "zinb":
        alpha = params[-1]
        if alpha <= 0:
            raise ConvergenceError("The NB dispersion estimate is not positive; use dist 'zip'.")
        J[m - 1, m - 1] = -1.0 / alpha  # d log(theta) / d alpha, theta = 1 / alpha
        reported = np.append(reported, -np.log(alpha))
        out_names.append("log(theta)")

    def predictor(mats: dict[str, np.ndarray], p: np.ndarray, kind: str) -> np.ndarray:
        e = mats["X"] @ p[:kx] + mats.get("offset", 0.0)
        if kind == "link":
            return e
        pi = special.expit(mats["Z"] @ p[kx : kx + kz])
        return (1 - pi) * np.exp(e)

    fit = _finish(
        model,
        hess,
        params,
        reported,
        J,
        out_names,
        kx + kz,
        converged,
        n_iter,
        notes,
        extras,
        predictor,
    )
    if dist == "zinb":
        V = fit.bread
        theta = float(np.exp(reported[-1]))
        fit.extras.update({"theta": theta, "theta_se": theta * float(np.sqrt(V[-1, -1]))})
    return fit


class _CaseWeightedOrderedModel(OrderedModel):
    """OrderedModel whose log-likelihood terms carry case weights ``w_i log P(y_i)``.

    As R ``MASS::polr(weights=)`` and ``ordinal::clm(weights=)``: integer weights act as
    frequency weights. The score and Hessian (numerical derivatives of ``loglike``)
    and the per-row scores (of ``loglikeobs``) inherit the weights.
    """

    def __init__(self, endog: Any, exog: Any, *, distr: str, case_weights: np.ndarray) -> None:
        super().__init__(endog, exog, distr=distr)
        self.case_weights = np.asarray(case_weights, dtype=float)

    def loglikeobs(self, params: np.ndarray) -> np.ndarray:
        return self.case_weights * super().loglikeobs(params)


def fit_ordinal(
    y: pd.Series,
    X: np.ndarray,
    link: str,
    names: list[str],
    weights: np.ndarray | None = None,
) -> tuple[Fit, list[Any]]:
    """Cumulative link model ``P(Y <= j) = F(theta_j - x'beta)`` (proportional odds for logit).

    ``weights``: case weights of the log-likelihood terms (R ``polr``/``clm`` weights).
    """
    notes: list[str] = []
    if weights is not None and np.any(weights == 0):
        unweighted = set(pd.unique(y[weights == 0])) - set(pd.unique(y[weights > 0]))
        if unweighted:
            raise DataValidationError(
                f"`weights`: outcome levels {sorted(map(str, unweighted))} occur only in rows "
                "with weight 0, so their thresholds are not identified; drop those rows."
            )
    if isinstance(y.dtype, pd.CategoricalDtype):
        levels = [lv for lv in y.cat.categories if lv in set(y.dropna())]
        cat = pd.Categorical(y, categories=levels, ordered=True)
    else:
        levels = sorted(pd.unique(y).tolist())
        cat = pd.Categorical(y, categories=levels, ordered=True)
    if len(levels) < 3:
        raise DataValidationError(
            f"`formula`: an ordinal outcome needs at least 3 ordered levels; found {len(levels)}. "
            "Use family='binomial' for two levels."
        )
    counts = pd.Series(cat).value_counts()
    if (counts == 0).any():  # pragma: no cover - levels are taken from the data
        raise DataValidationError("`formula`: an ordinal outcome level is empty.")
    if weights is None:
        model = OrderedModel(pd.Series(cat), X, distr=link)
    else:
        model = _CaseWeightedOrderedModel(pd.Series(cat), X, distr=link, case_weights=weights)
    hess = model.hessian
    params, converged, n_iter = _ml(model, None, notes, hess)
    k = X.shape[1]
    K = len(levels) - 1
    cut = params[k:]
    theta = np.cumsum(np.concatenate([[cut[0]], np.exp(cut[1:])]))
    m = len(params)
    # reported: thresholds, then slopes (clm order)
    J = np.zeros((m, m))
    for j in range(K):
        J[j, k] = 1.0
        for l_ in range(1, j + 1):
            J[j, k + l_] = np.exp(cut[l_])
    for i in range(k):
        J[K + i, i] = 1.0
    reported = np.concatenate([theta, params[:k]])
    thr_names = [f"{levels[j]}|{levels[j + 1]}" for j in range(K)]
    dist = model.distr

    def predictor(mats: dict[str, np.ndarray], p: np.ndarray, kind: str) -> np.ndarray:
        e = mats["X"] @ p[K:]
        if kind == "link":
            return e
        cdf = dist.cdf(p[:K][None, :] - e[:, None])
        cdf = np.hstack([np.zeros((len(e), 1)), cdf, np.ones((len(e), 1))])
        return np.diff(cdf, axis=1)

    fit = _finish(
        model,
        hess,
        params,
        reported,
        J,
        thr_names + list(names),
        m,
        converged,
        n_iter,
        notes,
        {},
        predictor,
    )
    return fit, levels
