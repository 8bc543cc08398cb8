"""Model families for :func:`~mutualaid_outcomes.models.regression.glm.fit_regression`.

Each fitter returns a :class:`Fit`: estimates on the reported scale, the bread
(inverse information, unscaled) and score contributions on that same scale, so
that every covariance type is computed by one sandwich routine.

GLM families (gaussian, binomial, poisson, negative binomial, fractional logit)
are fitted by the package's one IRLS fitter (:mod:`.glm`, with its separation test)
and use the expected-information bread ``(X'WX)^{-1}`` with IRLS working weights, as
R's ``glm`` and ``sandwich`` do. Likelihood families (beta, zero-inflated,
ordinal) use the inverse observed information.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import special

from ...errors import ConvergenceError, DataValidationError, EstimationError
from .glm import MAX_ITER, deviance, fit_glm, information, link_inverse, unit_weights

THETA_MAX = 1e7  # NB size beyond this: no overdispersion to estimate (theta -> infinity)
GLM_FAMILIES = ("gaussian", "binomial", "poisson", "negative_binomial", "fractional_logit")
ML_FAMILIES = ("beta", "zip", "zinb", "ordinal_logit")
FAMILIES = GLM_FAMILIES + ML_FAMILIES
LINKS = {
    "gaussian": ("identity",),
    "binomial": ("logit", "probit"),
    "poisson": ("log",),
    "negative_binomial": ("log",),
    "fractional_logit": ("logit", "probit"),
    "beta": ("logit", "probit"),
    "zip": ("log",),
    "zinb": ("log",),
    "ordinal_logit": ("logit", "probit"),
}
FAMILY_LABELS = {
    "gaussian": "Gaussian (linear regression)",
    "binomial": "Binomial",
    "poisson": "Poisson",
    "negative_binomial": "Negative binomial (theta by maximum likelihood)",
    "fractional_logit": "Fractional response (quasi-binomial)",
    "beta": "Beta regression",
    "zip": "Zero-inflated Poisson",
    "zinb": "Zero-inflated negative binomial",
    "ordinal_logit": "Ordinal (cumulative link)",
}


@dataclass(frozen=True)
class Fit:
    """Everything a result needs from a fitted family."""

    params: np.ndarray  # all reported parameters
    names: list[str]
    n_coef: int  # the first n_coef parameters are shown by tidy()
    bread: np.ndarray
    scores: np.ndarray
    hat: np.ndarray | None
    scale: float
    loglik: float
    deviance: float
    n_params_ic: int  # parameters counted by AIC/BIC
    converged: bool
    n_iter: int
    message: str
    extras: dict[str, float] = field(default_factory=dict)
    predictor: Callable[..., Any] | None = None
    n_boundary: int = 0  # rows with fitted probabilities numerically 0 or 1 (glm.py's test)


def _link(name: str) -> Any:
    links = sm.families.links
    return {"identity": links.Identity(), "logit": links.Logit(), "probit": links.Probit()}.get(
        name, links.Log()
    )


def _catch(record: list[str]) -> Any:
    class _Ctx:
        def __enter__(self) -> None:
            self._cm = warnings.catch_warnings(record=True)
            self._w = self._cm.__enter__()
            warnings.simplefilter("always")

        def __exit__(self, *exc: Any) -> None:
            self._cm.__exit__(*exc)
            for w in self._w:
                if issubclass(w.category, RuntimeWarning):
                    continue  # floating-point overflow inside the optimiser
                record.append(f"{w.category.__name__}: {w.message}")

    return _Ctx()


def _theta_ml(y: np.ndarray, mu: np.ndarray, w: np.ndarray, t0: float | None = None) -> tuple:
    """ML estimate of the NB size ``theta`` given ``mu`` (Newton, as MASS::theta.ml)."""
    n = w.sum()

    def score(th: float) -> float:
        return float(
            np.sum(
                w
                * (
                    special.digamma(th + y)
                    - special.digamma(th)
                    + np.log(th)
                    + 1
                    - np.log(th + mu)
                    - (y + th) / (mu + th)
                )
            )
        )

    def info(th: float) -> float:
        return float(
            np.sum(
                w
                * (
                    -special.polygamma(1, th + y)
                    + special.polygamma(1, th)
                    - 1 / th
                    + 2 / (mu + th)
                    - (y + th) / (mu + th) ** 2
                )
            )
        )

    th = float(t0 if t0 is not None else n / np.sum(w * (y / mu - 1) ** 2))
    ok = False
    with np.errstate(all="ignore"):
        for _ in range(100):
            th_old = th
            i = info(th)
            if not np.isfinite(i) or i <= 0 or th > THETA_MAX:
                break
            step = score(th) / i
            th = th + step
            if th <= 0:
                th = th_old / 2
            if abs(step) <= 1e-12 * max(1.0, abs(th)):
                ok = True
                break
        i = info(th)
    return th, (float(np.sqrt(1.0 / i)) if np.isfinite(i) and i > 0 else np.nan), ok


def nb_loglik(y: np.ndarray, mu: np.ndarray, theta: float, w: np.ndarray) -> float:
    """Negative binomial log-likelihood (size ``theta``), weighted."""
    return float(
        np.sum(
            w
            * (
                special.gammaln(theta + y)
                - special.gammaln(theta)
                - special.gammaln(y + 1)
                + theta * np.log(theta)
                + special.xlogy(y, mu)
                - (theta + y) * np.log(theta + mu)
            )
        )
    )


def fit_glm_family(
    y: np.ndarray,
    X: np.ndarray,
    w: np.ndarray,
    family: str,
    link: str,
    names: list[str],
    offset: np.ndarray | None = None,
) -> Fit:
    """Fit a GLM-type family by :func:`.glm.fit_glm`; NB alternates IRLS and ML for theta.

    The negative binomial follows MASS::glm.nb: a Poisson fit, then IRLS at fixed theta
    and Newton for theta in turn until theta changes by less than 1e-10 relatively.
    Separation is detected by :func:`.glm.boundary_rows` and handled by the caller.
    """
    notes: list[str] = []
    extras: dict[str, float] = {}
    converged = True
    n_iter = 0
    theta: float | None = None
    if family == "negative_binomial":
        res = fit_glm(X, y, w, family="poisson", link="log", offset=offset)
        theta, theta_se, ok = _theta_ml(y, res.mu, w)
        for n_iter in range(1, 101):  # noqa: B007 - the count is reported
            if not ok:
                break
            res = fit_glm(
                X, y, w, family=family, link=link, theta=theta, start=res.beta, offset=offset
            )
            th_new, theta_se, ok = _theta_ml(y, res.mu, w, theta)
            done = abs(th_new - theta) <= 1e-10 * th_new
            theta = th_new
            if done:
                break
        else:
            converged = False
            notes.append("alternating estimation of theta did not converge in 100 rounds")
        if not ok:
            converged = False
            notes.append(
                f"theta estimation did not converge (theta reached {theta:.3g}; the counts show "
                "no overdispersion, so theta may be infinite: use family='poisson')"
            )
        res = fit_glm(X, y, w, family=family, link=link, theta=theta, start=res.beta, offset=offset)
        extras = {"theta": float(theta), "theta_se": float(theta_se)}
    else:
        res = fit_glm(X, y, w, family=family, link=link, offset=offset)
        n_iter = res.n_iter
    if not res.converged:
        notes.append(f"IRLS did not converge in {MAX_ITER} iterations")
    converged = converged and res.converged
    beta = np.asarray(res.beta, dtype=float)
    if not np.all(np.isfinite(beta)):
        raise ConvergenceError(
            f"The {family} model produced non-finite estimates; check for separation, "
            "extreme values or collinear predictors."
        )
    eta = res.eta
    with np.errstate(over="ignore", under="ignore"):
        mu = link_inverse(eta, link)
    XtWX = information(X, eta, w, family=family, link=link, theta=theta)
    try:
        bread = np.linalg.inv(XtWX)
    except np.linalg.LinAlgError:
        raise EstimationError(
            f"The information matrix of the {family} model is singular; the predictors "
            "may be collinear or a category may predict the outcome perfectly."
        ) from None
    resid = y - mu
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ww, sw = unit_weights(eta, family, link, theta)
    scores = (w * resid * sw)[:, None] * X
    Wt = w * ww
    hat = Wt * np.einsum("ij,jk,ik->i", X, bread, X)
    pos = w > 0
    n = int(pos.sum())
    k = X.shape[1]
    df_resid = n - k
    if family == "gaussian":
        rss = float(np.sum(w * resid**2))
        scale = rss / df_resid if df_resid > 0 else np.nan
        loglik = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1) + 0.5 * float(np.sum(np.log(w[pos])))
        n_ic = k + 1
        extras = {"scale": scale}
    elif family == "fractional_logit":
        var = mu * link_inverse(-eta, link)
        pearson = float(np.sum(w * resid**2 / var))
        scale = pearson / df_resid if df_resid > 0 else np.nan
        loglik = np.nan
        n_ic = k
        extras = {"scale": scale}
    else:
        scale = 1.0
        n_ic = k
        if family == "binomial":
            loglik = float(np.sum(w * (special.xlogy(y, mu) + special.xlogy(1 - y, 1 - mu))))
        elif family == "poisson":
            loglik = float(np.sum(w * (special.xlogy(y, mu) - mu - special.gammaln(y + 1))))
        else:
            loglik = nb_loglik(y, mu, extras["theta"], w)
            n_ic = k + 1
    message = "; ".join(dict.fromkeys(notes))
    dev = deviance(y, eta, w, family=family, link=link, theta=theta)

    def predictor(mats: dict[str, np.ndarray], params: np.ndarray, kind: str) -> np.ndarray:
        e = mats["X"] @ params[:k] + mats.get("offset", 0.0)
        return e if kind == "link" else link_inverse(e, link)

    return Fit(
        params=beta,
        names=list(names),
        n_coef=k,
        bread=bread,
        scores=scores,
        hat=hat,
        scale=float(scale),
        loglik=float(loglik),
        deviance=dev,
        n_params_ic=n_ic,
        converged=converged,
        n_iter=int(n_iter),
        message=message,
        extras=extras,
        predictor=predictor,
        n_boundary=res.n_boundary,
    )


def binary_outcome(y: pd.Series, argument: str) -> tuple[np.ndarray, str | None]:
    """Code a binary outcome 0/1; two labelled levels map to 0 (first) / 1 (second)."""
    if pd.api.types.is_bool_dtype(y):
        return y.to_numpy(dtype=float), None
    if pd.api.types.is_numeric_dtype(y):
        vals = set(np.unique(y.to_numpy(dtype=float)).tolist())
        other = sorted(vals - {0.0, 1.0})
        if other:
            shown = [int(v) if float(v).is_integer() else v for v in other[:10]]
            raise DataValidationError(
                f"`{argument}`: a binomial outcome ('{y.name}') must be coded 0/1 (or have "
                f"two labelled levels); found other values {shown}. For a proportion use "
                "family='fractional_logit'; for a count use 'poisson' or 'negative_binomial'."
            )
        return y.to_numpy(dtype=float), None
    levels = list(y.cat.categories) if isinstance(y.dtype, pd.CategoricalDtype) else None
    present = pd.unique(y)
    if levels is None:
        levels = sorted(map(str, present))
        ys = y.astype(str)
    else:
        levels = [lv for lv in levels if lv in set(present)]
        ys = y
    if len(levels) != 2:
        raise DataValidationError(
            f"`{argument}`: a binomial outcome ('{y.name}') needs exactly two levels; found "
            f"{len(levels)}."
        )
    return (ys == levels[1]).to_numpy(dtype=float), str(levels[1])


def check_fraction(y: pd.Series, family: str, argument: str) -> np.ndarray:
    """Check a proportion outcome in [0, 1] (open interval for beta)."""
    if not pd.api.types.is_numeric_dtype(y):
        raise DataValidationError(
            f"`{argument}`: the {family} outcome ('{y.name}') must be numeric; got {y.dtype}."
        )
    arr = y.to_numpy(dtype=float)
    bad = int(np.sum((arr < 0) | (arr > 1)))
    if bad:
        raise DataValidationError(
            f"`{argument}`: the {family} outcome ('{y.name}') must lie in [0, 1]; {bad} values "
            f"are outside (range {arr.min():.3g} to {arr.max():.3g}). Divide percentages by 100."
        )
    return arr


def check_count(y: pd.Series, family: str, argument: str) -> np.ndarray:
    """Check a count outcome: non-negative integers."""
    if not pd.api.types.is_numeric_dtype(y):
        raise DataValidationError(
            f"`{argument}`: the {family} outcome ('{y.name}') must be numeric; got {y.dtype}."
        )
    arr = y.to_numpy(dtype=float)
    bad = int(np.sum((arr < 0) | (arr != np.round(arr))))
    if bad:
        raise DataValidationError(
            f"`{argument}`: the {family} outcome ('{y.name}') must hold non-negative whole "
            f"numbers; {bad} values do not."
        )
    return arr
