"""Mediation: product of coefficients (mediate, lagged_mediation, moderated), multilevel, causal mediation, sensitivity."""

from .causal import CausalMediationResult, causal_mediation
from .lagged import lagged_mediation
from .multilevel import MultilevelMediationResult, multilevel_mediation
from .product import MediationResult, ModeratedMediationResult, mediate
from .sensitivity import SensitivityResult, mediation_sensitivity

__all__ = [
    "CausalMediationResult",
    "MediationResult",
    "ModeratedMediationResult",
    "MultilevelMediationResult",
    "SensitivityResult",
    "causal_mediation",
    "lagged_mediation",
    "mediate",
    "mediation_sensitivity",
    "multilevel_mediation",
]
