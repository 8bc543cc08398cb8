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
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._validation import (
    as_column_list,
    check_binary,
    check_columns,
    check_dataframe,
    listwise_delete,
)
from ...errors import (
    ArgumentTypeError,
    DataValidationError,
)
from .._core.covariance import sandwich_vcov
from .._core.design import check_conditioning, collinearity_note
from .._core.ols import fit_ols
from ._design import covariate_design
from ._iv_core import (
    IV_CLUSTER_TYPE,
    WEAK_F,
    IVCov,
    WeakInstrumentWarning,
    check_cov,
    cluster_codes,
    first_stage_f,
    iv_vcov,
    numeric_columns,
    public_cov,
    warn_weak,
)
from ._iv_results import CACE_GLANCE_COLUMNS, IV_GLANCE_COLUMNS, CACEResult, IVResult

__all__ = [
    "WeakInstrumentWarning",
    "IVResult",
    "CACEResult",
    "IV_GLANCE_COLUMNS",
    "CACE_GLANCE_COLUMNS",
    "fit_iv",
    "cace",
]


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
    cluster_type: Literal["HC0", "HC1"] | None = None,
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
    cluster_type : {'HC0', 'HC1'}, optional
        Cluster-robust small-sample factor: ``G / (G - 1)``, and for ``'HC1'`` also
        ``(n - 1) / (n - k)`` (Stata ``ivregress, vce(cluster)``). Default (None):
        ``'HC0'``, what R ``sandwich::vcovCL`` uses for an ``AER::ivreg`` fit (its
        HC1-type default is for ``lm`` objects only); the rule of docs/conventions.md.
        The first-stage F uses the same factor.

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
    ctype: str = IV_CLUSTER_TYPE if cluster_type is None else cluster_type
    used_cov = check_cov(cov_type, cluster, ctype)  # 'nonrobust', 'HC0', 'HC1' or 'cluster'
    exps, insts, covs = _check_iv_roles(data, outcome, exposure, instruments, covariates)
    cat = as_column_list(list(categorical), "categorical")
    extra = [cluster] if cluster is not None else []
    if extra:
        check_columns(data, extra, "cluster")
    clean, report = listwise_delete(
        data, [outcome, *exps, *insts, *covs, *extra], identifiers=extra
    )
    numeric_columns(clean, [outcome], "outcome")
    numeric_columns(clean, exps, "exposure")
    Wd = covariate_design(clean, covs, cat)
    Zd = covariate_design(clean, insts, cat)
    W, Z, D, X = _iv_design(clean, Wd, Zd, exps)
    names = ["Intercept", *Wd.columns, *exps]
    kappa, flagged = check_conditioning(X, names, "covariates/exposure")
    n = len(clean)
    y = clean[outcome].to_numpy(dtype=float)
    codes, n_clusters = cluster_codes(clean, cluster)
    excl = np.zeros(Z.shape[1], dtype=bool)
    excl[W.shape[1] :] = True
    fs = first_stage_f(D, Z, W, excl, exps, used_cov, codes, ctype)
    notes = [collinearity_note(kappa, flagged)] if flagged else []
    msg = warn_weak(fs)
    if msg:
        notes.append(msg)
    Pz_X = Z @ fit_ols(Z, X, what="first-stage regression").beta
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
    V = iv_vcov(bread, u[:, None] * Pz_X, used_cov, float(u @ u / (n - k)), codes, ctype)
    return IVResult(
        outcome=outcome,
        exposures=tuple(exps),
        instruments=tuple(Zd.columns),
        covariates=tuple(Wd.columns),
        cov_type=public_cov(used_cov),
        _params=pd.Series(beta, index=names, name="estimate"),
        _cov=pd.DataFrame(V, index=names, columns=names),
        missing=report,
        n_clusters=n_clusters,
        cluster_type=ctype,
        _first=fs,
        _xhat=Pz_X,
        _resid=u,
        _Z=Z,
        _D=D,
        _W=W,
        _clusters=codes,
        _notes_=tuple(notes),
        condition_number=kappa,
        collinear_columns=flagged,
    )


def _check_iv_roles(
    data: pd.DataFrame, outcome: Any, exposure: Any, instruments: Any, covariates: Any
) -> tuple[list[str], list[str], list[str]]:
    """Validate the role columns of :func:`fit_iv`: present, non-empty, one role each."""
    if not isinstance(outcome, str):
        raise ArgumentTypeError(f"`outcome` must be a column name; got {outcome!r}.")
    check_columns(data, outcome, "outcome")
    exps = check_columns(data, exposure, "exposure")
    insts = check_columns(data, instruments, "instruments")
    covs = check_columns(data, covariates, "covariates")
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
    return exps, insts, covs


def _iv_design(
    clean: pd.DataFrame, Wd: pd.DataFrame, Zd: pd.DataFrame, exps: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``W = [1, covariates]``, ``Z = [W, instruments]``, exposures ``D``, ``X = [W, D]``.

    Raises :class:`DataValidationError` when the model is under-identified, the covariates
    or instruments are collinear, or there are too few rows.
    """
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
    return W, Z, D, X


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
    cluster_type: Literal["HC0", "HC1"] | None = None,
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
        exposure, assignment and covariates exactly collinear (the columns of the
        dependency are named).
    ColumnNotFoundError, OptionError
        As in :func:`fit_iv`.

    Warns
    -----
    DataWarning
        Nearly collinear assignment and covariates (Belsley's scaled condition number
        above ``1e4``); ``glance()`` records ``condition_number`` and ``collinear``.
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
    ctype: str = IV_CLUSTER_TYPE if cluster_type is None else cluster_type
    used_cov = check_cov(cov_type, cluster, ctype)  # 'nonrobust', 'HC0', 'HC1' or 'cluster'
    covs = _check_cace_roles(data, outcome, exposure, assignment, covariates)
    cat = as_column_list(list(categorical), "categorical")
    extra = [cluster] if cluster is not None else []
    if extra:
        check_columns(data, extra, "cluster")
    clean, report = listwise_delete(
        data, [outcome, exposure, assignment, *covs, *extra], identifiers=extra
    )
    numeric_columns(clean, [outcome], "outcome")
    numeric_columns(clean, [exposure], "exposure")
    z = check_binary(clean[assignment], "assignment").to_numpy()
    if z.min() == z.max():
        raise DataValidationError(
            f"`assignment` ('{assignment}') takes a single value in the {len(clean)} rows used; "
            "both assignment groups are needed."
        )
    Wd = covariate_design(clean, covs, cat)
    n = len(clean)
    Z = np.column_stack([np.ones(n), z, Wd.to_numpy()])
    kappa, flagged = check_conditioning(
        Z, ["Intercept", assignment, *Wd.columns], "assignment/covariates", refuse_exact=True
    )
    if np.linalg.matrix_rank(Z) < Z.shape[1]:
        raise DataValidationError(
            f"`assignment` and `covariates` are collinear ({['Intercept', assignment, *Wd.columns]})."
        )
    codes, n_clusters = cluster_codes(clean, cluster)
    y = clean[outcome].to_numpy(dtype=float)
    d = clean[exposure].to_numpy(dtype=float)
    k = Z.shape[1]
    by, bd, Vjoint = _itt_regressions(Z, y, d, used_cov, codes, ctype)
    itt, fs = float(by[1]), float(bd[1])
    if fs == 0:
        raise DataValidationError(
            f"`assignment` ('{assignment}') does not change the exposure at all (first-stage "
            "difference 0); the CACE is not identified."
        )
    est, V, f_stat = _cace_estimates(itt, fs, Vjoint)
    notes = _cace_notes(f_stat, fs, d, exposure, used_cov)
    if flagged:
        notes.append(collinearity_note(kappa, flagged))
    binary = bool(np.isin(np.unique(d), (0.0, 1.0)).all())
    return CACEResult(
        outcome=outcome,
        exposure=exposure,
        assignment=assignment,
        cov_type=public_cov(used_cov),
        _estimates=est,
        _cov=pd.DataFrame(V, index=est.index, columns=est.index),
        missing=report,
        n_clusters=n_clusters,
        exposure_binary=binary,
        n_assigned=int(z.sum()),
        first_stage_f=float(f_stat),
        _df_resid=n - k,
        _notes_=tuple(notes),
        condition_number=kappa,
        collinear_columns=flagged,
    )


def _check_cace_roles(
    data: pd.DataFrame, outcome: Any, exposure: Any, assignment: Any, covariates: Any
) -> list[str]:
    """Validate the role columns of :func:`cace`; the covariate list."""
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
    if len({outcome, exposure, assignment, *covs}) != 3 + len(covs):
        raise DataValidationError(
            "`outcome`, `exposure`, `assignment` and `covariates` must name different columns."
        )
    return covs


def _itt_regressions(
    Z: np.ndarray,
    y: np.ndarray,
    d: np.ndarray,
    cov_type: str,
    codes: np.ndarray | None,
    cluster_type: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Outcome and exposure regressed on ``Z = [1, assignment, covariates]``.

    Returns both coefficient vectors and the joint covariance of the two assignment
    coefficients (classical, or the sandwich of the stacked scores).
    """
    n, k = Z.shape
    itt_fs = fit_ols(Z, np.column_stack([y, d]), what="intention-to-treat regression")
    ZtZi = itt_fs.xtx_inv
    by, bd = itt_fs.beta[:, 0], itt_fs.beta[:, 1]
    ey, ed = y - Z @ by, d - Z @ bd
    if cov_type == "nonrobust":  # cov_type='model'
        # classical: sigma_yd (Z'Z)^{-1}[1, 1] with residual (co)variances over n - k
        S = np.cov(np.column_stack([ey, ed]).T, bias=True) * n / (n - k)
        return by, bd, S * ZtZi[1, 1]
    Ay = (ey[:, None] * Z) @ ZtZi[:, 1]
    Ad = (ed[:, None] * Z) @ ZtZi[:, 1]
    Vjoint = sandwich_vcov(
        np.eye(2),
        np.column_stack([Ay, Ad]),
        cov_type,
        clusters=codes,
        n_params=k,
        cluster_hc1=cluster_type == "HC1",
    )
    return by, bd, Vjoint


def _cace_estimates(
    itt: float, fs: float, Vjoint: np.ndarray
) -> tuple[pd.Series, np.ndarray, float]:
    """``itt``, ``first_stage`` and their ratio with the delta-method covariance; the F."""
    ratio = itt / fs
    g = np.array([1 / fs, -itt / fs**2])
    V = np.zeros((3, 3))
    V[:2, :2] = Vjoint
    cov_r = Vjoint @ g
    V[2, :2] = V[:2, 2] = cov_r
    V[2, 2] = float(g @ Vjoint @ g)
    est = pd.Series([itt, fs, ratio], index=["itt", "first_stage", "cace"], name="estimate")
    return est, V, fs**2 / Vjoint[1, 1]


def _cace_notes(f_stat: float, fs: float, d: np.ndarray, exposure: str, cov_type: str) -> list[str]:
    """Weak-instrument warning (also warned) and what ``first_stage`` and ``cace`` mean."""
    notes = []
    if f_stat < WEAK_F:
        msg = (
            f"Weak instrument: first-stage F = {f_stat:.2f} (below {WEAK_F:g}, "
            f"{public_cov(cov_type)}); assignment barely changes '{exposure}', so the CACE "
            "is imprecise and its Wald interval undercovers."
        )
        warnings.warn(msg, WeakInstrumentWarning, stacklevel=3)
        notes.append(msg)
    if bool(np.isin(np.unique(d), (0.0, 1.0)).all()):
        notes.append(
            f"first_stage is the share of compliers ({fs:.3f}) under monotonicity; cace is the "
            "effect of the exposure among compliers."
        )
    else:
        notes.append(
            "The exposure is not binary: cace is the average causal response per unit of "
            "exposure among people whose exposure the assignment changes (Angrist & Imbens 1995)."
        )
    return notes
