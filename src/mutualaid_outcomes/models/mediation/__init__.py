"""Mediation: product of coefficients (mediate, lagged_mediation), causal mediation, sensitivity."""

from .causal import CausalMediationResult, causal_mediation
from .lagged import lagged_mediation
from .product import MediationResult, ModeratedMediationResult, mediate
from .sensitivity import SensitivityResult, mediation_sensitivity

__all__ = [
    "CausalMediationResult",
    "MediationResult",
    "ModeratedMediationResult",
    "SensitivityResult",
    "causal_mediation",
    "lagged_mediation",
    "mediate",
    "mediation_sensitivity",
]
