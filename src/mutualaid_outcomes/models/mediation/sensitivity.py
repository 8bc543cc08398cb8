r"""Sensitivity of causal mediation effects to unmeasured mediator-outcome confounding.

Implements the analysis of Imai, Keele & Yamamoto (2010) for a linear mediator model and
a linear outcome model: the ACME as a function of the correlation :math:`\rho` between
the two models' errors, the :math:`\rho` at which the ACME is zero, and the same
thresholds expressed as products of partial :math:`R^2` of an unobserved confounder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..._rng import RNGLike, check_rng
from ..._validation import check_conf_level, check_positive_int
from ...errors import ArgumentTypeError, DataValidationError, OptionError
from ._causal_engine import Design
from ._sensitivity_result import FRAME_COLUMNS, SENSITIVITY_GLANCE_COLUMNS, SensitivityResult
from ._sensitivity_systems import CausalFit, LinearSystem, ProbitSystem, unit_root

__all__ = ["SensitivityResult", "mediation_sensitivity", "SENSITIVITY_GLANCE_COLUMNS"]


#: Default grid of error correlations.
DEFAULT_RHO = np.linspace(-0.9, 0.9, 181)


def _check_rho(rho) -> np.ndarray:
    if rho is None:
        return DEFAULT_RHO.copy()
    try:
        arr = np.asarray(rho, dtype=float).reshape(-1)
    except (TypeError, ValueError):
        raise ArgumentTypeError(f"`rho` must be numbers in (-1, 1); got {rho!r}.") from None
    if arr.size == 0:
        raise DataValidationError("`rho` is empty; give at least one value in (-1, 1).")
    bad = arr[~(np.abs(arr) < 1)]
    if bad.size:
        raise DataValidationError(
            f"`rho` values must lie strictly between -1 and 1; got {bad[:5].tolist()}."
        )
    return arr


def mediation_sensitivity(
    result: CausalFit,
    *,
    rho: Sequence[float] | np.ndarray | None = None,
    conf_level: float | None = None,
    n_sims: int = 500,
    rng: RNGLike = None,
) -> SensitivityResult:
    r"""ACME as a function of the mediator-outcome error correlation :math:`\rho`.

    Parameters
    ----------
    result : CausalMediationResult
        A fit of :func:`~mutualaid_outcomes.models.mediation.causal.causal_mediation`
        with a gaussian mediator model and a gaussian or binomial-probit outcome model
        (the probit case without an exposure-mediator interaction).
    rho : array-like, optional
        Error correlations in (-1, 1); default ``numpy.linspace(-0.9, 0.9, 181)``.
    conf_level : float, optional
        Level of the pointwise intervals; the level of the fit by default.
    n_sims : int
        Quasi-Bayesian draws behind the intervals of a probit outcome (ignored for a
        linear outcome).
    rng : int, numpy.random.Generator or None
        Randomness of those draws (keyword only).

    Returns
    -------
    SensitivityResult
        ``frame`` (ACME, pointwise interval and :math:`R^2` products per :math:`\rho`)
        and ``roots`` (the :math:`\rho` at which the ACME is zero).

    Raises
    ------
    OptionError
        If the mediator model is not gaussian, the outcome model is logit, or a probit
        outcome model has an exposure-mediator interaction.
    DataValidationError
        If a ``rho`` value is outside (-1, 1).

    Notes
    -----
    Under sequential ignorability the errors :math:`\epsilon_M` of the mediator model and
    :math:`\epsilon_Y` of the outcome model are uncorrelated; an unobserved
    pre-treatment confounder of mediator and outcome makes :math:`\rho =
    \operatorname{corr}(\epsilon_M, \epsilon_Y) \ne 0`. For a fixed :math:`\rho` the
    two equations are estimated jointly by feasible GLS (R ``mediation::medsens``
    iterates this). The iteration has a closed-form fixed point: the mediator
    coefficients stay at OLS, and the outcome model's mediator coefficient becomes
    :math:`\hat\theta_M - c(\rho)` with

    .. math::

        c(\rho) = \frac{\rho\, s_Y}{s_M \sqrt{1 - \rho^2}},

    :math:`s_M` and :math:`s_Y` the residual SDs of the two OLS fits, so
    :math:`\mathrm{ACME}(t; \rho) = \hat\beta_T (t_1 - t_0)\{\hat\theta_M - c(\rho) +
    \hat\theta_{TM} t\}`. This equals Imai et al.'s
    :math:`\hat\beta_T \sigma_1 / \sigma_2 \{\tilde\rho - \rho\sqrt{(1 - \tilde\rho^2) /
    (1 - \rho^2)}\}` and is zero at :math:`\rho = \tilde\rho`, the correlation of the
    mediator-model residuals with those of the outcome model without the mediator.
    The root is found by :func:`scipy.optimize.brentq` (tolerance 1e-12), not read off the
    grid as ``medsens`` does. Pointwise intervals are the delta-method intervals of
    ``medsens``: :math:`\operatorname{Var} = \theta^2 V_{\beta_T} + \beta_T^2
    V_{\theta}` from the GLS covariance :math:`\{X'(\Omega^{-1}\otimes I)X\}^{-1}`.
    :math:`R^{2*}_M R^{2*}_Y = \rho^2` is the product of the shares of the mediator's and
    outcome's *residual* variance an unobserved confounder would explain, and
    :math:`\tilde R^2_M \tilde R^2_Y = \rho^2(1 - R^2_M)(1 - R^2_Y)` the product of
    shares of their *total* variance.

    **Probit outcome.** With :math:`\operatorname{corr}(\epsilon_M, \epsilon^*_Y) = \rho`
    the observed probit coefficients of the outcome model are
    :math:`\tilde\gamma = (\gamma + \rho/\sigma)/\sqrt{1-\rho^2}` for the mediator and
    :math:`\tilde\theta = (\theta - \rho\beta/\sigma)/\sqrt{1-\rho^2}` for the rest
    (:math:`\beta`, :math:`\sigma`: mediator model). Inverting gives the structural
    coefficients at each :math:`\rho`, and
    :math:`E[Y(t, M(t'))] = n^{-1}\sum_i \Phi\{(x_i'\theta(t) + \gamma\mu_i(t')) /
    \sqrt{\gamma^2\sigma^2 + 2\gamma\rho\sigma + 1}\}` (Imai, Keele & Yamamoto 2010,
    sec. 5). The ACME is zero where :math:`\gamma(\rho) = 0`, i.e. at
    :math:`\rho = \sigma\tilde\gamma / \sqrt{1 + \sigma^2\tilde\gamma^2}`.
    ``acme_control``, ``acme_treated`` and ``acme_average`` differ for a probit outcome.
    Point values are exact plug-in values; intervals are percentiles of ``n_sims``
    quasi-Bayesian draws (coefficients from their asymptotic normal distributions,
    :math:`\sigma^2` from its scaled inverse chi-square distribution), as in ``medsens``.
    ``medsens`` computes its point curve as the mean of those draws, and its expression
    for the zero-crossing, :math:`\sigma\tilde\gamma / (1 + |\sigma\tilde\gamma|)`,
    differs from the one implied by the model; on the JOBS II probit example its curve
    differs from the exact one by up to 0.0014 (about 2% of the ACME at
    :math:`|\rho| = 0.9`). The :math:`R^2` of the outcome is on the latent scale,
    :math:`\operatorname{var}(x'\tilde\theta) / \{1 + \operatorname{var}(x'\tilde\theta)\}`,
    as in ``medsens``. The probit curve agrees with an adaptive-integration computation in
    R over the bivariate normal errors to 1e-7.

    Validated against ``tests/reference/causal_mediation_jobs.R``, which runs the
    ``medsens`` FGLS iteration: the ACME curve and intervals agree to 1e-6 (iterated to
    convergence), and the root for the full-covariate JOBS II model is -0.20998
    (R^2* product 0.0441, R~^2 product 0.0288).

    References
    ----------
    Imai, K., Keele, L. & Yamamoto, T. (2010). Identification, inference and sensitivity
    analysis for causal mediation effects. *Statistical Science*, 25, 51-71.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from mutualaid_outcomes.models.mediation.causal import causal_mediation
    >>> rng = np.random.default_rng(4)
    >>> t = rng.integers(0, 2, 400)
    >>> m = 0.6 * t + rng.normal(size=400)
    >>> y = 0.5 * m + rng.normal(size=400)
    >>> df = pd.DataFrame({"t": t, "m": m, "y": y})
    >>> fit = causal_mediation(df, "t", ["m"], "y", n_boot=500, rng=1)
    >>> sens = fit.sensitivity()
    >>> round(sens.rho_at_zero(), 3)
    0.46
    """
    if not hasattr(result, "design") or not isinstance(result.design, (Design, type(None))):
        raise ArgumentTypeError(
            "`result` must be a fit of causal_mediation() (a CausalMediationResult); got "
            f"{type(result).__name__}."
        )
    design = result.design
    if design is not None and design.mediator_model == "linear":
        if design.outcome_model == "probit":
            return _probit_outcome_sensitivity(result, rho, conf_level, n_sims, rng)
        if design.outcome_model == "linear":
            return _linear_outcome_sensitivity(result, rho, conf_level)
    g = result.glance().iloc[0]
    got = (
        f"mediator_family={g['mediator_family']!r} (link {g['mediator_link']!r}), "
        f"outcome_family={g['outcome_family']!r} (link {g['outcome_link']!r})"
    )
    raise OptionError(
        "The sensitivity analysis is implemented for a gaussian mediator model with a "
        f"gaussian or binomial-probit outcome model; got {got}."
    )


def _linear_outcome_sensitivity(
    result: CausalFit, rho: Any, conf_level: float | None
) -> SensitivityResult:
    """Linear mediator and outcome: closed-form ACME curve, delta-method intervals, roots."""
    rho = _check_rho(rho)
    conf_level = check_conf_level(result.conf_level if conf_level is None else conf_level)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    sys = LinearSystem(result)
    effects: tuple[tuple[str, float], ...]
    if sys.interaction:
        effects = (("acme_control", sys.t0), ("acme_treated", sys.t1))
    else:
        effects = (("acme_average", sys.t0),)
    frames = []
    roots = []
    r2tilde = (1 - sys.r2_m) * (1 - sys.r2_y)
    for name, t in effects:
        acme = sys.acme(rho, t)
        se = np.sqrt(sys.variance(rho, t))
        frames.append(
            pd.DataFrame(
                {
                    "effect": name,
                    "rho": rho,
                    "acme": acme,
                    "std_error": se,
                    "conf_low": acme - z * se,
                    "conf_high": acme + z * se,
                    "r2star_prod": rho**2,
                    "r2tilde_prod": rho**2 * r2tilde,
                }
            )
        )
        lo, hi = -1 + 1e-12, 1 - 1e-12
        f_lo, f_hi = sys.slope(np.array([lo]), t)[0], sys.slope(np.array([hi]), t)[0]
        if np.sign(f_lo) != np.sign(f_hi):
            root = optimize.brentq(
                lambda r, t=t: float(sys.slope(np.array([r]), t)[0]),
                lo,
                hi,
                xtol=1e-14,
                rtol=1e-13,
            )
        else:  # pragma: no cover - the slope spans the real line on (-1, 1)
            root = np.nan
        roots.append(
            {
                "effect": name,
                "rho_at_zero": root,
                "r2star_prod": root**2,
                "r2tilde_prod": root**2 * r2tilde,
            }
        )
    return SensitivityResult(
        frame=pd.concat(frames, ignore_index=True)[list(FRAME_COLUMNS)],
        roots=pd.DataFrame(roots),
        r_squared_mediator=float(sys.r2_m),
        r_squared_outcome=float(sys.r2_y),
        conf_level=conf_level,
        acme_function=lambda r, effect: sys.acme(r, dict(effects)[effect]),
    )


def _probit_outcome_sensitivity(result, rho, conf_level, n_sims, rng) -> SensitivityResult:
    design = result.design
    if design.interaction:
        raise OptionError(
            "The sensitivity analysis for a probit outcome is not available with an "
            "exposure-mediator interaction (as in R mediation::medsens)."
        )
    rho = _check_rho(rho)
    conf_level = check_conf_level(result.conf_level if conf_level is None else conf_level)
    n_sims = check_positive_int(n_sims, "n_sims", minimum=2)
    gen = check_rng(rng)
    sys = ProbitSystem(result)
    # quasi-Bayesian draws as in medsens: both coefficient vectors from their asymptotic
    # normal distributions, sigma^2 from its scaled inverse chi-square distribution
    bm_d = gen.multivariate_normal(sys.bm, sys.vm, size=n_sims, method="cholesky")
    by_d = gen.multivariate_normal(sys.by, sys.vy, size=n_sims, method="cholesky")
    sig_d = np.sqrt(sys.df * sys.sigma**2 / gen.chisquare(sys.df, size=n_sims))
    alpha = (1 - conf_level) / 2
    effects = {
        "acme_control": (sys.t0,),
        "acme_treated": (sys.t1,),
        "acme_average": (sys.t0, sys.t1),
    }

    def point(r: float, effect: str) -> float:
        ts = effects[effect]
        return float(np.mean([sys.point(r, t) for t in ts]))

    r2tilde = (1 - sys.r2_m) * (1 - sys.r2_y)
    # draws of ACME(t0) and ACME(t1) at every rho: (n_sims, n_rho) each
    per_t = {
        t: np.column_stack([sys.acme(r, t, bm_d, sig_d, by_d) for r in rho])
        for t in (sys.t0, sys.t1)
    }
    frames, roots = [], []
    for name, ts in effects.items():
        est = np.array([point(r, name) for r in rho])
        draws = np.mean([per_t[t] for t in ts], axis=0)
        low, high = np.quantile(draws, [alpha, 1 - alpha], axis=0)
        frames.append(
            pd.DataFrame(
                {
                    "effect": name,
                    "rho": rho,
                    "acme": est,
                    "std_error": draws.std(axis=0, ddof=1),
                    "conf_low": low,
                    "conf_high": high,
                    "r2star_prod": rho**2,
                    "r2tilde_prod": rho**2 * r2tilde,
                }
            )
        )
        root = unit_root(lambda r, name=name: point(r, name))
        roots.append(
            {
                "effect": name,
                "rho_at_zero": root,
                "r2star_prod": root**2,
                "r2tilde_prod": root**2 * r2tilde,
            }
        )

    def acme_fn(r: np.ndarray, effect: str) -> np.ndarray:
        return np.array([point(float(v), effect) for v in np.atleast_1d(r)])

    return SensitivityResult(
        frame=pd.concat(frames, ignore_index=True)[list(FRAME_COLUMNS)],
        roots=pd.DataFrame(roots),
        r_squared_mediator=float(sys.r2_m),
        r_squared_outcome=float(sys.r2_y),
        conf_level=conf_level,
        acme_function=acme_fn,
    )
