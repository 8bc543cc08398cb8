"""Instrumental-variable estimation for encouragement designs.

Random assignment to a facilitation arm (Twelve-Step Facilitation) changes how
often people attend meetings but, by design, nothing else; it can therefore serve
as an instrument for attendance (Humphreys, Blodgett & Wagner 2014).
:func:`fit_iv` fits two-stage least squares with classical, heteroskedasticity- or
cluster-robust standard errors and first-stage diagnostics; :func:`cace` gives the
complier average causal effect of a binary assignment as the ratio of two
intention-to-treat effects (the Wald estimator).

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(4)
>>> n = 1000
>>> df = pd.DataFrame({"tsf": rng.binomial(1, 1 / 3, n), "motivation": rng.normal(size=n)})
>>> df["meetings"] = rng.poisson(np.exp(2.5 + 0.5 * df["tsf"] + 0.4 * df["motivation"]))
>>> df["pda"] = 0.5 + 0.004 * df["meetings"] + 0.1 * df["motivation"] + rng.normal(0, 0.1, n)
>>> res = fit_iv(df, "pda", "meetings", "tsf")
>>> res.tidy().loc[1, ["term", "estimate"]].tolist()[0]
'meetings'
>>> res.first_stage()["f_statistic"].round(0).tolist()
[293.0]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from ..._validation import (
    MissingReport,
    as_column_list,
    check_binary,
    check_columns,
    check_cov_type,
    check_dataframe,
    check_numeric,
    check_option,
    listwise_delete,
)
from ...errors import (
    ArgumentTypeError,
    DataValidationError,
    DataWarning,
    OptionError,
    SmallSampleWarning,
)
from ...results import BaseResult, glance_frame, wald_table
from .._core.covariance import sandwich_vcov
from .propensity import covariate_design

__all__ = [
    "WeakInstrumentWarning",
    "IVResult",
    "CACEResult",
    "IV_GLANCE_COLUMNS",
    "CACE_GLANCE_COLUMNS",
    "fit_iv",
    "cace",
]

IVCov = Literal["model", "robust", "HC0", "HC1"]
#: ``cov_type`` values of fit_iv and cace (docs/conventions.md)
IV_COV_TYPES: tuple[str, ...] = ("model", "robust", "HC0", "HC1")
#: what each public value computes (the covariance helpers' names)
_CORE_COV = {"model": "nonrobust", "robust": "HC0", "HC0": "HC0", "HC1": "HC1"}
#: first-stage F below this flags weak instruments (Staiger & Stock 1997 rule of thumb)
WEAK_F = 10.0
#: fewer clusters than this: cluster-robust SEs are biased downward (as fit_regression)
MIN_CLUSTERS_WARN = 10

IV_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "cov_type",
    "n",
    "n_dropped",
    "n_clusters",
    "n_exposures",
    "n_instruments",
    "df_resid",
    "sigma",
    "first_stage_f",
    "first_stage_f_classical",
    "partial_r2",
    "weak_instruments",
    "sargan",
    "sargan_p_value",
)
CACE_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "cov_type",
    "n",
    "n_dropped",
    "n_clusters",
    "n_assigned",
    "exposure_binary",
    "first_stage_f",
    "weak_instruments",
)


class WeakInstrumentWarning(DataWarning):
    """The instruments barely predict the exposure (first-stage F below 10)."""


def _check_cov(cov_type: Any, cluster: Any, cluster_type: Any) -> str:
    """The covariance estimator by the default rule of docs/conventions.md.

    Cluster-robust with ``cluster`` (``cov_type`` None or ``'robust'``); otherwise
    ``cov_type``, model-based (classical 2SLS, as R ``AER::ivreg``) by default.
    Returns ``'nonrobust'``, ``'HC0'``, ``'HC1'`` or ``'cluster'``.
    """
    if cov_type is not None:
        check_cov_type(cov_type, IV_COV_TYPES)
    check_option(cluster_type, ("HC0", "HC1"), "cluster_type")
    if cluster is not None and not isinstance(cluster, str):
        raise ArgumentTypeError(f"`cluster` must be a column name; got {cluster!r}.")
    if cluster is not None:
        if cov_type not in (None, "robust"):
            raise OptionError(
                f"`cluster` was given, so the standard errors are cluster-robust: `cov_type` "
                f"must be None or 'robust'; got {cov_type!r}."
            )
        return "cluster"
    return _CORE_COV["model" if cov_type is None else cov_type]


def _public_cov(core: str) -> str:
    """The reported ``cov_type``: ``'model'`` for the classical covariance."""
    return "model" if core == "nonrobust" else core


def _cluster_codes(
    clean: pd.DataFrame, cluster: str | None
) -> tuple[np.ndarray | None, int | None]:
    if cluster is None:
        return None, None
    codes, uniq = pd.factorize(clean[cluster], sort=True)
    if len(uniq) < 2:
        raise DataValidationError(
            f"`cluster` ('{cluster}') has a single cluster among the {len(clean)} rows used; "
            "cluster-robust SEs need at least 2."
        )
    if len(uniq) < MIN_CLUSTERS_WARN:
        warnings.warn(
            f"Only {len(uniq)} clusters in `cluster` ('{cluster}'); cluster-robust SEs and "
            "F statistics are biased with few clusters.",
            SmallSampleWarning,
            stacklevel=3,
        )
    return codes, len(uniq)


def _vcov(
    bread: np.ndarray,
    scores: np.ndarray,
    cov_type: str,
    scale: float,
    clusters: np.ndarray | None,
    cluster_type: str,
) -> np.ndarray:
    return sandwich_vcov(
        bread,
        scores,
        cov_type,
        scale=scale,
        clusters=clusters,
        cluster_hc1=cluster_type == "HC1",
    )


def _first_stage(
    D: np.ndarray,
    Z: np.ndarray,
    W: np.ndarray,
    excl: np.ndarray,
    names: Sequence[str],
    cov_type: str,
    clusters: np.ndarray | None,
    cluster_type: str,
) -> pd.DataFrame:
    """F statistics of the excluded instruments in each first-stage regression."""
    n, kz = Z.shape
    q = int(excl.sum())
    ZtZi = np.linalg.inv(Z.T @ Z)
    rows = []
    for j, name in enumerate(names):
        d = D[:, j]
        b = ZtZi @ (Z.T @ d)
        e = d - Z @ b
        rss_u = float(e @ e)
        br = np.linalg.lstsq(W, d, rcond=None)[0]
        er = d - W @ br
        rss_r = float(er @ er)
        f_classical = ((rss_r - rss_u) / q) / (rss_u / (n - kz))
        if cov_type == "nonrobust":
            f = f_classical
        else:
            V = _vcov(ZtZi, e[:, None] * Z, cov_type, 1.0, clusters, cluster_type)
            bq = b[excl]
            f = float(bq @ np.linalg.solve(V[np.ix_(excl, excl)], bq)) / q
        rows.append(
            {
                "exposure": name,
                "f_statistic": float(f),
                "df_num": q,
                "df_denom": n - kz,
                "p_value": float(stats.f.sf(f, q, n - kz)),
                "f_classical": float(f_classical),
                "partial_r2": (rss_r - rss_u) / rss_r if rss_r > 0 else float("nan"),
                "cov_type": _public_cov(cov_type),
                "weak": bool(f < WEAK_F),
            }
        )
    return pd.DataFrame(rows)


def _warn_weak(fs: pd.DataFrame, stacklevel: int = 3) -> str | None:
    weak = fs[fs["weak"]]
    if weak.empty:
        return None
    detail = ", ".join(f"'{r.exposure}': F = {r.f_statistic:.2f}" for r in weak.itertuples())
    msg = (
        f"Weak instruments: first-stage F below {WEAK_F:g} ({detail}; {weak['cov_type'].iloc[0]} "
        "Wald F). The instruments barely predict the exposure, so 2SLS is biased toward "
        "the confounded OLS estimate and Wald intervals undercover; report "
        "Anderson-Rubin intervals or find a stronger instrument."
    )
    warnings.warn(msg, WeakInstrumentWarning, stacklevel=stacklevel)
    return msg


@dataclass(frozen=True, repr=False, eq=False)
class IVResult(BaseResult):
    """A two-stage least-squares fit (immutable).

    Attributes
    ----------
    outcome : str
        Outcome column.
    exposures : tuple of str
        Endogenous exposure columns.
    instruments : tuple of str
        Excluded instrument design columns (indicators for categorical instruments).
    covariates : tuple of str
        Exogenous covariate design columns (in both stages).
    cov_type : str
        Covariance estimator: ``'model'``, ``'HC0'``, ``'HC1'`` or ``'cluster'``.
    missing : MissingReport
        Rows used and excluded.
    n_clusters : int or None
        Number of clusters for cluster-robust SEs.

    Notes
    -----
    Coefficient protocol: :meth:`coef` gives the second-stage coefficients and
    :meth:`vcov` their covariance under ``cov_type``; :attr:`nobs` is the number of rows
    used and :attr:`df_resid` is ``n - k`` (t-based inference).
    """

    outcome: str
    exposures: tuple[str, ...]
    instruments: tuple[str, ...]
    covariates: tuple[str, ...]
    cov_type: str
    _params: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    missing: MissingReport
    n_clusters: int | None
    cluster_type: str
    _first: pd.DataFrame = field(repr=False)
    _xhat: np.ndarray = field(repr=False)
    _resid: np.ndarray = field(repr=False)
    _Z: np.ndarray = field(repr=False)
    _D: np.ndarray = field(repr=False)
    _W: np.ndarray = field(repr=False)
    _clusters: np.ndarray | None = field(repr=False)
    _notes_: tuple[str, ...] = ()

    _can_exponentiate = False

    @property
    def terms(self) -> tuple[str, ...]:
        """Coefficient names: intercept, covariates, exposures."""
        return tuple(self._params.index)

    def coef(self) -> pd.Series:
        """Second-stage coefficients indexed by term."""
        return self._params.copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of :meth:`coef` under ``cov_type``."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Rows used."""
        return self.missing.n_used

    @property
    def df_resid(self) -> float:
        """Residual degrees of freedom ``n - k``."""
        return float(self.nobs - len(self._params))

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov.to_numpy()))
        return wald_table(self.terms, self._params.to_numpy(), se, conf_level, self.df_resid)

    def first_stage(self) -> pd.DataFrame:
        """First-stage strength of the excluded instruments, one row per exposure.

        Returns
        -------
        pandas.DataFrame
            ``exposure, f_statistic`` (Wald F of the excluded instruments using the
            fit's ``cov_type``: classical, HC0/HC1 or cluster-robust), ``df_num,
            df_denom, p_value, f_classical`` (homoskedastic F), ``partial_r2``
            (share of the exposure's residual variance, after covariates, explained
            by the instruments), ``cov_type``, ``weak`` (F below 10).
        """
        return self._first.copy()

    def glance(self) -> pd.DataFrame:
        """One-row summary with the fixed IV columns.

        Columns ``method, cov_type, n, n_dropped, n_clusters, n_exposures,
        n_instruments, df_resid, sigma, first_stage_f`` (smallest over exposures),
        ``first_stage_f_classical, partial_r2, weak_instruments, sargan,
        sargan_p_value`` (NaN when exactly identified).
        """
        u = self._resid
        sargan = p_sargan = np.nan
        over = len(self.instruments) - len(self.exposures)
        if over > 0:
            g = np.linalg.lstsq(self._Z, u, rcond=None)[0]
            fitted = self._Z @ g
            r2 = 1 - np.sum((u - fitted) ** 2) / np.sum((u - u.mean()) ** 2)
            sargan = float(self.nobs * r2)
            p_sargan = float(stats.chi2.sf(sargan, over))
        fs = self._first
        values = {
            "method": "2SLS",
            "cov_type": self.cov_type,
            "n": self.nobs,
            "n_dropped": self.missing.n_dropped,
            "n_clusters": self.n_clusters if self.n_clusters is not None else np.nan,
            "n_exposures": len(self.exposures),
            "n_instruments": len(self.instruments),
            "df_resid": self.df_resid,
            "sigma": float(np.sqrt(u @ u / self.df_resid)),
            "first_stage_f": float(fs["f_statistic"].min()),
            "first_stage_f_classical": float(fs["f_classical"].min()),
            "partial_r2": float(fs["partial_r2"].min()),
            "weak_instruments": bool(fs["weak"].any()),
            "sargan": sargan,
            "sargan_p_value": p_sargan,
        }
        return glance_frame(values, IV_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"Instrumental variables (2SLS, {self.cov_type} SEs): {self.outcome}"

    def _notes(self) -> list[str]:
        inst = ", ".join(self.instruments)
        return [
            self.missing.describe(),
            f"Instruments: {inst}; exposures: {', '.join(self.exposures)}.",
            *self._notes_,
        ]

    def with_cov_type(
        self, cov_type: IVCov, *, cluster_type: Literal["HC0", "HC1"] | None = None
    ) -> IVResult:
        """Return a new result with standard errors and first-stage F from ``cov_type``.

        Values as in :func:`fit_iv`. For a model fitted with ``cluster=``, ``'robust'``
        gives the cluster-robust SEs and the other values SEs that ignore the clusters.
        """
        check_cov_type(cov_type, IV_COV_TYPES)
        ctype = self.cluster_type if cluster_type is None else cluster_type
        check_option(ctype, ("HC0", "HC1"), "cluster_type")
        if cov_type == "robust" and self._clusters is not None:
            core = "cluster"
        else:
            core = _CORE_COV[cov_type]
        clusters = self._clusters if core == "cluster" else None
        bread = np.linalg.inv(self._xhat.T @ self._xhat)
        u = self._resid
        V = _vcov(bread, u[:, None] * self._xhat, core, u @ u / self.df_resid, clusters, ctype)
        excl = np.zeros(self._Z.shape[1], dtype=bool)
        excl[self._W.shape[1] :] = True
        fs = _first_stage(self._D, self._Z, self._W, excl, self.exposures, core, clusters, ctype)
        idx = self._params.index
        return replace(
            self,
            cov_type=_public_cov(core),
            cluster_type=ctype,
            _cov=pd.DataFrame(V, index=idx, columns=idx),
            _first=fs,
        )


def _numeric_columns(clean: pd.DataFrame, cols: Sequence[str], argument: str) -> None:
    check_numeric(clean, list(cols), argument)


def fit_iv(
    data: pd.DataFrame,
    outcome: str,
    exposure: str | Sequence[str],
    instruments: str | Sequence[str],
    covariates: str | Sequence[str] = (),
    *,
    categorical: Sequence[str] = (),
    cov_type: IVCov | None = None,
    cluster: str | None = None,
    cluster_type: Literal["HC0", "HC1"] = "HC1",
) -> IVResult:
    """Two-stage least squares with robust standard errors and first-stage diagnostics.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person. Not modified.
    outcome : str
        Numeric outcome column (e.g. PDA at month 15).
    exposure : str or sequence of str
        Endogenous exposure column(s), e.g. AA meetings in months 0-3.
    instruments : str or sequence of str
        Excluded instruments, e.g. an indicator of random assignment to TSF. A
        non-numeric or ``categorical`` instrument (``arm``) enters as indicators of
        every level but the first. At least as many instrument columns as exposures.
    covariates : str or sequence of str
        Exogenous covariates, included in both stages (categorical ones as
        indicators).
    categorical : sequence of str
        Numeric-coded instruments or covariates to treat as categories.
    cov_type : {'model', 'robust', 'HC0', 'HC1'}, optional
        Classical (homoskedastic, ``'model'``) or heteroskedasticity-robust
        (``'robust'`` = HC0; HC1 = HC0 times ``n / (n - k)``) standard errors, also used
        for the first-stage F. Default (docs/conventions.md): cluster-robust with
        ``cluster``, ``'model'`` otherwise (R ``summary(ivreg)``).
    cluster : str, optional
        Cluster column (site): cluster-robust standard errors (``cov_type`` None or
        ``'robust'``).
    cluster_type : {'HC0', 'HC1'}
        Cluster-robust small-sample factor: ``G / (G - 1)``, and for ``'HC1'`` also
        ``(n - 1) / (n - k)`` (Stata ``vce(cluster)``).

    Returns
    -------
    IVResult
        ``tidy()`` (second-stage coefficients, t reference with ``n - k`` df),
        ``glance()``, ``first_stage()``, ``with_cov_type()``.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        Non-numeric outcome or exposure, fewer instruments than exposures
        (under-identified), an instrument collinear with the covariates (for
        example constant), or a single cluster.
    OptionError
        Invalid ``cov_type`` / ``cluster`` combination.

    Warns
    -----
    WeakInstrumentWarning
        A first-stage F (with the chosen ``cov_type``) is below 10, e.g. an
        instrument that does not predict the exposure. Recorded in ``glance()``.
    SmallSampleWarning
        Fewer than 10 clusters for cluster-robust SEs.

    Notes
    -----
    With ``X = [1, W, D]`` (covariates and exposures), ``Z = [1, W, Z_excl]`` and
    ``X_hat = Z (Z'Z)^{-1} Z'X``: ``beta = (X_hat'X_hat)^{-1} X_hat'y``; residuals
    ``u = y - X beta`` use the observed exposures. Classical covariance
    ``sigma^2 (X_hat'X_hat)^{-1}`` with ``sigma^2 = u'u / (n - k)``; sandwich
    ``B (sum u_i^2 xhat_i xhat_i') B`` with ``B = (X_hat'X_hat)^{-1}``. The first-stage F
    tests the excluded instruments in ``D ~ Z`` (classical F, or the robust Wald
    statistic divided by the number of instruments); with more than one exposure
    these per-exposure F statistics can overstate strength (Sanderson & Windmeijer
    2016). The Sargan statistic is ``n R^2`` of ``u`` on ``Z``.

    Agrees with R 4.2.2 ``AER::ivreg`` 1.2.10 (coefficients, classical SEs) with
    ``sandwich::vcovHC`` HC0/HC1 and ``vcovCL``, and ``lmtest::waldtest`` first-stage F,
    to 1e-6 relative (tests/reference/iv_aer.R, on ``AER::CigarettesSW`` and a
    simulated encouragement trial).

    References
    ----------
    Angrist, J. D., Imbens, G. W., & Rubin, D. B. (1996). Identification of causal effects
    using instrumental variables. *JASA*, 91(434), 444-455.

    Staiger, D., & Stock, J. H. (1997). Instrumental variables regression with weak
    instruments. *Econometrica*, 65(3), 557-586.

    Humphreys, K., Blodgett, J. C., & Wagner, T. H. (2014). Estimating the efficacy of
    Alcoholics Anonymous without self-selection bias: An instrumental variables
    re-analysis of randomized clinical trials. *Alcoholism: Clinical and Experimental
    Research*, 38(11), 2688-2694.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(9)
    >>> n = 600
    >>> df = pd.DataFrame({"arm": rng.choice(["CBT", "MET", "TSF"], n), "u": rng.normal(size=n)})
    >>> df["meetings"] = 10 + 8 * (df["arm"] == "TSF") + 3 * df["u"] + rng.normal(0, 3, n)
    >>> df["pda"] = 0.4 + 0.01 * df["meetings"] + 0.1 * df["u"] + rng.normal(0, 0.1, n)
    >>> res = fit_iv(df, "pda", "meetings", "arm", cov_type="HC0")
    >>> res.instruments
    ('arm[MET]', 'arm[TSF]')
    >>> round(float(res.coef()["meetings"]), 3)
    0.01
    """
    data = check_dataframe(data)
    cov_type = _check_cov(cov_type, cluster, cluster_type)
    if not isinstance(outcome, str):
        raise ArgumentTypeError(f"`outcome` must be a column name; got {outcome!r}.")
    check_columns(data, outcome, "outcome")
    exps = check_columns(data, exposure, "exposure")
    insts = check_columns(data, instruments, "instruments")
    covs = check_columns(data, covariates, "covariates")
    cat = as_column_list(list(categorical), "categorical")
    if not exps:
        raise DataValidationError("`exposure` is empty; name the endogenous exposure column.")
    if not insts:
        raise DataValidationError("`instruments` is empty; name at least one instrument column.")
    roles = {"outcome": [outcome], "exposure": exps, "instruments": insts, "covariates": covs}
    seen: dict[str, str] = {}
    for role, cols in roles.items():
        for c in cols:
            if c in seen:
                raise DataValidationError(
                    f"Column '{c}' appears in both `{seen[c]}` and `{role}`; each column "
                    "can have one role."
                )
            seen[c] = role
    extra = [cluster] if cluster is not None else []
    if extra:
        check_columns(data, extra, "cluster")
    clean, report = listwise_delete(data, [outcome, *exps, *insts, *covs, *extra])
    _numeric_columns(clean, [outcome], "outcome")
    _numeric_columns(clean, exps, "exposure")
    Wd = covariate_design(clean, covs, cat)
    Zd = covariate_design(clean, insts, cat)
    if Zd.shape[1] < len(exps):
        raise DataValidationError(
            f"Under-identified: {Zd.shape[1]} instrument column(s) ({list(Zd.columns)}) for "
            f"{len(exps)} exposure(s); 2SLS needs at least one instrument per exposure."
        )
    n = len(clean)
    W = np.column_stack([np.ones(n), Wd.to_numpy()])
    Z = np.column_stack([W, Zd.to_numpy()])
    D = clean[exps].to_numpy(dtype=float)
    X = np.column_stack([W, D])
    y = clean[outcome].to_numpy(dtype=float)
    if np.linalg.matrix_rank(W) < W.shape[1]:
        raise DataValidationError(
            f"The `covariates` columns are collinear ({list(Wd.columns)}); remove redundant ones."
        )
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise DataValidationError(
            f"The `instruments` ({list(Zd.columns)}) are constant or collinear with the "
            "covariates in the rows used, so they carry no information about the exposure."
        )
    if n <= Z.shape[1] or n <= X.shape[1]:
        raise DataValidationError(
            f"Only {n} complete rows for {max(Z.shape[1], X.shape[1])} parameters; need more rows."
        )
    codes, n_clusters = _cluster_codes(clean, cluster)
    excl = np.zeros(Z.shape[1], dtype=bool)
    excl[W.shape[1] :] = True
    fs = _first_stage(D, Z, W, excl, exps, cov_type, codes, cluster_type)
    notes = []
    msg = _warn_weak(fs)
    if msg:
        notes.append(msg)
    Pz_X = Z @ np.linalg.lstsq(Z, X, rcond=None)[0]
    XhXh = Pz_X.T @ Pz_X
    if np.linalg.matrix_rank(XhXh) < X.shape[1]:
        raise DataValidationError(
            "The instruments do not predict the exposure(s) independently of the covariates "
            "(the projected exposures are collinear); 2SLS is not identified."
        )
    bread = np.linalg.inv(XhXh)
    beta = bread @ (Pz_X.T @ y)
    u = y - X @ beta
    k = X.shape[1]
    V = _vcov(bread, u[:, None] * Pz_X, cov_type, float(u @ u / (n - k)), codes, cluster_type)
    names = ["Intercept", *Wd.columns, *exps]
    return IVResult(
        outcome=outcome,
        exposures=tuple(exps),
        instruments=tuple(Zd.columns),
        covariates=tuple(Wd.columns),
        cov_type=_public_cov(cov_type),
        _params=pd.Series(beta, index=names, name="estimate"),
        _cov=pd.DataFrame(V, index=names, columns=names),
        missing=report,
        n_clusters=n_clusters,
        cluster_type=cluster_type,
        _first=fs,
        _xhat=Pz_X,
        _resid=u,
        _Z=Z,
        _D=D,
        _W=W,
        _clusters=codes,
        _notes_=tuple(notes),
    )


@dataclass(frozen=True, repr=False, eq=False)
class CACEResult(BaseResult):
    """Complier average causal effect from a randomised encouragement (immutable).

    ``tidy()`` has three rows: ``itt`` (effect of assignment on the outcome),
    ``first_stage`` (effect of assignment on the exposure; for a binary exposure the
    share of compliers) and ``cace`` (their ratio).

    Coefficient protocol: :meth:`coef` gives ``itt``, ``first_stage`` and ``cace``,
    :meth:`vcov` their joint covariance (sandwich of the stacked regressions, delta
    method for the ratio), :attr:`nobs` the rows used and :attr:`df_resid` ``n - k`` of
    the ITT regressions (t-based inference).
    """

    outcome: str
    exposure: str
    assignment: str
    cov_type: str
    _estimates: pd.Series = field(repr=False)
    _cov: pd.DataFrame = field(repr=False)
    missing: MissingReport
    n_clusters: int | None
    exposure_binary: bool
    n_assigned: int
    first_stage_f: float
    _df_resid: int = 0
    _notes_: tuple[str, ...] = ()

    _can_exponentiate = False

    @property
    def terms(self) -> tuple[str, ...]:
        """``('itt', 'first_stage', 'cace')``."""
        return tuple(self._estimates.index)

    def coef(self) -> pd.Series:
        """The ITT effect, the first-stage effect and their ratio."""
        return self._estimates.copy()

    def vcov(self) -> pd.DataFrame:
        """Joint covariance of the three estimates."""
        return self._cov.copy()

    @property
    def nobs(self) -> int:
        """Rows used."""
        return self.missing.n_used

    @property
    def df_resid(self) -> float:
        """Residual degrees of freedom ``n - k`` of the two ITT regressions."""
        return float(self._df_resid)

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        se = np.sqrt(np.diag(self._cov.to_numpy()))
        return wald_table(self.terms, self._estimates.to_numpy(), se, conf_level, self.df_resid)

    def glance(self) -> pd.DataFrame:
        """One-row summary with the fixed CACE columns.

        Columns ``method, cov_type, n, n_dropped, n_clusters, n_assigned,
        exposure_binary, first_stage_f, weak_instruments``.
        """
        values = {
            "method": "Wald (ratio of ITT effects)",
            "cov_type": self.cov_type,
            "n": self.nobs,
            "n_dropped": self.missing.n_dropped,
            "n_clusters": self.n_clusters if self.n_clusters is not None else np.nan,
            "n_assigned": self.n_assigned,
            "exposure_binary": self.exposure_binary,
            "first_stage_f": self.first_stage_f,
            "weak_instruments": bool(self.first_stage_f < WEAK_F),
        }
        return glance_frame(values, CACE_GLANCE_COLUMNS)

    def _title(self) -> str:
        return f"Complier average causal effect of {self.exposure} on {self.outcome}"

    def _notes(self) -> list[str]:
        return [self.missing.describe(), *self._notes_]


def cace(
    data: pd.DataFrame,
    outcome: str,
    exposure: str,
    assignment: str,
    covariates: str | Sequence[str] = (),
    *,
    categorical: Sequence[str] = (),
    cov_type: IVCov | None = None,
    cluster: str | None = None,
    cluster_type: Literal["HC0", "HC1"] = "HC1",
) -> CACEResult:
    """Complier average causal effect of an exposure under randomised encouragement.

    Parameters
    ----------
    data : pandas.DataFrame
        Not modified.
    outcome : str
        Numeric outcome column.
    exposure : str
        Exposure actually received: binary (attended any meeting) for the complier
        average causal effect, or numeric (meetings) for the average causal response
        per unit (Angrist & Imbens 1995).
    assignment : str
        Randomised encouragement coded 0/1 (e.g. assigned to TSF).
    covariates : str or sequence of str
        Baseline covariates included in both ITT regressions (precision only).
    categorical : sequence of str
        Numeric-coded covariates to treat as categories.
    cov_type, cluster, cluster_type
        As in :func:`fit_iv`.

    Returns
    -------
    CACEResult
        ``tidy()`` rows ``itt``, ``first_stage`` and ``cace``.

    Raises
    ------
    DataValidationError
        Assignment not coded 0/1 or a single assignment group, non-numeric outcome or
        exposure, collinear covariates.
    ColumnNotFoundError, OptionError
        As in :func:`fit_iv`.

    Warns
    -----
    WeakInstrumentWarning
        The assignment barely changes the exposure (first-stage F below 10).
    SmallSampleWarning
        Fewer than 10 clusters for cluster-robust SEs.

    Notes
    -----
    ``itt`` and ``first_stage`` are the coefficients of assignment in the OLS
    regressions of outcome and exposure on ``[1, assignment, covariates]``;
    ``cace = itt / first_stage`` (Angrist, Imbens & Rubin 1996). Its standard error
    is the delta method, ``g' V g`` with ``g = (1 / first_stage, -itt / first_stage^2)``
    and ``V`` the joint sandwich covariance of the two coefficients from the stacked
    scores of both regressions. The ratio is identical to the 2SLS coefficient of
    :func:`fit_iv` with the same covariates, and its HC0/HC1/cluster standard error
    equals the 2SLS one (the influence functions coincide: both are
    ``(z_i - z_bar) u_i / (first_stage n var(z))`` with the 2SLS residual ``u_i``);
    the tests check this to 1e-10. Assumptions: random assignment, exclusion
    (assignment affects the outcome only through the exposure), monotonicity (no
    defiers).

    References
    ----------
    Angrist, J. D., Imbens, G. W., & Rubin, D. B. (1996). Identification of causal effects
    using instrumental variables. *JASA*, 91(434), 444-455.

    Angrist, J. D., & Imbens, G. W. (1995). Two-stage least squares estimation of average
    causal effects in models with variable treatment intensity. *JASA*, 90(430), 431-442.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 20000
    >>> z = rng.binomial(1, 0.5, n)
    >>> kind = rng.choice(["complier", "always", "never"], n, p=[0.4, 0.2, 0.4])
    >>> d = np.where(kind == "complier", z, (kind == "always").astype(int))
    >>> df = pd.DataFrame({"tsf": z, "attended": d})
    >>> df["pda"] = 0.6 + 0.15 * d + 0.1 * (kind == "always") + rng.normal(0, 0.2, n)
    >>> res = cace(df, "pda", "attended", "tsf")
    >>> res.tidy()[["term", "estimate"]].round(2)
              term  estimate
    0          itt      0.06
    1  first_stage      0.40
    2         cace      0.15
    """
    data = check_dataframe(data)
    cov_type = _check_cov(cov_type, cluster, cluster_type)
    for argname, value in (
        ("outcome", outcome),
        ("exposure", exposure),
        ("assignment", assignment),
    ):
        if not isinstance(value, str):
            raise ArgumentTypeError(f"`{argname}` must be a column name; got {value!r}.")
    check_columns(data, [outcome], "outcome")
    check_columns(data, [exposure], "exposure")
    check_columns(data, [assignment], "assignment")
    covs = check_columns(data, covariates, "covariates")
    cat = as_column_list(list(categorical), "categorical")
    if len({outcome, exposure, assignment, *covs}) != 3 + len(covs):
        raise DataValidationError(
            "`outcome`, `exposure`, `assignment` and `covariates` must name different columns."
        )
    extra = [cluster] if cluster is not None else []
    if extra:
        check_columns(data, extra, "cluster")
    clean, report = listwise_delete(data, [outcome, exposure, assignment, *covs, *extra])
    _numeric_columns(clean, [outcome], "outcome")
    _numeric_columns(clean, [exposure], "exposure")
    z = check_binary(clean[assignment], "assignment").to_numpy()
    if z.min() == z.max():
        raise DataValidationError(
            f"`assignment` ('{assignment}') takes a single value in the {len(clean)} rows used; "
            "both assignment groups are needed."
        )
    Wd = covariate_design(clean, covs, cat)
    n = len(clean)
    Z = np.column_stack([np.ones(n), z, Wd.to_numpy()])
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise DataValidationError(
            f"`assignment` and `covariates` are collinear ({['Intercept', assignment, *Wd.columns]})."
        )
    codes, n_clusters = _cluster_codes(clean, cluster)
    y = clean[outcome].to_numpy(dtype=float)
    d = clean[exposure].to_numpy(dtype=float)
    ZtZi = np.linalg.inv(Z.T @ Z)
    by = ZtZi @ (Z.T @ y)
    bd = ZtZi @ (Z.T @ d)
    ey, ed = y - Z @ by, d - Z @ bd
    k = Z.shape[1]
    # joint sandwich of (itt, first_stage) from the stacked scores of both regressions
    Ay = (ey[:, None] * Z) @ ZtZi[:, 1]
    Ad = (ed[:, None] * Z) @ ZtZi[:, 1]
    scores = np.column_stack([Ay, Ad])
    if cov_type == "nonrobust":  # cov_type='model'
        # classical: sigma_yd (Z'Z)^{-1}[1, 1] with residual (co)variances over n - k
        S = np.cov(np.column_stack([ey, ed]).T, bias=True) * n / (n - k)
        Vjoint = S * ZtZi[1, 1]
    else:
        Vjoint = sandwich_vcov(
            np.eye(2),
            scores,
            cov_type,
            clusters=codes,
            n_params=k,
            cluster_hc1=cluster_type == "HC1",
        )
    itt, fs = float(by[1]), float(bd[1])
    if fs == 0:
        raise DataValidationError(
            f"`assignment` ('{assignment}') does not change the exposure at all (first-stage "
            "difference 0); the CACE is not identified."
        )
    ratio = itt / fs
    g = np.array([1 / fs, -itt / fs**2])
    var_ratio = float(g @ Vjoint @ g)
    f_stat = fs**2 / Vjoint[1, 1]
    notes = []
    if f_stat < WEAK_F:
        msg = (
            f"Weak instrument: first-stage F = {f_stat:.2f} (below {WEAK_F:g}, {_public_cov(cov_type)}); "
            f"assignment barely changes '{exposure}', so the CACE is imprecise and its Wald "
            "interval undercovers."
        )
        warnings.warn(msg, WeakInstrumentWarning, stacklevel=2)
        notes.append(msg)
    est = pd.Series([itt, fs, ratio], index=["itt", "first_stage", "cace"], name="estimate")
    V = np.zeros((3, 3))
    V[:2, :2] = Vjoint
    cov_r = Vjoint @ g
    V[2, :2] = V[:2, 2] = cov_r
    V[2, 2] = var_ratio
    binary = bool(np.isin(np.unique(d), (0.0, 1.0)).all())
    if binary:
        notes.append(
            f"first_stage is the share of compliers ({fs:.3f}) under monotonicity; cace is the "
            "effect of the exposure among compliers."
        )
    else:
        notes.append(
            "The exposure is not binary: cace is the average causal response per unit of "
            "exposure among people whose exposure the assignment changes (Angrist & Imbens 1995)."
        )
    return CACEResult(
        outcome=outcome,
        exposure=exposure,
        assignment=assignment,
        cov_type=_public_cov(cov_type),
        _estimates=est,
        _cov=pd.DataFrame(V, index=est.index, columns=est.index),
        missing=report,
        n_clusters=n_clusters,
        exposure_binary=binary,
        n_assigned=int(z.sum()),
        first_stage_f=float(f_stat),
        _df_resid=n - k,
        _notes_=tuple(notes),
    )
