"""Product-of-coefficients mediation with parallel or serial mediators.

:func:`mediate` fits one regression per mediator and one for the outcome on the
same rows, multiplies paths into specific indirect effects, and gets intervals
from one joint bootstrap (the same resampled rows -- or whole clusters -- in
every equation), vectorised over resamples, or from Monte Carlo draws.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> n = 400
>>> x = rng.binomial(1, 0.5, n).astype(float)
>>> m = 0.5 * x + rng.normal(size=n)
>>> y = 0.4 * m + 0.2 * x + rng.normal(size=n)
>>> df = pd.DataFrame({"x": x, "m": m, "y": y})
>>> res = mediate(df, "x", ["m"], "y", n_boot=1000, ci="percentile", rng=1)
>>> round(float(res.coef()["indirect[m]"]), 3)
0.163
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..._rng import check_rng, seed_of
from ..._validation import (
    MissingReport,
    as_column_list,
    check_columns,
    check_conf_level,
    check_dataframe,
    check_numeric,
    check_option,
    listwise_delete,
)
from ...errors import (
    ArgumentTypeError,
    DataValidationError,
    EstimationError,
    OptionError,
)
from ...parallel import blas_single_thread
from .._core import bootstrap as bs
from .._core.design import collinearity_note
from ._moderated import ModeratedMediationResult, mediate_moderated
from ._product_design import checked_matrix
from ._product_engine import Engine, make_spec, standardise
from ._product_notes import count_failures as _count_failures
from ._product_notes import interval_note as _interval_note
from ._product_notes import outcome_notes as _outcome_notes
from ._product_result import GLANCE_COLUMNS, MediationResult

if TYPE_CHECKING:
    from ..sem.latent_mediation import LatentMediationResult

__all__ = ["mediate", "MediationResult", "ModeratedMediationResult", "GLANCE_COLUMNS"]

ModelType = Literal["parallel", "serial"]
MediatorFamily = Literal["gaussian"]
OutcomeFamily = Literal["gaussian", "binomial"]
OutcomeLink = Literal["identity", "logit"]
CIType = Literal["bca", "percentile", "monte_carlo"]
#: default number of bootstrap resamples (``n_boot``) or Monte Carlo draws (``n_sims``)
DEFAULT_DRAWS = 5000


#: Longest serial chain accepted (a chain of k mediators has 2^k - 1 specific indirect effects).
MAX_SERIAL = 8


# --------------------------------------------------------------------------- validation


def _check_roles(
    exposure: str,
    mediators: list[str],
    outcome: str,
    covariates: list[str],
    cluster: str | None,
    moderator: str | None = None,
) -> None:
    roles: dict[str, list[str]] = {}
    for role, cols in (
        ("exposure", [exposure]),
        ("mediators", mediators),
        ("outcome", [outcome]),
        ("covariates", covariates),
        ("cluster", [cluster] if cluster is not None else []),
        # a moderator may also be a covariate (it then adjusts every equation)
        ("moderator", [moderator] if moderator is not None and moderator not in covariates else []),
    ):
        for c in cols:
            roles.setdefault(c, []).append(role)
    clash = {c: r for c, r in roles.items() if len(r) > 1}
    if clash:
        parts = [f"'{c}' is given as {' and '.join(r)}" for c, r in clash.items()]
        raise DataValidationError(
            "Each column may play one role in a mediation model: "
            + "; ".join(parts)
            + ". Use distinct columns for the exposure, mediators, outcome, covariates and "
            "cluster."
        )


def _as_single(value: object, argument: str) -> str:
    if not isinstance(value, str):
        raise ArgumentTypeError(
            f"`{argument}` must be one column name (a string); got {type(value).__name__}."
        )
    return value


# --------------------------------------------------------------------------- estimation


# --------------------------------------------------------------------------- public API


def mediate(
    data: pd.DataFrame,
    exposure: str,
    mediators: str | Sequence[str],
    outcome: str,
    covariates: str | Sequence[str] = (),
    *,
    moderator: str | None = None,
    moderated_paths: Sequence[str] | None = None,
    at: Sequence[Any] | None = None,
    center: bool = False,
    min_cell: int | None = None,
    indicators: Mapping[str, Sequence[str]] | None = None,
    model: ModelType = "parallel",
    mediator_family: MediatorFamily = "gaussian",
    mediator_link: Literal["identity"] | None = None,
    outcome_family: OutcomeFamily = "gaussian",
    outcome_link: OutcomeLink | None = None,
    cluster: str | None = None,
    n_boot: int | None = None,
    n_sims: int | None = None,
    ci: CIType = "bca",
    conf_level: float = 0.95,
    rng: int | np.random.Generator | None = None,
) -> MediationResult | ModeratedMediationResult | LatentMediationResult:
    r"""Product-of-coefficients mediation analysis with bootstrap or Monte Carlo intervals.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation. Not modified.
    exposure : str
        Exposure (treatment, attendance) column; numeric, not constant.
    mediators : list of str
        Mediator columns (for ``model="serial"`` in causal order); a list even for one
        mediator (a single name is accepted as a one-element list).
    outcome : str
        Outcome column.
    covariates : str or sequence of str
        Numeric covariates entered in every equation (dummy-code categories first).
    moderator : str, optional
        Moderator ``W`` of a conditional process model (moderated mediation): numeric
        (continuous or two-valued) or categorical (``L - 1`` indicators against the first
        level). A numeric moderator may also be listed in ``covariates``: it then adjusts
        every equation, not only those with a moderated path. Returns a :class:`ModeratedMediationResult`; see
        :mod:`~mutualaid_outcomes.models.mediation._moderated` for the equations.
    moderated_paths : list of str, optional
        Paths ``W`` moderates (required with ``moderator``): ``"a"`` (exposure ->
        mediators), ``"b"`` (mediators -> outcome), ``"c"`` (direct effect), or
        ``"a[m]"``/``"b[m]"`` for one mediator. ``["a"]`` is PROCESS model 7, ``["b"]``
        14, ``["a", "c"]`` 8, ``["b", "c"]`` 15, ``["a", "b"]`` 58, all three 59; with
        ``model="serial"`` the serial analogues (83-92 type).
    at : sequence, optional
        Moderator values of the conditional-effect rows; default mean and +/- 1 SD
        (``ddof=1``) of a continuous moderator, both values of a binary one, every level
        of a categorical one (as PROCESS). Values outside the observed range warn.
    center : bool
        Mean-centre the exposure and a numeric moderator before forming products (the
        lower-order paths are then effects at the mean of ``W``; conditional effects,
        indices and contrasts do not change). Reported in ``glance()``.
    min_cell : int, optional
        Warn when a level of a binary or categorical moderator has fewer rows (default 5).
    indicators : mapping, optional
        Latent mediators, ``{mediator: [indicator columns]}`` (at least two each; the
        first is the marker with loading 1). A mediator named here is a latent variable
        measured by those columns; the others stay observed columns. The whole model is
        then one structural equation model fitted by maximum likelihood with
        :func:`~mutualaid_outcomes.models.sem.latent_mediation` (the SEM code; see
        docs/sem.md), which returns a
        :class:`~mutualaid_outcomes.models.sem.LatentMediationResult`: the same effect
        rows and coefficient protocol, with the fitted SEM in ``.sem``. Intervals come
        from ``n_boot`` bootstrap refits of the SEM (``"bca"``, ``"percentile"``; slower
        than for observed mediators) or ``n_sims`` Monte Carlo draws (``"monte_carlo"``,
        fast); ``std_error`` is the SEM's model-based (delta-method) SE, not the SD of
        the draws. Only ``model="parallel"`` with a gaussian outcome.
    model : {"parallel", "serial"}
        ``"parallel"``: each mediator regressed on the exposure and covariates.
        ``"serial"``: mediator ``j`` also on every earlier mediator (a causal chain; PROCESS
        model 6 for two mediators).
    mediator_family : {"gaussian"}
        Mediator models are linear (binary mediators: use ``causal_mediation``).
    mediator_link : {"identity"}, optional
        Link of the mediator models (identity).
    outcome_family : {"gaussian", "binomial"}
        Linear outcome model, or logistic (``outcome_link="logit"``) for a 0/1 outcome
        (b-paths, direct and indirect effects then on the log-odds scale).
    outcome_link : {"identity", "logit"}, optional
        Link of the outcome model; the canonical one of ``outcome_family`` by default.
    cluster : str, optional
        Cluster (person) column for repeated measures: whole clusters are resampled and the
        BCa jackknife leaves out one cluster at a time.
    n_boot : int, optional
        Bootstrap resamples for ``ci="bca"`` or ``"percentile"`` (default 5000).
    n_sims : int, optional
        Monte Carlo draws for ``ci="monte_carlo"`` (default 5000). Giving ``n_boot`` with
        Monte Carlo intervals, or ``n_sims`` with bootstrap ones, is an error.
    ci : {"bca", "percentile", "monte_carlo"}
        Interval type.
    conf_level : float
        Confidence level.
    rng : int, numpy.random.Generator or None
        Random source (keyword-only); an integer seed is recorded in ``glance()``.

    Returns
    -------
    MediationResult or LatentMediationResult
        ``tidy()`` rows, in order: ``a[m]`` per mediator, ``d[m1->m2]`` (serial),
        ``b[m]``, ``indirect[...]`` per specific indirect effect, ``total_indirect``,
        ``direct``, ``total``, ``prop_mediated``, ``contrast[...]`` for every pair of
        specific indirect effects. ``draws`` holds the resampled effects. With a
        ``moderator``: the paths (with ``a[m]:W``-type product rows), ``index[...]`` (index
        of moderated mediation), ``indirect[...|W=w]``, ``contrast[...|W=w2 minus W=w1]``
        and ``direct[W=w]`` rows (no total or proportion mediated). With
        ``indicators``, a ``LatentMediationResult`` with the same rows (no ``d`` or
        ``contrast`` rows).

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        A column plays two roles, a column is non-numeric or constant, the cluster column
        has missing values, a ``"binomial"`` outcome is not 0/1, or the predictors of an
        equation are exactly collinear (the equation and the columns are named).
    OptionError
        An unknown option, ``cluster`` with ``ci="monte_carlo"``, or ``n_boot`` /
        ``n_sims`` given with the other kind of interval.
    EstimationError
        Collinear regressors, too few rows, or every bootstrap resample failed.

    Warns
    -----
    DataWarning
        A 0/1 outcome analysed with ``outcome_family="gaussian"``, or nearly collinear
        predictors in a fitted equation (Belsley's scaled condition number above
        ``1e4``). ``glance()`` records ``condition_number``, the largest over the
        mediator models and the outcome model (in the outcome model's design unless a
        moderated path puts a product term in a mediator model only), and
        ``collinear``.
    BootstrapWarning
        ``n_boot`` too small for the interval, or some resamples failed (singular
        regressions, non-convergent logit fits); failed resamples are excluded and counted
        in ``glance()["n_failed"]``.

    Notes
    -----
    With exposure :math:`X`, mediators :math:`M_j`, covariates :math:`C` and outcome
    :math:`Y`, the equations are :math:`M_j = i_j + a_j X + \sum_{i<j} d_{ij} M_i +
    C\gamma_j + e_j` (the :math:`d` terms only for ``"serial"``) and :math:`Y = i_Y + c' X
    + \sum_j b_j M_j + C\gamma_Y + e_Y`, fitted by least squares on the rows complete for
    every variable (listwise deletion common to all equations). Specific indirect effects
    are products along each chain, e.g. :math:`a_1 b_1` and :math:`a_1 d_{12} b_2`;
    ``total_indirect`` is their sum, ``direct`` is :math:`c'`, ``total`` is
    ``direct + total_indirect`` (for linear models this equals the exposure coefficient of
    the outcome regressed on :math:`X` and :math:`C`), ``prop_mediated`` is
    ``total_indirect / total`` (unstable when the total is near zero). Point estimates are
    the plug-in values on the full data, never means of draws. Columns are centred and
    scaled before fitting; an equation in which some regressor has :math:`1 - R^2 < 10^{-10}`
    on the others is rejected as collinear (and a resample with such an equation counts as
    failed).

    Inference: one joint nonparametric bootstrap -- each resample reweights every equation
    with the same counts (whole clusters with ``cluster``). Linear equations of all
    resamples are solved at once from packed cross products (no loop over resamples);
    logistic outcome models by batched Newton steps. ``std_error`` is the standard
    deviation of the draws. ``statistic`` and ``p_value`` (normal theory with that
    standard error) are given only for single paths, ``direct`` and ``total``; they are
    NaN for products, ratios and contrasts, whose sampling distributions are not normal --
    use the intervals. BCa uses the jackknife acceleration of Efron (1987) (exact
    leave-one-out refits for linear equations, one-step Newton for a logistic outcome).
    Monte Carlo intervals draw the paths from their joint normal approximation
    (cross-equation residual covariance included for parallel mediators).

    Validated against R lavaan 0.6.14 (point estimates of parallel and serial models agree
    to 1e-13; bootstrap percentile limits and SDs within Monte Carlo error), R boot 1.3.28
    (jackknife acceleration to 1e-11, BCa and percentile limits within Monte Carlo error,
    with ``boot.ci`` given the centred jackknife influence values ``L``; its default
    regression estimate of ``L`` gives another acceleration, see
    :func:`~mutualaid_outcomes.models._core.bootstrap.bca_interval`)
    and the JOBS II plug-in values of R ``mediation`` (to all 7 printed digits). Moderated
    models (``moderator``): point estimates equal products of R ``lm`` coefficients and
    lavaan ``:=`` definitions to 1e-6 (PROCESS models 7, 8, 59, a serial model with
    moderated a and b paths, a categorical moderator), bootstrap limits of the index agree
    with R ``boot`` percentile and BCa within Monte Carlo error
    (``tests/reference/moderated_mediation.R``). Coverage of
    95% intervals for indirect effects (``benchmarks/coverage_mediation.py``): 93.6-95.8%
    for a linear model with skewed errors (1,000 replicates), 93.0-96.8% on the sample
    cohort's data-generating process (500 replicates) except BCa for the near-zero
    motivation effect (91.6%; BCa is known to be liberal when a path is near zero).

    References
    ----------
    Efron, B. (1987). Better bootstrap confidence intervals. *JASA*, 82, 171-185.
    Hayes, A. F. (2022). *Introduction to Mediation, Moderation, and Conditional Process
    Analysis* (3rd ed.). Guilford.
    Kelly, J. F., Hoeppner, B., Stout, R. L. & Pagano, M. (2012). Determining the relative
    importance of the mechanisms of behavior change within Alcoholics Anonymous.
    *Addiction*, 107, 289-299.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(2)
    >>> n = 500
    >>> x = rng.normal(size=n)
    >>> m1 = 0.5 * x + rng.normal(size=n)
    >>> m2 = 0.3 * x + rng.normal(size=n)
    >>> y = 0.4 * m1 + 0.2 * m2 + 0.1 * x + rng.normal(size=n)
    >>> df = pd.DataFrame({"x": x, "m1": m1, "m2": m2, "y": y})
    >>> res = mediate(df, "x", ["m1", "m2"], "y", n_boot=2000, rng=7)
    >>> res.tidy()["term"].tolist()[4:9]
    ['indirect[m1]', 'indirect[m2]', 'total_indirect', 'direct', 'total']
    >>> res.glance()[["n", "n_boot", "n_failed", "seed"]]
         n  n_boot  n_failed  seed
    0  500    2000         0     7
    """
    data = check_dataframe(data)
    exposure = _as_single(exposure, "exposure")
    outcome = _as_single(outcome, "outcome")
    meds = as_column_list(mediators, "mediators")
    if not meds:
        raise DataValidationError("`mediators` must name at least one column.")
    covs = as_column_list(covariates, "covariates")
    if cluster is not None:
        cluster = _as_single(cluster, "cluster")
    check_option(model, ("parallel", "serial"), "model")
    engine_family = _check_families(mediator_family, mediator_link, outcome_family, outcome_link)
    check_option(ci, ("bca", "percentile", "monte_carlo"), "ci")
    n_boot = _check_draws(ci, n_boot, n_sims)
    conf_level = check_conf_level(conf_level)
    if moderator is not None or moderated_paths is not None:
        if moderator is not None:
            moderator = _as_single(moderator, "moderator")
            _check_mediate_columns(data, exposure, meds, outcome, covs, cluster, ci, moderator)
        return mediate_moderated(
            data, {"exposure": exposure, "mediators": meds, "outcome": outcome,
            "covariates": covs, "moderator": moderator, "cluster": cluster},
            {"model": model, "moderated_paths": moderated_paths, "at": at, "center": center,
             "min_cell": min_cell, "n_boot": n_boot, "ci": ci, "conf_level": conf_level,
             "indicators": indicators, "outcome_family": engine_family,
             "max_serial": MAX_SERIAL},
            rng,
        )  # fmt: skip
    if indicators is not None:
        from ._latent import mediate_latent

        return mediate_latent(
            data, exposure, meds, outcome, covs, indicators=indicators, model=model,
            outcome_family=outcome_family, cluster=cluster, n_draws=n_boot, ci=ci,
            conf_level=conf_level, rng=rng,
        )  # fmt: skip
    if len(set(meds)) != len(meds):
        dup = sorted({m for m in meds if meds.count(m) > 1})
        raise DataValidationError(f"`mediators` lists {dup} more than once.")
    if model == "serial" and len(meds) > MAX_SERIAL:
        raise DataValidationError(
            f"`model='serial'` accepts at most {MAX_SERIAL} mediators; got {len(meds)}."
        )
    _check_mediate_columns(data, exposure, meds, outcome, covs, cluster, ci)
    n_boot = bs.check_n_boot(n_boot, ci, "n_sims" if ci == "monte_carlo" else "n_boot")
    gen = check_rng(rng)
    cols = [exposure, *meds, *covs, outcome]
    clean, report = listwise_delete(
        data,
        cols + ([cluster] if cluster else []),
        "data",
        identifiers=[cluster] if cluster else [],
    )
    # every factorisation here is small (N x 10 at most): one BLAS thread, so that a busy
    # second core does not stall them in thread synchronisation
    with blas_single_thread():
        return _mediate_clean(
            clean, report, exposure, meds, outcome, covs, model, engine_family, n_boot, ci,
            cluster, conf_level, gen, seed_of(rng), extra_notes=(),
        )  # fmt: skip


def _check_families(
    mediator_family: str,
    mediator_link: str | None,
    outcome_family: str,
    outcome_link: str | None,
) -> str:
    """Check the family and link arguments; return the engine's outcome model.

    ``'gaussian'`` (identity link) or ``'logit'`` (binomial family, logit link).
    """
    if mediator_family != "gaussian":
        raise OptionError(
            f"`mediator_family` must be 'gaussian'; got {mediator_family!r}. Product-of-"
            "coefficients mediation here uses linear mediator models; for binary mediators "
            "use causal_mediation(mediator_family='binomial')."
        )
    if mediator_link is not None:
        check_option(mediator_link, ("identity",), "mediator_link")
    if outcome_family == "logit":
        raise OptionError(
            "`outcome_family='logit'` was renamed: use outcome_family='binomial' (its link "
            "is outcome_link='logit')."
        )
    check_option(outcome_family, ("gaussian", "binomial"), "outcome_family")
    links = {"gaussian": ("identity",), "binomial": ("logit",)}[outcome_family]
    if outcome_link is not None:
        check_option(outcome_link, links, "outcome_link")
    return "logit" if outcome_family == "binomial" else "gaussian"


def _check_draws(ci: str, n_boot: int | None, n_sims: int | None) -> int:
    """The number of draws: ``n_boot`` for bootstrap intervals, ``n_sims`` for Monte Carlo.

    Returns the count (default :data:`DEFAULT_DRAWS`); giving the other one is an error.
    """
    if ci == "monte_carlo":
        if n_boot is not None:
            raise OptionError(
                "`n_boot` counts bootstrap resamples; Monte Carlo intervals "
                "(ci='monte_carlo') take their number of draws from `n_sims`."
            )
        return DEFAULT_DRAWS if n_sims is None else n_sims
    if n_sims is not None:
        raise OptionError(
            f"`n_sims` counts Monte Carlo draws (ci='monte_carlo'); bootstrap intervals "
            f"(ci={ci!r}) take their number of resamples from `n_boot`."
        )
    return DEFAULT_DRAWS if n_boot is None else n_boot


def _mediate_clean(
    clean: pd.DataFrame,
    report: MissingReport,
    exposure: str,
    meds: list[str],
    outcome: str,
    covs: list[str],
    model: str,
    outcome_family: str,
    n_boot: int,
    ci: str,
    cluster: str | None,
    conf_level: float,
    gen: np.random.Generator,
    seed: int | None,
    extra_notes: Sequence[str],
) -> MediationResult:
    """Estimation on complete rows (validation done by the caller)."""
    cols = [exposure, *covs, *meds, outcome]  # the column order of Spec
    z, kappa, flagged, worst = checked_matrix(clean, cols, len(covs), len(meds), model)
    notes = list(extra_notes) + _outcome_notes(clean, outcome, outcome_family)
    if flagged:
        notes.append(collinearity_note(kappa, flagged, worst))
    zs, _, sd = standardise(z, center_last=outcome_family != "logit")
    spec = make_spec(model, meds, len(covs), outcome_family)
    engine = Engine(spec, zs, sd)
    paths, path_cov = engine.fit()
    estimates = spec.effects(paths[None, :])[0]
    codes: np.ndarray | None = None
    n_groups = 0
    if cluster is not None:
        codes, n_groups = bs.cluster_codes(clean[cluster].to_numpy())
        if n_groups < 2:
            raise DataValidationError(
                f"`cluster` column '{cluster}' has {n_groups} cluster(s); need at least 2."
            )
    if ci == "monte_carlo":
        if not np.all(np.isfinite(path_cov)):
            raise EstimationError(
                "Monte Carlo intervals need residual degrees of freedom in every equation; "
                f"the outcome regression has as many coefficients as rows ({len(zs)})."
            )
        draws_paths, jack = bs.monte_carlo_draws(paths, path_cov, n_boot, gen), None
        method = "monte carlo"
    else:
        draws_paths = engine.bootstrap(n_boot, gen, codes, n_groups)
        method = "bootstrap" if cluster is None else "cluster bootstrap"
        jack = spec.effects(engine.jackknife(codes, n_groups)) if ci == "bca" else None
    n_failed = _count_failures(draws_paths, n_boot, notes)
    terms = spec.term_names
    draws = pd.DataFrame(spec.effects(draws_paths), columns=terms)
    notes.insert(0, report.describe())
    notes.append(_interval_note(ci, n_boot, cluster))
    return MediationResult(
        _terms=tuple(terms),
        _estimates=estimates,
        draws=draws,
        jackknife=jack,
        ci=ci,
        conf_level=conf_level,
        _nobs=report.n_used,
        n_dropped=report.n_dropped,
        n_boot=n_boot,
        n_failed=n_failed,
        seed=seed,
        n_clusters=n_groups if cluster is not None else None,
        model=model,
        method=method,
        exposure=exposure,
        mediators=tuple(meds),
        outcome=outcome,
        covariates=tuple(covs),
        outcome_family="binomial" if outcome_family == "logit" else outcome_family,
        wald_terms=frozenset(spec.wald_terms),
        notes=tuple(notes),
        condition_number=kappa,
        collinear_columns=flagged,
    )


def _check_mediate_columns(
    data: pd.DataFrame,
    exposure: str,
    meds: list[str],
    outcome: str,
    covs: list[str],
    cluster: str | None,
    ci: str,
    moderator: str | None = None,
) -> None:
    """The role columns exist, are numeric and distinct; a cluster column is complete."""
    check_columns(data, [exposure], "exposure")
    if moderator is not None:
        check_columns(data, [moderator], "moderator")
    check_columns(data, meds, "mediators")
    check_columns(data, [outcome], "outcome")
    check_columns(data, covs, "covariates")
    if cluster is not None:
        check_columns(data, [cluster], "cluster")
    _check_roles(exposure, meds, outcome, covs, cluster, moderator)
    check_numeric(data, [exposure], "exposure")
    check_numeric(data, meds, "mediators")
    check_numeric(data, [outcome], "outcome")
    check_numeric(data, covs, "covariates")
    if ci == "monte_carlo" and cluster is not None:
        raise OptionError(
            "`cluster` needs a bootstrap interval (ci='bca' or 'percentile'); Monte Carlo "
            "intervals assume independent rows."
        )
    if cluster is not None:
        n_na = int(data[cluster].isna().sum())
        if n_na:
            raise DataValidationError(
                f"`cluster` column '{cluster}' has {n_na} missing value(s); every row needs "
                "a cluster label for the cluster bootstrap."
            )
