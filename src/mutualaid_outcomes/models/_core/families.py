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
from .glm import (
    MAX_ITER,
    GLMFit,
    deviance,
    fit_glm,
    information,
    link_inverse,
    unit_weights,
)
from .ols import solve_batched

#: Tolerance of the Poisson fit that starts the negative binomial iteration (a start only).
_NB_START_TOL = 1e-6
#: Largest number of alternating rounds (beta step, theta update) of the NB fit.
_NB_MAX_ROUNDS = 200
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
    # (design matrices, parameters, 'response' | 'link') -> predictions
    predictor: Callable[[dict[str, np.ndarray], np.ndarray, str], np.ndarray]
    extras: dict[str, float] = field(default_factory=dict)
    n_boundary: int = 0  # rows with fitted probabilities numerically 0 or 1 (glm.py's test)
    hat_of: Callable[[], np.ndarray] | None = field(default=None, repr=False)

    def hat_values(self) -> np.ndarray | None:
        """Hat values: ``hat`` when stored, else computed on demand (GLM families)."""
        if self.hat is not None:
            return self.hat
        return None if self.hat_of is None else self.hat_of()


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


def _count_table(y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct outcome values and their summed weights (counts take few distinct values)."""
    values, inverse = np.unique(y, return_inverse=True)
    return values, np.bincount(inverse.ravel(), weights=w, minlength=len(values))


def theta_ml(
    y: np.ndarray,
    mu: np.ndarray,
    w: np.ndarray,
    t0: float | None = None,
    table: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple:
    """ML estimate of the NB size ``theta`` given ``mu`` (Newton, as MASS::theta.ml).

    The SE is ``1 / sqrt(information)`` at the final theta; MASS::theta.ml evaluates the
    information one Newton step before its final update, so glm.nb's ``SE.theta``
    differs from this (by 1.6e-5 relative at most on tests/reference/regression.R).
    The digamma and trigamma terms in ``theta + y_i`` are evaluated once per distinct
    outcome value (``table``, from :func:`_count_table`) and weighted by its total weight.
    """
    n = w.sum()
    values, wsum = _count_table(y, w) if table is None else table

    def score(th: float) -> float:
        gam = np.dot(wsum, special.digamma(th + values)) - n * special.digamma(th)
        rest = np.dot(w, np.log(th + mu) + (y + th) / (mu + th))
        return float(gam + n * (np.log(th) + 1) - rest)

    def info(th: float) -> float:
        gam = n * special.polygamma(1, th) - np.dot(wsum, special.polygamma(1, th + values))
        rest = np.dot(w, 2 / (mu + th) - (y + th) / (mu + th) ** 2)
        return float(gam - n / th + rest)

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


#: Largest count for which log Gamma(theta + y) - log Gamma(theta) is summed term by term.
_NB_TABLE_MAX = 100_000


def _gamma_ratio(y: np.ndarray, theta: float) -> tuple[np.ndarray, np.ndarray]:
    """``log Gamma(theta + y) - log Gamma(theta) - y log theta`` and ``psi(theta + y) - psi(theta)``.

    For whole counts (up to :data:`_NB_TABLE_MAX`) as the sums ``sum_{k<y} log1p(k /
    theta)`` and ``sum_{k<y} 1 / (theta + k)``, which keep full relative accuracy when
    ``theta`` is large (the differences of ``gammaln`` lose ``log10(theta log theta)``
    digits, enough to stall the Newton iterations of a nearly-Poisson fit).
    """
    top = float(np.max(y, initial=0.0))
    if top <= _NB_TABLE_MAX and np.all(y == np.round(y)) and np.all(y >= 0):
        k = np.arange(int(top), dtype=float)
        lg = np.concatenate([[0.0], np.cumsum(np.log1p(k / theta))])
        dg = np.concatenate([[0.0], np.cumsum(1.0 / (theta + k))])
        idx = y.astype(np.intp)
        return lg[idx], dg[idx]
    return (
        special.gammaln(theta + y) - special.gammaln(theta) - y * np.log(theta),
        special.digamma(theta + y) - special.digamma(theta),
    )


def nb_loglik_rows(y: np.ndarray, mu: np.ndarray, theta: float) -> np.ndarray:
    """Negative binomial (NB2, size ``theta``) log-probabilities of the counts ``y``.

    ``log Gamma(theta + y) - log Gamma(theta) - log y! + theta log theta + y log mu
    - (theta + y) log(theta + mu)``, as ``dnbinom(y, size = theta, mu = mu, log = TRUE)``;
    evaluated as ``[log Gamma(theta + y) - log Gamma(theta) - y log theta] - log y!
    + y log mu - (theta + y) log1p(mu / theta)`` (see :func:`_gamma_ratio`), which stays
    accurate as ``theta`` grows towards the Poisson limit.
    """
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.asarray(
            _gamma_ratio(y, theta)[0]
            - special.gammaln(y + 1)
            + special.xlogy(y, mu)
            - (theta + y) * np.log1p(mu / theta)
        )


def nb_loglik(y: np.ndarray, mu: np.ndarray, theta: float, w: np.ndarray) -> float:
    """Negative binomial log-likelihood (size ``theta``), weighted."""
    return float(np.sum(w * nb_loglik_rows(y, mu, theta)))


@dataclass(frozen=True)
class NB2Parts:
    """Derivatives in ``eta`` of the NB2 log-likelihood with log link, row by row.

    ``loglik``: log-probabilities (:func:`nb_loglik_rows`); ``score``: ``d loglik /
    d eta = theta (y - mu) / (theta + mu)``; ``weight``: the expected (Fisher, IRLS)
    weight ``mu^2 / V(mu) = theta mu / (theta + mu)`` of :func:`.glm.unit_weights`;
    ``observed``: ``-d score / d eta = theta mu (theta + y) / (theta + mu)^2``;
    ``weight_deriv``: ``d weight / d eta = theta^2 mu / (theta + mu)^2``.
    """

    mu: np.ndarray
    loglik: np.ndarray
    score: np.ndarray
    weight: np.ndarray
    observed: np.ndarray
    weight_deriv: np.ndarray


def nb2_log_parts(y: np.ndarray, eta: np.ndarray, theta: float) -> NB2Parts:
    """The NB2 log-link family at ``eta`` (one definition for every NB model).

    The working and score weights are those of the IRLS fitter (:func:`.glm.unit_weights`
    with ``family='negative_binomial'``, as ``fit_regression`` uses); the observed
    information and the derivative of the working weight are what the Laplace
    approximation of a negative binomial GLMM needs in addition.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        mu = np.exp(eta)
        ww, sw = unit_weights(eta, "negative_binomial", "log", theta)
        tm = theta + mu
        return NB2Parts(
            mu=mu,
            loglik=nb_loglik_rows(y, mu, theta),
            score=sw * (y - mu),
            weight=ww,
            observed=theta * mu * (theta + y) / tm**2,
            weight_deriv=theta**2 * mu / tm**2,
        )


def nb2_theta_derivs(
    y: np.ndarray, mu: np.ndarray, theta: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Derivatives in ``theta`` at fixed ``mu``: of the log-likelihood, score and weight.

    ``d loglik / d theta = psi(theta + y) - psi(theta) + log theta + 1 - log(theta + mu)
    - (theta + y) / (theta + mu)`` (the summand of MASS's ``theta.ml`` score),
    ``d score / d theta = mu (y - mu) / (theta + mu)^2`` and
    ``d weight / d theta = mu^2 / (theta + mu)^2``.
    """
    tm = theta + mu
    # log theta + 1 - log(theta + mu) - (theta + y) / (theta + mu), without cancellation
    dll = _gamma_ratio(y, theta)[1] - np.log1p(mu / theta) + (mu - y) / tm
    return np.asarray(dll), mu * (y - mu) / tm**2, mu**2 / tm**2


def _fit_negative_binomial(
    y: np.ndarray, X: np.ndarray, w: np.ndarray, link: str, offset: np.ndarray | None
) -> tuple[GLMFit, float, float, bool, int, list[str]]:
    """MASS::glm.nb's estimates: a Poisson start, then scoring for beta and Newton for theta.

    The maximum-likelihood point is the one ``glm.nb`` reaches by alternating full IRLS
    fits at fixed theta with full Newton fits for theta. Here each round takes a single
    scoring step for beta at the current theta and then re-estimates theta from the new
    means; the rounds stop when the beta step meets the IRLS rule of :mod:`.glm` and
    theta changes by less than 1e-10 relatively, and a last IRLS fit at the final theta
    gives the reported fit. (The cross information of beta and theta is zero in
    expectation for the NB2 model, so single alternating steps converge about as fast
    as full fits.) Returns the final fit, theta and its SE, whether the alternation
    converged, the rounds taken and notes for ``glance()['message']``.
    """
    notes: list[str] = []
    converged = True
    res = fit_glm(X, y, w, family="poisson", link="log", offset=offset, tol=_NB_START_TOL)
    table = _count_table(y, w)
    theta, theta_se, ok = theta_ml(y, res.mu, w, table=table)
    n_iter = 0
    for n_iter in range(1, _NB_MAX_ROUNDS + 1):  # noqa: B007 - the count is reported
        if not ok:
            break
        res = fit_glm(
            X,
            y,
            w,
            family="negative_binomial",
            link=link,
            theta=theta,
            start=res.beta,
            offset=offset,
            max_iter=1,
        )
        th_new, theta_se, ok = theta_ml(y, res.mu, w, theta, table)
        done = res.converged and abs(th_new - theta) <= 1e-10 * th_new
        theta = th_new
        if done:
            break
    else:
        converged = False
        notes.append(f"alternating estimation of theta did not converge in {_NB_MAX_ROUNDS} rounds")
    if not ok:
        converged = False
        notes.append(
            f"theta estimation did not converge (theta reached {theta:.3g}; the counts show "
            "no overdispersion, so theta may be infinite: use family='poisson')"
        )
    res = fit_glm(
        X, y, w, family="negative_binomial", link=link, theta=theta, start=res.beta, offset=offset
    )
    return res, float(theta), float(theta_se), converged, n_iter, notes


def _fit_gaussian(
    y: np.ndarray, X: np.ndarray, w: np.ndarray, offset: np.ndarray | None
) -> tuple[GLMFit, np.ndarray]:
    """Weighted least squares directly: one ``X'WX``, a solve and one refinement step.

    The same arithmetic as the first two IRLS steps of :func:`.glm.fit_glm` for the
    gaussian identity model (the second is an iterative-refinement step that recovers
    the digits the normal equations lose on ill-conditioned designs), without a second
    cross-product matrix. Returns the fit and ``X'WX`` (the information).
    """
    yo = y if offset is None else y - offset
    if np.all(w == 1.0):
        info = X.T @ X
    else:
        xw = X * w[:, None]
        info = xw.T @ X
        del xw
    beta, ok = solve_batched(info[None], (X.T @ (w * yo))[None])
    step, ok2 = solve_batched(info[None], (X.T @ (w * (yo - X @ beta[0])))[None])
    beta = beta[0] + step[0]
    if not (ok[0] and ok2[0]):
        beta = np.full(X.shape[1], np.nan)
    eta = X @ beta + (0.0 if offset is None else offset)
    fit = GLMFit(beta=beta, eta=eta, mu=eta, converged=True, n_iter=2, n_boundary=0)
    return fit, info


def _likelihood_summary(
    family: str,
    y: np.ndarray,
    eta: np.ndarray,
    w: np.ndarray,
    k: int,
    link: str,
    theta: float | None,
) -> tuple[float, float, int, dict[str, float]]:
    """Scale, log-likelihood, parameters counted by AIC/BIC and extras of a GLM fit."""
    with np.errstate(over="ignore", under="ignore"):
        mu = link_inverse(eta, link)
    resid = y - mu
    pos = w > 0
    n = int(pos.sum())
    df_resid = n - k
    if family == "gaussian":
        rss = float(np.sum(w * resid**2))
        scale = rss / df_resid if df_resid > 0 else np.nan
        with np.errstate(divide="ignore"):  # rss = 0: an exact fit, loglik = inf as in R
            loglik = -0.5 * n * (np.log(2 * np.pi * rss / n) + 1)
        loglik += 0.5 * float(np.sum(np.log(w[pos])))
        return scale, loglik, k + 1, {"scale": scale}
    if family == "fractional_logit":
        var = mu * link_inverse(-eta, link)
        pearson = float(np.sum(w * resid**2 / var))
        scale = pearson / df_resid if df_resid > 0 else np.nan
        return scale, np.nan, k, {"scale": scale}
    if family == "binomial":
        loglik = float(np.sum(w * (special.xlogy(y, mu) + special.xlogy(1 - y, 1 - mu))))
        return 1.0, loglik, k, {}
    if family == "poisson":
        loglik = float(np.sum(w * (special.xlogy(y, mu) - mu - special.gammaln(y + 1))))
        return 1.0, loglik, k, {}
    return 1.0, nb_loglik(y, mu, float(theta), w), k + 1, {}  # type: ignore[arg-type]


def fit_glm_family(
    y: np.ndarray,
    X: np.ndarray,
    w: np.ndarray,
    family: str,
    link: str,
    names: list[str],
    offset: np.ndarray | None = None,
) -> Fit:
    """Fit a GLM-type family by :func:`.glm.fit_glm` (NB: :func:`_fit_negative_binomial`).

    Separation is detected by :func:`.glm.boundary_rows` (``Fit.n_boundary``) and
    handled by the caller.
    """
    theta: float | None = None
    extras: dict[str, float] = {}
    XtWX = None
    notes: list[str]
    if family == "gaussian" and link == "identity":
        res, XtWX = _fit_gaussian(y, X, w, offset)
        converged, n_iter, notes = True, res.n_iter, []
    elif family == "negative_binomial":
        res, theta, theta_se, converged, n_iter, notes = _fit_negative_binomial(
            y, X, w, link, offset
        )
        extras = {"theta": theta, "theta_se": theta_se}
    else:
        res = fit_glm(X, y, w, family=family, link=link, offset=offset)
        converged, n_iter, notes = True, res.n_iter, []
    if not res.converged:
        notes.append(f"IRLS did not converge in {MAX_ITER} iterations")
    beta = np.asarray(res.beta, dtype=float)
    if not np.all(np.isfinite(beta)):
        causes = "separation, extreme values" if family == "binomial" else "extreme values"
        raise ConvergenceError(
            f"The {family} model produced non-finite estimates; check for {causes} or "
            "(nearly) collinear predictors."
        )
    eta = res.eta
    if XtWX is None:
        XtWX = information(X, eta, w, family=family, link=link, theta=theta)
    try:
        bread = np.linalg.inv(XtWX)
    except np.linalg.LinAlgError:
        raise EstimationError(
            f"The information matrix of the {family} model is singular; the predictors "
            "may be collinear or a category may predict the outcome perfectly."
        ) from None
    with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
        resid = y - link_inverse(eta, link)
        ww, sw = unit_weights(eta, family, link, theta)
    k = X.shape[1]
    scale, loglik, n_ic, more = _likelihood_summary(family, y, eta, w, k, link, theta)

    def predictor(mats: dict[str, np.ndarray], params: np.ndarray, kind: str) -> np.ndarray:
        e = mats["X"] @ params[:k] + mats.get("offset", 0.0)
        return e if kind == "link" else link_inverse(e, link)

    return Fit(
        params=beta,
        names=list(names),
        n_coef=k,
        bread=bread,
        scores=(w * resid * sw)[:, None] * X,
        hat=None,
        hat_of=lambda: w * ww * np.sum((X @ bread) * X, axis=1),
        scale=float(scale),
        loglik=float(loglik),
        deviance=deviance(y, eta, w, family=family, link=link, theta=theta),
        n_params_ic=n_ic,
        converged=converged and res.converged,
        n_iter=int(n_iter),
        message="; ".join(dict.fromkeys(notes)),
        extras={**extras, **more},
        predictor=predictor,
        n_boundary=res.n_boundary,
    )


def binary_outcome(
    y: pd.Series, argument: str, event_level: Any = None
) -> tuple[np.ndarray, str | None]:
    """Code a binary outcome 0/1; two labelled levels map to 0 (first) / 1 (second).

    ``event_level`` names the level coded 1 (the event) instead; the second value returned
    is the event level of a labelled outcome (or of an explicit ``event_level``), None for
    an outcome already coded 0/1 or boolean.
    """
    if event_level is not None:
        return _binary_with_event(y, argument, event_level)
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


def _binary_with_event(y: pd.Series, argument: str, event_level: Any) -> tuple[np.ndarray, str]:
    """0/1 coding with ``event_level`` as 1; the outcome must have exactly two values."""
    present = list(pd.unique(y))
    if len(present) != 2:
        raise DataValidationError(
            f"`{argument}`: a binomial outcome ('{y.name}') needs exactly two levels; found "
            f"{len(present)}."
        )
    matches = [v for v in present if v == event_level or str(v) == str(event_level)]
    if not matches:
        shown = sorted(map(str, present))
        raise DataValidationError(
            f"`event_level` {event_level!r} is not a value of the outcome ('{y.name}'); its "
            f"values are {shown}."
        )
    return (y == matches[0]).to_numpy(dtype=float), str(matches[0])


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
    mask = (arr < 0) | (arr != np.round(arr))
    bad = int(np.sum(mask))
    if bad:
        raise DataValidationError(
            f"`{argument}`: the {family} outcome ('{y.name}') must hold non-negative whole "
            f"numbers; {bad} values do not ({index_labels(y.index, mask)})."
        )
    return arr


def index_labels(index: pd.Index, mask: np.ndarray, limit: int = 5) -> str:
    """'index labels 3, 17 and 4 more' for messages: where the rows are, not their values."""
    shown = [str(v) for v in index[np.asarray(mask, dtype=bool)][:limit]]
    extra = int(np.sum(mask)) - len(shown)
    return "index labels " + ", ".join(shown) + (f" and {extra} more" if extra > 0 else "")
