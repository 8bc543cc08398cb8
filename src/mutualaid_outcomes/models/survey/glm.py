"""Design-based generalised linear models (R ``svyglm``).

The coefficients solve the weighted score equations ``sum_i w_i x_i (y_i - mu_i)
mu_i' / V(mu_i) = 0`` (pseudo-maximum likelihood, IRLS with the sampling weights as
prior weights). Their covariance is

* linearisation: the design variance of the totals of the influence values
  ``u_i A^{-1}``, with ``u_i = w_i x_i (y_i - mu_i) mu_i' / V(mu_i)`` the score
  contributions and ``A = X' W X`` the weighted information (R ``svy.varcoef``): a
  sandwich whose meat is the stratified, clustered, FPC-corrected variance of the scores;
* replicate weights: the coefficients refitted with every replicate weight set
  (starting at the full-sample estimate) and combined by the replicate formula.

Inference uses t with ``degf(design) + 1 - k`` degrees of freedom (R ``df.residual``
of an svyglm). quasibinomial and quasipoisson give the same estimates and SEs as
binomial and poisson here (the variance is design-based, not model-based), so
``family='quasibinomial'`` and ``'quasipoisson'`` are accepted as synonyms.

Validated against R survey 4.1.1 ``svyglm`` (gaussian, quasibinomial, quasipoisson;
stratified with FPC, one- and two-stage cluster, JK1, JKn and bootstrap replicates,
and a domain) to 1e-6 relative. See docs/survey.md for how these SEs relate to
``fit_regression(weights=, cluster=)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import patsy

from ..._validation import check_option
from ...errors import ConvergenceWarning, DataValidationError, EstimationError
from ...results import BaseResult, glance_frame, wald_table
from .._core.design import formula_columns, outcome_series, split_formula
from .._core.families import binary_outcome, check_count
from .._core.irls import IRLSFit, glm_pieces, irls_batch, solve_packed
from ._engine import check_design
from .linearization import linearized_vcov
from .results import design_glance

__all__ = ["survey_glm", "SurveyGLMResult", "SURVEY_GLM_GLANCE_COLUMNS"]

Family = Literal["gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson"]
FAMILIES = ("gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson")
LINK = {"gaussian": "identity", "binomial": "logit", "poisson": "log"}
SURVEY_GLM_GLANCE_COLUMNS: tuple[str, ...] = (
    "family",
    "link",
    "method",
    "n",
    "n_dropped",
    "n_psu",
    "n_strata",
    "n_replicates",
    "degf",
    "df_resid",
    "converged",
    "n_iter",
    "seed",
)


@dataclass(frozen=True, repr=False, eq=False)
class SurveyGLMResult(BaseResult):
    """A design-based GLM fit (immutable); implements the coefficient protocol.

    Attributes
    ----------
    formula : str
        The model formula.
    family : str
        ``'gaussian'``, ``'binomial'`` or ``'poisson'`` (quasi- families map here).
    params : pandas.Series
        Coefficients.
    cov : numpy.ndarray
        Their design-based covariance matrix.
    """

    formula: str
    family: str
    params: pd.Series
    cov: np.ndarray
    info: dict[str, Any]
    _df_resid: float = 0.0
    _notes_: tuple[str, ...] = field(default=())

    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names in model order."""
        return tuple(self.params.index)

    def coef(self) -> pd.Series:
        """Coefficients indexed by term."""
        return self.params.copy()

    def vcov(self) -> pd.DataFrame:
        """Design-based covariance matrix of the coefficients."""
        t = list(self.terms)
        return pd.DataFrame(self.cov, index=t, columns=t)

    @property
    def nobs(self) -> int:
        """Rows with non-zero weight used in the fit."""
        return int(self.info["n"])

    @property
    def df_resid(self) -> float:
        """Design degrees of freedom minus (k - 1): R ``svyglm``'s ``df.residual``."""
        return float(self._df_resid)

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.family != "gaussian"

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self.cov))
        df = self._df_resid if self._df_resid > 0 else None
        return wald_table(self.terms, self.params.to_numpy(), se, conf_level, df)

    def glance(self) -> pd.DataFrame:
        """One-row model summary.

        Columns: family, link, method, n, n_dropped, n_psu, n_strata, n_replicates, degf,
        df_resid, converged, n_iter, seed.
        """
        values = {"family": self.family, "link": LINK[self.family], "df_resid": self._df_resid}
        values.update({k: v for k, v in self.info.items() if k in SURVEY_GLM_GLANCE_COLUMNS})
        return glance_frame(values, SURVEY_GLM_GLANCE_COLUMNS)

    def wald_test(self, terms: list[str]) -> dict[str, float]:
        """Design-based Wald F test that the coefficients ``terms`` are all zero.

        ``F = b' V^{-1} b / q`` on ``(q, df_resid)`` df, as R ``regTermTest(method =
        "Wald")``.

        Raises
        ------
        DataValidationError
            A name that is not a coefficient.
        """
        bad = [t for t in terms if t not in self.params.index]
        if bad or not terms:
            raise DataValidationError(
                f"`terms` must name coefficients of the model ({list(self.params.index)}); "
                f"unknown: {bad}."
            )
        idx = [self.params.index.get_loc(t) for t in terms]
        b = self.params.to_numpy()[idx]
        V = self.cov[np.ix_(idx, idx)]
        q = len(idx)
        F = float(b @ np.linalg.solve(V, b)) / q
        from scipy import stats

        return {
            "statistic": F,
            "ndf": float(q),
            "ddf": self._df_resid,
            "p_value": float(stats.f.sf(F, q, self._df_resid)),
        }

    def _title(self) -> str:
        return f"Survey-weighted {self.family} GLM ({self.info['method']})"

    def _notes(self) -> list[str]:
        return list(self._notes_)


RANK_TOL = 1e-10  # eigenvalues of the scaled X'X below this (relative) mean collinearity


def _design_matrix(rhs: str, clean: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Patsy design matrix with a collinearity check on the k x k Gram matrix (no SVD of X)."""
    try:
        mat = patsy.dmatrix(rhs, clean, return_type="dataframe", NA_action="raise")
    except patsy.PatsyError as exc:
        raise DataValidationError(f"`formula` could not be evaluated: {exc}") from None
    X = mat.to_numpy(dtype=float)
    names = [str(c) for c in mat.columns]
    if not np.all(np.isfinite(X)):
        raise DataValidationError("`formula` produces non-finite values; transform the data first.")
    G = X.T @ X
    d = np.sqrt(np.clip(np.diag(G), 1e-300, None))
    ev = np.linalg.eigvalsh(G / np.outer(d, d))
    if np.any(np.diag(G) == 0) or ev.min() < RANK_TOL * ev.max():
        raise DataValidationError(
            f"The predictors in `formula` are collinear ({names}); remove redundant terms or "
            "empty factor levels."
        )
    return X, names


def _model_frame(design: Any, formula: str, family: str) -> tuple:
    data = design.data
    cols = formula_columns(formula, data)
    lhs, rhs = split_formula(formula)
    ok = ~data.loc[:, cols].isna().any(axis=1).to_numpy()
    if not (ok & design.in_domain).any():
        raise EstimationError("No complete rows in the design (subset) for this formula.")
    clean = data.loc[ok, cols]
    Xc, names = _design_matrix(rhs, clean)
    y_raw = outcome_series(lhs, clean)
    if family == "binomial":
        yc, _ = binary_outcome(y_raw, "formula")
    elif family == "poisson":
        yc = check_count(y_raw, family, "formula")
    else:
        if not pd.api.types.is_numeric_dtype(y_raw):
            raise DataValidationError(f"`formula`: the outcome ('{lhs}') must be numeric.")
        yc = y_raw.to_numpy(dtype=float)
    n = len(data)
    X = np.zeros((n, Xc.shape[1]))
    X[ok] = Xc
    y = np.zeros(n)
    y[ok] = yc
    return X, y, ok, names


def _psu_cross_products(design: Any, X: np.ndarray, v: np.ndarray) -> np.ndarray:
    """``S_g = sum_{i in PSU g} v_i x_i x_i'`` packed (``G x k(k+1)/2``, triu order)."""
    ind = design.psu.indicator
    k = X.shape[1]
    return np.hstack([np.asarray(ind @ (X[:, j:] * (v * X[:, j])[:, None])) for j in range(k)])


def _first_newton_step(
    design: Any, X: np.ndarray, y: np.ndarray, ok: np.ndarray, beta: np.ndarray, fam: str
) -> np.ndarray:
    """First Newton step of every replicate fit from ``beta`` (``k x R``), in one pass.

    With PSU-level multipliers ``M``, the replicate information and score at ``beta`` are
    ``sum_g M_gr S_g`` and ``sum_g M_gr t_g`` (per-PSU sums), so this step costs no
    ``n x R`` work; the remaining iterations start from it.
    """
    wx = design.weights * ok
    if design.domain is not None:
        wx = wx * design.domain
    mu, _, var = glm_pieces(fam, X @ beta)
    S = _psu_cross_products(design, X, wx * var)
    t = np.asarray(design.psu.indicator @ (X * (wx * (y - mu))[:, None]))
    M = design.psu_multipliers
    return beta[:, None] + solve_packed((M.T @ S).T, (M.T @ t).T, X.shape[1])


def _gaussian_compressed(design: Any, X: np.ndarray, y: np.ndarray, ok: np.ndarray) -> IRLSFit:
    """Replicate least squares when replicate weights are PSU multipliers ``M`` (G x R).

    ``X' A_r X = sum_g M_gr S_g`` with ``S_g`` the weighted cross-products of PSU ``g``,
    so all replicates cost one pass over the rows and a ``G x R`` product.
    """
    wx = design.weights * ok
    if design.domain is not None:
        wx = wx * design.domain
    S = _psu_cross_products(design, X, wx)
    g = np.asarray(design.psu.indicator @ (X * (wx * y)[:, None]))
    M = design.psu_multipliers
    B = solve_packed((M.T @ S).T, (M.T @ g).T, X.shape[1])
    return IRLSFit(B, np.ones(B.shape[1], dtype=bool), 1)


def survey_glm(
    design: Any,
    formula: str,
    *,
    family: Family = "gaussian",
) -> SurveyGLMResult:
    """Fit a GLM to survey data with design-based standard errors (R ``svyglm``).

    Parameters
    ----------
    design : SurveyDesign or ReplicateDesign
        The survey design; a subset design fits the model in that domain while the
        variance uses the whole design.
    formula : str
        patsy formula, e.g. ``"attends ~ age + C(sex)"``.
    family : {'gaussian', 'binomial', 'quasibinomial', 'poisson', 'quasipoisson'}
        Outcome family with its canonical link (identity, logit, log).

    Returns
    -------
    SurveyGLMResult
        ``tidy()`` uses t with ``df_resid = degf + 1 - k``; ``tidy(exponentiate=True)``
        gives odds or rate ratios.

    Raises
    ------
    ColumnNotFoundError
        A formula column is not in the data.
    DataValidationError
        An outcome that does not fit the family, or collinear predictors.
    EstimationError
        No complete rows, or a singular information matrix.

    Warns
    -----
    ConvergenceWarning
        IRLS did not converge for the full sample or some replicates.

    Notes
    -----
    See the module docstring for the estimating equations and the variance.

    References
    ----------
    Binder, D. A. (1983). On the variances of asymptotically normal estimators from
    complex surveys. *International Statistical Review*, 51, 279-292.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.survey import survey_design
    >>> rng = np.random.default_rng(3)
    >>> df = pd.DataFrame({"psu": np.repeat(np.arange(20), 10), "w": rng.uniform(1, 3, 200),
    ...                    "x": rng.normal(size=200)})
    >>> df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=200)
    >>> res = survey_glm(survey_design(df, weights="w", cluster="psu"), "y ~ x")
    >>> res.tidy()[["term", "estimate"]].round(2)
            term  estimate
    0  Intercept      1.16
    1          x      0.46
    >>> res.df_resid
    18.0
    """
    design = check_design(design)
    check_option(family, FAMILIES, "family")
    fam = family.replace("quasi", "")
    X, y, ok, names = _model_frame(design, formula, fam)
    w = design.analysis_weights * ok
    k = X.shape[1]
    fit = irls_batch(X, y, (w / w.mean())[:, None], fam)
    beta = fit.coef[:, 0]
    notes = []
    if not fit.converged.all():
        import warnings

        warnings.warn(f"The {fam} model did not converge.", ConvergenceWarning, stacklevel=2)
        notes.append("The full-sample fit did not converge.")
    info = design_glance(design)
    n_iter = fit.n_iter
    if design.kind == "linearization":
        eta = X @ beta
        mu, _, var = glm_pieces(fam, eta)
        # canonical links: mu' = V(mu), so the information weight is w V(mu) and the
        # score contribution w x (y - mu)
        A = X.T @ (X * (w * var)[:, None])
        try:
            Ainv = np.linalg.inv(A)
        except np.linalg.LinAlgError:
            raise EstimationError("The weighted information matrix is singular.") from None
        U = X * (w * (y - mu))[:, None]
        cov = linearized_vcov(design, U @ Ainv)
    else:
        ok_f = ok.astype(float)

        def block(s: slice) -> np.ndarray:
            return design.weights_block(s) * ok_f[s, None]

        if fam == "gaussian" and design.full is None:
            reps = _gaussian_compressed(design, X, y, ok_f)
        else:
            start = (
                beta
                if design.full is not None
                else _first_newton_step(design, X, y, ok_f, beta, fam)
            )
            reps = irls_batch(X, y, None, fam, start=start, weights_block=block)
        if not reps.converged.all():
            import warnings

            bad = int((~reps.converged).sum())
            warnings.warn(
                f"{bad} replicate fits did not converge.", ConvergenceWarning, stacklevel=2
            )
            notes.append(f"{bad} replicate fits did not converge.")
        cov = design.vcov(reps.coef.T, beta)
        n_iter = max(n_iter, reps.n_iter)
    # R: PSUs minus strata among complete rows (linearisation); the replicate design's
    # own rank before rows with missing values are dropped (svyglm.svyrep.design)
    degf = design.degf_for(ok) if design.kind == "linearization" else design.degf
    info.update(
        n=int(np.count_nonzero(w)),
        n_dropped=int(np.sum(design.in_domain & ~ok)),
        degf=degf,
        converged=bool(fit.converged.all()),
        n_iter=n_iter,
    )
    params = pd.Series(beta, index=names, name="estimate")
    del k
    return SurveyGLMResult(formula, fam, params, cov, info, degf + 1 - len(names), tuple(notes))
