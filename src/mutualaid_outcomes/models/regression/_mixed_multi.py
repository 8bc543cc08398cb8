"""Per-term results of ``fit_mixed`` and the fit with several random-effect terms.

:class:`RandomEffectTerm` holds one term's covariance matrix, conditional modes and
singular-fit flag; a :class:`.mixed.MixedResult` keeps one per term (one for a single
grouping factor). :func:`fit_multi` fits a model with several terms (nested, crossed)
through :mod:`._mixed_sparse` (linear) or :mod:`._glmm_multi` (GLMM, Laplace) and returns
the fields of the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ...errors import ConvergenceWarning, DataValidationError, DataWarning, OptionError
from .._core.design import Design
from . import _glmm_multi as gm
from . import _mixed_sparse as msp
from ._mixed_terms import ReStructure, TermBlock

__all__ = ["RandomEffectTerm", "make_term", "fit_multi", "term_effects", "warn_fit"]

#: A diagonal element of Lambda below this is at the boundary (lme4's ``isSingular``).
SINGULAR_TOL = 1e-4


@dataclass(frozen=True, eq=False)
class RandomEffectTerm:
    """One random-effect term of a fitted mixed model.

    Attributes
    ----------
    group : str
        Grouping factor (``"site:id"`` for an interaction or the inner level of ``site/id``).
    factors : tuple of str
        Its columns.
    re_formula : str
        The term's random-effects formula (``"~ 1 + time"``).
    cov : pandas.DataFrame
        Covariance matrix of the term's random effects.
    ranef : pandas.DataFrame
        Conditional modes, one row per level (a MultiIndex for interaction factors).
    singular : bool
        Whether a diagonal element of the term's ``Lambda`` is below ``1e-4`` (lme4's
        ``isSingular`` rule, per term).
    """

    group: str
    factors: tuple[str, ...]
    re_formula: str
    cov: pd.DataFrame
    ranef: pd.DataFrame
    singular: bool
    design: Design

    @property
    def n_levels(self) -> int:
        return len(self.ranef)


def make_term(block: TermBlock, lam: np.ndarray, scale: float, u: np.ndarray) -> RandomEffectTerm:
    """A :class:`RandomEffectTerm` from the term's ``Lambda``, ``sigma^2`` and modes (levels, q)."""
    names = list(block.design.columns)
    return RandomEffectTerm(
        group=block.term.group,
        factors=block.term.factors,
        re_formula=block.term.re_formula,
        cov=pd.DataFrame(scale * lam @ lam.T, index=names, columns=names),
        ranef=pd.DataFrame(u @ lam.T, index=block.levels, columns=names),
        singular=bool(np.any(np.diag(lam) < SINGULAR_TOL)),
        design=block.design,
    )


def term_effects(term: RandomEffectTerm, newdata: pd.DataFrame) -> np.ndarray:
    """``Z_t b_t`` on ``newdata``.

    Zero for levels not in the fit, as lme4's ``allow.new.levels = TRUE``.
    """
    missing = [c for c in term.factors if c not in newdata.columns]
    if missing:
        raise DataValidationError(
            f"`newdata` lacks the grouping column(s) {missing} of the random-effect term "
            f"of '{term.group}'; add them or predict at a level without that term."
        )
    Zn = term.design.matrix(newdata)
    if len(term.factors) == 1:
        keys: Any = newdata[term.factors[0]].to_numpy()
    else:
        keys = pd.MultiIndex.from_frame(newdata[list(term.factors)])
    b = term.ranef.reindex(keys).fillna(0.0).to_numpy()
    return np.asarray(np.sum(Zn * b, axis=1))


def warn_fit(converged: bool, singular: list[str], message: str) -> None:
    """The convergence or singular-fit warning of a fit."""
    import warnings

    if not converged:
        warnings.warn(
            f"The mixed model did not converge ({message}); see glance()['message']. "
            "Simplify the random effects, rescale predictors or raise `max_iter`.",
            ConvergenceWarning,
            stacklevel=4,
        )
    elif singular:
        warnings.warn(
            f"Singular fit: a random-effect variance of {singular} is estimated at zero; "
            "consider dropping that random effect.",
            DataWarning,
            stacklevel=4,
        )


def _messages(converged: bool, opt_msg: str, singular: list[str]) -> list[str]:
    msgs = [] if converged else [f"optimiser: {opt_msg}"]
    if singular:
        msgs.append(
            f"singular fit: a random-effect variance of {singular} is estimated at (nearly) zero"
        )
    return msgs


def fit_multi(
    blocks: list[TermBlock],
    X: np.ndarray,
    y: Any,
    *,
    family: str,
    reml: bool,
    off: np.ndarray | None,
    n_agq: int,
    max_iter: int,
    glmm_outcome: Any,
) -> dict[str, Any]:
    """Fit a model with several random-effect terms; the fields of a ``MixedResult``."""
    re = ReStructure(blocks)
    if family == "gaussian":
        yv = y.to_numpy(dtype=float)
        st = msp.MultiStats.build(re, X, yv)
        theta, converged, opt_msg = msp.optimise_theta_sparse(st, reml, max_iter)
        fit = msp.sparse_pls(theta, st, reml)
        n, p = X.shape
        sigma2 = fit.r2 / (n - p if reml else n)
        vcov = sigma2 * np.linalg.inv(fit.RXtRX)
        beta, u, loglik, extra = fit.beta, fit.u, -0.5 * fit.deviance, []
    else:
        if n_agq != 1:
            raise OptionError(
                f"`n_agq` = {n_agq} needs a single scalar random effect; the model has "
                f"{len(blocks)} random-effect terms. Use n_agq=1 (Laplace), as glmer does."
            )
        k, m = glmm_outcome
        offset = np.zeros(len(X)) if off is None else off
        d = gm.MultiGLMMData(family, k, m, X, re, offset)
        g = gm.fit_glmm_multi(d, max_iter)
        theta, beta, vcov, u, converged, opt_msg = (
            g.theta,
            g.beta,
            g.vcov,
            g.u,
            g.converged,
            g.message,
        )
        sigma2, loglik = 1.0, -0.5 * g.deviance
        extra = [] if g.hessian_used else [
            "SEs conditional on the variance parameters (Hessian not positive definite)"
        ]  # fmt: skip
    lams = re.lambdas(theta)
    terms = tuple(
        make_term(b, lam, sigma2, ub)
        for b, lam, ub in zip(blocks, lams, re.split_u(u), strict=True)
    )
    singular = [t.group for t in terms if t.singular]
    msgs = _messages(converged, opt_msg, singular) + extra
    return {
        "theta": theta, "beta": beta, "vcov": vcov, "sigma2": float(sigma2),
        "loglik": float(loglik), "converged": bool(converged), "singular": bool(singular),
        "singular_terms": singular, "message": "; ".join(msgs), "re_terms": terms,
    }  # fmt: skip


def block_cov(terms: tuple[RandomEffectTerm, ...]) -> pd.DataFrame:
    """Block-diagonal covariance of all random effects, labelled ``group|term``."""
    labels = [f"{t.group}|{c}" for t in terms for c in t.cov.columns]
    out = np.zeros((len(labels), len(labels)))
    i = 0
    for t in terms:
        q = len(t.cov)
        out[i : i + q, i : i + q] = t.cov.to_numpy()
        i += q
    return pd.DataFrame(out, index=labels, columns=labels)


def long_ranef(terms: tuple[RandomEffectTerm, ...]) -> pd.DataFrame:
    """Conditional modes of all terms, long: ``group, level, term, estimate``.

    As R ``as.data.frame(ranef())`` (grpvar, grp, term, condval).
    """
    rows = []
    for t in terms:
        levels = [":".join(map(str, x)) if isinstance(x, tuple) else x for x in t.ranef.index]
        for c in t.ranef.columns:
            rows.append(
                pd.DataFrame(
                    {
                        "group": t.group,
                        "level": levels,
                        "term": c,
                        "estimate": t.ranef[c].to_numpy(),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)
