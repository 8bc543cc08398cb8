"""Linear mixed models (random intercepts and slopes) by REML or ML.

Rows are deleted listwise across every model column and the deletion is reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
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
    DataValidationError,
    DataWarning,
    OptionError,
)
from ...results import BaseResult, StoredCoefficients, glance_frame, wald_table
from .._core.design import Design
from . import _glmm_engine as ge
from . import _mixed_engine as eng
from ._glmm_fit import fit_glmm
from ._mixed_data import check_identifiable, glmm_outcome, mixed_data, resolve_random_terms
from ._mixed_multi import (
    RandomEffectTerm,
    block_cov,
    fit_multi,
    long_ranef,
    make_term,
    term_effects,
    warn_fit,
)
from ._mixed_terms import TermBlock, check_nesting, check_term_sizes

__all__ = ["fit_mixed", "MixedResult", "MIXED_GLANCE_COLUMNS"]

MIXED_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "n",
    "n_dropped",
    "n_groups",
    "loglik",
    "aic",
    "bic",
    "sigma",
    "converged",
    "singular",
    "message",
    "condition_number",
    "collinear",
)
FAMILIES: tuple[str, ...] = ("gaussian", "binomial", "poisson", "negative_binomial")
#: Largest |fixed effect| on the link scale before separation is suspected.
SEPARATION_BETA = 15.0
#: A diagonal element of the relative covariance factor Lambda(theta) below this is at
#: the boundary (lme4's ``isSingular`` default tolerance).
SINGULAR_TOL = 1e-4


@dataclass(frozen=True, repr=False, eq=False)
class MixedResult(StoredCoefficients, BaseResult):
    """A fitted linear mixed model (immutable).

    Attributes
    ----------
    formula, id, re_formula : str
        Model specification (``id``: the grouping factor of the random effects; with
        several terms the factors joined by ``" + "`` and ``re_formula`` the terms, e.g.
        ``"(1 | batch) + (1 | batch:cask)"``).
    reml : bool
        REML (True) or ML fit.
    cov_re : pandas.DataFrame
        Random-effects covariance matrix (with several terms block diagonal, labelled
        ``group|term``).
    sigma2 : float
        Residual variance.
    theta : tuple of float
        Relative covariance parameters (lme4's ``getME(fit, "theta")``): the lower
        triangle of Lambda, column by column, with ``cov_re = sigma2 Lambda Lambda'``.
    ranef : pandas.DataFrame
        Conditional modes of the random effects, one row per level of ``id``
        (lme4's ``ranef()``); with several terms a long frame with columns
        ``group, level, term, estimate`` (R ``as.data.frame(ranef())``), and
        :attr:`ranef_by_group` gives one wide frame per term.
    re_terms : tuple of RandomEffectTerm
        One entry per random-effect term, in lme4's order (decreasing number of levels):
        grouping factor, covariance matrix, conditional modes and singular-fit flag.
    missing : MissingReport
        Rows used and excluded.

    Notes
    -----
    Coefficient protocol: :meth:`coef` gives the fixed effects and :meth:`vcov` their
    covariance ``(X' V^{-1} X)^{-1}`` at the estimated variance components; :attr:`nobs`
    is the number of rows used and :attr:`df_resid` is None (Wald z intervals).
    """

    formula: str
    id: str
    re_formula: str
    reml: bool
    _params: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    cov_re: pd.DataFrame
    sigma2: float
    loglik: float
    missing: MissingReport
    n_groups: int
    converged: bool
    singular: bool
    message: str
    theta: tuple[float, ...]
    ranef: pd.DataFrame
    family: str
    n_agq: int
    offset: str | None
    _design: Design = field(repr=False)
    _re_design: Design = field(repr=False)
    re_terms: tuple[RandomEffectTerm, ...] = field(default=(), repr=False)

    @property
    def ranef_by_group(self) -> dict[str, pd.DataFrame]:
        """Conditional modes of each random-effect term, keyed by grouping factor.

        As lme4's ``ranef(fit)$site``: one row per level, one column per random effect.
        """
        return {t.group: t.ranef.copy() for t in self.re_terms}

    @property
    def singular_terms(self) -> tuple[str, ...]:
        """Grouping factors whose random-effect covariance is singular (per-term ``isSingular``)."""
        return tuple(t.group for t in self.re_terms if t.singular)

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        """Odds or rate ratios for binomial and Poisson models."""
        return self.family != "gaussian"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov.to_numpy()))
        return wald_table(self.terms, self._params.to_numpy(), se, conf_level)

    def predict(
        self,
        newdata: pd.DataFrame,
        *,
        level: str | list[str] = "marginal",
        scale: str = "response",
    ) -> pd.Series:
        """Predictions at a level of the random effects.

        ``level``: 'marginal' (random effects zero, lme4's ``re.form = NA``),
        'conditional' (all terms, ``re.form = NULL``), or the grouping factor of one term
        or a list of them (only those terms, e.g. ``"site"`` in a ``(1 | site/id)`` model
        is lme4's ``re.form = ~ (1 | site)``). Conditional modes are zero for levels not
        in the fit (lme4's ``allow.new.levels = TRUE``). ``scale`` 'response' (inverse
        link) or 'link'; identical for gaussian models.
        """
        check_dataframe(newdata, "newdata")
        groups = [t.group for t in self.re_terms]
        if isinstance(level, str) and level in ("marginal", "conditional"):
            chosen = [] if level == "marginal" else groups
        else:
            chosen = [level] if isinstance(level, str) else list(level)
            bad = [g for g in chosen if g not in groups]
            if bad or not chosen:
                raise OptionError(
                    f"`level` must be 'marginal', 'conditional' or grouping factors of the "
                    f"model {groups}; got {level!r}."
                )
        scale = check_option(scale, ("response", "link"), "scale")
        try:
            X = self._design.matrix(newdata)
            eta = X @ self._params.to_numpy()
            if self.offset is not None:
                eta = eta + newdata[self.offset].to_numpy(dtype=float)
            for t in self.re_terms:
                if t.group in chosen:
                    eta = eta + term_effects(t, newdata)
        except DataValidationError:
            raise
        except (KeyError, ValueError, TypeError) as exc:
            raise DataValidationError(f"`newdata` does not fit the model: {exc}") from None
        if scale == "response" and self.family == "binomial":
            eta = 1.0 / (1.0 + np.exp(-eta))
        elif scale == "response" and self.family == "poisson":
            eta = np.exp(eta)
        return pd.Series(eta, index=newdata.index, name="predicted")

    def variance_components(self) -> pd.DataFrame:
        """Variances, covariances, SDs and correlations of the random effects and residual.

        Columns ``group, term1, term2, variance, sd_or_corr`` (as R ``as.data.frame(VarCorr())``:
        ``term2`` empty for variances, ``sd_or_corr`` the SD or the correlation).
        """
        rows = []
        for t in self.re_terms:
            C = t.cov.to_numpy()
            names = list(t.cov.index)
            for i, a in enumerate(names):
                rows.append((t.group, a, "", C[i, i], np.sqrt(max(C[i, i], 0.0))))
            for i in range(len(names)):
                for j in range(i + 1, len(names)):
                    denom = np.sqrt(C[i, i] * C[j, j])
                    corr = C[i, j] / denom if denom > 0 else np.nan
                    rows.append((t.group, names[i], names[j], C[i, j], corr))
        if self.family == "gaussian":
            rows.append(("Residual", "", "", self.sigma2, np.sqrt(self.sigma2)))
        return pd.DataFrame(rows, columns=["group", "term1", "term2", "variance", "sd_or_corr"])

    def glance(self) -> pd.DataFrame:
        """One-row model summary with the fixed mixed-model columns.

        Columns ``method, n, n_dropped, n_groups, loglik, aic, bic, sigma, converged,
        singular, message, condition_number, collinear``; the last two are Belsley's scaled
        condition number of the fixed-effects design and whether it exceeds the threshold
        of :mod:`.._core.design` (``1e4``). ``loglik`` is the REML criterion's log-likelihood for REML fits
        (as R ``logLik(lmer)``).
        """
        k = len(self._params) + len(self.theta) + (self.family == "gaussian")
        if self.family == "gaussian":
            method = "REML" if self.reml else "ML"
        else:
            method = "Laplace" if self.n_agq == 1 else f"AGQ({self.n_agq})"
        return glance_frame(
            {
                "method": method,
                "n": self.nobs,
                "n_dropped": self.missing.n_dropped,
                "n_groups": self.n_groups,
                "loglik": self.loglik,
                "aic": -2 * self.loglik + 2 * k,
                "bic": -2 * self.loglik + np.log(self.nobs) * k,
                "sigma": float(np.sqrt(self.sigma2)) if self.family == "gaussian" else np.nan,
                "converged": bool(self.converged),
                "singular": bool(self.singular),
                "message": self.message,
                "condition_number": self._design.condition_number,
                "collinear": self._design.collinear,
            },
            MIXED_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        if self.family != "gaussian":
            how = "Laplace" if self.n_agq == 1 else f"adaptive Gauss-Hermite, {self.n_agq} nodes"
            return f"Generalised linear mixed model ({self.family}; {how}; groups: {self.id})"
        return f"Linear mixed model ({'REML' if self.reml else 'ML'}; groups: {self.id})"

    def _notes(self) -> list[str]:
        vc = self.variance_components()
        multi = len(self.re_terms) > 1

        def label(r: Any) -> str:
            return f"{r.group}: {r.term1}" if multi and r.term1 else r.term1 or r.group

        parts = [f"{label(r)} SD {r.sd_or_corr:.4g}" for r in vc.itertuples() if not r.term2]
        return [self.missing.describe(), "Random effects: " + "; ".join(parts) + "."]


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
    family : {"gaussian", "binomial", "poisson"}
        Outcome family (canonical links: identity, logit, log). ``"negative_binomial"``
        is reserved and raises :class:`OptionError` (not implemented yet).
    reml : bool
        REML (default) or maximum likelihood (needed to compare fixed effects by LR
        tests); gaussian only (GLMMs are fitted by maximum likelihood).
    offset : str, optional
        Column added to the linear predictor (e.g. log exposure days); GLMMs only.
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
        A grouping factor with a single level, a non-numeric outcome, or a term with as
        many levels or random effects as rows (fewer for GLMMs; lme4's
        ``check.nobs.vs.nlev`` and ``check.nobs.vs.nRE``).
    OptionError
        ``n_agq > 1`` with several terms or random slopes; unsupported term syntax.
    EstimationError
        No rows left after listwise deletion.

    Warns
    -----
    ConvergenceWarning
        The optimiser failed or the information matrix is not positive definite; the
        result has ``converged=False`` and the reason in ``glance()['message']``.
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
    """
    check_data_first(data, formula, "fit_mixed")
    data = check_dataframe(data)
    if not isinstance(reml, (bool, np.bool_)):
        raise ArgumentTypeError(f"`reml` must be True or False; got {reml!r}.")
    max_iter = check_positive_int(max_iter, "max_iter")
    family = check_option(family, FAMILIES, "family")
    n_agq = check_positive_int(n_agq, "n_agq")
    formula, re_terms = resolve_random_terms(formula, id, re_formula)
    if family == "negative_binomial":
        raise OptionError(
            "`family`: 'negative_binomial' mixed models (lme4's glmer.nb) are not "
            "implemented yet; use 'poisson' with an observation-level random intercept."
        )
    if family == "gaussian" and (offset is not None or n_agq != 1):
        raise OptionError(
            "`offset` and `n_agq` apply to family='binomial' or 'poisson' only; got "
            f"family='gaussian' with offset={offset!r}, n_agq={n_agq}."
        )
    clean, report, y, X, design, blocks = mixed_data(data, formula, re_terms, offset)
    check_term_sizes(blocks, len(clean), family == "gaussian")
    check_nesting(blocks, clean)
    if len(blocks) > 1:
        return _fit_multi_result(
            clean, report, y, X, design, blocks, formula=formula, family=family,
            reml=bool(reml), offset=offset, n_agq=n_agq, max_iter=max_iter,
        )  # fmt: skip
    b = blocks[0]
    id, codes, Z, re_design, re_rhs = b.term.group, b.codes, b.Z, b.design, b.term.expr
    if family != "gaussian":
        return _fit_glmm_result(
            clean, report, codes, y, X, design, Z, re_design, re_rhs,
            formula=formula, id=id, family=family, offset=offset, n_agq=n_agq,
            max_iter=max_iter, block=b,
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
    family: str, offset: str | None, n_agq: int, max_iter: int, block: TermBlock,
) -> MixedResult:  # fmt: skip
    """Fit a binomial or Poisson GLMM and wrap it as a :class:`MixedResult`."""
    off = np.zeros(len(clean)) if offset is None else clean[offset].to_numpy(dtype=float)
    k, m = glmm_outcome(y, family, off)
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
    if singular:
        msgs.append("singular fit: a random-effect variance is estimated at (nearly) zero")
    if not fit.hessian_used:
        msgs.append("SEs conditional on the variance parameters (Hessian not positive definite)")
    converged = fit.converged and np.max(np.abs(fit.beta)) <= SEPARATION_BETA
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
        _re_design=re_design, re_terms=(term,),
    )  # fmt: skip


def _fit_multi_result(
    clean: pd.DataFrame, report: MissingReport, y: Any, X: np.ndarray, design: Design,
    blocks: list[TermBlock], *, formula: str, family: str, reml: bool, offset: str | None,
    n_agq: int, max_iter: int,
) -> MixedResult:  # fmt: skip
    """Fit a model with several random-effect terms (nested, crossed); a :class:`MixedResult`."""
    off = np.zeros(len(clean)) if offset is None else clean[offset].to_numpy(dtype=float)
    outcome = None if family == "gaussian" else glmm_outcome(y, family, off)
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
    )  # fmt: skip
