"""Causal mediation analysis in the potential-outcomes framework.

:func:`causal_mediation` estimates the average causal mediation effects (ACME), average
direct effects (ADE), total effect and proportion mediated of Imai, Keele & Tingley
(2010) for linear, logit and probit mediator and outcome models, with nonparametric
bootstrap or quasi-Bayesian intervals; with a exposure-mediator interaction it also
reports VanderWeele's controlled and natural effects and the four-way decomposition.
Models are named by family and link (``"gaussian"``; ``"binomial"`` with ``"logit"`` or
``"probit"``) as everywhere in the package.
:meth:`CausalMediationResult.sensitivity` runs the sensitivity analysis for unmeasured
mediator-outcome confounding (:mod:`mutualaid_outcomes.models.mediation.sensitivity`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from ..._rng import RNGLike, check_rng, seed_of
from ..._validation import (
    as_column_list,
    check_binary,
    check_columns,
    check_conf_level,
    check_dataframe,
    check_numeric,
    check_option,
    listwise_delete,
    renamed,
)
from ...errors import (
    ArgumentTypeError,
    BootstrapWarning,
    DataValidationError,
    DataWarning,
    EstimationError,
    OptionError,
)
from ...results import BaseResult, glance_frame
from .._core.bootstrap import bca_interval, check_n_boot, iter_bootstrap_counts, percentile_interval
from ._causal_engine import (
    FOUR_WAY_TERMS,
    IKT_TERMS,
    VW_TERMS,
    Design,
    fit_weighted,
    ikt_effects,
    vanderweele_effects,
    vcov,
)

if TYPE_CHECKING:  # pragma: no cover
    from .sensitivity import SensitivityResult

__all__ = ["causal_mediation", "CausalMediationResult"]

Family = Literal["gaussian", "binomial"]
Link = Literal["identity", "logit", "probit"]
MethodType = Literal["bootstrap", "quasi_bayesian"]
CIType = Literal["percentile", "bca"]

_LINKS = {"gaussian": ("identity",), "binomial": ("logit", "probit")}
#: default number of bootstrap resamples (``n_boot``) or quasi-Bayesian draws (``n_sims``)
DEFAULT_DRAWS = 1000
# Resamples fitted in one batch (bounds memory at about _CHUNK * n * p^2 doubles).
_CHUNK = 250
_METHODS = ("bootstrap", "quasi_bayesian")
_CIS = ("percentile", "bca")

GLANCE_COLUMNS: tuple[str, ...] = (
    "n",
    "n_dropped",
    "method",
    "ci",
    "n_boot",
    "n_sims",
    "n_failed",
    "seed",
    "mediator_family",
    "mediator_link",
    "outcome_family",
    "outcome_link",
    "interaction",
    "control_value",
    "treat_value",
    "m_value",
)


@dataclass(frozen=True, repr=False, eq=False)
class CausalMediationResult(BaseResult):
    """Result of :func:`causal_mediation`.

    Attributes
    ----------
    draws : numpy.ndarray
        ``(n_boot or n_sims, k)`` bootstrap or quasi-Bayesian draws, columns in the order
        of :attr:`terms` (NaN rows: failed resamples).
    scales : tuple of str
        Scale of each term (``"difference"``, ``"ratio"`` or ``"log_odds_ratio"``).
    four_way_estimates, four_way_draws : numpy.ndarray or None
        The four-way decomposition (with ``interaction=True``).
    four_way_scale : str or None
        ``"difference"`` (linear outcome) or ``"excess_relative_risk"`` (logit outcome).

    Notes
    -----
    Coefficient protocol: :attr:`terms` are the effect names, :meth:`coef` the exact
    plug-in estimates (not simulation means), :meth:`vcov` the covariance of the
    bootstrap or quasi-Bayesian draws (failed resamples excluded) -- a simulation
    estimate; :attr:`nobs` is the number of rows used and :attr:`df_resid` is None.
    """

    _terms: tuple[str, ...]
    _estimates: np.ndarray
    draws: np.ndarray
    scales: tuple[str, ...]
    ci: str
    conf_level: float
    jackknife: np.ndarray | None
    four_way_estimates: np.ndarray | None
    four_way_draws: np.ndarray | None
    four_way_jackknife: np.ndarray | None
    four_way_scale: str | None
    glance_values: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    design: Design | None = None
    exposure_values: tuple[float, float] = (0.0, 1.0)

    _can_exponentiate = False
    _not_poolable = (
        "Causal mediation effects are not pooled by pool(); fit causal_mediation to each "
        "completed data set and combine the draws."
    )

    # -- coefficient protocol -------------------------------------------------------
    @property
    def terms(self) -> tuple[str, ...]:
        """Effect names (``acme_control`` ...), in :meth:`tidy` order."""
        return tuple(self._terms)

    def coef(self) -> pd.Series:
        """Exact plug-in estimates indexed by term."""
        return pd.Series(
            np.array(self._estimates, dtype=float), index=list(self._terms), name="estimate"
        )

    def vcov(self) -> pd.DataFrame:
        """Covariance of the bootstrap or quasi-Bayesian draws (failed draws excluded)."""
        d = self.draws[~np.isnan(self.draws).any(axis=1)]
        names = list(self._terms)
        v = np.cov(d, rowvar=False, ddof=1).reshape(len(names), len(names))
        return pd.DataFrame(v, index=names, columns=names)

    @property
    def nobs(self) -> int:
        """Rows used."""
        return int(self.glance_values["n"])

    @property
    def df_resid(self) -> None:
        """None: the intervals are percentiles of draws."""
        return None

    def _intervals(self, draws, estimates, jackknife, conf_level):
        if self.ci == "bca":
            return bca_interval(draws, estimates, jackknife, conf_level)
        return percentile_interval(draws, conf_level)

    def _frame(self, names, estimates, draws, jackknife, conf_level, scales) -> pd.DataFrame:
        low, high = self._intervals(draws, estimates, jackknife, conf_level)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            se = np.nanstd(draws, axis=0, ddof=1)
            valid = (~np.isnan(draws)).sum(axis=0)
            below = np.nansum(draws < 0, axis=0) / valid
            above = np.nansum(draws > 0, axis=0) / valid
        p = np.minimum(1.0, 2 * np.minimum(below, above))
        out = pd.DataFrame(
            {
                "term": list(names),
                "estimate": estimates,
                "std_error": se,
                "statistic": np.nan,
                "p_value": p,
                "conf_low": low,
                "conf_high": high,
                "scale": list(scales),
            }
        )
        return out

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        return self._frame(
            self._terms, self._estimates, self.draws, self.jackknife, conf_level, self.scales
        )

    def four_way(self, conf_level: float | None = None) -> pd.DataFrame:
        """VanderWeele's four-way decomposition of the total effect.

        Parameters
        ----------
        conf_level : float, optional
            Confidence level; the level of the fit by default.

        Returns
        -------
        pandas.DataFrame
            Rows ``cde``, ``intref``, ``intmed``, ``pie`` with the tidy columns, ``scale``
            and ``proportion`` (each component's share of their sum).

        Raises
        ------
        OptionError
            If the model was fitted without ``interaction=True``.
        """
        if self.four_way_estimates is None:
            raise OptionError(
                "The four-way decomposition needs `interaction=True` and linear or logit models "
                "in causal_mediation()."
            )
        conf_level = check_conf_level(self.conf_level if conf_level is None else conf_level)
        out = self._frame(
            FOUR_WAY_TERMS,
            self.four_way_estimates,
            self.four_way_draws,
            self.four_way_jackknife,
            conf_level,
            [self.four_way_scale] * 4,
        )
        out["proportion"] = out["estimate"] / out["estimate"].sum()
        return out

    def glance(self) -> pd.DataFrame:
        """One row: ``n``, ``n_dropped``, method, interval type, draws, failures, seed, models."""
        return glance_frame(self.glance_values, GLANCE_COLUMNS)

    def _title(self) -> str:
        g = self.glance_values
        return (
            f"Causal mediation analysis ({g['mediator_family']}/{g['mediator_link']} mediator, "
            f"{g['outcome_family']}/{g['outcome_link']} outcome; {g['method']})"
        )

    def _notes(self) -> list[str]:
        return list(self.notes)

    def sensitivity(
        self,
        *,
        rho: Sequence[float] | np.ndarray | None = None,
        conf_level: float | None = None,
        n_sims: int = 500,
        rng: RNGLike = None,
    ) -> SensitivityResult:
        """Sensitivity of the ACME to mediator-outcome confounding (Imai et al. 2010).

        Parameters
        ----------
        rho : array-like, optional
            Correlations between the mediator and outcome model errors; by default
            ``numpy.linspace(-0.9, 0.9, 181)``.
        conf_level : float, optional
            Level of the pointwise intervals; the level of the fit by default.
        n_sims : int
            Quasi-Bayesian draws for the intervals of a probit outcome (unused for a
            linear outcome, whose intervals are analytic).
        rng : int, numpy.random.Generator or None
            Randomness for those draws.

        Returns
        -------
        SensitivityResult
            See :func:`mutualaid_outcomes.models.mediation.sensitivity.mediation_sensitivity`.
        """
        from .sensitivity import mediation_sensitivity

        return mediation_sensitivity(self, rho=rho, conf_level=conf_level, n_sims=n_sims, rng=rng)


def _check_number(value, argument: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ArgumentTypeError(f"`{argument}` must be a number; got {value!r}.")
    if not np.isfinite(value):
        raise DataValidationError(f"`{argument}` must be finite; got {value!r}.")
    return float(value)


def _is_binary(values: np.ndarray) -> bool:
    u = np.unique(values)
    return u.size <= 2 and set(u.tolist()) <= {0.0, 1.0}


#: link of each engine model code
_LINK_OF = {"linear": "identity", "logit": "logit", "probit": "probit"}


def _model_code(family: str, link: str | None, role: str) -> str:
    """The engine's model (``'linear'``, ``'logit'``, ``'probit'``) of a family and link."""
    if family in ("linear", "logit", "probit"):
        new = "'gaussian'" if family == "linear" else f"'binomial', {role}_link='{family}'"
        raise OptionError(
            f"`{role}_family={family!r}` is a model name of the old interface: use "
            f"{role}_family={new}."
        )
    check_option(family, tuple(_LINKS), f"{role}_family")
    link = _LINKS[family][0] if link is None else link
    check_option(link, _LINKS[family], f"{role}_link")
    return "linear" if family == "gaussian" else str(link)


def _one_mediator(mediators: str | Sequence[str]) -> str:
    meds = as_column_list(mediators, "mediators")
    if len(meds) != 1:
        raise DataValidationError(
            f"`mediators` must name exactly one column for causal_mediation (the estimands "
            f"are defined for one mediator); got {meds}. Use mediate() for several."
        )
    return meds[0]


def _check_draws(method: str, n_boot: int | None, n_sims: int | None) -> tuple[int, str]:
    """The number of draws and its argument: ``n_boot`` (bootstrap) or ``n_sims``."""
    if method == "bootstrap":
        if n_sims is not None:
            raise OptionError(
                "`n_sims` counts quasi-Bayesian draws (method='quasi_bayesian'); the bootstrap "
                "takes its number of resamples from `n_boot`."
            )
        return (DEFAULT_DRAWS if n_boot is None else n_boot), "n_boot"
    if n_boot is not None:
        raise OptionError(
            "`n_boot` counts bootstrap resamples; method='quasi_bayesian' takes its number of "
            "draws from `n_sims`."
        )
    return (DEFAULT_DRAWS if n_sims is None else n_sims), "n_sims"


@renamed(
    treatment="exposure",
    mediator="mediators",
    mediator_model="`mediator_family` and `mediator_link`",
    outcome_model="`outcome_family` and `outcome_link`",
)
def causal_mediation(
    data: pd.DataFrame,
    exposure: str,
    mediators: str | Sequence[str],
    outcome: str,
    covariates: str | Sequence[str] = (),
    *,
    mediator_family: Family = "gaussian",
    mediator_link: Link | None = None,
    outcome_family: Family = "gaussian",
    outcome_link: Link | None = None,
    interaction: bool = False,
    control_value: float = 0,
    treat_value: float = 1,
    m_value: float | None = None,
    method: MethodType = "bootstrap",
    n_boot: int | None = None,
    n_sims: int | None = None,
    ci: CIType = "percentile",
    conf_level: float = 0.95,
    rng: RNGLike = None,
) -> CausalMediationResult:
    r"""Causal mediation effects (Imai, Keele & Tingley) and VanderWeele's decomposition.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person. Not modified.
    exposure : str
        Exposure (treatment) column; binary or continuous (see ``control_value``).
    mediators : list of str
        The mediator column, as a one-element list (the estimands are defined for one
        mediator; a single name is accepted too).
    outcome : str
        Outcome column.
    covariates : str or sequence of str
        Pre-exposure covariates, entered in both models (numeric; dummy-code categories).
    mediator_family, outcome_family : {'gaussian', 'binomial'}
        Family of the mediator and of the outcome model: linear regression, or a
        regression for a 0/1 variable.
    mediator_link, outcome_link : {'identity', 'logit', 'probit'}, optional
        Links: ``'identity'`` for gaussian; ``'logit'`` (default) or ``'probit'`` for
        binomial.
    interaction : bool
        Include the exposure x mediator product in the outcome model. With linear or
        logit models this adds VanderWeele's effects (``cde``, ``pnde``, ``tnde``,
        ``pnie``, ``tnie``) to ``tidy()`` and the four-way decomposition
        (:meth:`CausalMediationResult.four_way`); with a probit model only the
        Imai-Keele-Tingley estimands are reported (a note says so).
    control_value, treat_value : float
        The two exposure levels compared (any two values of a continuous exposure).
    m_value : float, optional
        Mediator level of the controlled direct effect and the four-way decomposition;
        by default the mediator mean for a linear mediator and 0 for a binary one.
    method : {'bootstrap', 'quasi_bayesian'}
        Nonparametric bootstrap (both models refitted on the same resampled rows), or
        draws of both models' coefficients from their asymptotic normal distributions.
    n_boot : int, optional
        Bootstrap resamples for ``method='bootstrap'`` (default 1000).
    n_sims : int, optional
        Quasi-Bayesian draws for ``method='quasi_bayesian'`` (default 1000). Giving
        ``n_boot`` with quasi-Bayesian draws, or ``n_sims`` with the bootstrap, is an
        error.
    ci : {'percentile', 'bca'}
        Interval type; BCa (jackknife acceleration) needs ``method='bootstrap'``.
    conf_level : float
        Level of the intervals.
    rng : int, numpy.random.Generator or None
        Randomness (keyword only).

    Returns
    -------
    CausalMediationResult
        ``tidy()`` rows ``acme_control``, ``acme_treated``, ``acme_average``,
        ``ade_control``, ``ade_treated``, ``ade_average``, ``total``,
        ``prop_mediated_control``, ``prop_mediated_treated``, ``prop_mediated_average``
        (and the VanderWeele rows with ``interaction=True``); a ``scale`` column says on
        which scale each row is. ``glance()`` reports ``n``, ``n_dropped``, method,
        ``n_boot`` or ``n_sims``, failed resamples, the seed and the models.

    Raises
    ------
    ColumnNotFoundError
        A named column is not in ``data``.
    DataValidationError
        Non-numeric columns, a constant exposure, a variable used in two roles, more
        than one mediator, ``treat_value == control_value``, a non-binary variable with a
        binomial model, or a rank-deficient model.
    OptionError
        An unknown option, BCa with quasi-Bayesian draws, or ``n_boot`` / ``n_sims``
        given with the other method.
    EstimationError
        A model cannot be fitted (no rows left, separation).

    Warns
    -----
    DataWarning
        A 0/1 mediator or outcome is given a gaussian model, or ``control_value`` /
        ``treat_value`` lie outside the observed exposure range.
    BootstrapWarning
        ``n_boot`` / ``n_sims`` is small for the chosen interval, or some resamples
        failed.

    Notes
    -----
    With exposure levels :math:`t_0` (control) and :math:`t_1`, and
    :math:`\bar\mu(t, t') = n^{-1}\sum_i E[Y_i(t, M_i(t'))]`, the estimands are

    .. math::

        \delta(t) = \bar\mu(t, t_1) - \bar\mu(t, t_0), \quad
        \zeta(t) = \bar\mu(t_1, t) - \bar\mu(t_0, t), \quad
        \tau = \bar\mu(t_1, t_1) - \bar\mu(t_0, t_0),

    ``acme_control`` :math:`=\delta(t_0)`, ``acme_treated`` :math:`=\delta(t_1)`,
    ``ade_control`` :math:`=\zeta(t_0)`, ``ade_treated`` :math:`=\zeta(t_1)`, the
    averages are means of the two, and ``prop_mediated_*`` :math:`=\delta/\tau`.
    Each :math:`E[Y_i(t, M_i(t'))]` is computed *exactly* from the fitted models:
    linear in the mediator for a linear outcome; for a normal mediator and a probit
    outcome :math:`\Phi\{(a + b\mu)/\sqrt{1 + b^2\sigma^2}\}`; for a normal mediator and a
    logit outcome by the trapezoid rule over the standardised mediator residual, with a
    step chosen from :math:`|b\sigma|` so that the quadrature error is below 1e-12
    (:math:`\sigma` is the residual standard error with :math:`n - p` degrees of
    freedom); for a binary mediator as the two-point sum over :math:`m \in \{0, 1\}`.
    The point estimates are therefore deterministic plug-in values. R ``mediation``
    instead reports the mean of its simulations (which include simulated mediator
    values), so its printed estimates differ from ours by Monte Carlo error.

    Intervals are percentiles (or BCa) of the same estimands recomputed for each
    bootstrap resample (counts weight both models, so they share the resampled rows;
    the sample means use the resample) or for each quasi-Bayesian draw of the two
    coefficient vectors from :math:`N(\hat\beta, \hat V)` (the residual SD is held at
    its estimate, as in R ``mediation``). The p-value is R ``mediation``'s:
    twice the smaller share of draws on either side of zero. Resamples whose models
    fail (singular design, separation) are dropped and counted in ``n_failed``.

    VanderWeele's effects (``interaction=True``) are evaluated at the covariate means
    (recomputed in each bootstrap resample; :math:`m^*` stays at its full-data value).
    For a linear outcome they are differences of means: with :math:`m^*` = ``m_value``,
    ``cde`` :math:`= (\theta_1 + \theta_3 m^*)(t_1 - t_0)`, ``pnde`` / ``tnde`` /
    ``pnie`` / ``tnie`` the natural effects (for linear models they equal ``ade_control``,
    ``ade_treated``, ``acme_control``, ``acme_treated``), and the four-way components
    ``cde + intref + intmed + pie = total`` (VanderWeele 2014). For a logit outcome
    they use the rare-outcome approximation :math:`P(Y=1 \mid t, m, c) \approx
    \exp(\text{linear predictor})`: natural and controlled effects are log odds ratios
    (e.g. :math:`\log OR^{PNDE} = \{\theta_1 + \theta_3(\beta_0 + \beta_1 t_0 +
    \beta_2'c + \theta_2\sigma^2)\}(t_1 - t_0) + \tfrac12\theta_3^2\sigma^2(t_1^2 - t_0^2)`
    for a normal mediator; VanderWeele & Vansteelandt 2010) and the four-way components
    are on the excess-relative-risk scale, summing to :math:`RR^{TE} - 1`.

    Validated against ``tests/reference/causal_mediation_jobs.R`` (R 4.2.2) on the JOBS II
    data: plug-in estimates of eleven linear, logit, probit, binary-mediator,
    continuous-exposure and interaction models agree with deterministic R computations
    from ``lm``/``glm`` fits (``predict`` and adaptive ``integrate``) to 1.2e-8 relative
    (ACME -0.01574465, ADE -0.04026470, total -0.05600935 for the standard model);
    VanderWeele's effects agree with his closed forms coded in R to 1e-10; bootstrap and
    quasi-Bayesian intervals agree within Monte Carlo error with an R re-implementation
    of ``mediation::mediate``'s algorithms (5,000 simulations) and with the intervals
    printed by R ``mediation`` itself (ACME [-0.0400, 0.01] bootstrap; full-covariate
    quasi-Bayesian ACME [-0.0318, 0.0033]). ``mediate`` simulates a mediator value per
    person and draw, which widens its intervals for a binary mediator (by about 20% on
    JOBS II); ours integrate the mediator out.

    References
    ----------
    Imai, K., Keele, L. & Tingley, D. (2010). A general approach to causal mediation
    analysis. *Psychological Methods*, 15, 309-334.
    VanderWeele, T. J. & Vansteelandt, S. (2010). Odds ratios for mediation analysis for a
    dichotomous outcome. *American Journal of Epidemiology*, 172, 1339-1348.
    VanderWeele, T. J. (2014). A unification of mediation and interaction: a 4-way
    decomposition. *Epidemiology*, 25, 749-761.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> t = rng.integers(0, 2, 300)
    >>> m = 0.5 * t + rng.normal(size=300)
    >>> y = 0.4 * m + 0.2 * t + rng.normal(size=300)
    >>> df = pd.DataFrame({"t": t, "m": m, "y": y})
    >>> res = causal_mediation(df, "t", ["m"], "y", n_boot=500, rng=2)
    >>> res.tidy().loc[[2, 5, 6], ["term", "estimate", "conf_low", "conf_high"]].round(3)
               term  estimate  conf_low  conf_high
    2  acme_average     0.261     0.147      0.375
    5   ade_average     0.306     0.020      0.560
    6         total     0.567     0.307      0.821
    """
    data = check_dataframe(data)
    for arg, val in (("exposure", exposure), ("outcome", outcome)):
        if not isinstance(val, str):
            raise ArgumentTypeError(f"`{arg}` must be a column name (str); got {val!r}.")
    mediator = _one_mediator(mediators)
    covs = as_column_list(covariates, "covariates")
    check_columns(data, [exposure], "exposure")
    check_columns(data, [mediator], "mediators")
    check_columns(data, [outcome], "outcome")
    check_columns(data, covs, "covariates")
    roles = {"exposure": exposure, "mediators": mediator, "outcome": outcome}
    seen: dict[str, str] = {}
    for role, col in roles.items():
        if col in seen:
            raise DataValidationError(
                f"`{role}` and `{seen[col]}` both name column '{col}'; the exposure, "
                "mediator and outcome must be different columns."
            )
        seen[col] = role
    clash = [c for c in covs if c in seen]
    if clash:
        raise DataValidationError(
            f"`covariates` contains {clash}, which is also the "
            f"{', '.join(seen[c] for c in clash)}; remove it from the covariates."
        )
    dup = sorted({c for c in covs if covs.count(c) > 1})
    if dup:
        raise DataValidationError(f"`covariates` lists {dup} more than once.")
    mediator_model = _model_code(mediator_family, mediator_link, "mediator")
    outcome_model = _model_code(outcome_family, outcome_link, "outcome")
    method = check_option(method, _METHODS, "method")
    ci = check_option(ci, _CIS, "ci")
    if not isinstance(interaction, (bool, np.bool_)):
        raise ArgumentTypeError(f"`interaction` must be True or False; got {interaction!r}.")
    if ci == "bca" and method != "bootstrap":
        raise OptionError(
            "`ci='bca'` needs `method='bootstrap'` (BCa intervals need resamples and a "
            "jackknife); use ci='percentile' with method='quasi_bayesian'."
        )
    # VanderWeele's closed forms exist for linear and logit models only
    vanderweele = bool(interaction) and "probit" not in (mediator_model, outcome_model)
    conf_level = check_conf_level(conf_level)
    t0 = _check_number(control_value, "control_value")
    t1 = _check_number(treat_value, "treat_value")
    if t0 == t1:
        raise DataValidationError(
            f"`treat_value` and `control_value` must differ; both are {t0:g}."
        )
    n_draws, draws_arg = _check_draws(method, n_boot, n_sims)
    n_draws = check_n_boot(n_draws, ci, draws_arg)
    if n_draws < 2:
        raise DataValidationError(f"`{draws_arg}` must be at least 2; got {n_draws}.")
    cols = [exposure, mediator, outcome, *covs]
    check_numeric(data, cols, "exposure, mediators, outcome and covariates")
    generator = check_rng(rng)

    clean, report = listwise_delete(data, cols)
    arr = {c: clean[c].to_numpy(dtype=float) for c in cols}
    t, m, y = arr[exposure], arr[mediator], arr[outcome]
    cmat = np.column_stack([arr[c] for c in covs]) if covs else np.zeros((t.size, 0))
    if np.unique(t).size < 2:
        raise DataValidationError(
            f"`exposure` ('{exposure}') is constant in the {t.size} rows used; it must vary."
        )
    outside = [v for v in (t0, t1) if not t.min() <= v <= t.max()]
    if outside:
        warnings.warn(
            f"`control_value`/`treat_value` {[float(v) for v in outside]} lie outside the "
            f"observed range of `exposure` ('{exposure}', {t.min():g} to {t.max():g}); "
            "the effects extrapolate the fitted models.",
            DataWarning,
            stacklevel=2,
        )
    for role, arg, col, model, values in (
        ("mediator", "mediators", mediator, mediator_model, m),
        ("outcome", "outcome", outcome, outcome_model, y),
    ):
        if model != "linear":
            check_binary(clean[col], f"{arg} ({role}_family='binomial')")
        elif _is_binary(values):
            warnings.warn(
                f"`{arg}` ('{col}') is coded 0/1 but `{role}_family='gaussian'`; "
                f"consider {role}_family='binomial'.",
                DataWarning,
                stacklevel=2,
            )
        if np.unique(values).size < 2:
            raise DataValidationError(f"`{arg}` ('{col}') is constant in the rows used.")
    design = Design(t, m, y, cmat, mediator_model, outcome_model, bool(interaction))
    xm, xy = design.x_m, design.x_y
    for name, x in (("mediator", xm), ("outcome", xy)):
        if np.linalg.matrix_rank(x) < x.shape[1]:
            raise DataValidationError(
                f"The {name} model's design matrix is rank deficient (collinear exposure, "
                "mediator or covariates, or a covariate constant in the rows used)."
            )
    if m_value is None:
        m_star = float(m.mean()) if mediator_model == "linear" else 0.0
    else:
        m_star = _check_number(m_value, "m_value")

    n = t.size
    ones = np.ones((1, n))
    bm, sm, okm = fit_weighted(xm, m, ones, mediator_model)
    by, sy, oky = fit_weighted(xy, y, ones, outcome_model)
    if not (okm[0] and oky[0]):
        which = "mediator" if not okm[0] else "outcome"
        raise EstimationError(
            f"The {which} model could not be fitted (no convergence or complete separation)."
        )

    def estimands(bm_, by_, sm_, w_):
        parts = [ikt_effects(bm_, by_, sm_, design, w_, t0, t1)]
        if vanderweele:
            parts.append(vanderweele_effects(bm_, by_, sm_, design, w_, t0, t1, m_star))
        return np.concatenate(parts, axis=1)

    est = estimands(bm, by, sm, None)[0]

    jack = None
    n_failed = 0
    if method == "quasi_bayesian":
        vm = vcov(xm, m, bm[0], float(sm[0]), mediator_model)
        vy = vcov(xy, y, by[0], float(sy[0]), outcome_model)
        dm = generator.multivariate_normal(bm[0], vm, size=n_draws, method="cholesky")
        dy = generator.multivariate_normal(by[0], vy, size=n_draws, method="cholesky")
        draws = estimands(dm, dy, np.full(n_draws, sm[0]), None)
    else:
        chunks = iter_bootstrap_counts(n, n_draws, generator, chunk_size=_CHUNK)
        draws, n_failed = _replicate(design, chunks, bm[0], by[0], estimands)
        if n_failed:
            warnings.warn(
                f"{n_failed} of {n_draws} bootstrap resamples failed (singular design or "
                "separation) and were dropped.",
                BootstrapWarning,
                stacklevel=2,
            )
        if ci == "bca":
            jack, _ = _replicate(design, _jackknife_weights(n), bm[0], by[0], estimands)

    k_ikt = len(IKT_TERMS)
    terms = list(IKT_TERMS)
    scales = ["difference"] * (k_ikt - 3) + ["ratio"] * 3
    fw_est = fw_draws = fw_jack = None
    fw_scale = None
    if vanderweele:
        terms += list(VW_TERMS)
        scales += ["difference" if outcome_model == "linear" else "log_odds_ratio"] * 5
        k_main = k_ikt + len(VW_TERMS)
        fw_est, fw_draws = est[k_main:], draws[:, k_main:]
        fw_jack = None if jack is None else jack[:, k_main:]
        fw_scale = "difference" if outcome_model == "linear" else "excess_relative_risk"
        est, draws = est[:k_main], draws[:, :k_main]
        jack = None if jack is None else jack[:, :k_main]

    notes = [report.describe()]
    notes.append(
        "Point estimates are exact plug-in values; intervals: "
        + (
            f"{ci} bootstrap ({n_draws} resamples of rows, both models refitted)"
            if method == "bootstrap"
            else f"quasi-Bayesian ({n_draws} draws of both models' coefficients)"
        )
        + "."
    )
    if n_failed:
        notes.append(f"{n_failed} failed resamples dropped.")
    if interaction and not vanderweele:
        notes.append(
            "VanderWeele's effects are not reported: their closed forms need linear or logit "
            "models (a probit model was requested)."
        )
    if vanderweele:
        notes.append(
            f"VanderWeele effects at the covariate means and m* = {m_star:g}"
            + (
                "; logit outcome: cde/pnde/tnde/pnie/tnie are log odds ratios and the four-way "
                "components excess relative risks (rare-outcome approximation)."
                if outcome_model == "logit"
                else "."
            )
        )
    glance_values = {
        "n": int(n),
        "n_dropped": int(report.n_dropped),
        "method": method,
        "ci": ci,
        "n_boot": int(n_draws) if method == "bootstrap" else np.nan,
        "n_sims": int(n_draws) if method == "quasi_bayesian" else np.nan,
        "n_failed": int(n_failed),
        "seed": seed_of(rng),
        "mediator_family": mediator_family,
        "mediator_link": _LINK_OF[mediator_model],
        "outcome_family": outcome_family,
        "outcome_link": _LINK_OF[outcome_model],
        "interaction": bool(interaction),
        "control_value": t0,
        "treat_value": t1,
        "m_value": m_star if vanderweele else np.nan,
    }
    return CausalMediationResult(
        _terms=tuple(terms),
        _estimates=est,
        draws=draws,
        scales=tuple(scales),
        ci=ci,
        conf_level=conf_level,
        jackknife=jack,
        four_way_estimates=fw_est,
        four_way_draws=fw_draws,
        four_way_jackknife=fw_jack,
        four_way_scale=fw_scale,
        glance_values=glance_values,
        notes=tuple(notes),
        design=design,
        exposure_values=(t0, t1),
    )


def _jackknife_weights(n: int):
    """Leave-one-out weights in chunks of rows (row ``i`` drops observation ``i``)."""
    for lo in range(0, n, _CHUNK):
        hi = min(n, lo + _CHUNK)
        w = np.ones((hi - lo, n))
        w[np.arange(hi - lo), np.arange(lo, hi)] = 0.0
        yield w


def _replicate(design: Design, chunks, bm0, by0, estimands):
    """Refit both models for every weight row and recompute the estimands.

    ``chunks`` yields ``(k, n)`` weight matrices (bootstrap counts or jackknife
    weights); each chunk is fitted in one batch. Failed fits give NaN rows.
    """
    xm, xy = design.x_m, design.x_y
    k = estimands(bm0[None, :], by0[None, :], np.ones(1), None).shape[1]
    out = []
    failed = 0
    for wb in chunks:
        bm, sm, okm = fit_weighted(xm, design.m, wb, design.mediator_model, bm0)
        by, _, oky = fit_weighted(xy, design.y, wb, design.outcome_model, by0)
        ok = okm & oky
        res = np.full((wb.shape[0], k), np.nan)
        if ok.any():
            res[ok] = estimands(bm[ok], by[ok], sm[ok], wb[ok])
        failed += int((~ok).sum())
        out.append(res)
    return np.concatenate(out), failed
