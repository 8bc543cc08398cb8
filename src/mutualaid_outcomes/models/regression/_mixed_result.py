"""The result of :func:`~mutualaid_outcomes.models.regression.mixed.fit_mixed`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..._validation import MissingReport, check_dataframe, check_option
from ...errors import DataValidationError, OptionError
from ...results import BaseResult, StoredCoefficients, glance_frame, wald_table
from .._core.design import Design
from ._mixed_multi import RandomEffectTerm, term_effects

__all__ = ["MixedResult", "MIXED_GLANCE_COLUMNS"]

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
    "theta",
)


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
    nb_theta : float
        Negative binomial size (``Var(y | b) = mu + mu^2 / nb_theta``; lme4's
        ``getME(fit, "glmer.nb.theta")``), shown as ``theta`` in :meth:`glance`; NaN
        for other families.
    trials : str or None
        The column of binomial trials (``trials=`` of :func:`fit_mixed`).
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
    nb_theta: float = float("nan")
    trials: str | None = None
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
        """Odds or rate ratios for binomial, Poisson and negative binomial models."""
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
        elif scale == "response" and self.family in ("poisson", "negative_binomial"):
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
        singular, message, condition_number, collinear, theta``; ``condition_number`` and
        ``collinear`` are Belsley's scaled condition number of the fixed-effects design
        and whether it exceeds the threshold of :mod:`.._core.design` (``1e4``);
        ``theta`` is the negative binomial size (NaN for other families; no standard
        error, as ``glmer.nb`` reports none). ``loglik`` is the REML criterion's log-likelihood for REML fits
        (as R ``logLik(lmer)``).
        """
        k = len(self._params) + len(self.theta) + (self.family == "gaussian")
        k += self.family == "negative_binomial"  # nb_theta, counted as lme4's glmer.nb
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
                "theta": self.nb_theta,
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
        notes = [self.missing.describe(), "Random effects: " + "; ".join(parts) + "."]
        if self.family == "negative_binomial":
            notes.append(f"Negative binomial size theta = {self.nb_theta:.4g}.")
        return notes
