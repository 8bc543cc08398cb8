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
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

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
from ...results import BaseResult, glance_frame
from ..regression.mixed import MixedResult, fit_mixed
from . import _multilevel_stack as stk

__all__ = ["multilevel_mediation", "MultilevelMediationResult", "MULTILEVEL_GLANCE_COLUMNS"]

MULTILEVEL_GLANCE_COLUMNS: tuple[str, ...] = (
    "method",
    "n",
    "n_dropped",
    "n_dropped_single_day",
    "n_groups",
    "n_groups_single_day",
    "residual_sd_ratio",
    "loglik",
    "converged",
    "singular",
    "ci",
    "n_sims",
    "conf_level",
    "seed",
)
RandomSlopes = Literal["a", "b", "direct"]


@dataclass(frozen=True, repr=False, eq=False)
class MultilevelMediationResult(BaseResult):
    """A fitted 1-1-1 multilevel mediation model (immutable).

    Attributes
    ----------
    exposure, mediator, outcome, id : str
        The roles.
    effects : pandas.DataFrame
        Tidy rows of every path and effect at ``conf_level`` (see :meth:`tidy`).
    random_effects : pandas.DataFrame
        Covariance matrix of the person-level random effects on the data's scale
        (``m_intercept``, ``a``, ``y_intercept``, ``b``, ``direct_within`` as fitted).
    sigma2_mediator, sigma2_outcome : float
        Residual variances of the two equations.
    stacked : MixedResult
        The stacked mixed model as fitted (outcome rows divided by ``residual_sd_ratio``).
    draws : pandas.DataFrame
        The Monte Carlo draws of the effects.
    missing : MissingReport
        Rows used and excluded for missing values (before persons with one day).
    """

    exposure: str
    mediator: str
    outcome: str
    id: str
    effects: pd.DataFrame
    _paths: pd.Series = field(repr=False)
    _paths_cov: pd.DataFrame = field(repr=False)
    random_effects: pd.DataFrame
    sigma2_mediator: float
    sigma2_outcome: float
    residual_sd_ratio: float
    stacked: MixedResult = field(repr=False)
    draws: pd.DataFrame = field(repr=False)
    _mc_estimates: pd.Series = field(repr=False)
    missing: MissingReport
    n_used: int
    n_groups: int
    n_dropped_single_day: int
    n_groups_single_day: int
    n_sims: int
    conf_level: float
    seed: int | None
    _can_exponentiate = False
    _not_poolable = "Monte Carlo intervals of products are not pooled by Rubin's rules."

    # coefficient protocol: the six path coefficients
    @property
    def terms(self) -> tuple[str, ...]:
        """Path coefficient names."""
        return tuple(self._paths.index)

    def coef(self) -> pd.Series:
        """Path coefficients (data scale)."""
        return self._paths.copy()

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the path coefficients."""
        return self._paths_cov.copy()

    @property
    def nobs(self) -> int:
        """Person-days used."""
        return self.n_used

    @property
    def df_resid(self) -> None:
        """None: large-sample (z) inference."""
        return None

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return _effects_table(
            self._paths, self._paths_cov, self._mc_estimates, self.draws, conf_level
        )

    def glance(self) -> pd.DataFrame:
        """One row: ``method, n, n_dropped, n_dropped_single_day, n_groups, ...``."""
        g = self.stacked.glance()
        return glance_frame(
            {
                "method": "stacked REML (Bauer, Preacher & Gil 2006)",
                "n": self.n_used,
                "n_dropped": self.missing.n_dropped + self.n_dropped_single_day,
                "n_dropped_single_day": self.n_dropped_single_day,
                "n_groups": self.n_groups,
                "n_groups_single_day": self.n_groups_single_day,
                "residual_sd_ratio": self.residual_sd_ratio,
                "loglik": float(g["loglik"].iloc[0]),
                "converged": bool(g["converged"].iloc[0]),
                "singular": bool(g["singular"].iloc[0]),
                "ci": "monte_carlo",
                "n_sims": self.n_sims,
                "conf_level": self.conf_level,
                "seed": self.seed,
            },
            MULTILEVEL_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return (
            f"Multilevel mediation {self.exposure} -> {self.mediator} -> {self.outcome} "
            f"(1-1-1; persons: {self.id})"
        )

    def _notes(self) -> list[str]:
        notes = [self.missing.describe()]
        if self.n_groups_single_day:
            notes.append(
                f"{self.n_groups_single_day} person(s) with one day only "
                f"({self.n_dropped_single_day} rows) excluded: no within-person variation."
            )
        notes.append(
            "indirect_within = a*b + cov(a_j, b_j); indirect_between = a_between*b_between; "
            f"Monte Carlo intervals from {self.n_sims} draws."
        )
        return notes


def _effects_table(
    paths: pd.Series,
    cov: pd.DataFrame,
    mc_estimates: pd.Series,
    draws: pd.DataFrame,
    conf_level: float,
) -> pd.DataFrame:
    z = stats.norm.ppf(0.5 + conf_level / 2)
    se = np.sqrt(np.diag(cov.to_numpy()))
    est = paths.to_numpy()
    rows = pd.DataFrame(
        {
            "term": list(paths.index),
            "estimate": est,
            "std_error": se,
            "statistic": est / se,
            "p_value": 2 * stats.norm.sf(np.abs(est / se)),
            "conf_low": est - z * se,
            "conf_high": est + z * se,
        }
    )
    lo, hi = (1 - conf_level) / 2, (1 + conf_level) / 2
    mc = pd.DataFrame(
        {
            "term": list(draws.columns),
            "estimate": mc_estimates.loc[list(draws.columns)].to_numpy(),
            "std_error": draws.std(ddof=1).to_numpy(),
            "statistic": np.nan,
            "p_value": np.nan,
            "conf_low": draws.quantile(lo).to_numpy(),
            "conf_high": draws.quantile(hi).to_numpy(),
        }
    )
    order = ["a", "b", "cov_ab", "indirect_within", "direct_within", "total_within"]
    order += ["a_between", "b_between", "indirect_between", "direct_between", "total_between"]
    out = pd.concat([rows, mc], ignore_index=True).set_index("term")
    return out.loc[[t for t in order if t in out.index]].reset_index()


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
    outcome_family: Literal["gaussian"] = "gaussian",
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
        Daily gaussian outcome.
    id : str
        Person column.
    covariates : str or list of str, optional
        Adjustment covariates, entered as given in both equations.
    random_slopes : sequence of {"a", "b", "direct"}
        Within-person slopes that vary across persons (random intercepts always). The
        covariance ``cov(a_j, b_j)`` needs both ``"a"`` and ``"b"``; otherwise it is 0.
    outcome_family : {"gaussian"}
        Only gaussian outcomes are supported here.
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
    orthogonal to person-level terms). ``indirect_between = a_B * b_B``. Monte Carlo intervals draw the fixed effects from
    ``N(beta, (X'V^-1X)^-1)`` and ``sigma_ab`` independently from its REML asymptotic
    normal distribution (inverse numerical Hessian of the REML log-likelihood; REML
    variance parameters are asymptotically independent of the fixed effects), as
    Bauer et al.'s variance formula for ``a*b + sigma_ab`` does; ``a_B`` and ``b_B``
    (separate equations) are drawn independently. The uncertainty of ``k`` is ignored. Observed person means are error-prone measures of the true means,
    so the between paths are attenuated with few days per person (Lüdtke et al. 2008);
    multilevel SEM with latent centring (Preacher, Zyphur & Zhang 2010) avoids that.
    Validated against R lme4 ``lmer`` on the same stacked data with weights ``1/k^2``
    (tests/reference/multilevel_mediation.R), by parameter recovery on simulated data
    with a non-zero ``cov(a_j, b_j)``, and by interval coverage (slow test).

    References
    ----------
    Bauer, D. J., Preacher, K. J., & Gil, K. M. (2006). Conceptualizing and testing random
    indirect effects and moderated mediation in multilevel models. *Psychological
    Methods*, 11(2), 142-163.

    Zhang, Z., Zyphur, M. J., & Preacher, K. J. (2009). Testing multilevel mediation using
    hierarchical linear models. *Organizational Research Methods*, 12(4), 695-719.

    Preacher, K. J., Zyphur, M. J., & Zhang, Z. (2010). A general multilevel SEM framework
    for assessing multilevel mediation. *Psychological Methods*, 15(3), 209-233.

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
    check_option(outcome_family, ("gaussian",), "outcome_family")
    n_sims = check_positive_int(n_sims, "n_sims", minimum=100)
    conf_level = check_conf_level(conf_level)
    gen = check_rng(rng)
    cols = list(dict.fromkeys([id, exposure, m, outcome, *covs]))
    clean, report, n_single, n_single_groups = _usable_rows(data, cols, id, exposure, m)
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
    fit = _fit_stacked(wb, cov_names, slopes)
    return _assemble(fit, wb, slopes, gen, n_sims, conf_level, rng, locals())


def _fit_stacked(wb: pd.DataFrame, covs: list[str], slopes: list[str]) -> dict:
    """Separate fits for the residual SD ratio, then the stacked model."""
    rhs_c = "".join(f" + {c}" for c in covs)
    re_m = "~ _xw" if "a" in slopes else "~ 1"
    re_y = "~ 1" + (" + _mw" if "b" in slopes else "") + (" + _xw" if "direct" in slopes else "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fm = fit_mixed(wb, "_m ~ _xw + _xb" + rhs_c, id="_id", re_formula=re_m)
        fy = fit_mixed(wb, "_y ~ _mw + _mb + _xw + _xb" + rhs_c, id="_id", re_formula=re_y)
    k = float(np.sqrt(fy.sigma2 / fm.sigma2))
    m_fixed = {"sm": "", "sm_xw": "_xw", "sm_xb": "_xb", **{f"sm{c}": c for c in covs}}
    y_fixed = {"sy": "", "sy_mw": "_mw", "sy_xw": "_xw", "sy_xb": "_xb"}
    y_fixed.update({f"sy{c}": c for c in covs})
    m_random = ["sm"] + (["sm_xw"] if "a" in slopes else [])
    y_random = ["sy"] + (["sy_mw"] if "b" in slopes else [])
    y_random += ["sy_xw"] if "direct" in slopes else []
    design = stk.stack(
        wb,
        id="_id",
        m_fixed=m_fixed,
        y_fixed=y_fixed,
        m_random=m_random,
        y_random=y_random,
        m="_m",
        y="_y",
        y_scale=k,
    )
    formula = "_response ~ 0 + " + " + ".join(design.fixed)
    stacked = fit_mixed(
        design.frame, formula, id="_id", re_formula="~ 0 + " + " + ".join(design.random)
    )
    return {
        "stacked": stacked,
        "design": design,
        "k": k,
        "y_fixed": list(y_fixed),
        "mediator_fit": fm,
        "outcome_fit": fy,
    }


RANDOM_LABELS = {
    "sm": "m_intercept",
    "sm_xw": "a",
    "sy": "y_intercept",
    "sy_mw": "b",
    "sy_xw": "direct_within",
}
WITHIN_SOURCES = {"a": "sm_xw", "b": "sy_mw", "direct_within": "sy_xw"}
BETWEEN_SOURCES = {"a_between": "_xb", "b_between": "_mb", "direct_between": "_xb"}


def _path_estimates(fit: dict, beta_o: pd.Series, V_o: pd.DataFrame) -> tuple[pd.Series, ...]:
    """Within paths from the stacked model, between paths from the separate equations."""
    src = list(WITHIN_SOURCES.values())
    est = list(beta_o.loc[src])
    cov = np.zeros((6, 6))
    cov[:3, :3] = V_o.loc[src, src].to_numpy()
    fm, fy = fit["mediator_fit"], fit["outcome_fit"]
    est += [fm.coef()["_xb"], fy.coef()["_mb"], fy.coef()["_xb"]]
    cov[3, 3] = fm.vcov().loc["_xb", "_xb"]
    cov[4:, 4:] = fy.vcov().loc[["_mb", "_xb"], ["_mb", "_xb"]].to_numpy()
    names = [*WITHIN_SOURCES, *BETWEEN_SOURCES]
    return (
        pd.Series(np.asarray(est, dtype=float), index=names, name="estimate"),
        pd.DataFrame(cov, index=names, columns=names),
    )


def _assemble(
    fit: dict,
    wb: pd.DataFrame,
    slopes: list[str],
    gen: np.random.Generator,
    n_sims: int,
    conf_level: float,
    rng: RNGLike,
    args: dict,
) -> MultilevelMediationResult:
    """Scale back to the data, draw the Monte Carlo effects, build the result."""
    st: MixedResult = fit["stacked"]
    k, design = fit["k"], fit["design"]
    beta = st.coef()
    scale = pd.Series([k if t in fit["y_fixed"] else 1.0 for t in beta.index], index=beta.index)
    beta_o = beta * scale
    V_o = st.vcov() * np.outer(scale, scale)
    paths, paths_cov = _path_estimates(fit, beta_o, V_o)
    rnames = list(st.cov_re.index)
    rs = np.array([k if r.startswith("sy") else 1.0 for r in rnames])
    psi = st.cov_re.to_numpy()
    psi_o = pd.DataFrame(
        psi * np.outer(rs, rs),
        index=[RANDOM_LABELS[r] for r in rnames],
        columns=[RANDOM_LABELS[r] for r in rnames],
    )
    if "sm_xw" in rnames and "sy_mw" in rnames:
        i, j = rnames.index("sm_xw"), rnames.index("sy_mw")
        theta_cov = stk.reml_covariance(design, psi, st.sigma2)
        pos = stk.vech_index(len(rnames), i, j)
        cov_ab, se_cov_ab = k * psi[i, j], k * float(np.sqrt(theta_cov[pos, pos]))
    else:
        cov_ab, se_cov_ab = 0.0, 0.0
    B = gen.multivariate_normal(paths.to_numpy(), paths_cov.to_numpy(), size=n_sims)
    d = pd.DataFrame(B, columns=list(paths.index))
    c = cov_ab + se_cov_ab * gen.standard_normal(n_sims)
    draws = pd.DataFrame({"cov_ab": c, "indirect_within": d["a"] * d["b"] + c})
    draws["total_within"] = draws["indirect_within"] + d["direct_within"]
    draws["indirect_between"] = d["a_between"] * d["b_between"]
    draws["total_between"] = draws["indirect_between"] + d["direct_between"]
    p = paths
    est = pd.Series(
        {
            "cov_ab": cov_ab,
            "indirect_within": p["a"] * p["b"] + cov_ab,
            "total_within": p["a"] * p["b"] + cov_ab + p["direct_within"],
            "indirect_between": p["a_between"] * p["b_between"],
            "total_between": p["a_between"] * p["b_between"] + p["direct_between"],
        }
    )
    n_used = len(wb)
    effects = _effects_table(paths, paths_cov, est, draws, conf_level)
    return MultilevelMediationResult(
        exposure=args["exposure"],
        mediator=args["m"],
        outcome=args["outcome"],
        id=args["id"],
        effects=effects,
        _paths=paths,
        _paths_cov=paths_cov,
        random_effects=psi_o,
        sigma2_mediator=float(st.sigma2),
        sigma2_outcome=float(st.sigma2 * k**2),
        residual_sd_ratio=k,
        stacked=st,
        draws=draws,
        _mc_estimates=est,
        missing=args["report"],
        n_used=n_used,
        n_groups=int(wb["_id"].nunique()),
        n_dropped_single_day=args["n_single"],
        n_groups_single_day=args["n_single_groups"],
        n_sims=n_sims,
        conf_level=conf_level,
        seed=seed_of(rng),
    )
