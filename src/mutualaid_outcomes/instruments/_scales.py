"""The parts of an instrument spec: scales, composites, cut-point bands and special codes.

These frozen dataclasses are the building blocks of
:class:`~mutualaid_outcomes.instruments.spec.InstrumentSpec`, which validates them as a
whole; they are re-exported by :mod:`mutualaid_outcomes.instruments.spec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["ScaleMethod", "Band", "Subscale", "Composite", "SpecialCode"]

ScaleMethod = Literal["sum", "mean", "mean_times_k", "weighted"]
#: the scoring methods of a scale (:data:`ScaleMethod`)
METHODS = ("sum", "mean", "mean_times_k", "weighted")


@dataclass(frozen=True)
class Band:
    """A labelled score band ``lower <= score <= upper`` (bounds inclusive).

    Examples
    --------
    >>> Band(0, 4, "minimal").contains(4)
    True
    """

    lower: float
    upper: float
    label: str

    def contains(self, value: float) -> bool:
        """Whether ``value`` lies in the band."""
        return self.lower <= value <= self.upper


@dataclass(frozen=True)
class Subscale:
    """One scored scale of an instrument (a subscale or the total).

    Parameters
    ----------
    name : str
        Scale name; output columns are ``{instrument id}_{name}``.
    items : tuple of int
        Spec item numbers contributing to the scale.
    method : {'sum', 'mean', 'mean_times_k', 'weighted'}
        ``sum`` of items; ``mean`` of items; ``mean_times_k`` (mean x ``k``);
        ``weighted`` sum of items times ``weights``.
    k : float, optional
        Multiplier for ``mean_times_k``.
    weights : tuple of float, optional
        One weight per item for ``weighted``.
    max_missing : int, optional
        Published missing-item rule: the scale is scored (prorated) when at most this
        many of its items are missing, and is missing otherwise. ``None`` means the
        instrument publishes no rule; ``missing="published"`` then requires all items.
    bands : tuple of Band
        Cut-points with labels (optional).
    label : str
        Human-readable label.
    """

    name: str
    items: tuple[int, ...]
    method: ScaleMethod = "sum"
    k: float | None = None
    weights: tuple[float, ...] | None = None
    max_missing: int | None = None
    bands: tuple[Band, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class Composite:
    """A score computed from other scales: ``(sum_j w_j * scale_j + offset) * multiplier``.

    Examples: URICA readiness = C + A + M - PC; WHOQOL-BREF 0-100 transform
    ``(domain - 4) * 100 / 16``. The composite is missing when any term is missing.
    """

    name: str
    terms: tuple[tuple[str, float], ...]
    offset: float = 0.0
    multiplier: float = 1.0
    bands: tuple[Band, ...] = ()
    label: str = ""


@dataclass(frozen=True)
class SpecialCode:
    """A response code with a special meaning, mapped before range checks.

    ``value=None`` maps the code to missing; a number maps it to that score.
    """

    code: float | str
    value: float | None = None
    label: str = ""
