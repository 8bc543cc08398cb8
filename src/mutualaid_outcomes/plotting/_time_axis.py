"""Time axes of survival figures: units, round tick steps and axis labels.

A duration is stored in one unit (``time_unit``: the unit of the data) and may be
shown in another (``display_unit``): days shown as months divide by 365.25 / 12, as
survminer's ``xscale = "d_m"`` does. Ticks are multiples of a round step chosen for the
display unit (1-2-5 multiples of a power of ten for days and unknown units; 1, 2, 3, 6,
12 ... for months; 1, 2, 4, 8, 13, 26, 52 ... for weeks), starting at 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._labels import variable_label
from .._validation import check_option
from ..errors import DataValidationError

__all__ = ["TIME_UNITS", "unit_factor", "round_time_ticks", "time_axis_label"]

#: units accepted by ``time_unit`` / ``display_unit``, with their length in days
TIME_UNITS: dict[str, float] = {
    "days": 1.0,
    "weeks": 7.0,
    "months": 365.25 / 12,
    "years": 365.25,
}

_STEPS: dict[str | None, tuple[float, ...]] = {
    "weeks": (1, 2, 4, 8, 13, 26, 52, 104, 260, 520),
    "months": (1, 2, 3, 6, 12, 24, 36, 60, 120, 240),
}


def _check_unit(unit: str | None, argument: str) -> str | None:
    if unit is None:
        return None
    return check_option(unit, tuple(TIME_UNITS), argument)


def unit_factor(time_unit: str | None, display_unit: str | None) -> float:
    """Factor that converts durations in ``time_unit`` to ``display_unit``.

    Raises
    ------
    OptionError
        For a unit that is not one of :data:`TIME_UNITS`, or a ``display_unit`` without
        the ``time_unit`` it converts from.

    Examples
    --------
    >>> round(unit_factor("days", "months"), 5)
    0.03285
    >>> unit_factor(None, None)
    1.0
    """
    from ..errors import OptionError

    time_unit = _check_unit(time_unit, "time_unit")
    display_unit = _check_unit(display_unit, "display_unit")
    if display_unit is None or display_unit == time_unit:
        return 1.0
    if time_unit is None:
        raise OptionError(
            f"`display_unit`={display_unit!r} needs `time_unit` (the unit of the durations, "
            f"one of {', '.join(map(repr, TIME_UNITS))}) to convert from."
        )
    return TIME_UNITS[time_unit] / TIME_UNITS[display_unit]


def _decade_steps(tmax: float) -> list[float]:
    base = 10.0 ** np.floor(np.log10(tmax)) if tmax > 0 else 1.0
    return [m * base * s for s in (0.01, 0.1, 1, 10) for m in (1, 2, 2.5, 5)]


def round_time_ticks(tmax: float, unit: str | None = None, max_ticks: int = 6) -> list[float]:
    """Round tick positions 0, step, 2 step, ... covering ``[0, tmax]``.

    The step is the smallest round step (for the unit) that gives at most
    ``max_ticks`` ticks; the last tick is the largest multiple of the step not beyond
    ``tmax`` (survminer's ``break.time.by`` with an automatic step).

    Examples
    --------
    >>> round_time_ticks(455)
    [0.0, 100.0, 200.0, 300.0, 400.0]
    >>> round_time_ticks(455 / (365.25 / 12), "months")
    [0.0, 3.0, 6.0, 9.0, 12.0]
    >>> round_time_ticks(52, "weeks")
    [0.0, 13.0, 26.0, 39.0, 52.0]
    >>> round_time_ticks(0.8)
    [0.0, 0.2, 0.4, 0.6, 0.8]
    """
    if not np.isfinite(tmax) or tmax <= 0:
        return [0.0]
    fits = [
        s
        for s in (*_STEPS.get(unit, ()), *_decade_steps(tmax))
        if np.floor(tmax / s + 1e-9) + 1 <= max_ticks
    ]
    step = fits[0] if fits else tmax
    n = int(np.floor(tmax / step + 1e-9))
    return [float(round(i * step, 10)) for i in range(n + 1)]


def check_times(times: Sequence[float] | None) -> list[float] | None:
    """Validate user tick times (finite, non-negative, increasing)."""
    if times is None:
        return None
    try:
        arr = np.asarray(list(times), dtype=float)
    except (TypeError, ValueError):
        raise DataValidationError(f"`times` must be numbers; got {times!r}.") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise DataValidationError(f"`times` must be finite numbers >= 0; got {list(times)!r}.")
    if np.any(np.diff(arr) <= 0):
        raise DataValidationError(f"`times` must increase; got {arr.tolist()}.")
    return arr.tolist()


def time_axis_label(
    xlabel: str | None,
    duration: str | None,
    unit: str | None,
    converted: bool,
    labels: Mapping[str, Any] | None,
    codebook: Any,
) -> str:
    """The x-axis label: ``xlabel``; else the duration's label; else "Time (unit)".

    The duration's variable label (from ``labels`` or the codebook) is used when it has
    one and the durations are shown in their own unit; ``" (unit)"`` is added when the
    unit is known and the label does not name it.

    Examples
    --------
    >>> time_axis_label(None, "days_to_relapse", "months", True, None, None)
    'Time (months)'
    >>> time_axis_label(None, "t", "days", False, {"t": "Days to first drink"}, None)
    'Days to first drink'
    """
    if xlabel is not None:
        return xlabel
    if duration is not None and not converted:
        lab = variable_label(codebook, duration, _string_labels(labels))
        if lab != duration:
            return lab if unit is None or unit in lab.lower() else f"{lab} ({unit})"
    return "Time" if unit is None else f"Time ({unit})"


def _string_labels(labels: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The variable-label part of a ``labels`` mapping (string values only)."""
    if not labels or not isinstance(labels, Mapping):
        return None
    return {str(k): v for k, v in labels.items() if isinstance(v, str)}
