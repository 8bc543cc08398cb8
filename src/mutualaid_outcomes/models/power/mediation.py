"""Power to detect specific indirect effects, by simulation (:func:`power_mediation`).

Each replicate simulates a parallel-mediator linear model (or calls a user generator,
such as :func:`~mutualaid_outcomes.datasets.sample_cohort_mediation_data`), fits the
mediator and outcome regressions with the package's least squares
(:func:`.._core.ols.fit_ols`) and tests each indirect effect by joint significance, a
Monte Carlo interval or a percentile bootstrap (:func:`..mediation.product.mediate`).
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import special

from ..._rng import RNGLike, seed_of
from ..._validation import as_column_list, check_option, check_positive_int
from ...errors import (
    ArgumentTypeError,
    ColumnNotFoundError,
    DataValidationError,
    EstimationError,
    MutualAidWarning,
)
from .._core.ols import fit_ols
from ..mediation.product import mediate
from ._result import PowerResult
from ._simulation_core import (
    Run,
    check_alpha,
    check_grid,
    check_real,
    simulate_grid,
)

__all__ = ["power_mediation"]

MediationTest = Literal["joint_significance", "monte_carlo", "percentile"]
ExposureType = Literal["binary", "continuous"]


@dataclass(frozen=True)
class _MediationDesign:
    a: tuple[float, ...]
    b: tuple[float, ...]
    c_prime: float
    exposure_type: str
    p_exposed: float
    n_covariates: int
    covariate_effect: float
    mediator_corr: float
    test: str
    alpha: float
    n_draws: int
    n_boot: int
    generator: Callable[[int, np.random.Generator], pd.DataFrame] | None
    exposure: str
    mediators: tuple[str, ...]
    outcome: str
    covariates: tuple[str, ...]


def _simulate_mediation(
    d: _MediationDesign, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k = len(d.a)
    if d.exposure_type == "binary":
        x = rng.binomial(1, d.p_exposed, n).astype(float)
    else:
        x = rng.standard_normal(n)
    c = rng.standard_normal((n, d.n_covariates))
    shift = d.covariate_effect * c.sum(axis=1)
    e = rng.standard_normal((n, k))
    if k > 1 and d.mediator_corr != 0.0:
        corr = np.full((k, k), d.mediator_corr)
        np.fill_diagonal(corr, 1.0)
        e = e @ np.linalg.cholesky(corr).T
    m = np.outer(x, d.a) + shift[:, None] + e
    y = d.c_prime * x + m @ np.asarray(d.b) + shift + rng.standard_normal(n)
    return x, m, y, c


def _ols(design: np.ndarray, response: np.ndarray) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Coefficients, their standard errors (per response column) and residual df.

    ``None`` when the replicate has no residual degrees of freedom or a collinear design
    (the collinearity rule of :mod:`.._core.ols`): the replicate counts as failed.
    """
    n, q = design.shape
    df = n - q
    if df < 1:
        return None
    try:
        fit = fit_ols(design, response)
    except EstimationError:
        return None
    return fit.beta, fit.std_errors, df


def _mediation_tests(
    d: _MediationDesign,
    x: np.ndarray,
    m: np.ndarray,
    y: np.ndarray,
    c: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray | None:
    n, k = m.shape
    ones = np.ones((n, 1))
    fit_m = _ols(np.column_stack([ones, x, c]), m)
    fit_y = _ols(np.column_stack([ones, x, m, c]), y[:, None])
    if fit_m is None or fit_y is None:
        return None
    a_hat, a_se = fit_m[0][1], fit_m[1][1]
    b_hat, b_se = fit_y[0][2 : 2 + k, 0], fit_y[1][2 : 2 + k, 0]
    if d.test == "joint_significance":
        crit_a = special.stdtrit(fit_m[2], 1 - d.alpha / 2)
        crit_b = special.stdtrit(fit_y[2], 1 - d.alpha / 2)
        return (np.abs(a_hat / a_se) > crit_a) & (np.abs(b_hat / b_se) > crit_b)
    # Monte Carlo: a and b come from different equations and are asymptotically independent
    draws_a = a_hat + a_se * rng.standard_normal((d.n_draws, k))
    draws_b = b_hat + b_se * rng.standard_normal((d.n_draws, k))
    low, high = np.quantile(draws_a * draws_b, [d.alpha / 2, 1 - d.alpha / 2], axis=0)
    return (low > 0) | (high < 0)


def _bootstrap_tests(d: _MediationDesign, frame: pd.DataFrame, rng: np.random.Generator) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MutualAidWarning)
        try:
            res = mediate(
                frame,
                d.exposure,
                list(d.mediators),
                d.outcome,
                list(d.covariates),
                n_boot=d.n_boot,
                ci="percentile",
                conf_level=1 - d.alpha,
                rng=rng,
            )
        except (EstimationError, DataValidationError):
            return None
    tidy = res.tidy(conf_level=1 - d.alpha).set_index("term")
    names = [f"indirect[{m}]" for m in d.mediators]
    low = tidy.loc[names, "conf_low"].to_numpy()
    high = tidy.loc[names, "conf_high"].to_numpy()
    return (low > 0) | (high < 0)


def _mediation_replicate(rng: np.random.Generator, *, n: int, design: _MediationDesign) -> Any:
    d = design
    k = len(d.mediators)
    if d.generator is None:
        x, m, y, c = _simulate_mediation(d, n, rng)
        n_used = n
        frame = None
        if d.test == "percentile":
            frame = pd.DataFrame(np.column_stack([x, m, y, c]))
            frame.columns = [d.exposure, *d.mediators, d.outcome, *d.covariates]
    else:
        data = d.generator(n, rng)
        if not isinstance(data, pd.DataFrame):
            raise ArgumentTypeError(
                f"`generator` must return a pandas DataFrame; got {type(data).__name__}."
            )
        cols = [d.exposure, *d.mediators, d.outcome, *d.covariates]
        missing = [col for col in cols if col not in data.columns]
        if missing:
            raise ColumnNotFoundError(
                f"The frame returned by `generator` lacks column(s) {missing} named in "
                "`exposure`, `mediators`, `outcome` or `covariates`."
            )
        frame = data.loc[:, cols].dropna()
        n_used = len(frame)
        arr = frame.to_numpy(dtype=float)
        x, m, y, c = arr[:, 0], arr[:, 1 : 1 + k], arr[:, 1 + k], arr[:, 2 + k :]
    if d.test == "percentile":
        reject = _bootstrap_tests(d, frame, rng)
    else:
        reject = _mediation_tests(d, x, m, y, c, rng)
    failed = reject is None
    if failed:
        reject = np.zeros(k, dtype=bool)
    return np.concatenate([np.asarray(reject, dtype=float), [float(failed), float(n_used)]])


def _as_effects(value: Any, argument: str) -> tuple[float, ...]:
    values = [value] if isinstance(value, numbers.Real) else value
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ArgumentTypeError(
            f"`{argument}` must be a number or a sequence of numbers; got {type(value).__name__}."
        )
    out = tuple(check_real(v, argument) for v in values)
    if not out:
        raise DataValidationError(f"`{argument}` must give at least one effect.")
    return out


def power_mediation(
    n: int | Sequence[int],
    a: float | Sequence[float] = 0.3,
    b: float | Sequence[float] = 0.3,
    c_prime: float = 0.0,
    *,
    exposure_type: ExposureType = "binary",
    p_exposed: float = 0.5,
    n_covariates: int = 0,
    covariate_effect: float = 0.0,
    mediator_corr: float = 0.0,
    generator: Callable[[int, np.random.Generator], pd.DataFrame] | None = None,
    exposure: str = "x",
    mediators: str | Sequence[str] | None = None,
    outcome: str = "y",
    covariates: str | Sequence[str] = (),
    test: MediationTest = "joint_significance",
    alpha: float = 0.05,
    n_draws: int = 1000,
    n_boot: int = 1000,
    n_sims: int | None = None,
    target_mcse: float | None = None,
    max_seconds: float | None = None,
    rng: RNGLike = None,
    n_jobs: int = 1,
    client: Any = None,
    batch_size: int | None = None,
) -> PowerResult:
    r"""Power to detect specific indirect effects, by simulation, over a grid of sample sizes.

    Parameters
    ----------
    n : int or sequence of int
        Sample sizes (at least 10 each).
    a, b : float or sequence of float
        Exposure -> mediator and mediator -> outcome paths, one per parallel mediator, in
        residual standard deviations (the mediator and outcome residuals have SD 1).
    c_prime : float
        Direct effect of the exposure on the outcome.
    exposure_type : {"binary", "continuous"}
        Exposure drawn as Bernoulli(``p_exposed``) (e.g. a facilitation arm) or N(0, 1)
        (e.g. standardised attendance).
    p_exposed : float
        Probability of exposure for ``exposure_type="binary"``.
    n_covariates : int
        Independent N(0, 1) covariates, adjusted for in every equation.
    covariate_effect : float
        Effect of each covariate on every mediator and on the outcome.
    mediator_corr : float
        Correlation of the mediators' residuals (several mediators).
    generator : callable, optional
        ``generator(n, rng) -> DataFrame`` replaces the built-in model (``a``, ``b``,
        ``c_prime`` and the design arguments above are then ignored); the frame is analysed
        with the columns ``exposure``, ``mediators``, ``outcome`` and ``covariates`` on its
        complete rows.
        :func:`~mutualaid_outcomes.datasets.sample_cohort_mediation_data` simulates
        from the sample cohort's generator.
    exposure, mediators, outcome, covariates : str or sequence of str
        Column names. For the built-in model they only name the terms (default mediators
        ``"m"``, or ``"m1"``, ``"m2"``, ... for several).
    test : {"joint_significance", "monte_carlo", "percentile"}
        How each simulated data set is tested; see Notes.
    alpha : float
        Two-sided significance level (``1 - alpha`` intervals).
    n_draws : int
        Monte Carlo draws per data set for ``test="monte_carlo"``.
    n_boot : int
        Bootstrap resamples per data set for ``test="percentile"``.
    n_sims : int, optional
        Replicates per sample size (default 1000). Not together with ``target_mcse``.
    target_mcse : float, optional
        Monte Carlo SE wanted; sets ``n_sims = ceil(0.25 / target_mcse**2)``, enough at any
        power (the SE ``sqrt(p(1 - p) / n_sims)`` is largest at ``p = 0.5``).
    max_seconds : float, optional
        Time budget. After a pilot of :data:`PILOT_SIMS` replicates per size, raise
        :class:`PowerBudgetError` if the projected time exceeds it.
    rng : int, numpy.random.Generator, numpy.random.SeedSequence or None
        Random source (keyword-only); an integer seed is recorded in ``glance()``.
    n_jobs : int
        Worker processes (joblib, loky backend); -1 for every core.
    client : dask.distributed.Client, optional
        Run on this Dask cluster instead.
    batch_size : int, optional
        Replicates per task (does not change results).

    Returns
    -------
    PowerResult
        ``tidy()``: one row per sample size and effect ``indirect[m]`` with ``estimate``
        the power, ``std_error`` its Monte Carlo SE, Wilson ``conf_low``/``conf_high``,
        then ``n``, ``n_sims``, ``n_failed`` and ``mean_n_used``.

    Raises
    ------
    ArgumentTypeError
        An argument has the wrong type (``generator`` not callable, non-integer sizes ...).
    DataValidationError
        Values out of range (sizes below 10, ``alpha`` outside (0, 0.5), ``a`` and ``b`` of
        different lengths, both ``n_sims`` and ``target_mcse`` ...).
    OptionError
        Unknown ``test`` or ``exposure_type``.
    PowerBudgetError
        The projected time exceeds ``max_seconds``; the message gives the projection and
        the Monte Carlo SE reachable within the budget.
    ColumnNotFoundError
        The generator's frame lacks a named column.

    Notes
    -----
    Built-in model, for mediators :math:`j = 1..k`: :math:`M_j = a_j X + \gamma \sum C +
    e_j`, :math:`Y = c' X + \sum_j b_j M_j + \gamma \sum C + e_Y`, residuals N(0, 1)
    (mediator residuals correlated ``mediator_corr``). Each simulated data set is analysed
    with least squares (mediators on exposure and covariates; outcome on exposure,
    mediators and covariates) and the specific indirect effect :math:`a_j b_j` is declared
    significant by

    * ``"joint_significance"`` (default): both :math:`a_j` and :math:`b_j` significant by
      their t-tests at ``alpha``. Fast (two regressions per replicate); its power and
      type I error are close to those of bootstrap intervals (Fritz & MacKinnon 2007;
      MacKinnon et al. 2002).
    * ``"monte_carlo"``: the ``1 - alpha`` Monte Carlo interval of :math:`a_j b_j`
      (``n_draws`` normal draws of each path) excludes 0 (Preacher & Selig 2012); about
      as fast.
    * ``"percentile"``: the percentile bootstrap interval of
      :func:`~mutualaid_outcomes.models.mediate` (``n_boot`` resamples) excludes 0 --
      the analysis most papers report, but ``n_boot`` times costlier per replicate; use
      ``n_jobs`` / ``client`` and a modest ``n_sims``.

    Power is the proportion of the ``n_sims`` replicates that reject; its Monte Carlo SE
    is :math:`\sqrt{p(1-p)/n_{sims}}` and the interval is Wilson's. Replicates whose
    regressions are singular count as non-rejections and are reported in ``n_failed``.
    Replicate ``i`` at grid position ``g`` draws from the seed-sequence child
    ``(g, i)`` of ``rng``, so results do not depend on ``n_jobs``, ``batch_size`` or the
    backend. Validated against the closed-form joint-significance power (product of the
    two noncentral-t powers, the path estimates being independent) within Monte Carlo
    error (``tests/models/test_power.py``).

    References
    ----------
    Fritz, M. S. & MacKinnon, D. P. (2007). Required sample size to detect the mediated
    effect. *Psychological Science*, 18, 233-239.
    MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G. & Sheets, V. (2002).
    A comparison of methods to test mediation and other intervening variable effects.
    *Psychological Methods*, 7, 83-104.
    Preacher, K. J. & Selig, J. P. (2012). Advantages of Monte Carlo confidence intervals
    for indirect effects. *Communication Methods and Measures*, 6, 77-98.

    Examples
    --------
    >>> res = power_mediation([100, 200], a=0.39, b=0.39, n_sims=200, rng=3)
    >>> res.tidy()[["term", "n", "estimate", "std_error"]].round(3)
              term    n  estimate  std_error
    0  indirect[m]  100      0.51      0.035
    1  indirect[m]  200      0.76      0.030
    """
    grid = check_grid(n, minimum=10)
    design = _mediation_design(
        a,
        b,
        c_prime,
        exposure_type=exposure_type,
        p_exposed=p_exposed,
        n_covariates=n_covariates,
        covariate_effect=covariate_effect,
        mediator_corr=mediator_corr,
        generator=generator,
        exposure=exposure,
        mediators=mediators,
        outcome=outcome,
        covariates=covariates,
        test=test,
        alpha=alpha,
        n_draws=n_draws,
        n_boot=n_boot,
    )
    run = simulate_grid(
        partial(_mediation_replicate, design=design),
        grid,
        n_sims,
        rng=rng,
        n_jobs=n_jobs,
        client=client,
        batch_size=batch_size,
        max_seconds=max_seconds,
        target_mcse=target_mcse,
    )
    return _mediation_result(design, grid, run, run.n_sims, rng)


def _mediation_design(
    a: Any,
    b: Any,
    c_prime: Any,
    *,
    exposure_type: Any,
    p_exposed: Any,
    n_covariates: Any,
    covariate_effect: Any,
    mediator_corr: Any,
    generator: Any,
    exposure: Any,
    mediators: Any,
    outcome: Any,
    covariates: Any,
    test: Any,
    alpha: Any,
    n_draws: Any,
    n_boot: Any,
) -> _MediationDesign:
    """Validate the arguments of :func:`power_mediation` (after ``n``) into a design."""
    check_option(test, ("joint_significance", "monte_carlo", "percentile"), "test")
    check_option(exposure_type, ("binary", "continuous"), "exposure_type")
    alpha = check_alpha(alpha)
    if generator is not None and not callable(generator):
        raise ArgumentTypeError(
            f"`generator` must be a callable generator(n, rng) -> DataFrame; got "
            f"{type(generator).__name__}."
        )
    a_t = _as_effects(a, "a")
    b_t = _as_effects(b, "b")
    if generator is None and len(a_t) != len(b_t):
        raise DataValidationError(
            f"`a` and `b` must give one path per mediator; got {len(a_t)} and {len(b_t)}."
        )
    c_prime = check_real(c_prime, "c_prime")
    p_exposed = check_real(p_exposed, "p_exposed", 0.0, 1.0)
    n_covariates = check_positive_int(n_covariates, "n_covariates", minimum=0)
    covariate_effect = check_real(covariate_effect, "covariate_effect")
    mediator_corr = check_real(mediator_corr, "mediator_corr", -1.0, 1.0)
    n_draws = check_positive_int(n_draws, "n_draws", minimum=100)
    n_boot = check_positive_int(n_boot, "n_boot", minimum=100)
    for name, value in (("exposure", exposure), ("outcome", outcome)):
        if not isinstance(value, str):
            raise ArgumentTypeError(f"`{name}` must be a column name; got {type(value).__name__}.")
    meds, covs = _mediation_columns(generator, len(a_t), mediators, covariates, n_covariates)
    names = [exposure, *meds, outcome, *covs]
    if len(set(names)) != len(names):
        raise DataValidationError(
            "`exposure`, `mediators`, `outcome` and `covariates` must be distinct columns; "
            f"got {names}."
        )
    return _MediationDesign(
        a=a_t,
        b=b_t,
        c_prime=c_prime,
        exposure_type=exposure_type,
        p_exposed=p_exposed,
        n_covariates=n_covariates,
        covariate_effect=covariate_effect,
        mediator_corr=mediator_corr,
        test=test,
        alpha=alpha,
        n_draws=n_draws,
        n_boot=n_boot,
        generator=generator,
        exposure=exposure,
        mediators=tuple(meds),
        outcome=outcome,
        covariates=tuple(covs),
    )


def _mediation_columns(
    generator: Any, k: int, mediators: Any, covariates: Any, n_covariates: int
) -> tuple[list[str], list[str]]:
    """Mediator and covariate names: given, or ``m``/``m1``.. and ``c1``.. for the built-in model."""
    if generator is None:
        meds = (
            as_column_list(mediators, "mediators")
            if mediators is not None
            else (["m"] if k == 1 else [f"m{j + 1}" for j in range(k)])
        )
        if len(meds) != k:
            raise DataValidationError(
                f"`mediators` names {len(meds)} mediator(s) but `a` and `b` give {k}."
            )
        covs = as_column_list(covariates, "covariates")
        if covs and len(covs) != n_covariates:
            raise DataValidationError(
                f"`covariates` names {len(covs)} column(s) but n_covariates={n_covariates}."
            )
        return meds, covs or [f"c{j + 1}" for j in range(n_covariates)]
    if mediators is None:
        raise DataValidationError("With `generator`, name the `mediators` columns.")
    meds = as_column_list(mediators, "mediators")
    if not meds:
        raise DataValidationError("`mediators` must name at least one column.")
    return meds, as_column_list(covariates, "covariates")


def _mediation_result(
    d: _MediationDesign, grid: tuple[int, ...], run: Run, n_sims: int, rng: RNGLike
) -> PowerResult:
    """Rejection counts, failures and mean rows used per size, with the method's notes."""
    k = len(d.mediators)
    rejections = np.array([o[:, :k].sum(axis=0) for o in run.outputs]).astype(int)
    info = pd.DataFrame(
        {
            "n": grid,
            "n_failed": [int(o[:, k].sum()) for o in run.outputs],
            "mean_n_used": [float(o[:, k + 1].mean()) for o in run.outputs],
        }
    )
    label = {
        "joint_significance": "joint significance of a and b",
        "monte_carlo": f"Monte Carlo interval ({d.n_draws} draws)",
        "percentile": f"percentile bootstrap ({d.n_boot} resamples)",
    }[d.test]
    source = "user generator" if d.generator is not None else "linear mediation model"
    notes = [
        f"{n_sims} simulated data sets per sample size from the {source}; power = share "
        f"rejecting at alpha = {d.alpha:g} by {label}.",
        "std_error is the Monte Carlo SE sqrt(p(1-p)/n_sims); conf_low/conf_high are "
        "Wilson intervals.",
    ]
    if d.generator is not None:
        notes.append("Generated frames were analysed on their complete rows (see mean_n_used).")
    return PowerResult(
        effects=tuple(f"indirect[{m}]" for m in d.mediators),
        n_grid=grid,
        rejections=rejections,
        n_sims=n_sims,
        grid_info=info,
        alpha=d.alpha,
        test=d.test,
        method=f"mediation, {label}",
        seed=seed_of(rng),
        elapsed=run.elapsed,
        backend=run.backend,
        n_workers=run.n_workers,
        notes=tuple(notes),
    )
