"""Fisher scoring for GEE (independence start from the package's GLM fitter) and QIC pieces."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import statsmodels.api as sm

from ...errors import DataValidationError
from .._core.glm import fit_glm
from . import _gee_engine as eng

__all__ = [
    "GEE_COV_TYPES",
    "GEECovType",
    "GEE_MAXITER",
    "GEE_TOL",
    "gee_vcov",
    "quasi_loglik",
    "sm_family",
    "solve_gee",
]

GEECovType = Literal["robust", "model", "bias_reduced"]
#: ``cov_type`` values of fit_gee (docs/conventions.md)
GEE_COV_TYPES: tuple[str, ...] = ("robust", "model", "bias_reduced")

GEE_TOL = 1e-10  # max change of beta, scale and alpha at convergence
GEE_MAXITER = 200


def sm_family(name: str, link: str) -> Any:
    links = sm.families.links
    if name == "gaussian":
        return sm.families.Gaussian()
    if name == "poisson":
        return sm.families.Poisson()
    return sm.families.Binomial(link=links.Logit() if link == "logit" else links.Probit())


def gee_vcov(
    Ainv: np.ndarray, scores: dict[str, np.ndarray], cov_type: str, scale: float
) -> np.ndarray:
    if cov_type == "model":
        return scale * Ainv
    U = scores["bias_reduced" if cov_type == "bias_reduced" else "robust"]
    return Ainv @ (U.T @ U) @ Ainv


def quasi_loglik(family: str, y: np.ndarray, mu: np.ndarray) -> float:
    from scipy import special

    if family == "gaussian":
        return float(-np.sum((y - mu) ** 2) / 2)
    if family == "poisson":
        return float(np.sum(special.xlogy(y, mu) - mu))
    return float(np.sum(y * np.log(mu / (1 - mu)) + np.log(1 - mu)))


#: R ``summary.lm``'s test for an essentially perfect fit: residual variance below
#: ``1e-30`` times the mean square of the fitted values.
PERFECT_FIT_RATIO = 1e-30


def _refuse_perfect_fit(y: np.ndarray, fitted: np.ndarray, p: int) -> None:
    """A gaussian outcome fitted exactly by the predictors has no scale to estimate.

    With residuals that are numerically zero the scale is 0, the standardised residuals
    behind the working correlation are 0/0, and the scoring loop would run to its limit on
    NaN; the test is R ``summary.lm``'s ("essentially perfect fit").
    """
    n = y.size
    if n <= p:
        return
    resvar = float(np.sum((y - fitted) ** 2)) / (n - p)
    if resvar < (float(np.mean(fitted)) ** 2 + float(np.var(fitted, ddof=1))) * PERFECT_FIT_RATIO:
        raise DataValidationError(
            "Essentially perfect fit: the gaussian outcome is an exact linear function of "
            "the predictors in `formula` (residuals numerically zero), so the scale, the "
            "working correlation and every standard error are undefined. Check that the "
            "outcome is not a predictor in disguise."
        )


def solve_gee(
    y: np.ndarray,
    X: np.ndarray,
    layout: eng.Layout,
    fam: Any,
    cov_struct: str,
    integer_dist: bool,
    family: str,
    link: str,
) -> dict[str, Any]:
    N, p = X.shape
    # independence-model start (also the model behind QIC): the package's one GLM fitter
    beta0 = fit_glm(X, y, family=family, link=link).beta
    if family == "gaussian":
        _refuse_perfect_fit(y, X @ beta0, p)
    beta = beta0.copy()
    n_alpha = {"independence": 0, "exchangeable": 1, "ar1": 1}.get(
        cov_struct, len(layout.level_pairs)
    )
    alpha = np.zeros(n_alpha)
    phi = np.nan
    converged = False
    note = ""
    it = 0

    def pieces(b: np.ndarray) -> tuple[np.ndarray, ...]:
        mu = fam.link.inverse(X @ b)
        dmu = 1.0 / fam.link.deriv(mu)
        sd = np.sqrt(fam.variance(mu))
        r = (y - mu) / sd
        D = (dmu / sd)[:, None] * X
        return mu, r, D

    for it in range(1, GEE_MAXITER + 1):  # noqa: B007 - reported
        mu, r, D = pieces(beta)
        Rinv = np.linalg.inv(eng.working_corr(layout, cov_struct, alpha))
        A, U = eng.scores_and_bread(eng.pad(D, layout), eng.pad(r, layout), Rinv)
        delta = np.linalg.solve(A, U.sum(axis=0))
        beta = beta + delta
        mu, r, D = pieces(beta)
        phi_new = float(np.sum(r**2) / N)
        e = eng.pad(r / np.sqrt(phi_new), layout)
        alpha_new, note = eng.estimate_alpha(e, layout, cov_struct, alpha, integer_dist)
        change = max(
            float(np.max(np.abs(delta))),
            abs(phi_new - phi) if np.isfinite(phi) else np.inf,
            float(np.max(np.abs(alpha_new - alpha))) if n_alpha else 0.0,
        )
        phi, alpha = phi_new, alpha_new
        if not np.all(np.isfinite(beta)):
            break
        if change < GEE_TOL:
            converged = True
            break
    mu, r, D = pieces(beta)
    Dp, rp = eng.pad(D, layout), eng.pad(r, layout)
    Rinv = np.linalg.inv(eng.working_corr(layout, cov_struct, alpha))
    A, U = eng.scores_and_bread(Dp, rp, Rinv)
    Ainv = np.linalg.inv(A)
    U_md = eng.mancl_derouen_scores(Dp, rp, Rinv, Ainv)
    # QIC's Omega_I (geepack): inverse naive covariance of the independence model, fitted
    # separately (its own estimates and scale): A_ind / phi_ind.
    _, r0, D0 = pieces(beta0)
    A_ind = (D0.T @ D0) / float(np.sum(r0**2) / N)
    return {
        "beta": beta,
        "alpha": alpha,
        "phi": phi,
        "mu": mu,
        "Ainv": Ainv,
        "scores": {"robust": U, "bias_reduced": U_md},
        "A_ind": A_ind,
        "converged": converged,
        "n_iter": it,
        "note": note,
    }
