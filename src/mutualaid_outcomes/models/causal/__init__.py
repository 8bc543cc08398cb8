"""Causal inference: propensity scores and weighting, instrumental variables and CACE, E-values."""

from .evalue import EValueResult, e_value, e_values
from .iv import CACEResult, IVResult, WeakInstrumentWarning, cace, fit_iv
from .propensity import PositivityError, PropensityResult, fit_weighted, propensity_scores

__all__ = [
    "CACEResult",
    "EValueResult",
    "IVResult",
    "PositivityError",
    "PropensityResult",
    "WeakInstrumentWarning",
    "cace",
    "e_value",
    "e_values",
    "fit_iv",
    "fit_weighted",
    "propensity_scores",
]
