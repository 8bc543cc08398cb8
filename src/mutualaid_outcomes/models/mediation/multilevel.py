"""Multilevel (1-1-1) mediation: daily exposure -> daily mediator -> daily outcome.

The stacked random-slope model of Bauer, Preacher & Gil (2006) with the within/between
decomposition of Zhang, Zyphur & Preacher (2009): exposure and mediator are person-mean
centred, their within-person parts carry random slopes, their person means enter as
between-person predictors, and the within-person indirect effect is
``a * b + cov(a_j, b_j)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd

from ..._rng import RNGLike, check_rng, seed_of
from ..._validation import (
    MissingReport,
    as_column_list,
    check_columns,
    check_conf_level,
    check_dataframe,
    check_numeric,
    check_option,
    check_positive_int,
    listwise_delete,
)
from ...errors import ArgumentTypeError, DataValidationError, DataWarning
from ...prep.centering import within_between
from ..regression.mixed import MixedResult, fit_mixed
from . import _multilevel_stack as stk
from ._multilevel_result import (
    MULTILEVEL_GLANCE_COLUMNS,
    MultilevelMediationResult,
    effects_table,
)

__all__ = ["multilevel_mediation", "MultilevelMediationResult", "MULTILEVEL_GLANCE_COLUMNS"]

RandomSlopes = Literal["a", "b", "direct"]
OutcomeFamily = Literal["gaussian", "binomial"]


def _check_roles(
    data: pd.DataFrame,
    exposure: str,
    mediators: Sequence[str],
    outcome: str,
    id: str,
    covariates: list[str],
) -> str:
    for name, value in (("exposure", exposure), ("outcome", outcome), ("id", id)):
        if not isinstance(value, str):
            raise ArgumentTypeError(f"`{name}` must be a column name; got {value!r}.")
    meds = as_column_list(mediators, "mediators")
    if len(meds) != 1:
        raise DataValidationError(
            f"`mediators` must name exactly one mediator for a 1-1-1 model; got {meds}."
        )
    m = meds[0]
    roles = {"exposure": exposure, "mediators": m, "outcome": outcome, "id": id}
    for arg, col in roles.items():
        check_columns(data, col, arg)
    check_columns(data, covariates, "covariates")
    seen: dict[str, str] = {}
    for arg, col in [*roles.items(), *(("covariates", c) for c in covariates)]:
        if col in seen:
            raise DataValidationError(
                f"`{arg}` names column '{col}', which is already `{seen[col]}`; the "
                "exposure, mediator, outcome, id and covariates must be different columns."
            )
        seen[col] = arg
    if data[exposure].equals(data[m]):
        raise DataValidationError(
            f"`mediators` ('{m}') is identical to `exposure` ('{exposure}'); the mediator "
            "must be a different variable."
        )
    check_numeric(data, [exposure, m, outcome, *covariates], "exposure/mediators/outcome")
    n_na = int(data[id].isna().sum())
    if n_na:
        raise DataValidationError(
            f"`id` ('{id}') has {n_na} missing value(s); each person-day needs a person "
            "identifier. Drop or fill those rows first."
        )
    return m


def _check_binary(y: pd.Series, outcome: str) -> None:
    bad = sorted(set(pd.unique(y[~y.isin([0, 1])])))
    if bad:
        raise DataValidationError(
            f"`outcome` ('{outcome}') must be 0/1 for outcome_family='binomial'; found "
            f"{bad[:5]}{' ...' if len(bad) > 5 else ''}."
        )


def _usable_rows(
    data: pd.DataFrame, cols: list[str], id: str, exposure: str, m: str
) -> tuple[pd.DataFrame, MissingReport, int, int]:
    clean, report = listwise_delete(data, cols, identifiers=[id])
    size = clean.groupby(id, sort=False)[id].transform("size")
    single = size.to_numpy() == 1
    n_single_rows = int(single.sum())
    if n_single_rows:
        warnings.warn(
            f"{n_single_rows} person(s) in `id` ('{id}') have one usable day only; they "
            "carry no within-person information and are excluded (see glance()).",
            DataWarning,
            stacklevel=3,
        )
        clean = clean.loc[~single]
    n_groups = clean[id].nunique()
    if n_groups < 3:
        raise DataValidationError(
            f"`id` ('{id}'): {n_groups} person(s) with two or more usable days; a "
            "multilevel mediation model needs many persons."
        )
    for arg, col in (("exposure", exposure), ("mediators", m)):
        within = clean[col] - clean.groupby(id)[col].transform("mean")
        if float(np.max(np.abs(within))) <= 1e-12 * max(1.0, float(np.abs(clean[col]).max())):
            raise DataValidationError(
                f"`{arg}` ('{col}') does not vary within persons; the within-person "
                "effects are not identified. Use a between-person mediation model "
                "(mediate) for person-level variables."
            )
    return clean, report, n_single_rows, n_single_rows


def multilevel_mediation(
    data: pd.DataFrame,
    exposure: str,
    mediators: str | Sequence[str],
    outcome: str,
    *,
    id: str,
    covariates: str | Sequence[str] | None = None,
    random_slopes: Sequence[RandomSlopes] = ("a", "b", "direct"),
    outcome_family: OutcomeFamily = "gaussian",
    n_sims: int = 20000,
    conf_level: float = 0.95,
    rng: RNGLike = None,
) -> MultilevelMediationResult:
    """Within- and between-person indirect effects in a 1-1-1 multilevel design.

    Parameters
    ----------
    data : pandas.DataFrame
        Long data, one row per person-day. Not modified. Lag the outcome first for a
        next-day design (e.g. ``drinks_next = groupby(id).drinks.shift(-1)``).
    exposure : str
        Daily exposure (e.g. meeting attended).
    mediators : str or list of str
        One daily gaussian mediator (e.g. craving).
    outcome : str
        Daily outcome: continuous (``outcome_family="gaussian"``) or 0/1
        (``"binomial"``, e.g. any drinking the next day).
    id : str
        Person column.
    covariates : str or list of str, optional
        Adjustment covariates, entered as given in both equations.
    random_slopes : sequence of {"a", "b", "direct"}
        Within-person slopes that vary across persons (random intercepts always). The
        covariance ``cov(a_j, b_j)`` needs both ``"a"`` and ``"b"``; otherwise it is 0.
    outcome_family : {"gaussian", "binomial"}
        ``"gaussian"``: the stacked model below. ``"binomial"``: the outcome equation is
        a logistic mixed model and the b-paths, indirect and total effects are on the
        log-odds scale (see Notes).
    n_sims : int
        Monte Carlo draws for the intervals of products and sums.
    conf_level : float
        Confidence level.
    rng : int, numpy.random.Generator or None
        Randomness of the Monte Carlo draws; recorded in ``glance()['seed']``.

    Returns
    -------
    MultilevelMediationResult
        ``tidy()`` rows ``a, b, cov_ab, indirect_within, direct_within, total_within,
        a_between, b_between, indirect_between, direct_between, total_between``.

    Raises
    ------
    ColumnNotFoundError
        A role column is not in ``data``.
    DataValidationError
        The mediator is the exposure; several mediators; ``id`` with missing values; an
        exposure or mediator without within-person variation; fewer than 3 persons.
    OptionError
        ``random_slopes`` or ``outcome_family`` outside the allowed values.
    DataValidationError
        A binary outcome with values other than 0 and 1.

    Warns
    -----
    DataWarning
        Persons with one usable day (excluded and counted in ``glance()``).

    Notes
    -----
    With ``x_w, x_b`` and ``m_w, m_b`` the within and between parts of exposure and
    mediator (:func:`~mutualaid_outcomes.prep.centering.within_between` over the rows
    used), the model is ::

        m_ti = d_Mj + a_j x_w + a_B x_b + e_M,                      a_j = a + u_aj
        y_ti = d_Yj + b_j m_w + c'_j x_w + b_B m_b + c'_B x_b + e_Y,  b_j = b + u_bj

    with the random intercepts and slopes of both equations jointly normal with an
    unstructured covariance. It is fitted as one stacked mixed model
    (:func:`~mutualaid_outcomes.models.regression.mixed.fit_mixed`, REML; Bauer et al.
    2006). Bauer et al. let the two equations have their own residual variances; a
    stacked model with one residual variance is made equivalent by dividing the
    outcome rows by ``k = sigma_Y / sigma_M``, with ``k`` estimated from the two
    equations fitted separately (a consistent two-step estimate; glance
    ``residual_sd_ratio``), and the outcome coefficients and random effects are scaled
    back by ``k``. The within indirect effect is ``a*b + sigma_ab`` (the mean of the
    person-specific products ``a_j b_j``); ``total_within = indirect_within +
    direct_within``. The between paths ``a_B, b_B, c'_B`` are taken from the two
    equations fitted separately (the unconflated model of Zhang et al. 2009): in the
    stacked model the correlated random intercepts of mediator and outcome absorb the
    association of ``m_b`` (an estimate of the mediator's random intercept) with the
    outcome, so an ``m_b`` coefficient there would not be the between-person ``b``
    (and is barely identified); the stacked outcome equation therefore has ``x_b`` but
    not ``m_b``, which leaves the within-person paths unchanged (the within parts are
    orthogonal to person-level terms). ``indirect_between = a_B * b_B``. Monte Carlo
    intervals draw the fixed effects from ``N(beta, (X'V^-1X)^-1)`` and ``sigma_ab``
    independently from its REML asymptotic normal distribution (inverse expected REML
    information, Harville 1977, from per-person sufficient statistics; REML variance
    parameters are asymptotically independent of the fixed effects), as Bauer et al.'s
    variance formula for ``a*b + sigma_ab`` does; ``a_B`` and ``b_B`` (separate
    equations) are drawn independently. The uncertainty of ``k`` is ignored.

    Binary outcome (``outcome_family="binomial"``): the stacked model cannot mix a
    gaussian and a binomial equation, so the two equations are fitted separately, the
    mediator equation by REML and the outcome equation as a logistic mixed model
    (``logit P(y_ti = 1) = d_Yj + b_j m_w + c'_j x_w + b_B m_b + c'_B x_b``; Laplace
    approximation, as lme4 ``glmer``). All paths then come from these two fits, with
    their joint covariance within each equation and none across them. Separate
    equations do not estimate ``cov(a_j, b_j)``; it is **taken as 0**, so
    ``indirect_within = a*b`` (per unit of exposure, on the log-odds scale; Bauer et
    al. 2006 stack the equations precisely because separate fits cannot estimate it). We do not use the
    covariance of the two models' conditional modes (Kenny, Korchmaros & Bolger
    2003): the modes are shrunken towards the mean by different amounts in the two
    equations, so their covariance is biased (towards 0 with few days per person) and
    has no standard error. If ``a_j`` and ``b_j`` covary, ``indirect_within`` is off
    by that covariance; the cov_ab row is absent from ``tidy()`` and glance
    ``cov_ab_source`` is ``"assumed 0"``. ``indirect_between = a_B * b_B`` is in
    log-odds per unit of the person mean exposure; both are conditional
    (person-specific) effects, not population-averaged ones.

    Observed person means are error-prone measures of the true means,
    so the between paths are attenuated with few days per person (Lüdtke et al. 2008);
    multilevel SEM with latent centring (Preacher, Zyphur & Zhang 2010) avoids that.
    Validated against R lme4 ``lmer`` on the same stacked data with weights ``1/k^2``
    (tests/reference/multilevel_mediation.R), by parameter recovery on simulated data
    with a non-zero ``cov(a_j, b_j)``, and by interval coverage (slow test). The binary
    case: the two equations against lme4 1.1.31 ``lmer`` and ``glmer``
    (tests/reference/multilevel_mediation_binary.R) and parameter recovery on
    simulated data with known log-odds paths.

    References
    ----------
    Bauer, D. J., Preacher, K. J., & Gil, K. M. (2006). Conceptualizing and testing random
    indirect effects and moderated mediation in multilevel models. *Psychological
    Methods*, 11(2), 142-163.

    Zhang, Z., Zyphur, M. J., & Preacher, K. J. (2009). Testing multilevel mediation using
    hierarchical linear models. *Organizational Research Methods*, 12(4), 695-719.

    Preacher, K. J., Zyphur, M. J., & Zhang, Z. (2010). A general multilevel SEM framework
    for assessing multilevel mediation. *Psychological Methods*, 15(3), 209-233.

    Kenny, D. A., Korchmaros, J. D., & Bolger, N. (2003). Lower level mediation in
    multilevel models. *Psychological Methods*, 8(2), 115-128.

    Harville, D. A. (1977). Maximum likelihood approaches to variance component
    estimation and to related problems. *JASA*, 72(358), 320-338.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> g = np.random.default_rng(4)
    >>> J, T = 60, 10
    >>> pid = np.repeat(np.arange(J), T)
    >>> aj = 0.5 + g.normal(0, 0.2, J)
    >>> x = g.binomial(1, 0.4, J * T).astype(float)
    >>> m = aj[pid] * x + g.normal(0, 1, J)[pid] + g.normal(0, 1, J * T)
    >>> y = 0.4 * m + g.normal(0, 1, J)[pid] + g.normal(0, 1, J * T)
    >>> days = pd.DataFrame({"id": pid, "meeting": x, "craving": m, "drinks": y})
    >>> res = multilevel_mediation(days, "meeting", "craving", "drinks", id="id",
    ...                            random_slopes=["a"], n_sims=2000, rng=1)
    >>> res.tidy()["term"].tolist()[:4]
    ['a', 'b', 'cov_ab', 'indirect_within']
    >>> res.glance()[["n", "n_groups", "ci"]]
         n  n_groups           ci
    0  600        60  monte_carlo
    """
    data = check_dataframe(data)
    covs = as_column_list(covariates, "covariates")
    m = _check_roles(data, exposure, mediators, outcome, id, covs)
    slopes = [check_option(s, ("a", "b", "direct"), "random_slopes") for s in random_slopes]
    outcome_family = check_option(outcome_family, ("gaussian", "binomial"), "outcome_family")
    n_sims = check_positive_int(n_sims, "n_sims", minimum=100)
    conf_level = check_conf_level(conf_level)
    gen = check_rng(rng)
    cols = list(dict.fromkeys([id, exposure, m, outcome, *covs]))
    clean, report, n_single, n_single_groups = _usable_rows(data, cols, id, exposure, m)
    if outcome_family == "binomial":
        _check_binary(clean[outcome], outcome)
    wb = within_between(clean, [exposure, m], id=id)
    wb = wb.rename(
        columns={
            f"{exposure}_within": "_xw",
            f"{exposure}_between": "_xb",
            f"{m}_within": "_mw",
            f"{m}_between": "_mb",
        }
    )
    wb = wb.rename(columns={c: f"_c{i}" for i, c in enumerate(covs)})
    cov_names = [f"_c{i}" for i in range(len(covs))]
    wb = wb.rename(columns={m: "_m", outcome: "_y", id: "_id"})
    fm, fy = _fit_separate(wb, cov_names, slopes, outcome_family)
    if outcome_family == "gaussian":
        parts = stk.fit_stacked(wb, cov_names, slopes, fm, fy)
    else:
        parts = _binary_parts(fm, fy)
    return _assemble(parts, fm, fy, wb, gen, n_sims, conf_level, locals())


def _fit_separate(
    wb: pd.DataFrame, covs: list[str], slopes: list[str], family: str
) -> tuple[MixedResult, MixedResult]:
    """The mediator (REML) and outcome (REML or Laplace GLMM) equations, fitted apart."""
    rhs_c = "".join(f" + {c}" for c in covs)
    re_m = "~ _xw" if "a" in slopes else "~ 1"
    re_y = "~ 1" + (" + _mw" if "b" in slopes else "") + (" + _xw" if "direct" in slopes else "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and singularity go to glance()
        fm = fit_mixed(wb, "_m ~ _xw + _xb" + rhs_c, id="_id", re_formula=re_m)
        fy = fit_mixed(
            wb, "_y ~ _mw + _mb + _xw + _xb" + rhs_c, id="_id", re_formula=re_y, family=family
        )
    return fm, fy


def _binary_parts(fm: MixedResult, fy: MixedResult) -> dict:
    """Paths of the separate a- and b-equations; ``cov(a_j, b_j)`` taken as 0."""
    sources = [
        ("a", fm, "_xw"),
        ("b", fy, "_mw"),
        ("direct_within", fy, "_xw"),
        ("a_between", fm, "_xb"),
        ("b_between", fy, "_mb"),
        ("direct_between", fy, "_xb"),
    ]
    names = [n for n, _, _ in sources]
    est = pd.Series([f.coef()[t] for _, f, t in sources], index=names, dtype=float)
    cov = pd.DataFrame(0.0, index=names, columns=names)
    for fit in (fm, fy):
        mine = [(n, t) for n, f, t in sources if f is fit]
        V = fit.vcov().loc[[t for _, t in mine], [t for _, t in mine]].to_numpy()
        cov.loc[[n for n, _ in mine], [n for n, _ in mine]] = V
    labels_m = {"Intercept": "m_intercept", "_xw": "a"}
    labels_y = {"Intercept": "y_intercept", "_mw": "b", "_xw": "direct_within"}
    re_m = fm.cov_re.rename(index=labels_m, columns=labels_m)
    re_y = fy.cov_re.rename(index=labels_y, columns=labels_y)
    psi = pd.concat([re_m, re_y]).T.reindex(list(re_m.index) + list(re_y.index))
    return {
        "paths": est,
        "paths_cov": cov,
        "cov_ab": None,
        "random_effects": psi,
        "sigma2_mediator": float(fm.sigma2),
        "sigma2_outcome": np.nan,
        "k": np.nan,
        "stacked": None,
    }


def _assemble(
    parts: dict,
    fm: MixedResult,
    fy: MixedResult,
    wb: pd.DataFrame,
    gen: np.random.Generator,
    n_sims: int,
    conf_level: float,
    args: dict,
) -> MultilevelMediationResult:
    """Draw the Monte Carlo effects and build the result.

    The paths are drawn from ``N(paths, paths_cov)`` and ``cov(a_j, b_j)`` (when
    estimated) independently from ``N(sigma_ab, se^2)``.
    """
    paths, paths_cov = parts["paths"], parts["paths_cov"]
    B = gen.multivariate_normal(paths.to_numpy(), paths_cov.to_numpy(), size=n_sims)
    d = pd.DataFrame(B, columns=list(paths.index))
    p = paths
    est: dict[str, float] = {}
    draws = pd.DataFrame(index=d.index)
    if parts["cov_ab"] is None:  # separate equations: not estimated, taken as 0
        c, est_c = np.zeros(n_sims), 0.0
    else:
        est_c, se_c = parts["cov_ab"]
        c = est_c + se_c * gen.standard_normal(n_sims)
        draws["cov_ab"], est["cov_ab"] = c, est_c
    draws["indirect_within"] = d["a"] * d["b"] + c
    draws["total_within"] = draws["indirect_within"] + d["direct_within"]
    draws["indirect_between"] = d["a_between"] * d["b_between"]
    draws["total_between"] = draws["indirect_between"] + d["direct_between"]
    est["indirect_within"] = p["a"] * p["b"] + est_c
    est["total_within"] = est["indirect_within"] + p["direct_within"]
    est["indirect_between"] = p["a_between"] * p["b_between"]
    est["total_between"] = est["indirect_between"] + p["direct_between"]
    mc_est = pd.Series(est)
    return MultilevelMediationResult(
        exposure=args["exposure"],
        mediator=args["m"],
        outcome=args["outcome"],
        id=args["id"],
        outcome_family=args["outcome_family"],
        effects=effects_table(paths, paths_cov, mc_est, draws, conf_level),
        _paths=paths,
        _paths_cov=paths_cov,
        random_effects=parts["random_effects"],
        sigma2_mediator=parts["sigma2_mediator"],
        sigma2_outcome=parts["sigma2_outcome"],
        residual_sd_ratio=parts["k"],
        stacked=parts["stacked"],
        mediator_model=fm,
        outcome_model=fy,
        draws=draws,
        _mc_estimates=mc_est,
        missing=args["report"],
        n_used=len(wb),
        n_groups=int(wb["_id"].nunique()),
        n_dropped_single_day=args["n_single"],
        n_groups_single_day=args["n_single_groups"],
        n_sims=n_sims,
        conf_level=conf_level,
        seed=seed_of(args["rng"]),
    )
