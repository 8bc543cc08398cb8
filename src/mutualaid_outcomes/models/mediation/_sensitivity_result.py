"""The result of the rho sensitivity analysis of causal mediation effects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ...errors import DataValidationError, OptionError
from ...results import BaseResult, glance_frame

__all__ = ["FRAME_COLUMNS", "SENSITIVITY_GLANCE_COLUMNS", "SensitivityResult"]


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
