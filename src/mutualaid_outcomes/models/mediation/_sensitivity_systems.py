r"""The mediator and outcome equations of the sensitivity analysis at a given :math:`\rho`.

:class:`LinearSystem`: linear mediator and outcome, the closed-form fixed point of the
FGLS iteration of R ``mediation::medsens`` and its delta-method variance.
:class:`ProbitSystem`: linear mediator and probit outcome, the structural coefficients
implied by :math:`\rho` (Imai, Keele & Yamamoto 2010, sec. 5).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd
from scipy import optimize, special

from ...errors import OptionError
from .._core.ols import fit_ols
from ._causal_engine import Design, fit_weighted, vcov

__all__ = ["CausalFit", "LinearSystem", "ProbitSystem", "unit_root"]


class CausalFit(Protocol):
    """What the sensitivity analysis reads from a :func:`.causal.causal_mediation` fit.

    :class:`~mutualaid_outcomes.models.mediation.causal.CausalMediationResult` provides it;
    naming the protocol here keeps this module below ``causal`` in the import graph.
    """

    @property
    def design(self) -> Design | None: ...

    @property
    def exposure_values(self) -> tuple[float, float]: ...

    @property
    def conf_level(self) -> float: ...

    def glance(self) -> pd.DataFrame: ...


def fitted_design(result: CausalFit) -> Design:
    """The arrays of the fitted models (sensitivity() checks they exist first)."""
    if result.design is None:
        raise OptionError(
            "The sensitivity analysis needs the fitted arrays of a gaussian mediator model; "
            "this causal mediation fit has none."
        )
    return result.design


class LinearSystem:
    """The two linear equations and the closed-form SUR solution for a given rho."""

    def __init__(self, result: CausalFit) -> None:
        d = fitted_design(result)
        self.t0, self.t1 = result.exposure_values
        self.interaction = d.interaction
        self.xm, self.xy = d.x_m, d.x_y
        self.n = d.n
        self.bm = fit_ols(self.xm, d.m, what="mediator model").beta
        self.by = fit_ols(self.xy, d.y, what="outcome model").beta
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


def unit_root(fun, lo: float = -1 + 1e-12, hi: float = 1 - 1e-12) -> float:
    f_lo, f_hi = fun(lo), fun(hi)
    if not (np.isfinite(f_lo) and np.isfinite(f_hi)) or np.sign(f_lo) == np.sign(f_hi):
        return np.nan
    return optimize.brentq(fun, lo, hi, xtol=1e-14, rtol=1e-13)


class ProbitSystem:
    """Linear mediator, probit outcome: the structural model implied by a given rho."""

    def __init__(self, result: CausalFit) -> None:
        d = fitted_design(result)
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
