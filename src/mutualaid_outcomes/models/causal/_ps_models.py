"""The propensity models: binary logistic (the package's IRLS) and baseline-category multinomial."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from .._core.glm import fit_glm, information

__all__ = ["fit_logit", "fit_multinomial"]


# -- model fitting ----------------------------------------------------------------------------
def fit_logit(y: np.ndarray, X: np.ndarray) -> dict[str, Any]:
    """Logistic regression by the package's IRLS (:func:`.._core.glm.fit_glm`) from zero.

    Separation is not an error here: it shows up as fitted probabilities of 0 or 1, which
    the positivity check reports (``positivity='error'`` or ``'warn'``).
    """
    fit = fit_glm(X, y, family="binomial", link="logit", start=np.zeros(X.shape[1]))
    beta = fit.beta
    p = fit.mu
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = float(np.sum(special.xlogy(y, p) + special.xlogy(1 - y, 1 - p)))
    vcov = np.linalg.pinv(information(X, fit.eta, family="binomial", link="logit"))
    probs = np.column_stack([1 - p, p])
    return {
        "params": beta[None, :],
        "vcov": vcov,
        "probs": probs,
        "loglik": ll,
        "converged": fit.converged,
        "n_iter": fit.n_iter,
    }


def fit_multinomial(codes: np.ndarray, X: np.ndarray, n_levels: int) -> dict[str, Any]:
    """Baseline-category multinomial logit (first level = reference) by Newton-Raphson."""
    n, k = X.shape
    J = n_levels - 1
    Y = np.zeros((n, n_levels))
    Y[np.arange(n), codes] = 1.0
    B = np.zeros((J, k))
    converged = False
    it = 0

    def probs_of(B: np.ndarray) -> np.ndarray:
        eta = np.column_stack([np.zeros(n), X @ B.T])
        return special.softmax(eta, axis=1)

    def info_of(P: np.ndarray) -> np.ndarray:
        H = np.zeros((J * k, J * k))
        for a in range(J):
            for b in range(J):
                w = P[:, a + 1] * ((a == b) - P[:, b + 1])
                H[a * k : (a + 1) * k, b * k : (b + 1) * k] = X.T @ (w[:, None] * X)
        return H

    for it in range(1, 101):  # noqa: B007 - the count is reported
        P = probs_of(B)
        grad = ((Y[:, 1:] - P[:, 1:]).T @ X).ravel()
        try:
            step = np.linalg.solve(info_of(P), grad)
        except np.linalg.LinAlgError:
            break
        B = B + step.reshape(J, k)
        if np.max(np.abs(step)) < 1e-11 * (1 + np.max(np.abs(B))):
            converged = True
            break
        if np.max(np.abs(B)) > 50:
            break
    P = probs_of(B)
    with np.errstate(divide="ignore", invalid="ignore"):
        ll = float(np.sum(special.xlogy(Y, P)))
    return {
        "params": B,
        "vcov": np.linalg.pinv(info_of(P)),
        "probs": P,
        "loglik": ll,
        "converged": converged,
        "n_iter": it,
    }
