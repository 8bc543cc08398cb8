"""Sensitivity plot of causal mediation effects (ACME against the error correlation rho)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import renamed
from ..errors import ArgumentTypeError, ColumnNotFoundError, OptionError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from ..models.mediation._sensitivity_result import SensitivityResult

__all__ = ["sensitivity_data", "plot_sensitivity"]

_REQUIRED = ("rho", "acme", "conf_low", "conf_high")


def _frame_of(result: Any) -> pd.DataFrame:
    frame = getattr(result, "frame", result)
    if not isinstance(frame, pd.DataFrame):
        raise ArgumentTypeError(
            "`result` must be a SensitivityResult or a DataFrame with columns "
            f"{list(_REQUIRED)}; got {type(result).__name__}."
        )
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise ColumnNotFoundError(
            f"`result` lacks column(s) {missing}; it needs {list(_REQUIRED)}."
        )
    return frame


@renamed(result_or_frame="result")
def sensitivity_data(
    result: SensitivityResult | pd.DataFrame, *, effect: str | None = None
) -> pd.DataFrame:
    """The frame :func:`plot_sensitivity` draws.

    Parameters
    ----------
    result : SensitivityResult or pandas.DataFrame
        A result of :meth:`CausalMediationResult.sensitivity` or its ``frame``.
    effect : str, optional
        Which effect to draw (``acme_average``, ``acme_control`` or ``acme_treated``);
        the first in the frame by default.

    Returns
    -------
    pandas.DataFrame
        Columns ``effect``, ``rho``, ``acme``, ``conf_low``, ``conf_high``, sorted by
        ``rho``, and ``rho_at_zero`` (the root when a result is given, else the sign
        change interpolated linearly on the grid; NaN if the ACME does not cross zero).

    Raises
    ------
    ArgumentTypeError
        If the input is neither a result nor a DataFrame.
    ColumnNotFoundError
        If required columns are missing.
    OptionError
        If ``effect`` is not in the frame.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"rho": [-0.5, 0.0, 0.5], "acme": [0.2, 0.1, -0.1],
    ...                   "conf_low": [0.1, 0.0, -0.2], "conf_high": [0.3, 0.2, 0.0]})
    >>> float(sensitivity_data(f)["rho_at_zero"].iloc[0])
    0.25
    """
    frame = _frame_of(result)
    frame = frame.copy()
    if "effect" not in frame.columns:
        frame.insert(0, "effect", "acme")
    effects = list(dict.fromkeys(frame["effect"]))
    if effect is None:
        effect = effects[0]
    if effect not in effects:
        raise OptionError(f"`effect` must be one of {effects}; got {effect!r}.")
    out = frame.loc[frame["effect"] == effect, ["effect", *_REQUIRED]]
    out = out.sort_values("rho").reset_index(drop=True)
    roots = getattr(result, "roots", None)
    root = np.nan
    if isinstance(roots, pd.DataFrame) and effect in set(roots["effect"]):
        root = float(roots.loc[roots["effect"] == effect, "rho_at_zero"].iloc[0])
    else:
        r, a = out["rho"].to_numpy(float), out["acme"].to_numpy(float)
        cross = np.flatnonzero(np.sign(a[:-1]) * np.sign(a[1:]) <= 0)
        if cross.size:
            i = cross[0]
            root = r[i] if a[i] == a[i + 1] else r[i] - a[i] * (r[i + 1] - r[i]) / (a[i + 1] - a[i])
    out["rho_at_zero"] = root
    return out


@renamed(result_or_frame="result")
def plot_sensitivity(
    result: SensitivityResult | pd.DataFrame, ax: Axes | None = None, *, effect: str | None = None
) -> Axes:
    """Plot the ACME against the mediator-outcome error correlation rho.

    Draws the ACME curve, its pointwise confidence band, a horizontal line at zero and
    a vertical line at the rho where the ACME is zero (Imai, Keele & Yamamoto 2010,
    Figure 2).

    Parameters
    ----------
    result : SensitivityResult or pandas.DataFrame
        A result of :meth:`CausalMediationResult.sensitivity` or its ``frame``.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; a new figure's axes by default.
    effect : str, optional
        Which effect to draw (see :func:`sensitivity_data`).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ArgumentTypeError, ColumnNotFoundError, OptionError
        As :func:`sensitivity_data`.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> f = pd.DataFrame({"rho": [-0.5, 0.0, 0.5], "acme": [0.2, 0.1, -0.1],
    ...                   "conf_low": [0.1, 0.0, -0.2], "conf_high": [0.3, 0.2, 0.0]})
    >>> ax = plot_sensitivity(f)
    >>> ax.get_xlabel()
    'Sensitivity parameter ρ'
    """
    data = sensitivity_data(result, effect=effect)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    rho = data["rho"].to_numpy(float)
    ax.fill_between(
        rho,
        data["conf_low"].to_numpy(float),
        data["conf_high"].to_numpy(float),
        color="0.8",
        label="pointwise CI",
    )
    ax.plot(rho, data["acme"].to_numpy(float), color="black", label="ACME")
    ax.axhline(0.0, color="0.4", linewidth=0.8)
    root = float(data["rho_at_zero"].iloc[0])
    if np.isfinite(root):
        ax.axvline(root, color="0.4", linestyle="--", linewidth=0.8)
    ax.set_xlabel("Sensitivity parameter ρ")
    ax.set_ylabel(f"Average mediation effect ({data['effect'].iloc[0]})")
    ax.set_xlim(rho.min(), rho.max())
    return ax
