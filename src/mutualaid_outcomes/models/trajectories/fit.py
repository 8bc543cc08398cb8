"""Group-based trajectory models: :func:`fit_trajectories`.

A finite mixture of polynomial growth curves over person-level panels (group-based
trajectory modelling, Nagin 1999, 2005; latent class growth analysis), fitted by EM with
Newton polishing from many random starts (:mod:`.engine`, :mod:`.starts`).
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from ..._rng import RNGLike, seed_of
from ..._validation import (
    as_column_list,
    check_dataframe,
    check_option,
    check_positive_int,
)
from ...errors import (
    ArgumentTypeError,
    ConvergenceWarning,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from ...parallel import run_ranges, run_replicates
from .diagnostics import boundary_classes
from .engine import StartFit, direction, fit_from, screen
from .families import FAMILY_NAMES, get_family
from .information import observed
from .panel import Panel, build_panel
from .params import Layout, Params, Spec
from .reporting import report
from .result import TrajectoryResult
from .starts import base_params, person_features, start_params

__all__ = ["fit_trajectories", "TrajectoryFamilyName"]

TrajectoryFamilyName = Literal["gaussian", "cnorm", "poisson", "zip", "logit"]
MAX_DEGREE = 5  # higher polynomial orders are numerically and substantively unwise
LL_REPLICATED_TOL = 1e-3  # starts within this of the best log-likelihood "reached" it
SHORT_PANEL_WARN = 0.5  # warn when more than this share of persons has < degree + 1 waves
SCREEN_ITER = 10  # EM iterations of every start before the best are continued (Mplus's)
FINAL_ALL_UP_TO = 5  # with at most this many starts, all run to convergence
FINAL_SHARE = 0.25  # otherwise this share of them (at least FINAL_ALL_UP_TO) is continued


def _check_degree(degree: Any, n_groups: int) -> tuple[int, ...]:
    vals = [degree] * n_groups if isinstance(degree, numbers.Integral) else degree
    if isinstance(vals, (str, bytes)) or not isinstance(vals, Sequence | np.ndarray):
        raise ArgumentTypeError(
            f"`degree` must be an integer or one integer per class; got {degree!r}."
        )
    vals = list(vals)
    if len(vals) != n_groups:
        raise DataValidationError(
            f"`degree` must give one degree per class ({n_groups}); got {len(vals)}."
        )
    for d in vals:
        if isinstance(d, bool) or not isinstance(d, numbers.Integral):
            raise ArgumentTypeError(f"`degree` entries must be integers; got {d!r}.")
        if not 0 <= int(d) <= MAX_DEGREE:
            raise DataValidationError(
                f"`degree` entries must be between 0 and {MAX_DEGREE}; got {d}."
            )
    return tuple(int(d) for d in vals)


def _check_bounds(family: str, lower: Any, upper: Any) -> tuple[float | None, float | None]:
    for name, v in (("lower", lower), ("upper", upper)):
        if v is None:
            continue
        if family != "cnorm":
            raise OptionError(
                f"`{name}` applies to family='cnorm' (censored normal) only; got family='{family}'."
            )
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not np.isfinite(float(v)):
            raise ArgumentTypeError(f"`{name}` must be a finite number; got {v!r}.")
    if family == "cnorm":
        if lower is None and upper is None:
            raise OptionError(
                "family='cnorm' needs `lower` and/or `upper` (the censoring points, e.g. "
                "lower=0, upper=100 for percent days abstinent); use family='gaussian' for "
                "an uncensored outcome."
            )
        if lower is not None and upper is not None and not float(lower) < float(upper):
            raise DataValidationError(f"`lower` ({lower}) must be below `upper` ({upper}).")
    return (
        None if lower is None else float(lower),
        None if upper is None else float(upper),
    )


def _check_variance(family: str, variance: Any) -> str | None:
    if family in ("gaussian", "cnorm"):
        return check_option(
            "common" if variance is None else variance, ("common", "group"), "variance"
        )
    if variance is not None:
        raise OptionError(
            f"`variance` applies to the normal families ('gaussian', 'cnorm') only; got "
            f"variance={variance!r} with family='{family}'."
        )
    return None


def _check_tol(tol: Any) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise ArgumentTypeError(f"`tol` must be a positive number; got {tol!r}.")
    if not 0 < float(tol) < 1:
        raise DataValidationError(f"`tol` must be in (0, 1); got {tol}.")
    return float(tol)


def n_final_starts(n_starts: int) -> int:
    """Starts continued to convergence after the screening stage (see :func:`_run_starts`)."""
    if n_starts <= FINAL_ALL_UP_TO:
        return n_starts
    return max(FINAL_ALL_UP_TO, math.ceil(n_starts * FINAL_SHARE))


def _run_starts(
    panel: Panel,
    spec: Spec,
    layout: Layout,
    *,
    n_starts: int,
    rng: RNGLike,
    max_iter: int,
    tol: float,
    n_jobs: int,
    client: Any,
    extra: Sequence[Params] = (),
) -> list[StartFit]:
    """Screen every random start with a few EM iterations; continue the best ones.

    Stage 1 runs ``SCREEN_ITER`` EM iterations from every start; stage 2 runs the
    :func:`n_final_starts` starts with the highest stage-1 log-likelihoods (degenerate
    ones excluded) to convergence. The others are reported as ``"abandoned"``. With at
    most ``FINAL_ALL_UP_TO`` starts there is no screening: every start runs to
    convergence at once. ``extra`` starting values always run to convergence.
    """
    base = base_params(panel, spec)
    feats = person_features(panel, spec)
    sd_y = float(panel.y.std()) or 1.0
    n_iter1 = min(SCREEN_ITER, max_iter)
    screening = n_final_starts(n_starts) < n_starts

    def first(gen: np.random.Generator) -> StartFit:
        with np.errstate(all="ignore"):
            p0 = start_params(panel, spec, layout, base, feats, gen)
            if not screening:
                return fit_from(panel, spec, layout, p0, max_iter=max_iter, tol=tol, sd_y=sd_y)
            return screen(panel, spec, layout, p0, n_iter=n_iter1, sd_y=sd_y)

    def final(p0: Params, done: int) -> Callable[[np.random.Generator], StartFit]:
        def go(_gen: np.random.Generator) -> StartFit:
            with np.errstate(all="ignore"):
                f = fit_from(
                    panel, spec, layout, p0, max_iter=max(1, max_iter - done), tol=tol, sd_y=sd_y
                )
            return replace(f, n_iter=f.n_iter + done)

        return go

    fits = run_replicates(first, n_starts, rng=rng, n_jobs=n_jobs, client=client)
    alive = [i for i, f in enumerate(fits) if f.status == "screened" and np.isfinite(f.loglik)]
    keep = sorted(alive, key=lambda i: -fits[i].loglik)[: n_final_starts(n_starts)]
    root = np.random.SeedSequence(0)  # the continued starts draw no random numbers
    tasks = [(final(fits[i].params, fits[i].n_iter), root, 0, 1) for i in keep]
    tasks += [(final(p0, 0), root, 0, 1) for p0 in extra]
    done = run_ranges(tasks, n_jobs=n_jobs, client=client, batch_size=1)
    for i, res in zip(keep, done):
        fits[i] = res[0]
    for i in set(alive) - set(keep):
        fits[i] = replace(
            fits[i],
            status="abandoned",
            message=f"not among the {len(keep)} best after {n_iter1} EM iterations",
        )
    fits.extend(res[0] for res in done[len(keep) :])
    return fits


def _class_order(panel: Panel, spec: Spec, params: Params) -> np.ndarray:
    """Classes ordered by the mean of their expected outcome over the observed times.

    Only classes of equal degree swap places, so class ``k`` keeps ``degree[k]``.
    """
    t = np.unique(panel.time)
    X = panel.design(t)
    level = spec.family.mean(X @ params.beta.T, params.anc, spec.lower, spec.upper).mean(axis=0)
    deg = np.asarray(spec.degree)
    order = np.arange(spec.n_groups)
    for d in np.unique(deg):
        pos = np.flatnonzero(deg == d)
        order[pos] = pos[np.argsort(level[pos], kind="stable")]
    return order


def _starts_frame(fits: list[StartFit], n_best_mask: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "start": np.arange(1, len(fits) + 1),
            "loglik": [f.loglik for f in fits],
            "status": [f.status for f in fits],
            "n_iter": [f.n_iter for f in fits],
            "best": n_best_mask,
            "message": [f.message for f in fits],
        }
    )


def estimate(
    panel: Panel,
    spec: Spec,
    *,
    n_starts: int,
    rng: RNGLike,
    max_iter: int,
    tol: float,
    n_jobs: int = 1,
    client: Any = None,
    extra: Sequence[Params] = (),
) -> tuple[list[StartFit], int]:
    """Fit every start; return the fits and the index of the best usable one."""
    layout = Layout(spec, panel.Z.shape[1])
    fits = _run_starts(
        panel, spec, layout, n_starts=n_starts, rng=rng, max_iter=max_iter, tol=tol,
        n_jobs=n_jobs, client=client, extra=extra,
    )  # fmt: skip
    usable = [i for i, f in enumerate(fits) if f.usable and np.isfinite(f.loglik)]
    if not usable:
        reasons = sorted({f.message for f in fits if f.message})
        raise EstimationError(
            f"None of the {len(fits)} starts kept all {spec.n_groups} classes in use "
            f"({'; '.join(reasons[:3])}). The data support fewer classes: lower `n_groups`, "
            "lower `degree`, or use variance='common'."
        )
    best = max(usable, key=lambda i: fits[i].loglik)
    return fits, best


def fit_trajectories(
    data: pd.DataFrame,
    id: str,
    time: str,
    outcome: str,
    n_groups: int,
    *,
    degree: int | Sequence[int] = 2,
    family: TrajectoryFamilyName = "gaussian",
    variance: Literal["common", "group"] | None = None,
    lower: float | None = None,
    upper: float | None = None,
    covariates: str | Sequence[str] | None = None,
    tv_covariates: str | Sequence[str] | None = None,
    n_starts: int = 20,
    rng: RNGLike = None,
    max_iter: int = 1000,
    tol: float = 1e-9,
    n_jobs: int = 1,
    client: Any = None,
) -> TrajectoryResult:
    r"""Fit a group-based trajectory model (latent class growth analysis).

    Parameters
    ----------
    data : pandas.DataFrame
        Long panel: one row per person and time. Not modified.
    id, time, outcome : str
        Person key, numeric time (months, years, wave number) and outcome columns.
    n_groups : int
        Number of trajectory classes.
    degree : int or sequence of int
        Polynomial degree of the trajectories (0 to 5), one number or one per class.
    family : {"gaussian", "cnorm", "poisson", "zip", "logit"}
        Outcome distribution: normal, censored normal (with ``lower``/``upper``), Poisson,
        zero-inflated Poisson (one structural-zero probability per class) or logistic for
        a 0/1 outcome.
    variance : {"common", "group"}, optional
        Normal families: one residual SD for all classes (default; PROC TRAJ's) or one per
        class (flexmix's ``FLXMRglm(family = "gaussian")``).
    lower, upper : float, optional
        Censoring points of ``family='cnorm'`` (e.g. 0 and 100 for percent days abstinent).
    covariates : str or list of str, optional
        Time-stable predictors of class membership (multinomial logit, class 1 the
        reference), estimated jointly with the trajectories.
    tv_covariates : str or list of str, optional
        Time-varying covariates entering every class's trajectory with class-specific
        coefficients.
    n_starts : int
        Random starts (ignored for one class); above 5, screened by 10 EM iterations
        and the best quarter (at least 5) continued to convergence (see Notes).
    rng : int, numpy.random.Generator or None
        Seed of the starts; recorded in ``glance()``.
    max_iter : int
        EM plus Newton iterations per start.
    tol : float
        Convergence: the Newton decrement (log-likelihood still to gain) below ``tol``;
        where the observed information is not negative definite, an EM gain below
        ``tol`` relative to the log-likelihood.
    n_jobs : int
        Worker processes for the starts (through
        :func:`mutualaid_outcomes.parallel.run_replicates`); results do not depend on it.
    client : dask.distributed.Client, optional
        Run the starts on a Dask cluster instead.

    Returns
    -------
    TrajectoryResult
        ``tidy()`` (class coefficients on raw time, ``sigma``, zero-inflation and
        membership coefficients with SEs from the observed information), ``glance()``,
        ``posterior``, ``class_table()``, ``predict()``, ``observed_means()``.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        Non-numeric time, duplicated (id, time) rows, non-integer counts for
        ``poisson``/``zip``, values other than 0/1 for ``logit``, values outside
        ``[lower, upper]`` for ``cnorm``, covariates varying within persons, too few
        distinct times for the degree.
    OptionError
        An option is not one of the allowed values or does not apply to ``family``.
    EstimationError
        Every start emptied or collapsed a class.

    Notes
    -----
    For person :math:`i` with outcomes :math:`y_{ij}` at times :math:`t_{ij}`,

    .. math::

        L_i = \sum_{k=1}^K \pi_k(z_i) \prod_j f_k(y_{ij} \mid \eta_{kij}), \qquad
        \eta_{kij} = \sum_{r=0}^{d_k} \beta_{kr} t_{ij}^r + w_{ij}'\delta_k,

    with :math:`\pi_k(z) = \exp(z'\gamma_k) / \sum_l \exp(z'\gamma_l)`,
    :math:`\gamma_1 = 0`. Persons contribute the waves they have (missing at random);
    persons with fewer waves than ``degree + 1`` are kept (the class curves are
    estimated from all persons) and counted in ``glance()['n_persons_short']``.

    Each start partitions persons around k-means++ seeds and runs EM, then Newton on
    the observed log-likelihood. With more than 5 starts, every start first runs 10 EM
    iterations and only the best quarter of them (at least 5) continue to convergence;
    the others are reported as ``"abandoned"`` in ``starts`` (Mplus's two-stage
    ``STARTS`` search; flexmix's ``stepFlexmix`` runs every start to convergence).
    Starts that empty a class (expected size below one person) or collapse it (residual
    SD near zero with ``variance='group'``) are discarded and counted. The best
    log-likelihood is "replicated" when at least two continued starts reach it within
    ``1e-3``; otherwise ``glance()['possibly_local']`` is true and a
    :class:`~mutualaid_outcomes.errors.ConvergenceWarning` says so. Classes are
    numbered by the mean level of their expected trajectory, lowest first.

    Standard errors are the inverse of the analytic observed information (Louis 1982,
    person by person), validated against numerical Hessians of the log-likelihood. The
    maximised log-likelihood matches or exceeds R flexmix 2.3 (``stepFlexmix``,
    ``FLXMRglm``) and the class coefficients agree at the same optimum
    (``tests/reference/trajectories_flexmix.R``); flexmix's gaussian driver is
    ``variance='group'``.

    References
    ----------
    Nagin DS (1999). Analyzing developmental trajectories: a semiparametric, group-based
    approach. *Psychological Methods* 4:139-157.

    Jones BL, Nagin DS, Roeder K (2001). A SAS procedure based on mixture models for
    estimating developmental trajectories. *Sociological Methods & Research* 29:374-393.

    Nagin DS (2005). *Group-Based Modeling of Development*. Harvard University Press.

    Muthén LK, Muthén BO (1998-2017). *Mplus User's Guide*, 8th ed., the ``STARTS``
    option (random starts in two stages). Muthén & Muthén.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> n, t = 300, np.arange(5.0)
    >>> high = rng.random(n) < 0.4
    >>> y = np.where(high[:, None], 6 + 1.0 * t, 2 - 0.3 * t) + rng.normal(size=(n, 5))
    >>> df = pd.DataFrame({"id": np.repeat(np.arange(n), 5), "month": np.tile(t, n),
    ...                    "score": y.ravel()})
    >>> res = fit_trajectories(df, "id", "month", "score", 2, degree=1, n_starts=5, rng=1)
    >>> res.tidy()[["term", "estimate"]].round(2)
                                term  estimate
    0             class1:(Intercept)      1.97
    1                   class1:month     -0.29
    2             class2:(Intercept)      5.90
    3                   class2:month      1.04
    4                          sigma      1.03
    5  membership:class2:(Intercept)     -0.31
    >>> res.class_table()[["class", "share", "avepp"]].round(2)
       class  share  avepp
    0      1   0.58    1.0
    1      2   0.42    1.0
    """
    data = check_dataframe(data)
    for name, v in (("id", id), ("time", time), ("outcome", outcome)):
        if not isinstance(v, str):
            raise ArgumentTypeError(f"`{name}` must be a column name; got {v!r}.")
    n_groups = check_positive_int(n_groups, "n_groups")
    family = check_option(family, FAMILY_NAMES, "family")
    deg = _check_degree(degree, n_groups)
    var = _check_variance(family, variance)
    lower, upper = _check_bounds(family, lower, upper)
    n_starts = check_positive_int(n_starts, "n_starts")
    max_iter = check_positive_int(max_iter, "max_iter")
    tol = _check_tol(tol)
    covs = as_column_list(covariates, "covariates")
    tvs = as_column_list(tv_covariates, "tv_covariates")
    if n_groups == 1 and covs:
        raise OptionError("`covariates` (of class membership) need n_groups >= 2.")
    panel = build_panel(data, id, time, outcome, family, max(deg), covs, tvs, lower, upper)
    if panel.n_persons < 2 * n_groups:
        raise DataValidationError(
            f"{panel.n_persons} persons cannot support {n_groups} classes; lower `n_groups`."
        )
    spec = Spec(get_family(family), n_groups, deg, var == "common", lower, upper, len(tvs))
    fits, best = estimate(
        panel, spec, n_starts=1 if n_groups == 1 else n_starts, rng=rng, max_iter=max_iter,
        tol=tol, n_jobs=n_jobs, client=client,
    )  # fmt: skip
    return build_result(
        panel, spec, fits, best, id=id, time=time, outcome=outcome, covariates=covs,
        tv_covariates=tvs, variance=var, seed=seed_of(rng),
    )  # fmt: skip


def _warn(message: str, category: type[Warning]) -> None:
    # _warn <- _diagnose <- build_result <- fit_trajectories <- the user's call
    warnings.warn("fit_trajectories: " + message, category, stacklevel=5)


def _diagnose(
    panel: Panel, spec: Spec, fit: StartFit, tau: np.ndarray, params: Params, n_best: int,
    n_starts: int, pd_ok: bool,
) -> tuple[list[str], int]:  # fmt: skip
    """Notes (and warnings) about convergence, local optima, boundaries and short panels."""
    notes: list[str] = []
    if not pd_ok:
        notes.append(
            "The observed information is not positive definite at the estimates: no "
            "standard errors (a class may sit at a boundary, or the model is not identified)."
        )
    if fit.status == "em_only":
        notes.append(f"Converged by the EM criterion only: {fit.message}.")
    if fit.status not in ("converged", "em_only"):
        notes.append(f"The best start did not converge: {fit.message}.")
        _warn(f"the best start did not converge ({fit.message}); increase `max_iter`.",
              ConvergenceWarning)  # fmt: skip
    if n_starts > 1 and n_best < 2:
        notes.append(
            f"The best log-likelihood was found by only 1 of {n_starts} starts: it may be a "
            "local maximum. Increase `n_starts`."
        )
        _warn(f"the best log-likelihood was reached by only 1 of {n_starts} starts and may "
              "be a local maximum; increase `n_starts`.", ConvergenceWarning)  # fmt: skip
    w = panel.row_weights(tau)
    limits = [
        f"Class {k + 1} has fitted values at a limit (probability or mean at 0 or 1): its "
        "coefficients diverge and their SEs are not meaningful."
        for k in boundary_classes(spec.family.name, panel.Xu @ params.beta.T, w)
    ]
    if limits:
        notes += limits
        _warn(" ".join(limits), ConvergenceWarning)
    need = max(spec.degree) + 1
    short = int(np.sum(panel.waves < need))
    if short:
        notes.append(
            f"{short} of {panel.n_persons} persons have fewer than {need} waves; they are "
            "kept and contribute the waves they have."
        )
        if short > SHORT_PANEL_WARN * panel.n_persons:
            _warn(f"{short} of {panel.n_persons} persons have fewer than {need} waves; the "
                  "class curves rest on few persons with full data. Consider a lower "
                  "`degree`.", DataWarning)  # fmt: skip
    if panel.n_persons_dropped:
        notes.append(f"{panel.n_persons_dropped} persons excluded for missing `covariates`.")
    return notes, short


def build_result(
    panel: Panel,
    spec: Spec,
    fits: list[StartFit],
    best: int,
    *,
    id: str,
    time: str,
    outcome: str,
    covariates: Sequence[str],
    tv_covariates: Sequence[str],
    variance: str | None,
    seed: int | None,
) -> TrajectoryResult:
    """Relabel the best start, compute the observed information and build the result."""
    layout = Layout(spec, panel.Z.shape[1])
    fit = fits[best]
    params = fit.params.permuted(_class_order(panel, spec, fit.params))
    with np.errstate(all="ignore"):
        o = observed(panel, spec, layout, params, derivatives=2)
        hess = cast(np.ndarray, o.hess)  # formed with derivatives=2
        _, pd_ok = direction(cast(np.ndarray, o.grad), hess)
    P = layout.n_params
    V = np.linalg.inv(-hess) if pd_ok else np.full((P, P), np.nan)
    lls = np.array([f.loglik if f.usable else -np.inf for f in fits])
    reached = lls >= o.loglik - LL_REPLICATED_TOL
    n_best = int(reached.sum())
    notes, short = _diagnose(panel, spec, fit, o.tau, params, n_best, len(fits), pd_ok)
    params_s, cov_df, meta = report(panel, spec, layout, params, V)
    tau = o.tau
    K = spec.n_groups
    post = pd.DataFrame({id: panel.ids, "class": np.argmax(tau, axis=1) + 1})
    for k in range(K):
        post[f"prob_class{k + 1}"] = tau[:, k]
    return TrajectoryResult(
        id=id,
        time=time,
        outcome=outcome,
        family=spec.family.name,
        n_groups=K,
        degree=tuple(spec.degree),
        variance=variance,
        lower=spec.lower,
        upper=spec.upper,
        covariates=tuple(covariates),
        tv_covariates=tuple(tv_covariates),
        params=params_s,
        covariance=cov_df,
        loglik=float(o.loglik),
        posterior=post,
        shares=tau.mean(axis=0),
        starts=_starts_frame(fits, reached),
        missing=panel.missing,
        n_persons_dropped=panel.n_persons_dropped,
        n_persons_short=short,
        converged=fit.status in ("converged", "em_only"),
        n_iter=int(fit.n_iter),
        n_starts_best=n_best,
        seed=seed,
        message="; ".join(notes),
        _meta=meta,
        _panel=panel,
        _spec=spec,
        _layout=layout,
        _internal=params,
        _cov_internal=V,
        _notes_=tuple(notes),
    )
