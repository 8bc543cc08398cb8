"""Regression for cross-sectional outcomes: continuous, binary, count, proportion, ordinal.

:func:`fit_regression` fits one model and returns a :class:`RegressionResult`
with ``tidy()``, ``glance()``, ``summary()``, ``predict()`` and
``marginal_effects()``; :meth:`RegressionResult.with_cov_type` re-runs inference with
another covariance estimator and returns a new result.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(1)
>>> df = pd.DataFrame({"aa": rng.poisson(4, 200), "arm": rng.choice(["CBT", "TSF"], 200)})
>>> df["abstinent"] = rng.binomial(1, 1 / (1 + np.exp(-(-1 + 0.25 * df["aa"]))))
>>> res = fit_regression(df, "abstinent ~ aa + arm", family="binomial", cov_type="HC0")
>>> res.tidy(exponentiate=True)[["term", "estimate"]].round(2)
         term  estimate
0   Intercept      0.22
1  arm[T.TSF]      1.78
2          aa      1.36
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import (
    MissingReport,
    check_columns,
    check_cov_type,
    check_data_first,
    check_dataframe,
    check_option,
    listwise_delete,
)
from ...errors import (
    ArgumentTypeError,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
    SmallSampleWarning,
)
from ...results import BaseResult, glance_frame, wald_table
from .._core.covariance import sandwich_vcov
from .._core.design import (
    Design,
    build_design,
    check_weights,
    formula_columns,
    outcome_series,
    split_formula,
)
from .._core.families import (
    FAMILIES,
    FAMILY_LABELS,
    LINKS,
    Fit,
    binary_outcome,
    check_count,
    check_fraction,
    check_separation,
    fit_glm_family,
)
from .._core.likelihood import fit_beta, fit_ordinal, fit_zero_inflated
from .marginal import MarginalEffectsResult, average_marginal_effects

__all__ = ["fit_regression", "RegressionResult", "REGRESSION_GLANCE_COLUMNS"]

Family = Literal[
    "gaussian",
    "binomial",
    "poisson",
    "negative_binomial",
    "fractional_logit",
    "beta",
    "zip",
    "zinb",
    "ordinal_logit",
]
CovType = Literal["model", "robust", "HC0", "HC1", "HC2", "HC3"]
#: ``cov_type`` values of fit_regression (docs/conventions.md)
REGRESSION_COV_TYPES: tuple[str, ...] = ("model", "robust", "HC0", "HC1", "HC2", "HC3")
BetaBoundary = Literal["warn", "transform", "error"]

REGRESSION_GLANCE_COLUMNS: tuple[str, ...] = (
    "family",
    "link",
    "method",
    "cov_type",
    "n",
    "n_dropped",
    "n_clusters",
    "df_model",
    "df_resid",
    "loglik",
    "aic",
    "bic",
    "deviance",
    "scale",
    "theta",
    "theta_se",
    "precision",
    "converged",
    "n_iter",
    "message",
)

MIN_CLUSTERS_WARN = 10  # fewer clusters than this: cluster-robust SEs are biased downward
_T_FAMILIES = ("gaussian", "fractional_logit")  # estimated dispersion: t reference


@dataclass(frozen=True, repr=False, eq=False)
class RegressionResult(BaseResult):
    """A fitted regression model (immutable).

    Attributes
    ----------
    formula : str
        The model formula.
    family, link : str
        Model family and link function.
    cov_type : str
        Covariance estimator of the standard errors: ``'model'``, ``'HC0'`` ...
        ``'HC3'``, or ``'cluster'`` (cluster-robust, from ``cluster=``).
    missing : MissingReport
        Rows used and excluded (listwise over formula, weight and cluster columns).

    Notes
    -----
    Coefficient protocol: :attr:`terms`, :meth:`coef` and :meth:`vcov` cover the
    coefficients shown by ``tidy()`` (for ordinal models the thresholds and slopes, for
    zero-inflated models the count and zero parts); ancillary parameters such as
    ``log(theta)`` are reported in ``glance()``. :attr:`nobs` is the number of rows used
    and :attr:`df_resid` is ``n - k`` for the gaussian and fractional-logit families
    (t-based intervals) and None for the others (z-based).
    """

    formula: str
    family: str
    link: str
    cov_type: str
    _params: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    missing: MissingReport
    n_clusters: int | None
    cluster_type: str | None
    _fit: Fit = field(repr=False)
    _design: Design = field(repr=False)
    _zero_design: Design | None = field(repr=False)
    _clusters: np.ndarray | None = field(repr=False)
    _data: pd.DataFrame = field(repr=False)
    _outcome: str = ""
    _offset: str | None = None
    _notes_: tuple[str, ...] = ()
    _levels: tuple[Any, ...] = ()

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names, in model order."""
        return tuple(self._params.index[: self._fit.n_coef])

    def coef(self) -> pd.Series:
        """Estimated coefficients indexed by term."""
        return self._params.iloc[: self._fit.n_coef].copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of :meth:`coef` under ``cov_type``."""
        k = self._fit.n_coef
        return self._cov.iloc[:k, :k].copy()

    @property
    def nobs(self) -> int:
        """Rows used in estimation."""
        return self.missing.n_used

    @property
    def df_resid(self) -> float | None:
        """``n - k`` for gaussian and fractional-logit models (t-based); None otherwise."""
        if self.family in _T_FAMILIES:
            return float(self.nobs - self._fit.n_coef)
        return None

    @property
    def _pool_dfcom(self) -> float:
        """``n - k`` for every family: R ``df.residual()``, which ``mice::pool`` uses."""
        return float(self.nobs - self._fit.n_coef)

    # -- contract -------------------------------------------------------------------
    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self.vcov().to_numpy()))
        return wald_table(self.terms, self.coef().to_numpy(), se, conf_level, self.df_resid)

    def glance(self) -> pd.DataFrame:
        """One-row model summary with the fixed regression columns.

        Columns ``family, link, method, cov_type, n, n_dropped, n_clusters, df_model,
        df_resid, loglik, aic, bic, deviance, scale, theta, theta_se, precision, converged,
        n_iter, message`` (NaN where not applicable).
        """
        f = self._fit
        ll = f.loglik
        k_ic = f.n_params_ic
        aic = -2 * ll + 2 * k_ic if np.isfinite(ll) else np.nan
        bic = -2 * ll + np.log(self.nobs) * k_ic if np.isfinite(ll) else np.nan
        values = {
            "family": self.family,
            "link": self.link,
            "method": "quasi-likelihood (IRLS)"
            if self.family == "fractional_logit"
            else ("IRLS" if self.family in FAMILIES[:5] else "maximum likelihood"),
            "cov_type": self.cov_type,
            "n": self.nobs,
            "n_dropped": self.missing.n_dropped,
            "n_clusters": self.n_clusters if self.n_clusters is not None else np.nan,
            "df_model": f.n_coef - (1 if self._design.has_intercept else 0),
            "df_resid": self.nobs - f.n_coef,
            "loglik": ll,
            "aic": aic,
            "bic": bic,
            "deviance": f.deviance,
            "scale": f.extras.get("scale", np.nan),
            "theta": f.extras.get("theta", np.nan),
            "theta_se": f.extras.get("theta_se", np.nan),
            "precision": f.extras.get("precision", np.nan),
            "converged": bool(f.converged),
            "n_iter": f.n_iter,
            "message": f.message,
        }
        return glance_frame(values, REGRESSION_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"{FAMILY_LABELS[self.family]} regression ({self.link} link, {self.cov_type} SEs)"

    def _notes(self) -> list[str]:
        return [self.missing.describe(), *self._notes_]

    @property
    def _can_exponentiate(self) -> bool:  # type: ignore[override]
        return self.family != "gaussian"

    # -- inference options ----------------------------------------------------------
    def with_cov_type(self, cov_type: CovType) -> RegressionResult:
        """Return a new result with standard errors from ``cov_type``.

        Parameters
        ----------
        cov_type : {'model', 'robust', 'HC0', 'HC1', 'HC2', 'HC3'}
            As in :func:`fit_regression`. For a model fitted with ``cluster=``,
            ``'robust'`` gives the cluster-robust SEs and the other values SEs that
            ignore the clusters.
        """
        check_cov_type(cov_type, REGRESSION_COV_TYPES)
        used = _used_cov_type(cov_type, self._clusters is not None, self.family)
        clusters = self._clusters if used == "cluster" else None
        V = _vcov(self._fit, used, clusters, self.family, self.cluster_type)
        idx = self._params.index
        return replace(self, cov_type=used, _cov=pd.DataFrame(V, index=idx, columns=idx))

    # -- prediction -----------------------------------------------------------------
    @property
    def _predictor(self) -> Any:
        return self._fit.predictor

    def _matrices(self, newdata: pd.DataFrame | None) -> dict[str, np.ndarray]:
        data = self._data if newdata is None else newdata
        if newdata is not None:
            check_dataframe(newdata, "newdata")
        try:
            mats = {"X": self._design.matrix(data)}
            if self._zero_design is not None:
                mats["Z"] = self._zero_design.matrix(data)
        except Exception as exc:  # patsy raises many types
            raise DataValidationError(
                f"`newdata` could not be turned into the model's design: {exc}"
            ) from None
        if self.family == "ordinal_logit":
            mats["X"] = mats["X"][:, [c != "Intercept" for c in self._design.columns]]
        if self._offset is not None:
            if self._offset not in data.columns:
                raise DataValidationError(
                    f"`newdata` needs the offset column '{self._offset}' used in the fit."
                )
            mats["offset"] = data[self._offset].to_numpy(dtype=float)
        return mats

    def predict(
        self, newdata: pd.DataFrame | None = None, type: Literal["response", "link"] = "response"
    ) -> pd.Series | pd.DataFrame:
        """Predictions for ``newdata`` (the estimation rows when ``None``).

        Parameters
        ----------
        newdata : pandas.DataFrame, optional
            Must contain every column the formula uses. Rows with missing values give NaN.
        type : {'response', 'link'}
            Mean of the outcome (probability, rate, expected count including the zero
            part) or the linear predictor (of the count part for zero-inflated models).
            Ordinal models return one column of probabilities per category.

        Returns
        -------
        pandas.Series or pandas.DataFrame
        """
        check_option(type, ("response", "link"), "type")
        mats = self._matrices(newdata)
        out = self._fit.predictor(mats, self._params.to_numpy(), type)
        index = (self._data if newdata is None else newdata).index
        if out.ndim == 2:
            return pd.DataFrame(out, index=index, columns=[f"p_{lv}" for lv in self._levels])
        return pd.Series(out, index=index, name="predicted")

    def marginal_effects(
        self, variables: str | list[str] | None = None, *, conf_level: float = 0.95
    ) -> MarginalEffectsResult:
        """Average marginal effects on the response scale, with delta-method SEs.

        See :func:`mutualaid_outcomes.models.regression.marginal.average_marginal_effects`.
        """
        if self.family == "ordinal_logit":
            raise OptionError(
                "marginal_effects() is not available for ordinal models; use predict() to "
                "compare category probabilities."
            )
        return average_marginal_effects(self, variables=variables, conf_level=conf_level)


def _offset_values(clean: pd.DataFrame, offset: str | None) -> np.ndarray | None:
    if offset is None:
        return None
    col = clean[offset]
    if not pd.api.types.is_numeric_dtype(col) or not np.all(np.isfinite(col.to_numpy(float))):
        raise DataValidationError(
            f"`offset` ('{offset}') must be numeric and finite (e.g. the log of days at "
            "risk; log(0) gives -inf)."
        )
    return col.to_numpy(dtype=float)


def _used_cov_type(cov_type: str | None, clustered: bool, family: str) -> str:
    """The covariance estimator the default rule of docs/conventions.md picks.

    Cluster-robust with cluster ids (``cov_type`` None or ``'robust'``); otherwise HC0
    for ``'robust'`` and for the fractional logit's default (a quasi-likelihood estimator,
    defined with its sandwich: Papke & Wooldridge 1996), model-based by default.
    """
    if clustered:
        if cov_type not in (None, "robust"):
            raise OptionError(
                f"`cluster` was given, so the standard errors are cluster-robust: "
                f"`cov_type` must be None or 'robust'; got {cov_type!r}."
            )
        return "cluster"
    if cov_type is None:
        return "HC0" if family == "fractional_logit" else "model"
    return "HC0" if cov_type == "robust" else cov_type


def _vcov(
    fit: Fit, cov_type: str, clusters: np.ndarray | None, family: str, cluster_type: str | None
) -> np.ndarray:
    k = fit.n_coef if family == "negative_binomial" else len(fit.params)
    return sandwich_vcov(
        fit.bread,
        fit.scores,
        "nonrobust" if cov_type == "model" else cov_type,
        scale=fit.scale,
        hat=fit.hat,
        clusters=clusters,
        n_params=k,
        cluster_hc1=cluster_type == "HC1",
    )


def fit_regression(
    data: pd.DataFrame,
    formula: str,
    *,
    family: Family = "gaussian",
    link: str | None = None,
    cluster: str | None = None,
    weights: str | None = None,
    cov_type: CovType | None = None,
    cluster_type: Literal["HC0", "HC1"] | None = None,
    zero_formula: str | None = None,
    beta_boundary: BetaBoundary = "warn",
    offset: str | None = None,
) -> RegressionResult:
    """Fit a regression model for a continuous, binary, count, proportion or ordinal outcome.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation. Not modified.
    formula : str
        statsmodels/patsy formula, e.g. ``"pda ~ aa_meetings + C(arm) + age"``.
    family : str
        ``'gaussian'`` (linear), ``'binomial'`` (logit/probit; outcome 0/1 or two labelled
        levels, the second level in sorted or categorical order coded 1), ``'poisson'``,
        ``'negative_binomial'`` (NB2, theta by maximum likelihood as ``MASS::glm.nb``),
        ``'fractional_logit'`` (quasi-binomial GLM for a proportion in [0, 1] such as PDA;
        robust SEs by default), ``'beta'`` (proportion in (0, 1)), ``'zip'`` / ``'zinb'``
        (zero-inflated Poisson / NB, logit zero part), ``'ordinal_logit'`` (cumulative link,
        proportional odds, for Likert-type outcomes).
    link : str, optional
        ``'logit'`` (default) or ``'probit'`` for binomial, fractional, beta and ordinal
        models; the canonical link otherwise.
    cluster : str, optional
        Column of cluster ids (site, therapist, group); the standard errors are then
        cluster-robust (``glance()['cov_type']`` is ``'cluster'``).
    weights : str, optional
        Column of analytic (prior / precision) weights, as R ``glm(weights=)`` and
        statsmodels ``var_weights``: a row with weight 2 counts as one observation with
        half the variance, so residual degrees of freedom use the number of rows. They are
        not frequency weights. GLM families only.
    cov_type : {'model', 'robust', 'HC0', 'HC1', 'HC2', 'HC3'}, optional
        ``'model'`` (model-based, R ``vcov(glm)``), ``'robust'`` (the sandwich HC0),
        ``'HC0'``-``'HC3'`` (heteroskedasticity-robust, R ``sandwich::vcovHC``; HC2 and
        HC3 need hat values and are GLM-only). With ``cluster`` only None or
        ``'robust'`` (cluster-robust). Default (docs/conventions.md): cluster-robust with
        ``cluster``; otherwise ``'HC0'`` for the fractional logit (a quasi-likelihood
        estimator defined with its sandwich) and ``'model'`` for every other family.
    cluster_type : {'HC0', 'HC1'}, optional
        Small-sample factor of cluster-robust SEs. Both multiply by ``G / (G - 1)``;
        ``'HC1'`` also by ``(n - 1) / (n - k)``. Default: ``'HC1'`` for gaussian models
        (R ``sandwich::vcovCL`` on ``lm``, Stata ``vce(cluster)``) and ``'HC0'`` otherwise
        (``vcovCL`` on ``glm``).
    zero_formula : str, optional
        Right-hand side of the zero-inflation model of ``zip``/``zinb``, e.g. ``"~ age"``;
        default: the same predictors as the count model (as ``pscl::zeroinfl``).
    offset : str, optional
        Column added to the linear predictor with coefficient 1 (count part for
        zero-inflated models), e.g. the log of days at risk so that a Poisson or NB model
        describes a rate (R ``offset()``). Not for beta or ordinal models. ``predict`` and
        ``marginal_effects`` use each row's own offset (``newdata`` must contain it).
    beta_boundary : {'warn', 'transform', 'error'}
        Beta regression needs outcomes strictly inside (0, 1). With exact 0s or 1s,
        ``'warn'`` applies the Smithson-Verkuilen squeeze ``(y (n - 1) + 0.5) / n`` with a
        :class:`~mutualaid_outcomes.errors.DataWarning`, ``'transform'`` applies it
        silently (recorded in the summary notes), ``'error'`` raises.

    Returns
    -------
    RegressionResult
        ``tidy(exponentiate=True)`` gives odds ratios (binomial, fractional, ordinal), rate
        ratios (poisson, NB, count part of zero-inflated models) with their CIs.

    Raises
    ------
    ColumnNotFoundError
        A formula, weight or cluster column is not in ``data`` (close matches suggested).
    DataValidationError
        Outcome values do not fit the family, a single cluster, collinear predictors,
        or invalid weights.
    OptionError
        Unknown family, link or covariance type.
    EstimationError
        No rows left after listwise deletion, or complete separation.

    Warns
    -----
    ConvergenceWarning
        The optimiser did not converge (also recorded in ``glance()``).
    DataWarning
        Quasi-complete separation, or boundary values squeezed for beta regression.
    SmallSampleWarning
        Fewer than 10 clusters for cluster-robust SEs.

    Notes
    -----
    Rows with a missing value in any formula, weight or cluster column are removed
    together (listwise); the count and the columns responsible are in ``glance()``
    (``n_dropped``) and in the summary notes.

    GLM families are fitted by IRLS; covariance matrices use the bread
    ``B = (X'WX)^{-1}`` and scores ``u_i = w_i (y_i - mu_i) mu_i' / V(mu_i) x_i``:
    model-based ``phi B`` (``phi`` estimated for gaussian and fractional models, 1
    otherwise), ``HC0 = B (sum u_i u_i') B``, HC1 = ``n / (n - k)`` HC0, HC2/HC3 scale
    ``u_i`` by ``(1 - h_i)^{-1/2}`` / ``(1 - h_i)^{-1}``, and cluster-robust
    ``c B (sum_g U_g U_g') B`` with ``c = G / (G - 1)`` times ``(n - 1) / (n - k)`` for
    ``cluster_type='HC1'`` -- exactly R ``sandwich::vcovCL`` (``cadjust = TRUE``, whose
    default ``type`` is ``"HC1"`` for ``lm`` and ``"HC0"`` for ``glm`` fits; the defaults
    here follow that). Likelihood families (beta,
    zero-inflated, ordinal) use the inverse observed information as bread.
    Wald intervals use the t distribution with ``n - k`` df for gaussian and fractional
    models (estimated dispersion) and the normal otherwise.

    Ordinal models report the thresholds of ``logit P(Y <= j) = theta_j - x'beta`` (the
    parametrisation of R ``ordinal::clm`` and ``MASS::polr``), converted from statsmodels'
    first threshold plus log increments by the delta method. Zero-inflated models report
    the count part, then the zero part (``zero_`` prefix), then ``log(theta)`` (pscl
    order); their information matrix is the numerical derivative of the analytic score,
    because statsmodels' analytic Hessian of these models gives SEs up to 10% too small.

    Validated against R 4.2.2 (tests/reference/regression.R): ``glm`` (gaussian, binomial
    logit/probit, poisson, quasibinomial) with ``sandwich::vcovHC`` HC0-HC3 and
    ``vcovCL`` to 1e-6 (also with offsets); ``MASS::glm.nb`` coefficients, SEs and theta
    to 1e-6;
    ``pscl::zeroinfl`` and ``ordinal::clm`` within optimiser tolerances named in the
    tests. Beta regression is checked against a direct maximisation of the beta
    log-likelihood (R ``betareg`` was not available).

    References
    ----------
    Papke, L. E., & Wooldridge, J. M. (1996). Econometric methods for fractional response
    variables with an application to 401(k) plan participation rates. *Journal of Applied
    Econometrics*, 11(6), 619-632.

    Smithson, M., & Verkuilen, J. (2006). A better lemon squeezer? Maximum-likelihood
    regression with beta-distributed dependent variables. *Psychological Methods*, 11(1),
    54-71.

    Zeileis, A., Köll, S., & Graham, N. (2020). Various versatile variances: An
    object-oriented implementation of clustered covariances in R. *Journal of Statistical
    Software*, 95(1), 1-36.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> df = pd.DataFrame({"site": np.repeat(np.arange(20), 15), "x": rng.normal(size=300)})
    >>> df["pda"] = np.clip(0.5 + 0.1 * df["x"] + rng.normal(0, 0.2, 300), 0, 1)
    >>> res = fit_regression(df, "pda ~ x", family="fractional_logit", cluster="site")
    >>> res.glance()[["n", "n_clusters", "cov_type"]]
         n  n_clusters cov_type
    0  300          20  cluster
    >>> round(float(res.marginal_effects().tidy().loc[0, "estimate"]), 3)
    0.092
    """
    check_data_first(data, formula, "fit_regression")
    data = check_dataframe(data)
    check_option(family, FAMILIES, "family")
    if link is None:
        link = LINKS[family][0]
    check_option(link, LINKS[family], "link")
    check_option(beta_boundary, ("warn", "transform", "error"), "beta_boundary")
    if cov_type is not None:
        check_cov_type(cov_type, REGRESSION_COV_TYPES)
    cov_type = _used_cov_type(cov_type, cluster is not None, family)
    if cluster_type is None:
        cluster_type = "HC1" if family == "gaussian" else "HC0"
    check_option(cluster_type, ("HC0", "HC1"), "cluster_type")
    if weights is not None and family not in FAMILIES[:5]:
        raise OptionError(
            f"`weights` are supported for GLM families (gaussian, binomial, poisson, "
            f"negative_binomial, fractional_logit); got family={family!r}."
        )
    if zero_formula is not None and family not in ("zip", "zinb"):
        raise OptionError("`zero_formula` applies only to family 'zip' or 'zinb'.")
    if cov_type in ("HC2", "HC3") and family in ("beta", "zip", "zinb", "ordinal_logit"):
        raise OptionError(
            f"`cov_type={cov_type!r}` needs hat values, defined here for GLM families only; "
            "use 'HC0', 'HC1' or cluster-robust errors."
        )
    if offset is not None and family in ("beta", "ordinal_logit"):
        raise OptionError(f"`offset` is not available for family={family!r}.")
    for argname, value in (("weights", weights), ("cluster", cluster), ("offset", offset)):
        if value is not None and not isinstance(value, str):
            raise ArgumentTypeError(f"`{argname}` must be a column name; got {value!r}.")

    cols = formula_columns(formula, data)
    lhs, rhs = split_formula(formula)
    zrhs = None
    if family in ("zip", "zinb"):
        zrhs = rhs if zero_formula is None else zero_formula.split("~")[-1].strip() or "1"
        cols += formula_columns(f"~ {zrhs}", data, "zero_formula")
    extra = []
    if weights is not None:
        extra += check_columns(data, weights, "weights")
    if cluster is not None:
        extra += check_columns(data, cluster, "cluster")
    if offset is not None:
        extra += check_columns(data, offset, "offset")
    clean, report = listwise_delete(data, [*cols, *extra])

    notes: list[str] = []
    y_raw = outcome_series(lhs, clean)
    X, design = build_design(rhs, clean)
    names = list(design.columns)
    w = check_weights(clean[weights]) if weights is not None else np.ones(len(clean))
    off = _offset_values(clean, offset)
    levels: tuple[Any, ...] = ()
    zero_design = None

    if family in ("binomial",):
        y, event = binary_outcome(y_raw, "formula")
        if event is not None:
            notes.append(f"Outcome coded 1 = '{event}'.")
    elif family in ("poisson", "negative_binomial", "zip", "zinb"):
        y = check_count(y_raw, family, "formula")
    elif family in ("fractional_logit", "beta"):
        y = check_fraction(y_raw, family, "formula")
    elif family == "gaussian":
        if not pd.api.types.is_numeric_dtype(y_raw):
            raise DataValidationError(
                f"`formula`: the gaussian outcome ('{lhs}') must be numeric; got {y_raw.dtype}."
            )
        y = y_raw.to_numpy(dtype=float)
    else:
        y = y_raw  # ordinal: any ordered values

    codes = None
    n_clusters = None
    if cluster is not None:
        codes, uniq = pd.factorize(clean[cluster], sort=True)
        n_clusters = len(uniq)
        if n_clusters < 2:
            raise DataValidationError(
                f"`cluster` ('{cluster}') has a single cluster among the {len(clean)} rows used; "
                "cluster-robust SEs need at least 2 (and preferably 30 or more). Drop "
                "`cluster=` or use a coarser/finer grouping."
            )
        if n_clusters < MIN_CLUSTERS_WARN:
            warnings.warn(
                f"Only {n_clusters} clusters in `cluster` ('{cluster}'); cluster-robust SEs "
                "are biased downward with few clusters. Consider a wild cluster bootstrap.",
                SmallSampleWarning,
                stacklevel=2,
            )

    if family in FAMILIES[:5]:
        if family in ("binomial",) and len(np.unique(y)) < 2:
            raise DataValidationError(
                f"`formula`: the binomial outcome ('{lhs}') takes a single value in the "
                f"{len(y)} rows used; nothing to model."
            )
        fit = fit_glm_family(y, X, w, family, link, names, off)
        mats = {"X": X} if off is None else {"X": X, "offset": off}
        with np.errstate(over="ignore", under="ignore"):
            mu = fit.predictor(mats, fit.params, "response")
        n_sep = check_separation(mu, family)
        if family == "binomial" and n_sep == len(y):
            raise EstimationError(
                "Complete separation: the predictors classify every observation perfectly, so "
                "the odds ratios are infinite. Remove or merge the separating predictor(s), "
                "or use penalised (Firth) logistic regression or exact methods."
            )
        if n_sep:
            msg = (
                f"Quasi-complete separation: {n_sep} of {len(y)} fitted probabilities are 0 or "
                "1, so some estimates and SEs are unreliable (very large). Check sparse "
                "categories; consider merging levels or penalised (Firth) regression."
            )
            warnings.warn(msg, DataWarning, stacklevel=2)
            notes.append(msg)
            fit = replace(fit, converged=False, message="; ".join([fit.message, msg]).strip("; "))
    elif family == "beta":
        if np.any((y <= 0) | (y >= 1)):
            nb = int(np.sum((y <= 0) | (y >= 1)))
            if beta_boundary == "error":
                raise DataValidationError(
                    f"`formula`: beta regression needs outcomes strictly inside (0, 1); {nb} "
                    "values are exactly 0 or 1. Use beta_boundary='transform' "
                    "(Smithson-Verkuilen squeeze) or family='fractional_logit'."
                )
            n_ = len(y)
            y = (y * (n_ - 1) + 0.5) / n_
            msg = (
                f"{nb} outcome values at exactly 0 or 1 were squeezed into (0, 1) by "
                "(y (n - 1) + 0.5) / n (Smithson & Verkuilen 2006); estimates depend on this "
                "choice. family='fractional_logit' needs no transformation."
            )
            notes.append(msg)
            if beta_boundary == "warn":
                warnings.warn(msg, DataWarning, stacklevel=2)
        fit = fit_beta(y, X, link, names)
    elif family in ("zip", "zinb"):
        Z, zero_design = build_design(zrhs, clean, "zero_formula")
        if np.all(y > 0):
            raise DataValidationError(
                f"`formula`: the outcome ('{lhs}') has no zeros; a zero-inflated model is not "
                "identified. Use 'poisson' or 'negative_binomial'."
            )
        fit = fit_zero_inflated(y, X, Z, family, names, list(zero_design.columns), off)
    else:
        keep = [c != "Intercept" for c in names]
        fit, lv = fit_ordinal(
            y_raw.reset_index(drop=True),
            X[:, keep],
            link,
            names=[c for c, kk in zip(names, keep) if kk],
        )
        levels = tuple(lv)

    if not fit.converged:
        warnings.warn(
            f"The {family} model did not converge ({fit.message or 'no detail'}); estimates "
            "may be unreliable. See glance()['message'].",
            ConvergenceWarning,
            stacklevel=2,
        )
    V = _vcov(fit, cov_type, codes, family, cluster_type)
    params = pd.Series(fit.params, index=fit.names, name="estimate")
    return RegressionResult(
        formula=formula,
        family=family,
        link=link,
        cov_type=cov_type,
        _params=params,
        _cov=pd.DataFrame(V, index=fit.names, columns=fit.names),
        missing=report,
        n_clusters=n_clusters,
        cluster_type=cluster_type if cluster is not None else None,
        _fit=fit,
        _design=design,
        _zero_design=zero_design,
        _clusters=codes,
        _data=clean,
        _outcome=lhs,
        _offset=offset,
        _notes_=tuple(notes),
        _levels=levels,
    )
