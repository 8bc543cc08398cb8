"""Linear mixed models (random intercepts and slopes) by REML or ML.

Rows are deleted listwise across every model column and the deletion is reported.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg

from ..._validation import (
    MissingReport,
    check_data_first,
    check_dataframe,
    check_option,
    check_positive_int,
    renamed,
)
from ...errors import (
    ArgumentTypeError,
    ConvergenceWarning,
    DataWarning,
    OptionError,
)
from .._core.design import Design
from . import _glmm_engine as ge
from . import _mixed_engine as eng
from ._glmm_fit import fit_glmm
from ._mixed_data import check_identifiable, glmm_outcome, mixed_data, resolve_random_terms
from ._mixed_multi import (
    block_cov,
    fit_multi,
    long_ranef,
    make_term,
    warn_fit,
)
from ._mixed_result import MIXED_GLANCE_COLUMNS, MixedResult
from ._mixed_terms import TermBlock, check_nesting, check_term_sizes

__all__ = ["fit_mixed", "MixedResult", "MIXED_GLANCE_COLUMNS"]

FAMILIES: tuple[str, ...] = ("gaussian", "binomial", "poisson", "negative_binomial")
#: Largest |fixed effect| on the link scale before separation is suspected.
SEPARATION_BETA = 15.0
#: A diagonal element of the relative covariance factor Lambda(theta) below this is at
#: the boundary (lme4's ``isSingular`` default tolerance).
SINGULAR_TOL = 1e-4


@renamed(groups="id", maxiter="max_iter")
def fit_mixed(
    data: pd.DataFrame,
    formula: str,
    *,
    id: str | None = None,
    re_formula: str | None = None,
    family: str = "gaussian",
    reml: bool = True,
    offset: str | None = None,
    trials: str | None = None,
    n_agq: int = 1,
    max_iter: int = 2000,
) -> MixedResult:
    """Fit a linear or generalised linear mixed model (random intercepts and slopes).

    Parameters
    ----------
    data : pandas.DataFrame
        Long data. Not modified.
    formula : str
        Model formula with an lme4-style random-effect term, e.g.
        ``"pda ~ C(arm) * month + (1 + month | id)"``, or a fixed-effects formula with
        ``id``/``re_formula``. Several terms are allowed: nested
        (``(1 | site/id)``, i.e. ``(1 | site) + (1 | site:id)``), interaction grouping
        factors (``(1 | id:interval)``) and crossed factors (``(1 | id) + (1 | item)``),
        each with its own slopes; uncorrelated ``||`` terms raise :class:`OptionError`.
        Binomial outcomes may be 0/1 or ``cbind(successes, failures)``.
    id : str, optional
        Person column: the grouping of the random effects (lme4's ``(1 | id)``) when the
        formula has no random-effect term.
    re_formula : str, optional
        Random-effects formula: ``"~ 1"`` (default, random intercept) or ``"~ month"``
        (correlated random intercept and slope), as lme4's ``(month | id)``.
    family : {"gaussian", "binomial", "poisson", "negative_binomial"}
        Outcome family; links identity, logit, log and log. ``"negative_binomial"`` is
        NB2 (``Var(y | b) = mu + mu^2 / theta``) with ``theta`` estimated by maximum
        likelihood, as lme4's ``glmer.nb``.
    reml : bool
        REML (default) or maximum likelihood (needed to compare fixed effects by LR
        tests); gaussian only (GLMMs are fitted by maximum likelihood).
    offset : str, optional
        Column added to the linear predictor (e.g. log exposure days); GLMMs only.
    trials : str, optional
        Binomial models: the column holding the number of trials of each row, the
        outcome then being the number of successes (whole numbers, ``0 <= successes <=
        trials``, trials positive). The same model as ``cbind(successes, failures)`` and
        as lme4's ``glmer(successes / trials ~ ..., weights = trials)``.
    n_agq : int
        1 (default): Laplace approximation; more: adaptive Gauss-Hermite quadrature with
        that many nodes, for a single scalar random effect (one term, random intercept
        only, as ``glmer(nAGQ = )``).
    max_iter : int
        Maximum optimiser iterations.

    Returns
    -------
    MixedResult
        ``tidy()`` holds the fixed effects (Wald z intervals);
        ``variance_components()`` the random-effect variances and correlations.

    Raises
    ------
    ColumnNotFoundError
        A formula or ``id`` column is not in ``data``.
    DataValidationError
        A grouping factor with a single level, a non-numeric outcome, counts (Poisson,
        negative binomial) that are negative or not whole numbers, or a term with as many
        levels or random effects as rows (fewer for GLMMs; lme4's ``check.nobs.vs.nlev``
        and ``check.nobs.vs.nRE``).
    OptionError
        ``n_agq > 1`` with several terms or random slopes; unsupported term syntax; a
        negative binomial model with several terms; ``trials`` with a family other than
        binomial.
    EstimationError
        No rows left after listwise deletion.

    Warns
    -----
    ConvergenceWarning
        The optimiser failed or the information matrix is not positive definite; or, for
        the negative binomial, ``theta`` runs to infinity (the counts show no
        overdispersion beyond the random effects: use ``family='poisson'``). The result
        has ``converged=False`` and the reason in ``glance()['message']``.
    DataWarning
        A singular fit (a random-effect variance estimated at zero).

    Notes
    -----
    Binomial and Poisson models: ``g(E[y_i | b]) = offset + X_i beta + Z_i b_i`` with
    ``b_i = Lambda u_i``, ``u_i ~ N(0, I)``; the Laplace (or adaptive Gauss-Hermite)
    deviance, with conditional modes found by penalised IRLS, is minimised jointly over
    ``(theta, beta)`` as lme4's ``glmer`` does (L-BFGS-B with the exact gradient of the
    Laplace deviance), and the fixed-effect covariance is twice the inverse
    finite-difference Hessian of the deviance (``vcov(glmer)``). Validated
    against lme4 1.1.31 ``glmer`` (tests/reference/glmm_lme4.R: cbpp, grouseticks;
    Laplace, nAGQ = 10, random slopes). The log-likelihood is the full one; lme4's
    ``logLik`` for ``nAGQ > 1`` omits the saturated model's log-likelihood.

    Negative binomial models (``y | b ~ NB(mu, theta)``, ``log mu = offset + X beta +
    Z b``): the Laplace (or quadrature) log-likelihood is maximised over
    ``(theta_re, beta, log theta)``. ``glmer.nb`` (lme4 1.1.31) fits a Poisson GLMM,
    starts ``theta`` at MASS's ``theta.ml`` on its conditional means, and then maximises
    the profile log-likelihood of ``theta`` (``optimize`` over ``log theta``, a full
    ``glmer`` refit at each value). Here the same start is used, and the same
    log-likelihood is maximised jointly -- L-BFGS-B with its exact gradient, ``log
    theta`` included -- which reaches the maximiser of the profile without nested
    refits (the maximum of the profile is the joint maximum). Alternating ``theta.ml``
    on the conditional means with refits at fixed ``theta`` does not reach it: the
    Laplace log-determinant depends on ``theta`` too. PIRLS takes Newton steps with the
    observed information and the Laplace log-determinant uses the IRLS (expected)
    weights, as lme4's. The fixed-effect covariance is that of the final fit at the
    estimated ``theta`` held fixed (``vcov(glmer.nb)``); ``theta`` itself gets no
    standard error, as ``glmer.nb`` reports none. ``theta`` is in ``glance()`` and
    :attr:`MixedResult.nb_theta`; AIC and BIC count it as a parameter (as lme4).
    Validated against lme4 1.1.31 ``glmer.nb`` (tests/reference/glmm_nb_lme4.R:
    grouseticks and ``MASS::epil``, Laplace; ``n_agq = 10``). With ``n_agq > 1``
    ``glmer.nb`` maximises lme4's quadrature ``logLik``, which omits the saturated
    log-likelihood -- a term that depends on ``theta`` -- and so lands far from the
    maximum (``theta`` 0.29 instead of 3.28 on grouseticks, 127 log-likelihood units
    lower); this function maximises the full quadrature log-likelihood, checked against
    the same profile in R with the saturated term restored.

    Gaussian models: ``y_i = X_i beta + Z_i b_i + e_i``, ``b_i ~ N(0, Psi)``, ``e_i ~ N(0, sigma^2 I)``,
    with ``Psi = sigma^2 Lambda Lambda'`` and ``Lambda`` lower triangular with parameters
    ``theta``. As lme4 (Bates et al. 2015), ``beta``, the spherical random effects and
    ``sigma`` are profiled out by a penalised least-squares solve at each ``theta``, and
    the profiled REML (or ML) deviance is minimised over ``theta`` alone (L-BFGS-B with the
    analytic gradient, diagonal of ``Lambda`` bounded at zero). The per-group algebra is
    batched over groups from sufficient statistics, so the cost of an evaluation does not
    grow with the number of rows. The fixed-effect covariance is
    ``sigma^2 (X' V^-1 X)^-1`` at the estimates, as ``vcov(lmer)``. Validated against R
    lme4 1.1.31 ``lmer`` with bobyqa at ``rhoend = 1e-12`` (tests/reference/mixed.R):
    fixed effects, SEs, variance components and (RE)ML log-likelihood agree to ``1e-6``
    relative. Singular fits follow lme4's ``isSingular`` rule (a diagonal element of
    ``Lambda`` below ``1e-4``), per term (:attr:`MixedResult.singular_terms`).

    Several random-effect terms: ``Lambda`` is block diagonal (one lower-triangular
    factor per term, repeated over its levels) and ``Z`` sparse, with terms in lme4's
    order (decreasing number of levels). A single grouping factor, an interaction factor
    included, uses the batched per-group path above. With several factors the penalised
    system ``Lambda'Z'W Z Lambda + I = L L'`` couples them: it is factorised by LAPACK's
    dense Cholesky up to 1,000 random effects in all and by scipy's SuperLU sparse LU
    (log-determinant from the diagonal of ``U``) above (:mod:`._mixed_sparse`); the
    profiled deviance is minimised by L-BFGS-B with central-difference gradients (linear
    models) and the Laplace deviance with its exact gradient (GLMMs;
    :mod:`._glmm_multi`). Validated against lme4 1.1.31 (tests/reference/mixed_multi.R):
    ``Penicillin`` (crossed), ``Pastes`` (nested), ``cake`` (interaction factor),
    ``nlme::Pixel`` (nested with a random slope), REML and ML, to ``1e-6``; ``VerbAgg``
    (crossed binary, Laplace) to ``1e-5``.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. *Journal of Statistical Software*, 67(1), 1-48.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(50), 4), "month": np.tile([0, 3, 6, 9], 50)})
    >>> person = np.repeat(rng.normal(0, 1, 50), 4)
    >>> df["y"] = 1 + 0.1 * df["month"] + person + rng.normal(0, 0.5, 200)
    >>> res = fit_mixed(df, "y ~ month", id="id")
    >>> res.glance()[["method", "n_groups", "converged"]]
      method  n_groups  converged
    0   REML        50       True
    >>> round(float(res.coef()["month"]), 2)
    0.1

    Meetings attended per month, overdispersed counts (in R:
    ``glmer.nb(meetings ~ month + (1 | id), data = df)``):

    >>> mu = np.exp(1.0 - 0.05 * df["month"] + 0.5 * person)
    >>> df["meetings"] = rng.negative_binomial(3.0, 3.0 / (3.0 + mu))
    >>> nb = fit_mixed(df, "meetings ~ month + (1 | id)", family="negative_binomial")
    >>> nb.glance()[["method", "converged"]]
        method  converged
    0  Laplace       True
    >>> nb.tidy(exponentiate=True).loc[1, "term"]  # the rate ratio per month
    'month'

    Successes out of a number of trials (``trials=``; as ``cbind(k, n - k)``):

    >>> df["n"] = 5
    >>> df["k"] = rng.binomial(5, 1 / (1 + np.exp(-(0.2 + 0.8 * person))))
    >>> fit_mixed(df, "k ~ month + (1 | id)", family="binomial", trials="n").nobs
    200
    """
    check_data_first(data, formula, "fit_mixed")
    data = check_dataframe(data)
    if not isinstance(reml, (bool, np.bool_)):
        raise ArgumentTypeError(f"`reml` must be True or False; got {reml!r}.")
    max_iter = check_positive_int(max_iter, "max_iter")
    family = check_option(family, FAMILIES, "family")
    n_agq = check_positive_int(n_agq, "n_agq")
    formula, re_terms = resolve_random_terms(formula, id, re_formula)
    if trials is not None and family != "binomial":
        raise OptionError(
            f"`trials` ({trials!r}) applies to family='binomial' only; got family={family!r}."
        )
    if family == "gaussian" and (offset is not None or n_agq != 1):
        raise OptionError(
            "`offset` and `n_agq` apply to family='binomial', 'poisson' or "
            "'negative_binomial' only; got "
            f"family='gaussian' with offset={offset!r}, n_agq={n_agq}."
        )
    clean, report, y, X, design, blocks = mixed_data(data, formula, re_terms, offset, trials)
    check_term_sizes(blocks, len(clean), family == "gaussian")
    check_nesting(blocks, clean)
    if len(blocks) > 1:
        if family == "negative_binomial":
            raise OptionError(
                "`family`: 'negative_binomial' mixed models take one random-effect term "
                f"(one grouping factor); got {len(blocks)} terms. Use family='poisson' "
                "with an observation-level random intercept for overdispersed counts."
            )
        return _fit_multi_result(
            clean, report, y, X, design, blocks, formula=formula, family=family,
            reml=bool(reml), offset=offset, trials=trials, n_agq=n_agq, max_iter=max_iter,
        )  # fmt: skip
    b = blocks[0]
    id, codes, Z, re_design, re_rhs = b.term.group, b.codes, b.Z, b.design, b.term.expr
    if family != "gaussian":
        return _fit_glmm_result(
            clean, report, codes, y, X, design, Z, re_design, re_rhs,
            formula=formula, id=id, family=family, offset=offset, trials=trials,
            n_agq=n_agq, max_iter=max_iter, block=b,
        )  # fmt: skip
    return _fit_lmm_result(
        clean, report, codes, y, X, design, Z, re_design, re_rhs,
        formula=formula, id=id, reml=bool(reml), max_iter=max_iter, block=b,
    )  # fmt: skip


def _fit_lmm_result(
    clean: pd.DataFrame, report: MissingReport, codes: np.ndarray, y: Any, X: np.ndarray,
    design: Design, Z: np.ndarray, re_design: Design, re_rhs: str, *, formula: str, id: str,
    reml: bool, max_iter: int, block: TermBlock,
) -> MixedResult:  # fmt: skip
    """Fit a linear mixed model by the profiled (RE)ML engine; a :class:`MixedResult`."""
    n_groups = int(codes.max()) + 1
    yv = y.to_numpy(dtype=float)
    st = eng.group_stats(codes, X, Z, yv, n_groups)
    check_identifiable(st, n_groups, id, yv)
    theta, converged, opt_msg, _ = eng.optimise_theta(st, reml, max_iter)
    fit = eng.pls(theta, st, reml, gradient=False)
    n, p, q = st.n, st.p, st.q
    sigma2 = fit.r2 / (n - p if reml else n)
    lam = eng.make_lambda(theta, q)
    psi = sigma2 * lam @ lam.T
    singular = bool(np.any(np.diag(lam) < SINGULAR_TOL))
    msgs = [] if converged else [f"optimiser: {opt_msg}"]
    if singular:
        msgs.append("singular fit: a random-effect variance is estimated at (nearly) zero")
    message = "; ".join(msgs)
    if not converged:
        warnings.warn(
            f"The mixed model did not converge ({message}); see glance()['message']. "
            "Simplify the random effects, rescale predictors or raise `max_iter`.",
            ConvergenceWarning,
            stacklevel=3,
        )
    elif singular:
        warnings.warn(
            "Singular fit: a random-effect variance is estimated at zero; consider dropping "
            "that random effect.",
            DataWarning,
            stacklevel=3,
        )
    vcov = sigma2 * linalg.inv(fit.RXtRX)
    loglik = -0.5 * fit.deviance
    names = list(design.columns)
    re_names = list(re_design.columns)
    term = make_term(block, lam, sigma2, fit.u)
    ranef = term.ranef
    return MixedResult(
        formula=formula,
        id=id,
        re_formula=f"~ {re_rhs}",
        reml=bool(reml),
        _params=pd.Series(fit.beta, index=names, name="estimate"),
        _cov=pd.DataFrame(vcov, index=names, columns=names),
        cov_re=pd.DataFrame(psi, index=re_names, columns=re_names),
        sigma2=float(sigma2),
        loglik=float(loglik),
        missing=report,
        n_groups=n_groups,
        converged=converged,
        singular=singular,
        message=message,
        theta=tuple(float(t) for t in theta),
        ranef=ranef,
        family="gaussian",
        n_agq=1,
        offset=None,
        _design=design,
        _re_design=re_design,
        re_terms=(term,),
    )


def _fit_glmm_result(
    clean: pd.DataFrame, report: MissingReport, codes: np.ndarray, y: Any, X: np.ndarray,
    design: Design, Z: np.ndarray, re_design: Design, re_rhs: str, *, formula: str, id: str,
    family: str, offset: str | None, trials: str | None, n_agq: int, max_iter: int,
    block: TermBlock,
) -> MixedResult:  # fmt: skip
    """Fit a binomial, Poisson or negative binomial GLMM as a :class:`MixedResult`."""
    off = np.zeros(len(clean)) if offset is None else clean[offset].to_numpy(dtype=float)
    k, m = glmm_outcome(y, family, off, None if trials is None else clean[trials])
    q = Z.shape[1]
    if n_agq > 1 and q != 1:
        raise OptionError(
            f"`n_agq` = {n_agq} needs a single scalar random effect (random intercept); "
            f"the model has {q} random effects per group. Use n_agq=1 (Laplace)."
        )
    n_groups = int(codes.max()) + 1
    d = ge.GLMMData(family, k, m, X, Z, codes, n_groups, off)
    fit = fit_glmm(d, n_agq, max_iter)
    lam = eng.make_lambda(fit.theta, q)
    singular = bool(np.any(np.diag(lam) < SINGULAR_TOL))
    msgs = [] if fit.converged else [f"optimiser: {fit.message}"]
    if np.max(np.abs(fit.beta)) > SEPARATION_BETA:
        msgs.append("a fixed effect exceeds 15 on the link scale: (quasi-)separation likely")
    no_overdispersion = fit.nb_theta_infinite
    if no_overdispersion:
        msgs.append(
            f"theta runs to infinity (reached {fit.nb_theta:.3g}): the counts show no "
            "overdispersion beyond the random effects; use family='poisson'"
        )
    if singular:
        msgs.append("singular fit: a random-effect variance is estimated at (nearly) zero")
    if not fit.hessian_used:
        msgs.append("SEs conditional on the variance parameters (Hessian not positive definite)")
    converged = fit.converged and np.max(np.abs(fit.beta)) <= SEPARATION_BETA
    converged = converged and not no_overdispersion
    message = "; ".join(msgs)
    if not converged:
        warnings.warn(
            f"The mixed model did not converge ({message}).", ConvergenceWarning, stacklevel=3
        )
    elif singular:
        warnings.warn(f"Singular fit ({message}).", DataWarning, stacklevel=3)
    names, re_names = list(design.columns), list(re_design.columns)
    term = make_term(block, lam, 1.0, fit.u)
    return MixedResult(
        formula=formula, id=id, re_formula=f"~ {re_rhs}", reml=False,
        _params=pd.Series(fit.beta, index=names, name="estimate"),
        _cov=pd.DataFrame(fit.vcov, index=names, columns=names),
        cov_re=pd.DataFrame(lam @ lam.T, index=re_names, columns=re_names),
        sigma2=1.0, loglik=-0.5 * fit.deviance, missing=report, n_groups=n_groups,
        converged=bool(converged), singular=singular, message=message,
        theta=tuple(float(t) for t in fit.theta),
        ranef=term.ranef, family=family, n_agq=n_agq, offset=offset, _design=design,
        _re_design=re_design, re_terms=(term,), nb_theta=fit.nb_theta, trials=trials,
    )  # fmt: skip


def _fit_multi_result(
    clean: pd.DataFrame, report: MissingReport, y: Any, X: np.ndarray, design: Design,
    blocks: list[TermBlock], *, formula: str, family: str, reml: bool, offset: str | None,
    trials: str | None, n_agq: int, max_iter: int,
) -> MixedResult:  # fmt: skip
    """Fit a model with several random-effect terms (nested, crossed); a :class:`MixedResult`."""
    off = np.zeros(len(clean)) if offset is None else clean[offset].to_numpy(dtype=float)
    outcome = (
        None
        if family == "gaussian"
        else glmm_outcome(y, family, off, None if trials is None else clean[trials])
    )
    f = fit_multi(
        blocks, X, y, family=family, reml=reml, off=off, n_agq=n_agq, max_iter=max_iter,
        glmm_outcome=outcome,
    )  # fmt: skip
    warn_fit(f["converged"], f["singular_terms"], f["message"])
    names = list(design.columns)
    terms = f["re_terms"]
    return MixedResult(
        formula=formula, id=" + ".join(t.group for t in terms),
        re_formula=" + ".join(f"({t.re_formula[2:]} | {t.group})" for t in terms),
        reml=bool(reml) if family == "gaussian" else False,
        _params=pd.Series(f["beta"], index=names, name="estimate"),
        _cov=pd.DataFrame(f["vcov"], index=names, columns=names),
        cov_re=block_cov(terms), sigma2=f["sigma2"], loglik=f["loglik"], missing=report,
        n_groups=max(t.n_levels for t in terms), converged=f["converged"],
        singular=f["singular"], message=f["message"],
        theta=tuple(float(t) for t in f["theta"]), ranef=long_ranef(terms), family=family,
        n_agq=n_agq, offset=offset, _design=design, _re_design=terms[0].design, re_terms=terms,
        trials=trials,
    )  # fmt: skip
