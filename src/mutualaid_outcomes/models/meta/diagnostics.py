"""Leave-one-out analysis, influence diagnostics and Egger's regression test.

Each function takes a fitted :class:`~mutualaid_outcomes.models.meta.MetaResult` and refits
the model with the same tau^2 estimator, test and convergence settings, as R metafor's
``leave1out``, ``influence`` and ``regtest`` do.

Influence measures (Viechtbauer & Cheung 2010), for study ``i`` with the model refitted
without it (subscript ``(-i)``; ``s^2`` is the Knapp-Hartung factor, 1 for z tests):

* externally standardised residual ``(y_i - x_i'b_(-i)) / sqrt(s^2_(-i) (v_i + tau^2_(-i))
  + x_i' Var(b_(-i)) x_i)``;
* DFFITS ``(x_i'b - x_i'b_(-i)) / sqrt(s^2_(-i) h_i (tau^2_(-i) + v_i))``;
* Cook's distance ``(b - b_(-i))' Var(b)^-1 (b - b_(-i))``;
* covariance ratio ``det Var(b_(-i)) / det Var(b)``;
* DFBETAS ``(b - b_(-i)) / sqrt(s^2_(-i) diag((X'W_(-i)X)^-1))`` with all studies and
  weights ``1 / (v_j + tau^2_(-i))``;
* hat values and weights (percent) of the full model.

A study is flagged as influential (metafor's rule) when ``|DFFITS| > 3 sqrt(p / (k - p))``,
``P(chi^2_p <= Cook's D) > 0.5``, ``h_i > 3 p / k`` or any ``|DFBETAS| > 1``.

Egger's test (metafor ``regtest`` defaults) adds the standard error ``sqrt(v_i)`` as a
moderator to the model (same estimator and test) and tests its coefficient; for a model
without moderators the intercept is the "limit estimate" as the standard error goes to 0.

Validated against metafor 3.8.1 on the BCG vaccine, Normand (1999) and Molloy et al.
(2014) data (tests/reference/meta_metafor.R): agreement to 1e-8 relative or better.

References
----------
Viechtbauer W, Cheung MWL (2010). Outlier and influence diagnostics for meta-analysis.
Res Synth Methods 1:112-125. Egger M, Davey Smith G, Schneider M, Minder C (1997). Bias in
meta-analysis detected by a simple, graphical test. BMJ 315:629-634. Sterne JAC, Egger M
(2005). Regression methods to detect publication and other bias in meta-analysis. In:
Publication Bias in Meta-Analysis. Wiley.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import EstimationError, OptionError
from ...results import BaseResult, glance_frame, wald_table
from ._fit import ModelFit, critical_value
from ._weighted import wls
from .analysis import fit_arrays
from .results import MetaResult

__all__ = [
    "leave_one_out",
    "influence_diagnostics",
    "egger_test",
    "LeaveOneOutResult",
    "InfluenceResult",
    "EggerTestResult",
]


def _check_result(result: Any, what: str) -> MetaResult:
    if not isinstance(result, MetaResult):
        raise OptionError(
            f"{what} needs the result of meta_analysis(); got {type(result).__name__}."
        )
    if result.nobs < 2:
        raise EstimationError(f"{what} needs at least two studies; the model has k = 1.")
    return result


def _refit(result: MetaResult, keep: np.ndarray) -> tuple[ModelFit, list[str]]:
    f = result.fit
    return fit_arrays(
        f.y[keep],
        f.v[keep],
        f.X[keep],
        result.method,
        result.test,
        tol=result.tol,
        max_iter=result.max_iter,
        warn=False,
    )


# ---------------------------------------------------------------------------- leave-one-out


@dataclass(frozen=True, repr=False, eq=False)
class LeaveOneOutResult(BaseResult):
    """Result of :func:`leave_one_out`: the pooled effect with each study omitted in turn.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per omitted study: ``study, estimate, std_error, df, tau2, q, q_p, i2, h2``.
    measure, method, test : str
        As the model.
    """

    table: pd.DataFrame
    measure: str | None
    method: str
    test: str

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.measure not in ("RD", "MD", "SMD", "COR", "ZCOR")

    def _title(self) -> str:
        return f"Leave-one-out analysis ({self.method}; k = {len(self.table)})"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = self.table
        rows = []
        for _, r in t.iterrows():
            df = None if np.isnan(r["df"]) else float(r["df"])
            rows.append(wald_table([r["study"]], [r["estimate"]], [r["std_error"]], conf_level, df))
        out = pd.concat(rows, ignore_index=True)
        for col in ("df", "tau2", "q", "q_p", "i2", "h2"):
            out[col] = t[col].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """One row: ``n, measure, method, test, estimate_min, estimate_max``."""
        est = self.table["estimate"]
        return glance_frame(
            {
                "n": len(self.table),
                "measure": self.measure or "",
                "method": self.method,
                "test": self.test,
                "estimate_min": float(est.min()),
                "estimate_max": float(est.max()),
            },
            ("n", "measure", "method", "test", "estimate_min", "estimate_max"),
        )


def leave_one_out(result: MetaResult) -> LeaveOneOutResult:
    """Refit a meta-analysis without each study in turn (metafor ``leave1out``).

    Parameters
    ----------
    result : MetaResult
        A model without moderators.

    Returns
    -------
    LeaveOneOutResult
        ``tidy()`` has one row per omitted study (term = the study left out) with the
        pooled effect, its test and interval, and tau^2, Q, its p-value, I^2 and H^2 of the
        model without that study.

    Raises
    ------
    OptionError
        If ``result`` is not a meta-analysis result or has moderators.
    EstimationError
        With a single study.

    Notes
    -----
    Each refit uses the model's tau^2 estimator, test and tolerance; leaving one of two
    studies out gives a single-study (fixed-effect) fit. Validated against metafor 3.8.1
    ``leave1out`` to 1e-8 relative.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.meta import meta_analysis
    >>> df = pd.DataFrame({"yi": [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79],
    ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01]})
    >>> loo = leave_one_out(meta_analysis(df, method="DL"))
    >>> loo.tidy()[["term", "estimate"]].round(3).head(2)
          term  estimate
    0  Study 1    -1.002
    1  Study 2    -0.896

    In R: ``leave1out(rma(yi, vi, data = df, method = "DL"))``.
    """
    result = _check_result(result, "leave_one_out()")
    if not result.intercept_only:
        raise OptionError(
            "leave_one_out() applies to models without moderators (as metafor's leave1out); "
            "use influence_diagnostics() for a meta-regression."
        )
    k = result.nobs
    rows = []
    for i in range(k):
        keep = np.arange(k) != i
        fit, _ = _refit(result, keep)
        rows.append(
            {
                "study": result.study_labels[i],
                "estimate": fit.beta[0],
                "std_error": fit.se[0],
                "df": np.nan if fit.ddf is None else fit.ddf,
                "tau2": fit.tau2.tau2,
                "q": fit.q,
                "q_p": fit.q_p,
                "i2": fit.i2,
                "h2": fit.h2,
            }
        )
    return LeaveOneOutResult(pd.DataFrame(rows), result.measure, result.method, result.test)


# -------------------------------------------------------------------------------- influence


@dataclass(frozen=True, repr=False, eq=False)
class InfluenceResult(BaseResult):
    """Result of :func:`influence_diagnostics` (metafor ``influence.rma.uni``).

    Attributes
    ----------
    table : pandas.DataFrame
        One row per study: ``study, rstudent, dffits, cooks_distance, cov_ratio,
        tau2_deleted, q_deleted, hat, weight, influential`` and ``dfbetas[<term>]``.
    method, test : str
        As the model.
    """

    table: pd.DataFrame
    method: str
    test: str
    _can_exponentiate = False

    def _title(self) -> str:
        n = int(self.table["influential"].sum())
        return f"Influence diagnostics ({self.method}; {n} of {len(self.table)} flagged)"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        t = self.table
        out = pd.DataFrame(
            {
                "term": t["study"],
                "estimate": np.nan,
                "std_error": np.nan,
                "statistic": t["rstudent"],
                "p_value": np.nan,
                "conf_low": np.nan,
                "conf_high": np.nan,
            }
        )
        for col in t.columns[2:]:
            out[col] = t[col].to_numpy()
        return out

    def glance(self) -> pd.DataFrame:
        """One row: ``n, n_influential, method, test``."""
        return glance_frame(
            {
                "n": len(self.table),
                "n_influential": int(self.table["influential"].sum()),
                "method": self.method,
                "test": self.test,
            },
            ("n", "n_influential", "method", "test"),
        )


def _deleted(result: MetaResult, i: int) -> dict[str, Any]:
    f = result.fit
    k = f.k
    keep = np.arange(k) != i
    fit, _ = _refit(result, keep)
    xi = f.X[i]
    tau2_del = fit.tau2.tau2
    s2w = fit.s2w
    delpred = float(xi @ fit.beta)
    vdelpred = float(xi @ fit.vb @ xi)
    resid = f.y[i] - delpred
    if abs(resid) < 100 * np.finfo(float).eps:
        resid = 0.0
    seresid = np.sqrt(f.v[i] * s2w + vdelpred + tau2_del * s2w)
    dffits = (float(f.fitted[i]) - delpred) / np.sqrt(s2w * f.hat[i] * (tau2_del + f.v[i]))
    vb_del = wls(f.y, f.X, 1.0 / (f.v + tau2_del)).A
    dfb = f.beta - fit.beta
    return {
        "rstudent": resid / seresid,
        "dffits": dffits,
        "cooks_distance": float(dfb @ np.linalg.solve(f.vb, dfb)),
        "cov_ratio": float(np.linalg.det(fit.vb) / np.linalg.det(f.vb)),
        "tau2_deleted": tau2_del,
        "q_deleted": fit.q,
        "dfbetas": dfb / np.sqrt(s2w * np.diag(vb_del)),
    }


def influence_diagnostics(result: MetaResult) -> InfluenceResult:
    """Case-deletion influence diagnostics of a meta-analysis or meta-regression.

    Parameters
    ----------
    result : MetaResult
        Any fitted model (with or without moderators).

    Returns
    -------
    InfluenceResult
        ``tidy()`` has one row per study (term = study): ``statistic`` is the externally
        standardised residual, followed by ``dffits, cooks_distance, cov_ratio,
        tau2_deleted, q_deleted, hat, weight, influential`` and one ``dfbetas[<term>]``
        column per coefficient.

    Raises
    ------
    OptionError
        If ``result`` is not a meta-analysis result.
    EstimationError
        With a single study, or when a study cannot be deleted (too few studies left).

    Notes
    -----
    The formulas are in the module docstring; validated against metafor 3.8.1
    ``influence()`` to 1e-8 relative.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.meta import meta_analysis
    >>> df = pd.DataFrame({"yi": [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79],
    ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01]})
    >>> inf = influence_diagnostics(meta_analysis(df, method="DL"))
    >>> inf.tidy()[["term", "cooks_distance", "hat"]].round(3).head(2)
          term  cooks_distance    hat
    0  Study 1           0.004  0.099
    1  Study 2           0.161  0.134

    In R: ``influence(rma(yi, vi, data = df, method = "DL"))``.
    """
    result = _check_result(result, "influence_diagnostics()")
    f = result.fit
    k, p = f.k, f.p
    rows = [_deleted(result, i) for i in range(k)]
    dfbs = np.vstack([r.pop("dfbetas") for r in rows])
    table = pd.DataFrame(rows)
    table.insert(0, "study", list(result.study_labels))
    table["hat"] = f.hat
    table["weight"] = 100 * f.weights / np.sum(f.weights)
    with np.errstate(invalid="ignore", divide="ignore"):
        flag = (
            (np.abs(table["dffits"]) > 3 * np.sqrt(p / (k - p)))
            | (stats.chi2.cdf(table["cooks_distance"], df=p) > 0.5)
            | (table["hat"] > 3 * p / k)
            | (np.abs(dfbs) > 1).any(axis=1)
        )
    table["influential"] = flag.to_numpy(dtype=bool)
    for j, term in enumerate(result.terms):
        table[f"dfbetas[{term}]"] = dfbs[:, j]
    return InfluenceResult(table, result.method, result.test)


# ------------------------------------------------------------------------------ Egger's test


@dataclass(frozen=True, repr=False, eq=False)
class EggerTestResult(BaseResult):
    """Result of :func:`egger_test` (metafor ``regtest``).

    Attributes
    ----------
    statistic, p_value : float
        Test of the standard-error coefficient (z, or t with Knapp-Hartung).
    df : float or None
        Degrees of freedom of the t test.
    terms_ : tuple of str
        Coefficient names of the regression model (the last is ``"sei"``).
    fit : ModelFit
        The regression model.
    """

    statistic: float
    p_value: float
    df: float | None
    term_names: tuple[str, ...]
    fit: ModelFit = field(repr=False)
    intercept_only: bool
    _can_exponentiate = False

    def _title(self) -> str:
        return f"Egger's regression test for funnel-plot asymmetry ({self.fit.method})"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        f = self.fit
        out = wald_table(self.term_names, f.beta, f.se, conf_level, df=f.ddf)
        if self.intercept_only:
            out.loc[0, "term"] = "limit_estimate"
        return out.iloc[[len(out) - 1, *([0] if self.intercept_only else [])]].reset_index(
            drop=True
        )

    def glance(self) -> pd.DataFrame:
        """One row of test results.

        Columns ``statistic, df, p_value, predictor, method, test, n, tau2,
        limit_estimate, limit_low, limit_high`` (limits at 95%).
        """
        vals: dict[str, Any] = {
            "statistic": self.statistic,
            "df": np.nan if self.df is None else self.df,
            "p_value": self.p_value,
            "predictor": "sei",
            "method": self.fit.method,
            "test": self.fit.test,
            "n": self.fit.k,
            "tau2": self.fit.tau2.tau2,
        }
        if self.intercept_only:
            crit = critical_value(0.95, self.fit.ddf)
            b, se = self.fit.beta[0], self.fit.se[0]
            vals.update(limit_estimate=b, limit_low=b - crit * se, limit_high=b + crit * se)
        cols = (
            "statistic",
            "df",
            "p_value",
            "predictor",
            "method",
            "test",
            "n",
            "tau2",
            "limit_estimate",
            "limit_low",
            "limit_high",
        )
        return glance_frame(vals, cols)


def egger_test(result: MetaResult) -> EggerTestResult:
    """Egger's regression test for funnel-plot asymmetry (metafor ``regtest`` defaults).

    Parameters
    ----------
    result : MetaResult
        A fitted model; its moderators stay in the regression.

    Returns
    -------
    EggerTestResult
        ``tidy()`` rows ``sei`` (the asymmetry coefficient and its test) and, for a model
        without moderators, ``limit_estimate`` (the intercept: the effect as the standard
        error goes to 0); ``glance()`` the test statistic and p-value.

    Raises
    ------
    OptionError
        If ``result`` is not a meta-analysis result.
    EstimationError
        If there are too few studies or all standard errors are equal.

    Notes
    -----
    The standard error ``sqrt(v_i)`` is added as a moderator to the same model type
    (tau^2 estimator and test), as metafor's ``regtest(model = "rma", predictor =
    "sei")``; with ``method="FE"`` this is the classical weighted-regression form of
    Egger's test. Validated against metafor 3.8.1 ``regtest`` to 1e-8 relative.

    Examples
    --------
    >>> import pandas as pd
    >>> from mutualaid_outcomes.models.meta import meta_analysis
    >>> df = pd.DataFrame({"yi": [-0.89, -1.59, -1.35, -1.44, -0.22, -0.79],
    ...                    "vi": [0.33, 0.19, 0.42, 0.02, 0.05, 0.01]})
    >>> eg = egger_test(meta_analysis(df, method="DL"))
    >>> round(float(eg.statistic), 3), round(float(eg.p_value), 3)
    (-0.524, 0.6)

    In R: ``regtest(rma(yi, vi, data = df, method = "DL"))``.
    """
    result = _check_result(result, "egger_test()")
    f = result.fit
    sei = np.sqrt(f.v)
    X = np.column_stack([f.X, sei])
    if np.linalg.matrix_rank(X) < X.shape[1]:
        raise EstimationError(
            "Egger's test needs studies with different standard errors (the standard error "
            "is collinear with the model's design)."
        )
    try:
        fit, _ = fit_arrays(
            f.y,
            f.v,
            X,
            result.method,
            result.test,
            tol=result.tol,
            max_iter=result.max_iter,
            warn=False,
        )
    except EstimationError as exc:
        raise EstimationError(f"Egger's test cannot be fitted: {exc}") from None
    stat = float(fit.beta[-1] / fit.se[-1])
    if fit.ddf is None:
        p = float(2 * stats.norm.sf(abs(stat)))
    else:
        p = float(2 * stats.t.sf(abs(stat), fit.ddf)) if fit.ddf > 0 else float("nan")
    terms = (*(("Intercept",) if result.intercept_only else result.terms), "sei")
    return EggerTestResult(stat, p, fit.ddf, terms, fit, result.intercept_only)
