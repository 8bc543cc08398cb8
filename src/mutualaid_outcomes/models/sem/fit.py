r"""Structural equation models from lavaan syntax: :func:`fit_sem`.

Estimation is normal-theory maximum likelihood (complete data, listwise deletion) or
full-information maximum likelihood (``missing="fiml"``); standard errors as lavaan
0.6.14 reports them by default:

=====================================  ===========================================
setting                                 SEs (``cov_type``, ``information``)
=====================================  ===========================================
``estimator="ML"``, complete data       model-based, expected information
``estimator="ML"``, ``missing="fiml"``  model-based, observed information (Hessian)
``estimator="MLR"`` (any data)          Huber--White sandwich, observed information
``cluster=...``                         cluster-robust sandwich, observed information
=====================================  ===========================================

``estimator="MLR"`` (and ``cluster``) adds the Yuan--Bentler scaled chi-square, Mplus
variant (lavaan ``test = "yuan.bentler.mplus"``), and scaled CFI/TLI/RMSEA.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..._rng import RNGLike, check_rng, seed_of
from ..._validation import check_columns, check_conf_level, check_dataframe, check_option
from ...errors import ArgumentTypeError, ConvergenceWarning, DataValidationError
from .._core import bootstrap as bs
from ._errors import HeywoodWarning
from .defined import DefinedParameters
from .fitstats import fit_measures, model_test, test_information
from .identification import check_identification, check_information, heywood_rows
from .inference import meat, robust_vcov, vcov_from_information
from .likelihood import Likelihood
from .optimizer import fit_from_starts, start_values
from .partable import ParTable, build_partable
from .prepare import prepare_data
from .ram import RamModel
from .resampling import bootstrap_draws, jackknife_draws
from .results import SEMResult
from .standardize import std_all
from .syntax import parse_model

__all__ = ["fit_sem"]

Missing = Literal["listwise", "fiml"]
Estimator = Literal["ML", "MLR"]
CovType = Literal["model", "robust"]
Information = Literal["expected", "observed"]
CIType = Literal["wald", "percentile", "bca", "monte_carlo"]


def _options(
    data: pd.DataFrame,
    missing: str,
    estimator: str,
    cov_type: str | None,
    information: str | None,
    n_boot: int,
    ci: str | None,
    group: str | None,
    cluster: str | None,
    group_equal: Sequence[str] | str,
) -> dict[str, Any]:
    check_option(missing, ("listwise", "fiml"), "missing")
    check_option(estimator, ("ML", "MLR"), "estimator")
    check_option(cov_type, (None, "model", "robust"), "cov_type")
    check_option(information, (None, "expected", "observed"), "information")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 0:
        raise ArgumentTypeError(f"`n_boot` must be an integer >= 0; got {n_boot!r}.")
    if n_boot == 0:
        check_option(ci, (None, "wald"), "ci (without bootstrap, n_boot=0)")
        ci = "wald"
    else:
        check_option(ci, (None, "percentile", "bca", "monte_carlo"), "ci")
        ci = ci or "percentile"
        bs.check_n_boot(int(n_boot), ci)
    for name, col in (("group", group), ("cluster", cluster)):
        if col is not None and not isinstance(col, str):
            raise ArgumentTypeError(f"`{name}` must be a column name; got {type(col).__name__}.")
        if col is not None:
            check_columns(data, col, name)
    if isinstance(group_equal, str):
        group_equal = [group_equal]
    if group_equal and group is None:
        raise DataValidationError(
            "`group_equal` needs `group`: it constrains parameters across groups."
        )
    robust_default = estimator == "MLR" or cluster is not None
    cov_type = cov_type or ("robust" if robust_default else "model")
    if information is None:
        information = "observed" if (missing == "fiml" or cov_type == "robust") else "expected"
    n_groups = 1 if group is None else int(data[group].dropna().nunique())
    return {
        "missing": missing,
        "estimator": estimator,
        "cov_type": cov_type,
        "information": information,
        "ci": ci,
        "n_groups": n_groups,
        "group_equal": tuple(group_equal),
        "scaled": estimator == "MLR" or cluster is not None,
        # lavaan: with `cluster` and estimator ML the scaled test is one of two tests and
        # uses observed.information = "h1"; MLR uses the Hessian for SEs and test alike
        "test_information": "h1" if (cluster is not None and estimator == "ML") else information,
    }


def _vcov(lik, theta, opts, clusters, pt, converged) -> tuple[np.ndarray, np.ndarray]:
    info = (
        lik.observed_information(theta)
        if opts["information"] == "observed"
        else lik.expected_information(theta)
    )
    if not converged:
        return np.full(info.shape, np.nan), info
    check_information(pt, info)
    if opts["cov_type"] == "robust":
        B0 = meat(lik.casewise_scores(theta), clusters, lik.N)
        return robust_vcov(info, B0, lik.N), info
    return vcov_from_information(info, lik.N), info


def _row_values(pt: ParTable, model: RamModel, theta: np.ndarray) -> np.ndarray:
    vals = np.full(len(pt.rows), np.nan)
    for g in range(pt.n_groups):
        e = model.entries[g]
        vals[e.row] = np.where(e.par >= 0, theta[np.maximum(e.par, 0)], e.value)
    return vals


def _defined(pt: ParTable, values: np.ndarray) -> DefinedParameters:
    labels: dict[str, int] = {}
    for r in pt.rows:
        if r.label and r.free and r.op != ":=":
            labels.setdefault(r.label, r.free - 1)
    fixed = {
        r.label: values[k] for k, r in enumerate(pt.rows) if r.label and not r.free and r.op != ":="
    }
    defs = [(r.lhs, r.rhs) for r in pt.rows if r.op == ":="]
    return DefinedParameters(defs, labels, {k: v for k, v in fixed.items() if k not in labels})


def _param_frame(pt, values, V, defined, theta, group_labels, sall):
    q = pt.n_free
    rows = [r for r in pt.rows]
    n = len(rows)
    P = np.zeros((n, q))
    for k, r in enumerate(rows):
        if r.free and r.op != ":=":
            P[k, r.free - 1] = 1.0
    def_idx = [k for k, r in enumerate(rows) if r.op == ":="]
    if def_idx:
        J = defined.jacobian(theta)
        P[def_idx] = J
        values = values.copy()
        values[def_idx] = defined.values(theta)
    cov = P @ V @ P.T
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    se[[k for k, r in enumerate(rows) if not r.free and r.op != ":="]] = 0.0
    multi = pt.n_groups > 1

    def term(r):
        base = f"{r.lhs} {r.op} {r.rhs}".strip() if r.op != "~1" else f"{r.lhs} ~1"
        return base + (f" [{group_labels[r.group]}]" if multi and r.op != ":=" else "")

    frame = pd.DataFrame(
        {
            "term": [term(r) for r in rows],
            "lhs": [r.lhs for r in rows],
            "op": [r.op for r in rows],
            "rhs": [r.rhs for r in rows],
            "group": [group_labels[r.group] if multi else 1 for r in rows],
            "label": [r.label for r in rows],
            "free": [r.free for r in rows],
            "exo": [r.exo for r in rows],
            "estimate": values,
            "std_error": se,
            "std_all": sall,
        }
    )
    keep = (frame["free"] > 0) | (frame["op"] == ":=")
    idx = np.flatnonzero(keep.to_numpy())
    return frame, cov[np.ix_(idx, idx)]


def fit_sem(
    data: pd.DataFrame,
    model: str,
    *,
    group: str | None = None,
    group_equal: Sequence[str] = (),
    missing: Missing = "listwise",
    estimator: Estimator = "ML",
    cov_type: CovType | None = None,
    information: Information | None = None,
    fixed_x: bool = True,
    std_lv: bool = False,
    n_boot: int = 0,
    ci: CIType | None = None,
    conf_level: float = 0.95,
    cluster: str | None = None,
    rng: RNGLike = None,
    max_iter: int = 500,
) -> SEMResult:
    r"""Fit a structural equation model written in lavaan syntax.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person (wide format); model variables numeric.
    model : str
        lavaan model syntax (``=~``, ``~``, ``~~``, ``~ 1``, ``:=``, ``==``, labels,
        fixed values, ``c(...)`` per-group modifiers; see :mod:`.syntax`).
    group : str, optional
        Column defining groups for a multi-group model (lavaan ``group``).
    group_equal : sequence of str
        Parameter classes constrained equal across groups: ``"loadings"``,
        ``"intercepts"``, ``"means"``, ``"regressions"``, ``"residuals"``,
        ``"residual.covariances"``, ``"lv.variances"``, ``"lv.covariances"``.
    missing : {"listwise", "fiml"}
        Listwise deletion or full-information ML (lavaan ``missing = "ml"``).
    estimator : {"ML", "MLR"}
        ML, or ML with robust (sandwich) SEs and the Yuan--Bentler scaled test.
    cov_type : {"model", "robust"}, optional
        SE type; default ``"robust"`` for MLR or with ``cluster``, else ``"model"``.
    information : {"expected", "observed"}, optional
        Information matrix of the SEs; default as lavaan (see the module notes).
    fixed_x : bool
        Treat exogenous observed covariates as fixed (lavaan ``fixed.x``, default).
    std_lv : bool
        Identify factors by unit variances instead of marker loadings.
    n_boot : int
        Bootstrap resamples (or Monte Carlo draws; 0: none). Intervals of every parameter,
        including defined ones, then come from the resamples; ``std_error`` stays
        model-based (or robust) and ``boot_se`` (the SD of the draws) is added.
    ci : {"percentile", "bca", "monte_carlo", "wald"}, optional
        Interval type; ``"percentile"`` bootstrap by default when ``n_boot > 0``,
        ``"wald"`` without; ``"monte_carlo"`` draws the estimates from their normal
        sampling distribution (fast; no refits).
    conf_level : float
        Confidence level of the intervals.
    cluster : str, optional
        Cluster column: cluster-robust SEs and scaled test, and a cluster bootstrap.
    rng : int, numpy.random.Generator or None
        Randomness of the bootstrap.
    max_iter : int
        Maximum optimiser iterations.

    Returns
    -------
    SEMResult

    Raises
    ------
    ModelSyntaxError
        Syntax errors (line and column), inconsistent constraints.
    ColumnNotFoundError
        Variables that are neither latent nor columns (with close matches).
    IdentificationError
        Negative degrees of freedom, a rank-deficient Jacobian, or a singular
        information matrix at the estimates.
    DataValidationError
        Ordinal (categorical) indicators, non-numeric variables, variables without
        variance, a non-positive-definite sample covariance matrix.

    Warns
    -----
    HeywoodWarning
        Negative variance estimates (flagged in ``glance()["heywood"]``).
    ConvergenceWarning
        The optimiser did not converge.
    DataWarning
        Few-valued outcomes or indicators treated as continuous.

    Notes
    -----
    Identification and defaults as lavaan's ``sem()``: first loading fixed to 1,
    residual variances and factor (co)variances free, covariances among exogenous
    factors and among final outcomes, ``fixed.x``, intercepts with ``missing="fiml"``,
    several groups, clusters or a ``~ 1`` in the syntax (see :mod:`.partable`).
    The ML objective, analytic gradient and information are in :mod:`.likelihood`,
    SEs and the Yuan--Bentler test in :mod:`.inference`, fit indices in
    :mod:`.fit_indices`. Estimates, SEs, standardised estimates, test statistics and
    fit indices agree with lavaan 0.6.14 to better than 1e-8 relative on the models of
    ``tests/reference/sem_lavaan.R`` (CFA, the Political Democracy SEM, two-group
    models, FIML cross-lagged panels, MLR).

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling.
    *Journal of Statistical Software*, 48(2), 1-36.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> f = rng.normal(size=500)
    >>> df = pd.DataFrame({f"x{i}": l * f + rng.normal(scale=0.6, size=500)
    ...                    for i, l in zip((1, 2, 3), (1.0, 0.8, 1.2))})
    >>> res = fit_sem(df, "f =~ x1 + x2 + x3")
    >>> round(float(res.coef()["f =~ x2"]), 3)
    0.798
    >>> int(res.glance().loc[0, "df"])
    0
    """
    data = check_dataframe(data)
    parsed = parse_model(model)
    conf_level = check_conf_level(conf_level)
    opts = _options(
        data, missing, estimator, cov_type, information, n_boot, ci, group, cluster, group_equal
    )
    meanstructure = missing == "fiml" or opts["n_groups"] > 1 or cluster is not None
    pt = build_partable(
        parsed,
        [str(c) for c in data.columns],
        n_groups=opts["n_groups"],
        meanstructure=meanstructure,
        fixed_x=bool(fixed_x),
        std_lv=bool(std_lv),
        group_equal=opts["group_equal"],
    )
    prep = prepare_data(data, pt.ov_names, pt.ov_x, group=group, cluster=cluster, missing=missing)
    if len(prep.group_labels) != pt.n_groups:
        raise DataValidationError(
            f"`group` has {pt.n_groups} groups but only {len(prep.group_labels)} keep usable "
            "rows after the missing-data rule; drop the empty groups first."
        )
    ram = RamModel(pt, [(s.mean, s.cov) for s in prep.stats])
    lik = Likelihood(ram, prep.stats)
    theta0 = start_values(pt, prep.stats)
    check_identification(pt, lik, theta0)
    res = fit_from_starts(lik, pt, prep.stats, theta0, max_iter)
    notes = list(pt.notes) + list(prep.notes)
    if not res.converged:
        warnings.warn(
            f"The optimiser did not converge ({res.message}); estimates are unreliable and "
            "standard errors are not reported. Check the model and the starting values.",
            ConvergenceWarning,
            stacklevel=2,
        )
        notes.append(f"Did not converge: {res.message}.")
    out = _finish(pt, prep, lik, ram, res, opts, notes, conf_level, n_boot, cluster, rng)
    out.info["syntax"] = model
    return out


def _finish(pt, prep, lik, ram, res, opts, notes, conf_level, n_boot, cluster, rng) -> SEMResult:
    theta = res.theta
    V, info = _vcov(lik, theta, opts, prep.clusters, pt, res.converged)
    if opts["test_information"] != opts["information"] and opts["scaled"]:
        info = test_information(lik, theta, opts["test_information"])
    fiml = opts["missing"] == "fiml"
    test = model_test(lik, theta, pt, info, prep.clusters, opts["scaled"], fiml)
    if res.converged:
        fm = fit_measures(
            lik, theta, pt, test, prep.clusters, opts["test_information"], opts["scaled"], fiml
        )
    else:  # as lavaan: no test statistics or fit indices without convergence
        fm = {"npar": pt.n_free, "df": test.df}
    values = _row_values(pt, ram, theta)
    defined = _defined(pt, values)
    sall = std_all(pt, ram, theta, values, defined)
    frame, cov = _param_frame(pt, values, V, defined, theta, prep.group_labels, sall)
    heywood = heywood_rows(pt, values, lik, theta)
    if heywood:
        msg = "Heywood case: " + "; ".join(heywood) + "."
        warnings.warn(
            msg + " Check the model (misspecification, too few indicators).",
            HeywoodWarning,
            stacklevel=3,
        )
        notes.append(msg)
    draws, jack, seed, n_failed = _resample(
        pt, prep, theta, V, defined, frame, opts, notes, n_boot, cluster, rng
    )
    n_clusters = (
        int(sum(len(pd.unique(c)) for c in prep.clusters)) if cluster is not None else np.nan
    )
    info_dict = {
        "n": prep.report.n_used,
        "n_input": prep.report.n_input,
        "n_dropped": prep.report.n_dropped,
        "n_groups": pt.n_groups,
        "group_labels": prep.group_labels,
        "n_clusters": n_clusters,
        "estimator": opts["estimator"],
        "missing": opts["missing"],
        "cov_type": opts["cov_type"],
        "information": opts["information"],
        "converged": bool(res.converged),
        "n_iter": res.iterations,
        "heywood": bool(heywood),
        "n_boot": n_boot,
        "n_failed": n_failed,
        "ci": opts["ci"],
        "conf_level": conf_level,
        "seed": np.nan if seed is None else seed,
        "method": "FIML" if opts["missing"] == "fiml" else "ML",
    }
    state = {"pt": pt, "lik": lik, "model": ram, "theta": theta, "report": prep.report}
    state["sds"], state["resid"] = _scales(pt, ram, theta, values)
    return SEMResult(frame, fm, cov, info_dict, draws, jack, tuple(notes), state)


def _resample(pt, prep, theta, V, defined, frame, opts, notes, n_boot, cluster, rng):
    """Bootstrap or Monte Carlo draws: ``(draws, jackknife, seed, n_failed)``."""
    if not n_boot:
        return None, None, None, np.nan
    gen = check_rng(rng)
    seed = seed_of(rng)
    if opts["ci"] == "monte_carlo":
        draws, _ = _draw_frame(frame, _monte_carlo(theta, V, defined, n_boot, gen), None)
        notes.append(
            f"Intervals: Monte Carlo ({n_boot} draws from the normal sampling distribution "
            f"of the estimates, {opts['cov_type']} covariance)."
        )
        return draws, None, seed, 0
    extra = defined.values
    raw = bootstrap_draws(pt, prep.stats, prep.clusters, theta, extra, n_boot, gen)
    n_failed = int(np.isnan(raw[:, 0]).sum()) if raw.shape[1] else 0
    jack_raw = None
    if opts["ci"] == "bca":
        jack_raw = jackknife_draws(pt, prep.stats, prep.clusters, theta, extra)
    draws, jack = _draw_frame(frame, raw, jack_raw)
    notes.append(
        f"Intervals: {opts['ci']} bootstrap ({n_boot} resamples"
        + (", clusters resampled" if cluster else "")
        + f"); SEs are {opts['cov_type']} ({opts['information']} information)."
    )
    return draws, jack, seed, n_failed


def _monte_carlo(theta, V, defined, n_draws, gen) -> np.ndarray:
    """Monte Carlo draws of the free parameters and of the definitions.

    The parameters are drawn from N(theta, V) (Preacher & Selig 2012).
    """
    draws = bs.monte_carlo_draws(theta, V, n_draws, gen)
    if not len(defined):
        return draws
    return np.hstack([draws, defined.values(draws)])


def _scales(pt, ram, theta, values):
    sds = []
    for g in range(pt.n_groups):
        var = np.diag(ram.implied_group(theta, g).sigma_all)
        sd = np.full(var.size, np.nan)
        ok = var > 0
        sd[ok] = np.sqrt(var[ok])
        sds.append(sd)
    resid = {
        (r.group, r.lhs): float(np.sqrt(abs(values[k])))
        for k, r in enumerate(pt.rows)
        if r.op == "~~" and r.lhs == r.rhs
    }
    return sds, resid


def _draw_frame(frame: pd.DataFrame, raw: np.ndarray, jack: np.ndarray | None):
    """Bootstrap (and jackknife) draws as columns named by term.

    Free rows take their parameter's draw, defined rows the definitions' draws (stored
    after the parameters).
    """
    q = int(frame["free"].max()) if len(frame) else 0
    cols, idx = [], []
    n_def = 0
    for _, r in frame.iterrows():
        if r["free"] > 0:
            cols.append(r["term"])
            idx.append(int(r["free"]) - 1)
        elif r["op"] == ":=":
            cols.append(r["term"])
            idx.append(q + n_def)
            n_def += 1
    draws = pd.DataFrame(raw[:, idx], columns=cols)
    return draws, None if jack is None else jack[:, idx]
