"""Design-based generalised linear models (R ``svyglm``).

The coefficients solve the weighted score equations ``sum_i w_i x_i (y_i - mu_i)
mu_i' / V(mu_i) = 0`` (pseudo-maximum likelihood, IRLS with the sampling weights as
prior weights). Their covariance is

* linearisation: the design variance of the totals of the influence values
  ``u_i A^{-1}``, with ``u_i = w_i x_i (y_i - mu_i) mu_i' / V(mu_i)`` the score
  contributions and ``A = X' W X`` the weighted information (R ``svy.varcoef``): a
  sandwich whose meat is the stratified, clustered, FPC-corrected variance of the scores;
* replicate weights: the coefficients refitted with every replicate weight set
  (starting at the full-sample estimate) and combined by the replicate formula. The
  first Newton step of every replicate costs no ``rows x R`` work (per-PSU sums for PSU
  multipliers); then :func:`.._core.glm_refit.refit_near` takes one pass over the rows
  per step for all replicates at once (a Newton step with every replicate's Hessian from
  one matrix product, then chord steps), usually two passes in all. The solutions are
  those of full scoring steps (checked to 1e-8 in the tests).

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

from ..._validation import check_finite, check_option
from ...errors import ConvergenceWarning, DataValidationError, DataWarning, EstimationError
from ...results import BaseResult, glance_frame, wald_table
from .._core.design import formula_columns, outcome_series, split_formula
from .._core.families import binary_outcome, check_count
from .._core.glm import IRLSFit, irls, link_inverse
from .._core.glm_refit import common_start_step, refit_near
from .._core.ols import solve_batched
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
    cov : numpy.ndarray
        The design-based covariance matrix of the coefficients (labelled: ``vcov()``).

    The coefficients are read through ``coef()`` and ``terms`` (the coefficient protocol).
    """

    formula: str
    family: str
    _estimates: pd.Series  # read through coef() (the coefficient protocol)
    cov: np.ndarray
    info: dict[str, Any]
    _df_resid: float = 0.0
    _notes_: tuple[str, ...] = field(default=())

    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names in model order."""
        return tuple(self._estimates.index)

    def coef(self) -> pd.Series:
        """Coefficients indexed by term."""
        return self._estimates.copy()

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
        return wald_table(self.terms, self._estimates.to_numpy(), se, conf_level, df)

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
        bad = [t for t in terms if t not in self._estimates.index]
        if bad or not terms:
            raise DataValidationError(
                f"`terms` must name coefficients of the model ({list(self._estimates.index)}); "
                f"unknown: {bad}."
            )
        idx = [self._estimates.index.get_loc(t) for t in terms]
        b = self._estimates.to_numpy()[idx]
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
    check_finite(data, cols, "data")
    frame = data.loc[:, cols]
    ok = ~frame.isna().any(axis=1).to_numpy()
    if not (ok & design.in_domain).any():
        raise EstimationError("No complete rows in the design (subset) for this formula.")
    clean = frame if ok.all() else frame.loc[ok]
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
    if ok.all():
        return np.ascontiguousarray(Xc), np.asarray(yc, dtype=float), ok, names
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


def _packed_solve(S: np.ndarray, g: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``R`` systems from packed triangles ``S`` (``R x k(k+1)/2``) and ``g`` (``R x k``).

    Through :func:`.._core.ols.solve_batched`, so the core's collinearity rule applies.
    """
    iu, ju = np.triu_indices(k)
    A = np.empty((S.shape[0], k, k))
    A[:, iu, ju] = S
    A[:, ju, iu] = S
    return solve_batched(A, g)


def _first_newton_step(
    design: Any, X: np.ndarray, y: np.ndarray, ok: np.ndarray, beta: np.ndarray, fam: str
) -> np.ndarray:
    """First scoring step of every replicate fit from ``beta``.

    With PSU-level multipliers ``M``, the replicate information and score at ``beta`` are
    ``sum_g M_gr S_g`` and ``sum_g M_gr t_g`` (per-PSU sums), so this step costs no
    ``n x R`` work. Canonical links only (``mu' = V(mu)``): the information weight is
    ``w V(mu)`` and the score ``w (y - mu)``. Returns the ``R x k`` iterates.
    """
    wx = design.weights * ok
    if design.domain is not None:
        wx = wx * design.domain
    mu = link_inverse(X @ beta, LINK[fam])
    var = mu * (1 - mu) if fam == "binomial" else mu
    S = _psu_cross_products(design, X, wx * var)
    t = np.asarray(design.psu.indicator @ (X * (wx * (y - mu))[:, None]))
    M = design.psu_multipliers
    k = X.shape[1]
    iu, ju = np.triu_indices(k)
    info = np.empty((M.shape[1], k, k))
    info[:, iu, ju] = info[:, ju, iu] = M.T @ S
    step, good = solve_batched(info, M.T @ t)
    out = beta[None, :] + step
    out[~good] = beta  # a failed step: the iteration starts (and fails) at the full fit
    return out


def _gaussian_compressed(design: Any, X: np.ndarray, y: np.ndarray, ok: np.ndarray) -> IRLSFit:
    """Replicate least squares when replicate weights are PSU multipliers ``M`` (G x R).

    ``X' A_r X = sum_g M_gr S_g`` with ``S_g`` the weighted cross-products of PSU ``g``,
    so all replicates cost one pass over the rows and a ``G x R`` product (weighted least
    squares is exact in one step, so no iteration is needed).
    """
    wx = design.weights * ok
    if design.domain is not None:
        wx = wx * design.domain
    S = _psu_cross_products(design, X, wx)
    g = np.asarray(design.psu.indicator @ (X * (wx * y)[:, None]))
    M = design.psu_multipliers
    B, good = _packed_solve(M.T @ S, M.T @ g, X.shape[1])
    B[~good] = np.nan
    R = B.shape[0]
    return IRLSFit(B, good, np.ones(R, dtype=int), np.zeros(R, dtype=int))


def _fit_replicates(
    design: Any, X: np.ndarray, y: np.ndarray, ok: np.ndarray, beta: np.ndarray, fam: str
) -> IRLSFit:
    """Replicate refits warm-started at the full-sample fit (R ``svyglm.svrep.design``).

    Every replicate solves its own weighted score equations. The first Newton step from
    the full-sample estimate needs no ``rows x R`` work (per-PSU sums when the replicate
    weights are PSU multipliers, else two matrix products); the rest is
    :func:`.._core.glm_refit.refit_near`: one pass over the rows per step for all
    replicates still iterating, a Newton step on the first pass and chord steps after.
    """
    ok_f = ok.astype(float)

    def block(rows: slice) -> np.ndarray:
        return design.weights_block(rows) * ok_f[rows, None]

    if fam == "gaussian" and design.full is None:
        return _gaussian_compressed(design, X, y, ok_f)
    factored = None
    if design.full is None:
        start = _first_newton_step(design, X, y, ok_f, beta, fam)
        a = design.weights * ok_f * (1.0 if design.domain is None else design.domain)
        factored = (a, design.psu.codes, design.psu_multipliers)
    else:
        start, _ = common_start_step(X, y, block, beta, family=fam)
    fit = refit_near(X, y, block, family=fam, start=start, factored=factored)
    return IRLSFit(fit.beta, fit.converged, fit.n_iter + 1, fit.n_boundary)


def _warn_fit(fit: IRLSFit, what: str, notes: list[str]) -> None:
    """The separation policy of :mod:`.._core.glm` for survey fits: warning + note."""
    import warnings

    # separated fits never converge (the estimates diverge): one warning says why
    bad = int((~fit.converged & ~fit.separated).sum())
    sep = int(fit.separated.sum())
    if sep:
        msg = (
            f"{what}: fitted probabilities numerically 0 or 1 occurred ((quasi-)separation"
            + (f" in {sep} fits" if fit.beta.shape[0] > 1 else "")
            + "); estimates may be unreliable."
        )
        warnings.warn(msg, DataWarning, stacklevel=3)
        notes.append(msg)
    if bad:
        msg = (
            f"{what}: {bad} fits did not converge."
            if fit.beta.shape[0] > 1
            else f"{what}: the model did not converge."
        )
        warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        notes.append(msg)


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
    wn = w / w.mean()
    fit = irls(X, y, wn[None, :], family=fam, link=LINK[fam])
    beta = fit.beta[0]
    notes: list[str] = []
    _warn_fit(fit, "Full-sample fit", notes)
    info = design_glance(design)
    n_iter = int(fit.n_iter.max())
    if design.kind == "linearization":
        mu = link_inverse(X @ beta, LINK[fam])
        var = {"binomial": mu * (1 - mu), "poisson": mu}.get(fam, np.ones_like(mu))
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
        reps = _fit_replicates(design, X, y, ok, beta, fam)
        _warn_fit(reps, "Replicate fits", notes)
        cov = design.vcov(reps.beta, beta)
        n_iter = max(n_iter, int(reps.n_iter.max()))
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
    estimates = pd.Series(beta, index=names, name="estimate")
    return SurveyGLMResult(formula, fam, estimates, cov, info, degf + 1 - len(names), tuple(notes))
