r"""Sensitivity of causal mediation effects to unmeasured mediator-outcome confounding.

Implements the analysis of Imai, Keele & Yamamoto (2010) for a linear mediator model and
a linear outcome model: the ACME as a function of the correlation :math:`\rho` between
the two models' errors, the :math:`\rho` at which the ACME is zero, and the same
thresholds expressed as products of partial :math:`R^2` of an unobserved confounder.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from ..._rng import RNGLike, check_rng
from ..._validation import check_conf_level, check_positive_int
from ...errors import ArgumentTypeError, DataValidationError, OptionError
from ...results import BaseResult, glance_frame
from ._causal_engine import fit_weighted, vcov

if TYPE_CHECKING:  # pragma: no cover
    from .causal import CausalMediationResult

__all__ = ["SensitivityResult", "mediation_sensitivity", "SENSITIVITY_GLANCE_COLUMNS"]

#: Default grid of error correlations.
DEFAULT_RHO = np.linspace(-0.9, 0.9, 181)

FRAME_COLUMNS: tuple[str, ...] = (
    "effect",
    "rho",
    "acme",
    "std_error",
    "conf_low",
    "conf_high",
    "r2star_prod",
    "r2tilde_prod",
)
SENSITIVITY_GLANCE_COLUMNS: tuple[str, ...] = (
    "n_rho",
    "rho_min",
    "rho_max",
    "conf_level",
    "r_squared_mediator",
    "r_squared_outcome",
    "method",
)


@dataclass(frozen=True, repr=False)
class SensitivityResult(BaseResult):
    r"""Result of :func:`mediation_sensitivity`.

    ``tidy()`` has one row per effect, ``rho_at_zero[effect]``: the :math:`\rho` at
    which the ACME is zero (no standard error or interval), with the :math:`R^2` products
    at that :math:`\rho` as extra columns. ``glance()`` describes the grid and the two
    models' :math:`R^2`. A sensitivity analysis has no coefficients, so the coefficient
    protocol does not apply.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per effect and :math:`\rho`: ``effect`` (``acme_average`` without a
        treatment-mediator interaction, else ``acme_control`` and ``acme_treated``),
        ``rho``, ``acme``, ``std_error``, ``conf_low``, ``conf_high`` (pointwise), and
        ``r2star_prod`` = :math:`\rho^2` (:math:`R^{2*}_M R^{2*}_Y`) and
        ``r2tilde_prod`` = :math:`\rho^2 (1 - R^2_M)(1 - R^2_Y)`
        (:math:`\tilde R^2_M \tilde R^2_Y`).
    roots : pandas.DataFrame
        Per effect: ``rho_at_zero`` (the :math:`\rho` at which the ACME is 0, by
        root finding; NaN if there is none in (-1, 1)), ``r2star_prod`` and
        ``r2tilde_prod`` at that :math:`\rho`.
    r_squared_mediator, r_squared_outcome : float
        :math:`R^2` of the mediator and outcome models.
    conf_level : float
        Level of the pointwise intervals.
    """

    frame: pd.DataFrame
    roots: pd.DataFrame
    r_squared_mediator: float
    r_squared_outcome: float
    conf_level: float
    acme_function: Callable[[np.ndarray, str], np.ndarray] | None = field(default=None, repr=False)

    _can_exponentiate = False

    def _tidy(self, conf_level: float) -> pd.DataFrame:
        r = self.roots
        return pd.DataFrame(
            {
                "term": [f"rho_at_zero[{e}]" for e in r["effect"]],
                "estimate": r["rho_at_zero"].to_numpy(dtype=float),
                "std_error": np.nan,
                "statistic": np.nan,
                "p_value": np.nan,
                "conf_low": np.nan,
                "conf_high": np.nan,
                "r2star_prod": r["r2star_prod"].to_numpy(dtype=float),
                "r2tilde_prod": r["r2tilde_prod"].to_numpy(dtype=float),
            }
        )

    def glance(self) -> pd.DataFrame:
        """One row: ``n_rho, rho_min, rho_max, conf_level, r_squared_mediator,
        r_squared_outcome, method``.
        """  # noqa: D205
        rho = self.frame["rho"].to_numpy(dtype=float)
        return glance_frame(
            {
                "n_rho": int(len(np.unique(rho))),
                "rho_min": float(rho.min()),
                "rho_max": float(rho.max()),
                "conf_level": self.conf_level,
                "r_squared_mediator": self.r_squared_mediator,
                "r_squared_outcome": self.r_squared_outcome,
                "method": "sensitivity to mediator-outcome confounding (Imai et al. 2010)",
            },
            SENSITIVITY_GLANCE_COLUMNS,
        )

    def _title(self) -> str:
        return "Sensitivity of the ACME to mediator-outcome confounding (rho)"

    def _notes(self) -> list[str]:
        return [
            f"{r['effect']}: ACME = 0 at rho = {r['rho_at_zero']:.4f} "
            f"(R2*_M R2*_Y = {r['r2star_prod']:.4f}, R2~_M R2~_Y = {r['r2tilde_prod']:.4f})."
            for _, r in self.roots.iterrows()
        ]

    def acme_by_r2(
        self,
        r2_mediator: Sequence[float] | np.ndarray,
        r2_outcome: Sequence[float] | np.ndarray,
        sign: int = -1,
        kind: str = "star",
        effect: str | None = None,
    ) -> pd.DataFrame:
        r"""ACME on a grid of partial :math:`R^2` of an unobserved confounder.

        Parameters
        ----------
        r2_mediator, r2_outcome : array-like
            Shares of the mediator's and the outcome's variance explained by the
            confounder, in [0, 1).
        sign : {-1, 1}
            Sign of the product of the confounder's effects on mediator and outcome.
        kind : {'star', 'tilde'}
            ``'star'``: shares of the *residual* variances (:math:`R^{2*}`), so
            :math:`\rho = \mathrm{sign}\sqrt{R^{2*}_M R^{2*}_Y}`; ``'tilde'``: shares of
            the *total* variances (:math:`\tilde R^2`), so :math:`\rho =
            \mathrm{sign}\sqrt{\tilde R^2_M \tilde R^2_Y / \{(1 - R^2_M)(1 - R^2_Y)\}}`.
        effect : str, optional
            ``acme_average``, ``acme_control`` or ``acme_treated``; the first by default.

        Returns
        -------
        pandas.DataFrame
            One row per grid point: ``r2_mediator``, ``r2_outcome``, ``rho`` and ``acme``
            (NaN where the implied :math:`|\rho| \ge 1`), ready for a contour plot.

        Raises
        ------
        OptionError
            On an unknown ``kind``, ``sign`` or ``effect``.
        DataValidationError
            If a share is outside [0, 1).
        """
        if kind not in ("star", "tilde"):
            raise OptionError(f"`kind` must be one of 'star', 'tilde'; got {kind!r}.")
        if sign not in (-1, 1):
            raise OptionError(f"`sign` must be -1 or 1; got {sign!r}.")
        effects = self.roots["effect"].tolist()
        effect = effects[0] if effect is None else effect
        if effect not in effects:
            raise OptionError(f"`effect` must be one of {effects}; got {effect!r}.")
        grids = []
        for name, values in (("r2_mediator", r2_mediator), ("r2_outcome", r2_outcome)):
            arr = np.asarray(values, dtype=float).reshape(-1)
            if arr.size == 0 or np.any((arr < 0) | (arr >= 1)) or np.isnan(arr).any():
                raise DataValidationError(f"`{name}` values must lie in [0, 1).")
            grids.append(arr)
        gm, gy = np.meshgrid(grids[0], grids[1], indexing="ij")
        prod = gm * gy
        if kind == "tilde":
            prod = prod / ((1 - self.r_squared_mediator) * (1 - self.r_squared_outcome))
        with np.errstate(invalid="ignore"):
            rho = np.where(prod < 1, sign * np.sqrt(prod), np.nan)
        acme = np.full(rho.shape, np.nan)
        ok = np.isfinite(rho)
        if ok.any() and self.acme_function is not None:
            acme[ok] = self.acme_function(rho[ok], effect)
        return pd.DataFrame(
            {
                "r2_mediator": gm.ravel(),
                "r2_outcome": gy.ravel(),
                "rho": rho.ravel(),
                "acme": acme.ravel(),
            }
        )

    def rho_at_zero(self, effect: str | None = None) -> float:
        r"""The :math:`\rho` at which the ACME is zero (first effect by default)."""
        row = self.roots if effect is None else self.roots[self.roots["effect"] == effect]
        if row.empty:
            raise OptionError(
                f"`effect` must be one of {self.roots['effect'].tolist()}; got {effect!r}."
            )
        return float(row["rho_at_zero"].iloc[0])


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


class _LinearSystem:
    """The two linear equations and the closed-form SUR solution for a given rho."""

    def __init__(self, result: CausalMediationResult) -> None:
        d = result.design
        self.t0, self.t1 = result.exposure_values
        self.interaction = d.interaction
        self.xm, self.xy = d.x_m, d.x_y
        self.n = d.n
        self.bm = np.linalg.lstsq(self.xm, d.m, rcond=None)[0]
        self.by = np.linalg.lstsq(self.xy, d.y, rcond=None)[0]
        e1 = d.m - self.xm @ self.bm
        ry = d.y - self.xy @ self.by
        # R's sd(): divisor n - 1 (the ratio below does not depend on the divisor)
        self.s1 = np.sqrt(e1 @ e1 / (self.n - 1))
        self.sy = np.sqrt(ry @ ry / (self.n - 1))
        self.r2_m = 1 - (e1 @ e1) / np.sum((d.m - d.m.mean()) ** 2)
        self.r2_y = 1 - (ry @ ry) / np.sum((d.y - d.y.mean()) ** 2)
        self.xmxm = self.xm.T @ self.xm
        self.xmxy = self.xm.T @ self.xy
        self.xyxy = self.xy.T @ self.xy

    def shift(self, rho: np.ndarray) -> np.ndarray:
        """c(rho) = omega_12 / omega_11 at the fixed point of the SUR iteration."""
        return rho * self.sy / (self.s1 * np.sqrt(1 - rho**2))

    def slope(self, rho: np.ndarray, t: float) -> np.ndarray:
        """Outcome-model mediator slope at treatment value t."""
        g = self.by[2] - self.shift(rho)
        if self.interaction:
            g = g + self.by[3] * t
        return g

    def acme(self, rho: np.ndarray, t: float) -> np.ndarray:
        return self.bm[1] * (self.t1 - self.t0) * self.slope(rho, t)

    def variance(self, rho: np.ndarray, t: float) -> np.ndarray:
        pm = self.xm.shape[1]
        out = np.empty(rho.size)
        s2 = self.sy / np.sqrt(1 - rho**2)
        for i, r in enumerate(rho):
            omega = np.array([[self.s1**2, r * self.s1 * s2[i]], [r * self.s1 * s2[i], s2[i] ** 2]])
            oi = np.linalg.inv(omega)
            info = np.block(
                [
                    [oi[0, 0] * self.xmxm, oi[0, 1] * self.xmxy],
                    [oi[1, 0] * self.xmxy.T, oi[1, 1] * self.xyxy],
                ]
            )
            v = np.linalg.inv(info)
            v_t = v[1, 1]
            j_m = pm + 2
            var_g = v[j_m, j_m]
            if self.interaction:
                j_tm = pm + 3
                var_g = var_g + t**2 * v[j_tm, j_tm] + 2 * t * v[j_m, j_tm]
            g = self.slope(np.array([r]), t)[0]
            out[i] = (g**2 * v_t + self.bm[1] ** 2 * var_g) * (self.t1 - self.t0) ** 2
        return out


def mediation_sensitivity(
    result: CausalMediationResult,
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
    design = result.design
    supported = design is not None and design.mediator_model == "linear"
    if supported and design.outcome_model == "probit":
        return _probit_outcome_sensitivity(result, rho, conf_level, n_sims, rng)
    if not supported or design.outcome_model != "linear":
        g = result.glance().iloc[0]
        got = (
            f"mediator_family={g['mediator_family']!r} (link {g['mediator_link']!r}), "
            f"outcome_family={g['outcome_family']!r} (link {g['outcome_link']!r})"
        )
        raise OptionError(
            "The sensitivity analysis is implemented for a gaussian mediator model with a "
            f"gaussian or binomial-probit outcome model; got {got}."
        )
    rho = _check_rho(rho)
    conf_level = check_conf_level(result.conf_level if conf_level is None else conf_level)
    z = stats.norm.ppf(0.5 + conf_level / 2)
    sys = _LinearSystem(result)
    if design.interaction:
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


def _root(fun, lo: float = -1 + 1e-12, hi: float = 1 - 1e-12) -> float:
    f_lo, f_hi = fun(lo), fun(hi)
    if not (np.isfinite(f_lo) and np.isfinite(f_hi)) or np.sign(f_lo) == np.sign(f_hi):
        return np.nan
    return optimize.brentq(fun, lo, hi, xtol=1e-14, rtol=1e-13)


class _ProbitSystem:
    """Linear mediator, probit outcome: the structural model implied by a given rho."""

    def __init__(self, result: CausalMediationResult) -> None:
        d = result.design
        self.t0, self.t1 = result.exposure_values
        self.n = d.n
        xm, xy = d.x_m, d.x_y
        ones = np.ones((1, d.n))
        bm, sm, _ = fit_weighted(xm, d.m, ones, "linear")
        by, _, _ = fit_weighted(xy, d.y, ones, "probit")
        self.bm, self.sigma, self.by = bm[0], float(sm[0]), by[0]
        self.vm = vcov(xm, d.m, self.bm, self.sigma, "linear")
        self.vy = vcov(xy, d.y, self.by, np.nan, "probit")
        self.df = d.n - xm.shape[1]
        self.base = xm.copy()
        self.base[:, 1] = 0.0  # treatment column set separately
        e1 = d.m - xm @ self.bm
        self.r2_m = 1 - (e1 @ e1) / np.sum((d.m - d.m.mean()) ** 2)
        lat = xy @ self.by
        v = np.var(lat, ddof=1)
        self.r2_y = v / (1 + v)  # latent-scale R^2, as R medsens

    @staticmethod
    def split(by: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Outcome coefficients without the mediator (aligned with [1, t, C]) and gamma~."""
        return np.concatenate([by[..., :2], by[..., 3:]], axis=-1), by[..., 2]

    def acme(self, rho: float, t: float, bm, sigma, by) -> np.ndarray:
        """ACME(t) at one rho for coefficient draws (S, .); returns (S,)."""
        theta_tilde, gamma_tilde = self.split(by)
        root = np.sqrt(1 - rho**2)
        theta = theta_tilde * root + rho * bm / sigma[:, None]
        gamma = gamma_tilde * root - rho / sigma
        scale = np.sqrt(gamma**2 * sigma**2 + 2 * gamma * rho * sigma + 1)
        # (theta + gamma * beta)' x(t = 0) for every person and draw, then per-draw shifts
        common = (self.base @ (theta + gamma[:, None] * bm).T) / scale
        shift = (theta[:, 1] * t + gamma * bm[:, 1] * self.t0) / scale
        step = gamma * bm[:, 1] * (self.t1 - self.t0) / scale
        e0 = special.ndtr(common + shift)
        e1 = special.ndtr(common + (shift + step))
        return (e1 - e0).mean(axis=0)

    def point(self, rho: float, t: float) -> float:
        return float(
            self.acme(rho, t, self.bm[None, :], np.array([self.sigma]), self.by[None, :])[0]
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
    sys = _ProbitSystem(result)
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
        root = _root(lambda r, name=name: point(r, name))
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
